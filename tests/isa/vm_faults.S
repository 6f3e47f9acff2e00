/*
 * Sv39 page faults and bad page tables (privileged spec 4.1.9 stval, 4.3.1, 4.3.2 (the
 * translation process), 4.4.1 (PTE bits 63:54, canonical addresses); 3.1.8 medeleg):
 * instruction, load and store page faults (12, 13, 15) with xtval = the faulting
 * virtual address; V = 0 at each level; a pointer PTE at level 0; non-canonical
 * addresses; reserved PTE bits 63:54 in leaves and pointers (no Svnapot, no Svpbmt);
 * pointers with A, D or U set; RSW and G ignored; page-table and final addresses outside
 * RAM (access faults 1, 5, 7); a page table that points to itself; a 32-bit instruction
 * whose second half lies on an unmapped or non-executable page; page faults delegated
 * to S through medeleg.
 *
 * Choices of the golden model (Spike) pinned here:
 * - a pointer PTE with A, D or U set, or with any of bits 63:54 set, is a page fault
 *   (reserved bits; 1.12 only asks software to clear them, later versions of the
 *   translation process (step 3) fault on them, as Spike does);
 * - a PTE read outside RAM raises the access fault of the original access type with
 *   xtval = the virtual address;
 * - an instruction that straddles into a page that faults reports xepc = the start of
 *   the instruction and xtval = the address of its second half (the page boundary).
 */
#include "hvtest.h"

#define MARK_A    0x1111222233334444
#define OUTSIDE   (RAM_BASE+RAM_SIZE)   /* no memory there */

/* The test window (VA_PAGE(i)) */
#define P_OK      0    /* page_a */
#define P_INVAL   1    /* V = 0, everything else set */
#define P_PTR0    2    /* a pointer at level 0 */
#define P_RES54   3    /* leaf with bit 54 */
#define P_RES60   4    /* bit 60 */
#define P_PBMT1   5    /* bit 61 */
#define P_PBMT2   6    /* bit 62 */
#define P_NAPOT   7    /* bit 63 */
#define P_RSW     8    /* RSW bits set: ignored */
#define P_GLOBAL  9    /* G set */
#define P_XFIRST  10   /* xpage, X */
#define P_XSECOND 11   /* unmapped, then xpage + 4 KiB R only, then X */
#define P_OUTSIDE 12   /* leaf to OUTSIDE */
/* l1 entries of the test window (each 2 MiB region's first page is l0[0] when valid) */
#define L1_INVAL  6
#define L1_A      7
#define L1_D      8
#define L1_U      9
#define L1_RES54  10
#define L1_NAPOT  11
#define L1_OUT    12
#define L1_RSW    13
#define VA_L1(i)  (VA_TEST-VPN1(VA_TEST)*MEGAPAGE+(i)*MEGAPAGE)
/* root entries */
#define R_OUT     9    /* a pointer to OUTSIDE */
#define R_LOOP    10   /* a pointer to the root itself */
#define VA_ROOT(i) ((i)*GIGAPAGE)
#define VA_LOOP   ((R_LOOP<<30)|(R_LOOP<<21)|(R_LOOP<<12))
#define VA_LOOP_LEAF ((R_LOOP<<30)|(R_LOOP<<21)|(VPN2(RAM_BASE)<<12))

/* Case n (n, n+1, n+2): load, store and fetch at va fault with the given causes and
   xtval = va (the loads and stores at va + 16). */
.macro ALL_FAULT n, va, lc=CAUSE_LOAD_PAGE_FAULT, sc=CAUSE_STORE_PAGE_FAULT, fc=CAUSE_FETCH_PAGE_FAULT
    li s1, (\va)+16
    TEST_TRAP_TVAL(\n, \lc, s1, ld a0, 0(s1))
    TEST_TRAP_TVAL(\n+1, \sc, s1, sd zero, 0(s1))
    li s1, \va
    TEST_FETCH_FAULT(\n+2, \fc, s1)
.endm
.macro LOAD_FAULT n, va, cause=CAUSE_LOAD_PAGE_FAULT
    li s1, \va
    TEST_TRAP_TVAL(\n, \cause, s1, ld a0, 0(s1))
.endm
/* Leaf l0[i] := page_a with flags and the raw high bits. */
.macro LEAF_HI i, hi
    la t6, page_a
    PTE_SET l0, \i, t6, PTE_LEAF
    la t5, l0+8*(\i)
    ld t6, 0(t5)
    li t4, \hi
    or t6, t6, t4
    sd t6, 0(t5)
.endm
/* Pointer l1[i] := l0 with extra bits. */
.macro PTR_EXTRA i, extra
    la t6, l0
    srli t6, t6, 2
    ori t6, t6, PTE_V
    li t4, \extra
    or t6, t6, t4
    la t5, l1+8*(\i)
    sd t6, 0(t5)
