/*
 * Two-stage address translation, VS-stage Sv39 over G-stage Sv39x4 (privileged spec,
 * chapter "Hypervisor Extension": 8.2.13 vsatp, 8.2.12 hgatp, 8.5 two-stage translation,
 * 8.5.1 the G-stage translation of every VS-stage PTE address, 8.5.2 guest page faults,
 * 8.6.3 htval/htinst for implicit accesses, 8.6.2 delegation through hedeleg; 4.3-4.4
 * Sv39 PTEs, SUM, MXR, A/D, superpages).
 * Checked: VS and VU accesses through both stages; VS-stage page faults 12/13/15 taken by
 * HS (medeleg) or by VS (hedeleg) with stval = the guest virtual address and GVA = 1;
 * guest page faults on the implicit PTE reads (root and lower levels: htval = PTE GPA >> 2,
 * htinst = 0x3000) and on the final address (htval = GPA >> 2, htinst = 0), never taken by
 * VS; vsstatus.SUM/MXR and mstatus.MXR; A and D; superpages of both stages.
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

#define GPA_WIN  0x100000000        /* G-stage root entry 4 -> gl1 -> gl0 */
#define VA_WIN   0x100000000        /* VS-stage root entry 4 -> vs_l1 -> vs_l0 */
#define MEGA_PA  RAM_BASE  /* the megapage over RAM's first 2 MiB; cases use mega_slot */
#define BAD_ADDR 0x20000000
#define VS_R     (PTE_V|PTE_R|PTE_A|PTE_D)

.macro VS_LEAF idx, gpa, flags
    li t4, \gpa
    PTE_SET vs_l0, \idx, t4, \flags
    hfence.vvma
.endm
.macro G_LEAF idx, target, flags
    PTE_LEAF_TO gl0, \idx, \target, \flags
    hfence.gvma
.endm
/* From M: mret to VU at the user alias (VA_UALIAS) of label. */
.macro H_GOTO_VUA label
    li t6, MSTATUS_MPP|MSTATUS_MPV
    csrc mstatus, t6
    li t6, MSTATUS_MPV
    csrs mstatus, t6
    la t6, \label
    li t5, UALIAS_OFF
    add t6, t6, t5
    csrw mepc, t6
    li a7, 0
    mret
.endm
/* Record: a VS-stage page fault taken by HS with stval = va, htval = 0, GVA = 1. */
.macro CHECK_PF_HS cause, va, prv=PRV_S
    H_CHECK_TRAP H_HS, \cause
    H_CHECK_REG R_TVAL, \va
    H_CHECK R_TVAL2, 0
    H_CHECK_HS_STACK \prv, 1
.endm
/* Record: a guest page fault taken by HS, stval = va, htval = gpa >> 2, htinst = tinst. */
.macro CHECK_GPF cause, va, gpa, tinst
    H_CHECK_TRAP H_HS, \cause
    H_CHECK_REG R_TVAL, \va
    H_CHECK R_TVAL2, (\gpa)>>2
    H_CHECK R_TINST, \tinst
    H_CHECK_HS_STACK PRV_S, 1
.endm

TEST_BEGIN
    H_INIT
    li a1, (1<<CAUSE_FETCH_PAGE_FAULT)|(1<<CAUSE_LOAD_PAGE_FAULT)|(1<<CAUSE_STORE_PAGE_FAULT)|(1<<CAUSE_FETCH_GUEST_PAGE_FAULT)|(1<<CAUSE_LOAD_GUEST_PAGE_FAULT)|(1<<CAUSE_STORE_GUEST_PAGE_FAULT)
    csrw medeleg, a1
    /* G-stage: RAM identity, GPA_WIN pages 0 = gdata, 1 = gcode, 3 = vs_l0g */
    G_STD_MAP groot
    PTE_NEXT groot, GVPN2(GPA_WIN), gl1
    PTE_NEXT gl1, 0, gl0
    G_LEAF 0, gdata, GPTE_LEAF
    G_LEAF 1, gcode, GPTE_LEAF
    G_LEAF 3, vs_l0g, GPTE_LEAF
    HGATP_SET groot, 1
    /* VS-stage: RAM identity for VS, its user alias for VU, VA_WIN -> GPA_WIN */
    VM_STD_MAP vs_root
    PTE_NEXT vs_root, VPN2(VA_WIN), vs_l1
    PTE_NEXT vs_l1, 0, vs_l0
    VS_LEAF 0, GPA_WIN, VS_R
    VS_LEAF 1, GPA_WIN+0x1000, PTE_V|PTE_X|PTE_A
    VSATP_SET vs_root, 3
    li s2, VA_WIN
    li s3, VA_WIN+0x1000

    /* ---- translation through both stages ---- */
    H_CASE_IN(1, VS, 0x8081828384858687, ld a0, 0(s2))
    H_CASE_IN(2, VS, 5, jr s3)
    VS_LEAF 0, GPA_WIN, VS_R|PTE_W|PTE_U
    VS_LEAF 1, GPA_WIN+0x1000, PTE_V|PTE_X|PTE_A|PTE_U
    li gp, 3
    H_ARM 2f
    H_GOTO_VUA 1f
