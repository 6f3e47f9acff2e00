/*
 * vuart.c: the virtual ns16550a each VM sees at guest-physical 0x1000_0000
 * (register map: the generated platform.h, UART0_*; behaviour: the 16550A data
 * sheet as QEMU models it). Its page is not mapped in the G-stage, so every
 * access is a guest-page fault (H spec 9.5.1). htinst is 0 on this platform, so
 * the faulting instruction is read with HLVX and decoded here. Console input goes
 * to VM 0 only (SBI getchar/DBCN read and this UART's RBR) (unprivileged spec
 * 2.6 loads/stores, 16.3 compressed loads/stores).
 */
#include "csr.h"
#include "hv.h"
#include "platform.h"

struct mmio_op {
    int store, len;         /* access kind; instruction length in bytes */
    unsigned reg;           /* rd for loads, rs2 for stores */
    unsigned width;         /* bytes accessed */
    int sign;               /* sign-extending load */
};

/** Decode a load/store (RV64I, RVC); 0 on success. */
static int decode(uint32_t insn, struct mmio_op *op)
{
    if ((insn & 3) == 3) {
        unsigned opcode = insn & 0x7f, f3 = (insn >> 12) & 7;
        op->len = 4;
        if (opcode == 0x03 && f3 != 7) {            /* LB LH LW LD LBU LHU LWU */
            op->store = 0, op->reg = (insn >> 7) & 31;
            op->width = 1u << (f3 & 3), op->sign = f3 < 4;
            return 0;
        }
        if (opcode == 0x23 && f3 < 4) {             /* SB SH SW SD */
            op->store = 1, op->reg = (insn >> 20) & 31, op->width = 1u << f3;
            return 0;
        }
        return -1;
    }
    unsigned q = insn & 3, f3 = (insn >> 13) & 7;
    op->len = 2, op->sign = 1;
    if (q == 0 && (f3 == 2 || f3 == 3 || f3 == 6 || f3 == 7)) {  /* C.LW C.LD C.SW C.SD */
        op->store = f3 >= 6, op->reg = 8 + ((insn >> 2) & 7);
        op->width = (f3 & 1) ? 8 : 4;
        return 0;
    }
    if (q == 2 && (f3 == 2 || f3 == 3)) {           /* C.LWSP C.LDSP */
        op->store = 0, op->reg = (insn >> 7) & 31, op->width = (f3 & 1) ? 8 : 4;
        return op->reg ? 0 : -1;
    }
    if (q == 2 && (f3 == 6 || f3 == 7)) {           /* C.SWSP C.SDSP */
        op->store = 1, op->reg = (insn >> 2) & 31, op->width = (f3 & 1) ? 8 : 4;
        return 0;
    }
    return -1;
}

/** Read register `off` (DLAB selects DLL/DLM at 0/1). */
static uint8_t reg_read(struct vm *vm, unsigned off)
{
    struct vuart *u = &vm->uart;
    int dlab = (u->lcr & UART0_LCR_DLAB) != 0;
    switch (off) {
    case UART0_RBR:
        if (dlab)
            return u->dll;
        return vm->index == 0 && uart_rx_ready() ? (uint8_t)hv_getc() : 0;
    case UART0_IER: return dlab ? u->dlm : u->ier;
    case UART0_IIR: return (uint8_t)(UART0_IIR_NOINT | ((u->fcr & UART0_FCR_FIFOE) ? 0xc0 : 0));
    case UART0_LCR: return u->lcr;
    case UART0_MCR: return u->mcr;
    case UART0_LSR:
        return UART0_LSR_THRE | UART0_LSR_TEMT | (vm->index == 0 && uart_rx_ready() ? UART0_LSR_DR : 0);
    case UART0_MSR: return UART0_MSR_DCD | UART0_MSR_DSR | UART0_MSR_CTS;
    case UART0_SCR: return u->scr;
    default: return 0;
    }
}

static void reg_write(struct vm *vm, unsigned off, uint8_t v)
{
    struct vuart *u = &vm->uart;
    int dlab = (u->lcr & UART0_LCR_DLAB) != 0;
    switch (off) {
    case UART0_THR:
        if (dlab)
            u->dll = v;
        else
            vm_console_putc(vm, (char)v);
        break;
    case UART0_IER:
        if (dlab)
            u->dlm = v;
        else
            u->ier = v & 0x0f;
        break;
    case UART0_FCR: u->fcr = v & (UART0_FCR_FIFOE | 0xc0); break;
    case UART0_LCR: u->lcr = v; break;
    case UART0_MCR: u->mcr = v & 0x1f; break;
    case UART0_SCR: u->scr = v; break;
    default: break;                 /* LSR, MSR and the rest of the page: ignored */
    }
}

/**
 * Emulate the access at `gpa` by the instruction at the guest's sepc. The low
 * byte of a wider store is written; a wider load returns the register in its
 * low byte. Returns the instruction length, or -1 when it is not a load/store.
 */
int vuart_access(struct vm *vm, struct regs *r, uint64_t gpa)
{
    uint32_t insn;
    struct mmio_op op;
    if (guest_read_insn(r->sepc, &insn) || decode(insn, &op))
        return -1;
    unsigned off = (unsigned)(gpa - GUEST_UART_BASE);
    if (op.store) {
        if (off < 8)
            reg_write(vm, off, (uint8_t)(op.reg ? r->x[op.reg] : 0));
    } else if (op.reg) {
        uint64_t v = off < 8 ? reg_read(vm, off) : 0;
        if (op.sign && op.width == 1)
            v = (uint64_t)(int64_t)(int8_t)v;
        r->x[op.reg] = v;
    }
    return op.len;
}
