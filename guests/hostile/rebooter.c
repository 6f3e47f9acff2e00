/*
 * rebooter.c: a guest that reboots itself through SBI SRST system_reset (SBI spec
 * v2.0 chapter 10), alternating cold and warm reboots. The hypervisor restarts the VM
 * from its image with a zeroed partition and counts each reboot against max_restarts;
 * past the limit the VM ends in state reset-limit (docs/hypervisor.md, "SBI" and
 * "Fault containment").
 *
 * Nothing survives in its memory, so it learns its life number from HVSIM stats: the
 * hypervisor's count of the VM's SBI calls survives restarts, and every life makes
 * exactly CALLS_PER_LIFE calls. Each life first checks that it sees none of its old
 * life's VS-stage translations: with Sv39 on (priv spec 12.4; ASID 0 every life, no
 * sfence.vma before the read) VA 0xc0000000 must read page A in even lives and page B
 * in odd ones, as the hypervisor fences HFENCE.VVMA when it restarts a VM (H spec,
 * "Hypervisor Memory-Management Fence Instructions"; a satp write flushes the TLB on
 * the default SoC and on Spike, so only the tlbkeep SoC shows a missing fence). Then it
 * checks that its partition really was cleared (a marker it stores past its image
 * before rebooting must read 0), that its initialised data was reloaded and that its
 * vCPU was reset (the sscratch and sie it sets before rebooting must read 0:
 * docs/hypervisor.md, "a restart zeroes the partition and the vCPU"), tries two
 * invalid resets (reset type 3, reason 2: INVALID_PARAM, SBI 10.1), then reboots. With
 * a2 = N > 0 (the VM's args) it stops after N reboots and shuts down with PASS; with no
 * args it reboots until the hypervisor's max_restarts stops it.
 */
#include "klib.h"

#define CALLS_PER_LIFE 5u
#define MARKER 0x5245424F4F54ull
#define MARK_GAP 4096u
#define PAGE 4096u
#define PT_ENTRIES 512u
#define GIGA_SHIFT 30
#define IMAGE_VA 0x80000000ul
#define PROBE_VA 0xc0000000ul
#define SATP_SV39 (8ull << VSATP_MODE_SHIFT)
#define PTE_LEAF_RW (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)
#define SIE_SSIE (1ul << 1)

extern char _end[];

static volatile uint64_t reloaded = MARKER;

/* Sv39 (priv spec 12.4): root, level-1 and level-0 tables, and the two data pages that
 * PROBE_VA maps to in even and odd lives. */
static uint64_t pt_root[PT_ENTRIES] __attribute__((aligned(PAGE)));
static uint64_t pt_l1[PT_ENTRIES] __attribute__((aligned(PAGE)));
static uint64_t pt_l0[PT_ENTRIES] __attribute__((aligned(PAGE)));
static volatile uint64_t probe_pages[2][PAGE / 8] __attribute__((aligned(PAGE)));
static const uint64_t probe_value[2] = {0x5041474541ull, 0x5041474542ull};

static uint64_t pte_to(uintptr_t pa, uint64_t flags)
{
    return (pa / PAGE) << PTE_PPN_SHIFT | flags;
}

/* Map the image's gigapage to itself (RWX) and PROBE_VA to this life's page. */
static void build_tables(unsigned life)
{
    pt_root[IMAGE_VA >> GIGA_SHIFT] = pte_to(IMAGE_VA, PTE_LEAF_RW | PTE_X);
    pt_root[PROBE_VA >> GIGA_SHIFT] = pte_to((uintptr_t)pt_l1, PTE_V);
    pt_l1[0] = pte_to((uintptr_t)pt_l0, PTE_V);
    pt_l0[0] = pte_to((uintptr_t)probe_pages[life & 1], PTE_LEAF_RW);
}

/* Whether PROBE_VA, read with Sv39 on in VS-mode (ASID 0 every life), misses this
 * life's page. No sfence.vma precedes the read: the hypervisor promises that a
 * restarted VM starts with none of its old life's VS-stage translations (it fences
 * HFENCE.VVMA on restart), and the old life left its PROBE_VA entry behind on purpose
 * (satp is turned off without a fence; Bare mode uses no translation). */
static int sees_old_translation(unsigned life)
{
    build_tables(life);
    probe_pages[0][0] = probe_value[0];
    probe_pages[1][0] = probe_value[1];
    csr_write(satp, SATP_SV39 | (uintptr_t)pt_root / PAGE);
    uint64_t seen = *(volatile uint64_t *)PROBE_VA;
    csr_write(satp, 0);
    return seen != probe_value[life & 1];
}

/* Whether this life's vCPU kept VS CSRs of an older life: a restart resets them to 0
 * (the old life sets both before rebooting; the runtime touches neither). */
static int kept_old_vcpu(void)
{
    return csr_read(sscratch) != 0 || csr_read(sie) != 0;
}

/* A word past the image and stack that only a previous life could have written. */
static volatile uint64_t *marker_slot(void)
{
    uintptr_t p = ((uintptr_t)_end + MARK_GAP) & ~(uintptr_t)(MARK_GAP - 1);
    return (volatile uint64_t *)p;
}

int kmain(unsigned long hartid, const void *dtb, unsigned long reboots)
{
    (void)hartid, (void)dtb;
    unsigned life = life_number(CALLS_PER_LIFE);
    console_select(CONSOLE_DBCN);
    if (sees_old_translation(life)) {
        kprintf("rebooter: FAIL: life %u: VA 0xc0000000 reads its old life's page\n", life);
        return 1;
    }
    if (kept_old_vcpu()) {
        kprintf("rebooter: FAIL: life %u: sscratch/sie kept from its old life\n", life);
        return 1;
    }
    volatile uint64_t *mark = marker_slot();
    struct sbiret bad_type = sbi_system_reset(3, SBI_SRST_REASON_NONE);
    struct sbiret bad_reason = sbi_system_reset(SBI_SRST_TYPE_COLD_REBOOT, 2);
    int fresh = *mark == 0 && reloaded == MARKER;
    int refused = bad_type.error == SBI_ERR_INVALID_PARAM && bad_reason.error == SBI_ERR_INVALID_PARAM;
    if (!fresh || !refused) {
        kprintf("rebooter: FAIL: life %u: %s\n", life,
                fresh ? "an invalid reset was not INVALID_PARAM" : "memory survived the reboot");
        return 1;
    }
    if (reboots && life >= reboots) {
        kprintf("rebooter: life %u: %lu reboots, each with a clean partition; PASS\n", life,
                reboots);
        return 0;
    }
    uint32_t type = life & 1 ? SBI_SRST_TYPE_WARM_REBOOT : SBI_SRST_TYPE_COLD_REBOOT;
    kprintf("rebooter: life %u: clean start, invalid resets refused; %s reboot\n", life,
            type == SBI_SRST_TYPE_WARM_REBOOT ? "warm" : "cold");
    *mark = MARKER + life;
    reloaded = 0;
    csr_write(sscratch, MARKER + life);
    csr_write(sie, SIE_SSIE);           /* sstatus.SIE is 0: nothing is taken */
    sbi_system_reset(type, life & 1 ? SBI_SRST_REASON_SYSFAIL : SBI_SRST_REASON_NONE);
    kprintf("rebooter: FAIL: life %u: still running after the reboot\n", life);
    return 1;
}
