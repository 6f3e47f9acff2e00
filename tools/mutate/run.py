"""``hvsim mutate hw``: build each hardware mutant and try to kill it (issue 3, part 5:
"for each mutant: run the ISA test suite, then a fixed budget of generated differential
programs; record killed / survived, which stage killed it, and time-to-kill").

Stages, cheapest first (``STAGES``); a mutant is killed by the first failure:

1. ``isa``: every ``tests/isa`` program, shortest first; a test kills the mutant when it
   does not pass within ``ISA_BUDGET_FACTOR`` times its cycle count on the clean design.
2. ``ci``: the programs of the ci-profile property test (Hypothesis, derandomized),
   each run in lockstep against Spike (``tools.cosim``); a divergence kills.
3. ``budget``: a fixed budget (``--budget``) of programs drawn as ``hvsim fuzz cpu``
   draws them (Hypothesis, from ``--seed``), in lockstep.

Stages 2 and 3 need ``tools.cosim`` and ``tools.fuzz.gen``; without them the run says
so and stops after stage 1. Every program is first run on the clean design: one that
does not pass there is dropped (and counted), so a kill is always a difference the
mutant made.

Each mutant is applied to the worker process's elaboration, compiled (the compiled
backend at ``MUTANT_OPT``, cached under the mutant's description) and undone, so a
mutant costs about one C compile plus the runs up to its first failure. A survivor
listed in ``equivalent.json`` (an argued equivalence, docs/mutation.md) is reported as
``equivalent``; the score leaves those out.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hardware.config import SocConfig, variant
from hardware.sim import cache
from hardware.sim.backends import make_simulator
from hardware.sim.elf import load_elf
from hardware.sim.machine import HARDWARE_DIR, Machine
from tools.mutate import netlist
from tools.mutate.netlist import (ALL_UNITS, KINDS, OPERATORS, UNITS, MutateError, Mutant,
                                  checked_apply, fresh_block, generate, undo,
                                  units_for)
from tools.toolchain import BUILD_DIR, REPO_ROOT

#: The stages in the order they run: name -> what kills.
STAGES = {
    "isa": "an ISA test fails or overruns 10x its clean cycle count",
    "ci": "a divergence from Spike on a ci-profile property-test program",
    "budget": "a divergence from Spike on a program of the fixed budget",
}
#: An ISA test may take this many times its clean cycle count (plus the slack).
ISA_BUDGET_FACTOR = 10
ISA_BUDGET_SLACK = 1_000
#: C optimisation level of mutant simulators (compile time dominates a mutant).
MUTANT_OPT = "-O1"
DEFAULT_COUNT = 200
DEFAULT_SEED = 1
DEFAULT_BUDGET = 1000
#: Programs of the ci-profile property test (its ``max_examples``).
CI_PROGRAMS = 50
#: Records compared at most per generated program in lockstep (as the campaign).
MAX_INSTRUCTIONS = 50_000
#: Where runs keep their program ELFs and, by default, the JSON.
OUT_DIR = BUILD_DIR / "mutate"
#: Version of the mutant cache key: the editing code and this runner's build recipe.
EDIT_HASH = hashlib.sha256(Path(netlist.__file__).read_bytes()).hexdigest()[:16]


# --------------------------------------------------------------------------- machines


class MutantMachine(Machine):
    """A ``Machine`` around an already built simulator (e.g. of a mutant), with
    ``Machine``'s load and run logic."""

    def __init__(self, cfg: SocConfig, sim, *, history: int = 0, build_s: float = 0.0):
        self.cfg, self.backend, self.history = cfg, "compiled", history
        self._vcd = self._window = None
        self._sim = self._main = sim
        self.build_s = build_s
        self.from_cache = bool(getattr(sim, "from_cache", False))
        self._reset = sim.snapshot()
        self._sink = None
        self._image = None
        self._held = {}
        self._start_state()


def _design_key(cfg: SocConfig, what: str) -> str:
    return cache.design_key(cfg.key(), cache.source_hash(HARDWARE_DIR), EDIT_HASH, what)


def mutants_cache_dir() -> Path:
    """The build cache folder of mutant simulators."""
    return cache.cache_dir() / "mutants"


_CLEAN_BLOCKS: dict = {}


