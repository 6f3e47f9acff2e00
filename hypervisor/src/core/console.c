/*
 * console.c: the hypervisor's output (a small printf on the platform UART) and
 * the per-VM consoles: each VM's bytes are collected into lines and written as
 * "[name] text" (docs/hypervisor.md, "Console protocol").
 */
#include <stdarg.h>
#include "csr.h"
#include "hv.h"

void hv_putc(char c) { uart_putc(c); }

void hv_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

static void put_num(uint64_t v, unsigned base, int neg, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        buf[n++] = '-';
    while (n < width--)
        uart_putc(pad);
    while (n)
        uart_putc(buf[--n]);
}

/** printf subset: %s %c %d %u %x with l/ll, width and 0 padding, %%. */
void hv_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            uart_putc(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0, lng = 0;
        if (*++fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            lng = 1, fmt++;
        switch (*fmt) {
        case 's': hv_puts(va_arg(ap, const char *)); break;
        case 'c': uart_putc((char)va_arg(ap, int)); break;
        case 'd': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            put_num(v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0, width, pad);
            break;
        }
        case 'u': put_num(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, 0, width, pad); break;
        case 'x': put_num(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, 0, width, pad); break;
        case '%': uart_putc('%'); break;
        default: uart_putc('?'); break;
        }
    }
    va_end(ap);
}

/** Write the VM's pending line, if any, as "[name] text\n". */
void vm_console_flush(struct vm *vm)
{
    struct vuart *u = &vm->uart;
    if (!u->len)
        return;
    hv_printf("[%s] ", vm->cfg->name);
    for (unsigned i = 0; i < u->len; i++)
        uart_putc((char)u->line[i]);
    uart_putc('\n');
    u->len = 0;
}

/** One byte of VM output: '\n' ends a line, '\r' is dropped, long lines split. */
void vm_console_putc(struct vm *vm, char c)
{
    struct vuart *u = &vm->uart;
    if (c == '\r')
        return;
    if (c == '\n') {
        if (!u->len)
            hv_printf("[%s] \n", vm->cfg->name);
        vm_console_flush(vm);
        return;
    }
    u->line[u->len++] = (uint8_t)c;
    if (u->len == VUART_LINE)
        vm_console_flush(vm);
}

/** Console input for the VM that owns it (VM 0): one byte or -1. */
int hv_getc(void) { return uart_getc(); }

/** Text of a trap cause (the spec's description, from the generated encoding.h). */
const char *cause_text(uint64_t scause)
{
    static const char *const exc[24] = { CAUSE_NAME_INIT };
    static const char *const irq[16] = { IRQ_NAME_INIT };
    uint64_t code = scause & ~CAUSE_INTERRUPT_BIT;
    const char *s = (scause & CAUSE_INTERRUPT_BIT) ? (code < 16 ? irq[code] : 0)
                                                     : (code < 24 ? exc[code] : 0);
    return s ? s : "unknown cause";
}
