/*
 * regs.c: vCPU-switch isolation (issue 5, item 5: "nothing of one VM's state survives into
 * another's"). Each round has two phases, both in assembly so that a trap can hit any
 * instruction while every register holds this VM's pattern:
 *
 * - yield: x1..x31 are loaded with patterns that depend on the VM id (HVSIM vm_id), the
 *   round and the register, a6/a7 naming HVSIM yield; the `ecall` switches to another VM.
 *   After it a0 = a1 = 0 (SBI spec v2.0 section 3.1: every other register is preserved).
 * - spin: the same with other patterns, then a loop on the `time` CSR (priv spec 8.1)
 *   until a deadline in x31, longer than the VM's budget, so the hypervisor's timer
 *   preempts the guest in the middle of it (checked through HVSIM stats: the VM's exits
 *   grow during every spin).
 *
 * The VS CSRs a guest owns (sscratch, stvec, satp, sepc, scause, stval, sie, sstatus.SUM
 * and MXR; priv spec 12.1) hold values of the same kind and are checked after each
 * phase against what they read back after the write (the fields are WARL). satp turns
 * Sv39 on (priv spec 12.4) with one of two page tables that map guest RAM by a gigapage
 * and the virtual page ID_VA, a global 4 KiB leaf, to a page holding the VM id. That
 * page is read right after every switch: a TLB entry of another VMID would show another
 * id. sscratch points at the slot where the check phase stores the registers, so a
 * changed sscratch shows as a slot left poisoned. stvec points into a table of jumps to
 * a handler that reports any trap and fails.
 *
 * Arguments (a2, a3): spin length in microseconds (default SPIN_US), rounds (default
 * ROUNDS). Prints "regs: PASS" or one line per failed check and "regs: FAIL <n>".
 */
#include "klib.h"

#define ROUNDS 30
#define SPIN_US 1000
#define NSLOTS 8
#define SLOT_WORDS 34         /* [0] sscratch, [1..31] x1..x31, [32] the id word */
#define SLOT_ID 32
#define POISON 0xdeadbeefdeadbeefull
#define ID_VA 0xc0000000      /* VPN[2] = 3: its own Sv39 subtree */
#define ID_MAGIC 0x1d00000000000000ull
#define MAX_REPORTS 24
#define TRAP_SLOTS 32
#define PAGE_ENTRIES 512

/* Sv39 page-table entry bits (priv spec 12.3.1, figure "Sv32 page table entry"). */
#define SATP_MODE_SV39 8ull

#define STR(x) #x
#define XSTR(x) STR(x)

enum phase { PH_YIELD, PH_SPIN, PHASES };
static const char *const phase_names[PHASES] = {"yield", "spin"};
static const char *const reg_names[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3",
    "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
    "t3", "t4", "t5", "t6",
};

/* The VS CSRs under test, in one table: written, read back, compared. */
enum { C_SSCRATCH, C_STVEC, C_SATP, C_SEPC, C_SCAUSE, C_STVAL, C_SIE, C_SSTATUS, NCSRS };
static const char *const csr_names[NCSRS] = {
    "sscratch", "stvec", "satp", "sepc", "scause", "stval", "sie", "sstatus",
};
#define SSTATUS_TESTED (MSTATUS_SUM | MSTATUS_MXR)
#define SIE_TESTED (MIP_SSI | MIP_STI | MIP_SEI)

struct slot { uint64_t w[SLOT_WORDS]; };

uint64_t regs_host[16];                  /* the C caller's ra, sp, gp, tp, s0..s11 */
extern const uint32_t regs_trap_table[TRAP_SLOTS];
void regs_yield(const uint64_t *want);
void regs_spin(const uint64_t *want);

static struct slot slots[NSLOTS];
static uint64_t want[32];
static uint64_t roots[2][PAGE_ENTRIES] __attribute__((aligned(4096)));
static uint64_t id_l1[PAGE_ENTRIES] __attribute__((aligned(4096)));
static uint64_t id_l0[PAGE_ENTRIES] __attribute__((aligned(4096)));
static volatile uint64_t id_page[PAGE_ENTRIES] __attribute__((aligned(4096)));
static struct hvsim_stats st_before, st_after;
static unsigned failures, reports;
static uint64_t vm_id;

/*
 * The assembly phases. Both save the C caller's registers in regs_host, load x1..x31
 * from want[] (a0 = want, loaded last), act, then swap x31 with sscratch (the slot
 * pointer), store x1..x30, x31 (from sscratch), sscratch (from x31) and the word at
 * ID_VA into the slot, and restore the caller's registers.
 */