def _clean_block(cfg: SocConfig):
    """This process's elaboration of the clean mutation design (mutants are applied to
    it and undone, which saves an elaboration per mutant)."""
    if cfg.key() not in _CLEAN_BLOCKS:
        _CLEAN_BLOCKS[cfg.key()] = fresh_block(cfg)
    return _CLEAN_BLOCKS[cfg.key()]


def build_machine(cfg: SocConfig, mutant: Mutant | None, *, opt: str = MUTANT_OPT,
                  cc: str | None = None, cache_dir=None) -> MutantMachine:
    """A machine of the mutation design with ``mutant`` applied (None: the clean
    mutation design); the simulator is cached under the mutant's description."""
    what = "clean" if mutant is None else f"mutant:{mutant.key()}"
    edits = []

    def elaborate():
        block = _clean_block(cfg)
        if mutant is not None:
            edits.append((block, checked_apply(block, mutant)))
        return block
    t0 = time.perf_counter()
    try:
        sim = make_simulator("compiled", _design_key(cfg, what), elaborate, opt=opt, cc=cc,
                             cache_dir=cache_dir if cache_dir is not None
                             else mutants_cache_dir())
    finally:
        for block, edit in edits:
            undo(block, edit)
    return MutantMachine(cfg, sim, build_s=time.perf_counter() - t0)


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class IsaCase:
    """One ISA test with its cycle budget."""

    name: str
    elf: str
    clean_cycles: int
    budget: int


@dataclass
class Plan:
    """Everything a worker needs to test a mutant (picklable)."""

    cfg: SocConfig
    isa: list[IsaCase]
    ci: list = field(default_factory=list)  # (program ELF path, irq schedule)
    budget: list = field(default_factory=list)
    stages: tuple[str, ...] = ("isa",)
    max_instructions: int = MAX_INSTRUCTIONS
    opt: str = MUTANT_OPT
    cc: str | None = None  # None: zig cc
    cache_dir: str | None = None
    notes: list[str] = field(default_factory=list)  # what the run could not do


def _isa_suite():
    """``tests/isa/suite.py`` (the repository root joins the import path if needed)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from tests.isa import suite
    return suite


def isa_cases(cfg: SocConfig, clean: MutantMachine) -> list[IsaCase]:
    """Every ISA test, built, with its clean cycle count; shortest first."""
    suite = _isa_suite()
    cases = []
    for path in suite.list_tests():
        elf = suite.build_test(path, cfg)
        clean.load(load_elf(elf, cfg))
        out = clean.run(50_000_000)
        if out.status != "pass":
            raise MutateError(f"ISA test {path.stem} does not pass on the clean design "
                              f"({out.summary()}); fix that before mutation testing")
        cases.append(IsaCase(path.stem, str(elf), out.cycles,
                             ISA_BUDGET_FACTOR * out.cycles + ISA_BUDGET_SLACK))
    return sorted(cases, key=lambda c: (c.clean_cycles, c.name))


# --------------------------------------------------------------------------- programs


def differential_tools():
    """``(cosim_elf, programs)`` from ``tools.cosim`` and ``tools.fuzz.gen``, or the
    reason they cannot be used."""
    try:
        from tools.cosim import cosim_elf
        from tools.fuzz.gen import programs
    except ImportError as exc:
        return None, f"stages ci and budget skipped: {exc}"
    return (cosim_elf, programs), ""


#: Hypothesis strategy arguments of each program stage: ``ci`` as the ci-profile
#: property test (``tests/fuzz/test_cpu_fuzz.py``), ``budget`` as ``hvsim fuzz cpu``
#: (``tools/fuzz/campaign.py``: 200..400 items, about 500-1,000 instructions).
STAGE_STRATEGY = {"ci": {"length": 200, "min_length": 40},
                  "budget": {"length": 400, "min_length": 200}}


def stage_programs(cfg: SocConfig, name: str, count: int, seed: int | None) -> list:
    """``count`` programs of stage ``name`` from the generator's Hypothesis strategy,
    with the harness interrupt lines on as in the lockstep oracle, drawn without
    shrinking: derandomized like the ``ci`` profile when ``seed`` is None, else from
    ``seed``."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hyp_seed

    from tools.fuzz.gen import GenOptions, programs

    options = GenOptions(external_irqs=cfg.harness_irq_lines > 0)
    drawn: list = []

    @settings(database=None, max_examples=count, phases=[Phase.generate], deadline=None,
              derandomize=seed is None, suppress_health_check=list(HealthCheck))
    @given(programs(cfg, options=options, **STAGE_STRATEGY[name]))
    def collect(program):
        drawn.append(program)
    if seed is not None:
        collect = hyp_seed(seed)(collect)
    collect()
    return drawn[:count]


