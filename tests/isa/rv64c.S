/*
 * RV64C compressed instructions (unprivileged spec chapter 16): every RV64C instruction
 * of the integer ISA at least once, link values of pc + 2, compressed and 32-bit
 * instructions mixed at 2-byte alignment, 32-bit instructions straddling 4- and 8-byte
 * boundaries and a 64-byte boundary, and jumps to 2-byte aligned targets.
 */
#include "hvtest.h"

#define NORVC .option push; .option norvc
#define RVC   .option push; .option rvc
#define POP   .option pop

TEST_BEGIN
    RVC
    /* Quadrant 1: constants and arithmetic */
    TEST_CASE(1, 0, c.nop; li a0, 0)
    TEST_CASE(2, -32, c.li a0, -32)
    TEST_CASE(3, 31, c.li a0, 31)
    TEST_CASE(4, 7, c.li a0, 2; c.addi a0, 5)
    TEST_CASE(5, -30, c.li a0, 2; c.addi a0, -32)
    TEST_CASE(6, 0xffffffff80000000, li a0, 0x7fffffff; c.addiw a0, 1)
    TEST_CASE(7, 0x12345678, li a0, 0xabcdef0012345678; c.addiw a0, 0)
    TEST_CASE(8, 0x1f000, c.lui a0, 0x1f)
    TEST_CASE(9, 0xfffffffffffe0000, c.lui a0, 0xfffe0)
    TEST_CASE(10, 0x7fffffffffffffff, li a0, -1; c.srli a0, 1)
    TEST_CASE(11, 1, li a0, -1; c.srli a0, 63)
    TEST_CASE(12, -1, li a0, 0x8000000000000000; c.srai a0, 63)
    TEST_CASE(13, 0xfffffffff0000000, li a0, 0x8000000000000000; c.srai a0, 35)
    TEST_CASE(14, 0x1a, li a0, 0x3a; c.andi a0, 0x1b)
    TEST_CASE(15, 0x8000000000000000, li a0, 0x8000000000000000; c.andi a0, -32)
    TEST_CASE(16, -3, li a0, 4; li a1, 7; c.sub a0, a1)
    TEST_CASE(17, 6, li a0, 5; li a1, 3; c.xor a0, a1)
    TEST_CASE(18, 7, li a0, 5; li a1, 3; c.or a0, a1)
    TEST_CASE(19, 1, li a0, 5; li a1, 3; c.and a0, a1)
    TEST_CASE(20, 0xffffffff80000000, li a0, 0x7fffffff; li a1, -1; c.subw a0, a1)
    TEST_CASE(21, 0xffffffff80000000, li a0, 0x7fffffff; li a1, 1; c.addw a0, a1)
    TEST_CASE(22, 0, li a0, 0x100000000; li a1, 0; c.addw a0, a1)
    /* Quadrant 2: shifts, moves, adds */
    TEST_CASE(23, 0x8000000000000000, li a0, 1; c.slli a0, 63)
    TEST_CASE(24, 0x20, li a0, 1; c.slli a0, 5)
    TEST_CASE(25, 0x55, li a5, 0x55; c.mv a0, a5)
    TEST_CASE(26, 12, li a0, 5; li t1, 7; c.add a0, t1)
    TEST_CASE(27, 9, li s1, 4; li a0, 5; c.add s1, a0; mv a0, s1)

    /* Stack-pointer relative: c.addi16sp, c.addi4spn, c.sdsp/c.ldsp, c.swsp/c.lwsp */
    la sp, hv_scratch
    TEST_CASE(28, 48, mv t1, sp; c.addi16sp sp, 48; sub a0, sp, t1; c.addi16sp sp, -48)
    TEST_CASE(29, -64, mv t1, sp; c.addi16sp sp, -64; sub a0, sp, t1; c.addi16sp sp, 64)
    TEST_CASE(30, 1020, c.addi4spn a0, sp, 1020; sub a0, a0, sp)
    TEST_CASE(31, 4, c.addi4spn a0, sp, 4; sub a0, a0, sp)
    TEST_CASE(32, 0x0123456789abcdef, li t1, 0x0123456789abcdef; c.sdsp t1, 248(sp); c.ldsp a0, 248(sp))
    TEST_CASE(33, 0xffffffff89abcdef, li t1, 0x0123456789abcdef; c.swsp t1, 252(sp); c.lwsp a0, 252(sp))
    TEST_CASE(34, 0x44, li t1, 0x44; c.sdsp t1, 0(sp); c.ldsp a0, 0(sp))
    /* Register relative: c.sd/c.ld, c.sw/c.lw */
    TEST_CASE(35, 0x1122334455667788, mv s0, sp; li a1, 0x1122334455667788; c.sd a1, 248(s0); c.ld a0, 248(s0))
    TEST_CASE(36, 0xffffffff80000001, mv s0, sp; li a1, 0x80000001; c.sw a1, 124(s0); c.lw a0, 124(s0))
    TEST_CASE(37, 0x1122334455667788, mv s0, sp; c.ld a0, 248(s0))
    la sp, _stack_top

    /* Control transfer: c.j, c.jr, c.jalr (link pc + 2), c.beqz, c.bnez */
    TEST_CASE(38, 1, li a0, 0; c.j 1f; c.li a0, 5; 1: c.addi a0, 1)
    TEST_CASE(39, 2, li a0, 0; c.j 2f; 1: c.addi a0, 1; c.j 3f; 2: c.addi a0, 1; c.j 1b; 3:)
    TEST_CASE(40, 1, li a0, 0; la t1, 1f; c.jr t1; c.li a0, 5; 1: c.addi a0, 1)
    TEST_CASE(41, 2, la t1, 1f; c.jalr t1; 2: c.nop; 1: la t2, 2b; sub a0, ra, t2; addi a0, a0, 2)
    TEST_CASE(42, 1, li a0, 0; li a1, 0; c.beqz a1, 1f; c.li a0, 5; 1: c.addi a0, 1)
    TEST_CASE(43, 6, li a0, 0; li a1, 1; c.beqz a1, 1f; c.li a0, 5; 1: c.addi a0, 1)
    TEST_CASE(44, 1, li a0, 0; li a1, -1; c.bnez a1, 1f; c.li a0, 5; 1: c.addi a0, 1)
    TEST_CASE(45, 6, li a0, 0; li a1, 0; c.bnez a1, 1f; c.li a0, 5; 1: c.addi a0, 1)
    TEST_CASE(46, 3, li a0, 0; li a1, 3; 1: c.addi a0, 1; c.addi a1, -1; c.bnez a1, 1b)
    /* C.JR and C.JALR clear bit 0 of the target */
    TEST_CASE(47, 1, li a0, 0; la t1, 1f; addi t1, t1, 1; c.jr t1; c.li a0, 5; 1: c.addi a0, 1)
    /* C.EBREAK raises a breakpoint with epc at the 16-bit instruction */
    TEST_TRAP(48, CAUSE_BREAKPOINT, c.ebreak)
    POP

    /* Mixed widths at 2-byte alignment: a 32-bit instruction at pc % 4 == 2 */
    li gp, 50
    li a0, 0
    .balign 8
    RVC
    c.addi a0, 1
    NORVC
    addi a0, a0, 2                 /* at 8n + 2: straddles a 4-byte boundary */
    POP
    c.addi a0, 4
    c.addi a0, 8                   /* at 8n + 8 */
    c.nop
    c.nop
    NORVC
    addi a0, a0, 16                /* at 8n + 14: straddles an 8-byte boundary */
    POP
    POP
    CHECK_EQ a0, 31

    /* A 32-bit instruction straddling a 64-byte boundary, reached by a jump to pc % 4 == 2 */
    li gp, 51
    li a0, 0
    la t1, straddle64
    jalr ra, 0(t1)
    CHECK_EQ a0, 0x77

    /* A backward loop whose body mixes widths, target at 2-byte alignment */
    li gp, 52
    li a0, 0
    li a1, 4
    .balign 4
    RVC
    c.nop
1:  c.addi a0, 3
    NORVC
    addi a1, a1, -1
    POP
    c.bnez a1, 1b
    POP
    CHECK_EQ a0, 12
TEST_END

    .text
    .balign 64
    .fill 31, 2, 0x0001            /* 31 x c.nop: 62 bytes */
straddle64:                        /* at 64n + 62: pc % 4 == 2 */
    .option push
    .option norvc
    ori a0, a0, 0x77               /* straddles the 64-byte boundary */
    .option pop
    ret
