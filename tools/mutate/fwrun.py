"""``hvsim mutate fw``: apply each firmware isolation mutant (tools/mutate/firmware.py),
rebuild, and measure whether the isolation properties catch it (issue 7, part 5;
docs/fuzzing.md, "Firmware mutation testing").

Stages (``STAGES``), per mutant, on the SoC variant the mutant can show on:

1. ``ci``: the ci-profile property suite. The isolation properties over whole scenario
   runs (``tools.isolation.scenario.check_scenario``) of ``CI_SCENARIOS`` plus the
   mutant's own scenarios, the noninterference runs (``scenario.noninterference``: the
   victim alone and next to each neighbour set), the availability run (the victim's
   budget next to hogs, ``scenario.availability``), then the seed corpus
   (``gen.seeds``), the seed mixes (``mix.SEED_MIXES``) and ``CI_CASES`` derandomized
   adversary cases on the rig (``tools.isolation.rig``); a run that panics the
   hypervisor or does not end counts as caught too (containment, availability). Every
   one of these is clean on the unmodified firmware (tests/isolation/test_properties.py).
   Mutants of the time-protected schedule (with the ``timeprot`` scenario) also get
   the timing runs (``tools.isolation.timeprot.timing``).
2. ``campaign``: ``hvsim fuzz isolation`` for at most ``--minutes`` (default 2) against
   the mutant (with ``--time-protection`` for the mutants of the time-protected
   schedule); caught when it reports a violation, with the time to the first one.

The table and ``--json`` give, per mutant, which property caught it first in each stage
and how long it took.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hardware.config import variant
from tools.mutate.firmware import CATEGORIES, MUTANTS, FwMutant, MutantError, apply, select
from tools.toolchain import BUILD_DIR

STAGES = ("ci", "campaign")
#: Scenarios every mutant runs under the properties (besides its own).
CI_SCENARIOS = ("demo", "regs", "sbi", "hostile")
#: A mutant with this scenario also gets the timing runs (time protection).
TIMING_SCENARIO = "timeprot"
#: Cycle limit of a ci scenario run (the longest clean one takes about 6 M).
CI_MAX_CYCLES = 12_000_000
#: Adversary cases of the ci stage (derandomized).
CI_CASES = 12
#: Largest adversary program of the ci cases, in items.
CI_MAX_ITEMS = 30
#: Campaign minutes per mutant (the issue's bound).
DEFAULT_MINUTES = 2.0


@dataclass
class StageResult:
    """One stage of one mutant: caught or not, by what, after how long."""

    caught: bool
    by: str = ""  # the property (or "panic", "hang") and where
    detail: str = ""
    seconds: float = 0.0
    reproducer: str = ""  # campaign: "N instructions" (shrunk adversary), "N-VM mix" or
    #                       "seed 'name'" (an adversary seed or a seed mix)


@dataclass
class MutantResult:
    id: str
    category: str
    description: str
    stages: dict[str, StageResult] = field(default_factory=dict)


def _scenario_stage(m: FwMutant, src: Path, build: Path, cfg, machine) -> StageResult | None:
    """The properties over the ci scenarios; the first catch, or None."""
    from tools.isolation.scenario import PANIC_EXIT, check_scenario

    for name in dict.fromkeys((*CI_SCENARIOS, *m.scenarios)):
        res = check_scenario(name, cfg, machine=machine, src_dir=src, build_dir=build,
                             max_cycles=CI_MAX_CYCLES)
        if res.violations:
            v = res.violations[0]
            return StageResult(True, f"{v.prop} in {name}", v.detail)
        if res.status == "timeout":
            return StageResult(True, f"availability in {name}", "the run did not end")
        if res.exit_code == PANIC_EXIT:
            return StageResult(True, f"containment in {name}", "hypervisor panic")
    return None


def _ni_stage(cfg, src: Path, build: Path, machine) -> StageResult | None:
    """Noninterference over scenario pairs and the availability run
    (``tools.isolation.scenario``)."""
    from tools.isolation.scenario import availability, noninterference

    for what, run in (("noninterference runs", noninterference),
                      ("availability run", availability)):
        found = run(cfg, machine=machine, src_dir=src, build_dir=build,
                    max_cycles=CI_MAX_CYCLES)
        if found:
            return StageResult(True, f"{found[0].prop} ({what})", found[0].detail)
    return None


def _seed_mix_stage(cfg, rig, src: Path, build: Path, work: Path) -> StageResult | None:
    """The seed mixes (``mix.SEED_MIXES``) on the rig's machine."""
    from tools.isolation.mix import SEED_MIXES, run_mix, write_mix

    for i, m in enumerate(SEED_MIXES):
        res = run_mix(write_mix(m, work / "mixes", stem=f"seed{i}"), cfg, machine=rig.machine,
                      src_dir=src, build_dir=build / "mix", budgets=m.availability(),
                      max_cycles=CI_MAX_CYCLES)
        if res.violations:
            v = res.violations[0]
            return StageResult(True, f"{v.prop} in seed mix '{m.note}'", v.detail)
    return None


