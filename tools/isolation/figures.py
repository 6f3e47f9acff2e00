"""The issue 7 figures for ``hvsim bench --only isolation`` (docs/fuzzing.md,
"Figures"): how fast the rig restores its post-boot snapshot (in memory and from a
file, 16 MiB of RAM), and how many cases one core runs per second (adversary programs
on the rig, scenario mixes from boot). Each is a median over several samples.

Time protection (docs/fuzzing.md, "Time protection"): cases per second on the
time-protected rig, the longest window switch of each of those cases (against the
pad), and the planted TLB channel: per round, how many more ticks the receiver's probe
took next to the evicting sender than next to the idle one, with time protection off
(on the ``tlbkeep`` SoC) and on.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

#: Samples per figure.
RESTORES, FILE_RESTORES, CASES, MIXES = 20, 5, 40, 4


def restore_times(rig) -> tuple[list[float], list[float]]:
    """Milliseconds per restore of the rig's snapshot: in memory, and from a file."""
    from hardware.sim import snapshot as snapfile

    m = rig.machine
    mem = []
    for _ in range(RESTORES):
        t0 = time.perf_counter()
        m.restore(rig.snapshot)
        mem.append(1e3 * (time.perf_counter() - t0))
    files = []
    with tempfile.TemporaryDirectory(prefix="hvsim-bench-snap-") as tmp:
        path = Path(tmp) / "rig.snap"
        snapfile.save(rig.snapshot, path, rig.cfg)
        for _ in range(FILE_RESTORES):
            t0 = time.perf_counter()
            m.restore(snapfile.load(path, rig.cfg))
            files.append(1e3 * (time.perf_counter() - t0))
    return mem, files


def case_times(rig, work: Path, after=None) -> list[float]:
    """Seconds per adversary case (generation, build and run), derandomized;
    ``after(rig)`` is called after each case."""
    from hypothesis import HealthCheck, Phase, given, settings

    from tools.isolation import gen

    targets = gen.Targets.from_scenario(rig.scenario, "adversary", rig.cfg)
    out: list[float] = []
    last = [time.perf_counter()]

    @settings(max_examples=CASES, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(gen.cases(targets, lines=rig.cfg.harness_irq_lines))
    def one(case) -> None:
        elf = gen.build_adversary(case.program, work, stem="bench")
        rig.run_case(elf, case.irqs)
        if after is not None:
            after(rig)
        now = time.perf_counter()
        out.append(now - last[0])
        last[0] = now

    one()
    return out[1:] or out  # the first includes Hypothesis's start


def mix_times(rig, work: Path) -> list[float]:
    """Seconds per scenario mix, derandomized."""
    from hypothesis import HealthCheck, Phase, given, settings

    from tools.isolation.mix import mixes, run_mix, write_mix

    out: list[float] = []

    @settings(max_examples=MIXES, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(mixes())
    def one(mix) -> None:
        t0 = time.perf_counter()
        run_mix(write_mix(mix, work), rig.cfg, machine=rig.machine, build_dir=work / "b",
                budgets=mix.availability())
        out.append(time.perf_counter() - t0)

    one()
    return out


def channel_gaps(result) -> list[float]:
    """Per round, the receiver's probe ticks next to the second sender minus next to
    the first (``timeprot.channel_demo``'s runs)."""
    quiet, loud = ([int(line.rsplit(" probe ", 1)[1].split()[0]) for line in r.console
                    if " probe " in line] for r in result.runs)
    return [float(b - a) for a, b in zip(quiet, loud)]


def timing_figures(cfg, work: Path, log) -> dict[str, tuple[str, str, list[float]]]:
    """The time-protection figures (see the module docstring)."""
    from hardware.config import variant
    from tools.isolation.rig import Rig
    from tools.isolation.timeprot import channel_demo

    log("isolation: booting the time-protected rig")
    rig = Rig(cfg, work_dir=work / "tprig", time_protection=True)
    worst: list[float] = []
    log(f"isolation: {CASES} adversary cases with time protection")
    cases = case_times(rig, work / "tpcases", lambda r: worst.append(r.last_tp["worst"]))
    log("isolation: the planted TLB channel, time protection off and on (tlbkeep)")
    open_, protected = channel_demo(variant("tlbkeep"), build_dir=work / "channel")
    pad = rig.last_tp["pad"]
    return {
        "tp_cases_per_s": ("adversary cases per second, time-protected rig, one core",
                           "cases/s", [1 / t for t in cases]),
        "tp_switch_ticks": (f"longest window switch per case (pad {pad} ticks)", "ticks",
                            worst),
        "tp_channel_open_ticks": ("TLB channel, protection off: probe, evicting minus idle "
                                  "sender", "ticks", channel_gaps(open_)),
        "tp_channel_protected_ticks": ("TLB channel, protection on: probe, evicting minus "
                                       "idle sender", "ticks", channel_gaps(protected)),
    }


def measure(cfg, log) -> dict[str, tuple[str, str, list[float]]]:
    """name -> (label, unit, samples) of every figure."""
    from tools.isolation.rig import Rig

    with tempfile.TemporaryDirectory(prefix="hvsim-bench-iso-") as tmp:
        work = Path(tmp)
        log("isolation: booting the rig")
        rig = Rig(cfg, work_dir=work / "rig")
        log("isolation: restores")
        mem, files = restore_times(rig)
        log(f"isolation: {CASES} adversary cases")
        cases = case_times(rig, work / "cases")
        log(f"isolation: {MIXES} scenario mixes")
        mixes = mix_times(rig, work / "mixes")
        rig.machine.close()
        timing = timing_figures(cfg, work, log)
    return timing | {
        "isolation_restore_ms": ("rig snapshot restore, in memory (16 MiB RAM)", "ms", mem),
        "isolation_restore_file_ms": ("rig snapshot restore, from a file", "ms", files),
        "isolation_cases_per_s": ("adversary cases per second, one core", "cases/s",
                                  [1 / t for t in cases]),
        "isolation_mix_s": ("scenario mix, seconds each, one core", "s", mixes),
    }
