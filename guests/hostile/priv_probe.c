/*
 * priv_probe.c: every M- and HS-level CSR and every privileged instruction, tried from
 * VS-mode (H spec 9.6.1 "Virtual-instruction exceptions"; priv spec 2.1 CSR address
 * map and 3.3 "Machine-mode privileged instructions").
 *
 * Each CSR is read, written, set and cleared (CSRRS/CSRRW/CSRRS/CSRRC). An M-level
 * address raises an illegal-instruction exception in the guest; an HS-level or a VS
 * CSR's own 0x2xx address raises a virtual-instruction exception that the hypervisor
 * forwards as an illegal instruction (docs/hypervisor.md, "vCPUs and exits"), so the
 * guest sees cause 2 either way. Each instruction is written into a small stub
 * followed by `ret` and run after FENCE.I; the handler notes the cause and skips the
 * instruction by its length (priv spec 1.5). MRET, DRET, HFENCE, HLV/HSV and
 * SINVAL.VMA (no Svinval) must be illegal, EBREAK and C.EBREAK breakpoints; SRET
 * (hstatus.VTSR = 0), SFENCE.VMA (VTVM = 0) and WFI (an enabled interrupt is pending,
 * so it returns) must complete without a trap in the guest.
 *
 * It prints one deterministic line per attempt, then checks that the hypervisor is
 * unharmed: the same VM id and count, SBI BASE still answering, its own stvec and satp,
 * nothing pending in sip, `time` monotonic, and a timer interrupt still delivered.
 */
#include "klib.h"

#define NO_TRAP (-1L)
#define INSN_RET 0x00008067u
#define REG_A0 10u
#define TICK_TIMEOUT_US 100000

enum form { F_READ, F_WRITE, F_SET, F_CLEAR, NFORMS };
enum setup { S_NONE, S_SRET, S_WFI };

struct csr_row {
    const char *name;
    uint16_t addr;
};

struct insn_row {
    const char *name;
    uint32_t insn;
    long want;          /* cause, or NO_TRAP */
    enum setup setup;
};

static const struct csr_row csrs[] = {
    { "mvendorid", 0xF11 }, { "marchid", 0xF12 }, { "mimpid", 0xF13 }, { "mhartid", 0xF14 },
    { "mconfigptr", 0xF15 }, { "mstatus", 0x300 }, { "misa", 0x301 }, { "medeleg", 0x302 },
    { "mideleg", 0x303 }, { "mie", 0x304 }, { "mtvec", 0x305 }, { "mcounteren", 0x306 },
    { "menvcfg", 0x30A }, { "mcountinhibit", 0x320 }, { "mhpmevent3", 0x323 },
    { "mscratch", 0x340 }, { "mepc", 0x341 }, { "mcause", 0x342 }, { "mtval", 0x343 },
    { "mip", 0x344 }, { "mtinst", 0x34A }, { "mtval2", 0x34B }, { "pmpcfg0", 0x3A0 },
    { "pmpcfg2", 0x3A2 }, { "pmpaddr0", 0x3B0 }, { "pmpaddr1", 0x3B1 },
    { "pmpaddr2", 0x3B2 }, { "pmpaddr15", 0x3BF }, { "mseccfg", 0x747 },
    { "tselect", 0x7A0 }, { "tdata1", 0x7A1 }, { "dcsr", 0x7B0 }, { "dpc", 0x7B1 },
    { "dscratch0", 0x7B2 }, { "mcycle", 0xB00 }, { "minstret", 0xB02 },
    { "mhpmcounter3", 0xB03 },
    { "hstatus", 0x600 }, { "hedeleg", 0x602 }, { "hideleg", 0x603 }, { "hie", 0x604 },
    { "htimedelta", 0x605 }, { "hcounteren", 0x606 }, { "hgeie", 0x607 },
    { "henvcfg", 0x60A }, { "htval", 0x643 }, { "hip", 0x644 }, { "hvip", 0x645 },
    { "htinst", 0x64A }, { "hgatp", 0x680 }, { "hgeip", 0xE12 },
    { "vsstatus", 0x200 }, { "vsie", 0x204 }, { "vstvec", 0x205 }, { "vsscratch", 0x240 },
    { "vsepc", 0x241 }, { "vscause", 0x242 }, { "vstval", 0x243 }, { "vsip", 0x244 },
    { "vstimecmp", 0x24D }, { "vsatp", 0x280 },
};
#define NCSRS (sizeof csrs / sizeof csrs[0])

