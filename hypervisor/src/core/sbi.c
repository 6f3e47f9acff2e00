/*
 * sbi.c: the SBI v2.0 implementation the guests call with ecall from VS-mode
 * (RISC-V SBI specification v2.0: chapter 3 binary encoding, 4 BASE, 5 legacy,
 * 6 TIME, 7 IPI, 8 RFENCE, 9 HSM, 10 SRST, 12 DBCN), plus the firmware extension
 * HVSIM (yield, vm_id, vm_count, stats). One vCPU per VM, so hart masks may name
 * hart 0 only. Every guest pointer and length is checked against the VM's RAM.
 */
#include "csr.h"
#include "hv.h"

#define SBI_SUCCESS               0
#define SBI_ERR_FAILED           -1
#define SBI_ERR_NOT_SUPPORTED    -2
#define SBI_ERR_INVALID_PARAM    -3
#define SBI_ERR_INVALID_ADDRESS  -5
#define SBI_ERR_ALREADY_AVAILABLE -6

#define EXT_BASE   0x10
#define EXT_TIME   0x54494D45
#define EXT_IPI    0x735049
#define EXT_RFENCE 0x52464E43
#define EXT_HSM    0x48534D
#define EXT_SRST   0x53525354
#define EXT_DBCN   0x4442434E
#define SBI_IMPL_ID      0x6876     /* "hv" (not a registered id) */
#define SBI_IMPL_VERSION 0x00010000
#define EXT_HVSIM  (0x0A000000 | SBI_IMPL_ID)
#define SBI_SPEC_VERSION ((2u << 24) | 0u)
#define LEGACY_LAST 0x08

#define HSM_STARTED 0
#define HSM_SUSPEND_RETENTIVE 0x00000000u
#define HSM_SUSPEND_NON_RETENTIVE 0x80000000u

/* Statistics slots (struct vm_stats.sbi rows); names for the report in report.c. */
enum { SLOT_LEGACY, SLOT_BASE, SLOT_TIME, SLOT_IPI, SLOT_RFENCE, SLOT_HSM, SLOT_SRST,
       SLOT_DBCN, SLOT_HVSIM, SLOT_OTHER };
const uint32_t sbi_slot_ext[SBI_SLOTS] = {
    [SLOT_LEGACY] = 0, [SLOT_BASE] = EXT_BASE, [SLOT_TIME] = EXT_TIME, [SLOT_IPI] = EXT_IPI,
    [SLOT_RFENCE] = EXT_RFENCE, [SLOT_HSM] = EXT_HSM, [SLOT_SRST] = EXT_SRST,
    [SLOT_DBCN] = EXT_DBCN, [SLOT_HVSIM] = EXT_HVSIM, [SLOT_OTHER] = 0xffffffff,
};

struct call {
    struct vm *vm;
    struct regs *r;
    uint64_t fid;
    long error;
    uint64_t value;
    enum resched after;     /* RS_TICK: return to the same guest */
    unsigned results;       /* registers written back: 2 a0/a1, 1 a0 (legacy), 0 none */
    int fresh;              /* the frame was rebuilt (reboot) */
};

static uint64_t arg(const struct call *c, unsigned i) { return c->r->x[REG_A0 + i]; }

/** The hart set (mask, base) names only hart 0 or no hart (SBI 3.1 hart mask). */
static int harts_valid(uint64_t mask, uint64_t base)
{
    return base == (uint64_t)-1 || !mask || (base == 0 && !(mask & ~1ull));
}

static int probe(uint64_t ext)
{
    switch (ext) {
    case EXT_BASE: case EXT_TIME: case EXT_IPI: case EXT_RFENCE: case EXT_HSM:
    case EXT_SRST: case EXT_DBCN: case EXT_HVSIM:
        return 1;
    default:
        return ext <= 2 || ext == LEGACY_LAST;
    }
}

static void base(struct call *c)
{
    static const uint64_t fixed[] = { SBI_SPEC_VERSION, SBI_IMPL_ID, SBI_IMPL_VERSION };
    if (c->fid < 3)
        c->value = fixed[c->fid];
    else if (c->fid == 3)
        c->value = probe(arg(c, 0));
    else if (c->fid <= 6)
        c->value = hv_machine_ids[c->fid - 4];
    else
        c->error = SBI_ERR_NOT_SUPPORTED;
}

static void set_timer(uint64_t when)
{
    csr_write(CSR_VSTIMECMP, when);
}

