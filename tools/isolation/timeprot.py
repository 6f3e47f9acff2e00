"""Time protection's property (issue 7, item 6; docs/fuzzing.md, "Time protection").

With ``[hypervisor] time_protection`` the hypervisor runs a time-partitioned
schedule whose switches flush the TLB and are padded to a constant length
(hypervisor/src/core/tp.c). The **timing** property: the victim's cycle-stamped
observations (its architectural trace with the ``cycle`` stamp of every record, and
its console, which prints the times it measures) are the same next to every
adversary of ``ADVERSARIES``, all run in the same window layout.

The victim is the receiver of a planted TLB-timing channel (``tlbspy``): each round
it primes 12 TLB entries, waits to be preempted, and times touching them again. Two of
the adversaries are its sender, evicting those entries or not. With time protection
off on the ``tlbkeep`` SoC variant (TLB entries survive an hgatp write), the receiver
reads the sender's bit: ``channel_demo`` shows that the property then fails.
Every run also checks every other property.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tools.isolation.oracles import Violation
from tools.isolation.scenario import MAX_CYCLES, check_scenario

#: The victim: (VM name, guest, args): the channel's receiver, 4 rounds.
VICTIM = ("spy", "tlbspy", (0, 4))
#: Adversaries in the second window: name -> (guest, args). Each never ends by itself
#: or ends early; the watchdog stops those that spin.
ADVERSARIES: dict[str, tuple[str, tuple[int, ...]]] = {
    "tlb-send-1": ("tlbspy", (1, 1)),
    "tlb-send-0": ("tlbspy", (1, 0)),
    "spinner": ("spinner", ()),
    "ecall_storm": ("ecall_storm", ()),
    "wfi_forever": ("wfi_forever", ()),
    "crasher": ("crasher", ()),
    "sbitest": ("sbitest", ()),
}
#: The window layout: both windows and the frame (period) in microseconds, the pad,
#: and the first frame's start (after every adversary's boot, so that it is the same).
WINDOW_US, PERIOD_US, PAD_US, BOOT_US = 1000, 3000, 500, 24000
ADVERSARY_WATCHDOG_US = 6000


@dataclass
class TimingRun:
    """One adversary's run: what the victim observed, and the other properties."""

    adversary: str
    observation: tuple
    console: list[str]
    violations: list[Violation]
    tp: dict[str, int] | None
    cycles: int


@dataclass
class TimingResult:
    """The timing property over every adversary."""

    protected: bool
    runs: list[TimingRun] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def leaks(self) -> list[str]:
        """The adversaries next to which the victim observed something different."""
        ref = self.runs[0]
        return [r.adversary for r in self.runs[1:]
                if (r.observation, r.console) != (ref.observation, ref.console)]


def tp_scenario(adversary: str, protected: bool, pad_us: int = PAD_US) -> Path:
    """Write (if changed) the scenario of the victim next to ``ADVERSARIES[adversary]``,
    with time protection on or off."""
    from tools.linker import write_if_changed
    from tools.toolchain import BUILD_DIR

    name, guest, args = VICTIM
    adv_guest, adv_args = ADVERSARIES[adversary]
    hv = ["[hypervisor]", f"time_protection = {str(protected).lower()}"]
    if protected:
        hv += [f"pad_us = {pad_us}", f"boot_us = {BOOT_US}"]
    lines = ["# The timing property's run (tools/isolation/timeprot.py)", "", *hv]
    for vm, g, a, extra in ((name, guest, args, []),
                            ("adversary", adv_guest, adv_args,
                             ['on_fault = "stop"', f"watchdog_us = {ADVERSARY_WATCHDOG_US}"])):
        lines += ["", "[[vm]]", f'name = "{vm}"', f'guest = "{g}"', 'ram = "2M"',
                  f"budget_us = {WINDOW_US}", f"period_us = {PERIOD_US}",
                  "max_restarts = 0", *extra]
        if a:
            lines.append(f"args = [{', '.join(map(str, a))}]")
    tag = "tp" if protected else "open"
    return write_if_changed(BUILD_DIR / "isolation" / f"timing-{tag}-{adversary}.toml",
                            "\n".join(lines) + "\n")


def timing(cfg, *, protected: bool = True, adversaries: tuple[str, ...] = tuple(ADVERSARIES),
           machine=None, src_dir: Path | None = None, build_dir: Path | None = None,
           max_cycles: int = MAX_CYCLES) -> TimingResult:
    """Run the victim next to each adversary; with ``protected`` a timing violation per
    adversary whose run gave the victim different cycle-stamped observations than the
    first's, and a window switch that overran the pad. Every run's other violations
    are included."""
    name = VICTIM[0]
    out = TimingResult(protected)
    for adv in adversaries:
        res = check_scenario(tp_scenario(adv, protected), cfg, machine=machine,
                             src_dir=src_dir, build_dir=build_dir, observe=(name,),
                             timed=True, max_cycles=max_cycles)
        run = TimingRun(adv, res.observations[name], res.console.get(name, []),
                        res.violations, res.tp, res.cycles)
        out.runs.append(run)
        out.violations += res.violations
        if protected and (res.tp or {}).get("overruns"):
            out.violations.append(Violation(
                "timing", res.cycles, 0, 0, f"{res.tp['overruns']} window switches overran "
                f"the pad next to '{adv}' (longest {res.tp['worst']} ticks, pad "
                f"{res.tp['pad']})"))
    if protected:
        out.violations += [Violation("timing", 0, 0, 0, f"vm {name}'s cycle-stamped "
                                     f"observations next to '{adv}' differ from those next "
                                     f"to '{out.runs[0].adversary}'") for adv in out.leaks]
    return out


def channel_demo(cfg, **kw) -> tuple[TimingResult, TimingResult]:
    """The planted TLB channel with time protection off, then on: (open, protected)
    over the two senders."""
    senders = ("tlb-send-0", "tlb-send-1")
    return (timing(cfg, protected=False, adversaries=senders, **kw),
            timing(cfg, protected=True, adversaries=senders, **kw))
