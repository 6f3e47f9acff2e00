/*
 * kernel.c: a small paging kernel in VS-mode (issue 6, item 2). It turns on Sv39 (priv
 * spec 12.4; satp as the guest sees it, 12.1.11), runs three U-mode processes, each with
 * its own root table and ASID, serves their system calls (ecall from U, scause 8),
 * maps heap and stack pages on their first page fault (scause 13/15), preempts them
 * from the SBI timer (SBI spec v2.0 chapter 6; STI, scause 5 with the interrupt bit)
 * and prints a transcript that does not depend on timing.
 *
 * Address spaces (paging.h). Every process root shares the kernel's global,
 * supervisor-only root entries: the identity map of RAM from the DTB (mm.c). Below it:
 *   0x0001_0000  the user image: user.c's text (R+X) and rodata (R) are the pages of the
 *                kernel image itself, mapped with U at USER_BASE + (address -
 *                user_text_start), so the PC-relative code runs unchanged; user.c's
 *                data and bss (one page-aligned span) are copied into fresh pages per
 *                process (R+W)
 *   0x0010_0000  the heap: sbrk moves the break up to HEAP_LIMIT without mapping
 *   0x3fff_0000  the stack: 16 pages below STACK_TOP, where sp starts
 * Heap and stack pages are mapped on the first access (or when write() reads them);
 * any other fault kills the process, never the kernel.
 *
 * System calls (a7 = number, a0..a2 arguments, a0 = result or -errno): 1 write(fd,
 * buf, len) (fd 1 only; the buffer is checked page by page against the process's page
 * table, then copied with sstatus.SUM set, priv spec 12.1.1.2), 2 exit(code), 3 yield(),
 * 4 sbrk(increment) (returns the old break; shrinking unmaps and frees).
 *
 * TLB maintenance (12.2.1 "SFENCE.VMA"): a new or removed user leaf is fenced by
 * address and ASID; a dead process's ASID is fenced whole before its pages are reused;
 * switching processes only writes satp, since ASIDs are never shared. If satp holds no
 * ASID bits, every process uses ASID 0 and each switch fences everything.
 *
 * Scheduling: round robin over the runnable processes on every timer tick (args[1]
 * microseconds, default 100, at least 50: a tick shorter than the SBI call that arms
 * the next one would leave no time to the processes), yield, exit and kill. The kernel
 * itself runs with sstatus.SIE = 0 on one stack and is never preempted. Determinism:
 * the processes' write() output is buffered per process and printed in pid order once
 * all have ended, with each one's exit code and count of demand-faulted pages. Timer
 * figures are only checked (ticks, switches forced by the timer, the CPU-bound process
 * preempted), never printed.
 *
 * Arguments: a2 = seed of the user programs (default 1), a3 = tick in microseconds.
 */
#include "klib.h"
#include "paging.h"

#define NPROC 3
#define OUT_SIZE 512
#define DEFAULT_TICK_US 100
#define MIN_TICK_US 50
#define KILLED (-1)
#define CAUSE_NAMES 24
#define PAGE_UP(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

enum pstate { P_RUNNABLE = 1, P_DEAD };

/* A user program: its entry, the exit code it must end with (KILLED: killed), whether it
 * is the CPU-bound one the timer must preempt. */
struct program {
    const char *name;
    long (*main)(long);
    long expect_exit;
    int cpu_bound;
};

struct proc {
    struct uframe f;               /* what the trap vector saved */
    unsigned pid, asid;
    enum pstate state;
    const struct program *prog;
    pte_t *root;
    uint64_t brk;
    unsigned faults, ticks;
    long exit_code;
    unsigned out_len, out_lost;
    char out[OUT_SIZE];
};

static const struct program programs[NPROC] = {
    {"compute", prog_compute, 0, 1},
    {"heap", prog_heap, 7, 0},
    {"faulter", prog_faulter, KILLED, 0},
};
static const char *const cause_names[CAUSE_NAMES] = {CAUSE_NAME_INIT};

extern char _end[];

static struct proc procs[NPROC];
static struct proc *current;
static unsigned last_pid;
static pte_t *kernel_root;
static int asids;
static uint64_t tick_ticks;
static unsigned timer_ticks, timer_switches;
static unsigned pool_before;

/* ------------------------------------------------------------- processes */

static uint64_t user_va(const void *kaddr)
{
    return USER_BASE + ((uint64_t)kaddr - (uint64_t)user_text_start);
}

