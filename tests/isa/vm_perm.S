/*
 * Sv39 permission checks (privileged spec 4.3.1 PTE format and 4.3.2 step 5, 4.4; 3.1.6.3
 * MPRV, SUM, MXR; 4.1.1 sstatus): R/W/X for S and U, the U bit (S never executes a U
 * page; S loads and stores need SUM), MXR making X-only pages readable, the reserved
 * W-without-R encodings, and MPRV translating M-mode loads and stores (never fetches) at
 * the privilege in MPP, with SUM and MXR.
 */
#include "hvtest.h"

#define MARK_A    0x1111222233334444
#define MARK_B    0x5555666677778888
#define CODE_RET  0x5a

/* The test window (VA_PAGE(i)) */
#define P_R       0    /* page_a, R */
#define P_RW      1    /* page_a, RW */
#define P_X       2    /* code_page, X */
#define P_RX      3    /* code_page, RX */
#define P_W       4    /* page_a, W only: reserved */
#define P_WX      5    /* code_page, WX: reserved */
#define P_U_RW    6    /* page_b, U RW */
#define P_U_X     7    /* code_page, U X */
#define P_U_R     8    /* page_b, U R */

/* a0 := the dword at VA_PAGE(i) + off (a1 = that address). */
#define LOAD_PG(i, off) li a1, VA_PAGE(i)+(off); ld a0, 0(a1)
/* a0 := 0 if the dword at VA_PAGE(i) equals the first dword of code_page (s3). */
#define LOAD_CODE(i) li a1, VA_PAGE(i); ld a0, 0(a1); sub a0, a0, s3

/* Case n: the load (store) at VA_PAGE(i) + 8 must raise cause with xtval = that address. */
.macro LOAD_FAULT n, i, cause=CAUSE_LOAD_PAGE_FAULT
    li s1, VA_PAGE(\i)+8
    TEST_TRAP_TVAL(\n, \cause, s1, ld a0, 0(s1))
.endm
.macro STORE_FAULT n, i, cause=CAUSE_STORE_PAGE_FAULT
    li s1, VA_PAGE(\i)+8
    TEST_TRAP_TVAL(\n, \cause, s1, sd zero, 0(s1))
.endm
/* Case n: a jump to VA_PAGE(i) must raise an instruction page fault. */
.macro FETCH_FAULT n, i
    li s1, VA_PAGE(\i)
    TEST_FETCH_FAULT(\n, CAUSE_FETCH_PAGE_FAULT, s1)
.endm
/* Case n: a call of the code at VA_PAGE(i) returns CODE_RET. */
#define FETCH_OK(n, i) TEST_CASE(n, CODE_RET, li a0, 0; li a1, VA_PAGE(i); jalr a1)

/* M-mode: MPP := prv and MPRV := 1 (no memory access in between). */
.macro MPRV_ON prv
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    li t6, (\prv) << 11
    csrs mstatus, t6
    li t6, MSTATUS_MPRV
    csrs mstatus, t6
.endm
.macro MPRV_OFF
    li t6, MSTATUS_MPRV
    csrc mstatus, t6
.endm
/* Case n (M-mode): the load through MPRV at privilege prv of VA_PAGE(i) must fault. */
.macro MPRV_LOAD_FAULT n, prv, i
    li gp, \n
    li s1, VA_PAGE(\i)
    EXPECT_TRAP CAUSE_LOAD_PAGE_FAULT, 8891f, 8892f
    EXPECT_TVAL s1
    MPRV_ON \prv
8891: ld a0, 0(s1)
8892: MPRV_OFF
    CHECK_TRAP_TAKEN
.endm

TEST_BEGIN
    la a1, code_page
    ld s3, 0(a1)
    VM_STD_MAP root
    VM_TEST_WINDOW root, l1, l0
    PTE_LEAF_TO l0, P_R,    page_a,    PTE_V|PTE_R|PTE_A
    PTE_LEAF_TO l0, P_RW,   page_a,    PTE_V|PTE_R|PTE_W|PTE_AD
    PTE_LEAF_TO l0, P_X,    code_page, PTE_V|PTE_X|PTE_A
    PTE_LEAF_TO l0, P_RX,   code_page, PTE_V|PTE_R|PTE_X|PTE_A
    PTE_LEAF_TO l0, P_W,    page_a,    PTE_V|PTE_W|PTE_AD
    PTE_LEAF_TO l0, P_WX,   code_page, PTE_V|PTE_W|PTE_X|PTE_AD
    PTE_LEAF_TO l0, P_U_RW, page_b,    PTE_V|PTE_R|PTE_W|PTE_AD|PTE_U
    PTE_LEAF_TO l0, P_U_X,  code_page, PTE_V|PTE_X|PTE_A|PTE_U
    PTE_LEAF_TO l0, P_U_R,  page_b,    PTE_V|PTE_R|PTE_A|PTE_U
    SATP_SV39_SET root
    li s2, MSTATUS_SUM|MSTATUS_MXR
    csrc mstatus, s2

    /* ---- MPRV: M-mode loads and stores translated at the privilege in MPP ---- */
    TEST_CASE(1, MARK_A, MPRV_ON PRV_S; LOAD_PG(P_RW, 0); MPRV_OFF)
    TEST_CASE(2, 0x77, MPRV_ON PRV_S; li a1, VA_PAGE(P_RW)+16; li a2, 0x77; sd a2, 0(a1); MPRV_OFF; la a1, page_a; ld a0, 16(a1))
    MPRV_LOAD_FAULT 3, PRV_U, P_RW
    TEST_CASE(4, MARK_B, MPRV_ON PRV_U; LOAD_PG(P_U_RW, 0); MPRV_OFF)
    /* SUM and MXR apply to MPRV accesses */
    MPRV_LOAD_FAULT 5, PRV_S, P_U_RW
    li s2, MSTATUS_SUM
    csrs mstatus, s2
    TEST_CASE(6, MARK_B, MPRV_ON PRV_S; LOAD_PG(P_U_RW, 0); MPRV_OFF)
    csrc mstatus, s2
    MPRV_LOAD_FAULT 7, PRV_S, P_X
    li s2, MSTATUS_MXR
    csrs mstatus, s2
    TEST_CASE(8, 0, MPRV_ON PRV_S; LOAD_CODE(P_X); MPRV_OFF)
    csrc mstatus, s2
    /* a store through MPRV at U to a U read-only page: store page fault taken in M */
    li gp, 9
    li s1, VA_PAGE(P_U_R)
    EXPECT_TRAP CAUSE_STORE_PAGE_FAULT, 1f, 2f
    EXPECT_TVAL s1
    MPRV_ON PRV_U
