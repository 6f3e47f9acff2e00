/*
 * Sv39 basics (privileged spec 4.1.11 satp, 4.3 Sv32 scheme as extended by 4.4 Sv39):
 * satp WARL fields (MODE Bare/Sv39 only, writes of any other MODE ignored, ASID and PPN
 * widths), no translation in M-mode, 4 KiB translation of S and U loads, stores and
 * fetches, page offsets, two virtual pages on one physical page, a gigapage in the upper
 * canonical half, and address spaces told apart by their ASID.
 *
 * Choices of the golden model (Spike) pinned here: ASIDLEN = 16 (satp.ASID reads 0xffff
 * after writing all ones) and all 44 PPN bits of satp are writable.
 */
#include "hvtest.h"

#define ASID_A    0x5a5
#define ASID_B    0x3c3
#define MARK_A    0x1111222233334444
#define MARK_B    0x5555666677778888
#define MARK_C    0x99990000aaaabbbb
#define CODE_RET  0x5a
#define VA_HIGH   0xffffffffc0000000   /* root entry 511: a gigapage over RAM */

/* a0 := the dword at virtual address va + off. */
#define LOAD_VA(va, off) li a1, (va)+(off); ld a0, 0(a1)

TEST_BEGIN
    /* ---- satp WARL (M-mode, no translation) ---- */
    TEST_CASE(1, SATP_SV39|(ASID_A<<SATP_ASID_SHIFT)|0x80123, li a1, SATP_SV39|(ASID_A<<SATP_ASID_SHIFT)|0x80123; csrw satp, a1; csrr a0, satp)
    /* every MODE other than Bare (0) and Sv39 (8) is ignored: satp keeps its value */
    li gp, 2
    li s1, 1
1:  li a1, 8
    beq s1, a1, 2f
    slli a1, s1, SATP_MODE_SHIFT
    ori a1, a1, 0x77
    csrw satp, a1
    CHECK_CSR satp, SATP_SV39|(ASID_A<<SATP_ASID_SHIFT)|0x80123
2:  addi s1, s1, 1
    li a1, 16
    bne s1, a1, 1b
    TEST_CASE(3, 0xffff, li a1, SATP_SV39|(0xffff<<SATP_ASID_SHIFT); csrw satp, a1; csrr a0, satp; slli a0, a0, 4; srli a0, a0, 48)
    TEST_CASE(4, 0xfffffffffff, li a1, SATP_SV39|0xfffffffffff; csrw satp, a1; csrr a0, satp; slli a0, a0, 20; srli a0, a0, 20)
    TEST_CASE(5, 0, csrw satp, zero; csrr a0, satp)

    /* ---- page tables: the standard map, the test window, a high gigapage ---- */
    VM_STD_MAP root
    VM_TEST_WINDOW root, l1, l0
    PTE_LEAF_TO l0, 0, page_a, PTE_LEAF
    PTE_LEAF_TO l0, 1, page_b, PTE_LEAF
    PTE_LEAF_TO l0, 2, page_a, PTE_LEAF
    PTE_LEAF_TO l0, 3, code_page, PTE_V|PTE_X|PTE_A
    PTE_LEAF_TO l0, 4, page_c, PTE_LEAF|PTE_U
    PTE_LEAF_TO l0, 5, code_page, PTE_V|PTE_X|PTE_A|PTE_U
    li t6, RAM_BASE
    PTE_SET root, VPN2(VA_HIGH), t6, PTE_LEAF
    /* a second address space: the same map but VA_PAGE(0) -> page_b */
    VM_STD_MAP root2
    VM_TEST_WINDOW root2, l1b, l0b
    PTE_LEAF_TO l0b, 0, page_b, PTE_LEAF
    SATP_SV39_SET root, ASID_A

    /* ---- M-mode ignores satp: physical accesses, VA_TEST is no RAM ---- */
    TEST_CASE(6, MARK_A, la a1, page_a; ld a0, 0(a1))
    li gp, 7
    li s1, VA_TEST
    EXPECT_TRAP CAUSE_LOAD_ACCESS, 1f, 2f
    EXPECT_TVAL s1
