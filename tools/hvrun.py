"""Run a hypervisor scenario and read its output (issue 5, items 10, 12 and 13;
docs/hypervisor.md, "Console protocol").

``run_scenario`` builds the firmware for a scenario (``hypervisor.build``) and runs it on
the model (``hardware.sim.machine.Machine``), on Spike (``tools.spike.run_spike``) or on
QEMU ``virt`` (when ``qemu-system-riscv64`` is on PATH). The UART text is parsed by
``HvOutput`` into a ``ScenarioResult``:

- ``[<vm>] <text>``: a line of a guest's console;
- ``hv: <text>``: a hypervisor message;
- ``@vm``, ``@exits``, ``@sbi``, ``@sched``, ``@ticks_per_us``, ``@end``: the
  machine-readable records printed after every VM has ended.

A malformed record raises ``HvOutputError`` naming the line. On the model a run that
spends its cycle budget has status ``timeout`` and a report naming the VM on the CPU
(the firmware's ``int32_t hv_running_vm``) and the last pc, privilege level and V bit.

Snapshots (docs/simulation.md, "Snapshots"): ``save_at=(cycle, path)`` saves the model's
state at ``cycle`` (with the scenario's identity under ``meta["scenario"]``) and runs on;
``resume=snapshot`` starts from one instead of booting: the UART bytes so far are fed to
the parser again, so events and results are those of an uninterrupted run.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

#: Where a scenario can run.
PLATFORMS = ("model", "spike", "qemu")
#: Default cycle budget of a model run.
DEFAULT_MAX_CYCLES = 100_000_000
#: Wall-clock limit of a Spike or QEMU run, seconds.
DEFAULT_TIMEOUT_S = 600.0
#: The QEMU binary and its arguments before ``-kernel <elf>``.
QEMU_BINARY = "qemu-system-riscv64"
QEMU_ARGS = ("-M", "virt", "-cpu", "rv64,h=true", "-m", "128M", "-nographic",
             "-bios", "none")
#: The firmware's index of the VM on the CPU (-1: the hypervisor or idle).
RUNNING_VM_SYMBOL = "hv_running_vm"
#: Console and timeline colour of VM ``i`` is ``VM_COLOURS[i % len(VM_COLOURS)]``.
VM_COLOURS = ("#3a86ff", "#ff8c42", "#2ec4b6", "#e63946", "#9d4edd", "#8ac926",
              "#ffca3a", "#f15bb5")
#: ``@vm`` states (docs/hypervisor.md, "Console protocol").
VM_STATES = ("shutdown", "stopped", "hart_stop", "reset-limit", "watchdog", "running")
#: Key of the scenario's identity in a snapshot's ``meta``.
SNAPSHOT_KEY = "scenario"
#: ``@vm`` counters after the state, in order.
VM_COUNTERS = ("code", "cycles", "instret", "runs", "restarts", "irqs")
#: Fields of the @tp record (core/tp.c, struct tp_stats), in order.
TP_FIELDS = ("windows", "overruns", "worst", "pad")
#: Mode names by (privilege, V).
MODE_NAMES = {(3, 0): "M", (1, 0): "HS", (0, 0): "U", (1, 1): "VS", (0, 1): "VU"}

_NAME = r"[A-Za-z0-9_-]{1,15}"
_GUEST_RE = re.compile(rf"^\[({_NAME})\](?: (.*))?$")
_INT_RE = re.compile(r"^-?\d+$")
_EXIT_KEY_RE = re.compile(r"^[ei]\d+$")
#: ``<ext hex>.<fid>``; ``<ext hex>.other`` / ``legacy.other`` for functions past the
#: firmware's counters; ``other`` for unknown extensions (hypervisor/src/core/report.c).
_SBI_KEY_RE = re.compile(r"^(0x[0-9a-fA-F]+\.(\d+|other)|legacy\.other|other)$")


class HvRunError(RuntimeError):
    """A scenario could not be run (missing emulator, bad platform); one line."""


class HvOutputError(HvRunError):
    """The firmware's UART output breaks the protocol; the message names the line."""


# --------------------------------------------------------------------------- events


