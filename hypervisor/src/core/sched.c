/*
 * sched.c: preemptive scheduling of the VMs on the one hart (docs/hypervisor.md,
 * "Scheduling"). Each VM has a budget of `time` ticks per period, replenished at
 * every multiple of its period since boot. Among the VMs that can run and have
 * budget left, the highest priority runs; equal priorities take turns (round
 * robin) when the running one yields, waits or uses up its budget. The HS timer
 * (Sstc stimecmp) is armed for the next event: budget exhausted, a replenishment,
 * a waiting VM's timer, or the running VM's watchdog. With work conservation
 * ([hypervisor] work_conserving, the default), time no VM with budget wants goes
 * to runnable VMs out of budget, so budgets are guarantees, not caps. Only `time`
 * and the configuration decide, so the same configuration gives the same schedule.
 */
#include "csr.h"
#include "hv.h"
#include "sched_parts.h"

#define SCHED_LOG 1024

struct sched_entry { uint64_t start, end; uint32_t vm; };
struct sched_entry hv_sched_log[SCHED_LOG];
unsigned hv_sched_len;
uint64_t hv_sched_dropped, hv_boot_time;

struct vm *hv_current;              /* the VM on the CPU; NULL while idle */
volatile int32_t hv_running_vm = -1;
static struct vm *loaded;           /* whose VS state is in the CSRs */
static unsigned rr_last;
static uint64_t slice_time;         /* when the current slice (since the last tick) began */
static uint64_t run_time;           /* when the current VM came on */
uint64_t hv_run_counters[2];        /* cycle, instret then (entry.S sets them after a pad) */
static int shared_vmid;             /* too few VMID bits: fence the G-stage on a switch */

/** Microseconds to `time` ticks at the DTB's timebase (exact for whole MHz). */
uint64_t us_to_ticks(uint64_t us)
{
    uint64_t hz = hv_platform.timebase_hz;
    return us * (hz / 1000000) + us * (hz % 1000000) / 1000000;
}

void sched_init(void)
{
    hv_boot_time = rdtime();
    for (unsigned i = 0; i < hv_nvms; i++) {
        struct vm *vm = &hv_vms[i];
        vm->budget = us_to_ticks(vm->cfg->budget_us);
        vm->period = us_to_ticks(vm->cfg->period_us);
        if (!vm->budget)
            vm->budget = 1;
        if (vm->period < vm->budget)
            vm->period = vm->budget;
        vm->budget_left = vm->budget;
        vm->next_replenish = hv_boot_time + vm->period;
        vm->watchdog = us_to_ticks(vm->cfg->watchdog_us);
    }
    rr_last = hv_nvms - 1;
    shared_vmid = gstage_shared_vmid();
    if (hv_time_protected)
        tp_init();
    csr_set(CSR_SIE, MIP_STIP);
}

/** Charge the running VM's budget (and watchdog) for its slice up to `now`, where
 *  its next slice starts. */
void sched_charge(struct vm *vm, uint64_t now)
{
    uint64_t used = now - slice_time;
    vm->budget_left -= used < vm->budget_left ? used : vm->budget_left;
    vm->life_ticks += used;
    slice_time = now;
}

/** The running VM leaves the CPU at `now`: its statistics and the schedule log. */
void sched_leave(struct vm *vm, uint64_t now)
{
    hv_current = 0;
    hv_running_vm = -1;
    vm->st.ticks += now - run_time;
    vm->st.cycles += rdcycle() - hv_run_counters[0];
    vm->st.instret += rdinstret() - hv_run_counters[1];
    if (hv_sched_len < SCHED_LOG)
        hv_sched_log[hv_sched_len++] = (struct sched_entry){ run_time, now, vm->index };
    else
        hv_sched_dropped++;
}

/** What one pass over the VMs found (see scan()). */
struct choice {
    struct vm *best;        /* highest priority, runnable, budget left */
    struct vm *any;         /* highest priority, runnable */
    uint64_t event;         /* earliest replenishment that matters or waiting VM's timer */
    int live;               /* VMs not ended */
};

/**
 * One pass over the VMs in round-robin order after the last one that ran:
 * replenish budgets that are due, wake waiting VMs whose interrupt is pending
 * and enabled (the WFI condition, priv spec 3.3.3), and note the candidates and
 * the next event.
 */
static inline __attribute__((always_inline)) void scan(uint64_t now, struct choice *c)
{
    struct vm *vm = &hv_vms[rr_last], *end = &hv_vms[hv_nvms];
    c->best = c->any = 0;
    c->event = UINT64_MAX;
    c->live = 0;
    for (unsigned k = 0; k < hv_nvms; k++) {
        if (++vm == end)
            vm = hv_vms;
        if (vm->state == VM_DONE)
            continue;
        c->live++;
        if (now >= vm->next_replenish) {
            vm->next_replenish += ((now - vm->next_replenish) / vm->period + 1) * vm->period;
            vm->budget_left = vm->budget;
        }
        if (vm->budget_left < vm->budget && vm->next_replenish < c->event)
            c->event = vm->next_replenish;
        if (vm->state == VM_WAITING) {
            if (!vcpu_wakeable(vm, now)) {
                uint64_t d = vcpu_timer_deadline(vm);
                c->event = d < c->event ? d : c->event;
                continue;
            }
            vm->state = VM_RUNNABLE;
            vm->st.irqs++;
        }
        uint32_t prio = vm->cfg->priority;
        if (vm->budget_left && (!c->best || prio > c->best->cfg->priority))
            c->best = vm;
        if (!c->any || prio > c->any->cfg->priority)
            c->any = vm;
    }
}

