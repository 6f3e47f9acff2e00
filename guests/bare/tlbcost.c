/*
 * tlbcost.c: measures the cycle cost of address translation on the model (for
 * `hvsim bench`; docs/mmu.md "Cycle costs"). M-mode loads with mstatus.MPRV use the
 * translation of MPP (and, with the H extension, MPV), so each case is one timed load
 * between two reads of mcycle, minus the same sequence without translation:
 *
 *   hit            the load again, its translation in the TLB;
 *   s_miss         Sv39, 4 KiB page, after SFENCE.VMA (privileged spec 4.3.2);
 *   two_stage_miss Sv39 over Sv39x4, 4 KiB pages in both stages, after HFENCE.GVMA
 *                  (hypervisor extension, two-stage translation: up to 15 PTE reads);
 *   g_only_miss    vsatp Bare, Sv39x4 4 KiB, after HFENCE.GVMA.
 *
 * The guest-physical layout is the identity on the pages it uses. Prints one line
 * "tlbcost: ..." and passes through tohost; a case whose loaded value is wrong fails.
 */
#include "hvlib.h"

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define MSTATUS_MPP (3UL << 11)
#define MSTATUS_MPP_S (1UL << 11)
#define MSTATUS_MPRV (1UL << 17)
#define MSTATUS_MPV (1UL << 39)
#define ATP_SV39 (8UL << 60)
#define MARK 0x5eed1234abcd0077UL
/* The virtual address of the data page: VPN[2] = 1, VPN[1] = 1, VPN[0] = 3. */
#define VA ((1UL << 30) | (1UL << 21) | (3UL << 12) | 0x40)

static u64 vs_root[512] __attribute__((aligned(4096)));
static u64 vs_l1[512] __attribute__((aligned(4096)));
static u64 vs_l0[512] __attribute__((aligned(4096)));
static u64 data_page[512] __attribute__((aligned(4096)));
#if HAS_H
static u64 g_root[2048] __attribute__((aligned(16384)));
static u64 g_l1[512] __attribute__((aligned(4096)));
static u64 g_l0[512] __attribute__((aligned(4096)));
#endif

static u64 pte(const void *pa, u64 flags)
{
    return ((u64)pa >> 12) << 10 | flags;
}

#define CSR_WRITE(csr, v) __asm__ volatile("csrw " #csr ", %0" ::"r"(v) : "memory")
#define CSR_SET(csr, v) __asm__ volatile("csrs " #csr ", %0" ::"r"(v) : "memory")
#define CSR_CLEAR(csr, v) __asm__ volatile("csrc " #csr ", %0" ::"r"(v) : "memory")

/* Cycles of "csrr mcycle; ld; csrr mcycle" with MPRV set around the load only. */
static u64 timed_load(u64 addr, u64 mprv, u64 *value)
{
    u64 t0, t1, v;
    __asm__ volatile("csrs mstatus, %4\n\t"
                     "csrr %0, mcycle\n\t"
                     "ld %1, 0(%3)\n\t"
                     "csrr %2, mcycle\n\t"
                     "csrc mstatus, %4"
                     : "=&r"(t0), "=&r"(v), "=&r"(t1)
                     : "r"(addr), "r"(mprv)
                     : "memory");
    *value = v;
    return t1 - t0;
}

static int failures;

static u64 cost(u64 addr, u64 mprv, u64 base)
{
    u64 v;
    u64 c = timed_load(addr, mprv, &v);
    failures += v != MARK;
    return c - base;
}

#if HAS_H
/* G-stage identity map of the 4 KiB page holding ``p`` (all pages share one 2 MiB
   region, checked). */
static void g_map(const void *p)
{
    u64 a = (u64)p;
    u64 i2 = (a >> 30) & 0x7ff, i1 = (a >> 21) & 0x1ff, i0 = (a >> 12) & 0x1ff;
    if (g_root[i2] && g_root[i2] != pte(g_l1, PTE_V))
        failures++;
    if (g_l1[i1] && g_l1[i1] != pte(g_l0, PTE_V))
        failures++;
    g_root[i2] = pte(g_l1, PTE_V);
    g_l1[i1] = pte(g_l0, PTE_V);
    g_l0[i0] = pte(p, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
}
#endif

int main(void)
{
    u64 v;
    data_page[VA % 4096 / 8] = MARK;
    vs_root[1] = pte(vs_l1, PTE_V);
    vs_l1[1] = pte(vs_l0, PTE_V);
    vs_l0[3] = pte(data_page, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    CSR_CLEAR(mstatus, MSTATUS_MPP | MSTATUS_MPRV);
    CSR_SET(mstatus, MSTATUS_MPP_S);

    u64 base = timed_load((u64)&data_page[VA % 4096 / 8], 0, &v);
    failures += v != MARK;

    CSR_WRITE(satp, ATP_SV39 | ((u64)vs_root >> 12));
    __asm__ volatile("sfence.vma" ::: "memory");
    u64 s_miss = cost(VA, MSTATUS_MPRV, base);
    u64 hit = cost(VA, MSTATUS_MPRV, base);
    CSR_WRITE(satp, 0UL);

    long two_miss = -1, g_miss = -1, v_hit = -1;
#if HAS_H
    const void *pages[] = {vs_root, vs_l1, vs_l0, data_page};
    for (unsigned i = 0; i < 4; i++)
        g_map(pages[i]);
    CSR_WRITE(0x280, ATP_SV39 | ((u64)vs_root >> 12)); /* vsatp */
    CSR_WRITE(0x680, ATP_SV39 | ((u64)g_root >> 12));  /* hgatp */
    __asm__ volatile(".word 0x62000073\n\t.word 0x22000073" ::: "memory"); /* hfence.gvma, hfence.vvma */
    two_miss = (long)cost(VA, MSTATUS_MPRV | MSTATUS_MPV, base);
    v_hit = (long)cost(VA, MSTATUS_MPRV | MSTATUS_MPV, base);
    CSR_WRITE(0x280, 0UL);
    __asm__ volatile(".word 0x62000073" ::: "memory");
    g_miss = (long)cost((u64)&data_page[VA % 4096 / 8], MSTATUS_MPRV | MSTATUS_MPV, base);
    CSR_WRITE(0x680, 0UL);
#endif
    hv_printf("tlbcost: base %d hit %d s_miss %d two_stage_miss %d two_stage_hit %d "
              "g_only_miss %d failures %d\n", (int)base, (int)hit, (int)s_miss, (int)two_miss,
              (int)v_hit, (int)g_miss, failures);
    hv_exit(failures != 0);
}
