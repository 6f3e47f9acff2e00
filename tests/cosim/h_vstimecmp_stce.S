/*
 * vstimecmp accessed by its own number from VS and VU while menvcfg.STCE = 0 (Sstc:
 * "when STCE in menvcfg is zero, an attempt to access stimecmp or vstimecmp in a mode
 * other than M-mode raises an illegal instruction exception"; hypervisor spec 8.6.1:
 * a VS CSR raises the virtual-instruction exception from VS/VU only when the same
 * access would be allowed in HS, which it is not here).
 *
 * Found by the CPU fuzzer's hypervisor programs (docs/fuzzing-cpu.md, Findings): in
 * VU `csrrc t0, vstimecmp, zero` and in VS `csrrs s4, vstimecmp, zero` with menvcfg = 0
 * trap with cause 22 on the model and cause 2 on Spike. Spike passes this test; the
 * model fails case 1. Case 3 (menvcfg.STCE = 1: virtual instruction) passes on both.
 * requires: h
 */
#include "hvtest.h"
#include "hvtest_h.h"

.macro CHECK_HS cause
    H_CHECK_TRAP H_HS, \cause
    H_CHECK_EPC_AT 8893b
.endm

TEST_BEGIN
    H_INIT
    li a1, (1<<CAUSE_VIRTUAL_INSTRUCTION)|(1<<CAUSE_ILLEGAL_INSTRUCTION)
    csrw medeleg, a1
    csrw menvcfg, zero
    H_TRAP_IN(1, VS, .option push; .option norvc; csrr a0, vstimecmp; .option pop)
    CHECK_HS CAUSE_ILLEGAL_INSTRUCTION
    H_TRAP_IN(2, VU, .option push; .option norvc; csrr a0, vstimecmp; .option pop)
    CHECK_HS CAUSE_ILLEGAL_INSTRUCTION
    li a1, MENVCFG_STCE
    csrw menvcfg, a1
    H_TRAP_IN(3, VS, .option push; .option norvc; csrr a0, vstimecmp; .option pop)
    CHECK_HS CAUSE_VIRTUAL_INSTRUCTION
    csrw menvcfg, zero
TEST_END

    H_RUNTIME
