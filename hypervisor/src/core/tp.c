/*
 * tp.c: the time-protected schedule ([hypervisor] time_protection; docs/hypervisor.md,
 * "Time protection"), after Ge et al., "Time protection: the missing OS abstraction"
 * (EuroSys 2019). Time is cut into frames of the VMs' common period. In every frame,
 * VM i owns the window [off_i, off_i + budget_i), where off_i is the sum of the
 * budgets before it; the rest of the frame idles. A window is its VM's alone:
 *   - when the VM yields, waits or has ended, the CPU idles to the window's end
 *     (no work conservation: a neighbour's yield cannot move anyone's start);
 *   - the only HS timer events inside a window are its end and its own VM's
 *     (watchdog, the wake-up of its WFI), so no other VM's timer steals its cycles;
 *   - at the window's start the hypervisor switches the vCPU, invalidates every
 *     guest TLB entry (HFENCE.GVMA x0, x0, H spec 9.3.2: all VMIDs; this model's TLB
 *     combines both stages, so VS-stage entries go too), then waits (WFI on the HS
 *     timer, in entry.S's full restore so that the same instructions follow the
 *     wake-up whatever exit led to the switch) until a fixed pad after the window's
 *     start, and resumes the VM.
 * Frames are counted from time 0: the first one starts at the first multiple of the
 * period after boot and after [hypervisor] boot_us. Boot itself (loading the images)
 * is not time-protected: without boot_us, the images' sizes can move the first frame.
 * So the cycle at which a VM resumes, and the TLB it finds, depend on nothing but
 * the configuration. The pad must cover the longest hypervisor exit plus the
 * switch; a window whose switch ends later than TP_MARGIN before the pad's end is
 * an overrun, counted and reported (@tp record) because it leaks timing.
 */
#include "csr.h"
#include "hv.h"
#include "sched_parts.h"

#define TP_MARGIN 64    /* ticks between the switch's end and the pad's end, at least */

struct tp_stats hv_tp;              /* the @tp record (report.c) */
struct tp_resume hv_tp_resume;      /* the pending pad, waited out by entry.S */
static uint64_t frame_start, window_end;
static unsigned window;             /* the window's VM */
static int started;

void tp_init(void)
{
    hv_tp.pad = us_to_ticks(hv_tp_pad_us);
    window = hv_nvms - 1;
}

/** Place the first frame at the first multiple of the period from time 0 that is at
 *  or after both boot's end (`now`) and boot_us; boot ending after boot_us overruns. */
static void first_frame(uint64_t now)
{
    uint64_t period = hv_vms[0].period, first = us_to_ticks(hv_tp_boot_us);
    started = 1;
    if (hv_tp_boot_us && now > first) {
        hv_tp.overruns++;
        hv_printf("hv: time protection: boot ended at %lu us, after boot_us = %lu\n",
                  now / (hv_platform.timebase_hz / 1000000), hv_tp_boot_us);
    }
    first = now > first ? now : first;
    frame_start = (first + period - 1) / period * period - period;
    window_end = frame_start + period;
}

/** Wait (WFI with sstatus.SIE = 0, sie.STIE = 1) until the time is at least `t`. */
static void wait_until(uint64_t t)
{
    csr_write(CSR_STIMECMP, t);
    while (rdtime() < t)
        __asm__ volatile("wfi");
}

/** Move to the next window: the next VM's, or the next frame's first. */
static uint64_t next_window(void)
{
    uint64_t start = window_end;
    if (++window == hv_nvms) {
        window = 0;
        frame_start += hv_vms[0].period;
        start = frame_start;
    }
    window_end = start + hv_vms[window].budget;
    return start;
}

/** The window's switch is done: note how long it took; the pad's end, or 0 if the
 *  switch overran it. (A window after the frame's idle tail is switched to before it
 *  starts.) */
static uint64_t pad_end(uint64_t start)
{
    uint64_t now = rdtime(), used = now > start ? now - start : 0;
    hv_tp.windows++;
    if (used > hv_tp.worst)
        hv_tp.worst = used;
    if (used + TP_MARGIN > hv_tp.pad) {
        hv_tp.overruns++;
        return 0;
    }
    return start + hv_tp.pad;
}

