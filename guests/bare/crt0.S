/*
 * crt0.S: start-up of the bare-metal programs (M-mode, no OS). Sets the stack to the
 * top of RAM, clears .bss, installs a trap handler that fails the run with code
 * 0x100 + mcause, calls main and ends through HTIF tohost (riscv-tests convention):
 * 1 when main returns 0, (code << 1) | 1 otherwise.
 */
    .section .text.init, "ax"
    .globl _start
_start:
    la sp, _stack_top
    la t0, crt0_trap
    csrw mtvec, t0
    la t0, _bss_start
    la t1, _bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  call main
    tail hv_exit

    .text
    .balign 4
crt0_trap:
    csrr a0, mcause
    addi a0, a0, 0x100
    tail hv_exit

/* void hv_exit(long code): wait for the UART to drain, then write tohost; never returns. */
    .globl hv_exit
hv_exit:
    li t0, UART0_BASE
    li t1, 100000
1:  lbu t2, 5(t0)                   /* LSR */
    andi t2, t2, 0x40               /* TEMT: transmitter empty */
    bnez t2, 2f
    addi t1, t1, -1
    bnez t1, 1b
2:  slli a0, a0, 1
    ori a0, a0, 1
    la t0, tohost
    sd a0, 0(t0)
3:  j 3b
