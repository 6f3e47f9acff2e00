/*
 * klib.h: the runtime of the guest kernels: trap frame and dispatch (priv spec 12.1,
 * "Supervisor CSRs": scause/sepc/stval, sie/sip), console output through SBI DBCN, the
 * legacy SBI putchar or the ns16550 at UART0_BASE, a small printf, timer helpers over
 * the SBI TIME extension, and a minimal reader of the flattened device tree
 * (Devicetree Specification v0.4 chapter 5).
 */
#ifndef GUEST_KLIB_H
#define GUEST_KLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "encoding.h"
#include "platform.h"
#include "sbi.h"

/* What crt0's trap entry saves, in this order (its offsets are fixed by crt0.S). */
struct trap_frame {
    uint64_t ra;
    uint64_t t0, t1, t2, t3, t4, t5, t6;
    uint64_t a0, a1, a2, a3, a4, a5, a6, a7;
    uint64_t sepc;      /* written back to sepc on return */
    uint64_t scause;
    uint64_t stval;
    uint64_t sstatus;   /* written back to sstatus on return */
};

#define csr_read(csr) ({ uint64_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, v) __asm__ volatile("csrw " #csr ", %0" : : "r"((uint64_t)(v)) : "memory")
#define csr_set(csr, v) __asm__ volatile("csrs " #csr ", %0" : : "r"((uint64_t)(v)) : "memory")
#define csr_clear(csr, v) __asm__ volatile("csrc " #csr ", %0" : : "r"((uint64_t)(v)) : "memory")

static inline uint64_t rdtime(void) { return csr_read(time); }
static inline void local_irq_enable(void) { csr_set(sstatus, MSTATUS_SIE); }
static inline void local_irq_disable(void) { csr_clear(sstatus, MSTATUS_SIE); }
static inline void irq_enable(unsigned irq) { csr_set(sie, 1UL << irq); }
static inline void irq_disable(unsigned irq) { csr_clear(sie, 1UL << irq); }

/* Console backends. */
enum console { CONSOLE_DBCN, CONSOLE_LEGACY, CONSOLE_UART };
void console_select(enum console c);
void console_write(const char *s, size_t n);
void uart_putc(int c);

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kputs(const char *s);

/* Traps: crt0 calls trap_handler, which dispatches to these. */
typedef void (*irq_fn)(struct trap_frame *f);
typedef int (*exc_fn)(struct trap_frame *f);   /* nonzero: handled */
void set_irq_handler(unsigned irq, irq_fn fn);
void set_exception_handler(exc_fn fn);
void trap_handler(struct trap_frame *f);
void resume_main(unsigned long hartid, unsigned long opaque) __attribute__((noreturn));
void hsm_resume_entry(void);

/* Bytes of the instruction at `pc` (unprivileged spec 1.5: 2 unless bits 1:0 are 11). */
static inline unsigned insn_len_at(uint64_t pc) { return (*(volatile uint16_t *)pc & 3) == 3 ? 4 : 2; }

/* The exceptions a probing guest provoked on purpose: skip_exception (an exc_fn) counts
 * each one, keeps its cause and tval here, and resumes after the instruction (after a
 * fetch page fault, at ra: the probe jumped there with a call). */
struct fault_log {
    volatile uint64_t cause, tval;
    volatile unsigned count;
};
extern struct fault_log faults;
int skip_exception(struct trap_frame *f);

/* Which life of a VM that reboots or is restarted this is, from the hypervisor's count
 * of the VM's SBI calls (HVSIM stats), which survives restarts: every life makes
 * exactly `calls_per_life` calls before it ends, this one included. */
unsigned life_number(unsigned calls_per_life);

/* Shut the VM down through SRST: reason 0 if code == 0, else system failure. */
void kshutdown(int code) __attribute__((noreturn));

/* Machine facts from the DTB. */
struct boot_info {
    uint64_t mem_base, mem_size;    /* first /memory reg */
    uint32_t timebase_hz;           /* /cpus timebase-frequency */
    uint32_t dtb_size;              /* header totalsize */
};
extern struct boot_info boot;
uint32_t fdt_totalsize(const void *dtb);
int fdt_parse(const void *dtb, struct boot_info *out);   /* 0 ok, -1 malformed */
int boot_init(const void *dtb);                          /* fdt_parse into `boot` */

/* Timer over SBI TIME, in `time` ticks (boot.timebase_hz). */
uint64_t us_to_ticks(uint64_t us);
uint64_t ticks_to_us(uint64_t ticks);
void timer_arm_at(uint64_t when);
void timer_disarm(void);
int wait_until(volatile unsigned *counter, unsigned target, uint64_t timeout_ticks);

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

#endif /* GUEST_KLIB_H */
