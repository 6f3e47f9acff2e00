/*
 * ticker.c: a timer kernel. A periodic tick of PERIOD_US, first through SBI TIME
 * set_timer (SBI spec v2.0 chapter 6), then through the `stimecmp` CSR directly (Sstc
 * extension, priv spec 12.1 "Supervisor Timer Compare Register"; in VS-mode with
 * henvcfg.STCE = 1 the access reaches `vstimecmp`). Between ticks the kernel waits in
 * `wfi` with sstatus.SIE = 0 (priv spec 3.3.3: `wfi` wakes on an interrupt pending and
 * enabled in sie whatever SIE says) and opens SIE briefly to take the interrupt, so a
 * tick that comes before the `wfi` is not lost.
 *
 * Ticks are due at the period boundaries base + k * period. The handler works out from
 * `time` which boundary it has reached, counts the boundaries passed over while the VM
 * was descheduled as coalesced, and re-arms at the next boundary. Checked: `time` never
 * goes backwards, no tick arrives before its deadline, re-arming clears the pending bit
 * (SBI 6.1, Sstc), handled + coalesced ticks equal the boundaries reached, an expired
 * deadline is always pending, and a disarmed timer stays quiet. How many periods were
 * coalesced depends on timing and is never printed.
 */
#include "klib.h"

#define PERIOD_US 1000
#define NTICKS 12
#define TIMEOUT_US 200000
#define MASK_AT 6
#define MASK_PERIODS 3
#define TIMER_OFF UINT64_MAX
#define CSR_INSN_BYTES 4

/* One way of arming the timer. */
struct timer_source {
    const char *name;
    void (*arm)(uint64_t when);
};

/* The state of the running phase, shared with the interrupt handler. */
struct tick_state {
    const struct timer_source *src;
    uint64_t base, period, deadline;
    unsigned reached;       /* the last boundary accounted for */
    unsigned handled;       /* tick interrupts taken */
    unsigned coalesced;     /* boundaries passed over between two interrupts */
    int armed;
    const char *error;      /* the first broken invariant */
};

static volatile struct tick_state tk;
static volatile uint64_t last_time;
static volatile int probing, probe_trapped;

static inline uint64_t stimecmp_read(void)
{
    uint64_t v;
    __asm__ volatile("csrr %0, %1" : "=r"(v) : "i"(CSR_STIMECMP));
    return v;
}

static inline void stimecmp_write(uint64_t v)
{
    __asm__ volatile("csrw %0, %1" : : "i"(CSR_STIMECMP), "r"(v) : "memory");
}

static void fail(const char *why)
{
    if (!tk.error)
        tk.error = why;
}

static void arm_sbi(uint64_t when)
{
    if (sbi_set_timer(when).error)
        fail("set_timer returned an error");
}

static void arm_csr(uint64_t when) { stimecmp_write(when); }

static const struct timer_source sources[] = {
    {"sbi", arm_sbi},
    {"stimecmp", arm_csr},
};

/* Read `time` and check it has not gone backwards since the last reading. */
static uint64_t observe(void)
{
    uint64_t now = rdtime();
    if (now < last_time)
        fail("time went backwards");
    last_time = now;
    return now;
}

static int timer_pending(void) { return (csr_read(sip) & MIP_STIP) != 0; }

/* End the phase: disarm, and record `why` if it is a failure. */
static void stop(const char *why)
{
    if (why)
        fail(why);
    tk.armed = 0;
    tk.src->arm(TIMER_OFF);
}

/* Account for the boundaries reached at `now`; the failure, or NULL. */
static const char *tick_at(uint64_t now)
{
    if (!tk.armed)
        return "tick while disarmed";
    if (now < tk.deadline)
        return "tick before its deadline";
    unsigned k = (unsigned)((now - tk.base) / tk.period);
    if (k <= tk.reached)
        return "two ticks for one period";
    tk.handled++;
    tk.coalesced += k - tk.reached - 1;
    tk.reached = k;
    return 0;
}

static void on_tick(struct trap_frame *f)
{
    (void)f;
    const char *why = tick_at(observe());
    if (why || tk.reached >= NTICKS) {
        stop(why);
        return;
    }
    tk.deadline = tk.base + (uint64_t)(tk.reached + 1) * tk.period;
    tk.src->arm(tk.deadline);
    if (timer_pending() && rdtime() < tk.deadline)
        fail("re-arming left the tick pending");
}

/* Sleep in `wfi` until the tick handler has run (or a deadline has long passed). */
static void idle(uint64_t limit)
{
    __asm__ volatile("wfi");
    local_irq_enable();
    __asm__ volatile("nop");
    local_irq_disable();
    if (observe() > limit)
        fail("no tick interrupt");
}

