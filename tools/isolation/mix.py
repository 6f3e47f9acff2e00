"""Scenario mixes: the campaign's second kind of case (issue 7, item 2, "uses the
guest suite's misbehaving guests as seeds"; docs/fuzzing.md, "Mixes").

An adversary program in the rig exercises one VM against a fixed victim. Much of the
hypervisor only runs for other configurations: restarts and reboots, the virtual UART,
VU processes with their own page tables, watchdogs, several VMs competing for the
CPU. A mix is a random scenario of two or three VMs drawn from the guest suite
(``POOL``: probes, kernels and hostile guests) with random budgets, fault policies,
restart limits and watchdogs. It runs from boot with every property checked
(``scenario.check_scenario``) and the self-checks of the probes; Hypothesis shrinks a
failing mix to fewer VMs, simpler guests and default settings.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

#: Guests of a mix: name -> (RAM, the args it may get, whether it ends by itself). The
#: first entries are the simplest (shrinking moves towards them).
POOL: dict[str, tuple[str, tuple[tuple[int, ...], ...], bool]] = {
    "hello": ("2M", ((),), True),
    "counter": ("2M", ((),), True),
    "vprobe": ("2M", ((), (1, 10), (1, 20)), True),
    "regs": ("2M", ((),), True),
    "rebooter": ("128K", ((), (2,)), True),
    "crasher": ("2M", ((),), True),
    "uarttest": ("2M", ((),), True),
    "sbitest": ("2M", ((),), True),
    "wfi": ("2M", ((),), True),
    "ticker": ("2M", ((),), True),
    "paging": ("4M", ((), (1,)), True),
    "priv_probe": ("2M", ((),), True),
    "smc": ("2M", ((),), True),
    "wild_mem": ("128K", ((),), True),
    "ecall_storm": ("2M", ((),), True),
    "spinner": ("128K", ((),), False),
    "fault_loop": ("2M", ((),), False),
    "wfi_forever": ("128K", ((),), False),
}
#: Guests that check their own vCPU state across switches (each prints a FAIL line when
#: a register, CSR or pending interrupt changed under it): every mix's last VM is one
#: of them, its observer, so that a leak into it shows in that very run. Last, because
#: the first scheduling pass starts at VM 0: its neighbours run (and hog) first.
OBSERVERS = ("vprobe", "regs")
#: The observer's budget share (percent of the period; None: the default), the first
#: one (what shrinking moves to) with a budget, so its availability is judged.
OBSERVER_SHARES = (25, 40, 10, None)
#: Budget shares of an availability mix's VMs (percent of its one period).
JUDGED_SHARES = (25, 10, 40)
#: The most of a period the budgets of a judged mix reserve together (percent). The
#: rest is for the hypervisor's non-preemptible exits: one console line costs about
#: 3,000 cycles (30 % of a 1 ms period), runs past the budget and is not paid back, so
#: at 90 % a VM can starve for two periods (docs/fuzzing.md, "Known findings").
JUDGED_LOAD = 75
#: CPU time of a guest that never ends by itself before its watchdog stops it.
ENDLESS_WATCHDOG_US = 20_000
#: Scheduling periods and budgets a VM may get (microseconds); None: the default.
PERIODS_US = (1000, 2000)
BUDGET_SHARES = (None, 10, 25, 40)  # percent of the period
#: Cycle limit of one mix (the longest clean one takes about 8 M).
MAX_CYCLES = 20_000_000
#: RAM of a mix, at most (the SoC has 16 MiB; the hypervisor keeps 2 MiB).
MAX_RAM = 10 << 20
#: Largest mix, in VMs.
MAX_VMS = 3


@dataclass(frozen=True)
class MixVm:
    """One VM of a mix."""

    guest: str
    args: tuple[int, ...] = ()
    share: int | None = None  # percent of the period as budget (None: the default)
    period_us: int = PERIODS_US[0]
    restart: bool = False
    max_restarts: int = 0

    @property
    def ram(self) -> str:
        return POOL[self.guest][0]

    def toml(self, name: str) -> list[str]:
        lines = ["[[vm]]", f'name = "{name}"', f'guest = "{self.guest}"',
                 f'ram = "{self.ram}"']
        if self.args:
            lines.append(f"args = [{', '.join(map(str, self.args))}]")
        if self.share is not None:
            lines += [f"budget_us = {self.period_us * self.share // 100}",
                      f"period_us = {self.period_us}"]
        if self.restart:
            lines.append('on_fault = "restart"')
        lines.append(f"max_restarts = {self.max_restarts}")   # 0 is not the default
        if not POOL[self.guest][2]:
            lines.append(f"watchdog_us = {ENDLESS_WATCHDOG_US}")
        return lines


@dataclass(frozen=True)
class Mix:
    """A scenario of VMs from ``POOL``."""

    vms: tuple[MixVm, ...]
    note: str = ""  # a seed mix's name (``SEED_MIXES``); "" for a generated one

    def toml(self) -> str:
        out = ["# A scenario mix of hvsim fuzz isolation (tools/isolation/mix.py)"]
        if self.note:
            out.append(f"# The seed mix: {self.note}")
        for i, vm in enumerate(self.vms):
            out += ["", *vm.toml(f"vm{i}")]
        return "\n".join(out) + "\n"

    def digest(self) -> str:
        return hashlib.sha256(self.toml().encode()).hexdigest()[:12]

    def availability(self) -> dict[str, tuple[int, int]]:
        """Budgets to check: each ``vprobe`` that never yields, when every VM has a
        budget, all in one period, that leave a quarter of it free (``JUDGED_LOAD``),
        and no VM restarts (a restart's scrub is not preemptible, docs/fuzzing.md
        "Known findings"). A VM with the default
        budget, or another period, may legitimately hold the CPU past a replenishment
        (a tick does not preempt an equal priority, docs/hypervisor.md "Scheduling")."""
        if any(vm.max_restarts for vm in self.vms) or any(vm.share is None for vm in self.vms):
            return {}
        if sum(vm.share for vm in self.vms) > JUDGED_LOAD \
                or len({vm.period_us for vm in self.vms}) > 1:
            return {}
        return {f"vm{i}": (vm.period_us * vm.share // 100, vm.period_us)
                for i, vm in enumerate(self.vms)
                if vm.guest == "vprobe" and not vm.args and vm.share}

    def describe(self) -> str:
        return ", ".join(vm.guest for vm in self.vms)


@st.composite
def observers(draw) -> MixVm:
    """A mix's last VM: an ``OBSERVERS`` guest that never restarts."""
    guest = draw(st.sampled_from(OBSERVERS))
    return MixVm(guest, draw(st.sampled_from(POOL[guest][1])),
                 draw(st.sampled_from(OBSERVER_SHARES)), draw(st.sampled_from(PERIODS_US)))


