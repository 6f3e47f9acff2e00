/*
 * entry.S: HS-mode entry, the trap vector and the return to the guest
 * (priv spec 12.1 sscratch/sepc/scause, H spec 9.6 trap entry from V=1).
 *
 * sscratch holds the current vCPU's register frame (struct regs, hv.h). A trap
 * from VS saves the caller-saved registers, sp and sepc there. An environment call
 * (the SBI fast path) then runs C on the hypervisor stack: the C code keeps s0-s11,
 * gp and tp, so they still hold the guest's values when it returns. Every other trap
 * saves the whole frame first. C returns the frame to resume; when it is another
 * vCPU's, the callee-saved registers of the old one are saved before the full
 * restore. HS itself runs with sstatus.SIE = 0, so traps never nest.
 */
#include "encoding.h"

#define R(n) (8 * (n))
#define SEPC 256
#define FRAME_FRESH 1

.macro SAVE_CALLER base
    sd ra, R(1)(\base)
    sd t0, R(5)(\base)
    sd t1, R(6)(\base)
    sd t2, R(7)(\base)
    sd a0, R(10)(\base)
    sd a1, R(11)(\base)
    sd a2, R(12)(\base)
    sd a3, R(13)(\base)
    sd a4, R(14)(\base)
    sd a5, R(15)(\base)
    sd a6, R(16)(\base)
    sd a7, R(17)(\base)
    sd t3, R(28)(\base)
    sd t4, R(29)(\base)
    sd t5, R(30)(\base)
    sd t6, R(31)(\base)
.endm

.macro SAVE_CALLEE base
    sd gp, R(3)(\base)
    sd tp, R(4)(\base)
    sd s0, R(8)(\base)
    sd s1, R(9)(\base)
    sd s2, R(18)(\base)
    sd s3, R(19)(\base)
    sd s4, R(20)(\base)
    sd s5, R(21)(\base)
    sd s6, R(22)(\base)
    sd s7, R(23)(\base)
    sd s8, R(24)(\base)
    sd s9, R(25)(\base)
    sd s10, R(26)(\base)
    sd s11, R(27)(\base)
.endm

.macro LOAD_CALLEE base
    ld gp, R(3)(\base)
    ld tp, R(4)(\base)
    ld s0, R(8)(\base)
    ld s1, R(9)(\base)
    ld s2, R(18)(\base)
    ld s3, R(19)(\base)
    ld s4, R(20)(\base)
    ld s5, R(21)(\base)
    ld s6, R(22)(\base)
    ld s7, R(23)(\base)
    ld s8, R(24)(\base)
    ld s9, R(25)(\base)
    ld s10, R(26)(\base)
    ld s11, R(27)(\base)
.endm

    .text
/* HS entry from the M stage: a0 = hart id, a1 = DTB. */
    .globl hv_entry
hv_entry:
    la sp, hv_stack_top
    la t0, _bss_start
    la t1, _bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  la t0, hv_trap_entry
    csrw stvec, t0
    la t0, hv_boot_frame            /* a frame for a trap before any guest ran */
    csrw sscratch, t0
    call hv_main
3:  j 3b

    .balign 4
    .globl hv_trap_entry
hv_trap_entry:
    csrrw sp, sscratch, sp          /* sp = frame, sscratch = interrupted sp */
    SAVE_CALLER sp
    csrr t0, sscratch
    sd t0, R(2)(sp)
    csrr t1, sepc
    sd t1, SEPC(sp)
    csrw sscratch, sp               /* the frame, again */
    mv a0, sp
    csrr a1, scause
    la sp, hv_stack_top
    li t2, CAUSE_VIRTUAL_SUPERVISOR_ECALL
    bne a1, t2, slow_path
    call hv_ecall                   /* a0 = frame to resume */
    csrr t0, sscratch
    bne a0, t0, switch_partial
    /* fall through: same vCPU, caller-saved registers only */
