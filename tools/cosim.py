"""Lockstep co-simulation of the model against Spike, and ``hvsim cosim``
(ARCHITECTURE.md section 5, layer 3; docs/cosim.md).

``cosim_elf`` runs one ELF on a ``hardware.sim.machine.Machine`` (``cosim_model``) and
on an in-process Spike (``cosim_spike``) and compares every retirement record, one
instruction at a time, under the synchronisation rules of ``cosim_lockstep``: pc,
instruction bits, privilege, V, the written register and its value, the memory access
(address, byte lanes, store data), trap and cause. The first difference ends the run
with a ``Divergence``, whose ``report()`` shows the last 32 records of both sides
(disassembled), the differing field and both register files.

    result = cosim_elf("prog.elf")             # builds a Machine (seconds, cached)
    machine = Machine(cfg)                      # or reuse one for many programs:
    result = cosim_elf("prog.elf", cfg, machine=machine, max_instructions=10_000)
"""

from __future__ import annotations

import argparse
import os
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hardware.config import DEFAULT, SocConfig, variant
from hardware.isa.causes import cause_name
from hardware.isa.csrs import CSR_ADDR
from hardware.isa.disasm import ABI_NAMES, disassemble
from hardware.sim.elf import ElfError, load_elf
from hardware.sim.machine import Machine, Retired, priv_name
from tools.cosim_lockstep import COMPARED, Lockstep, normalise
from tools.cosim_model import ModelRun, registers_after
from tools.cosim_spike import CosimError, SpikeHart, hart_for, stdout_silenced

__all__ = ["CosimError", "CosimResult", "Divergence", "add_parser", "cosim_elf"]

#: Exceptions the CLI reports as one-line input errors.
ERRORS = (CosimError,)

#: Records of each side kept for a divergence report.
HISTORY = 32
#: Cycle budget of the model: this many cycles per allowed instruction, plus a floor
#: (a divide takes 66 cycles; a WFI may wait for a timer).
CYCLES_PER_INSTRUCTION = 100
MIN_CYCLES = 1_000_000
#: CSRs shown in a divergence report (Spike's values).
REPORT_CSRS = ("mstatus", "misa", "medeleg", "mideleg", "mie", "mip", "mtvec", "mepc",
               "mcause", "mtval", "mscratch", "stvec", "sepc", "scause", "stval",
               "sscratch", "satp", "menvcfg", "stimecmp", "mcounteren", "scounteren",
               "mcountinhibit")
#: Divergences later than this record are reported without the model's CSR registers
#: (they come from a replay, one retirement per simulator call).
REPLAY_LIMIT = 200_000
#: Exit statuses of ``hvsim cosim`` (2 = bad input, as every hvsim command).
EXIT_OK, EXIT_DIVERGENCE, EXIT_INCOMPLETE = 0, 3, 124


# --------------------------------------------------------------------------- results


def describe(rec: Retired | None) -> str:
    """One line for a record: privilege, pc, bits, disassembly and effects."""
    if rec is None:
        return "(no Spike step: the run ended at the test finisher)"
    head = f"{priv_name(rec.priv)} {rec.pc:#018x}"
    if rec.trap:
        kind = "interrupt" if rec.cause >> 63 else "exception"
        return f"{head} trap: {kind} {rec.cause & 0xFF} ({cause_name(rec.cause)})"
    width = 8 if rec.insn & 3 == 3 else 4
    text = f"{head} ({rec.insn:0{width}x}) {disassemble(rec.insn, rec.pc):<26}"
    if rec.rd:
        text += f" x{rec.rd}={rec.rd_wdata:#x}"
    if rec.mem_rmask:
        text += f" load[{rec.mem_addr:#x}/{rec.mem_rmask:02x}]"
    if rec.mem_wmask:
        text += f" store[{rec.mem_addr:#x}/{rec.mem_wmask:02x}]={rec.mem_wdata:#x}"
    return text


def first_difference(model: Retired, spike: Retired) -> str | None:
    """The first field of ``COMPARED`` where the records differ."""
    for name in COMPARED:
        if getattr(model, name) != getattr(spike, name):
            return name
    return None


