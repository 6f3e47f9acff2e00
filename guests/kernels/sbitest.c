/*
 * sbitest.c: one check per SBI function of the hvsim firmware's contract (SBI spec v2.0:
 * BASE ch. 4, legacy ch. 5, TIME ch. 6, IPI ch. 7, RFENCE ch. 8, HSM ch. 9, SRST ch. 10,
 * DBCN ch. 12; HVSIM and the single-hart rules in docs/hypervisor.md). Prints
 * "ok <name>" or "FAIL <name>: got <x> want <y>" per check, then "sbitest: PASS" or
 * "sbitest: FAIL <n>". The HSM non-retentive suspend runs last (with a timer armed to
 * wake the hart): the summary is printed after the VM resumes at hsm_resume_entry.
 */
#include "klib.h"

#define UNKNOWN_EXT 0x12345678ul
#define BAD_FID 99
#define OUTSIDE_GPA 0x40000000ul
#define WAIT_US 100000
#define TIMER_US 300
#define RESUME_MAGIC 0x5b17e57ul
#define ALL_HARTS (-1ul)
#define SHORT_STATS 12

static unsigned n_fail;
static volatile unsigned timer_irqs, soft_irqs;
static volatile uint64_t timer_irq_time;
static struct hvsim_stats stats_buf;
static uint64_t stats_canary[8];
static char dbcn_buf[16];

static void on_timer(struct trap_frame *f)
{
    (void)f;
    timer_irq_time = rdtime();
    timer_irqs++;
    timer_disarm();
}

static void on_soft(struct trap_frame *f)
{
    (void)f;
    soft_irqs++;
    csr_clear(sip, MIP_SSIP);
}

static void check(const char *name, long got, long want)
{
    if (got == want) {
        kprintf("ok %s\n", name);
    } else {
        n_fail++;
        kprintf("FAIL %s: got %ld want %ld\n", name, got, want);
    }
}

static void check_err(const char *name, struct sbiret r, long want) { check(name, r.error, want); }

static void check_val(const char *name, struct sbiret r, long want)
{
    check(name, r.error ? r.error : r.value, want);
}

static void check_true(const char *name, struct sbiret r, int cond)
{
    if (r.error)
        check(name, r.error, SBI_SUCCESS);
    else
        check(name, cond, 1);
}

static void test_base(void)
{
    static const struct { const char *name; unsigned long ext; } exts[] = {
        {"probe_base", SBI_EXT_BASE}, {"probe_time", SBI_EXT_TIME},
        {"probe_ipi", SBI_EXT_IPI}, {"probe_rfence", SBI_EXT_RFENCE},
        {"probe_hsm", SBI_EXT_HSM}, {"probe_srst", SBI_EXT_SRST},
        {"probe_dbcn", SBI_EXT_DBCN}, {"probe_hvsim", SBI_EXT_HVSIM},
        {"probe_legacy_set_timer", SBI_LEGACY_SET_TIMER},
        {"probe_legacy_putchar", SBI_LEGACY_PUTCHAR},
        {"probe_legacy_getchar", SBI_LEGACY_GETCHAR},
    };
    check_val("base_spec_version", sbi_get_spec_version(), 0x02000000);
    check_val("base_impl_id", sbi_get_impl_id(), 0x6876);
    check_val("base_impl_version", sbi_get_impl_version(), 0x00010000);
    check_err("base_mvendorid", sbi_get_mvendorid(), SBI_SUCCESS);
    check_err("base_marchid", sbi_get_marchid(), SBI_SUCCESS);
    check_err("base_mimpid", sbi_get_mimpid(), SBI_SUCCESS);
    for (unsigned i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        struct sbiret r = sbi_probe_extension(exts[i].ext);
        check_true(exts[i].name, r, r.value != 0);
    }
    check_val("probe_unknown", sbi_probe_extension(UNKNOWN_EXT), 0);
    check_err("base_bad_fid", sbi_call(SBI_EXT_BASE, BAD_FID, 0, 0, 0, 0, 0, 0),
              SBI_ERR_NOT_SUPPORTED);
}

