/*
 * HFENCE.VVMA, HFENCE.GVMA and SFENCE.VMA in VS (privileged spec, chapter "Hypervisor
 * Extension": 8.3.2 hypervisor memory-management fences with every rs1/rs2 form, 8.2.12
 * hgatp.VMID, 8.2.13 vsatp.ASID; 4.2.1 SFENCE.VMA executed in VS acting on the VS stage).
 * Only architectural behaviour is checked: after a G-stage or VS-stage PTE changes and the
 * matching fence runs, the new mapping is the one used; switching hgatp between VMIDs and
 * vsatp between ASIDs (each mapping never changed while in use) always uses the current
 * tables.
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

#define GPA_WIN 0x100000000
#define VA_WIN  0x100000000
#define VS_RW   (PTE_V|PTE_R|PTE_W|PTE_A|PTE_D)

TEST_BEGIN
    H_INIT
    /* G-stage (two roots, VMIDs 1 and 2): GPA_WIN page 0 -> page_a (root 1) or page_b
       (root 2); GPA_WIN page 1 -> page_b in both */
    G_STD_MAP groot1
    PTE_NEXT groot1, GVPN2(GPA_WIN), gl1
    PTE_NEXT gl1, 0, gl0
    PTE_LEAF_TO gl0, 0, page_a, GPTE_LEAF
    PTE_LEAF_TO gl0, 1, page_b, GPTE_LEAF
    G_STD_MAP groot2
    PTE_NEXT groot2, GVPN2(GPA_WIN), gl1b
    PTE_NEXT gl1b, 0, gl0b
    PTE_LEAF_TO gl0b, 0, page_b, GPTE_LEAF
    PTE_LEAF_TO gl0b, 1, page_b, GPTE_LEAF
    HGATP_SET groot1, 1
    li s2, GPA_WIN
    li s3, GPA_WIN>>2

    /* ---- HFENCE.GVMA after a G-stage PTE change, every operand form ---- */
    H_CASE_IN(1, VS, 0xaaaa, ld a0, 0(s2))
    PTE_LEAF_TO gl0, 0, page_b, GPTE_LEAF
    hfence.gvma
    H_CASE_IN(2, VS, 0xbbbb, ld a0, 0(s2))
    PTE_LEAF_TO gl0, 0, page_a, GPTE_LEAF
    hfence.gvma s3, zero
    H_CASE_IN(3, VS, 0xaaaa, ld a0, 0(s2))
    PTE_LEAF_TO gl0, 0, page_b, GPTE_LEAF
    li s4, 1
    hfence.gvma zero, s4
    H_CASE_IN(4, VS, 0xbbbb, ld a0, 0(s2))
    PTE_LEAF_TO gl0, 0, page_a, GPTE_LEAF
    H_CASE_IN(5, HS, 0, hfence.gvma s3, s4; li a0, 0)
    H_CASE_IN(6, VU, 0xaaaa, ld a0, 0(s2))
    /* a G-stage leaf made invalid, fenced from HS: the next access faults */
    li a1, 1<<CAUSE_LOAD_GUEST_PAGE_FAULT
    csrw medeleg, a1
    PTE_RAW gl0, 0, 0
    H_CASE_IN(7, HS, 0, hfence.gvma; li a0, 0)
    H_TRAP_IN(8, VS, ld a0, 0(s2))
    H_CHECK_TRAP H_HS, CAUSE_LOAD_GUEST_PAGE_FAULT
    PTE_LEAF_TO gl0, 0, page_a, GPTE_LEAF
    hfence.gvma
    H_CASE_IN(9, VS, 0xaaaa, ld a0, 0(s2))

    /* ---- hgatp switches between VMIDs, each with its own tables ---- */
    HGATP_SET groot2, 2
    H_CASE_IN(10, VS, 0xbbbb, ld a0, 0(s2))
    la t6, groot1
    srli t6, t6, 12
    li t5, HGATP_SV39X4|(1<<HGATP_VMID_SHIFT)
    or t6, t6, t5
    csrw hgatp, t6
    H_CASE_IN(11, VS, 0xaaaa, ld a0, 0(s2))
    la t6, groot2
    srli t6, t6, 12
    li t5, HGATP_SV39X4|(2<<HGATP_VMID_SHIFT)
    or t6, t6, t5
    csrw hgatp, t6
    H_CASE_IN(12, VS, 0xbbbb, ld a0, 0(s2))
    HGATP_SET groot1, 1

    /* ---- HFENCE.VVMA after a VS-stage PTE change, every operand form ---- */
    li t6, RAM_BASE
    PTE_SET vs_root1, VPN2(RAM_BASE), t6, PTE_LEAF
    PTE_NEXT vs_root1, VPN2(VA_WIN), vs_l1
    PTE_NEXT vs_l1, 0, vs_l0
    li t6, GPA_WIN
    PTE_SET vs_l0, 0, t6, VS_RW
    VSATP_SET vs_root1, 1
    li s5, VA_WIN
    H_CASE_IN(20, VS, 0xaaaa, ld a0, 0(s5))
    li t6, GPA_WIN+0x1000
    PTE_SET vs_l0, 0, t6, VS_RW
    hfence.vvma
    H_CASE_IN(21, VS, 0xbbbb, ld a0, 0(s5))
    li t6, GPA_WIN
    PTE_SET vs_l0, 0, t6, VS_RW
    hfence.vvma s5, zero
    H_CASE_IN(22, VS, 0xaaaa, ld a0, 0(s5))
    li t6, GPA_WIN+0x1000
    PTE_SET vs_l0, 0, t6, VS_RW
    li s6, 1
    H_CASE_IN(23, HS, 0, hfence.vvma zero, s6; li a0, 0)
    H_CASE_IN(24, VS, 0xbbbb, ld a0, 0(s5))
    li t6, GPA_WIN
    PTE_SET vs_l0, 0, t6, VS_RW
    H_CASE_IN(25, HS, 0, hfence.vvma s5, s6; li a0, 0)
    H_CASE_IN(26, VS, 0xaaaa, ld a0, 0(s5))

    /* ---- SFENCE.VMA in VS fences the guest's own VS-stage change ---- */
    la s7, vs_l0
    li s8, ((GPA_WIN+0x1000)>>2)|VS_RW
    H_CASE_IN(30, VS, 0xbbbb, sd s8, 0(s7); sfence.vma; ld a0, 0(s5))
    li s8, (GPA_WIN>>2)|VS_RW
    H_CASE_IN(31, VS, 0xaaaa, sd s8, 0(s7); sfence.vma s5, zero; ld a0, 0(s5))
    li s8, ((GPA_WIN+0x1000)>>2)|VS_RW
    H_CASE_IN(32, VS, 0xbbbb, sd s8, 0(s7); li a1, 1; sfence.vma zero, a1; ld a0, 0(s5))
    /* and a guest changing vsatp between its ASIDs */
    li t6, RAM_BASE
    PTE_SET vs_root2, VPN2(RAM_BASE), t6, PTE_LEAF
    PTE_NEXT vs_root2, VPN2(VA_WIN), vs_l1b
    PTE_NEXT vs_l1b, 0, vs_l0b
    li t6, GPA_WIN
    PTE_SET vs_l0b, 0, t6, VS_RW
    hfence.vvma
    la s9, vs_root2
    srli s9, s9, 12
    li t6, SATP_SV39|(2<<SATP_ASID_SHIFT)
    or s9, s9, t6
    csrr s10, vsatp
    H_CASE_IN(33, VS, 0xbbbb, ld a0, 0(s5))
    H_CASE_IN(34, VS, 0xaaaa, csrw satp, s9; ld a0, 0(s5))
    H_CASE_IN(35, VS, 0xbbbb, csrw satp, s10; ld a0, 0(s5))
    TEST_CASE(36, 0, csrr a0, vsatp; sub a0, a0, s10)

    /* ---- a store through the new mapping lands in the new page ---- */
    H_CASE_IN(37, VS, 0, li a1, 0xcccc; sd a1, 8(s5); li a0, 0)
    TEST_CASE(38, 0xcccc, la a1, page_b; ld a0, 8(a1))

    csrw vsatp, zero
    csrw hgatp, zero
    hfence.vvma
    hfence.gvma
    csrw medeleg, zero
TEST_END
    H_RUNTIME

    .data
    .balign GROOT_SIZE
groot1: .zero GROOT_SIZE
groot2: .zero GROOT_SIZE
gl1:    .zero 4096
gl0:    .zero 4096
gl1b:   .zero 4096
gl0b:   .zero 4096
vs_root1: .zero 4096
vs_l1:  .zero 4096
vs_l0:  .zero 4096
vs_root2: .zero 4096
vs_l1b: .zero 4096
vs_l0b: .zero 4096
page_a: .dword 0xaaaa
    .zero 4096-8
page_b: .dword 0xbbbb
    .zero 4096-8
