/*
 * vmconfig.h: the VM table the build generates from a scenario TOML
 * (hypervisor/config.py writes vmtable.c and images.S; see docs/hypervisor.md,
 * "Configuration").
 */
#ifndef HV_VMCONFIG_H
#define HV_VMCONFIG_H

#include <stdint.h>

#define HV_MAX_VMS 8
#define VM_ON_FAULT_STOP 0
#define VM_ON_FAULT_RESTART 1
#define VM_DEV_UART 1u

struct vm_config {
    const char *name;
    uint64_t base, size;            /* host-physical partition */
    const uint8_t *image;           /* the guest ELF, embedded */
    uint64_t image_size;
    const uint8_t *dtb;             /* the guest DTB, embedded */
    uint64_t dtb_size;
    uint64_t budget_us, period_us;  /* CPU budget per replenishment period */
    uint32_t priority;              /* higher runs first */
    uint32_t on_fault;              /* VM_ON_FAULT_* */
    uint32_t max_restarts;
    uint32_t devices;               /* VM_DEV_* bits */
    uint64_t args[4];               /* a2..a5 at guest entry */
    uint64_t watchdog_us;           /* stop after this much CPU time; 0: never */
};

extern const struct vm_config hv_vm_configs[];
extern const unsigned hv_num_vms;
extern const uint64_t hv_reserved_size;
extern const int hv_work_conserving;    /* idle time goes to VMs out of budget */
extern const int hv_time_protected;     /* the time-protected schedule (core/tp.c) */
extern const uint64_t hv_tp_pad_us;     /* its switch pad */
extern const uint64_t hv_tp_boot_us;    /* its first frame's earliest start (0: none) */

#endif
