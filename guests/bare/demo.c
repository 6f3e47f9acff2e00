/*
 * demo.c: a bare-metal M-mode program for the SoC and for Spike. It prints a banner and
 * a few lines computed at run time (primes by a sieve, Fibonacci numbers, a checksum),
 * checks them against values computed another way, and passes through tohost.
 */
#include "hvlib.h"

#define SIEVE_LIMIT 100

static u8 composite[SIEVE_LIMIT + 1];

/* Trial division: the independent check of the sieve. */
static int is_prime(unsigned n)
{
    if (n < 2)
        return 0;
    for (unsigned d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

static int primes(void)
{
    int count = 0, errors = 0;
    for (unsigned i = 2; i * i <= SIEVE_LIMIT; i++)
        if (!composite[i])
            for (unsigned j = i * i; j <= SIEVE_LIMIT; j += i)
                composite[j] = 1;
    hv_printf("primes below %d:", SIEVE_LIMIT);
    for (unsigned i = 2; i <= SIEVE_LIMIT; i++) {
        if (!composite[i]) {
            hv_printf(" %u", i);
            count++;
        }
        errors += (!composite[i]) != is_prime(i);
    }
    hv_printf("\nprime count: %d\n", count);
    return errors + (count != 25);
}

static int fibonacci(void)
{
    u64 a = 0, b = 1;
    hv_printf("fibonacci:");
    for (int i = 0; i < 12; i++) {
        hv_printf(" %lu", a);
        u64 t = a + b;
        a = b;
        b = t;
    }
    /* F(90) by iteration, checked against its known value */
    for (int i = 12; i < 90; i++) {
        u64 t = a + b;
        a = b;
        b = t;
    }
    hv_printf("\nF(90) = %lu\n", a);
    return a != 2880067194370816120UL;
}

static int checksum(void)
{
    const char *text = "hvsim";
    u32 h = 2166136261u;
    for (const char *p = text; *p; p++)
        h = (h ^ (u8)*p) * 16777619u;
    hv_printf("fnv1a(\"%s\") = %08x\n", text, h);
    return h != 0xb96e3852u;
}

int main(void)
{
    hv_puts("hvsim bare-metal demo\n");
    hv_printf("hart %lu, %d-bit\n", CSR_READ(mhartid), (int)sizeof(long) * 8);
    int errors = primes() + fibonacci() + checksum();
    hv_puts(errors ? "demo: FAIL\n" : "demo: PASS\n");
    return errors;
}
