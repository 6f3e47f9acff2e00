/*
 * hello.c: the first guest. Prints its VM id (HVSIM vm_id), RAM size and timebase from
 * the DTB, then takes five timer interrupts through SBI TIME set_timer (SBI spec v2.0
 * chapter 6), one every TICK_US microseconds, printing "tick k" from the handler.
 * Output goes through SBI DBCN console_write (chapter 12).
 */
#include "klib.h"

#define NTICKS 5
#define TICK_US 1500
#define TIMEOUT_US 100000

static volatile unsigned ticks;
static uint64_t period, next;

static void on_timer(struct trap_frame *f)
{
    (void)f;
    ticks++;
    kprintf("hello: tick %u\n", ticks);
    if (ticks < NTICKS) {
        next += period;
        timer_arm_at(next);
    } else {
        timer_disarm();
    }
}

int kmain(unsigned long hartid, const void *dtb, unsigned long a2, unsigned long a3,
          unsigned long a4, unsigned long a5)
{
    console_select(CONSOLE_DBCN);
    struct sbiret id = sbi_hvsim_vm_id(), count = sbi_hvsim_vm_count();
    kprintf("hello: hello from vm %ld of %ld (hart %lu)\n", id.error ? -1 : id.value,
            count.error ? -1 : count.value, hartid);
    if (boot_init(dtb)) {
        kprintf("hello: FAIL: no usable DTB at %p\n", dtb);
        return 1;
    }
    kprintf("hello: args %lu %lu %lu %lu\n", a2, a3, a4, a5);
    kprintf("hello: ram %lu KiB at 0x%lx, dtb %u bytes, timebase %u Hz\n",
            boot.mem_size >> 10, boot.mem_base, boot.dtb_size, boot.timebase_hz);
    period = us_to_ticks(TICK_US);
    set_irq_handler(IRQ_STI, on_timer);
    next = rdtime() + period;
    timer_arm_at(next);
    irq_enable(IRQ_STI);
    local_irq_enable();
    int late = wait_until(&ticks, NTICKS, NTICKS * period + us_to_ticks(TIMEOUT_US));
    local_irq_disable();
    if (late) {
        kprintf("hello: FAIL: %u of %u timer interrupts\n", ticks, NTICKS);
        return 1;
    }
    kprintf("hello: done\n");
    return 0;
}
