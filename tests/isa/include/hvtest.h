/*
 * hvtest.h: macros of the self-checking ISA tests (docs/isa-tests.md).
 *
 * Architectural constants follow the RISC-V Privileged Architecture 1.12 (mstatus 3.1.6,
 * mip/mie 3.1.9, mcause 3.1.15, PMP 3.7) and the Sstc extension. Platform addresses come
 * from the build as -D flags generated from hardware/soc/memory_map.py (tests/isa/suite.py).
 *
 * Register conventions of every test:
 *   gp (x3)   number of the test case that runs now; the failure code reported to tohost
 *   t5, t6    scratch of the macros (clobbered by TEST_CASE, EXPECT_*, CHECK_*, GOTO_*)
 *   sp        a stack at the top of RAM (the trap handlers do not use it)
 * The trap handlers in hvtest_rt.S preserve every register.
 */
#ifndef HVTEST_H
#define HVTEST_H

#if !defined(RAM_BASE) || !defined(UART0_BASE) || !defined(CLINT_BASE) || !defined(PLIC_BASE)
#error "platform addresses missing: build the tests with tests/isa/suite.py"
#endif

/* ---- mstatus / sstatus fields (priv 3.1.6, 4.1.1) ---- */
#define MSTATUS_SIE   (1<<1)
#define MSTATUS_MIE   (1<<3)
#define MSTATUS_SPIE  (1<<5)
#define MSTATUS_UBE   (1<<6)
#define MSTATUS_MPIE  (1<<7)
#define MSTATUS_SPP   (1<<8)
#define MSTATUS_MPP   (3<<11)
#define MSTATUS_MPP_S (1<<11)
#define MSTATUS_MPP_M (3<<11)
#define MSTATUS_FS    (3<<13)
#define MSTATUS_XS    (3<<15)
#define MSTATUS_MPRV  (1<<17)
#define MSTATUS_SUM   (1<<18)
#define MSTATUS_MXR   (1<<19)
#define MSTATUS_TVM   (1<<20)
#define MSTATUS_TW    (1<<21)
#define MSTATUS_TSR   (1<<22)
#define MSTATUS_UXL   (3<<32)
#define MSTATUS_SXL   (3<<34)
#define MSTATUS_SD    (1<<63)

/* ---- privilege levels ---- */
#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* ---- interrupt numbers and mip/mie bits (priv 3.1.9) ---- */
#define IRQ_S_SOFT  1
#define IRQ_M_SOFT  3
#define IRQ_S_TIMER 5
#define IRQ_M_TIMER 7
#define IRQ_S_EXT   9
#define IRQ_M_EXT   11
#define MIP_SSIP (1<<IRQ_S_SOFT)
#define MIP_MSIP (1<<IRQ_M_SOFT)
#define MIP_STIP (1<<IRQ_S_TIMER)
#define MIP_MTIP (1<<IRQ_M_TIMER)
#define MIP_SEIP (1<<IRQ_S_EXT)
#define MIP_MEIP (1<<IRQ_M_EXT)
#define INTERRUPT_BIT (1<<63)

/* ---- exception causes (priv 3.1.15) ---- */
#define CAUSE_MISALIGNED_FETCH    0
#define CAUSE_FETCH_ACCESS        1
#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_BREAKPOINT          3
#define CAUSE_MISALIGNED_LOAD     4
#define CAUSE_LOAD_ACCESS         5
#define CAUSE_MISALIGNED_STORE    6
#define CAUSE_STORE_ACCESS        7
#define CAUSE_USER_ECALL          8
#define CAUSE_SUPERVISOR_ECALL    9
#define CAUSE_MACHINE_ECALL       11

/* ---- Sv39 paging (priv 4.1.11 satp, 4.3.1 PTE format, 4.4 Sv39) ---- */
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT  13
#define CAUSE_STORE_PAGE_FAULT 15
#define PTE_V   (1<<0)
#define PTE_R   (1<<1)
#define PTE_W   (1<<2)
#define PTE_X   (1<<3)
#define PTE_U   (1<<4)
#define PTE_G   (1<<5)
#define PTE_A   (1<<6)
#define PTE_D   (1<<7)
#define PTE_RSW (3<<8)
#define PTE_RWX (PTE_R|PTE_W|PTE_X)
#define PTE_AD  (PTE_A|PTE_D)
/* A valid, accessed, dirty leaf with R, W and X: the usual test mapping. */
#define PTE_LEAF (PTE_V|PTE_RWX|PTE_AD)
#define SATP_MODE_SHIFT 60
#define SATP_ASID_SHIFT 44
#define SATP_MODE_BARE  0
#define SATP_MODE_SV39  8
#define SATP_SV39       (SATP_MODE_SV39<<SATP_MODE_SHIFT)
#define PAGE_SIZE 0x1000
#define MEGAPAGE  0x200000
#define GIGAPAGE  0x40000000
/* The Sv39 VPN fields of virtual address a: its table indices at levels 2, 1 and 0. */
#define VPN2(a) (((a)>>30)&511)
#define VPN1(a) (((a)>>21)&511)
#define VPN0(a) (((a)>>12)&511)
/*
 * The standard map of VM_STD_MAP: RAM is identity-mapped by a gigapage for S (U = 0), and
 * aliased with U = 1 at VA_UALIAS, where U-mode code runs (GOTO_UA, ECALL_TO_M_PHYS).
 */
