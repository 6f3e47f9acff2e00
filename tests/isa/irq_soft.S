/*
 * Software interrupts (privileged spec 3.1.9 and 3.3.4, CLINT msip): machine software
 * interrupts from the CLINT, supervisor software interrupts through mip/sip.SSIP, global
 * enables per mode, and delegation with mideleg.
 */
#include "hvtest.h"

TEST_BEGIN
    SET_MIRQ_HOOK m_hook
    SET_SIRQ_HOOK s_hook
    csrw mideleg, zero
    csrw mie, zero

    /* ---- MSI from the CLINT, taken in M with MIE = 1 ---- */
    CLEAR_IRQ_LOG
    li gp, 1
    li a1, MIP_MSIP
    csrw mie, a1
    MMIO_SW CLINT_MSIP, 1
    csrsi mstatus, MSTATUS_MIE
    WAIT_IRQS 1
    csrci mstatus, MSTATUS_MIE
    CHECK_IRQ_COUNT 1
    CHECK_IRQ 0, PRV_M, IRQ_M_SOFT
    TEST_CASE(2, INTERRUPT_BIT|IRQ_M_SOFT, csrr a0, mcause)
    TEST_CASE(3, 0, csrr a0, mip; andi a0, a0, MIP_MSIP)

    /* ---- pending but globally disabled in M: not taken, visible in mip ---- */
    CLEAR_IRQ_LOG
    li gp, 4
    MMIO_SW CLINT_MSIP, 1
    li a3, 1000
1:  addi a3, a3, -1
    bnez a3, 1b
    CHECK_IRQ_COUNT 0
    TEST_CASE(5, MIP_MSIP, csrr a0, mip; andi a0, a0, MIP_MSIP)
    TEST_CASE(6, 1, li a1, CLINT_MSIP; lw a0, 0(a1))
    /* ... and disabled in mie: not taken even with MIE = 1 */
    csrw mie, zero
    csrsi mstatus, MSTATUS_MIE
    li a3, 1000
1:  addi a3, a3, -1
    bnez a3, 1b
    li gp, 7
    CHECK_IRQ_COUNT 0
    /* enabling it takes it at once */
    li a1, MIP_MSIP
    csrs mie, a1
    WAIT_IRQS 1
    csrci mstatus, MSTATUS_MIE
    li gp, 8
    CHECK_IRQ_COUNT 1

    /* ---- an M interrupt is taken in S and U whatever MIE is ---- */
    CLEAR_IRQ_LOG
    csrci mstatus, MSTATUS_MIE
    li a1, MSTATUS_MPIE
    csrc mstatus, a1
    GOTO_S 1f
1:  li gp, 9
    MMIO_SW CLINT_MSIP, 1
    WAIT_IRQS 1
    CHECK_IRQ 0, PRV_M, IRQ_M_SOFT
    GOTO_U_FROM_S 2f
2:  li gp, 10
    MMIO_SW CLINT_MSIP, 1
    WAIT_IRQS 2
    CHECK_IRQ 1, PRV_M, IRQ_M_SOFT
    ECALL_TO_M CAUSE_USER_ECALL
    csrw mie, zero

    /* ---- SSI not delegated: an M-level interrupt, code 1 ---- */
    CLEAR_IRQ_LOG
    li gp, 11
    li a1, MIP_SSIP
    csrw mie, a1
    csrs mip, a1
    csrsi mstatus, MSTATUS_MIE
    WAIT_IRQS 1
    csrci mstatus, MSTATUS_MIE
    CHECK_IRQ 0, PRV_M, IRQ_S_SOFT

    /* ---- SSI delegated: never taken in M, even with MIE = 1 ---- */
    CLEAR_IRQ_LOG
    li a1, MIP_SSIP
    csrw mideleg, a1
    csrw mie, a1
    csrs mip, a1
    csrsi mstatus, MSTATUS_MIE
    li a3, 1000
1:  addi a3, a3, -1
    bnez a3, 1b
    csrci mstatus, MSTATUS_MIE
    li gp, 12
    CHECK_IRQ_COUNT 0
    /* in S with SIE = 0: not taken; sip shows it */
    csrci mstatus, MSTATUS_SIE
    GOTO_S 1f
1:  li a3, 1000
2:  addi a3, a3, -1
    bnez a3, 2b
    li gp, 13
    CHECK_IRQ_COUNT 0
    TEST_CASE(14, MIP_SSIP, csrr a0, sip)
    /* setting SIE takes it in S, code 1, scause interrupt bit set */
    li gp, 15
    csrsi sstatus, MSTATUS_SIE
    WAIT_IRQS 1
    csrci sstatus, MSTATUS_SIE
    CHECK_IRQ 0, PRV_S, IRQ_S_SOFT
    TEST_CASE(16, INTERRUPT_BIT|IRQ_S_SOFT, csrr a0, scause)
    /* in U with SIE = 0: S interrupts are always enabled below S */
    csrsi sip, MIP_SSIP
    GOTO_U_FROM_S 2f
2:  li gp, 17
    WAIT_IRQS 2
    CHECK_IRQ 1, PRV_S, IRQ_S_SOFT
    ECALL_TO_M CAUSE_USER_ECALL
    csrw mie, zero
    csrw mideleg, zero
TEST_END

/* M hook: clear the source of the interrupt. */
m_hook:
    li t0, IRQ_M_SOFT
    bne a0, t0, 1f
    li t1, CLINT_MSIP
    sw zero, 0(t1)
    ret
1:  li t0, IRQ_S_SOFT
    bne a0, t0, 2f
    csrci mip, MIP_SSIP
    ret
2:  j hv_fail

/* S hook: clear sip.SSIP. */
s_hook:
    li t0, IRQ_S_SOFT
    bne a0, t0, 2f
    csrci sip, MIP_SSIP
    ret
2:  j hv_fail
