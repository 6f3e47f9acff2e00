"""One isolation test case, fast (issue 7, items 1 and 3; docs/fuzzing.md, "Cases").

A ``Rig`` boots the hypervisor once with a victim VM and an adversary VM whose image
is a placeholder, runs until the first guest instruction retires, and keeps that
state as a snapshot. A case restores the snapshot, writes the adversary's program into
the adversary's partition (where the hypervisor had loaded the placeholder; its DTB at
the top stays), optionally drives the harness interrupt lines on a schedule, and runs
to the end with the ``TraceChecker`` watching every retired instruction. Then:

- the regions nobody may change after boot are compared by hash with the snapshot's;
- every VM's G-stage table is walked (``gstage.py``);
- console input (``CONSOLE_INPUT``, the victim's) waits in the UART throughout: only
  the victim may read it;
- the victim's observations (its architectural trace, console and final memory) must
  equal those of the reference run with the placeholder adversary (noninterference:
  any two adversaries X and Y give the victim the same observations).

The adversary's fault policy is ``stop`` and it may not reboot itself (``max_restarts``
0): a restart would reload the placeholder, and the hypervisor scrubs a rebooting VM's
partition in one non-preemptible step (about 0.5 cycle per byte), which delays the
victim beyond its budget (a real limit of the firmware, docs/fuzzing.md).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from hardware.config import SocConfig, variant
from hardware.soc.memory_map import region
from hardware.soc.soc import RAM_NAME
from hypervisor.config import DTB_SLOT, GUEST_RAM_BASE
from tools.isolation import IsolationError, gstage
from tools.isolation.layout import HV_DATA, build_layout
from tools.isolation.oracles import (FEED_BATCH, TraceChecker, Violation, check_memory,
                                     partition_hash, region_hashes)
from tools.isolation.containment import policies
from tools.isolation.scenario import pmp_violations, victim_self_check
from tools.toolchain import BUILD_DIR

#: Where rigs keep their scenario and placeholder.
RIG_DIR = BUILD_DIR / "isolation"
#: Cycle limit of one case after the snapshot.
CASE_CYCLES = 3_000_000
#: Cycles per step while looking for the first guest instruction.
BOOT_STEP = 2_000
#: Scenario template: the victim's guest and args, budgets in microseconds.
VICTIM_GUEST, VICTIM_ARGS = "vprobe", ()
#: The yielding victim's args: an HVSIM yield every round (the SBI-path switch), 8 rounds.
YIELDING_VICTIM_ARGS = (1, 8)
VICTIM_BUDGET_US, PERIOD_US = 500, 1000
ADVERSARY_RAM = 128 << 10
ADVERSARY_WATCHDOG_US = 15_000
#: Console input waiting in the UART from the snapshot on: VM 0's (the victim's, which
#: never reads it), so any other VM's access to it is a confidentiality violation.
CONSOLE_INPUT = b"secret!\n"
#: The placeholder adversary (over the guest runtime): shuts down at once.
PLACEHOLDER = "int kmain(void) { return 0; }\n"


@dataclass
class CaseResult:
    """What one case found."""

    violations: list[Violation]
    counts: dict[str, int]
    coverage: dict[str, int]
    cycles: int
    status: str  # the run's end: "pass", "fail" or "timeout"
    wall_s: float
    victim_console: str = ""
    ends: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.counts


def _scenario_text(placeholder: Path, victim_args, adversary_watchdog_us: int,
                   time_protection: bool = False) -> str:
    """The rig's scenario; with ``time_protection`` in the timing property's window
    layout (``timeprot.py``)."""
    from tools.isolation import timeprot

    args = ", ".join(str(a) for a in victim_args)
    if time_protection:
        hv = ["[hypervisor]", "time_protection = true", f"pad_us = {timeprot.PAD_US}", ""]
        victim_us = adversary_us = timeprot.WINDOW_US
        period_us = timeprot.PERIOD_US
    else:
        hv, period_us = [], PERIOD_US
        victim_us, adversary_us = VICTIM_BUDGET_US, PERIOD_US - VICTIM_BUDGET_US
    return "\n".join([
        "# The isolation rig (tools/isolation/rig.py): a victim and an adversary slot.",
        "", *hv, "[[vm]]", 'name = "victim"', f'guest = "{VICTIM_GUEST}"', 'ram = "2M"',
        *([f"args = [{args}]"] if victim_args else []), f"budget_us = {victim_us}",
        f"period_us = {period_us}", *(["max_restarts = 0"] if time_protection else []),
        "", "[[vm]]", 'name = "adversary"', f'image = "{placeholder}"',
        f'ram = "{ADVERSARY_RAM >> 10}K"', 'on_fault = "stop"', "max_restarts = 0",
        f"watchdog_us = {adversary_watchdog_us}", f"budget_us = {adversary_us}",
        f"period_us = {period_us}", 'devices = ["uart"]', ""])


def fresh_partition_problems(read, scenario, cfg) -> list[tuple[int, str]]:
    """(address, what) for every nonzero byte of a partition, before any guest ran,
    that is neither its ELF image nor its DTB (the DTB's own ``totalsize`` bytes at the
    top slot): the hypervisor must hand a VM nothing but its image and DTB."""
    import numpy as np

    from hardware.sim.elf import load_elf

    out = []
    for v in scenario.vms:
        keep = np.zeros(v.size, dtype=bool)
        for addr, data in load_elf(v.image, cfg).segments:
            off = addr - GUEST_RAM_BASE
            keep[max(0, off):max(0, min(v.size, off + len(data)))] = True
        slot = v.size - DTB_SLOT
        total = int.from_bytes(read(v.base + slot + 4, 4), "big")
        keep[slot:slot + min(total, DTB_SLOT)] = True
        raw = np.frombuffer(read(v.base, v.size), dtype=np.uint8)
        stray = np.flatnonzero((raw != 0) & ~keep)
        if len(stray):
            out.append((v.base + int(stray[0]),
                        f"vm {v.name}'s fresh partition holds {len(stray)} bytes that are "
                        f"neither its image nor its DTB (first at offset {int(stray[0]):#x})"))
    return out


def build_placeholder(out_dir: Path) -> Path:
    """The placeholder adversary: shuts itself down at once."""
    from guests.build import build_program

    src = out_dir / "placeholder.c"
    from tools.linker import write_if_changed

    write_if_changed(src, PLACEHOLDER)
    return build_program([src], out_dir / "placeholder.elf", "placeholder")


class Rig:
    """A booted victim + adversary-slot machine (see the module docstring).
    ``src_dir``/``build_dir`` build the firmware from other sources (mutants). With
    ``time_protection`` the hypervisor runs its time-protected schedule and every case
    also checks the timing property: the victim's cycle-stamped trace equals the
    reference run's, and no window switch overran its pad. With ``victim_yields`` the
    victim yields every round, so that the switches through the SBI path (whose
    register and CSR handling differs from a timer switch's) happen next to the
    adversary; it then gives time away, so its availability is not checked."""

    def __init__(self, cfg: SocConfig | None = None, *, src_dir: Path | None = None,
                 build_dir: Path | None = None, work_dir: Path | None = None,
                 adversary_watchdog_us: int = ADVERSARY_WATCHDOG_US,
                 time_protection: bool = False, victim_yields: bool = False):
        from hardware.sim.machine import Machine
        from hypervisor.build import build_firmware
        from hypervisor.config import load_scenario
        from tools.spike import elf_symbol

        self.cfg = cfg or variant("default")
        work = Path(work_dir or RIG_DIR)
        work.mkdir(parents=True, exist_ok=True)
        placeholder = build_placeholder(work)
        self.time_protection, self.victim_yields = time_protection, victim_yields
        toml = work / f"rig{'-tp' if time_protection else ''}{'-y' if victim_yields else ''}.toml"
        from tools.linker import write_if_changed

        args = YIELDING_VICTIM_ARGS if victim_yields else VICTIM_ARGS
        write_if_changed(toml, _scenario_text(placeholder, args, adversary_watchdog_us,
                                              time_protection))
        self.scenario = load_scenario(toml, self.cfg)
        where = {k: v for k, v in (("src_dir", src_dir), ("build_dir", build_dir)) if v}
        self.firmware = build_firmware(self.scenario, self.cfg, **where)
        elf = self.firmware.elf
        self.layout = build_layout(self.scenario, elf, self.cfg)
        self.policies = policies(self.scenario)
        self.running_addr = elf_symbol(elf, "hv_running_vm")
        self.debug_addr = elf_symbol(elf, "hv_debug")
        if self.running_addr is None or self.debug_addr is None:
            raise IsolationError(f"{elf}: no hv_running_vm/hv_debug symbol")
        self.victim = self.scenario.vm("victim")
        self.adversary = self.scenario.vm("adversary")
        self.ram = region(self.cfg, "ram")
        self.machine = Machine(self.cfg, "compiled")
        self._boot()
        self.reference = self.run_case(None)
        self.reference.violations += victim_self_check(
            self.reference.victim_console.splitlines(), self.reference.cycles)
        if not self.reference.violations and self.boot_problems:
            self.reference.violations += self.boot_problems
        if self.reference.violations or self.reference.status == "timeout":
            lines = [v.line() for v in self.reference.violations[:3]]
            raise IsolationError(f"the reference case is not clean ({self.reference.status}): "
                                 f"{'; '.join(lines) or self.reference.counts}")
        self.reference_obs = self._last_obs

    # ---- memory

    def read(self, addr: int, n: int) -> bytes:
        """``n`` bytes of RAM at physical ``addr``."""
        return self.machine.simulator.read_mem(RAM_NAME, addr - self.ram.base, n)

    def _write(self, addr: int, data: bytes) -> None:
        self.machine.simulator.write_mem(RAM_NAME, addr - self.ram.base, data)

    # ---- boot

    def _boot(self) -> None:
        """Run to the cycle where V first becomes 1 (the hypervisor's first entry into a
        guest, before any guest instruction): in steps of ``BOOT_STEP`` until a guest
        instruction has retired (V alone can be 0 again by then, in the hypervisor), then
        back one step and cycle by cycle."""
        from hardware.sim.elf import load_elf

        m = self.machine
        m.load(load_elf(self.firmware.elf, self.cfg))
        guest = []
        m.trace_to(lambda cols: guest.append(bool(cols["v"].any())), arrays=True)
        before = m.snapshot()
        while not any(guest):
            before = m.snapshot()
            self._step(BOOT_STEP)
            m.snapshot()                    # hands the step's records to the sink
        m.trace_to(None)
        m.restore(before)
        sim = m.simulator
        while not sim.get_register("virt"):
            self._step(1)
        self.boot_cycle = m.cycle
        for byte in CONSOLE_INPUT:
            m.push_uart_rx(byte)
        self.snapshot = m.snapshot()
        self.boot_hashes = region_hashes(self.read, self.layout)
        self.boot_running = int.from_bytes(self.read(self.running_addr, 4), "little",
                                           signed=True)
        self.boot_problems = [Violation("confidentiality", self.boot_cycle, 0, addr, what)
                              for addr, what in fresh_partition_problems(self.read,
                                                                         self.scenario,
                                                                         self.cfg)]

    def _step(self, cycles: int) -> None:
        out = self.machine.run(cycles)
        if out.status != "timeout":
            raise IsolationError(f"the rig's firmware ended during boot ({out.status}): "
                                 f"{out.uart_bytes.decode(errors='replace')[-300:]}")
        if self.machine.cycle > CASE_CYCLES:
            raise IsolationError("no guest instruction within the boot budget")

    # ---- cases

    def load_adversary(self, elf: Path | None) -> None:
        """Write ``elf`` (None: keep the placeholder) into the adversary's partition."""
        if elf is None:
            return
        from hardware.sim.elf import load_elf

        image = load_elf(elf, self.cfg)
        base, size = self.adversary.base, self.adversary.size
        room = size - DTB_SLOT
        self._write(base, bytes(room))
        for addr, data in image.segments:
            off = addr - GUEST_RAM_BASE
            if off < 0 or off + len(data) > room:
                raise IsolationError(f"{elf}: segment at {addr:#x} (+{len(data):#x}) is "
                                     f"outside the adversary's {room:#x} bytes of RAM")
            self._write(base + off, data)

    def run_case(self, elf: Path | None, irqs: tuple[tuple[int, int], ...] = (),
                 max_cycles: int = CASE_CYCLES) -> CaseResult:
        """Restore the snapshot, load ``elf`` as the adversary, run, check everything."""
        m = self.machine
        t0 = time.perf_counter()
        m.restore(self.snapshot)
        self.load_adversary(elf)
        budgets = {} if self.victim_yields else {self.victim.index: self._victim_budget()}
        chk = TraceChecker(self.layout, self.running_addr, budgets=budgets,
                           observe=(self.victim.index,), booted=True,
                           current=self.boot_running, vms=self.policies,
                           timed=self.time_protection,
                           time_protected=self.time_protection, batch=FEED_BATCH)
        m.trace_to(chk.feed, arrays=True)
        end = self.boot_cycle + max_cycles
        out = None
        for offset, mask in sorted(irqs):
            at = self.boot_cycle + offset
            if at >= end:
                break
            if at > m.cycle:
                out = m.run(at - m.cycle)
            if out is not None and out.status != "timeout":
                break
            m.set_irq_lines(mask)
        if (out is None or out.status == "timeout") and end > m.cycle:
            out = m.run(end - m.cycle)
        out = m.outcome() if out is None else out
        m.trace_to(None)
        chk.finish()
        violations = list(chk.violations)
        violations += check_memory(self.boot_hashes, region_hashes(self.read, self.layout),
                                   self.layout)
        table_ok = lambda a: self.layout.kind_of(a) == HV_DATA  # noqa: E731
        from hardware.mmu.tlb import VMID_BITS

        for problem in gstage.check_all(self.read, self.debug_addr, self.scenario.vms,
                                        table_ok, VMID_BITS):
            violations.append(Violation("gstage", out.cycles, 0, 0, problem))
        violations += pmp_violations(m, self.cfg, self.layout, out.cycles)
        console = self._victim_console(out.uart_bytes)
        obs = (chk.observation(self.victim.index), console,
               partition_hash(self.read, self.layout, self.victim.index),
               chk.timed_observation(self.victim.index) if self.time_protection else None)
        self._last_obs = obs
        if self.time_protection:
            violations += self._overruns(out.uart_bytes, out.cycles)
        if elf is not None and getattr(self, "reference_obs", None) is not None:
            violations += self._noninterference(obs, out.cycles)
        counts = dict(chk.counts)
        for v in violations[len(chk.violations):]:
            counts[v.prop] = counts.get(v.prop, 0) + 1
        return CaseResult(violations, counts, dict(chk.coverage), out.cycles - self.boot_cycle,
                          out.status, time.perf_counter() - t0, console)

    def _victim_console(self, uart: bytes) -> str:
        """The victim's console lines (``[victim] ...``) from the whole UART text."""
        prefix = "[victim]"
        return "".join(line[len(prefix):].lstrip() + "\n"
                       for line in uart.decode(errors="replace").splitlines()
                       if line.startswith(prefix))

    def _victim_budget(self) -> tuple[int, int]:
        """The victim's (budget, period) in cycles for availability: with time
        protection its window less the pad."""
        from tools.isolation import timeprot

        if self.time_protection:
            return ((timeprot.WINDOW_US - timeprot.PAD_US) * 10, timeprot.PERIOD_US * 10)
        return VICTIM_BUDGET_US * 10, PERIOD_US * 10

    def _overruns(self, uart: bytes, cycle: int) -> list[Violation]:
        """A timing violation when a window switch overran the pad (the @tp record,
        kept as ``last_tp``)."""
        from tools.hvrun import parse_output

        try:
            tp = self.last_tp = parse_output(uart).tp
        except Exception as exc:  # noqa: BLE001 -- a garbled report is itself a finding
            return [Violation("timing", cycle, 0, 0, f"no readable @tp record: {exc}")]
        if tp is None or not tp["overruns"]:
            return [] if tp else [Violation("timing", cycle, 0, 0, "no @tp record")]
        return [Violation("timing", cycle, 0, 0, f"{tp['overruns']} window switches overran "
                          f"the pad (longest {tp['worst']} ticks, pad {tp['pad']})")]

    def _noninterference(self, obs, cycle: int) -> list[Violation]:
        """The victim's observations must equal the reference run's; with time
        protection, their cycle stamps too."""
        (n, h), console, mem, timed = obs
        (rn, rh), rconsole, rmem, rtimed = self.reference_obs
        out = []
        if (n, h) != (rn, rh):
            out.append(f"victim's trace differs from the reference run ({n} records, "
                       f"reference {rn})")
        if console != rconsole:
            out.append("victim's console differs from the reference run")
        if mem != rmem:
            out.append("victim's final memory differs from the reference run")
        found = [Violation("confidentiality", cycle, 0, 0, d) for d in out]
        if not out and timed != rtimed:
            found.append(Violation("timing", cycle, 0, 0, "victim's cycle-stamped trace "
                                   "differs from the reference run"))
        return found


def case_digest(elf: Path) -> str:
    """A short digest of an adversary ELF (folder names of violations)."""
    return hashlib.sha256(Path(elf).read_bytes()).hexdigest()[:12]
