/*
 * vm.c: the VMs' life cycle: the partition (host-physical memory behind guest
 * RAM), loading the guest ELF and DTB into it, stopping, fault reports and
 * restarts (docs/hypervisor.md, "Fault containment").
 */
#include "csr.h"
#include "hv.h"

struct vm hv_vms[HV_MAX_VMS];
unsigned hv_nvms;

/* ELF64 (System V gABI, chapter 4; RISC-V psABI: EM_RISCV = 243). */
struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
#define ET_EXEC 2
#define EM_RISCV 243
#define PT_LOAD 1

/** Host pointer to guest-physical [gpa, gpa + len) if it lies in the VM's RAM. */
void *guest_ptr(const struct vm *vm, uint64_t gpa, uint64_t len)
{
    uint64_t size = vm->cfg->size;
    if (gpa < GUEST_RAM_BASE || len > size || gpa - GUEST_RAM_BASE > size - len)
        return 0;
    return (void *)(uintptr_t)(vm->cfg->base + (gpa - GUEST_RAM_BASE));
}

/** Check the ELF header; NULL when it is a loadable RV64 executable. */
static const char *elf_check(const struct elf64_ehdr *eh, uint64_t size)
{
    if (size < sizeof *eh || eh->ident[0] != 0x7f || eh->ident[1] != 'E'
        || eh->ident[2] != 'L' || eh->ident[3] != 'F')
        return "not an ELF file";
    if (eh->ident[4] != 2 || eh->ident[5] != 1)
        return "not a 64-bit little-endian ELF";
    if (eh->type != ET_EXEC || eh->machine != EM_RISCV)
        return "not a RISC-V executable";
    if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > size
        || (uint64_t)eh->phnum * sizeof(struct elf64_phdr) > size - eh->phoff)
        return "program headers outside the file";
    return 0;
}

/** Copy the PT_LOAD segments into the partition; NULL on success. */
static const char *elf_load(struct vm *vm)
{
    const struct vm_config *c = vm->cfg;
    const struct elf64_ehdr *eh = (const void *)c->image;
    const char *err = elf_check(eh, c->image_size);
    if (err)
        return err;
    const struct elf64_phdr *ph = (const void *)(c->image + eh->phoff);
    uint64_t limit = c->size - GUEST_DTB_SLOT;
    int entry_ok = 0;
    for (unsigned i = 0; i < eh->phnum; i++) {
        const struct elf64_phdr *p = &ph[i];
        if (p->type != PT_LOAD || !p->memsz)
            continue;
        if (p->filesz > p->memsz || p->offset > c->image_size
            || p->filesz > c->image_size - p->offset)
            return "segment outside the file";
        uint8_t *dst = guest_ptr(vm, p->paddr, p->memsz);
        if (!dst || p->paddr - GUEST_RAM_BASE + p->memsz > limit)
            return "segment outside the VM's RAM";
        hv_memcpy(dst, c->image + p->offset, p->filesz);
        hv_memset(dst + p->filesz, 0, p->memsz - p->filesz);
        entry_ok |= eh->entry >= p->paddr && eh->entry - p->paddr < p->memsz;
    }
    if (!entry_ok)
        return "entry point outside the loaded segments";
    vm->entry = eh->entry;
    return 0;
}

/** Load image and DTB into the partition; -1 (reported) when the image is bad. */
int vm_load(struct vm *vm)
{
    const char *err = elf_load(vm);
    if (!err && vm->cfg->dtb_size > GUEST_DTB_SLOT)
        err = "guest DTB larger than 64 KiB";
    if (err) {
        hv_printf("hv: vm %s: bad image: %s\n", vm->cfg->name, err);
        vm_stop(vm, END_STOPPED, 1);
        return -1;
    }
    uint64_t dtb_gpa = GUEST_RAM_BASE + vm->cfg->size - GUEST_DTB_SLOT;
    hv_memcpy(guest_ptr(vm, dtb_gpa, GUEST_DTB_SLOT), vm->cfg->dtb, vm->cfg->dtb_size);
    return 0;
}

static const char *const end_names[] = {
    [END_NONE] = "running", [END_SHUTDOWN] = "shutdown", [END_STOPPED] = "stopped",
    [END_HART_STOP] = "hart_stop", [END_RESET_LIMIT] = "reset-limit",
    [END_WATCHDOG] = "watchdog",
};

const char *vm_end_name(enum vm_end e) { return end_names[e]; }

