/*
 * Virtualization modes VS and VU (privileged spec, chapter "Hypervisor Extension":
 * 8.1 privilege modes, 8.2.1 hstatus.SPV/SPVP/GVA, 8.2.2 hedeleg, 8.2.13 the VS CSRs
 * replacing the S CSRs when V = 1, 8.4.1 mstatus.MPV/GVA, 8.6.1-8.6.4 trap cause codes,
 * entry and the trap return instructions MRET/SRET with MPV/SPV).
 * Entering VS/VU with mret (MPV = 1) and sret (hstatus.SPV = 1, SPP); the substitution of
 * sstatus/sie/sip/stvec/sscratch/sepc/scause/stval/satp/stimecmp by their VS copies;
 * traps from VS/VU to M, to HS (medeleg) and to VS (medeleg and hedeleg) with the status
 * stacks they write; ecall from VS = 10 and from VU = 8.
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

#define BAD_ADDR 0x20000000

TEST_BEGIN
    H_INIT
    /* ---- mret with MPV = 1 enters V; mret clears MPV; MPP = M ignores MPV ---- */
    li a1, 0x11
    csrw sscratch, a1
    li a1, 0x22
    csrw vsscratch, a1
    H_CASE_IN(1, VS, 0x22, csrr a0, sscratch)
    H_CASE_IN(2, HS, 0x11, csrr a0, sscratch)
    li gp, 3
    li a1, MSTATUS_MPV|MSTATUS_MPP
    csrs mstatus, a1
    la a1, 1f
    csrw mepc, a1
    mret