/* Arm the timer TIMER_US ahead with `legacy` or SBI TIME, wait for the interrupt. */
static void timer_round(const char *name, int legacy)
{
    unsigned want = timer_irqs + 1;
    uint64_t when = rdtime() + us_to_ticks(TIMER_US);
    struct sbiret r = {0, 0};
    if (legacy)
        r.error = sbi_legacy_set_timer(when);
    else
        r = sbi_set_timer(when);
    int late = wait_until(&timer_irqs, want, us_to_ticks(TIMER_US + WAIT_US));
    check_true(name, r, !late && timer_irq_time >= when);
}

static void test_time(void)
{
    local_irq_enable();
    timer_round("time_set_timer", 0);
    timer_round("legacy_set_timer", 1);
    local_irq_disable();
    check_err("time_bad_fid", sbi_call(SBI_EXT_TIME, BAD_FID, 0, 0, 0, 0, 0, 0),
              SBI_ERR_NOT_SUPPORTED);
}

static void ipi_round(const char *name, unsigned long mask, unsigned long base)
{
    unsigned want = soft_irqs + 1;
    struct sbiret r = sbi_send_ipi(mask, base);
    int late = wait_until(&soft_irqs, want, us_to_ticks(WAIT_US));
    check_true(name, r, !late && !(csr_read(sip) & MIP_SSIP));
}

static void test_ipi(void)
{
    local_irq_enable();
    ipi_round("ipi_self", 1, 0);
    ipi_round("ipi_all", 0, ALL_HARTS);
    check_err("ipi_bad_mask", sbi_send_ipi(2, 0), SBI_ERR_INVALID_PARAM);
    check_err("ipi_bad_base", sbi_send_ipi(1, 1), SBI_ERR_INVALID_PARAM);
    wait_until(&soft_irqs, 3, us_to_ticks(TIMER_US));
    local_irq_disable();
    check("ipi_bad_no_irq", soft_irqs, 2);
}

static void test_rfence(void)
{
    check_err("rfence_fence_i", sbi_remote_fence_i(1, 0), SBI_SUCCESS);
    check_err("rfence_sfence_vma", sbi_remote_sfence_vma(1, 0, 0, ALL_HARTS), SBI_SUCCESS);
    check_err("rfence_sfence_vma_asid", sbi_remote_sfence_vma_asid(1, 0, 0x80000000, 4096, 1),
              SBI_SUCCESS);
    check_err("rfence_all_harts", sbi_remote_fence_i(0, ALL_HARTS), SBI_SUCCESS);
    check_err("rfence_bad_mask", sbi_remote_fence_i(2, 0), SBI_ERR_INVALID_PARAM);
    check_err("rfence_hfence_gvma_vmid", sbi_remote_hfence_gvma_vmid(1, 0, 0, ALL_HARTS, 0),
              SBI_ERR_NOT_SUPPORTED);
    check_err("rfence_hfence_gvma", sbi_remote_hfence_gvma(1, 0, 0, ALL_HARTS),
              SBI_ERR_NOT_SUPPORTED);
    check_err("rfence_hfence_vvma_asid", sbi_remote_hfence_vvma_asid(1, 0, 0, ALL_HARTS, 0),
              SBI_ERR_NOT_SUPPORTED);
    check_err("rfence_hfence_vvma", sbi_remote_hfence_vvma(1, 0, 0, ALL_HARTS),
              SBI_ERR_NOT_SUPPORTED);
}

/* Retentive suspend with sstatus.SIE = 0 and the timer armed: the call returns once the
 * timer interrupt is pending; opening SIE then takes it. */
