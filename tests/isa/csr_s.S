/*
 * Supervisor-level CSRs (privileged spec chapter 4, Sstc): sstatus as a restricted view
 * of mstatus, sie/sip as views of mie/mip filtered by mideleg, stvec modes, sepc,
 * scause, stval, sscratch, scounteren, senvcfg, satp (Bare and, if the hart has virtual
 * memory, Sv39) and stimecmp with its menvcfg.STCE gate.
 */
#include "hvtest.h"

#define SSTATUS_W   (MSTATUS_SIE|MSTATUS_SPIE|MSTATUS_SPP|MSTATUS_FS)
#define SSTATUS_VM  (MSTATUS_SUM|MSTATUS_MXR)
#define M_ONLY      (MSTATUS_MIE|MSTATUS_MPIE|MSTATUS_MPP|MSTATUS_MPRV|MSTATUS_TW|MSTATUS_TSR)

TEST_BEGIN
    csrr s0, mstatus
    /* ---- sstatus: writes reach only the S fields of mstatus ---- */
    TEST_CASE(1, 0, csrw mstatus, zero; li a1, -1; csrw sstatus, a1; csrr a0, mstatus; li a2, M_ONLY|MSTATUS_TVM; and a0, a0, a2)
    TEST_CASE(2, SSTATUS_W, csrr a0, mstatus; li a2, SSTATUS_W; and a0, a0, a2)
    /* sstatus reads the S fields of mstatus, never the M fields */
    TEST_CASE(3, 0, li a1, M_ONLY; csrw mstatus, a1; csrr a0, sstatus; li a2, M_ONLY; and a0, a0, a2)
    TEST_CASE(4, MSTATUS_SPP|MSTATUS_SPIE, li a1, MSTATUS_SPP|MSTATUS_SPIE|MSTATUS_MPIE; csrw mstatus, a1; csrr a0, sstatus; li a2, SSTATUS_W; and a0, a0, a2)
    /* UXL reads 2 through sstatus; SXL is not visible */
    TEST_CASE(5, (2<<32), csrr a0, sstatus; li a2, MSTATUS_UXL|MSTATUS_SXL; and a0, a0, a2)
    /* clearing through sstatus clears mstatus */
    TEST_CASE(6, 0, li a1, MSTATUS_SIE|MSTATUS_SPP; csrw mstatus, a1; csrc sstatus, a1; csrr a0, mstatus; and a0, a0, a1)
    csrw mstatus, s0

    /* ---- sie / sip: only delegated interrupts are visible ---- */
    csrw mideleg, zero
    csrw mie, zero
    csrw menvcfg, zero
    TEST_CASE(10, 0, li a1, -1; csrw sie, a1; csrr a0, sie)
    TEST_CASE(11, 0, csrr a0, mie)
    TEST_CASE(12, MIP_SSIP|MIP_STIP|MIP_SEIP, li a1, -1; csrw mideleg, a1; csrw sie, a1; csrr a0, sie)
    TEST_CASE(13, MIP_SSIP|MIP_STIP|MIP_SEIP, csrr a0, mie)
    TEST_CASE(14, MIP_STIP, csrw sie, zero; li a1, MIP_STIP; csrw mideleg, a1; li a1, -1; csrw sie, a1; csrr a0, mie)
    csrw mie, zero
    /* sip: SSIP is the only bit S-mode can write; it reaches mip */
    TEST_CASE(15, MIP_SSIP, li a1, MIP_SSIP; csrw mideleg, a1; csrsi sip, MIP_SSIP; csrr a0, mip; andi a0, a0, MIP_SSIP)
    TEST_CASE(16, MIP_SSIP, csrr a0, sip)
    TEST_CASE(17, 0, csrci sip, MIP_SSIP; csrr a0, mip; andi a0, a0, MIP_SSIP)
    /* a pending but undelegated interrupt is invisible in sip */
    TEST_CASE(18, 0, csrw mideleg, zero; csrsi mip, MIP_SSIP; csrr a0, sip; csrci mip, MIP_SSIP)
    /* sip.STIP and sip.SEIP are read-only for S-mode */
    TEST_CASE(19, 0, li a1, -1; csrw mideleg, a1; li a1, MIP_STIP|MIP_SEIP; csrs sip, a1; csrr a0, mip; and a0, a0, a1)
    csrw mideleg, zero

    /* ---- stvec: direct and vectored, modes 2 and 3 legalized ---- */
    csrr s0, stvec
    TEST_CASE(20, 0x80004000, li a1, 0x80004000; csrw stvec, a1; csrr a0, stvec)
    TEST_CASE(21, 0x80004001, li a1, 0x80004001; csrw stvec, a1; csrr a0, stvec)
    TEST_CASE(22, 0x80004000, li a1, 0x80004002; csrw stvec, a1; csrr a0, stvec)
    TEST_CASE(23, 0x80004001, li a1, 0x80004003; csrw stvec, a1; csrr a0, stvec)
    csrw stvec, s0
    /* ---- sepc bit 0, scause, stval, sscratch ---- */
    TEST_CASE(24, 0x80000006, li a1, 0x80000007; csrw sepc, a1; csrr a0, sepc)
    TEST_CASE(25, (1<<63)|5, li a1, (1<<63)|5; csrw scause, a1; csrr a0, scause)
    TEST_CASE(26, 13, li a1, 13; csrw scause, a1; csrr a0, scause)
    TEST_CASE(27, 0xfedcba9876543210, li a1, 0xfedcba9876543210; csrw stval, a1; csrr a0, stval)
    csrr s0, sscratch
    TEST_CASE(28, 0x1111222233334444, li a1, 0x1111222233334444; csrw sscratch, a1; csrr a0, sscratch)
    csrw sscratch, s0
    /* ---- scounteren: CY, TM, IR ---- */
    TEST_CASE(29, 7, li a1, -1; csrw scounteren, a1; csrr a0, scounteren)
    TEST_CASE(30, 0, csrw scounteren, zero; csrr a0, scounteren)
    /* ---- senvcfg: no implemented fields (no Zicbo*, no FIOM) ---- */
    TEST_CASE(31, 0, li a1, -1; csrw senvcfg, a1; csrr a0, senvcfg)

    /* ---- satp: Bare always; a reserved MODE leaves satp unchanged ---- */
    TEST_CASE(32, 0, csrw satp, zero; csrr a0, satp)
    TEST_CASE(33, 0, li a1, (15<<60)|0x1234; csrw satp, a1; csrr a0, satp)
    /* With virtual memory (TVM writable), Sv39 (8) holds its ASID and PPN fields */
    li a1, MSTATUS_TVM
    csrs mstatus, a1
    csrr a2, mstatus
    csrc mstatus, a1
    and a2, a2, a1
    beqz a2, 1f
    TEST_CASE(34, 8, li a1, (8<<60)|0x80000; csrw satp, a1; csrr a0, satp; srli a0, a0, 60)
    TEST_CASE(35, 0x80000, csrr a0, satp; slli a0, a0, 20; srli a0, a0, 20)
    csrw satp, zero
