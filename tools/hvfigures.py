"""Hypervisor cost figures measured on the model (issue 5; docs/hypervisor.md, "Figures").

The ``bench`` scenario (hypervisor/configs/bench.toml) runs guests/kernels/hvbench.c next
to a CPU-bound peer, with the full retirement trace on. Every exit from a guest shows in
the trace as a trapped record with V=1 followed by HS-mode (V=0) records; the exit ends
at the next V=1 record. Each exit is classified by the guest instruction that caused it
(the marker labels of hvbench.c) or by what the hypervisor did (a write of ``hgatp``
means a VM switch). Instruction counts come from the trace; cycle counts from the guest's
own ``time`` readings, which are cycles on a SoC with ``timebase_divider`` = 1.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from hardware.config import SocConfig
from hardware.isa.csrs import ALL_CSR_ADDR
from hardware.sim.elf import load_elf
from hardware.sim.machine import Machine, Retired
from tools.isolation.sbi import SBI_EXTS

#: The scenario the figures run.
SCENARIO = "bench"
#: Markers (global labels in hvbench.c) -> figure name.
MARKERS = {"hvbench_null_ecall": "sbi_null", "hvbench_uart_store": "uart_store",
           "hvbench_ipi_ecall": "ipi"}
_HGATP = ALL_CSR_ADDR["hgatp"]
#: The firmware's SBI extension (docs/hypervisor.md, "SBI").
EXT_HVSIM = SBI_EXTS["HVSIM"]
_BENCH_RE = re.compile(r"^\[bench\] bench (\w+) n=(\d+) ticks=(\d+)$", re.M)
MAX_CYCLES = 20_000_000


class FiguresError(RuntimeError):
    """The bench scenario did not run as expected; the message says what happened."""


def _writes_hgatp(insn: int) -> bool:
    """CSRRW/CSRRS/CSRRC/...I with csr = hgatp and a write (Zicsr encodings)."""
    return insn & 0x7F == 0x73 and (insn >> 20) == _HGATP and (insn >> 12) & 3 != 0


@dataclass
class Exit:
    """One exit from a guest to the hypervisor."""

    pc: int  # guest pc of the trapped instruction (or of the interrupted one)
    cause: int
    a7: int = 0  # the guest's last write of a7 (the SBI extension of an ecall)
    hs_instructions: int = 0
    switch: bool = False  # the hypervisor wrote hgatp (another VM's state was loaded)
    context: int = 0  # of hs_instructions: in the context save/restore code (CONTEXT)


@dataclass
class ExitCollector:
    """A Machine trace sink that cuts the record stream into exits."""

    context: tuple[tuple[int, int], ...] = ()  # [start, end) pc ranges of CONTEXT
    exits: list[Exit] = field(default_factory=list)
    _pending: Exit | None = None
    _open: Exit | None = None
    _a7: int = 0

    def _count(self, r: Retired) -> None:
        e = self._open
        e.hs_instructions += 1
        e.switch |= _writes_hgatp(r.insn)
        e.context += any(lo <= r.pc < hi for lo, hi in self.context)

    def __call__(self, records: list[Retired]) -> None:
        for r in records:
            if self._open is not None:
                if r.v:
                    self.exits.append(self._open)
                    self._open = None
                else:
                    self._count(r)
                    continue
            if self._pending is not None and not r.v:
                self._open, self._pending = self._pending, None
                self._count(r)
                continue
            if r.v and r.rd == 17 and not r.trap:
                self._a7 = r.rd_wdata
            self._pending = Exit(r.pc, r.cause, self._a7) if (r.v and r.trap) else None


#: The context save/restore code of the firmware: entry.S from the trap vector to the end
#: of the guest entry, and the VS-state save and load (symbol, or (first, end) labels).
CONTEXT = (("hv_trap_entry", "guest_read_insn"), "vcpu_save", "vcpu_load")


def context_ranges(elf: Path) -> tuple[tuple[int, int], ...]:
    """The [start, end) pc ranges of CONTEXT in the firmware ``elf``."""
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        syms = {s.name: s for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols()}
    out = []
    for item in CONTEXT:
        if isinstance(item, tuple):
            out.append((syms[item[0]]["st_value"], syms[item[1]]["st_value"]))
        else:
            out.append((syms[item]["st_value"], syms[item]["st_value"] + syms[item]["st_size"]))
    return tuple(out)


def _symbols(elf: Path, names) -> dict[str, int]:
    from tools.spike import elf_symbol

    out = {}
    for n in names:
        addr = elf_symbol(elf, n)
        if addr is None:
            raise FiguresError(f"{elf}: symbol {n} not found (rebuild guests: python -m guests.build hvbench)")
        out[n] = addr
    return out


def _median(xs: list[int]) -> float | None:
    return statistics.median(xs) if xs else None


def _run(scenario: str, cfg: SocConfig, backend: str) -> tuple[ExitCollector, str, Path]:
    """Run ``scenario`` on the model with an ExitCollector; (exits, UART text, ELF)."""
    from hypervisor.build import build_firmware

    fw = build_firmware(scenario, cfg)
    sink = ExitCollector(context_ranges(fw.elf))
    machine = Machine(cfg, backend)
    machine.load(load_elf(str(fw.elf), cfg))
    machine.trace_to(sink)
    try:
        outcome = machine.run(MAX_CYCLES)
    finally:
        machine.close()
    text = outcome.uart_bytes.decode(errors="replace")
    if outcome.status == "timeout":
        raise FiguresError(f"scenario {scenario} did not end: {outcome.summary()}")
    return sink, text, fw.elf


def measure(cfg: SocConfig, backend: str = "compiled") -> dict[str, dict]:
    """Run the bench scenario (and the demo, for preemptions) and return
    {figure: {instructions, cycles, n}}."""
    from guests.build import build_guest

    sink, text, _ = _run(SCENARIO, cfg, backend)
    if "hvbench: done" not in text:
        raise FiguresError(f"hvbench did not finish: {text[-300:]}")
    guest = _symbols(build_guest("hvbench"), MARKERS)
    by_pc = {addr: MARKERS[name] for name, addr in guest.items()}
    ticks = {m[1]: int(m[3]) / int(m[2]) for m in _BENCH_RE.finditer(text)}
    per_tick = cfg.timebase_divider
    figures: dict[str, dict] = {}
    for name in MARKERS.values():
        counts = [e.hs_instructions for e in sink.exits if by_pc.get(e.pc) == name]
        figures[name] = {"instructions": _median(counts), "n": len(counts),
                         "cycles": ticks[name] * per_tick if name in ticks else None}
    yields = [e for e in sink.exits if e.switch and e.cause == 10 and e.a7 == EXT_HVSIM]
    figures["switch_yield"] = {"instructions": _median([e.hs_instructions for e in yields]),
                               "n": len(yields),
                               "cycles": ticks["yield"] * per_tick / 2 if "yield" in ticks else None}
    figures["switch_context"] = {"instructions": _median([e.context for e in yields]),
                                 "n": len(yields), "cycles": None}
    figures["timer_latency"] = {"instructions": 0, "n": 10,
                                "cycles": ticks.get("timer_latency", 0) * per_tick}
    demo, _, _ = _run("demo", cfg, backend)
    preempt = [e.hs_instructions for e in demo.exits if e.switch and e.cause >> 63]
    figures["switch_preempt"] = {"instructions": _median(preempt), "n": len(preempt),
                                 "cycles": None}
    return figures


#: Issue 5 targets in HS instructions per round trip.
TARGETS = {"sbi_null": 100, "switch_yield": 300, "switch_preempt": 300, "switch_context": 300}
#: Source folder of the firmware (for its size).
HV_SRC = Path(__file__).resolve().parent.parent / "hypervisor" / "src"


def firmware_size(elf: Path | None = None) -> dict[str, int]:
    """Lines of C and assembly in hypervisor/src (non-blank) and the bytes of code
    (``.mstage`` + ``.text``) of the demo build."""
    from elftools.elf.elffile import ELFFile

    lines = {"c": 0, "asm": 0}
    for path in HV_SRC.rglob("*"):
        kind = {".c": "c", ".h": "c", ".S": "asm"}.get(path.suffix)
        if kind:
            lines[kind] += sum(1 for ln in path.read_text().splitlines() if ln.strip())
    text = 0
    if elf is not None:
        with open(elf, "rb") as f:
            for sec in ELFFile(f).iter_sections():
                if sec.name in (".mstage", ".text"):
                    text += sec["sh_size"]
    return {"c_lines": lines["c"], "asm_lines": lines["asm"], "text_bytes": text}
LABELS = {
    "sbi_null": "SBI null call (VS ecall -> HS -> sret)",
    "switch_yield": "VM switch on yield (ecall -> other VM; cycles: round trip / 2)",
    "switch_preempt": "VM switch on budget end (timer -> other VM, demo)",
    "switch_context": "  of a switch: saving and loading GPRs and VS CSRs",
    "ipi": "self-IPI: ecall to guest handler",
    "uart_store": "virtual UART store (G-stage fault -> emulation -> guest)",
    "timer_latency": "virtual timer: vstimecmp to guest handler",
}


def report_lines(figures: dict[str, dict]) -> list[str]:
    """Human-readable lines, one per figure, with the target where there is one."""
    out = []
    for key, label in LABELS.items():
        f = figures.get(key, {})
        ins = f.get("instructions")
        cyc = f.get("cycles")
        ins_s = "-" if ins is None else f"{ins:.0f} HS instructions"
        cyc_s = "" if cyc is None else f", {cyc:.0f} cycles"
        target = TARGETS.get(key)
        verdict = "" if target is None or ins is None else (
            f"  (target <= {target}: {'met' if ins <= target else 'MISSED'})")
        out.append(f"  {label:58s} {ins_s}{cyc_s}{verdict}")
    return out
