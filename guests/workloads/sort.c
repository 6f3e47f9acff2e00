/*
 * sort.c: sorting pseudo-random 32-bit keys (xorshift64, drawn below KEY_RANGE so that
 * keys repeat) with three algorithms (Knuth, TAOCP vol. 3: 5.2.2 quicksort with
 * median-of-three and insertion sort for short ranges, 5.2.3 heapsort, 5.2.4 bottom-up
 * merge sort). Checked by
 *   - order: each result is non-decreasing,
 *   - permutation: a counting pass over the input (a histogram of KEY_RANGE buckets)
 *     must equal the run lengths of each result, and the sum and xor of the keys
 *     must be unchanged,
 *   - agreement: the three results are identical word for word.
 * arg[0]: number of keys (default 1024); arg[1]: rounds with fresh keys (default 1).
 */
#include "workload.h"

#define DEFAULT_KEYS 1024
#define KEY_RANGE 4096u
#define SMALL 12

const char workload_name[] = "sort";

struct fingerprint {
    uint64_t sum, xor;
};

static void swap(uint32_t *a, uint32_t *b)
{
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(uint32_t *a, long n)
{
    for (long i = 1; i < n; i++) {
        uint32_t v = a[i];
        long j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/* Hoare partition around the median of the first, middle and last keys; recursion on
 * the smaller side only, so the stack depth stays logarithmic. */
static void quick_sort(uint32_t *a, long n)
{
    while (n > SMALL) {
        long mid = n / 2;
        if (a[mid] < a[0])
            swap(&a[mid], &a[0]);
        if (a[n - 1] < a[0])
            swap(&a[n - 1], &a[0]);
        if (a[n - 1] < a[mid])
            swap(&a[n - 1], &a[mid]);
        uint32_t pivot = a[mid];
        long i = -1, j = n;
        for (;;) {
            do i++; while (a[i] < pivot);
            do j--; while (a[j] > pivot);
            if (i >= j)
                break;
            swap(&a[i], &a[j]);
        }
        long left = j + 1;
        if (left < n - left) {
            quick_sort(a, left);
            a += left;
            n -= left;
        } else {
            quick_sort(a + left, n - left);
            n = left;
        }
    }
    insertion_sort(a, n);
}

static void sift_down(uint32_t *a, long root, long n)
{
    uint32_t v = a[root];
    for (long child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[child] <= v)
            break;
        a[root] = a[child];
    }
    a[root] = v;
}

static void heap_sort(uint32_t *a, long n)
{
    for (long i = n / 2 - 1; i >= 0; i--)
        sift_down(a, i, n);
    for (long end = n - 1; end > 0; end--) {
        swap(&a[0], &a[end]);
        sift_down(a, 0, end);
    }
}

static void merge(const uint32_t *src, uint32_t *dst, long lo, long mid, long hi)
{
    long i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        dst[k++] = src[j] < src[i] ? src[j++] : src[i++];
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

/* Bottom-up merge sort ping-ponging between `a` and `tmp`; the result ends in `a`. */
static void merge_sort(uint32_t *a, uint32_t *tmp, long n)
{
    uint32_t *src = a, *dst = tmp;
    for (long width = 1; width < n; width *= 2) {
        for (long lo = 0; lo < n; lo += 2 * width) {
            long mid = lo + width < n ? lo + width : n;
            long hi = lo + 2 * width < n ? lo + 2 * width : n;
            merge(src, dst, lo, mid, hi);
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    for (long i = 0; src != a && i < n; i++)
        a[i] = src[i];
}

static struct fingerprint fingerprint(const uint32_t *a, long n)
{
    struct fingerprint f = {0, 0};
    for (long i = 0; i < n; i++) {
        f.sum += a[i];
        f.xor ^= (uint64_t)a[i] * 0x9E3779B97F4A7C15ull;
    }
    return f;
}

static long first_descent(const uint32_t *a, long n)
{
    for (long i = 1; i < n; i++)
        if (a[i] < a[i - 1])
            return i;
    return 0;
}

/* 0 if the run lengths of sorted `a` equal the histogram `hist` (which it consumes). */
static long histogram_mismatch(const uint32_t *a, long n, uint32_t *hist)
{
    for (long i = 0; i < n; i++)
        if (a[i] >= KEY_RANGE || hist[a[i]]-- == 0)
            return i + 1;
    for (uint32_t k = 0; k < KEY_RANGE; k++)
        if (hist[k])
            return n + 1;
    return 0;
}

static void check_result(const char *algo, const uint32_t *a, long n,
                         const uint32_t *hist0, uint32_t *hist, struct fingerprint want)
{
    struct fingerprint got = fingerprint(a, n);
    long bad = first_descent(a, n);
    wl_check(!bad, "%s: out of order at %ld", algo, bad);
    for (uint32_t k = 0; k < KEY_RANGE; k++)
        hist[k] = hist0[k];
    bad = histogram_mismatch(a, n, hist);
    wl_check(!bad, "%s: not a permutation of the input (at %ld)", algo, bad - 1);
    wl_check(got.sum == want.sum && got.xor == want.xor, "%s: fingerprint changed", algo);
}

static void one_round(uint32_t *const arr[5], uint32_t *hist0, long n, uint64_t *seed,
                      unsigned r)
{
    uint32_t *in = arr[0], *q = arr[1], *h = arr[2], *m = arr[3], *tmp = arr[4];
    uint32_t *hist = tmp + n;
    for (uint32_t k = 0; k < KEY_RANGE; k++)
        hist0[k] = 0;
    for (long i = 0; i < n; i++) {
        in[i] = (uint32_t)wl_below(seed, KEY_RANGE);
        hist0[in[i]]++;
        q[i] = h[i] = m[i] = in[i];
    }
    struct fingerprint want = fingerprint(in, n);
    quick_sort(q, n);
    heap_sort(h, n);
    merge_sort(m, tmp, n);
    check_result("quicksort", q, n, hist0, hist, want);
    check_result("heapsort", h, n, hist0, hist, want);
    check_result("mergesort", m, n, hist0, hist, want);
    long differ = 0;
    for (long i = 0; i < n; i++)
        differ += q[i] != h[i] || q[i] != m[i];
    wl_check(!differ, "round %u: the sorts disagree at %ld places", r, differ);
    uint32_t distinct = 0;
    for (uint32_t k = 0; k < KEY_RANGE; k++)
        distinct += hist0[k] != 0;
    wl_print("round %u: %ld keys, %u distinct, min %u median %u max %u, sum %lu", r, n,
             distinct, q[0], q[n / 2], q[n - 1], (unsigned long)want.sum);
}

int workload_run(const struct wl_env *env)
{
    long n = (long)wl_arg(env, 0, DEFAULT_KEYS);
    unsigned rounds = (unsigned)wl_arg(env, 1, 1);
    size_t words = 5 * (size_t)n + 2 * KEY_RANGE;
    uint32_t *all = wl_alloc(words * sizeof *all);
    if (wl_check(all != NULL, "%ld keys do not fit", n))
        return 1;
    uint32_t *const arr[5] = {all, all + n, all + 2 * n, all + 3 * n, all + 4 * n};
    uint32_t *hist0 = all + 5 * n + KEY_RANGE;
    uint64_t seed = 0x13198A2E03707344ull;
    for (unsigned r = 0; r < rounds; r++)
        one_round(arr, hist0, n, &seed, r);
    return 0;
}
