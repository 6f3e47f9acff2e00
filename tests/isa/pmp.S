/*
 * Physical memory protection (privileged spec 3.7): pmpcfg/pmpaddr WARL behaviour, TOR,
 * NA4 and NAPOT matching, the lowest-numbered entry winning, S/U denied when no entry
 * matches, MPRV applying U permissions to M-mode loads, and the lock bit enforcing an
 * entry on M-mode and freezing it. Entries 0-3 are the test's; the last entry is the
 * runtime's catch-all that lets S and U reach everything.
 */
#include "hvtest.h"

    .bss
    .balign 4096
pmp_page:  .zero 4096
lock_page: .zero 4096

TEST_BEGIN
#if PMP_REGIONS == 0
    /* No PMP: like the golden model, the PMP CSRs do not exist; S/U reach all memory */
    TEST_ILLEGAL(1, csrr a0, pmpaddr0)
    TEST_ILLEGAL(2, csrw pmpcfg0, zero)
    GOTO_U 1f
1:  TEST_CASE(3, 7, la a1, pmp_page; li a2, 7; sd a2, 0(a1); ld a0, 0(a1))
    ECALL_TO_M CAUSE_USER_ECALL
#elif PMP_REGIONS >= 5
    la s0, pmp_page
    la s1, lock_page
    /* ---- WARL ---- */
    /* pmpaddr holds bits 55:2 of the address */
    TEST_CASE(1, 0x003fffffffffffff, li a1, -1; csrw pmpaddr0, a1; csrr a0, pmpaddr0; csrw pmpaddr0, zero)
    /* R = 0 with W = 1 is reserved: W is dropped; bits 5 and 6 read 0 */
    TEST_CASE(2, 0, li a1, PMP_W; csrw pmpcfg0, a1; csrr a0, pmpcfg0)
    TEST_CASE(3, PMP_R|PMP_W|PMP_TOR, li a1, 0x60|PMP_R|PMP_W|PMP_TOR; csrw pmpcfg0, a1; csrr a0, pmpcfg0)
    TEST_CASE(4, (PMP_NA4|PMP_X)<<8, li a1, (PMP_NA4|PMP_X)<<8; csrw pmpcfg0, a1; csrr a0, pmpcfg0)
    /* odd pmpcfg registers do not exist on RV64 */
    TEST_ILLEGAL(5, csrr a0, 0x3a1)
    csrw pmpcfg0, zero

    /* ---- NAPOT 4 KiB, no permissions: S and U loads, stores, fetches fault; M is
       not affected by an unlocked entry ---- */
    la a1, pmp_page
    srli a1, a1, 2
    ori a1, a1, 0x1ff
    csrw pmpaddr0, a1
    li a1, PMP_NAPOT
    csrw pmpcfg0, a1
    TEST_CASE(6, 0, ld a0, 0(s0); sd a0, 8(s0))
    GOTO_U 1f
1:  TEST_TRAP_TVAL(7, CAUSE_LOAD_ACCESS, s0, ld a0, 0(s0))
    li s2, 4095
    add s2, s0, s2
    TEST_TRAP_TVAL(8, CAUSE_LOAD_ACCESS, s2, lbu a0, 0(s2))
    TEST_TRAP_TVAL(9, CAUSE_STORE_ACCESS, s0, sw a0, 0(s0))
    TEST_TRAP_TVAL(10, CAUSE_STORE_ACCESS, s0, amoor.d a0, a0, (s0))
    /* the bytes just outside the page are reached through the catch-all */
    TEST_CASE(11, 0, ld a0, -8(s0); sd a0, 0(s1); li a0, 0)
    /* fetch: mepc = mtval = the page */
    li gp, 12
    EXPECT_CAUSE CAUSE_FETCH_ACCESS
    EXPECT_RESUME 2f
    EXPECT_EPC s0
    EXPECT_TVAL s0
    jalr ra, 0(s0)
2:  CHECK_TRAP_TAKEN
    ECALL_TO_M CAUSE_USER_ECALL
    GOTO_S 1f
