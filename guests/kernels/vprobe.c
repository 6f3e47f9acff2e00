/*
 * vprobe.c: a deterministic prober of its own vCPU state, the victim of the isolation
 * fuzzer's noninterference property (docs/fuzzing.md). It never reads `time`, `cycle`
 * or anything else that depends on the schedule, so its whole architectural trace must
 * be the same whatever its neighbour does (issue 7, "Confidentiality").
 *
 * Each round it writes patterns to the VS CSRs a guest owns (sscratch, sie, sstatus.SUM
 * and MXR, satp: priv spec 12.1) and to s1-s11, gp and tp, spins a fixed number of iterations long
 * enough for the hypervisor's timer to preempt it (it never waits, so the availability
 * property applies to it), with args[0] = 1 also across an HVSIM yield (a switch
 * from the SBI fast path), checks that sip shows no interrupt it never asked for, takes
 * a breakpoint
 * through its own stvec (priv spec 12.1.2; the exception is delegated to VS by hedeleg,
 * H spec 9.2.2, so it also checks vstvec, vsepc and vscause), reads everything back
 * and reads a page through its Sv39 alias. Any difference is a failed check. It prints
 * one line per round (args[1] rounds, default ROUNDS) with a checksum of what it read,
 * then "vprobe: PASS".
 */
#include "klib.h"

#define ROUNDS 8                        /* default; args[1] sets it */
#define SPIN 4000
#define ALIAS_VA 0x40000000ul           /* gigapage 1 maps guest RAM again */
#define PTE_RWX 0xeul
#define PTE_AD 0xc0ul
#define SATP_SV39 (8ul << 60)

static uint64_t root[512] __attribute__((aligned(4096)));
static volatile uint64_t marker = 0x600dcafe0000beefull;
static volatile unsigned breaks;
static unsigned n_fail;
static int yields;

static int on_exception(struct trap_frame *f)
{
    if (f->scause != CAUSE_BREAKPOINT)
        return 0;
    breaks++;
    f->sepc += insn_len_at(f->sepc);
    return 1;
}

static uint64_t pattern(unsigned round, unsigned what)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (round * 64 + what + 1);
    return x ^ (x >> 29);
}

/* One check of the held registers: set `bit` in %0 unless `reg` still holds the
 * pattern at byte `off` of the pattern array (t2). */
#define HOLD_CHECK(off, reg, bit) \
    "ld t1, " #off "(t2)\n beq t1, " #reg ", 2f\n li t1, " #bit "\n or %0, %0, t1\n2:\n"

/* Load s1-s11, gp and tp with patterns p[1..13], spin `n` iterations (the hypervisor's
 * timer preempts it), then yield through HVSIM if `yield` (a switch from the SBI fast
 * path), and return a mask of the registers that changed (bit k: p[k]). s0 is left
 * alone: it is the frame pointer; gp and tp are restored before returning. */
static uint64_t hold_patterns(const uint64_t *p, unsigned n, int yield)
{
    uint64_t bad;
    __asm__ volatile(
        "mv t2, %1\n mv t3, %2\n mv t4, gp\n mv t5, tp\n"
        "ld s1, 8(t2)\n ld s2, 16(t2)\n ld s3, 24(t2)\n ld s4, 32(t2)\n ld s5, 40(t2)\n"
        "ld s6, 48(t2)\n ld s7, 56(t2)\n ld s8, 64(t2)\n ld s9, 72(t2)\n ld s10, 80(t2)\n"
        "ld s11, 88(t2)\n ld gp, 96(t2)\n ld tp, 104(t2)\n"
        "beqz t3, 3f\n1: addi t3, t3, -1\n bnez t3, 1b\n3:\n"
        "beqz %3, 4f\n li a7, %4\n li a6, %5\n ecall\n4:\n"
        "li %0, 0\n"
        HOLD_CHECK(8, s1, 2) HOLD_CHECK(16, s2, 4) HOLD_CHECK(24, s3, 8)
        HOLD_CHECK(32, s4, 16) HOLD_CHECK(40, s5, 32) HOLD_CHECK(48, s6, 64)
        HOLD_CHECK(56, s7, 128) HOLD_CHECK(64, s8, 256) HOLD_CHECK(72, s9, 512)
        HOLD_CHECK(80, s10, 1024) HOLD_CHECK(88, s11, 2048) HOLD_CHECK(96, gp, 4096)
        HOLD_CHECK(104, tp, 8192)
        "mv gp, t4\n mv tp, t5\n"
        : "=&r"(bad)
        : "r"(p), "r"((uint64_t)n), "r"((uint64_t)yield), "i"(SBI_EXT_HVSIM),
          "i"(SBI_HVSIM_YIELD)
        : "t1", "t2", "t3", "t4", "t5", "a0", "a1", "a6", "a7", "s1", "s2", "s3", "s4", "s5",
          "s6", "s7", "s8", "s9", "s10", "s11", "memory");
    return bad;
}