1:  ld a0, 8(s2)
    li a1, 0x4242
    sd a1, 16(s2)
    jr s3
2:  H_CHECK_COUNT 0
    CHECK_EQ a0, 5
    TEST_CASE(4, 0x4242, la a1, gdata; ld a0, 16(a1))
    /* VU: a page without U faults (13), taken by HS with SPVP = 0 */
    li gp, 5
    VS_LEAF 0, GPA_WIN, VS_R
    H_ARM 2f
    H_GOTO_VUA 1f
1:  ld a0, 8(s2)
    H_ESCAPE
2:  addi t4, s2, 8
    CHECK_PF_HS CAUSE_LOAD_PAGE_FAULT, t4, PRV_U

    /* ---- VS-stage page faults taken by HS: invalid leaf, store to read-only, no X ---- */
    VS_LEAF 0, GPA_WIN, VS_R&~PTE_V
    H_TRAP_IN(10, VS, ld a0, 0(s2))
    CHECK_PF_HS CAUSE_LOAD_PAGE_FAULT, s2
    VS_LEAF 0, GPA_WIN, VS_R
    addi s4, s2, 0x20
    H_TRAP_IN(11, VS, sw a0, 0(s4))
    CHECK_PF_HS CAUSE_STORE_PAGE_FAULT, s4
    VS_LEAF 1, GPA_WIN+0x1000, VS_R
    H_TRAP_IN(12, VS, jr s3)
    CHECK_PF_HS CAUSE_FETCH_PAGE_FAULT, s3
    H_CHECK_REG R_EPC, s3
    /* A clear -> fault; D clear -> fault on a store only */
    VS_LEAF 0, GPA_WIN, VS_R&~PTE_A
    H_TRAP_IN(13, VS, ld a0, 0(s2))
    CHECK_PF_HS CAUSE_LOAD_PAGE_FAULT, s2
    VS_LEAF 0, GPA_WIN, (VS_R|PTE_W)&~PTE_D
    H_CASE_IN(14, VS, 0x8081828384858687, ld a0, 0(s2))
    H_TRAP_IN(15, VS, sd a0, 0(s4))
    CHECK_PF_HS CAUSE_STORE_PAGE_FAULT, s4
    /* the VS-stage fault wins over an unmapped G-stage final address */
    VS_LEAF 2, GPA_WIN+0x2000, VS_R&~PTE_V
    li s5, VA_WIN+0x2000
    H_TRAP_IN(16, VS, ld a0, 0(s5))
    CHECK_PF_HS CAUSE_LOAD_PAGE_FAULT, s5

    /* ---- delegated to VS with hedeleg: vscause, vstval, vsepc; HS untouched ---- */
    li a1, (1<<CAUSE_FETCH_PAGE_FAULT)|(1<<CAUSE_LOAD_PAGE_FAULT)|(1<<CAUSE_STORE_PAGE_FAULT)
    csrw hedeleg, a1
    csrw stval, zero
    H_TRAP_IN(20, VS, ld a0, 0(s5))
    H_CHECK_TRAP H_VS, CAUSE_LOAD_PAGE_FAULT
    H_CHECK_REG R_TVAL, s5
    H_CHECK_EPC_AT 8893b
    H_CHECK_BITS R_STATUS, MSTATUS_SPP, MSTATUS_SPP
    TEST_CASE(21, 0, csrr a0, stval)
    H_TRAP_IN(22, VS, sd a0, 0(s4))
    H_CHECK_TRAP H_VS, CAUSE_STORE_PAGE_FAULT
    H_CHECK_REG R_TVAL, s4
    H_TRAP_IN(23, VS, jr s3)
    H_CHECK_TRAP H_VS, CAUSE_FETCH_PAGE_FAULT
    H_CHECK_REG R_TVAL, s3
    H_CHECK_REG R_EPC, s3
    VS_LEAF 1, GPA_WIN+0x1000, PTE_V|PTE_X|PTE_A

    /* ---- guest page faults: never delegated to VS ---- */
    /* the final address: VS leaf to GPA_WIN + 0x2000, not mapped at the G-stage */
    VS_LEAF 2, GPA_WIN+0x2000, VS_R|PTE_W
    li s5, VA_WIN+0x2018
    H_TRAP_IN(30, VS, ld a0, 0(s5))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s5, GPA_WIN+0x2018, 0
    H_TRAP_IN(31, VS, sd a0, 0(s5))
    CHECK_GPF CAUSE_STORE_GUEST_PAGE_FAULT, s5, GPA_WIN+0x2018, 0
    /* a fetch whose final G-stage leaf lacks X */
    G_LEAF 1, gcode, GPTE_LEAF&~PTE_X
    H_TRAP_IN(32, VS, jr s3)
    CHECK_GPF CAUSE_FETCH_GUEST_PAGE_FAULT, s3, GPA_WIN+0x1000, 0
    H_CHECK_REG R_EPC, s3
    G_LEAF 1, gcode, GPTE_LEAF
    /* a lower-level VS table at an unmapped GPA: the implicit PTE read faults */
    li t4, GPA_WIN+0x5000
    PTE_SET vs_l1, 1, t4, PTE_V
    hfence.vvma
    li s6, VA_WIN+0x200000+0x7008
    H_TRAP_IN(33, VS, ld a0, 0(s6))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s6, GPA_WIN+0x5000+8*7, TINST_PT_READ
    H_TRAP_IN(34, VS, sd a0, 0(s6))
    CHECK_GPF CAUSE_STORE_GUEST_PAGE_FAULT, s6, GPA_WIN+0x5000+8*7, TINST_PT_READ
    H_TRAP_IN(35, VS, jr s6)
    CHECK_GPF CAUSE_FETCH_GUEST_PAGE_FAULT, s6, GPA_WIN+0x5000+8*7, TINST_PT_READ
    /* not delegated: M takes it with mtval2 = PTE GPA >> 2 and mtinst = 0x3000 */
    li s7, 1<<CAUSE_LOAD_GUEST_PAGE_FAULT
    csrc medeleg, s7
    H_TRAP_IN(42, VS, ld a0, 0(s6))
    H_CHECK_TRAP H_M, CAUSE_LOAD_GUEST_PAGE_FAULT
    H_CHECK_REG R_TVAL, s6
    H_CHECK R_TVAL2, (GPA_WIN+0x5000+8*7)>>2
    H_CHECK R_TINST, TINST_PT_READ
    H_CHECK_M_STACK PRV_S, 1, 1
    csrs medeleg, s7
    /* a VS table whose G-stage leaf points outside memory: access fault, stval = VA */
    li t4, BAD_ADDR
    PTE_SET gl0, 4, t4, GPTE_LEAF
    hfence.gvma
    li t4, GPA_WIN+0x4000
    PTE_SET vs_l1, 5, t4, PTE_V
    hfence.vvma
    li s7, 1<<CAUSE_LOAD_ACCESS
    csrs medeleg, s7
    li s8, VA_WIN+0xa00000+0x10
    H_TRAP_IN(43, VS, ld a0, 0(s8))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_ACCESS
    H_CHECK_REG R_TVAL, s8
    H_CHECK R_TVAL2, 0
    H_CHECK_HS_STACK PRV_S, 1
    csrc medeleg, s7
    /* the same from VU */
    li gp, 36
    H_ARM 2f
    H_GOTO_VUA 1f
