/*
 * sbitest.c: SBI v2.0 conformance of the hvsim firmware. Every function it claims and
 * every error path the spec defines: chapter 3 (binary encoding: unsupported EIDs and
 * FIDs give SBI_ERR_NOT_SUPPORTED, every register but a0/a1 is preserved, 32-bit
 * parameters, hart masks, shared-memory ranges), BASE ch. 4 (every probe, present and
 * absent), legacy ch. 5, TIME ch. 6, IPI ch. 7, RFENCE ch. 8, HSM ch. 9, SRST ch. 10,
 * DBCN ch. 12 (pointers outside the guest, wrapping, misaligned, empty, a 4 KiB write
 * the firmware may cut short), and the firmware's HVSIM extension (docs/hypervisor.md,
 * "SBI").
 *
 * Prints "ok <name>" or "FAIL <name>: got <x> want <y>" per check, a table of passed
 * checks per extension ("sbitest: BASE 31/31"), then "sbitest: PASS" or
 * "sbitest: FAIL <n>". The HSM non-retentive suspend runs last (with a timer armed to
 * wake the hart): the table is printed after the VM resumes at hsm_resume_entry.
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
#define PAGE 4096ul
#define BIT32 (1ul << 32)
#define NOT_REGISTER (-1l)
#define LEGACY_CLEAR_IPI 0x03
#define LEGACY_SEND_IPI 0x04
#define LEGACY_SFENCE_VMA_ASID 0x07
#define LEGACY_SHUTDOWN 0x08
#define LEGACY_RESERVED 0x09
#define LEGACY_LAST 0x0F
#define LONG_WRITE 4096u
#define LONG_LINE 64u

/* The extensions the table at the end counts checks for. */
enum group { G_BASE, G_LEGACY, G_TIME, G_IPI, G_RFENCE, G_HSM, G_SRST, G_DBCN, G_HVSIM,
             G_UNSUPPORTED, G_COUNT };
static const char *const group_names[G_COUNT] = {
    "BASE", "LEGACY", "TIME", "IPI", "RFENCE", "HSM", "SRST", "DBCN", "HVSIM", "UNSUPPORTED",
};

static unsigned n_fail, group;
static unsigned n_run[G_COUNT], n_pass[G_COUNT];
static volatile unsigned timer_irqs, soft_irqs;
static volatile uint64_t timer_irq_time;
static struct hvsim_stats stats_buf;
static uint64_t stats_canary[8];
static uint8_t stats_bytes[sizeof(struct hvsim_stats) + 16];
static char dbcn_buf[16];
static char dbcn_long[LONG_WRITE];

/* ecall_gprs(in, out): load x1 and x3..x31 from in->x[], ecall, store them to out->x[]
 * (sp is kept; ra, gp, tp and s0..s11 are restored before returning). */
