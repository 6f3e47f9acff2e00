/*
 * ptrchase.c: pointer chasing, a TLB stress for co-design experiments. One node per
 * 4 KiB page, at a pseudo-random 64-byte slot of its page, over many pages (default
 * 256 pages = 1 MiB, far beyond what a 16-entry TLB of 4 KiB pages maps). The nodes
 * are linked in the order of a random cyclic permutation made by Sattolo's algorithm
 * (Sattolo 1986; Knuth, TAOCP vol. 2, 3.4.2 exercise 14), so successive loads land on
 * unrelated pages. Each step depends on the previous load. Checked by
 *   - the cycle: from node 0 the walk first returns to node 0 after exactly `pages`
 *     steps, and that first lap visits every node exactly once (visit marks),
 *   - the laps: `laps` further laps end on node 0 and the sum of the node indices seen
 *     is laps * pages * (pages - 1) / 2.
 * Run with the harness's arg[3] = 1 (Sv39, 4 KiB pages) to make every step a two-stage
 * TLB miss (H spec 9.5: VS-stage walk whose every access is G-stage translated).
 * arg[0]: pages (default 256); arg[1]: laps (default 256).
 */
#include "workload.h"

#define DEFAULT_PAGES 256
#define DEFAULT_LAPS 256
#define SLOT 64u

const char workload_name[] = "ptrchase";

struct node {
    struct node *next;
    uint32_t index;
    uint32_t visits;
};

static struct node *node_at(uint8_t *pages, uint32_t i, uint64_t *seed)
{
    return (struct node *)(pages + (size_t)i * WL_PAGE + wl_below(seed, WL_PAGE / SLOT) * SLOT);
}

/* succ[i] = the node after node i: a single cycle through all n nodes. */
static void sattolo(uint32_t *succ, uint32_t n, uint64_t *seed)
{
    for (uint32_t i = 0; i < n; i++)
        succ[i] = i;
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)wl_below(seed, i), t = succ[i];
        succ[i] = succ[j];
        succ[j] = t;
    }
}

static struct node *build(uint8_t *pages, struct node **nodes, uint32_t *succ, uint32_t n,
                          uint64_t *seed)
{
    for (uint32_t i = 0; i < n; i++) {
        nodes[i] = node_at(pages, i, seed);
        nodes[i]->index = i;
        nodes[i]->visits = 0;
    }
    sattolo(succ, n, seed);
    for (uint32_t i = 0; i < n; i++)
        nodes[i]->next = nodes[succ[i]];
    return nodes[0];
}

/* Steps of the first lap from `start` (0 if it does not come back within `limit`);
 * marks each node visited and folds the order of visits into *order. */
static uint32_t first_lap(struct node *start, uint32_t limit, uint32_t *order)
{
    struct node *p = start;
    uint32_t steps = 0, h = 2166136261u;
    do {
        p->visits++;
        h = (h ^ p->index) * 16777619u;
        p = p->next;
        steps++;
    } while (p != start && steps <= limit);
    *order = h;
    return p == start ? steps : 0;
}

static uint64_t chase(struct node **at, uint64_t steps)
{
    struct node *p = *at;
    uint64_t sum = 0;
    for (uint64_t s = 0; s < steps; s++) {
        sum += p->index;
        p = p->next;
    }
    *at = p;
    return sum;
}

int workload_run(const struct wl_env *env)
{
    uint32_t n = (uint32_t)wl_arg(env, 0, DEFAULT_PAGES);
    uint64_t laps = wl_arg(env, 1, DEFAULT_LAPS);
    uint8_t *pages = n >= 2 && n < 1u << 20 ? wl_alloc((size_t)n * WL_PAGE) : NULL;
    struct node **nodes = wl_alloc((size_t)n * sizeof *nodes);
    uint32_t *succ = wl_alloc((size_t)n * sizeof *succ);
    if (wl_check(pages && nodes && succ, "%u pages do not fit (2 or more)", n))
        return 1;
    uint64_t seed = 0xBE5466CF34E90C6Cull;
    struct node *start = build(pages, nodes, succ, n, &seed);
    uint32_t order, cycle = first_lap(start, n, &order);
    wl_check(cycle == n, "cycle of %u nodes, want %u", cycle, n);
    uint32_t once = 0;
    for (uint32_t i = 0; i < n; i++)
        once += nodes[i]->visits == 1;
    wl_check(once == n, "%u of %u nodes visited once in the first lap", once, n);
    struct node *p = start;
    uint64_t sum = chase(&p, laps * n);
    uint64_t want = laps * ((uint64_t)n * (n - 1) / 2);
    wl_check(p == start, "after %lu laps the walk ends on node %u", (unsigned long)laps,
             p->index);
    wl_check(sum == want, "index sum %lu, want %lu", (unsigned long)sum, (unsigned long)want);
    wl_print("%u pages, cycle %u, visit order 0x%08x, %lu laps, index sum %lu", n, cycle,
             order, (unsigned long)laps, (unsigned long)sum);
    return 0;
}
