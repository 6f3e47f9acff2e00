/*
 * runtime.S: the fixed part of every generated fuzz program (docs/fuzzing-cpu.md).
 *
 * RISC-V Privileged Architecture 1.12: trap entry and return (3.1.6 mstatus, 3.1.7
 * mtvec, 3.3.2 MRET/SRET, 4.1.1 sstatus, 4.1.2 stvec), delegation (3.1.8), interrupts
 * (3.1.9, Sstc), PMP (3.7); HTIF tohost (riscv-tests convention).
 *
 * The generated program source (tools/fuzz/gen.py, Program.asm) defines the assembler
 * macros FZ_BODY (the body: FZ_BODY_CAPACITY bytes, padded), FZ_DATA (the initial data
 * region, FZ_DATA_SIZE bytes) and FZ_REGS (the labels fz_init_regs, the initial x0..x31,
 * and fz_opts: a flags word, bit 0 = external interrupts on, then the PLIC enable masks
 * of context 0 (M) and context 1 (S), then the initial satp (0: no paging), hgatp and
 * vsatp (hypervisor programs; 0 otherwise)) and FZ_PT_DATA, FZ_GPT_DATA and
 * FZ_VPAGES_DATA (the page pool fz_pt, FZ_PT_PAGES pages, the G-stage pool fz_gpt,
 * FZ_GPT_PAGES pages, and the extra data pages fz_vpages, FZ_VPAGES pages) and
 * includes this file.
 *
 * Hypervisor programs (HAS_H; hypervisor spec 8.2 hgatp/hstatus, 8.6 traps): the
 * prologue installs the VS handler (vstvec, vsscratch), clears hedeleg/hideleg/hvip/
 * hstatus/henvcfg, sets vstimecmp = -1 and writes hgatp and vsatp, then fences both
 * stages. The M and HS handlers resume guest-page faults on fetch (20) at ra like other
 * fetch faults, skip the other guest-page faults and the virtual instruction (22); the
 * HS handler serves ecalls from VS (10) like those from U and clears hvip.VSSIP for a
 * VSSI taken in HS. fz_vstrap, the VS handler, takes what hedeleg/hideleg delegate and
 * returns with sret in VS. The guest's code and runtime are identity mapped in both
 * stages, so every epc is also the physical address of the instruction.
 *
 * Paging (priv 4.1.11 satp, 4.2.1 SFENCE.VMA, 4.3 Sv39): the generator builds the page
 * tables (tools/fuzz/paging.py). The runtime, the body, the handler state and the page
 * tables are identity mapped, so every epc the handlers see is also the physical address
 * of the instruction; the body pages are U=0 or U=1 (two level-0 tables, the generator
 * swaps the level-1 pointer before entering S or U). The prologue writes satp and fences.
 * The S handler reads the faulting instruction with sstatus.SUM set (the body may be a U
 * page); instruction page faults, like access faults, resume at ra. fz_s_flip_sret and
 * fz_s_flip_sret_all let S-mode code swap the pointer and SRET from a page that stays
 * executable in S (t5 = PTE address, t6 = new PTE, t4 = ASID for the fence).
 *
 * External interrupts: the prologue gives every source enabled in a context priority
 * 1 + (id & 3) and both thresholds 0, once, before any harness line changes; handlers
 * claim and complete. (Spike's PLIC latches pending per context and the priority when a
 * line rises, so the configuration must not change while lines move, and a source is
 * enabled in at most one context.)
 *
 * Layout: _start (prologue), the trap handlers and the exit in .text.init; the body in
 * .text; initial registers and options in .rodata; handler state, then (page aligned)
 * the fuzz data region and the fetch stubs in .data. PMP entry 0 covers everything
 * below fz_data; tohost (after .data) is only written in M-mode, and locked PMP entries
 * stay inside the data region and the stubs.
 *
 * Contract with the generator:
 *   gp            = fz_data + FZ_GP_OFFSET, never written by the body
 *   a7 = FZ_MAGIC_UP, ecall   -> continue after the ecall in M-mode (from any mode)
 *   a7 = FZ_MAGIC_CLR, ecall  -> M clears the software-set S interrupt sources
 *   cause 9 (ecall from S) is never delegated, so S can always reach M
 *   pmpcfg0 byte 0 and pmpaddr0 are never written by the body: entry 0 grants S and U
 *   RWX below fz_data (runtime code and data, devices)
 *   mtvec, stvec, mscratch, sscratch are never written by the body
 * Trap policy (both handlers): read cause, epc and tval (with FZ_SIGNATURE, mix them and
 * the previous privilege into a running hash); exceptions resume after the faulting
 * instruction (fetch faults at ra), interrupts clear their source; the privilege mode is
 * unchanged.
 */