struct gprs { uint64_t x[32]; };
void ecall_gprs(const struct gprs *in, struct gprs *out);
__asm__(
    "  .text\n"
    "  .balign 4\n"
    "ecall_gprs:\n"
    "  addi sp, sp, -128\n"
    "  sd ra, 0(sp)\n"
    "  sd gp, 8(sp)\n"
    "  sd tp, 16(sp)\n"
    "  sd s0, 24(sp)\n"
    "  sd s1, 32(sp)\n"
    "  .irp n, 18,19,20,21,22,23,24,25,26,27\n"
    "  sd x\\n, (8 * \\n - 104)(sp)\n"
    "  .endr\n"
    "  sd a1, 120(sp)\n"
    "  .irp n, 1,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  ld x\\n, (8 * \\n)(a0)\n"
    "  .endr\n"
    "  ld a0, 80(a0)\n"
    "  ecall\n"
    "  addi sp, sp, -8\n"
    "  sd t0, 0(sp)\n"
    "  ld t0, 128(sp)\n"
    "  .irp n, 1,3,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "  sd x\\n, (8 * \\n)(t0)\n"
    "  .endr\n"
    "  ld t1, 0(sp)\n"
    "  sd t1, 40(t0)\n"
    "  addi sp, sp, 8\n"
    "  ld ra, 0(sp)\n"
    "  ld gp, 8(sp)\n"
    "  ld tp, 16(sp)\n"
    "  ld s0, 24(sp)\n"
    "  ld s1, 32(sp)\n"
    "  .irp n, 18,19,20,21,22,23,24,25,26,27\n"
    "  ld x\\n, (8 * \\n - 104)(sp)\n"
    "  .endr\n"
    "  addi sp, sp, 128\n"
    "  ret\n");

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
    n_run[group]++;
    if (got == want) {
        n_pass[group]++;
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

static struct sbiret call0(unsigned long ext, unsigned long fid)
{
    return sbi_call(ext, fid, 0, 0, 0, 0, 0, 0);
}

static int timer_pending(void) { return (csr_read(sip) & MIP_STIP) != 0; }

/* Take whatever software interrupt is pending; return how many were taken. */
static unsigned take_soft_irqs(void)
{
    unsigned before = soft_irqs;
    local_irq_enable();
    __asm__ volatile("nop; nop");
    local_irq_disable();
    return soft_irqs - before;
}

/* ---------------------------------------------------------------- ch. 3: registers */

/* One call of the register check: what goes in a7, a6 and a0..a2. */
struct reg_case {
    const char *name;
    unsigned grp;
    unsigned long ext, fid, a0, a1, a2;
};

/* Make the call with every other register holding a pattern (legacy calls take a0
 * only and ignore a6); return the number of the first register other than a0 (and a1
 * for v0.2+ calls) that changed, or -1. */
static long first_clobbered(const struct reg_case *c)
{
    static struct gprs in, out;
    for (unsigned i = 0; i < 32; i++)
        in.x[i] = 0x5b10000000000000ul ^ ((uint64_t)i * 0x0101010101ul);
    int legacy = c->ext <= LEGACY_LAST;
    in.x[10] = c->a0;
    if (!legacy) {
        in.x[11] = c->a1;
        in.x[12] = c->a2;
        in.x[16] = c->fid;
    }
    in.x[17] = c->ext;
    ecall_gprs(&in, &out);
    unsigned first_kept = legacy ? 11 : 12;
    for (unsigned i = 1; i < 32; i++)
        if (i != 2 && i != 10 && (i >= first_kept || i < 10) && out.x[i] != in.x[i])
            return (long)i;
    return NOT_REGISTER;
}

static void test_registers(void)
{
    static const struct reg_case cases[] = {
        {"regs_base_spec_version", G_BASE, SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION, 0, 0, 0},
        {"regs_base_probe", G_BASE, SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, SBI_EXT_TIME, 0, 0},
        {"regs_time_set_timer", G_TIME, SBI_EXT_TIME, SBI_TIME_SET_TIMER, -1ul, 0, 0},
        {"regs_ipi_no_harts", G_IPI, SBI_EXT_IPI, SBI_IPI_SEND_IPI, 0, 0, 0},
        {"regs_rfence_fence_i", G_RFENCE, SBI_EXT_RFENCE, SBI_RFENCE_FENCE_I, 1, 0, 0},
        {"regs_hsm_get_status", G_HSM, SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, 0, 0, 0},
        {"regs_srst_bad_type", G_SRST, SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET, 3, 0, 0},
        {"regs_dbcn_write_empty", G_DBCN, SBI_EXT_DBCN, SBI_DBCN_WRITE, 0,
         (unsigned long)dbcn_buf, 0},
        {"regs_hvsim_vm_id", G_HVSIM, SBI_EXT_HVSIM, SBI_HVSIM_VM_ID, 0, 0, 0},
        {"regs_unknown_extension", G_UNSUPPORTED, UNKNOWN_EXT, 0, 0, 0, 0},
        {"regs_legacy_set_timer", G_LEGACY, SBI_LEGACY_SET_TIMER, 0, -1ul, 0, 0},
        {"regs_legacy_getchar", G_LEGACY, SBI_LEGACY_GETCHAR, 0, 0, 0, 0},
        {"regs_legacy_clear_ipi", G_LEGACY, LEGACY_CLEAR_IPI, 0, 0, 0, 0},
        {"regs_legacy_reserved", G_LEGACY, LEGACY_RESERVED, 0, 0, 0, 0},
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        group = cases[i].grp;
        check(cases[i].name, first_clobbered(&cases[i]), NOT_REGISTER);
    }
}

/* ---------------------------------------------------------------- ch. 4: BASE */

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
        {"probe_legacy_shutdown", LEGACY_SHUTDOWN},
    };
    static const struct { const char *name; unsigned long ext; } absent[] = {
        {"probe_pmu_absent", 0x504D55}, {"probe_susp_absent", 0x53555350},
        {"probe_cppc_absent", 0x43505043}, {"probe_nacl_absent", 0x4E41434C},
        {"probe_sta_absent", 0x535441}, {"probe_legacy_clear_ipi_absent", LEGACY_CLEAR_IPI},
        {"probe_legacy_send_ipi_absent", LEGACY_SEND_IPI},
        {"probe_legacy_sfence_vma_asid_absent", LEGACY_SFENCE_VMA_ASID},
        {"probe_legacy_reserved_absent", LEGACY_RESERVED},
        {"probe_legacy_last_absent", LEGACY_LAST},
        {"probe_experimental_absent", 0x08000000}, {"probe_vendor_absent", 0x09000000},
        {"probe_firmware_absent", 0x0A000000}, {"probe_unknown", UNKNOWN_EXT},
        {"probe_minus_one_absent", -1ul},
    };
    group = G_BASE;
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
    for (unsigned i = 0; i < sizeof absent / sizeof absent[0]; i++)
        check_val(absent[i].name, sbi_probe_extension(absent[i].ext), 0);
}