1:  csrr a0, mstatus
    li a1, MSTATUS_MPV
    and a0, a0, a1
    CHECK_EQ a0, 0
    /* and the hart is still in M (reading mstatus did not trap), V = 0: sscratch is HS's */
    TEST_CASE(4, 0x11, csrr a0, sscratch)

    /* ---- the VS CSRs replace the S CSRs in VS ---- */
    li a1, MSTATUS_SPP|MSTATUS_SUM
    csrw vsstatus, a1
    H_CASE_IN(5, VS, MSTATUS_SPP|MSTATUS_SUM, csrr a0, sstatus; li a1, MSTATUS_SPP|MSTATUS_SUM|MSTATUS_SIE; and a0, a0, a1)
    H_CASE_IN(6, VS, 0, li a1, MSTATUS_MXR; csrs sstatus, a1; li a0, 0)
    TEST_CASE(7, MSTATUS_MXR|MSTATUS_SUM, csrr a0, vsstatus; li a1, MSTATUS_MXR|MSTATUS_SUM; and a0, a0, a1)
    TEST_CASE(8, 0, csrr a0, mstatus; li a1, MSTATUS_MXR|MSTATUS_SUM; and a0, a0, a1)
    csrw vsstatus, zero
    /* stvec, sscratch, sepc, scause, stval */
    csrw sepc, zero
    csrw scause, zero
    csrw stval, zero
    H_CASE_IN(9, VS, 0, li a1, 0x80001000; csrw stvec, a1; li a1, 0x33; csrw sscratch, a1; li a1, 0x80002002; csrw sepc, a1; li a1, 0x7; csrw scause, a1; li a1, 0x44; csrw stval, a1; li a0, 0)
    TEST_CASE(10, 0x80001000, csrr a0, vstvec)
    TEST_CASE(11, 0x33, csrr a0, vsscratch)
    TEST_CASE(12, 0x80002002, csrr a0, vsepc)
    TEST_CASE(13, 0x7, csrr a0, vscause)
    TEST_CASE(14, 0x44, csrr a0, vstval)
    TEST_CASE(15, 1, csrr a0, stvec; la a1, h_strap; sub a0, a0, a1; seqz a0, a0)
    TEST_CASE(16, 0x11, csrr a0, sscratch)
    TEST_CASE(17, 0, csrr a0, sepc; csrr a1, scause; or a0, a0, a1; csrr a1, stval; or a0, a0, a1)
    la a1, h_vstrap
    csrw vstvec, a1
    /* satp reads and writes vsatp (VS-stage Sv39, identity map of RAM) */
    li t6, RAM_BASE
    PTE_SET vs_root, VPN2(RAM_BASE), t6, PTE_LEAF
    VSATP_SET vs_root
    csrr s1, vsatp
    H_CASE_IN(18, VS, 0, csrr a0, satp; sub a0, a0, s1)
    li s2, 1<<SATP_ASID_SHIFT
    or s2, s2, s1
    H_CASE_IN(19, VS, 0, csrw satp, s2; li a0, 0)
    TEST_CASE(20, 0, csrr a0, vsatp; sub a0, a0, s2)
    TEST_CASE(21, 0, csrr a0, satp)
    csrw vsatp, zero
    hfence.vvma
    /* sip / sie are vsip / vsie: delegated VS bits shifted down to the S positions */
    li a1, MIP_VS_ALL
    csrw hideleg, a1
    csrsi hvip, MIP_VSSIP
    H_CASE_IN(22, VS, MIP_SSIP, csrr a0, sip)
    H_CASE_IN(23, VS, 0, li a1, MIP_STIP; csrs sie, a1; li a0, 0)
    TEST_CASE(24, MIP_VSTIP, csrr a0, mie)
    H_CASE_IN(25, VS, 0, csrci sip, MIP_SSIP; csrr a0, sip)
    TEST_CASE(26, 0, csrr a0, hvip)
    csrw mie, zero
    csrw hideleg, zero
    /* stimecmp is vstimecmp (menvcfg.STCE = henvcfg.STCE = 1) */
    li a1, MENVCFG_STCE
    csrw menvcfg, a1
    csrw henvcfg, a1
    li a1, -1
    csrw stimecmp, a1
    csrw vstimecmp, a1
    li s1, 0x7fff000000000000
    H_CASE_IN(27, VS, 0, csrw stimecmp, s1; li a0, 0)
    TEST_CASE(28, 0x7fff000000000000, csrr a0, vstimecmp)
    TEST_CASE(29, -1, csrr a0, stimecmp)
    csrw vstimecmp, a1
    csrw henvcfg, zero
    csrw menvcfg, zero

    /* ---- traps from VS/VU to M (nothing delegated) ---- */
    H_TRAP_IN(30, VS, ebreak)
    H_CHECK_TRAP H_M, CAUSE_BREAKPOINT
    H_CHECK_EPC_AT 8893b
    H_CHECK_REG R_TVAL, t4
    H_CHECK R_TVAL2, 0
    /* Spike: a breakpoint writes the (guest virtual) pc to mtval and sets GVA */
    H_CHECK_M_STACK PRV_S, 1, 1
    H_TRAP_IN(31, VS, ecall)
    H_CHECK_TRAP H_M, CAUSE_VS_ECALL
    H_CHECK_EPC_AT 8893b
    H_CHECK R_TVAL, 0
    H_CHECK_M_STACK PRV_S, 1, 0
    H_TRAP_IN(32, VU, ecall)
    H_CHECK_TRAP H_M, CAUSE_USER_ECALL
    H_CHECK_M_STACK PRV_U, 1, 0
    H_TRAP_IN(33, VS, csrr a0, mstatus)
    H_CHECK_TRAP H_M, CAUSE_ILLEGAL_INSTRUCTION
    H_CHECK_TVAL_INSN 8893b
    H_CHECK_M_STACK PRV_S, 1, 0
    li s1, RAM_BASE+0x1001
    H_TRAP_IN(34, VS, ld a0, 0(s1))
    H_CHECK_TRAP H_M, CAUSE_MISALIGNED_LOAD
    H_CHECK_REG R_TVAL, s1
    H_CHECK R_TVAL2, 0
    H_CHECK_M_STACK PRV_S, 1, 1
    li s1, BAD_ADDR
    H_TRAP_IN(35, VU, sw a0, 0(s1))
    H_CHECK_TRAP H_M, CAUSE_STORE_ACCESS
    H_CHECK_REG R_TVAL, s1
    H_CHECK R_TVAL2, 0
    H_CHECK_M_STACK PRV_U, 1, 1
    /* a trap from M: MPV = 0, GVA = 0 */
    li a1, MSTATUS_MPV|MSTATUS_GVA
    csrs mstatus, a1
    H_TRAP_HERE(36, ebreak)
    H_CHECK_TRAP H_M, CAUSE_BREAKPOINT
    H_CHECK_M_STACK PRV_M, 0, 0
    /* a trap from HS: MPV = 0 */
    H_TRAP_IN(37, HS, ecall)
    H_CHECK_TRAP H_M, CAUSE_SUPERVISOR_ECALL
    H_CHECK_M_STACK PRV_S, 0, 0

    /* ---- traps from VS/VU to HS (medeleg), hedeleg = 0 ---- */
    li a1, (1<<CAUSE_BREAKPOINT)|(1<<CAUSE_VS_ECALL)|(1<<CAUSE_USER_ECALL)|(1<<CAUSE_ILLEGAL_INSTRUCTION)|(1<<CAUSE_MISALIGNED_STORE)|(1<<CAUSE_LOAD_ACCESS)
    csrw medeleg, a1
    csrw hstatus, zero
    H_TRAP_IN(40, VS, ebreak)
    H_CHECK_TRAP H_HS, CAUSE_BREAKPOINT
    H_CHECK_EPC_AT 8893b
    H_CHECK_REG R_TVAL, t4
    H_CHECK R_TVAL2, 0
    H_CHECK_HS_STACK PRV_S, 1
    H_TRAP_IN(41, VS, ecall)
    H_CHECK_TRAP H_HS, CAUSE_VS_ECALL
    H_CHECK_EPC_AT 8893b
    H_CHECK R_TVAL, 0
    H_CHECK_HS_STACK PRV_S, 0
    H_TRAP_IN(42, VU, ecall)
    H_CHECK_TRAP H_HS, CAUSE_USER_ECALL
    H_CHECK_HS_STACK PRV_U, 0
    H_TRAP_IN(43, VU, csrr a0, mstatus)
    H_CHECK_TRAP H_HS, CAUSE_ILLEGAL_INSTRUCTION
    H_CHECK_TVAL_INSN 8893b
    H_CHECK_HS_STACK PRV_U, 0
    li s1, RAM_BASE+0x2002
    H_TRAP_IN(44, VU, sw a0, 0(s1))
    H_CHECK_TRAP H_HS, CAUSE_MISALIGNED_STORE
    H_CHECK_REG R_TVAL, s1
    H_CHECK R_TVAL2, 0
    H_CHECK_HS_STACK PRV_U, 1
    li s1, BAD_ADDR
    H_TRAP_IN(45, VS, lw a0, 0(s1))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_ACCESS
    H_CHECK_REG R_TVAL, s1
    H_CHECK_HS_STACK PRV_S, 1
    /* a trap from U with V = 0: SPV = 0, SPVP keeps its value, GVA = 0 */
    li a1, HSTATUS_SPVP|HSTATUS_SPV|HSTATUS_GVA
    csrw hstatus, a1
    H_TRAP_IN(46, HU, ecall)
    H_CHECK_TRAP H_HS, CAUSE_USER_ECALL
    H_CHECK_BITS R_STATUS, HSTATUS_SPV|HSTATUS_SPVP|HSTATUS_GVA, HSTATUS_SPVP
    H_CHECK_BITS R_STATUS2, MSTATUS_SPP, 0
    /* a trap from HS: SPV = 0, SPP = S; SPVP unchanged */
    csrw hstatus, zero
    H_TRAP_IN(47, HS, ebreak)
    H_CHECK_TRAP H_HS, CAUSE_BREAKPOINT
    H_CHECK_BITS R_STATUS, HSTATUS_SPV|HSTATUS_SPVP|HSTATUS_GVA, 0
    H_CHECK_BITS R_STATUS2, MSTATUS_SPP, MSTATUS_SPP
    /* a VU trap after a VS one writes SPVP = 0 */
    li a1, HSTATUS_SPVP
    csrw hstatus, a1
    H_TRAP_IN(48, VU, ebreak)
    H_CHECK_TRAP H_HS, CAUSE_BREAKPOINT
    H_CHECK_HS_STACK PRV_U, 1

    /* ---- delegation to VS: medeleg and hedeleg both set ---- */
    li a1, (1<<CAUSE_BREAKPOINT)|(1<<CAUSE_USER_ECALL)|(1<<CAUSE_ILLEGAL_INSTRUCTION)|(1<<CAUSE_LOAD_ACCESS)
    csrw hedeleg, a1
    csrw medeleg, a1
    li a1, 0x5a
    csrw scause, a1
    csrw hstatus, zero
    li a1, MSTATUS_SIE
    csrw vsstatus, a1
    H_TRAP_IN(50, VS, ebreak)
    H_CHECK_TRAP H_VS, CAUSE_BREAKPOINT
    H_CHECK_EPC_AT 8893b
    H_CHECK_REG R_TVAL, t4
    /* vsstatus: SPP = S, SPIE = old SIE, SIE = 0 */
    H_CHECK_BITS R_STATUS, MSTATUS_SPP|MSTATUS_SPIE|MSTATUS_SIE, MSTATUS_SPP|MSTATUS_SPIE
    /* the HS state is untouched */
    TEST_CASE(51, 0x5a, csrr a0, scause)
    TEST_CASE(52, 0, csrr a0, hstatus; li a1, HSTATUS_SPV|HSTATUS_SPVP|HSTATUS_GVA; and a0, a0, a1)
    TEST_CASE(53, CAUSE_BREAKPOINT, csrr a0, vscause)
    csrw vsstatus, zero
    H_TRAP_IN(54, VU, ecall)
    H_CHECK_TRAP H_VS, CAUSE_USER_ECALL
    H_CHECK_EPC_AT 8893b
    H_CHECK R_TVAL, 0
    H_CHECK_BITS R_STATUS, MSTATUS_SPP, 0
    H_TRAP_IN(55, VU, csrr a0, mstatus)
    H_CHECK_TRAP H_VS, CAUSE_ILLEGAL_INSTRUCTION
    H_CHECK_TVAL_INSN 8893b
    li s1, BAD_ADDR
    H_TRAP_IN(56, VS, lb a0, 0(s1))
    H_CHECK_TRAP H_VS, CAUSE_LOAD_ACCESS
    H_CHECK_REG R_TVAL, s1
    /* ecall from VS (10) cannot be delegated to VS: it goes to HS (medeleg[10]) */
    li a1, 1<<CAUSE_VS_ECALL
    csrs medeleg, a1
    H_TRAP_IN(57, VS, ecall)
    H_CHECK_TRAP H_HS, CAUSE_VS_ECALL
    /* hedeleg without medeleg: M takes the trap */
    li s1, (1<<CAUSE_BREAKPOINT)
    csrc medeleg, s1
    H_TRAP_IN(58, VS, ebreak)
    H_CHECK_TRAP H_M, CAUSE_BREAKPOINT
    csrs medeleg, s1
    /* hedeleg applies only to traps from V = 1: HS and HU traps go to HS */
    H_TRAP_IN(59, HS, ebreak)
    H_CHECK_TRAP H_HS, CAUSE_BREAKPOINT
    H_CHECK_BITS R_STATUS, HSTATUS_SPV, 0
    H_TRAP_IN(60, HU, ecall)
    H_CHECK_TRAP H_HS, CAUSE_USER_ECALL
    csrw hedeleg, zero
    csrw medeleg, zero

    /* ---- sret from HS with hstatus.SPV enters VS / VU and clears SPV ---- */
    li gp, 61
    H_ARM 3f
    H_GOTO_HS 1f