#define MSTATUS_SIE   0x2
#define MSTATUS_MIE   0x8
#define MSTATUS_SPIE  0x20
#define MSTATUS_SPP   0x100
#define MSTATUS_MPP   0x1800
#define MSTATUS_MPRV  0x20000
#define MSTATUS_TW    0x200000
#define MSTATUS_TSR   0x400000
#define MSTATUS_SUM   0x40000
#define MIP_SSIP      0x2
#define MIP_STIP      0x20
#define MIP_SEIP      0x200
#define CLINT_MSIP      (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP  (CLINT_BASE + 0x4000)
#define PLIC_ENABLE_M   0x2000
#define PLIC_THRESHOLD_M 0x200000
#define PLIC_CLAIM_M    (PLIC_BASE + 0x200004)
#define PLIC_CLAIM_S    (PLIC_BASE + 0x201004)
#define PMP_TOR_RWX     0x0f
#define PMP_NAPOT_RWX   0x1f
#define HASH_K          0x9e3779b97f4a7c15
/* Hypervisor CSRs and fences by number (the runtime also builds without H). */
#define CSR_VSSTATUS    0x200
#define CSR_VSTVEC      0x205
#define CSR_VSSCRATCH   0x240
#define CSR_VSTIMECMP   0x24d
#define CSR_VSATP       0x280
#define CSR_HSTATUS     0x600
#define CSR_HEDELEG     0x602
#define CSR_HIDELEG     0x603
#define CSR_HCOUNTEREN  0x606
#define CSR_HENVCFG     0x60a
#define CSR_HVIP        0x645
#define CSR_HGATP       0x680
#define HFENCE_VVMA_ALL .4byte 0x22000073
#define HFENCE_GVMA_ALL .4byte 0x62000073
#define MIP_VSSIP       0x4

/* Running hash of one handler: h = (h ^ v) * K. */
.macro MIX h, v, k
    xor \h, \h, \v
    mul \h, \h, \k
.endm

/* With FZ_SIGNATURE: mix cause (t1), epc (t2), tval (t3) and the previous privilege
 * (status bits at shift/mask) into the handler's hash at state; count the trap. */
.macro RECORD state, status, shift, mask
#if FZ_SIGNATURE
    la t4, \state
    ld t5, 0(t4)
    ld t6, 16(t4)
    MIX t5, t1, t6
    MIX t5, t2, t6
    MIX t5, t3, t6
    csrr t3, \status
    srli t3, t3, \shift
    andi t3, t3, \mask
    MIX t5, t3, t6
    sd t5, 0(t4)
    ld t5, 8(t4)
    addi t5, t5, 1
    sd t5, 8(t4)
#endif
.endm

/* Save/restore the handlers' scratch registers at base (t0 lives in the scratch CSR). */
.macro SAVE_T base
    sd t1, 8(\base)
    sd t2, 16(\base)
    sd t3, 24(\base)
    sd t4, 32(\base)
    sd t5, 40(\base)
#if FZ_SIGNATURE
    sd t6, 48(\base)
#endif
.endm
.macro RESTORE_T base
    ld t1, 8(\base)
    ld t2, 16(\base)
    ld t3, 24(\base)
    ld t4, 32(\base)
    ld t5, 40(\base)
#if FZ_SIGNATURE
    ld t6, 48(\base)
#endif
.endm

/* t2 += length of the instruction at t2 (2 or 4 bytes). */
.macro SKIP_INSN
    lhu t3, 0(t2)
    andi t3, t3, 3
    addi t3, t3, -3
    seqz t3, t3
    slli t3, t3, 1
    addi t2, t2, 2
    add t2, t2, t3
.endm

/* Write pmpaddrN = 0 (N a literal). */
.macro PMP_ADDR_ZERO n
    csrw 0x3b0 + \n, zero
.endm

    .section .text.init, "ax"
    .option norvc
    .globl _start
