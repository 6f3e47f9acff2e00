"""The isolation properties over a whole scenario run (docs/fuzzing.md, "Checking a
scenario"): the hypervisor boots the scenario's guests on the model with the
``TraceChecker`` on every retired instruction; after boot (the first guest
instruction) the hashes of the regions nobody may change are taken, and at the end
they are compared and every VM's G-stage table is walked.

This is how the guest suite's scenarios, including the hostile ones, become isolation
tests (tests/isolation/test_properties.py) and how ``hvsim mutate fw`` runs them
against firmware mutants. ``budgets`` turns on the availability property for VMs that
never wait (CPU-bound guests).

``noninterference`` is the confidentiality property over scenario pairs: the victim
``vprobe`` (whose trace has nothing that depends on time) runs alone and next to each
of ``NEIGHBOURS``; its observations (its architectural trace, console and final
memory) must be the same in every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hardware.soc.memory_map import region
from hardware.soc.soc import RAM_NAME
from tools.isolation import IsolationError, gstage, pmp
from tools.isolation.containment import policies
from tools.isolation.layout import HV_DATA, M_STAGE, build_layout
from tools.isolation.oracles import (FEED_BATCH, TraceChecker, Violation, check_memory,
                                     region_hashes)

#: Cycle limit of one scenario run.
MAX_CYCLES = 50_000_000


@dataclass
class ScenarioCheck:
    """The outcome of one checked scenario run."""

    scenario: str
    violations: list[Violation]
    counts: dict[str, int]
    coverage: dict[str, int] = field(default_factory=dict)
    status: str = ""
    cycles: int = 0
    console: dict[str, list[str]] = field(default_factory=dict)
    exit_code: int | None = None
    observations: dict[str, tuple] = field(default_factory=dict)  # VM -> (records, sha256)
    tp: dict[str, int] | None = None  # the firmware's @tp record (time protection)

    @property
    def ok(self) -> bool:
        return not self.counts


class _Watch:
    """Feeds the checker and takes the post-boot hashes at the first guest record."""

    def __init__(self, checker: TraceChecker, read, layout):
        self.checker, self.read, self.layout = checker, read, layout
        self.boot_hashes: dict | None = None

    def __call__(self, cols) -> None:
        if self.boot_hashes is None and cols["v"].any():
            self.boot_hashes = region_hashes(self.read, self.layout)
        self.checker.feed(cols)


def check_scenario(scenario, cfg, *, machine=None, src_dir: Path | None = None,
                   build_dir: Path | None = None,
                   budgets: dict[str, tuple[int, int]] | None = None,
                   observe: tuple[str, ...] = (), timed: bool = False,
                   max_cycles: int = MAX_CYCLES) -> ScenarioCheck:
    """Run ``scenario`` (name, path or Scenario) on the model with every property
    checked; ``budgets`` maps VM names to (budget_us, period_us) for availability;
    the VMs in ``observe`` have their trace hashed, with cycle stamps if ``timed``.

    The post-boot hashes are taken when the first trace batch holding a guest
    instruction arrives, so changes made before that within the batch are not seen by
    the hash comparison (the trace checks see every record)."""
    from hardware.sim.machine import Machine
    from hypervisor.build import build_firmware
    from hypervisor.config import load_scenario
    from tools.hvrun import run_scenario
    from tools.spike import elf_symbol

    sc = load_scenario(scenario, cfg) if isinstance(scenario, (str, Path)) else scenario
    where = {k: v for k, v in (("src_dir", src_dir), ("build_dir", build_dir)) if v}
    fw = build_firmware(sc, cfg, **where)
    layout = build_layout(sc, fw.elf, cfg)
    running, debug = elf_symbol(fw.elf, "hv_running_vm"), elf_symbol(fw.elf, "hv_debug")
    if running is None or debug is None:
        raise IsolationError(f"{fw.elf}: no hv_running_vm/hv_debug symbol")
    by_name = {v.name: v for v in sc.vms}
    cycles_per_us = 10
    budget_cycles = {by_name[n].index: (b * cycles_per_us, p * cycles_per_us)
                     for n, (b, p) in (budgets or {}).items()}
    watched = tuple(by_name[n].index for n in observe)
    checker = TraceChecker(layout, running, budgets=budget_cycles, observe=watched,
                           vms=policies(sc), timed=timed,
                           time_protected=sc.time_protection, batch=FEED_BATCH)
    own = machine is None
    machine = machine or Machine(cfg, "compiled")
    ram = region(cfg, "ram")

    def read(addr: int, n: int) -> bytes:
        return machine.simulator.read_mem(RAM_NAME, addr - ram.base, n)

    watch = _Watch(checker, read, layout)
    try:
        result = run_scenario(sc, cfg, machine=machine, max_cycles=max_cycles, trace=watch,
                              **where)
        pmp = pmp_violations(machine, cfg, layout, result.cycles or 0)
    finally:
        if own:
            machine.close()
    checker.finish()
    violations = list(checker.violations)
    counts = dict(checker.counts)
    extra = list(pmp)
    if watch.boot_hashes is not None:
        extra += check_memory(watch.boot_hashes, region_hashes(read, layout), layout)
    from hardware.mmu.tlb import VMID_BITS

    table_ok = lambda a: layout.kind_of(a) == HV_DATA  # noqa: E731
    extra += [Violation("gstage", result.cycles or 0, 0, 0, p)
              for p in gstage.check_all(read, debug, sc.vms, table_ok, VMID_BITS)]
    extra += self_checks(sc, result.console, result.cycles or 0)
    for v in extra:
        counts[v.prop] = counts.get(v.prop, 0) + 1
    seen = checker.timed_observation if timed else checker.observation
    obs = {n: seen(by_name[n].index) for n in observe}
    return ScenarioCheck(sc.name, violations + extra, counts, dict(checker.coverage),
                         result.status, result.cycles or 0, result.console, result.exit_code,
                         obs, result.tp)


def pmp_violations(machine, cfg, layout, cycle: int) -> list[Violation]:
    """The PMP invariant (``pmp.py``) on the model's PMP CSRs as they are now."""
    (m_stage,) = layout.of_kind(M_STAGE)
    return [Violation("gstage", cycle, 0, m_stage.base, p)
            for p in pmp.m_stage_problems(machine.simulator, cfg.core.pmp_regions,
                                          m_stage.base, m_stage.end)]


