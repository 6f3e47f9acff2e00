/*
 * Synchronous exceptions (privileged spec 3.1.15, 3.1.16, 3.3.1): every cause the
 * profile can raise, with mcause, mepc and mtval checked by the runtime's handler, and
 * the mstatus stack (MIE/MPIE/MPP) on trap entry and mret.
 */
#include "hvtest.h"

/* A hole in the physical address map (no device in Spike or in the SoC). */
#define UNMAPPED 0x20000000

TEST_BEGIN
    la s0, hv_scratch
    /* ---- 0: instruction address misaligned cannot happen with C: JALR clears bit 0
       and every even target is legal; mepc bit 0 reads 0 so mret cannot misalign ---- */
    TEST_CASE(1, 1, li a0, 0; la a1, 1f; ori a1, a1, 1; jalr x0, 0(a1); j 2f; .balign 4; 1: li a0, 1; 2:)
    TEST_CASE(2, 2, li a0, 0; la a1, 1f; jr a1; .balign 4; c.nop; 1: li a0, 2)
    TEST_CASE(3, 3, li a0, 0; la a1, 1f; ori a1, a1, 1; csrw mepc, a1; li a2, MSTATUS_MPP; csrs mstatus, a2; mret; j 2f; .balign 4; 1: li a0, 3; 2:)

    /* ---- 1: instruction access fault: mepc = mtval = the target ---- */
    li gp, 4
    li s1, UNMAPPED
    EXPECT_CAUSE CAUSE_FETCH_ACCESS
    EXPECT_RESUME 1f
    EXPECT_EPC s1
    EXPECT_TVAL s1
    jalr ra, 0(s1)
1:  CHECK_TRAP_TAKEN
    li gp, 5
    li s1, RAM_BASE + RAM_SIZE
    EXPECT_CAUSE CAUSE_FETCH_ACCESS
    EXPECT_RESUME 1f
    EXPECT_EPC s1
    EXPECT_TVAL s1
    jr s1
1:  CHECK_TRAP_TAKEN

    /* ---- 2: illegal instruction, mtval = the instruction bits ---- */
    TEST_ILLEGAL(6, .word 0x0000000b)            /* custom-0 opcode */
    TEST_ILLEGAL(7, .word 0xc0001073)            /* unimp: csrrw x0, cycle, x0 */
    TEST_ILLEGAL(8, .word 0x00052007)            /* flw: no F extension */
    TEST_ILLEGAL(9, .word 0x02000053)            /* fadd.d: no D extension */
    TEST_ILLEGAL(10, .word 0x0000005b)           /* custom-2 opcode */
    TEST_ILLEGAL(11, .word 0x30200073 | (1<<15)) /* mret with rs1 != 0 */
    TEST_ILLEGAL(12, .word 0x12000073 | (1<<7))  /* sfence.vma with rd != 0 */
    /* 16-bit illegal instructions: mtval holds the 16 bits, zero-extended */
    li gp, 13
    li s1, 0x0004                                /* c.addi4spn with a zero immediate */
    EXPECT_TRAP CAUSE_ILLEGAL_INSTRUCTION, 1f, 2f
    EXPECT_TVAL s1
1:  .hword 0x0004
2:  CHECK_TRAP_TAKEN
    li gp, 14
    li s1, 0x6101                                /* c.addi16sp with a zero immediate */
    EXPECT_TRAP CAUSE_ILLEGAL_INSTRUCTION, 1f, 2f
    EXPECT_TVAL s1
1:  .hword 0x6101
2:  CHECK_TRAP_TAKEN
    li gp, 15
    li s1, 0x2000                                /* c.fld: no D extension */
    EXPECT_TRAP CAUSE_ILLEGAL_INSTRUCTION, 1f, 2f
    EXPECT_TVAL s1
1:  .hword 0x2000
2:  CHECK_TRAP_TAKEN
    li gp, 16
    EXPECT_TRAP CAUSE_ILLEGAL_INSTRUCTION, 1f, 2f
    EXPECT_TVAL zero
1:  .hword 0x0000                                /* the all-zero instruction */
2:  CHECK_TRAP_TAKEN

    /* ---- 3: breakpoint, mtval = the address of the ebreak ---- */
    li gp, 17
    la s1, 1f
    EXPECT_TRAP CAUSE_BREAKPOINT, 1f, 2f
    EXPECT_TVAL s1
    .option push
    .option norvc