#if (RAM_BASE & 0x3fffffff) != 0
#error "VM_STD_MAP needs RAM_BASE aligned to a gigapage"
#endif
#define VA_UALIAS   0x40000000
#define UALIAS_OFF  (VA_UALIAS-RAM_BASE)
/*
 * The 4 KiB test window of VM_TEST_WINDOW: root entry VPN2(VA_TEST) -> l1, l1 entry
 * VPN1(VA_TEST) -> l0, and l0 entry i maps VA_PAGE(i). The indices differ at every level.
 */
#define VA_TEST     0xC0A00000
#define VA_PAGE(i)  (VA_TEST+(i)*PAGE_SIZE)

/* ---- counters (Zicntr, priv 3.1.11-3.1.13) ---- */
#define COUNTER_CY (1<<0)
#define COUNTER_TM (1<<1)
#define COUNTER_IR (1<<2)
#define MENVCFG_FIOM (1<<0)
#define MENVCFG_STCE (1<<63)

/* ---- PMP configuration bits (priv 3.7.1) ---- */
#define PMP_R     0x01
#define PMP_W     0x02
#define PMP_X     0x04
#define PMP_OFF   0x00
#define PMP_TOR   0x08
#define PMP_NA4   0x10
#define PMP_NAPOT 0x18
#define PMP_L     0x80
/* The last PMP entry is the runtime's catch-all: S and U may access everything. */
#define PMP_LAST       (PMP_REGIONS-1)
#define PMP_LAST_ADDR  (0x3b0+PMP_LAST)
#define PMP_LAST_CFG   (0x3a0+2*(PMP_LAST/8))
#define PMP_LAST_SHIFT (8*(PMP_LAST%8))

/* ---- device registers (offsets inside the device windows) ---- */
#define CLINT_MSIP      (CLINT_BASE+0x0)
#define CLINT_MTIMECMP  (CLINT_BASE+0x4000)
#define CLINT_MTIME     (CLINT_BASE+0xBFF8)
#define PLIC_PRIORITY(src)   (PLIC_BASE+4*(src))
#define PLIC_PENDING         (PLIC_BASE+0x1000)
#define PLIC_ENABLE(ctx)     (PLIC_BASE+0x2000+0x80*(ctx))
#define PLIC_THRESHOLD(ctx)  (PLIC_BASE+0x200000+0x1000*(ctx))
#define PLIC_CLAIM(ctx)      (PLIC_BASE+0x200004+0x1000*(ctx))
#define PLIC_CTX_M 0
#define PLIC_CTX_S 1
#define UART_THR (UART0_BASE+0)
#define UART_IER (UART0_BASE+1)
#define UART_IIR (UART0_BASE+2)
#define UART_LCR (UART0_BASE+3)
#define UART_LSR (UART0_BASE+5)
#define UART_IER_THRI 0x02
#define UART_LSR_THRE 0x20

/* ---- trap expectation record (hv_exp in hvtest_rt.S) ---- */
#define EXP_ARMED   0
#define EXP_CAUSE   8
#define EXP_EPC     16
#define EXP_TVAL    24
#define EXP_RESUME  32
#define EXP_FLAGS   40
#define EXP_PRIV    48
#define EXP_SIZE    56
#define F_EPC       (1<<0)   /* check xepc == EXP_EPC */
#define F_TVAL      (1<<1)   /* check xtval == EXP_TVAL */
#define F_IN_S      (1<<2)   /* the trap must be taken by the S-mode handler */
#define F_PRIV      (1<<3)   /* check the previous privilege (xPP) == EXP_PRIV */
#define F_RESUME_M  (1<<4)   /* return from the trap into M-mode */
#define F_RESUME_S  (1<<5)   /* return from the trap into S-mode */
#define F_RESUME_U  (1<<6)   /* return from the trap into U-mode */