_start:
    la t0, fz_mtrap
    csrw mtvec, t0
    la t0, fz_msave
    csrw mscratch, t0
    la t0, fz_strap
    csrw stvec, t0
    la t0, fz_ssave
    csrw sscratch, t0
    csrw mie, zero
    csrw medeleg, zero
    csrw mideleg, zero
    li t0, 7
    csrw mcounteren, t0
    csrw scounteren, t0
    csrw menvcfg, zero
    li t0, MSTATUS_MIE|MSTATUS_SIE|MSTATUS_MPRV|MSTATUS_TW|MSTATUS_TSR|MSTATUS_MPP
    csrc mstatus, t0
    li t0, MIP_SSIP|MIP_STIP|MIP_SEIP
    csrc mip, t0
    li t0, -1
    csrw stimecmp, t0
    li t1, CLINT_MTIMECMP
    sd t0, 0(t1)
    li t1, CLINT_MSIP
    sw zero, 0(t1)
#if PMP_REGIONS > 0
    /* Entry 0: TOR [0, fz_data) RWX; the last entry: NAPOT everything RWX; others off. */
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .if \n < PMP_REGIONS
    PMP_ADDR_ZERO \n
    .endif
    .endr
    csrw pmpcfg0, zero
#if PMP_REGIONS > 8
    csrw pmpcfg2, zero
#endif
    la t0, fz_data
    srli t0, t0, 2
    csrw pmpaddr0, t0
#if PMP_REGIONS > 1
    li t0, -1
    csrw 0x3b0 + PMP_REGIONS - 1, t0
#endif
#if PMP_REGIONS == 1
    li t0, PMP_TOR_RWX
    csrw pmpcfg0, t0
#elif PMP_REGIONS <= 8
    li t0, PMP_TOR_RWX | (PMP_NAPOT_RWX << (8 * (PMP_REGIONS - 1)))
    csrw pmpcfg0, t0
#else
    li t0, PMP_TOR_RWX
    csrw pmpcfg0, t0
    li t0, PMP_NAPOT_RWX << (8 * (PMP_REGIONS - 9))
    csrw pmpcfg2, t0
#endif
#endif
    /* PLIC: priorities of the enabled sources, enables, thresholds 0. */
    la t0, fz_opts
    ld t1, 0(t0)
    beqz t1, 2f
    ld t1, 8(t0)
    ld t2, 16(t0)
    li t3, PLIC_BASE + PLIC_ENABLE_M
    sw t1, 0(t3)
    sw t2, 0x80(t3)
    li t3, PLIC_BASE + PLIC_THRESHOLD_M
    sw zero, 0(t3)
    li t3, PLIC_BASE + PLIC_THRESHOLD_M + 0x1000
    sw zero, 0(t3)
    or t1, t1, t2
    li t3, PLIC_BASE
    li t4, 0
1:  andi t5, t1, 1
    beqz t5, 3f
    andi t5, t4, 3
    addi t5, t5, 1
    slli t6, t4, 2
    add t6, t6, t3
    sw t5, 0(t6)
3:  srli t1, t1, 1
    addi t4, t4, 1
    bnez t1, 1b
2:
    /* Paging: the initial satp (Sv39, the generator's root and ASID). */
    la t0, fz_opts
    ld t1, 24(t0)
    beqz t1, 4f
    csrw satp, t1
    sfence.vma zero, zero
4:
#if HAS_H
    /* Hypervisor: VS handler and save area, no delegation to VS, the initial hgatp
     * (Sv39x4) and vsatp of a hypervisor program (0: Bare), fenced. */
    la t1, fz_vstrap
    csrw CSR_VSTVEC, t1
    la t1, fz_vssave
    csrw CSR_VSSCRATCH, t1
    csrw CSR_HEDELEG, zero
    csrw CSR_HIDELEG, zero
    csrw CSR_HVIP, zero
    csrw CSR_HSTATUS, zero
    csrw CSR_HENVCFG, zero
    li t1, 7
    csrw CSR_HCOUNTEREN, t1
    li t1, -1
    csrw CSR_VSTIMECMP, t1
    ld t1, 32(t0)
    csrw CSR_HGATP, t1
    ld t1, 40(t0)
    csrw CSR_VSATP, t1
    HFENCE_GVMA_ALL
    HFENCE_VVMA_ALL
