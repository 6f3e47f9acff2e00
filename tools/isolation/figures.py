"""The issue 7 figures for ``hvsim bench --only isolation`` (docs/fuzzing.md,
"Figures"): how fast the rig restores its post-boot snapshot (in memory and from a
file, 16 MiB of RAM), and how many cases one core runs per second (adversary programs
on the rig, scenario mixes from boot). Each is a median over several samples.
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


def case_times(rig, work: Path) -> list[float]:
    """Seconds per adversary case (generation, build and run), derandomized."""
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
    return {
        "isolation_restore_ms": ("rig snapshot restore, in memory (16 MiB RAM)", "ms", mem),
        "isolation_restore_file_ms": ("rig snapshot restore, from a file", "ms", files),
        "isolation_cases_per_s": ("adversary cases per second, one core", "cases/s",
                                  [1 / t for t in cases]),
        "isolation_mix_s": ("scenario mix, seconds each, one core", "s", mixes),
    }
