"""The SoC top: core, RAM, boot ROM, bus decode, devices and the harness ports
(ARCHITECTURE.md section 1, "The platform").

Harness ports (PyRTL Inputs/Outputs, the names the simulators and tools use):

Inputs
- ``tohost_addr`` (64): address of the ELF's ``tohost`` (0: none). A committed store
  there of an odd value halts the run with code ``value >> 1`` (HTIF convention).
- ``uart_rx_valid`` (1), ``uart_rx_data`` (8): push one byte into the UART RX FIFO.
- ``irq_lines`` (``harness_irq_lines``): level of the harness-driven PLIC sources
  ``32 - harness_irq_lines`` .. 31.

Outputs
- ``halt`` (1), ``halt_code`` (64): the run is over; code 0 = pass (HTIF or finisher).
- ``uart_tx_valid`` (1), ``uart_tx_data`` (8): one transmitted byte per pulse.
- ``uart_rx_ready`` (1): the RX FIFO can take a byte this cycle.
- ``rvfi_*``: the retirement record (see ``hardware/core/core.py`` ``Retire``).
- ``core_pc`` (64, virtual), ``core_priv`` (2): for reports.
"""

from __future__ import annotations

import pyrtl

from hardware.config import SocConfig
from hardware.core.core import build_core
from hardware.core.csr import IrqLines
from hardware.soc import memory_map as mm
from hardware.soc.bus import DeviceRequest, lane_write
from hardware.soc.clint import build_clint
from hardware.soc.finisher import build_finisher
from hardware.soc.plic import build_plic
from hardware.soc.uart import build_uart

RAM_NAME = "ram"
ROM_NAME = "bootrom"

RVFI_FIELDS = ("valid", "pc", "insn", "trap", "cause", "priv", "v", "rd", "rd_wdata",
               "mem_addr", "mem_rmask", "mem_wmask", "mem_wdata", "pc_paddr", "mem_paddr",
               "cycle")


def _log2(n: int) -> int:
    return n.bit_length() - 1


def _in_region(addr: pyrtl.WireVector, r: mm.Region) -> pyrtl.WireVector:
    bits = _log2(r.size)
    return addr[bits:64] == (r.base >> bits)


def _parcel(word: pyrtl.WireVector, addr: pyrtl.WireVector) -> pyrtl.WireVector:
    """The 16-bit parcel of a 64-bit memory word at a 16-bit aligned ``addr``."""
    return pyrtl.mux(addr[1:3], word[0:16], word[16:32], word[32:48], word[48:64])


def _fetch_parcel(ram, rom, addr, ram_r, rom_r) -> tuple[pyrtl.WireVector, pyrtl.WireVector]:
    """The parcel at physical ``addr`` from RAM or ROM, and whether it is fetchable."""
    in_ram, in_rom = _in_region(addr, ram_r), _in_region(addr, rom_r)
    word = pyrtl.select(in_ram, ram[addr[3:_log2(ram_r.size)]], rom[addr[3:_log2(rom_r.size)]])
    return _parcel(word, addr), in_ram | in_rom