def build_programs(cfg: SocConfig, name: str, count: int, seed: int | None,
                   clean: MutantMachine, cosim_elf,
                   log: Callable[[str], None]) -> tuple[list, int]:
    """The programs of one stage as ``(ELF path, irq schedule)`` (cached under
    ``OUT_DIR``) that pass in lockstep on the clean design, and how many were dropped
    because they do not."""
    import tools.fuzz.gen as gen
    gen_hash = hashlib.sha256(Path(gen.__file__).read_bytes()
                              + gen.RUNTIME.read_bytes()).hexdigest()[:12]
    tag = hashlib.sha256(f"{cfg.key()}|{name}|{count}|{seed}|{gen_hash}|"
                         f"{STAGE_STRATEGY[name]}|{_design_key(cfg, 'clean')}"
                         .encode()).hexdigest()[:12]
    folder = OUT_DIR / "programs" / f"{name}-{tag}"
    manifest = folder / "manifest.json"
    if manifest.is_file():
        data = json.loads(manifest.read_text())
        if all(Path(p).is_file() for p, _ in data["programs"]):
            return [(p, [tuple(x) for x in irqs]) for p, irqs in data["programs"]], \
                data["dropped"]
    log(f"{name}: drawing {count} programs into {folder} and checking them on the "
        f"clean design ...")
    folder.mkdir(parents=True, exist_ok=True)
    kept, dropped = [], 0
    for i, program in enumerate(stage_programs(cfg, name, count, seed)):
        elf = program.write_elf(folder / f"{name}{i:04d}.elf")
        result = cosim_elf(elf, cfg, max_instructions=MAX_INSTRUCTIONS, machine=clean,
                           irq_schedule=program.irqs)
        if result.ok:
            kept.append((str(elf), [list(x) for x in program.irqs]))
        else:
            dropped += 1
    manifest.write_text(json.dumps({"programs": kept, "dropped": dropped}, indent=1))
    return [(p, [tuple(x) for x in irqs]) for p, irqs in kept], dropped


def make_plan(cfg: SocConfig, *, budget: int, ci_programs: int = CI_PROGRAMS, seed: int,
              stages: tuple[str, ...] = tuple(STAGES), opt: str = MUTANT_OPT,
              cc: str | None = None, log: Callable[[str], None] = lambda s: None) -> Plan:
    """Build the clean mutation design, the ISA ELFs and the program ELFs."""
    clean = build_machine(cfg, None, opt=opt, cc=cc)
    plan = Plan(cfg, isa_cases(cfg, clean), opt=opt, cc=cc)
    wanted = [s for s in stages if s != "isa"]
    if not wanted:
        return plan
    tools_, why = differential_tools()
    if tools_ is None:
        plan.notes.append(why)
        return plan
    cosim_elf, _ = tools_
    for name, count, program_seed in (("ci", ci_programs, None), ("budget", budget, seed)):
        if name not in wanted or count == 0:
            continue
        elfs, dropped = build_programs(cfg, name, count, program_seed, clean, cosim_elf, log)
        if dropped:
            plan.notes.append(f"{dropped} of {count} {name} programs do not pass on the "
                              f"clean design and were dropped")
        setattr(plan, name, elfs)
        plan.stages += (name,)
    return plan


# --------------------------------------------------------------------------- one mutant


@dataclass
class Outcome:
    """What happened to one mutant."""

    mutant: dict
    status: str  # "killed" | "survived" | "equivalent" | "error"
    stage: str | None = None  # the stage that killed it
    killed_by: str = ""  # the test or program
    detail: str = ""
    build_s: float = 0.0  # elaborate + edit + compile (0 on a cache hit)
    kill_s: float | None = None  # testing time until the kill (after the build)
    test_s: float = 0.0  # testing time in all
    runs: dict = field(default_factory=dict)  # stage -> tests/programs run
    timing: list = field(default_factory=list)  # ISA tests that passed in other cycles
    shown_by: str = ""  # equivalent: how (see ARGUED_FILE)

    def to_dict(self) -> dict:
        return asdict(self)


