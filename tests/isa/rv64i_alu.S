/*
 * RV64I integer computational instructions (unprivileged spec 2.4 and 5.2), including the
 * W forms, shifts by 0/31/63, sign extension of 32-bit results and x0 as destination.
 */
#include "hvtest.h"

TEST_BEGIN
    .option norvc  /* 32-bit encodings only; rv64c.S covers the compressed ones */
    /* ADD / SUB */
    TEST_CASE(1, 5, li a1, 2; li a2, 3; add a0, a1, a2)
    TEST_CASE(2, 0, li a1, -1; li a2, 1; add a0, a1, a2)
    TEST_CASE(3, 0x8000000000000000, li a1, 0x7fffffffffffffff; li a2, 1; add a0, a1, a2)
    TEST_CASE(4, -1, li a1, 2; li a2, 3; sub a0, a1, a2)
    TEST_CASE(5, 0x7fffffffffffffff, li a1, 0x8000000000000000; li a2, 1; sub a0, a1, a2)
    /* ADDI: 12-bit immediates, sign extended */
    TEST_CASE(6, -2048, li a1, 0; addi a0, a1, -2048)
    TEST_CASE(7, 2047, li a1, 0; addi a0, a1, 2047)
    TEST_CASE(8, 0x80000000, li a1, 0x7fffffff; addi a0, a1, 1)
    /* Logic, register and immediate */
    TEST_CASE(9, 0x0f00, li a1, 0xff00; li a2, 0x0ff0; and a0, a1, a2; andi a0, a0, -1)
    TEST_CASE(10, 0xfff0, li a1, 0xff00; li a2, 0x0ff0; or a0, a1, a2)
    TEST_CASE(11, 0xf0f0, li a1, 0xff00; li a2, 0x0ff0; xor a0, a1, a2)
    TEST_CASE(12, 0x7f0, li a1, 0xff00; andi a0, a1, 0x7ff; ori a0, a0, 0x0f0)
    TEST_CASE(13, 0xffffffffffff00ff, li a1, 0xff00; xori a0, a1, -1; xori a0, a0, 0; li t0, 0xffffffffffff00ff; and a0, a0, t0)
    TEST_CASE(14, -1, li a1, 0; ori a0, a1, -1)
    TEST_CASE(15, 0xffffffffffffff00, li a1, 0xfffffffffffffff0; andi a0, a1, -256)
    /* SLT / SLTU / SLTI / SLTIU */
    TEST_CASE(16, 1, li a1, -1; li a2, 0; slt a0, a1, a2)
    TEST_CASE(17, 0, li a1, -1; li a2, 0; sltu a0, a1, a2)
    TEST_CASE(18, 0, li a1, 5; li a2, 5; slt a0, a1, a2)
    TEST_CASE(19, 1, li a1, 0; sltiu a0, a1, 1)
    TEST_CASE(20, 1, li a1, 5; sltiu a0, a1, -1)
    TEST_CASE(21, 1, li a1, -5; slti a0, a1, -4)
    TEST_CASE(22, 0, li a1, -4; slti a0, a1, -4)
    TEST_CASE(23, 1, li a1, 0x8000000000000000; li a2, 0x7fffffffffffffff; slt a0, a1, a2)
    /* LUI / AUIPC */
    TEST_CASE(24, 0x12345000, lui a0, 0x12345)
    TEST_CASE(25, 0xfffffffffffff000, lui a0, 0xfffff)
    TEST_CASE(26, 0xffffffff80000000, lui a0, 0x80000)
    TEST_CASE(27, 0, 1: auipc a1, 0; la a2, 1b; sub a0, a1, a2)
    TEST_CASE(28, 0x1000, 1: auipc a1, 1; la a2, 1b; sub a0, a1, a2)
    TEST_CASE(29, -0x80000000, 1: auipc a1, 0x80000; la a2, 1b; sub a0, a1, a2)
    /* SLL / SRL / SRA by 0, 31, 63, and the shift amount uses only 6 bits */
    TEST_CASE(30, 0x8000000000000001, li a1, 0x8000000000000001; li a2, 0; sll a0, a1, a2)
    TEST_CASE(31, 0x80000000, li a1, 1; li a2, 31; sll a0, a1, a2)
    TEST_CASE(32, 0x8000000000000000, li a1, 1; li a2, 63; sll a0, a1, a2)
    TEST_CASE(33, 0x8000000000000000, li a1, 1; li a2, 127; sll a0, a1, a2)
    TEST_CASE(34, 0x8000000000000000, li a1, 0x8000000000000000; li a2, 64; srl a0, a1, a2)
    TEST_CASE(35, 0x100000000, li a1, 0x8000000000000000; li a2, 31; srl a0, a1, a2)
    TEST_CASE(36, 1, li a1, 0x8000000000000000; li a2, 63; srl a0, a1, a2)
    TEST_CASE(37, 0xffffffff00000000, li a1, 0x8000000000000000; li a2, 31; sra a0, a1, a2)
    TEST_CASE(38, -1, li a1, 0x8000000000000000; li a2, 63; sra a0, a1, a2)
    TEST_CASE(39, 0x3fffffffffffffff, li a1, 0x7fffffffffffffff; li a2, 1; sra a0, a1, a2)
    TEST_CASE(40, 0x8000000000000000, li a1, 0x8000000000000000; li a2, 0; sra a0, a1, a2)
    /* SLLI / SRLI / SRAI */
    TEST_CASE(41, 0x0123456789abcdef, li a1, 0x0123456789abcdef; slli a0, a1, 0)
    TEST_CASE(42, 0xc4d5e6f780000000, li a1, 0x0123456789abcdef; slli a0, a1, 31)
    TEST_CASE(43, 0x8000000000000000, li a1, 0x0123456789abcdef; slli a0, a1, 63)
    TEST_CASE(44, 0x1ffffffff, li a1, 0xffffffffffffffff; srli a0, a1, 31)
    TEST_CASE(45, 1, li a1, 0xffffffffffffffff; srli a0, a1, 63)
    TEST_CASE(46, 0xfedcba9876543210, li a1, 0xfedcba9876543210; srli a0, a1, 0)
    TEST_CASE(47, 0xfffffffffdb97530, li a1, 0xfedcba9876543210; srai a0, a1, 31)
    TEST_CASE(48, -1, li a1, 0xfedcba9876543210; srai a0, a1, 63)
    TEST_CASE(49, 0, li a1, 0x7edcba9876543210; srai a0, a1, 63)

    /* W forms: 32-bit operation, result sign extended from bit 31 */
    TEST_CASE(50, 0xffffffff80000000, li a1, 0x7fffffff; li a2, 1; addw a0, a1, a2)
    TEST_CASE(51, 0, li a1, 0xffffffff; li a2, 1; addw a0, a1, a2)
    TEST_CASE(52, 0x7fffffff, li a1, 0x80000000; li a2, 1; subw a0, a1, a2)
    TEST_CASE(53, 0x12345678, li a1, 0x7654321012345678; li a2, 0xffffffff00000000; addw a0, a1, a2)
    TEST_CASE(54, 0xffffffff80000000, li a1, 0x7fffffff; addiw a0, a1, 1)
    TEST_CASE(55, -1, li a1, 0xffffffff; addiw a0, a1, 0)
    TEST_CASE(56, 0x12345678, li a1, 0xabcdef0012345678; addiw a0, a1, 0)
    TEST_CASE(57, 0xffffffff80000000, li a1, 1; li a2, 31; sllw a0, a1, a2)
    TEST_CASE(58, 1, li a1, 1; li a2, 32; sllw a0, a1, a2)
    TEST_CASE(59, 0x12345678, li a1, 0xffffffff12345678; li a2, 0; sllw a0, a1, a2)
    TEST_CASE(60, 1, li a1, 0x80000000; li a2, 31; srlw a0, a1, a2)
    TEST_CASE(61, 0xffffffff80000000, li a1, 0x80000000; li a2, 0; srlw a0, a1, a2)
    TEST_CASE(62, 0x7fffffff, li a1, 0xfffffffffffffffe; li a2, 33; srlw a0, a1, a2)
    TEST_CASE(63, -1, li a1, 0x80000000; li a2, 31; sraw a0, a1, a2)
    TEST_CASE(64, 0xffffffffc0000000, li a1, 0x80000000; li a2, 1; sraw a0, a1, a2)
    TEST_CASE(65, 0x3fffffff, li a1, 0x17fffffff; li a2, 1; sraw a0, a1, a2)
    TEST_CASE(66, 0xffffffff80000000, li a1, 1; slliw a0, a1, 31)
    TEST_CASE(67, 0xffffffff89abcdef, li a1, 0x0123456789abcdef; slliw a0, a1, 0)
    TEST_CASE(68, 1, li a1, 0xffffffff80000000; srliw a0, a1, 31)
    TEST_CASE(69, 0xffffffff80000000, li a1, 0x80000000; srliw a0, a1, 0)
    TEST_CASE(70, -1, li a1, 0x80000000; sraiw a0, a1, 31)
    TEST_CASE(71, 0xffffffff80000000, li a1, 0x80000000; sraiw a0, a1, 0)
    TEST_CASE(72, 0x00000001, li a1, 0xffffffff00000003; sraiw a0, a1, 1)

    /* x0 as destination: writes are discarded */
    TEST_CASE(73, 0, li a1, 7; add x0, a1, a1; mv a0, x0)
    TEST_CASE(74, 0, addi x0, x0, 5; mv a0, x0)
    TEST_CASE(75, 0, lui x0, 0x12345; mv a0, x0)
    TEST_CASE(76, 0, auipc x0, 1; mv a0, x0)
    TEST_CASE(77, 0, li a1, -1; slli x0, a1, 3; addw x0, a1, a1; sltu x0, x0, a1; mv a0, x0)
    /* Source and destination are the same register */
    TEST_CASE(78, 26, li a0, 13; add a0, a0, a0)
    TEST_CASE(79, 0, li a0, 13; sub a0, a0, a0)
    TEST_CASE(80, 0, li a0, 13; xor a0, a0, a0)
    /* Every register can be written and read */
    TEST_CASE(81, 30, li x1, 1; li x2, 1; li x4, 1; li x6, 1; li x7, 1; li x8, 1; li x9, 1; \
        li x11, 1; li x12, 1; li x13, 1; li x14, 1; li x15, 1; li x16, 1; li x17, 1; li x18, 1; \
        li x19, 1; li x20, 1; li x21, 1; li x22, 1; li x23, 1; li x24, 1; li x25, 1; li x26, 1; \
        li x27, 1; li x28, 1; li x29, 1; li x5, 1; \
        add x10, x1, x2; add x10, x10, x4; add x10, x10, x5; add x10, x10, x6; add x10, x10, x7; \
        add x10, x10, x8; add x10, x10, x9; add x10, x10, x11; add x10, x10, x12; add x10, x10, x13; \
        add x10, x10, x14; add x10, x10, x15; add x10, x10, x16; add x10, x10, x17; add x10, x10, x18; \
        add x10, x10, x19; add x10, x10, x20; add x10, x10, x21; add x10, x10, x22; add x10, x10, x23; \
        add x10, x10, x24; add x10, x10, x25; add x10, x10, x26; add x10, x10, x27; add x10, x10, x28; \
        add x10, x10, x29; addi x10, x10, 3)
    la sp, _stack_top
TEST_END
