/*
 * membw.c: streaming memory bandwidth over three arrays of 64-bit words (default
 * 256 KiB each, so far more pages than the 16-entry TLB maps with 4 KiB pages): a
 * fill with an arithmetic progression, then the four kernels of McCalpin's STREAM
 * benchmark (copy c = a, scale b = k*c, add c = a + b, triad a = b + k*c), and a
 * byte-wise copy of a window. Every kernel is followed by a summing pass over its
 * result, which must equal the sum predicted from the previous sums alone: arithmetic
 * modulo 2^64 is a ring, so sum(k*x) = k*sum(x) and sum(x + y) = sum(x) + sum(y)
 * exactly, and the fill's sum has the closed form n*base + step*n(n-1)/2. A copy is
 * also compared word by word.
 * arg[0]: KiB per array (default 256); arg[1]: rounds (default 1).
 */
#include "workload.h"

#define DEFAULT_KIB 256
#define SCALE 3u
#define BYTE_WINDOW 4096u

const char workload_name[] = "membw";

static void fill(uint64_t *a, size_t n, uint64_t base, uint64_t step)
{
    uint64_t v = base;
    for (size_t i = 0; i < n; i++, v += step)
        a[i] = v;
}

static uint64_t sum(const uint64_t *a, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i];
    return s;
}

static void copy(uint64_t *dst, const uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static void scale(uint64_t *dst, const uint64_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = SCALE * src[i];
}

static void add(uint64_t *dst, const uint64_t *x, const uint64_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = x[i] + y[i];
}

static void triad(uint64_t *dst, const uint64_t *x, const uint64_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = x[i] + SCALE * y[i];
}

static void copy_bytes(uint8_t *dst, const uint8_t *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static size_t first_difference(const uint64_t *x, const uint64_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return i;
    return n;
}

static void expect(const char *what, uint64_t got, uint64_t want, unsigned r)
{
    wl_check(got == want, "round %u: %s sum 0x%lx, want 0x%lx", r, what,
             (unsigned long)got, (unsigned long)want);
}

static uint64_t one_round(uint64_t *const arr[3], size_t n, uint64_t *seed, unsigned r)
{
    uint64_t *a = arr[0], *b = arr[1], *c = arr[2];
    uint64_t base = wl_rand(seed), step = wl_rand(seed) | 1;
    uint64_t tri = n % 2 ? (uint64_t)n * ((n - 1) / 2) : (uint64_t)(n / 2) * (n - 1);
    fill(a, n, base, step);
    uint64_t sa = sum(a, n);
    expect("fill", sa, n * base + step * tri, r);
    copy(c, a, n);
    uint64_t sc = sum(c, n);
    expect("copy", sc, sa, r);
    size_t bad = first_difference(a, c, n);
    wl_check(bad == n, "round %u: copy differs at word %lu", r, (unsigned long)bad);
    scale(b, c, n);
    uint64_t sb = sum(b, n);
    expect("scale", sb, SCALE * sc, r);
    add(c, a, b, n);
    uint64_t sc2 = sum(c, n);
    expect("add", sc2, sa + sb, r);
    triad(a, b, c, n);
    uint64_t sa2 = sum(a, n);
    expect("triad", sa2, sb + SCALE * sc2, r);
    size_t window = n * 8 < BYTE_WINDOW ? n * 8 : BYTE_WINDOW;
    copy_bytes((uint8_t *)b + 1, (const uint8_t *)a, window - 1);
    bad = 0;
    for (size_t i = 0; i + 1 < window; i++)
        bad += ((uint8_t *)b)[i + 1] != (uint8_t)(a[i / 8] >> (8 * (i % 8)));
    wl_check(!bad, "round %u: byte copy differs in %lu bytes", r, (unsigned long)bad);
    wl_print("round %u: %lu words, sums 0x%016lx 0x%016lx", r, (unsigned long)n,
             (unsigned long)sa, (unsigned long)sa2);
    return sa2;
}

int workload_run(const struct wl_env *env)
{
    size_t bytes = wl_arg(env, 0, DEFAULT_KIB) << 10, n = bytes / 8;
    unsigned rounds = (unsigned)wl_arg(env, 1, 1);
    uint64_t *const arr[3] = {wl_alloc(bytes), wl_alloc(bytes), wl_alloc(bytes)};
    if (wl_check(arr[0] && arr[1] && arr[2], "3 x %lu KiB do not fit",
                 (unsigned long)(bytes >> 10)))
        return 1;
    uint64_t seed = 0x452821E638D01377ull, folded = 0;
    for (unsigned r = 0; r < rounds; r++)
        folded ^= one_round(arr, n, &seed, r);
    wl_print("%u rounds, %lu KiB moved per round, folded 0x%016lx", rounds,
             (unsigned long)(bytes * 18 >> 10), (unsigned long)folded);
    return 0;
}
