/*
 * wild_mem.c: loads, stores, AMOs and instruction fetches all over the address space.
 *
 * Two kinds of wild access, because they end differently:
 * - Guest-virtual (priv spec 12.3 Sv39, 12.3.2 address translation): with Sv39 on and
 *   only its own RAM mapped, every access to an unmapped or non-canonical virtual
 *   address is a page fault (12, 13, 15) that hedeleg delegates to the guest (H spec
 *   9.2.2). The handler checks cause and stval and skips the access, so each life
 *   makes about 240 of them: a 2^34 stride over the 2^39 space and beyond (moved by
 *   2 MiB per life), the upper canonical half, the bytes around its RAM and fixed-seed
 *   xorshift addresses. A second mapping of its RAM at ALIAS_VA then checks that its
 *   own stores, AMOs and loads agree through both names.
 * - Guest-physical (H spec 9.5 two-stage translation, Sv39x4): an access the G-stage
 *   does not map is a guest-page fault taken by the hypervisor, which reports it and
 *   restarts the VM (on_fault = "restart"); nothing survives in its zeroed partition.
 *   So each life ends with exactly one such access, target `life` of `targets`: the
 *   bottom of the space, around the virtual UART (an AMO there, a fetch from it), a
 *   host device address, around and past its RAM, the top of the 2^41 Sv39x4 space
 *   and beyond it, and through VS-stage mappings whose leaf or next-level table lies
 *   outside the partition (an implicit page-table access faults in the G-stage).
 *
 * The life number comes from HVSIM stats: the hypervisor's SBI call count of the VM
 * survives restarts (docs/hypervisor.md, "Statistics"), and every life makes exactly
 * CALLS_PER_LIFE calls before its fatal access. A life past the last target prints
 * PASS and shuts down, so a scenario with max_restarts >= the number of targets ends
 * cleanly. Every line it prints is deterministic, as is every fault report.
 */
#include "klib.h"

#define CALLS_PER_LIFE 3u
#define PTE_LEAF (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define SATP_SV39 (8ull << 60)
#define PAGE 4096ull
#define MEGA (1ull << 21)
#define GIGA (1ull << 30)
#define ALIAS_VA (1ull << 37)
#define STRIDE_PROBES 32u
#define HIGH_PROBES 8u
#define RANDOM_PROBES 16u
#define BUF_WORDS 512u

enum kind { K_LOAD, K_STORE, K_AMO, K_FETCH, NKINDS };
enum via { BARE, VS_LEAF, VS_TABLE };

struct target {
    enum kind kind;
    enum via via;
    uint64_t gpa;       /* what the G-stage sees (for VS_TABLE: the next-level table) */
    uint64_t va;        /* the address accessed, for VS_LEAF and VS_TABLE */
    const char *what;
};

typedef void (*fetch_fn)(void);

static const char *const kind_name[NKINDS] = { "load", "store", "amo", "fetch" };
static const uint64_t want_cause[NKINDS] = {
    CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT,
    CAUSE_FETCH_PAGE_FAULT,
};

