/*
 * The virtual-instruction exception (privileged spec, chapter "Hypervisor Extension",
 * 8.6.1 and the list of cases in 8.2.1 hstatus VTSR/VTW/VTVM, 8.2.8 hcounteren, 8.3
 * hypervisor instructions, Sstc vstimecmp): every listed case raises cause 22 with
 * stval = the instruction bits, taken by HS (medeleg[22]) or M, never by VS; the
 * neighbouring cases that raise illegal instruction (2) instead: M CSRs, writes to
 * read-only CSRs, counters disabled by mcounteren, mstatus.TW/TSR/TVM in HS and HU,
 * hypervisor instructions in HU, and the time CSR with htimedelta.
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

/* Case n: insn in mode raises cause 22 in HS, stval = its bits, SPV = 1, SPVP = prv. */
#define VIRT(n, mode, prv, ...) \
    H_TRAP_IN(n, mode, .option push; .option norvc; __VA_ARGS__; .option pop); CHECK_22_HS prv
/* Case n: insn in mode raises illegal instruction in HS, stval = its bits. */
#define ILL(n, mode, ...) \
    H_TRAP_IN(n, mode, .option push; .option norvc; __VA_ARGS__; .option pop); CHECK_2_HS

.macro CHECK_22_HS prv
    H_CHECK_TRAP H_HS, CAUSE_VIRTUAL_INSTRUCTION
    H_CHECK_EPC_AT 8893b
    H_CHECK_TVAL_INSN 8893b
    H_CHECK R_TVAL2, 0
    H_CHECK_HS_STACK \prv, 0
.endm
.macro CHECK_2_HS
    H_CHECK_TRAP H_HS, CAUSE_ILLEGAL_INSTRUCTION
    H_CHECK_EPC_AT 8893b
    H_CHECK_TVAL_INSN 8893b
.endm

