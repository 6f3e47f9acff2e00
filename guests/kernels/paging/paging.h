/*
 * paging.h: the facts shared by the paging kernel's parts (see kernel.c for the design):
 * the user address-space layout, the system-call ABI, the Sv39 page-table entry bits
 * (priv spec 12.4.1, "Addressing and Memory Protection" of Sv39; 12.3.1 for the PTE
 * fields), the saved user register frame and the interfaces of mm.c and user.c.
 */
#ifndef PAGING_H
#define PAGING_H

#include <stdint.h>

#include "encoding.h"

/* ---- user address space (every process alike) */
#define PAGE_SIZE 4096ul
#define USER_BASE 0x10000ul        /* user image: text, rodata, data+bss */
#define HEAP_BASE 0x100000ul       /* initial break */
#define HEAP_LIMIT 0x500000ul      /* the break never passes this */
#define STACK_TOP 0x40000000ul     /* initial sp; the stack grows down from here */
#define STACK_PAGES 16ul
#define STACK_LOW (STACK_TOP - STACK_PAGES * PAGE_SIZE)

/* ---- system calls: a7 = number, a0..a2 = arguments, a0 = result or -errno */
#define SYS_WRITE 1      /* write(fd, buf, len) -> bytes written */
#define SYS_EXIT 2       /* exit(code), does not return */
#define SYS_YIELD 3      /* yield() -> 0 */
#define SYS_SBRK 4       /* sbrk(increment) -> the old break */
#define EBADF 9
#define ENOMEM 12
#define EFAULT 14
#define EINVAL 22
#define ENOSYS 38

/* ---- Sv39 page-table entries */
#define PTE_LEAF (PTE_R | PTE_W | PTE_X)
#define PT_ENTRIES 512
#define PT_LEVELS 3
#define SATP_MODE_SV39 (8ul << 60)
#define SATP_ASID_SHIFT 44
#define SATP_ASID_MASK 0xfffful

#ifndef __ASSEMBLER__

typedef uint64_t pte_t;

/* What the trap vector saves of a U-mode context: x1..x31 at x[1..31], then sepc. */
struct uframe {
    uint64_t x[32];
    uint64_t sepc;
};
enum { REG_SP = 2, REG_A0 = 10, REG_A1 = 11, REG_A2 = 12, REG_A7 = 17 };

/* entry.S */
void paging_vector(void);
void user_resume(struct uframe *f) __attribute__((noreturn));

/* mm.c: the page pool and the page tables (all of RAM is identity-mapped, so a page's
 * kernel address is its guest-physical address). */
int pool_init(uint64_t lo, uint64_t hi);
void *page_alloc(void);            /* a zeroed page, or 0 */
void page_free(void *page);
unsigned pool_free_pages(void);
void page_copy(void *dst, const void *src);
pte_t *pt_new(void);
int map_page(pte_t *root, uint64_t va, uint64_t pa, uint64_t flags);
int map_owned(pte_t *root, uint64_t va, void *page, uint64_t flags);
pte_t *pte_lookup(pte_t *root, uint64_t va);   /* the valid leaf of va, or 0 */
void unmap_page(pte_t *root, uint64_t va);     /* frees the page if owned */
void pt_free_user(pte_t *root);          /* every non-global table and owned page */
int kernel_map(pte_t *root, uint64_t mem_base, uint64_t mem_size);
uint64_t satp_of(pte_t *root, unsigned asid);
static inline void sfence_all(void) { __asm__ volatile("sfence.vma zero, zero" ::: "memory"); }
static inline void sfence_asid(unsigned asid)
{
    __asm__ volatile("sfence.vma zero, %0" : : "r"((uint64_t)asid) : "memory");
}
static inline void sfence_page(uint64_t va, unsigned asid)
{
    __asm__ volatile("sfence.vma %0, %1" : : "r"(va), "r"((uint64_t)asid) : "memory");
}

/* Bounds of the user image sections inside the kernel image (user.c). */
extern const char user_text_start[], user_text_end[];
extern const char user_rodata_start[], user_rodata_end[];
extern char user_data_start[], user_data_end[];

/* user.c: the user programs (kernel addresses; run at their user addresses). */
void user_start(long (*main)(long), long arg);
long prog_compute(long seed);
long prog_heap(long seed);
long prog_faulter(long seed);

#endif /* __ASSEMBLER__ */
#endif /* PAGING_H */
