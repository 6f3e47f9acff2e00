/*
 * Timer interrupts (privileged spec 3.2.1 mtime/mtimecmp, 3.1.9, Sstc stimecmp): the
 * machine timer from the CLINT, mip.MTIP following mtime >= mtimecmp, WFI woken by the
 * timer, the supervisor timer from stimecmp (taken in S when delegated, in M when not)
 * and from a software write of mip.STIP when Sstc is off. Every wait is a bounded loop;
 * nothing assumes how fast mtime advances.
 */
#include "hvtest.h"

#define DELTA 20


TEST_BEGIN
    SET_MIRQ_HOOK m_hook
    SET_SIRQ_HOOK s_hook
    csrw mideleg, zero
    csrw mie, zero
    csrw menvcfg, zero

    /* ---- MTIP follows mtime >= mtimecmp, also while disabled ---- */
    li gp, 1
    MMIO_SD CLINT_MTIMECMP, 0
    WAIT_CSR mip, MIP_MTIP, MIP_MTIP
    li gp, 2
    MMIO_SD CLINT_MTIMECMP, -1
    WAIT_CSR mip, MIP_MTIP, 0
    /* mtimecmp reads back what was written */
    TEST_CASE(3, 0x123456789abc, li a1, CLINT_MTIMECMP; li a2, 0x123456789abc; sd a2, 0(a1); ld a0, 0(a1); li a2, -1; sd a2, 0(a1))

    /* ---- MTI: taken in M after mtime reaches mtimecmp ---- */
    CLEAR_IRQ_LOG
    li gp, 4
    li a1, CLINT_MTIME
    ld s1, 0(a1)
    addi s1, s1, DELTA
    li a1, CLINT_MTIMECMP
    sd s1, 0(a1)
    li a1, MIP_MTIP
    csrw mie, a1
    csrsi mstatus, MSTATUS_MIE
    WAIT_IRQS 1
    csrci mstatus, MSTATUS_MIE
    CHECK_IRQ 0, PRV_M, IRQ_M_TIMER
    TEST_CASE(5, INTERRUPT_BIT|IRQ_M_TIMER, csrr a0, mcause)
    /* it was not taken early */
    TEST_CASE(6, 1, li a1, CLINT_MTIME; ld a2, 0(a1); sltu a0, a2, s1; xori a0, a0, 1)
    TEST_CASE(7, 0, csrr a0, mip; andi a0, a0, MIP_MTIP)

    /* ---- WFI with MIE = 0 returns once the enabled timer is pending ---- */
    li gp, 8
    li a1, CLINT_MTIME
    ld s1, 0(a1)
    addi s1, s1, DELTA
    li a1, CLINT_MTIMECMP
    sd s1, 0(a1)
    li a3, 100000
1:  wfi
    csrr a2, mip
    andi a2, a2, MIP_MTIP
    bnez a2, 2f
    addi a3, a3, -1
    bnez a3, 1b
    j hv_fail
2:  MMIO_SD CLINT_MTIMECMP, -1
    csrw mie, zero

    /* ---- Sstc: STIP follows time >= stimecmp when menvcfg.STCE = 1 ---- */
    li a1, MENVCFG_STCE
    csrw menvcfg, a1
    csrwi mcounteren, COUNTER_TM
    li gp, 9
    csrw stimecmp, zero
    WAIT_CSR mip, MIP_STIP, MIP_STIP
    li gp, 10
    li a1, -1
    csrw stimecmp, a1
    WAIT_CSR mip, MIP_STIP, 0

    /* ---- STI from stimecmp, not delegated: taken in M ---- */
    CLEAR_IRQ_LOG
    li gp, 11
    csrr s1, time
    addi s1, s1, DELTA
    csrw stimecmp, s1
    li a1, MIP_STIP
    csrw mie, a1
    csrsi mstatus, MSTATUS_MIE
    WAIT_IRQS 1
    csrci mstatus, MSTATUS_MIE
    CHECK_IRQ 0, PRV_M, IRQ_S_TIMER
    TEST_CASE(12, 1, csrr a2, time; sltu a0, a2, s1; xori a0, a0, 1)

    /* ---- STI from stimecmp, delegated: S-mode programs it and takes it ---- */
    CLEAR_IRQ_LOG
    li a1, MIP_STIP
    csrw mideleg, a1
    csrw mie, a1
    csrci mstatus, MSTATUS_SIE
    GOTO_S 1f
1:  li gp, 13
    csrr s1, time
    addi s1, s1, DELTA
    csrw stimecmp, s1
    csrsi sstatus, MSTATUS_SIE
    WAIT_IRQS 1
    csrci sstatus, MSTATUS_SIE
    CHECK_IRQ 0, PRV_S, IRQ_S_TIMER
    TEST_CASE(14, INTERRUPT_BIT|IRQ_S_TIMER, csrr a0, scause)
    TEST_CASE(15, 0, csrr a0, sip; andi a0, a0, MIP_STIP)
    /* ... and in U-mode, where S interrupts are always enabled */
    csrr s1, time
    addi s1, s1, DELTA
    csrw stimecmp, s1
    GOTO_U_FROM_S 2f
2:  li gp, 16
    WAIT_IRQS 2
    CHECK_IRQ 1, PRV_S, IRQ_S_TIMER
    ECALL_TO_M CAUSE_USER_ECALL
    csrw mideleg, zero
    csrw mie, zero

    /* ---- Sstc off: M-mode software raises STIP through mip ---- */
    csrw menvcfg, zero
    CLEAR_IRQ_LOG
    li gp, 17
    li a1, MIP_STIP
    csrw mie, a1
    csrs mip, a1
    csrsi mstatus, MSTATUS_MIE
    WAIT_IRQS 1
    csrci mstatus, MSTATUS_MIE
    CHECK_IRQ 0, PRV_M, IRQ_S_TIMER
    csrw mie, zero
    csrw mcounteren, zero
TEST_END

/* M hook: silence the timer that fired. */
m_hook:
    li t0, IRQ_M_TIMER
    bne a0, t0, 1f
    li t1, CLINT_MTIMECMP
    li t2, -1
    sd t2, 0(t1)
    ret
1:  li t0, IRQ_S_TIMER
    bne a0, t0, 3f
    csrr t1, menvcfg
    bgez t1, 2f                        /* STCE is bit 63 */
    li t2, -1
    csrw stimecmp, t2
    ret
2:  li t1, MIP_STIP
    csrc mip, t1
    ret
3:  j hv_fail

/* S hook: push stimecmp to the far future. */
s_hook:
    li t0, IRQ_S_TIMER
    bne a0, t0, 1f
    li t2, -1
    csrw stimecmp, t2
    ret
1:  j hv_fail
