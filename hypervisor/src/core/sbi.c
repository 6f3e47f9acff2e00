/*
 * sbi.c: the SBI v2.0 implementation the guests call with ecall from VS-mode
 * (RISC-V SBI specification v2.0: chapter 3 binary encoding, 4 BASE, 5 legacy,
 * 6 TIME, 7 IPI, 8 RFENCE, 9 HSM, 10 SRST, 12 DBCN), plus the firmware extension
 * HVSIM (yield, vm_id, vm_count, stats). One vCPU per VM, so hart masks may name
 * hart 0 only. Every guest pointer and length is checked against the VM's RAM.
 *
 * One handler per extension, found in `extensions` (the table is also what
 * probe_extension and the statistics use). A handler writes a0/a1 into the
 * frame and returns what happens next: back to the same guest (RS_TICK), wait
 * for an interrupt, yield, reboot, or end.
 */
#include "csr.h"
#include "hv.h"

#define SBI_SUCCESS               0
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
#define SBI_SPEC_VERSION (2u << 24)
#define LEGACY_LAST 0x0F        /* SBI 5: ids 0x00..0x0F are the legacy range */
#define LEGACY_SHUTDOWN 0x08

#define HSM_STARTED 0
/* Bytes one DBCN call moves at most (SBI 12.1 lets write/read do fewer than asked and
 * return the count); bounds the time a guest can keep the hypervisor busy. */
#define DBCN_MAX 256
#define HSM_SUSPEND_RETENTIVE 0x00000000u
#define HSM_SUSPEND_NON_RETENTIVE 0x80000000u

/* What a handler asks for after the call (RS_* of hv.h, plus a reboot). */
enum { AFTER_REBOOT = RS_END + 1 };
/* A handler returns the frame to resume: its own (the result is in a0/a1) or
 * what `after` gives for a wait, yield, reboot or end. */
typedef struct regs *(*sbi_handler)(struct regs *r, uint64_t fid);

#define A(i) (r->x[REG_A0 + (i)])

/** Both results of an SBI call (SBI 3: a0 = error, a1 = value). */
static inline struct regs *ret(struct regs *r, long error, uint64_t value)
{
    A(0) = (uint64_t)error;
    A(1) = value;
    return r;
}

/** The frame to resume after a call that waits, yields, reboots or ends the VM. */
static __attribute__((noinline)) struct regs *after(struct regs *r, int what)
{
    struct vm *vm = vm_of_frame(r);
    if (what == RS_WAIT) {
        vcpu_sync_wake(&vm->cpu);
        return vcpu_wakeable(vm, rdtime()) ? r : sched_switch(RS_WAIT);
    }
    if (what == AFTER_REBOOT)
        return frame_fresh(sched_switch(RS_YIELD));
    return sched_switch((enum resched)what);
}

/** The hart set (mask, base) names only hart 0 or no hart (SBI 3.1 hart mask). */
static int harts_valid(uint64_t mask, uint64_t base)
{
    return base == (uint64_t)-1 || !mask || (base == 0 && !(mask & ~1ull));
}

static int probe(uint64_t ext);

static struct regs *base(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    static const uint64_t fixed[] = { SBI_SPEC_VERSION, SBI_IMPL_ID, SBI_IMPL_VERSION };
    (void)vm;
    if (fid < 3)
        return ret(r, SBI_SUCCESS, fixed[fid]);
    if (fid == 3)
        return ret(r, SBI_SUCCESS, (uint64_t)probe(A(0)));
    if (fid <= 6)
        return ret(r, SBI_SUCCESS, hv_machine_ids[fid - 4]);
    return ret(r, SBI_ERR_NOT_SUPPORTED, 0);
}

static struct regs *time_ext(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    (void)vm;
    if (fid != 0)
        return ret(r, SBI_ERR_NOT_SUPPORTED, 0);
    csr_write(CSR_VSTIMECMP, A(0));     /* Sstc recomputes VSTIP */
    return ret(r, SBI_SUCCESS, 0);
}

static struct regs *ipi(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    if (fid != 0)
        return ret(r, SBI_ERR_NOT_SUPPORTED, 0);
    if (!harts_valid(A(0), A(1)))
        return ret(r, SBI_ERR_INVALID_PARAM, 0);
    if (A(1) == (uint64_t)-1 || (A(0) & 1)) {
        csr_set(CSR_HVIP, MIP_VSSIP);
        vm->st.irqs++;
    }
    return ret(r, SBI_SUCCESS, 0);
}

