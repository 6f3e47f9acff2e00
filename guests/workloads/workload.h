/*
 * workload.h: the contract between the workload harness (harness.c) and one workload.
 * A workload guest is an S-mode kernel booted through SBI (SBI spec v2.0 chapter 9:
 * a0 = hart id, a1 = DTB; a2..a5 = the VM's `args`). The harness reads the DTB, hands
 * the workload the free RAM between the end of the image and the DTB slot, and prints
 * "<name>: PASS" or "<name>: FAIL <first failed check>" as the last line.
 *
 * Argument conventions of every workload: arg[0] is the problem size in the workload's
 * own unit and arg[1] the number of rounds (0 selects the default for both); arg[2] is
 * a workload-specific mode (0 = default); arg[3] is the harness's translation mode
 * (0 bare, 1 Sv39 with 4 KiB pages, 2 Sv39 with 2 MiB megapages; see harness.c).
 */
#ifndef GUEST_WORKLOAD_H
#define GUEST_WORKLOAD_H

#include "klib.h"

/* Bytes at the top of the VM's RAM that the hypervisor keeps for the DTB. */
#define WL_DTB_SLOT (64u << 10)
#define WL_PAGE 4096u

/* What the harness gives a workload. */
struct wl_env {
    uint8_t *ram;             /* first free byte (after the image and page tables) */
    size_t ram_size;          /* free bytes from `ram` up to the DTB slot */
    unsigned long arg[4];     /* the VM's args (a2..a5) */
};

/* Defined by each workload. */
extern const char workload_name[];
int workload_run(const struct wl_env *env);   /* 0 if every check passed */

/* Provided by the harness. */
void *wl_alloc(size_t bytes);                 /* page-aligned bump allocation; NULL if full */
int wl_check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wl_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
unsigned long wl_arg(const struct wl_env *env, unsigned i, unsigned long dflt);

/* xorshift64 (Marsaglia 2003, shifts 13, 7, 17): the workloads' only source of data. */
static inline uint64_t wl_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* A uniform value below n (n > 0) from the top bits of the generator. */
static inline uint64_t wl_below(uint64_t *state, uint64_t n)
{
    return (wl_rand(state) >> 32) % n;
}

#endif /* GUEST_WORKLOAD_H */
