/*
 * hvtest_h.h: constants, mode switches and a V-mode-aware trap harness for the
 * hypervisor-extension ISA tests (tests/isa/h_*.S, docs/isa-tests-h.md).
 *
 * Architectural constants follow the RISC-V Privileged Architecture, chapter
 * "Hypervisor Extension" (H 1.0): 8.2 (hstatus, hedeleg/hideleg, hvip/hip/hie, hgeip/hgeie,
 * henvcfg, hcounteren, htimedelta, htval, htinst, hgatp), 8.2.x VS CSRs, 8.4 (mstatus.MPV/GVA,
 * mtval2, mtinst), 8.5 (two-stage translation, Sv39x4), 8.6 (traps: causes 10, 20-23).
 *
 * Include after hvtest.h. Every test that includes it must place H_RUNTIME once (after
 * TEST_END): it emits the three trap handlers and the trap record used below.
 *
 * The harness: every trap ends in M-mode. A trap taken by M is recorded by M; a trap
 * taken by HS (VS) is read by the HS (VS) handler into registers and reported to M with
 * an ecall. M then stores the record (h_rec) and continues, in M-mode with MIE = 0,
 * MPV = 0 and MPRV = 0, at the resume label armed by H_ARM. Lower-mode code returns to M
 * without a trap through H_ESCAPE (an ecall that is never recorded).
 * Register use: H_ESCAPE clobbers t1, t2 and a7 only; a recorded trap clobbers t0-t2 and
 * a0-a7. Tests must not hold a7 == H_MAGIC_* across an ecall.
 */
#ifndef HVTEST_H_H
#define HVTEST_H_H

/* ---- CSR numbers (hypervisor spec 8.2, 8.4; the assembler also knows the names) ---- */
#define CSR_HSTATUS    0x600
#define CSR_HEDELEG    0x602
#define CSR_HIDELEG    0x603
#define CSR_HIE        0x604
#define CSR_HCOUNTEREN 0x606
#define CSR_HGEIE      0x607
#define CSR_HENVCFG    0x60a
#define CSR_HTVAL      0x643
#define CSR_HIP        0x644
#define CSR_HVIP       0x645
#define CSR_HTINST     0x64a
#define CSR_HGATP      0x680
#define CSR_HTIMEDELTA 0x605
#define CSR_HGEIP      0xe12
#define CSR_VSSTATUS   0x200
#define CSR_VSIE       0x204
#define CSR_VSTVEC     0x205
#define CSR_VSSCRATCH  0x240
#define CSR_VSEPC      0x241
#define CSR_VSCAUSE    0x242
#define CSR_VSTVAL     0x243
#define CSR_VSIP       0x244
#define CSR_VSTIMECMP  0x24d
#define CSR_VSATP      0x280
#define CSR_MTINST     0x34a
#define CSR_MTVAL2     0x34b

/* ---- misa ---- */
#define MISA_H (1<<7)

/* ---- hstatus fields (8.2.1) ---- */
#define HSTATUS_VSBE  (1<<5)
#define HSTATUS_GVA   (1<<6)
#define HSTATUS_SPV   (1<<7)
#define HSTATUS_SPVP  (1<<8)
#define HSTATUS_HU    (1<<9)
#define HSTATUS_VGEIN (0x3f<<12)
#define HSTATUS_VTVM  (1<<20)
#define HSTATUS_VTW   (1<<21)
#define HSTATUS_VTSR  (1<<22)
#define HSTATUS_VSXL  (3<<32)
#define HSTATUS_VSXL_64 (2<<32)

/* ---- mstatus fields added by H (8.4.1) ---- */
#define MSTATUS_GVA (1<<38)
#define MSTATUS_MPV (1<<39)

/* ---- VS-level interrupts (8.2.3-8.2.5): bit numbers in mip/hip/hvip/hideleg ---- */
#define IRQ_VS_SOFT  2
#define IRQ_VS_TIMER 6
#define IRQ_VS_EXT   10
#define IRQ_SG_EXT   12
#define MIP_VSSIP (1<<IRQ_VS_SOFT)
#define MIP_VSTIP (1<<IRQ_VS_TIMER)
#define MIP_VSEIP (1<<IRQ_VS_EXT)
#define MIP_SGEIP (1<<IRQ_SG_EXT)
#define MIP_VS_ALL (MIP_VSSIP|MIP_VSTIP|MIP_VSEIP)

/* ---- exception causes added by H (8.6.1) ---- */
#define CAUSE_VS_ECALL              10
#define CAUSE_FETCH_GUEST_PAGE_FAULT 20
#define CAUSE_LOAD_GUEST_PAGE_FAULT  21
#define CAUSE_VIRTUAL_INSTRUCTION    22
#define CAUSE_STORE_GUEST_PAGE_FAULT 23

