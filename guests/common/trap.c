/*
 * trap.c: trap dispatch of the guest runtime (priv spec 12.1, "Supervisor CSRs": scause
 * with its interrupt bit, sepc, stval): interrupts go to the handler registered for
 * their code, exceptions to the one exception hook, anything else is reported and the
 * VM shuts down with SBI SRST (SBI spec v2.0 chapter 10).
 */
#include "klib.h"

static irq_fn irq_handlers[16];
static exc_fn exc_handler;
struct fault_log faults;


void set_irq_handler(unsigned irq, irq_fn fn)
{
    if (irq < 16)
        irq_handlers[irq] = fn;
}

void set_exception_handler(exc_fn fn) { exc_handler = fn; }

void trap_handler(struct trap_frame *f)
{
    int irq = (int64_t)f->scause < 0;
    uint64_t code = f->scause & ~CAUSE_INTERRUPT_BIT;
    if (irq && code < 16 && irq_handlers[code]) {
        irq_handlers[code](f);
        return;
    }
    if (!irq && exc_handler && exc_handler(f))
        return;
    kprintf("trap: unexpected %s %lu sepc 0x%lx stval 0x%lx\n", irq ? "interrupt" : "exception",
            code, f->sepc, f->stval);
    kshutdown(1);
}

void kshutdown(int code)
{
    sbi_system_reset(SBI_SRST_TYPE_SHUTDOWN, code ? SBI_SRST_REASON_SYSFAIL : SBI_SRST_REASON_NONE);
    for (;;)
        __asm__ volatile("wfi");
}

__attribute__((weak)) void resume_main(unsigned long hartid, unsigned long opaque)
{
    kprintf("resume: unexpected resume (hart %lu, opaque 0x%lx)\n", hartid, opaque);
    kshutdown(1);
}


int skip_exception(struct trap_frame *f)
{
    faults.cause = f->scause;
    faults.tval = f->stval;
    faults.count++;
    if (f->scause == CAUSE_FETCH_PAGE_FAULT)
        f->sepc = f->ra;
    else
        f->sepc += insn_len_at(f->sepc);
    return 1;
}

unsigned life_number(unsigned calls_per_life)
{
    struct hvsim_stats st;
    struct sbiret r = sbi_hvsim_stats((uintptr_t)&st, 0, sizeof st);
    if (r.error || (unsigned long)r.value != sizeof st || st.sbi_calls == 0)
        return 0;
    return (unsigned)((st.sbi_calls - 1) / calls_per_life);
}
