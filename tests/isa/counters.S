/*
 * Counters (unprivileged Zicntr chapter 8, privileged 3.1.10-3.1.13 and 4.1.5):
 * cycle/instret/time and mcycle/minstret, writes to the M counters, mcountinhibit
 * freezing mcycle and minstret, and mcounteren/scounteren gating S- and U-mode reads.
 * No check depends on cycle counts: only on instruction counts and monotonic time.
 */
#include "hvtest.h"

TEST_BEGIN
    csrw mcountinhibit, zero
    /* minstret counts retired instructions: a read, three instructions, a read */
    TEST_CASE(1, 4, .option push; .option norvc; csrr a1, minstret; addi x0, x0, 0; addi x0, x0, 0; addi x0, x0, 0; csrr a2, minstret; .option pop; sub a0, a2, a1)
    TEST_CASE(2, 4, csrr a1, instret; nop; nop; nop; csrr a2, instret; sub a0, a2, a1)
    /* the user aliases read the same counters */
    TEST_CASE(3, 1, csrr a1, minstret; csrr a2, instret; sub a0, a2, a1)
    /* mcycle advances; cycle aliases it */
    TEST_CASE(4, 1, csrr a1, mcycle; nop; nop; csrr a2, mcycle; sltu a0, a1, a2)
    TEST_CASE(5, 1, csrr a1, mcycle; csrr a2, cycle; sltu a0, a2, a1; xori a0, a0, 1)
    /* writes: the next read returns the written value plus the few instructions since */
    TEST_CASE(6, 1, li a1, 0x100000000; csrw minstret, a1; csrr a2, minstret; sub a0, a2, a1; sltiu a0, a0, 3)
    TEST_CASE(7, 1, li a1, 0x7fffffff00000000; csrw mcycle, a1; csrr a2, mcycle; sub a0, a2, a1; sltiu a0, a0, 64)
    /* mcountinhibit.IR freezes minstret, .CY freezes mcycle */
    TEST_CASE(8, 0, csrwi mcountinhibit, 4; csrr a1, minstret; nop; nop; csrr a2, minstret; sub a0, a2, a1)
    TEST_CASE(9, 0, csrwi mcountinhibit, 1; csrr a1, mcycle; nop; nop; nop; csrr a2, mcycle; sub a0, a2, a1)
    TEST_CASE(10, 0, csrwi mcountinhibit, 5; csrr a1, mcycle; csrr a3, minstret; nop; csrr a2, mcycle; csrr a4, minstret; sub a0, a2, a1; sub a4, a4, a3; or a0, a0, a4)
    /* an inhibited counter still takes writes */
    TEST_CASE(11, 77, li a1, 77; csrw minstret, a1; nop; csrr a0, minstret)
    TEST_CASE(12, 4, csrwi mcountinhibit, 0; csrr a1, minstret; nop; nop; nop; csrr a2, minstret; sub a0, a2, a1)

    /* time follows the CLINT's mtime and never goes backwards */
    TEST_CASE(13, 1, li a3, CLINT_MTIME; ld a1, 0(a3); csrr a2, time; sltu a0, a2, a1; xori a0, a0, 1)
    TEST_CASE(14, 1, csrr a1, time; li a3, CLINT_MTIME; ld a2, 0(a3); sltu a0, a2, a1; xori a0, a0, 1)
    /* time advances: wait, bounded, for a change */
    li gp, 15
    csrr a1, time
    li a3, 1000000
1:  csrr a2, time
    bne a1, a2, 2f
    addi a3, a3, -1
    bnez a3, 1b
    j hv_fail
2:

    /* ---- gating: S-mode needs mcounteren; U-mode needs mcounteren and scounteren ---- */
    csrw mcounteren, zero
    csrw scounteren, zero
    GOTO_S 10f
10: TEST_ILLEGAL(20, csrr a0, cycle)
    TEST_ILLEGAL(21, csrr a0, time)
    TEST_ILLEGAL(22, csrr a0, instret)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    csrwi mcounteren, COUNTER_CY|COUNTER_IR
    GOTO_S 11f
11: TEST_CASE(23, 1, csrr a1, cycle; csrr a2, instret; snez a0, a2)
    TEST_ILLEGAL(24, csrr a0, time)
    /* S-mode never reads the M counters */
    TEST_ILLEGAL(25, csrr a0, mcycle)
    TEST_ILLEGAL(26, csrr a0, minstret)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    csrwi mcounteren, COUNTER_TM
    GOTO_S 12f
12: TEST_CASE(27, 1, csrr a1, time; snez a0, a1; ori a0, a0, 1)
    TEST_ILLEGAL(28, csrr a0, cycle)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL

    /* U-mode: mcounteren set, scounteren clear: illegal */
    csrwi mcounteren, 7
    csrw scounteren, zero
    GOTO_U 13f
13: TEST_ILLEGAL(30, csrr a0, cycle)
    TEST_ILLEGAL(31, csrr a0, time)
    TEST_ILLEGAL(32, csrr a0, instret)
    ECALL_TO_M CAUSE_USER_ECALL
    /* scounteren set, mcounteren clear: illegal */
    csrw mcounteren, zero
    csrwi scounteren, 7
    GOTO_U 14f
14: TEST_ILLEGAL(33, csrr a0, cycle)
    TEST_ILLEGAL(34, csrr a0, time)
    TEST_ILLEGAL(35, csrr a0, instret)
    ECALL_TO_M CAUSE_USER_ECALL
    /* both set, per counter */
    csrwi mcounteren, COUNTER_IR|COUNTER_TM
    csrwi scounteren, COUNTER_IR|COUNTER_CY
    GOTO_U 15f
15: TEST_CASE(36, 4, csrr a1, instret; nop; nop; nop; csrr a2, instret; sub a0, a2, a1)
    TEST_ILLEGAL(37, csrr a0, cycle)
    TEST_ILLEGAL(38, csrr a0, time)
    ECALL_TO_M CAUSE_USER_ECALL
    csrwi mcounteren, 7
    csrwi scounteren, 7
    GOTO_U 16f
16: TEST_CASE(39, 1, csrr a1, cycle; csrr a2, time; csrr a3, instret; snez a0, a3)
    ECALL_TO_M CAUSE_USER_ECALL
    csrw mcounteren, zero
    csrw scounteren, zero
TEST_END
