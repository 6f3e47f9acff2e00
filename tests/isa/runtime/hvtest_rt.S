/*
 * hvtest_rt.S: start-up, trap handlers and pass/fail reporting linked into every ISA
 * test (docs/isa-tests.md). Trap entry and return follow the RISC-V Privileged
 * Architecture 1.12, sections 3.1.7 (mtvec), 3.3.2 (mret/sret) and 4.1.2 (stvec).
 */
#include "hvtest.h"

/* Save (restore) x1..x31 except t0 (x5) at base t0, slot i at 8*i. */
.macro SAVE_REGS
    .irp r, 1,2,3,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd x\r, 8*\r(t0)
    .endr
.endm
.macro RESTORE_REGS
    .irp r, 1,2,3,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld x\r, 8*\r(t0)
    .endr
.endm

    .section .text.init, "ax"
    .globl _start
_start:
    la t0, hv_mtrap
    csrw mtvec, t0
    la t0, hv_msave
    csrw mscratch, t0
    la t0, hv_strap
    csrw stvec, t0
    la t0, hv_ssave
    csrw sscratch, t0
    csrw mie, zero
    csrw mideleg, zero
    csrw medeleg, zero
    li t0, MSTATUS_MIE|MSTATUS_SIE|MSTATUS_MPRV|MSTATUS_TW|MSTATUS_TSR|MSTATUS_TVM
    csrc mstatus, t0
#if PMP_REGIONS > 0
    /* The last PMP entry grants S and U all memory; tests use the lower entries. */
    li t0, -1
    csrw PMP_LAST_ADDR, t0
    li t0, (PMP_NAPOT|PMP_R|PMP_W|PMP_X) << PMP_LAST_SHIFT
    csrs PMP_LAST_CFG, t0
#endif
    li t0, CLINT_MTIMECMP
    li t1, -1
    sd t1, 0(t0)
    la sp, _stack_top
    li gp, 0
    call hv_test
    j hv_pass

    .text
/* M-mode trap entry (direct mode). */
    .balign 4
    .globl hv_mtrap
hv_mtrap:
    csrrw t0, mscratch, t0
    SAVE_REGS
    csrr t1, mscratch
    sd t1, 8*5(t0)
    csrw mscratch, t0
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    csrr a3, mstatus
    li a4, PRV_M
    jal ra, hv_trap_common
    csrw mepc, a0
    bltz a1, 1f
    li t1, MSTATUS_MPP
    csrc mstatus, t1
    li t1, PRV_M
    bne a1, t1, 2f
    li t1, MSTATUS_MPIE                /* back in M-mode with interrupts off */
    csrc mstatus, t1
2:  slli a1, a1, 11
    csrs mstatus, a1
1:  csrr t0, mscratch
    RESTORE_REGS
    ld t0, 8*5(t0)
    mret

/* S-mode trap entry (direct mode). */
    .balign 4
    .globl hv_strap
hv_strap:
    csrrw t0, sscratch, t0
    SAVE_REGS
    csrr t1, sscratch
    sd t1, 8*5(t0)
    csrw sscratch, t0
    csrr a0, scause
    csrr a1, sepc
    csrr a2, stval
    csrr a3, sstatus
    li a4, PRV_S
    jal ra, hv_trap_common
    csrw sepc, a0
    bltz a1, 1f
    li t1, PRV_M
    beq a1, t1, hv_fail
    li t1, MSTATUS_SPP
    csrc sstatus, t1
    beqz a1, 1f
    csrs sstatus, t1
1:  csrr t0, sscratch
    RESTORE_REGS
    ld t0, 8*5(t0)
    sret

/*
 * Common trap body. In: a0 cause, a1 epc, a2 tval, a3 status, a4 handler mode.
 * Out: a0 the pc to return to, a1 the mode to return to (-1: unchanged).
 */