static int map_shared(pte_t *root, const char *lo, const char *hi, uint64_t flags)
{
    for (const char *k = lo; k < hi; k += PAGE_SIZE)
        if (map_page(root, user_va(k), (uint64_t)k, flags | PTE_U))
            return -1;
    return 0;
}

static int map_copied(pte_t *root, const char *lo, const char *hi)
{
    for (const char *k = lo; k < hi; k += PAGE_SIZE) {
        void *page = page_alloc();
        if (!page)
            return -1;
        page_copy(page, k);
        if (map_owned(root, user_va(k), page, PTE_R | PTE_W | PTE_U)) {
            page_free(page);
            return -1;
        }
    }
    return 0;
}

static int proc_create(struct proc *p, unsigned pid, const struct program *prog, long arg)
{
    p->root = pt_new();
    if (!p->root)
        return -1;
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        p->root[i] = kernel_root[i];
    if (map_shared(p->root, user_text_start, user_text_end, PTE_R | PTE_X) ||
        map_shared(p->root, user_rodata_start, user_rodata_end, PTE_R) ||
        map_copied(p->root, user_data_start, user_data_end))
        return -1;
    p->pid = pid;
    p->asid = asids ? pid : 0;
    p->prog = prog;
    p->brk = HEAP_BASE;
    p->f.sepc = user_va((const void *)user_start);
    p->f.x[REG_A0] = user_va((const void *)prog->main);
    p->f.x[REG_A1] = (uint64_t)arg;
    p->f.x[REG_SP] = STACK_TOP;
    p->state = P_RUNNABLE;
    return 0;
}

static void out_append(struct proc *p, char c)
{
    if (p->out_len < OUT_SIZE)
        p->out[p->out_len++] = c;
    else
        p->out_lost++;
}

