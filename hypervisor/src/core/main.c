/*
 * main.c: HS-mode start (docs/hypervisor.md, "Boot"): read the DTB, take the
 * console, configure the H extension for the guests (hedeleg/hideleg, henvcfg
 * STCE, hcounteren), build every VM and start scheduling.
 */
#include "csr.h"
#include "hv.h"
#include "platform.h"

/* Exceptions the guests handle themselves (H spec 9.2.2; never the G-stage
 * faults, the VS ecall or the virtual instruction). */
#define HEDELEG_GUEST ((1u << CAUSE_MISALIGNED_FETCH) | (1u << CAUSE_ILLEGAL_INSTRUCTION) \
    | (1u << CAUSE_BREAKPOINT) | (1u << CAUSE_MISALIGNED_LOAD) | (1u << CAUSE_MISALIGNED_STORE) \
    | (1u << CAUSE_USER_ECALL) | (1u << CAUSE_FETCH_PAGE_FAULT) | (1u << CAUSE_LOAD_PAGE_FAULT) \
    | (1u << CAUSE_STORE_PAGE_FAULT))
#define HIDELEG_GUEST (MIP_VSSIP | MIP_VSTIP | MIP_VSEIP)

struct platform hv_platform;
uint64_t hv_machine_ids[3] = { 1, 1, 1 };   /* in .data: written by the M stage */

static void platform_init(uint64_t dtb)
{
    if (fdt_parse((const void *)(uintptr_t)dtb, &hv_platform)) {
        hv_platform.ram_base = RAM_BASE;
        hv_platform.ram_size = RAM_SIZE;
    }
    if (!hv_platform.uart_base)
        hv_platform.uart_base = UART0_BASE;
    if (!hv_platform.timebase_hz)
        hv_platform.timebase_hz = 10000000;
    uart_init(hv_platform.uart_base);
}

static void hyp_init(void)
{
    csr_write(CSR_HEDELEG, HEDELEG_GUEST);
    csr_write(CSR_HIDELEG, HIDELEG_GUEST);
    csr_write(CSR_HENVCFG, HENVCFG_STCE);
    csr_write(CSR_HCOUNTEREN, MCOUNTEREN_CY | MCOUNTEREN_TM | MCOUNTEREN_IR);
    csr_write(CSR_HVIP, 0);
    csr_write(CSR_SIE, 0);
    csr_clear(CSR_SSTATUS, MSTATUS_SIE | MSTATUS_SPIE);
}

extern void hv_resume(struct regs *r) __attribute__((noreturn));

void hv_main(uint64_t hartid, uint64_t dtb)
{
    platform_init(dtb);
    hv_printf("hv: hvsim hypervisor on hart %lu: RAM %lu MiB at 0x%lx, timebase %lu Hz, "
              "%u VMs\n", hartid, hv_platform.ram_size >> 20, hv_platform.ram_base,
              hv_platform.timebase_hz, hv_num_vms);
    if (hv_platform.ram_base != RAM_BASE)
        hv_printf("hv: warning: RAM at 0x%lx, linked for 0x%lx\n", hv_platform.ram_base,
                  (uint64_t)RAM_BASE);
    hyp_init();
    vm_init_all();
    sched_init();
    hv_resume(sched_start());
}
