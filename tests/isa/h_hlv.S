/*
 * Hypervisor virtual-machine load and store instructions (privileged spec, chapter
 * "Hypervisor Extension": 8.3.1 HLV.B/BU/H/HU/W/WU/D, HLVX.HU/WU, HSV.B/H/W/D; 8.2.1
 * hstatus.HU and SPVP; 8.5 two-stage translation with vsstatus.SUM/MXR and mstatus.MXR;
 * 8.6.3 htval/htinst and GVA of the traps they raise; 8.4.1 mstatus.MPRV with MPV).
 * Run from HS, from HU with hstatus.HU = 1 and from M: widths and extension, translation
 * through vsatp (Sv39) and hgatp (Sv39x4), the effective privilege SPVP, execute
 * permission for HLVX, and page faults (13/15), guest page faults (21/23, also on the
 * implicit VS-stage PTE read) and misaligned accesses with stval, htval, htinst, GVA.
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

/* Guest physical window (G-stage root entry 4 -> gl1 -> gl0) and guest virtual window
   (VS-stage root entry 1 -> vs_l1 -> vs_l0). */
#define GPA_WIN 0x100000000
#define VA_WIN  0x40000000
#define VS_LEAF_R (PTE_V|PTE_R|PTE_A|PTE_D)

/* Entry idx of vs_l0 := leaf to guest-physical address gpa with flags; HFENCE.VVMA. */
.macro VS_LEAF idx, gpa, flags
    li t4, \gpa
    PTE_SET vs_l0, \idx, t4, \flags
    hfence.vvma
.endm
/* Entry idx of gl0 := leaf to the page at label target with flags; HFENCE.GVMA. */
.macro G_LEAF idx, target, flags
    PTE_LEAF_TO gl0, \idx, \target, \flags
    hfence.gvma
.endm

