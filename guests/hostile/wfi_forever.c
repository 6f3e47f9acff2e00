/*
 * wfi_forever.c: a guest that waits for nothing. It clears sie and sstatus.SIE, never
 * arms a timer, and executes WFI in a loop (priv spec 3.3.3 "Wait for Interrupt": the
 * hart may resume only when an enabled interrupt is pending; H spec 9.2.1 hstatus.VTW
 * makes the hypervisor see each WFI). Nothing can ever wake it, so the hypervisor must
 * give its CPU away for good and, once every live VM waits for nothing, stop it
 * (docs/hypervisor.md, "Scheduling"). A WFI that returns (a legal no-op) is only
 * counted, never printed, so the transcript is the same everywhere; if WFI never
 * waits the VM spins and its scenario's watchdog_us ends it.
 */
#include "klib.h"

static volatile uint64_t wakeups;

int kmain(void)
{
    console_select(CONSOLE_DBCN);
    kprintf("wfi_forever: waiting with sie = 0 and no timer\n");
    local_irq_disable();
    csr_write(sie, 0);
    sbi_set_timer(UINT64_MAX);
    for (;;) {
        __asm__ volatile("wfi" ::: "memory");
        wakeups++;
    }
}
