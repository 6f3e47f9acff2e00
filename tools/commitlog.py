"""Retirement records as Spike's commit log (``spike --log-commits``), so the model's
log and Spike's can be compared line by line (ARCHITECTURE.md section 5, layer 3).

One line per retired instruction, in the format Spike 1.1 prints::

    core   0: 3 0x0000000080000000 (0x00000297) x5  0x0000000080000000
    core   0: 3 0x0000000080000004 (0x4515) x10 0x0000000000000005
    core   0: 3 0x0000000080000014 (0x00c33023) mem 0x0000000080000090 0x0000000000000008
    core   0: 3 0x0000000080000024 (0x00033683) x13 0x0000000000000008 mem 0x0000000080000090

Fields: hart, privilege (0 U, 1 S, 3 M), pc, the instruction (4 hex digits when
compressed, 8 otherwise), the integer register write (not shown for x0), then a load's
address, then a store's address and value (as many hex digits as bytes stored). An AMO
shows both the load and the store; a failed SC shows neither.

Differences from Spike, because the retirement record carries no such data:
- CSR writes (Spike's ``c768_mstatus 0x...`` fields) are not shown.
- Spike's ``--log-commits`` prints nothing for a trapping instruction. With
  ``traps=True`` (default) a trap prints the line Spike's ``-l`` log gives it,
  ``core   0: exception trap_machine_ecall, epc 0x...`` (``exception interrupt #7``
  for interrupts), without Spike's ``tval`` line. Use ``traps=False`` for a log that
  matches ``--log-commits`` exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

#: Spike's names of the exception codes (riscv/trap.h), priv spec table 3.6 order.
SPIKE_TRAP_NAMES = {
    0: "trap_instruction_address_misaligned",
    1: "trap_instruction_access_fault",
    2: "trap_illegal_instruction",
    3: "trap_breakpoint",
    4: "trap_load_address_misaligned",
    5: "trap_load_access_fault",
    6: "trap_store_address_misaligned",
    7: "trap_store_access_fault",
    8: "trap_user_ecall",
    9: "trap_supervisor_ecall",
    10: "trap_virtual_supervisor_ecall",
    11: "trap_machine_ecall",
    12: "trap_instruction_page_fault",
    13: "trap_load_page_fault",
    15: "trap_store_page_fault",
    20: "trap_instruction_guest_page_fault",
    21: "trap_load_guest_page_fault",
    22: "trap_virtual_instruction",
    23: "trap_store_guest_page_fault",
}

#: Bit of xcause that marks an interrupt.
INTERRUPT_BIT = 1 << 63
#: funct5 of SC.W/SC.D (unpriv spec chapter 8, table "A" extension).
SC_FUNCT5 = 0b00011
AMO_OPCODE = 0x2F


def _prefix(hartid: int) -> str:
    return f"core{hartid:4d}: "


def trap_line(pc: int, cause: int, hartid: int = 0) -> str:
    """The line Spike's ``-l`` log prints when a trap is taken at ``pc``."""
    code = cause & (INTERRUPT_BIT - 1)
    if cause & INTERRUPT_BIT:
        name = f"interrupt #{code}"
    else:
        name = SPIKE_TRAP_NAMES.get(code, f"trap #{code}")
    return f"{_prefix(hartid)}exception {name}, epc 0x{pc:016x}"


def _is_sc(insn: int) -> bool:
    return insn & 0x7F == AMO_OPCODE and insn >> 27 == SC_FUNCT5


def _store_value(addr: int, wdata: int, wmask: int) -> tuple[int, int]:
    """(bytes stored, value) from the lane-aligned store data and byte mask."""
    size = bin(wmask).count("1")
    value = (wdata >> (8 * (addr & 7))) & ((1 << (8 * size)) - 1)
    return size, value


def format_record(rec, hartid: int = 0, traps: bool = True) -> str | None:
    """The log line of one ``hardware.sim.machine.Retired`` record (None for a trap
    when ``traps`` is False)."""
    if rec.trap:
        return trap_line(rec.pc, rec.cause, hartid) if traps else None
    insn = f"0x{rec.insn:08x}" if rec.insn & 3 == 3 else f"0x{rec.insn & 0xFFFF:04x}"
    parts = [f"{_prefix(hartid)}{rec.priv} 0x{rec.pc:016x} ({insn})"]
    if rec.rd:
        parts.append(f" x{rec.rd:<2d} 0x{rec.rd_wdata:016x}")
    if rec.mem_rmask and not _is_sc(rec.insn):
        parts.append(f" mem 0x{rec.mem_addr:016x}")
    if rec.mem_wmask:
        size, value = _store_value(rec.mem_addr, rec.mem_wdata, rec.mem_wmask)
        parts.append(f" mem 0x{rec.mem_addr:016x} 0x{value:0{2 * size}x}")
    return "".join(parts)


def format_records(records: Iterable, hartid: int = 0, traps: bool = True) -> list[str]:
    """The log lines of ``records`` (traps dropped when ``traps`` is False)."""
    lines = (format_record(r, hartid, traps) for r in records)
    return [ln for ln in lines if ln is not None]


class CommitLogWriter:
    """Writes records to a file as they arrive; use as ``Machine.trace_to`` sink."""

    def __init__(self, target: str | Path | TextIO, hartid: int = 0, traps: bool = True):
        if isinstance(target, (str, Path)):
            try:
                self._file: TextIO = open(target, "w")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise OSError(f"cannot write commit log {target}: {exc.strerror}") from None
            self._owned = True
        else:
            self._file, self._owned = target, False
        self.hartid, self.traps = hartid, traps
        self.lines = 0

    def __call__(self, records: Iterable) -> None:
        lines = format_records(records, self.hartid, self.traps)
        if lines:
            self._file.write("\n".join(lines) + "\n")
            self.lines += len(lines)

    def close(self) -> None:
        """Flush, and close the file if this writer opened it."""
        if self._owned:
            self._file.close()
        else:
            self._file.flush()

    def __enter__(self) -> CommitLogWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def strip_csr_fields(line: str) -> str:
    """A Spike ``--log-commits`` line without its CSR-write fields (``c768_mstatus
    0x...``), so it compares with this module's lines."""
    tokens = line.split(" ")
    out, skip = [], False
    for tok in tokens:
        if skip:
            skip = False
            continue
        if tok[:1] == "c" and "_" in tok and tok[1:tok.index("_")].isdigit():
            skip = True
            continue
        out.append(tok)
    return " ".join(out).rstrip()
