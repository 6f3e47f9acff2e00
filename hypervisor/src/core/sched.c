/*
 * sched.c: preemptive scheduling of the VMs on the one hart (docs/hypervisor.md,
 * "Scheduling"). Each VM has a budget of `time` ticks per period, replenished at
 * every multiple of its period since boot. Among the VMs that can run and have
 * budget left, the highest priority runs; equal priorities take turns (round
 * robin) when the running one yields, waits or uses up its budget. The HS timer
 * (Sstc stimecmp) is armed for the next event: budget exhausted, a replenishment,
 * a waiting VM's timer, or the running VM's watchdog. With work conservation
 * ([hypervisor] work_conserving, the default), time no VM with budget wants goes
 * to runnable VMs out of budget, so budgets are guarantees, not caps. Only `time` and the configuration decide, so the same
 * configuration gives the same schedule.
 */
#include "csr.h"
#include "hv.h"

#define SCHED_LOG 1024

struct sched_entry { uint64_t start, end; uint32_t vm; };
struct sched_entry hv_sched_log[SCHED_LOG];
unsigned hv_sched_len;
uint64_t hv_sched_dropped, hv_boot_time;

struct vm *hv_current;              /* the VM on the CPU; NULL while idle */
volatile int32_t hv_running_vm = -1;
static struct vm *loaded;           /* whose VS state is in the CSRs */
static unsigned rr_last;
static uint64_t slice_time, slice_cycle, slice_instret;

uint64_t us_to_ticks(uint64_t us)
{
    return us * (hv_platform.timebase_hz / 1000000) + us * (hv_platform.timebase_hz % 1000000) / 1000000;
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
    csr_set(CSR_SIE, MIP_STIP);
}

/** Charge the running VM for the time, cycles and instructions since it started. */
static void account(uint64_t now)
{
    struct vm *vm = hv_current;
    if (!vm)
        return;
    uint64_t used = now - slice_time;
    vm->budget_left -= used < vm->budget_left ? used : vm->budget_left;
    vm->st.ticks += used;
    vm->life_ticks += used;
    vm->st.cycles += rdcycle() - slice_cycle;
    vm->st.instret += rdinstret() - slice_instret;
    struct sched_entry *last = hv_sched_len ? &hv_sched_log[hv_sched_len - 1] : 0;
    if (last && last->vm == vm->index && last->end == slice_time)
        last->end = now;            /* the same VM went on after a tick */
    else if (hv_sched_len < SCHED_LOG)
        hv_sched_log[hv_sched_len++] = (struct sched_entry){ slice_time, now, vm->index };
    else
        hv_sched_dropped++;
}

static void replenish(uint64_t now)
{
    for (unsigned i = 0; i < hv_nvms; i++) {
        struct vm *vm = &hv_vms[i];
        if (now >= vm->next_replenish) {
            vm->next_replenish += ((now - vm->next_replenish) / vm->period + 1) * vm->period;
            vm->budget_left = vm->budget;
        }
    }
}

/** A waiting VM whose wake-up condition holds becomes runnable. */
static void wake(struct vm *vm, uint64_t now)
{
    if (vm->state != VM_WAITING || !vcpu_wakeable(vm, now))
        return;
    vm->state = VM_RUNNABLE;
    vm->st.irqs++;
}

static int eligible(const struct vm *vm)
{
    return vm->state == VM_RUNNABLE && vm->budget_left > 0;
}

/** The highest-priority VM, first in round-robin order, that `ok` accepts. */
static struct vm *best_of(int (*ok)(const struct vm *))
{
    struct vm *best = 0;
    for (unsigned k = 1; k <= hv_nvms; k++) {
        struct vm *vm = &hv_vms[(rr_last + k) % hv_nvms];
        if (ok(vm) && (!best || vm->cfg->priority > best->cfg->priority))
            best = vm;
    }
    return best;
}

static int runnable(const struct vm *vm) { return vm->state == VM_RUNNABLE; }

/** The VM to run next, or NULL (see the file comment for the policy). With
 *  work conservation, when no runnable VM has budget left, a runnable VM runs on
 *  the idle time until the next replenishment. */
