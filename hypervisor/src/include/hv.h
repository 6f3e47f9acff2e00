/*
 * hv.h: the hypervisor's core types and the interfaces between its parts
 * (docs/hypervisor.md). The guest register frame layout is shared with
 * arch/riscv/entry.S (REGS_* offsets below).
 */
#ifndef HV_H
#define HV_H

#include <stddef.h>
#include <stdint.h>
#include "vmconfig.h"

/* ---- guest-physical map every VM sees (docs/hypervisor.md, "Memory layout") */
#define GUEST_RAM_BASE   0x80000000ull
#define GUEST_UART_BASE  0x10000000ull
#define GUEST_UART_SIZE  0x1000ull
#define GUEST_DTB_SLOT   0x10000ull      /* last 64 KiB of guest RAM hold the DTB */

/* ---- the register frame: x1..x31 at 8*i, sepc at 256 (entry.S) */
struct regs {
    uint64_t x[32];
    uint64_t sepc;
};
enum { REG_RA = 1, REG_SP = 2, REG_A0 = 10, REG_A1 = 11, REG_A2 = 12, REG_A3 = 13,
       REG_A4 = 14, REG_A5 = 15, REG_A6 = 16, REG_A7 = 17 };

/* A frame pointer returned to entry.S with this bit set: the frame was rewritten
 * (reboot), so the live callee-saved registers must not be saved over it. */
#define FRAME_FRESH 1ull
#define frame_fresh(r) ((struct regs *)((uintptr_t)(r) | FRAME_FRESH))

/* ---- virtual CPU: the frame first (sscratch points at it), then the VS state */
/* The CSRs a vCPU owns and the guest can change, saved and loaded as they are
 * (X(field, CSR number)): the VS CSRs (H spec 9.2), Sstc's vstimecmp, hvip, and
 * scounteren/senvcfg, which have no VS copies and are shared with HS. */
#define VCPU_CSRS(X) \
    X(vsstatus, CSR_VSSTATUS) X(vsie, CSR_VSIE) X(vstvec, CSR_VSTVEC) \
    X(vsscratch, CSR_VSSCRATCH) X(vsepc, CSR_VSEPC) X(vscause, CSR_VSCAUSE) \
    X(vstval, CSR_VSTVAL) X(vsatp, CSR_VSATP) X(vstimecmp, CSR_VSTIMECMP) \
    X(hvip, CSR_HVIP) X(scounteren, CSR_SCOUNTEREN) X(senvcfg, CSR_SENVCFG)
#define VCPU_FIELD(field, csr) uint64_t field;

struct vcpu {
    struct regs r;
    uint64_t hstatus, spp;          /* hstatus (SPV, SPVP, GVA...), sstatus.SPP */
    VCPU_CSRS(VCPU_FIELD)
    uint64_t htimedelta, hgatp;     /* set by the hypervisor only */
    uint64_t fence_vs;              /* a fresh vCPU: drop its VMID's VS-stage entries on load */
};

enum vm_state { VM_RUNNABLE, VM_WAITING, VM_DONE };
enum vm_end {                       /* why a VM ended; names in vm.c */
    END_NONE, END_SHUTDOWN, END_STOPPED, END_HART_STOP, END_RESET_LIMIT, END_WATCHDOG,
};

/* ---- per-VM statistics (docs/hypervisor.md, "Statistics") */
#define EXIT_KINDS 64               /* 0..31 exceptions, 32..63 interrupts */
#define SBI_SLOTS 10                /* rows of sbi.c's extension table */
#define SBI_FIDS 15                 /* functions counted one by one; the rest share a column */
struct vm_stats {
    uint64_t cycles, instret, ticks, runs, irqs, restarts;
    uint64_t exits[EXIT_KINDS];
    uint64_t sbi[SBI_SLOTS][SBI_FIDS + 1];   /* last column: fid >= SBI_FIDS */
};

/* ---- virtual ns16550 state */
#define VUART_LINE 120
struct vuart {
    uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
    uint8_t line[VUART_LINE];
    unsigned len;
};

struct vm {
    struct vcpu cpu;                /* first: a frame pointer is also its VM's pointer */
    const struct vm_config *cfg;
    unsigned index;
    enum vm_state state;
    enum vm_end end;
    uint64_t end_code;
    uint64_t entry;                 /* guest-physical entry point */
    uint64_t *gpt;                  /* G-stage root (16 KiB) */
    uint64_t vmid;
    /* scheduling, in time ticks */
    uint64_t budget, period, budget_left, next_replenish;
    uint64_t life_ticks, watchdog;  /* CPU time since (re)start; its limit (0: none) */
    int64_t resume_addr;            /* non-retentive HSM suspend: resume here (else -1) */
    uint64_t resume_opaque;
    struct vuart uart;
    struct vm_stats st;
};

