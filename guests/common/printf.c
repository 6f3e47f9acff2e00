/*
 * printf.c: kvsnprintf/ksnprintf/kprintf of the guest runtime (see klib.h): %d %u %x %p
 * %s %c %% with an optional l, width, zero padding and left alignment. kprintf formats
 * into a bounded buffer and writes it through the selected console.
 */
#include "klib.h"

#define PRINTF_BUF 192


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