static void out_printf(struct proc *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void out_printf(struct proc *p, const char *fmt, ...)
{
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    for (int i = 0; i < n && i < (int)sizeof(line) - 1; i++)
        out_append(p, line[i]);
}

static void proc_end(struct proc *p, long code)
{
    p->state = P_DEAD;
    p->exit_code = code;
    csr_write(satp, satp_of(kernel_root, 0));
    pt_free_user(p->root);
    p->root = 0;
    if (asids)
        sfence_asid(p->asid);
    else
        sfence_all();
    current = 0;
}

static void proc_kill(struct proc *p, uint64_t cause, uint64_t tval)
{
    const char *what = cause < CAUSE_NAMES && cause_names[cause] ? cause_names[cause] : "trap";
    out_printf(p, "paging: pid %u (%s) killed: %s at 0x%lx\n", p->pid, p->prog->name, what,
               tval);
    proc_end(p, KILLED);
}

/* ---------------------------------------------------------- demand paging */

static int demand_region(const struct proc *p, uint64_t va)
{
    return (va >= HEAP_BASE && va < p->brk) || (va >= STACK_LOW && va < STACK_TOP);
}

static pte_t *fault_in(struct proc *p, uint64_t va)
{
    va &= ~(PAGE_SIZE - 1);
    void *page = page_alloc();
    if (!page)
        return 0;
    if (map_owned(p->root, va, page, PTE_R | PTE_W | PTE_U)) {
        page_free(page);
        return 0;
    }
    sfence_page(va, p->asid);
    p->faults++;
    return pte_lookup(p->root, va);
}

/* Load or store page fault: map the page if it belongs to the heap or stack. */
static void on_page_fault(struct proc *p, uint64_t cause, uint64_t va)
{
    if (cause == CAUSE_FETCH_PAGE_FAULT || !demand_region(p, va) || pte_lookup(p->root, va) ||
        !fault_in(p, va))
        proc_kill(p, cause, va);
}

/* Whether [va, va + len) is readable by the process, faulting in heap and stack pages. */
static int user_readable(struct proc *p, uint64_t va, uint64_t len)
{
    if (va + len < va || va + len > STACK_TOP)
        return 0;
    for (uint64_t pg = va & ~(PAGE_SIZE - 1); pg < va + len; pg += PAGE_SIZE) {
        pte_t *pte = pte_lookup(p->root, pg);
        if (!pte && demand_region(p, pg))
            pte = fault_in(p, pg);
        if (!pte || (*pte & (PTE_U | PTE_R)) != (PTE_U | PTE_R))
            return 0;
    }
    return 1;
}

/* ----------------------------------------------------------- system calls */

static long sys_write(struct proc *p, uint64_t fd, uint64_t buf, uint64_t len)
{
    if (fd != 1)
        return -EBADF;
    if (!user_readable(p, buf, len))
        return -EFAULT;
    csr_set(sstatus, MSTATUS_SUM);
    for (uint64_t i = 0; i < len; i++)
        out_append(p, ((const volatile char *)buf)[i]);
    csr_clear(sstatus, MSTATUS_SUM);
    return (long)len;
}

static long sys_sbrk(struct proc *p, long incr)
{
    uint64_t old = p->brk;
    if (incr > (long)(HEAP_LIMIT - old) || incr < -(long)(old - HEAP_BASE))
        return -ENOMEM;
    uint64_t brk = old + (uint64_t)incr;
    for (uint64_t va = PAGE_UP(brk); va < PAGE_UP(old); va += PAGE_SIZE) {
        unmap_page(p->root, va);
        sfence_page(va, p->asid);
    }
    p->brk = brk;
    return (long)old;
}

/* Serve the system call in the frame; 1 if the process gives up the CPU. */
static int on_syscall(struct proc *p)
{
    uint64_t *x = p->f.x;
    p->f.sepc += 4;
    switch (x[REG_A7]) {
    case SYS_WRITE:
        x[REG_A0] = (uint64_t)sys_write(p, x[REG_A0], x[REG_A1], x[REG_A2]);
        return 0;
    case SYS_EXIT:
        proc_end(p, (long)x[REG_A0]);
        return 1;
    case SYS_YIELD:
        x[REG_A0] = 0;
        return 1;
    case SYS_SBRK:
        x[REG_A0] = (uint64_t)sys_sbrk(p, (long)x[REG_A0]);
        return 0;
    default:
        x[REG_A0] = (uint64_t)-ENOSYS;
        return 0;
    }
}

/* ------------------------------------------------------------- scheduling */

static void timer_next(void) { timer_arm_at(rdtime() + tick_ticks); }

static struct proc *pick_next(void)
{
    for (unsigned k = 1; k <= NPROC; k++) {
        struct proc *p = &procs[(last_pid + k - 1) % NPROC];
        if (p->state == P_RUNNABLE)
            return p;
    }
    return 0;
}

static void finish(void) __attribute__((noreturn));

static struct uframe *switch_to(struct proc *p)
{
    if (!p)
        finish();
    if (p != current) {
        csr_write(satp, satp_of(p->root, p->asid));
        if (!asids)
            sfence_all();
        current = p;
    }
    last_pid = p->pid;
    return &p->f;
}

static int on_tick(struct proc *p)
{
    timer_next();
    timer_ticks++;
    p->ticks++;
    return 1;
}

/* Called by the trap vector for every trap from U-mode: handle it and return the frame
 * to resume. */
struct uframe *user_trap(struct uframe *f)
{
    struct proc *p = current;
    uint64_t cause = csr_read(scause), tval = csr_read(stval);
    int resched;
    if (f != &p->f) {
        kprintf("paging: FAIL trap frame %p is not the current process's\n", (void *)f);
        kshutdown(1);
    }
    if ((int64_t)cause < 0 && (cause & ~CAUSE_INTERRUPT_BIT) == IRQ_STI) {
        resched = on_tick(p);
    } else if (cause == CAUSE_USER_ECALL) {
        resched = on_syscall(p);
    } else if (cause == CAUSE_FETCH_PAGE_FAULT || cause == CAUSE_LOAD_PAGE_FAULT ||
               cause == CAUSE_STORE_PAGE_FAULT) {
        on_page_fault(p, cause, tval);
        resched = p->state == P_DEAD;
    } else if ((int64_t)cause < 0) {
        kprintf("paging: FAIL unexpected interrupt %lu\n",
                (unsigned long)(cause & ~CAUSE_INTERRUPT_BIT));
        kshutdown(1);
    } else {
        proc_kill(p, cause, tval);
        resched = 1;
    }
    if (!resched)
        return &p->f;
    struct proc *next = pick_next();
    if (p->state == P_RUNNABLE && next != p && (int64_t)cause < 0)
        timer_switches++;
    return switch_to(next);
}

/* ------------------------------------------------------------- transcript */

static int check_results(void)
{
    int bad = 0;
    for (unsigned i = 0; i < NPROC; i++) {
        struct proc *p = &procs[i];
        if (p->exit_code != p->prog->expect_exit || p->out_lost) {
            kprintf("paging: FAIL pid %u ended with %ld (want %ld), %u bytes of output lost\n",
                    p->pid, p->exit_code, p->prog->expect_exit, p->out_lost);
            bad = 1;
        }
        if (p->prog->cpu_bound && !p->ticks) {
            kprintf("paging: FAIL the timer never preempted pid %u\n", p->pid);
            bad = 1;
        }
    }
    if (!timer_ticks || !timer_switches) {
        kprintf("paging: FAIL no context switch forced by the timer\n");
        bad = 1;
    }
    if (pool_free_pages() != pool_before) {
        kprintf("paging: FAIL %u pages not back in the pool\n",
                pool_before - pool_free_pages());
        bad = 1;
    }
    return bad;
}

static void finish(void)
{
    timer_disarm();
    irq_disable(IRQ_STI);
    for (unsigned i = 0; i < NPROC; i++)
        console_write(procs[i].out, procs[i].out_len);
    for (unsigned i = 0; i < NPROC; i++) {
        struct proc *p = &procs[i];
        if (p->exit_code == KILLED)
            kprintf("paging: pid %u (%s) killed, demand faults %u\n", p->pid, p->prog->name,
                    p->faults);
        else
            kprintf("paging: pid %u (%s) exit %ld, demand faults %u\n", p->pid,
                    p->prog->name, p->exit_code, p->faults);
    }
    int bad = check_results();
    if (!bad)
        kprintf("paging: every page back in the pool\npaging: PASS\n");
    kshutdown(bad);
}

/* ------------------------------------------------------------------- boot */

static int fail(const char *why)
{
    kprintf("paging: FAIL %s\n", why);
    return 1;
}

/* Sv39 on with the kernel's root; 0 if satp kept the mode. Finds out whether ASIDs
 * exist by writing all ones into the field (priv spec 12.1.11: ASIDLEN by probing). */
static int sv39_on(void)
{
    csr_write(satp, satp_of(kernel_root, SATP_ASID_MASK));
    uint64_t got = csr_read(satp);
    asids = ((got >> SATP_ASID_SHIFT) & SATP_ASID_MASK) >= NPROC;
    csr_write(satp, satp_of(kernel_root, 0));
    sfence_all();
    return (csr_read(satp) & SATP_MODE_SV39) == SATP_MODE_SV39;
}

static int memory_init(const void *dtb)
{
    uint64_t lo = (uint64_t)_end, hi = boot.mem_base + boot.mem_size;
    if ((uint64_t)dtb >= lo && (uint64_t)dtb < hi)
        hi = (uint64_t)dtb;
    if (user_va(user_data_end) > HEAP_BASE)
        return fail("the user image reaches into the heap");
    if (pool_init(lo, hi) < 64)
        return fail("too little RAM for the page pool");
    kernel_root = pt_new();
    if (kernel_map(kernel_root, boot.mem_base, boot.mem_size))
        return fail("cannot identity-map RAM");
    if (!sv39_on())
        return fail("satp does not take Sv39");
    return 0;
}

int kmain(unsigned long hartid, const void *dtb, unsigned long seed, unsigned long tick_us)
{
    (void)hartid;
    console_select(CONSOLE_DBCN);
    if (boot_init(dtb))
        return fail("no usable DTB");
    seed = seed ? seed : 1;
    tick_us = !tick_us ? DEFAULT_TICK_US : tick_us < MIN_TICK_US ? MIN_TICK_US : tick_us;
    csr_write(sscratch, 0);
    csr_write(stvec, (uint64_t)paging_vector);
    if (memory_init(dtb))
        return 1;
    kprintf("paging: Sv39 on, seed %lu, tick %lu us, %u processes\n", seed, tick_us, NPROC);
    pool_before = pool_free_pages();
    for (unsigned i = 0; i < NPROC; i++)
        if (proc_create(&procs[i], i + 1, &programs[i], (long)seed))
            return fail("out of pages creating the processes");
    tick_ticks = us_to_ticks(tick_us);
    irq_enable(IRQ_STI);
    timer_next();
    csr_clear(sstatus, MSTATUS_SPP | MSTATUS_SUM | MSTATUS_SIE);
    user_resume(switch_to(&procs[0]));
}