TEST_BEGIN
    H_INIT
    li a1, (1<<CAUSE_MISALIGNED_LOAD)|(1<<CAUSE_LOAD_PAGE_FAULT)|(1<<CAUSE_STORE_PAGE_FAULT)|(1<<CAUSE_LOAD_GUEST_PAGE_FAULT)|(1<<CAUSE_STORE_GUEST_PAGE_FAULT)|(1<<CAUSE_ILLEGAL_INSTRUCTION)
    csrw medeleg, a1
    li a1, HSTATUS_SPVP
    csrw hstatus, a1
    la s1, hpage

    /* ---- both stages Bare: every width, sign and zero extension ---- */
    H_CASE_IN(1, HS, 0xffffffffffffff87, hlv.b a0, (s1))
    H_CASE_IN(2, HS, 0x87, hlv.bu a0, (s1))
    H_CASE_IN(3, HS, 0xffffffffffff8687, hlv.h a0, (s1))
    H_CASE_IN(4, HS, 0x8687, hlv.hu a0, (s1))
    H_CASE_IN(5, HS, 0xffffffff84858687, hlv.w a0, (s1))
    H_CASE_IN(6, HS, 0x84858687, hlv.wu a0, (s1))
    H_CASE_IN(7, HS, 0x8081828384858687, hlv.d a0, (s1))
    H_CASE_IN(8, HS, 0x8687, hlvx.hu a0, (s1))
    H_CASE_IN(9, HS, 0x84858687, hlvx.wu a0, (s1))
    H_CASE_IN(10, HS, 0x0123456789abcdef, addi s2, s1, 8; hlv.d a0, (s2))
    /* stores */
    addi s2, s1, 16
    H_CASE_IN(11, HS, 0, li a1, 0x1122334455667788; hsv.d a1, (s2); li a0, 0)
    TEST_CASE(12, 0x1122334455667788, ld a0, 16(s1))
    H_CASE_IN(13, HS, 0, li a1, -1; hsv.b a1, (s2); li a0, 0)
    TEST_CASE(14, 0x11223344556677ff, ld a0, 16(s1))
    H_CASE_IN(15, HS, 0, li a1, 0xabcd; addi t3, s2, 2; hsv.h a1, (t3); li a0, 0)
    TEST_CASE(16, 0x11223344abcd77ff, ld a0, 16(s1))
    H_CASE_IN(17, HS, 0, li a1, 0xcafef00d; addi t3, s2, 4; hsv.w a1, (t3); li a0, 0)
    TEST_CASE(18, 0xcafef00dabcd77ff, ld a0, 16(s1))
    /* from M too */
    TEST_CASE(19, 0x8687, hlv.hu a0, (s1))
    /* from HU only with hstatus.HU = 1 */
    li a1, HSTATUS_HU
    csrs hstatus, a1
    H_CASE_IN(20, HU, 0x84858687, hlv.wu a0, (s1))
    H_CASE_IN(21, HU, 0, li a1, 0x5a; addi t3, s1, 24; hsv.b a1, (t3); lbu a0, 24(s1); addi a0, a0, -0x5a)
    li a1, HSTATUS_HU
    csrc hstatus, a1
    H_TRAP_IN(22, HU, hlv.wu a0, (s1))
    H_CHECK_TRAP H_HS, CAUSE_ILLEGAL_INSTRUCTION
    /* misaligned HLV: address-misaligned with the guest virtual address, GVA = 1 */
    addi s2, s1, 2
    H_TRAP_IN(23, HS, hlv.w a0, (s2))
    H_CHECK_TRAP H_HS, CAUSE_MISALIGNED_LOAD
    H_CHECK_REG R_TVAL, s2
    H_CHECK R_TVAL2, 0
    H_CHECK_BITS R_STATUS, HSTATUS_GVA|HSTATUS_SPV, HSTATUS_GVA

    /* ---- two stages: VA_WIN -(VS)-> GPA_WIN -(G)-> hpage ---- */
    G_STD_MAP groot
    PTE_NEXT groot, GVPN2(GPA_WIN), gl1
    PTE_NEXT gl1, 0, gl0
    G_LEAF 0, hpage, GPTE_LEAF
    HGATP_SET groot
    li t6, RAM_BASE
    PTE_SET vs_root, VPN2(RAM_BASE), t6, PTE_LEAF
    PTE_NEXT vs_root, VPN2(VA_WIN), vs_l1
    PTE_NEXT vs_l1, 0, vs_l0
    VS_LEAF 0, GPA_WIN, VS_LEAF_R
    VSATP_SET vs_root
    li s2, VA_WIN
    H_CASE_IN(30, HS, 0x8081828384858687, hlv.d a0, (s2))
    H_CASE_IN(31, HS, 0x0123456789abcdef, addi t3, s2, 8; hlv.d a0, (t3))
    /* HS's own satp stays Bare: a plain load of VA_WIN is not translated */
    H_TRAP_IN(32, HS, ld a0, 0(s2))
    H_CHECK_COUNT 1
    H_CHECK R_CAUSE, CAUSE_LOAD_ACCESS
    /* vsatp Bare: the address is a guest-physical address */
    csrw vsatp, zero
    hfence.vvma
    li s3, GPA_WIN
    H_CASE_IN(33, HS, 0x84858687, hlv.wu a0, (s3))
    VSATP_SET vs_root

    /* ---- effective privilege = SPVP: VS (1) needs U = 0 or SUM; VU (0) needs U = 1 ---- */
    li a1, HSTATUS_SPVP
    csrc hstatus, a1
    H_TRAP_IN(34, HS, addi t3, s2, 8; hlv.d a0, (t3))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_PAGE_FAULT
    addi t4, s2, 8
    H_CHECK_REG R_TVAL, t4
    H_CHECK R_TVAL2, 0
    /* a trap of HLV in HS: SPV = 0, GVA = 1, SPVP unchanged */
    H_CHECK_BITS R_STATUS, HSTATUS_SPV|HSTATUS_SPVP|HSTATUS_GVA, HSTATUS_GVA
    VS_LEAF 0, GPA_WIN, VS_LEAF_R|PTE_U
    H_CASE_IN(35, HS, 0x8081828384858687, hlv.d a0, (s2))
    li a1, HSTATUS_SPVP
    csrs hstatus, a1
    H_TRAP_IN(36, HS, hlv.d a0, (s2))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_PAGE_FAULT
    H_CHECK_BITS R_STATUS, HSTATUS_SPV|HSTATUS_SPVP|HSTATUS_GVA, HSTATUS_GVA|HSTATUS_SPVP
    /* vsstatus.SUM lets VS reach U pages; mstatus.SUM does not apply */
    li a1, MSTATUS_SUM
    csrs mstatus, a1
    H_TRAP_IN(37, HS, hlv.w a0, (s2))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_PAGE_FAULT
    li a1, MSTATUS_SUM
    csrc mstatus, a1
    csrs vsstatus, a1
    H_CASE_IN(38, HS, 0xffffffff84858687, hlv.w a0, (s2))
    li a1, MSTATUS_SUM
    csrc vsstatus, a1
    VS_LEAF 0, GPA_WIN, VS_LEAF_R

    /* ---- VS-stage permissions: store to a read-only page, HLVX needs X, MXR ---- */
    H_TRAP_IN(40, HS, addi t3, s2, 4; hsv.w zero, (t3))
    H_CHECK_TRAP H_HS, CAUSE_STORE_PAGE_FAULT
    addi t4, s2, 4
    H_CHECK_REG R_TVAL, t4
    H_CHECK_BITS R_STATUS, HSTATUS_GVA, HSTATUS_GVA
    H_TRAP_IN(41, HS, hlvx.wu a0, (s2))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_PAGE_FAULT
    H_CHECK_REG R_TVAL, s2
    VS_LEAF 0, GPA_WIN, PTE_V|PTE_X|PTE_A
    H_CASE_IN(42, HS, 0x8687, hlvx.hu a0, (s2))
    H_TRAP_IN(43, HS, hlv.hu a0, (s2))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_PAGE_FAULT
    li a1, MSTATUS_MXR
    csrs vsstatus, a1
    H_CASE_IN(44, HS, 0x8687, hlv.hu a0, (s2))
    csrc vsstatus, a1
    csrs mstatus, a1
    H_CASE_IN(45, HS, 0x8687, hlv.hu a0, (s2))
    li a1, MSTATUS_MXR
    csrc mstatus, a1
    VS_LEAF 0, GPA_WIN, PTE_LEAF
    H_CASE_IN(46, HS, 0, li a1, 0x77; addi t3, s2, 24; hsv.d a1, (t3); ld a0, 24(s1); addi a0, a0, -0x77)

    /* ---- G-stage permissions: guest page faults, htval = GPA >> 2, stval = VA ---- */
    G_LEAF 0, hpage, GPTE_LEAF&~PTE_W
    H_TRAP_IN(50, HS, addi t3, s2, 0x18; hsv.w zero, (t3))
    H_CHECK_TRAP H_HS, CAUSE_STORE_GUEST_PAGE_FAULT
    addi t4, s2, 0x18
    H_CHECK_REG R_TVAL, t4
    H_CHECK R_TVAL2, (GPA_WIN+0x18)>>2
    /* Spike writes htinst = 0 for explicit accesses */
    H_CHECK R_TINST, 0
    H_CHECK_BITS R_STATUS, HSTATUS_GVA|HSTATUS_SPV, HSTATUS_GVA
    G_LEAF 0, hpage, GPTE_LEAF&~PTE_U
    H_TRAP_IN(51, HS, addi t3, s2, 0x21; hlv.b a0, (t3))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    H_CHECK R_TVAL2, (GPA_WIN+0x21)>>2
    G_LEAF 0, hpage, PTE_V|PTE_X|PTE_U|PTE_A
    H_TRAP_IN(52, HS, hlv.d a0, (s2))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    H_CHECK R_TVAL2, GPA_WIN>>2
    /* HLVX on an execute-only G-stage page works */
    H_CASE_IN(53, HS, 0x84858687, hlvx.wu a0, (s2))
    /* vsstatus.MXR does not apply to the G-stage; mstatus.MXR does */
    li a1, MSTATUS_MXR
    csrs vsstatus, a1
    H_TRAP_IN(54, HS, hlv.d a0, (s2))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    li a1, MSTATUS_MXR
    csrc vsstatus, a1
    csrs mstatus, a1
    H_CASE_IN(55, HS, 0x8081828384858687, hlv.d a0, (s2))
    li a1, MSTATUS_MXR
    csrc mstatus, a1
    /* HLVX needs X at the G-stage */
    G_LEAF 0, hpage, PTE_V|PTE_R|PTE_U|PTE_A
    H_TRAP_IN(56, HS, addi t3, s2, 2; hlvx.hu a0, (t3))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    H_CHECK R_TVAL2, (GPA_WIN+2)>>2
    addi t4, s2, 2
    H_CHECK_REG R_TVAL, t4
    G_LEAF 0, hpage, GPTE_LEAF

    /* ---- a G-stage fault on the implicit VS-stage PTE read: htinst = 0x3000 ---- */
    /* VA_WIN + 2 MiB -> vs_l1[1] -> a table at guest-physical GPA_WIN + 0x2000 (unmapped) */
    li t4, GPA_WIN+0x2000
    PTE_SET vs_l1, 1, t4, PTE_V
    hfence.vvma
    li s3, VA_WIN+0x200000+0x3000
    H_TRAP_IN(60, HS, hlv.d a0, (s3))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    H_CHECK_REG R_TVAL, s3
    H_CHECK R_TVAL2, (GPA_WIN+0x2000+8*3)>>2
    H_CHECK R_TINST, TINST_PT_READ
    H_CHECK_BITS R_STATUS, HSTATUS_GVA, HSTATUS_GVA
    /* for a store the fault is a store guest page fault; the PTE access is still a read */
    H_TRAP_IN(61, HS, hsv.d zero, (s3))
    H_CHECK_TRAP H_HS, CAUSE_STORE_GUEST_PAGE_FAULT
    H_CHECK_REG R_TVAL, s3
    H_CHECK R_TVAL2, (GPA_WIN+0x2000+8*3)>>2
    H_CHECK R_TINST, TINST_PT_READ
    /* mapping that table page at the G-stage (with an invalid VS PTE in it) turns the
       fault into a VS-stage page fault */
    G_LEAF 2, vs_l0b, GPTE_LEAF
    H_TRAP_IN(62, HS, hlv.d a0, (s3))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_PAGE_FAULT
    H_CHECK_REG R_TVAL, s3
    H_CHECK R_TVAL2, 0
    /* and a valid leaf there makes it work */
    li t4, GPA_WIN
    PTE_SET vs_l0b, 3, t4, VS_LEAF_R
    hfence.vvma
    H_CASE_IN(63, HS, 0x0123456789abcdef, addi t3, s3, 8; hlv.d a0, (t3))

    /* ---- the same faults from M: taken by M, mtval2 = GPA >> 2, GVA = 1, MPV = 0 ---- */
    G_LEAF 0, hpage, GPTE_LEAF&~PTE_R&~PTE_W
    H_TRAP_HERE(70, addi t3, s2, 0x10; hlv.w a0, (t3))
    H_CHECK_TRAP H_M, CAUSE_LOAD_GUEST_PAGE_FAULT
    addi t4, s2, 0x10
    H_CHECK_REG R_TVAL, t4
    H_CHECK R_TVAL2, (GPA_WIN+0x10)>>2
    H_CHECK R_TINST, 0
    H_CHECK_M_STACK PRV_M, 0, 1
    G_LEAF 0, hpage, GPTE_LEAF

    /* ---- mstatus.MPRV with MPV = 1: M's loads and stores use both stages ---- */
    li s4, MSTATUS_MPRV|MSTATUS_MPV|MSTATUS_MPP_S
    li s5, MSTATUS_MPRV|MSTATUS_MPV|MSTATUS_MPP
    csrc mstatus, s5
    li gp, 71
    csrs mstatus, s4
    ld a0, 8(s2)
    csrc mstatus, s5
    CHECK_EQ a0, 0x0123456789abcdef
    /* MPP = U: the non-U leaf faults, taken by M with GVA = 1 */
    li s4, MSTATUS_MPRV|MSTATUS_MPV
    H_TRAP_HERE(72, csrs mstatus, s4; ld a0, 8(s2))
    H_CHECK_TRAP H_M, CAUSE_LOAD_PAGE_FAULT
    addi t4, s2, 8
    H_CHECK_REG R_TVAL, t4
    H_CHECK_BITS R_STATUS, MSTATUS_GVA|MSTATUS_MPV, MSTATUS_GVA
    csrc mstatus, s5

    csrw hgatp, zero
    csrw vsatp, zero
    hfence.gvma
    csrw hstatus, zero
    csrw medeleg, zero
TEST_END
    H_RUNTIME

    .data
    G_TABLES
vs_root: .zero 4096
vs_l1: .zero 4096
vs_l0: .zero 4096
vs_l0b: .zero 4096
hpage:
    .dword 0x8081828384858687
    .dword 0x0123456789abcdef
    .zero 4096-16