def _isa_stage(machine: MutantMachine, plan: Plan, out: Outcome) -> bool:
    for case in plan.isa:
        machine.load(load_elf(case.elf, plan.cfg))
        result = machine.run(case.budget)
        out.runs["isa"] = out.runs.get("isa", 0) + 1
        if result.status != "pass":
            out.killed_by = case.name
            out.detail = (f"{result.status}" + (f" (exit code {result.exit_code})"
                                                if result.exit_code is not None else "")
                          + f" after {result.cycles} cycles (clean: {case.clean_cycles})")
            return True
        if result.cycles != case.clean_cycles:
            out.timing.append(f"{case.name}: {result.cycles} cycles (clean "
                              f"{case.clean_cycles})")
    return False


def _program_stage(name: str, machine: MutantMachine, plan: Plan, out: Outcome) -> bool:
    from tools.cosim import cosim_elf
    for elf, irqs in getattr(plan, name):
        result = cosim_elf(Path(elf), plan.cfg, max_instructions=plan.max_instructions,
                           machine=machine, irq_schedule=irqs)
        out.runs[name] = out.runs.get(name, 0) + 1
        if not result.ok:
            out.killed_by = Path(elf).stem
            out.detail = str(result.reason or result.divergence or "divergence")[:300]
            return True
    return False


def run_mutant(plan: Plan, mutant: Mutant) -> Outcome:
    """Build ``mutant`` and run the plan's stages until one kills it."""
    out = Outcome(mutant.to_dict(), "survived")
    try:
        machine = build_machine(plan.cfg, mutant, opt=plan.opt, cc=plan.cc,
                                cache_dir=plan.cache_dir)
    except Exception as exc:  # noqa: BLE001 - reported per mutant, the run goes on
        out.status, out.detail = "error", f"build: {type(exc).__name__}: {exc}"
        return out
    out.build_s = 0.0 if machine.from_cache else round(machine.build_s, 3)
    t0 = time.perf_counter()
    try:
        for stage in plan.stages:
            killed = (_isa_stage(machine, plan, out) if stage == "isa"
                      else _program_stage(stage, machine, plan, out))
            if killed:
                out.status, out.stage = "killed", stage
                out.kill_s = round(time.perf_counter() - t0, 3)
                break
    except Exception as exc:  # noqa: BLE001
        out.status, out.detail = "error", f"{type(exc).__name__}: {exc}"[:300]
    out.test_s = round(time.perf_counter() - t0, 3)
    return out


_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _PLAN
    _PLAN = plan


def _work(mutant: Mutant) -> Outcome:
    return run_mutant(_PLAN, mutant)


