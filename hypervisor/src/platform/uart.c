/*
 * uart.c: the platform's ns16550a console (the register offsets come from the
 * generated platform.h, UART0_*) and the end of the run: HTIF tohost (Spike,
 * the model) and the sifive,test0 finisher (QEMU virt, the model).
 */
#include "hv.h"
#include "platform.h"

static volatile uint8_t *uart = (volatile uint8_t *)(uintptr_t)UART0_BASE;
volatile uint64_t tohost __attribute__((section(".tohost")));
volatile uint64_t fromhost __attribute__((section(".tohost")));

/** Use the ns16550 at `base` (8-bit registers, reg-shift 0) as the console. */
void uart_init(uint64_t base)
{
    uart = (volatile uint8_t *)(uintptr_t)base;
    uart[UART0_FCR] = UART0_FCR_FIFOE | UART0_FCR_RXCLR | UART0_FCR_TXCLR;
}

void uart_putc(char c)
{
    while (!(uart[UART0_LSR] & UART0_LSR_THRE))
        ;
    uart[UART0_THR] = (uint8_t)c;
}

int uart_rx_ready(void)
{
    return (uart[UART0_LSR] & UART0_LSR_DR) != 0;
}

int uart_getc(void)
{
    return (uart[UART0_LSR] & UART0_LSR_DR) ? uart[UART0_RBR] : -1;
}

/** End the run with `code` (0 = success): tohost first, then the finisher. */
_Noreturn void hv_exit(uint64_t code)
{
    while (!(uart[UART0_LSR] & UART0_LSR_TEMT))     /* let the last byte leave */
        ;
    tohost = (code << 1) | 1;
    if (hv_platform.finisher_base) {
        volatile uint32_t *fin = (volatile uint32_t *)(uintptr_t)hv_platform.finisher_base;
        *fin = code ? (uint32_t)((code << 16) | 0x3333) : 0x5555;
    }
    for (;;)
        __asm__ volatile("wfi");
}

/** M-mode fatal trap (boot.S): report and end with code 3. */
void m_fatal(uint64_t mcause, uint64_t mepc, uint64_t mtval)
{
    hv_printf("hv: fatal M-mode trap: mcause 0x%lx mepc 0x%lx mtval 0x%lx\n",
              mcause, mepc, mtval);
    hv_exit(3);
}
