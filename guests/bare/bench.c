/*
 * bench.c: a compute-bound, self-checking benchmark for the SoC and for Spike.
 *   1. CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) over BENCH_BYTES of RAM
 *      filled by a xorshift64* generator, computed with a 256-entry table and checked
 *      against a bit-serial computation of the same CRC.
 *   2. Quicksort of BENCH_KEYS 64-bit keys from the same generator, checked by order
 *      and by order-independent sums (sum, xor, sum of squares) taken before the sort.
 * Cycle and instruction counts of each phase are printed; they are informative only.
 * Build with -DSMALL for a short run (tests).
 */
#include "hvlib.h"

#ifdef SMALL
#define BENCH_BYTES (16u << 10)
#define BENCH_KEYS (1u << 10)
#else
#define BENCH_BYTES (1u << 20)
#define BENCH_KEYS (64u << 10)
#endif

static u8 buffer[BENCH_BYTES] __attribute__((aligned(8)));
static u64 keys[BENCH_KEYS];
static u32 crc_table[256];
static u64 rng_state = 0x9E3779B97F4A7C15UL;

static u64 rng_next(void)
{
    u64 x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DUL;
}

static void crc_init(void)
{
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_table[i] = c;
    }
}

static u32 crc_table_driven(const u8 *p, size_t n)
{
    u32 c = 0xFFFFFFFFu;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

static u32 crc_bitwise(const u8 *p, size_t n)
{
    u32 c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void swap(u64 *a, u64 *b)
{
    u64 t = *a;
    *a = *b;
    *b = t;
}

/* Quicksort, median of three, recursing into the smaller part (depth <= log2 n). */
static void quicksort(u64 *a, long lo, long hi)
{
    while (hi - lo > 16) {
        long mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo])
            swap(&a[mid], &a[lo]);
        if (a[hi] < a[lo])
            swap(&a[hi], &a[lo]);
        if (a[hi] < a[mid])
            swap(&a[hi], &a[mid]);
        u64 pivot = a[mid];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j)
                swap(&a[i++], &a[j--]);
        }
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
    for (long i = lo + 1; i <= hi; i++) {
        u64 v = a[i];
        long j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

struct sums {
    u64 sum, xor, squares;
};

static struct sums key_sums(void)
{
    struct sums s = {0, 0, 0};
    for (u32 i = 0; i < BENCH_KEYS; i++) {
        s.sum += keys[i];
        s.xor ^= keys[i];
        s.squares += keys[i] * keys[i];
    }
    return s;
}

static int bench_crc(void)
{
    u64 *words = (u64 *)buffer;
    for (u32 i = 0; i < BENCH_BYTES / 8; i++)
        words[i] = rng_next();
    crc_init();
    u64 c0 = rdcycle(), i0 = rdinstret();
    u32 fast = crc_table_driven(buffer, BENCH_BYTES);
    u64 c1 = rdcycle(), i1 = rdinstret();
    u32 slow = crc_bitwise(buffer, BENCH_BYTES);
    hv_printf("crc32 of %u bytes: %08x (bitwise %08x)\n", BENCH_BYTES, fast, slow);
    hv_printf("crc32 table: %lu cycles, %lu instructions\n", c1 - c0, i1 - i0);
    /* The standard check value: CRC-32 of "123456789" is cbf43926 */
    int bad_check = crc_table_driven((const u8 *)"123456789", 9) != 0xCBF43926u;
    return (fast != slow) + bad_check;
}

static int bench_sort(void)
{
    for (u32 i = 0; i < BENCH_KEYS; i++)
        keys[i] = rng_next();
    struct sums before = key_sums();
    u64 c0 = rdcycle(), i0 = rdinstret();
    quicksort(keys, 0, BENCH_KEYS - 1);
    u64 c1 = rdcycle(), i1 = rdinstret();
    struct sums after = key_sums();
    u32 disorder = 0;
    for (u32 i = 1; i < BENCH_KEYS; i++)
        disorder += keys[i - 1] > keys[i];
    hv_printf("sorted %u keys: min %016lx max %016lx, %u out of order\n", BENCH_KEYS, keys[0],
              keys[BENCH_KEYS - 1], disorder);
    hv_printf("quicksort: %lu cycles, %lu instructions\n", c1 - c0, i1 - i0);
    return (disorder != 0) + (before.sum != after.sum) + (before.xor != after.xor) +
           (before.squares != after.squares);
}

int main(void)
{
    hv_puts("hvsim bench\n");
    u64 c0 = rdcycle(), i0 = rdinstret();
    int errors = bench_crc() + bench_sort();
    u64 c1 = rdcycle(), i1 = rdinstret();
    hv_printf("total: %lu cycles, %lu instructions\n", c1 - c0, i1 - i0);
    hv_puts(errors ? "bench: FAIL\n" : "bench: PASS\n");
    return errors;
}
