/*
 * csr.h: CSR accessors (priv spec 2.1, "CSR instructions"). One macro family, by
 * the CSR numbers of the generated encoding.h.
 */
#ifndef HV_CSR_H
#define HV_CSR_H

#include <stdint.h>
#include "encoding.h"

#define HV_STR2(x) #x
#define HV_STR(x) HV_STR2(x)

#define csr_read(csr) ({ uint64_t v_; \
    __asm__ volatile("csrr %0, " HV_STR(csr) : "=r"(v_) :: "memory"); v_; })
#define csr_write(csr, val) \
    __asm__ volatile("csrw " HV_STR(csr) ", %0" :: "rK"((uint64_t)(val)) : "memory")
#define csr_set(csr, bits) \
    __asm__ volatile("csrs " HV_STR(csr) ", %0" :: "rK"((uint64_t)(bits)) : "memory")
#define csr_clear(csr, bits) \
    __asm__ volatile("csrc " HV_STR(csr) ", %0" :: "rK"((uint64_t)(bits)) : "memory")
#define csr_swap(csr, val) ({ uint64_t v_; \
    __asm__ volatile("csrrw %0, " HV_STR(csr) ", %1" : "=r"(v_) : "rK"((uint64_t)(val)) \
                     : "memory"); v_; })

static inline uint64_t rdtime(void) { return csr_read(CSR_TIME); }
static inline uint64_t rdcycle(void) { return csr_read(CSR_CYCLE); }
static inline uint64_t rdinstret(void) { return csr_read(CSR_INSTRET); }

/* Hypervisor fences (H spec 9.3.2). */
static inline void hfence_gvma_all(void) { __asm__ volatile("hfence.gvma zero, zero" ::: "memory"); }
static inline void hfence_gvma_vmid(uint64_t vmid)
{
    __asm__ volatile("hfence.gvma zero, %0" :: "r"(vmid) : "memory");
}
static inline void hfence_vvma_all(void) { __asm__ volatile("hfence.vvma zero, zero" ::: "memory"); }
static inline void hfence_vvma(uint64_t va, uint64_t asid)
{
    __asm__ volatile("hfence.vvma %0, %1" :: "r"(va), "r"(asid) : "memory");
}

#endif
