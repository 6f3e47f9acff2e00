/*
 * matmul.c: integer matrix multiply C = A * B of N x N int32 matrices with small
 * pseudo-random entries (xorshift64, -8..8), in i-j-k order (dot products of rows of A
 * with columns of B). All arithmetic is modulo 2^32, a ring, so every identity below
 * holds exactly even if a sum overflowed. Checked by
 *   - a second product in i-k-j order over the transpose of B (row-times-row, so a
 *     different summation order and access pattern) giving the same C,
 *   - the identity property A * I = A with the i-j-k routine,
 *   - the checksum identities of Huang and Abraham (IEEE Trans. Computers C-33, 1984):
 *     the column sums of C equal (column sums of A) * B, and the row sums of C equal
 *     A * (row sums of B), computed in O(N^2) without C.
 * arg[0]: N (default 40); arg[1]: rounds with fresh matrices (default 1).
 */
#include "workload.h"

#define DEFAULT_N 40

const char workload_name[] = "matmul";

typedef int32_t elem;

static void random_matrix(elem *m, long n, uint64_t *seed)
{
    for (long i = 0; i < n * n; i++)
        m[i] = (elem)wl_below(seed, 17) - 8;
}

static void identity(elem *m, long n)
{
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            m[i * n + j] = i == j;
}

static void transpose(const elem *m, elem *t, long n)
{
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++)
            t[j * n + i] = m[i * n + j];
}

static void mul_ijk(const elem *a, const elem *b, elem *c, long n)
{
    for (long i = 0; i < n; i++)
        for (long j = 0; j < n; j++) {
            uint32_t s = 0;
            for (long k = 0; k < n; k++)
                s += (uint32_t)a[i * n + k] * (uint32_t)b[k * n + j];
            c[i * n + j] = (elem)s;
        }
}

/* C = A * B from bt = B^T: for each i, accumulate a[i][k] * row k of B into row i. */
static void mul_ikj_transposed(const elem *a, const elem *bt, elem *c, long n)
{
    for (long i = 0; i < n; i++) {
        uint32_t *row = (uint32_t *)&c[i * n];
        for (long j = 0; j < n; j++)
            row[j] = 0;
        for (long k = n - 1; k >= 0; k--) {
            uint32_t aik = (uint32_t)a[i * n + k];
            for (long j = 0; j < n; j++)
                row[j] += aik * (uint32_t)bt[j * n + k];
        }
    }
}

static long first_difference(const elem *x, const elem *y, long count)
{
    for (long i = 0; i < count; i++)
        if (x[i] != y[i])
            return i;
    return -1;
}

/* Index of the first column (row, if `rows`) whose sum in C disagrees with the
 * checksum derived from A and B alone, or -1; `v` is scratch for n sums. */
static long checksum_mismatch(const elem *a, const elem *b, const elem *c, long n, int rows,
                              uint32_t *v)
{
    for (long k = 0; k < n; k++) {
        uint32_t s = 0;
        for (long y = 0; y < n; y++)
            s += (uint32_t)(rows ? b[k * n + y] : a[y * n + k]);
        v[k] = s;
    }
    for (long x = 0; x < n; x++) {
        uint32_t direct = 0, derived = 0;
        for (long y = 0; y < n; y++)
            direct += (uint32_t)(rows ? c[x * n + y] : c[y * n + x]);
        for (long k = 0; k < n; k++)
            derived += v[k] * (uint32_t)(rows ? a[x * n + k] : b[k * n + x]);
        if (direct != derived)
            return x;
    }
    return -1;
}

static uint32_t fold(const elem *m, long n)
{
    uint32_t h = 2166136261u;
    for (long i = 0; i < n * n; i++)
        h = (h ^ (uint32_t)m[i]) * 16777619u;
    return h;
}

static void one_round(elem *const m[5], long n, uint64_t *seed, unsigned r)
{
    elem *a = m[0], *b = m[1], *c = m[2], *c2 = m[3], *t = m[4];
    random_matrix(a, n, seed);
    random_matrix(b, n, seed);
    mul_ijk(a, b, c, n);
    transpose(b, t, n);
    mul_ikj_transposed(a, t, c2, n);
    long bad = first_difference(c, c2, n * n);
    wl_check(bad < 0, "round %u: orders differ at C[%ld][%ld]", r, bad / n, bad % n);
    bad = checksum_mismatch(a, b, c, n, 0, (uint32_t *)t);
    wl_check(bad < 0, "round %u: column checksum %ld", r, bad);
    bad = checksum_mismatch(a, b, c, n, 1, (uint32_t *)t);
    wl_check(bad < 0, "round %u: row checksum %ld", r, bad);
    identity(t, n);
    mul_ijk(a, t, c2, n);
    bad = first_difference(a, c2, n * n);
    wl_check(bad < 0, "round %u: A*I differs from A at %ld", r, bad);
    long trace = 0;
    for (long i = 0; i < n; i++)
        trace += c[i * n + i];
    wl_print("round %u: %ldx%ld, trace %ld, C[0][%ld] %d, hash 0x%08x", r, n, n, trace,
             n - 1, c[n - 1], fold(c, n));
}

int workload_run(const struct wl_env *env)
{
    long n = (long)wl_arg(env, 0, DEFAULT_N);
    unsigned rounds = (unsigned)wl_arg(env, 1, 1);
    elem *all = n < 1 << 16 ? wl_alloc(5 * (size_t)n * n * sizeof(elem)) : NULL;
    if (wl_check(all != NULL, "%ldx%ld matrices do not fit", n, n))
        return 1;
    elem *const m[5] = {all, all + n * n, all + 2 * n * n, all + 3 * n * n, all + 4 * n * n};
    uint64_t seed = 0xA4093822299F31D0ull;
    for (unsigned r = 0; r < rounds; r++)
        one_round(m, n, &seed, r);
    return 0;
}