1:  ld a0, 0(s1)
2:  CHECK_TRAP_TAKEN

    /* ---- S-mode through 4 KiB pages ---- */
    GOTO_S 1f
1:  TEST_CASE(10, MARK_A, LOAD_VA(VA_PAGE(0), 0))
    TEST_CASE(11, MARK_B, LOAD_VA(VA_PAGE(1), 0))
    TEST_CASE(12, ~MARK_B, LOAD_VA(VA_PAGE(1), PAGE_SIZE-8))
    /* a store through VA_PAGE(0) lands in page_a; VA_PAGE(2) sees it too */
    TEST_CASE(13, 0x0123456789abcdef, li a1, VA_PAGE(0); li a2, 0x0123456789abcdef; sd a2, 8(a1); la a1, page_a; ld a0, 8(a1))
    TEST_CASE(14, 0x0123456789abcdef, LOAD_VA(VA_PAGE(2), 8))
    /* byte and halfword accesses keep the page offset */
    TEST_CASE(15, 0xa5, li a1, VA_PAGE(2); li a2, 0xa5; sb a2, 0x123(a1); la a1, page_a; lbu a0, 0x123(a1))
    TEST_CASE(16, -2, li a1, VA_PAGE(0); li a2, -2; sh a2, 0x7fe(a1); la a1, page_a; li a3, 0x7fe; add a1, a1, a3; lh a0, 0(a1))
    /* fetch from an execute-only page */
    TEST_CASE(17, CODE_RET, li a0, 0; li a1, VA_PAGE(3); jalr a1)
    /* the upper canonical half: a gigapage at root entry 511 */
    TEST_CASE(18, MARK_C, la a1, page_c; li a2, RAM_BASE; sub a1, a1, a2; li a2, VA_HIGH; add a1, a1, a2; ld a0, 0(a1))

    /* ---- ASIDs: two address spaces, switched without SFENCE.VMA ---- */
    la s1, root2
    srli s1, s1, 12
    li a1, SATP_SV39|(ASID_B<<SATP_ASID_SHIFT)
    or s1, s1, a1
    csrr s2, satp
    TEST_CASE(20, MARK_A, LOAD_VA(VA_PAGE(0), 0))
    TEST_CASE(21, MARK_B, csrw satp, s1; LOAD_VA(VA_PAGE(0), 0))
    TEST_CASE(22, ASID_B, csrr a0, satp; slli a0, a0, 4; srli a0, a0, 48)
    TEST_CASE(23, MARK_A, csrw satp, s2; LOAD_VA(VA_PAGE(0), 0))
    TEST_CASE(24, MARK_B, csrw satp, s1; LOAD_VA(VA_PAGE(0), 0))
    csrw satp, s2

    /* ---- U-mode, running at the U alias of RAM ---- */
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    GOTO_UA 1f
1:  TEST_CASE(30, 1, la a1, 1b; li a2, RAM_BASE; sltu a0, a1, a2)
    TEST_CASE(31, MARK_C, LOAD_VA(VA_PAGE(4), 0))
    TEST_CASE(32, 0x4242, li a1, VA_PAGE(4); li a2, 0x4242; sd a2, 16(a1); ld a0, 16(a1))
    TEST_CASE(33, CODE_RET, li a0, 0; li a1, VA_PAGE(5); jalr a1)
    ECALL_TO_M_PHYS CAUSE_USER_ECALL
    TEST_CASE(34, 0x4242, la a1, page_c; ld a0, 16(a1))
    TEST_CASE(35, PRV_U, LAST_TRAP a1, LAST_STATUS; srli a0, a1, 11; andi a0, a0, 3)
    csrw satp, zero
TEST_END

/* Execute-only code mapped at VA_PAGE(3) and VA_PAGE(5). */
    VM_CODE_PAGE CODE_RET

    .data
    VM_TABLES
    PAGE_TABLE root2
    PAGE_TABLE l1b
    PAGE_TABLE l0b
    DATA_PAGE page_a, MARK_A
    DATA_PAGE page_b, MARK_B
    DATA_PAGE page_c, MARK_C