/** RFENCE: the VM's own VS-stage entries (its VMID is the live one). */
static struct regs *rfence(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    uint64_t start = A(2), size = A(3), asid = A(4);
    (void)vm;
    if (fid > 2)
        return ret(r, SBI_ERR_NOT_SUPPORTED, 0);    /* HFENCE: no nested H */
    if (!harts_valid(A(0), A(1)))
        return ret(r, SBI_ERR_INVALID_PARAM, 0);
    if (fid == 0) {
        __asm__ volatile("fence.i" ::: "memory");
    } else if ((start == 0 && size == 0) || size == (uint64_t)-1 || size > (64ull << 12)) {
        if (fid == 1)
            hfence_vvma_all();
        else
            hfence_vvma(0, asid);
    } else {
        uint64_t pages = ((start & 0xfff) + size + 0xfff) >> 12;   /* size <= 64 pages */
        for (uint64_t va = start & ~0xfffull; pages--; va += 4096) {
            if (fid == 1)
                __asm__ volatile("hfence.vvma %0, zero" :: "r"(va) : "memory");
            else
                hfence_vvma(va, asid);
        }
    }
    return ret(r, SBI_SUCCESS, 0);
}

/** HSM suspend (SBI 9.4): retentive waits like WFI; non-retentive resumes at
 *  resume_addr with a0 = hart id, a1 = opaque, vsatp = 0 and SIE = 0. */
static struct regs *suspend(struct vm *vm, struct regs *r)
{
    uint32_t type = (uint32_t)A(0);     /* SBI 3: a 32-bit parameter's upper bits are ignored */
    if (type != HSM_SUSPEND_RETENTIVE && type != HSM_SUSPEND_NON_RETENTIVE)
        return ret(r, SBI_ERR_INVALID_PARAM, 0);    /* reserved, or platform-specific and
                                                       not implemented (SBI 9.4) */
    if (type == HSM_SUSPEND_NON_RETENTIVE) {
        if (!guest_ptr(vm, A(1), 4))
            return ret(r, SBI_ERR_INVALID_ADDRESS, 0);
        r->sepc = A(1);
        A(1) = A(2);
        A(0) = 0;
        csr_write(CSR_VSATP, 0);
        csr_clear(CSR_VSSTATUS, MSTATUS_SIE);
        return after(r, RS_WAIT);
    }
    ret(r, SBI_SUCCESS, 0);
    return after(r, RS_WAIT);
}

static struct regs *hsm(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    switch (fid) {
    case 0: return ret(r, A(0) == 0 ? SBI_ERR_ALREADY_AVAILABLE : SBI_ERR_INVALID_PARAM, 0);
    case 1: vm_stop(vm, END_HART_STOP, 0); return after(r, RS_END);
    case 2:
        return A(0) == 0 ? ret(r, SBI_SUCCESS, HSM_STARTED) : ret(r, SBI_ERR_INVALID_PARAM, 0);
    case 3: return suspend(vm, r);
    default: return ret(r, SBI_ERR_NOT_SUPPORTED, 0);
    }
}

/** SRST (SBI 10.1): shutdown ends this VM only; cold/warm reboot restart it. */
static struct regs *srst(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    uint64_t type = A(0), reason = A(1);
    if (fid != 0)
        return ret(r, SBI_ERR_NOT_SUPPORTED, 0);
    if (type > 2 || (reason > 1 && reason < 0xE0000000u) || reason > 0xFFFFFFFFu)
        return ret(r, SBI_ERR_INVALID_PARAM, 0);
    if (type == 0) {
        vm_stop(vm, END_SHUTDOWN, reason);
        return after(r, RS_END);
    }
    vm_reboot(vm);
    return after(r, vm->state == VM_DONE ? RS_END : AFTER_REBOOT);
}

/** DBCN (SBI 12): console bytes to and from guest-physical memory. */
static struct regs *dbcn(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    uint64_t n = A(0), i = 0;
    if (fid == 2) {
        vm_console_putc(vm, (char)A(0));
        return ret(r, SBI_SUCCESS, 0);
    }
    if (fid > 2)
        return ret(r, SBI_ERR_NOT_SUPPORTED, 0);
    uint8_t *p = A(2) ? 0 : guest_ptr(vm, A(1), n);     /* hi: the upper XLEN bits */
    if (!p)
        return ret(r, SBI_ERR_INVALID_PARAM, 0);
    if (n > DBCN_MAX)
        n = DBCN_MAX;               /* the hypervisor is not preemptible: bound each call */
    if (fid == 0) {
        for (; i < n; i++)
            vm_console_putc(vm, (char)p[i]);
    } else if (vm->index == 0) {
        for (int ch; i < n && (ch = hv_getc()) >= 0; i++)
            p[i] = (uint8_t)ch;
    }
    return ret(r, SBI_SUCCESS, i);
}

