/*
 * user.c: the U-mode programs of the paging kernel (kernel.c) and their small library:
 * system-call stubs (ecall from U, priv spec 3.3.1 / 12.1: a7 = number, a0..a2 =
 * arguments), line formatting and three programs.
 *
 * Everything here lives in the user image sections (`#pragma clang section`): text in
 * .text.user, rodata in .rodata.user, data and bss in .data.user / .data.user.bss, each
 * span page-aligned and closed by a page-aligned end marker so that no kernel byte
 * shares a page with it. The kernel maps these pages at USER_BASE + (address -
 * user_text_start): the code is PC-relative (medany), so it runs at that address
 * unchanged. Nothing here may refer to the kernel's part of the image: no library calls,
 * no string literals (they would land in the kernel's mergeable .rodata.str sections;
 * S() wraps a string in a struct, which the pragma places in .rodata.user) and no large
 * 64-bit immediates the compiler would put in a constant pool (.rodata.cst8). A
 * reference that slipped through faults at run time and kills its process.
 *
 * - compute: CPU-bound; counts primes with a sieve on an 8 KiB stack array (stack pages
 *   are demand-faulted) and mixes a long xorshift sequence; it never yields, so only the
 *   timer takes the CPU from it.
 * - heap: grows the heap with sbrk, fills and checks it over several passes (yielding
 *   between them), shrinks and regrows it (fresh pages read zero), ends with exit(7).
 * - faulter: checks that bad write() pointers, a bad fd, an unknown call and a huge sbrk
 *   return errors, then stores to an address outside its regions and is killed.
 */
#include <stdint.h>

#include "paging.h"

#pragma clang section text = ".text.user" rodata = ".rodata.user" data = ".data.user" \
    bss = ".data.user.bss"

__asm__(".section .text.user, \"ax\", @progbits\n .balign 4096\n"
        " .globl user_text_start\nuser_text_start:\n"
        ".section .text.user~end, \"ax\", @progbits\n .balign 4096\n"
        " .globl user_text_end\nuser_text_end:\n"
        ".section .rodata.user, \"a\", @progbits\n .balign 4096\n"
        " .globl user_rodata_start\nuser_rodata_start:\n"
        ".section .rodata.user~end, \"a\", @progbits\n .balign 4096\n"
        " .globl user_rodata_end\nuser_rodata_end:\n"
        ".section .data.user, \"aw\", @progbits\n .balign 4096\n"
        " .globl user_data_start\nuser_data_start:\n"
        ".section .data.user.bss, \"aw\", @nobits\n"
        ".section .data.user~end, \"aw\", @progbits\n .balign 4096\n"
        " .globl user_data_end\nuser_data_end:\n"
        " .text\n");

#define S(lit) ({                                                                          \
    static const struct { char s[sizeof(lit)]; } s_ = {lit};                                 \
    s_.s;                                                                                     \
})
#define SIEVE_N 8192
#define MIX_ROUNDS 40000
#define HEAP_PAGES 8
#define HEAP_PASSES 3
#define SHRINK_PAGES 3
#define WORDS_PER_PAGE (PAGE_SIZE / 8)
#define BAD_CALL 99
#define HOLE 0x20000000ul
#define KERNEL_ADDR 0x80000000ul

static unsigned long lines_written;        /* .data.user.bss: per-process */
static volatile uint64_t mix_salt = 0x9e3779b97f4a7c15ull;   /* .data.user */

/* ------------------------------------------------------------ system calls */