1:  ebreak
    .option pop
2:  CHECK_TRAP_TAKEN
    li gp, 18
    la s1, 1f
    EXPECT_TRAP CAUSE_BREAKPOINT, 1f, 2f
    EXPECT_TVAL s1
1:  c.ebreak
2:  CHECK_TRAP_TAKEN

    /* ---- 4 / 6: address misaligned, mtval = the address ---- */
    addi s1, s0, 1
    TEST_TRAP_TVAL(19, CAUSE_MISALIGNED_LOAD, s1, lh a0, 0(s1))
    TEST_TRAP_TVAL(20, CAUSE_MISALIGNED_STORE, s1, sw a0, 0(s1))
    /* ---- 5 / 7: access faults, mtval = the address ---- */
    li s1, UNMAPPED
    TEST_TRAP_TVAL(21, CAUSE_LOAD_ACCESS, s1, ld a0, 0(s1))
    TEST_TRAP_TVAL(22, CAUSE_LOAD_ACCESS, s1, lbu a0, 0(s1))
    TEST_TRAP_TVAL(23, CAUSE_STORE_ACCESS, s1, sd a0, 0(s1))
    TEST_TRAP_TVAL(24, CAUSE_STORE_ACCESS, s1, amoadd.w a0, a1, (s1))
    li s1, RAM_BASE + RAM_SIZE
    TEST_TRAP_TVAL(25, CAUSE_LOAD_ACCESS, s1, lw a0, 0(s1))
    TEST_TRAP_TVAL(26, CAUSE_STORE_ACCESS, s1, sb a0, 0(s1))
    /* the boot ROM is read-only */
    li s1, BOOTROM_BASE
    TEST_TRAP_TVAL(27, CAUSE_STORE_ACCESS, s1, sw a0, 0(s1))
    TEST_CASE(28, 1, li a1, BOOTROM_BASE; lw a0, 0(a1); snez a0, a0)
    /* a faulting load leaves rd unchanged */
    TEST_CASE(29, 0x99, li a0, 0x99; li a1, UNMAPPED; EXPECT_CAUSE CAUSE_LOAD_ACCESS; ld a0, 0(a1); CHECK_TRAP_TAKEN)

    /* ---- 11 / 9 / 8: environment calls, mepc = the ecall, mtval = 0 ---- */
    TEST_TRAP_TVAL(30, CAUSE_MACHINE_ECALL, zero, ecall)
    li gp, 31
    GOTO_S 1f
1:  EXPECT_TRAP CAUSE_SUPERVISOR_ECALL, 2f, 3f, F_RESUME_M
    EXPECT_TVAL zero
    EXPECT_PRIV PRV_S
2:  ecall
3:  CHECK_TRAP_TAKEN
    li gp, 32
    GOTO_U 1f
1:  EXPECT_TRAP CAUSE_USER_ECALL, 2f, 3f, F_RESUME_M
    EXPECT_TVAL zero
    EXPECT_PRIV PRV_U
2:  ecall
3:  CHECK_TRAP_TAKEN
    /* back in M-mode: M-mode works */
    TEST_CASE(33, 3, csrr a1, mstatus; li a0, 3)

    /* ---- trap entry stacks MIE into MPIE and clears MIE; mret restores it,
       sets MPIE, and leaves MPP = U ---- */
    csrw mie, zero
    li a1, MSTATUS_MIE
    csrs mstatus, a1
    TEST_TRAP(34, CAUSE_MACHINE_ECALL, ecall)
    TEST_CASE(35, MSTATUS_MPIE|MSTATUS_MPP, LAST_TRAP a1, LAST_STATUS; li a2, MSTATUS_MIE|MSTATUS_MPIE|MSTATUS_MPP; and a0, a1, a2)
    TEST_CASE(36, MSTATUS_MIE|MSTATUS_MPIE, csrr a1, mstatus; li a2, MSTATUS_MIE|MSTATUS_MPIE|MSTATUS_MPP; and a0, a1, a2)
    csrc mstatus, a1
    /* mtval is written on every trap: zero for an ecall after a fault */
    li s1, UNMAPPED
    TEST_TRAP(37, CAUSE_LOAD_ACCESS, ld a0, 0(s1))
    TEST_TRAP(38, CAUSE_MACHINE_ECALL, ecall)
    TEST_CASE(39, 0, csrr a0, mtval)
TEST_END