/* ---------------------------------------------------------------- ch. 3: bad IDs */

static void test_bad_ids(void)
{
    static const struct { const char *name; unsigned grp; unsigned long ext, fid; } fids[] = {
        {"base_bad_fid", G_BASE, SBI_EXT_BASE, 7},
        {"base_bad_fid_negative", G_BASE, SBI_EXT_BASE, -1ul},
        {"time_bad_fid", G_TIME, SBI_EXT_TIME, 1},
        {"time_bad_fid_large", G_TIME, SBI_EXT_TIME, BAD_FID},
        {"ipi_bad_fid", G_IPI, SBI_EXT_IPI, 1},
        {"rfence_bad_fid", G_RFENCE, SBI_EXT_RFENCE, 7},
        {"hsm_bad_fid", G_HSM, SBI_EXT_HSM, 4},
        {"hsm_bad_fid_large", G_HSM, SBI_EXT_HSM, BAD_FID},
        {"srst_bad_fid", G_SRST, SBI_EXT_SRST, 1},
        {"dbcn_bad_fid", G_DBCN, SBI_EXT_DBCN, 3},
        {"dbcn_bad_fid_negative", G_DBCN, SBI_EXT_DBCN, -1ul},
        {"hvsim_bad_fid", G_HVSIM, SBI_EXT_HVSIM, 4},
        {"hvsim_bad_fid_large", G_HVSIM, SBI_EXT_HVSIM, BAD_FID},
        {"unknown_extension", G_UNSUPPORTED, UNKNOWN_EXT, 0},
        {"pmu_unsupported", G_UNSUPPORTED, 0x504D55, 0},
        {"susp_unsupported", G_UNSUPPORTED, 0x53555350, 0},
        {"cppc_unsupported", G_UNSUPPORTED, 0x43505043, 0},
        {"nacl_unsupported", G_UNSUPPORTED, 0x4E41434C, 0},
        {"sta_unsupported", G_UNSUPPORTED, 0x535441, 0},
        {"experimental_unsupported", G_UNSUPPORTED, 0x08000000, 0},
        {"vendor_unsupported", G_UNSUPPORTED, 0x09000000, 0},
        {"firmware_unsupported", G_UNSUPPORTED, 0x0A000000, 0},
        {"eid_minus_one_unsupported", G_UNSUPPORTED, -1ul, 0},
    };
    for (unsigned i = 0; i < sizeof fids / sizeof fids[0]; i++) {
        group = fids[i].grp;
        check_err(fids[i].name, call0(fids[i].ext, fids[i].fid), SBI_ERR_NOT_SUPPORTED);
    }
}

/* ---------------------------------------------------------------- ch. 6: TIME */

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

/* With SIE = 0: arm at `when` (in the past), see the interrupt pending, then disarm
 * with (uint64_t)-1 and see it cleared (SBI 6.1 and 5.1: set_timer clears it). */
static void timer_pending_round(int legacy, uint64_t when, int *pending, int *cleared)
{
    if (legacy)
        sbi_legacy_set_timer(when);
    else
        sbi_set_timer(when);
    uint64_t start = rdtime();
    while (!timer_pending() && rdtime() - start < us_to_ticks(WAIT_US))
        ;
    *pending = timer_pending();
    if (legacy)
        sbi_legacy_set_timer(UINT64_MAX);
    else
        sbi_set_timer(UINT64_MAX);
    *cleared = !timer_pending();
}

