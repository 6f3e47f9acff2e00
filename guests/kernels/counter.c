/*
 * counter.c: a compute guest. Counts the primes below LIMIT by trial division in chunks,
 * printing one progress line per chunk through the legacy SBI console_putchar (SBI spec
 * v2.0 section 5.2). Fails if the total is not the known count or if the `time` CSR
 * (priv spec 8.1, Zicntr) does not advance over the count. The output holds no timing
 * figures, so it is the same on every platform.
 */
#include "klib.h"

#define LIMIT 3000u
#define CHUNK 500u
#define PRIMES_BELOW_LIMIT 430u

static int is_prime(unsigned n)
{
    if (n < 2)
        return 0;
    if (n % 2 == 0)
        return n == 2;
    for (unsigned d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

int kmain(void)
{
    console_select(CONSOLE_LEGACY);
    kprintf("counter: primes below %u in chunks of %u\n", LIMIT, CHUNK);
    unsigned total = 0;
    uint64_t t0 = rdtime();
    for (unsigned lo = 0; lo < LIMIT; lo += CHUNK) {
        unsigned n = 0;
        for (unsigned k = lo; k < lo + CHUNK; k++)
            n += is_prime(k);
        total += n;
        kprintf("counter: [%4u,%4u) %3u primes, total %3u\n", lo, lo + CHUNK, n, total);
    }
    uint64_t t1 = rdtime();
    if (t1 <= t0) {
        kprintf("counter: FAIL: time went from %lu to %lu\n", t0, t1);
        return 1;
    }
    if (total != PRIMES_BELOW_LIMIT) {
        kprintf("counter: FAIL: %u primes, want %u\n", total, PRIMES_BELOW_LIMIT);
        return 1;
    }
    kprintf("counter: done\n");
    return 0;
}
