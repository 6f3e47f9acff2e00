/*
 * klib.c: console, printf, trap dispatch, SBI TIME helpers and the FDT reader of the
 * guest kernels (see klib.h). The ns16550 driver polls LSR.THRE before each THR write
 * (PC16550D data sheet, "Line Status Register"). The FDT walk follows the structure
 * block tokens of the Devicetree Specification v0.4 section 5.4.
 */
#include "klib.h"

#define UART_REG(off) ((volatile uint8_t *)(UART0_BASE + (off)))
#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u
#define PRINTF_BUF 192

struct boot_info boot;
static enum console console_kind = CONSOLE_DBCN;
static irq_fn irq_handlers[16];
static exc_fn exc_handler;

void *memset(void *dst, int c, size_t n)
{
    volatile uint8_t *d = dst;
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* ---------------------------------------------------------------- console */

void console_select(enum console c) { console_kind = c; }

void uart_putc(int c)
{
    while (!(*UART_REG(UART0_LSR) & UART0_LSR_THRE))
        ;
    *UART_REG(UART0_THR) = (uint8_t)c;
}

static void dbcn_write_all(const char *s, size_t n)
{
    for (int tries = 0; n && tries < 64; tries++) {
        struct sbiret r = sbi_debug_console_write(n, (unsigned long)s, 0);
        if (r.error != SBI_SUCCESS || (unsigned long)r.value > n)
            return;
        s += r.value;
        n -= (size_t)r.value;
    }
}

void console_write(const char *s, size_t n)
{
    switch (console_kind) {
    case CONSOLE_DBCN:
        dbcn_write_all(s, n);
        break;
    case CONSOLE_LEGACY:
        while (n--)
            sbi_legacy_putchar(*s++);
        break;
    case CONSOLE_UART:
        while (n--)
            uart_putc(*s++);
        break;
    }
}

void kputs(const char *s) { console_write(s, strlen(s)); }

/* ---------------------------------------------------------------- printf */

struct sink {
    char *buf;
    size_t size, len;
};

static void put(struct sink *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_num(struct sink *o, uint64_t v, unsigned base, int neg, int width, char pad,
                    int left)
{
    char digits[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    int len = n + neg;
    if (neg && pad == '0')
        put(o, '-');
    for (; !left && width > len; width--)
        put(o, pad);
    if (neg && pad != '0')
        put(o, '-');
    while (n)
        put(o, digits[--n]);
    for (; left && width > len; width--)
        put(o, ' ');
}

static void put_str(struct sink *o, const char *s, int width, int left)
{
    int len = (int)strlen(s);
    for (; !left && width > len; width--)
        put(o, ' ');
    while (*s)
        put(o, *s++);
    for (; left && width > len; width--)
        put(o, ' ');
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink o = {buf, size, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        char pad = ' ';
        int left = 0, width = 0, lng = 0;
        for (fmt++; *fmt == '0' || *fmt == '-'; fmt++) {
            if (*fmt == '0')
                pad = '0';
            else
                left = 1;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            lng = 1, fmt++;
        if (left)
            pad = ' ';
        switch (*fmt) {
        case 'd': {
            int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);
            put_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad, left);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            put_num(&o, v, *fmt == 'u' ? 10 : 16, 0, width, pad, left);
            break;
        }
        case 'p':
            put(&o, '0');
            put(&o, 'x');
            put_num(&o, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, 0, width, pad, left);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            put_str(&o, s ? s : "(null)", width, left);
            break;
        }
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            put(&o, '%');
            put(&o, *fmt);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int kprintf(const char *fmt, ...)
{
    char buf[PRINTF_BUF];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    console_write(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
    return n;
}

/* ---------------------------------------------------------------- traps and exit */

void set_irq_handler(unsigned irq, irq_fn fn)
{
    if (irq < 16)
        irq_handlers[irq] = fn;
}

void set_exception_handler(exc_fn fn) { exc_handler = fn; }

void trap_handler(struct trap_frame *f)
{
    int irq = (int64_t)f->scause < 0;
    uint64_t code = f->scause & ~CAUSE_INTERRUPT_BIT;
    if (irq && code < 16 && irq_handlers[code]) {
        irq_handlers[code](f);
        return;
    }
    if (!irq && exc_handler && exc_handler(f))
        return;
    kprintf("trap: unexpected %s %lu sepc 0x%lx stval 0x%lx\n", irq ? "interrupt" : "exception",
            code, f->sepc, f->stval);
    kshutdown(1);
}

void kshutdown(int code)
{
    sbi_system_reset(SBI_SRST_TYPE_SHUTDOWN, code ? SBI_SRST_REASON_SYSFAIL : SBI_SRST_REASON_NONE);
    for (;;)
        __asm__ volatile("wfi");
}

__attribute__((weak)) void resume_main(unsigned long hartid, unsigned long opaque)
{
    kprintf("resume: unexpected resume (hart %lu, opaque 0x%lx)\n", hartid, opaque);
    kshutdown(1);
}

/* ---------------------------------------------------------------- timer */

uint64_t us_to_ticks(uint64_t us) { return us * boot.timebase_hz / 1000000u; }

uint64_t ticks_to_us(uint64_t ticks)
{
    return boot.timebase_hz ? ticks * 1000000u / boot.timebase_hz : 0;
}

void timer_arm_at(uint64_t when) { sbi_set_timer(when); }

void timer_disarm(void) { sbi_set_timer(UINT64_MAX); }

int wait_until(volatile unsigned *counter, unsigned target, uint64_t timeout_ticks)
{
    uint64_t start = rdtime();
    while (*counter < target)
        if (rdtime() - start > timeout_ticks)
            return -1;
    return 0;
}

/* ---------------------------------------------------------------- FDT */

static uint32_t be32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t cells(const uint8_t *p, uint32_t n)
{
    uint64_t v = 0;
    while (n--) {
        v = v << 32 | be32(p);
        p += 4;
    }
    return v;
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* The node name without its unit address ("memory@80000000" is "memory"). */
static int name_is(const char *name, const char *want)
{
    while (*want && *name == *want)
        name++, want++;
    return !*want && (!*name || *name == '@');
}

uint32_t fdt_totalsize(const void *dtb)
{
    return dtb && be32(dtb) == FDT_MAGIC ? be32((const uint8_t *)dtb + 4) : 0;
}

int fdt_parse(const void *dtb, struct boot_info *out)
{
    const uint8_t *h = dtb;
    uint32_t total = fdt_totalsize(dtb);
    if (!total)
        return -1;
    const uint8_t *p = h + be32(h + 8), *end = h + be32(h + 8) + be32(h + 36);
    const char *strs = (const char *)h + be32(h + 12);
    uint32_t addr_cells = 2, size_cells = 1;
    int depth = 0, in_memory = 0, in_cpus = 0, found = 0;
    memset(out, 0, sizeof *out);
    out->dtb_size = total;
    while (p + 4 <= end) {
        uint32_t tok = be32(p);
        p += 4;
        if (tok == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            depth++;
            in_memory = depth == 2 && name_is(name, "memory");
            in_cpus = depth == 2 && name_is(name, "cpus");
            p += (strlen(name) + 4) & ~3ul;
        } else if (tok == FDT_END_NODE) {
            depth--;
            in_memory = in_cpus = 0;
        } else if (tok == FDT_PROP) {
            uint32_t len = be32(p), nameoff = be32(p + 4);
            const uint8_t *val = p + 8;
            const char *pname = strs + nameoff;
            if (depth == 1 && streq(pname, "#address-cells"))
                addr_cells = be32(val);
            else if (depth == 1 && streq(pname, "#size-cells"))
                size_cells = be32(val);
            else if (in_memory && !(found & 1) && streq(pname, "reg") &&
                     len >= 4 * (addr_cells + size_cells)) {
                out->mem_base = cells(val, addr_cells);
                out->mem_size = cells(val + 4 * addr_cells, size_cells);
                found |= 1;
            } else if (in_cpus && streq(pname, "timebase-frequency") && len >= 4) {
                out->timebase_hz = (uint32_t)cells(val, len >= 8 ? 2 : 1);
                found |= 2;
            }
            p += 8 + ((len + 3) & ~3u);
        } else if (tok == FDT_END) {
            break;
        } else if (tok != FDT_NOP) {
            return -1;
        }
    }
    return found == 3 ? 0 : -1;
}

int boot_init(const void *dtb) { return fdt_parse(dtb, &boot); }
