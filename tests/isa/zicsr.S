/*
 * Zicsr (unprivileged spec chapter 7, privileged spec 2.1): the six CSR instructions,
 * which forms write and which do not (rs1 = x0, uimm = 0), writes to read-only CSRs and
 * accesses to missing or more-privileged CSRs raise illegal instruction with
 * mtval = the instruction bits.
 */
#include "hvtest.h"

TEST_BEGIN
    csrr s0, mscratch                  /* the runtime's pointer: restored at the end */
    /* CSRRW: old value to rd, rs1 to the CSR */
    TEST_CASE(1, 0x1234, li a1, 0x1234; csrw mscratch, a1; li a2, 0x5678; csrrw a0, mscratch, a2)
    TEST_CASE(2, 0x5678, csrr a0, mscratch)
    /* CSRRS: set bits */
    TEST_CASE(3, 0x5678, li a1, 0x0001; csrrs a0, mscratch, a1)
    TEST_CASE(4, 0x5679, csrr a0, mscratch)
    /* CSRRC: clear bits */
    TEST_CASE(5, 0x5679, li a1, 0x5600; csrrc a0, mscratch, a1)
    TEST_CASE(6, 0x0079, csrr a0, mscratch)
    /* CSRRWI / CSRRSI / CSRRCI: 5-bit zero-extended immediate */
    TEST_CASE(7, 0x0079, csrrwi a0, mscratch, 31)
    TEST_CASE(8, 31, csrr a0, mscratch)
    TEST_CASE(9, 31, csrrci a0, mscratch, 0x15)
    TEST_CASE(10, 0x0a, csrr a0, mscratch)
    TEST_CASE(11, 0x0a, csrrsi a0, mscratch, 0x11)
    TEST_CASE(12, 0x1b, csrr a0, mscratch)
    /* All 64 bits are written */
    TEST_CASE(13, 0xfedcba9876543210, li a1, 0xfedcba9876543210; csrw mscratch, a1; csrr a0, mscratch)
    TEST_CASE(14, 0xfedcba9876543210, li a1, 0x8000000000000000; csrs mscratch, a1; csrr a0, mscratch)
    TEST_CASE(15, 0x7edcba9876543210, li a1, 0x8000000000000000; csrc mscratch, a1; csrr a0, mscratch)
    /* rs1 = x0 / uimm = 0 do not change the CSR */
    TEST_CASE(16, 0x7edcba9876543210, csrrs a0, mscratch, x0)
    TEST_CASE(17, 0x7edcba9876543210, csrrc a0, mscratch, x0; csrr a0, mscratch)
    TEST_CASE(18, 0x7edcba9876543210, csrrsi a0, mscratch, 0; csrrci a0, mscratch, 0; csrr a0, mscratch)
    /* rd = x0 with CSRRW still writes */
    TEST_CASE(19, 3, li a1, 3; csrrw x0, mscratch, a1; csrr a0, mscratch)
    TEST_CASE(20, 0, csrrwi x0, mscratch, 0; csrr a0, mscratch)
    /* rd == rs1 */
    TEST_CASE(21, 9, csrwi mscratch, 9; li a0, 5; csrrw a0, mscratch, a0)
    TEST_CASE(22, 5, csrr a0, mscratch)
    csrw mscratch, s0

    /* Read-only CSRs: reads with non-writing forms are legal */
    TEST_CASE(23, HARTID, csrrs a0, mhartid, x0)
    TEST_CASE(24, HARTID, csrrc a0, mhartid, x0)
    TEST_CASE(25, HARTID, csrrsi a0, mhartid, 0)
    TEST_CASE(26, HARTID, csrrci a0, mhartid, 0)
    TEST_CASE(27, 0, csrr a0, mconfigptr)
    /* ... and every writing form is illegal, even if it would not change the value */
    TEST_ILLEGAL(28, csrrw x0, mhartid, x0)
    TEST_ILLEGAL(29, csrrw a0, mvendorid, a1)
    TEST_ILLEGAL(30, csrrs a0, marchid, a1)
    TEST_ILLEGAL(31, csrrc a0, mimpid, a1)
    TEST_ILLEGAL(32, csrrwi a0, mhartid, 0)
    TEST_ILLEGAL(33, csrrsi a0, mhartid, 1)
    TEST_ILLEGAL(34, csrrci a0, mconfigptr, 1)
    TEST_ILLEGAL(35, csrw cycle, a1)
    TEST_ILLEGAL(36, csrw instret, zero)
    TEST_ILLEGAL(37, csrw time, a1)
    /* rd is not written by a trapping CSR instruction */
    TEST_CASE(38, 0x66, li a0, 0x66; EXPECT_CAUSE CAUSE_ILLEGAL_INSTRUCTION; csrrw a0, mhartid, a1; CHECK_TRAP_TAKEN)
    /* CSRs that do not exist */
    TEST_ILLEGAL(39, csrr a0, 0x7ff)
    TEST_ILLEGAL(40, csrr a0, 0x5c0)
    TEST_ILLEGAL(41, csrr a0, 0x800)
    TEST_ILLEGAL(42, csrw 0x3ff, a1)
    /* Floating-point CSRs do not exist without F */
    TEST_ILLEGAL(43, csrr a0, 0x003)

    /* Privilege: S-mode cannot touch M CSRs, U-mode cannot touch S or M CSRs */
    GOTO_S 1f
1:  TEST_ILLEGAL(50, csrr a0, mstatus)
    TEST_ILLEGAL(51, csrw mscratch, a1)
    TEST_ILLEGAL(52, csrr a0, mhartid)
    TEST_CASE(53, 0x44, li a1, 0x44; csrrw s1, sscratch, a1; csrr a0, sscratch; csrw sscratch, s1)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    GOTO_U 2f
2:  TEST_ILLEGAL(54, csrr a0, sstatus)
    TEST_ILLEGAL(55, csrr a0, sscratch)
    TEST_ILLEGAL(56, csrr a0, mscratch)
    TEST_ILLEGAL(57, csrr a0, satp)
    ECALL_TO_M CAUSE_USER_ECALL
    /* Back in M-mode: M can access S CSRs */
    TEST_CASE(58, 0x45, li a1, 0x45; csrrw s1, sscratch, a1; csrr a0, sscratch; csrw sscratch, s1)
TEST_END