1:  sd zero, 0(s1)
2:  MPRV_OFF
    CHECK_TRAP_TAKEN
    /* fetches stay untranslated: M code runs on with MPP = U (RAM is not a U page) */
    TEST_CASE(10, 7, MPRV_ON PRV_U; li a0, 7; nop; MPRV_OFF)
    /* MPP = M: no translation, so VA_TEST (no RAM) is a load access fault */
    li gp, 11
    li s1, VA_PAGE(P_RW)
    EXPECT_TRAP CAUSE_LOAD_ACCESS, 1f, 2f
    EXPECT_TVAL s1
    MPRV_ON PRV_M
1:  ld a0, 0(s1)
2:  MPRV_OFF
    CHECK_TRAP_TAKEN

    /* ---- S-mode: R, W, X ---- */
    GOTO_S 1f
1:  TEST_CASE(20, MARK_A, LOAD_PG(P_R, 0))
    STORE_FAULT 21, P_R
    FETCH_FAULT 22, P_R
    FETCH_FAULT 23, P_RW
    LOAD_FAULT 24, P_X
    STORE_FAULT 25, P_X
    FETCH_OK(26, P_X)
    FETCH_OK(27, P_RX)
    TEST_CASE(28, 0, LOAD_CODE(P_RX))
    TEST_CASE(29, 0x99, li a1, VA_PAGE(P_RW)+24; li a2, 0x99; sd a2, 0(a1); ld a0, 0(a1))
    /* W without R is reserved: every access faults */
    LOAD_FAULT 30, P_W
    STORE_FAULT 31, P_W
    LOAD_FAULT 32, P_WX
    STORE_FAULT 33, P_WX
    FETCH_FAULT 34, P_WX
    /* MXR: X-only pages become readable, never writable; reserved stays reserved */
    li s2, MSTATUS_MXR
    csrs sstatus, s2
    TEST_CASE(35, 0, LOAD_CODE(P_X))
    STORE_FAULT 36, P_X
    LOAD_FAULT 37, P_WX
    LOAD_FAULT 38, P_U_X
    csrc sstatus, s2
    LOAD_FAULT 39, P_X

    /* ---- S-mode and U pages: SUM ---- */
    LOAD_FAULT 40, P_U_RW
    STORE_FAULT 41, P_U_RW
    FETCH_FAULT 42, P_U_X
    li s2, MSTATUS_SUM
    csrs sstatus, s2
    TEST_CASE(43, MARK_B, LOAD_PG(P_U_RW, 0))
    TEST_CASE(44, 0x55, li a1, VA_PAGE(P_U_RW)+8; li a2, 0x55; sb a2, 0(a1); lbu a0, 0(a1))
    FETCH_FAULT 45, P_U_X
    STORE_FAULT 46, P_U_R
    /* SUM and MXR together: an X-only U page is readable from S */
    li s2, MSTATUS_MXR
    csrs sstatus, s2
    TEST_CASE(47, 0, LOAD_CODE(P_U_X))
    li s2, MSTATUS_SUM|MSTATUS_MXR
    csrc sstatus, s2

    /* ---- U-mode (at the U alias) ---- */
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    li s2, MSTATUS_SUM          /* SUM has no effect on U */
    csrs mstatus, s2
    GOTO_UA 1f
1:  TEST_CASE(50, MARK_B, LOAD_PG(P_U_R, 0))
    STORE_FAULT 51, P_U_R
    TEST_CASE(52, 0x66, li a1, VA_PAGE(P_U_RW)+32; li a2, 0x66; sd a2, 0(a1); ld a0, 0(a1))
    FETCH_OK(53, P_U_X)
    LOAD_FAULT 54, P_U_X
    LOAD_FAULT 55, P_RW
    STORE_FAULT 56, P_RW
    FETCH_FAULT 57, P_X
    /* the identity map of RAM is an S page: U cannot execute it */
    la s1, 2f
    li a1, UALIAS_OFF
    sub s1, s1, a1
    TEST_FETCH_FAULT(58, CAUSE_FETCH_PAGE_FAULT, s1)
    ECALL_TO_M_PHYS CAUSE_USER_ECALL
    /* MXR applies to U-mode loads */
    li s2, MSTATUS_MXR
    csrs mstatus, s2
    GOTO_UA 1f
1:  TEST_CASE(59, 0, LOAD_CODE(P_U_X))
    LOAD_FAULT 60, P_X
    ECALL_TO_M_PHYS CAUSE_USER_ECALL
2:  li s2, MSTATUS_SUM|MSTATUS_MXR
    csrc mstatus, s2
    csrw satp, zero
    sfence.vma
TEST_END

/* Code mapped at P_X, P_RX, P_WX and P_U_X. */
    VM_CODE_PAGE CODE_RET

    .data
    VM_TABLES
    DATA_PAGE page_a, MARK_A
    DATA_PAGE page_b, MARK_B