static void test_suspend_retentive(void)
{
    unsigned want = timer_irqs + 1;
    uint64_t when = rdtime() + us_to_ticks(TIMER_US);
    timer_arm_at(when);
    struct sbiret r = sbi_hart_suspend(SBI_HSM_SUSPEND_RETENTIVE, 0, 0);
    uint64_t woke = rdtime();
    local_irq_enable();
    int late = wait_until(&timer_irqs, want, us_to_ticks(WAIT_US));
    local_irq_disable();
    check_true("hsm_suspend_retentive", r, woke >= when && !late);
}

/* A suspend that should fail at once, with a timer armed to wake the VM if it does not. */
static struct sbiret suspend_guarded(uint32_t type, unsigned long addr)
{
    timer_arm_at(rdtime() + us_to_ticks(TIMER_US));
    struct sbiret r = sbi_hart_suspend(type, addr, 0);
    timer_disarm();
    return r;
}

static void test_hsm(void)
{
    check_val("hsm_get_status", sbi_hart_get_status(0), SBI_HSM_STATE_STARTED);
    check_err("hsm_get_status_bad", sbi_hart_get_status(1), SBI_ERR_INVALID_PARAM);
    check_err("hsm_start_self", sbi_hart_start(0, (unsigned long)hsm_resume_entry, 0),
              SBI_ERR_ALREADY_AVAILABLE);
    check_err("hsm_start_bad", sbi_hart_start(1, (unsigned long)hsm_resume_entry, 0),
              SBI_ERR_INVALID_PARAM);
    test_suspend_retentive();
    check_err("hsm_suspend_bad_type", suspend_guarded(1, 0), SBI_ERR_INVALID_PARAM);
    check_err("hsm_suspend_bad_addr", suspend_guarded(SBI_HSM_SUSPEND_NON_RETENTIVE, OUTSIDE_GPA),
              SBI_ERR_INVALID_ADDRESS);
    check_err("hsm_bad_fid", sbi_call(SBI_EXT_HSM, BAD_FID, 0, 0, 0, 0, 0, 0),
              SBI_ERR_NOT_SUPPORTED);
}

