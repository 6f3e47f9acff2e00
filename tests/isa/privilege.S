/*
 * Privilege modes and trap delegation (privileged spec 3.1.6, 3.1.8, 3.3.2, 3.3.3,
 * 4.1.1): M -> S -> U with mret/sret, the status stacks on trap and return, medeleg
 * routing exceptions from S/U to the S handler (never from M), mret/sret illegal in
 * lower modes, and the TSR, TW and TVM traps, and WFI.
 */
#include "hvtest.h"

TEST_BEGIN
    csrw medeleg, zero
    csrw mideleg, zero
    /* ---- mode checks: S can read sstatus but not mstatus; U neither ---- */
    GOTO_S 1f
1:  TEST_CASE(1, 1, csrr a1, sstatus; li a0, 1)
    TEST_ILLEGAL(2, csrr a0, mstatus)
    TEST_ILLEGAL(3, mret)
    /* S -> U with sret */
    GOTO_U_FROM_S 2f
2:  TEST_ILLEGAL(4, csrr a0, sstatus)
    TEST_ILLEGAL(5, sret)
    TEST_ILLEGAL(6, mret)
    TEST_ILLEGAL(7, wfi)
    TEST_ILLEGAL(8, sfence.vma)
    li gp, 9
    EXPECT_TRAP CAUSE_USER_ECALL, 3f, 4f, F_RESUME_M
    EXPECT_PRIV PRV_U
3:  ecall
4:  CHECK_TRAP_TAKEN

    /* ---- mret to a lower mode clears MPRV and sets MPP to U ---- */
    li a1, MSTATUS_MPRV
    csrs mstatus, a1
    GOTO_S 1f
1:  ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    TEST_CASE(10, 0, LAST_TRAP a1, LAST_STATUS; li a2, MSTATUS_MPRV; and a0, a1, a2)
    TEST_CASE(11, 0, csrr a1, mstatus; li a2, MSTATUS_MPP; and a0, a1, a2)

    /* ---- medeleg: delegated exceptions from U and S go to the S handler ---- */
    li a1, (1<<CAUSE_USER_ECALL)|(1<<CAUSE_BREAKPOINT)|(1<<CAUSE_ILLEGAL_INSTRUCTION)|(1<<CAUSE_LOAD_ACCESS)
    csrw medeleg, a1
    GOTO_S 1f
1:  GOTO_U_FROM_S 2f
2:  li gp, 12
    EXPECT_TRAP CAUSE_USER_ECALL, 3f, 4f, F_IN_S
    EXPECT_PRIV PRV_U
    EXPECT_TVAL zero
3:  ecall
4:  CHECK_TRAP_TAKEN
    /* still in U: an illegal instruction is delegated too, stval = the bits */
    li gp, 13
    li s1, 0x0000000b
    EXPECT_TRAP CAUSE_ILLEGAL_INSTRUCTION, 3f, 4f, F_IN_S
    EXPECT_TVAL s1
    .balign 4
3:  .word 0x0000000b
4:  CHECK_TRAP_TAKEN
    /* a delegated trap from U can return to S (sret with SPP = S) */
    li gp, 14
    EXPECT_TRAP CAUSE_BREAKPOINT, 3f, 4f, F_IN_S|F_RESUME_S
3:  ebreak
4:  CHECK_TRAP_TAKEN
    /* now in S: delegated exceptions raised in S are taken in S, SPP = S */
    TEST_CASE(15, 1, csrr a1, sstatus; li a0, 1)
    li gp, 16
    EXPECT_TRAP CAUSE_BREAKPOINT, 3f, 4f, F_IN_S
    EXPECT_PRIV PRV_S
3:  ebreak
4:  CHECK_TRAP_TAKEN
    li gp, 17
    li s1, 0x20000000
    EXPECT_TRAP CAUSE_LOAD_ACCESS, 3f, 4f, F_IN_S
    EXPECT_TVAL s1
3:  ld a0, 0(s1)
4:  CHECK_TRAP_TAKEN
    /* an S-mode trap stacks SIE into SPIE and clears SIE; sret restores them */
    csrsi sstatus, MSTATUS_SIE
    li gp, 18
    EXPECT_TRAP CAUSE_BREAKPOINT, 3f, 4f, F_IN_S