@dataclass
class Divergence:
    """The first record where the model and Spike differ."""

    index: int  # record number, counted from reset (boot ROM included)
    field: str  # a Retired field name, or "regfile" (final register check)
    model: Retired  # the model's record (don't-care fields zeroed)
    spike: Retired | None  # Spike's record of the same step
    model_history: list[Retired]  # the last records, oldest first, ending with ``model``
    spike_history: list[Retired | None]
    model_regs: list[int]  # x0..x31 after the record (from the model's trace)
    spike_regs: list[int]  # x0..x31 after Spike's step
    spike_csrs: dict[str, int] = field(default_factory=dict)
    model_csrs: dict[str, int] = field(default_factory=dict)  # registers csr_*, pc, priv
    note: str = ""  # why Spike behaved as it did, when known
    elf: str = ""

    def summary(self) -> str:
        """One line: where and which field."""
        if self.field == "regfile":
            return f"register files differ after record {self.index}"
        m = getattr(self.model, self.field)
        s = getattr(self.spike, self.field) if self.spike is not None else None
        shown = (lambda v: f"{v:#x}" if isinstance(v, int) else str(v))
        return (f"divergence at record {self.index}, field {self.field}: "
                f"model {shown(m)}, spike {shown(s)}")

    def report(self) -> str:
        """The full report: summary, last records of both sides, register files."""
        lines = [self.summary()]
        if self.elf:
            lines.append(f"program: {self.elf}")
        if self.note:
            lines.append(f"note: {self.note}")
        lines += ["", f"model: {describe(self.model)}", f"spike: {describe(self.spike)}",
                  "", f"last {len(self.model_history)} records (oldest first):"]
        first = self.index - len(self.model_history) + 1
        for k, (m, s) in enumerate(zip(self.model_history, self.spike_history)):
            mark = "  " if s is None or normalise(m) == s else "!!"
            lines.append(f"{mark}#{first + k:<7} model {describe(m)}")
            lines.append(f"  {'':8} spike {describe(s)}")
        lines += ["", "registers after the record (model | spike):"]
        for i in range(32):
            m, s = self.model_regs[i], self.spike_regs[i]
            mark = "  <- differs" if m != s else ""
            lines.append(f"  x{i:<2} {ABI_NAMES[i]:<4} {m:#018x} | {s:#018x}{mark}")
        if self.spike_csrs:
            lines += ["", "Spike CSRs:"]
            lines += [f"  {n:<14} {v:#018x}" for n, v in self.spike_csrs.items()]
        if self.model_csrs:
            lines += ["", "model CSR registers (hardware register names):"]
            lines += [f"  {n:<22} {v:#x}" for n, v in self.model_csrs.items()]
        return "\n".join(lines)


@dataclass
class CosimResult:
    """The outcome of ``cosim_elf``."""

    ok: bool  # the program ended (tohost or finisher) and nothing diverged
    instructions: int  # records compared (retired instructions and traps)
    exit_code: int | None  # the program's exit code (HTIF), None if it did not end
    divergence: Divergence | None
    reason: str  # one line
    traps: int = 0  # records that were traps
    cycles: int = 0  # model cycles
    wall_s: float = 0.0
    uart: bytes = b""  # the model's UART output
    rules: dict[str, int] = field(default_factory=dict)  # synchronisation rules applied


# --------------------------------------------------------------------------- running


def _check_args(elf: Path, cfg: SocConfig, max_instructions: int,
                irq_schedule: Sequence[tuple[int, int]]) -> None:
    if not elf.is_file():
        raise CosimError(f"{elf}: ELF file not found")
    if max_instructions <= 0:
        raise CosimError(f"max_instructions must be positive, not {max_instructions}")
    lines = cfg.harness_irq_lines
    for entry in irq_schedule:
        if len(entry) != 2 or entry[0] < 0 or not 0 <= entry[1] < 1 << lines:
            raise CosimError(f"irq_schedule entry {entry!r} must be (cycle >= 0, mask of "
                             f"{lines} harness lines)")


def _machine_for(machine: Machine | None, cfg: SocConfig) -> Machine:
    if machine is None:
        return Machine(cfg)
    if machine.cfg != cfg:
        raise CosimError("the machine was built for a different SocConfig than cfg")
    return machine


class _Run:
    """The state of one co-simulation: both sides, histories, the model's registers."""

    def __init__(self, elf: Path, spike: SpikeHart, lock: Lockstep):
        self.elf, self.spike, self.lock = elf, spike, lock
        self.model_hist: deque[Retired] = deque(maxlen=HISTORY)
        self.spike_hist: deque[Retired | None] = deque(maxlen=HISTORY)
        self.regs = [0] * 32
        self.index = 0
        self.traps = 0

    def compare(self, rec: Retired, mtime: int | None, lines: int | None) -> Divergence | None:
        """Step Spike by one model record; a Divergence if they differ."""
        theirs = self.lock.step(rec, mtime, lines)
        ours = normalise(rec)
        if rec.rd:
            self.regs[rec.rd] = rec.rd_wdata
        self.traps += rec.trap
        self.model_hist.append(ours)
        self.spike_hist.append(theirs)
        index = self.index
        self.index += 1
        if theirs is None or theirs == ours:
            return None
        return self.divergence(index, first_difference(ours, theirs) or "insn", ours, theirs)

    def divergence(self, index: int, name: str, ours: Retired,
                   theirs: Retired | None) -> Divergence:
        spike = self.spike
        csrs = {}
        for n in REPORT_CSRS:
            if n in CSR_ADDR:
                try:
                    csrs[n] = spike.csr(CSR_ADDR[n])
                except Exception:  # noqa: BLE001 - a CSR Spike does not implement
                    continue
        return Divergence(index, name, ours, theirs, list(self.model_hist),
                          list(self.spike_hist), list(self.regs), spike.regs(), csrs,
                          self.lock.note, str(self.elf))

    def final_check(self) -> Divergence | None:
        """After the last record, both register files must be equal."""
        if self.index == 0 or self.spike.regs() == self.regs:
            return None
        last = self.model_hist[-1]
        return self.divergence(self.index - 1, "regfile", last, self.spike_hist[-1])