__asm__(
    "    .text\n"
    "    .macro regs_host_op op\n"
    "    la t0, regs_host\n"
    "    .set regs_off, 0\n"
    "    .irp r, ra, sp, gp, tp, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11\n"
    "    \\op \\r, regs_off(t0)\n"
    "    .set regs_off, regs_off + 8\n"
    "    .endr\n"
    "    .endm\n"
    "    .macro regs_fill\n"
    "    .irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, "
    "23, 24, 25, 26, 27, 28, 29, 30, 31\n"
    "    ld x\\n, 8 * \\n(a0)\n"
    "    .endr\n"
    "    ld a0, 80(a0)\n"
    "    .endm\n"
    "    .macro regs_store\n"
    "    csrrw x31, sscratch, x31\n"
    "    .irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, "
    "22, 23, 24, 25, 26, 27, 28, 29, 30\n"
    "    sd x\\n, 8 * \\n(x31)\n"
    "    .endr\n"
    "    csrr x30, sscratch\n"
    "    sd x30, 248(x31)\n"
    "    sd x31, 0(x31)\n"
    "    li x30, " XSTR(ID_VA) "\n"
    "    ld x30, 0(x30)\n"
    "    sd x30, 8 * " XSTR(SLOT_ID) "(x31)\n"
    "    .endm\n"
    "    .balign 4\n"
    "    .globl regs_yield\n"
    "regs_yield:\n"
    "    regs_host_op sd\n"
    "    regs_fill\n"
    "    ecall\n"
    "    regs_store\n"
    "    regs_host_op ld\n"
    "    ret\n"
    "    .globl regs_spin\n"
    "regs_spin:\n"
    "    regs_host_op sd\n"
    "    regs_fill\n"
    "1:  csrr x30, time\n"
    "    bltu x30, x31, 1b\n"
    "    regs_store\n"
    "    regs_host_op ld\n"
    "    ret\n"
    "    .balign 256\n"
    "    .globl regs_trap_table\n"
    "regs_trap_table:\n"
    "    .option push\n"
    "    .option norvc\n"
    "    .rept " XSTR(TRAP_SLOTS) "\n"
    "    j regs_bad_trap\n"
    "    .endr\n"
    "    .option pop\n"
    "regs_bad_trap:\n"
    "    la sp, _stack_top\n"
    "    call regs_trap\n");

/** Any trap while the test runs (its registers are patterns): report and fail. */
void regs_trap(void) __attribute__((noreturn, used));
void regs_trap(void)
{
    uint64_t cause = csr_read(scause), epc = csr_read(sepc), tval = csr_read(stval);
    csr_write(satp, 0);
    kprintf("regs: FAIL unexpected trap: scause 0x%lx sepc 0x%lx stval 0x%lx\n", cause, epc,
            tval);
    kshutdown(1);
}

/** splitmix64 (a bijective mixer): the pattern of one register, CSR or round. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t pattern(unsigned round, enum phase ph, unsigned what)
{
    return mix((vm_id << 32) | ((uint64_t)round << 16) | ((uint64_t)ph << 12) | what);
}

static void fail(unsigned round, enum phase ph, const char *what, uint64_t got, uint64_t exp)
{
    failures++;
    if (reports++ < MAX_REPORTS)
        kprintf("regs: FAIL round %u %s: %s got 0x%lx want 0x%lx\n", round, phase_names[ph],
                what, got, exp);
}

/** Two Sv39 roots mapping guest RAM (gigapage 2) and ID_VA -> id_page (global). */
static void build_tables(void)
{
    const uint64_t leaf = PTE_V | PTE_R | PTE_W | PTE_A | PTE_D;
    id_page[0] = ID_MAGIC | vm_id;
    id_l0[0] = ((uintptr_t)id_page >> 12) << 10 | leaf | PTE_G;
    id_l1[0] = ((uintptr_t)id_l0 >> 12) << 10 | PTE_V;
    for (unsigned r = 0; r < 2; r++) {
        roots[r][boot.mem_base >> 30] = (boot.mem_base >> 12) << 10 | leaf | PTE_X;
        roots[r][(uint64_t)ID_VA >> 30] = ((uintptr_t)id_l1 >> 12) << 10 | PTE_V;
    }
    __asm__ volatile("sfence.vma" ::: "memory");
}

static void csr_put(unsigned which, uint64_t v)
{
    switch (which) {
    case C_SSCRATCH: csr_write(sscratch, v); break;
    case C_STVEC: csr_write(stvec, v); break;
    case C_SATP: csr_write(satp, v); break;
    case C_SEPC: csr_write(sepc, v); break;
    case C_SCAUSE: csr_write(scause, v); break;
    case C_STVAL: csr_write(stval, v); break;
    case C_SIE: csr_write(sie, v); break;
    default:
        csr_clear(sstatus, SSTATUS_TESTED);
        csr_set(sstatus, v & SSTATUS_TESTED);
        break;
    }
}

static uint64_t csr_get(unsigned which)
{
    switch (which) {
    case C_SSCRATCH: return csr_read(sscratch);
    case C_STVEC: return csr_read(stvec);
    case C_SATP: return csr_read(satp);
    case C_SEPC: return csr_read(sepc);
    case C_SCAUSE: return csr_read(scause);
    case C_STVAL: return csr_read(stval);
    case C_SIE: return csr_read(sie);
    default: return csr_read(sstatus) & (SSTATUS_TESTED | MSTATUS_SIE);
    }
}

