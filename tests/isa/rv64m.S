/*
 * RV64M multiply and divide (unprivileged spec chapter 13): every instruction and W form,
 * the high halves of signed, unsigned and mixed products, division by zero and the
 * signed overflow -2^63 / -1 (and -2^31 / -1 for the W forms).
 */
#include "hvtest.h"

#define RR(n, expected, op, v1, v2) TEST_CASE(n, expected, li a1, v1; li a2, v2; op a0, a1, a2)

TEST_BEGIN
    .option norvc  /* 32-bit encodings only; rv64c.S covers the compressed ones */
    /* MUL: low 64 bits */
    RR(1, 42, mul, 6, 7)
    RR(2, -42, mul, -6, 7)
    RR(3, 0x0000000000000001, mul, -1, -1)
    RR(4, 0x8000000000000000, mul, 0x4000000000000000, 2)
    RR(5, 0xfedcba9876543211, mul, 0x0123456789abcdef, -1)
    /* MULH: signed x signed, high 64 bits */
    RR(6, 0, mulh, 6, 7)
    RR(7, -1, mulh, -6, 7)
    RR(8, 0, mulh, -1, -1)
    RR(9, 0x4000000000000000, mulh, 0x8000000000000000, 0x8000000000000000)
    RR(10, 0xc000000000000000, mulh, 0x8000000000000000, 0x7fffffffffffffff)
    /* MULHU: unsigned x unsigned */
    RR(11, 0xfffffffffffffffe, mulhu, -1, -1)
    RR(12, 0x4000000000000000, mulhu, 0x8000000000000000, 0x8000000000000000)
    RR(13, 0, mulhu, 0x12345, 0x6789)
    RR(14, 0x0123456789abcdee, mulhu, 0x0123456789abcdef, -1)
    /* MULHSU: signed rs1 x unsigned rs2 */
    RR(15, -1, mulhsu, -1, 1)
    RR(16, 0xffffffffffffffff, mulhsu, -1, -1)
    RR(17, 0x7ffffffffffffffe, mulhsu, 0x7fffffffffffffff, -1)
    RR(18, 0xc000000000000000, mulhsu, 0x8000000000000000, 0x8000000000000000)
    RR(19, 0, mulhsu, 1, -1)
    /* MULW: low 32 bits, sign extended */
    RR(20, 0xffffffff80000000, mulw, 0x40000000, 2)
    RR(21, 42, mulw, 0xffffffff00000006, 0x1234567800000007)
    RR(22, 1, mulw, -1, -1)
    RR(23, 0, mulw, 0x10000, 0x10000)

    /* DIV / DIVU: rounding towards zero */
    RR(24, 3, div, 20, 6)
    RR(25, -3, div, -20, 6)
    RR(26, -3, div, 20, -6)
    RR(27, 3, div, -20, -6)
    RR(28, 0x2aaaaaaaaaaaaaa7, divu, -20, 6)
    RR(29, 0, divu, 20, -6)
    /* Division by zero: quotient all ones, remainder the dividend */
    RR(30, -1, div, 20, 0)
    RR(31, -1, div, -20, 0)
    RR(32, -1, divu, 20, 0)
    RR(33, 20, rem, 20, 0)
    RR(34, -20, rem, -20, 0)
    RR(35, -20, remu, -20, 0)
    /* Signed overflow: -2^63 / -1 = -2^63, remainder 0 */
    RR(36, 0x8000000000000000, div, 0x8000000000000000, -1)
    RR(37, 0, rem, 0x8000000000000000, -1)
    /* REM / REMU: sign of the dividend */
    RR(38, 2, rem, 20, 6)
    RR(39, -2, rem, -20, 6)
    RR(40, 2, rem, 20, -6)
    RR(41, -2, rem, -20, -6)
    RR(42, 2, remu, -20, 6)
    RR(43, 20, remu, 20, -6)

    /* W forms: 32-bit operands, result sign extended */
    RR(44, 3, divw, 0xffffffff00000014, 6)
    RR(45, -3, divw, -20, 6)
    RR(46, 0x2aaaaaa7, divuw, -20, 6)
    RR(47, 0xffffffffffffffff, divuw, 0x12345678ffffffff, 1)
    RR(48, -1, divw, 20, 0)
    RR(49, -1, divuw, 20, 0x100000000)
    RR(50, 0xffffffff80000000, divw, 0x80000000, -1)
    RR(51, 0, remw, 0x80000000, -1)
    RR(52, -2, remw, -20, 6)
    RR(53, 2, remuw, -20, 6)
    RR(54, 0xffffffffffffffec, remw, -20, 0)
    RR(55, 0xffffffffffffffec, remuw, 0xffffffec, 0)
    RR(56, 20, remw, 0x700000014, 0x300000000)
    RR(57, 0xffffffff80000000, divuw, 0x80000000, 1)

    /* x0 as destination */
    TEST_CASE(58, 0, li a1, 5; li a2, 7; mul x0, a1, a2; div x0, a1, a2; remw x0, a1, a2; mv a0, x0)
    /* Results feed the next instruction (forwarding of a long-latency result) */
    TEST_CASE(59, 7, li a1, 49; li a2, 7; div a3, a1, a2; mul a4, a3, a3; sub a4, a4, a1; add a0, a3, a4)
TEST_END
