/*
 * SFENCE.VMA (privileged spec 4.2.1; 4.1.11 satp ASID; 4.3.1 the G bit): after a page
 * table change and the fence that covers it, the new mapping is used, for each of the
 * four forms (rs1 = x0 or a virtual address, rs2 = x0 or an ASID), for an address inside
 * a superpage other than the one cached, for a changed pointer PTE, for global mappings
 * in two address spaces, and for an ASID reused with another root. A stale translation
 * before the fence is implementation-defined, so no case looks at it. An ASID fence
 * leaves global translations correct; a non-canonical rs1 raises nothing.
 */
#include "hvtest.h"

#define MARK_A    0x1111222233334444
#define MARK_B    0x5555666677778888
#define ASID1     1
#define ASID2     2
#define VA_MEGA   0xC1000000               /* l1 entry 8 of the window: a megapage */
#define VA_GLOB   0x140000000              /* root entry 5 -> l1g -> l0g, shared */

/* a0 := the dword at va (a1 = va). */
#define LOAD_VA(va) li a1, va; ld a0, 0(a1)
/* Leaf entry idx of table := a RW leaf to target (flags added). */
#define SET_LEAF(table, idx, target, flags) PTE_LEAF_TO table, idx, target, PTE_V|PTE_R|PTE_W|PTE_AD|(flags)
/* a1 := the VA of label inside the megapage at VA_MEGA. */
.macro MEGA_ALIAS label
    la a1, \label
    slli a1, a1, 34
    srli a1, a1, 34
    li a2, VA_MEGA
    add a1, a1, a2
.endm

TEST_BEGIN
    /* address space 1 (root) and 2 (root2); the global window is shared */
    VM_STD_MAP root
    VM_TEST_WINDOW root, l1, l0
    SET_LEAF(l0, 0, page_a, 0)
    li t4, RAM_BASE
    PTE_SET l1, VPN1(VA_MEGA), t4, PTE_LEAF
    VM_STD_MAP root2
    VM_TEST_WINDOW root2, l1b, l0b
    SET_LEAF(l0b, 0, page_b, 0)
    PTE_NEXT root, VPN2(VA_GLOB), l1g
    PTE_NEXT root2, VPN2(VA_GLOB), l1g
    PTE_NEXT l1g, VPN1(VA_GLOB), l0g
    SET_LEAF(l0g, 0, page_a, PTE_G)
    la s4, root
    srli s4, s4, 12
    li a1, SATP_SV39|(ASID1<<SATP_ASID_SHIFT)
    or s4, s4, a1                            /* s4: satp of address space 1 */
    la s5, root2
    srli s5, s5, 12
    li a1, SATP_SV39|(ASID2<<SATP_ASID_SHIFT)
    or s5, s5, a1                            /* s5: satp of address space 2 */
    csrw satp, s4
    sfence.vma
    li s6, ASID1
    li s7, ASID2

    GOTO_S 1f
    /* ---- the four forms, on a 4 KiB page of ASID 1 ---- */
1:  TEST_CASE(1, MARK_A, LOAD_VA(VA_PAGE(0)))
    TEST_CASE(2, MARK_B, SET_LEAF(l0, 0, page_b, 0); sfence.vma zero, zero; LOAD_VA(VA_PAGE(0)))
    TEST_CASE(3, MARK_A, SET_LEAF(l0, 0, page_a, 0); li a1, VA_PAGE(0); sfence.vma a1, zero; LOAD_VA(VA_PAGE(0)))
    TEST_CASE(4, MARK_B, SET_LEAF(l0, 0, page_b, 0); sfence.vma zero, s6; LOAD_VA(VA_PAGE(0)))
    TEST_CASE(5, MARK_A, SET_LEAF(l0, 0, page_a, 0); li a1, VA_PAGE(0); sfence.vma a1, s6; LOAD_VA(VA_PAGE(0)))
    /* rs1 anywhere in the page */
    TEST_CASE(6, MARK_B, SET_LEAF(l0, 0, page_b, 0); li a1, VA_PAGE(0)+0x888; sfence.vma a1, zero; LOAD_VA(VA_PAGE(0)))
    /* a new page where there was none */
    li s1, VA_PAGE(1)
    TEST_TRAP_TVAL(7, CAUSE_LOAD_PAGE_FAULT, s1, ld a0, 0(s1))
    TEST_CASE(8, MARK_A, SET_LEAF(l0, 1, page_a, 0); sfence.vma s1, s6; LOAD_VA(VA_PAGE(1)))
    /* a page taken away: the fence makes the fault certain */
    la a1, l0+8
    sd zero, 0(a1)
    sfence.vma s1, zero
    TEST_TRAP_TVAL(9, CAUSE_LOAD_PAGE_FAULT, s1, ld a0, 0(s1))
    /* a fence from M-mode orders S-mode translation too */
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    SET_LEAF(l0, 0, page_a, 0)
    sfence.vma
    GOTO_S 1f
