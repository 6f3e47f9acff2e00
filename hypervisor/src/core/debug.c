/*
 * debug.c: the layout of the hypervisor's VM table for tools that read the model's
 * memory from outside (tools/isolation: the G-stage invariant walks each VM's
 * Sv39x4 table from the hgatp the hypervisor keeps for it, H spec 9.2.10). Read-only
 * data the firmware never uses; a version field guards the layout.
 */
#include <stddef.h>

#include "hv.h"

#define HV_DEBUG_MAGIC 0x6876646267000001ull   /* "hvdbg", layout version 1 */

struct hv_debug {
    uint64_t magic;
    uint64_t vms;           /* address of hv_vms */
    uint64_t nvms;          /* address of hv_nvms (unsigned) */
    uint64_t vm_size;       /* sizeof(struct vm) */
    uint64_t hgatp;         /* offsetof(struct vm, cpu.hgatp) */
    uint64_t state;         /* offsetof(struct vm, state) (enum, 4 bytes) */
};

__attribute__((used)) const struct hv_debug hv_debug = {
    .magic = HV_DEBUG_MAGIC,
    .vms = (uint64_t)(uintptr_t)hv_vms,
    .nvms = (uint64_t)(uintptr_t)&hv_nvms,
    .vm_size = sizeof(struct vm),
    .hgatp = offsetof(struct vm, cpu.hgatp),
    .state = offsetof(struct vm, state),
};
