/*
 * External interrupts through the PLIC (RISC-V PLIC spec 1.0.0 chapters 3-8, privileged
 * spec 3.1.9), with the UART's THR-empty interrupt (ns16550a IER.ETBEI) as source
 * UART0_IRQ: pending, claim, complete, threshold and priority 0 masking, the M context
 * raising MEIP and the S context raising SEIP (taken in S when delegated).
 */
#include "hvtest.h"

#define SRC UART0_IRQ



TEST_BEGIN
    SET_MIRQ_HOOK m_hook
    SET_SIRQ_HOOK s_hook
    csrw mideleg, zero
    csrw mie, zero
    MMIO_SB UART_IER, 0
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), 0
    MMIO_SW PLIC_ENABLE(PLIC_CTX_S), 0
    MMIO_SW PLIC_THRESHOLD(PLIC_CTX_M), 0
    MMIO_SW PLIC_THRESHOLD(PLIC_CTX_S), 0

    /* ---- registers hold what is written ---- */
    TEST_CASE(1, 5, li a1, PLIC_PRIORITY(SRC); li a2, 5; sw a2, 0(a1); lw a0, 0(a1))
    TEST_CASE(2, (1<<SRC), li a1, PLIC_ENABLE(PLIC_CTX_M); li a2, (1<<SRC); sw a2, 0(a1); lw a0, 0(a1); sw zero, 0(a1))
    TEST_CASE(3, 3, li a1, PLIC_THRESHOLD(PLIC_CTX_M); li a2, 3; sw a2, 0(a1); lw a0, 0(a1); sw zero, 0(a1))
    /* source 0 does not exist: its enable bit is read-only 0 */
    TEST_CASE(4, 0, li a1, PLIC_ENABLE(PLIC_CTX_M); li a2, 1; sw a2, 0(a1); lw a0, 0(a1))

    /* ---- polled: the UART line sets MEIP, claim returns the source, complete ---- */
    MMIO_SW PLIC_PRIORITY(SRC), 1
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), (1<<SRC)
    MMIO_SB UART_IER, UART_IER_THRI
    li gp, 5
    WAIT_MIP MIP_MEIP, MIP_MEIP
    TEST_CASE(6, (1<<SRC), li a1, PLIC_PENDING; lw a0, 0(a1); li a2, (1<<SRC); and a0, a0, a2)
    TEST_CASE(7, SRC, li a1, PLIC_CLAIM(PLIC_CTX_M); lw a0, 0(a1))
    /* a claimed source does not interrupt again before completion */
    li gp, 8
    WAIT_MIP MIP_MEIP, 0
    TEST_CASE(9, 0, li a1, PLIC_CLAIM(PLIC_CTX_M); lw a0, 0(a1))
    /* complete while the line is still high: it is pending again */
    MMIO_SW PLIC_CLAIM(PLIC_CTX_M), SRC
    li gp, 10
    WAIT_MIP MIP_MEIP, MIP_MEIP
    TEST_CASE(11, SRC, li a1, PLIC_CLAIM(PLIC_CTX_M); lw a0, 0(a1))
    MMIO_SB UART_IER, 0
    MMIO_SW PLIC_CLAIM(PLIC_CTX_M), SRC
    li gp, 12
    WAIT_MIP MIP_MEIP, 0

    /* ---- threshold: priority <= threshold is masked ---- */
    MMIO_SW PLIC_THRESHOLD(PLIC_CTX_M), 1
    MMIO_SB UART_IER, UART_IER_THRI
    SPIN 2000
    TEST_CASE(13, 0, csrr a0, mip; li a1, MIP_MEIP; and a0, a0, a1)
    MMIO_SW PLIC_THRESHOLD(PLIC_CTX_M), 0
    li gp, 14
    WAIT_MIP MIP_MEIP, MIP_MEIP
    MMIO_SB UART_IER, 0
    li gp, 15
    WAIT_MIP MIP_MEIP, 0
    /* priority 0 never interrupts */
    MMIO_SW PLIC_PRIORITY(SRC), 0
    MMIO_SB UART_IER, UART_IER_THRI
    SPIN 2000
    TEST_CASE(16, 0, csrr a0, mip; li a1, MIP_MEIP; and a0, a0, a1)
    MMIO_SB UART_IER, 0
    SPIN 100

    /* ---- MEI taken in M: the hook claims, silences the UART and completes ---- */
    CLEAR_IRQ_LOG
    MMIO_SW PLIC_PRIORITY(SRC), 2
    li a1, MIP_MEIP
    csrw mie, a1
    csrsi mstatus, MSTATUS_MIE
    MMIO_SB UART_IER, UART_IER_THRI
    li gp, 17
    WAIT_IRQS 1
    csrci mstatus, MSTATUS_MIE
    CHECK_IRQ 0, PRV_M, IRQ_M_EXT
    TEST_CASE(18, INTERRUPT_BIT|IRQ_M_EXT, csrr a0, mcause)
    TEST_CASE(19, SRC, la a1, hv_scratch; ld a0, 0(a1))
    TEST_CASE(20, 0x02, la a1, hv_scratch; ld a0, 8(a1); andi a0, a0, 0x0f)
    TEST_CASE(21, 0, csrr a0, mip; li a1, MIP_MEIP; and a0, a0, a1)
    csrw mie, zero
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), 0

    /* ---- S context: SEIP, delegated, taken in S; the S hook uses the S claim ---- */
    CLEAR_IRQ_LOG
    MMIO_SW PLIC_ENABLE(PLIC_CTX_S), (1<<SRC)
    li a1, MIP_SEIP
    csrw mideleg, a1
    csrw mie, a1
    csrci mstatus, MSTATUS_SIE
    GOTO_S 1f
1:  MMIO_SB UART_IER, UART_IER_THRI
    li gp, 22
    csrsi sstatus, MSTATUS_SIE
    WAIT_IRQS 1
    csrci sstatus, MSTATUS_SIE
    CHECK_IRQ 0, PRV_S, IRQ_S_EXT
    TEST_CASE(23, INTERRUPT_BIT|IRQ_S_EXT, csrr a0, scause)
    TEST_CASE(24, SRC, la a1, hv_scratch; ld a0, 0(a1))
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    /* the S context does not raise MEIP */
    TEST_CASE(25, 0, csrr a0, mip; li a1, MIP_MEIP|MIP_SEIP; and a0, a0, a1)
    csrw mie, zero
    csrw mideleg, zero
    MMIO_SW PLIC_ENABLE(PLIC_CTX_S), 0
    MMIO_SW PLIC_PRIORITY(SRC), 0
TEST_END

/* M hook: claim, record the id and IIR, silence the UART, complete. */
m_hook:
    li t0, IRQ_M_EXT
    bne a0, t0, 1f
    li t1, PLIC_CLAIM(PLIC_CTX_M)
    lw t2, 0(t1)
    la t3, hv_scratch
    sd t2, 0(t3)
    li t4, UART_IIR
    lbu t5, 0(t4)
    sd t5, 8(t3)
    li t4, UART_IER
    sb zero, 0(t4)
    sw t2, 0(t1)
    ret
1:  j hv_fail

/* S hook: the same through the S context. */
s_hook:
    li t0, IRQ_S_EXT
    bne a0, t0, 1f
    li t1, PLIC_CLAIM(PLIC_CTX_S)
    lw t2, 0(t1)
    la t3, hv_scratch
    sd t2, 0(t3)
    li t4, UART_IER
    sb zero, 0(t4)
    sw t2, 0(t1)
    ret
1:  j hv_fail