1:  TEST_CASE(10, MARK_A, LOAD_VA(VA_PAGE(0)))

    /* ---- superpage: the megapage was cached through page_a's and page_b's addresses;
       the fence and the load name a third 4 KiB page of it ---- */
    TEST_CASE(11, MARK_A, MEGA_ALIAS page_a; ld a0, 0(a1))
    TEST_CASE(12, MARK_B, MEGA_ALIAS page_b; ld a0, 0(a1))
    la a1, l1+8*VPN1(VA_MEGA)
    sd zero, 0(a1)
    li s1, VA_MEGA+MEGAPAGE-PAGE_SIZE+0x10
    sfence.vma s1, s6
    TEST_TRAP_TVAL(13, CAUSE_LOAD_PAGE_FAULT, s1, ld a0, 0(s1))
    li t4, RAM_BASE
    PTE_SET l1, VPN1(VA_MEGA), t4, PTE_LEAF
    MEGA_ALIAS page_a
    mv s1, a1
    sfence.vma s1, zero
    TEST_CASE(14, MARK_A, ld a0, 0(s1))
    TEST_CASE(15, MARK_B, MEGA_ALIAS page_b; sfence.vma a1, zero; ld a0, 0(a1))

    /* ---- a changed pointer PTE: rs1 = x0 ---- */
    TEST_CASE(16, MARK_A, LOAD_VA(VA_PAGE(0)))
    PTE_NEXT l1, VPN1(VA_TEST), l0alt
    SET_LEAF(l0alt, 0, page_b, 0)
    TEST_CASE(17, MARK_B, sfence.vma zero, s6; LOAD_VA(VA_PAGE(0)))
    PTE_NEXT l1, VPN1(VA_TEST), l0
    TEST_CASE(18, MARK_A, sfence.vma zero, zero; LOAD_VA(VA_PAGE(0)))

    /* ---- two address spaces and a global mapping ---- */
    TEST_CASE(20, MARK_A, LOAD_VA(VA_GLOB))
    TEST_CASE(21, MARK_B, csrw satp, s5; LOAD_VA(VA_PAGE(0)))
    TEST_CASE(22, MARK_A, LOAD_VA(VA_GLOB))
    /* an ASID fence: global translations stay right */
    TEST_CASE(23, MARK_A, sfence.vma zero, s7; LOAD_VA(VA_GLOB))
    /* a global leaf changed: a full fence, then both address spaces see it */
    TEST_CASE(24, MARK_B, SET_LEAF(l0g, 0, page_b, PTE_G); sfence.vma zero, zero; LOAD_VA(VA_GLOB))
    TEST_CASE(25, MARK_B, csrw satp, s4; LOAD_VA(VA_GLOB))
    /* rs1 = the address, rs2 = x0: global mappings included */
    TEST_CASE(26, MARK_A, SET_LEAF(l0g, 0, page_a, PTE_G); li a1, VA_GLOB; sfence.vma a1, zero; LOAD_VA(VA_GLOB))
    TEST_CASE(27, MARK_A, csrw satp, s5; LOAD_VA(VA_GLOB))
    /* an ASID fence in address space 2 for its own page */
    TEST_CASE(28, MARK_A, SET_LEAF(l0b, 0, page_a, 0); sfence.vma zero, s7; LOAD_VA(VA_PAGE(0)))
    TEST_CASE(29, MARK_B, SET_LEAF(l0b, 0, page_b, 0); li a1, VA_PAGE(0); sfence.vma a1, s7; LOAD_VA(VA_PAGE(0)))
    /* ASID 1 reused for root2: fenced for ASID 1 after the switch */
    li a1, SATP_SV39|(ASID1<<SATP_ASID_SHIFT)
    la a2, root2
    srli a2, a2, 12
    or a1, a1, a2
    csrw satp, a1
    TEST_CASE(30, MARK_B, sfence.vma zero, s6; LOAD_VA(VA_PAGE(0)))
    csrw satp, s4
    TEST_CASE(31, MARK_A, sfence.vma zero, s6; LOAD_VA(VA_PAGE(0)))
    /* ---- a non-canonical rs1 is no exception ---- */
    TEST_CASE(32, MARK_A, li a1, 0x8000000000001000; sfence.vma a1, zero; sfence.vma a1, s6; LOAD_VA(VA_PAGE(0)))
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    csrw satp, zero
    sfence.vma
TEST_END

    .data
    VM_TABLES
    PAGE_TABLE l0alt
    PAGE_TABLE root2
    PAGE_TABLE l1b
    PAGE_TABLE l0b
    PAGE_TABLE l1g
    PAGE_TABLE l0g
    DATA_PAGE page_a, MARK_A
    DATA_PAGE page_b, MARK_B
