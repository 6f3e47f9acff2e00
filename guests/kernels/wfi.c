/*
 * wfi.c: a sleeping guest. Five times: arm the timer SLEEP_US ahead through SBI TIME and
 * wait with `wfi` (priv spec 3.3.3; in VS-mode it traps with hstatus.VTW and the
 * hypervisor runs something else until the timer is pending). sstatus.SIE stays 0 around
 * the `wfi` (it wakes on any interrupt pending and enabled in sie) and is opened briefly
 * to take the interrupt, so a timer that fires before the `wfi` is not lost. Fails if it
 * wakes before the deadline. The output holds no timing figures.
 */
#include "klib.h"

#define NSLEEPS 5
#define SLEEP_US 1000
#define TIMEOUT_US 100000

static volatile unsigned fired;

static void on_timer(struct trap_frame *f)
{
    (void)f;
    fired++;
    timer_disarm();
}

int kmain(unsigned long hartid, const void *dtb)
{
    (void)hartid;
    console_select(CONSOLE_DBCN);
    kprintf("wfi: sleeping %u times for %u us\n", NSLEEPS, SLEEP_US);
    if (boot_init(dtb)) {
        kprintf("wfi: FAIL: no usable DTB at %p\n", dtb);
        return 1;
    }
    set_irq_handler(IRQ_STI, on_timer);
    irq_enable(IRQ_STI);
    for (unsigned k = 1; k <= NSLEEPS; k++) {
        unsigned want = fired + 1;
        uint64_t wake = rdtime() + us_to_ticks(SLEEP_US);
        uint64_t limit = wake + us_to_ticks(TIMEOUT_US);
        local_irq_disable();
        timer_arm_at(wake);
        while (fired < want) {
            __asm__ volatile("wfi");
            local_irq_enable();
            __asm__ volatile("nop");
            local_irq_disable();
            if (rdtime() > limit) {
                kprintf("wfi: FAIL: no timer interrupt %u\n", k);
                return 1;
            }
        }
        uint64_t t1 = rdtime();
        if (t1 < wake) {
            kprintf("wfi: FAIL: woke %u early\n", k);
            return 1;
        }
        kprintf("wfi: woke %u\n", k);
    }
    kprintf("wfi: done\n");
    return 0;
}