hv_trap_common:
    la t1, hv_last
    ld t2, LAST_COUNT(t1)
    addi t2, t2, 1
    sd t2, LAST_COUNT(t1)
    sd a0, LAST_CAUSE(t1)
    sd a1, LAST_EPC(t1)
    sd a2, LAST_TVAL(t1)
    sd a3, LAST_STATUS(t1)
    sd a4, LAST_MODE(t1)
    bltz a0, hv_interrupt

    la t1, hv_exp
    ld t2, EXP_ARMED(t1)
    beqz t2, hv_fail
    ld t2, EXP_CAUSE(t1)
    bne a0, t2, hv_fail
    ld t3, EXP_FLAGS(t1)
    andi t2, t3, F_IN_S
    li t4, PRV_M
    beqz t2, 1f
    li t4, PRV_S
1:  bne a4, t4, hv_fail
    andi t2, t3, F_EPC
    beqz t2, 2f
    ld t2, EXP_EPC(t1)
    bne a1, t2, hv_fail
2:  andi t2, t3, F_TVAL
    beqz t2, 3f
    ld t2, EXP_TVAL(t1)
    bne a2, t2, hv_fail
3:  andi t2, t3, F_PRIV
    beqz t2, 5f
    srli t4, a3, 11
    andi t4, t4, 3
    li t5, PRV_M
    beq a4, t5, 4f
    srli t4, a3, 8
    andi t4, t4, 1
4:  ld t2, EXP_PRIV(t1)
    bne t4, t2, hv_fail
5:  sd zero, EXP_ARMED(t1)
    ld t2, EXP_RESUME(t1)
    bnez t2, 6f
    lhu t4, 0(a1)
    andi t4, t4, 3
    li t5, 3
    addi t2, a1, 2
    bne t4, t5, 6f
    addi t2, a1, 4
6:  mv a0, t2
    li a1, -1
    andi t2, t3, F_RESUME_M
    beqz t2, 7f
    li a1, PRV_M
7:  andi t2, t3, F_RESUME_S
    beqz t2, 8f
    li a1, PRV_S
8:  andi t2, t3, F_RESUME_U
    beqz t2, 9f
    li a1, PRV_U
9:  ret

/* Interrupt: log the code and the handler mode, then call the hook of that mode. */
hv_interrupt:
    slli t2, a0, 1
    srli t2, t2, 1
    la t1, hv_irq_count
    ld t3, 0(t1)
    andi t4, t3, 15
    slli t4, t4, 3
    la t5, hv_irq_log
    add t5, t5, t4
    slli t6, a4, 8
    or t6, t6, t2
    sd t6, 0(t5)
    addi t3, t3, 1
    sd t3, 0(t1)
    la t1, hv_mirq_hook
    li t5, PRV_M
    beq a4, t5, 1f
    la t1, hv_sirq_hook
1:  ld t1, 0(t1)
    beqz t1, hv_fail
    mv s1, ra
    mv s2, a1
    mv a0, t2
    jalr t1
    mv a0, s2
    li a1, -1
    jr s1

    .globl hv_pass, hv_fail
hv_pass:
    li t0, 1
    j hv_tohost
hv_fail:
    slli t0, gp, 1
    ori t0, t0, 1
    li t1, 1
    bne t0, t1, hv_tohost
    li t0, (1023<<1)|1
hv_tohost:
    la t1, tohost
    sd t0, 0(t1)
1:  j 1b

    .data
    .balign 8
    .globl hv_exp, hv_last, hv_mirq_hook, hv_sirq_hook, hv_irq_count, hv_irq_log
    .globl hv_msave, hv_ssave, hv_scratch
hv_exp:       .zero EXP_SIZE
hv_last:      .zero 48
hv_mirq_hook: .dword 0
hv_sirq_hook: .dword 0
hv_irq_count: .dword 0
hv_irq_log:   .zero 16*8
hv_msave:     .zero 32*8
hv_ssave:     .zero 32*8
    .balign 64
hv_scratch:   .zero 256