static const struct insn_row insns[] = {
    { "mret", 0x30200073u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "dret", 0x7B200073u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "sret", 0x10200073u, NO_TRAP, S_SRET },
    { "wfi", 0x10500073u, NO_TRAP, S_WFI },
    { "sfence.vma", 0x12000073u, NO_TRAP, S_NONE },
    { "sinval.vma", 0x16000073u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "hfence.vvma", 0x22000073u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "hfence.gvma", 0x62000073u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "hlv.b", 0x60004573u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "hlv.d", 0x6C004573u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "hlvx.hu", 0x64304573u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "hsv.b", 0x62004073u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "hsv.d", 0x6E004073u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "csrw cycle", 0xC0051073u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
    { "ebreak", 0x00100073u, CAUSE_BREAKPOINT, S_NONE },
    { "c.ebreak", 0x9002u, CAUSE_BREAKPOINT, S_NONE },
    { "c.unimp", 0x0000u, CAUSE_ILLEGAL_INSTRUCTION, S_NONE },
};
#define NINSNS (sizeof insns / sizeof insns[0])

static const char form_letter[NFORMS] = { 'r', 'w', 's', 'c' };
static const uint32_t form_funct3[NFORMS] = { 2, 1, 2, 3 };
static const uint64_t form_value[NFORMS] = { 0, 0, ~0ull, ~0ull };

static volatile uint16_t stub[8] __attribute__((aligned(16)));
static volatile long trap_cause;
static volatile uint64_t trap_tval, trap_pc;
static volatile unsigned trap_count, ticks;
static unsigned bad_tval;

static unsigned insn_bytes(uint32_t insn) { return (insn & 3) == 3 ? 4 : 2; }

static int on_exception(struct trap_frame *f)
{
    trap_cause = (long)f->scause;
    trap_tval = f->stval;
    trap_pc = f->sepc;
    trap_count++;
    f->sepc += insn_len_at(f->sepc);
    return 1;
}

static void on_timer(struct trap_frame *f)
{
    (void)f;
    ticks++;
    sbi_set_timer(UINT64_MAX);
}

/* The CSR instruction of `form` on `addr`: rd = a0 to read, rs1 = a0 to write. */
static uint32_t csr_insn(uint16_t addr, enum form form)
{
    uint32_t rd = form == F_READ ? REG_A0 : 0, rs1 = form == F_READ ? 0 : REG_A0;
    return (uint32_t)addr << 20 | rs1 << 15 | form_funct3[form] << 12 | rd << 7 | 0x73;
}

static void setup(enum setup s)
{
    if (s == S_SRET) {
        csr_write(sepc, (uintptr_t)stub + 4);
        csr_set(sstatus, MSTATUS_SPP);
        csr_clear(sstatus, MSTATUS_SPIE);
    } else if (s == S_WFI) {
        irq_enable(IRQ_STI);
        sbi_set_timer(0);
    }
}

static void teardown(enum setup s)
{
    if (s == S_WFI) {
        sbi_set_timer(UINT64_MAX);
        irq_disable(IRQ_STI);
    }
}

/* Run one instruction with a0 = `a0`: the cause it raised, or NO_TRAP. */
static long run_insn(uint32_t insn, uint64_t a0, enum setup s)
{
    unsigned half = insn_bytes(insn) / 2;
    stub[0] = (uint16_t)insn;
    stub[1] = (uint16_t)(insn >> 16);
    stub[half] = (uint16_t)INSN_RET;
    stub[half + 1] = (uint16_t)(INSN_RET >> 16);
    __asm__ volatile("fence.i" ::: "memory");
    unsigned before = trap_count;
    setup(s);
    ((void (*)(uint64_t))(uintptr_t)stub)(a0);
    teardown(s);
    if (trap_count == before)
        return NO_TRAP;
    if (trap_count != before + 1 || trap_pc != (uintptr_t)stub)
        return -100;
    if (trap_cause == CAUSE_ILLEGAL_INSTRUCTION && trap_tval && trap_tval != insn)
        bad_tval++;
    return trap_cause;
}

static const char *outcome(long cause, char *buf, size_t n)
{
    if (cause == NO_TRAP)
        return "ok";
    if (cause == CAUSE_ILLEGAL_INSTRUCTION)
        return "ill";
    if (cause == CAUSE_BREAKPOINT)
        return "brk";
    ksnprintf(buf, n, "c%ld", cause);
    return buf;
}

/* Try every CSR in every form; the number of attempts that were not refused. */
static unsigned probe_csrs(void)
{
    unsigned wrong = 0;
    for (unsigned i = 0; i < NCSRS; i++) {
        char line[96], tmp[NFORMS][12];
        const char *res[NFORMS];
        for (unsigned f = 0; f < NFORMS; f++) {
            long c = run_insn(csr_insn(csrs[i].addr, (enum form)f), form_value[f], S_NONE);
            wrong += c != CAUSE_ILLEGAL_INSTRUCTION;
            res[f] = outcome(c, tmp[f], sizeof tmp[f]);
        }
        ksnprintf(line, sizeof line, "priv_probe: csr %-13s 0x%03x  %c:%-3s %c:%-3s %c:%-3s %c:%s\n",
                  csrs[i].name, csrs[i].addr, form_letter[0], res[0], form_letter[1], res[1],
                  form_letter[2], res[2], form_letter[3], res[3]);
        kputs(line);
    }
    return wrong;
}

/* Run every privileged instruction; the number that did not behave as specified. */
static unsigned probe_insns(void)
{
    unsigned wrong = 0;
    for (unsigned i = 0; i < NINSNS; i++) {
        char got[12], want[12];
        long c = run_insn(insns[i].insn, 0, insns[i].setup);
        wrong += c != insns[i].want;
        kprintf("priv_probe: insn %-12s %08x -> %-3s (want %s)\n", insns[i].name, insns[i].insn,
                outcome(c, got, sizeof got), outcome(insns[i].want, want, sizeof want));
    }
    return wrong;
}

/* A timer interrupt still arrives through SBI TIME: 0 on success. */
static int timer_works(void)
{
    set_irq_handler(IRQ_STI, on_timer);
    irq_enable(IRQ_STI);
    sbi_set_timer(rdtime() + us_to_ticks(100));
    local_irq_enable();
    int late = wait_until(&ticks, 1, us_to_ticks(TICK_TIMEOUT_US));
    local_irq_disable();
    irq_disable(IRQ_STI);
    return late;
}

/* The hypervisor's view of this VM is unchanged: 0, or the first thing that differs. */
static const char *check_intact(long id0, long count0, uint64_t stvec0, uint64_t t0)
{
    struct sbiret id = sbi_hvsim_vm_id(), count = sbi_hvsim_vm_count();
    struct sbiret spec = sbi_get_spec_version(), probe = sbi_probe_extension(SBI_EXT_HVSIM);
    if (id.error || id.value != id0 || count.error || count.value != count0)
        return "HVSIM vm_id/vm_count changed";
    if (spec.error || spec.value != (2l << 24) || probe.error || probe.value != 1)
        return "SBI BASE answers differently";
    if (csr_read(stvec) != stvec0 || csr_read(satp) != 0)
        return "stvec or satp changed";
    if (csr_read(sip) != 0)
        return "an interrupt is pending";
    if (rdtime() < t0)
        return "time went backwards";
    if (timer_works())
        return "no timer interrupt";
    return 0;
}

int kmain(unsigned long hartid, const void *dtb)
{
    (void)hartid;
    console_select(CONSOLE_DBCN);
    if (boot_init(dtb)) {
        kprintf("priv_probe: FAIL: no usable DTB\n");
        return 1;
    }
    struct sbiret id = sbi_hvsim_vm_id(), count = sbi_hvsim_vm_count();
    uint64_t stvec0 = csr_read(stvec), t0 = rdtime();
    set_exception_handler(on_exception);
    kprintf("priv_probe: %u CSRs x 4 forms and %u instructions from VS-mode\n",
            (unsigned)NCSRS, (unsigned)NINSNS);
    unsigned wrong = probe_csrs();
    wrong += probe_insns();
    const char *harm = check_intact(id.value, count.value, stvec0, t0);
    kprintf("priv_probe: %u unexpected outcomes, %u bad stval values\n", wrong, bad_tval);
    if (harm) {
        kprintf("priv_probe: FAIL: %s\n", harm);
        return 1;
    }
    kprintf("priv_probe: hypervisor state intact (vm %ld of %ld, timer ok)\n", id.value,
            count.value);
    if (wrong || bad_tval) {
        kprintf("priv_probe: FAIL\n");
        return 1;
    }
    kprintf("priv_probe: PASS\n");
    return 0;
}
