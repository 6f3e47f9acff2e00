/*
 * G-stage address translation alone (privileged spec, chapter "Hypervisor Extension":
 * 8.2.12 hgatp, 8.5.1 Sv39x4 guest-physical address translation, 8.5.2 guest page faults,
 * 8.6.3 htval/mtval2 and GVA; 4.3.1/4.4 PTE format, superpages, A/D): VS runs with vsatp
 * Bare, so its addresses are guest-physical. Checked: translation of 4 KiB pages,
 * megapages and gigapages, the widened 2048-entry root (GPA bit 40), GPA bits above 40 ->
 * guest page fault, leaves without U, R/W/X faults 21/23/20 with htval = GPA >> 2 and
 * stval = the address, invalid, reserved (W without R), A clear, D clear on a store,
 * misaligned superpages, access faults for a leaf or a table outside memory, and guest
 * page faults taken by M (mtval2, MPV, GVA).
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

#define GPA_WIN  0x100000000
#define GPA_HIGH 0x10000000000      /* bit 40: root entry 1024 */
#define BAD_ADDR 0x20000000
#define MEGA_PA  RAM_BASE  /* the megapage over RAM's first 2 MiB; cases use mega_slot */

/* Entry idx of gl0 := leaf to the page at label target with flags; HFENCE.GVMA. */
.macro G_LEAF idx, target, flags
    PTE_LEAF_TO gl0, \idx, \target, \flags
    hfence.gvma
.endm

/* The recorded guest page fault: htval = gpa >> 2 (gpa in a register), stval = gpa. */
.macro CHECK_GPF cause, gpa
    H_CHECK_TRAP H_HS, \cause
    H_CHECK_REG R_TVAL, \gpa
    srli t4, \gpa, 2
    H_CHECK_REG R_TVAL2, t4
    H_CHECK R_TINST, 0
    H_CHECK_HS_STACK PRV_S, 1
.endm