/**
 * The VM to run next, or NULL (the policy is in the file comment). On a tick
 * the running VM goes on unless a VM of higher priority with budget can run.
 * With work conservation, when no runnable VM has budget left, one runs on the
 * idle time until the next event.
 */
static struct vm *pick(enum resched why, const struct choice *c)
{
    struct vm *cur = hv_current;
    if (why == RS_TICK && cur && cur->state == VM_RUNNABLE && cur->budget_left
        && (!c->best || c->best->cfg->priority <= cur->cfg->priority))
        return cur;
    if (!c->best && hv_work_conserving)
        return c->any;
    return c->best;
}

/** `t`, or the time `run`'s watchdog expires if that comes first (from `now`). */
uint64_t sched_watchdog_due(const struct vm *run, uint64_t now, uint64_t t)
{
    if (run->watchdog && run->watchdog - run->life_ticks < t - now)
        t = now + (run->watchdog - run->life_ticks);
    return t;
}

/** stimecmp := the next time the schedule can change. */
static void arm_timer(struct vm *run, uint64_t now, uint64_t event)
{
    uint64_t t = event;
    if (run && run->budget_left && run->budget_left < t - now)
        t = now + run->budget_left;
    if (run)
        t = sched_watchdog_due(run, now, t);
    csr_write(CSR_STIMECMP, t > now ? t : now + 1);
}

/** Every live VM waits for an interrupt that nothing will raise: stop them. */
void sched_stop_deadlocked(uint64_t event)
{
    if (event != UINT64_MAX)
        return;
    hv_puts("hv: every VM waits with no interrupt enabled that could wake it\n");
    for (unsigned i = 0; i < hv_nvms; i++)
        if (hv_vms[i].state == VM_WAITING)
            vm_stop(&hv_vms[i], END_STOPPED, CAUSE_VIRTUAL_INSTRUCTION);
}

/**
 * Nothing can run: wait (WFI with only sie.STIE, sstatus.SIE = 0) for the next
 * event and scan again, until a VM can run. Ends the run when every VM has
 * ended; stops the VMs when all wait for nothing.
 */
static __attribute__((noinline)) struct vm *idle(uint64_t *now, struct choice *c)
{
    for (;;) {
        if (!c->live)
            hv_finish();
        sched_stop_deadlocked(c->event);
        if (c->event != UINT64_MAX) {
            arm_timer(0, *now, c->event);
            __asm__ volatile("wfi");
        }
        *now = rdtime();
        scan(*now, c);
        struct vm *next = pick(RS_YIELD, c);
        if (next)
            return next;
    }
}

/** Make `next`'s VS state and VMID live (saving the live one's), unless they are. */
void sched_load(struct vm *next)
{
    if (loaded == next)
        return;
    if (loaded && loaded->state != VM_DONE)
        vcpu_save(&loaded->cpu);
    vcpu_load(&next->cpu);
    if (shared_vmid)
        hfence_gvma_all();
    loaded = next;
}

/** `vm` was reset (restart): if it is on the CPU, the reboot's time is charged to its
 *  budget but its new life (the watchdog) starts now; if its old state is the live
 *  one, load the new. */
void sched_reload(struct vm *vm)
{
    if (hv_current == vm) {
        uint64_t now = rdtime();
        sched_charge(vm, now);
        vm->life_ticks = 0;
        slice_time = now;
    }
    if (loaded == vm)
        vcpu_load(&vm->cpu);
}

/** `next` comes on the CPU at `now`: its slice starts. Unless `announce`, the caller
 *  sets hv_running_vm itself (a time-protected switch does so after its pad). */
void sched_enter(struct vm *next, uint64_t now, int announce)
{
    sched_load(next);
    next->st.runs++;
    rr_last = next->index;
    hv_current = next;
    if (announce)
        hv_running_vm = (int32_t)next->index;
    run_time = now;
    hv_run_counters[0] = rdcycle();
    hv_run_counters[1] = rdinstret();
    slice_time = now;
}

/** The running VM's watchdog expired: restart or stop it, then reschedule. It stays
 *  the running VM until then, so a restart's scrub is work done for it. */
static __attribute__((noinline)) struct regs *watchdog_switch(struct vm *old)
{
    vm_watchdog(old, old->cpu.r.sepc);
    sched_leave(old, rdtime());
    int fresh = old->state != VM_DONE;  /* restarted: its frame is new */
    struct regs *r = sched_switch(RS_YIELD);
    return fresh ? frame_fresh(r) : r;
}

/**
 * Reschedule because of `why` (the running VM's tick, yield, wait or end);
 * returns the register frame to resume. Never returns when every VM has ended.
 */
struct regs *sched_switch(enum resched why)
{
    if (hv_time_protected)
        return tp_switch(why);
    uint64_t now = rdtime();
    struct vm *old = hv_current;
    if (old) {
        sched_charge(old, now);
        if (old->watchdog && old->life_ticks >= old->watchdog && old->state != VM_DONE)
            return watchdog_switch(old);
        if (why == RS_WAIT)
            old->state = VM_WAITING;
    }
    struct choice c;
    scan(now, &c);
    struct vm *next = pick(why, &c);
    if (!next || next != old) {
        if (old)
            sched_leave(old, now);
        if (!next)
            next = idle(&now, &c);
        sched_enter(next, now, 1);
    }
    slice_time = now;
    arm_timer(next, now, c.event);
    return &next->cpu.r;
}

/** The first dispatch after boot. */
struct regs *sched_start(void)
{
    return sched_switch(RS_YIELD);
}