/** Idle in the window until its VM can run (returned) or the window ends (NULL). */
static struct vm *idle_in_window(void)
{
    struct vm *vm = &hv_vms[window];
    for (;;) {
        uint64_t now = rdtime();
        if (now >= window_end)
            return 0;
        if (vm->state == VM_WAITING && vcpu_wakeable(vm, now)) {
            vm->state = VM_RUNNABLE;
            vm->st.irqs++;
        }
        if (vm->state == VM_RUNNABLE)
            return vm;
        uint64_t t = window_end;
        if (vm->state == VM_WAITING) {
            uint64_t d = vcpu_timer_deadline(vm);
            t = d < t ? d : t;
        }
        wait_until(t);
    }
}

/** End the run when every VM has ended; stop the VMs when all wait for nothing. */
static void check_live(void)
{
    uint64_t event = UINT64_MAX;
    int live = 0;
    for (unsigned i = 0; i < hv_nvms; i++) {
        struct vm *vm = &hv_vms[i];
        if (vm->state == VM_DONE)
            continue;
        live++;
        if (vm->state == VM_RUNNABLE || vcpu_wakeable(vm, rdtime()))
            return;
        uint64_t d = vcpu_timer_deadline(vm);
        event = d < event ? d : event;
    }
    if (!live)
        hv_finish();
    sched_stop_deadlocked(event);
    if (event == UINT64_MAX)
        hv_finish();
}

/**
 * Switch windows until one whose VM can run; returns that VM and sets `*pad` to when
 * it may resume (0: now). A VM that waits at its window's start is resumed when it
 * wakes, unpadded: that moment depends on nothing but its own timer.
 */
static struct vm *next_vm(uint64_t *pad)
{
    for (;;) {
        check_live();
        uint64_t start = next_window();
        struct vm *vm = &hv_vms[window];
        *pad = 0;
        if (vm->state != VM_DONE) {
            sched_load(vm);
            hfence_gvma_all();
        }
        if (vm->state == VM_RUNNABLE) {
            *pad = pad_end(start);
            return vm;
        }
        struct vm *run = idle_in_window();
        if (run)
            return run;
    }
}

/** The stimecmp for `run` from `now`: its window's end, or its watchdog if sooner. */
static uint64_t window_timer(const struct vm *run, uint64_t now)
{
    uint64_t t = sched_watchdog_due(run, now, window_end);
    return t > now ? t : now + 1;
}

/**
 * The running VM `old` leaves the CPU (or, on a tick inside its window that is not its
 * watchdog, stays: returns 1). Its CPU time is charged up to the moment the hypervisor
 * stops working for it, and its watchdog is checked after that charge.
 */
static int tp_leave(struct vm *old, enum resched why)
{
    uint64_t now = rdtime();
    int stay = why == RS_TICK && now < window_end;
    if (!stay) {
        hv_running_vm = -1;     /* its work for the VM ends here */
        now = rdtime();
    }
    sched_charge(old, now);
    if (old->watchdog && old->life_ticks >= old->watchdog && old->state != VM_DONE) {
        hv_running_vm = -1;
        vm_watchdog(old, old->cpu.r.sepc);
    } else if (why == RS_WAIT) {
        old->state = VM_WAITING;
    }
    if (stay && old->state == VM_RUNNABLE) {
        csr_write(CSR_STIMECMP, window_timer(old, now));
        return 1;
    }
    sched_leave(old, now);
    if (why == RS_YIELD)
        wait_until(window_end);
    return 0;
}

/**
 * sched_switch() under time protection: the running VM's tick (its window's end or
 * its watchdog), yield, wait or end. A yield gives up the rest of the window.
 */
struct regs *tp_switch(enum resched why)
{
    struct vm *old = hv_current, *next;
    uint64_t pad = 0;
    if (!started)
        first_frame(rdtime());
    if (old && tp_leave(old, why))
        return &old->cpu.r;
    next = (old ? idle_in_window() : 0);
    if (!next)
        next = next_vm(&pad);
    uint64_t now = pad ? pad : rdtime();
    sched_enter(next, now, !pad);   /* the pad is nobody's time: entry.S announces after */
    uint64_t timer = window_timer(next, now);
    if (pad)
        hv_tp_resume = (struct tp_resume){ pad, timer, (int64_t)next->index };
    else
        csr_write(CSR_STIMECMP, timer);
    return &next->cpu.r;
}