/* ---- record of the last trap (hv_last) ---- */
#define LAST_COUNT  0
#define LAST_CAUSE  8
#define LAST_EPC    16
#define LAST_TVAL   24
#define LAST_STATUS 32
#define LAST_MODE   40   /* 3: taken by the M handler, 1: by the S handler */

#ifdef __ASSEMBLER__

/* Start of a test: the runtime calls hv_test in M-mode. */
#define TEST_BEGIN .text; .balign 4; .globl hv_test; hv_test:
/* End of a test: report a pass. */
#define TEST_END   j hv_pass

/* Case n: run code, which leaves its result in a0, then compare a0 with expected. */
#define TEST_CASE(n, expected, ...) \
    li gp, n; __VA_ARGS__; CHECK_EQ a0, expected

/* Case n: the first instruction of code must trap with cause; execution goes on after code. */
#define TEST_TRAP(n, cause, ...) \
    li gp, n; EXPECT_TRAP cause, 8881f, 8882f; 8881: __VA_ARGS__; 8882: CHECK_TRAP_TAKEN

/* As TEST_TRAP, and xtval must equal the value in register tvalreg (set before). */
#define TEST_TRAP_TVAL(n, cause, tvalreg, ...) \
    li gp, n; EXPECT_TRAP cause, 8881f, 8882f; EXPECT_TVAL tvalreg; \
    8881: __VA_ARGS__; 8882: CHECK_TRAP_TAKEN

/*
 * Case n: a jump to the address in register reg must raise the fetch exception cause with
 * xepc = xtval = reg; execution goes on after the jump (ra is clobbered).
 */
#define TEST_FETCH_FAULT(n, cause, reg) \
    li gp, n; EXPECT_TRAP cause, 8882f, 8882f; EXPECT_EPC reg; EXPECT_TVAL reg; \
    jalr reg; 8882: CHECK_TRAP_TAKEN

/*
 * Case n: the 32-bit instruction must raise illegal instruction with xtval = its
 * encoding; execution goes on after it.
 */
#define TEST_ILLEGAL(n, ...) \
    li gp, n; lwu t4, 8881f; EXPECT_TRAP CAUSE_ILLEGAL_INSTRUCTION, 8881f, 8882f; EXPECT_TVAL t4; \
    .balign 4; .option push; .option norvc; 8881: __VA_ARGS__; .option pop; 8882: CHECK_TRAP_TAKEN

/* Fail with the current test number unless reg == value. */
.macro CHECK_EQ reg, value
    li t6, \value
    beq \reg, t6, 8883f
    j hv_fail
8883:
.endm

/* Fail unless reg != value. */
.macro CHECK_NE reg, value
    li t6, \value
    bne \reg, t6, 8883f
    j hv_fail
8883:
.endm

/* Fail unless ra == rb. */
.macro CHECK_REG ra, rb
    beq \ra, \rb, 8883f
    j hv_fail
8883:
.endm

/* Fail unless the CSR reads value. */
.macro CHECK_CSR csr, value
    csrr t5, \csr
    CHECK_EQ t5, \value
.endm

/* Store register src into field off of the expectation record. */
.macro EXP_STORE src, off
    la t5, hv_exp
    sd \src, \off(t5)
.endm

/*
 * Arm the trap expectation: the next exception must have this cause and be raised by the
 * instruction at label at; the handler resumes at label resume (0: after the instruction)
 * in the trapping mode. Optional flags add checks and the mode to resume in.
 */
.macro EXPECT_TRAP cause, at, resume, flags=0
    la t5, hv_exp
    li t6, \cause
    sd t6, EXP_CAUSE(t5)
    la t6, \at
    sd t6, EXP_EPC(t5)
    la t6, \resume
    sd t6, EXP_RESUME(t5)
    li t6, F_EPC | (\flags)
    sd t6, EXP_FLAGS(t5)
    li t6, 1
    sd t6, EXP_ARMED(t5)
.endm

/* Arm an expectation of cause from any instruction; resume after it. */
.macro EXPECT_CAUSE cause, flags=0
    la t5, hv_exp
    li t6, \cause
    sd t6, EXP_CAUSE(t5)
    sd zero, EXP_RESUME(t5)
    li t6, \flags
    sd t6, EXP_FLAGS(t5)
    li t6, 1
    sd t6, EXP_ARMED(t5)
.endm

/* Add a check of xtval against register reg to the armed expectation. */
.macro EXPECT_TVAL reg
    la t5, hv_exp
    sd \reg, EXP_TVAL(t5)
    ld t6, EXP_FLAGS(t5)
    ori t6, t6, F_TVAL
    sd t6, EXP_FLAGS(t5)
