/*
 * strings.c: string processing over generated text. A vocabulary of distinct
 * pronounceable words is made from syllables; the text is a skewed random choice of
 * them, separated by spaces, commas and full stops (a word after a full stop is
 * capitalised). The generator records what it wrote: the number of words, the letters
 * and how often each vocabulary word was used. Then the text is
 *   - tokenised into maximal runs of letters (word count and letter total must match
 *     the generator's),
 *   - counted in an open-addressing hash table of case-folded words (FNV-1a, linear
 *     probing; Knuth, TAOCP vol. 3, 6.4 algorithm L): every word's count must equal
 *     the generator's, and the number of distinct words the number it used,
 *   - searched, case-folded, for vocabulary words (three frequent ones and the
 *     shortest, which also occurs inside longer words) with a naive scan and with
 *     Boyer-Moore-Horspool (Horspool 1980): both must find the same substring matches,
 *     and the whole-word matches must equal the generator's count,
 *   - reversed: twice gives the original, and token i of the reversal is token
 *     W-1-i backwards.
 * arg[0]: words of text (default 1000); arg[1]: rounds with fresh text (default 1).
 */
#include "workload.h"

#define DEFAULT_WORDS 1000
#define VOCAB 64
#define MAX_WORD 12
#define SLOTS 256
#define PATTERNS 4

const char workload_name[] = "strings";

struct token {
    uint32_t off, len;
};

struct slot {
    uint32_t hash, off, len, count;
};

struct text {
    char *buf, *lower, *rev;
    size_t len;
    struct token *tok;
    long words, letters;
};

static const char consonants[] = "bcdfghklmnprstvz";
static const char vowels[] = "aeiou";

static char vocab[VOCAB][MAX_WORD + 1];
static long used[VOCAB];
static struct slot table[SLOTS];

static int is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static int word_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* One to three syllables, each consonant-vowel with an optional closing consonant. */
static void make_word(char *w, uint64_t *seed)
{
    int n = 0, syllables = 1 + (int)wl_below(seed, 3);
    for (int s = 0; s < syllables; s++) {
        w[n++] = consonants[wl_below(seed, sizeof consonants - 1)];
        w[n++] = vowels[wl_below(seed, sizeof vowels - 1)];
        if (wl_below(seed, 4) == 0)
            w[n++] = consonants[wl_below(seed, sizeof consonants - 1)];
    }
    w[n] = '\0';
}

static void make_vocab(uint64_t *seed)
{
    for (int v = 0; v < VOCAB; v++) {
        int dup;
        do {
            make_word(vocab[v], seed);
            dup = 0;
            for (int u = 0; u < v && !dup; u++)
                dup = word_eq(vocab[u], vocab[v]);
        } while (dup);
    }
}

/* Skewed toward low indices: the smaller of two uniform draws. */
static int pick(uint64_t *seed)
{
    int x = (int)wl_below(seed, VOCAB), y = (int)wl_below(seed, VOCAB);
    return x < y ? x : y;
}

static void generate(struct text *t, long words, uint64_t *seed)
{
    size_t n = 0;
    int capital = 1;
    t->letters = 0;
    for (int v = 0; v < VOCAB; v++)
        used[v] = 0;
    for (long i = 0; i < words; i++) {
        int v = pick(seed);
        used[v]++;
        for (const char *c = vocab[v]; *c; c++, t->letters++)
            t->buf[n++] = c == vocab[v] && capital ? (char)(*c - 'a' + 'A') : *c;
        uint64_t sep = wl_below(seed, 16);
        capital = sep == 0;
        if (sep <= 1)
            t->buf[n++] = sep ? ',' : '.';
        t->buf[n++] = ' ';
    }
    t->buf[n] = '\0';
    t->len = n;
    t->words = words;
}

static long tokenise(const char *s, size_t len, struct token *tok)
{
    long n = 0;
    for (size_t i = 0; i < len;) {
        if (!is_letter(s[i])) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && is_letter(s[i]))
            i++;
        tok[n].off = (uint32_t)start;
        tok[n++].len = (uint32_t)(i - start);
    }
    return n;
}

static uint32_t fnv1a(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)lower(s[i])) * 16777619u;
    return h;
}

