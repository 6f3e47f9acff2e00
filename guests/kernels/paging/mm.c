/*
 * mm.c: physical pages and Sv39 page tables of the paging kernel (priv spec 12.4, "Sv39:
 * Page-Based 39-bit Virtual-Memory System"; the PTE format of 12.3.1 and the walk of
 * 12.3.2). The kernel runs on an identity map of RAM, so a page's kernel address is its
 * guest-physical address and page tables are edited through plain pointers.
 *
 * - The pool: the free RAM pages between the image and the DTB, on a free list.
 * - Kernel mappings are global (G) and supervisor-only: the image's text is R+X, the rest
 *   of RAM R+W, in megapages where aligned. The text ends at user_text_end: .text.user
 *   is the only .text.* input, which the linker script places after every .text. The
 *   kernel's root entries are shared by every process's root table and are never freed
 *   with it.
 * - A leaf that maps a page the process owns (its data, heap and stack pages) carries
 *   the software bit PTE_OWNED (one of the RSW bits) and its page goes back to the pool
 *   when it is unmapped; shared leaves (the user text and rodata in the image) do not.
 * - A, and D on writable leaves, are set when a leaf is made, so no implementation needs
 *   to update them (12.3.2 step 7 lets it fault instead).
 */
#include "klib.h"
#include "paging.h"

#define PTE_OWNED (1ul << 8)
#define MEGAPAGE (PAGE_SIZE * PT_ENTRIES)

extern const char _text_start[];

struct free_page { struct free_page *next; };

static struct free_page *free_list;
static unsigned free_count;

/* ------------------------------------------------------------------ pages */

static void page_zero(void *page)
{
    uint64_t *w = page;
    for (unsigned i = 0; i < PAGE_SIZE / 8; i += 4) {
        w[i] = 0;
        w[i + 1] = 0;
        w[i + 2] = 0;
        w[i + 3] = 0;
    }
}

void page_copy(void *dst, const void *src)
{
    uint64_t *d = dst;
    const uint64_t *s = src;
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        d[i] = s[i];
}

void page_free(void *page)
{
    struct free_page *p = page;
    p->next = free_list;
    free_list = p;
    free_count++;
}

int pool_init(uint64_t lo, uint64_t hi)
{
    lo = (lo + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    hi &= ~(PAGE_SIZE - 1);
    for (uint64_t pa = hi; pa > lo; pa -= PAGE_SIZE)
        page_free((void *)(pa - PAGE_SIZE));
    return (int)free_count;
}

void *page_alloc(void)
{
    struct free_page *p = free_list;
    if (!p)
        return 0;
    free_list = p->next;
    free_count--;
    page_zero(p);
    return p;
}

unsigned pool_free_pages(void) { return free_count; }

/* ------------------------------------------------------------ page tables */

static unsigned vpn(uint64_t va, int level) { return (va >> (12 + 9 * level)) & 0x1ff; }
static pte_t *pte_table(pte_t pte) { return (pte_t *)((pte >> PTE_PPN_SHIFT) << 12); }
static int pte_is_leaf(pte_t pte) { return (pte & PTE_V) && (pte & PTE_LEAF); }

static pte_t make_leaf(uint64_t pa, uint64_t flags)
{
    uint64_t ad = PTE_A | ((flags & PTE_W) ? PTE_D : 0);
    return ((pa >> 12) << PTE_PPN_SHIFT) | flags | ad | PTE_V;
}

pte_t *pt_new(void) { return page_alloc(); }

/* The PTE of `va` at `level` in `root`, making missing tables on the way if `alloc`;
 * 0 if a table is missing (and !alloc), the pool is empty or a leaf is in the way. */
static pte_t *walk(pte_t *root, uint64_t va, int level, int alloc)
{
    pte_t *table = root;
    for (int l = PT_LEVELS - 1; l > level; l--) {
        pte_t *pte = &table[vpn(va, l)];
        if (pte_is_leaf(*pte))
            return 0;
        if (!(*pte & PTE_V)) {
            pte_t *next = alloc ? pt_new() : 0;
            if (!next)
                return 0;
            *pte = (((uint64_t)next >> 12) << PTE_PPN_SHIFT) | PTE_V;
        }
        table = pte_table(*pte);
    }
    return &table[vpn(va, level)];
}

int map_page(pte_t *root, uint64_t va, uint64_t pa, uint64_t flags)
{
    pte_t *pte = walk(root, va, 0, 1);
    if (!pte || (*pte & PTE_V))
        return -1;
    *pte = make_leaf(pa, flags);
    return 0;
}

pte_t *pte_lookup(pte_t *root, uint64_t va)
{
    pte_t *pte = walk(root, va, 0, 0);
    return pte && pte_is_leaf(*pte) ? pte : 0;
}

void unmap_page(pte_t *root, uint64_t va)
{
    pte_t *pte = pte_lookup(root, va);
    if (!pte)
        return;
    if (*pte & PTE_OWNED)
        page_free(pte_table(*pte));
    *pte = 0;
}

static void free_table(pte_t *table, int level)
{
    for (unsigned i = 0; i < PT_ENTRIES; i++) {
        pte_t pte = table[i];
        if (!(pte & PTE_V) || (pte & PTE_G))
            continue;
        if (pte_is_leaf(pte)) {
            if (pte & PTE_OWNED)
                page_free(pte_table(pte));
        } else if (level > 0) {
            free_table(pte_table(pte), level - 1);
        }
    }
    page_free(table);
}

void pt_free_user(pte_t *root) { free_table(root, PT_LEVELS - 1); }

/* ------------------------------------------------------- the kernel's map */

static int map_mega(pte_t *root, uint64_t va, uint64_t pa, uint64_t flags)
{
    pte_t *pte = walk(root, va, 1, 1);
    if (!pte || (*pte & PTE_V))
        return -1;
    *pte = make_leaf(pa, flags);
    return 0;
}

static int map_identity(pte_t *root, uint64_t lo, uint64_t hi, uint64_t flags)
{
    for (uint64_t pa = lo; pa < hi;) {
        int mega = !(pa & (MEGAPAGE - 1)) && hi - pa >= MEGAPAGE;
        if ((mega ? map_mega(root, pa, pa, flags) : map_page(root, pa, pa, flags)) < 0)
            return -1;
        pa += mega ? MEGAPAGE : PAGE_SIZE;
    }
    return 0;
}

/* Mark the root's entries global: they are the kernel's, shared by every process. */
static void root_global(pte_t *root)
{
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        if (root[i] & PTE_V)
            root[i] |= PTE_G;
}

int kernel_map(pte_t *root, uint64_t mem_base, uint64_t mem_size)
{
    uint64_t text_lo = (uint64_t)_text_start & ~(PAGE_SIZE - 1);
    uint64_t text_hi = (uint64_t)user_text_end;
    uint64_t mem_hi = mem_base + mem_size;
    if (text_lo < mem_base || text_hi > mem_hi)
        return -1;
    if (map_identity(root, mem_base, text_lo, PTE_R | PTE_W | PTE_G) ||
        map_identity(root, text_lo, text_hi, PTE_R | PTE_X | PTE_G) ||
        map_identity(root, text_hi, mem_hi, PTE_R | PTE_W | PTE_G))
        return -1;
    root_global(root);
    return 0;
}

uint64_t satp_of(pte_t *root, unsigned asid)
{
    return SATP_MODE_SV39 | ((uint64_t)asid << SATP_ASID_SHIFT) | ((uint64_t)root >> 12);
}

/* Owned leaves: a private page the process may write (data, heap, stack). */
int map_owned(pte_t *root, uint64_t va, void *page, uint64_t flags)
{
    return map_page(root, va, (uint64_t)page, flags | PTE_OWNED);
}
