/*
 * WFI left without a trap, followed at once by a write of sie (privileged spec 3.3.3,
 * 4.1.3): the co-simulation must not undo that write when it restores Spike's mie
 * after leaving the WFI (a false positive the CPU fuzzer found).
 */
#include "hvtest.h"

TEST_BEGIN
    csrw mie, zero
    li t2, MIP_STIP
    csrs mip, t2          /* STIP pending, from software (menvcfg.STCE = 0) */
    csrs mideleg, t2
    csrs mie, t2          /* enabled, but MIE/SIE are clear: WFI ends, no trap */
    wfi
    csrrwi tp, sie, 8     /* clears mie.STIE through the sie view */
    TEST_CASE(1, 0, csrr a0, mie)
    csrc mip, t2
    csrw mideleg, zero
TEST_END