static struct vm *pick(enum resched why, uint64_t now)
{
    for (unsigned i = 0; i < hv_nvms; i++)
        wake(&hv_vms[i], now);
    struct vm *best = best_of(eligible), *cur = hv_current;
    if (why == RS_TICK && cur && eligible(cur) && best
        && best->cfg->priority <= cur->cfg->priority)
        return cur;
    if (!best && hv_work_conserving)
        best = best_of(runnable);
    return best;
}

/** stimecmp := the next time the schedule can change. */
static void arm_timer(struct vm *run, uint64_t now)
{
    uint64_t t = run && run->budget_left ? now + run->budget_left : UINT64_MAX;
    if (run && run->watchdog && run->watchdog - run->life_ticks < t - now)
        t = now + (run->watchdog - run->life_ticks);
    for (unsigned i = 0; i < hv_nvms; i++) {
        struct vm *vm = &hv_vms[i];
        if (vm->state == VM_DONE)
            continue;
        if (vm->budget_left < vm->budget && vm->next_replenish < t)
            t = vm->next_replenish;
        if (vm->state == VM_WAITING) {
            uint64_t d = vcpu_timer_deadline(vm);
            if (d < t)
                t = d;
        }
    }
    csr_write(CSR_STIMECMP, t > now ? t : now + 1);
}

static int all_done(void)
{
    for (unsigned i = 0; i < hv_nvms; i++)
        if (hv_vms[i].state != VM_DONE)
            return 0;
    return 1;
}

/** Every live VM waits for an interrupt that nothing will raise: stop them. */
static void stop_deadlocked(uint64_t now)
{
    for (unsigned i = 0; i < hv_nvms; i++) {
        struct vm *vm = &hv_vms[i];
        if (vm->state == VM_RUNNABLE || (vm->state == VM_WAITING
            && (vcpu_timer_deadline(vm) != UINT64_MAX || vcpu_wakeable(vm, now))))
            return;
    }
    hv_puts("hv: every VM waits with no interrupt enabled that could wake it\n");
    for (unsigned i = 0; i < hv_nvms; i++)
        if (hv_vms[i].state == VM_WAITING)
            vm_stop(&hv_vms[i], END_STOPPED, CAUSE_VIRTUAL_INSTRUCTION);
}

/** Idle until the next event (WFI with only sie.STIE, sstatus.SIE = 0). */
static uint64_t idle(uint64_t now)
{
    hv_current = 0;
    hv_running_vm = -1;
    if (all_done())
        hv_finish();
    stop_deadlocked(now);
    if (all_done())
        hv_finish();
    arm_timer(0, now);
    __asm__ volatile("wfi");
    return rdtime();
}

/** Put `next` on the CPU: its VS state, its VMID, a fresh slice. */
static void dispatch(struct vm *next, uint64_t now)
{
    if (loaded != next) {
        if (loaded && loaded->state != VM_DONE)
            vcpu_save(&loaded->cpu);
        vcpu_load(&next->cpu);
        if (gstage_shared_vmid())
            hfence_gvma_all();
        loaded = next;
    }
    if (hv_current != next) {
        next->st.runs++;
        rr_last = next->index;
    }
    hv_current = next;
    hv_running_vm = (int32_t)next->index;
    slice_time = now;
    slice_cycle = rdcycle();
    slice_instret = rdinstret();
    arm_timer(next, now);
}

/**
 * Reschedule because of `why` (the running VM's tick, yield, wait or end);
 * returns the register frame to resume. Never returns when every VM has ended.
 */
struct regs *sched_switch(enum resched why)
{
    uint64_t now = rdtime();
    struct vm *old = hv_current;
    int fresh = 0;
    account(now);
    if (old && old->state != VM_DONE && old->watchdog && old->life_ticks >= old->watchdog) {
        vm_watchdog(old);
        fresh = old->state != VM_DONE;  /* restarted: its frame is new */
        why = RS_YIELD;
    }
    if (old && why == RS_WAIT)
        old->state = VM_WAITING;
    if (old && why != RS_TICK)
        rr_last = old->index;
    struct vm *next;
    for (;;) {
        replenish(now);
        next = pick(why, now);
        if (next)
            break;
        now = idle(now);
        why = RS_YIELD;
    }
    dispatch(next, now);
    return fresh ? frame_fresh(&next->cpu.r) : &next->cpu.r;
}

/** The first dispatch after boot. */
struct regs *sched_start(void)
{
    return sched_switch(RS_YIELD);
}
