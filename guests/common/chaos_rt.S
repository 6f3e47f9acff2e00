/*
 * chaos_rt.S: the runtime of the generated adversarial guests (tools/isolation/gen.py;
 * the chaos guests of tests/system/test_hv_chaos.py), a VS-mode kernel at
 * guest-physical 0x8000_0000 that survives whatever its generated body `chaos_main`
 * does (docs/hypervisor.md, "Fault containment").
 *
 * - _start first checks that the vCPU is in its reset state (docs/hypervisor.md, "vCPUs
 *   and exits": a VM starts, and restarts, with a zeroed vCPU): stvec, sscratch,
 *   sepc, scause, stval, sie, sip and satp read 0, stimecmp reads -1 and sstatus.SIE
 *   and SPIE are clear. If one is not, it shuts down through SRST with the reason
 *   CHAOS_DIRTY | <CSR number> (CHAOS_DIRTY is given by the generator).
 *   Then it installs chaos_trap in stvec (direct mode, privileged spec "stvec"),
 *   points s9 at chaos_exit and jumps to chaos_main; chaos_main ends by jumping to
 *   chaos_exit.
 * - chaos_trap handles every trap the hypervisor delegates to the guest (hedeleg,
 *   hideleg of the H extension):
 *   - an ecall from VU-mode returns to VS-mode after the ecall;
 *   - a fetch fault returns to VS-mode at s9 (the continuation the generated code set
 *     before jumping anywhere);
 *   - any other exception is skipped (sepc += 2 or 4 by the low bits of the
 *     instruction, unprivileged spec "Base Instruction-Length Encoding") and returns to
 *     the mode it came from;
 *   - an interrupt is disabled in sie and cleared (sip.SSIP, stimecmp = -1) and
 *     returns to the mode it came from.
 *   VU-mode code may run at the VU alias of the guest's code (the generator's Sv39
 *   table maps it CHAOS_ALIAS bytes above, with U set; CHAOS_ALIAS is one address
 *   bit): the handler reads instructions, and returns to VS-mode, with that bit clear.
 * - chaos_exit shuts the VM down through SBI SRST with reason 0; the call is made
 *   twice, because from VU-mode the first ecall only traps back into VS.
 *
 * Register contract with the generated body: gp and tp belong to the trap handler; s9
 * is the continuation of a fetch fault, which the body sets before it jumps anywhere;
 * the body uses sp, t0-t6 and a0-a7 (the runtime has no stack).
 */
#include "encoding.h"
#include "sbi.h"

/* Go to chaos_dirty with a1 = CHAOS_DIRTY | csr unless (csr & mask) == value. */
.macro expect_csr csr, value, mask
    csrr t0, \csr
    li t1, \mask
    and t0, t0, t1
    li t1, \value
    li a1, CHAOS_DIRTY | \csr
    bne t0, t1, chaos_dirty
.endm

    .section .text.init, "ax"
    .globl _start
_start:
    expect_csr CSR_STVEC, 0, -1
    expect_csr CSR_SSCRATCH, 0, -1
    expect_csr CSR_SEPC, 0, -1
    expect_csr CSR_SCAUSE, 0, -1
    expect_csr CSR_STVAL, 0, -1
    expect_csr CSR_SIE, 0, -1
    expect_csr CSR_SIP, 0, -1
    expect_csr CSR_SATP, 0, -1
    expect_csr CSR_STIMECMP, -1, -1
    expect_csr CSR_SSTATUS, 0, (MSTATUS_SIE | MSTATUS_SPIE)
    la t0, chaos_trap
    csrw CSR_STVEC, t0
    la s9, chaos_exit
    j chaos_main

    .text
    .balign 4
    .globl chaos_exit
chaos_exit:
    li a0, SBI_SRST_TYPE_SHUTDOWN
    li a1, SBI_SRST_REASON_NONE
    li a6, SBI_SRST_SYSTEM_RESET
    li a7, SBI_EXT_SRST
    ecall
    li a0, SBI_SRST_TYPE_SHUTDOWN
    li a1, SBI_SRST_REASON_NONE
    li a6, SBI_SRST_SYSTEM_RESET
    li a7, SBI_EXT_SRST
    ecall
1:  j 1b

chaos_dirty:
    li a0, SBI_SRST_TYPE_SHUTDOWN
    li a6, SBI_SRST_SYSTEM_RESET
    li a7, SBI_EXT_SRST
    ecall
1:  j 1b

    .balign 4
    .globl chaos_trap
chaos_trap:
    csrr gp, CSR_SCAUSE
    bltz gp, .Linterrupt
    li tp, CAUSE_MISALIGNED_FETCH
    beq gp, tp, .Lfetch
    li tp, CAUSE_FETCH_ACCESS
    beq gp, tp, .Lfetch
    li tp, CAUSE_FETCH_PAGE_FAULT
    beq gp, tp, .Lfetch
    li tp, CAUSE_USER_ECALL
    beq gp, tp, .Luser_ecall
    csrr tp, CSR_SEPC
    li gp, CHAOS_ALIAS
    or tp, tp, gp
    xor tp, tp, gp
    lhu gp, 0(tp)
    andi gp, gp, 3
    xori gp, gp, 3
    csrr tp, CSR_SEPC
    addi tp, tp, 2
    bnez gp, 1f
    addi tp, tp, 2
1:  csrw CSR_SEPC, tp
    sret
.Luser_ecall:
    csrr tp, CSR_SEPC
    addi tp, tp, 4
    j .Lto_vs
.Lfetch:
    mv tp, s9
.Lto_vs:
    li gp, CHAOS_ALIAS
    or tp, tp, gp
    xor tp, tp, gp
    csrw CSR_SEPC, tp
    li tp, MSTATUS_SPP
    csrs CSR_SSTATUS, tp
    sret
.Linterrupt:
    slli gp, gp, 1
    srli gp, gp, 1
    li tp, 1
    sll tp, tp, gp
    csrc CSR_SIE, tp
    csrci CSR_SIP, MIP_SSIP
    li tp, -1
    csrw CSR_STIMECMP, tp
    sret
