"""ns16550a UART with TX and RX FIFOs, byte registers at reg-shift 0.

Implements the register set and interrupt scheme of the TI/National PC16550D data sheet
("Register Description", tables II-IV): RBR/THR/DLL, IER/DLM, IIR/FCR, LCR, MCR, LSR,
MSR, SCR, the divisor latch behind LCR.DLAB, the IIR priority encoding (line status >
received data > THR empty), the THRE interrupt cleared by an IIR read, and the FIFO
clear bits of the FCR. The serial line is abstracted: bytes leave through
``tx_valid``/``tx_data`` and arrive through ``rx_valid``/``rx_data``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.config import SocConfig
from hardware.soc import regmap
from hardware.soc.bus import DeviceRequest
from hardware.soc.regmap import Field, Reg

F = Field
UART_REGS: tuple[Reg, ...] = (
    Reg("RBR", 0x0, 8, access="rc", when="!dlab",
        description="receive buffer: a read pops the RX FIFO (0 when empty)"),
    Reg("THR", 0x0, 8, access="wo", when="!dlab",
        description="transmit holding: a write pushes the TX FIFO"),
    Reg("DLL", 0x0, 8, reset=0x0C, when="dlab", description="divisor latch low (no effect)"),
    Reg("IER", 0x1, 4, when="!dlab", description="interrupt enable",
        fields=(F("ERBFI", 0, 1, "received data available"), F("ETBEI", 1, 1, "THR empty"),
                F("ELSI", 2, 1, "receiver line status"), F("EDSSI", 3, 1, "modem status"))),
    Reg("DLM", 0x1, 8, when="dlab", description="divisor latch high (no effect)"),
    Reg("IIR", 0x2, 8, access="rc", reset=0x01,
        description="interrupt identification; a read that reports THRE clears that "
                    "interrupt until the next write of THR or IER",
        fields=(F("NOINT", 0, 1, "no interrupt pending"), F("IID", 1, 3, "interrupt id"),
                F("FIFOS", 6, 2, "3 when FCR.FIFOE"))),
    Reg("FCR", 0x2, 8, access="wo", description="FIFO control",
        fields=(F("FIFOE", 0, 1, "enable FIFOs"), F("RXCLR", 1, 1, "clear RX FIFO"),
                F("TXCLR", 2, 1, "clear TX FIFO"), F("TRIG", 6, 2, "RX trigger (stored, no effect)"))),
    Reg("LCR", 0x3, 8, description="line control",
        fields=(F("WLS", 0, 2, "word length"), F("STB", 2, 1, "stop bits"),
                F("PEN", 3, 1, "parity enable"), F("EPS", 4, 1, "even parity"),
                F("SP", 5, 1, "stick parity"), F("BC", 6, 1, "break"),
                F("DLAB", 7, 1, "divisor latch access"))),
    Reg("MCR", 0x4, 5, reset=0x08, description="modem control",
        fields=(F("DTR", 0), F("RTS", 1), F("OUT1", 2), F("OUT2", 3),
                F("LOOP", 4, 1, "loopback: THR feeds the RX FIFO, TX and RX pins idle"))),
    Reg("LSR", 0x5, 8, access="rc", reset=0x60,
        description="line status; a read clears OE",
        fields=(F("DR", 0, 1, "RX FIFO not empty"), F("OE", 1, 1, "a byte was dropped"),
                F("THRE", 5, 1, "TX FIFO empty"), F("TEMT", 6, 1, "transmitter empty"))),
    Reg("MSR", 0x6, 8, access="ro", reset=0xB0,
        description="modem status: DCD, DSR, CTS set; in loopback DCD/RI/DSR/CTS = OUT2/OUT1/DTR/RTS",
        fields=(F("CTS", 4), F("DSR", 5), F("RI", 6), F("DCD", 7))),
    Reg("SCR", 0x7, 8, description="scratch"),
)
REG = {r.name: r for r in UART_REGS}

#: IIR values (NOINT and IID bits), highest priority first.
IIR_LINE_STATUS, IIR_RX_DATA, IIR_THR_EMPTY, IIR_NONE = 0x06, 0x04, 0x02, 0x01


def field(reg: str, name: str) -> Field:
    """The field ``name`` of register ``reg``."""
    return next(f for f in REG[reg].fields if f.name == name)


def bit(wire: pyrtl.WireVector, reg: str, name: str) -> pyrtl.WireVector:
    """The bits of field ``reg.name`` in ``wire``."""
    f = field(reg, name)
    return wire[f.lsb:f.lsb + f.width]


@dataclass
class UartPorts:
    """What the UART drives."""

    rdata: pyrtl.WireVector  # 64-bit read lane (all eight byte registers)
    irq: pyrtl.WireVector  # 1: interrupt pending (PLIC source UART0_IRQ)
    tx_valid: pyrtl.WireVector  # 1: tx_data is a transmitted byte (one cycle per byte)
    tx_data: pyrtl.WireVector  # 8: the transmitted byte
    rx_ready: pyrtl.WireVector  # 1: the RX FIFO can take a byte this cycle


@dataclass
class Fifo:
    """State of one byte FIFO."""

    head: pyrtl.WireVector  # 8: oldest byte (stale when empty)
    empty: pyrtl.WireVector  # 1
    full: pyrtl.WireVector  # 1: holds ``capacity`` bytes
    dropped: pyrtl.WireVector  # 1: the push of this cycle was dropped (FIFO full)


def _wrap_inc(ptr: pyrtl.WireVector, depth: int) -> pyrtl.WireVector:
    return pyrtl.select(ptr == depth - 1, pyrtl.Const(0, len(ptr)), (ptr + 1)[:len(ptr)])


def build_fifo(name: str, depth: int, push: pyrtl.WireVector, data: pyrtl.WireVector,
               pop: pyrtl.WireVector, clear: pyrtl.WireVector,
               capacity: pyrtl.WireVector) -> Fifo:
    """A byte FIFO of ``depth`` entries holding at most ``capacity`` bytes. A push to a
    full FIFO is taken only if a byte leaves in the same cycle; ``clear`` wins."""
    pw = max(1, (depth - 1).bit_length())
    cw = depth.bit_length()
    entries = [pyrtl.Register(8, name=f"{name}_entry{i}") for i in range(depth)]
    head = pyrtl.Register(pw, name=f"{name}_head")
    tail = pyrtl.Register(pw, name=f"{name}_tail")
    count = pyrtl.Register(cw, name=f"{name}_count")
    empty = count == 0
    full = ~(count < capacity)
    do_pop = pop & ~empty
    do_push = push & (~full | do_pop)
    for i, e in enumerate(entries):
        e.next <<= pyrtl.select(do_push & (tail == i), data, e)
    zero_p, zero_c = pyrtl.Const(0, pw), pyrtl.Const(0, cw)
    head.next <<= pyrtl.select(clear, zero_p, pyrtl.select(do_pop, _wrap_inc(head, depth), head))
    tail.next <<= pyrtl.select(clear, zero_p, pyrtl.select(do_push, _wrap_inc(tail, depth), tail))
    delta = (count + do_push.zero_extended(cw))[:cw]
    count.next <<= pyrtl.select(clear, zero_c, (delta - do_pop.zero_extended(cw))[:cw])
    out = entries[0] if depth == 1 else pyrtl.mux(head, *entries)
    return Fifo(head=out, empty=empty, full=full, dropped=push & ~do_push)


def build_uart(cfg: SocConfig, req: DeviceRequest, rx_valid: pyrtl.WireVector,
               rx_data: pyrtl.WireVector) -> UartPorts:
    """The UART. ``rx_valid``/``rx_data`` offer one received byte per cycle."""
    regmap.check_map(UART_REGS)
    depth = cfg.uart_fifo_depth
    lcr = pyrtl.Register(8, name="uart_lcr_reg", reset_value=REG["LCR"].reset)
    dlab = bit(lcr, "LCR", "DLAB")
    conds = {"dlab": dlab}
    (dll,) = regmap.storage(req, REG["DLL"], "uart", conds)
    (dlm,) = regmap.storage(req, REG["DLM"], "uart", conds)
    (ier,) = regmap.storage(req, REG["IER"], "uart", conds)
    (mcr,) = regmap.storage(req, REG["MCR"], "uart", conds)
    (scr,) = regmap.storage(req, REG["SCR"], "uart", conds)
    lcr.next <<= pyrtl.select(regmap.write_enable(req, REG["LCR"]),
                              regmap.written_value(req, REG["LCR"], lcr), lcr)

    fcr_we = regmap.write_enable(req, REG["FCR"])
    fcr_val = regmap.written_value(req, REG["FCR"], pyrtl.Const(0, 8))
    fifoe = pyrtl.Register(1, name="uart_fifoe_reg")
    fifoe.next <<= pyrtl.select(fcr_we, bit(fcr_val, "FCR", "FIFOE"), fifoe)
    loop = bit(mcr, "MCR", "LOOP")

    thr_we = regmap.write_enable(req, REG["THR"], conds=conds)
    thr_data = regmap.written_value(req, REG["THR"], pyrtl.Const(0, 8))
    full_depth = pyrtl.Const(depth, depth.bit_length())
    tx = build_fifo("uart_tx", depth, thr_we & ~loop, thr_data, pyrtl.Const(1, 1),
                    fcr_we & bit(fcr_val, "FCR", "TXCLR"), full_depth)
    rx_cap = pyrtl.select(fifoe, full_depth, pyrtl.Const(1, len(full_depth)))
    rx = build_fifo("uart_rx", depth,
                    pyrtl.select(loop, thr_we, rx_valid), pyrtl.select(loop, thr_data, rx_data),
                    regmap.read_strobe(req, REG["RBR"], conds=conds),
                    fcr_we & bit(fcr_val, "FCR", "RXCLR"), rx_cap)

    oe = pyrtl.Register(1, name="uart_oe_reg")
    oe.next <<= rx.dropped | (oe & ~regmap.read_strobe(req, REG["LSR"]))
    dr, thre = ~rx.empty, tx.empty
    line_int = bit(ier, "IER", "ELSI") & oe
    rx_int = bit(ier, "IER", "ERBFI") & dr
    thre_ack = pyrtl.Register(1, name="uart_thre_ack_reg")
    thr_int = bit(ier, "IER", "ETBEI") & thre & ~thre_ack
    iid = pyrtl.select(line_int, pyrtl.Const(IIR_LINE_STATUS, 4),
                       pyrtl.select(rx_int, pyrtl.Const(IIR_RX_DATA, 4),
                                    pyrtl.select(thr_int, pyrtl.Const(IIR_THR_EMPTY, 4),
                                                 pyrtl.Const(IIR_NONE, 4))))
    iir = pyrtl.concat(pyrtl.select(fifoe, pyrtl.Const(3, 2), pyrtl.Const(0, 2)),
                       pyrtl.Const(0, 2), iid)
    reports_thre = iid == IIR_THR_EMPTY
    ack_set = regmap.read_strobe(req, REG["IIR"]) & reports_thre
    ack_clr = thr_we | regmap.write_enable(req, REG["IER"], conds=conds)
    thre_ack.next <<= ack_set | (thre_ack & ~ack_clr)

    lsr = pyrtl.concat(pyrtl.Const(0, 1), thre, thre, pyrtl.Const(0, 3), oe, dr)
    msr_loop = pyrtl.concat(bit(mcr, "MCR", "OUT2"), bit(mcr, "MCR", "OUT1"),
                            bit(mcr, "MCR", "DTR"), bit(mcr, "MCR", "RTS"), pyrtl.Const(0, 4))
    msr = pyrtl.select(loop, msr_loop, pyrtl.Const(REG["MSR"].reset, 8))
    rbr = pyrtl.select(rx.empty, pyrtl.Const(0, 8), rx.head)

    rdata = regmap.read_mux(req, UART_REGS, {
        "RBR": rbr, "DLL": dll, "IER": ier, "DLM": dlm, "IIR": iir, "LCR": lcr,
        "MCR": mcr, "LSR": lsr, "MSR": msr, "SCR": scr}, conds=conds, name="uart_rdata")
    ports = UartPorts(
        rdata=rdata,
        irq=pyrtl.WireVector(1, name="uart_irq"),
        tx_valid=pyrtl.WireVector(1, name="uart_txd_valid"),
        tx_data=pyrtl.WireVector(8, name="uart_txd_data"),
        rx_ready=pyrtl.WireVector(1, name="uart_rxq_ready"),
    )
    ports.irq <<= line_int | rx_int | thr_int
    ports.tx_valid <<= ~tx.empty
    ports.tx_data <<= tx.head
    ports.rx_ready <<= ~loop & ~rx.full
    return ports