1:  addi s2, s0, 64
    TEST_TRAP_TVAL(13, CAUSE_LOAD_ACCESS, s2, lw a0, 64(s0))
    ECALL_TO_M CAUSE_SUPERVISOR_ECALL

    /* ---- the lowest-numbered matching entry decides ---- */
    /* e0: NAPOT page, R only; e1: the same page, RW */
    csrr a1, pmpaddr0
    csrw pmpaddr1, a1
    li a1, (PMP_NAPOT|PMP_R)|((PMP_NAPOT|PMP_R|PMP_W)<<8)
    csrw pmpcfg0, a1
    GOTO_U 1f
1:  TEST_CASE(14, 0, ld a0, 0(s0); li a0, 0)
    TEST_TRAP_TVAL(15, CAUSE_STORE_ACCESS, s0, sd a0, 0(s0))
    ECALL_TO_M CAUSE_USER_ECALL
    /* swapped: e0 RW, e1 R: stores work */
    li a1, (PMP_NAPOT|PMP_R|PMP_W)|((PMP_NAPOT|PMP_R)<<8)
    csrw pmpcfg0, a1
    GOTO_U 1f
1:  TEST_CASE(16, 5, li a0, 5; sd a0, 0(s0); ld a0, 0(s0))
    ECALL_TO_M CAUSE_USER_ECALL
    csrw pmpcfg0, zero

    /* ---- TOR: e1 covers [pmpaddr0, pmpaddr1), read only; e0 is OFF ---- */
    srli a1, s0, 2
    csrw pmpaddr0, a1
    addi a1, s0, 256
    srli a1, a1, 2
    csrw pmpaddr1, a1
    li a1, (PMP_TOR|PMP_R)<<8
    csrw pmpcfg0, a1
    GOTO_U 1f
1:  TEST_TRAP_TVAL(17, CAUSE_STORE_ACCESS, s0, sd a0, 0(s0))
    addi s2, s0, 248
    TEST_TRAP_TVAL(18, CAUSE_STORE_ACCESS, s2, sd a0, 0(s2))
    TEST_CASE(19, 0, ld a0, 248(s0); sd a0, 256(s0); sd a0, -8(s0); li a0, 0)
    ECALL_TO_M CAUSE_USER_ECALL
    /* TOR in entry 0 starts at address 0: [0, end of the CLINT), no access */
    li a1, (CLINT_BASE+CLINT_SIZE)>>2
    csrw pmpaddr0, a1
    li a1, PMP_TOR
    csrw pmpcfg0, a1
    li s2, CLINT_MTIME
    GOTO_U 1f
1:  TEST_TRAP_TVAL(20, CAUSE_LOAD_ACCESS, s2, ld a0, 0(s2))
    ECALL_TO_M CAUSE_USER_ECALL
    /* with entry 0 off, the catch-all grants it */
    csrw pmpcfg0, zero
    GOTO_U 1f
1:  TEST_CASE(21, 1, ld a0, 0(s2); li a0, 1)
    ECALL_TO_M CAUSE_USER_ECALL

    /* ---- NA4: exactly four bytes ---- */
    addi a1, s0, 16
    srli a1, a1, 2
    csrw pmpaddr0, a1
    li a1, PMP_NA4|PMP_R
    csrw pmpcfg0, a1
    GOTO_U 1f