1:  ld a0, 0(s6)
    H_ESCAPE
2:  H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    H_CHECK R_TVAL2, (GPA_WIN+0x5000+8*7)>>2
    H_CHECK_HS_STACK PRV_U, 1
    /* a VS table in a G-stage page: needs R and U there; MXR does not apply to it */
    li t4, GPA_WIN+0x3000
    PTE_SET vs_l1, 2, t4, PTE_V
    li t4, GPA_WIN
    PTE_SET vs_l0g, 5, t4, VS_R
    hfence.vvma
    li s6, VA_WIN+0x400000+0x5010
    H_CASE_IN(37, VS, 0x8081828384858687, ld a0, -0x10(s6))
    G_LEAF 3, vs_l0g, PTE_V|PTE_X|PTE_U|PTE_A|PTE_D
    li a1, MSTATUS_MXR
    csrs mstatus, a1
    H_TRAP_IN(38, VS, ld a0, 0(s6))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s6, GPA_WIN+0x3000+8*5, TINST_PT_READ
    li a1, MSTATUS_MXR
    csrc mstatus, a1
    G_LEAF 3, vs_l0g, GPTE_LEAF&~PTE_U
    H_TRAP_IN(39, VS, ld a0, 0(s6))
    CHECK_GPF CAUSE_LOAD_GUEST_PAGE_FAULT, s6, GPA_WIN+0x3000+8*5, TINST_PT_READ
    G_LEAF 3, vs_l0g, GPTE_LEAF
    /* the VS root at an unmapped GPA */
    li a1, SATP_SV39|((GPA_WIN+0x6000)>>12)
    csrw vsatp, a1
    hfence.vvma
    H_TRAP_IN(40, VS, .option push; .option norvc; nop; .option pop)
    H_CHECK_TRAP H_HS, CAUSE_FETCH_GUEST_PAGE_FAULT
    H_CHECK_EPC_AT 8893b
    H_CHECK_REG R_TVAL, t4
    /* the root entry of the pc's gigapage, at GPA_WIN + 0x6000 + 8 * VPN2(pc) */
    la t4, 8893b
    srli t4, t4, 30
    slli t4, t4, 3
    li t5, GPA_WIN+0x6000
    add t4, t4, t5
    srli t4, t4, 2
    H_CHECK_REG R_TVAL2, t4
    H_CHECK R_TINST, TINST_PT_READ
    VSATP_SET vs_root, 3
    /* hedeleg still set: guest page faults stay in HS */
    H_TRAP_IN(44, VS, ld a0, 0(s5))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    csrw hedeleg, zero

    /* ---- SUM and MXR of vsstatus and mstatus ---- */
    VS_LEAF 0, GPA_WIN, VS_R|PTE_U
    H_TRAP_IN(50, VS, ld a0, 0(s2))
    CHECK_PF_HS CAUSE_LOAD_PAGE_FAULT, s2
    li s7, MSTATUS_SUM
    csrs mstatus, s7
    H_TRAP_IN(51, VS, ld a0, 0(s2))
    CHECK_PF_HS CAUSE_LOAD_PAGE_FAULT, s2
    csrc mstatus, s7
    csrs vsstatus, s7
    H_CASE_IN(52, VS, 0x8081828384858687, ld a0, 0(s2))
    /* SUM never allows VS to execute from a U page */
    VS_LEAF 1, GPA_WIN+0x1000, PTE_V|PTE_X|PTE_A|PTE_U
    H_TRAP_IN(53, VS, jr s3)
    CHECK_PF_HS CAUSE_FETCH_PAGE_FAULT, s3
    csrc vsstatus, s7
    VS_LEAF 1, GPA_WIN+0x1000, PTE_V|PTE_X|PTE_A
    /* an execute-only VS page is readable with vsstatus.MXR or mstatus.MXR */
    VS_LEAF 0, GPA_WIN, PTE_V|PTE_X|PTE_A
    H_TRAP_IN(54, VS, ld a0, 0(s2))
    CHECK_PF_HS CAUSE_LOAD_PAGE_FAULT, s2
    li s7, MSTATUS_MXR
    csrs vsstatus, s7
    H_CASE_IN(55, VS, 0x8081828384858687, ld a0, 0(s2))
    csrc vsstatus, s7
    csrs mstatus, s7
    H_CASE_IN(56, VS, 0x8081828384858687, ld a0, 0(s2))
    csrc mstatus, s7

    /* ---- superpages: a VS megapage onto a G megapage ---- */
    li t4, GPA_WIN+0x200000
    PTE_SET vs_l1, 3, t4, VS_R|PTE_W
    li t4, MEGA_PA
    PTE_SET gl1, 1, t4, GPTE_LEAF
    hfence.gvma
    hfence.vvma
    /* s6 = the virtual address of mega_slot through both megapages */
    la s6, mega_slot
    li t4, MEGA_PA-(VA_WIN+0x600000)
    sub s6, s6, t4
    H_CASE_IN(60, VS, 0, li a1, 0x3c3c; sd a1, 0(s6); li a0, 0)
    TEST_CASE(61, 0x3c3c, la a1, mega_slot; ld a0, 0(a1))
    /* a misaligned VS megapage: page fault */
    li t4, GPA_WIN+0x201000
    PTE_SET vs_l1, 3, t4, VS_R|PTE_W
    hfence.vvma
    H_TRAP_IN(62, VS, ld a0, 0(s6))
    CHECK_PF_HS CAUSE_LOAD_PAGE_FAULT, s6
    /* a VS megapage onto G-stage 4 KiB pages: offset 0x1000 is G page 1 (gcode) */
    li t4, GPA_WIN
    PTE_SET vs_l1, 3, t4, VS_R|PTE_X
    hfence.vvma
    li s6, VA_WIN+0x600000+0x1000
    H_CASE_IN(63, VS, 5, jr s6)
    li s6, VA_WIN+0x600008
    H_CASE_IN(64, VS, 0x0123456789abcdef, ld a0, 0(s6))

    csrw vsatp, zero
    csrw hgatp, zero
    hfence.vvma
    hfence.gvma
    csrw medeleg, zero
TEST_END
    H_RUNTIME

    .data
    G_TABLES
vs_root: .zero 4096
vs_l1: .zero 4096
vs_l0: .zero 4096
vs_l0g: .zero 4096
    G_DATA_AND_CODE