static void ipi(struct call *c)
{
    if (c->fid != 0) {
        c->error = SBI_ERR_NOT_SUPPORTED;
    } else if (!harts_valid(arg(c, 0), arg(c, 1))) {
        c->error = SBI_ERR_INVALID_PARAM;
    } else if (arg(c, 1) == (uint64_t)-1 || (arg(c, 0) & 1)) {
        csr_set(CSR_HVIP, MIP_VSSIP);
        c->vm->st.irqs++;
    }
}

/** RFENCE: the VM's own VS-stage entries (its VMID is the live one). */
static void rfence(struct call *c)
{
    uint64_t start = arg(c, 2), size = arg(c, 3);
    if (c->fid > 2) {
        c->error = SBI_ERR_NOT_SUPPORTED;       /* HFENCE variants: no nested H */
        return;
    }
    if (!harts_valid(arg(c, 0), arg(c, 1))) {
        c->error = SBI_ERR_INVALID_PARAM;
        return;
    }
    if (c->fid == 0) {
        __asm__ volatile("fence.i" ::: "memory");
    } else if ((start == 0 && size == 0) || size == (uint64_t)-1 || size > (64ull << 12)) {
        if (c->fid == 1)
            hfence_vvma_all();
        else
            hfence_vvma(0, arg(c, 4));
    } else {
        for (uint64_t va = start & ~0xfffull; va < start + size; va += 4096) {
            if (c->fid == 1)
                __asm__ volatile("hfence.vvma %0, zero" :: "r"(va) : "memory");
            else
                hfence_vvma(va, arg(c, 4));
        }
    }
}

/** HSM suspend (SBI 9.4): retentive waits like WFI; non-retentive resumes at
 *  resume_addr with a0 = hart id, a1 = opaque, vsatp = 0 and SIE = 0. */
static void suspend(struct call *c)
{
    uint32_t type = (uint32_t)arg(c, 0);
    if (arg(c, 0) >> 32 || (type > HSM_SUSPEND_RETENTIVE && type < 0x10000000u)
        || (type > HSM_SUSPEND_NON_RETENTIVE && type < 0x90000000u)) {
        c->error = SBI_ERR_INVALID_PARAM;
        return;
    }
    if (type != HSM_SUSPEND_RETENTIVE && type != HSM_SUSPEND_NON_RETENTIVE) {
        c->error = SBI_ERR_NOT_SUPPORTED;
        return;
    }
    if (type == HSM_SUSPEND_NON_RETENTIVE) {
        if (!guest_ptr(c->vm, arg(c, 1), 4)) {
            c->error = SBI_ERR_INVALID_ADDRESS;
            return;
        }
        c->r->sepc = arg(c, 1);
        c->r->x[REG_A1] = arg(c, 2);
        csr_write(CSR_VSATP, 0);
        csr_clear(CSR_VSSTATUS, MSTATUS_SIE);
        c->r->x[REG_A0] = 0;
        c->results = 0;
        c->after = RS_WAIT;
        return;
    }
    c->after = RS_WAIT;
}

static void hsm(struct call *c)
{
    switch (c->fid) {
    case 0: c->error = arg(c, 0) == 0 ? SBI_ERR_ALREADY_AVAILABLE : SBI_ERR_INVALID_PARAM; break;
    case 1: vm_stop(c->vm, END_HART_STOP, 0); c->after = RS_END; break;
    case 2:
        if (arg(c, 0) == 0)
            c->value = HSM_STARTED;
        else
            c->error = SBI_ERR_INVALID_PARAM;
        break;
    case 3: suspend(c); break;
    default: c->error = SBI_ERR_NOT_SUPPORTED; break;
    }
}

/** SRST (SBI 10.1): shutdown ends this VM only; cold/warm reboot restart it. */
static void srst(struct call *c)
{
    uint64_t type = arg(c, 0), reason = arg(c, 1);
    if (c->fid != 0) {
        c->error = SBI_ERR_NOT_SUPPORTED;
    } else if (type > 2 || (reason > 1 && reason < 0xE0000000u) || reason > 0xFFFFFFFFu) {
        c->error = SBI_ERR_INVALID_PARAM;
    } else if (type == 0) {
        vm_stop(c->vm, END_SHUTDOWN, reason);
        c->after = RS_END;
    } else {
        vm_reboot(c->vm);
        c->after = c->vm->state == VM_DONE ? RS_END : RS_YIELD;
        c->results = 0;
        c->fresh = 1;
    }
}

