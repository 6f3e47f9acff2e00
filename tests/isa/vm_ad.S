/*
 * Sv39 accessed and dirty bits, Svade behaviour (privileged spec 4.3.1, 4.3.2 step 7,
 * 4.4): the hart never updates A or D. Any access to a leaf with A = 0 raises the page
 * fault of its access type; a store or AMO to a leaf with D = 0 raises a store page
 * fault; the PTE in memory stays as it was; once software sets the bits (and fences) the
 * access succeeds. Fetches and loads do not need D. Spike without Svadu behaves so.
 */
#include "hvtest.h"

#define MARK_A    0x1111222233334444
#define MARK_B    0x5555666677778888
#define CODE_RET  0x5a
#define VA_MEGA   0xC0C00000   /* l1 entry VPN1(VA_MEGA): a megapage with A = 0 */

#define P_NONE    0    /* page_a, RWX, A = 0, D = 0 */
#define P_D       1    /* page_a, RW,  A = 0, D = 1 */
#define P_A       2    /* page_a, RW,  A = 1, D = 0 */
#define P_X       3    /* code_page, X, A = 0 */
#define P_RX_A    4    /* code_page, RX, A = 1, D = 0 */
#define P_U_A     5    /* page_b, U RW, A = 1, D = 0 */

/* Case n: access insn (on s1) at VA_PAGE(i) + 8 must raise cause with xtval = the address. */
.macro ACCESS_FAULT n, i, cause, insn:vararg
    li s1, VA_PAGE(\i)+8
    TEST_TRAP_TVAL(\n, \cause, s1, \insn)
.endm
/* Case n: the PTE l0[i] still holds its value from the set-up (saved at pte_saved[i]). */
.macro PTE_KEPT n, i
    TEST_CASE(\n, 0, PTE_GET a0, l0, \i; la a1, pte_saved; ld a1, 8*(\i)(a1); sub a0, a0, a1)
.endm

TEST_BEGIN
    VM_STD_MAP root
    VM_TEST_WINDOW root, l1, l0
    PTE_LEAF_TO l0, P_NONE, page_a,    PTE_V|PTE_RWX
    PTE_LEAF_TO l0, P_D,    page_a,    PTE_V|PTE_R|PTE_W|PTE_D
    PTE_LEAF_TO l0, P_A,    page_a,    PTE_V|PTE_R|PTE_W|PTE_A
    PTE_LEAF_TO l0, P_X,    code_page, PTE_V|PTE_X
    PTE_LEAF_TO l0, P_RX_A, code_page, PTE_V|PTE_R|PTE_X|PTE_A
    PTE_LEAF_TO l0, P_U_A,  page_b,    PTE_V|PTE_R|PTE_W|PTE_A|PTE_U
    li t6, RAM_BASE
    PTE_SET l1, VPN1(VA_MEGA), t6, PTE_V|PTE_R|PTE_W|PTE_D
    /* keep copies of the PTEs to check that the hart never rewrites them */
    la a1, l0
    la a2, pte_saved
    li a3, 6
1:  ld a4, 0(a1)
    sd a4, 0(a2)
    addi a1, a1, 8
    addi a2, a2, 8
    addi a3, a3, -1
    bnez a3, 1b
    SATP_SV39_SET root

    GOTO_S 1f
    /* ---- A = 0: every access type faults ---- */