class GuestLine(NamedTuple):
    """One line of a guest's console."""

    vm: str
    text: str


class HvLine(NamedTuple):
    """One ``hv:`` message of the hypervisor (without the prefix)."""

    text: str


class Record(NamedTuple):
    """One ``@`` record: its kind (``vm``, ``exits``, ...) and its fields."""

    kind: str
    fields: tuple[str, ...]
    line: str


class OtherLine(NamedTuple):
    """A line outside the protocol (kept, shown as is)."""

    text: str


Event = GuestLine | HvLine | Record | OtherLine


# --------------------------------------------------------------------------- results


@dataclass
class VmStats:
    """The ``@vm``, ``@exits`` and ``@sbi`` records of one VM."""

    index: int
    name: str
    state: str = "running"
    code: int = 0
    cycles: int = 0
    instret: int = 0
    runs: int = 0
    restarts: int = 0
    irqs: int = 0
    exits: dict[str, int] = field(default_factory=dict)  # "e<code>"/"i<code>" -> count
    sbi: dict[str, int] = field(default_factory=dict)  # "<ext hex>.<fid>" -> count
    reported: bool = False  # an @vm record was seen

    @property
    def exits_total(self) -> int:
        """Exits of every cause."""
        return sum(self.exits.values())

    @property
    def sbi_total(self) -> int:
        """SBI calls of every function."""
        return sum(self.sbi.values())

    @property
    def clean(self) -> bool:
        """The VM shut down through SRST with reason 0."""
        return self.state == "shutdown" and self.code == 0


@dataclass
class ScenarioResult:
    """Everything a scenario run produced."""

    scenario: str = ""
    platform: str = "model"
    console: dict[str, list[str]] = field(default_factory=dict)  # VM name -> lines
    stats: dict[str, VmStats] = field(default_factory=dict)  # VM name -> records
    sched: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, vm) ticks
    ticks_per_us: int | None = None
    tp: dict[str, int] | None = None  # the @tp record (time protection), in ticks
    end_code: int | None = None  # the @end record
    hv_lines: list[str] = field(default_factory=list)
    other_lines: list[str] = field(default_factory=list)
    raw: str = ""  # the whole UART text
    status: str = "running"  # "pass" | "fail" | "timeout" once the run is over
    exit_code: int | None = None  # of the platform (HTIF / finisher / process)
    cycles: int | None = None  # model only
    instret: int | None = None  # model only
    counters: dict[str, int] = field(default_factory=dict)  # model only: Machine.counters
    wall_s: float = 0.0
    report: str = ""  # the timeout report
    running_vm: str | None = None  # VM on the CPU at a timeout

    def vm_names(self) -> list[str]:
        """VM names by index (VMs seen only in console or schedule lines last)."""
        indexed = sorted((s.index, s.name) for s in self.stats.values() if s.index >= 0)
        names = [n for _, n in indexed]
        for n in [*self.console, *self.stats, *(iv[2] for iv in self.sched)]:
            if n not in names:
                names.append(n)
        return names

    def cpu_ticks(self) -> dict[str, int]:
        """Ticks each VM ran, from ``@sched``."""
        ticks: dict[str, int] = {}
        for start, end, name in self.sched:
            ticks[name] = ticks.get(name, 0) + end - start
        return ticks

    def cpu_share(self) -> dict[str, float]:
        """Per VM, its percentage of the time from the first to the last ``@sched``
        interval (the rest went to the hypervisor and to idle)."""
        if not self.sched:
            return {}
        span = max(e for _, e, _ in self.sched) - min(s for s, _, _ in self.sched)
        if span <= 0:
            return {}
        return {n: 100.0 * t / span for n, t in self.cpu_ticks().items()}

    def unclean(self) -> list[str]:
        """One phrase per VM that did not shut down through SRST with reason 0."""
        out = []
        for name in self.vm_names():
            s = self.stats.get(name)
            if s is None or not s.reported:
                out.append(f"vm '{name}' has no @vm record")
            elif not s.clean:
                out.append(f"vm '{name}' did not shut down cleanly: state {s.state}, "
                           f"code {s.code}")
        return out

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (with the CPU shares)."""
        data = asdict(self)
        data["sched"] = [list(iv) for iv in self.sched]
        data["cpu_share"] = self.cpu_share()
        return data


def exit_cause_name(key: str) -> str:
    """The cause name of an ``@exits`` key: ``e10`` -> VIRTUAL_SUPERVISOR_ECALL,
    ``i5`` -> irq STI (``hardware.isa.causes``)."""
    from hardware.isa.causes import INTERRUPT_BIT, cause_name

    code = int(key[1:])
    return cause_name(code | INTERRUPT_BIT if key[0] == "i" else code)


def vm_colour(index: int) -> str:
    """The colour of VM ``index`` (console and timeline)."""
    return VM_COLOURS[index % len(VM_COLOURS)]


# --------------------------------------------------------------------------- parser


def _int(text: str, what: str, *, signed: bool = False) -> int:
    if not _INT_RE.match(text) or (text.startswith("-") and not signed):
        raise ValueError(f"{what} '{text}' is not a{'n' if signed else ' non-negative'} "
                         f"decimal integer")
    return int(text)


def _pairs(fields: Iterable[str], key_re: re.Pattern, what: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in fields:
        key, eq, value = f.partition("=")
        if not eq or not key_re.match(key):
            raise ValueError(f"bad {what} field '{f}'")
        if key in out:
            raise ValueError(f"{what} key '{key}' appears twice")
        out[key] = _int(value, f"{what} {key}")
    return out


class HvOutput:
    """Incremental parser of the firmware's UART text into a ``ScenarioResult``.

    ``feed(data)`` takes bytes cut anywhere and returns the events of the lines it
    completed; ``finish()`` handles a last line without ``\\n`` and sets ``result.raw``.
    ``vm_names`` (in VM order) gives every VM an (empty) console even if it prints
    nothing.
    """

    def __init__(self, vm_names: Iterable[str] = (), result: ScenarioResult | None = None):
        self.result = result if result is not None else ScenarioResult()
        for name in vm_names:
            self.result.console.setdefault(name, [])
        self._buf = bytearray()
        self._raw = bytearray()
        self._lineno = 0
        self._records = {"vm": self._rec_vm, "exits": self._rec_exits, "sbi": self._rec_sbi,
                         "sched": self._rec_sched, "ticks_per_us": self._rec_ticks,
                         "tp": self._rec_tp, "end": self._rec_end}

    def feed(self, data: bytes) -> list[Event]:
        """Parse ``data``; return the events of every completed line."""
        self._raw += data
        self._buf += data
        events = []
        while (cut := self._buf.find(b"\n")) >= 0:
            line = bytes(self._buf[:cut])
            del self._buf[:cut + 1]
            events.append(self._line(line))
        return events

    def finish(self) -> list[Event]:
        """The event of an unterminated last line (a partial record is kept as text);
        also sets ``result.raw``."""
        self.result.raw = self._raw.decode(errors="replace")
        if not self._buf:
            return []
        line = bytes(self._buf)
        self._buf.clear()
        if line.startswith(b"@"):
            self._lineno += 1
            text = line.decode(errors="replace").rstrip("\r")
            self.result.other_lines.append(text)
            return [OtherLine(text)]
        return [self._line(line)]

    def _line(self, raw: bytes) -> Event:
        self._lineno += 1
        text = raw.decode(errors="replace").rstrip("\r")
        if text.startswith("@"):
            return self._record(text)
        if text.startswith("hv: ") or text == "hv:":
            msg = text[4:]
            self.result.hv_lines.append(msg)
            return HvLine(msg)
        m = _GUEST_RE.match(text)
        if m:
            name, body = m.group(1), m.group(2) or ""
            self.result.console.setdefault(name, []).append(body)
            return GuestLine(name, body)
        self.result.other_lines.append(text)
        return OtherLine(text)

    def _record(self, text: str) -> Record:
        kind, *fields = text[1:].split()
        handler = self._records.get(kind)
        try:
            if handler is None:
                raise ValueError(f"unknown record '@{kind}'")
            handler(fields)
        except ValueError as exc:
            raise HvOutputError(f"firmware output line {self._lineno}: {exc}: "
                                f"{text[:160]!r}") from None
        return Record(kind, tuple(fields), text)

    def _vm(self, name: str) -> VmStats:
        if not re.fullmatch(_NAME, name):
            raise ValueError(f"bad VM name '{name}'")
        return self.result.stats.setdefault(name, VmStats(-1, name))

    @staticmethod
    def _arity(fields: list[str], n: int, form: str) -> None:
        if len(fields) != n:
            raise ValueError(f"expected {form}")

    def _rec_vm(self, fields: list[str]) -> None:
        form = f"@vm <index> <name> state=<state> {' '.join(f'{k}=<n>' for k in VM_COUNTERS)}"
        self._arity(fields, 3 + len(VM_COUNTERS), form)
        index = _int(fields[0], "index")
        stats = self._vm(fields[1])
        if stats.reported:
            raise ValueError(f"second @vm record for '{stats.name}'")
        values = dict(f.partition("=")[::2] for f in fields[2:])
        keys = [f.partition("=")[0] for f in fields[2:]]
        if keys != ["state", *VM_COUNTERS]:
            raise ValueError(f"expected {form}")
        if values["state"] not in VM_STATES:
            raise ValueError(f"unknown state '{values['state']}' (valid: {', '.join(VM_STATES)})")
        stats.index, stats.state, stats.reported = index, values["state"], True
        for key in VM_COUNTERS:
            setattr(stats, key, _int(values[key], key, signed=key == "code"))
        self.result.console.setdefault(stats.name, [])

    def _rec_exits(self, fields: list[str]) -> None:
        if not fields:
            raise ValueError("expected @exits <name> <key>=<n> ...")
        self._vm(fields[0]).exits.update(_pairs(fields[1:], _EXIT_KEY_RE, "exits"))

    def _rec_sbi(self, fields: list[str]) -> None:
        if not fields:
            raise ValueError("expected @sbi <name> <ext hex>.<fid>=<n> ...")
        self._vm(fields[0]).sbi.update(_pairs(fields[1:], _SBI_KEY_RE, "sbi"))

    def _rec_sched(self, fields: list[str]) -> None:
        self._arity(fields, 3, "@sched <start> <end> <name>")
        start, end = _int(fields[0], "start"), _int(fields[1], "end")
        if end < start:
            raise ValueError(f"interval ends ({end}) before it starts ({start})")
        self._vm(fields[2])
        self.result.sched.append((start, end, fields[2]))

    def _rec_ticks(self, fields: list[str]) -> None:
        self._arity(fields, 1, "@ticks_per_us <n>")
        ticks = _int(fields[0], "ticks_per_us")
        if ticks == 0:
            raise ValueError("ticks_per_us must be positive")
        self.result.ticks_per_us = ticks

    def _rec_tp(self, fields: list[str]) -> None:
        form = f"@tp {' '.join(f'{k}=<n>' for k in TP_FIELDS)}"
        self._arity(fields, len(TP_FIELDS), form)
        keys, _, values = zip(*(f.partition("=") for f in fields))
        if keys != TP_FIELDS:
            raise ValueError(f"expected {form}")
        self.result.tp = {k: _int(v, k) for k, v in zip(keys, values)}

    def _rec_end(self, fields: list[str]) -> None:
        self._arity(fields, 1, "@end <code>")
        if self.result.end_code is not None:
            raise ValueError("second @end record")
        self.result.end_code = _int(fields[0], "code", signed=True)


def parse_output(text: str | bytes, vm_names: Iterable[str] = ()) -> ScenarioResult:
    """Parse a whole UART text at once."""
    parser = HvOutput(vm_names)
    parser.feed(text.encode() if isinstance(text, str) else text)
    parser.finish()
    return parser.result


# --------------------------------------------------------------------------- comparison


def compare_consoles(a: ScenarioResult, b: ScenarioResult,
                     labels: tuple[str, str] | None = None) -> list[str]:
    """The differences between the per-VM console outputs of ``a`` and ``b`` (one
    line each, at most the first per VM); empty when they are identical."""
    la, lb = labels or ((a.platform, b.platform) if a.platform != b.platform else ("a", "b"))
    diffs = []
    names = [*a.console, *(n for n in b.console if n not in a.console)]
    for name in names:
        if name not in b.console or name not in a.console:
            where = la if name in a.console else lb
            diffs.append(f"vm '{name}': console only in {where}")
            continue
        xa, xb = a.console[name], b.console[name]
        for i, (ta, tb) in enumerate(zip(xa, xb)):
            if ta != tb:
                diffs.append(f"vm '{name}' line {i + 1}: {la} {ta!r} != {lb} {tb!r}")
                break
        else:
            if len(xa) != len(xb):
                longer, extra = (la, xa) if len(xa) > len(xb) else (lb, xb)
                diffs.append(f"vm '{name}': {la} has {len(xa)} lines, {lb} has {len(xb)}; "
                             f"first extra line in {longer}: {extra[min(len(xa), len(xb))]!r}")
    return diffs


# --------------------------------------------------------------------------- timeout report


def mode_name(priv: int, v: int | None) -> str:
    """M, HS, U, VS or VU (``priv`` alone when V is unknown)."""
    if v is None:
        return {3: "M", 1: "S", 0: "U"}.get(priv, str(priv))
    return MODE_NAMES.get((priv, v), f"{priv}/V={v}")


def format_timeout_report(cycles: int, running: int | None, vm_names: list[str], pc: int,
                          priv: int, v: int | None, retired: Iterable[str] = ()) -> str:
    """The report of a run that spent its budget: which VM ran, and where.

    ``running`` is ``hv_running_vm`` (None when it could not be read)."""
    if running is None:
        who = "running VM unknown (no hv_running_vm symbol)"
    elif running < 0:
        who = "no VM on the CPU (hypervisor or idle)"
    elif running < len(vm_names):
        who = f"vm '{vm_names[running]}' (index {running}) was running"
    else:
        who = f"hv_running_vm = {running} names no VM (there are {len(vm_names)})"
    vtext = "?" if v is None else str(v)
    lines = [f"no end after {cycles} cycles: {who}; pc {pc:#x}, privilege "
             f"{mode_name(priv, v)} (V={vtext})"]
    retired = list(retired)
    if retired:
        lines.append(f"last {len(retired)} retired:")
        lines += [f"  {r}" for r in retired]
    return "\n".join(lines)


def read_running_vm(machine, elf: Path, cfg) -> int | None:
    """The firmware's ``int32_t hv_running_vm`` in the model's RAM, or None."""
    from tools.spike import elf_symbol

    return read_running_vm_at(machine, elf_symbol(elf, RUNNING_VM_SYMBOL), cfg)


def read_running_vm_at(machine, addr: int | None, cfg) -> int | None:
    """The ``int32_t`` at ``addr`` (``hv_running_vm``) in the model's RAM, or None."""
    from hardware.soc.memory_map import region
    from hardware.soc.soc import RAM_NAME

    ram = region(cfg, "ram")
    if addr is None or not ram.base <= addr <= ram.base + ram.size - 4:
        return None
    raw = machine.simulator.read_mem(RAM_NAME, addr - ram.base, 4)
    return int.from_bytes(raw, "little", signed=True)


def _virt_bit(machine, outcome) -> int | None:
    """V in the last cycle: the CSR file's ``virt`` register, else the last retired."""
    sim = machine.simulator
    if "virt" in sim.registers:
        return sim.get_register("virt")
    if outcome.last_retired:
        return outcome.last_retired[-1].v
    return None


# --------------------------------------------------------------------------- running


def load_scenario(config, cfg):
    """``hypervisor.config.load_scenario`` (imported when first needed)."""
    from hypervisor.config import load_scenario as load

    return load(config, cfg)


def _vm_names(scenario) -> list[str]:
    return [vm.name for vm in sorted(scenario.vms, key=lambda vm: vm.index)]


@dataclass(frozen=True)
class SavedScenario:
    """The scenario a snapshot belongs to (``meta["scenario"]`` of a snapshot)."""

    name: str
    path: str  # the scenario's TOML file
    vm_names: tuple[str, ...]  # by VM index
    elf: str  # the firmware it ran
    elf_sha256: str
    running_vm_addr: int | None  # of ``hv_running_vm``, for timeout reports

    def meta(self) -> dict[str, Any]:
        """The JSON-ready form stored in a snapshot."""
        data = asdict(self)
        data["vm_names"] = list(self.vm_names)
        return {SNAPSHOT_KEY: data}


def saved_scenario(snap) -> SavedScenario:
    """The scenario of a snapshot made by ``run_scenario(save_at=...)``."""
    data = snap.meta.get(SNAPSHOT_KEY)
    try:
        return SavedScenario(str(data["name"]), str(data["path"]),
                             tuple(str(n) for n in data["vm_names"]), str(data["elf"]),
                             str(data["elf_sha256"]), data["running_vm_addr"])
    except (TypeError, KeyError):
        raise HvRunError(f"{snap.label} holds no scenario (it was not saved by "
                         f"'hvsim run --save-at')") from None


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _saved(scenario, elf: Path) -> SavedScenario:
    from tools.spike import elf_symbol

    return SavedScenario(scenario.name, str(scenario.path), tuple(_vm_names(scenario)),
                         str(elf), _sha256(elf), elf_symbol(elf, RUNNING_VM_SYMBOL))


@dataclass
class _Snapshots:
    """What a model run does with snapshots."""

    save_at: int | None = None
    save_to: Path | None = None
    resume: Any = None  # a MachineSnapshot to start from
    saved: SavedScenario | None = None  # stored with a new snapshot
    on_saved: Callable[[int, Path, int], None] | None = None


def _check_snapshots(snaps: _Snapshots, platform: str, max_cycles: int) -> None:
    """Refuse snapshot requests that cannot work, before building anything."""
    if snaps.save_at is None and snaps.resume is None:
        return
    if platform != "model":
        raise HvRunError(f"snapshots need platform 'model', not '{platform}'")
    start = snaps.resume.cycles if snaps.resume is not None else 0
    if snaps.resume is not None and max_cycles <= start:
        raise HvRunError(f"the cycle budget {max_cycles:,} ends before the "
                         f"{snaps.resume.label} (cycle {start:,})")
    if snaps.save_at is not None and not start < snaps.save_at <= max_cycles:
        raise HvRunError(f"cannot save a snapshot at cycle {snaps.save_at:,}: it must be "
                         f"after cycle {start:,} and within the budget of {max_cycles:,}")


def _resumed(snap, scenario, cfg, build) -> SavedScenario:
    """The scenario of ``snap``; ``scenario`` (if given) must be the same one with the
    same firmware."""
    saved = saved_scenario(snap)
    if scenario is None:
        return saved
    if isinstance(scenario, (str, Path)):
        scenario = load_scenario(scenario, cfg)
    if str(scenario.path) != saved.path:
        raise HvRunError(f"{snap.label} is of scenario '{saved.name}' ({saved.path}), "
                         f"not '{scenario.name}' ({scenario.path})")
    if _sha256(build(scenario).elf) != saved.elf_sha256:
        raise HvRunError(f"{snap.label}: the firmware of scenario '{saved.name}' changed "
                         f"since the snapshot was saved")
    return saved


def run_scenario(scenario, cfg, *, platform: str = "model",
                 max_cycles: int = DEFAULT_MAX_CYCLES, backend: str = "compiled",
                 on_event: Callable[[Event], None] | None = None,
                 on_progress: Callable[[int, float], None] | None = None,
                 machine_options: dict | None = None, commits: str | Path | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, machine=None,
                 src_dir: Path | None = None, build_dir: Path | None = None,
                 save_at: tuple[int, str | Path] | None = None, resume=None,
                 on_saved: Callable[[int, Path, int], None] | None = None,
                 trace: Callable[[dict], None] | None = None) -> ScenarioResult:
    """Build the firmware of ``scenario`` (a Scenario, a name or a TOML path) for the
    SoC ``cfg`` and run it on ``platform``; ``on_event`` sees every parsed line as it
    arrives. ``max_cycles``, ``backend``, ``on_progress``, ``machine_options``
    (``Machine`` keywords: vcd, opt, cc, history) and ``commits`` (a commit log path)
    apply to the model; ``timeout_s`` to Spike and QEMU. ``machine`` reuses a Machine of
    ``cfg`` (reloaded, left open) instead of building one; ``src_dir``/``build_dir`` build
    the firmware from other sources (tests of mutated firmware).

    Model only: ``save_at=(cycle, path)`` writes a snapshot file at ``cycle`` (counted
    from boot; the run must not end before it) and runs on, calling ``on_saved(cycle,
    path, bytes)``; ``resume`` (a ``MachineSnapshot`` with a scenario) starts there
    instead of booting; ``scenario`` may then be None, else it must be the snapshot's.
    ``max_cycles`` counts from boot either way. ``trace`` gets the retirement trace
    in batches of numpy arrays (``Machine.trace_to(trace, arrays=True)``; not with
    ``commits``)."""
    if platform not in PLATFORMS:
        raise HvRunError(f"unknown platform '{platform}' (valid: {', '.join(PLATFORMS)})")
    save_cycle, save_to = save_at or (None, None)
    snaps = _Snapshots(save_at=save_cycle, save_to=save_to, resume=resume, on_saved=on_saved)
    _check_snapshots(snaps, platform, max_cycles)
    from hypervisor.build import build_firmware

    where = {k: v for k, v in (("src_dir", src_dir), ("build_dir", build_dir)) if v}

    def build(s):
        return build_firmware(s, cfg, **where)

    if resume is not None:
        snaps.saved = _resumed(resume, scenario, cfg, build)
        name, vm_names, elf = snaps.saved.name, list(snaps.saved.vm_names), None
    else:
        if isinstance(scenario, (str, Path)):
            scenario = load_scenario(scenario, cfg)
        elf = build(scenario).elf
        name, vm_names = scenario.name, _vm_names(scenario)
        if save_at is not None:
            snaps.saved = _saved(scenario, elf)
    parser = HvOutput(vm_names, ScenarioResult(name, platform))

    def emit(events: list[Event]) -> None:
        if on_event is not None:
            for event in events:
                on_event(event)

    if platform == "model":
        if trace is not None and commits is not None:
            raise HvRunError("a commit log and a trace sink cannot both take the trace")
        _run_model(elf, cfg, parser, emit, max_cycles, backend, on_progress,
                   machine_options or {}, commits, vm_names, machine, snaps, trace)
    elif platform == "spike":
        _run_spike(elf, cfg, parser, emit, timeout_s)
    else:
        _run_qemu(elf, parser, emit, timeout_s)
    return parser.result


def _start(machine, elf: Path | None, cfg, snaps: _Snapshots, parser: HvOutput, emit) -> None:
    """Boot ``elf``, or restore ``snaps.resume`` and replay its UART bytes."""
    from hardware.sim.elf import load_elf

    if snaps.resume is None:
        machine.load(load_elf(elf, cfg))
        return
    machine.restore(snaps.resume)
    emit(parser.feed(snaps.resume.uart))


def _save(machine, cfg, snaps: _Snapshots, on_uart, on_progress) -> None:
    """Run to ``snaps.save_at`` and write the snapshot there."""
    from hardware.sim import snapshot

    outcome = machine.run(snaps.save_at - machine.cycle, on_uart=on_uart,
                          on_progress=on_progress)
    if outcome.status != "timeout":
        raise HvRunError(f"cannot save a snapshot at cycle {snaps.save_at:,}: the run "
                         f"ended at cycle {outcome.cycles:,} ({outcome.status})")
    size = snapshot.save(machine.snapshot(snaps.saved.meta()), snaps.save_to, cfg)
    if snaps.on_saved is not None:
        snaps.on_saved(machine.cycle, Path(snaps.save_to), size)


def _run_model(elf: Path | None, cfg, parser: HvOutput, emit, max_cycles: int, backend: str,
               on_progress, machine_options: dict, commits, vm_names: list[str],
               machine=None, snaps: _Snapshots | None = None, trace=None) -> None:
    """Run on the model (``machine``, or a new one closed afterwards), streaming UART
    bytes into ``parser``; ``snaps`` resumes from or saves a snapshot."""
    from hardware.sim.machine import Machine

    snaps = snaps or _Snapshots()
    writer = None
    if commits is not None:
        from tools.commitlog import CommitLogWriter

        writer = CommitLogWriter(commits, hartid=cfg.core.hartid)
    own = machine is None
    if own:
        machine = Machine(cfg, backend, **machine_options)
    try:
        _start(machine, elf, cfg, snaps, parser, emit)
        if writer is not None:
            machine.trace_to(writer)
        elif trace is not None:
            machine.trace_to(trace, arrays=True)

        def on_uart(byte: int) -> None:
            emit(parser.feed(bytes((byte,))))

        if snaps.save_at is not None:
            _save(machine, cfg, snaps, on_uart, on_progress)
        left = max_cycles - machine.cycle
        outcome = (machine.run(left, on_uart=on_uart, on_progress=on_progress)
                   if left > 0 else machine.outcome())
        emit(parser.finish())
        result = parser.result
        result.status, result.exit_code = outcome.status, outcome.exit_code
        result.cycles, result.instret, result.wall_s = (outcome.cycles, outcome.instret,
                                                        outcome.wall_s)
        result.counters = machine.counters()
        if outcome.status == "timeout":
            _timeout_report(machine, elf, cfg, snaps, outcome, vm_names, result)
    finally:
        if own:
            machine.close()
        elif writer is not None or trace is not None:
            machine.trace_to(None)
        if writer is not None:
            writer.close()


def _timeout_report(machine, elf, cfg, snaps: _Snapshots, outcome, vm_names: list[str],
                    result: ScenarioResult) -> None:
    """Name the running VM and where the CPU was in ``result.report``."""
    if elf is not None:
        running = read_running_vm(machine, elf, cfg)
    else:
        running = read_running_vm_at(machine, snaps.saved.running_vm_addr, cfg)
    if running is not None and 0 <= running < len(vm_names):
        result.running_vm = vm_names[running]
    result.report = format_timeout_report(
        outcome.cycles, running, vm_names, outcome.last_pc, outcome.priv,
        _virt_bit(machine, outcome), [r.text() for r in outcome.last_retired])


def _run_spike(elf: Path, cfg, parser: HvOutput, emit, timeout_s: float) -> None:
    """Run on Spike (with the SoC's DTB), then parse its UART text."""
    from tools.spike import run_spike

    t0 = time.perf_counter()
    spike = run_spike(elf, cfg, timeout_s=timeout_s)
    emit(parser.feed(spike.stdout_uart_text.encode()))
    emit(parser.finish())
    result = parser.result
    result.wall_s = time.perf_counter() - t0
    result.exit_code = spike.exit_code
    result.status = "pass" if spike.exit_code == 0 else "fail"


def qemu_command(elf: Path) -> list[str]:
    """The QEMU ``virt`` command line for ``elf`` (the binary must be on PATH)."""
    exe = shutil.which(QEMU_BINARY)
    if exe is None:
        raise HvRunError(f"{QEMU_BINARY} not found on PATH (install QEMU to use "
                         f"--platform qemu)")
    return [exe, *QEMU_ARGS, "-kernel", str(elf)]


def _run_qemu(elf: Path, parser: HvOutput, emit, timeout_s: float) -> None:
    """Run on QEMU ``virt``; the exit status comes from the test finisher."""
    cmd = qemu_command(elf)
    t0 = time.perf_counter()
    result = parser.result
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        emit(parser.feed(exc.stdout or b""))
        emit(parser.finish())
        result.status, result.wall_s = "timeout", time.perf_counter() - t0
        result.report = f"{QEMU_BINARY} did not finish within {timeout_s:g} s"
        return
    except OSError as exc:
        raise HvRunError(f"cannot start {cmd[0]}: {exc.strerror}") from None
    emit(parser.feed(proc.stdout))
    emit(parser.finish())
    result.wall_s = time.perf_counter() - t0
    result.exit_code = proc.returncode
    result.status = "pass" if proc.returncode == 0 else "fail"