/** The value CSR `which` gets in (round, phase). */
static uint64_t csr_value(unsigned which, unsigned round, enum phase ph, struct slot *slot)
{
    uint64_t p = pattern(round, ph, 64 + which);
    switch (which) {
    case C_SSCRATCH: return (uintptr_t)slot;
    case C_STVEC: return (uintptr_t)&regs_trap_table[p % TRAP_SLOTS];
    case C_SATP:
        return SATP_MODE_SV39 << VSATP_MODE_SHIFT
             | ((p & 0xffff) << VSATP_ASID_SHIFT & VSATP_ASID)
             | (uintptr_t)roots[(vm_id + round) & 1] >> 12;
    case C_SIE: return p & SIE_TESTED;
    case C_SSTATUS: return p & SSTATUS_TESTED;
    default: return p;
    }
}

/** Compare the slot and the CSRs with what the phase left in them. */
static void check(unsigned round, enum phase ph, struct slot *slot, const uint64_t *csr_want,
                  uint64_t deadline)
{
    if (slot->w[0] != (uintptr_t)slot) {
        fail(round, ph, "sscratch (slot untouched)", slot->w[0], (uintptr_t)slot);
        return;
    }
    for (unsigned i = 1; i < 32; i++) {
        uint64_t exp = want[i], got = slot->w[i];
        if (ph == PH_YIELD && (i == 10 || i == 11))
            exp = 0;
        if (ph == PH_SPIN && i == 30) {
            if (got < deadline)
                fail(round, ph, "t5 (time read, below the deadline)", got, deadline);
            continue;
        }
        if (got != exp)
            fail(round, ph, reg_names[i], got, exp);
    }
    if (slot->w[SLOT_ID] != (ID_MAGIC | vm_id))
        fail(round, ph, "word at ID_VA (a TLB entry of another VM?)", slot->w[SLOT_ID],
             ID_MAGIC | vm_id);
    for (unsigned c = C_STVEC; c < NCSRS; c++) {
        uint64_t got = csr_get(c);
        if (got != csr_want[c])
            fail(round, ph, csr_names[c], got, csr_want[c]);
    }
}

/** One phase of one round; returns whether the hypervisor took exits (spin only). */
static int run_phase(unsigned round, enum phase ph, uint64_t spin_ticks)
{
    struct slot *slot = &slots[(vm_id * 3 + round * 2 + ph) % NSLOTS];
    uint64_t csr_want[NCSRS], deadline = 0;
    for (unsigned i = 0; i < SLOT_WORDS; i++)
        slot->w[i] = POISON;
    for (unsigned i = 1; i < 32; i++)
        want[i] = pattern(round, ph, i);
    for (unsigned c = 0; c < NCSRS; c++) {
        csr_put(c, csr_value(c, round, ph, slot));
        csr_want[c] = csr_get(c);
    }
    int exited = 1;
    if (ph == PH_YIELD) {
        want[17] = SBI_EXT_HVSIM;
        want[16] = SBI_HVSIM_YIELD;
        regs_yield(want);
    } else {
        sbi_hvsim_stats((uintptr_t)&st_before, 0, sizeof st_before);
        deadline = rdtime() + spin_ticks;
        want[31] = deadline;
        regs_spin(want);
        sbi_hvsim_stats((uintptr_t)&st_after, 0, sizeof st_after);
        exited = st_after.exits - st_before.exits >= 2;   /* more than the stats call */
    }
    check(round, ph, slot, csr_want, deadline);
    return exited;
}

int kmain(unsigned long hartid, const void *dtb, unsigned long spin_us, unsigned long rounds)
{
    (void)hartid;
    console_select(CONSOLE_DBCN);
    struct sbiret id = sbi_hvsim_vm_id(), count = sbi_hvsim_vm_count();
    if (id.error || count.error || boot_init(dtb)) {
        kprintf("regs: FAIL: no vm id, vm count or DTB\n");
        return 1;
    }
    vm_id = (uint64_t)id.value;
    spin_us = spin_us ? spin_us : SPIN_US;
    rounds = rounds ? rounds : ROUNDS;
    kprintf("regs: vm %lu of %ld: %lu rounds of yield and %lu us spin, Sv39 on\n", vm_id,
            count.value, rounds, spin_us);
    build_tables();
    uint64_t spin_ticks = us_to_ticks(spin_us);
    unsigned quiet = 0;
    for (unsigned r = 0; r < rounds; r++) {
        run_phase(r, PH_YIELD, 0);
        quiet += !run_phase(r, PH_SPIN, spin_ticks);
        if ((r + 1) % 10 == 0 && !failures)
            kprintf("regs: %u rounds ok\n", r + 1);
    }
    csr_write(satp, 0);
    __asm__ volatile("sfence.vma" ::: "memory");
    if (quiet) {
        failures++;
        kprintf("regs: FAIL %u spins were not interrupted (spin not longer than a budget?)\n",
                quiet);
    }
    if (failures) {
        kprintf("regs: FAIL %u\n", failures);
        return 1;
    }
    kprintf("regs: PASS\n");
    return 0;
}
