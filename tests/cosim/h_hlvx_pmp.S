/*
 * HLVX.HU/WU on a physical address whose PMP entry grants R but not X, or X but not R
 * (hypervisor spec 8.3.1 HLVX: "for the supervisor physical address that results from
 * address translation, the supervisor physical memory attributes must grant both
 * execute and read permissions"; privileged spec 3.7.1). Both stages Bare, from HS with
 * hstatus.SPVP = 1: a load access fault (5) taken by M. HLV.HU on the same bytes needs R
 * only.
 *
 * Found by the CPU fuzzer's hypervisor programs (docs/fuzzing-cpu.md, Findings): an
 * `hlvx.hu` on a fetch stub covered by a TOR entry with R|W only loaded the halfword on
 * the model; Spike raised a load access fault. Spike passes this test; the model fails
 * case 1.
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

/* PMP entry 0: NAPOT 8 bytes at hpage with the given permissions. */
.macro PMP0_HPAGE perms
    la a1, hpage
    srli a1, a1, 2
    csrw pmpaddr0, a1
    li a1, 0xff
    csrc pmpcfg0, a1
    li a1, PMP_NAPOT|\perms
    csrs pmpcfg0, a1
.endm

TEST_BEGIN
    H_INIT
    li a1, HSTATUS_SPVP
    csrw hstatus, a1
    la s1, hpage
    PMP0_HPAGE PMP_R|PMP_W
    H_TRAP_IN(1, HS, hlvx.hu a0, (s1))
    H_CHECK_TRAP H_M, CAUSE_LOAD_ACCESS
    H_CASE_IN(2, HS, 0x8687, hlv.hu a0, (s1))
    PMP0_HPAGE PMP_X
    H_TRAP_IN(3, HS, hlvx.wu a0, (s1))
    H_CHECK_TRAP H_M, CAUSE_LOAD_ACCESS
    PMP0_HPAGE PMP_R|PMP_X
    H_CASE_IN(4, HS, 0x84858687, hlvx.wu a0, (s1))
    li a1, 0xff
    csrc pmpcfg0, a1
    csrw pmpaddr0, zero
TEST_END

    H_RUNTIME

    .data
    .balign 4096
hpage:
    .dword 0x8081828384858687
    .dword 0x0123456789abcdef
