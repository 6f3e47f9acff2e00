/*
 * Sv39 superpages (privileged spec 4.3.2 steps 4-6 and 8, 4.4): leaves at level 1 (2 MiB
 * megapages) and level 2 (1 GiB gigapages) map contiguous ranges in which the lower VPN
 * fields pass through to the physical address; several 4 KiB pages of one superpage
 * translate independently; S and U loads, stores and fetches; a superpage whose PPN is
 * not aligned to its size (PPN[0] != 0, or PPN[1] != 0 for a gigapage) raises the page
 * fault of the access type.
 */
#include "hvtest.h"

#define MARK_A    0x1111222233334444
#define MARK_B    0x5555666677778888
#define CODE_RET  0x5a
/* megapages in the l1 table of the test window */
#define VA_MEGA_S    0xC1000000   /* RAM_BASE, RWX */
#define VA_MEGA_U    0xC1200000   /* RAM_BASE, U RWX */
#define VA_MEGA_MIS  0xC1400000   /* RAM_BASE + 4 KiB: misaligned */
/* gigapages in the root table */
#define VA_GIGA_S    0x100000000  /* RAM_BASE, RWX */
#define VA_GIGA_MIS1 0x140000000  /* RAM_BASE + 2 MiB: misaligned (PPN[1] != 0) */
#define VA_GIGA_MIS0 0x180000000  /* RAM_BASE + 4 KiB: misaligned (PPN[0] != 0) */
#define VA_GIGA_U    0x1C0000000  /* RAM_BASE, U RWX */
/* a dword near the top of RAM, beyond the first megapage when RAM is larger than 2 MiB */
#define TOP_OFF      (RAM_SIZE-64)

/* a1 := the alias in the superpage at va of label: its offset in RAM added to va (RAM and
   its aliases are gigapage aligned, so the offset is the low 30 bits of any alias). */
.macro ALIAS label, va
    la a1, \label
    slli a1, a1, 34
    srli a1, a1, 34
    li a2, \va
    add a1, a1, a2
.endm
/* Case n: load, store and fetch at va + 0x1238 (fetch: at va) raise page faults. */
.macro MISALIGNED_FAULTS n, va
    li s1, (\va)+0x1238
    TEST_TRAP_TVAL(\n, CAUSE_LOAD_PAGE_FAULT, s1, ld a0, 0(s1))
    TEST_TRAP_TVAL(\n+1, CAUSE_STORE_PAGE_FAULT, s1, sw zero, 0(s1))
    li s1, \va
    TEST_FETCH_FAULT(\n+2, CAUSE_FETCH_PAGE_FAULT, s1)
.endm

TEST_BEGIN
    VM_STD_MAP root
    VM_TEST_WINDOW root, l1, l0
    li s1, RAM_BASE
    li s2, RAM_BASE+PAGE_SIZE
    li s3, RAM_BASE+MEGAPAGE
    PTE_SET l1, VPN1(VA_MEGA_S), s1, PTE_LEAF
    PTE_SET l1, VPN1(VA_MEGA_U), s1, PTE_LEAF|PTE_U
    PTE_SET l1, VPN1(VA_MEGA_MIS), s2, PTE_LEAF
    PTE_SET root, VPN2(VA_GIGA_S), s1, PTE_LEAF
    PTE_SET root, VPN2(VA_GIGA_MIS1), s3, PTE_LEAF
    PTE_SET root, VPN2(VA_GIGA_MIS0), s2, PTE_LEAF
    PTE_SET root, VPN2(VA_GIGA_U), s1, PTE_LEAF|PTE_U
    /* a marker at the top of RAM, written physically */
    li a1, RAM_BASE+TOP_OFF
    li a2, 0x0f0f0f0f0f0f0f0f
    sd a2, 0(a1)
    SATP_SV39_SET root

    GOTO_S 1f
    /* ---- megapage, S ---- */
