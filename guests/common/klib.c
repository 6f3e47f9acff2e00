/*
 * klib.c: memory and string helpers, the console backends (SBI DBCN, legacy SBI putchar,
 * or the ns16550 at UART0_BASE, polled on LSR.THRE before each THR write per the
 * PC16550D data sheet, "Line Status Register") and the SBI TIME helpers (SBI spec v2.0
 * chapter 6) of the guest runtime (see klib.h).
 */
#include "klib.h"

#define UART_REG(off) ((volatile uint8_t *)(UART0_BASE + (off)))

static enum console console_kind = CONSOLE_DBCN;

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
            return *counter < target ? -1 : 0;  /* the event may land between the reads */
    return 0;
}