/* The fatal targets; RAM_END_MARK stands for the first byte past its RAM. */
#define RAM_END_MARK 1ull
static const struct target targets[] = {
    { K_LOAD, BARE, 0x0, 0, "bottom of the guest-physical space" },
    { K_STORE, BARE, UART0_BASE - 8, 0, "just below the virtual UART" },
    { K_AMO, BARE, UART0_BASE, 0, "AMO on the virtual UART" },
    { K_FETCH, BARE, UART0_BASE, 0, "fetch from the virtual UART" },
    { K_LOAD, BARE, UART0_BASE + PAGE, 0, "just above the virtual UART page" },
    { K_STORE, BARE, CLINT_BASE, 0, "the host CLINT's address" },
    { K_LOAD, BARE, RAM_BASE - 8, 0, "just below its RAM" },
    { K_STORE, BARE, RAM_END_MARK, 0, "just past its RAM" },
    { K_AMO, BARE, 1ull << 32, 0, "4 GiB" },
    { K_FETCH, BARE, (1ull << 41) - PAGE, 0, "top page of the Sv39x4 space" },
    { K_LOAD, BARE, 1ull << 41, 0, "first byte past the Sv39x4 space" },
    { K_STORE, BARE, ~7ull, 0, "top of the 64-bit space" },
    { K_STORE, VS_LEAF, CLINT_BASE, GIGA + CLINT_BASE, "VS leaf onto the host CLINT's address" },
    { K_LOAD, VS_LEAF, 1ull << 50, 3 * GIGA, "VS leaf onto guest-physical 2^50" },
    { K_LOAD, VS_TABLE, GIGA, 4 * GIGA, "VS page table outside its RAM" },
    { K_FETCH, VS_TABLE, 4 * GIGA, 5 * GIGA, "fetch through a VS page table outside its RAM" },
};
#define NTARGETS (sizeof targets / sizeof targets[0])

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t ram_l1[512] __attribute__((aligned(4096)));
static uint64_t ram_l0[512] __attribute__((aligned(4096)));
static uint64_t alias_l1[512] __attribute__((aligned(4096)));
static uint64_t buf[BUF_WORDS] __attribute__((aligned(4096)));
static uint64_t ram_base, ram_size, rng;

static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t pte(uint64_t pa, uint64_t flags) { return (pa >> 12) << 10 | flags; }

static void satp_set(uint64_t v)
{
    csr_write(satp, v);
    __asm__ volatile("sfence.vma" ::: "memory");
}

/* Sv39 with its RAM mapped at its own address in 4 KiB pages and again at ALIAS_VA
 * (one 2 MiB leaf, of which only the first ram_size bytes are ever touched). */
static void paging_on(void)
{
    for (uint64_t off = 0; off < ram_size && off < MEGA; off += PAGE)
        ram_l0[off / PAGE] = pte(ram_base + off, PTE_LEAF);
    ram_l1[(ram_base >> 21) & 511] = pte((uintptr_t)ram_l0, PTE_V);
    root[ram_base >> 30] = pte((uintptr_t)ram_l1, PTE_V);
    alias_l1[0] = pte(ram_base & ~(MEGA - 1), PTE_LEAF);
    root[(ALIAS_VA >> 30) & 511] = pte((uintptr_t)alias_l1, PTE_V);
    satp_set(SATP_SV39 | ((uintptr_t)root >> 12));
}

static int mapped(uint64_t va)
{
    return va - ram_base < ram_size || va - ALIAS_VA < MEGA;
}

static void access(enum kind k, uint64_t va)
{
    uint64_t v;
    switch (k) {
    case K_LOAD: __asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(va) : "memory"); break;
    case K_STORE: __asm__ volatile("sd %0, 0(%1)" :: "r"(va), "r"(va) : "memory"); break;
    case K_AMO:
        __asm__ volatile("amoor.d %0, %1, (%2)" : "=r"(v) : "r"(1ul), "r"(va) : "memory");
        break;
    default: ((fetch_fn)(uintptr_t)va)(); break;
    }
}

/* One VS-stage probe: 0 if it raised exactly the expected page fault at `va`. */
static int vs_probe(enum kind k, uint64_t va)
{
    unsigned before = faults.count;
    faults.cause = ~0ull;
    access(k, va);
    return faults.count == before + 1 && faults.cause == want_cause[k] && faults.tval == va ? 0 : -1;
}

static int vs_probe_all(uint64_t va, unsigned *count)
{
    va &= ~7ull;
    if (mapped(va))
        return 0;
    for (unsigned k = 0; k < NKINDS; k++) {
        if (vs_probe((enum kind)k, va)) {
            kprintf("wild_mem: FAIL: %s at va 0x%lx: cause %ld tval 0x%lx\n", kind_name[k], va,
                    (long)faults.cause, faults.tval);
            return -1;
        }
        (*count)++;
    }
    return 0;
}

