/*
 * tlbspy.c: a planted TLB-timing channel (docs/fuzzing.md, "Time protection"; Ge et
 * al., "Time protection", EuroSys 2019, the prime-and-probe covert channel).
 *
 * args[0] = 0, the receiver: it maps SPY_PAGES 4 KiB virtual pages through its own
 * Sv39 table (priv spec 4.4; under a 2 MiB G-stage leaf the TLB keeps one 4 KiB entry
 * per page), and each round touches them (prime), spins reading `time` until a
 * jump of more than GAP ticks shows that it was preempted (so a neighbour ran),
 * then times touching them again with the `time` CSR (probe) and prints the
 * figure. Pages the neighbour evicted from the shared TLB cost a two-stage walk
 * each. args[1] rounds (default ROUNDS).
 *
 * args[0] = 1, the sender: with args[1] = 1 it touches SEND_PAGES pages of its own
 * in a loop (evicting the receiver's entries); with args[1] = 0 it only counts in a
 * register. Either way it never yields and runs with interrupts off until the
 * hypervisor stops it, so both variants take the same CPU time.
 *
 * Without time protection on the `tlbkeep` SoC variant (TLB entries survive an
 * hgatp write), the receiver's probe times differ between the two senders.
 */
#include "klib.h"

#define ROUNDS 6
#define SPY_PAGES 12
#define SEND_PAGES 16
#define PAGES 16
#define GAP 500                         /* ticks: a jump this long is a preemption */
#define WAIT_MAX 100000                 /* ticks: stop waiting (no neighbour is left) */
#define SPY_VA 0x40000000ul             /* gigapage 1: the 4 KiB pages */
#define PTE_RW (PTE_R | PTE_W)
#define PTE_RWX (PTE_R | PTE_W | PTE_X)
#define PTE_AD (PTE_A | PTE_D)
#define SATP_SV39 (8ul << 60)

static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t mid[512] __attribute__((aligned(4096)));
static uint64_t leaf[512] __attribute__((aligned(4096)));
static uint8_t page[4096] __attribute__((aligned(4096)));   /* behind every SPY_VA page */

static uint64_t pte(const void *p, uint64_t bits)
{
    return ((uint64_t)(uintptr_t)p >> 12) << PTE_PPN_SHIFT | PTE_V | bits;
}

/** Guest RAM by identity (gigapage 2); PAGES 4 KiB pages at SPY_VA, all over one
 *  physical page (a TLB entry is per virtual page). */
static void map_pages(void)
{
    root[2] = pte((const void *)0x80000000ul, PTE_RWX | PTE_AD);
    root[1] = pte(mid, 0);
    mid[0] = pte(leaf, 0);
    for (unsigned i = 0; i < PAGES; i++)
        leaf[i] = pte(page, PTE_RW | PTE_AD);
    csr_write(satp, SATP_SV39 | ((uint64_t)(uintptr_t)root >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");
}

static void touch(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        (void)*(volatile uint64_t *)(SPY_VA + i * 4096ul);
}

/** Spin until the `time` CSR jumps by more than GAP (the VM was off the CPU), or
 *  for WAIT_MAX ticks. */
static void wait_preempted(void)
{
    uint64_t start = rdtime();
    for (uint64_t t = start, u; (u = rdtime()) - t <= GAP && u - start < WAIT_MAX; t = u)
        ;
}

static int receive(unsigned long rounds)
{
    kprintf("tlbspy: receiver, %lu rounds over %u pages\n", rounds, SPY_PAGES);
    for (unsigned r = 0; r < rounds; r++) {
        touch(SPY_PAGES);
        wait_preempted();
        uint64_t t0 = rdtime();
        touch(SPY_PAGES);
        uint64_t t1 = rdtime();
        kprintf("tlbspy: round %u probe %lu ticks\n", r, (unsigned long)(t1 - t0));
    }
    return 0;
}

static __attribute__((noreturn)) void send(unsigned long bit)
{
    kprintf("tlbspy: sender, bit %lu\n", bit);
    local_irq_disable();
    if (bit)
        for (;;)
            touch(SEND_PAGES);
    for (uint64_t n = 0;; n++)
        __asm__ volatile("" : "+r"(n));
}

int kmain(unsigned long hartid, const void *dtb, unsigned long role, unsigned long arg)
{
    (void)hartid, (void)dtb;
    console_select(CONSOLE_DBCN);
    map_pages();
    if (role)
        send(arg);
    return receive(arg ? arg : ROUNDS);
}