/** DBCN (SBI 12): console bytes to and from guest-physical memory. */
static void dbcn(struct call *c)
{
    uint64_t n = arg(c, 0), gpa = arg(c, 1) | (arg(c, 2) << 32);
    if (c->fid == 2) {
        vm_console_putc(c->vm, (char)arg(c, 0));
        return;
    }
    if (c->fid > 2) {
        c->error = SBI_ERR_NOT_SUPPORTED;
        return;
    }
    uint8_t *p = guest_ptr(c->vm, gpa, n);
    if (!p) {
        c->error = SBI_ERR_INVALID_PARAM;
        return;
    }
    uint64_t i = 0;
    if (c->fid == 0) {
        for (; i < n; i++)
            vm_console_putc(c->vm, (char)p[i]);
    } else if (c->vm->index == 0) {
        for (int ch; i < n && (ch = hv_getc()) >= 0; i++)
            p[i] = (uint8_t)ch;
    }
    c->value = i;
}

static void hvsim(struct call *c)
{
    struct vm_stats *s = &c->vm->st;
    switch (c->fid) {
    case 0: c->after = RS_YIELD; break;
    case 1: c->value = c->vm->index; break;
    case 2: c->value = hv_nvms; break;
    case 3: {
        uint64_t out[6] = { s->cycles, s->instret, s->runs, 0, 0, s->irqs };
        for (unsigned i = 0; i < EXIT_KINDS; i++)
            out[3] += s->exits[i];
        for (unsigned i = 0; i < SBI_SLOTS; i++)
            for (unsigned j = 0; j <= SBI_FIDS; j++)
                out[4] += s->sbi[i][j];
        uint64_t n = arg(c, 2) < sizeof out ? arg(c, 2) : sizeof out;
        void *p = guest_ptr(c->vm, arg(c, 0) | (arg(c, 1) << 32), n);
        if (!p) {
            c->error = SBI_ERR_INVALID_ADDRESS;
            break;
        }
        hv_memcpy(p, out, n);
        c->value = n;
        break;
    }
    default: c->error = SBI_ERR_NOT_SUPPORTED; break;
    }
}

/** Legacy extensions (SBI 5): the result is a0 only. */
static void legacy(struct call *c, uint64_t ext)
{
    switch (ext) {
    case 0x00: set_timer(arg(c, 0)); c->error = 0; break;
    case 0x01: vm_console_putc(c->vm, (char)arg(c, 0)); c->error = 0; break;
    case 0x02: c->error = c->vm->index == 0 ? hv_getc() : -1; break;
    case 0x08: vm_stop(c->vm, END_SHUTDOWN, 0); c->after = RS_END; break;
    default: c->error = SBI_ERR_NOT_SUPPORTED; break;
    }
    c->results = 1;
}

static unsigned slot_of(uint64_t ext)
{
    for (unsigned i = 1; i < SLOT_OTHER; i++)
        if (sbi_slot_ext[i] == ext)
            return i;
    return ext <= LEGACY_LAST ? SLOT_LEGACY : SLOT_OTHER;
}

/** Handle the guest's SBI call in a7/a6/a0..a5; returns the frame to resume. */
struct regs *sbi_dispatch(struct vm *vm, struct regs *r)
{
    uint64_t ext = r->x[REG_A7];
    struct call c = { vm, r, r->x[REG_A6], SBI_SUCCESS, 0, RS_TICK, 2, 0 };
    unsigned slot = slot_of(ext);
    vm->st.sbi[slot][slot == SLOT_LEGACY ? (ext < SBI_FIDS ? ext : SBI_FIDS)
                                         : (c.fid < SBI_FIDS ? c.fid : SBI_FIDS)]++;
    switch (slot) {
    case SLOT_BASE: base(&c); break;
    case SLOT_TIME:
        if (c.fid == 0)
            set_timer(arg(&c, 0));
        else
            c.error = SBI_ERR_NOT_SUPPORTED;
        break;
    case SLOT_IPI: ipi(&c); break;
    case SLOT_RFENCE: rfence(&c); break;
    case SLOT_HSM: hsm(&c); break;
    case SLOT_SRST: srst(&c); break;
    case SLOT_DBCN: dbcn(&c); break;
    case SLOT_HVSIM: hvsim(&c); break;
    case SLOT_LEGACY: legacy(&c, ext); break;
    default: c.error = SBI_ERR_NOT_SUPPORTED; break;
    }
    if (c.results)
        r->x[REG_A0] = (uint64_t)c.error;
    if (c.results == 2)
        r->x[REG_A1] = c.value;
    switch (c.after) {
    case RS_TICK:
        return r;
    case RS_WAIT:
        vcpu_save(&vm->cpu);
        if (vcpu_wakeable(vm, rdtime()))
            return r;
        return sched_switch(RS_WAIT);
    case RS_YIELD:
        return c.fresh ? frame_fresh(sched_switch(RS_YIELD)) : sched_switch(RS_YIELD);
    default:
        return sched_switch(RS_END);
    }
}
