/*
 * sbi.c: SBI calls from S-mode (SBI spec v2.0 chapter 3 "Binary Encoding", chapter 5
 * "Legacy Extensions" for the a7-only calls) and one wrapper per function used by the
 * guests.
 */
#include "sbi.h"

struct sbiret sbi_call(unsigned long ext, unsigned long fid, unsigned long a0,
                       unsigned long a1, unsigned long a2, unsigned long a3,
                       unsigned long a4, unsigned long a5)
{
    register unsigned long r0 __asm__("a0") = a0;
    register unsigned long r1 __asm__("a1") = a1;
    register unsigned long r2 __asm__("a2") = a2;
    register unsigned long r3 __asm__("a3") = a3;
    register unsigned long r4 __asm__("a4") = a4;
    register unsigned long r5 __asm__("a5") = a5;
    register unsigned long r6 __asm__("a6") = fid;
    register unsigned long r7 __asm__("a7") = ext;
    __asm__ volatile("ecall"
                     : "+r"(r0), "+r"(r1)
                     : "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r6), "r"(r7)
                     : "memory");
    return (struct sbiret){.error = (long)r0, .value = (long)r1};
}

long sbi_legacy_call(unsigned long ext, unsigned long a0)
{
    register unsigned long r0 __asm__("a0") = a0;
    register unsigned long r1 __asm__("a1");
    register unsigned long r7 __asm__("a7") = ext;
    __asm__ volatile("ecall" : "+r"(r0), "=r"(r1) : "r"(r7) : "memory");
    return (long)r0;
}

#define CALL0(ext, fid) sbi_call(ext, fid, 0, 0, 0, 0, 0, 0)

struct sbiret sbi_get_spec_version(void) { return CALL0(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION); }
struct sbiret sbi_get_impl_id(void) { return CALL0(SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID); }
struct sbiret sbi_get_impl_version(void) { return CALL0(SBI_EXT_BASE, SBI_BASE_GET_IMPL_VERSION); }
struct sbiret sbi_get_mvendorid(void) { return CALL0(SBI_EXT_BASE, SBI_BASE_GET_MVENDORID); }
struct sbiret sbi_get_marchid(void) { return CALL0(SBI_EXT_BASE, SBI_BASE_GET_MARCHID); }
struct sbiret sbi_get_mimpid(void) { return CALL0(SBI_EXT_BASE, SBI_BASE_GET_MIMPID); }

struct sbiret sbi_probe_extension(unsigned long ext)
{
    return sbi_call(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, ext, 0, 0, 0, 0, 0);
}

struct sbiret sbi_set_timer(uint64_t stime)
{
    return sbi_call(SBI_EXT_TIME, SBI_TIME_SET_TIMER, stime, 0, 0, 0, 0, 0);
}

struct sbiret sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base)
{
    return sbi_call(SBI_EXT_IPI, SBI_IPI_SEND_IPI, hart_mask, hart_mask_base, 0, 0, 0, 0);
}

struct sbiret sbi_remote_fence_i(unsigned long mask, unsigned long base)
{
    return sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_FENCE_I, mask, base, 0, 0, 0, 0);
}

struct sbiret sbi_remote_sfence_vma(unsigned long mask, unsigned long base,
                                    unsigned long start, unsigned long size)
{
    return sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_SFENCE_VMA, mask, base, start, size, 0, 0);
}

struct sbiret sbi_remote_sfence_vma_asid(unsigned long mask, unsigned long base,
                                         unsigned long start, unsigned long size,
                                         unsigned long asid)
{
    return sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_SFENCE_VMA_ASID, mask, base, start, size, asid, 0);
}

struct sbiret sbi_remote_hfence_gvma_vmid(unsigned long mask, unsigned long base,
                                          unsigned long start, unsigned long size,
                                          unsigned long vmid)
{
    return sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_HFENCE_GVMA_VMID, mask, base, start, size, vmid, 0);
}

struct sbiret sbi_remote_hfence_gvma(unsigned long mask, unsigned long base,
                                     unsigned long start, unsigned long size)
{
    return sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_HFENCE_GVMA, mask, base, start, size, 0, 0);
}

struct sbiret sbi_remote_hfence_vvma_asid(unsigned long mask, unsigned long base,
                                          unsigned long start, unsigned long size,
                                          unsigned long asid)
{
    return sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_HFENCE_VVMA_ASID, mask, base, start, size, asid, 0);
}

struct sbiret sbi_remote_hfence_vvma(unsigned long mask, unsigned long base,
                                     unsigned long start, unsigned long size)
{
    return sbi_call(SBI_EXT_RFENCE, SBI_RFENCE_HFENCE_VVMA, mask, base, start, size, 0, 0);
}

struct sbiret sbi_hart_start(unsigned long hartid, unsigned long start_addr,
                             unsigned long opaque)
{
    return sbi_call(SBI_EXT_HSM, SBI_HSM_HART_START, hartid, start_addr, opaque, 0, 0, 0);
}

struct sbiret sbi_hart_stop(void) { return CALL0(SBI_EXT_HSM, SBI_HSM_HART_STOP); }

struct sbiret sbi_hart_get_status(unsigned long hartid)
{
    return sbi_call(SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, hartid, 0, 0, 0, 0, 0);
}

struct sbiret sbi_hart_suspend(uint32_t type, unsigned long resume_addr, unsigned long opaque)
{
    return sbi_call(SBI_EXT_HSM, SBI_HSM_HART_SUSPEND, type, resume_addr, opaque, 0, 0, 0);
}

struct sbiret sbi_system_reset(uint32_t type, uint32_t reason)
{
    return sbi_call(SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET, type, reason, 0, 0, 0, 0);
}

struct sbiret sbi_debug_console_write(unsigned long n, unsigned long addr_lo,
                                      unsigned long addr_hi)
{
    return sbi_call(SBI_EXT_DBCN, SBI_DBCN_WRITE, n, addr_lo, addr_hi, 0, 0, 0);
}

struct sbiret sbi_debug_console_read(unsigned long n, unsigned long addr_lo,
                                     unsigned long addr_hi)
{
    return sbi_call(SBI_EXT_DBCN, SBI_DBCN_READ, n, addr_lo, addr_hi, 0, 0, 0);
}

struct sbiret sbi_debug_console_write_byte(uint8_t byte)
{
    return sbi_call(SBI_EXT_DBCN, SBI_DBCN_WRITE_BYTE, byte, 0, 0, 0, 0, 0);
}

long sbi_legacy_set_timer(uint64_t stime) { return sbi_legacy_call(SBI_LEGACY_SET_TIMER, stime); }
long sbi_legacy_putchar(int c) { return sbi_legacy_call(SBI_LEGACY_PUTCHAR, (unsigned char)c); }
long sbi_legacy_getchar(void) { return sbi_legacy_call(SBI_LEGACY_GETCHAR, 0); }

struct sbiret sbi_hvsim_yield(void) { return CALL0(SBI_EXT_HVSIM, SBI_HVSIM_YIELD); }
struct sbiret sbi_hvsim_vm_id(void) { return CALL0(SBI_EXT_HVSIM, SBI_HVSIM_VM_ID); }
struct sbiret sbi_hvsim_vm_count(void) { return CALL0(SBI_EXT_HVSIM, SBI_HVSIM_VM_COUNT); }

struct sbiret sbi_hvsim_stats(unsigned long addr_lo, unsigned long addr_hi, unsigned long size)
{
    return sbi_call(SBI_EXT_HVSIM, SBI_HVSIM_STATS, addr_lo, addr_hi, size, 0, 0, 0);
}