def _case_stage(cfg, src: Path, build: Path, work: Path) -> StageResult | None:
    """``CI_CASES`` derandomized adversary cases on a rig of the mutant's firmware."""
    from hypothesis import HealthCheck, Phase, given, settings

    from tools.isolation import IsolationError, gen
    from tools.isolation.oracles import PROPERTIES
    from tools.isolation.rig import Rig

    try:
        rig = Rig(cfg, src_dir=src, build_dir=build / "rig", work_dir=work / "rig")
    except IsolationError as exc:   # the mutant broke the reference case (or boot)
        text = str(exc).splitlines()[0]
        prop = next((p for p in PROPERTIES if f"{p}:" in text), "reference case")
        return StageResult(True, f"{prop} in the rig's reference case", text[:200])
    targets = gen.Targets.from_scenario(rig.scenario, "adversary", cfg)
    for i, seed in enumerate(gen.seeds(targets)):      # the seed corpus first
        res = rig.run_case(gen.build_adversary(seed.program, work / "cases", stem=f"seed{i}"))
        if res.violations:
            v = res.violations[0]
            return StageResult(True, f"{v.prop} in seed '{seed.program.items[0].note}'",
                               v.detail)
    caught = _seed_mix_stage(cfg, rig, src, build, work)
    if caught:
        return caught
    found: list[StageResult] = []
    count = [0]

    @settings(max_examples=CI_CASES, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(gen.cases(targets, max_items=CI_MAX_ITEMS))
    def case(c) -> None:
        if found:
            return
        count[0] += 1
        elf = gen.build_adversary(c.program, work / "cases", stem=f"case{count[0]}")
        res = rig.run_case(elf, c.irqs)
        if res.violations:
            v = res.violations[0]
            found.append(StageResult(True, f"{v.prop} in case {count[0]}", v.detail))
        elif res.status == "timeout":
            found.append(StageResult(True, f"availability in case {count[0]}",
                                     "the case did not end"))

    case()
    return found[0] if found else None


def _timing_stage(m: FwMutant, cfg, src: Path, build: Path, machine) -> StageResult | None:
    """The timing property (``tools.isolation.timeprot``) for mutants of the
    time-protected schedule (those with the ``TIMING_SCENARIO`` scenario)."""
    from tools.isolation.timeprot import timing

    if TIMING_SCENARIO not in m.scenarios:
        return None
    found = timing(cfg, machine=machine, src_dir=src, build_dir=build,
                   max_cycles=CI_MAX_CYCLES).violations
    return StageResult(True, f"{found[0].prop} (timing runs)", found[0].detail) if found \
        else None


def run_ci(m: FwMutant, work: Path) -> StageResult:
    """Stage ``ci`` of mutant ``m`` in the folder ``work``."""
    from hardware.sim.machine import Machine

    t0 = time.perf_counter()
    src = apply(m.id, work / "src")
    cfg = variant(m.soc)
    machine = Machine(cfg, "compiled")
    try:
        res = _scenario_stage(m, src, work / "build", cfg, machine) or \
            _timing_stage(m, cfg, src, work / "build", machine) or \
            _ni_stage(cfg, src, work / "build", machine) or \
            _case_stage(cfg, src, work / "build", work) or StageResult(False)
    finally:
        machine.close()
    res.seconds = time.perf_counter() - t0
    return res


def run_campaign_stage(m: FwMutant, work: Path, minutes: float, workers: int) -> StageResult:
    """Stage ``campaign``: a campaign of at most ``minutes`` against the mutant."""
    from tools.isolation.campaign import run_campaign

    from tools.isolation import IsolationError

    src = apply(m.id, work / "src")
    t0 = time.perf_counter()
    try:
        summary = run_campaign(minutes, workers, work / "campaign", src_dir=src,
                               build_dir=work / "build-campaign", progress=False,
                               stop_on_violation=True, config=m.soc,
                               time_protection=TIMING_SCENARIO in m.scenarios)
    except IsolationError as exc:   # the rig's reference case (no adversary) broke
        text = str(exc).splitlines()[0]
        if "reference case" not in text:
            raise
        return StageResult(True, "the rig's reference case", text[:200],
                           time.perf_counter() - t0)
    if summary.reference_s is not None:    # the placeholder adversary's run broke it
        return StageResult(True, f"{summary.reference_violations[0]} in the rig's reference "
                           "case", "the campaign's reference case (no adversary) violates "
                           f"{', '.join(summary.reference_violations)}", summary.reference_s)
    if summary.first_violation_s is None:
        return StageResult(False, seconds=summary.wall_s)
    first = summary.violations[0] if summary.violations else None
    size = "" if first is None else (f"seed '{first.corpus}'" if first.corpus else
                                     f"{first.vms}-VM mix" if first.kind == "mix" else
                                     f"{first.program_length} instructions")
    return StageResult(True, summary.first_property or (first.property if first else ""),
                       first.detail if first else "", summary.first_violation_s, size)


def run_mutant(mid: str, stages: tuple[str, ...], minutes: float, workers: int,
               root: Path) -> MutantResult:
    """Every stage of mutant ``mid`` (each in its own folder under ``root``)."""
    m = MUTANTS[mid]
    out = MutantResult(m.id, m.category, m.description)
    with tempfile.TemporaryDirectory(prefix=f"fw-{m.id}-", dir=root) as tmp:
        work = Path(tmp)
        if "ci" in stages:
            out.stages["ci"] = run_ci(m, work / "ci")
        if "campaign" in stages:
            out.stages["campaign"] = run_campaign_stage(m, work / "campaign", minutes, workers)
    return out


def _worker(args) -> dict:
    mid, stages, minutes, workers, root = args
    return asdict(run_mutant(mid, stages, minutes, workers, Path(root)))


def run_all(mutants: list[FwMutant], stages: tuple[str, ...], minutes: float, workers: int,
            progress=print) -> list[MutantResult]:
    """Run the mutants: the ci stage in ``workers`` processes (one mutant each), the
    campaign stage one mutant at a time with ``workers`` campaign workers."""
    root = BUILD_DIR / "mutate" / "fw"
    root.mkdir(parents=True, exist_ok=True)
    results: dict[str, MutantResult] = {m.id: MutantResult(m.id, m.category, m.description)
                                        for m in mutants}
    if "ci" in stages:
        jobs = [(m.id, ("ci",), minutes, 1, str(root)) for m in mutants]
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(max(1, min(workers, len(jobs)))) as pool:
            for done in pool.imap_unordered(_worker, jobs):
                r = results[done["id"]]
                r.stages["ci"] = StageResult(**done["stages"]["ci"])
                progress(_line(r, "ci"))
    if "campaign" in stages:
        for m in mutants:
            r = results[m.id]
            r.stages["campaign"] = run_mutant(m.id, ("campaign",), minutes, workers,
                                              root).stages["campaign"]
            progress(_line(r, "campaign"))
    return [results[m.id] for m in mutants]


def _line(r: MutantResult, stage: str) -> str:
    s = r.stages[stage]
    what = f"caught by {s.by} after {s.seconds:.1f} s" if s.caught else \
        f"missed ({s.seconds:.1f} s)"
    return f"{stage:8} {r.id:34} {what}"


def summarise(results: list[MutantResult]) -> dict:
    """Caught counts and rates per stage, and per category."""
    out: dict = {"mutants": len(results)}
    for stage in STAGES:
        ran = [r for r in results if stage in r.stages]
        if not ran:
            continue
        caught = [r for r in ran if r.stages[stage].caught]
        times = sorted(r.stages[stage].seconds for r in caught)
        out[stage] = {"ran": len(ran), "caught": len(caught),
                      "rate": len(caught) / len(ran),
                      "median_s": times[len(times) // 2] if times else None,
                      "missed": [r.id for r in ran if not r.stages[stage].caught]}
        lengths = sorted(int(r.stages[stage].reproducer.split()[0]) for r in caught
                         if r.stages[stage].reproducer.endswith("instructions"))
        if lengths:
            out[stage]["median_reproducer_instructions"] = lengths[len(lengths) // 2]
            out[stage]["adversary_reproducers"] = len(lengths)
    out["categories"] = {c: sum(1 for r in results if r.category == c) for c in CATEGORIES}
    return out


def print_table(results: list[MutantResult], file=None) -> None:
    """One row per mutant with each stage's verdict."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="hvsim mutate fw")
    for col in ("mutant", "category", *(s for s in STAGES)):
        table.add_column(col)
    for r in results:
        cells = []
        for stage in STAGES:
            s = r.stages.get(stage)
            size = f", {s.reproducer}" if s is not None and s.reproducer else ""
            cells.append("" if s is None else
                         (f"{s.by} ({s.seconds:.0f} s{size})" if s.caught else "MISSED"))
        table.add_row(r.id, r.category, *cells)
    Console(file=file or sys.stdout, width=160).print(table)


def cmd_mutate_fw(args) -> int:
    """``hvsim mutate fw``."""
    stages = tuple(s for s in args.stages.split(",") if s)
    bad = [s for s in stages if s not in STAGES]
    if bad:
        raise MutantError(f"unknown stage '{bad[0]}' (valid: {', '.join(STAGES)})")
    if not 0 < args.minutes <= 60:
        raise MutantError(f"--minutes must be in (0, 60], not {args.minutes}")
    if args.workers < 1:
        raise MutantError(f"--workers must be >= 1, not {args.workers}")
    if args.category is not None and args.category not in CATEGORIES:
        raise MutantError(f"unknown category '{args.category}' (valid: {', '.join(CATEGORIES)})")
    mutants = select(args.ids, args.category)
    if args.list:
        for m in mutants:
            print(f"{m.id:34} {m.category:24} {m.description}")
        return 0
    json_path = Path(args.json) if args.json else BUILD_DIR / "mutate" / "fw.json"
    if not args.json:               # the default folder is ours to make (a fresh clone)
        json_path.parent.mkdir(parents=True, exist_ok=True)
    if not json_path.resolve().parent.is_dir():
        raise MutantError(f"cannot write {json_path}: no such directory")
    results = run_all(mutants, stages, args.minutes, args.workers)
    print_table(results)
    summary = summarise(results)
    for stage in STAGES:
        if stage in summary:
            s = summary[stage]
            print(f"{stage}: caught {s['caught']} of {s['ran']} ({100 * s['rate']:.0f} %), "
                  f"median time to catch {s['median_s'] or 0:.1f} s; missed: "
                  f"{', '.join(s['missed']) or 'none'}")
            if "median_reproducer_instructions" in s:
                print(f"{stage}: median shrunk adversary reproducer "
                      f"{s['median_reproducer_instructions']} instructions "
                      f"({s['adversary_reproducers']} caught by an adversary program)")
    json_path.write_text(json.dumps({"summary": summary,
                                     "results": [asdict(r) for r in results]}, indent=2))
    print(f"results: {json_path}")
    return 0


def add_subparser(sub) -> None:
    """The ``fw`` subcommand of ``hvsim mutate``."""
    fw = sub.add_parser("fw", help="isolation mutants of the hypervisor firmware",
                        description="Apply each firmware isolation mutant "
                                    "(tools/mutate/firmware.py), rebuild, run the ci-profile "
                                    "isolation properties and a short campaign against it. "
                                    "See docs/fuzzing.md.")
    fw.add_argument("--ids", metavar="LIST", help="only these mutants (comma-separated)")
    fw.add_argument("--category", metavar="NAME", help="only the mutants of one category")
    fw.add_argument("--stages", default=",".join(STAGES), metavar="LIST",
                    help=f"comma-separated stages (default: {','.join(STAGES)})")
    fw.add_argument("--minutes", type=float, default=DEFAULT_MINUTES, metavar="M",
                    help=f"campaign minutes per mutant (default: {DEFAULT_MINUTES:g})")
    fw.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="K",
                    help="processes (default: CPU count)")
    fw.add_argument("--list", action="store_true", help="list the mutants and stop")
    fw.add_argument("--json", metavar="FILE",
                    help="write the results here (default: build/mutate/fw.json)")
    fw.set_defaults(func=cmd_mutate_fw)
