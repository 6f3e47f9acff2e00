/*
 * hvbench.c: measurement guest for the issue 5 figures, timed with the `time` CSR (the
 * cycle counter may be unavailable in VS-mode). Prints "bench <name> n=<N> ticks=<total>":
 *   sbi_null       N null SBI calls (BASE get_spec_version, SBI spec v2.0 section 4.1);
 *                  the ecall carries the global label `hvbench_null_ecall`;
 *   uart_store     N one-byte stores to the virtual ns16550 THR (a G-stage fault emulated
 *                  by the hypervisor); the store carries the label `hvbench_uart_store`;
 *   timer_latency  N times: arm SBI TIME at T, spin, and in the handler add rdtime() - T;
 *   ipi            N SBI send_ipi calls to itself: from just before the ecall (label
 *                  `hvbench_ipi_ecall`) to the supervisor software interrupt handler;
 *   yield          N HVSIM yield calls.
 * A harness finds the labels in the symbol table and matches them in a retirement trace.
 * With args[0] = 1 (a2 at entry) it is the yield partner instead: it yields N_YIELD + 1
 * times and shuts down, so each timed yield of the measuring VM (after one untimed
 * warm-up yield, during which the partner boots) is a switch there and back.
 */
#include "klib.h"

#define N_NULL 200
#define N_UART 50
#define N_TIMER 10
#define N_YIELD 20
#define N_IPI 20
#define TIMER_AHEAD_US 50
#define TIMEOUT_US 100000

static volatile unsigned timer_irqs;
static volatile uint64_t timer_deadline, timer_latency_sum;
static volatile unsigned ipi_irqs;
static volatile uint64_t ipi_start, ipi_latency_sum;

__attribute__((noinline)) static long null_call(void)
{
    register unsigned long a0 __asm__("a0");
    register unsigned long a1 __asm__("a1");
    register unsigned long a6 __asm__("a6") = SBI_BASE_GET_SPEC_VERSION;
    register unsigned long a7 __asm__("a7") = SBI_EXT_BASE;
    __asm__ volatile(".globl hvbench_null_ecall\nhvbench_null_ecall:\n\tecall"
                     : "=r"(a0), "=r"(a1) : "r"(a6), "r"(a7) : "memory");
    return (long)a0;
}

__attribute__((noinline)) static void uart_store(uint8_t c)
{
    __asm__ volatile(".globl hvbench_uart_store\nhvbench_uart_store:\n\tsb %0, %1(%2)"
                     : : "r"(c), "i"(UART0_THR), "r"(UART0_BASE) : "memory");
}

static void on_timer(struct trap_frame *f)
{
    (void)f;
    timer_latency_sum += rdtime() - timer_deadline;
    timer_irqs++;
    timer_disarm();
}

__attribute__((noinline)) static void send_ipi_self(void)
{
    register unsigned long a0 __asm__("a0") = 1;
    register unsigned long a1 __asm__("a1") = 0;
    register unsigned long a6 __asm__("a6") = 0;
    register unsigned long a7 __asm__("a7") = SBI_EXT_IPI;
    ipi_start = rdtime();
    __asm__ volatile(".globl hvbench_ipi_ecall\nhvbench_ipi_ecall:\n\tecall"
                     : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
}

static void on_ipi(struct trap_frame *f)
{
    (void)f;
    ipi_latency_sum += rdtime() - ipi_start;
    ipi_irqs++;
    csr_clear(sip, 1UL << IRQ_SSI);
}

static void report(const char *name, unsigned n, uint64_t ticks)
{
    kprintf("bench %s n=%u ticks=%lu\n", name, n, ticks);
}

static int bench_null(void)
{
    long err = 0;
    uint64_t t0 = rdtime();
    for (unsigned i = 0; i < N_NULL; i++)
        err |= null_call();
    report("sbi_null", N_NULL, rdtime() - t0);
    return err != 0;
}

static void bench_uart(void)
{
    uint64_t t0 = rdtime();
    for (unsigned i = 0; i < N_UART; i++)
        uart_store(i + 1 < N_UART ? '.' : '\n');
    report("uart_store", N_UART, rdtime() - t0);
}

static int bench_timer(void)
{
    set_irq_handler(IRQ_STI, on_timer);
    irq_enable(IRQ_STI);
    local_irq_enable();
    int late = 0;
    for (unsigned i = 0; i < N_TIMER && !late; i++) {
        timer_deadline = rdtime() + us_to_ticks(TIMER_AHEAD_US);
        timer_arm_at(timer_deadline);
        late = wait_until(&timer_irqs, i + 1, us_to_ticks(TIMER_AHEAD_US + TIMEOUT_US));
    }
    local_irq_disable();
    report("timer_latency", N_TIMER, timer_latency_sum);
    return late;
}

static int bench_ipi(void)
{
    set_irq_handler(IRQ_SSI, on_ipi);
    irq_enable(IRQ_SSI);
    local_irq_enable();
    for (unsigned i = 0; i < N_IPI; i++)
        send_ipi_self();
    local_irq_disable();
    irq_disable(IRQ_SSI);
    report("ipi", N_IPI, ipi_latency_sum);
    return ipi_irqs != N_IPI;
}

static int bench_yield(void)
{
    long err = sbi_hvsim_yield().error;     /* warm-up: the partner boots on this one */
    uint64_t t0 = rdtime();
    for (unsigned i = 0; i < N_YIELD; i++)
        err |= sbi_hvsim_yield().error;
    report("yield", N_YIELD, rdtime() - t0);
    return err != 0;
}

static int yield_partner(void)
{
    long err = 0;
    for (unsigned i = 0; i <= N_YIELD; i++)
        err |= sbi_hvsim_yield().error;
    return err != 0;
}

int kmain(unsigned long hartid, const void *dtb, unsigned long mode)
{
    (void)hartid;
    if (mode == 1)
        return yield_partner();
    console_select(CONSOLE_DBCN);
    kprintf("hvbench: timing in `time` ticks\n");
    if (boot_init(dtb)) {
        kprintf("hvbench: FAIL: no usable DTB at %p\n", dtb);
        return 1;
    }
    kprintf("hvbench: timebase %u Hz\n", boot.timebase_hz);
    int bad = bench_null();
    bench_uart();
    bad |= bench_timer() << 1;
    bad |= bench_ipi() << 2;
    bad |= bench_yield() << 3;
    if (bad) {
        kprintf("hvbench: FAIL 0x%x\n", bad);
        return 1;
    }
    kprintf("hvbench: done\n");
    return 0;
}