1:

    /* ---- stimecmp (Sstc): M-mode access always; S-mode access only with STCE ---- */
    TEST_CASE(40, 0x123456789, li a1, 0x123456789; csrw stimecmp, a1; csrr a0, stimecmp)
    li a1, -1
    csrw stimecmp, a1
    li a1, COUNTER_TM
    csrw mcounteren, a1
    csrw menvcfg, zero
    GOTO_S 2f
2:  TEST_ILLEGAL(41, csrr a0, stimecmp)
    TEST_ILLEGAL(42, csrw stimecmp, a1)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    li a1, MENVCFG_STCE
    csrw menvcfg, a1
    GOTO_S 3f
3:  TEST_CASE(43, 0x55aa, li a1, 0x55aa; csrw stimecmp, a1; csrr a0, stimecmp)
    li a1, -1
    csrw stimecmp, a1
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    /* With STCE, S-mode also needs mcounteren.TM */
    csrw mcounteren, zero
    GOTO_S 4f
4:  TEST_ILLEGAL(44, csrr a0, stimecmp)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    /* With STCE, mip.STIP is no longer writable: it follows time >= stimecmp */
    TEST_CASE(45, 0, li a1, -1; csrw stimecmp, a1; li a1, MIP_STIP; csrs mip, a1; csrr a0, mip; and a0, a0, a1)
    csrw menvcfg, zero
    TEST_CASE(46, MIP_STIP, li a1, MIP_STIP; csrs mip, a1; csrr a0, mip; and a0, a0, a1; csrc mip, a1)
TEST_END
