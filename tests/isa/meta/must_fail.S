/*
 * Self-test of the harness (docs/isa-tests.md): each FAIL_KIND is a test that is wrong on
 * purpose and must end with tohost = (7 << 1) | 1, i.e. fail as case 7.
 */
#include "hvtest.h"

TEST_BEGIN
    TEST_CASE(1, 3, li a0, 3)
#if FAIL_KIND == 1          /* a wrong value */
    TEST_CASE(7, 4, li a0, 3)
#elif FAIL_KIND == 2        /* an unexpected trap */
    li gp, 7
    ecall
#elif FAIL_KIND == 3        /* an expected trap that does not happen */
    TEST_TRAP(7, CAUSE_BREAKPOINT, nop)
#elif FAIL_KIND == 4        /* a trap with another cause */
    TEST_TRAP(7, CAUSE_BREAKPOINT, ecall)
#elif FAIL_KIND == 5        /* a trap with another mtval */
    li s1, 0x1234
    TEST_TRAP_TVAL(7, CAUSE_MACHINE_ECALL, s1, ecall)
#elif FAIL_KIND == 6        /* a trap expected in S but taken by M */
    li gp, 7
    EXPECT_TRAP CAUSE_MACHINE_ECALL, 1f, 2f, F_IN_S
1:  ecall
2:  CHECK_TRAP_TAKEN
#elif FAIL_KIND == 7        /* an interrupt without a hook */
    li gp, 7
    li a1, MIP_SSIP
    csrw mie, a1
    csrs mip, a1
    csrsi mstatus, MSTATUS_MIE
    WAIT_IRQS 1
#elif FAIL_KIND == 8        /* an expected interrupt that never comes */
    li gp, 7
    WAIT_IRQS 1, 1000
#endif
    TEST_CASE(8, 1, li a0, 1)
TEST_END
