/*
 * Hypervisor CSRs from M and HS (privileged spec, chapter "Hypervisor Extension":
 * 8.1 misa.H, 8.2.1 hstatus, 8.2.2 hedeleg/hideleg, 8.2.3-8.2.5 hvip/hip/hie,
 * 8.2.6 hgeip/hgeie, 8.2.7 henvcfg, 8.2.8 hcounteren, 8.2.9 htimedelta, 8.2.10 htval,
 * 8.2.11 htinst, 8.2.12 hgatp, 8.2.13-8.2.x the VS CSRs, 8.4.1 mstatus.MPV/GVA,
 * 8.4.2-8.4.4 mideleg/medeleg with H, mtval2, mtinst; Sstc vstimecmp).
 * WARL values are those of Spike (docs/isa-tests-h.md lists them).
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

#define HSTATUS_W (HSTATUS_VTSR|HSTATUS_VTW|HSTATUS_VTVM|HSTATUS_HU|HSTATUS_SPVP|HSTATUS_SPV|HSTATUS_GVA)
/* hedeleg: exceptions 0-8, 12, 13, 15 and (Spike) 18, 19; never 9, 10, 11, 20-23. */
#define HEDELEG_W  0xcb1ff
#define HEDELEG_RO0 ((1<<9)|(1<<10)|(1<<11)|(0xf<<20))
/* medeleg with H: 1-10, 12, 13, 15, 18-23 (0 never with C, 11 never). */
#define MEDELEG_W  0xfcb7fe
#define VSSTATUS_W (MSTATUS_SIE|MSTATUS_SPIE|MSTATUS_SPP|MSTATUS_FS|MSTATUS_SUM|MSTATUS_MXR)

TEST_BEGIN
    H_INIT
    /* ---- misa.H ---- */
    TEST_CASE(1, MISA_H, csrr a0, misa; andi a0, a0, MISA_H)

    /* ---- hstatus WARL: VSXL = 2 read-only, VGEIN = 0 (GEILEN = 0), VSBE = 0 ---- */
    TEST_CASE(2, HSTATUS_W|HSTATUS_VSXL_64, li a1, -1; csrw hstatus, a1; csrr a0, hstatus)
    TEST_CASE(3, HSTATUS_VSXL_64, csrw hstatus, zero; csrr a0, hstatus)
    TEST_CASE(4, 0, li a1, HSTATUS_VGEIN|HSTATUS_VSBE; csrw hstatus, a1; csrr a0, hstatus; and a0, a0, a1)
    TEST_CASE(5, HSTATUS_VTSR, li a1, HSTATUS_VTSR; csrw hstatus, a1; csrr a0, hstatus; li a2, HSTATUS_W; and a0, a0, a2)
    TEST_CASE(6, HSTATUS_SPVP|HSTATUS_GVA, li a1, HSTATUS_SPVP|HSTATUS_GVA; csrw hstatus, a1; csrr a0, hstatus; li a2, HSTATUS_W; and a0, a0, a2)
    csrw hstatus, zero

    /* ---- hedeleg / medeleg ---- */
    TEST_CASE(10, HEDELEG_W, li a1, -1; csrw hedeleg, a1; csrr a0, hedeleg)
    TEST_CASE(11, 0, csrr a0, hedeleg; li a1, HEDELEG_RO0; and a0, a0, a1)
    TEST_CASE(12, 0, csrw hedeleg, zero; csrr a0, hedeleg)
    TEST_CASE(13, MEDELEG_W, li a1, -1; csrw medeleg, a1; csrr a0, medeleg)
    csrw medeleg, zero

    /* ---- mideleg: VSSIP, VSTIP, VSEIP and SGEIP read-only one; hideleg: VS bits only ---- */
    TEST_CASE(14, MIP_VS_ALL|MIP_SGEIP, csrw mideleg, zero; csrr a0, mideleg)
    TEST_CASE(15, MIP_VS_ALL|MIP_SGEIP|MIP_SSIP|MIP_STIP|MIP_SEIP, li a1, -1; csrw mideleg, a1; csrr a0, mideleg)
    csrw mideleg, zero
    TEST_CASE(16, MIP_VS_ALL, li a1, -1; csrw hideleg, a1; csrr a0, hideleg)
    TEST_CASE(17, MIP_VSTIP, li a1, MIP_VSTIP|MIP_STIP|MIP_SGEIP; csrw hideleg, a1; csrr a0, hideleg)
    csrw hideleg, zero

    /* ---- hie: VSSIE, VSTIE, VSEIE, SGEIE; aliases of mie ---- */
    csrw mie, zero
    TEST_CASE(20, MIP_VS_ALL|MIP_SGEIP, li a1, -1; csrw hie, a1; csrr a0, hie)
    TEST_CASE(21, MIP_VS_ALL|MIP_SGEIP, csrr a0, mie)
    TEST_CASE(22, 0, csrw hie, zero; csrr a0, mie)
    /* mie holds the VS bits too; hie does not show the S/M ones */
    TEST_CASE(23, MIP_VSTIP, li a1, MIP_VSTIP|MIP_STIP|MIP_MTIP; csrw mie, a1; csrr a0, hie)
    csrw mie, zero
    /* sie (HS) never shows the VS bits */
    TEST_CASE(24, 0, li a1, -1; csrw mideleg, a1; li a1, MIP_VS_ALL; csrw mie, a1; csrr a0, sie)
    csrw mie, zero
    csrw mideleg, zero

    /* ---- hvip, hip, mip: VS interrupts injected by the hypervisor ---- */
    TEST_CASE(30, MIP_VS_ALL, li a1, -1; csrw hvip, a1; csrr a0, hvip)
    TEST_CASE(31, MIP_VS_ALL, csrr a0, mip; li a1, MIP_VS_ALL; and a0, a0, a1)
    TEST_CASE(32, MIP_VS_ALL, csrr a0, hip)
    /* hip.VSSIP is writable (alias of hvip.VSSIP); hip.VSTIP/VSEIP are not */
    TEST_CASE(33, MIP_VSTIP|MIP_VSEIP, li a1, MIP_VS_ALL; csrc hip, a1; csrr a0, hvip)
    TEST_CASE(34, MIP_VSSIP|MIP_VSTIP|MIP_VSEIP, csrsi hip, MIP_VSSIP; csrr a0, hip)
    csrw hvip, zero
    /* mip.VSSIP is writable by M and reaches hvip; mip.VSTIP and mip.VSEIP are not */
    TEST_CASE(35, MIP_VSSIP, li a1, MIP_VS_ALL; csrs mip, a1; csrr a0, hvip)
    TEST_CASE(36, 0, li a1, MIP_VS_ALL; csrc mip, a1; csrr a0, hip)
    /* sip (HS) never shows the VS bits */
    TEST_CASE(37, 0, li a1, -1; csrw mideleg, a1; csrw hvip, a1; csrr a0, sip; li a1, MIP_VS_ALL; and a0, a0, a1)
    csrw hvip, zero
    csrw mideleg, zero
    /* vsip/vsie: the VS bits delegated by hideleg, shifted down by one (VSSIP -> SSIP) */
    TEST_CASE(38, 0, li a1, -1; csrw hvip, a1; csrr a0, vsip)
    TEST_CASE(39, MIP_SSIP|MIP_STIP|MIP_SEIP, li a1, -1; csrw hideleg, a1; csrr a0, vsip)
    TEST_CASE(40, MIP_STIP, li a1, MIP_VSTIP; csrw hideleg, a1; csrr a0, vsip)
    TEST_CASE(41, MIP_STIP, li a1, -1; csrw vsie, a1; csrr a0, vsie)
    TEST_CASE(42, MIP_VSTIP, csrr a0, hie)
    TEST_CASE(43, 0, csrw hideleg, zero; csrr a0, vsie)
    /* vsip.SSIP is writable when delegated and reaches hvip.VSSIP */
    csrw hvip, zero
    TEST_CASE(44, MIP_VSSIP, li a1, MIP_VS_ALL; csrw hideleg, a1; csrsi vsip, MIP_SSIP; csrr a0, hvip)
    TEST_CASE(45, 0, csrci vsip, MIP_SSIP; csrr a0, hvip)
    /* vsip.STIP is read-only */
    TEST_CASE(46, 0, li a1, MIP_STIP; csrs vsip, a1; csrr a0, hvip)
    csrw hideleg, zero
    csrw hie, zero

    /* ---- hgeip / hgeie: GEILEN = 0 ---- */
    TEST_CASE(50, 0, csrr a0, hgeip)
    TEST_CASE(51, 0, li a1, -1; csrw hgeie, a1; csrr a0, hgeie)
    TEST_CASE(52, 0, li a1, -1; csrw hie, a1; csrr a0, hip; li a1, MIP_SGEIP; and a0, a0, a1; csrw hie, zero)

    /* ---- hcounteren, htimedelta, htval, htinst, mtval2, mtinst ---- */
    TEST_CASE(53, 7, li a1, -1; csrw hcounteren, a1; csrr a0, hcounteren)
    TEST_CASE(54, 0, csrw hcounteren, zero; csrr a0, hcounteren)
    TEST_CASE(55, 0xfedcba9876543210, li a1, 0xfedcba9876543210; csrw htimedelta, a1; csrr a0, htimedelta)
    csrw htimedelta, zero
    TEST_CASE(56, 0x1234567890, li a1, 0x1234567890; csrw htval, a1; csrr a0, htval)
    TEST_CASE(57, TINST_PT_WRITE, li a1, TINST_PT_WRITE; csrw htinst, a1; csrr a0, htinst)
    TEST_CASE(58, 0x2345678900, li a1, 0x2345678900; csrw mtval2, a1; csrr a0, mtval2)
    TEST_CASE(59, TINST_PT_READ, li a1, TINST_PT_READ; csrw mtinst, a1; csrr a0, mtinst)
    csrw htval, zero
    csrw htinst, zero
    csrw mtval2, zero
    csrw mtinst, zero

    /* ---- hgatp: Bare / Sv39x4, 14-bit VMID, root PPN bits 1:0 read 0 ---- */
    TEST_CASE(60, HGATP_SV39X4|(0x3fff<<HGATP_VMID_SHIFT)|0x80010, li a1, HGATP_SV39X4|(0xffff<<HGATP_VMID_SHIFT)|0x80010; csrw hgatp, a1; csrr a0, hgatp)
    TEST_CASE(61, HGATP_SV39X4|0x80024, li a1, HGATP_SV39X4|0x80027; csrw hgatp, a1; csrr a0, hgatp)
    /* an unsupported MODE (Sv48x4, reserved 1) keeps MODE; the other fields are written */
    TEST_CASE(62, HGATP_SV39X4|0x80040, li a1, (9<<HGATP_MODE_SHIFT)|0x80040; csrw hgatp, a1; csrr a0, hgatp)
    TEST_CASE(63, HGATP_SV39X4|0x80080, li a1, (1<<HGATP_MODE_SHIFT)|0x80080; csrw hgatp, a1; csrr a0, hgatp)
    TEST_CASE(64, 0x80080, li a1, 0x80080; csrw hgatp, a1; csrr a0, hgatp)
    TEST_CASE(65, 0, li a1, (9<<HGATP_MODE_SHIFT); csrw hgatp, a1; csrr a0, hgatp)
    csrw hgatp, zero

    /* ---- henvcfg.STCE: writable only while menvcfg.STCE = 1, reads 0 otherwise ---- */
    TEST_CASE(66, 0, csrw menvcfg, zero; li a1, -1; csrw henvcfg, a1; csrr a0, henvcfg)
    TEST_CASE(67, HENVCFG_STCE, li a1, MENVCFG_STCE; csrw menvcfg, a1; li a1, -1; csrw henvcfg, a1; csrr a0, henvcfg)
    TEST_CASE(68, 0, csrw menvcfg, zero; csrr a0, henvcfg)
    csrw henvcfg, zero

    /* ---- mstatus.MPV and GVA are writable; sstatus does not show them ---- */
    TEST_CASE(70, MSTATUS_MPV|MSTATUS_GVA, li a1, MSTATUS_MPV|MSTATUS_GVA; csrs mstatus, a1; csrr a0, mstatus; and a0, a0, a1)
    TEST_CASE(71, 0, csrr a0, sstatus; li a1, MSTATUS_MPV|MSTATUS_GVA; and a0, a0, a1)
    TEST_CASE(72, 0, li a1, MSTATUS_MPV|MSTATUS_GVA; csrc mstatus, a1; csrr a0, mstatus; and a0, a0, a1)

    /* ---- VS CSRs, accessed from M ---- */
    csrr s0, mstatus
    TEST_CASE(80, VSSTATUS_W|MSTATUS_SD|(2<<32), li a1, -1; csrw vsstatus, a1; csrr a0, vsstatus)
    /* vsstatus is separate from sstatus/mstatus */
    TEST_CASE(81, 0, csrr a0, mstatus; xor a0, a0, s0)
    TEST_CASE(82, (2<<32), csrw vsstatus, zero; csrr a0, vsstatus)
    TEST_CASE(83, 0x80004001, li a1, 0x80004001; csrw vstvec, a1; csrr a0, vstvec)
    TEST_CASE(84, 0x80004000, li a1, 0x80004002; csrw vstvec, a1; csrr a0, vstvec)
    TEST_CASE(85, 0x80000006, li a1, 0x80000007; csrw vsepc, a1; csrr a0, vsepc)
    TEST_CASE(86, (1<<63)|9, li a1, (1<<63)|9; csrw vscause, a1; csrr a0, vscause)
    TEST_CASE(87, 0x123456789abcdef0, li a1, 0x123456789abcdef0; csrw vstval, a1; csrr a0, vstval)
    TEST_CASE(88, 0x0fedcba987654321, li a1, 0x0fedcba987654321; csrw vsscratch, a1; csrr a0, vsscratch)
    /* vsatp: Bare and Sv39 with a 16-bit ASID; an unsupported MODE written from M/HS keeps
       MODE and writes ASID and PPN (the spec's "WARL in the normal way" choice, Spike) */
    TEST_CASE(89, SATP_SV39|(0xffff<<SATP_ASID_SHIFT)|0x80123, li a1, SATP_SV39|(0xffff<<SATP_ASID_SHIFT)|0x80123; csrw vsatp, a1; csrr a0, vsatp)
    TEST_CASE(90, SATP_SV39|0x1, li a1, (15<<60)|0x1; csrw vsatp, a1; csrr a0, vsatp)
    TEST_CASE(91, 0, csrw vsatp, zero; csrr a0, vsatp)
    /* the HS copies are untouched by the VS writes */
    TEST_CASE(92, 0, csrr a0, satp)
    TEST_CASE(93, 1, la a1, h_mtrap; csrr a0, stvec; la a1, h_strap; sub a0, a0, a1; seqz a0, a0)
    /* vstimecmp (Sstc) */
    TEST_CASE(94, 0x123456789, li a1, MENVCFG_STCE; csrw menvcfg, a1; li a1, 0x123456789; csrw vstimecmp, a1; csrr a0, vstimecmp)
    li a1, -1
    csrw vstimecmp, a1
    csrw menvcfg, zero
    la t5, h_vstrap
    csrw vstvec, t5
    csrw vsepc, zero
    csrw vscause, zero
    csrw vstval, zero
TEST_END
    H_RUNTIME
