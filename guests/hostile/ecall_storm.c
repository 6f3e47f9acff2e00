/*
 * ecall_storm.c: thousands of SBI calls with pseudo-random extension IDs, function IDs
 * and arguments (SBI spec v2.0 chapter 3 "Binary Encoding": a7 = EID, a6 = FID,
 * a0..a5 arguments; a0 = error, a1 = value; every other register is preserved).
 *
 * The extension is one the firmware implements, a legacy ID (chapter 5), another
 * standard one it does not (PMU, SUSP, CPPC, NACL, STA, FWFT), a random 32- or 64-bit
 * value or a known ID with bit 32 set; the function is small or random; each argument
 * is a boundary value (0, 1, -1, 1 << 63, just below and above its RAM, the start of
 * RAM where the hypervisor and the M stage live in host memory, the UART, 2^41) or
 * random, all from a fixed-seed xorshift. Calls that would legitimately end or park
 * the VM (SRST, legacy shutdown, HSM stop and suspend) are turned into invalid ones;
 * calls that would print or write its own memory (DBCN, legacy putchar, HVSIM stats)
 * get a zero length or a scratch buffer instead of an address inside its RAM.
 *
 * Every return must be SBI_SUCCESS or an SBI error code (-1 .. -11), a legacy call's
 * a0 one of its documented values, and a2..a7 and t0..t6 unchanged. Every CHECK_EVERY
 * calls it checks it is itself intact: the same VM id, its code and read-only data
 * unchanged, the guard words around the scratch buffer untouched. The transcript is a
 * deterministic table of outcomes per extension class, then PASS.
 */
#include "klib.h"

#define CALLS 3000
#define CHECK_EVERY 250
#define SBI_ERR_LOWEST (-11L)
#define SCRATCH 64
#define GUARD 0x6775617264ull

enum cls { C_BASE, C_TIME, C_IPI, C_RFENCE, C_HSM, C_SRST, C_DBCN, C_HVSIM, C_LEGACY,
           C_UNIMPL, C_RANDOM, NCLS };
enum outcome { O_OK, O_FAILED, O_NOTSUP, O_PARAM, O_DENIED, O_ADDR, O_AVAIL, O_OTHER, NOUT };

struct call {
    uint64_t ext, fid, a[6];
};

struct regs_after {
    long error, value;
    uint64_t a[4], a6, a7;      /* a2..a5, a6, a7 */
    uint64_t t[7];
};

static const char *const cls_name[NCLS] = {
    "base", "time", "ipi", "rfence", "hsm", "srst", "dbcn", "hvsim", "legacy", "unimpl",
    "random",
};
static const uint64_t known_ext[] = {
    SBI_EXT_BASE, SBI_EXT_TIME, SBI_EXT_IPI, SBI_EXT_RFENCE, SBI_EXT_HSM, SBI_EXT_SRST,
    SBI_EXT_DBCN, SBI_EXT_HVSIM,
};
#define NKNOWN (sizeof known_ext / sizeof known_ext[0])
static const uint64_t unimpl_ext[] = {
    0x504D55, 0x53555350, 0x43505043, 0x4E41434C, 0x535441, 0x46574654, 0x09, 0x0F,
    0x0A000000, 0x0AFFFFFF,
};
#define NUNIMPL (sizeof unimpl_ext / sizeof unimpl_ext[0])
static const uint64_t t_sentinel[7] = {
    0x7101, 0x7102, 0x7103, 0x7104, 0x7105, 0x7106, 0x7107,
};

extern char _text_start[], _data_start[];

static uint64_t rng;
static uint64_t ram_base, ram_end;
static uint64_t guard_lo, scratch[SCRATCH], guard_hi;
static unsigned table[NCLS][NOUT];

static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ecall with every argument register set and t0..t6 holding sentinels; returns all
 * of them as they came back. */
static void raw_ecall(const struct call *c, struct regs_after *out)
{
    register uint64_t a0 __asm__("a0") = c->a[0], a1 __asm__("a1") = c->a[1];
    register uint64_t a2 __asm__("a2") = c->a[2], a3 __asm__("a3") = c->a[3];
    register uint64_t a4 __asm__("a4") = c->a[4], a5 __asm__("a5") = c->a[5];
    register uint64_t a6 __asm__("a6") = c->fid, a7 __asm__("a7") = c->ext;
    register uint64_t t0 __asm__("t0") = t_sentinel[0], t1 __asm__("t1") = t_sentinel[1];
    register uint64_t t2 __asm__("t2") = t_sentinel[2], t3 __asm__("t3") = t_sentinel[3];
    register uint64_t t4 __asm__("t4") = t_sentinel[4], t5 __asm__("t5") = t_sentinel[5];
    register uint64_t t6 __asm__("t6") = t_sentinel[6];
    __asm__ volatile("ecall"
                     : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5), "+r"(a6),
                       "+r"(a7), "+r"(t0), "+r"(t1), "+r"(t2), "+r"(t3), "+r"(t4), "+r"(t5),
                       "+r"(t6)
                     :
                     : "memory");
    *out = (struct regs_after){ (long)a0, (long)a1, { a2, a3, a4, a5 }, a6, a7,
                                { t0, t1, t2, t3, t4, t5, t6 } };
}

