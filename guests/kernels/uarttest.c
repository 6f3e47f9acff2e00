/*
 * uarttest.c: drives the virtual ns16550 at UART0_BASE by MMIO only (no SBI console),
 * register by register (PC16550D data sheet, "Register Description"): the divisor latch
 * behind LCR.DLAB, SCR, IER, MCR, LSR (THRE|TEMT after reset, idle transmitter), IIR
 * ("no interrupt pending" with IER = 0), and transmission through THR. Each access uses a
 * chosen instruction so the hypervisor's decoder (htinst or the trapped instruction read
 * with HLVX) sees: lb and lbu (sign and zero extension), a compressed c.lw into s1
 * (global label `uarttest_clw`), sb, sh and sw.
 *
 * Wider accesses follow QEMU's ns16550 (reg-io-width 1 device on a wider bus): an access
 * of 2, 4 or 8 bytes at offset o reaches register o only. A load returns that register's
 * byte zero-extended; a store writes its low byte (so `sh`/`sw` to THR transmit one
 * character each). Wide loads (lh, lhu, lw, lwu, ld) into ra (x1), t0 or t1 must equal
 * lbu of the same register. lh, lhu and ld have funct3 bit 0 set, which is bit 5 of a
 * 6-bit rd: a decoder that took rd from 6 bits would write them past the 32 GPRs of the
 * saved frame (from ra: onto the saved hstatus) and leave the destination as it was.
 * They are naturally aligned (a misaligned load may trap, unprivileged spec 2.6, and on
 * this core it does, before it reaches the UART), so they read the registers at even
 * offsets: DLL (offset 0, behind DLAB), IIR, MCR and MSR. Prints "uarttest: PASS" or one
 * line per failed check and "uarttest: FAIL n".
 */
#include "klib.h"

static unsigned failures;

static uint64_t rd_lbu(unsigned off)
{
    uint64_t v;
    __asm__ volatile("lbu %0, 0(%1)" : "=r"(v) : "r"(UART0_BASE + off) : "memory");
    return v;
}

static uint64_t rd_lb(unsigned off)
{
    int64_t v;
    __asm__ volatile("lb %0, 0(%1)" : "=r"(v) : "r"(UART0_BASE + off) : "memory");
    return (uint64_t)v;
}

/* c.lw s1, 4(a5) with a5 = UART0_BASE: a 32-bit load of register 4 (MCR). */
static uint64_t rd_clw_mcr(void)
{
    register uint64_t base __asm__("a5") = UART0_BASE;
    register int64_t val __asm__("s1");
    __asm__ volatile(".option push\n\t.option rvc\n\t"
                     ".globl uarttest_clw\nuarttest_clw:\n\t"
                     "c.lw s1, 4(a5)\n\t.option pop"
                     : "=r"(val) : "r"(base) : "memory");
    return (uint64_t)val;
}

/* `insn` into `reg` (preset to all ones, so a load that does not write it shows), then
 * out of `reg`. */
#define WIDE_LOAD(fn, insn, reg)                                                     \
    static uint64_t fn(unsigned off)                                                 \
    {                                                                                \
        uint64_t v;                                                                  \
        __asm__ volatile("li " reg ", -1\n\t" insn " " reg ", 0(%1)\n\tmv %0, " reg \
                         : "=r"(v) : "r"(UART0_BASE + off) : reg, "memory");        \
        return v;                                                                    \
    }
WIDE_LOAD(rd_lh_ra, "lh", "ra")
WIDE_LOAD(rd_lhu_ra, "lhu", "ra")
WIDE_LOAD(rd_ld_ra, "ld", "ra")
WIDE_LOAD(rd_lhu_t0, "lhu", "t0")
WIDE_LOAD(rd_lw_t1, "lw", "t1")
WIDE_LOAD(rd_lwu_t0, "lwu", "t0")
WIDE_LOAD(rd_ld_t1, "ld", "t1")
WIDE_LOAD(rd_lh_a6, "lh", "a6")

static void wr_sb(unsigned off, uint64_t v)
{
    __asm__ volatile("sb %0, 0(%1)" : : "r"(v), "r"(UART0_BASE + off) : "memory");
}

static void wr_sh(unsigned off, uint64_t v)
{
    __asm__ volatile("sh %0, 0(%1)" : : "r"(v), "r"(UART0_BASE + off) : "memory");
}

static void wr_sw(unsigned off, uint64_t v)
{
    __asm__ volatile("sw %0, 0(%1)" : : "r"(v), "r"(UART0_BASE + off) : "memory");
}

static void wait_thre(void)
{
    for (unsigned i = 0; i < 100000 && !(rd_lbu(UART0_LSR) & UART0_LSR_THRE); i++)
        ;
}

static void check(const char *what, uint64_t got, uint64_t want)
{
    if (got != want) {
        failures++;
        kprintf("uarttest: FAIL %s: got 0x%lx want 0x%lx\n", what, got, want);
    }
}

static void test_divisor(void)
{
    wr_sb(UART0_IER, 0);
    wr_sb(UART0_LCR, UART0_LCR_DLAB | 3);
    check("LCR with DLAB", rd_lbu(UART0_LCR), UART0_LCR_DLAB | 3);
    check("LCR with DLAB (lb)", rd_lb(UART0_LCR), (uint64_t)(int8_t)(UART0_LCR_DLAB | 3));
    wr_sb(UART0_DLL, 0x03);
    wr_sb(UART0_DLM, 0x00);
    check("DLL", rd_lbu(UART0_DLL), 0x03);
    check("DLM", rd_lbu(UART0_DLM), 0x00);
    wr_sb(UART0_LCR, 3);
    check("LCR 8N1", rd_lbu(UART0_LCR), 3);
    check("IER after divisor", rd_lbu(UART0_IER), 0);
}

