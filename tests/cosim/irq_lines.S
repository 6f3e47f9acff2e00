/*
 * Harness interrupt lines through the PLIC (RISC-V PLIC spec 1.0.0 chapters 3-8,
 * privileged spec 3.1.9 and 3.3.3 WFI), for co-simulation with an irq schedule
 * (tests/cosim/test_cosim.py IRQ_SCHEDULE): line 0 (source LINE0) is taken in M,
 * line 1 (source LINE0+1) is delegated and taken in S, and line 2 ends a WFI that
 * waits with mstatus.MIE clear. Each hook claims, masks its source and completes,
 * because the harness holds a line high until the schedule drops it.
 */
#include "hvtest.h"

#define LINE0 (32 - HARNESS_LINES)

TEST_BEGIN
    SET_MIRQ_HOOK m_hook
    SET_SIRQ_HOOK s_hook
    csrw mideleg, zero
    csrw mie, zero
    MMIO_SW PLIC_THRESHOLD(PLIC_CTX_M), 0
    MMIO_SW PLIC_THRESHOLD(PLIC_CTX_S), 0
    MMIO_SW PLIC_PRIORITY(LINE0), 1
    MMIO_SW PLIC_PRIORITY(LINE0 + 1), 2
    MMIO_SW PLIC_PRIORITY(LINE0 + 2), 3

    /* ---- line 0: MEI taken in M ---- */
    CLEAR_IRQ_LOG
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), (1 << LINE0)
    li a1, MIP_MEIP
    csrw mie, a1
    csrsi mstatus, MSTATUS_MIE
    li gp, 1
    WAIT_IRQS 1
    csrci mstatus, MSTATUS_MIE
    CHECK_IRQ 0, PRV_M, IRQ_M_EXT
    TEST_CASE(2, LINE0, la a1, hv_scratch; ld a0, 0(a1))
    csrw mie, zero

    /* ---- line 1: SEI delegated, taken in S ---- */
    CLEAR_IRQ_LOG
    MMIO_SW PLIC_ENABLE(PLIC_CTX_S), (1 << (LINE0 + 1))
    li a1, MIP_SEIP
    csrw mideleg, a1
    csrw mie, a1
    csrci mstatus, MSTATUS_SIE
    GOTO_S 1f
1:  csrsi sstatus, MSTATUS_SIE
    li gp, 3
    WAIT_IRQS 1
    csrci sstatus, MSTATUS_SIE
    CHECK_IRQ 0, PRV_S, IRQ_S_EXT
    TEST_CASE(4, LINE0 + 1, la a1, hv_scratch; ld a0, 8(a1))
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    csrw mie, zero
    csrw mideleg, zero

    /* ---- line 2: WFI with MIE clear resumes on the pending MEI, no trap ---- */
    CLEAR_IRQ_LOG
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), (1 << (LINE0 + 2))
    li a1, MIP_MEIP
    csrw mie, a1
    li gp, 5
    wfi
    CHECK_IRQ_COUNT 0
    TEST_CASE(6, MIP_MEIP, csrr a0, mip; li a1, MIP_MEIP; and a0, a0, a1)
    TEST_CASE(7, LINE0 + 2, li a1, PLIC_CLAIM(PLIC_CTX_M); lw a0, 0(a1))
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), 0
    MMIO_SW PLIC_CLAIM(PLIC_CTX_M), (LINE0 + 2)
    csrw mie, zero
TEST_END

/* M hook: claim, record the id, mask the source, complete. */
m_hook:
    li t1, PLIC_CLAIM(PLIC_CTX_M)
    lw t2, 0(t1)
    la t3, hv_scratch
    sd t2, 0(t3)
    li t4, PLIC_ENABLE(PLIC_CTX_M)
    sw zero, 0(t4)
    sw t2, 0(t1)
    ret

/* S hook: the same through the S context. */
s_hook:
    li t1, PLIC_CLAIM(PLIC_CTX_S)
    lw t2, 0(t1)
    la t3, hv_scratch
    sd t2, 8(t3)
    li t4, PLIC_ENABLE(PLIC_CTX_S)
    sw zero, 0(t4)
    sw t2, 0(t1)
    ret