.endm
/* S-mode: l0[i] := a leaf to the address in register pa with flags, then a full fence. */
.macro REMAP i, pa, flags
    PTE_SET l0, \i, \pa, \flags
    sfence.vma
.endm

TEST_BEGIN
    VM_STD_MAP root
    VM_TEST_WINDOW root, l1, l0
    PTE_LEAF_TO l0, P_OK, page_a, PTE_LEAF
    la t6, page_a
    PTE_SET l0, P_INVAL, t6, PTE_R|PTE_W|PTE_X|PTE_U|PTE_G|PTE_AD
    PTE_NEXT l0, P_PTR0, page_a
    LEAF_HI P_RES54, 1<<54
    LEAF_HI P_RES60, 1<<60
    LEAF_HI P_PBMT1, 1<<61
    LEAF_HI P_PBMT2, 1<<62
    LEAF_HI P_NAPOT, 1<<63
    PTE_LEAF_TO l0, P_RSW, page_a, PTE_LEAF|PTE_RSW
    PTE_LEAF_TO l0, P_GLOBAL, page_a, PTE_LEAF|PTE_G
    PTE_LEAF_TO l0, P_XFIRST, xpage, PTE_V|PTE_X|PTE_A
    li t4, OUTSIDE
    PTE_SET l0, P_OUTSIDE, t4, PTE_LEAF
    PTR_EXTRA L1_A, PTE_A
    PTR_EXTRA L1_D, PTE_D
    PTR_EXTRA L1_U, PTE_U
    PTR_EXTRA L1_RES54, 1<<54
    PTR_EXTRA L1_NAPOT, 1<<63
    PTR_EXTRA L1_RSW, PTE_RSW
    li t4, OUTSIDE
    PTE_SET l1, L1_OUT, t4, PTE_V
    PTE_SET root, R_OUT, t4, PTE_V
    PTE_NEXT root, R_LOOP, root
    SATP_SV39_SET root

    /* ---- satp's root outside RAM: an MPRV load from M walks it ---- */
    li s1, OUTSIDE
    srli s1, s1, 12
    li a1, SATP_SV39
    or s1, s1, a1
    csrr s2, satp
    li gp, 1
    li s3, VA_TEST
    EXPECT_TRAP CAUSE_LOAD_ACCESS, 1f, 2f
    EXPECT_TVAL s3
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    li a1, MSTATUS_MPRV|MSTATUS_MPP_S
    csrw satp, s1
    sfence.vma
    csrs mstatus, a1
1:  ld a0, 0(s3)
2:  li a1, MSTATUS_MPRV
    csrc mstatus, a1
    csrw satp, s2
    sfence.vma
    CHECK_TRAP_TAKEN

    GOTO_S 1f
    /* ---- the translation works where it should ---- */
1:  TEST_CASE(2, MARK_A, li a1, VA_PAGE(P_OK); ld a0, 0(a1))
    TEST_CASE(3, MARK_A, li a1, VA_PAGE(P_RSW); ld a0, 0(a1))
    TEST_CASE(4, MARK_A, li a1, VA_PAGE(P_GLOBAL); ld a0, 0(a1))
    TEST_CASE(5, MARK_A, li a1, VA_L1(L1_RSW); ld a0, 0(a1))
    /* ---- V = 0 at levels 0, 1, 2; a pointer at level 0 ---- */
    ALL_FAULT 10, VA_PAGE(P_INVAL)
    ALL_FAULT 13, VA_L1(L1_INVAL)
    ALL_FAULT 16, VA_ROOT(0)+0x5000
    ALL_FAULT 19, VA_PAGE(P_PTR0)
    /* ---- reserved bits 63:54 in leaves ---- */
    ALL_FAULT 22, VA_PAGE(P_RES54)
    LOAD_FAULT 25, VA_PAGE(P_RES60)
    LOAD_FAULT 26, VA_PAGE(P_PBMT1)
    LOAD_FAULT 27, VA_PAGE(P_PBMT2)
    LOAD_FAULT 28, VA_PAGE(P_NAPOT)
    /* ---- pointers with A, D, U or reserved bits ---- */
    ALL_FAULT 30, VA_L1(L1_A)
    LOAD_FAULT 33, VA_L1(L1_D)
    LOAD_FAULT 34, VA_L1(L1_U)
    LOAD_FAULT 35, VA_L1(L1_RES54)
    LOAD_FAULT 36, VA_L1(L1_NAPOT)
    /* ---- non-canonical addresses (bits 63:39 must equal bit 38) ---- */
    ALL_FAULT 40, 0x0000004000000000
    LOAD_FAULT 43, 0xffffffbffffff000
    /* the low 39 bits would hit the identity map of RAM */
    ALL_FAULT 44, (0x8000000000000000|RAM_BASE)
    LOAD_FAULT 47, (0x0000008000000000|RAM_BASE)
    /* ---- page-table and final addresses outside RAM: access faults ---- */
    ALL_FAULT 50, VA_ROOT(R_OUT), CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS
    ALL_FAULT 53, VA_L1(L1_OUT), CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS
    ALL_FAULT 56, VA_PAGE(P_OUTSIDE), CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS
    /* ---- a root entry pointing to the root: three levels, then a pointer -> fault ---- */
    ALL_FAULT 60, VA_LOOP
    /* ... and the identity gigapage read at level 0 is a 4 KiB leaf to RAM_BASE */
    TEST_CASE(63, 0, li a1, VA_LOOP_LEAF+0x18; ld a0, 0(a1); li a1, RAM_BASE+0x18; ld a1, 0(a1); sub a0, a0, a1)

    /* ---- a 32-bit instruction across a page boundary ---- */
    li gp, 70
    li s1, VA_PAGE(P_XFIRST)+PAGE_SIZE-2
    li s2, VA_PAGE(P_XSECOND)
    EXPECT_TRAP CAUSE_FETCH_PAGE_FAULT, 1f, 1f
    EXPECT_EPC s1
    EXPECT_TVAL s2
    jalr s1