def _vprobe_line(line: str) -> str | None:
    """vprobe's report of a vCPU register that changed under it (a ``sip`` bit it never
    asked for is interrupt routing)."""
    if line.startswith("vprobe: round") and " is 0x" in line:
        return "interrupt-routing" if " sip " in line else "confidentiality"
    return None


def _rebooter_line(line: str) -> str | None:
    """rebooter's report that a new life saw its old one (memory or a VS-stage
    translation)."""
    return "confidentiality" if line.startswith("rebooter: FAIL") else None


def _regs_line(line: str) -> str | None:
    """regs's report of a register or VS CSR that changed under it across a switch, or
    of a trap it never set up for (an interrupt: routing; an exception: its state, such
    as ``stvec`` or ``satp``, changed). Its other failures (a spin no tick interrupted,
    no VM id) depend on the configuration, not on isolation."""
    if line.startswith("regs: FAIL round "):
        return "confidentiality"
    if line.startswith("regs: FAIL unexpected trap: scause 0x"):
        cause = int(line.split("scause 0x", 1)[1].split()[0], 16)
        return "interrupt-routing" if cause >> 63 else "confidentiality"
    return None


#: Guests that check a guarantee themselves: guest -> the property a console line of
#: theirs reports broken (None: the line reports nothing).
SELF_CHECKS = {"vprobe": _vprobe_line, "rebooter": _rebooter_line, "regs": _regs_line}
#: Hypervisor exit status of a panic (docs/hypervisor.md, "Exit").
PANIC_EXIT = 4


def self_checks(sc, console: dict[str, list[str]], cycle: int) -> list[Violation]:
    """A violation per failed-check line of a self-checking guest (``SELF_CHECKS``)."""
    out = []
    for vm in sc.vms:
        judge = SELF_CHECKS.get(vm.guest or "")
        for line in console.get(vm.name, []) if judge else ():
            prop = judge(line)
            if prop:
                out.append(Violation(prop, cycle, 0, 0, f"vm {vm.name} reports: {line}"))
    return out


#: The victim of the noninterference runs and its VM.
NI_VICTIM = ("probe", "vprobe", "2M", 500, 1000)
#: Its args: yield once a round (a switch from the SBI path), 40 rounds (long enough to
#: overlap its neighbours' whole runs).
NI_VICTIM_ARGS = (1, 40)
#: Neighbour sets of the victim: name -> guests (each in a 2 MiB VM with its own budget).
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "alone": (),
    "regs": ("regs", "regs"),
    "hostile": ("priv_probe", "ecall_storm", "spinner"),
    "os": ("paging", "counter"),
    "sbi": ("sbitest",),
}
#: Watchdog of neighbours that never end by themselves.
NEIGHBOUR_WATCHDOG_US = 5000


