/*
 * spinner.c: a guest that never yields, for the availability property (ARCHITECTURE.md
 * section 5): prints one line, clears sstatus.SIE and spins forever. Only the
 * hypervisor's own timer (HS-level, not maskable by the guest) can take the CPU back.
 */
#include "klib.h"

static volatile uint64_t spins;

int kmain(void)
{
    console_select(CONSOLE_DBCN);
    kprintf("spinner: spinning forever with interrupts off\n");
    local_irq_disable();
    for (;;)
        spins++;
}