3:  ebreak
4:  CHECK_TRAP_TAKEN
    TEST_CASE(19, MSTATUS_SPIE|MSTATUS_SPP, LAST_TRAP a1, LAST_STATUS; li a2, MSTATUS_SIE|MSTATUS_SPIE|MSTATUS_SPP; and a0, a1, a2)
    TEST_CASE(20, MSTATUS_SIE|MSTATUS_SPIE, csrr a1, sstatus; li a2, MSTATUS_SIE|MSTATUS_SPIE|MSTATUS_SPP; and a0, a1, a2)
    csrci sstatus, MSTATUS_SIE
    /* an undelegated exception from S still goes to M */
    li gp, 21
    EXPECT_TRAP CAUSE_SUPERVISOR_ECALL, 3f, 4f, F_RESUME_M
    EXPECT_PRIV PRV_S
3:  ecall
4:  CHECK_TRAP_TAKEN
    /* in M-mode, medeleg has no effect: ebreak is taken by M */
    TEST_TRAP(22, CAUSE_BREAKPOINT, ebreak)
    TEST_CASE(23, PRV_M, LAST_TRAP a0, LAST_MODE)
    csrw medeleg, zero

    /* ---- TSR: sret in S-mode is illegal; sret in M-mode still works ---- */
    li a1, MSTATUS_TSR
    csrs mstatus, a1
    GOTO_S 1f
1:  TEST_ILLEGAL(24, sret)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    li gp, 25
    li a1, MSTATUS_SPP
    csrs mstatus, a1
    la a1, 1f
    csrw sepc, a1
    sret                               /* M-mode sret: to S-mode */
1:  TEST_ILLEGAL(26, csrr a0, mstatus) /* proves S-mode */
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    li a1, MSTATUS_TSR
    csrc mstatus, a1
    GOTO_S 1f
1:  li gp, 27
    GOTO_U_FROM_S 2f
2:  ECALL_TO_M CAUSE_USER_ECALL

    /* ---- WFI: completes when an enabled interrupt is pending, even with MIE = 0 ---- */
    li gp, 28
    li a1, MIP_SSIP
    csrw mie, a1
    csrs mip, a1
    wfi
    csrc mip, a1
    csrw mie, zero
    /* TW: WFI in S-mode is illegal; in M-mode it is not */
    li a1, MSTATUS_TW
    csrs mstatus, a1
    GOTO_S 1f
1:  TEST_ILLEGAL(29, wfi)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    li gp, 30
    li a1, MIP_SSIP
    csrw mie, a1
    csrs mip, a1
    wfi
    csrc mip, a1
    csrw mie, zero
    li a1, MSTATUS_TW
    csrc mstatus, a1
    /* TW = 0: WFI in S-mode completes (an enabled interrupt is pending, SIE = 0) */
    csrci mstatus, MSTATUS_SIE
    li a1, MIP_SSIP
    csrw mideleg, a1
    csrw mie, a1
    csrs mip, a1
    GOTO_S 1f
1:  li gp, 31
    wfi
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    csrc mip, a1
    csrw mie, zero
    csrw mideleg, zero

    /* ---- TVM (present with virtual memory): satp and sfence.vma illegal in S.
     * Without virtual memory (TVM reads 0) SFENCE.VMA is illegal in every mode, as on
     * Spike with mmu-type riscv,sbare. ---- */
    li a1, MSTATUS_TVM
    csrs mstatus, a1
    csrr s2, mstatus
    csrc mstatus, a1
    and s2, s2, a1
    GOTO_S 1f
1:  TEST_CASE(32, 0, csrr a0, satp)
    bnez s2, 2f
    TEST_ILLEGAL(33, sfence.vma)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    TEST_ILLEGAL(38, sfence.vma)
    j 9f
2:  li gp, 33
    sfence.vma
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    li a1, MSTATUS_TVM
    csrs mstatus, a1
    GOTO_S 1f
1:  TEST_ILLEGAL(34, csrr a0, satp)
    TEST_ILLEGAL(35, csrw satp, zero)
    TEST_ILLEGAL(36, sfence.vma)
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL
    /* M-mode is not affected by TVM */
    TEST_CASE(37, 0, csrr a0, satp; sfence.vma)
    li a1, MSTATUS_TVM
    csrc mstatus, a1
9:
TEST_END