/* The VS-stage sweep of life `life`; the number of faults checked, or -1. */
static long vs_sweep(unsigned life)
{
    unsigned n = 0;
    uint64_t shift = (uint64_t)life * MEGA;
    rng = 0xA5A5F00D00000001ull + life;
    int bad = 0;
    for (unsigned i = 0; i < STRIDE_PROBES && !bad; i++)
        bad = vs_probe_all(((uint64_t)i << 34) + shift, &n);
    for (unsigned i = 0; i < HIGH_PROBES && !bad; i++)
        bad = vs_probe_all((~0ull << 38) + ((uint64_t)i << 35) + shift, &n);
    for (unsigned i = 0; i < RANDOM_PROBES && !bad; i++)
        bad = vs_probe_all(xorshift(), &n);
    if (!bad)
        bad = vs_probe_all(ram_base - 8 - 8 * life, &n) || vs_probe_all(ram_base + ram_size, &n)
              || vs_probe_all(ALIAS_VA + MEGA + 8 * life, &n);
    return bad ? -1 : (long)n;
}

/* Its own memory through both names: stores and AMOs via the alias, loads via RAM. */
static uint64_t alias_check(unsigned life, int *ok)
{
    volatile uint64_t *alias = (volatile uint64_t *)(ALIAS_VA + ((uintptr_t)buf - (ram_base & ~(MEGA - 1))));
    uint64_t sum = 0;
    *ok = 1;
    for (unsigned i = 0; i < BUF_WORDS; i++)
        alias[i] = (uint64_t)i * 0x9E3779B97F4A7C15ull ^ life;
    for (unsigned i = 0; i < BUF_WORDS; i += 7)
        __atomic_fetch_add((uint64_t *)&alias[i], 1, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < BUF_WORDS; i++) {
        uint64_t want = ((uint64_t)i * 0x9E3779B97F4A7C15ull ^ life) + (i % 7 == 0);
        uint64_t got = ((volatile uint64_t *)buf)[i];
        *ok &= got == want;
        sum = (sum << 3 | sum >> 61) ^ got;
    }
    return sum;
}

static uint64_t target_gpa(const struct target *t)
{
    return t->gpa == RAM_END_MARK ? ram_base + ram_size : t->gpa;
}

/* Make the VS-stage mapping target `t` needs and return the address to access. */
static uint64_t prepare(const struct target *t)
{
    if (t->via == BARE) {
        satp_set(0);
        return target_gpa(t);
    }
    uint64_t slot = (t->va >> 30) & 511;
    if (t->via == VS_LEAF)
        root[slot] = pte(target_gpa(t) & ~(GIGA - 1), PTE_LEAF);
    else
        root[slot] = pte(target_gpa(t), PTE_V);
    satp_set(SATP_SV39 | ((uintptr_t)root >> 12));
    return t->va;
}


int kmain(unsigned long hartid, const void *dtb)
{
    (void)hartid;
    unsigned life = life_number(CALLS_PER_LIFE);
    console_select(CONSOLE_DBCN);
    if (boot_init(dtb)) {
        kprintf("wild_mem: FAIL: no usable DTB\n");
        return 1;
    }
    ram_base = boot.mem_base;
    ram_size = boot.mem_size;
    if (life >= NTARGETS) {
        kprintf("wild_mem: life %u: all %u guest-physical targets were contained; PASS\n", life,
                (unsigned)NTARGETS);
        return 0;
    }
    set_exception_handler(skip_exception);
    paging_on();
    long n = vs_sweep(life);
    int ok;
    uint64_t sum = alias_check(life, &ok);
    if (n < 0 || !ok) {
        kprintf("wild_mem: FAIL: life %u: %s\n", life, ok ? "VS-stage sweep" : "alias mismatch");
        return 1;
    }
    kprintf("wild_mem: life %u: %ld VS-stage page faults as expected, memory sum 0x%016lx\n", life,
            n, sum);
    const struct target *t = &targets[life];
    uint64_t gpa = target_gpa(t);
    kprintf("wild_mem: life %u: %s at guest-physical 0x%lx (%s)\n", life, kind_name[t->kind], gpa,
            t->what);
    set_exception_handler(0);
    access(t->kind, prepare(t));
    satp_set(0);
    kprintf("wild_mem: FAIL: life %u: the %s at 0x%lx did not end the VM\n", life,
            kind_name[t->kind], gpa);
    return 1;
}
