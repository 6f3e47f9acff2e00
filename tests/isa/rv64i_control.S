/*
 * RV64I control transfer (unprivileged spec 2.5): every branch taken and not taken,
 * forward and backward; JAL and JALR link values, JALR clearing bit 0 of the target,
 * x0 as link register; FENCE and FENCE.I (Zifencei) including self-modifying code.
 */
#include "hvtest.h"

/* Branch case: a0 = 1 if "br a1, a2" is taken forward, 0 if not. */
#define BR_FWD(n, taken, br, v1, v2) \
    TEST_CASE(n, taken, li a1, v1; li a2, v2; li a0, 1; br a1, a2, 1f; li a0, 0; 1:)
/* Branch case, backward target: a0 = 1 if taken. */
#define BR_BWD(n, taken, br, v1, v2) \
    TEST_CASE(n, taken, li a1, v1; li a2, v2; li a0, 0; j 2f; 1: li a0, 1; j 3f; 2: br a1, a2, 1b; 3:)

TEST_BEGIN
    .option norvc  /* 32-bit encodings only; rv64c.S covers the compressed ones */
    BR_FWD(1, 1, beq, 5, 5)
    BR_FWD(2, 0, beq, 5, 6)
    BR_BWD(3, 1, beq, -1, -1)
    BR_BWD(4, 0, beq, 0, 1)
    BR_FWD(5, 1, bne, 5, 6)
    BR_FWD(6, 0, bne, 5, 5)
    BR_BWD(7, 1, bne, 0, -1)
    BR_BWD(8, 0, bne, 7, 7)
    BR_FWD(9, 1, blt, -1, 0)
    BR_FWD(10, 0, blt, 0, -1)
    BR_FWD(11, 0, blt, 3, 3)
    BR_BWD(12, 1, blt, 0x8000000000000000, 0x7fffffffffffffff)
    BR_BWD(13, 0, blt, 1, 0)
    BR_FWD(14, 1, bge, 0, -1)
    BR_FWD(15, 1, bge, 3, 3)
    BR_FWD(16, 0, bge, -1, 0)
    BR_BWD(17, 1, bge, 0x7fffffffffffffff, 0x8000000000000000)
    BR_BWD(18, 0, bge, -2, -1)
    BR_FWD(19, 1, bltu, 0, -1)
    BR_FWD(20, 0, bltu, -1, 0)
    BR_FWD(21, 0, bltu, 9, 9)
    BR_BWD(22, 1, bltu, 0x7fffffffffffffff, 0x8000000000000000)
    BR_BWD(23, 0, bltu, -1, 1)
    BR_FWD(24, 1, bgeu, -1, 0)
    BR_FWD(25, 1, bgeu, 9, 9)
    BR_FWD(26, 0, bgeu, 0, -1)
    BR_BWD(27, 1, bgeu, 0x8000000000000000, 1)
    BR_BWD(28, 0, bgeu, 1, 2)

    /* JAL: link = address of the next instruction; forward and backward */
    TEST_CASE(29, 0, .option push; .option norvc; jal ra, 1f; 2: nop; 1: la a1, 2b; sub a0, ra, a1; .option pop)
    TEST_CASE(30, 7, li a0, 0; j 2f; 1: addi a0, a0, 7; j 3f; 2: jal t0, 1b; 3:)
    TEST_CASE(31, 0, .option push; .option norvc; jal x0, 1f; li a0, 5; 1: mv a0, x0; .option pop)
    /* JALR: target = rs1 + imm with bit 0 cleared; link = pc + 4 */
    TEST_CASE(32, 0, .option push; .option norvc; la a1, 1f; jalr ra, 0(a1); 2: nop; 1: la a2, 2b; sub a0, ra, a2; .option pop)
    TEST_CASE(33, 1, li a0, 0; la a1, 1f; addi a1, a1, 1; jalr x0, 0(a1); j 2f; .balign 4; 1: li a0, 1; 2:)
    TEST_CASE(34, 1, li a0, 0; la a1, 1f; addi a1, a1, -3; jalr x0, 4(a1); j 2f; .balign 4; 1: li a0, 1; 2:)
    TEST_CASE(35, 1, li a0, 0; la a1, 1f; addi a1, a1, 16; jalr x0, -15(a1); j 2f; .balign 4; 1: li a0, 1; 2:)
    /* JALR with rd == rs1: the target uses the old value */
    TEST_CASE(36, 1, .option push; .option norvc; li a0, 0; la a1, 1f; jalr a1, 0(a1); 3: j 2f; 1: la a2, 3b; bne a1, a2, 2f; li a0, 1; 2:; .option pop)
    /* JALR with imm, as a call and return */
    TEST_CASE(37, 42, li a0, 0; la a1, sub_add42 - 8; jalr ra, 8(a1))

    /* FENCE variants are accepted and ordering holds for one hart */
    TEST_CASE(38, 9, la a1, hv_scratch; li a2, 9; sd a2, 0(a1); fence; fence rw, rw; fence r, r; fence w, w; fence iorw, iorw; fence.tso; ld a0, 0(a1))
    /* FENCE.I: code written by stores is executed after the fence */
    TEST_CASE(39, 123, la a1, patch_site; lw a2, patch_insn; sw a2, 0(a1); fence.i; jal ra, patch_site)
TEST_END

    .text
sub_add42:
    addi a0, a0, 42
    ret

    .balign 4
patch_site:
    .option push
    .option norvc
    li a0, 0
    ret
    .option pop

    .section .rodata
    .balign 4
patch_insn:
    .option push
    .option norvc
    li a0, 123
    .option pop