/* ---- henvcfg (8.2.11) ---- */
#define HENVCFG_STCE (1<<63)

/* ---- hgatp (8.2.13), Sv39x4 (8.5.1) ---- */
#define HGATP_MODE_SHIFT 60
#define HGATP_VMID_SHIFT 44
#define HGATP_VMID_MASK  0x3fff
#define HGATP_MODE_SV39X4 8
#define HGATP_SV39X4     (HGATP_MODE_SV39X4<<HGATP_MODE_SHIFT)
#define HGATP_PPN_MASK   0xfffffffffff
/* The Sv39x4 root: 2048 entries (16 KiB, 16 KiB aligned), indexed by GPA bits 40:30. */
#define GROOT_ENTRIES 2048
#define GROOT_SIZE    16384
#define GVPN2(a) (((a)>>30)&2047)
/* A G-stage leaf must have U = 1 (8.5.1): the usual full-permission G-stage leaf. */
#define GPTE_LEAF (PTE_V|PTE_RWX|PTE_U|PTE_AD)

/* htinst / mtinst for a guest page fault of an implicit VS-stage PTE access (8.6.3):
   the pseudoinstruction of a 64-bit read (write) of a PTE. */
#define TINST_PT_READ  0x3000
#define TINST_PT_WRITE 0x3020

/* ---- the trap record (h_rec), filled by the M handler ---- */
#define H_M  3              /* taken by the M handler */
#define H_HS 1              /* taken by the HS handler */
#define H_VS 5              /* taken by the VS handler */
#define R_COUNT   0         /* number of recorded traps since H_ARM */
#define R_MODE    8         /* H_M, H_HS or H_VS */
#define R_CAUSE   16        /* xcause */
#define R_EPC     24        /* xepc */
#define R_TVAL    32        /* xtval */
#define R_TVAL2   40        /* mtval2 (M), htval (HS), 0 (VS) */
#define R_TINST   48        /* mtinst (M), htinst (HS), 0 (VS) */
#define R_STATUS  56        /* mstatus (M), hstatus (HS), vsstatus (VS) */
#define R_STATUS2 64        /* 0 (M), sstatus (HS), 0 (VS) */
#define R_RESUME  72        /* where M continues after a trap or an escape */
#define R_SIZE    80

#define H_MAGIC_ESCAPE 0x4856455343415045  /* a7 of an H_ESCAPE ecall */
#define H_MAGIC_REPORT 0x4856524550525400  /* a7 of a handler's report ecall */

#ifdef __ASSEMBLER__

/* The assembler accepts HLV/HSV/HFENCE only with the H extension enabled. */
.option arch, +h

/* ---- set-up ---- */

/* From M: install the harness handlers and a clean hypervisor state (no delegation,
   Bare G-stage and VS-stage, hstatus writable fields 0, counters enabled for S/U). */
.macro H_INIT
    la t5, h_mtrap
    csrw mtvec, t5
    la t5, h_strap
    csrw stvec, t5
    la t5, h_vstrap
    csrw vstvec, t5
    csrw medeleg, zero
    csrw mideleg, zero
    csrw hedeleg, zero
    csrw hideleg, zero
    csrw hgatp, zero
    csrw vsatp, zero
    csrw satp, zero
    csrw hstatus, zero
    csrw hvip, zero
    csrw hie, zero
    csrw vsstatus, zero
    csrw henvcfg, zero
    csrw menvcfg, zero
    csrw htimedelta, zero
    li t5, 7
    csrw mcounteren, t5
    csrw hcounteren, t5
    csrw scounteren, t5
    li t5, MSTATUS_MPV|MSTATUS_GVA|MSTATUS_MPRV|MSTATUS_SUM|MSTATUS_MXR
    csrc mstatus, t5
.endm

/* Clear the trap record and set the label M continues at after the next trap/escape. */
.macro H_ARM resume
    la t5, h_rec
    sd zero, R_COUNT(t5)
    sd zero, R_CAUSE(t5)
    la t6, \resume
    sd t6, R_RESUME(t5)
.endm

/* ---- mode switches (8.4.1 mret with MPV, 8.2.1 sret with SPV) ---- */

/* From M: mret to label with MPP = prv and MPV = virt (t5, t6 clobbered; a7 := 0). */
.macro H_MRET_TO label, prv, virt
    li t6, MSTATUS_MPP|MSTATUS_MPV
    csrc mstatus, t6
    li t6, ((\prv)<<11)|((\virt)<<39)
    csrs mstatus, t6
    la t6, \label
    csrw mepc, t6
    li a7, 0
    mret
.endm
.macro H_GOTO_VS label
    H_MRET_TO \label, PRV_S, 1
.endm
.macro H_GOTO_VU label
    H_MRET_TO \label, PRV_U, 1
.endm
.macro H_GOTO_HS label
    H_MRET_TO \label, PRV_S, 0
