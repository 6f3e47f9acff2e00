/*
 * hvlib.c: console and memory helpers for the bare-metal programs. The UART is the
 * ns16550a at UART0_BASE (register map of the PC16550D data sheet: THR at +0, LSR at +5,
 * LSR bit 5 = THR empty).
 */
#include "hvlib.h"

#define UART_THR ((volatile u8 *)(UART0_BASE + 0))
#define UART_LSR ((volatile u8 *)(UART0_BASE + 5))
#define LSR_THRE 0x20

void hv_putchar(int c)
{
    while (!(*UART_LSR & LSR_THRE))
        ;
    *UART_THR = (u8)c;
}

void hv_puts(const char *s)
{
    while (*s)
        hv_putchar(*s++);
}

/* Print v in base (10 or 16), at least width digits, padded with pad. */
static int put_unsigned(u64 v, unsigned base, int width, char pad)
{
    char buf[24];
    int n = 0, out = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    for (; width > n; width--, out++)
        hv_putchar(pad);
    while (n)
        hv_putchar(buf[--n]), out++;
    return out;
}

int hv_printf(const char *fmt, ...)
{
    __builtin_va_list ap;
    int out = 0;
    __builtin_va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            hv_putchar(*fmt);
            out++;
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, is_long = 0;
        if (*fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            is_long = 1, fmt++;
        switch (*fmt) {
        case 'd': {
            i64 v = is_long ? __builtin_va_arg(ap, i64) : __builtin_va_arg(ap, int);
            if (v < 0) {
                hv_putchar('-');
                out++;
                v = -v;
            }
            out += put_unsigned((u64)v, 10, width, pad);
            break;
        }
        case 'u':
            out += put_unsigned(is_long ? __builtin_va_arg(ap, u64) : __builtin_va_arg(ap, unsigned),
                                10, width, pad);
            break;
        case 'x':
            out += put_unsigned(is_long ? __builtin_va_arg(ap, u64) : __builtin_va_arg(ap, unsigned),
                                16, width, pad);
            break;
        case 's': {
            const char *s = __builtin_va_arg(ap, const char *);
            for (; *s; s++, out++)
                hv_putchar(*s);
            break;
        }
        case 'c':
            hv_putchar(__builtin_va_arg(ap, int));
            out++;
            break;
        case '%':
            hv_putchar('%');
            out++;
            break;
        default:
            return -1;
        }
    }
    __builtin_va_end(ap);
    return out;
}

void *memset(void *dst, int c, size_t n)
{
    u8 *d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    u8 *d = dst;
    const u8 *s = src;
    if (d < s)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}