static long syscall3(long n, long a, long b, long c)
{
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

static long sys_write(long fd, const void *buf, unsigned long len)
{
    return syscall3(SYS_WRITE, fd, (long)buf, (long)len);
}

static void sys_exit(long code)
{
    syscall3(SYS_EXIT, code, 0, 0);
    for (;;)
        ;
}

static void sys_yield(void) { syscall3(SYS_YIELD, 0, 0, 0); }
static long sys_sbrk(long incr) { return syscall3(SYS_SBRK, incr, 0, 0); }

/* ------------------------------------------------------------------ lines */

struct line {
    char b[120];
    unsigned n;
};

static void l_chr(struct line *l, char c)
{
    if (l->n < sizeof(l->b))
        l->b[l->n++] = c;
}

static void l_str(struct line *l, const char *s)
{
    while (*s)
        l_chr(l, *s++);
}

static void l_dec(struct line *l, long v)
{
    char d[20];
    unsigned n = 0;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
    if (v < 0)
        l_chr(l, '-');
    do {
        d[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        l_chr(l, d[--n]);
}

static void l_hex(struct line *l, uint64_t v)
{
    l_str(l, S("0x"));
    for (int sh = 60; sh >= 0; sh -= 4)
        l_chr(l, S("0123456789abcdef")[(v >> sh) & 15]);
}

static void l_begin(struct line *l, const char *prog)
{
    l->n = 0;
    l_str(l, prog);
    l_str(l, S(": "));
}

static void l_end(struct line *l)
{
    l_chr(l, '\n');
    sys_write(1, l->b, l->n);
    lines_written++;
}

/* ----------------------------------------------------------------- compute */

static unsigned count_primes(volatile char *sieve, unsigned n)
{
    unsigned count = 0;
    for (unsigned i = 0; i < n; i++)
        sieve[i] = 1;
    for (unsigned i = 2; i < n; i++) {
        if (!sieve[i])
            continue;
        count++;
        for (unsigned j = i * i; j < n; j += i)
            sieve[j] = 0;
    }
    return count;
}

static uint64_t mix(uint64_t seed, unsigned rounds)
{
    uint64_t x = seed * mix_salt, acc = 0;
    for (unsigned i = 0; i < rounds; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc = (acc ^ x) * 31 + i;
    }
    return acc;
}

long prog_compute(long seed)
{
    char sieve[SIEVE_N];
    struct line l;
    unsigned primes = count_primes(sieve, SIEVE_N);
    l_begin(&l, S("compute"));
    l_dec(&l, primes);
    l_str(&l, S(" primes below "));
    l_dec(&l, SIEVE_N);
    l_end(&l);
    uint64_t sum = mix((uint64_t)seed, MIX_ROUNDS);
    l_begin(&l, S("compute"));
    l_str(&l, S("checksum "));
    l_hex(&l, sum);
    l_str(&l, S(" after "));
    l_dec(&l, MIX_ROUNDS);
    l_str(&l, S(" rounds"));
    l_end(&l);
    return lines_written == 2 ? 0 : 1;
}

/* -------------------------------------------------------------------- heap */

static uint64_t pattern(long seed, unsigned pass, unsigned i)
{
    return ((uint64_t)seed << 40) ^ ((uint64_t)pass << 32) ^ (i * 0x01000193u);
}

/* Whether the first word of each of `pages` pages at `p` reads zero (faulting them in,
 * or, right before they are unmapped, leaving their translations in the TLB). */
static int pages_zero(volatile uint64_t *p, unsigned pages)
{
    for (unsigned k = 0; k < pages; k++)
        if (p[k * WORDS_PER_PAGE])
            return 0;
    return 1;
}

static uint64_t heap_pass(volatile uint64_t *h, long seed, unsigned pass, int *ok)
{
    uint64_t want = 0, got = 0;
    for (unsigned i = 0; i < HEAP_PAGES * WORDS_PER_PAGE; i++) {
        h[i] = pattern(seed, pass, i);
        want += pattern(seed, pass, i);
    }
    sys_yield();
    for (unsigned i = 0; i < HEAP_PAGES * WORDS_PER_PAGE; i++)
        got += h[i];
    *ok &= got == want;
    return got;
}

long prog_heap(long seed)
{
    struct line l;
    long base = sys_sbrk(0);
    volatile uint64_t *h = (volatile uint64_t *)sys_sbrk(HEAP_PAGES * PAGE_SIZE);
    int ok = (uint64_t)h == HEAP_BASE && base == (long)HEAP_BASE && pages_zero(h, HEAP_PAGES);
    uint64_t sum = 0;
    for (unsigned pass = 0; pass < HEAP_PASSES; pass++)
        sum ^= heap_pass(h, seed, pass, &ok);
    l_begin(&l, S("heap"));
    l_dec(&l, HEAP_PAGES);
    l_str(&l, S(" pages at "));
    l_hex(&l, (uint64_t)base);
    l_str(&l, ok ? S(" read zero, then kept ") : S(" FAILED "));
    l_dec(&l, HEAP_PASSES);
    l_str(&l, S(" passes, sum "));
    l_hex(&l, sum);
    l_end(&l);

    long shrink = SHRINK_PAGES * PAGE_SIZE;
    unsigned last = (HEAP_PAGES - SHRINK_PAGES) * WORDS_PER_PAGE;
    int kept = !pages_zero(h + last, SHRINK_PAGES);
    sys_sbrk(-shrink);
    sys_sbrk(shrink);
    int fresh = pages_zero(h + last, SHRINK_PAGES);
    for (unsigned i = 0; i < last; i++)
        kept &= h[i] == pattern(seed, HEAP_PASSES - 1, i);
    l_begin(&l, S("heap"));
    l_str(&l, S("shrunk and regrown by "));
    l_dec(&l, SHRINK_PAGES);
    l_str(&l, S(" pages: "));
    l_str(&l, fresh && kept ? S("new pages read zero, the rest kept") : S("FAILED"));
    l_end(&l);

    volatile char *tail = (volatile char *)sys_sbrk(100);
    tail[99] = 'x';
    l_begin(&l, S("heap"));
    l_str(&l, S("break "));
    l_hex(&l, (uint64_t)sys_sbrk(0));
    l_str(&l, tail[99] == 'x' ? S(", the partial page works") : S(", FAILED"));
    l_end(&l);
    return 7;
}

/* ----------------------------------------------------------------- faulter */

long prog_faulter(long seed)
{
    struct line l;
    const char *msg = S("hello");
    long bad[5];
    bad[0] = sys_write(1, 0, 4);
    bad[1] = sys_write(1, (const void *)KERNEL_ADDR, 16);
    bad[2] = sys_write(1, (const void *)HOLE, 8);
    bad[3] = sys_write(1, msg, ~0ul);
    long brk = sys_sbrk(PAGE_SIZE);
    bad[4] = sys_write(1, (const void *)(brk + PAGE_SIZE), 4);
    l_begin(&l, S("faulter"));
    l_str(&l, S("bad write pointers ->"));
    for (unsigned i = 0; i < 5; i++) {
        l_chr(&l, ' ');
        l_dec(&l, bad[i]);
    }
    l_end(&l);
    sys_yield();
    l_begin(&l, S("faulter"));
    l_str(&l, S("empty write -> "));
    l_dec(&l, sys_write(1, msg, 0));
    l_str(&l, S(", bad fd -> "));
    l_dec(&l, sys_write(2, msg, 5));
    l_str(&l, S(", unknown call -> "));
    l_dec(&l, syscall3(BAD_CALL, 0, 0, 0));
    l_str(&l, S(", huge sbrk -> "));
    l_dec(&l, sys_sbrk(1l << 30));
    l_end(&l);
    sys_yield();
    l_begin(&l, S("faulter"));
    l_str(&l, S("storing to "));
    l_hex(&l, HOLE);
    l_end(&l);
    *(volatile uint64_t *)HOLE = (uint64_t)seed;
    l_begin(&l, S("faulter"));
    l_str(&l, S("FAILED: still alive"));
    l_end(&l);
    return 1;
}

/* ------------------------------------------------------------------- entry */

void user_start(long (*main)(long), long arg) { sys_exit(main(arg)); }
