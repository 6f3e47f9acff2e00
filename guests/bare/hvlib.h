/*
 * hvlib.h: the little runtime of the bare-metal programs: console output on the
 * ns16550a UART0 (polled, LSR.THRE), a small printf, memory helpers and CSR reads.
 */
#ifndef HVLIB_H
#define HVLIB_H

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long i64;
typedef unsigned long size_t;

void hv_putchar(int c);
void hv_puts(const char *s);
int hv_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hv_exit(long code) __attribute__((noreturn));

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#define CSR_READ(name) ({ u64 v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })

static inline u64 rdcycle(void) { return CSR_READ(mcycle); }
static inline u64 rdinstret(void) { return CSR_READ(minstret); }

#endif