/** End the VM for good (it never runs again). */
void vm_stop(struct vm *vm, enum vm_end why, uint64_t code)
{
    vm_console_flush(vm);
    vm->state = VM_DONE;
    vm->end = why;
    vm->end_code = code;
    hv_printf("hv: vm %s ended: %s, code %lu\n", vm->cfg->name, end_names[why], code);
}

/** Reload the VM from its image with a clean partition; stops it past max_restarts. */
void vm_reboot(struct vm *vm)
{
    vm_console_flush(vm);
    if (vm->st.restarts >= vm->cfg->max_restarts) {
        vm_stop(vm, END_RESET_LIMIT, vm->st.restarts);
        return;
    }
    vm->st.restarts++;
    hv_printf("hv: vm %s restarting (%lu of %u)\n", vm->cfg->name, vm->st.restarts,
              vm->cfg->max_restarts);
    hv_memset((void *)(uintptr_t)vm->cfg->base, 0, vm->cfg->size);
    if (vm_load(vm))
        return;
    hv_memset(&vm->uart, 0, sizeof vm->uart);
    vm->life_ticks = 0;
    vcpu_reset(vm);
    vm->state = VM_RUNNABLE;
    vm->resume_addr = -1;
    sched_reload(vm);
}

/** The one fault report line: reason, cause, guest pc, address (0 if none). */
static void report_fault(struct vm *vm, const char *reason, uint64_t cause, uint64_t pc,
                         uint64_t addr)
{
    vm_console_flush(vm);
    hv_printf("hv: vm %s fault: %s: cause %lu (%s) pc 0x%lx addr 0x%lx\n", vm->cfg->name,
              reason, (uint64_t)(cause & ~CAUSE_INTERRUPT_BIT), cause_text(cause), pc, addr);
}

/**
 * A guest did something it cannot recover from: report cause, pc and address,
 * then stop or restart it by its on_fault policy. The other VMs are untouched.
 */
void vm_fault(struct vm *vm, const char *reason, uint64_t cause, uint64_t pc, uint64_t addr)
{
    report_fault(vm, reason, cause, pc, addr);
    if (vm->cfg->on_fault == VM_ON_FAULT_RESTART)
        vm_reboot(vm);
    else
        vm_stop(vm, END_STOPPED, cause);
}

/** The VM used up its watchdog_us of CPU time (noticed at the timer interrupt that
 *  preempted it at `pc`): report, then restart or stop it (on_fault). */
void vm_watchdog(struct vm *vm, uint64_t pc)
{
    report_fault(vm, "watchdog: used up its CPU time", CAUSE_INTERRUPT_BIT | IRQ_STI, pc, 0);
    if (vm->cfg->on_fault == VM_ON_FAULT_RESTART)
        vm_reboot(vm);
    else
        vm_stop(vm, END_WATCHDOG, vm->cfg->watchdog_us);
}

/** Whether host-physical [base, base + size) is the hypervisor's or outside RAM. */
static const char *partition_problem(const struct vm_config *c)
{
    uint64_t ram_end = hv_platform.ram_base + hv_platform.ram_size;
    uint64_t hv_end = hv_platform.ram_base + hv_reserved_size;
    if (c->base < hv_platform.ram_base || c->size > ram_end - c->base
        || c->base > ram_end)
        return "partition outside RAM";
    if (c->base < hv_end)
        return "partition overlaps the hypervisor";
    if ((c->base | c->size) & 0xfff)
        return "partition not 4 KiB aligned";
    return 0;
}

/** Set up every configured VM: G-stage table, image, vCPU. */
void vm_init_all(void)
{
    hv_nvms = hv_num_vms < HV_MAX_VMS ? hv_num_vms : HV_MAX_VMS;
    for (unsigned i = 0; i < hv_nvms; i++) {
        struct vm *vm = &hv_vms[i];
        vm->cfg = &hv_vm_configs[i];
        vm->index = i;
        vm->resume_addr = -1;
        const char *err = partition_problem(vm->cfg);
        if (!err && gstage_build(vm))
            err = "out of G-stage page tables";
        if (err) {
            hv_printf("hv: vm %s: %s\n", vm->cfg->name, err);
            vm_stop(vm, END_STOPPED, 1);
            continue;
        }
        if (vm_load(vm))
            continue;
        vcpu_reset(vm);
        hv_printf("hv: vm %s: %lu KiB at 0x%lx, entry 0x%lx\n", vm->cfg->name,
                  vm->cfg->size >> 10, vm->cfg->base, vm->entry);
    }
}