static uint64_t boundary(void)
{
    const uint64_t v[] = {
        0, 1, 2, ~0ull, 1ull << 63, (1ull << 63) - 1, 0xFFFFFFFFull, 1ull << 32,
        ram_base - 8, ram_base, ram_base + 1, ram_base + 0x1000, ram_end - 8, ram_end,
        ram_end + 0x1000, UART0_BASE, CLINT_BASE, 1ull << 41, (1ull << 41) - 8,
        (uintptr_t)scratch, (uintptr_t)_text_start,
    };
    return v[xorshift() % (sizeof v / sizeof v[0])];
}

static uint64_t random_arg(void) { return (xorshift() & 3) ? boundary() : xorshift(); }

static uint64_t random_ext(void)
{
    switch (xorshift() % 8) {
    case 0: case 1: case 2: case 3: return known_ext[xorshift() % NKNOWN];
    case 4: return xorshift() % 16;
    case 5: return unimpl_ext[xorshift() % NUNIMPL];
    case 6: return known_ext[xorshift() % NKNOWN] | (1ull << 32);
    default: return (xorshift() & 1) ? (uint32_t)xorshift() : xorshift();
    }
}

static uint64_t random_fid(void)
{
    uint64_t r = xorshift();
    if (r % 4)
        return r % 7;
    return (r & 4) ? xorshift() : (xorshift() % 9) | (1ull << 32);
}

/* Whether [addr, addr + len) touches its RAM (the hypervisor would use it). */
static int in_ram(uint64_t addr, uint64_t len)
{
    uint64_t end = addr + (len ? len : 1);
    if (end < addr)
        end = UINT64_MAX;
    return addr < ram_end && end > ram_base;
}

/* Whether DBCN or HVSIM stats could touch the guest's RAM with the address pair
 * (lo, hi): SBI 12.1 makes hi the upper XLEN bits, so only hi == 0 reaches memory;
 * lo | hi << 32 is refused too, in case a firmware reads the pair the RV32 way. */
static int addr_pair_in_ram(uint64_t lo, uint64_t hi, uint64_t len)
{
    return in_ram(lo, len) || in_ram(lo | (hi << 32), len);
}

/* Turn calls that would end, park, print or scribble into harmless variants. */
static void sanitize(struct call *c)
{
    uint64_t *a = c->a;
    switch (c->ext) {
    case SBI_EXT_SRST:
        if (c->fid == SBI_SRST_SYSTEM_RESET)
            a[0] |= 4;
        break;
    case SBI_EXT_HSM:
        if (c->fid == SBI_HSM_HART_STOP)
            c->fid = SBI_HSM_HART_GET_STATUS;
        if (c->fid == SBI_HSM_HART_SUSPEND && ((uint32_t)a[0] == 0 ||
                                                (uint32_t)a[0] == SBI_HSM_SUSPEND_NON_RETENTIVE))
            a[0] = 1;           /* suspend_type is 32 bits (SBI 3): the rest is ignored */
        break;
    case SBI_EXT_DBCN:
        if (c->fid == SBI_DBCN_WRITE_BYTE)
            c->fid = 0x100;
        else if (c->fid == SBI_DBCN_WRITE && addr_pair_in_ram(a[1], a[2], a[0]))
            a[0] = 0;
        else if (c->fid == SBI_DBCN_READ && addr_pair_in_ram(a[1], a[2], a[0]))
            a[1] = (uintptr_t)scratch, a[2] = 0, a[0] %= sizeof scratch;
        break;
    case SBI_EXT_HVSIM:
        if (c->fid == SBI_HVSIM_STATS && addr_pair_in_ram(a[0], a[1], 48))
            a[0] = (uintptr_t)scratch, a[1] = 0;
        break;
    case 0x01:
        c->ext = 0x03;
        break;
    case 0x08:
        c->ext = 0x07;
        break;
    default:
        break;
    }
}