TEST_BEGIN
    H_INIT
    li a1, (1<<CAUSE_VIRTUAL_INSTRUCTION)|(1<<CAUSE_ILLEGAL_INSTRUCTION)
    csrw medeleg, a1
    /* cause 22 cannot be delegated to VS: hedeleg[22] is read-only 0 */
    li a1, -1
    csrw hedeleg, a1
    li a1, (1<<CAUSE_ILLEGAL_INSTRUCTION)
    csrc hedeleg, a1
    li s1, RAM_BASE

    /* ---- VS/VU access to hypervisor and VS CSRs ---- */
    VIRT(1, VS, PRV_S, csrr a0, hstatus)
    VIRT(2, VS, PRV_S, csrw hgatp, zero)
    VIRT(3, VS, PRV_S, csrr a0, hvip)
    VIRT(4, VS, PRV_S, csrr a0, htimedelta)
    VIRT(5, VS, PRV_S, csrr a0, vsstatus)
    VIRT(6, VS, PRV_S, csrw vsatp, zero)
    VIRT(7, VS, PRV_S, csrr a0, henvcfg)
    VIRT(8, VS, PRV_S, csrr a0, hgeip)
    VIRT(9, VU, PRV_U, csrr a0, hstatus)
    VIRT(10, VU, PRV_U, csrr a0, vsscratch)
    /* VU access to supervisor CSRs */
    VIRT(11, VU, PRV_U, csrr a0, sstatus)
    VIRT(12, VU, PRV_U, csrw sscratch, zero)
    VIRT(13, VU, PRV_U, csrr a0, satp)
    VIRT(14, VU, PRV_U, csrr a0, sip)
    /* M CSRs and writes to read-only CSRs are illegal, not virtual */
    ILL(15, VS, csrr a0, mstatus)
    ILL(16, VS, csrr a0, mtval2)
    ILL(17, VU, csrr a0, mscratch)
    ILL(18, VS, csrw hgeip, zero)
    ILL(19, VU, csrw cycle, zero)
    /* mstatus.TVM does not apply in V mode: hgatp is still virtual, satp is allowed */
    li s2, MSTATUS_TVM
    csrs mstatus, s2
    VIRT(20, VS, PRV_S, csrr a0, hgatp)
    H_CASE_IN(21, VS, 0, csrr a0, satp)
    csrc mstatus, s2

    /* ---- hypervisor instructions in VS and VU ---- */
    VIRT(22, VS, PRV_S, hlv.d a0, (s1))
    VIRT(23, VS, PRV_S, hlvx.wu a0, (s1))
    VIRT(24, VS, PRV_S, hsv.w zero, (s1))
    VIRT(25, VS, PRV_S, hfence.vvma)
    VIRT(26, VS, PRV_S, hfence.gvma)
    li a1, HSTATUS_HU
    csrw hstatus, a1
    VIRT(27, VU, PRV_U, hlv.bu a0, (s1))
    VIRT(28, VU, PRV_U, hsv.b zero, (s1))
    VIRT(29, VU, PRV_U, hfence.vvma)
    csrw hstatus, zero
    /* in HU they are illegal (hstatus.HU = 0; HFENCE always) */
    ILL(30, HU, hlv.b a0, (s1))
    ILL(31, HU, hfence.vvma)
    ILL(32, HU, hfence.gvma)
    /* HFENCE.GVMA in HS with mstatus.TVM = 1 is illegal, as is hgatp */
    csrs mstatus, s2
    ILL(33, HS, hfence.gvma)
    ILL(34, HS, csrr a0, hgatp)
    H_CASE_IN(35, HS, 0, hfence.vvma; li a0, 0)
    csrc mstatus, s2

    /* ---- supervisor instructions in VU: SRET, SFENCE.VMA, WFI (TW = 0) ---- */
    VIRT(40, VU, PRV_U, sret)
    VIRT(41, VU, PRV_U, sfence.vma)
    VIRT(42, VU, PRV_U, wfi)
    /* with mstatus.TW = 1, WFI is illegal in VU and VS */
    li s2, MSTATUS_TW
    csrs mstatus, s2
    ILL(43, VU, wfi)
    ILL(44, VS, wfi)
    csrc mstatus, s2
    /* MRET in V mode is illegal */
    ILL(45, VS, mret)

    /* ---- hstatus.VTSR, VTW, VTVM in VS ---- */
    li a1, HSTATUS_VTSR
    csrw hstatus, a1
    VIRT(50, VS, PRV_S, sret)
    li a1, HSTATUS_VTW
    csrw hstatus, a1
    VIRT(51, VS, PRV_S, wfi)
    li a1, HSTATUS_VTVM
    csrw hstatus, a1
    VIRT(52, VS, PRV_S, sfence.vma)
    VIRT(53, VS, PRV_S, csrr a0, satp)
    VIRT(54, VS, PRV_S, csrw satp, zero)
    /* VTVM does not affect HS: there satp and sfence.vma work */
    H_CASE_IN(55, HS, 0, sfence.vma; csrr a0, satp)
    /* VTSR/VTW/VTVM clear: SRET, SFENCE.VMA and satp work in VS */
    csrw hstatus, zero
    H_CASE_IN(56, VS, 0, sfence.vma; csrr a0, satp)
    /* mstatus.TSR and TVM do not apply in VS */
    li s2, MSTATUS_TSR|MSTATUS_TVM
    csrs mstatus, s2
    H_CASE_IN(57, VS, 0, sfence.vma; csrr a0, satp)
    li a1, MSTATUS_SPP
    csrw vsstatus, a1
    la a1, 1f
    csrw vsepc, a1
    H_CASE_IN(58, VS, 7, sret; 1: li a0, 7)
    csrc mstatus, s2
    csrw vsstatus, zero
    /* TSR = 1 makes SRET illegal in HS */
    li s2, MSTATUS_TSR
    csrs mstatus, s2
    ILL(59, HS, sret)
    csrc mstatus, s2

    /* ---- counters: mcounteren = 1 and hcounteren = 0 -> virtual; mcounteren = 0 -> illegal ---- */
    li a1, 7
    csrw mcounteren, a1
    csrw scounteren, a1
    csrw hcounteren, zero
    VIRT(60, VS, PRV_S, rdcycle a0)
    VIRT(61, VS, PRV_S, rdtime a0)
    VIRT(62, VS, PRV_S, rdinstret a0)
    VIRT(63, VU, PRV_U, rdtime a0)
    csrw mcounteren, zero
    ILL(64, VS, rdcycle a0)
    ILL(65, VU, rdtime a0)
    ILL(66, HS, rdinstret a0)
    /* hcounteren = 1, scounteren = 0: VU is virtual, VS allowed */
    li a1, 7
    csrw mcounteren, a1
    csrw hcounteren, a1
    csrw scounteren, zero
    VIRT(67, VU, PRV_U, rdcycle a0)
    H_CASE_IN(68, VS, 1, rdinstret a0; snez a0, a0)
    li a1, 7
    csrw scounteren, a1
    H_CASE_IN(69, VU, 1, rdcycle a0; snez a0, a0)
    /* only the disabled counter traps */
    li a1, COUNTER_TM
    csrw hcounteren, a1
    VIRT(70, VS, PRV_S, rdinstret a0)
    H_CASE_IN(71, VS, 1, rdtime a0; snez a0, a0)
    li a1, 7
    csrw hcounteren, a1

    /* ---- time in V mode = time + htimedelta ---- */
    li s2, 0x10000000000
    csrw htimedelta, s2
    rdtime s3
    H_CASE_IN(72, VS, 0, rdtime a0; sub a0, a0, s2; sub a0, a0, s3; srli a0, a0, 40)
    H_CASE_IN(73, HS, 0, rdtime a0; sub a0, a0, s3; srli a0, a0, 40)
    li s2, -0x10000000000
    csrw htimedelta, s2
    rdtime s3
    H_CASE_IN(74, VU, 0, rdtime a0; sub a0, a0, s2; sub a0, a0, s3; srli a0, a0, 40)
    csrw htimedelta, zero

    /* ---- stimecmp in V mode (Sstc) ---- */
    li a1, MENVCFG_STCE
    csrw menvcfg, a1
    csrw henvcfg, zero
    VIRT(80, VS, PRV_S, csrr a0, stimecmp)
    /* hcounteren.TM = 0 makes it virtual too; menvcfg.STCE = 0 makes it illegal */
    li a1, HENVCFG_STCE
    csrw henvcfg, a1
    li a1, COUNTER_TM
    csrc hcounteren, a1
    VIRT(81, VS, PRV_S, csrw stimecmp, zero)
    li a1, COUNTER_TM
    csrs hcounteren, a1
    VIRT(82, VU, PRV_U, csrr a0, stimecmp)
    li a1, -1
    csrw vstimecmp, a1
    H_CASE_IN(83, VS, -1, csrr a0, stimecmp)
    csrw menvcfg, zero
    ILL(84, VS, csrr a0, stimecmp)
    csrw henvcfg, zero

    /* ---- without medeleg[22] the exception goes to M: mtval = the bits, MPV = 1 ---- */
    li a1, 1<<CAUSE_VIRTUAL_INSTRUCTION
    csrc medeleg, a1
    H_TRAP_IN(90, VS, .option push; .option norvc; csrr a0, hstatus; .option pop)
    H_CHECK_TRAP H_M, CAUSE_VIRTUAL_INSTRUCTION
    H_CHECK_EPC_AT 8893b
    H_CHECK_TVAL_INSN 8893b
    H_CHECK R_TVAL2, 0
    H_CHECK_M_STACK PRV_S, 1, 0
    H_TRAP_IN(91, VU, .option push; .option norvc; wfi; .option pop)
    H_CHECK_TRAP H_M, CAUSE_VIRTUAL_INSTRUCTION
    H_CHECK_TVAL_INSN 8893b
    H_CHECK_M_STACK PRV_U, 1, 0
    csrw medeleg, zero
    csrw hedeleg, zero
TEST_END
    H_RUNTIME