@st.composite
def mix_vms(draw) -> MixVm:
    guest = draw(st.sampled_from(tuple(POOL)))
    restart = draw(st.booleans())
    return MixVm(guest, draw(st.sampled_from(POOL[guest][1])),
                 draw(st.sampled_from(BUDGET_SHARES)), draw(st.sampled_from(PERIODS_US)),
                 restart, draw(st.integers(0, 3)) if restart or guest == "rebooter" else 0)


#: The seed mixes: fixed scenarios a campaign runs before it searches (like the
#: adversary seed corpus, ``gen.SEEDS``), each for a policy random mixes reach rarely.
SEED_MIXES: tuple[Mix, ...] = (
    Mix((MixVm("regs"), MixVm("vprobe", (1, 20)), MixVm("regs")),
        "three VMs that yield every round: each yield hands over in round-robin order"),
    Mix((MixVm("rebooter", max_restarts=3), MixVm("regs")),
        "a VM that reboots until its restart limit: each life starts with a fresh vCPU "
        "and no VS-stage translation of the last"),
)


def _ram_bytes(vm: MixVm) -> int:
    n, unit = int(vm.ram[:-1]), vm.ram[-1]
    return n << (20 if unit == "M" else 10)


@st.composite
def availability_vms(draw) -> tuple[MixVm, ...]:
    """The VMs of an availability mix: neighbours and a ``vprobe`` observer that never
    yields, each with a budget of one common period, none restarting: what
    ``Mix.availability`` judges (when the budgets fit)."""
    period = draw(st.sampled_from(PERIODS_US))
    shares = st.sampled_from(JUDGED_SHARES)
    vms = []
    for guest in draw(st.lists(st.sampled_from(tuple(POOL)), min_size=1,
                               max_size=MAX_VMS - 1)):
        vms.append(MixVm(guest, draw(st.sampled_from(POOL[guest][1])), draw(shares), period))
    return (*vms, MixVm("vprobe", (), draw(shares), period))


def mixes() -> st.SearchStrategy[Mix]:
    """Mixes of 2..``MAX_VMS`` VMs within ``MAX_RAM``, neighbours then an observer:
    half of them availability mixes (``availability_vms``), half free."""
    free = st.tuples(st.lists(mix_vms(), min_size=1, max_size=MAX_VMS - 1), observers()) \
        .map(lambda parts: (*parts[0], parts[1]))
    return st.one_of(availability_vms(), free) \
        .filter(lambda vms: sum(map(_ram_bytes, vms)) <= MAX_RAM) \
        .map(lambda vms: Mix(tuple(vms)))


@dataclass
class MixResult:
    """What one mix found (the fields a campaign reads of a rig ``CaseResult``)."""

    violations: list
    counts: dict[str, int]
    coverage: dict[str, int]
    cycles: int
    status: str
    wall_s: float
    ends: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


def write_mix(mix: Mix, folder: Path, stem: str = "mix") -> Path:
    """The mix's scenario file in ``folder`` (one per stem: its firmware build is
    reused)."""
    from tools.linker import write_if_changed

    folder.mkdir(parents=True, exist_ok=True)
    return write_if_changed(folder / f"{stem}.toml", mix.toml())


def run_mix(toml: Path, cfg, *, machine=None, src_dir: Path | None = None,
            build_dir: Path | None = None, budgets: dict | None = None,
            max_cycles: int = MAX_CYCLES) -> MixResult:
    """Run the scenario file ``toml`` of a mix with every property checked. A run that
    does not end, or a hypervisor panic, is a violation too."""
    from tools.isolation.oracles import Violation
    from tools.isolation.scenario import PANIC_EXIT, check_scenario

    t0 = time.perf_counter()
    res = check_scenario(toml, cfg, machine=machine, src_dir=src_dir, build_dir=build_dir,
                         budgets=budgets, max_cycles=max_cycles)
    violations, counts = list(res.violations), dict(res.counts)
    extra = []
    if res.status == "timeout":
        extra.append(Violation("availability", res.cycles, 0, 0,
                               f"the mix did not end within {max_cycles} cycles"))
    elif res.exit_code == PANIC_EXIT:
        extra.append(Violation("containment", res.cycles, 0, 0, "the hypervisor panicked"))
    for v in extra:
        counts[v.prop] = counts.get(v.prop, 0) + 1
    return MixResult(violations + extra, counts, res.coverage, res.cycles, res.status,
                     time.perf_counter() - t0)