static void test_registers(void)
{
    wr_sb(UART0_SCR, 0xa5);
    check("SCR lbu", rd_lbu(UART0_SCR), 0xa5);
    check("SCR lb", rd_lb(UART0_SCR), (uint64_t)(int64_t)(int8_t)0xa5);
    wr_sb(UART0_SCR, 0x5a);
    check("SCR 0x5a", rd_lbu(UART0_SCR), 0x5a);
    wr_sb(UART0_IER, UART0_IER_ERBFI);
    check("IER ERBFI", rd_lbu(UART0_IER), UART0_IER_ERBFI);
    wr_sb(UART0_IER, 0);
    check("IER 0", rd_lbu(UART0_IER), 0);
    check("IIR no interrupt", rd_lbu(UART0_IIR) & 0x0f, UART0_IIR_NOINT);
    wr_sb(UART0_MCR, UART0_MCR_DTR | UART0_MCR_RTS | UART0_MCR_OUT2);
    check("MCR by c.lw", rd_clw_mcr(), UART0_MCR_DTR | UART0_MCR_RTS | UART0_MCR_OUT2);
    wait_thre();
    for (unsigned i = 0; i < 1000 && !(rd_lbu(UART0_LSR) & UART0_LSR_TEMT); i++)
        ;
    check("LSR lbu THRE|TEMT", rd_lbu(UART0_LSR) & (UART0_LSR_THRE | UART0_LSR_TEMT),
          UART0_LSR_THRE | UART0_LSR_TEMT);
    check("LSR lb THRE|TEMT", rd_lb(UART0_LSR) & (UART0_LSR_THRE | UART0_LSR_TEMT),
          UART0_LSR_THRE | UART0_LSR_TEMT);
}

struct wide_load {
    const char *what;
    uint64_t (*load)(unsigned off);
    unsigned off;
};
struct wide_result { uint64_t got, want; };

/* Each load of the table and lbu at its offset (reported later: with DLAB set the
 * console's THR is DLL). */
static void wide_loads(const struct wide_load *t, unsigned n, struct wide_result *r)
{
    for (unsigned i = 0; i < n; i++) {
        r[i].got = t[i].load(t[i].off);
        r[i].want = rd_lbu(t[i].off);
    }
}

static void check_wide_loads(const struct wide_load *t, unsigned n, const struct wide_result *r)
{
    for (unsigned i = 0; i < n; i++)
        check(t[i].what, r[i].got, r[i].want);
}

#define N_OF(a) (sizeof (a) / sizeof (a)[0])

static void test_wide_loads(void)
{
    static const struct wide_load dlab[] = {
        {"DLL ld ra", rd_ld_ra, UART0_DLL}, {"DLL lh ra", rd_lh_ra, UART0_DLL},
        {"DLL ld t1", rd_ld_t1, UART0_DLL},
    };
    /* "MCR lh a6" comes last: a decoder that took rd from 6 bits would write x48, past
     * the hypervisor's 33-word guest frame, which lands on the vCPU's hgatp: MCR's
     * value instead of the VM's G-stage table, which the isolation properties' walk
     * of every vCPU's hgatp reports. */
    static const struct wide_load plain[] = {
        {"IIR lhu ra", rd_lhu_ra, UART0_IIR}, {"MSR lhu t0", rd_lhu_t0, UART0_MSR},
        {"MSR lh ra", rd_lh_ra, UART0_MSR},   {"MCR lw t1", rd_lw_t1, UART0_MCR},
        {"MCR lwu t0", rd_lwu_t0, UART0_MCR}, {"MCR lh ra", rd_lh_ra, UART0_MCR},
        {"MCR lh a6", rd_lh_a6, UART0_MCR},
    };
    struct wide_result r_dlab[N_OF(dlab)], r_plain[N_OF(plain)];
    wr_sb(UART0_LCR, UART0_LCR_DLAB | 3);
    wr_sb(UART0_DLL, 0xa5);
    wide_loads(dlab, N_OF(dlab), r_dlab);
    wr_sb(UART0_DLL, 0x03);
    wr_sb(UART0_LCR, 3);
    check_wide_loads(dlab, N_OF(dlab), r_dlab);
    wide_loads(plain, N_OF(plain), r_plain);
    check_wide_loads(plain, N_OF(plain), r_plain);
}

static void send_sb(const char *s)
{
    for (; *s; s++) {
        wait_thre();
        wr_sb(UART0_THR, (uint8_t)*s);
    }
}

static void test_wide_stores(void)
{
    send_sb("uarttest: sh/sw to THR: ");
    wait_thre();
    wr_sh(UART0_THR, 0x7e00 | 'A');
    wait_thre();
    wr_sw(UART0_THR, 0x12345600u | 'B');
    send_sb("\n");
}

int kmain(void)
{
    console_select(CONSOLE_UART);
    send_sb("uarttest: ns16550 by MMIO\n");
    test_divisor();
    test_registers();
    test_wide_loads();
    test_wide_stores();
    if (failures) {
        kprintf("uarttest: FAIL %u\n", failures);
        return 1;
    }
    kprintf("uarttest: PASS\n");
    return 0;
}
