/*
 * boot.S: the M-mode stage (priv spec 3.1.8 delegation, 3.7 PMP, 3.1.11/3.1.12
 * counter enables, 3.1.18 menvcfg.STCE) and the entry into HS-mode.
 *
 * The boot ROM jumps here in M-mode with a0 = hart id and a1 = DTB. This stage
 * lives in the first 4 KiB of the image (`.mstage`, [_m_start, _m_end)); PMP makes
 * that region inaccessible to HS, VS and VU. Every trap that HS can handle is
 * delegated; M keeps only the HS environment call (unused) and fatal traps.
 */
#include "encoding.h"

#define DELEG_EXC_MASK  (~((1 << CAUSE_SUPERVISOR_ECALL) | (1 << CAUSE_MACHINE_ECALL)))
#define DELEG_IRQ_MASK  (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define PMP_TOR  0x08
#define PMP_NAPOT 0x18
#define PMP_RWX  0x07

    .section .text.init, "ax"
    .globl _start
_start:
    csrw mie, zero
    la sp, m_stack_top
    la t0, m_trap
    csrw mtvec, t0
    csrw satp, zero
    /* traps and interrupts for HS */
    li t0, DELEG_EXC_MASK
    csrw medeleg, t0
    li t0, DELEG_IRQ_MASK
    csrw mideleg, t0
    /* counters readable below M; Sstc for HS and (via henvcfg) VS */
    li t0, MCOUNTEREN_CY | MCOUNTEREN_TM | MCOUNTEREN_IR
    csrw mcounteren, t0
    li t0, MENVCFG_STCE
    csrs menvcfg, t0
    /* the ids SBI BASE reports; HS cannot read them */
    la t1, hv_machine_ids
    csrr t0, mvendorid
    sd t0, 0(t1)
    csrr t0, marchid
    sd t0, 8(t1)
    csrr t0, mimpid
    sd t0, 16(t1)
    /* PMP: entry 1 = TOR [_m_start, _m_end) no access; entry 2 = everything RWX.
       Probed: with no PMP the writes trap and m_trap skips them (m_probing). */
    li t0, 1
    la t1, m_probing
    sd t0, 0(t1)
    la t0, _m_start
    srli t0, t0, 2
    csrw pmpaddr0, t0
    la t0, _m_end
    srli t0, t0, 2
    csrw pmpaddr1, t0
    li t0, -1
    csrw pmpaddr2, t0
    li t0, ((PMP_NAPOT | PMP_RWX) << 16) | (PMP_TOR << 8)
    csrw pmpcfg0, t0
    la t1, m_probing
    sd zero, 0(t1)
    /* drop to HS: MPP = S, MPV = 0 */
    li t0, MSTATUS_MPP | MSTATUS_MPV
    csrc mstatus, t0
    li t0, 1 << MSTATUS_MPP_SHIFT
    csrs mstatus, t0
    la t0, hv_entry
    csrw mepc, t0
    mret

/* M-mode trap: during the PMP probe, skip the instruction; otherwise fatal
   (report mcause/mepc/mtval through hv_m_fatal in HS memory is not possible from
   here without a stack in HS, so print minimally and end with code 3). */
    .balign 4
m_trap:
    la t0, m_probing
    ld t0, 0(t0)
    beqz t0, 1f
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret
1:  csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    la sp, m_stack_top
    call m_fatal
2:  j 2b

    .section .data.mstage, "aw"
    .balign 16
m_probing:
    .dword 0
m_stack:
    .space 1024
m_stack_top:
