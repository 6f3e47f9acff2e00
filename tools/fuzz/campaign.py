"""``hvsim fuzz cpu``: differential CPU fuzzing campaigns (issue 3, part 4;
docs/fuzzing-cpu.md).

K worker processes each build one ``Machine`` and run a Hypothesis search over
``tools.fuzz.gen.programs``: every program is checked by the oracle, and a failing one
is shrunk by Hypothesis and saved. The example database lives in the output folder, so
a later campaign on the same folder first replays the failures it saved.

The oracle is the lockstep co-simulation (``tools.cosim.cosim_elf``: every retired
instruction compared with Spike). Without it (``--oracle spike``, or when
``tools.cosim`` cannot be imported) programs carry a signature: the model runs them
(``hardware.sim.machine.Machine``), Spike runs them (``tools.spike.run_spike``), and
their exit codes, a hash of the final registers, data, trap records and CSRs, must
agree.

Output folder::

    db/                      the Hypothesis example database
    failures/<name>/         prog.elf, prog.S (listing), report.txt, program.json
    coverage.txt, coverage.json, summary.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue as queue_mod
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hardware.config import ConfigError, SocConfig, variant
from tools.fuzz import FuzzError
from tools.fuzz.coverage import Coverage
from tools.fuzz.gen import MAX_ITEMS, GenOptions, Program, programs, shrink_items, template
from tools.isolation import IsolationError
from tools.toolchain import BUILD_DIR

#: Exit status when the campaign found failures (2 = bad input, as every hvsim command).
EXIT_OK, EXIT_FAILURES = 0, 3
#: Exceptions whose messages the CLI shows as one-line input errors (``hvsim fuzz
#: isolation`` raises IsolationError).
ERRORS = (FuzzError, IsolationError)
#: Items per program by default (about 1,000 generated instructions).
DEFAULT_LENGTH = 400
#: Records compared at most per program (a generated program of MAX_ITEMS items
#: retires well under this; more means it does not end).
MAX_RECORDS = 50_000
#: Seconds between a worker's progress messages and between progress-line updates.
REPORT_S = 1.0
#: Seconds between progress lines when stderr is not a terminal.
LOG_S = 30.0
#: Programs per Hypothesis search before the worker starts a fresh one.
SEARCH_PROGRAMS = 500
#: Hypothesis example database key shared by all workers and campaigns.
DB_KEY = b"hvsim.fuzz.cpu"
DEFAULT_OUT = BUILD_DIR / "fuzz-cpu"
#: Seconds past the deadline that the last item-deletion shrink may take.
SHRINK_GRACE_S = 30


class TimeUp(BaseException):
    """Raised inside a Hypothesis test to end the search when the campaign is over."""


class Restart(BaseException):
    """Raised inside a Hypothesis test to start a fresh search (Hypothesis keeps a tree
    of every example a search explored, so one endless search grows without bound)."""


class ProgramFailed(AssertionError):
    """A program diverged, or did not end on the model."""


# --------------------------------------------------------------------------- oracle


@dataclass
class Outcome:
    """What the oracle found for one program."""

    ok: bool
    instructions: int  # records compared (co-simulation) or retired by the model
    reason: str  # one line
    report: str = ""  # the divergence report, when there is one
    records: list = field(default_factory=list)  # the model's retirement records
    key: str = ""  # the kind of failure: shrinking keeps failures of the same kind


def cosim_available() -> bool:
    """True when ``tools.cosim`` imports (the spike package's bindings load)."""
    try:
        import tools.cosim  # noqa: F401
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return False
    return True


class _TraceTap:
    """Keeps the arrays the co-simulation drains from the model's trace, so coverage
    needs no second model run."""

    def __init__(self, sim):
        self.sim, self.chunks = sim, []
        self._drain = sim.drain_trace_array
        sim.drain_trace_array = self

    def __call__(self):
        array = self._drain()
        if len(array):
            self.chunks.append(array)
        return array

    def take(self) -> list:
        from hardware.sim.machine import RETIRE_FIELDS, Retired

        rows = []
        for array in self.chunks:
            columns = [array[f"rvfi_{f}"].tolist() for f in RETIRE_FIELDS]
            rows += [Retired(*r) for r in zip(*columns)]
        self.chunks = []
        return rows


class Oracle:
    """Checks programs for one configuration with one reused ``Machine``."""

    def __init__(self, cfg: SocConfig, work: Path, kind: str = "auto"):
        from hardware.sim.machine import Machine

        if kind == "auto":
            kind = "cosim" if cosim_available() else "spike"
        if kind not in ("cosim", "spike"):
            raise FuzzError(f"unknown oracle '{kind}' (valid: auto, cosim, spike)")
        if kind == "cosim" and not cosim_available():
            raise FuzzError("oracle 'cosim' needs tools.cosim and the spike package's "
                            "Python bindings (pip install spike==0.0.5.dev20)")
        self.cfg, self.kind = cfg, kind
        self.machine = Machine(cfg)
        self.elf = work / f"prog-{os.getpid()}.elf"
        self.tap = _TraceTap(self.machine.simulator) if kind == "cosim" else None

    @property
    def options(self) -> GenOptions:
        """Generator options this oracle needs: a signature without lockstep; harness
        interrupt lines only with it (Spike sees them through the co-simulation)."""
        lockstep = self.kind == "cosim"
        return GenOptions(signature=not lockstep,
                          external_irqs=lockstep and self.cfg.harness_irq_lines > 0)

    def run(self, program: Program) -> Outcome:
        program.write_elf(self.elf)
        if self.kind == "cosim":
            return self._cosim(program)
        return self._signature(program)

    def _cosim(self, program: Program) -> Outcome:
        from tools.cosim import cosim_elf

        result = cosim_elf(self.elf, self.cfg, machine=self.machine,
                           max_instructions=MAX_RECORDS, irq_schedule=program.irqs)
        records = self.tap.take()
        if not records and result.instructions:
            records = self._model_records(program)
        div = result.divergence
        report = div.report() if div is not None else ""
        key = f"divergence:{div.field}" if div is not None else ("" if result.ok else "no-end")
        return Outcome(result.ok, result.instructions, result.reason, report, records, key)

    def _model_records(self, program: Program) -> list:
        records: list = []
        self.machine.trace_to(records.extend)
        try:
            self.machine.load(program.image())
            self.machine.run(MAX_RECORDS * 100)
        finally:
            self.machine.trace_to(None)
        return records

    def _signature(self, program: Program) -> Outcome:
        from tools.spike import SpikeError, run_spike

        records: list = []
        self.machine.trace_to(records.extend)
        try:
            self.machine.load(program.image())
            model = self.machine.run(MAX_RECORDS * 100)
        finally:
            self.machine.trace_to(None)
        try:
            spike = run_spike(self.elf, self.cfg, max_instructions=MAX_RECORDS * 4,
                              timeout_s=60)
        except SpikeError as exc:
            return Outcome(False, len(records), f"spike failed: {exc}", "", records,
                           "spike-error")
        if model.status == "timeout":
            return Outcome(False, len(records), "the program did not end on the model",
                           model.timeout_report(), records, "no-end")
        if model.exit_code != spike.exit_code:
            reason = (f"signatures differ: model exit code {model.exit_code}, spike "
                      f"{spike.exit_code}")
            tail = "\n".join(f"  {r.text()}" for r in records[-32:])
            return Outcome(False, len(records), reason, f"{reason}\nlast model records:\n"
                           f"{tail}", records, "signature")
        return Outcome(True, len(records), f"signature {model.exit_code} on both", "",
                       records)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class CampaignOptions:
    """One campaign's settings."""

    minutes: float
    workers: int
    out: Path
    seed: int | None = None
    config: str = "default"
    length: int = DEFAULT_LENGTH
    oracle: str = "auto"

    def check(self) -> SocConfig:
        """Validate; return the SoC config. Raises FuzzError (one line)."""
        check_budget(self.minutes, self.workers)
        if not 1 <= self.length <= MAX_ITEMS:
            raise FuzzError(f"--length must be 1..{MAX_ITEMS} items, not {self.length}")
        try:
            return variant(self.config)
        except ConfigError as exc:
            raise FuzzError(str(exc)) from None


def check_budget(minutes: float, workers: int, error: type[Exception] = FuzzError) -> None:
    """``error`` (one line) unless ``minutes`` is positive and ``workers`` at least 1."""
    if not minutes > 0:
        raise error(f"--minutes must be positive, not {minutes}")
    if workers < 1:
        raise error(f"--workers must be at least 1, not {workers}")


def prepare_out(out: Path, subdirs: tuple[str, ...] = ("db", "failures", "work"),
                error: type[Exception] = FuzzError) -> None:
    """Create the output folder and its ``subdirs`` (the last one gets a write probe);
    ``error`` (one line) if it cannot be written."""
    try:
        for sub in subdirs:
            (out / sub).mkdir(parents=True, exist_ok=True)
        probe = out / subdirs[-1] / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise error(f"cannot write campaign folder {out}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- searches


def search_seed(seed: int | None, index: int, run: int) -> int | None:
    """The seed of worker ``index``'s search number ``run`` (None: random)."""
    return None if seed is None else seed * 1_000_003 + index * 7919 + run


def hypothesis_search(strategy, body, *, db: Path, key: bytes, seed: int | None = None,
                      reuse: bool = False, multiple_bugs: bool = False) -> None:
    """One Hypothesis search of ``body`` over ``strategy`` in the campaign profile
    (random unless ``seed``, no deadline, no health checks, quiet), with the example
    database in the folder ``db`` under ``key`` (replayed first when ``reuse``).
    Returns when ``body`` raised TimeUp or Restart, or once its failures (assertion
    errors; each kind separately with ``multiple_bugs``) are shrunk."""
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis.database import DirectoryBasedExampleDatabase

    phases = [Phase.reuse] * reuse + [Phase.generate, Phase.shrink]

    @settings(database=DirectoryBasedExampleDatabase(str(db)), max_examples=10**9,
              deadline=None, phases=phases, suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet, print_blob=False, report_multiple_bugs=multiple_bugs)
    @given(strategy)
    def search(example):
        body(example)

    # hypothesis.seed() would turn the database off: set the seed and the shared
    # database key on the wrapped test directly.
    if seed is not None:
        search._hypothesis_internal_use_seed = seed
    search._hypothesis_internal_database_key = key
    try:
        search()
    except* (TimeUp, Restart, AssertionError):
        pass


# --------------------------------------------------------------------------- workers


@dataclass
class WorkerStats:
    """Counts a worker sends to the parent (deltas since its last message)."""

    programs: int = 0
    instructions: int = 0
    failures: int = 0
    busy_s: float = 0.0
    coverage: Coverage = field(default_factory=Coverage)
    saved: list[str] = field(default_factory=list)


def save_failure(out: Path, name: str, program: Program, outcome: Outcome, note: str = "") -> Path:
    """Write a failing program's ELF, listing, report and JSON under ``out/failures``."""
    folder = out / "failures" / name
    folder.mkdir(parents=True, exist_ok=True)
    program.write_elf(folder / "prog.elf")
    (folder / "prog.S").write_text(program.asm())
    text = [outcome.reason]
    if note:
        text.append(note)
    if outcome.report:
        text += ["", outcome.report]
    (folder / "report.txt").write_text("\n".join(text) + "\n")
    (folder / "program.json").write_text(json.dumps(program.to_json(), indent=1) + "\n")
    return folder


class Reporter:
    """A worker's counts since its last message (``stats``, a fresh ``new()`` after
    each), sent to the parent with ``put`` at most every REPORT_S seconds unless
    forced."""

    def __init__(self, put, index: int, new):
        self.put, self.index, self.new = put, index, new
        self.stats = new()
        self.last = time.monotonic()

    def send(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= REPORT_S:
            self.put(("stats", self.index, self.stats))
            self.stats = self.new()
            self.last = now


class _Search:
    """One worker's state across its Hypothesis searches."""

    def __init__(self, index: int, opts: CampaignOptions, cfg: SocConfig, deadline: float,
                 queue):
        self.index, self.opts, self.cfg = index, opts, cfg
        self.deadline = deadline
        self.oracle = Oracle(cfg, opts.out / "work", opts.oracle)
        self.counts = Reporter(queue.put, index, WorkerStats)
        self.failing: list[tuple[Program, Outcome]] = []
        self.saved = 0
        self.parent = os.getppid()
        self.in_search = 0

    def check(self, program: Program) -> None:
        """The body of the Hypothesis test."""
        if time.monotonic() >= self.deadline or os.getppid() != self.parent:
            raise TimeUp
        if self.in_search >= SEARCH_PROGRAMS and not self.failing:
            raise Restart
        self.in_search += 1
        t0 = time.perf_counter()
        outcome = self.oracle.run(program)
        self.counts.stats.busy_s += time.perf_counter() - t0
        self.counts.stats.programs += 1
        self.counts.stats.instructions += outcome.instructions
        self.counts.stats.coverage.observe(outcome.records, program.body_range, program.tags)
        outcome.records = []
        self.counts.send()
        if not outcome.ok:
            self.failing.append((program, outcome))
            raise ProgramFailed(outcome.reason)

    def search(self, run: int) -> None:
        """One Hypothesis search: until a failure (shrunk and saved) or the deadline."""
        strategy = programs(self.cfg, length=self.opts.length,
                            min_length=max(1, self.opts.length // 2),
                            options=self.oracle.options)
        self.failing, self.in_search = [], 0
        hypothesis_search(strategy, self.check, db=self.opts.out / "db", key=DB_KEY,
                          seed=search_seed(self.opts.seed, self.index, run),
                          reuse=run == 0 and self.index == 0)
        self.save_smallest()

    def save_smallest(self) -> None:
        """Save the smallest failing program of the search: Hypothesis's shrink result
        (or the best so far if time ran out while shrinking), with items deleted below
        the drawn minimum length by ``shrink_items``."""
        if not self.failing:
            return
        first = self.failing[0][0]
        program, outcome = min(self.failing, key=lambda f: (len(f[0].items), len(f[0].insns)))
        hypothesis_items = len(program.items)

        def same_failure(candidate: Program) -> bool:
            result = self.oracle.run(candidate)
            return not result.ok and result.key == outcome.key

        smaller = shrink_items(program, same_failure, self.deadline + SHRINK_GRACE_S)
        final = self.oracle.run(smaller)
        if not final.ok and final.key == outcome.key:
            program, outcome = smaller, final
        self.saved += 1
        name = f"w{self.index}-{self.saved:03d}"
        note = (f"found with {len(first.items)} items; Hypothesis shrank it to "
                f"{hypothesis_items}, item deletion to {len(program.items)} items "
                f"({len(program.insns)} instructions); {len(self.failing)} failing runs")
        save_failure(self.opts.out, name, program, outcome, note)
        self.counts.stats.failures += 1
        self.counts.stats.saved.append(name)
        self.counts.send(force=True)


def _worker(index: int, opts: CampaignOptions, deadline_s: float, queue) -> None:
    """A worker process: searches until the deadline (seconds from its start)."""
    try:
        cfg = opts.check()
        search = _Search(index, opts, cfg, time.monotonic() + deadline_s, queue)
        run = 0
        while time.monotonic() < search.deadline:
            search.search(run)
            run += 1
        search.counts.send(force=True)
        queue.put(("done", index, None))
    except BaseException as exc:  # noqa: BLE001 - report any worker crash to the parent
        queue.put(("error", index, f"{type(exc).__name__}: {exc}"))


# --------------------------------------------------------------------------- parent


@dataclass
class CampaignResult:
    """The totals of a campaign."""

    programs: int = 0
    instructions: int = 0
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    busy_s: float = 0.0  # worker time in the oracle (all workers)
    workers: int = 0
    oracle: str = ""
    coverage: Coverage = field(default_factory=Coverage)
    errors: list[str] = field(default_factory=list)

    @property
    def programs_per_s_per_core(self) -> float:
        """Programs per second and worker, wall clock (generation included)."""
        core_s = self.wall_s * self.workers
        return self.programs / core_s if core_s else 0.0

    @property
    def instructions_per_s_per_core(self) -> float:
        """Records checked per second and worker, wall clock."""
        core_s = self.wall_s * self.workers
        return self.instructions / core_s if core_s else 0.0

    @property
    def oracle_programs_per_s(self) -> float:
        """Programs per second of oracle time (ELF, model, Spike, comparison)."""
        return self.programs / self.busy_s if self.busy_s else 0.0

    def add(self, stats: WorkerStats) -> None:
        self.programs += stats.programs
        self.instructions += stats.instructions
        self.failures += stats.saved
        self.busy_s += stats.busy_s
        self.coverage.merge(stats.coverage)

    def progress(self, cfg: SocConfig, elapsed: float) -> str:
        rate = self.programs / elapsed if elapsed else 0.0
        irate = self.instructions / elapsed if elapsed else 0.0
        return (f"[{int(elapsed) // 60:02d}:{int(elapsed) % 60:02d}] programs {self.programs} "
                f"({rate:.1f}/s)  instructions {self.instructions:,} ({irate:,.0f}/s)  "
                f"failures {len(self.failures)}  coverage {self.coverage.summary(cfg)}")

    def summary(self) -> dict:
        return {"programs": self.programs, "instructions": self.instructions,
                "failures": self.failures, "wall_s": round(self.wall_s, 1),
                "workers": self.workers, "oracle": self.oracle,
                "programs_per_s_per_core": round(self.programs_per_s_per_core, 2),
                "instructions_per_s_per_core": round(self.instructions_per_s_per_core),
                "oracle_programs_per_s": round(self.oracle_programs_per_s, 2),
                "retire_fraction": round(self.coverage.retire_fraction, 4),
                "errors": self.errors}


def run_campaign(opts: CampaignOptions, stream=sys.stderr) -> CampaignResult:
    """Run a campaign; progress on ``stream``; results in ``opts.out``."""
    cfg = opts.check()
    out = opts.out
    prepare_out(out)
    oracle = opts.oracle if opts.oracle != "auto" else \
        ("cosim" if cosim_available() else "spike")
    if oracle == "cosim" and not cosim_available():
        raise FuzzError("oracle 'cosim' needs tools.cosim and the spike package's Python "
                        "bindings (pip install spike==0.0.5.dev20)")
    opts = CampaignOptions(opts.minutes, opts.workers, out, opts.seed, opts.config,
                           opts.length, oracle)
    _warm_up(cfg, oracle)
    result = CampaignResult(workers=opts.workers, oracle=oracle)
    ctx = process_context()
    queue = ctx.Queue()
    budget = opts.minutes * 60
    t0 = time.monotonic()
    procs = start_processes(ctx, _worker, [(i, opts, budget, queue)
                                           for i in range(opts.workers)])

    def handle(kind: str, index: int, payload) -> None:
        if kind == "stats":
            result.add(payload)
        elif kind == "error":
            result.errors.append(f"worker {index}: {payload}")

    try:
        collect(queue.get, len(procs), lambda: any(p.is_alive() for p in procs), handle,
                lambda: progress_line(stream, result.progress(cfg, time.monotonic() - t0)))
    finally:
        join_processes(procs)
    result.wall_s = time.monotonic() - t0
    progress_line(stream, result.progress(cfg, result.wall_s), end=True)
    _write_results(out, cfg, result)
    return result


def _warm_up(cfg: SocConfig, oracle: str) -> None:
    """Build the template ELF and the compiled model once, before the workers fork."""
    from hardware.sim.machine import Machine

    template(cfg, signature=oracle == "spike")
    Machine(cfg)


def process_context():
    """The multiprocessing context of worker processes: fork where there is one (the
    workers inherit what the parent built), else spawn."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def start_processes(ctx, target, args: list[tuple]) -> list:
    """One daemon process of ``target`` per tuple of ``args``, started."""
    procs = [ctx.Process(target=target, args=a, daemon=True) for a in args]
    for p in procs:
        p.start()
    return procs


def join_processes(procs: list, timeout: float = 5.0) -> None:
    """Wait for ``procs`` a little each; terminate those still alive."""
    for p in procs:
        p.join(timeout=timeout)
        if p.is_alive():
            p.terminate()


def collect(get, running: int, alive, handle, tick) -> None:
    """The parent's side of a campaign: take worker messages ``(kind, index, payload)``
    with ``get(timeout=...)`` and pass them to ``handle`` until ``running`` workers
    have sent "done" or "error", or none is ``alive()`` and the queue is empty; call
    ``tick()`` about every REPORT_S seconds."""
    last = 0.0
    while running:
        try:
            kind, index, payload = get(timeout=REPORT_S)
        except queue_mod.Empty:
            if not alive():
                break
            kind = None
        if kind is not None:
            handle(kind, index, payload)
            running -= kind in ("done", "error")
        now = time.monotonic()
        if now - last >= REPORT_S:
            tick()
            last = now


_LAST_LOG = [0.0]


def progress_line(stream, text: str, end: bool = False) -> None:
    """The live progress line: rewritten in place on a terminal; otherwise (a log
    file) one line every LOG_S seconds and at the end."""
    if stream is None:
        return
    if stream.isatty():
        stream.write("\r\x1b[K" + text + ("\n" if end else ""))
    elif end or time.monotonic() - _LAST_LOG[0] >= LOG_S:
        _LAST_LOG[0] = time.monotonic()
        stream.write(text + "\n")
    stream.flush()


def _write_results(out: Path, cfg: SocConfig, result: CampaignResult) -> None:
    (out / "coverage.txt").write_text(result.coverage.report(cfg) + "\n")
    (out / "coverage.json").write_text(json.dumps(result.coverage.to_json()) + "\n")
    (out / "summary.json").write_text(json.dumps(result.summary(), indent=1) + "\n")


# --------------------------------------------------------------------------- CLI


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``hvsim fuzz cpu --minutes N [--workers K] [--seed S] [--out DIR]`` and
    ``hvsim fuzz isolation`` (tools/isolation/campaign.py)."""
    from tools.isolation import campaign as isolation

    p = subparsers.add_parser("fuzz", help="fuzzing campaigns",
                              description="Fuzzing campaigns. Subcommands: cpu, isolation.")
    sub = p.add_subparsers(dest="fuzz_command", metavar="TARGET",
                           parser_class=type(p))
    sub.required = True
    c = sub.add_parser(
        "cpu", help="differential CPU fuzzing against Spike",
        description="Generate random programs (tools/fuzz/gen.py), run each on the model "
                    "and on Spike in lockstep, shrink and save every failing program. "
                    f"Exit status {EXIT_FAILURES} when failures were found.")
    c.add_argument("--minutes", type=float, required=True, metavar="N",
                   help="wall-clock budget in minutes (fractions allowed)")
    c.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="K",
                   help="worker processes (default: the CPU count)")
    c.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed the workers' searches (default: random)")
    c.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                   help=f"output folder: database, failures, coverage (default: {DEFAULT_OUT})")
    c.add_argument("--config", default="default", metavar="VARIANT",
                   help="SoC configuration variant (default: default)")
    c.add_argument("--length", type=int, default=DEFAULT_LENGTH, metavar="ITEMS",
                   help=f"items per program, at most (default {DEFAULT_LENGTH}, about "
                        f"1,000 instructions)")
    c.add_argument("--oracle", default="auto", choices=("auto", "cosim", "spike"),
                   help="lockstep co-simulation, or signatures on Spike (default: auto)")
    c.set_defaults(func=cmd_fuzz_cpu)
    isolation.add_parser(sub)
    return p


def cmd_fuzz_cpu(args) -> int:
    """The ``hvsim fuzz cpu`` handler; returns the exit status."""
    opts = CampaignOptions(args.minutes, args.workers, Path(args.out), args.seed,
                           args.config, args.length, args.oracle)
    result = run_campaign(opts)
    print(f"fuzz cpu: {result.programs} programs, {result.instructions:,} instructions in "
          f"{result.wall_s:.0f} s on {result.workers} workers ({result.oracle}); "
          f"{result.programs_per_s_per_core:.1f} programs/s and "
          f"{result.instructions_per_s_per_core:,.0f} instructions/s per core; "
          f"retire fraction {result.coverage.retire_fraction:.2%}")
    print(result.coverage.report(variant(args.config)))
    for err in result.errors:
        print(f"error: {err}", file=sys.stderr)
    if result.failures:
        print(f"{len(result.failures)} failing programs saved in {Path(args.out) / 'failures'}:"
              f" {', '.join(result.failures)}")
        return EXIT_FAILURES
    return EXIT_OK
