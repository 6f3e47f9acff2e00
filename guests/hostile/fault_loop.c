/*
 * fault_loop.c: an endless loop of exceptions the guest handles itself. It turns on
 * Sv39 (priv spec 12.3; one 1 GiB identity leaf over its RAM), then forever: a load,
 * a store, an AMO and a fetch at an unmapped virtual address (page faults 13, 15, 15,
 * 12, delegated to VS by hedeleg: H spec 9.2.2), EBREAK and C.EBREAK (breakpoint 3),
 * C.UNIMP (illegal instruction 2, a 16-bit instruction), a read of hstatus (a virtual
 * instruction exception that the hypervisor forwards as an illegal instruction:
 * docs/hypervisor.md, "vCPUs and exits") and a read of mstatus (illegal instruction).
 * Its handler checks each cause and faulting address and skips the instruction by its
 * length (priv spec 1.5: the low two bits of the first halfword give the length).
 * It never ends by itself: the scenario's watchdog_us stops it. Only the first round
 * is reported, so the transcript does not depend on how long it ran.
 */
#include "klib.h"

#define SATP_SV39 (8ull << 60)
#define GIGA_SHIFT 30
#define HOLE_VA 0x40000000ul

typedef void (*probe_fn)(void);

struct probe {
    const char *what;
    probe_fn fn;
    uint64_t cause;
    int hole;           /* stval must be HOLE_VA */
};

static uint64_t root[512] __attribute__((aligned(4096)));

static void do_load(void) { (void)*(volatile uint64_t *)HOLE_VA; }
static void do_store(void) { *(volatile uint64_t *)HOLE_VA = 1; }
static void do_amo(void)
{
    uint64_t old;
    __asm__ volatile("amoadd.d %0, %1, (%2)" : "=r"(old) : "r"(1ul), "r"(HOLE_VA) : "memory");
}
static void do_fetch(void) { ((void (*)(void))HOLE_VA)(); }
static void do_ebreak(void) { __asm__ volatile("ebreak"); }
static void do_cebreak(void) { __asm__ volatile(".2byte 0x9002"); }
static void do_cunimp(void) { __asm__ volatile(".2byte 0x0000"); }
static void do_hstatus(void) { __asm__ volatile("csrr t0, 0x600" ::: "t0"); }
static void do_mstatus(void) { __asm__ volatile("csrr t0, 0x300" ::: "t0"); }

static const struct probe probes[] = {
    { "load", do_load, CAUSE_LOAD_PAGE_FAULT, 1 },
    { "store", do_store, CAUSE_STORE_PAGE_FAULT, 1 },
    { "amo", do_amo, CAUSE_STORE_PAGE_FAULT, 1 },
    { "fetch", do_fetch, CAUSE_FETCH_PAGE_FAULT, 1 },
    { "ebreak", do_ebreak, CAUSE_BREAKPOINT, 0 },
    { "c.ebreak", do_cebreak, CAUSE_BREAKPOINT, 0 },
    { "c.unimp", do_cunimp, CAUSE_ILLEGAL_INSTRUCTION, 0 },
    { "hstatus", do_hstatus, CAUSE_ILLEGAL_INSTRUCTION, 0 },
    { "mstatus", do_mstatus, CAUSE_ILLEGAL_INSTRUCTION, 0 },
};
#define NPROBES (sizeof probes / sizeof probes[0])

static void paging_on(uint64_t ram_base)
{
    root[ram_base >> GIGA_SHIFT] = (ram_base >> 12) << 10 | PTE_V | PTE_R | PTE_W | PTE_X
                                   | PTE_A | PTE_D;
    csr_write(satp, SATP_SV39 | ((uintptr_t)root >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");
}

/* One probe: 0 if it trapped once with the expected cause (and address). */
static int run_probe(const struct probe *p)
{
    unsigned before = faults.count;
    faults.cause = ~0ull;
    p->fn();
    if (faults.count != before + 1 || faults.cause != p->cause)
        return -1;
    return p->hole && faults.tval != HOLE_VA ? -1 : 0;
}

static int round_once(unsigned long round)
{
    for (unsigned i = 0; i < NPROBES; i++) {
        if (run_probe(&probes[i])) {
            kprintf("fault_loop: FAIL: round %lu %s: cause %ld tval 0x%lx, want cause %lu\n",
                    round, probes[i].what, (long)faults.cause, faults.tval, probes[i].cause);
            return -1;
        }
    }
    return 0;
}

int kmain(unsigned long hartid, const void *dtb)
{
    (void)hartid;
    console_select(CONSOLE_DBCN);
    if (boot_init(dtb)) {
        kprintf("fault_loop: FAIL: no usable DTB\n");
        return 1;
    }
    set_exception_handler(skip_exception);
    paging_on(boot.mem_base);
    kprintf("fault_loop: Sv39 on, faulting forever; each round's causes:\n");
    kprintf("fault_loop:");
    for (unsigned i = 0; i < NPROBES; i++)
        kprintf(" %s %lu", probes[i].what, probes[i].cause);
    kprintf("\n");
    if (round_once(1))
        return 1;
    kprintf("fault_loop: round 1 ok, looping until the watchdog\n");
    for (unsigned long round = 2;; round++)
        if (round_once(round))
            return 1;
}