def build_soc(cfg: SocConfig) -> None:
    """Elaborate the whole SoC into the working block."""
    regions = {r.name: r for r in mm.regions(cfg)}
    ram_r, rom_r = regions["ram"], regions["bootrom"]
    ram_bits, rom_bits = _log2(ram_r.size), _log2(rom_r.size)
    ram = pyrtl.MemBlock(64, ram_bits - 3, name=RAM_NAME, asynchronous=True,
                         max_read_ports=3)
    rom = pyrtl.MemBlock(64, rom_bits - 3, name=ROM_NAME, asynchronous=True,
                         max_read_ports=3)

    tohost = pyrtl.Input(64, "tohost_addr")
    rx_valid, rx_data = pyrtl.Input(1, "uart_rx_valid"), pyrtl.Input(8, "uart_rx_data")
    n_lines = cfg.harness_irq_lines
    irq_in = pyrtl.Input(n_lines, "irq_lines") if n_lines else None

    msip, mtip, meip, seip = (pyrtl.WireVector(1, name=n) for n in
                              ("irq_msip", "irq_mtip", "irq_meip", "irq_seip"))
    mtime = pyrtl.WireVector(64, name="clint_mtime_value")
    core = build_core(cfg.core, IrqLines(msip=msip, mtip=mtip, meip=meip, seip=seip,
                                         mtime=mtime))
    f, d = core.fetch, core.data

    # --- instruction fetch: two parcels (they may lie on different pages) -----------
    lo, lo_ok = _fetch_parcel(ram, rom, f.pc, ram_r, rom_r)
    hi, hi_ok = _fetch_parcel(ram, rom, f.pc_hi, ram_r, rom_r)
    f.parcel <<= lo
    f.parcel_hi <<= hi
    f.ok <<= lo_ok
    f.ok_hi <<= hi_ok

    # --- data: address decode --------------------------------------------------------
    sel = {name: _in_region(d.addr, r) for name, r in regions.items()}
    ram_idx = d.addr[3:ram_bits]
    ram_old = ram[ram_idx]
    rom_word = rom[d.addr[3:rom_bits]]
    ram_new = lane_write(ram_old, d.wdata, d.mask)
    ram[ram_idx] <<= pyrtl.MemBlock.EnabledWrite(ram_new, d.we & sel["ram"])

    def request(name: str) -> DeviceRequest:
        r = regions[name]
        return DeviceRequest(sel=sel[name], we=d.we & sel[name], re=d.re & sel[name],
                             mask=d.mask,
                             offset=pyrtl.concat(d.addr[3:_log2(r.size)], pyrtl.Const(0, 3))
                             .zero_extended(32), wdata=d.wdata)

    clint = build_clint(cfg, request("clint"))
    uart = build_uart(cfg, request("uart0"), rx_valid, rx_data)
    sources = [pyrtl.Const(0, 1)] * 32
    sources[mm.UART0_IRQ] = uart.irq
    for i in range(n_lines):
        sources[32 - n_lines + i] = irq_in[i]
    plic = build_plic(cfg, request("plic"), pyrtl.concat_list(sources))
    fin = build_finisher(cfg, request("finisher"))
    msip <<= clint.msip
    mtip <<= clint.mtip
    mtime <<= clint.mtime
    meip <<= plic.meip
    seip <<= plic.seip

    rdata = ram_old
    for name, val in (("bootrom", rom_word), ("clint", clint.rdata), ("plic", plic.rdata),
                      ("uart0", uart.rdata), ("finisher", fin.rdata)):
        rdata = pyrtl.select(sel[name], val, rdata)
    d.rdata <<= rdata
    any_dev = sel["clint"] | sel["plic"] | sel["uart0"] | sel["finisher"]
    d.read_ok <<= sel["ram"] | sel["bootrom"] | any_dev
    d.write_ok <<= sel["ram"] | any_dev
    d.amo_ok <<= sel["ram"]

    # --- halting: HTIF tohost and the test finisher ---------------------------------
    htif_hit = d.we & (tohost != 0) & (d.addr[3:64] == tohost[3:64]) & ram_new[0]
    halted = pyrtl.Register(1, name="htif_halted")
    code = pyrtl.Register(64, name="htif_code")
    halted.next <<= halted | htif_hit
    code.next <<= pyrtl.select(htif_hit & ~halted, pyrtl.concat(pyrtl.Const(0, 1), ram_new[1:64]),
                               code)
    halt_o = pyrtl.Output(1, "halt")
    halt_o <<= halted | fin.halt
    code_o = pyrtl.Output(64, "halt_code")
    code_o <<= pyrtl.select(halted, code, fin.code.zero_extended(64))

    # --- observability ---------------------------------------------------------------
    for name, wire in (("uart_tx_valid", uart.tx_valid), ("uart_tx_data", uart.tx_data),
                       ("uart_rx_ready", uart.rx_ready),
                       ("core_pc", core.retire.pc), ("core_priv", core.retire.priv)):
        o = pyrtl.Output(wire.bitwidth, name)
        o <<= wire
    for field in RVFI_FIELDS:
        w = pyrtl.as_wires(getattr(core.retire, field))
        o = pyrtl.Output(w.bitwidth, f"rvfi_{field}")
        o <<= w


def elaborate(cfg: SocConfig) -> pyrtl.Block:
    """A fresh block holding the SoC for ``cfg``."""
    pyrtl.reset_working_block()
    build_soc(cfg)
    return pyrtl.working_block()