static int same_folded(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

/* The slot of the case-folded word s[0..len) (an empty slot if absent); NULL if full. */
static struct slot *lookup(const char *text, const char *s, uint32_t len)
{
    uint32_t h = fnv1a(s, len);
    for (uint32_t probe = 0; probe < SLOTS; probe++) {
        struct slot *e = &table[(h + probe) % SLOTS];
        if (!e->count || (e->hash == h && e->len == len && same_folded(text + e->off, s, len)))
            return e;
    }
    return NULL;
}

static long count_words(const struct text *t)
{
    long distinct = 0;
    for (int i = 0; i < SLOTS; i++)
        table[i].count = 0;
    for (long i = 0; i < t->words; i++) {
        const char *w = t->buf + t->tok[i].off;
        struct slot *e = lookup(t->buf, w, t->tok[i].len);
        if (wl_check(e != NULL, "hash table full"))
            return -1;
        if (!e->count++) {
            e->hash = fnv1a(w, t->tok[i].len);
            e->off = t->tok[i].off;
            e->len = t->tok[i].len;
            distinct++;
        }
    }
    return distinct;
}

static long search_naive(const char *s, size_t n, const char *p, size_t m, long *whole)
{
    long hits = 0;
    *whole = 0;
    for (size_t i = 0; i + m <= n; i++) {
        size_t k = 0;
        while (k < m && s[i + k] == p[k])
            k++;
        if (k < m)
            continue;
        hits++;
        *whole += (i == 0 || !is_letter(s[i - 1])) && (i + m == n || !is_letter(s[i + m]));
    }
    return hits;
}

static long search_horspool(const char *s, size_t n, const char *p, size_t m)
{
    size_t shift[256];
    long hits = 0;
    for (int c = 0; c < 256; c++)
        shift[c] = m;
    for (size_t k = 0; k + 1 < m; k++)
        shift[(uint8_t)p[k]] = m - 1 - k;
    for (size_t i = 0; i + m <= n; i += shift[(uint8_t)s[i + m - 1]]) {
        size_t k = m;
        while (k > 0 && s[i + k - 1] == p[k - 1])
            k--;
        hits += k == 0;
    }
    return hits;
}

static void check_search(const struct text *t, unsigned r)
{
    int which[PATTERNS] = {0, 1, VOCAB / 4, 0};
    for (int v = 0; v < VOCAB; v++)
        which[PATTERNS - 1] = strlen(vocab[v]) < strlen(vocab[which[PATTERNS - 1]]) ? v
                              : which[PATTERNS - 1];
    for (int k = 0; k < PATTERNS; k++) {
        const char *p = vocab[which[k]];
        size_t m = strlen(p);
        long whole, naive = search_naive(t->lower, t->len, p, m, &whole);
        long fast = search_horspool(t->lower, t->len, p, m);
        wl_check(naive == fast, "round %u: '%s' naive %ld, horspool %ld", r, p, naive, fast);
        wl_check(whole == used[which[k]], "round %u: '%s' %ld whole words, wrote %ld", r, p,
                 whole, used[which[k]]);
        wl_print("round %u: '%s' %ld matches, %ld as a word", r, p, naive, whole);
    }
}

static void reverse(char *s, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        char c = s[i];
        s[i] = s[j - 1];
        s[j - 1] = c;
    }
}

static void check_reverse(const struct text *t, unsigned r)
{
    memcpy(t->rev, t->buf, t->len);
    reverse(t->rev, t->len);
    struct token *rt = t->tok + t->words;
    long n = tokenise(t->rev, t->len, rt), bad = -1;
    for (long i = 0; i < n && n == t->words && bad < 0; i++) {
        const struct token *a = &t->tok[t->words - 1 - i], *b = &rt[i];
        if (a->len != b->len)
            bad = i;
        for (uint32_t k = 0; k < a->len && bad < 0; k++)
            if (t->buf[a->off + k] != t->rev[b->off + a->len - 1 - k])
                bad = i;
    }
    wl_check(n == t->words && bad < 0, "round %u: reversed text has %ld words, bad %ld", r,
             n, bad);
    reverse(t->rev, t->len);
    wl_check(!memcmp(t->rev, t->buf, t->len), "round %u: reversing twice changed the text",
             r);
}

static void check_counts(const struct text *t, long distinct, unsigned r)
{
    long want = 0, top = 0;
    for (int v = 0; v < VOCAB; v++) {
        want += used[v] != 0;
        top = used[v] > used[top] ? v : top;
        struct slot *e = lookup(t->buf, vocab[v], (uint32_t)strlen(vocab[v]));
        long got = e ? e->count : -1;
        wl_check(got == used[v], "round %u: '%s' counted %ld, wrote %ld", r, vocab[v], got,
                 used[v]);
    }
    wl_check(distinct == want, "round %u: %ld distinct words, wrote %ld", r, distinct, want);
    wl_print("round %u: %ld distinct, top '%s' x%ld, text hash 0x%08x", r, distinct,
             vocab[top], used[top], fnv1a(t->buf, t->len));
}

static void one_round(struct text *t, long words, uint64_t *seed, unsigned r)
{
    make_vocab(seed);
    generate(t, words, seed);
    long n = tokenise(t->buf, t->len, t->tok), letters = 0;
    for (long i = 0; i < n; i++)
        letters += t->tok[i].len;
    wl_check(n == words && letters == t->letters, "round %u: %ld tokens, %ld letters", r, n,
             letters);
    wl_print("round %u: %lu bytes, %ld words, %ld letters", r, (unsigned long)t->len, n,
             letters);
    if (n != words)
        return;
    for (size_t i = 0; i <= t->len; i++)
        t->lower[i] = lower(t->buf[i]);
    check_counts(t, count_words(t), r);
    check_search(t, r);
    check_reverse(t, r);
}

int workload_run(const struct wl_env *env)
{
    long words = (long)wl_arg(env, 0, DEFAULT_WORDS);
    unsigned rounds = (unsigned)wl_arg(env, 1, 1);
    size_t chars = (size_t)words * (MAX_WORD + 2) + 1;
    struct text t;
    t.buf = wl_alloc(chars);
    t.lower = wl_alloc(chars);
    t.rev = wl_alloc(chars);
    t.tok = wl_alloc(2 * (size_t)words * sizeof(struct token));
    if (wl_check(words < 1 << 24 && t.buf && t.lower && t.rev && t.tok,
                 "%ld words do not fit", words))
        return 1;
    uint64_t seed = 0x082EFA98EC4E6C89ull;
    for (unsigned r = 0; r < rounds; r++)
        one_round(&t, words, &seed, r);
    return 0;
}
