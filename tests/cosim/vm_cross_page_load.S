/*
 * Loads and stores whose 32-bit instruction straddles a 4 KiB page boundary, in S-mode
 * with Sv39 on (privileged spec 4.3.2: the instruction's two parcels are translated
 * separately, the data access by its own address). Code and data are identity mapped
 * by 4 KiB pages, so the second parcel's page misses in the TLB.
 *
 * Found by the CPU fuzzer's paging programs (docs/fuzzing-cpu.md, Findings): Spike
 * passes; the model fails case 2 (exit code 2): the record of `sd a2, 8(a1)` at
 * offset 0xffe of a code page shows the store to page_a+8, but the `ld` right after it
 * (first instruction of the next code page) reads 0 (lockstep: divergence at the `ld`,
 * field rd_wdata, model 0x0, Spike 0x5a5a). In fuzz programs the same pattern gave a
 * load the value of a PTE the walker had just read, and a store performed where PMP
 * forbids it (Spike: store access fault).
 */
#include "hvtest.h"

#define MARK_A 0x1111222233334444

TEST_BEGIN
    /* the first 2 MiB of RAM identity mapped by 4 KiB pages (S, RWX, A, D) */
    PTE_NEXT root, VPN2(RAM_BASE), l1
    PTE_NEXT l1, VPN1(RAM_BASE), l0
    la t0, l0
    li t1, RAM_BASE
    li t2, 512
4:  srli t3, t1, 2
    ori t3, t3, PTE_LEAF
    sd t3, 0(t0)
    addi t0, t0, 8
    li t4, PAGE_SIZE
    add t1, t1, t4
    addi t2, t2, -1
    bnez t2, 4b
    SATP_SV39_SET root, 1
    GOTO_S 1f
1:  la a1, page_a
    li gp, 1
    j 2f
    .balign PAGE_SIZE
    .skip PAGE_SIZE - 2
    .option push
    .option norvc
2:  ld a0, 0(a1)          /* bytes 0xffe..0x1001 of the code: two pages */
    .option pop
    CHECK_EQ a0, MARK_A
    li gp, 2
    la a1, page_a
    li a2, 0x5a5a
    j 3f
    .balign PAGE_SIZE
    .skip PAGE_SIZE - 2
    .option push
    .option norvc
3:  sd a2, 8(a1)
    .option pop
    ld a0, 8(a1)
    CHECK_EQ a0, 0x5a5a
TEST_END

    .data
    PAGE_TABLE root
    PAGE_TABLE l1
    PAGE_TABLE l0
    DATA_PAGE page_a, MARK_A
