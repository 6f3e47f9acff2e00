/*
 * VS-level interrupts (privileged spec, chapter "Hypervisor Extension": 8.2.3 hvip,
 * 8.2.4 hip/hie, 8.2.2 hideleg, 8.2.13 vsip/vsie, 8.6.2 trap entry in VS with the S-level
 * cause codes, interrupt priorities (3.1.9); Sstc vstimecmp with henvcfg.STCE and
 * htimedelta; 8.1/3.3.3 WFI in VS).
 * Checked: VSSIP/VSTIP/VSEIP injected through hvip and taken in VS when delegated by
 * hideleg (vscause = 1/5/9 with the interrupt bit), taken in HS when not (scause = 2/6/10,
 * in V mode regardless of sstatus.SIE), never taken while V = 0 when delegated; VU always
 * takes them; priority VSEI > VSSI > VSTI and HS-level before VS-level; vsip.SSIP written
 * by the guest; vstimecmp against time + htimedelta; WFI in VS completing on a pending
 * VS interrupt.
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

/* Bounded wait for an interrupt (never depends on timing: the bound is generous). */
#define SPIN_WAIT li t3, 100000; 7771: addi t3, t3, -1; bnez t3, 7771b
/* A short wait where no interrupt may come (injected interrupts are pending at once). */
#define SPIN_NONE li t3, 2000; 7772: addi t3, t3, -1; bnez t3, 7772b
/* The record is interrupt code taken by handler mode. */
.macro CHECK_IRQ_REC mode, code
    H_CHECK_TRAP \mode, INTERRUPT_BIT|(\code)
.endm

TEST_BEGIN
    H_INIT
    csrw mie, zero
    li a1, MIP_VS_ALL
    csrw hideleg, a1
    csrw hie, a1
    csrw vsie, zero

    /* ---- each VS interrupt injected by hvip, taken in VS with the S code ---- */
    li s1, MIP_SSIP|MIP_STIP|MIP_SEIP
    csrw vsie, s1
    csrwi hvip, MIP_VSSIP
    H_TRAP_IN(1, VS, csrsi sstatus, MSTATUS_SIE; SPIN_WAIT)
    CHECK_IRQ_REC H_VS, IRQ_S_SOFT
    /* vsstatus: SPP = S, SPIE = 1, SIE = 0 */
    H_CHECK_BITS R_STATUS, MSTATUS_SPP|MSTATUS_SPIE|MSTATUS_SIE, MSTATUS_SPP|MSTATUS_SPIE
    csrw vsstatus, zero
    li a1, MIP_VSTIP
    csrw hvip, a1
    H_TRAP_IN(2, VS, csrsi sstatus, MSTATUS_SIE; SPIN_WAIT)
    CHECK_IRQ_REC H_VS, IRQ_S_TIMER
    csrw vsstatus, zero
    li a1, MIP_VSEIP
    csrw hvip, a1
    H_TRAP_IN(3, VS, csrsi sstatus, MSTATUS_SIE; SPIN_WAIT)
    CHECK_IRQ_REC H_VS, IRQ_S_EXT
    csrw vsstatus, zero
    /* vsstatus.SIE = 0 in VS: not taken */
    H_CASE_IN(4, VS, 0, SPIN_NONE; li a0, 0)
    /* VU takes them whatever vsstatus.SIE is; SPP = U */
    H_TRAP_IN(5, VU, SPIN_WAIT)
    CHECK_IRQ_REC H_VS, IRQ_S_EXT
    H_CHECK_BITS R_STATUS, MSTATUS_SPP, 0
    csrw vsstatus, zero
    /* vsie disables each one */
    csrw vsie, zero
    H_CASE_IN(6, VU, 0, SPIN_NONE; li a0, 0)
    csrw vsie, s1
    /* V = 0: delegated VS interrupts are never taken in HS or HU */
    csrsi sstatus, MSTATUS_SIE
    H_CASE_IN(7, HS, 0, SPIN_NONE; li a0, 0)
    H_CASE_IN(8, HU, 0, SPIN_NONE; li a0, 0)
    csrci sstatus, MSTATUS_SIE
    csrw hvip, zero

    /* ---- priorities: VSEI > VSSI > VSTI; HS-level interrupts first ---- */
    li a1, MIP_VS_ALL
    csrw hvip, a1
    H_TRAP_IN(10, VU, SPIN_WAIT)
    CHECK_IRQ_REC H_VS, IRQ_S_EXT
    li a1, MIP_VSSIP|MIP_VSTIP
    csrw hvip, a1
    H_TRAP_IN(11, VU, SPIN_WAIT)
    CHECK_IRQ_REC H_VS, IRQ_S_SOFT
    li a1, MIP_SSIP
    csrw mideleg, a1
    csrs mie, a1
    csrs mip, a1
    H_TRAP_IN(12, VU, SPIN_WAIT)
    CHECK_IRQ_REC H_HS, IRQ_S_SOFT
    H_CHECK_HS_STACK PRV_U, 0
    li a1, MIP_SSIP
    csrc mip, a1
    csrc mie, a1
    csrw mideleg, zero
    csrw hvip, zero
    csrw vsstatus, zero

    /* ---- not delegated by hideleg: HS takes them with the VS codes 2/6/10 ---- */
    csrw hideleg, zero
    csrw sstatus, zero
    li a1, MIP_VSTIP
    csrw hvip, a1
    H_TRAP_IN(20, VS, SPIN_WAIT)
    CHECK_IRQ_REC H_HS, IRQ_VS_TIMER
    H_CHECK_HS_STACK PRV_S, 0
    csrwi hvip, MIP_VSSIP
    H_TRAP_IN(21, VU, SPIN_WAIT)
    CHECK_IRQ_REC H_HS, IRQ_VS_SOFT
    H_CHECK_HS_STACK PRV_U, 0
    /* in HS they need sstatus.SIE */
    H_CASE_IN(22, HS, 0, SPIN_NONE; li a0, 0)
    H_TRAP_IN(23, HS, csrsi sstatus, MSTATUS_SIE; SPIN_WAIT)
    CHECK_IRQ_REC H_HS, IRQ_VS_SOFT
    H_CHECK_BITS R_STATUS, HSTATUS_SPV, 0
    li a1, MIP_VSEIP
    csrw hvip, a1
    H_TRAP_IN(24, HU, SPIN_WAIT)
    CHECK_IRQ_REC H_HS, IRQ_VS_EXT
    /* hie.VSEIE = 0 masks it */
    li a1, MIP_VSEIP
    csrc hie, a1
    H_CASE_IN(25, VS, 0, SPIN_NONE; li a0, 0)
    csrw hvip, zero
    li a1, MIP_VS_ALL
    csrw hie, a1
    csrw hideleg, a1
    csrw sstatus, zero

    /* ---- the guest sets its own software interrupt through sip.SSIP ---- */
    H_TRAP_IN(30, VS, csrsi sstatus, MSTATUS_SIE; csrsi sip, MIP_SSIP; SPIN_WAIT)
    CHECK_IRQ_REC H_VS, IRQ_S_SOFT
    TEST_CASE(31, MIP_VSSIP, csrr a0, hvip)
    csrw hvip, zero
    csrw vsstatus, zero

    /* ---- WFI in VS (VTW = 0) completes on a pending VS interrupt, then it is taken ---- */
    csrwi hvip, MIP_VSSIP
    li gp, 32
    H_ARM 2f
    H_GOTO_VS 1f