1:  addi s2, s0, 16
    TEST_TRAP_TVAL(22, CAUSE_STORE_ACCESS, s2, sw a0, 0(s2))
    addi s2, s0, 18
    TEST_TRAP_TVAL(23, CAUSE_STORE_ACCESS, s2, sh a0, 0(s2))
    TEST_CASE(24, 0, sw zero, 12(s0); sw zero, 20(s0); lw a0, 16(s0); li a0, 0)
    /* an access that covers the entry only in part fails */
    addi s2, s0, 16
    TEST_TRAP_TVAL(25, CAUSE_STORE_ACCESS, s2, sd a0, 0(s2))
    ECALL_TO_M CAUSE_USER_ECALL
    csrw pmpcfg0, zero

    /* ---- no matching entry: S/U denied, M allowed ---- */
    /* e0: all of RAM RWX; the catch-all off; the CLINT matches nothing */
    li a1, (RAM_BASE>>2)|((RAM_SIZE>>3)-1)
    csrw pmpaddr0, a1
    li a1, PMP_NAPOT|PMP_R|PMP_W|PMP_X
    csrw pmpcfg0, a1
    li a1, 0xff<<PMP_LAST_SHIFT
    csrc PMP_LAST_CFG, a1
    li s2, CLINT_MTIME
    TEST_CASE(26, 1, ld a0, 0(s2); li a0, 1)
    GOTO_S 1f
1:  TEST_TRAP_TVAL(27, CAUSE_LOAD_ACCESS, s2, ld a0, 0(s2))
    TEST_TRAP_TVAL(28, CAUSE_STORE_ACCESS, s2, sd a0, 0(s2))
    GOTO_U_FROM_S 2f
2:  TEST_TRAP_TVAL(29, CAUSE_LOAD_ACCESS, s2, ld a0, 0(s2))
    TEST_CASE(30, 9, li a0, 9; sd a0, 0(s0); ld a0, 0(s0))
    ECALL_TO_M CAUSE_USER_ECALL
    li a1, (PMP_NAPOT|PMP_R|PMP_W|PMP_X)<<PMP_LAST_SHIFT
    csrs PMP_LAST_CFG, a1
    csrw pmpcfg0, zero

    /* ---- MPRV: M-mode loads and stores with U permissions when MPP = U ---- */
    la a1, pmp_page
    srli a1, a1, 2
    ori a1, a1, 0x1ff
    csrw pmpaddr0, a1
    li a1, PMP_NAPOT|PMP_R
    csrw pmpcfg0, a1
    li a1, MSTATUS_MPP
    csrc mstatus, a1
    li a1, MSTATUS_MPRV
    csrs mstatus, a1
    TEST_TRAP_TVAL(31, CAUSE_STORE_ACCESS, s0, sd a0, 0(s0))
    TEST_CASE(32, 9, ld a0, 0(s0))
    li a1, MSTATUS_MPRV
    csrc mstatus, a1
    TEST_CASE(33, 4, li a0, 4; sd a0, 0(s0); ld a0, 0(s0))
    csrw pmpcfg0, zero

    /* ---- lock: the entry binds M-mode too and its registers freeze ---- */
    li a1, 0x33
    sd a1, 0(s1)
    srli a1, s1, 2
    ori a1, a1, 0x1ff
    csrw pmpaddr2, a1
    li a1, (PMP_NAPOT|PMP_R|PMP_L)<<16
    csrw pmpcfg0, a1
    TEST_TRAP_TVAL(34, CAUSE_STORE_ACCESS, s1, sd a0, 0(s1))
    TEST_CASE(35, 0x33, ld a0, 0(s1))
    /* the locked entry's cfg byte and address ignore writes; other bytes still change */
    TEST_CASE(36, ((PMP_NAPOT|PMP_R|PMP_L)<<16)|(PMP_NA4|PMP_R), li a1, PMP_NA4|PMP_R; csrw pmpcfg0, a1; csrr a0, pmpcfg0)
    TEST_CASE(37, 0, csrr a1, pmpaddr2; csrw pmpaddr2, zero; csrr a2, pmpaddr2; sub a0, a1, a2)
    /* a second entry can still be added and locked */
    li a1, (PMP_NAPOT|PMP_R|PMP_W|PMP_L)<<24
    csrs pmpcfg0, a1
    TEST_CASE(38, ((PMP_NAPOT|PMP_R|PMP_W|PMP_L)<<24)|((PMP_NAPOT|PMP_R|PMP_L)<<16)|(PMP_NA4|PMP_R), csrr a0, pmpcfg0)
#endif
TEST_END