static void test_time(void)
{
    int pending, cleared;
    group = G_TIME;
    local_irq_enable();
    timer_round("time_set_timer", 0);
    local_irq_disable();
    timer_pending_round(0, rdtime() - 1, &pending, &cleared);
    check("time_set_timer_past_pending", pending, 1);
    check("time_set_timer_clears_pending", cleared, 1);
    timer_pending_round(0, 0, &pending, &cleared);
    check("time_set_timer_zero_pending", pending, 1);
    check("time_set_timer_zero_clears", cleared, 1);
    check("time_no_irq_while_masked", timer_irqs, 1);
    group = G_LEGACY;
    local_irq_enable();
    timer_round("legacy_set_timer", 1);
    local_irq_disable();
    timer_pending_round(1, rdtime() - 1, &pending, &cleared);
    check("legacy_set_timer_past_pending", pending, 1);
    check("legacy_set_timer_clears_pending", cleared, 1);
}

/* ---------------------------------------------------------------- ch. 7: IPI */

static void ipi_round(const char *name, unsigned long mask, unsigned long base)
{
    unsigned want = soft_irqs + 1;
    struct sbiret r = sbi_send_ipi(mask, base);
    local_irq_enable();
    int late = wait_until(&soft_irqs, want, us_to_ticks(WAIT_US));
    local_irq_disable();
    check_true(name, r, !late && !(csr_read(sip) & MIP_SSIP));
}

/* A call that must succeed (or fail with `want`) without raising any IPI. */
static void ipi_quiet(const char *name, unsigned long mask, unsigned long base, long want)
{
    struct sbiret r = sbi_send_ipi(mask, base);
    unsigned taken = take_soft_irqs();
    check(name, r.error ? r.error : (long)taken, want);
}

static void test_ipi(void)
{
    group = G_IPI;
    ipi_round("ipi_self", 1, 0);
    ipi_round("ipi_all", 0, ALL_HARTS);
    ipi_round("ipi_all_mask_ignored", 0x5a5a, ALL_HARTS);
    ipi_quiet("ipi_no_harts", 0, 0, 0);
    /* SBI v3.0 3.1 (a clarification): hart_mask_base need not be a valid hart unless
     * bit 0 of hart_mask is set. */
    ipi_quiet("ipi_no_harts_other_base", 0, 5, 0);
    ipi_quiet("ipi_bad_mask", 2, 0, SBI_ERR_INVALID_PARAM);
    ipi_quiet("ipi_bad_base", 1, 1, SBI_ERR_INVALID_PARAM);
    ipi_quiet("ipi_bad_mask_high_bit", 1ul << 63, 0, SBI_ERR_INVALID_PARAM);
    ipi_quiet("ipi_bad_mask_self_and_other", 3, 0, SBI_ERR_INVALID_PARAM);
    ipi_quiet("ipi_bad_base_minus_two", 1, -2ul, SBI_ERR_INVALID_PARAM);
    check("ipi_bad_no_irq", soft_irqs, 3);
}

/* ---------------------------------------------------------------- ch. 8: RFENCE */

