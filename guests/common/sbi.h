/*
 * sbi.h: the supervisor side of the RISC-V SBI v2.0 calling convention (SBI spec chapter 3,
 * "Binary Encoding": a7 = extension ID, a6 = function ID, a0..a5 = arguments, a0 = error,
 * a1 = value) and the IDs of the extensions the hvsim firmware implements: BASE (ch. 4),
 * legacy (ch. 5), TIME (ch. 6), IPI (ch. 7), RFENCE (ch. 8), HSM (ch. 9), SRST (ch. 10),
 * DBCN (ch. 12), and the firmware-specific HVSIM extension (docs/hypervisor.md, "SBI").
 * The constants are usable from assembly.
 */
#ifndef GUEST_SBI_H
#define GUEST_SBI_H

#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_IPI 0x735049
#define SBI_EXT_RFENCE 0x52464E43
#define SBI_EXT_HSM 0x48534D
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_DBCN 0x4442434E
#define SBI_EXT_HVSIM 0x0A006876

#define SBI_LEGACY_SET_TIMER 0x00
#define SBI_LEGACY_PUTCHAR 0x01
#define SBI_LEGACY_GETCHAR 0x02
#define SBI_LEGACY_CLEAR_IPI 0x03

#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_GET_IMPL_ID 1
#define SBI_BASE_GET_IMPL_VERSION 2
#define SBI_BASE_PROBE_EXTENSION 3
#define SBI_BASE_GET_MVENDORID 4
#define SBI_BASE_GET_MARCHID 5
#define SBI_BASE_GET_MIMPID 6

#define SBI_TIME_SET_TIMER 0
#define SBI_IPI_SEND_IPI 0

#define SBI_RFENCE_FENCE_I 0
#define SBI_RFENCE_SFENCE_VMA 1
#define SBI_RFENCE_SFENCE_VMA_ASID 2
#define SBI_RFENCE_HFENCE_GVMA_VMID 3
#define SBI_RFENCE_HFENCE_GVMA 4
#define SBI_RFENCE_HFENCE_VVMA_ASID 5
#define SBI_RFENCE_HFENCE_VVMA 6

#define SBI_HSM_HART_START 0
#define SBI_HSM_HART_STOP 1
#define SBI_HSM_HART_GET_STATUS 2
#define SBI_HSM_HART_SUSPEND 3
#define SBI_HSM_STATE_STARTED 0
#define SBI_HSM_SUSPEND_RETENTIVE 0x00000000
#define SBI_HSM_SUSPEND_NON_RETENTIVE 0x80000000

#define SBI_SRST_SYSTEM_RESET 0
#define SBI_SRST_TYPE_SHUTDOWN 0
#define SBI_SRST_TYPE_COLD_REBOOT 1
#define SBI_SRST_TYPE_WARM_REBOOT 2
#define SBI_SRST_REASON_NONE 0
#define SBI_SRST_REASON_SYSFAIL 1

#define SBI_DBCN_WRITE 0
#define SBI_DBCN_READ 1
#define SBI_DBCN_WRITE_BYTE 2

#define SBI_HVSIM_YIELD 0
#define SBI_HVSIM_VM_ID 1
#define SBI_HVSIM_VM_COUNT 2
#define SBI_HVSIM_STATS 3

#define SBI_SUCCESS 0
#define SBI_ERR_FAILED (-1)
#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_ERR_INVALID_PARAM (-3)
#define SBI_ERR_DENIED (-4)
#define SBI_ERR_INVALID_ADDRESS (-5)
#define SBI_ERR_ALREADY_AVAILABLE (-6)
#define SBI_ERR_ALREADY_STARTED (-7)
#define SBI_ERR_ALREADY_STOPPED (-8)

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The pair every SBI v0.2+ call returns. */
struct sbiret {
    long error;    /* SBI_SUCCESS or SBI_ERR_* */
    long value;    /* function-specific result */
};

/* What HVSIM stats() copies to guest memory (48 bytes). */
struct hvsim_stats {
    uint64_t cycles;     /* cycles this VM has run */
    uint64_t instret;    /* instructions it retired */
    uint64_t runs;       /* times it was scheduled */
    uint64_t exits;      /* traps into the hypervisor */
    uint64_t sbi_calls;  /* SBI calls it made */
    uint64_t irqs;       /* interrupts injected into it */
};

struct sbiret sbi_call(unsigned long ext, unsigned long fid, unsigned long a0,
                       unsigned long a1, unsigned long a2, unsigned long a3,
                       unsigned long a4, unsigned long a5);
long sbi_legacy_call(unsigned long ext, unsigned long a0);

struct sbiret sbi_get_spec_version(void);
struct sbiret sbi_get_impl_id(void);
struct sbiret sbi_get_impl_version(void);
struct sbiret sbi_probe_extension(unsigned long ext);
struct sbiret sbi_get_mvendorid(void);
struct sbiret sbi_get_marchid(void);
struct sbiret sbi_get_mimpid(void);

struct sbiret sbi_set_timer(uint64_t stime);
struct sbiret sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base);

struct sbiret sbi_remote_fence_i(unsigned long mask, unsigned long base);
struct sbiret sbi_remote_sfence_vma(unsigned long mask, unsigned long base,
                                    unsigned long start, unsigned long size);
struct sbiret sbi_remote_sfence_vma_asid(unsigned long mask, unsigned long base,
                                         unsigned long start, unsigned long size,
                                         unsigned long asid);
struct sbiret sbi_remote_hfence_gvma_vmid(unsigned long mask, unsigned long base,
                                          unsigned long start, unsigned long size,
                                          unsigned long vmid);
struct sbiret sbi_remote_hfence_gvma(unsigned long mask, unsigned long base,
                                     unsigned long start, unsigned long size);
struct sbiret sbi_remote_hfence_vvma_asid(unsigned long mask, unsigned long base,
                                          unsigned long start, unsigned long size,
                                          unsigned long asid);
struct sbiret sbi_remote_hfence_vvma(unsigned long mask, unsigned long base,
                                     unsigned long start, unsigned long size);

struct sbiret sbi_hart_start(unsigned long hartid, unsigned long start_addr,
                             unsigned long opaque);
struct sbiret sbi_hart_stop(void);
struct sbiret sbi_hart_get_status(unsigned long hartid);
struct sbiret sbi_hart_suspend(uint32_t type, unsigned long resume_addr, unsigned long opaque);

struct sbiret sbi_system_reset(uint32_t type, uint32_t reason);

struct sbiret sbi_debug_console_write(unsigned long n, unsigned long addr_lo,
                                      unsigned long addr_hi);
struct sbiret sbi_debug_console_read(unsigned long n, unsigned long addr_lo,
                                     unsigned long addr_hi);
struct sbiret sbi_debug_console_write_byte(uint8_t byte);

long sbi_legacy_set_timer(uint64_t stime);
long sbi_legacy_putchar(int c);
long sbi_legacy_getchar(void);

struct sbiret sbi_hvsim_yield(void);
struct sbiret sbi_hvsim_vm_id(void);
struct sbiret sbi_hvsim_vm_count(void);
struct sbiret sbi_hvsim_stats(unsigned long addr_lo, unsigned long addr_hi, unsigned long size);

#endif /* __ASSEMBLER__ */
#endif /* GUEST_SBI_H */
