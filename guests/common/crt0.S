/*
 * crt0.S: entry of the guest kernels, as for an S-mode kernel booted by SBI firmware
 * (SBI spec v2.0 chapter 9 "HSM": a0 = hart id, a1 = opaque, here the DTB address;
 * a2..a5 carry the VM's configured args). Sets the stack to a .bss array, clears .bss,
 * installs the trap entry in stvec (direct mode, priv spec 12.1.2), calls
 * kmain(hartid, dtb, a2, a3, a4, a5) and shuts down through SBI SRST with reason 0 if
 * kmain returned 0, else 1 (system failure).
 */
#include "sbi.h"

#define STACK_SIZE 16384
#define FRAME 160

    .section .text.init, "ax"
    .globl _start
_start:
    la sp, _stack_top
    la t0, _bss_start
    la t1, _bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  la t0, trap_entry
    csrw stvec, t0
    call kmain
    snez a1, a0
    li a0, SBI_SRST_TYPE_SHUTDOWN
    li a6, SBI_SRST_SYSTEM_RESET
    li a7, SBI_EXT_SRST
    ecall
3:  wfi
    j 3b

/* Resume point of an HSM non-retentive suspend: a0 = hart id, a1 = opaque; other
 * registers and stvec are lost. Continues in resume_main(hartid, opaque) on a fresh stack. */
    .text
    .balign 4
    .globl hsm_resume_entry
hsm_resume_entry:
    la sp, _stack_top
    la t0, trap_entry
    csrw stvec, t0
    tail resume_main

/* Trap entry: save the caller-saved registers and sepc/scause/stval/sstatus in a
 * struct trap_frame on the stack, call trap_handler(frame), restore, sret. */
    .balign 4
    .globl trap_entry
trap_entry:
    addi sp, sp, -FRAME
    sd ra, 0(sp)
    sd t0, 8(sp)
    sd t1, 16(sp)
    sd t2, 24(sp)
    sd t3, 32(sp)
    sd t4, 40(sp)
    sd t5, 48(sp)
    sd t6, 56(sp)
    sd a0, 64(sp)
    sd a1, 72(sp)
    sd a2, 80(sp)
    sd a3, 88(sp)
    sd a4, 96(sp)
    sd a5, 104(sp)
    sd a6, 112(sp)
    sd a7, 120(sp)
    csrr t0, sepc
    sd t0, 128(sp)
    csrr t0, scause
    sd t0, 136(sp)
    csrr t0, stval
    sd t0, 144(sp)
    csrr t0, sstatus
    sd t0, 152(sp)
    mv a0, sp
    call trap_handler
    ld t0, 128(sp)
    csrw sepc, t0
    ld t0, 152(sp)
    csrw sstatus, t0
    ld ra, 0(sp)
    ld t0, 8(sp)
    ld t1, 16(sp)
    ld t2, 24(sp)
    ld t3, 32(sp)
    ld t4, 40(sp)
    ld t5, 48(sp)
    ld t6, 56(sp)
    ld a0, 64(sp)
    ld a1, 72(sp)
    ld a2, 80(sp)
    ld a3, 88(sp)
    ld a4, 96(sp)
    ld a5, 104(sp)
    ld a6, 112(sp)
    ld a7, 120(sp)
    addi sp, sp, FRAME
    sret

    .section .bss.stack, "aw", @nobits
    .balign 16
    .globl _stack_bottom, _stack_top
_stack_bottom:
    .space STACK_SIZE
_stack_top:
