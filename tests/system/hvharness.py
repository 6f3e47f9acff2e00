"""Helpers of the hypervisor system tests (``tests/system/test_hypervisor.py``).

Runs a scenario on one shared ``Machine`` (the model) or on Spike and parses the UART
text with ``tools.hvrun.HvOutput`` (docs/hypervisor.md, "Console protocol"); reads the fault
reports (``hv: vm <name> fault: <reason>: cause <n> (<text>) pc 0x.. addr 0x..``) and
measures CPU time per VM from the ``@sched`` records.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from hypervisor.config import load_scenario
from tools.hvrun import ScenarioResult, run_scenario
from tools.spike import SpikeError, find_spike

#: Cycle budget of one model run (the scenarios take 0.2-2.5 M cycles).
MODEL_MAX_CYCLES = 20_000_000
#: Wall-clock limit of one Spike or QEMU run, seconds.
EMULATOR_TIMEOUT_S = 120.0

_FAULT_RE = re.compile(r"^vm (?P<vm>\S+) fault: (?P<reason>.+): cause (?P<cause>\d+) "
                       r"\((?P<text>[^)]*)\) pc 0x(?P<pc>[0-9a-f]+) addr 0x(?P<addr>[0-9a-f]+)$")
_ENDED_RE = re.compile(r"^vm (?P<vm>\S+) ended: (?P<state>\S+), code (?P<code>-?\d+)$")
_RESTART_RE = re.compile(r"^vm (?P<vm>\S+) restarting \((?P<k>\d+) of (?P<max>\d+)\)$")


@dataclass(frozen=True)
class Fault:
    """One fault report of the hypervisor."""

    vm: str
    reason: str
    cause: int
    text: str
    pc: int
    addr: int


def build_test_guest(source: str, out_dir: Path, name: str) -> Path:
    """Compile ``source`` (a guest's ``kmain`` in C, over the guest runtime of
    guests/common) into ``out_dir/<name>.elf`` with the guests' linker script."""
    from guests.build import build_program

    src = Path(out_dir) / f"{name}.c"
    src.write_text(source)
    return build_program([src], Path(out_dir) / f"{name}.elf", name)


def spike_missing() -> str | None:
    """Why Spike cannot run here, or None."""
    try:
        find_spike()
    except SpikeError as exc:
        return str(exc)
    return None


def qemu_missing() -> str | None:
    """Why QEMU cannot run here, or None."""
    if shutil.which("qemu-system-riscv64") is None:
        return "qemu-system-riscv64 is not on PATH"
    return None


def vm_names(scenario, cfg) -> list[str]:
    """The VM names of a scenario (name or path), in index order."""
    loaded = load_scenario(scenario, cfg)
    return [vm.name for vm in sorted(loaded.vms, key=lambda vm: vm.index)]


def run_model(machine, scenario, cfg, max_cycles: int = MODEL_MAX_CYCLES) -> ScenarioResult:
    """Build ``scenario`` and run it on ``machine`` (reloaded, so it can be reused)."""
    return run_scenario(scenario, cfg, machine=machine, max_cycles=max_cycles)


def run_platform(scenario, cfg, platform: str) -> ScenarioResult:
    """Run ``scenario`` on Spike or QEMU through ``tools.hvrun.run_scenario``."""
    return run_scenario(scenario, cfg, platform=platform, timeout_s=EMULATOR_TIMEOUT_S)


def faults(result: ScenarioResult) -> list[Fault]:
    """The fault reports, in order."""
    out = []
    for line in result.hv_lines:
        m = _FAULT_RE.match(line)
        if m:
            out.append(Fault(m["vm"], m["reason"], int(m["cause"]), m["text"],
                             int(m["pc"], 16), int(m["addr"], 16)))
    return out


def endings(result: ScenarioResult) -> dict[str, tuple[str, int]]:
    """VM name -> (state, code) from the ``hv: vm <name> ended: ...`` lines."""
    return {m["vm"]: (m["state"], int(m["code"]))
            for m in map(_ENDED_RE.match, result.hv_lines) if m}


def restarts(result: ScenarioResult) -> list[tuple[str, int, int]]:
    """(vm, k, max) of each ``restarting (k of max)`` line, in order."""
    return [(m["vm"], int(m["k"]), int(m["max"]))
            for m in map(_RESTART_RE.match, result.hv_lines) if m]


def last_run_end(result: ScenarioResult) -> dict[str, int]:
    """VM name -> end of its last ``@sched`` interval (ticks since boot)."""
    ends: dict[str, int] = {}
    for _, end, name in result.sched:
        ends[name] = max(ends.get(name, 0), end)
    return ends


def ticks_between(result: ScenarioResult, lo: int, hi: int) -> dict[str, int]:
    """VM name -> ticks it ran within ``[lo, hi)``."""
    out: dict[str, int] = {}
    for start, end, name in result.sched:
        part = min(end, hi) - max(start, lo)
        if part > 0:
            out[name] = out.get(name, 0) + part
    return out


def overlapping_intervals(result: ScenarioResult) -> list[tuple]:
    """Pairs of consecutive ``@sched`` intervals that overlap or go back in time (one
    CPU runs one VM at a time, and the log is in time order)."""
    sched = result.sched
    return [(a, b) for a, b in zip(sched, sched[1:]) if b[0] < a[1]]


def longest_wait(result: ScenarioResult, name: str) -> int:
    """The longest time, in ticks, between two consecutive runs of VM ``name``."""
    mine = [(start, end) for start, end, vm in result.sched if vm == name]
    return max((b[0] - a[1] for a, b in zip(mine, mine[1:])), default=0)


def symbol_range(elf: Path, name: str) -> tuple[int, int]:
    """``[start, end)`` of function symbol ``name`` in ``elf``."""
    with open(elf, "rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        sym = table.get_symbol_by_name(name)[0]
        return sym["st_value"], sym["st_value"] + sym["st_size"]