static void test_dbcn(void)
{
    static const char line[] = "sbitest: dbcn write\n", bytes[] = "sbitest: dbcn write_byte\n";
    unsigned long ram_end = boot.mem_base + boot.mem_size;
    check_val("dbcn_write", sbi_debug_console_write(sizeof line - 1, (unsigned long)line, 0),
              sizeof line - 1);
    long err = 0;
    for (const char *p = bytes; *p && !err; p++)
        err = sbi_debug_console_write_byte((uint8_t)*p).error;
    check("dbcn_write_byte", err, SBI_SUCCESS);
    struct sbiret r = sbi_debug_console_read(sizeof dbcn_buf, (unsigned long)dbcn_buf, 0);
    check_true("dbcn_read", r, (unsigned long)r.value <= sizeof dbcn_buf);
    check_err("dbcn_write_outside", sbi_debug_console_write(4, OUTSIDE_GPA, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_past_end", sbi_debug_console_write(16, ram_end - 8, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_addr_hi", sbi_debug_console_write(4, (unsigned long)line, 1),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_read_outside", sbi_debug_console_read(4, OUTSIDE_GPA, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_bad_fid", sbi_call(SBI_EXT_DBCN, BAD_FID, 0, 0, 0, 0, 0, 0),
              SBI_ERR_NOT_SUPPORTED);
}

static void test_legacy(void)
{
    static const char line[] = "sbitest: legacy putchar\n";
    long err = 0;
    for (const char *p = line; *p && !err; p++)
        err = sbi_legacy_putchar(*p);
    check("legacy_putchar", err, 0);
    check("legacy_getchar", sbi_legacy_getchar(), -1);
    check("legacy_clear_ipi", sbi_legacy_call(SBI_LEGACY_CLEAR_IPI, 0), SBI_ERR_NOT_SUPPORTED);
}

static void test_hvsim(void)
{
    struct sbiret count = sbi_hvsim_vm_count(), id = sbi_hvsim_vm_id();
    check_true("hvsim_vm_count", count, count.value >= 1 && count.value <= 8);
    check_true("hvsim_vm_id", id, id.value >= 0 && id.value < count.value);
    check_val("hvsim_yield", sbi_hvsim_yield(), 0);
    struct sbiret r = sbi_hvsim_stats((unsigned long)&stats_buf, 0, sizeof stats_buf);
    check_val("hvsim_stats", r, sizeof stats_buf);
    check("hvsim_stats_values",
          stats_buf.cycles > 0 && stats_buf.instret > 0 && stats_buf.runs >= 1 &&
              stats_buf.sbi_calls >= 1, 1);
    memset(stats_canary, 0xa5, sizeof stats_canary);
    r = sbi_hvsim_stats((unsigned long)stats_canary, 0, SHORT_STATS);
    check_val("hvsim_stats_short", r, SHORT_STATS);
    unsigned untouched = 0;
    for (unsigned i = SHORT_STATS; i < sizeof stats_canary; i++)
        untouched += ((uint8_t *)stats_canary)[i] == 0xa5;
    check("hvsim_stats_short_untouched", untouched, sizeof stats_canary - SHORT_STATS);
    check_err("hvsim_stats_outside", sbi_hvsim_stats(OUTSIDE_GPA, 0, sizeof stats_buf),
              SBI_ERR_INVALID_ADDRESS);
    check_err("hvsim_stats_past_end",
              sbi_hvsim_stats(boot.mem_base + boot.mem_size - 16, 0, sizeof stats_buf),
              SBI_ERR_INVALID_ADDRESS);
    check_err("hvsim_bad_fid", sbi_call(SBI_EXT_HVSIM, BAD_FID, 0, 0, 0, 0, 0, 0),
              SBI_ERR_NOT_SUPPORTED);
}

static void test_misc(void)
{
    check_err("srst_bad_type", sbi_system_reset(3, SBI_SRST_REASON_NONE), SBI_ERR_INVALID_PARAM);
    check_err("unknown_extension", sbi_call(UNKNOWN_EXT, 0, 0, 0, 0, 0, 0, 0),
              SBI_ERR_NOT_SUPPORTED);
}

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
    if (n_fail)
        kprintf("sbitest: FAIL %u\n", n_fail);
    else
        kprintf("sbitest: PASS\n");
    kshutdown(n_fail != 0);
}

void resume_main(unsigned long hartid, unsigned long opaque)
{
    uint64_t sie_bit = csr_read(sstatus) & MSTATUS_SIE;
    timer_disarm();
    check("hsm_suspend_nonretentive_hartid", (long)hartid, 0);
    check("hsm_suspend_nonretentive_opaque", (long)opaque, (long)RESUME_MAGIC);
    check("hsm_suspend_nonretentive_sie", (long)sie_bit, 0);
    finish();
}

int kmain(unsigned long hartid, const void *dtb)
{
    (void)hartid;
    console_select(CONSOLE_DBCN);
    kprintf("sbitest: SBI v2.0 calls of the hvsim contract\n");
    if (boot_init(dtb)) {
        kprintf("sbitest: FAIL: no usable DTB at %p\n", dtb);
        return 1;
    }
    set_irq_handler(IRQ_STI, on_timer);
    set_irq_handler(IRQ_SSI, on_soft);
    irq_enable(IRQ_STI);
    irq_enable(IRQ_SSI);
    test_base();
    test_time();
    test_ipi();
    test_rfence();
    test_hsm();
    test_dbcn();
    test_legacy();
    test_hvsim();
    test_misc();
    timer_arm_at(rdtime() + us_to_ticks(TIMER_US));
    struct sbiret r = sbi_hart_suspend(SBI_HSM_SUSPEND_NON_RETENTIVE,
                                       (unsigned long)hsm_resume_entry, RESUME_MAGIC);
    n_fail++;
    kprintf("FAIL hsm_suspend_nonretentive: returned (%ld, %ld), want a resume at %p\n",
            r.error, r.value, (void *)hsm_resume_entry);
    timer_disarm();
    finish();
}