.endm
.macro H_GOTO_HU label
    H_MRET_TO \label, PRV_U, 0
.endm

/* From HS: sret to label with SPP = prv and hstatus.SPV = virt. */
.macro H_SRET_TO label, prv, virt
    li t6, MSTATUS_SPP
    csrc sstatus, t6
    li t6, (\prv)<<8
    csrs sstatus, t6
    li t6, HSTATUS_SPV
    csrc hstatus, t6
    li t6, (\virt)<<7
    csrs hstatus, t6
    la t6, \label
    csrw sepc, t6
    li a7, 0
    sret
.endm

/* From VS: sret to label in VU (vsstatus.SPP = 0). */
.macro H_VS_SRET_TO_VU label
    li t6, MSTATUS_SPP
    csrc sstatus, t6
    la t6, \label
    csrw sepc, t6
    sret
.endm

/* From any mode: back to M at the armed resume label, without a record. */
.macro H_ESCAPE
    li a7, H_MAGIC_ESCAPE
    ecall
.endm

/*
 * Case n: in mode (VS, VU, HS or HU) run code, which leaves its result in a0, go back to
 * M and check that no trap happened and a0 == expected.
 */
#define H_CASE_IN(n, mode, expected, ...) \
    li gp, n; H_ARM 8892f; H_GOTO_##mode 8891f; 8891: __VA_ARGS__; H_ESCAPE; \
    8892: H_CHECK_COUNT 0; CHECK_EQ a0, expected

/*
 * Case n: in mode run code whose first instruction must trap; the trap is recorded and M
 * continues after the case. Check the record afterwards with H_CHECK_* (gp stays n).
 * The label 8893 (backward: 8893b) is the trapping instruction, for H_CHECK_EPC_AT.
 */
#define H_TRAP_IN(n, mode, ...) \
    li gp, n; H_ARM 8892f; H_GOTO_##mode 8893f; .balign 4; 8893: __VA_ARGS__; H_ESCAPE; 8892:

/* As H_TRAP_IN, starting from the current mode (M) after a set-up already in place. */
#define H_TRAP_HERE(n, ...) \
    li gp, n; H_ARM 8892f; .balign 4; 8893: __VA_ARGS__; H_ESCAPE; 8892:

/* ---- checks of the trap record (each fails with the current gp) ---- */

/* Load field off of the record into reg. */
.macro H_REC reg, off
    la \reg, h_rec
    ld \reg, \off(\reg)
.endm

.macro H_CHECK_COUNT n
    H_REC t5, R_COUNT
    CHECK_EQ t5, \n
.endm

/* Exactly one trap, taken by handler mode (H_M, H_HS, H_VS) with the given cause. */
.macro H_CHECK_TRAP mode, cause
    H_CHECK_COUNT 1
    H_REC t5, R_MODE
    CHECK_EQ t5, \mode
    H_REC t5, R_CAUSE
    CHECK_EQ t5, \cause
.endm

/* Field off == value (a constant). */
.macro H_CHECK off, value
    H_REC t5, \off
    CHECK_EQ t5, \value
.endm

/* Field off == register reg. */
.macro H_CHECK_REG off, reg
    H_REC t5, \off
    CHECK_REG t5, \reg
.endm

/* (field off & mask) == value. */
.macro H_CHECK_BITS off, mask, value
    H_REC t5, \off
    li t6, \mask
    and t5, t5, t6
    CHECK_EQ t5, \value
.endm

/* The recorded epc is the address of label (e.g. 8893b inside a case). */
.macro H_CHECK_EPC_AT label
    la t4, \label
    H_CHECK_REG R_EPC, t4
.endm

/* The recorded tval is the encoding of the 32-bit instruction at label. */
.macro H_CHECK_TVAL_INSN label
    lwu t4, \label
    H_CHECK_REG R_TVAL, t4
.endm

/* Trap of a VS/VU instruction at label to HS: SPV = 1, SPVP = prv, GVA = gva. */
.macro H_CHECK_HS_STACK prv, gva
    H_CHECK_BITS R_STATUS, HSTATUS_SPV|HSTATUS_SPVP|HSTATUS_GVA, HSTATUS_SPV|((\prv)<<8)|((\gva)<<6)
    H_CHECK_BITS R_STATUS2, MSTATUS_SPP, (\prv)<<8
.endm

/* Trap to M: MPV = virt, MPP = prv, GVA = gva. */
.macro H_CHECK_M_STACK prv, virt, gva
    H_CHECK_BITS R_STATUS, MSTATUS_MPV|MSTATUS_MPP|MSTATUS_GVA, ((\virt)<<39)|((\prv)<<11)|((\gva)<<38)
.endm

/* ---- G-stage (Sv39x4) and VS-stage tables ---- */

