/*
 * trap.c: what the hypervisor does on each exit from a guest (H spec 9.6, trap
 * causes of table 9.x taken in HS-mode), one handler per cause in a table.
 * Anything a guest can cause ends in an emulation, a forwarded exception, a
 * reschedule, or a contained fault of that guest; only a trap from HS itself
 * (a hypervisor bug) is fatal.
 */
#include "csr.h"
#include "hv.h"

#define INSN_WFI 0x10500073u

typedef struct regs *(*exit_handler)(struct vm *vm, struct regs *r, uint64_t scause);

/** A trap taken in HS-mode: a hypervisor bug. Report and stop the machine. */
static _Noreturn void hv_panic(struct regs *r, uint64_t scause)
{
    hv_printf("hv: panic: trap in HS-mode: cause %lu (%s) sepc 0x%lx stval 0x%lx\n",
              (uint64_t)(scause & ~CAUSE_INTERRUPT_BIT), cause_text(scause), csr_read(CSR_SEPC),
              csr_read(CSR_STVAL));
    (void)r;
    hv_exit(4);
}

static struct regs *on_timer(struct vm *vm, struct regs *r, uint64_t scause)
{
    (void)vm, (void)r, (void)scause;
    return sched_switch(RS_TICK);
}

/** WFI (hstatus.VTW) waits for the VM's interrupts; others become illegal. */
static struct regs *on_virtual_insn(struct vm *vm, struct regs *r, uint64_t scause)
{
    uint32_t insn = (uint32_t)csr_read(CSR_STVAL);
    (void)scause;
    if (!insn && guest_read_insn(r->sepc, &insn))
        insn = 0;
    if (insn != INSN_WFI) {
        vcpu_inject_exception(&vm->cpu, CAUSE_ILLEGAL_INSTRUCTION, insn);
        return r;
    }
    r->sepc += 4;
    vcpu_sync_wake(&vm->cpu);
    if (vcpu_wakeable(vm, rdtime()))
        return r;
    return sched_switch(RS_WAIT);
}

/** A load or store the G-stage refused: the virtual UART, or a contained fault. */
static struct regs *on_guest_page_fault(struct vm *vm, struct regs *r, uint64_t scause)
{
    uint64_t gpa = (csr_read(CSR_HTVAL) << 2) | (csr_read(CSR_STVAL) & 3);
    if ((vm->cfg->devices & VM_DEV_UART) && gpa - GUEST_UART_BASE < GUEST_UART_SIZE
        && scause != CAUSE_FETCH_GUEST_PAGE_FAULT) {
        int len = vuart_access(vm, r, gpa);
        if (len > 0) {
            r->sepc += (uint64_t)len;
            return r;
        }
        vm_fault(vm, "unsupported access to the virtual UART", scause, r->sepc, gpa);
    } else {
        vm_fault(vm, "access outside its partition", scause, r->sepc, gpa);
    }
    return vm->state == VM_DONE ? sched_switch(RS_END) : frame_fresh(r);
}

/** Any other exception the guest did not (or could not) handle itself. */
static struct regs *on_fatal(struct vm *vm, struct regs *r, uint64_t scause)
{
    vm_fault(vm, "unhandled exception", scause, r->sepc, csr_read(CSR_STVAL));
    return vm->state == VM_DONE ? sched_switch(RS_END) : frame_fresh(r);
}

static struct regs *on_spurious(struct vm *vm, struct regs *r, uint64_t scause)
{
    (void)vm, (void)scause;
    csr_clear(CSR_SIP, MIP_SSIP);
    return r;
}

static const exit_handler exceptions[24] = {
    [CAUSE_FETCH_GUEST_PAGE_FAULT] = on_guest_page_fault,
    [CAUSE_LOAD_GUEST_PAGE_FAULT] = on_guest_page_fault,
    [CAUSE_STORE_GUEST_PAGE_FAULT] = on_guest_page_fault,
    [CAUSE_VIRTUAL_INSTRUCTION] = on_virtual_insn,
};
static const exit_handler interrupts[16] = {
    [IRQ_STI] = on_timer,
    [IRQ_SSI] = on_spurious,
};

/** Every exit but the environment call (entry.S slow path). */
struct regs *hv_trap(struct regs *r, uint64_t scause)
{
    struct vm *vm = hv_current;
    if (!vm || !(csr_read(CSR_HSTATUS) & HSTATUS_SPV))
        hv_panic(r, scause);
    uint64_t code = scause & ~CAUSE_INTERRUPT_BIT;
    int irq = (scause & CAUSE_INTERRUPT_BIT) != 0;
    vm->st.exits[(irq ? 32 : 0) + (code & 31)]++;
    exit_handler h = irq ? (code < 16 ? interrupts[code] : 0) : (code < 24 ? exceptions[code] : 0);
    return (h ? h : irq ? on_spurious : on_fatal)(vm, r, scause);
}
