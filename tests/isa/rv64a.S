/*
 * RV64A atomics (unprivileged spec chapter 14): LR/SC success and failure, the
 * reservation is consumed by SC, every AMO in .W and .D form with the old value returned
 * (sign extended for .W), and misaligned atomics raise address-misaligned exceptions.
 */
#include "hvtest.h"

    .data
    .balign 16
amo_var:
    .dword 0
    .dword 0

/* AMO case: memory = init, "op a0, src, (s0)"; check a0 = old value, then memory. */
#define AMO_D(n, op, init, src, mem_after) \
    li t0, init; sd t0, 0(s0); li a1, src; \
    TEST_CASE(n, init, op a0, a1, (s0)); \
    TEST_CASE(n, mem_after, ld a0, 0(s0))
#define AMO_W(n, op, init, src, old_sx, mem_after) \
    li t0, 0x5555555555555555; sd t0, 0(s0); li t0, init; sw t0, 0(s0); li a1, src; \
    TEST_CASE(n, old_sx, op a0, a1, (s0)); \
    TEST_CASE(n, mem_after, ld a0, 0(s0))

TEST_BEGIN
    .option norvc  /* 32-bit encodings only; rv64c.S covers the compressed ones */
    la s0, amo_var
    /* LR/SC: success returns 0 and stores */
    TEST_CASE(1, 0, li a1, 11; sd a1, 0(s0); lr.d a2, (s0); addi a2, a2, 1; sc.d a0, a2, (s0))
    TEST_CASE(2, 12, ld a0, 0(s0))
    /* A second SC without a new LR fails (non-zero) and does not store */
    TEST_CASE(3, 1, li a2, 99; sc.d a0, a2, (s0); snez a0, a0)
    TEST_CASE(4, 12, ld a0, 0(s0))
    /* SC without any reservation fails */
    TEST_CASE(5, 1, li a2, 77; sc.w a0, a2, (s0); snez a0, a0)
    TEST_CASE(6, 12, ld a0, 0(s0))
    /* LR.W sign extends; SC.W stores 32 bits */
    TEST_CASE(7, 0xffffffff80000001, li a1, 0x80000001; sw a1, 0(s0); lr.w a0, (s0))
    TEST_CASE(8, 0, li a2, 0x7654321; sc.w a0, a2, (s0))
    TEST_CASE(9, 0x07654321, lwu a0, 0(s0))
    /* SC to another address than the reserved one fails */
    TEST_CASE(10, 1, lr.d a2, (s0); li a2, 5; addi a3, s0, 8; sc.d a0, a2, (a3); snez a0, a0)
    /* The usual retry loop: an increment by LR/SC */
    TEST_CASE(11, 3, li a1, 1; sd a1, 0(s0); 1: lr.d a2, (s0); addi a2, a2, 2; sc.d a3, a2, (s0); bnez a3, 1b; ld a0, 0(s0))
    /* LR/SC with aq/rl bits */
    TEST_CASE(12, 0, lr.d.aqrl a2, (s0); sc.d.rl a0, a2, (s0))
    TEST_CASE(13, 0, lr.w.aq a2, (s0); sc.w.aqrl a0, a2, (s0))

    /* AMO .D */
    AMO_D(20, amoswap.d, 0x1111, 0x2222, 0x2222)
    AMO_D(21, amoadd.d, 0x7fffffffffffffff, 1, 0x8000000000000000)
    AMO_D(22, amoand.d, 0xff00ff00ff00ff00, 0x0ff00ff00ff00ff0, 0x0f000f000f000f00)
    AMO_D(23, amoor.d, 0xff00000000000000, 0x00000000000000ff, 0xff000000000000ff)
    AMO_D(24, amoxor.d, 0xffff0000ffff0000, 0xff00ff00ff00ff00, 0x00ffff0000ffff00)
    AMO_D(25, amomax.d, -5, 3, 3)
    AMO_D(26, amomax.d, 3, -5, 3)
    AMO_D(27, amomin.d, -5, 3, -5)
    AMO_D(28, amomin.d, 3, -5, -5)
    AMO_D(29, amomaxu.d, -5, 3, -5)
    AMO_D(30, amomaxu.d, 3, -5, -5)
    AMO_D(31, amominu.d, -5, 3, 3)
    AMO_D(32, amominu.d, 3, -5, 3)
    AMO_D(33, amoadd.d.aqrl, 10, -3, 7)
    /* AMO .W: old value sign extended, upper word of memory untouched */
    AMO_W(40, amoswap.w, 0x80000000, 0x12345678, 0xffffffff80000000, 0x5555555512345678)
    AMO_W(41, amoadd.w, 0x7fffffff, 1, 0x7fffffff, 0x5555555580000000)
    AMO_W(42, amoadd.w, 0xffffffff, 1, -1, 0x5555555500000000)
    AMO_W(43, amoand.w, 0xf0f0f0f0, 0x0ff00ff0, 0xfffffffff0f0f0f0, 0x5555555500f000f0)
    AMO_W(44, amoor.w, 0x80000000, 0x1, 0xffffffff80000000, 0x5555555580000001)
    AMO_W(45, amoxor.w, 0xffffffff, 0x0000ffff, -1, 0x55555555ffff0000)
    AMO_W(46, amomax.w, 0x80000000, 1, 0xffffffff80000000, 0x5555555500000001)
    AMO_W(47, amomax.w, 1, 0xffffffff80000000, 1, 0x5555555500000001)
    AMO_W(48, amomin.w, 1, 0x80000000, 1, 0x5555555580000000)
    AMO_W(49, amomin.w, 0xfffffffe, 0xffffffff, -2, 0x55555555fffffffe)
    AMO_W(50, amomaxu.w, 0x80000000, 1, 0xffffffff80000000, 0x5555555580000000)
    AMO_W(51, amomaxu.w, 1, 0x80000000, 1, 0x5555555580000000)
    AMO_W(52, amominu.w, 0x80000000, 1, 0xffffffff80000000, 0x5555555500000001)
    /* The .W source uses only its low 32 bits */
    AMO_W(53, amominu.w, 5, 0x1234567800000002, 5, 0x5555555500000002)
    AMO_W(54, amoswap.w.aq, 7, 0x9, 7, 0x5555555500000009)
    /* x0 as destination: the memory still changes */
    TEST_CASE(55, 8, li t0, 5; sd t0, 0(s0); li a1, 3; amoadd.d x0, a1, (s0); ld a0, 0(s0))
    /* rd == rs2 */
    TEST_CASE(56, 8, li t0, 8; sd t0, 0(s0); li a0, 1; amoswap.d a0, a0, (s0))

    /* Misaligned AMOs and SC raise store/AMO address misaligned (6), tval = address;
       a misaligned LR raises load address misaligned (4). Memory is unchanged. */
    li t0, 0x1122334455667788
    sd t0, 0(s0)
    addi s1, s0, 4
    addi s2, s0, 2
    TEST_TRAP_TVAL(60, CAUSE_MISALIGNED_STORE, s1, amoadd.d a0, a1, (s1))
    TEST_TRAP_TVAL(61, CAUSE_MISALIGNED_STORE, s2, amoswap.w a0, a1, (s2))
    TEST_TRAP_TVAL(62, CAUSE_MISALIGNED_STORE, s1, amoor.d a0, a1, (s1))
    TEST_TRAP_TVAL(63, CAUSE_MISALIGNED_STORE, s2, amomaxu.w a0, a1, (s2))
    TEST_TRAP_TVAL(64, CAUSE_MISALIGNED_LOAD, s1, lr.d a0, (s1))
    TEST_TRAP_TVAL(65, CAUSE_MISALIGNED_LOAD, s2, lr.w a0, (s2))
    TEST_TRAP_TVAL(66, CAUSE_MISALIGNED_STORE, s1, sc.d a0, a1, (s1))
    TEST_TRAP_TVAL(67, CAUSE_MISALIGNED_STORE, s2, sc.w a0, a1, (s2))
    TEST_CASE(68, 0x1122334455667788, ld a0, 0(s0))
    /* The destination register is not written by a faulting AMO */
    TEST_CASE(69, 0x77, li a0, 0x77; EXPECT_CAUSE CAUSE_MISALIGNED_STORE; amoadd.w a0, a1, (s2); CHECK_TRAP_TAKEN)
TEST_END
