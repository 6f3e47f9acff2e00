/*
 * Misaligned loads and stores (unprivileged spec 2.6, privileged 3.1.15): the profile
 * raises address-misaligned exceptions (causes 4 and 6) for every width and every
 * misaligned offset, with mtval = the address, no register write and no memory change.
 */
#include "hvtest.h"

/* Load at base+off must fault with cause 4 and tval = base+off. */
#define LD_MIS(n, insn, off) addi s2, s0, off; TEST_TRAP_TVAL(n, CAUSE_MISALIGNED_LOAD, s2, insn a0, 0(s2))
#define ST_MIS(n, insn, off) addi s2, s0, off; TEST_TRAP_TVAL(n, CAUSE_MISALIGNED_STORE, s2, insn a1, 0(s2))

TEST_BEGIN
    .option norvc  /* 32-bit encodings only; rv64c.S covers the compressed ones */
    la s0, hv_scratch
    li a1, 0x0807060504030201
    sd a1, 0(s0)
    sd a1, 8(s0)
    li a1, -1
    /* halfwords */
    LD_MIS(1, lh, 1)
    LD_MIS(2, lhu, 3)
    LD_MIS(3, lh, 7)
    ST_MIS(4, sh, 1)
    ST_MIS(5, sh, 5)
    /* words */
    LD_MIS(6, lw, 1)
    LD_MIS(7, lw, 2)
    LD_MIS(8, lwu, 3)
    LD_MIS(9, lwu, 6)
    ST_MIS(10, sw, 1)
    ST_MIS(11, sw, 2)
    ST_MIS(12, sw, 3)
    ST_MIS(13, sw, 6)
    /* doublewords, every offset */
    LD_MIS(14, ld, 1)
    LD_MIS(15, ld, 2)
    LD_MIS(16, ld, 3)
    LD_MIS(17, ld, 4)
    LD_MIS(18, ld, 5)
    LD_MIS(19, ld, 6)
    LD_MIS(20, ld, 7)
    ST_MIS(21, sd, 1)
    ST_MIS(22, sd, 2)
    ST_MIS(23, sd, 3)
    ST_MIS(24, sd, 4)
    ST_MIS(25, sd, 5)
    ST_MIS(26, sd, 6)
    ST_MIS(27, sd, 7)
    /* compressed forms */
    addi s2, s0, 4
    mv s1, s2
    TEST_TRAP_TVAL(28, CAUSE_MISALIGNED_LOAD, s2, .option push; .option rvc; c.ld a0, 0(s1); .option pop)
    addi s2, s0, 2
    mv s1, s2
    TEST_TRAP_TVAL(29, CAUSE_MISALIGNED_STORE, s2, .option push; .option rvc; c.sw a1, 0(s1); .option pop)
    /* nothing was written and faulting loads left rd alone */
    TEST_CASE(30, 0x0807060504030201, ld a0, 0(s0))
    TEST_CASE(31, 0x0807060504030201, ld a0, 8(s0))
    TEST_CASE(32, 0x1234, li a0, 0x1234; addi s2, s0, 1; EXPECT_CAUSE CAUSE_MISALIGNED_LOAD; lw a0, 0(s2); CHECK_TRAP_TAKEN)
    /* aligned accesses of every width still work, at every aligned offset */
    TEST_CASE(33, 0x02, lbu a0, 1(s0))
    TEST_CASE(34, 0x0807, lhu a0, 6(s0))
    TEST_CASE(35, 0x08070605, lwu a0, 4(s0))
    /* delegated to S, from U: scause 4 / 6 and stval = the address */
    li a2, (1<<CAUSE_MISALIGNED_LOAD)|(1<<CAUSE_MISALIGNED_STORE)
    csrw medeleg, a2
    GOTO_U 1f
1:  li gp, 36
    addi s2, s0, 3
    EXPECT_TRAP CAUSE_MISALIGNED_LOAD, 2f, 3f, F_IN_S
    EXPECT_TVAL s2
2:  lw a0, 0(s2)
3:  CHECK_TRAP_TAKEN
    li gp, 37
    EXPECT_TRAP CAUSE_MISALIGNED_STORE, 2f, 3f, F_IN_S
    EXPECT_TVAL s2
2:  sh a0, 0(s2)
3:  CHECK_TRAP_TAKEN
    ECALL_TO_M CAUSE_USER_ECALL
    csrw medeleg, zero
TEST_END