restore_caller:
    mv sp, a0
    csrw sscratch, sp
    ld t0, SEPC(sp)
    csrw sepc, t0
    ld ra, R(1)(sp)
    ld t0, R(5)(sp)
    ld t1, R(6)(sp)
    ld t2, R(7)(sp)
    ld a0, R(10)(sp)
    ld a1, R(11)(sp)
    ld a2, R(12)(sp)
    ld a3, R(13)(sp)
    ld a4, R(14)(sp)
    ld a5, R(15)(sp)
    ld a6, R(16)(sp)
    ld a7, R(17)(sp)
    ld t3, R(28)(sp)
    ld t4, R(29)(sp)
    ld t5, R(30)(sp)
    ld t6, R(31)(sp)
    ld sp, R(2)(sp)
    sret

/* t0 = old frame, a0 = new frame; a0 | FRAME_FRESH (bit 0) means C rewrote the
   frame (a reboot): do not save the live callee-saved registers over it. */
switch_partial:
    andi t1, a0, FRAME_FRESH
    bnez t1, 1f
    SAVE_CALLEE t0
1:  andi a0, a0, ~FRAME_FRESH
    j restore_full

slow_path:
    SAVE_CALLEE a0
    call hv_trap                    /* a0 = frame to resume */
    andi a0, a0, ~FRAME_FRESH
    .globl hv_resume
hv_resume:                          /* also the first entry into a guest: a0 = frame */
restore_full:
    la t0, hv_tp_resume             /* a time-protected switch (core/tp.c): its pad */
    ld t1, 0(t0)
    bnez t1, pad_wait
pad_done:
    LOAD_CALLEE a0
    j restore_caller
/* Wait (WFI, VS interrupts masked in hie) until time >= t1 = hv_tp_resume.at, then
   arm stimecmp := hv_tp_resume.timer, announce hv_running_vm := .vm and restart the
   VM's cycle and instret statistics (hv_run_counters, core/sched.c). The same
   instructions follow the wake-up whatever the switch before it did, so the guest
   resumes at a fixed cycle. */
pad_wait:
    ld t2, 8(t0)
    ld t5, 16(t0)
    sd zero, 0(t0)
    csrw stimecmp, t1
    csrrw t3, CSR_HIE, zero
1:  wfi
    rdtime t4
    bltu t4, t1, 1b
    csrw CSR_HIE, t3
    csrw stimecmp, t2
    la t6, hv_running_vm
    sw t5, 0(t6)
    la t6, hv_run_counters          /* the VM's statistics start now, not before the pad */
    csrr t4, cycle
    sd t4, 0(t6)
    csrr t4, instret
    sd t4, 8(t6)
    j pad_done

/* int guest_read_insn(uint64_t va, uint32_t *insn): the guest instruction at va,
 * read with HLVX.HU as the guest would fetch it (H spec 9.3.1, hstatus.SPVP). A
 * fault is caught by a temporary stvec and returns -1; the trap CSRs it clobbers
 * (sepc, sstatus, hstatus) are restored. */
    .globl guest_read_insn
guest_read_insn:
    csrr t3, sepc
    csrr t4, sstatus
    csrr t5, hstatus
    la t0, 9f
    csrrw t6, stvec, t0
    hlvx.hu t1, (a0)
    andi t2, t1, 3
    li a2, 3
    bne t2, a2, 1f
    addi a0, a0, 2
    hlvx.hu t2, (a0)
    slli t2, t2, 16
    or t1, t1, t2
1:  sw t1, 0(a1)
    li a0, 0
    j 8f
    .balign 4
9:  li a0, -1
8:  csrw stvec, t6
    csrw sepc, t3
    csrw sstatus, t4
    csrw hstatus, t5
    ret

    .bss
    .balign 16
hv_boot_frame:                      /* struct regs: only a trap in HS (a panic) uses it */
    .space SEPC + 8
hv_stack:
    .space 16384
    .globl hv_stack_top
hv_stack_top:
