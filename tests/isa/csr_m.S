/*
 * Machine-level CSRs and their WARL behaviour (privileged spec chapter 3): mstatus
 * fields and MPP legalization, misa, the ID registers, medeleg/mideleg, mie/mip,
 * mtvec modes, mepc, mcause, mtval, mscratch, mcounteren, mcountinhibit, menvcfg,
 * mconfigptr. Values that the spec leaves to the implementation are the golden
 * model's (Spike's); docs/isa-tests.md lists them.
 */
#include "hvtest.h"

#define MSTATUS_ALWAYS (MSTATUS_SIE|MSTATUS_MIE|MSTATUS_SPIE|MSTATUS_MPIE|MSTATUS_SPP|MSTATUS_MPP|MSTATUS_MPRV|MSTATUS_TW|MSTATUS_TSR)
#define MSTATUS_VM     (MSTATUS_SUM|MSTATUS_MXR|MSTATUS_TVM)
#define XL64           ((2<<32)|(2<<34))
#define MSTATUS_H      ((1<<38)|(1<<39))  /* GVA, MPV: only with H (h_csr.S) */
#define MISA_BIT(c)    (1<<((c)-'A'))
#define MISA_REQUIRED  ((2<<62)|MISA_BIT('I')|MISA_BIT('M')|MISA_BIT('A')|MISA_BIT('C')|MISA_BIT('S')|MISA_BIT('U'))
#define MISA_ABSENT    (MISA_BIT('E')|MISA_BIT('F')|MISA_BIT('D')|MISA_BIT('Q')|MISA_BIT('V')|MISA_BIT('B'))

TEST_BEGIN
    /* ---- mstatus ---- */
    csrr s0, mstatus
    /* Writing all ones sets exactly the implemented fields; UXL = SXL = 2 (64-bit); FS
       exists because S-mode does (lazy FP context), so SD summarises FS = dirty */
    TEST_CASE(1, MSTATUS_ALWAYS|MSTATUS_FS|MSTATUS_SD|XL64, li a1, -1; csrw mstatus, a1; csrr a0, mstatus; li a2, ~(MSTATUS_VM|MSTATUS_H); and a0, a0, a2; csrw mstatus, s0)
    /* SUM, MXR and TVM exist together, with virtual memory, or not at all */
    TEST_CASE(2, 1, li a1, -1; csrw mstatus, a1; csrr a0, mstatus; csrw mstatus, s0; li a2, MSTATUS_VM; and a0, a0, a2; seqz a3, a0; sub a0, a0, a2; seqz a0, a0; or a0, a0, a3)
    /* Writing zero clears them; UXL/SXL are read-only; XS is 0 */
    TEST_CASE(3, XL64, csrw mstatus, zero; csrr a0, mstatus; csrw mstatus, s0)
    /* MPP legalization: 2 (reserved) becomes U (0); 0, 1 and 3 are kept */
    TEST_CASE(4, 0, li a1, (2<<11); csrw mstatus, a1; csrr a0, mstatus; srli a0, a0, 11; andi a0, a0, 3; csrw mstatus, s0)
    TEST_CASE(5, 1, li a1, (1<<11); csrw mstatus, a1; csrr a0, mstatus; srli a0, a0, 11; andi a0, a0, 3; csrw mstatus, s0)
    TEST_CASE(6, 3, li a1, (3<<11); csrw mstatus, a1; csrr a0, mstatus; srli a0, a0, 11; andi a0, a0, 3; csrw mstatus, s0)
    TEST_CASE(7, 0, csrw mstatus, zero; csrr a0, mstatus; srli a0, a0, 11; andi a0, a0, 3; csrw mstatus, s0)
    /* Individual bits: set and clear leave the others alone */
    TEST_CASE(8, MSTATUS_TW|MSTATUS_TSR, csrw mstatus, zero; li a1, MSTATUS_TW|MSTATUS_TSR; csrs mstatus, a1; csrr a0, mstatus; li a2, ~XL64; and a0, a0, a2; csrw mstatus, s0)
    TEST_CASE(10, (1<<13)|(1<<14)|MSTATUS_SD, li a1, (1<<13)|(1<<14); csrw mstatus, a1; csrr a0, mstatus; li a2, ~XL64; and a0, a0, a2; csrw mstatus, s0)
    TEST_CASE(11, (1<<13), li a1, (1<<13); csrw mstatus, a1; csrr a0, mstatus; li a2, ~XL64; and a0, a0, a2; csrw mstatus, s0)
    TEST_CASE(9, MSTATUS_SPIE|MSTATUS_MPIE|MSTATUS_SPP, li a1, MSTATUS_SPIE|MSTATUS_MPIE|MSTATUS_SPP; csrw mstatus, a1; csrr a0, mstatus; li a2, ~XL64; and a0, a0, a2; csrw mstatus, s0)

    /* ---- misa: MXL = 2, I M A C S U present, E F D Q V B absent; a rewrite keeps it ---- */
    TEST_CASE(60, MISA_REQUIRED, csrr a1, misa; li a2, MISA_REQUIRED; and a0, a1, a2)
    TEST_CASE(61, 0, csrr a1, misa; li a2, MISA_ABSENT; and a0, a1, a2)
    TEST_CASE(62, 0, csrr a1, misa; csrw misa, a1; csrr a2, misa; sub a0, a1, a2)

    /* ---- ID registers: read-only ---- */
    TEST_CASE(13, MVENDORID, csrr a0, mvendorid)
    TEST_CASE(14, MIMPID, csrr a0, mimpid)
    TEST_CASE(15, HARTID, csrr a0, mhartid)
    TEST_CASE(16, 0, csrr a1, marchid; csrr a2, marchid; sub a0, a1, a2)
    TEST_CASE(17, 0, csrr a0, mconfigptr)
    TEST_ILLEGAL(18, csrw marchid, zero)
    TEST_ILLEGAL(19, csrw mconfigptr, zero)

    /* ---- medeleg: causes 1-9 delegable; 0 (with C), 11 (M ecall) never; 10 (VS ecall)
       only with H ---- */
    TEST_CASE(20, 0x3fe | (HAS_H << 10), li a1, -1; csrw medeleg, a1; csrr a0, medeleg; slli a0, a0, 52; srli a0, a0, 52)
    TEST_CASE(21, 0x104, li a1, 0x104; csrw medeleg, a1; csrr a0, medeleg)
    TEST_CASE(22, 0, csrw medeleg, zero; csrr a0, medeleg)
    /* ---- mideleg: only the supervisor interrupts; with H the VS ones (and SGEI) read
       1 (hypervisor spec 8.4.2) ---- */
#define MIDELEG_H (HAS_H * 0x1444)
    TEST_CASE(23, MIP_SSIP|MIP_STIP|MIP_SEIP|MIDELEG_H, li a1, -1; csrw mideleg, a1; csrr a0, mideleg)
    TEST_CASE(24, MIP_STIP|MIDELEG_H, li a1, MIP_STIP|MIP_MTIP; csrw mideleg, a1; csrr a0, mideleg)
    TEST_CASE(25, MIDELEG_H, csrw mideleg, zero; csrr a0, mideleg)

    /* ---- mie: the six standard interrupt enables (with H also VSSIE/VSTIE/VSEIE/SGEIE) ---- */
    TEST_CASE(26, 0xaaa | MIDELEG_H, li a1, -1; csrw mie, a1; csrr a0, mie; csrw mie, zero)
    TEST_CASE(27, MIP_MTIP|MIP_SSIP|(HAS_H << 12), li a1, MIP_MTIP|MIP_SSIP|0x1000; csrw mie, a1; csrr a0, mie; csrw mie, zero)
    /* ---- mip: SSIP, STIP (Sstc off) and SEIP writable (with H also VSSIP); MSIP/MTIP/MEIP
       are not ---- */
    csrw menvcfg, zero
    TEST_CASE(28, MIP_SSIP|MIP_STIP|MIP_SEIP|(HAS_H << 2), csrr s1, mip; li a1, -1; csrw mip, a1; csrr a0, mip; csrw mip, zero; xor a0, a0, s1)
    TEST_CASE(29, 0, csrw mip, zero; csrr a0, mip; li a1, MIP_SSIP|MIP_STIP|MIP_SEIP; and a0, a0, a1)
    TEST_CASE(30, MIP_SSIP, csrsi mip, MIP_SSIP; csrr a0, mip; li a1, MIP_SSIP|MIP_STIP|MIP_SEIP; and a0, a0, a1; csrci mip, MIP_SSIP)

    /* ---- mtvec: direct (0) and vectored (1); modes 2 and 3 are legalized ---- */
    csrr s0, mtvec
    TEST_CASE(31, 0x80001000, li a1, 0x80001000; csrw mtvec, a1; csrr a0, mtvec)
    TEST_CASE(32, 0x80001001, li a1, 0x80001001; csrw mtvec, a1; csrr a0, mtvec)
    TEST_CASE(33, 0x80001000, li a1, 0x80001002; csrw mtvec, a1; csrr a0, mtvec)
    TEST_CASE(34, 0x80001001, li a1, 0x80001003; csrw mtvec, a1; csrr a0, mtvec)
    TEST_CASE(35, 0x80002104, li a1, 0x80002104; csrw mtvec, a1; csrr a0, mtvec)
    csrw mtvec, s0
    /* ---- mepc: bit 0 always reads 0; bit 1 is kept (IALIGN = 16) ---- */
    TEST_CASE(36, 0x80000002, li a1, 0x80000003; csrw mepc, a1; csrr a0, mepc)
    TEST_CASE(37, 0xfffffffffffffffe, li a1, -1; csrw mepc, a1; csrr a0, mepc)
    /* ---- mcause: holds legal exception and interrupt codes ---- */
    TEST_CASE(38, 11, li a1, 11; csrw mcause, a1; csrr a0, mcause)
    TEST_CASE(39, (1<<63)|7, li a1, (1<<63)|7; csrw mcause, a1; csrr a0, mcause)
    TEST_CASE(40, 0, csrw mcause, zero; csrr a0, mcause)
    /* ---- mtval, mscratch: all 64 bits ---- */
    TEST_CASE(41, 0xdeadbeefcafef00d, li a1, 0xdeadbeefcafef00d; csrw mtval, a1; csrr a0, mtval; csrw mtval, zero)
    csrr s0, mscratch
    TEST_CASE(42, 0x0123456789abcdef, li a1, 0x0123456789abcdef; csrw mscratch, a1; csrr a0, mscratch)
    csrw mscratch, s0

    /* ---- mcounteren: CY, TM, IR (no hpm counters); mcountinhibit: CY, IR ---- */
    TEST_CASE(43, 7, li a1, -1; csrw mcounteren, a1; csrr a0, mcounteren)
    TEST_CASE(44, 2, li a1, 2; csrw mcounteren, a1; csrr a0, mcounteren)
    TEST_CASE(45, 0, csrw mcounteren, zero; csrr a0, mcounteren)
    TEST_CASE(46, 5, li a1, -1; csrw mcountinhibit, a1; csrr a0, mcountinhibit; csrw mcountinhibit, zero)
    TEST_CASE(47, 0, csrr a0, mcountinhibit)
    /* ---- menvcfg: only STCE (Sstc) is implemented ---- */
    TEST_CASE(48, MENVCFG_STCE, li a1, -1; csrw menvcfg, a1; csrr a0, menvcfg)
    TEST_CASE(49, 0, csrw menvcfg, zero; csrr a0, menvcfg)
    /* ---- read-only-zero hardware performance counters (no Zihpm) ---- */
    TEST_CASE(50, 0, csrr a0, mhpmcounter3; csrr a1, mhpmcounter31; or a0, a0, a1)
    TEST_CASE(51, 0, csrr a0, mhpmevent3)
TEST_END