1:  TEST_CASE(1, MARK_A, ALIAS page_a, VA_MEGA_S; ld a0, 0(a1))
    TEST_CASE(2, ~MARK_B, ALIAS page_b, VA_MEGA_S; li a2, PAGE_SIZE-8; add a1, a1, a2; ld a0, 0(a1))
    TEST_CASE(3, MARK_A, ALIAS page_a, VA_MEGA_S; ld a0, 0(a1))
    TEST_CASE(4, 0x3344, ALIAS page_b, VA_MEGA_S; li a2, 0x3344; sh a2, 8(a1); la a1, page_b; lhu a0, 8(a1))
    TEST_CASE(5, CODE_RET, li a0, 0; ALIAS code_page, VA_MEGA_S; jalr a1)
#if RAM_SIZE >= MEGAPAGE
    TEST_CASE(6, 0x0f0f0f0f0f0f0f0f, li a1, VA_MEGA_S+MEGAPAGE-64; ld a0, 0(a1); li a2, RAM_BASE+MEGAPAGE-64; ld a2, 0(a2); sub a0, a0, a2; li a2, 0x0f0f0f0f0f0f0f0f; add a0, a0, a2)
#endif
    /* ---- gigapage, S ---- */
    TEST_CASE(10, MARK_B, ALIAS page_b, VA_GIGA_S; ld a0, 0(a1))
    TEST_CASE(11, 0x0f0f0f0f0f0f0f0f, li a1, VA_GIGA_S+TOP_OFF; ld a0, 0(a1))
    TEST_CASE(12, 0x5566, li a1, VA_GIGA_S+TOP_OFF; li a2, 0x5566; sd a2, 8(a1); li a1, RAM_BASE+TOP_OFF; ld a0, 8(a1))
    TEST_CASE(13, CODE_RET, li a0, 0; ALIAS code_page, VA_GIGA_S; jalr a1)
    TEST_CASE(14, ~MARK_A, ALIAS page_a, VA_GIGA_S; li a2, PAGE_SIZE-8; add a1, a1, a2; ld a0, 0(a1))
    /* ---- misaligned superpages ---- */
    MISALIGNED_FAULTS 20, VA_MEGA_MIS
    MISALIGNED_FAULTS 23, VA_GIGA_MIS1
    MISALIGNED_FAULTS 26, VA_GIGA_MIS0
    /* S never executes U superpages */
    li s1, VA_MEGA_U
    TEST_FETCH_FAULT(29, CAUSE_FETCH_PAGE_FAULT, s1)
    li s1, VA_GIGA_U
    TEST_FETCH_FAULT(30, CAUSE_FETCH_PAGE_FAULT, s1)

    /* ---- U-mode through U superpages ---- */
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    GOTO_UA 1f
1:  TEST_CASE(40, MARK_A, ALIAS page_a, VA_MEGA_U; ld a0, 0(a1))
    TEST_CASE(41, MARK_B, ALIAS page_b, VA_GIGA_U; ld a0, 0(a1))
    TEST_CASE(42, 0x77, ALIAS page_b, VA_MEGA_U; li a2, 0x77; sb a2, 16(a1); ALIAS page_b, VA_GIGA_U; lbu a0, 16(a1))
    TEST_CASE(43, CODE_RET, li a0, 0; ALIAS code_page, VA_MEGA_U; jalr a1)
    TEST_CASE(44, CODE_RET, li a0, 0; ALIAS code_page, VA_GIGA_U; jalr a1)
    li s1, VA_MEGA_S+0x100
    TEST_TRAP_TVAL(45, CAUSE_LOAD_PAGE_FAULT, s1, ld a0, 0(s1))
    li s1, VA_GIGA_S+0x100
    TEST_TRAP_TVAL(46, CAUSE_STORE_PAGE_FAULT, s1, sd a0, 0(s1))
    ECALL_TO_M_PHYS CAUSE_USER_ECALL
    csrw satp, zero
    sfence.vma
TEST_END

    VM_CODE_PAGE CODE_RET

    .data
    VM_TABLES
    DATA_PAGE page_a, MARK_A
    DATA_PAGE page_b, MARK_B
