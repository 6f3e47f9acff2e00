/*
 * gstage.c: one Sv39x4 G-stage table per VM (H spec 9.5.1, "Guest physical
 * address translation"): a 16 KiB root indexed by GPA[40:30], then Sv39 levels.
 * It maps exactly the VM's partition at guest-physical 0x8000_0000, with 2 MiB
 * leaves where the partition allows and 4 KiB leaves elsewhere. Nothing else is
 * mapped, so the virtual UART page and every other address fault to the
 * hypervisor. Leaves are U=1 (required for G-stage) and pre-set A/D (Svade).
 */
#include "csr.h"
#include "hv.h"

#define PTE_LEAF (PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D)
#define PAGE 4096ull
#define MEGA (2ull << 20)
#define ROOT_ENTRIES 2048
#define TABLE_ENTRIES 512
#define POOL_TABLES 48

/* In .noinit: boot does not clear them (320 KiB); every table is zeroed when used. */
static uint64_t roots[HV_MAX_VMS][ROOT_ENTRIES]
    __attribute__((aligned(16384), section(".noinit.gstage_roots")));
static uint64_t pool[POOL_TABLES][TABLE_ENTRIES]
    __attribute__((aligned(4096), section(".noinit.gstage_pool")));
static unsigned pool_used;
static unsigned vmid_bits = 64;     /* probed: hgatp.VMID is WARL (H spec 9.2.10) */

static uint64_t pte_table(const void *t) { return (((uintptr_t)t >> 12) << 10) | PTE_V; }
static uint64_t *pte_next(uint64_t pte) { return (uint64_t *)(uintptr_t)((pte >> 10) << 12); }

/** The next-level table under `*pte`, allocated from the pool; NULL when full. */
static uint64_t *table_under(uint64_t *pte)
{
    if (*pte & PTE_V)
        return pte_next(*pte);
    if (pool_used == POOL_TABLES)
        return NULL;
    uint64_t *t = pool[pool_used++];
    hv_memset(t, 0, PAGE);
    *pte = pte_table(t);
    return t;
}

/** Map [gpa, gpa + size) to [hpa, ...) with the largest leaves that fit. */
static int map_range(uint64_t *root, uint64_t gpa, uint64_t hpa, uint64_t size)
{
    while (size) {
        uint64_t *l1 = table_under(&root[(gpa >> 30) & (ROOT_ENTRIES - 1)]);
        if (!l1)
            return -1;
        uint64_t *pte = &l1[(gpa >> 21) & (TABLE_ENTRIES - 1)];
        uint64_t step = MEGA;
        if ((gpa | hpa) & (MEGA - 1) || size < MEGA) {
            uint64_t *l0 = table_under(pte);
            if (!l0)
                return -1;
            pte = &l0[(gpa >> 12) & (TABLE_ENTRIES - 1)];
            step = PAGE;
        }
        *pte = ((hpa >> 12) << 10) | PTE_LEAF;
        gpa += step, hpa += step, size -= step;
    }
    return 0;
}

/** Number of implemented VMID bits (write all ones with MODE = Bare, read back). */
static unsigned probe_vmid_bits(void)
{
    csr_write(CSR_HGATP, HGATP_VMID);
    uint64_t v = (csr_read(CSR_HGATP) & HGATP_VMID) >> HGATP_VMID_SHIFT;
    csr_write(CSR_HGATP, 0);
    unsigned n = 0;
    while (v & 1)
        n++, v >>= 1;
    return n;
}

/** Build the G-stage table of `vm`; -1 when the table pool is exhausted. */
int gstage_build(struct vm *vm)
{
    if (vmid_bits == 64)
        vmid_bits = probe_vmid_bits();
    vm->gpt = roots[vm->index];
    hv_memset(vm->gpt, 0, sizeof roots[0]);
    vm->vmid = (vm->index + 1) < (1ull << vmid_bits) ? vm->index + 1 : 0;
    return map_range(vm->gpt, GUEST_RAM_BASE, vm->cfg->base, vm->cfg->size);
}

/** hgatp of `vm`: Sv39x4, its VMID, its root. */
uint64_t gstage_hgatp(const struct vm *vm)
{
    return (8ull << HGATP_MODE_SHIFT) | (vm->vmid << HGATP_VMID_SHIFT)
         | ((uintptr_t)vm->gpt >> 12);
}

/** Whether switching between VMs needs a full G-stage fence (too few VMID bits). */
int gstage_shared_vmid(void)
{
    return hv_nvms + 1 > (1ull << vmid_bits);
}