1:  H_SRET_TO 2f, PRV_S, 1
2:  csrr a0, sscratch
    H_ESCAPE
3:  H_CHECK_COUNT 0
    CHECK_EQ a0, 0x33
    TEST_CASE(62, 0, csrr a0, hstatus; andi a0, a0, HSTATUS_SPV)
    li gp, 63
    H_ARM 3f
    H_GOTO_HS 1f
1:  H_SRET_TO 2f, PRV_U, 1
2:  ecall
    H_ESCAPE
3:  H_CHECK_TRAP H_M, CAUSE_USER_ECALL
    H_CHECK_M_STACK PRV_U, 1, 0
    /* sret with SPV = 0 stays non-virtual */
    li gp, 64
    H_ARM 3f
    H_GOTO_HS 1f
1:  H_SRET_TO 2f, PRV_U, 0
2:  ecall
    H_ESCAPE
3:  H_CHECK_TRAP H_M, CAUSE_USER_ECALL
    H_CHECK_M_STACK PRV_U, 0, 0

    /* ---- sret in VS uses vsstatus/vsepc: to VU (SPP = 0) or to VS (SPP = 1) ---- */
    csrw vsstatus, zero
    li gp, 65
    H_ARM 3f
    H_GOTO_VS 1f
1:  H_VS_SRET_TO_VU 2f
2:  ecall
    H_ESCAPE
3:  H_CHECK_TRAP H_M, CAUSE_USER_ECALL
    H_CHECK_M_STACK PRV_U, 1, 0
    li a1, MSTATUS_SPP|MSTATUS_SPIE
    csrw vsstatus, a1
    la a1, 2f
    csrw vsepc, a1
    li gp, 66
    H_ARM 3f
    H_GOTO_VS 1f
1:  sret
2:  ecall
    H_ESCAPE
3:  H_CHECK_TRAP H_M, CAUSE_VS_ECALL
    H_CHECK_M_STACK PRV_S, 1, 0
    /* the VS sret set vsstatus.SIE from SPIE and cleared SPP; hstatus is untouched */
    TEST_CASE(67, MSTATUS_SIE|MSTATUS_SPIE, csrr a0, vsstatus; li a1, MSTATUS_SIE|MSTATUS_SPIE|MSTATUS_SPP; and a0, a0, a1)
    csrw vsstatus, zero
TEST_END
    H_RUNTIME

    .data
    .balign 4096
vs_root: .zero 4096