TEST_BEGIN
    H_INIT
    li a1, (1<<CAUSE_FETCH_GUEST_PAGE_FAULT)|(1<<CAUSE_LOAD_GUEST_PAGE_FAULT)|(1<<CAUSE_STORE_GUEST_PAGE_FAULT)|(1<<CAUSE_LOAD_ACCESS)|(1<<CAUSE_STORE_ACCESS)
    csrw medeleg, a1
    G_STD_MAP groot
    PTE_NEXT groot, GVPN2(GPA_WIN), gl1
    PTE_NEXT gl1, 0, gl0
    G_LEAF 0, gdata, GPTE_LEAF
    G_LEAF 1, gcode, GPTE_LEAF
    HGATP_SET groot, 5
    li s2, GPA_WIN
    li s3, GPA_WIN+0x1000

    /* ---- translation: loads, stores, fetches ---- */
    H_CASE_IN(1, VS, 0x8081828384858687, ld a0, 0(s2))
    H_CASE_IN(2, VU, 0x0123456789abcdef, ld a0, 8(s2))
    H_CASE_IN(3, VS, 0, li a1, 0x55aa; sh a1, 16(s2); li a0, 0)
    TEST_CASE(4, 0x55aa, la a1, gdata; lhu a0, 16(a1))
    H_CASE_IN(5, VS, 5, jr s3)
    H_CASE_IN(6, VU, 5, jr s3)
    /* the G-stage does not apply to HS, nor to M */
    H_TRAP_IN(7, HS, ld a0, 0(s2))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_ACCESS
    H_CHECK_BITS R_STATUS, HSTATUS_GVA, 0

    /* ---- the widened root: GPA bit 40 (entry 1024), a gigapage onto RAM ---- */
    li t4, RAM_BASE
    PTE_SET groot, GVPN2(GPA_HIGH), t4, GPTE_LEAF
    hfence.gvma
    la s4, gdata
    li t4, GPA_HIGH-RAM_BASE
    add s4, s4, t4
    H_CASE_IN(10, VS, 0x8081828384858687, ld a0, 0(s4))
    /* the last root entry (2047): GPA 0x1ffc0000000 */
    li t4, RAM_BASE
    PTE_SET groot, 2047, t4, GPTE_LEAF
    hfence.gvma
    la s5, gdata
    li t4, 0x1ffc0000000-RAM_BASE
    add s5, s5, t4
    H_CASE_IN(15, VU, 0x0123456789abcdef, ld a0, 8(s5))
    /* GPA bits 63:41 must be zero: guest page fault with the full address */
    li s5, 0x20000000000|RAM_BASE
    H_TRAP_IN(11, VS, ld a0, 0(s5))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s5
    li s5, 0xffffffff80000000
    H_TRAP_IN(12, VS, sd a0, 0(s5))
    CHECK_GPF CAUSE_STORE_GUEST_PAGE_FAULT, s5
    li s5, 0x8000000000000000|RAM_BASE
    H_TRAP_IN(13, VS, lw a0, 0(s5))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s5
    /* a root entry with no mapping */
    li s5, 0x200000000
    H_TRAP_IN(14, VU, lb a0, 0(s5))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    H_CHECK_REG R_TVAL, s5
    srli t4, s5, 2
    H_CHECK_REG R_TVAL2, t4
    H_CHECK_HS_STACK PRV_U, 1

    /* ---- permissions of the leaf: U, R, W, X ---- */
    G_LEAF 0, gdata, GPTE_LEAF&~PTE_U
    addi s5, s2, 0x28
    H_TRAP_IN(20, VS, lw a0, 0(s5))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s5
    H_TRAP_IN(21, VS, sw a0, 0(s5))
    CHECK_GPF CAUSE_STORE_GUEST_PAGE_FAULT, s5
    G_LEAF 0, gdata, PTE_V|PTE_X|PTE_U|PTE_A|PTE_D
    H_TRAP_IN(22, VS, ld a0, 0(s5))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s5
    /* mstatus.MXR makes execute-only G-stage pages readable; vsstatus.MXR does not */
    li s6, MSTATUS_MXR
    csrs vsstatus, s6
    H_TRAP_IN(23, VS, ld a0, 0(s5))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s5
    csrc vsstatus, s6
    csrs mstatus, s6
    H_CASE_IN(24, VS, 0x0123456789abcdef, ld a0, 8(s2))
    csrc mstatus, s6
    G_LEAF 0, gdata, PTE_V|PTE_R|PTE_U|PTE_A|PTE_D
    H_TRAP_IN(25, VS, sd a0, 0(s5))
    CHECK_GPF CAUSE_STORE_GUEST_PAGE_FAULT, s5
    H_CASE_IN(26, VS, 0x0123456789abcdef, ld a0, 8(s2))
    /* fetch without X: instruction guest page fault, sepc = stval = the target */
    G_LEAF 1, gcode, PTE_V|PTE_R|PTE_W|PTE_U|PTE_A|PTE_D
    H_TRAP_IN(27, VS, jr s3)
    CHECK_GPF CAUSE_FETCH_GUEST_PAGE_FAULT, s3
    H_CHECK_REG R_EPC, s3
    G_LEAF 1, gcode, GPTE_LEAF&~PTE_U
    H_TRAP_IN(28, VU, jr s3)
    H_CHECK_TRAP H_HS, CAUSE_FETCH_GUEST_PAGE_FAULT
    H_CHECK_REG R_EPC, s3
    srli t4, s3, 2
    H_CHECK_REG R_TVAL2, t4
    H_CHECK_HS_STACK PRV_U, 1
    G_LEAF 1, gcode, GPTE_LEAF

    /* ---- invalid, reserved, A and D ---- */
    G_LEAF 0, gdata, GPTE_LEAF&~PTE_V
    H_TRAP_IN(30, VS, ld a0, 0(s5))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s5
    G_LEAF 0, gdata, PTE_V|PTE_W|PTE_U|PTE_A|PTE_D
    H_TRAP_IN(31, VS, sd a0, 0(s5))
    CHECK_GPF CAUSE_STORE_GUEST_PAGE_FAULT, s5
    G_LEAF 0, gdata, GPTE_LEAF&~PTE_A
    H_TRAP_IN(32, VS, ld a0, 0(s5))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s5
    G_LEAF 0, gdata, GPTE_LEAF&~PTE_D
    H_CASE_IN(33, VS, 0x0123456789abcdef, ld a0, 8(s2))
    H_TRAP_IN(34, VS, sb a0, 0(s5))
    CHECK_GPF CAUSE_STORE_GUEST_PAGE_FAULT, s5
    G_LEAF 0, gdata, GPTE_LEAF

    /* ---- a megapage in gl1 and a misaligned one ---- */
    li t4, MEGA_PA
    PTE_SET gl1, 1, t4, GPTE_LEAF
    hfence.gvma
    /* s5 = the guest-physical address of mega_slot through the megapage (fits RAM of
       every variant: the offset is inside the program) */
    la s5, mega_slot
    li t4, MEGA_PA-(GPA_WIN+0x200000)
    sub s5, s5, t4
    H_CASE_IN(40, VS, 0, li a1, 0x6789; sd a1, 0(s5); li a0, 0)
    TEST_CASE(41, 0x6789, la a1, mega_slot; ld a0, 0(a1))
    li t4, MEGA_PA+0x1000
    PTE_SET gl1, 1, t4, GPTE_LEAF
    hfence.gvma
    H_TRAP_IN(42, VS, ld a0, 0(s5))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s5
    /* a misaligned gigapage in the root */
    li t4, RAM_BASE+0x200000
    PTE_SET groot, GVPN2(GPA_HIGH), t4, GPTE_LEAF
    hfence.gvma
    H_TRAP_IN(43, VS, ld a0, 0(s4))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s4

    /* ---- a leaf or a table outside memory: access fault, stval = the address ---- */
    li t4, BAD_ADDR
    PTE_SET gl0, 2, t4, GPTE_LEAF
    hfence.gvma
    li s5, GPA_WIN+0x2010
    H_TRAP_IN(50, VS, ld a0, 0(s5))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_ACCESS
    H_CHECK_REG R_TVAL, s5
    H_CHECK R_TVAL2, 0
    H_CHECK_HS_STACK PRV_S, 1
    H_TRAP_IN(51, VS, sw a0, 0(s5))
    H_CHECK_TRAP H_HS, CAUSE_STORE_ACCESS
    H_CHECK_REG R_TVAL, s5
    li t4, BAD_ADDR
    PTE_SET gl1, 3, t4, PTE_V
    hfence.gvma
    li s5, GPA_WIN+0x600000
    H_TRAP_IN(52, VS, ld a0, 0(s5))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_ACCESS
    H_CHECK_REG R_TVAL, s5

    /* ---- not delegated: M takes the guest page fault, mtval2 = GPA >> 2, MPV = 1 ---- */
    csrw medeleg, zero
    G_LEAF 0, gdata, GPTE_LEAF&~PTE_R&~PTE_W
    addi s5, s2, 0x30
    H_TRAP_IN(60, VS, ld a0, 0(s5))
    H_CHECK_TRAP H_M, CAUSE_LOAD_GUEST_PAGE_FAULT
    H_CHECK_REG R_TVAL, s5
    srli t4, s5, 2
    H_CHECK_REG R_TVAL2, t4
    H_CHECK R_TINST, 0
    H_CHECK_M_STACK PRV_S, 1, 1
    H_TRAP_IN(61, VU, sd a0, 0(s5))
    H_CHECK_TRAP H_M, CAUSE_STORE_GUEST_PAGE_FAULT
    H_CHECK_M_STACK PRV_U, 1, 1
    /* hedeleg cannot send guest page faults to VS */
    li a1, -1
    csrw hedeleg, a1
    li a1, 1<<CAUSE_LOAD_GUEST_PAGE_FAULT
    csrw medeleg, a1
    H_TRAP_IN(62, VS, ld a0, 0(s5))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    csrw hedeleg, zero
    csrw medeleg, zero

    csrw hgatp, zero
    hfence.gvma
TEST_END
    H_RUNTIME

    .data
    G_TABLES
    G_DATA_AND_CODE