.endm

/* Add a check of xepc against register reg to the armed expectation. */
.macro EXPECT_EPC reg
    la t5, hv_exp
    sd \reg, EXP_EPC(t5)
    ld t6, EXP_FLAGS(t5)
    ori t6, t6, F_EPC
    sd t6, EXP_FLAGS(t5)
.endm

/* Make the armed expectation resume at label. */
.macro EXPECT_RESUME label
    la t5, hv_exp
    la t6, \label
    sd t6, EXP_RESUME(t5)
.endm

/* Add a check of the previous privilege (xPP) to the armed expectation. */
.macro EXPECT_PRIV prv
    la t5, hv_exp
    li t6, \prv
    sd t6, EXP_PRIV(t5)
    ld t6, EXP_FLAGS(t5)
    ori t6, t6, F_PRIV
    sd t6, EXP_FLAGS(t5)
.endm

/* Fail if the armed expectation was not consumed by a trap. */
.macro CHECK_TRAP_TAKEN
    la t5, hv_exp
    ld t6, EXP_ARMED(t5)
    beqz t6, 8883f
    j hv_fail
8883:
.endm

/* Load field off of the last-trap record into reg. */
.macro LAST_TRAP reg, off
    la \reg, hv_last
    ld \reg, \off(\reg)
.endm

/* From M-mode: continue at label in S-mode (U-mode) with mret. */
.macro GOTO_S label
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    li t6, MSTATUS_MPP_S
    csrs mstatus, t6
    la t6, \label
    csrw mepc, t6
    mret
.endm
.macro GOTO_U label
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    la t6, \label
    csrw mepc, t6
    mret
.endm

/* From S-mode: continue at label in U-mode with sret. */
.macro GOTO_U_FROM_S label
    li t6, MSTATUS_SPP
    csrc sstatus, t6
    la t6, \label
    csrw sepc, t6
    sret
.endm

/* From U- or S-mode (ecall cause given): go back to M-mode, with mstatus.MIE = 0, after
   the ecall. */
.macro ECALL_TO_M cause
    EXPECT_CAUSE \cause, F_RESUME_M
    ecall
.endm

/* Set the handler hook called on an M-mode (S-mode) interrupt; 0 disables it. */
.macro SET_MIRQ_HOOK label
    la t6, \label
    la t5, hv_mirq_hook
    sd t6, 0(t5)
.endm
.macro SET_SIRQ_HOOK label
    la t6, \label
    la t5, hv_sirq_hook
    sd t6, 0(t5)
.endm

/* Clear the interrupt log (hv_irq_count and hv_irq_log). */
.macro CLEAR_IRQ_LOG
    la t5, hv_irq_count
    sd zero, 0(t5)
.endm

/* Wait, at most n loop iterations, until the word at hv_irq_count is at least count. */
.macro WAIT_IRQS count, n=200000
    li t5, \n
8884:
    la t6, hv_irq_count
    ld t6, 0(t6)
    addi t6, t6, -(\count)
    bgez t6, 8885f
    addi t5, t5, -1
    bnez t5, 8884b
    j hv_fail
8885:
.endm

/* Fail unless entry idx of the interrupt log is interrupt code taken in mode. */
.macro CHECK_IRQ idx, mode, code
    la t5, hv_irq_log
    ld t5, 8*(\idx)(t5)
    CHECK_EQ t5, (((\mode)<<8)|(\code))
.endm

/* Fail unless exactly n interrupts were taken since CLEAR_IRQ_LOG. */
.macro CHECK_IRQ_COUNT n
    la t5, hv_irq_count
    ld t5, 0(t5)
    CHECK_EQ t5, \n
.endm

/* Store a 64-bit (32-bit) value to a device address. */
.macro MMIO_SD addr, value
    li t5, \addr
    li t6, \value
    sd t6, 0(t5)
.endm
.macro MMIO_SW addr, value
    li t5, \addr
    li t6, \value
    sw t6, 0(t5)
.endm
.macro MMIO_SB addr, value
    li t5, \addr
    li t6, \value
    sb t6, 0(t5)
.endm


/* Wait, at most 1M iterations, until (csr & mask) == want; fail the test otherwise. */
.macro WAIT_CSR csr, mask, want
    li t4, 1000000
8886:
    csrr t5, \csr
    li t6, \mask
    and t5, t5, t6
    li t6, \want
    beq t5, t6, 8887f
    addi t4, t4, -1
    bnez t4, 8886b
    j hv_fail
8887:
.endm

/* Wait until (mip & mask) == want. */
.macro WAIT_MIP mask, want
    WAIT_CSR mip, \mask, \want