/* The checks at the end of a phase, with the timer disarmed. */
static void account(void)
{
    uint64_t t0 = observe();
    int pending = timer_pending();
    uint64_t elapsed = (t0 - tk.base) / tk.period;
    if (tk.handled + tk.coalesced != tk.reached)
        fail("handled + coalesced ticks differ from the boundaries reached");
    if (tk.reached < NTICKS || elapsed < tk.reached)
        fail("boundaries reached do not match the time elapsed");
    if (pending)
        fail("disarmed timer still pending");
}

/* Spin with SIE = 0 until MASK_PERIODS more boundaries have passed: the expired tick
 * must be pending meanwhile, and the next interrupt must account for all of them. */
static void mask_across(const struct timer_source *src)
{
    unsigned before = tk.reached;
    uint64_t until = tk.base + (uint64_t)(before + MASK_PERIODS) * tk.period;
    kprintf("ticker: %s: interrupts masked for %u periods\n", src->name, MASK_PERIODS);
    if (!tk.armed)
        return;
    while (observe() < until)
        ;
    if (!timer_pending())
        fail("an expired deadline is not pending");
    while (tk.reached == before && !tk.error)
        idle(until + us_to_ticks(TIMEOUT_US));
    if (tk.reached < before + MASK_PERIODS)
        fail("masked periods not accounted");
}

static int run_phase(const struct timer_source *src)
{
    uint64_t period = us_to_ticks(PERIOD_US);
    unsigned printed = 0;
    local_irq_disable();
    tk.src = src;
    tk.period = period;
    tk.reached = tk.handled = tk.coalesced = 0;
    tk.base = observe();
    tk.deadline = tk.base + period;
    tk.armed = 1;
    src->arm(tk.deadline);
    while (tk.armed && !tk.error) {
        idle(tk.deadline + us_to_ticks(TIMEOUT_US));
        while (printed < tk.reached && printed < NTICKS) {
            kprintf("ticker: %s tick %u\n", src->name, ++printed);
            if (printed == MASK_AT)
                mask_across(src);
        }
    }
    if (!tk.error)
        account();
    if (tk.error) {
        kprintf("ticker: FAIL: %s: %s\n", src->name, tk.error);
        return 1;
    }
    kprintf("ticker: %s: every period accounted, time monotonic, no early tick\n", src->name);
    return 0;
}

static int on_exception(struct trap_frame *f)
{
    if (!probing || f->scause != CAUSE_ILLEGAL_INSTRUCTION)
        return 0;
    probe_trapped = 1;
    f->sepc += CSR_INSN_BYTES;
    return 1;
}

/* Whether `stimecmp` is accessible: a read that traps as illegal means no Sstc here. */
static int sstc_visible(void)
{
    probing = 1;
    probe_trapped = 0;
    set_exception_handler(on_exception);
    (void)stimecmp_read();
    probing = 0;
    set_exception_handler(0);
    return !probe_trapped;
}

/* SBI set_timer and the CSR are one comparator for a VS guest (henvcfg.STCE = 1). */
static int check_csr_view(void)
{
    uint64_t when = rdtime() + us_to_ticks(TIMEOUT_US);
    sbi_set_timer(when);
    int same = stimecmp_read() == when;
    stimecmp_write(when + 1);
    int back = stimecmp_read() == when + 1;
    stimecmp_write(TIMER_OFF);
    if (!same || !back) {
        kprintf("ticker: FAIL: stimecmp %s\n",
                same ? "does not read back what was written" : "does not show set_timer");
        return 1;
    }
    kprintf("ticker: stimecmp shows set_timer and reads back\n");
    return 0;
}

int kmain(unsigned long hartid, const void *dtb)
{
    (void)hartid;
    console_select(CONSOLE_DBCN);
    if (boot_init(dtb)) {
        kprintf("ticker: FAIL: no usable DTB at %p\n", dtb);
        return 1;
    }
    kprintf("ticker: %u ticks of %u us through SBI TIME, then through stimecmp\n", NTICKS,
            PERIOD_US);
    set_irq_handler(IRQ_STI, on_tick);
    irq_enable(IRQ_STI);
    if (run_phase(&sources[0]))
        return 1;
    if (!sstc_visible()) {
        kprintf("ticker: stimecmp not visible (no Sstc), second phase skipped\n");
    } else if (check_csr_view() || run_phase(&sources[1])) {
        return 1;
    }
    kprintf("ticker: PASS\n");
    return 0;
}