def cosim_elf(elf_path, cfg: SocConfig = DEFAULT, *, max_instructions: int = 1_000_000,
              machine: Machine | None = None,
              irq_schedule: Sequence[tuple[int, int]] | None = None) -> CosimResult:
    """Co-simulate ``elf_path`` on the model and on Spike, comparing every record.

    ``machine`` reuses a built ``Machine`` (its ``cfg`` must equal ``cfg``); loading a
    program into it resets it. ``irq_schedule`` drives the harness interrupt lines:
    ``(cycle, mask)`` pairs, the mask holding from that model cycle on. At most
    ``max_instructions`` records are compared. Raises CosimError on bad input or when
    Spike cannot run the ELF.
    """
    t0 = time.perf_counter()
    elf = Path(elf_path)
    schedule = list(irq_schedule or ())
    _check_args(elf, cfg, max_instructions, schedule)
    try:
        image = load_elf(elf, cfg)
    except ElfError as exc:
        raise CosimError(str(exc)) from None
    machine = _machine_for(machine, cfg)
    spike = hart_for(elf, image, cfg)
    run = _Run(elf, spike, Lockstep(spike, cfg))
    model = ModelRun(machine, image, max_records=max_instructions,
                     max_cycles=max(MIN_CYCLES, CYCLES_PER_INSTRUCTION * max_instructions),
                     irq_schedule=schedule)
    divergence = None
    mtime_at, lines_at = model.mtime_at, model.lines_at
    with stdout_silenced():
        for batch in model.batches():
            for rec in batch:
                i = run.index
                divergence = run.compare(rec, mtime_at.get(i), lines_at.get(i))
                if divergence is not None:
                    break
            if divergence is not None:
                break
        if divergence is None and model.halted:
            divergence = run.final_check()
    if divergence is not None and divergence.index <= REPLAY_LIMIT:
        divergence.model_csrs = registers_after(machine, image, divergence.index, schedule,
                                                max_cycles=model.cycles)
    return _result(run, model, divergence, time.perf_counter() - t0, max_instructions)


def _result(run: _Run, model: ModelRun, divergence: Divergence | None, wall: float,
            max_instructions: int) -> CosimResult:
    if divergence is not None:
        reason = divergence.summary()
    elif model.halted:
        reason = f"program ended with exit code {model.exit_code}; no divergence"
    elif model.count >= max_instructions:
        reason = f"instruction limit {max_instructions} reached before the program ended"
    else:
        reason = (f"the model retired nothing more within {model.cycles} cycles "
                  f"(stalled, e.g. in WFI)")
    ok = divergence is None and model.halted
    return CosimResult(ok, run.index, model.exit_code if model.halted else None, divergence,
                       reason, run.traps, model.cycles, wall, bytes(model.uart),
                       dict(run.lock.applied))


# --------------------------------------------------------------------------- CLI


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``hvsim cosim PROG.elf [--max-instructions N] [--report FILE]
    [--config VARIANT]``."""
    p = subparsers.add_parser(
        "cosim", help="co-simulate an ELF on the model and on Spike, in lockstep",
        description="Run PROG.elf on the model and on Spike side by side and compare every "
                    "retired instruction. Exit 0 when the program ends with no divergence, "
                    f"{EXIT_DIVERGENCE} on a divergence (the report is printed), "
                    f"{EXIT_INCOMPLETE} when the program does not end within the limit.")
    p.add_argument("elf", metavar="PROG.elf", help="the program")
    p.add_argument("--max-instructions", type=_positive, default=1_000_000, metavar="N",
                   help="records to compare at most (default 1000000)")
    p.add_argument("--report", metavar="FILE", help="also write the divergence report here")
    p.add_argument("--config", default="default", metavar="VARIANT",
                   help="SoC configuration variant (default: default)")
    p.set_defaults(func=cmd_cosim)
    return p


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def cmd_cosim(args) -> int:
    """The ``hvsim cosim`` handler; returns the exit status."""
    cfg = variant(args.config)
    if args.report:
        folder = Path(args.report).resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise CosimError(f"cannot write report {args.report}: {folder} is not a "
                             f"writable folder")
    result = cosim_elf(args.elf, cfg, max_instructions=args.max_instructions)
    rate = result.instructions / result.wall_s if result.wall_s else 0.0
    print(f"cosim: {result.reason} ({result.instructions} records, {result.traps} traps, "
          f"{result.wall_s:.2f} s, {rate:,.0f} records/s)")
    if result.divergence is not None:
        report = result.divergence.report()
        print(report)
        if args.report:
            try:
                Path(args.report).write_text(report + "\n")
            except OSError as exc:
                raise CosimError(f"cannot write report {args.report}: "
                                 f"{exc.strerror or exc}") from None
        return EXIT_DIVERGENCE
    return EXIT_OK if result.ok else EXIT_INCOMPLETE