#endif
#if FZ_SIGNATURE
    la t0, fz_mstate
    li t1, HASH_K
    sd t1, 16(t0)
    la t0, fz_sstate
    sd t1, 16(t0)
    la t0, fz_vsstate
    sd t1, 16(t0)
#endif
    /* Initial registers (gp is the data pointer), then the body in M-mode. */
    la gp, fz_data + FZ_GP_OFFSET
    la t0, fz_init_regs
    .irp r, 1,2,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld x\r, 8*\r(t0)
    .endr
    ld t0, 8*5(t0)
    j fz_body

/* ------------------------------------------------------------------ M-mode handler */
    .balign 4
    .globl fz_mtrap
fz_mtrap:
    csrrw t0, mscratch, t0
    SAVE_T t0
    csrr t1, mcause
    csrr t2, mepc
    csrr t3, mtval
    RECORD fz_mstate, mstatus, 11, 3
    bltz t1, .Lm_irq
    andi t3, t1, ~3
    li t4, 8
    beq t3, t4, .Lm_ecall          /* causes 8, 9, 11 */
    li t4, 1
    beq t1, t4, .Lm_fetch
    li t4, 12
    beq t1, t4, .Lm_fetch
    li t4, 20
    beq t1, t4, .Lm_fetch
    li t4, 2
    bne t1, t4, .Lm_skip
    la t3, fz_s_sret
    bne t2, t3, .Lm_skip
    /* The S handler's SRET trapped (TSR): perform it here. */
    csrr t3, mstatus
    li t4, MSTATUS_MPP
    csrc mstatus, t4
    andi t4, t3, MSTATUS_SPP
    slli t4, t4, 3
    csrs mstatus, t4
    andi t4, t3, MSTATUS_SPIE
    srli t4, t4, 4
    li t5, MSTATUS_SIE|MSTATUS_SPP
    csrc mstatus, t5
    csrs mstatus, t4
    li t5, MSTATUS_SPIE
    csrs mstatus, t5
    csrr t2, sepc
    j .Lm_ret_to
.Lm_ecall:
    li t3, FZ_MAGIC_UP
    beq a7, t3, .Lm_up
    li t3, FZ_MAGIC_CLR
    bne a7, t3, .Lm_skip
    li t3, MIP_STIP|MIP_SEIP
    csrc mip, t3
    li t3, -1
    csrw stimecmp, t3
    la t3, fz_opts
    ld t3, 0(t3)
    beqz t3, 1f
    li t3, PLIC_CLAIM_S
    lw t4, 0(t3)
    sw t4, 0(t3)
1:  addi t2, t2, 4
    j .Lm_ret_to
.Lm_up:
    la t3, fz_s_fwd
    bne t2, t3, 1f
    la t3, fz_fwd_pc
    ld t2, 0(t3)
    addi t2, t2, -4
1:  addi t2, t2, 4
    li t3, MSTATUS_MPP
    csrs mstatus, t3
    j .Lm_ret_to
.Lm_fetch:
    mv t2, ra
    j .Lm_ret_to
.Lm_skip:
    SKIP_INSN
.Lm_ret_to:
    csrw mepc, t2
    j .Lm_ret
.Lm_irq:
    slli t1, t1, 1
    srli t1, t1, 1
    li t3, 3
    bne t1, t3, 1f
    li t3, CLINT_MSIP
    sw zero, 0(t3)
    j .Lm_ret
1:  li t3, 7
    bne t1, t3, 2f
    li t3, CLINT_MTIMECMP
    li t4, -1
    sd t4, 0(t3)
    j .Lm_ret
2:  li t3, 1
    bne t1, t3, 3f
    csrci mip, MIP_SSIP
    j .Lm_ret
3:  li t3, 5
    bne t1, t3, 4f
    li t3, -1
    csrw stimecmp, t3
    li t3, MIP_STIP
    csrc mip, t3
    j .Lm_ret
4:  li t3, 9
    bne t1, t3, 5f
    li t3, MIP_SEIP
    csrc mip, t3
    li t3, PLIC_CLAIM_S
    j 6f
5:  li t3, PLIC_CLAIM_M
6:  la t4, fz_opts
    ld t4, 0(t4)
    beqz t4, .Lm_ret
    lw t4, 0(t3)
    sw t4, 0(t3)