static void test_rfence(void)
{
    group = G_RFENCE;
    check_err("rfence_fence_i", sbi_remote_fence_i(1, 0), SBI_SUCCESS);
    check_err("rfence_sfence_vma", sbi_remote_sfence_vma(1, 0, 0, ALL_HARTS), SBI_SUCCESS);
    check_err("rfence_sfence_vma_asid", sbi_remote_sfence_vma_asid(1, 0, 0x80000000, 4096, 1),
              SBI_SUCCESS);
    check_err("rfence_all_harts", sbi_remote_fence_i(0, ALL_HARTS), SBI_SUCCESS);
    check_err("rfence_no_harts", sbi_remote_fence_i(0, 0), SBI_SUCCESS);
    check_err("rfence_sfence_vma_all_zero", sbi_remote_sfence_vma(1, 0, 0, 0), SBI_SUCCESS);
    check_err("rfence_sfence_vma_empty", sbi_remote_sfence_vma(1, 0, 0x80000000, 0),
              SBI_SUCCESS);
    check_err("rfence_sfence_vma_many_pages",
              sbi_remote_sfence_vma(1, 0, 0x80000000, 65 * PAGE), SBI_SUCCESS);
    check_err("rfence_sfence_vma_wrap", sbi_remote_sfence_vma(1, 0, -PAGE, PAGE - 1),
              SBI_SUCCESS);
    check_err("rfence_sfence_vma_asid_wrap",
              sbi_remote_sfence_vma_asid(1, 0, -PAGE / 2, PAGE, 1), SBI_SUCCESS);
    check_err("rfence_sfence_vma_top_page", sbi_remote_sfence_vma(1, 0, -PAGE, PAGE),
              SBI_SUCCESS);
    check_err("rfence_sfence_vma_asid_all", sbi_remote_sfence_vma_asid(0, ALL_HARTS, 0, 0, 3),
              SBI_SUCCESS);
    check_err("rfence_bad_mask", sbi_remote_fence_i(2, 0), SBI_ERR_INVALID_PARAM);
    check_err("rfence_bad_base", sbi_remote_fence_i(1, 1), SBI_ERR_INVALID_PARAM);
    check_err("rfence_sfence_vma_bad_mask", sbi_remote_sfence_vma(2, 0, 0, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("rfence_sfence_vma_asid_bad_base", sbi_remote_sfence_vma_asid(1, 7, 0, 0, 1),
              SBI_ERR_INVALID_PARAM);
    check_err("rfence_hfence_gvma_vmid", sbi_remote_hfence_gvma_vmid(1, 0, 0, ALL_HARTS, 0),
              SBI_ERR_NOT_SUPPORTED);
    check_err("rfence_hfence_gvma", sbi_remote_hfence_gvma(1, 0, 0, ALL_HARTS),
              SBI_ERR_NOT_SUPPORTED);
    check_err("rfence_hfence_vvma_asid", sbi_remote_hfence_vvma_asid(1, 0, 0, ALL_HARTS, 0),
              SBI_ERR_NOT_SUPPORTED);
    check_err("rfence_hfence_vvma", sbi_remote_hfence_vvma(1, 0, 0, ALL_HARTS),
              SBI_ERR_NOT_SUPPORTED);
}

/* ---------------------------------------------------------------- ch. 9: HSM */

/* Retentive suspend with sstatus.SIE = 0 and the timer armed: the call returns once the
 * timer interrupt is pending; opening SIE then takes it. */
static void suspend_retentive(const char *name, unsigned long type)
{
    unsigned want = timer_irqs + 1;
    uint64_t when = rdtime() + us_to_ticks(TIMER_US);
    timer_arm_at(when);
    struct sbiret r = sbi_call(SBI_EXT_HSM, SBI_HSM_HART_SUSPEND, type, 0, 0, 0, 0, 0);
    uint64_t woke = rdtime();
    local_irq_enable();
    int late = wait_until(&timer_irqs, want, us_to_ticks(WAIT_US));
    local_irq_disable();
    if (r.error)
        timer_disarm();
    check_true(name, r, woke >= when && !late);
}

/* A suspend that should fail at once, with a timer armed to wake the VM if it does not. */
static struct sbiret suspend_guarded(unsigned long type, unsigned long addr)
{
    timer_arm_at(rdtime() + us_to_ticks(TIMER_US));
    struct sbiret r = sbi_call(SBI_EXT_HSM, SBI_HSM_HART_SUSPEND, type, addr, 0, 0, 0, 0);
    timer_disarm();
    return r;
}

static void test_hsm(void)
{
    static const struct { const char *name; unsigned long type; } bad_types[] = {
        {"hsm_suspend_bad_type", 1},
        {"hsm_suspend_reserved_retentive_last", 0x0FFFFFFF},
        {"hsm_suspend_reserved_nonretentive", 0x80000001},
        {"hsm_suspend_reserved_nonretentive_last", 0x8FFFFFFF},
        /* SBI 9.4, "HSM Hart Suspend Errors": platform-specific and unimplemented
         * types are SBI_ERR_INVALID_PARAM too. */
        {"hsm_suspend_platform_retentive", 0x10000000},
        {"hsm_suspend_platform_nonretentive", 0x90000000},
    };
    unsigned long entry = (unsigned long)hsm_resume_entry;
    unsigned irqs = timer_irqs;
    group = G_HSM;
    check_val("hsm_get_status", sbi_hart_get_status(0), SBI_HSM_STATE_STARTED);
    check_err("hsm_get_status_bad", sbi_hart_get_status(1), SBI_ERR_INVALID_PARAM);
    check_err("hsm_get_status_minus_one", sbi_hart_get_status(-1ul), SBI_ERR_INVALID_PARAM);
    check_err("hsm_start_self", sbi_hart_start(0, entry, 0), SBI_ERR_ALREADY_AVAILABLE);
    check_err("hsm_start_bad", sbi_hart_start(1, entry, 0), SBI_ERR_INVALID_PARAM);
    check_err("hsm_start_minus_one", sbi_hart_start(-1ul, entry, 0), SBI_ERR_INVALID_PARAM);
    suspend_retentive("hsm_suspend_retentive", SBI_HSM_SUSPEND_RETENTIVE);
    /* SBI 3: suspend_type is 32 bits wide, the SBI implementation uses only those. */
    suspend_retentive("hsm_suspend_type_upper_bits", BIT32 | SBI_HSM_SUSPEND_RETENTIVE);
    for (unsigned i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++)
        check_err(bad_types[i].name, suspend_guarded(bad_types[i].type, 0),
                  SBI_ERR_INVALID_PARAM);
    check_err("hsm_suspend_bad_addr", suspend_guarded(SBI_HSM_SUSPEND_NON_RETENTIVE, OUTSIDE_GPA),
              SBI_ERR_INVALID_ADDRESS);
    check_err("hsm_suspend_addr_uart",
              suspend_guarded(SBI_HSM_SUSPEND_NON_RETENTIVE, UART0_BASE),
              SBI_ERR_INVALID_ADDRESS);
    check_err("hsm_suspend_addr_minus_one", suspend_guarded(SBI_HSM_SUSPEND_NON_RETENTIVE, -1ul),
              SBI_ERR_INVALID_ADDRESS);
    check("hsm_no_stray_timer_irq", timer_irqs - irqs, 2);
}

/* ---------------------------------------------------------------- ch. 10: SRST */

static void test_srst(void)
{
    static const struct { const char *name; unsigned long type, reason; } bad[] = {
        {"srst_bad_type", 3, SBI_SRST_REASON_NONE},
        {"srst_reserved_type_last", 0xEFFFFFFF, SBI_SRST_REASON_NONE},
        {"srst_vendor_type", 0xF0000000, SBI_SRST_REASON_NONE},
        {"srst_vendor_type_last", 0xFFFFFFFF, SBI_SRST_REASON_NONE},
        {"srst_reserved_reason", SBI_SRST_TYPE_SHUTDOWN, 2},
        {"srst_reserved_reason_last", SBI_SRST_TYPE_SHUTDOWN, 0xDFFFFFFF},
        {"srst_reboot_reserved_reason", SBI_SRST_TYPE_COLD_REBOOT, 2},
    };
    group = G_SRST;
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_err(bad[i].name,
                  sbi_call(SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET, bad[i].type, bad[i].reason, 0,
                           0, 0, 0),
                  SBI_ERR_INVALID_PARAM);
}

/* ---------------------------------------------------------------- ch. 12: DBCN */

/* Fill dbcn_long with copies of one LONG_LINE-byte line (dots up to its '\n'). */
static void fill_long_write(void)
{
    static const char head[] = "sbitest: dbcn long write ";
    for (unsigned i = 0; i < LONG_WRITE; i++) {
        unsigned col = i % LONG_LINE;
        dbcn_long[i] = col == LONG_LINE - 1 ? '\n' : col < sizeof head - 1 ? head[col] : '.';
    }
}

/* SBI 12.1: a write may move fewer bytes than asked (hvsim moves at most 256 per
 * call); hvsim's console always accepts bytes, so it moves at least one. */
static void test_dbcn_long(void)
{
    fill_long_write();
    struct sbiret r = sbi_debug_console_write(LONG_WRITE, (unsigned long)dbcn_long, 0);
    check_true("dbcn_write_long", r, r.value > 0 && (unsigned long)r.value <= LONG_WRITE);
}

static void test_dbcn(void)
{
    static const char line[] = "sbitest: dbcn write\n", bytes[] = "sbitest: dbcn write_byte\n";
    static const char odd[] = "xsbitest: dbcn write misaligned\n";
    static const char hi[] = "sbitest: dbcn write with base_addr_hi bit 32\n";
    unsigned long ram_end = boot.mem_base + boot.mem_size, buf = (unsigned long)dbcn_buf;
    group = G_DBCN;
    check_val("dbcn_write", sbi_debug_console_write(sizeof line - 1, (unsigned long)line, 0),
              sizeof line - 1);
    long err = 0;
    for (const char *p = bytes; *p && !err; p++) {
        struct sbiret r = sbi_debug_console_write_byte((uint8_t)*p);
        err = r.error ? r.error : r.value;
    }
    check("dbcn_write_byte", err, SBI_SUCCESS);
    check_val("dbcn_write_misaligned",
              sbi_debug_console_write(sizeof odd - 2, (unsigned long)odd + 1, 0), sizeof odd - 2);
    check_val("dbcn_write_empty", sbi_debug_console_write(0, (unsigned long)line, 0), 0);
    test_dbcn_long();
    struct sbiret r = sbi_debug_console_read(sizeof dbcn_buf, buf, 0);
    check_true("dbcn_read", r, (unsigned long)r.value <= sizeof dbcn_buf);
    r = sbi_debug_console_read(sizeof dbcn_buf - 1, buf + 1, 0);
    check_true("dbcn_read_misaligned", r, (unsigned long)r.value < sizeof dbcn_buf);
    check_val("dbcn_read_empty", sbi_debug_console_read(0, buf, 0), 0);
    check_err("dbcn_write_outside", sbi_debug_console_write(4, OUTSIDE_GPA, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_uart", sbi_debug_console_write(4, UART0_BASE, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_past_end", sbi_debug_console_write(16, ram_end - 8, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_one_past_end", sbi_debug_console_write(9, ram_end - 8, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_wrap", sbi_debug_console_write(-PAGE, boot.mem_base + 2 * PAGE, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_length_max", sbi_debug_console_write(-1ul, (unsigned long)line, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_write_addr_hi", sbi_debug_console_write(4, (unsigned long)line, 1),
              SBI_ERR_INVALID_PARAM);
    /* SBI 12.1: base_addr_hi holds the upper XLEN bits of the address. */
    check_err("dbcn_write_addr_hi_bit32",
              sbi_debug_console_write(sizeof hi - 1, (unsigned long)hi, BIT32),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_read_outside", sbi_debug_console_read(4, OUTSIDE_GPA, 0),
              SBI_ERR_INVALID_PARAM);
    check_err("dbcn_read_wrap", sbi_debug_console_read(-PAGE, buf, 0), SBI_ERR_INVALID_PARAM);
    check_err("dbcn_read_addr_hi", sbi_debug_console_read(4, buf, 1), SBI_ERR_INVALID_PARAM);
    check_err("dbcn_read_addr_hi_bit32", sbi_debug_console_read(4, buf, BIT32),
              SBI_ERR_INVALID_PARAM);
}

/* ---------------------------------------------------------------- ch. 5: legacy */

static void test_legacy(void)
{
    static const char line[] = "sbitest: legacy putchar\n";
    group = G_LEGACY;
    long err = 0;
    for (const char *p = line; *p && !err; p++)
        err = sbi_legacy_putchar(*p);
    check("legacy_putchar", err, 0);
    check("legacy_getchar", sbi_legacy_getchar(), -1);
    check("legacy_getchar_fid_ignored",
          sbi_call(SBI_LEGACY_GETCHAR, BAD_FID, 0, 0, 0, 0, 0, 0).error, -1);
    check("legacy_clear_ipi", sbi_legacy_call(SBI_LEGACY_CLEAR_IPI, 0), SBI_ERR_NOT_SUPPORTED);
    for (unsigned long ext = LEGACY_SEND_IPI; ext <= LEGACY_SFENCE_VMA_ASID; ext++)
        check("legacy_unimplemented", sbi_legacy_call(ext, 0), SBI_ERR_NOT_SUPPORTED);
    check("legacy_reserved", sbi_legacy_call(LEGACY_RESERVED, 0), SBI_ERR_NOT_SUPPORTED);
    check("legacy_reserved_last", sbi_legacy_call(LEGACY_LAST, 0), SBI_ERR_NOT_SUPPORTED);
}

/* ---------------------------------------------------------------- HVSIM */

static unsigned untouched_bytes(const uint8_t *p, unsigned from, unsigned to)
{
    unsigned n = 0;
    for (unsigned i = from; i < to; i++)
        n += p[i] == 0xa5;
    return n;
}

static void test_hvsim_pointers(void)
{
    unsigned long ram_end = boot.mem_base + boot.mem_size;
    struct hvsim_stats copy;
    memset(stats_bytes, 0xa5, sizeof stats_bytes);
    struct sbiret r = sbi_hvsim_stats((unsigned long)stats_bytes + 1, 0, sizeof copy);
    memcpy(&copy, stats_bytes + 1, sizeof copy);
    check_val("hvsim_stats_misaligned", r, sizeof copy);
    check("hvsim_stats_misaligned_values",
          copy.cycles > 0 && copy.instret > 0 && copy.runs >= 1 && stats_bytes[0] == 0xa5 &&
              untouched_bytes(stats_bytes, 1 + sizeof copy, sizeof stats_bytes) ==
                  sizeof stats_bytes - 1 - sizeof copy, 1);
    memset(stats_bytes, 0xa5, sizeof stats_bytes);
    check_val("hvsim_stats_zero", sbi_hvsim_stats((unsigned long)stats_bytes, 0, 0), 0);
    check("hvsim_stats_zero_untouched", untouched_bytes(stats_bytes, 0, sizeof stats_bytes),
          sizeof stats_bytes);
    check_err("hvsim_stats_outside", sbi_hvsim_stats(OUTSIDE_GPA, 0, sizeof stats_buf),
              SBI_ERR_INVALID_ADDRESS);
    check_err("hvsim_stats_past_end", sbi_hvsim_stats(ram_end - 16, 0, sizeof stats_buf),
              SBI_ERR_INVALID_ADDRESS);
    check_err("hvsim_stats_one_past_end", sbi_hvsim_stats(ram_end - 47, 0, 48),
              SBI_ERR_INVALID_ADDRESS);
    check_err("hvsim_stats_wrap", sbi_hvsim_stats(-16ul, 0, sizeof stats_buf),
              SBI_ERR_INVALID_ADDRESS);
    check_err("hvsim_stats_addr_hi", sbi_hvsim_stats((unsigned long)&stats_buf, 1, 8),
              SBI_ERR_INVALID_ADDRESS);
    /* addr_hi is the upper XLEN bits, as base_addr_hi of DBCN (SBI 12.1). */
    check_err("hvsim_stats_addr_hi_bit32",
              sbi_hvsim_stats((unsigned long)&stats_buf, BIT32, 8), SBI_ERR_INVALID_ADDRESS);
}

static void test_hvsim(void)
{
    group = G_HVSIM;
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
    check("hvsim_stats_short_untouched",
          untouched_bytes((const uint8_t *)stats_canary, SHORT_STATS, sizeof stats_canary),
          sizeof stats_canary - SHORT_STATS);
    test_hvsim_pointers();
}

/* ---------------------------------------------------------------- the end */

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
    for (unsigned g = 0; g < G_COUNT; g++)
        kprintf("sbitest: %s %u/%u\n", group_names[g], n_pass[g], n_run[g]);
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
    group = G_HSM;
    check("hsm_suspend_nonretentive_hartid", (long)hartid, 0);
    check("hsm_suspend_nonretentive_opaque", (long)opaque, (long)RESUME_MAGIC);
    check("hsm_suspend_nonretentive_sie", (long)sie_bit, 0);
    check("hsm_suspend_nonretentive_satp", (long)csr_read(satp), 0);
    finish();
}

int kmain(unsigned long hartid, const void *dtb)
{
    (void)hartid;
    console_select(CONSOLE_DBCN);
    kprintf("sbitest: SBI v2.0 conformance of the hvsim firmware\n");
    if (boot_init(dtb)) {
        kprintf("sbitest: FAIL: no usable DTB at %p\n", dtb);
        return 1;
    }
    set_irq_handler(IRQ_STI, on_timer);
    set_irq_handler(IRQ_SSI, on_soft);
    irq_enable(IRQ_STI);
    irq_enable(IRQ_SSI);
    local_irq_disable();
    test_base();
    test_bad_ids();
    test_registers();
    test_time();
    test_ipi();
    test_rfence();
    test_hsm();
    test_srst();
    test_dbcn();
    test_legacy();
    test_hvsim();
    group = G_HSM;
    timer_arm_at(rdtime() + us_to_ticks(TIMER_US));
    struct sbiret r = sbi_hart_suspend(SBI_HSM_SUSPEND_NON_RETENTIVE,
                                       (unsigned long)hsm_resume_entry, RESUME_MAGIC);
    n_fail++;
    kprintf("FAIL hsm_suspend_nonretentive: returned (%ld, %ld), want a resume at %p\n",
            r.error, r.value, (void *)hsm_resume_entry);
    timer_disarm();
    finish();
}