def victim_self_check(console: list[str], cycle: int = 0) -> list[Violation]:
    """The victim's own checks of its vCPU state as violations: a ``sip`` line (an
    interrupt it never asked for) is interrupt routing, any other failed line is
    confidentiality (its state changed under it); no final ``PASS`` line is one too."""
    out = [Violation(prop, cycle, 0, 0, f"victim self-check: {line}")
           for line in console if (prop := _vprobe_line(line))]
    if not out and (not console or console[-1] != "vprobe: PASS"):
        out.append(Violation("confidentiality", cycle, 0, 0,
                             f"victim did not pass: {console[-1] if console else 'no output'}"))
    return out


def ni_scenario(neighbours: str) -> Path:
    """Write (if changed) the scenario of the victim next to ``NEIGHBOURS[neighbours]``."""
    from tools.linker import write_if_changed
    from tools.toolchain import BUILD_DIR

    name, guest, ram, budget, period = NI_VICTIM
    lines = ["# The noninterference victim and its neighbours (tools/isolation/scenario.py)",
             "", "[[vm]]", f'name = "{name}"', f'guest = "{guest}"', f'ram = "{ram}"',
             f"budget_us = {budget}", f"period_us = {period}",
             f"args = [{', '.join(str(a) for a in NI_VICTIM_ARGS)}]"]
    for i, g in enumerate(NEIGHBOURS[neighbours]):
        lines += ["", "[[vm]]", f'name = "n{i}"', f'guest = "{g}"', 'ram = "2M"',
                  f"budget_us = {budget}", f"period_us = {period}",
                  f"watchdog_us = {NEIGHBOUR_WATCHDOG_US}" if g == "spinner" else ""]
    return write_if_changed(BUILD_DIR / "isolation" / f"ni-{neighbours}.toml",
                            "\n".join(lines) + "\n")


def noninterference(cfg, *, machine=None, src_dir: Path | None = None,
                    build_dir: Path | None = None,
                    max_cycles: int = MAX_CYCLES) -> list[Violation]:
    """Run the victim with every neighbour set (each run also checks every other
    property); a violation per run whose victim observations differ from the run
    alone, and every other property's violations."""
    name = NI_VICTIM[0]
    out: list[Violation] = []
    ref = None
    for neighbours in NEIGHBOURS:
        res = check_scenario(ni_scenario(neighbours), cfg, machine=machine, src_dir=src_dir,
                             build_dir=build_dir, observe=(name,), max_cycles=max_cycles)
        out += res.violations + victim_self_check(res.console.get(name, []), res.cycles)
        seen = (res.observations[name], res.console.get(name, []))
        if ref is None:
            ref = seen
        elif seen != ref:
            out.append(Violation("confidentiality", res.cycles, 0, 0,
                                 f"vm {name}'s observations next to '{neighbours}' differ "
                                 f"from its run alone"))
    return out


#: The availability run: hogs first (so they hold the CPU before the victim starts),
#: then the victim; budgets in microseconds of each 1000 us period add up to it.
HOGS = (("spinner", 300), ("fault_loop", 300))
AVAIL_BUDGET_US, AVAIL_PERIOD_US = 400, 1000


def availability_scenario() -> Path:
    """Write (if changed) the availability run's scenario."""
    from tools.linker import write_if_changed
    from tools.toolchain import BUILD_DIR

    name, guest, ram, _, _ = NI_VICTIM
    lines = ["# The availability run (tools/isolation/scenario.py): hogs, then the victim"]
    for i, (g, budget) in enumerate(HOGS):
        lines += ["", "[[vm]]", f'name = "hog{i}"', f'guest = "{g}"', 'ram = "2M"',
                  f"budget_us = {budget}", f"period_us = {AVAIL_PERIOD_US}",
                  f"watchdog_us = {NEIGHBOUR_WATCHDOG_US}"]
    lines += ["", "[[vm]]", f'name = "{name}"', f'guest = "{guest}"', f'ram = "{ram}"',
              f"budget_us = {AVAIL_BUDGET_US}", f"period_us = {AVAIL_PERIOD_US}"]
    return write_if_changed(BUILD_DIR / "isolation" / "availability.toml",
                            "\n".join(lines) + "\n")


def availability(cfg, *, machine=None, src_dir: Path | None = None,
                 build_dir: Path | None = None, max_cycles: int = MAX_CYCLES) -> list[Violation]:
    """The victim's budget next to hogs that spin with interrupts off or fault forever,
    with every other property checked too."""
    name = NI_VICTIM[0]
    res = check_scenario(availability_scenario(), cfg, machine=machine, src_dir=src_dir,
                         build_dir=build_dir, max_cycles=max_cycles,
                         budgets={name: (AVAIL_BUDGET_US, AVAIL_PERIOD_US)})
    out = res.violations + victim_self_check(res.console.get(name, []), res.cycles)
    if res.status == "timeout":
        out.append(Violation("availability", res.cycles, 0, 0, "the run did not end"))
    return out