extern struct vm hv_vms[HV_MAX_VMS];
extern unsigned hv_nvms;
extern volatile int32_t hv_running_vm;

/* ---- platform facts from the DTB (platform/fdt.c) */
struct platform {
    uint64_t ram_base, ram_size;
    uint64_t uart_base;
    uint64_t finisher_base;         /* 0: none */
    uint64_t timebase_hz;
};
extern struct platform hv_platform;
extern uint64_t hv_machine_ids[3];  /* mvendorid, marchid, mimpid (set in M-mode) */
int fdt_parse(const void *dtb, struct platform *p);

/* ---- console (core/console.c) */
void hv_putc(char c);
void hv_puts(const char *s);
void hv_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vm_console_putc(struct vm *vm, char c);
void vm_console_flush(struct vm *vm);
int hv_getc(void);                  /* -1 when no input */
void uart_init(uint64_t base);
void uart_putc(char c);
int uart_getc(void);
int uart_rx_ready(void);
_Noreturn void hv_exit(uint64_t code);
const char *cause_text(uint64_t scause);

/* ---- memory (arch/riscv/gstage.c, core/vm.c) */
int gstage_build(struct vm *vm);
uint64_t gstage_hgatp(const struct vm *vm);
int gstage_shared_vmid(void);
void *guest_ptr(const struct vm *vm, uint64_t gpa, uint64_t len);
int vm_load(struct vm *vm);
void vm_stop(struct vm *vm, enum vm_end why, uint64_t code);
void vm_fault(struct vm *vm, const char *reason, uint64_t cause, uint64_t pc, uint64_t addr);
void vm_reboot(struct vm *vm);
void vm_watchdog(struct vm *vm, uint64_t pc);
void vm_init_all(void);
const char *vm_end_name(enum vm_end e);

/* ---- vCPU (arch/riscv/vcpu.c) */
void vcpu_reset(struct vm *vm);
void vcpu_save(struct vcpu *c);
void vcpu_sync_wake(struct vcpu *c);
void vcpu_load(struct vcpu *c);
void vcpu_inject_exception(struct vcpu *c, uint64_t cause, uint64_t tval);
int guest_read_insn(uint64_t va, uint32_t *insn);   /* entry.S: HLVX, 0 ok, -1 fault */
int vcpu_wakeable(const struct vm *vm, uint64_t now);
uint64_t vcpu_timer_deadline(const struct vm *vm);  /* host time, or UINT64_MAX */

/* ---- scheduling (core/sched.c) */
enum resched { RS_TICK, RS_YIELD, RS_WAIT, RS_END };
struct regs *sched_start(void);
void sched_reload(struct vm *vm);
struct regs *sched_switch(enum resched why);
void sched_init(void);
uint64_t us_to_ticks(uint64_t us);

/* ---- time protection (core/tp.c): the @tp record, in time ticks */
struct tp_stats {
    uint64_t windows, overruns;     /* windows switched to; those whose switch overran the pad */
    uint64_t worst, pad;            /* longest switch (window start to pad wait); the pad */
};
extern struct tp_stats hv_tp;
struct tp_resume {                  /* entry.S waits until `at` (if not 0), then arms */
    uint64_t at, timer;             /* stimecmp := `timer` and sets hv_running_vm := `vm` */
    int64_t vm;
};
extern struct tp_resume hv_tp_resume;

/* ---- exits (core/trap.c, core/sbi.c, core/vuart.c) */
struct regs *hv_ecall(struct regs *r);
struct regs *hv_trap(struct regs *r, uint64_t scause);
uint32_t sbi_slot_ext(unsigned slot);
unsigned sbi_slot_legacy(void);
int vuart_access(struct vm *vm, struct regs *r, uint64_t gpa);
extern struct vm *hv_current;
#define vm_of_frame(r) ((struct vm *)(void *)(r))

/* ---- end of run (core/report.c) */
_Noreturn void hv_finish(void);

/* ---- small helpers */
void *hv_memcpy(void *d, const void *s, size_t n);
void *hv_memset(void *d, int c, size_t n);
int hv_strcmp(const char *a, const char *b);

#endif
