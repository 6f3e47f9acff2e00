/*
 * Trap virtual memory (privileged spec 3.1.6.5 mstatus.TVM, 4.1.11 satp, 4.2.1
 * SFENCE.VMA): with TVM = 1, S-mode reads and writes of satp and SFENCE.VMA (every
 * rs1/rs2 form) raise illegal instruction (xtval = the instruction bits) and leave satp
 * unchanged, M-mode is not affected; with TVM = 0 S-mode may use both; U-mode can use
 * neither, whatever TVM is; a delegated illegal instruction from S goes to S.
 */
#include "hvtest.h"

#define MARK_A    0x1111222233334444

/* Case n: insn (32-bit) is illegal and trapped by the S handler, stval = its bits. */
.macro ILLEGAL_IN_S n, insn:vararg
    li gp, \n
    lwu t4, 8881f
    EXPECT_TRAP CAUSE_ILLEGAL_INSTRUCTION, 8881f, 8882f, F_IN_S
    EXPECT_TVAL t4
    .balign 4
    .option push
    .option norvc
8881: \insn
    .option pop
8882: CHECK_TRAP_TAKEN
.endm

TEST_BEGIN
    VM_STD_MAP root
    VM_TEST_WINDOW root, l1, l0
    PTE_LEAF_TO l0, 0, page_a, PTE_LEAF
    SATP_SV39_SET root, 3
    csrr s4, satp
    li a1, VA_PAGE(0)
    li a2, 3
    li s2, MSTATUS_TVM

    /* ---- TVM = 1: M-mode unaffected ---- */
    csrs mstatus, s2
    TEST_CASE(1, 0, csrr a0, satp; sub a0, a0, s4)
    TEST_CASE(2, 0, csrw satp, s4; sfence.vma; sfence.vma a1, a2; csrr a0, satp; sub a0, a0, s4)

    /* ---- TVM = 1: S-mode traps ---- */
    GOTO_S 1f
1:  TEST_CASE(3, MARK_A, li a1, VA_PAGE(0); ld a0, 0(a1))
    TEST_ILLEGAL(4, csrr a0, satp)
    TEST_ILLEGAL(5, csrw satp, zero)
    TEST_ILLEGAL(6, csrrw a0, satp, a1)
    TEST_ILLEGAL(7, csrrsi a0, satp, 0)
    TEST_ILLEGAL(8, csrrc zero, satp, a1)
    TEST_ILLEGAL(9, sfence.vma)
    TEST_ILLEGAL(10, sfence.vma a1, zero)
    TEST_ILLEGAL(11, sfence.vma zero, a2)
    TEST_ILLEGAL(12, sfence.vma a1, a2)
    /* other S CSRs still work, translation goes on */
    TEST_CASE(13, MARK_A, csrr a3, sstatus; li a1, VA_PAGE(0); ld a0, 0(a1))
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    TEST_CASE(14, 0, csrr a0, satp; sub a0, a0, s4)
    /* delegated: the S handler takes it */
    li a1, 1<<CAUSE_ILLEGAL_INSTRUCTION
    csrw medeleg, a1
    GOTO_S 1f
1:  ILLEGAL_IN_S 15, csrr a0, satp
    ILLEGAL_IN_S 16, sfence.vma a1, a2
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    csrw medeleg, zero

    /* ---- TVM = 0: S-mode may use satp and SFENCE.VMA ---- */
    csrc mstatus, s2
    GOTO_S 1f
1:  TEST_CASE(20, 0, csrr a0, satp; sub a0, a0, s4)
    li s3, 7 << SATP_ASID_SHIFT
    TEST_CASE(21, 0, xor a1, s4, s3; csrw satp, a1; csrr a0, satp; xor a0, a0, s3; sub a0, a0, s4)
    TEST_CASE(22, MARK_A, sfence.vma; li a1, VA_PAGE(0); ld a0, 0(a1))
    TEST_CASE(23, MARK_A, csrw satp, s4; li a1, VA_PAGE(0); li a2, 3; sfence.vma a1, zero; sfence.vma zero, a2; sfence.vma a1, a2; ld a0, 0(a1))

    /* ---- U-mode: never, whatever TVM ---- */
    GOTO_UA_FROM_S 1f
1:  TEST_ILLEGAL(30, sfence.vma)
    TEST_ILLEGAL(31, sfence.vma a1, a2)
    TEST_ILLEGAL(32, csrr a0, satp)
    TEST_ILLEGAL(33, csrw satp, zero)
    ECALL_TO_M_PHYS CAUSE_USER_ECALL
    csrs mstatus, s2
    GOTO_UA 1f
1:  TEST_ILLEGAL(34, sfence.vma)
    TEST_ILLEGAL(35, csrr a0, satp)
    ECALL_TO_M_PHYS CAUSE_USER_ECALL
    TEST_CASE(36, 0, csrr a0, satp; sub a0, a0, s4)
    csrc mstatus, s2
    csrw satp, zero
    sfence.vma
TEST_END

    .data
    VM_TABLES
    DATA_PAGE page_a, MARK_A
