/*
 * harness.c: the kernel around every workload (see workload.h). Boots as an S-mode
 * kernel under SBI (SBI spec v2.0 chapter 9: a0 = hart id, a1 = DTB), reads the first
 * /memory node of the DTB (Devicetree Specification v0.4 section 3.4), gives the
 * workload the RAM between `_end` and the DTB slot the hypervisor keeps in the last
 * 64 KiB (docs/hypervisor.md, "Memory layout"), and prints through SBI DBCN
 * (chapter 12) the verdict line "<name>: PASS" or "<name>: FAIL <first failed check>".
 *
 * arg[3] selects the address translation the workload runs under: 0 none (vsatp Bare,
 * so only the hypervisor's G-stage translates), 1 Sv39 with 4 KiB pages, 2 Sv39 with
 * 2 MiB megapages where aligned (priv spec 12.4 "Sv39"; with the H extension every
 * VS-stage access is then translated twice, H spec 9.5). Sv39 maps the whole RAM of the
 * VM at its own address (virtual = guest-physical), readable, writable and executable,
 * with A and D preset (the Svade behaviour: no A/D updates by hardware).
 */
#include "workload.h"

#define REASON_LEN 100
#define SATP_MODE_SV39 8ull
#define PTE_RWX 0x0Eu
#define PTE_LEAF (PTE_V | PTE_RWX | PTE_A | PTE_D)
#define PTES 512u
#define MEGA (2u << 20)
#define GIGA (1ul << 30)

enum paging { PAGING_BARE, PAGING_4K, PAGING_2M, PAGING_MODES };
static const char *const paging_names[PAGING_MODES] = {"bare", "sv39 4k", "sv39 2m"};

extern uint8_t _end[];

static uint8_t *next_free, *free_end;
static char reason[REASON_LEN];
static unsigned failures;

static uintptr_t page_up(uintptr_t a) { return (a + WL_PAGE - 1) & ~(uintptr_t)(WL_PAGE - 1); }

void *wl_alloc(size_t bytes)
{
    if (bytes > (size_t)(free_end - next_free))
        return NULL;
    uint8_t *p = next_free;
    next_free += page_up(bytes);
    if (next_free > free_end)
        next_free = free_end;
    return p;
}

int wl_check(int ok, const char *fmt, ...)
{
    if (ok)
        return 0;
    if (!failures++) {
        va_list ap;
        va_start(ap, fmt);
        kvsnprintf(reason, sizeof reason, fmt, ap);
        va_end(ap);
    }
    return 1;
}

void wl_print(const char *fmt, ...)
{
    char line[120];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    kprintf("%s: %s\n", workload_name, line);
}

unsigned long wl_arg(const struct wl_env *env, unsigned i, unsigned long dflt)
{
    return env->arg[i] ? env->arg[i] : dflt;
}

/* The free RAM: from the page after `_end` to the DTB slot (or the DTB, if lower). */
static int find_ram(const void *dtb, struct wl_env *env)
{
    uintptr_t lo = page_up((uintptr_t)_end);
    uintptr_t hi = boot.mem_base + boot.mem_size - WL_DTB_SLOT;
    if ((uintptr_t)dtb >= lo && (uintptr_t)dtb < hi)
        hi = (uintptr_t)dtb & ~(uintptr_t)(WL_PAGE - 1);
    if (boot.mem_size <= WL_DTB_SLOT || hi <= lo)
        return -1;
    env->ram = (uint8_t *)lo;
    env->ram_size = hi - lo;
    next_free = env->ram;
    free_end = (uint8_t *)hi;
    return 0;
}

static uint64_t pte_to(uintptr_t pa, unsigned flags) { return (pa >> 12) << 10 | flags; }

static uint64_t *new_table(void)
{
    uint64_t *t = wl_alloc(WL_PAGE);
    if (t)
        for (unsigned i = 0; i < PTES; i++)
            t[i] = 0;
    return t;
}

/* Identity-map [base, base + size) (within one 1 GiB region) with 4 KiB pages, or
 * with 2 MiB leaves where aligned if `mega`; return the root table or NULL. */
static uint64_t *identity_map(uintptr_t base, uintptr_t size, int mega)
{
    uint64_t *root = new_table(), *mid = new_table();
    if (!root || !mid || base / GIGA != (base + size - 1) / GIGA)
        return NULL;
    root[(base / GIGA) % PTES] = pte_to((uintptr_t)mid, PTE_V);
    for (uintptr_t a = base; a < base + size;) {
        uint64_t *slot = &mid[(a / MEGA) % PTES];
        if (mega && a % MEGA == 0 && base + size - a >= MEGA) {
            *slot = pte_to(a, PTE_LEAF);
            a += MEGA;
            continue;
        }
        if (!*slot) {
            uint64_t *leaf = new_table();
            if (!leaf)
                return NULL;
            *slot = pte_to((uintptr_t)leaf, PTE_V);
        }
        uint64_t *leaf = (uint64_t *)(uintptr_t)((*slot >> 10) << 12);
        leaf[(a / WL_PAGE) % PTES] = pte_to(a, PTE_LEAF);
        a += WL_PAGE;
    }
    return root;
}

static void set_satp(uint64_t satp)
{
    csr_write(satp, satp);
    __asm__ volatile("sfence.vma" : : : "memory");
}

/* Turn on the translation `mode` selects; 0 on success. */
static int paging_on(unsigned long mode)
{
    if (mode == PAGING_BARE)
        return 0;
    uint64_t *root = mode < PAGING_MODES
                         ? identity_map(boot.mem_base, boot.mem_size, mode == PAGING_2M)
                         : NULL;
    if (!root)
        return -1;
    set_satp(SATP_MODE_SV39 << 60 | (uintptr_t)root >> 12);
    return 0;
}

int kmain(unsigned long hartid, const void *dtb, unsigned long a2, unsigned long a3,
          unsigned long a4, unsigned long a5)
{
    (void)hartid;
    struct wl_env env = {.arg = {a2, a3, a4, a5}};
    console_select(CONSOLE_DBCN);
    if (boot_init(dtb) || find_ram(dtb, &env)) {
        kprintf("%s: FAIL no usable DTB or no free RAM\n", workload_name);
        return 1;
    }
    wl_print("args %lu %lu %lu %lu, ram %lu KiB", a2, a3, a4, a5,
             (unsigned long)(boot.mem_size >> 10));
    if (wl_check(!paging_on(a5), "paging mode %lu unknown or its tables do not fit", a5)) {
        kprintf("%s: FAIL %s\n", workload_name, reason);
        return 1;
    }
    if (a5)
        wl_print("translation %s", paging_names[a5]);
    env.ram = next_free;
    env.ram_size = (size_t)(free_end - next_free);
    int rc = workload_run(&env);
    set_satp(0);
    if (rc && !failures)
        wl_check(0, "workload returned %d", rc);
    if (failures) {
        kprintf("%s: FAIL %s (%u failed checks)\n", workload_name, reason, failures);
        return 1;
    }
    kprintf("%s: PASS\n", workload_name);
    return 0;
}
