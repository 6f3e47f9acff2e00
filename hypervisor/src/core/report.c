/*
 * report.c: the end of the run. Flushes the guests' consoles, prints the
 * machine-readable records the harness parses (docs/hypervisor.md, "Console
 * protocol": @vm, @exits, @sbi, @sched, @ticks_per_us, @end) and exits with 0
 * when every VM shut down cleanly (SRST shutdown, reason 0).
 */
#include "csr.h"
#include "hv.h"

struct sched_entry { uint64_t start, end; uint32_t vm; };
extern struct sched_entry hv_sched_log[];
extern unsigned hv_sched_len;
extern uint64_t hv_sched_dropped, hv_boot_time;

/** Calls of extension slot `slot`, all functions. */
static uint64_t slot_calls(const struct vm_stats *s, unsigned slot)
{
    uint64_t n = 0;
    for (unsigned j = 0; j <= SBI_FIDS; j++)
        n += s->sbi[slot][j];
    return n;
}

/** Environment calls from VS: every SBI call counted by extension and function. */
static uint64_t ecalls(const struct vm_stats *s)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < SBI_SLOTS; i++)
        n += slot_calls(s, i);
    return n;
}

static void print_vm(struct vm *vm)
{
    struct vm_stats *s = &vm->st;
    s->exits[CAUSE_VIRTUAL_SUPERVISOR_ECALL] = ecalls(s);
    const char *name = vm->cfg->name;
    hv_printf("@vm %u %s state=%s code=%lu cycles=%lu instret=%lu runs=%lu restarts=%lu "
              "irqs=%lu\n", vm->index, name, vm_end_name(vm->end), vm->end_code, s->cycles,
              s->instret, s->runs, s->restarts, s->irqs);
    hv_printf("@exits %s", name);
    for (unsigned i = 0; i < EXIT_KINDS; i++)
        if (s->exits[i])
            hv_printf(" %c%u=%lu", i < 32 ? 'e' : 'i', i & 31, s->exits[i]);
    hv_printf("\n@sbi %s", name);
    for (unsigned i = 0; i < SBI_SLOTS - 1; i++)
        for (unsigned j = 0; j <= SBI_FIDS; j++) {
            if (!s->sbi[i][j])
                continue;
            if (i == sbi_slot_legacy() && j == SBI_FIDS)
                hv_printf(" legacy.other=%lu", s->sbi[i][j]);
            else if (i == sbi_slot_legacy())
                hv_printf(" 0x%x.0=%lu", j, s->sbi[i][j]);
            else if (j == SBI_FIDS)
                hv_printf(" 0x%x.other=%lu", sbi_slot_ext(i), s->sbi[i][j]);
            else
                hv_printf(" 0x%x.%u=%lu", sbi_slot_ext(i), j, s->sbi[i][j]);
        }
    if (slot_calls(s, SBI_SLOTS - 1))      /* unknown extensions: one count */
        hv_printf(" other=%lu", slot_calls(s, SBI_SLOTS - 1));
    hv_putc('\n');
}

/** Every VM has ended: report and leave the machine. */
_Noreturn void hv_finish(void)
{
    uint64_t code = 0;
    csr_write(CSR_STIMECMP, UINT64_MAX);
    for (unsigned i = 0; i < hv_nvms; i++) {
        vm_console_flush(&hv_vms[i]);
        if (hv_vms[i].end != END_SHUTDOWN || hv_vms[i].end_code)
            code = 1;
    }
    for (unsigned i = 0; i < hv_nvms; i++)
        print_vm(&hv_vms[i]);
    for (unsigned i = 0; i < hv_sched_len; i++)
        hv_printf("@sched %lu %lu %s\n", hv_sched_log[i].start - hv_boot_time,
                  hv_sched_log[i].end - hv_boot_time, hv_vms[hv_sched_log[i].vm].cfg->name);
    if (hv_sched_dropped)
        hv_printf("hv: %lu schedule records dropped (log full)\n", hv_sched_dropped);
    if (hv_time_protected)
        hv_printf("@tp windows=%lu overruns=%lu worst=%lu pad=%lu\n", hv_tp.windows,
                  hv_tp.overruns, hv_tp.worst, hv_tp.pad);
    hv_printf("@ticks_per_us %lu\n", hv_platform.timebase_hz / 1000000);
    hv_printf("@end %lu\n", code);
    hv_exit(code);
}