1:  CHECK_TRAP_TAKEN
    la s3, xpage+PAGE_SIZE
    REMAP P_XSECOND, s3, PTE_V|PTE_R|PTE_A
    li gp, 71
    EXPECT_TRAP CAUSE_FETCH_PAGE_FAULT, 1f, 1f
    EXPECT_EPC s1
    EXPECT_TVAL s2
    jalr s1
1:  CHECK_TRAP_TAKEN
    REMAP P_XSECOND, s3, PTE_V|PTE_X|PTE_A
    TEST_CASE(72, 42, li a0, 41; jalr s1)

    /* ---- medeleg: page faults from S and U go to the S handler ---- */
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    li a1, (1<<CAUSE_FETCH_PAGE_FAULT)|(1<<CAUSE_LOAD_PAGE_FAULT)|(1<<CAUSE_STORE_PAGE_FAULT)
    csrw medeleg, a1
    /* from M (MPRV) a page fault is never delegated */
    li gp, 80
    li s1, VA_PAGE(P_INVAL)
    EXPECT_TRAP CAUSE_LOAD_PAGE_FAULT, 1f, 2f
    EXPECT_TVAL s1
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    li a1, MSTATUS_MPRV|MSTATUS_MPP_S
    csrs mstatus, a1
1:  ld a0, 0(s1)
2:  li a1, MSTATUS_MPRV
    csrc mstatus, a1
    CHECK_TRAP_TAKEN
    GOTO_S 1f
1:  li gp, 81
    li s1, VA_PAGE(P_INVAL)+8
    EXPECT_TRAP CAUSE_LOAD_PAGE_FAULT, 1f, 2f, F_IN_S
    EXPECT_TVAL s1
    EXPECT_PRIV PRV_S
1:  lw a0, 0(s1)
2:  CHECK_TRAP_TAKEN
    /* an access fault of the walk is not delegated (medeleg bit 5 clear) */
    li gp, 82
    li s1, VA_ROOT(R_OUT)
    EXPECT_TRAP CAUSE_LOAD_ACCESS, 1f, 2f
    EXPECT_TVAL s1
1:  ld a0, 0(s1)
2:  CHECK_TRAP_TAKEN
    GOTO_UA_FROM_S 1f
1:  li gp, 83
    li s1, VA_PAGE(P_PTR0)+0x10
    EXPECT_TRAP CAUSE_STORE_PAGE_FAULT, 1f, 2f, F_IN_S
    EXPECT_TVAL s1
    EXPECT_PRIV PRV_U
1:  sd zero, 0(s1)
2:  CHECK_TRAP_TAKEN
    li gp, 84
    li s1, 0x0000004000000000
    EXPECT_TRAP CAUSE_FETCH_PAGE_FAULT, 1f, 1f, F_IN_S
    EXPECT_EPC s1
    EXPECT_TVAL s1
    EXPECT_PRIV PRV_U
    jalr s1
1:  CHECK_TRAP_TAKEN
    ECALL_TO_M_PHYS CAUSE_USER_ECALL
    csrw medeleg, zero
    TEST_CASE(85, CAUSE_FETCH_PAGE_FAULT, csrr a0, scause)
    TEST_CASE(86, 0x0000004000000000, csrr a0, stval)
    csrw satp, zero
    sfence.vma
TEST_END

/* xpage: a 32-bit instruction at its last two bytes continues on the next page. */
    .text
    .balign PAGE_SIZE
xpage:
    .skip PAGE_SIZE-2
    .option push
    .option norvc
    addi a0, a0, 1
    .option pop
    ret
    .balign PAGE_SIZE

    .data
    VM_TABLES
    DATA_PAGE page_a, MARK_A