1:  wfi
    li s2, 1
    csrsi sstatus, MSTATUS_SIE
    SPIN_WAIT
    H_ESCAPE
2:  CHECK_IRQ_REC H_VS, IRQ_S_SOFT
    CHECK_EQ s2, 1
    csrw hvip, zero
    csrw vsstatus, zero

    /* ---- vstimecmp (henvcfg.STCE = 1): VSTIP follows time + htimedelta >= vstimecmp ---- */
    li a1, MENVCFG_STCE
    csrw menvcfg, a1
    csrw henvcfg, a1
    csrw vstimecmp, zero
    li gp, 40
    WAIT_CSR hip, MIP_VSTIP, MIP_VSTIP
    TEST_CASE(41, 0, csrr a0, hvip)
    li a1, -1
    csrw vstimecmp, a1
    li gp, 42
    WAIT_CSR hip, MIP_VSTIP, 0
    /* htimedelta moves the guest's time past vstimecmp */
    rdtime a1
    li a2, 0x10000000000
    add a1, a1, a2
    csrw vstimecmp, a1
    li gp, 43
    SPIN 1000
    WAIT_CSR hip, MIP_VSTIP, 0
    li a2, 0x20000000000
    csrw htimedelta, a2
    li gp, 44
    WAIT_CSR hip, MIP_VSTIP, MIP_VSTIP
    /* taken in VS as a supervisor timer interrupt; the guest clears it with stimecmp */
    H_TRAP_IN(45, VS, csrsi sstatus, MSTATUS_SIE; SPIN_WAIT)
    CHECK_IRQ_REC H_VS, IRQ_S_TIMER
    csrw vsstatus, zero
    H_CASE_IN(46, VS, 0, li a1, -1; csrw stimecmp, a1; csrr a0, sip; andi a0, a0, MIP_STIP)
    csrw htimedelta, zero
    /* WFI in VS woken by vstimecmp */
    rdtime a1
    addi a1, a1, 200
    csrw vstimecmp, a1
    li gp, 47
    H_ARM 2f
    H_GOTO_VS 1f
1:  csrsi sstatus, MSTATUS_SIE
    wfi
    SPIN_WAIT
    H_ESCAPE
2:  CHECK_IRQ_REC H_VS, IRQ_S_TIMER
    li a1, -1
    csrw vstimecmp, a1
    csrw vsstatus, zero
    /* STCE = 0: vstimecmp no longer drives VSTIP; hvip.VSTIP alone does */
    csrw henvcfg, zero
    csrw vstimecmp, zero
    li gp, 48
    SPIN 1000
    WAIT_CSR hip, MIP_VSTIP, 0
    csrw menvcfg, zero

    csrw hideleg, zero
    csrw hie, zero
    csrw vsie, zero
TEST_END
    H_RUNTIME