/** HVSIM stats: {cycles, instret, runs, exits, sbi_calls, irqs} into guest memory. */
static struct regs *stats(struct vm *vm, struct regs *r)
{
    const struct vm_stats *s = &vm->st;
    uint64_t out[6] = { s->cycles, s->instret, s->runs, 0, 0, s->irqs };
    for (unsigned i = 0; i < SBI_SLOTS; i++)
        for (unsigned j = 0; j <= SBI_FIDS; j++)
            out[4] += s->sbi[i][j];
    for (unsigned i = 0; i < EXIT_KINDS; i++)
        out[3] += i == CAUSE_VIRTUAL_SUPERVISOR_ECALL ? out[4] : s->exits[i];
    uint64_t n = A(2) < sizeof out ? A(2) : sizeof out;
    void *p = A(1) ? 0 : guest_ptr(vm, A(0), n);        /* hi: the upper XLEN bits */
    if (!p)
        return ret(r, SBI_ERR_INVALID_ADDRESS, 0);
    hv_memcpy(p, out, n);
    return ret(r, SBI_SUCCESS, n);
}

static struct regs *hvsim(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    switch (fid) {
    case 0: ret(r, SBI_SUCCESS, 0); return after(r, RS_YIELD);
    case 1: return ret(r, SBI_SUCCESS, vm->index);
    case 2: return ret(r, SBI_SUCCESS, hv_nvms);
    case 3: return stats(vm, r);
    default: return ret(r, SBI_ERR_NOT_SUPPORTED, 0);
    }
}

/** Legacy extensions (SBI 5; the extension id is the function): a0 only. */
static struct regs *legacy(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    uint64_t ext = r->x[REG_A7];
    (void)fid;
    switch (ext) {
    case 0x00: csr_write(CSR_VSTIMECMP, A(0)); A(0) = 0; return r;
    case 0x01: vm_console_putc(vm, (char)A(0)); A(0) = 0; return r;
    case 0x02: A(0) = (uint64_t)(long)(vm->index == 0 ? hv_getc() : -1); return r;
    case LEGACY_SHUTDOWN: vm_stop(vm, END_SHUTDOWN, 0); return after(r, RS_END);
    default: A(0) = (uint64_t)SBI_ERR_NOT_SUPPORTED; return r;
    }
}

static struct regs *unknown(struct regs *r, uint64_t fid)
{
    struct vm *vm = vm_of_frame(r);
    (void)vm, (void)fid;
    return ret(r, SBI_ERR_NOT_SUPPORTED, 0);
}

/* The extensions, most frequent first; the row is the statistics slot. The
 * legacy row stands for extension ids 0..LEGACY_LAST, the last for the rest. */
static const struct { uint32_t ext; sbi_handler fn; } extensions[SBI_SLOTS] = {
    { EXT_BASE, base }, { EXT_TIME, time_ext }, { EXT_DBCN, dbcn }, { EXT_HVSIM, hvsim },
    { EXT_IPI, ipi }, { EXT_RFENCE, rfence }, { EXT_HSM, hsm }, { EXT_SRST, srst },
    { 0, legacy }, { 0xffffffffu, unknown },
};
#define SLOT_LEGACY (SBI_SLOTS - 2)
#define SLOT_OTHER (SBI_SLOTS - 1)

/** Extension id of statistics slot `slot` (0 for legacy, ~0 for unknown ones). */
uint32_t sbi_slot_ext(unsigned slot) { return extensions[slot].ext; }
unsigned sbi_slot_legacy(void) { return SLOT_LEGACY; }

static unsigned slot_of(uint64_t ext)
{
    for (unsigned i = 0; i < SLOT_LEGACY; i++)
        if (extensions[i].ext == ext)
            return i;
    return ext <= LEGACY_LAST ? SLOT_LEGACY : SLOT_OTHER;
}

static int probe(uint64_t ext)
{
    unsigned s = slot_of(ext);
    return s < SLOT_LEGACY || (s == SLOT_LEGACY && (ext <= 2 || ext == LEGACY_SHUTDOWN));
}

/**
 * The environment call from VS (entry.S fast path): the SBI call in a7/a6/a0..a5.
 * Returns the frame to resume. The frame is the running VM's (vm_of_frame).
 */
struct regs *hv_ecall(struct regs *r)
{
    struct vm *vm = vm_of_frame(r);
    uint64_t ext = r->x[REG_A7], fid = r->x[REG_A6];
    r->sepc += 4;                   /* exits[10] is the sum of the SBI counts (report.c) */
    unsigned slot = slot_of(ext);
    uint64_t col = slot == SLOT_LEGACY ? ext : fid;
    vm->st.sbi[slot][col < SBI_FIDS ? col : SBI_FIDS]++;
    return extensions[slot].fn(r, fid);
}
