/*
 * sched_parts.h: the steps of a VM switch that sched.c (the budget scheduler) and
 * tp.c (the time-protected schedule) share (docs/hypervisor.md, "Scheduling").
 */
#ifndef HV_SCHED_PARTS_H
#define HV_SCHED_PARTS_H

#include "hv.h"

extern uint64_t hv_run_counters[2];     /* cycle, instret when the running VM came on */

void sched_charge(struct vm *vm, uint64_t now);
void sched_leave(struct vm *vm, uint64_t now);
void sched_load(struct vm *next);
void sched_enter(struct vm *next, uint64_t now, int announce);
void sched_stop_deadlocked(uint64_t event);
uint64_t sched_watchdog_due(const struct vm *run, uint64_t now, uint64_t t);

void tp_init(void);
struct regs *tp_switch(enum resched why);

#endif
