/*
 * Interrupt priority (privileged spec 3.1.9): with several interrupts pending and
 * enabled at once they are taken in the order MEI, MSI, MTI, SEI, SSI, STI; M-level
 * interrupts precede S-level ones whatever the current mode.
 */
#include "hvtest.h"

#define ALL_IRQS (MIP_MEIP|MIP_MSIP|MIP_MTIP|MIP_SEIP|MIP_SSIP|MIP_STIP)


TEST_BEGIN
    SET_MIRQ_HOOK m_hook
    SET_SIRQ_HOOK s_hook
    csrw mideleg, zero
    csrw mie, zero
    csrw menvcfg, zero

    /* ---- raise all six with MIE = 0, then enable: six traps in priority order ---- */
    CLEAR_IRQ_LOG
    MMIO_SW PLIC_PRIORITY(UART0_IRQ), 1
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), (1<<UART0_IRQ)
    MMIO_SB UART_IER, UART_IER_THRI
    MMIO_SW CLINT_MSIP, 1
    MMIO_SD CLINT_MTIMECMP, 0
    li a1, MIP_SEIP|MIP_SSIP|MIP_STIP
    csrs mip, a1
    li gp, 1
    WAIT_MIP ALL_IRQS, ALL_IRQS
    li a1, ALL_IRQS
    csrw mie, a1
    li gp, 2
    csrsi mstatus, MSTATUS_MIE
    WAIT_IRQS 6
    csrci mstatus, MSTATUS_MIE
    CHECK_IRQ_COUNT 6
    CHECK_IRQ 0, PRV_M, IRQ_M_EXT
    CHECK_IRQ 1, PRV_M, IRQ_M_SOFT
    CHECK_IRQ 2, PRV_M, IRQ_M_TIMER
    CHECK_IRQ 3, PRV_M, IRQ_S_EXT
    CHECK_IRQ 4, PRV_M, IRQ_S_SOFT
    CHECK_IRQ 5, PRV_M, IRQ_S_TIMER
    TEST_CASE(3, 0, csrr a0, mip; li a1, ALL_IRQS; and a0, a0, a1)

    /* ---- M-level before S-level in S-mode: MSI (to M) then the delegated SSI (to S) ---- */
    CLEAR_IRQ_LOG
    li a1, MIP_SSIP
    csrw mideleg, a1
    li a1, MIP_SSIP|MIP_MSIP
    csrw mie, a1
    csrs mip, a1                       /* SSIP (MSIP in mip is read-only) */
    MMIO_SW CLINT_MSIP, 1
    li gp, 4
    WAIT_MIP MIP_SSIP|MIP_MSIP, MIP_SSIP|MIP_MSIP
    csrci mstatus, MSTATUS_SIE
    GOTO_S 1f
1:  li gp, 5
    csrsi sstatus, MSTATUS_SIE
    WAIT_IRQS 2
    csrci sstatus, MSTATUS_SIE
    CHECK_IRQ 0, PRV_M, IRQ_M_SOFT
    CHECK_IRQ 1, PRV_S, IRQ_S_SOFT
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    csrw mie, zero
    csrw mideleg, zero
TEST_END

/* M hook: clear exactly the source that was taken. */
m_hook:
    li t0, IRQ_M_EXT
    bne a0, t0, 1f
    li t1, PLIC_CLAIM(PLIC_CTX_M)
    lw t2, 0(t1)
    li t3, UART_IER
    sb zero, 0(t3)
    sw t2, 0(t1)
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), 0
    ret
1:  li t0, IRQ_M_SOFT
    bne a0, t0, 2f
    li t1, CLINT_MSIP
    sw zero, 0(t1)
    ret
2:  li t0, IRQ_M_TIMER
    bne a0, t0, 3f
    li t1, CLINT_MTIMECMP
    li t2, -1
    sd t2, 0(t1)
    ret
3:  li t0, IRQ_S_EXT
    bne a0, t0, 4f
    li t1, MIP_SEIP
    csrc mip, t1
    ret
4:  li t0, IRQ_S_SOFT
    bne a0, t0, 5f
    csrci mip, MIP_SSIP
    ret
5:  li t0, IRQ_S_TIMER
    bne a0, t0, 6f
    li t1, MIP_STIP
    csrc mip, t1
    ret
6:  j hv_fail

/* S hook: clear sip.SSIP. */
s_hook:
    li t0, IRQ_S_SOFT
    bne a0, t0, 1f
    csrci sip, MIP_SSIP
    ret
1:  j hv_fail