1:  ACCESS_FAULT 1, P_NONE, CAUSE_LOAD_PAGE_FAULT, ld a0, 0(s1)
    ACCESS_FAULT 2, P_NONE, CAUSE_STORE_PAGE_FAULT, sd zero, 0(s1)
    ACCESS_FAULT 3, P_NONE, CAUSE_STORE_PAGE_FAULT, amoadd.d a0, zero, (s1)
    li s1, VA_PAGE(P_X)
    TEST_FETCH_FAULT(4, CAUSE_FETCH_PAGE_FAULT, s1)
    ACCESS_FAULT 5, P_D, CAUSE_LOAD_PAGE_FAULT, lw a0, 0(s1)
    li s1, VA_MEGA+0x2468
    TEST_TRAP_TVAL(6, CAUSE_LOAD_PAGE_FAULT, s1, lbu a0, 0(s1))
    PTE_KEPT 7, P_NONE
    PTE_KEPT 8, P_D
    PTE_KEPT 9, P_X
    TEST_CASE(10, 0, PTE_GET a0, l1, VPN1(VA_MEGA); andi a0, a0, PTE_A)

    /* ---- A = 1, D = 0: loads and fetches work, stores and AMOs fault ---- */
    TEST_CASE(11, MARK_A, li a1, VA_PAGE(P_A); ld a0, 0(a1))
    ACCESS_FAULT 12, P_A, CAUSE_STORE_PAGE_FAULT, sb zero, 0(s1)
    ACCESS_FAULT 13, P_A, CAUSE_STORE_PAGE_FAULT, amoswap.w a0, zero, (s1)
    TEST_CASE(14, CODE_RET, li a0, 0; li a1, VA_PAGE(P_RX_A); jalr a1)
    TEST_CASE(15, MARK_A, li a1, VA_PAGE(P_A); lr.d a0, (a1))
    PTE_KEPT 16, P_A
    PTE_KEPT 17, P_RX_A
    /* page_a was not written by the faulting stores */
    TEST_CASE(18, 0, la a1, page_a; ld a0, 8(a1))

    /* ---- software sets the bits, fences, and the accesses succeed ---- */
    li s1, VA_PAGE(P_A)+8
    TEST_CASE(20, 0x1234, PTE_GET a1, l0, P_A; ori a1, a1, PTE_D; la a2, l0+8*P_A; sd a1, 0(a2); sfence.vma; li a2, 0x1234; sd a2, 0(s1); la a1, page_a; ld a0, 8(a1))
    TEST_CASE(21, 0x1234, PTE_GET a1, l0, P_NONE; ori a1, a1, PTE_A; la a2, l0+8*P_NONE; sd a1, 0(a2); sfence.vma; li a1, VA_PAGE(P_NONE)+8; ld a0, 0(a1))
    ACCESS_FAULT 22, P_NONE, CAUSE_STORE_PAGE_FAULT, sd zero, 0(s1)
    TEST_CASE(23, CODE_RET, PTE_GET a1, l0, P_X; ori a1, a1, PTE_A; la a2, l0+8*P_X; sd a1, 0(a2); sfence.vma; li a0, 0; li a1, VA_PAGE(P_X); jalr a1)

    /* ---- U-mode: same rules ---- */
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    GOTO_UA 1f
1:  TEST_CASE(30, MARK_B, li a1, VA_PAGE(P_U_A); ld a0, 0(a1))
    ACCESS_FAULT 31, P_U_A, CAUSE_STORE_PAGE_FAULT, sh zero, 0(s1)
    ECALL_TO_M_PHYS CAUSE_USER_ECALL
    PTE_KEPT 32, P_U_A
    /* ---- MPRV stores (MPP = U) obey the same rules ---- */
    li gp, 33
    li s1, VA_PAGE(P_U_A)
    EXPECT_TRAP CAUSE_STORE_PAGE_FAULT, 1f, 2f
    EXPECT_TVAL s1
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    li a1, MSTATUS_MPRV
    csrs mstatus, a1
1:  sd zero, 0(s1)
2:  li a1, MSTATUS_MPRV
    csrc mstatus, a1
    CHECK_TRAP_TAKEN
    csrw satp, zero
    sfence.vma
TEST_END

/* Code mapped at P_X and P_RX_A. */
    VM_CODE_PAGE CODE_RET

    .data
    VM_TABLES
    DATA_PAGE page_a, MARK_A
    DATA_PAGE page_b, MARK_B
    .balign 8
pte_saved: .zero 8*8