static void check(unsigned round, const char *what, uint64_t got, uint64_t want)
{
    if (got != want) {
        n_fail++;
        kprintf("vprobe: round %u: %s is 0x%lx, want 0x%lx\n", round, what, got, want);
    }
}

static void map_tables(void)
{
    for (unsigned i = 0; i < 512; i++)
        root[i] = 0;
    root[2] = (0x80000000ul >> 12) << 10 | PTE_V | PTE_RWX | PTE_AD;   /* identity */
    root[1] = (0x80000000ul >> 12) << 10 | PTE_V | PTE_RWX | PTE_AD;   /* ALIAS_VA */
}

static uint64_t one_round(unsigned r)
{
    uint64_t regs[14], sum = 0;
    uint64_t scratch = pattern(r, 20), sie = (r & 1) ? 0x20 : 0x2;
    uint64_t mstatus_bits = (r & 2 ? MSTATUS_SUM : 0) | (r & 4 ? MSTATUS_MXR : 0);
    uint64_t satp = (r & 1) ? SATP_SV39 | ((uint64_t)(uintptr_t)root >> 12) : 0;
    for (unsigned k = 0; k < 14; k++)
        regs[k] = pattern(r, k);
    csr_write(sscratch, scratch);
    csr_write(sie, sie);
    csr_clear(sstatus, MSTATUS_SUM | MSTATUS_MXR);
    csr_set(sstatus, mstatus_bits);
    csr_write(satp, satp);
    __asm__ volatile("sfence.vma" ::: "memory");
    check(r, "held registers (mask)", hold_patterns(regs, SPIN, 0), 0);
    if (yields) {
        uint64_t other[14];             /* not what a preemption in the spin saved */
        for (unsigned k = 0; k < 14; k++)
            other[k] = pattern(r, 32 + k);
        check(r, "held registers across a yield (mask)", hold_patterns(other, 0, 1), 0);
    }
    check(r, "sip (it asked for no interrupt)", csr_read(sip), 0);
    unsigned before = breaks;
    __asm__ volatile("ebreak");
    check(r, "breakpoints taken", breaks - before, 1);
    check(r, "sscratch", csr_read(sscratch), scratch);
    check(r, "sie", csr_read(sie), sie);
    check(r, "sstatus.SUM/MXR", csr_read(sstatus) & (MSTATUS_SUM | MSTATUS_MXR), mstatus_bits);
    check(r, "satp", csr_read(satp), satp);
    if (satp) {
        volatile uint64_t *alias = (volatile uint64_t *)(ALIAS_VA + ((uintptr_t)&marker -
                                                                     0x80000000ul));
        check(r, "the Sv39 alias", *alias, marker);
        sum ^= *alias;
    }
    for (unsigned k = 0; k < 14; k++)
        sum = sum * 31 + regs[k];
    return sum ^ scratch ^ sie ^ satp ^ mstatus_bits;
}

int kmain(unsigned long hartid, const void *dtb, unsigned long yield_each_round,
          unsigned long rounds)
{
    (void)hartid, (void)dtb;
    yields = yield_each_round != 0;
    if (rounds == 0)
        rounds = ROUNDS;
    console_select(CONSOLE_DBCN);
    set_exception_handler(on_exception);
    map_tables();
    kprintf("vprobe: %lu rounds of vCPU state patterns\n", rounds);
    for (unsigned r = 0; r < rounds; r++)
        kprintf("vprobe: round %u checksum 0x%lx\n", r, one_round(r));
    csr_write(satp, 0);
    __asm__ volatile("sfence.vma" ::: "memory");
    if (n_fail) {
        kprintf("vprobe: FAIL %u\n", n_fail);
        return 1;
    }
    kprintf("vprobe: PASS\n");
    return 0;
}