static enum cls classify(uint64_t ext)
{
    for (unsigned i = 0; i < NKNOWN; i++)
        if (ext == known_ext[i])
            return (enum cls)i;
    if (ext <= 0x0F)
        return C_LEGACY;        /* SBI 5: the legacy range is 0x00..0x0F */
    for (unsigned i = 0; i < NUNIMPL; i++)
        if (ext == unimpl_ext[i])
            return C_UNIMPL;
    return C_RANDOM;
}

static enum outcome outcome_of(long error)
{
    return error > 0 || error < SBI_ERR_LOWEST ? O_OTHER
           : error >= -6                      ? (enum outcome)-error
                                               : O_OTHER;
}

/* What is wrong with the registers after call `c`, or NULL. */
static const char *check_regs(const struct call *c, const struct regs_after *r, enum cls k)
{
    for (unsigned i = 0; i < 4; i++)
        if (r->a[i] != c->a[2 + i])
            return "a2..a5 clobbered";
    if (r->a6 != c->fid || r->a7 != c->ext)
        return "a6/a7 clobbered";
    for (unsigned i = 0; i < 7; i++)
        if (r->t[i] != t_sentinel[i])
            return "t0..t6 clobbered";
    if (k == C_LEGACY) {
        long v = r->error;
        if (c->ext == 0x02 ? v < -1 || v > 255 : v != 0 && v != SBI_ERR_NOT_SUPPORTED)
            return "legacy a0 out of range";
        return 0;
    }
    if (r->error > 0 || r->error < SBI_ERR_LOWEST)
        return "error is not an SBI error code";
    if (k >= C_UNIMPL && r->error != SBI_ERR_NOT_SUPPORTED)
        return "unknown extension not NOT_SUPPORTED";
    return 0;
}

static uint64_t image_sum(void)
{
    uint64_t s = 0;
    for (const uint64_t *p = (const uint64_t *)_text_start; p < (const uint64_t *)_data_start; p++)
        s = (s << 7 | s >> 57) ^ *p;
    return s;
}

/* Still itself: 0, or what changed. */
static const char *alive(long vm_id, uint64_t sum)
{
    struct sbiret id = sbi_hvsim_vm_id();
    if (id.error || id.value != vm_id)
        return "VM id changed";
    if (image_sum() != sum)
        return "code or read-only data changed";
    if (guard_lo != GUARD || guard_hi != GUARD)
        return "memory around the scratch buffer changed";
    return 0;
}

static void print_table(void)
{
    kprintf("ecall_storm: %-7s %5s %5s %5s %5s %5s %5s %5s\n", "class", "ok", "fail", "nosup",
            "param", "addr", "avail", "other");
    for (unsigned k = 0; k < NCLS; k++)
        kprintf("ecall_storm: %-7s %5u %5u %5u %5u %5u %5u %5u\n", cls_name[k], table[k][O_OK],
                table[k][O_FAILED], table[k][O_NOTSUP], table[k][O_PARAM], table[k][O_ADDR],
                table[k][O_AVAIL], table[k][O_OTHER] + table[k][O_DENIED]);
}

int kmain(unsigned long hartid, const void *dtb)
{
    (void)hartid;
    console_select(CONSOLE_DBCN);
    if (boot_init(dtb)) {
        kprintf("ecall_storm: FAIL: no usable DTB\n");
        return 1;
    }
    ram_base = boot.mem_base;
    ram_end = boot.mem_base + boot.mem_size;
    rng = 0x9E3779B97F4A7C15ull;
    guard_lo = guard_hi = GUARD;
    struct sbiret id = sbi_hvsim_vm_id();
    uint64_t sum = image_sum();
    kprintf("ecall_storm: %u SBI calls with random IDs and arguments\n", CALLS);
    for (unsigned n = 1; n <= CALLS; n++) {
        struct call c = { random_ext(), random_fid(), { 0 } };
        for (unsigned i = 0; i < 6; i++)
            c.a[i] = random_arg();
        sanitize(&c);
        struct regs_after r;
        raw_ecall(&c, &r);
        enum cls k = classify(c.ext);
        const char *bad = check_regs(&c, &r, k);
        if (!bad && n % CHECK_EVERY == 0)
            bad = alive(id.value, sum);
        if (bad) {
            kprintf("ecall_storm: FAIL: call %u ext 0x%lx fid 0x%lx: %s (a0 %ld)\n", n, c.ext,
                    c.fid, bad, r.error);
            return 1;
        }
        table[k][k == C_LEGACY ? O_OK : outcome_of(r.error)]++;
    }
    print_table();
    kprintf("ecall_storm: PASS\n");
    return 0;
}