def run_all(plan: Plan, mutants: list[Mutant], workers: int,
            on_result: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Test every mutant, ``workers`` processes at a time; results in mutant order."""
    results: dict[int, Outcome] = {}
    if workers <= 1:
        for m in mutants:
            results[m.id] = run_mutant(plan, m)
            on_result(results[m.id])
    else:
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx,
                                                    initializer=_init_worker,
                                                    initargs=(plan,)) as pool:
            futures = {pool.submit(_work, m): m for m in mutants}
            try:
                for fut in concurrent.futures.as_completed(futures):
                    o = fut.result()
                    results[o.mutant["id"]] = o
                    on_result(o)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    return [results[m.id] for m in mutants if m.id in results]


# --------------------------------------------------------------------------- reporting


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def summarise(outcomes: list[Outcome], stages: tuple[str, ...]) -> dict:
    """Counts per stage and per unit, the scores and the median time-to-kill.

    ``killed_fraction_by`` is cumulative over all mutants (by the ISA suite alone, then
    with the ci programs, then with the budget); ``score`` leaves the mutants shown
    equivalent out: killed / (mutants - equivalent)."""
    n = len(outcomes)
    killed = [o for o in outcomes if o.status == "killed"]
    equivalent = sum(o.status == "equivalent" for o in outcomes)
    by_stage = {s: sum(o.stage == s for o in killed) for s in STAGES}
    cumulative, running = {}, 0
    for s in STAGES:
        running += by_stage[s]
        cumulative[s] = round(running / n, 4) if n and s in stages else None
    units: dict[str, dict] = {}
    for o in outcomes:
        u = units.setdefault(o.mutant["unit"], {"mutants": 0, **dict.fromkeys(STAGES, 0),
                                                 "survived": 0, "equivalent": 0, "error": 0})
        u["mutants"] += 1
        u[o.stage if o.status == "killed" else o.status] += 1
    return {
        "mutants": n,
        "killed": len(killed),
        "survived": sum(o.status == "survived" for o in outcomes),
        "equivalent": equivalent,
        "errors": sum(o.status == "error" for o in outcomes),
        "killed_by_stage": by_stage,
        "killed_fraction_by": cumulative,
        "score": round(len(killed) / (n - equivalent), 4) if n > equivalent else None,
        "median_time_to_kill_s": _median([o.kill_s for o in killed]),
        "median_time_to_kill_with_build_s": _median([o.kill_s + o.build_s for o in killed]),
        "median_build_s": _median([o.build_s for o in outcomes if o.build_s]),
        "builds_from_cache": sum(o.build_s == 0 and o.status != "error" for o in outcomes),
        "survivors_with_timing_changes": [o.mutant["id"] for o in outcomes
                                          if o.status == "survived" and o.timing],
        "by_unit": units,
    }


def report_tables(summary: dict, outcomes: list[Outcome], stages: tuple[str, ...]):
    """Rich tables: per unit, and the mutants that were not killed."""
    from rich.table import Table

    t = Table(title="Hardware mutants by unit")
    t.add_column("unit")
    t.add_column("mutants", justify="right")
    for s in STAGES:
        t.add_column(f"killed: {s}" + ("" if s in stages else " (not run)"), justify="right")
    for col in ("survived", "equivalent", "errors", "score"):
        t.add_column(col, justify="right")
    total = {"mutants": summary["mutants"], "survived": summary["survived"],
             "equivalent": summary["equivalent"], "error": summary["errors"],
             **summary["killed_by_stage"]}
    for name, u in [*summary["by_unit"].items(), ("all", total)]:
        k, live = sum(u[s] for s in STAGES), u["mutants"] - u["equivalent"]
        t.add_row(name, str(u["mutants"]), *(str(u[s]) for s in STAGES), str(u["survived"]),
                  str(u["equivalent"]), str(u["error"]), f"{k / live:.0%}" if live else "-")
    tables = [t]
    rest = [o for o in outcomes if o.status != "killed"]
    if rest:
        s = Table(title="Not killed")
        for col in ("id", "unit", "operator", "source", "mutant", "status"):
            s.add_column(col)
        for o in rest:
            m = o.mutant
            note = o.detail or ("timing only: " + "; ".join(o.timing[:2]) if o.timing else "")
            s.add_row(str(m["id"]), m["unit"], m["operator"], m["where"], m["text"],
                      o.status + (f": {note}" if note else ""))
        tables.append(s)
    return tables


#: Survivors shown equivalent by an argument (docs/mutation.md): mutant key and source
#: line -> the argument in one line. An entry applies only while both still match.
ARGUED_FILE = Path(__file__).with_name("equivalent.json")


def load_arguments(path: Path = ARGUED_FILE) -> dict[tuple[str, str], dict]:
    """(key, where) -> entry of the argued-equivalent table."""
    try:
        entries = json.loads(path.read_text())
    except OSError:
        return {}
    except ValueError as exc:
        raise MutateError(f"{path}: not valid JSON ({exc})") from None
    return {(e["key"], e["where"]): e for e in entries}


def apply_arguments(outcomes: list[Outcome], argued: dict) -> list[str]:
    """Mark survivors with an argued equivalence as ``equivalent``; return warnings
    for argued mutants that were killed (the argument is wrong)."""
    warnings = []
    for o in outcomes:
        entry = argued.get((o.mutant["key"], o.mutant["where"]))
        if entry is None:
            continue
        if o.status == "survived":
            o.status, o.shown_by = "equivalent", f"argument: {entry['reason']}"
        elif o.status == "killed":
            warnings.append(f"mutant {o.mutant['id']} is argued equivalent in "
                            f"{ARGUED_FILE.name} but was killed by {o.killed_by}: "
                            f"the argument is wrong")
    return warnings


def write_json(path: Path, meta: dict, summary: dict, outcomes: list[Outcome],
               generation: netlist.Generation) -> None:
    """The run as JSON: settings, summary, every mutant's outcome, and the candidates
    the generator turned down as equivalent (with how that was shown)."""
    data = {
        "meta": meta,
        "summary": summary,
        "mutants": [o.to_dict() for o in outcomes],
        "rejected": generation.rejected,
        "equivalent_candidates": [{**m.to_dict(), "shown_by": how}
                                  for m, how in generation.equivalent],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.write_text(json.dumps(data, indent=1) + "\n")
    except OSError as exc:
        raise MutateError(f"cannot write {path}: {exc.strerror}") from None


# --------------------------------------------------------------------------- the command


def _check_args(args) -> None:
    units_for(args.unit)
    for name in ("count", "workers"):
        if getattr(args, name) < 1:
            raise MutateError(f"--{name} must be >= 1, not {getattr(args, name)}")
    if args.budget < 0:
        raise MutateError(f"--budget must be >= 0, not {args.budget}")
    if args.ci_programs < 0:
        raise MutateError(f"--ci-programs must be >= 0, not {args.ci_programs}")
    bad = [s for s in args.stages if s not in STAGES]
    if bad:
        raise MutateError(f"unknown stage '{bad[0]}' (valid: {', '.join(STAGES)})")


def _selected(mutants: list[Mutant], ids: str | None) -> list[Mutant]:
    """The mutants named by ``--ids`` (comma-separated ids), or all."""
    if not ids:
        return mutants
    try:
        wanted = {int(x) for x in ids.split(",") if x.strip()}
    except ValueError:
        raise MutateError(f"--ids '{ids}' must be comma-separated mutant ids "
                          f"(e.g. 3,17,42)") from None
    missing = sorted(wanted - {m.id for m in mutants})
    if missing:
        raise MutateError(f"--ids: no mutant {missing[0]} (this run has ids 0.."
                          f"{len(mutants) - 1})")
    return [m for m in mutants if m.id in wanted]


def cmd_mutate_hw(args) -> int:
    """Generate the mutants, test them and report; 0 when the run completed."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    args.stages = tuple(s.strip() for s in args.stages.split(",")) if isinstance(
        args.stages, str) else args.stages
    _check_args(args)
    console = Console(stderr=True)
    cfg = variant(args.config)
    t0 = time.perf_counter()
    nl = netlist.analyse(cfg)
    generation = generate(cfg, units_for(args.unit), args.count, args.seed, nl)
    mutants = _selected(generation.mutants, args.ids)
    if args.explain:
        for m in mutants:
            print(netlist.explain(nl, m, depth=args.explain_depth) + "\n")
        return 0
    console.print(f"{len(mutants)} mutants ({args.unit}, seed {args.seed}); rejected "
                  f"candidates: {generation.rejected}")
    plan = make_plan(cfg, budget=args.budget, ci_programs=args.ci_programs, seed=args.seed,
                     stages=args.stages, opt=args.opt, cc=args.cc,
                     log=console.print)
    for note in plan.notes:
        console.print(f"[yellow]note:[/] {note}")
    counts = {"killed": 0, "survived": 0, "error": 0}
    with Progress(TextColumn("mutants"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[counts]}"), console=console,
                  transient=False) as progress:
        task = progress.add_task("mutants", total=len(mutants), counts="")

        def on_result(o: Outcome) -> None:
            counts[o.status] += 1
            progress.update(task, advance=1, counts=", ".join(f"{k} {v}" for k, v in
                                                              counts.items()))
        outcomes = run_all(plan, mutants, args.workers, on_result)
    for warning in apply_arguments(outcomes, load_arguments()):
        console.print(f"[red]warning:[/] {warning}")
    summary = summarise(outcomes, plan.stages)
    meta = {
        "command": "hvsim mutate hw", "unit": args.unit, "count": args.count,
        "seed": args.seed, "ids": args.ids, "workers": args.workers, "config": args.config,
        "stages": list(plan.stages), "stage_sizes": {"isa": len(plan.isa),
                                                     "ci": len(plan.ci),
                                                     "budget": len(plan.budget)},
        "opt": plan.opt, "cc": plan.cc or "zig cc", "notes": plan.notes,
        "wall_s": round(time.perf_counter() - t0, 1),
        "short": generation.short,
        "operators": {k: {"kind": o.kind, "text": o.text} for k, o in OPERATORS.items()},
    }
    out = Console()
    for table in report_tables(summary, outcomes, plan.stages):
        out.print(table)
    fr = summary["killed_fraction_by"]
    out.print("killed by the ISA suite alone: " + _pct(fr["isa"]) + "; with the ci "
              "programs: " + _pct(fr["ci"]) + f"; with the {len(plan.budget)}-program "
              "budget: " + _pct(fr["budget"]) + f" (of {summary['mutants']}); "
              f"{summary['equivalent']} equivalent; score (killed / not equivalent) "
              + _pct(summary["score"]) + f"; median time-to-kill "
              f"{summary['median_time_to_kill_s']} s (+ build: "
              f"{summary['median_time_to_kill_with_build_s']} s); wall {meta['wall_s']} s")
    path = Path(args.json) if args.json else OUT_DIR / f"hw-{args.unit}-seed{args.seed}.json"
    write_json(path, meta, summary, outcomes, generation)
    out.print(f"JSON: {path}")
    return 0