.endm

/* Spin n iterations. */
.macro SPIN n
    li t4, \n
8888:
    addi t4, t4, -1
    bnez t4, 8888b
.endm

/* ---- Sv39 page tables (priv 4.3.1, 4.4.1); all clobber t5 and t6 ---- */

/* Entry idx of the page table at label table := a PTE to the physical address in register
   pa (4 KiB aligned) with the constant flags. */
.macro PTE_SET table, idx, pa, flags
    srli t6, \pa, 2
    li t5, \flags
    or t6, t6, t5
    la t5, \table + 8*(\idx)
    sd t6, 0(t5)
.endm

/* Entry idx of table := a leaf to the page at label target with flags. */
.macro PTE_LEAF_TO table, idx, target, flags
    la t6, \target
    PTE_SET \table, \idx, t6, \flags
.endm

/* Entry idx of table := a pointer (V only) to the next-level table at label next. */
.macro PTE_NEXT table, idx, next
    la t6, \next
    PTE_SET \table, \idx, t6, PTE_V
.endm

/* Entry idx of table := the raw 64-bit value. */
.macro PTE_RAW table, idx, value
    li t6, \value
    la t5, \table + 8*(\idx)
    sd t6, 0(t5)
.endm

/* Load (store) into reg entry idx of table. */
.macro PTE_GET reg, table, idx
    la \reg, \table + 8*(\idx)
    ld \reg, 0(\reg)
.endm

/* satp := Sv39 with root table at label root and the asid, then a full SFENCE.VMA. */
.macro SATP_SV39_SET root, asid=0
    la t6, \root
    srli t6, t6, 12
    li t5, SATP_SV39 | ((\asid) << SATP_ASID_SHIFT)
    or t6, t6, t5
    csrw satp, t6
    sfence.vma
.endm

/* A page of code at label code_page that returns \value in a0 (the target of the
   fetch cases), page aligned on both ends. */
.macro VM_CODE_PAGE value
    .text
    .balign PAGE_SIZE
code_page:
    li a0, \value
    ret
    .balign PAGE_SIZE
.endm

/* The three tables of a test's Sv39 walk: root, l1, l0 (in .data). */
.macro VM_TABLES
    PAGE_TABLE root
    PAGE_TABLE l1
    PAGE_TABLE l0
.endm

/* The standard map in root: RAM's gigapage identity-mapped for S (RWX, A, D) and aliased
   for U at VA_UALIAS. */
.macro VM_STD_MAP root
    li t6, RAM_BASE
    PTE_SET \root, VPN2(RAM_BASE), t6, PTE_LEAF
    li t6, RAM_BASE
    PTE_SET \root, VPN2(VA_UALIAS), t6, PTE_LEAF|PTE_U
.endm

/* Link the test window: root -> l1 -> l0 (see VA_TEST). */
.macro VM_TEST_WINDOW root, l1, l0
    PTE_NEXT \root, VPN2(VA_TEST), \l1
    PTE_NEXT \l1, VPN1(VA_TEST), \l0
.endm

/* A 4 KiB-aligned data page at label name: dword 0 = marker, the last dword = ~marker,
   the rest zero. */
.macro DATA_PAGE name, marker
    .balign PAGE_SIZE
\name: .dword \marker
    .zero PAGE_SIZE-16
    .dword ~(\marker)
.endm

/* A zeroed, 4 KiB-aligned page table at label name. */
.macro PAGE_TABLE name
    .balign PAGE_SIZE
\name: .zero PAGE_SIZE
.endm

/* From M (S): continue at the U alias of label in U-mode. */
.macro GOTO_UA label
    li t6, MSTATUS_MPP
    csrc mstatus, t6
    la t6, \label
    li t5, UALIAS_OFF
    add t6, t6, t5
    csrw mepc, t6
    mret
.endm
.macro GOTO_UA_FROM_S label
    li t6, MSTATUS_SPP
    csrc sstatus, t6
    la t6, \label
    li t5, UALIAS_OFF
    add t6, t6, t5
    csrw sepc, t6
    sret
.endm

/* From code running at a virtual alias (U at VA_UALIAS): ecall with cause to M-mode,
   which continues after the ecall at the physical address. */
.macro ECALL_TO_M_PHYS cause
    EXPECT_CAUSE \cause, F_RESUME_M
    ld t6, 8889f
    la t5, hv_exp
    sd t6, EXP_RESUME(t5)
    ecall
    j 8890f
    .balign 8
8889: .dword 8890f
8890:
.endm

#endif /* __ASSEMBLER__ */
#endif /* HVTEST_H */
