/*
 * Vectored trap dispatch (privileged spec 3.1.7 mtvec, 4.1.2 stvec): with MODE = 1,
 * interrupt cause n jumps to BASE + 4n and every exception to BASE; the same for S-mode
 * through stvec with a delegated interrupt.
 */
#include "hvtest.h"

/* Wait, at most 200000 iterations and using only a3/a4, until vec_hits reaches n. */
.macro WAIT_HITS n
    li a3, 200000
8889:
    la a4, vec_hits
    ld a4, 0(a4)
    addi a4, a4, -(\n)
    bgez a4, 8890f
    addi a3, a3, -1
    bnez a3, 8889b
    j hv_fail
8890:
.endm

    .data
    .balign 8
vec_hits: .dword 0           /* number of vectored interrupts taken */
vec_last: .dword 0           /* vector slot of the last one */
vec_cause: .dword 0          /* xcause seen by it */
vec_id: .dword 0             /* PLIC id claimed by the MEI handler */

TEST_BEGIN
    csrw mideleg, zero
    csrw mie, zero
    csrw menvcfg, zero
    la a1, mvec
    ori a1, a1, 1
    csrw mtvec, a1
    TEST_CASE(1, 1, csrr a0, mtvec; andi a0, a0, 3)

    /* ---- an exception goes to BASE (slot 0), which forwards to the runtime ---- */
    TEST_TRAP(2, CAUSE_MACHINE_ECALL, ecall)
    TEST_TRAP(3, CAUSE_BREAKPOINT, ebreak)

    /* ---- MSI -> slot 3 ---- */
    li a1, MIP_MSIP
    csrw mie, a1
    MMIO_SW CLINT_MSIP, 1
    li gp, 4
    csrsi mstatus, MSTATUS_MIE
    WAIT_HITS 1
    csrci mstatus, MSTATUS_MIE
    TEST_CASE(5, IRQ_M_SOFT, la a1, vec_last; ld a0, 0(a1))
    TEST_CASE(6, INTERRUPT_BIT|IRQ_M_SOFT, la a1, vec_cause; ld a0, 0(a1))
    /* ---- SSI (not delegated) -> slot 1 ---- */
    li a1, MIP_SSIP
    csrw mie, a1
    csrs mip, a1
    li gp, 7
    csrsi mstatus, MSTATUS_MIE
    WAIT_HITS 2
    csrci mstatus, MSTATUS_MIE
    TEST_CASE(8, IRQ_S_SOFT, la a1, vec_last; ld a0, 0(a1))
    /* ---- MTI -> slot 7 ---- */
    li a1, MIP_MTIP
    csrw mie, a1
    MMIO_SD CLINT_MTIMECMP, 0
    li gp, 9
    csrsi mstatus, MSTATUS_MIE
    WAIT_HITS 3
    csrci mstatus, MSTATUS_MIE
    TEST_CASE(10, IRQ_M_TIMER, la a1, vec_last; ld a0, 0(a1))
    /* ---- STI (mip.STIP by software) -> slot 5 ---- */
    li a1, MIP_STIP
    csrw mie, a1
    csrs mip, a1
    li gp, 11
    csrsi mstatus, MSTATUS_MIE
    WAIT_HITS 4
    csrci mstatus, MSTATUS_MIE
    TEST_CASE(12, IRQ_S_TIMER, la a1, vec_last; ld a0, 0(a1))
    /* ---- SEI (mip.SEIP by software) -> slot 9 ---- */
    li a1, MIP_SEIP
    csrw mie, a1
    csrs mip, a1
    li gp, 13
    csrsi mstatus, MSTATUS_MIE
    WAIT_HITS 5
    csrci mstatus, MSTATUS_MIE
    TEST_CASE(14, IRQ_S_EXT, la a1, vec_last; ld a0, 0(a1))
    /* ---- MEI (UART through the PLIC) -> slot 11 ---- */
    MMIO_SW PLIC_PRIORITY(UART0_IRQ), 1
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), (1<<UART0_IRQ)
    li a1, MIP_MEIP
    csrw mie, a1
    MMIO_SB UART_IER, UART_IER_THRI
    li gp, 15
    csrsi mstatus, MSTATUS_MIE
    WAIT_HITS 6
    csrci mstatus, MSTATUS_MIE
    TEST_CASE(16, IRQ_M_EXT, la a1, vec_last; ld a0, 0(a1))
    MMIO_SW PLIC_ENABLE(PLIC_CTX_M), 0
    csrw mie, zero
    la a1, hv_mtrap
    csrw mtvec, a1

    /* ---- stvec vectored: a delegated SSI in S-mode -> S slot 1 ---- */
    la a1, svec
    ori a1, a1, 1
    csrw stvec, a1
    li a1, MIP_SSIP
    csrw mideleg, a1
    csrw mie, a1
    csrci mstatus, MSTATUS_SIE
    GOTO_S 1f
