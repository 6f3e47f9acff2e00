/*
 * vcpu.c: the VS-mode state of a virtual CPU (H spec 9.2: hstatus, hvip,
 * htimedelta, hgatp; 9.2.x the VS CSRs; Sstc vstimecmp), its reset, and the
 * forwarding of an exception into the guest (H spec 9.6.1, trap entry into VS).
 */
#include "csr.h"
#include "hv.h"

/* hstatus of a vCPU that runs in VS: SPV/SPVP so sret enters VS, VTW so WFI traps. */
#define HSTATUS_GUEST (HSTATUS_SPV | HSTATUS_SPVP | HSTATUS_VTW)
/* VS interrupt bits in vsie/vsip (VS numbering) and in hvip (HS numbering). */
#define VSIE_SSIE (1u << IRQ_SSI)
#define VSIE_STIE (1u << IRQ_STI)
#define VSIE_SEIE (1u << IRQ_SEI)

/** Put the vCPU in its reset state (SBI spec 4.1: a0 = hart id, a1 = DTB). */
void vcpu_reset(struct vm *vm)
{
    struct vcpu *c = &vm->cpu;
    hv_memset(c, 0, sizeof *c);
    c->r.sepc = vm->entry;
    c->r.x[REG_A0] = 0;
    c->r.x[REG_A1] = GUEST_RAM_BASE + vm->cfg->size - GUEST_DTB_SLOT;
    for (unsigned i = 0; i < 4; i++)
        c->r.x[REG_A2 + i] = vm->cfg->args[i];
    c->hstatus = HSTATUS_GUEST;
    c->spp = 1;
    c->vstimecmp = UINT64_MAX;
    c->htimedelta = 0;              /* guest time = host time: Spike compares a vstimecmp
                                       written from HS with the host time */
    c->hgatp = gstage_hgatp(vm);
    c->fence_vs = 1;
}

/** Save the live VS state of the vCPU leaving the CPU. */
void vcpu_save(struct vcpu *c)
{
    c->hstatus = csr_read(CSR_HSTATUS);
    c->spp = (csr_read(CSR_SSTATUS) & MSTATUS_SPP) != 0;
#define SAVE(field, csr) c->field = csr_read(csr);
    VCPU_CSRS(SAVE)
#undef SAVE
}

/** Copy what decides whether a waiting vCPU wakes (vcpu_wakeable) from the live
 *  CSRs; the rest is saved only if another vCPU is loaded. */
void vcpu_sync_wake(struct vcpu *c)
{
    c->vsie = csr_read(CSR_VSIE);
    c->vstimecmp = csr_read(CSR_VSTIMECMP);
    c->hvip = csr_read(CSR_HVIP);
}

/** Make the vCPU's VS state live (the frame is restored by entry.S). */
void vcpu_load(struct vcpu *c)
{
    csr_write(CSR_HGATP, c->hgatp);
    if (c->fence_vs) {              /* a (re)started VM: nothing of its past translations */
        hfence_vvma_all();
        c->fence_vs = 0;
    }
    csr_write(CSR_HSTATUS, c->hstatus);
    if (c->spp)
        csr_set(CSR_SSTATUS, MSTATUS_SPP);
    else
        csr_clear(CSR_SSTATUS, MSTATUS_SPP);
    csr_write(CSR_HTIMEDELTA, c->htimedelta);
#define LOAD(field, csr) csr_write(csr, c->field);
    VCPU_CSRS(LOAD)
#undef LOAD
}

/**
 * Deliver exception `cause` to the running guest as if it had been delegated
 * (H spec 9.6.1 / priv spec 12.1.1: vsepc, vscause, vstval, vsstatus.SPP/SPIE/SIE,
 * pc = vstvec base). Used for virtual-instruction traps the hypervisor does not
 * emulate: the guest sees an illegal instruction, as on hardware without H.
 */
void vcpu_inject_exception(struct vcpu *c, uint64_t cause, uint64_t tval)
{
    uint64_t vs = csr_read(CSR_VSSTATUS);
    uint64_t sie = vs & MSTATUS_SIE;
    uint64_t from_vs = (csr_read(CSR_SSTATUS) & MSTATUS_SPP) != 0;
    csr_write(CSR_VSEPC, c->r.sepc);
    csr_write(CSR_VSCAUSE, cause);
    csr_write(CSR_VSTVAL, tval);
    vs &= ~(uint64_t)(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
    vs |= (sie ? MSTATUS_SPIE : 0) | (from_vs ? MSTATUS_SPP : 0);
    csr_write(CSR_VSSTATUS, vs);
    csr_set(CSR_SSTATUS, MSTATUS_SPP);      /* the handler runs in VS */
    c->r.sepc = csr_read(CSR_VSTVEC) & ~3ull;
}

/** Host time at which the vCPU's timer fires, if it can wake it (vsie.STIE). */
uint64_t vcpu_timer_deadline(const struct vm *vm)
{
    const struct vcpu *c = &vm->cpu;
    if (!(c->vsie & VSIE_STIE) || c->vstimecmp == UINT64_MAX)
        return UINT64_MAX;
    return c->vstimecmp - c->htimedelta;
}

/**
 * Whether a waiting vCPU has an interrupt pending and enabled in vsie, the
 * condition that ends WFI (priv spec 3.3.3) whatever sstatus.SIE says.
 */
int vcpu_wakeable(const struct vm *vm, uint64_t now)
{
    const struct vcpu *c = &vm->cpu;
    uint64_t pending = 0;
    if (c->hvip & MIP_VSSIP)
        pending |= VSIE_SSIE;
    if (c->hvip & MIP_VSEIP)
        pending |= VSIE_SEIE;
    if ((c->hvip & MIP_VSTIP) || now + c->htimedelta >= c->vstimecmp)
        pending |= VSIE_STIE;
    return (pending & c->vsie) != 0;
}