/* Entry idx of table := a PTE to the physical address in register pa with flags
   (an alias of PTE_SET for G-stage tables, which have 2048 root entries). */
.macro GPTE_SET table, idx, pa, flags
    PTE_SET \table, \idx, \pa, \flags
.endm

/* hgatp := Sv39x4 with root at label root and vmid, then HFENCE.GVMA. */
.macro HGATP_SET root, vmid=0
    la t6, \root
    srli t6, t6, 12
    li t5, HGATP_SV39X4 | ((\vmid) << HGATP_VMID_SHIFT)
    or t6, t6, t5
    csrw hgatp, t6
    hfence.gvma
.endm

/* vsatp := Sv39 with root at the guest-physical address of label root, then HFENCE.VVMA. */
.macro VSATP_SET root, asid=0
    la t6, \root
    srli t6, t6, 12
    li t5, SATP_SV39 | ((\asid) << SATP_ASID_SHIFT)
    or t6, t6, t5
    csrw vsatp, t6
    hfence.vvma
.endm

/* The identity G-stage map of RAM's gigapage (U = 1, RWX, A, D) in the root groot. */
.macro G_STD_MAP groot
    li t6, RAM_BASE
    PTE_SET \groot, GVPN2(RAM_BASE), t6, GPTE_LEAF
.endm

/* ---- the handlers and the record: place once per test, after TEST_END ---- */
.macro H_RUNTIME
    .text
    .balign 4
h_mtrap:
    csrr t1, mcause
    addi t1, t1, -8
    sltiu t1, t1, 4
    beqz t1, 1f
    li t2, H_MAGIC_ESCAPE
    beq a7, t2, h_mresume
    li t2, H_MAGIC_REPORT
    beq a7, t2, h_mstore
1:  li t0, H_M
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    csrr a3, mtval2
    csrr a4, mtinst
    csrr a5, mstatus
    li a6, 0
h_mstore:
    la t1, h_rec
    ld t2, R_COUNT(t1)
    addi t2, t2, 1
    sd t2, R_COUNT(t1)
    sd t0, R_MODE(t1)
    sd a0, R_CAUSE(t1)
    sd a1, R_EPC(t1)
    sd a2, R_TVAL(t1)
    sd a3, R_TVAL2(t1)
    sd a4, R_TINST(t1)
    sd a5, R_STATUS(t1)
    sd a6, R_STATUS2(t1)
h_mresume:
    li t1, MSTATUS_MPRV|MSTATUS_MPIE|MSTATUS_MPV|MSTATUS_GVA
    csrc mstatus, t1
    li t1, MSTATUS_MPP
    csrs mstatus, t1
    la t1, h_rec
    ld t1, R_RESUME(t1)
    csrw mepc, t1
    mret

    .balign 4
h_strap:
    csrr t1, scause
    addi t1, t1, -8
    sltiu t1, t1, 4
    beqz t1, 1f
    li t2, H_MAGIC_ESCAPE
    beq a7, t2, 2f
    li t2, H_MAGIC_REPORT
    beq a7, t2, 2f
1:  li t0, H_HS
    csrr a0, scause
    csrr a1, sepc
    csrr a2, stval
    csrr a3, htval
    csrr a4, htinst
    csrr a5, hstatus
    csrr a6, sstatus
    li a7, H_MAGIC_REPORT
2:  ecall
    j hv_fail

    .balign 4
h_vstrap:
    csrr t1, scause
    addi t1, t1, -8
    sltiu t1, t1, 4
    beqz t1, 1f
    li t2, H_MAGIC_ESCAPE
    beq a7, t2, 2f
    li t2, H_MAGIC_REPORT
    beq a7, t2, 2f
1:  li t0, H_VS
    csrr a0, scause
    csrr a1, sepc
    csrr a2, stval
    li a3, 0
    li a4, 0
    csrr a5, sstatus
    li a6, 0
    li a7, H_MAGIC_REPORT
2:  ecall
    j hv_fail

    .data
    .balign 8
h_rec: .zero R_SIZE
    .text
.endm

/* The G-stage tables of a test (in .data): the 16 KiB root groot, gl1 and gl0. */
.macro G_TABLES
    .balign GROOT_SIZE
groot: .zero GROOT_SIZE
gl1:   .zero 4096
gl0:   .zero 4096
.endm

/* The guest data page gdata (two known dwords), the dword mega_slot after it, and the
   guest code page gcode (a0 := 5, then back to M) in .text. */
.macro G_DATA_AND_CODE
gdata:
    .dword 0x8081828384858687
    .dword 0x0123456789abcdef
    .zero 4096-16
mega_slot: .dword 0
    .text
    .balign 4096
gcode:
    li a0, 5
    H_ESCAPE
    .balign 4096
.endm

#endif /* __ASSEMBLER__ */
#endif /* HVTEST_H_H */