.Lm_ret:
    RESTORE_T t0
    csrrw t0, mscratch, t0
    mret

/* ------------------------------------------------------------------ S-mode handler */
    .balign 4
    .globl fz_strap, fz_s_fwd, fz_s_sret
fz_strap:
    csrrw t0, sscratch, t0
    SAVE_T t0
    csrr t1, scause
    csrr t2, sepc
    csrr t3, stval
    RECORD fz_sstate, sstatus, 8, 1
    bltz t1, .Ls_irq
    li t3, 8
    beq t1, t3, .Ls_ecall
    li t3, 10
    beq t1, t3, .Ls_ecall
    li t3, 1
    beq t1, t3, .Ls_fetch
    li t3, 20
    beq t1, t3, .Ls_fetch
    li t3, 12
    bne t1, t3, .Ls_skip
.Ls_fetch:
    mv t2, ra
    j .Ls_ret_to
.Ls_ecall:
    li t3, FZ_MAGIC_UP
    bne a7, t3, .Ls_skip
    /* Forward "to M" from U: M resumes at the instruction after the U ecall. */
    addi t2, t2, 4
    la t3, fz_fwd_pc
    sd t2, 0(t3)
    RESTORE_T t0
    csrrw t0, sscratch, t0
fz_s_fwd:
    ecall
.Ls_skip:
    li t3, MSTATUS_SUM
    csrrs t4, sstatus, t3
    SKIP_INSN
    csrw sstatus, t4
.Ls_ret_to:
    csrw sepc, t2
    j .Ls_ret
.Ls_irq:
    slli t1, t1, 1
    srli t1, t1, 1
    li t3, 1
    bne t1, t3, 2f
    csrci sip, MIP_SSIP
    j .Ls_ret
2:  li t3, 2
    bne t1, t3, 1f
    csrci CSR_HVIP, MIP_VSSIP    /* VSSI not delegated to VS: taken here */
    j .Ls_ret
1:  sd a7, 56(t0)
    li a7, FZ_MAGIC_CLR
    ecall
    ld a7, 56(t0)
.Ls_ret:
    RESTORE_T t0
    csrrw t0, sscratch, t0
fz_s_sret:
    sret

/* ------------------------------------------------------------------ VS-mode handler */
/* Traps hedeleg/hideleg send to VS (hypervisor spec 8.6.2): the same policy as the S
 * handler, run in VS with the VS CSRs standing for the S ones; returns with sret in VS.
 * Ecalls never reach it (hedeleg[8] stays clear) and neither do VTSR traps (VTSR is
 * set only while nothing is delegated to VS). */
    .balign 4
    .globl fz_vstrap
fz_vstrap:
    csrrw t0, sscratch, t0
    SAVE_T t0
    csrr t1, scause
    csrr t2, sepc
    csrr t3, stval
    RECORD fz_vsstate, sstatus, 8, 1
    bltz t1, .Lvs_irq
    li t3, 1
    beq t1, t3, .Lvs_fetch
    li t3, 12
    beq t1, t3, .Lvs_fetch
    li t3, MSTATUS_SUM
    csrrs t4, sstatus, t3
    SKIP_INSN
    csrw sstatus, t4
    j .Lvs_ret_to
.Lvs_fetch:
    mv t2, ra
.Lvs_ret_to:
    csrw sepc, t2
    j .Lvs_ret
.Lvs_irq:
    csrci sip, MIP_SSIP
.Lvs_ret:
    RESTORE_T t0
    csrrw t0, sscratch, t0
    sret

/* S -> U with paging: swap the body's level-1 pointer (t6 to 0(t5)), fence for the
 * ASID in t4 (or all), then SRET (sepc and SPP set by the caller). */
    .globl fz_s_flip_sret, fz_s_flip_sret_all
fz_s_flip_sret:
    sd t6, 0(t5)
    sfence.vma zero, t4
    sret
fz_s_flip_sret_all:
    sd t6, 0(t5)
    sfence.vma zero, zero
    sret

/* ------------------------------------------------------------------ exit */
/* Reached from the body in any mode: dump the registers, go to M, read the CSRs (a
 * co-simulation compares the values). With FZ_SIGNATURE the registers, the data region,
 * the trap records and the CSRs are hashed and the top 30 bits of the hash are the exit
 * code; without it the program passes (exit code 0). */
    .balign 4
    .globl fz_exit