def _pct(x: float | None) -> str:
    return "not run" if x is None else f"{x:.1%}"


#: Exceptions the CLI reports as one-line input errors.
ERRORS = (MutateError,)


def add_parser(subparsers) -> None:
    """``hvsim mutate hw ...`` (the ``mutate`` command with its ``hw`` subcommand)."""
    p = subparsers.add_parser("mutate", help="mutation testing of the hardware and firmware",
                              description="Mutation testing: inject bugs automatically and "
                                          "measure which the tests catch.")
    sub = p.add_subparsers(dest="mutate_target", metavar="TARGET", parser_class=type(p))
    sub.required = True
    hw = sub.add_parser("hw", help="mutants of the core's netlist",
                        description="Generate mutants of the core's PyRTL netlist (wrong "
                                    "operand, broken condition), then kill each with the "
                                    "ISA suite, the ci-profile programs and a budget of "
                                    "differential programs. See docs/mutation.md.")
    hw.add_argument("--unit", default=ALL_UNITS, metavar="UNIT",
                    help=f"unit to mutate: {'|'.join([*UNITS, ALL_UNITS])} (default: all)")
    hw.add_argument("--count", type=int, default=DEFAULT_COUNT, metavar="N",
                    help=f"number of mutants (default: {DEFAULT_COUNT})")
    hw.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S",
                    help=f"seed of the mutants and of the budget programs (default: "
                         f"{DEFAULT_SEED})")
    hw.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="K",
                    help="parallel processes (default: CPU count)")
    hw.add_argument("--budget", type=int, default=DEFAULT_BUDGET, metavar="N",
                    help=f"differential programs of stage 3 (default: {DEFAULT_BUDGET})")
    hw.add_argument("--ci-programs", type=int, default=CI_PROGRAMS, metavar="N",
                    help=f"programs of the ci-profile stage (default: {CI_PROGRAMS})")
    hw.add_argument("--ids", metavar="LIST",
                    help="test only these mutants of the generated set (comma-separated "
                         "ids, e.g. to reproduce a survivor)")
    hw.add_argument("--explain", action="store_true",
                    help="print the selected mutants' netlist context (input cones, "
                         "readers, source lines) instead of running them")
    hw.add_argument("--explain-depth", type=int, default=3, metavar="N",
                    help="levels of input cone shown by --explain (default: 3)")
    hw.add_argument("--stages", default=",".join(STAGES), metavar="LIST",
                    help=f"comma-separated stages to run (default: {','.join(STAGES)})")
    hw.add_argument("--config", default="default", metavar="VARIANT",
                    help="SoC configuration variant (default: default)")
    hw.add_argument("--opt", default=MUTANT_OPT, choices=("-O1", "-O2", "-O3"),
                    help=f"C optimisation level of mutant simulators (default: {MUTANT_OPT})")
    hw.add_argument("--cc", metavar="CC",
                    help="C compiler of mutant simulators, e.g. gcc (default: zig cc)")
    hw.add_argument("--json", metavar="FILE",
                    help="write the results here (default: build/mutate/hw-UNIT-seedS.json)")
    hw.set_defaults(func=cmd_mutate_hw)
    from tools.mutate.fwrun import add_subparser

    add_subparser(sub)


__all__ = ["ERRORS", "KINDS", "MutateError", "MutantMachine", "Outcome", "Plan", "add_parser",
           "apply_arguments", "build_machine", "cmd_mutate_hw", "load_arguments",
           "make_plan", "run_all", "run_mutant", "summarise"]