1:  csrsi sip, MIP_SSIP
    li gp, 17
    csrsi sstatus, MSTATUS_SIE
    WAIT_HITS 7
    csrci sstatus, MSTATUS_SIE
    TEST_CASE(18, 0x100|IRQ_S_SOFT, la a1, vec_last; ld a0, 0(a1))
    TEST_CASE(19, INTERRUPT_BIT|IRQ_S_SOFT, la a1, vec_cause; ld a0, 0(a1))
    /* an exception delegated to S goes to the S BASE, which forwards to the runtime */
    li a1, 0
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    li a1, (1<<CAUSE_BREAKPOINT)
    csrw medeleg, a1
    GOTO_S 2f
2:  li gp, 20
    EXPECT_TRAP CAUSE_BREAKPOINT, 3f, 4f, F_IN_S
3:  ebreak
4:  CHECK_TRAP_TAKEN
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    csrw medeleg, zero
    csrw mideleg, zero
    csrw mie, zero
    la a1, hv_strap
    csrw stvec, a1
TEST_END

/* Record slot n (mode bit 8 for S) and the cause, using only t5/t6 and the scratch CSR. */
.macro VEC_RECORD n, causecsr
    la t5, vec_hits
    ld t6, 0(t5)
    addi t6, t6, 1
    sd t6, 0(t5)
    li t6, \n
    sd t6, 8(t5)
    csrr t6, \causecsr
    sd t6, 16(t5)
.endm

    .text
    .balign 256
    .option push
    .option norvc
mvec:
    j hv_mtrap          /* 0: exceptions */
    j m_ssi             /* 1 */
    j vec_bad           /* 2 */
    j m_msi             /* 3 */
    j vec_bad           /* 4 */
    j m_sti             /* 5 */
    j vec_bad           /* 6 */
    j m_mti             /* 7 */
    j vec_bad           /* 8 */
    j m_sei             /* 9 */
    j vec_bad           /* 10 */
    j m_mei             /* 11 */
    .option pop
vec_bad:
    j hv_fail

m_ssi:
    csrci mip, MIP_SSIP
    VEC_RECORD IRQ_S_SOFT, mcause
    mret
m_msi:
    li t5, CLINT_MSIP
    sw zero, 0(t5)
    VEC_RECORD IRQ_M_SOFT, mcause
    mret
m_sti:
    li t5, MIP_STIP
    csrc mip, t5
    VEC_RECORD IRQ_S_TIMER, mcause
    mret
m_mti:
    li t5, CLINT_MTIMECMP
    li t6, -1
    sd t6, 0(t5)
    VEC_RECORD IRQ_M_TIMER, mcause
    mret
m_sei:
    li t5, MIP_SEIP
    csrc mip, t5
    VEC_RECORD IRQ_S_EXT, mcause
    mret
m_mei:
    li t5, PLIC_CLAIM(PLIC_CTX_M)
    lw t6, 0(t5)
    la t5, vec_id
    sd t6, 0(t5)
    li t5, UART_IER
    sb zero, 0(t5)
    la t5, vec_id
    ld t6, 0(t5)
    li t5, PLIC_CLAIM(PLIC_CTX_M)
    sw t6, 0(t5)
    VEC_RECORD IRQ_M_EXT, mcause
    mret

    .balign 256
    .option push
    .option norvc
svec:
    j hv_strap          /* 0: exceptions */
    j s_ssi             /* 1: SSI */
    j vec_bad
    j vec_bad
    j vec_bad
    j vec_bad
    j vec_bad
    j vec_bad
    j vec_bad
    j vec_bad
    .option pop
s_ssi:
    csrci sip, MIP_SSIP
    VEC_RECORD 0x100|IRQ_S_SOFT, scause
    sret