fz_exit:
    la gp, fz_dump
    .irp r, 1,2,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd x\r, 8*\r(gp)
    .endr
    li a7, FZ_MAGIC_UP
    ecall
    li t0, MSTATUS_MPRV|MSTATUS_MIE
    csrc mstatus, t0
    li t6, HASH_K
    li t5, 0
#if FZ_SIGNATURE
    la t0, fz_dump
    li t1, 32
    jal ra, fz_hash_words
    la t0, fz_data
    li t1, FZ_DATA_SIZE / 8
    jal ra, fz_hash_words
    la t0, fz_mstate
    li t1, 2
    jal ra, fz_hash_words
    la t0, fz_sstate
    li t1, 2
    jal ra, fz_hash_words
    la t0, fz_vsstate
    li t1, 2
    jal ra, fz_hash_words
#endif
    .irp c, mstatus, mie, mip, medeleg, mideleg, mcounteren, scounteren, menvcfg, mepc, mcause, mtval, sepc, scause, stval, satp, stimecmp, mcountinhibit
    csrr t2, \c
    MIX t5, t2, t6
    .endr
#if HAS_H
    /* hstatus hedeleg hideleg hie hip hvip hgatp htval htinst vsstatus vsie vsip vsepc
     * vscause vstval vsatp vsscratch mtval2 mtinst */
    .irp c, 0x600, 0x602, 0x603, 0x604, 0x644, 0x645, 0x680, 0x643, 0x64a, 0x200, 0x204, 0x244, 0x241, 0x242, 0x243, 0x280, 0x240, 0x34b, 0x34a
    csrr t2, \c
    MIX t5, t2, t6
    .endr
#endif
#if PMP_REGIONS > 0
    csrr t2, pmpcfg0
    MIX t5, t2, t6
#if PMP_REGIONS > 8
    csrr t2, pmpcfg2
    MIX t5, t2, t6
#endif
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .if \n < PMP_REGIONS
    csrr t2, 0x3b0 + \n
    MIX t5, t2, t6
    .endif
    .endr
#endif
#if FZ_SIGNATURE
    srli t5, t5, 34
    slli t5, t5, 1
    ori t5, t5, 1
#else
    li t5, 1
#endif
    la t0, tohost
    sd t5, 0(t0)
3:  j 3b

/* t5 = hash of t1 doublewords at t0 (K in t6). */
fz_hash_words:
    ld t2, 0(t0)
    MIX t5, t2, t6
    addi t0, t0, 8
    addi t1, t1, -1
    bnez t1, fz_hash_words
    ret

/* ------------------------------------------------------------------ body */
    .text
    .balign 4096
    .globl fz_body
fz_body:
    FZ_BODY

/* ------------------------------------------------------------------ data */
    .section .rodata
    .balign 8
    .globl fz_init_regs, fz_opts
    FZ_REGS

    .data
    .balign 8
    .globl fz_msave, fz_ssave, fz_vssave, fz_mstate, fz_sstate, fz_vsstate, fz_fwd_pc, fz_dump
fz_msave:   .zero 8*8
fz_ssave:   .zero 8*8
fz_vssave:  .zero 8*8
fz_mstate:  .zero 3*8          /* hash, count, K */
fz_sstate:  .zero 3*8
fz_vsstate: .zero 3*8
fz_fwd_pc:  .dword 0
fz_dump:    .zero 32*8
    /* Page tables and data pages of paging programs: below fz_data, so PMP entry 0
     * always grants the walker's reads and S/U accesses to them. */
    .balign 16384
    .globl fz_gpt
fz_gpt:
    FZ_GPT_DATA
    .globl fz_pt, fz_vpages
fz_pt:
    FZ_PT_DATA
fz_vpages:
    FZ_VPAGES_DATA
    /* The fuzz data region, then the fetch stubs: above the PMP top of entry 0. */
    .balign 4096
    .globl fz_data, fz_stubs
fz_data:
    FZ_DATA
fz_stubs:
    .rept FZ_STUBS
    .4byte 0x00008067          /* jalr x0, 0(ra) */
    .4byte 0x00000013          /* nop */
    .endr
