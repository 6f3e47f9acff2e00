/*
 * RV64I loads and stores (unprivileged spec 2.6 and 5.3): every width, sign and zero
 * extension, positive and negative offsets, partial overwrites, x0 as destination.
 */
#include "hvtest.h"

    .data
    .balign 16
mem_src:
    .dword 0x8182838485868788
    .dword 0x0102030405060708
mem_dst:
    .zero 32

TEST_BEGIN
    .option norvc  /* 32-bit encodings only; rv64c.S covers the compressed ones */
    la s0, mem_src
    la s1, mem_dst
    /* Loads: sign extension */
    TEST_CASE(1, 0xffffffffffffff88, lb a0, 0(s0))
    TEST_CASE(2, 0xffffffffffff8788, lh a0, 0(s0))
    TEST_CASE(3, 0xffffffff85868788, lw a0, 0(s0))
    TEST_CASE(4, 0x8182838485868788, ld a0, 0(s0))
    TEST_CASE(5, 0xffffffffffffff81, lb a0, 7(s0))
    TEST_CASE(6, 0xffffffffffff8182, lh a0, 6(s0))
    TEST_CASE(7, 0xffffffff81828384, lw a0, 4(s0))
    /* Loads: zero extension */
    TEST_CASE(8, 0x88, lbu a0, 0(s0))
    TEST_CASE(9, 0x8788, lhu a0, 0(s0))
    TEST_CASE(10, 0x85868788, lwu a0, 0(s0))
    TEST_CASE(11, 0x81828384, lwu a0, 4(s0))
    /* Positive sign bit: no extension */
    TEST_CASE(12, 0x08, lb a0, 8(s0))
    TEST_CASE(13, 0x0708, lh a0, 8(s0))
    TEST_CASE(14, 0x05060708, lw a0, 8(s0))
    TEST_CASE(15, 0x0102030405060708, ld a0, 8(s0))
    /* Negative offsets */
    TEST_CASE(16, 0x0102030405060708, addi a1, s0, 16; ld a0, -8(a1))
    TEST_CASE(17, 0xffffffffffffff81, addi a1, s0, 2047; lb a0, -2040(a1))
    /* Stores of every width, read back whole */
    TEST_CASE(18, 0x00000000000000aa, sd zero, 0(s1); li a1, 0x11223344556677aa; sb a1, 0(s1); ld a0, 0(s1))
    TEST_CASE(19, 0x77aa00aa, li a1, 0x77aa; sh a1, 2(s1); ld a0, 0(s1))
    TEST_CASE(20, 0x00000000deadbeef, sd zero, 0(s1); li a1, 0x12345678deadbeef; sw a1, 0(s1); ld a0, 0(s1))
    TEST_CASE(21, 0xdeadbeef00000000, sd zero, 0(s1); li a1, 0xdeadbeef; sw a1, 4(s1); ld a0, 0(s1))
    TEST_CASE(22, 0x0123456789abcdef, li a1, 0x0123456789abcdef; sd a1, 8(s1); ld a0, 8(s1))
    TEST_CASE(23, 0x01234567ffffabcd, li a1, 0xffffabcd; sw a1, 8(s1); sh a1, 8(s1); ld a0, 8(s1))
    TEST_CASE(24, 0x0123cc67ffffabcd, li a1, 0xcc; sb a1, 13(s1); ld a0, 8(s1))
    TEST_CASE(25, 0x55, li a1, 0x55; addi a2, s1, 32; sb a1, -8(a2); lbu a0, 24(s1))
    /* Store then load with other widths */
    TEST_CASE(26, 0xffffffffffffcdef, li a1, 0x0123456789abcdef; sd a1, 16(s1); lh a0, 16(s1))
    TEST_CASE(27, 0x0123, lhu a0, 22(s1))
    TEST_CASE(28, 0x89abcdef, lwu a0, 16(s1))
    /* x0 as load destination: the load happens, the value is discarded */
    TEST_CASE(29, 0, ld x0, 0(s0); lb x0, 1(s0); lw x0, 4(s0); mv a0, x0)
    /* Store of x0 */
    TEST_CASE(30, 0, sd x0, 16(s1); ld a0, 16(s1))
    /* Base register equals data register */
    TEST_CASE(31, 0, mv a1, s1; sd a1, 0(a1); ld a0, 0(s1); sub a0, a0, s1)
    /* Load into the base register */
    TEST_CASE(32, 0x0102030405060708, mv a0, s0; ld a0, 8(a0))
TEST_END
