/*
 * rebooter.c: a guest that reboots itself through SBI SRST system_reset (SBI spec
 * v2.0 chapter 10), alternating cold and warm reboots. The hypervisor restarts the VM
 * from its image with a zeroed partition and counts each reboot against max_restarts;
 * past the limit the VM ends in state reset-limit (docs/hypervisor.md, "SBI" and
 * "Fault containment").
 *
 * Nothing survives in its memory, so it learns its life number from HVSIM stats: the
 * hypervisor's count of the VM's SBI calls survives restarts, and every life makes
 * exactly CALLS_PER_LIFE calls. Each life checks that its partition really was cleared
 * (a marker it stores past its image before rebooting must read 0) and that its
 * initialised data was reloaded, tries two invalid resets (reset type 3, reason 2:
 * INVALID_PARAM, SBI 10.1), then reboots. With a2 = N > 0 (the VM's args) it stops
 * after N reboots and shuts down with PASS; with no args it reboots until the
 * hypervisor's max_restarts stops it.
 */
#include "klib.h"

#define CALLS_PER_LIFE 5u
#define MARKER 0x5245424F4F54ull
#define MARK_GAP 4096u

extern char _end[];

static volatile uint64_t reloaded = MARKER;


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
    sbi_system_reset(type, life & 1 ? SBI_SRST_REASON_SYSFAIL : SBI_SRST_REASON_NONE);
    kprintf("rebooter: FAIL: life %u: still running after the reboot\n", life);
    return 1;
}
