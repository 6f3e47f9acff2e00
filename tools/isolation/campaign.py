"""``hvsim fuzz isolation``: isolation fuzzing campaigns (issue 7, item 4;
docs/fuzzing.md, "Campaigns").

K workers each hold a ``Rig`` (the hypervisor booted with a victim and an adversary
slot, snapshotted) and run Hypothesis searches of two kinds (``KINDS``), in turn:

- ``adversary`` (``gen.cases``): an adversary program with a harness irq schedule, run
  from the snapshot with every isolation property checked (``Rig.run_case``);
- ``mix`` (``mix.mixes``): a scenario of two or three guest-suite guests with random
  budgets, fault policies and restart limits, run from boot with every property
  checked (``mix.run_mix``); it reaches restarts, the virtual UART, VU processes and
  watchdogs, which one adversary next to the fixed victim does not.

A case fails when it violates a selected property; Hypothesis shrinks the failures of
each property separately, and the smallest failing case of each property is saved. A
search ends at the deadline, after ``SEARCH_CASES`` clean cases of its kind or
``SEARCH_S`` seconds without a failure (a fresh one starts, of the other kind: each kind
gets about half of every worker's time), or once its failures are shrunk.

Workers are local processes forked from the parent, which boots the rig first (so a
bad firmware is one error, and the workers start at once); or, with ``--cluster``, Ray
tasks (``pip install 'hvsim[cluster]'``) that boot their own. Either way they stream
counts, coverage and saved violations to the parent through a queue (a Ray queue actor
on a cluster); a Ray task works on a copy of the example database and ships its new
entries back.

Output folder::

    db/                              the Hypothesis example database (replayed first)
    violations/<property>-<digest>/  adversary.elf, adversary.S (the listing), case.json,
                                     report.txt, README; a mix has scenario.toml instead
                                     of the adversary
    work/                            the local workers' scratch ELFs
    coverage.json, summary.json

``--replay DIR`` runs a saved case again on a fresh rig (exit 3 while it still
violates its property, 0 once it does not).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import os
import re
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.fuzz.campaign import (REPORT_S, Reporter, Restart, TimeUp, check_budget, collect,
                                 hypothesis_search, join_processes, prepare_out,
                                 process_context, progress_line, search_seed,
                                 start_processes)
from tools.isolation import IsolationError
from tools.isolation.oracles import PROPERTIES
from tools.toolchain import BUILD_DIR

#: Exit status of a campaign that saved violations (2: bad input, as every command).
EXIT_OK, EXIT_VIOLATIONS = 0, 3
#: Exit status of ``--replay``: the case still violates its property (as a campaign
#: that saved violations; 1 is hvsim's internal error), or not.
EXIT_STILL_VIOLATES, EXIT_FIXED = EXIT_VIOLATIONS, 0
DEFAULT_OUT = BUILD_DIR / "fuzz-isolation"
#: Hypothesis example database key shared by all workers and campaigns.
DB_KEY = b"hvsim.fuzz.isolation"
#: Items per adversary program at most (``gen.cases``), by default and at most.
DEFAULT_ITEMS, MAX_ITEMS = 60, 200
#: Clean cases per Hypothesis search before a fresh one starts (a search keeps a tree
#: of every example it explored).
SEARCH_CASES = {"adversary": 200, "mix": 8}
#: Seconds a search without failures runs before the other kind's turn (a mix takes
#: about 1.6 s, an adversary case about 0.5 s: a case count alone gave mixes a tenth
#: of the time).
SEARCH_S = 15.0
#: The kinds of case, searched in turn (worker i starts with kind i mod 2).
KINDS = ("adversary", "mix")
#: Seconds past the deadline a search may shrink its failures (at most a quarter of
#: the budget).
SHRINK_GRACE_S = 30.0
#: Seconds to wait for a TCP connection to a Ray cluster's address.
CONNECT_TIMEOUT_S = 5.0
#: Build or load errors of generated programs kept per worker (the rest are counted).
MAX_ERRORS = 5
CLUSTER_ADDRESS = re.compile(r"^ray://([A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$")
CLUSTER_EXTRA = "pip install 'hvsim[cluster]'"
#: Files of a violation folder.
ELF_NAME, LISTING_NAME, CASE_NAME, REPORT_NAME, README_NAME, MIX_NAME = (
    "adversary.elf", "adversary.S", "case.json", "report.txt", "README", "scenario.toml")
#: Coverage key prefixes (the first word of a key) in report order, with their names.
COVERAGE_GROUPS = (("exit", "VM exits"), ("sbi", "SBI functions"), ("csr", "CSR accesses"),
                   ("irq", "interrupts to guests"), ("item", "item kinds"),
                   ("end", "run ends"))


class CaseViolated(AssertionError):
    """A case broke a selected property (one subclass per property, so that Hypothesis
    shrinks the failures of each property separately)."""


VIOLATED = {p: type(f"Violated_{p.replace('-', '_')}", (CaseViolated,), {})
            for p in PROPERTIES}


# --------------------------------------------------------------------------- options


def parse_properties(spec) -> tuple[str, ...]:
    """The selected properties from ``spec`` (None: all; a comma-separated string or
    an iterable of names), in ``PROPERTIES`` order; IsolationError for unknown ones."""
    if spec is None:
        return tuple(PROPERTIES)
    names = [n.strip() for n in (spec.split(",") if isinstance(spec, str) else spec)]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in PROPERTIES]
    if unknown or not names:
        what = f"unknown propert{'ies' if len(unknown) > 1 else 'y'} " \
               f"{', '.join(repr(n) for n in unknown)}" if unknown else "no property given"
        raise IsolationError(f"{what} (valid: {', '.join(PROPERTIES)})")
    return tuple(p for p in PROPERTIES if p in names)


def parse_kinds(spec) -> tuple[str, ...]:
    """The kinds of case from ``spec`` (None: all; a comma-separated string or a list)."""
    if spec is None:
        return KINDS
    names = [k.strip() for k in (spec.split(",") if isinstance(spec, str) else spec)]
    bad = [k for k in names if k not in KINDS]
    if bad or not names:
        raise IsolationError(f"unknown case kind {bad[0] if bad else '(none)'!r} "
                             f"(valid: {', '.join(KINDS)})")
    return tuple(dict.fromkeys(names))


def parse_cluster(spec: str | None) -> str | None:
    """None (local processes), "local" (a local Ray instance) or a checked
    ``ray://HOST:PORT``; IsolationError otherwise."""
    if spec is None or spec == "local":
        return spec
    m = CLUSTER_ADDRESS.match(spec)
    if not m or not 0 < int(m.group(2)) < 65536:
        raise IsolationError(f"bad --cluster address {spec!r} (expected ray://HOST:PORT or "
                             "local)")
    return spec


@dataclass(frozen=True)
class IsolationOptions:
    """One campaign's settings (``run_campaign``'s arguments, checked)."""

    minutes: float
    workers: int
    out: Path
    properties: tuple[str, ...] = tuple(PROPERTIES)
    seed: int | None = None
    max_items: int = DEFAULT_ITEMS
    config: str = "default"
    cluster: str | None = None
    src_dir: Path | None = None
    build_dir: Path | None = None
    stop_on_violation: bool = False
    kinds: tuple[str, ...] = KINDS
    time_protection: bool = False

    def check(self):
        """Validate; return the SoC config. Raises IsolationError (one line)."""
        from hardware.config import ConfigError, variant

        check_budget(self.minutes, self.workers, IsolationError)
        if not 1 <= self.max_items <= MAX_ITEMS:
            raise IsolationError(f"--max-items must be 1..{MAX_ITEMS}, not {self.max_items}")
        parse_cluster(self.cluster)
        parse_kinds(self.kinds)
        if self.time_protection and "mix" in self.kinds:
            raise IsolationError("--kinds: mix cases do not run with --time-protection "
                                 "(use --kinds adversary)")
        if self.src_dir is not None and not Path(self.src_dir).is_dir():
            raise IsolationError(f"{self.src_dir}: firmware source folder not found")
        try:
            return variant(self.config)
        except ConfigError as exc:
            raise IsolationError(str(exc)) from None

    @property
    def budget_s(self) -> float:
        return self.minutes * 60

    @property
    def shrink_grace_s(self) -> float:
        return min(SHRINK_GRACE_S, self.budget_s / 4)


# --------------------------------------------------------------------------- the rig


@functools.lru_cache(maxsize=1)
def _lenient_rig_class():
    """``Rig`` that accepts a reference case (the placeholder adversary) which violates
    a property: a firmware mutant can break isolation with no adversary at all, and
    then every case shows it."""
    from tools.isolation.rig import Rig

    class LenientRig(Rig):
        def __init__(self, *args, **kwargs):
            try:
                super().__init__(*args, **kwargs)
            except IsolationError:
                ref = getattr(self, "reference", None)
                if ref is None or ref.ok or ref.status == "timeout":
                    raise
                self.reference_obs = self._last_obs

    return LenientRig


def boot_rig(cfg, src_dir: Path | None = None, build_dir: Path | None = None,
             time_protection: bool = False, victim_yields: bool = False):
    """A booted rig (see ``_lenient_rig_class``) for ``cfg`` and the firmware sources,
    with the hypervisor's time-protected schedule and a yielding victim if asked."""
    return _lenient_rig_class()(cfg, src_dir=src_dir, build_dir=build_dir,
                                time_protection=time_protection, victim_yields=victim_yields)


def victim_yields(index: int) -> bool:
    """Whether worker ``index``'s rig has the yielding victim: the odd workers', so that
    two workers cover both the timer and the SBI switch paths."""
    return index % 2 == 1


def reference_violations(rig) -> list[str]:
    """The properties the rig's reference case already violates (a broken firmware)."""
    return sorted({v.prop for v in rig.reference.violations} |
                  {p for p, n in rig.reference.counts.items() if n})


# --------------------------------------------------------------------------- workers


@dataclass
class Delta:
    """Counts a worker sends to the parent (since its last message)."""

    cases: int = 0
    busy_s: float = 0.0
    rejected: int = 0
    coverage: Counter = field(default_factory=Counter)


@dataclass
class WorkerReport:
    """One worker's totals."""

    index: int
    cases: int = 0
    boot_s: float = 0.0
    search_s: float = 0.0
    busy_s: float = 0.0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def cases_per_s(self) -> float:
        """Cases per second of search (generation, build and run; the boot excluded)."""
        return self.cases / self.search_s if self.search_s else 0.0


@dataclass
class Failing:
    """A case that broke ``prop`` in a search, with what it gave."""

    case: object  # gen.AdversaryCase or mix.Mix
    result: object  # rig.CaseResult or mix.MixResult
    elf: bytes  # the adversary ELF, or a mix's scenario file
    prop: str
    at: float  # time.time() when it ran


@dataclass
class Found:
    """A saved violation, as a worker sends it to the parent."""

    prop: str
    name: str  # the folder name: <property>-<digest>
    files: dict[str, bytes]
    case: dict
    found_at: float  # time.time() of the search's first failing case of the property


class LocalChannel:
    """Messages to the parent and the stop flag of a forked worker."""

    def __init__(self, queue, stop):
        self.queue, self.stop = queue, stop
        self.parent = os.getppid()

    def send(self, message: tuple) -> None:
        self.queue.put(message)

    def stopped(self) -> bool:
        return self.stop.is_set() or os.getppid() != self.parent


class RayChannel:
    """Messages to the parent (a Ray queue) and the stop flag (another, non-empty once
    the parent wants the workers to stop) of a Ray task."""

    def __init__(self, queue, stop):
        self.queue, self.stop = queue, stop
        self._checked, self._stopped = 0.0, False

    def send(self, message: tuple) -> None:
        self.queue.put(message)

    def stopped(self) -> bool:
        now = time.monotonic()
        if not self._stopped and now - self._checked >= REPORT_S:
            self._checked, self._stopped = now, not self.stop.empty()
        return self._stopped


class Searcher:
    """One worker's Hypothesis searches over one rig."""

    def __init__(self, index: int, opts: IsolationOptions, rig, channel, *, db: Path,
                 work: Path, deadline: float):
        from tools.isolation import gen

        self.index, self.opts, self.rig, self.channel = index, opts, rig, channel
        self.db, self.work, self.deadline = db, work, deadline
        from tools.isolation.mix import SEED_MIXES, mixes

        targets = gen.Targets.from_scenario(rig.scenario, "adversary", rig.cfg)
        self.seeds = {"adversary": gen.seeds(targets), "mix": SEED_MIXES}
        self.strategies = {"adversary": gen.cases(targets, lines=rig.cfg.harness_irq_lines,
                                                  max_items=opts.max_items),
                           "mix": mixes()}
        self.kind = opts.kinds[0]
        self.report = WorkerReport(index)
        self.counts = Reporter(channel.send, index, Delta)
        self.failing: list[Failing] = []
        self.in_search = 0
        self.search_end = deadline
        self.first_sent = False
        self.saved: set[str] = set()

    # ---- the search

    def run(self) -> WorkerReport:
        """Search until the deadline or a stop (worker 0 runs each kind's seeds before
        its first search of that kind)."""
        t0, run = time.monotonic(), 0
        kinds = self.opts.kinds
        while self._searching():
            self.kind = kinds[(self.index + run) % len(kinds)]
            if self.index == 0 and run < len(kinds):
                self.run_seeds(self.kind)
                if not self._searching():
                    break
            self.failing, self.in_search = [], 0
            self.search_end = time.monotonic() + SEARCH_S
            hypothesis_search(self.strategies[self.kind], self.check, db=self.db,
                              key=DB_KEY + b"." + self.kind.encode(),
                              seed=search_seed(self.opts.seed, self.index, run),
                              reuse=run < len(kinds) and self.index == 0,
                              multiple_bugs=True)
            self.save()
            run += 1
        self.report.search_s = time.monotonic() - t0
        self.counts.send(force=True)
        return self.report

    def _searching(self) -> bool:
        """Time is left, no stop was asked for, and no violation ends the campaign."""
        return time.monotonic() < self.deadline and not self.channel.stopped() \
            and not (self.saved and self.opts.stop_on_violation)

    def run_seeds(self, kind: str) -> None:
        """Run the seeds of ``kind`` (``gen.seeds``, ``mix.SEED_MIXES``: fixed, not
        shrunk) once, and send what they find (the first violation only, with
        ``stop_on_violation``)."""
        self.failing, self.in_search = [], 0
        self.search_end = self.deadline
        for seed in self.seeds[kind]:
            try:
                self.check(seed)
            except (TimeUp, Restart):
                break
            except CaseViolated:
                if self.opts.stop_on_violation:
                    break
        self.save()

    def check(self, case) -> None:
        """The body of the Hypothesis test: one case."""
        from hypervisor.config import VmConfigError
        from tools.isolation import gen
        from tools.toolchain import ToolchainError

        limit = self.deadline + (self.opts.shrink_grace_s if self.failing else 0.0)
        if time.monotonic() >= limit or self.channel.stopped():
            raise TimeUp
        if not self.failing and (self.in_search >= SEARCH_CASES[self.kind]
                                 or time.monotonic() >= self.search_end):
            raise Restart
        self.in_search += 1
        t0 = time.perf_counter()
        try:
            if self.kind == "mix":
                elf = self._run_mix(case)
                result = self._mix_result
            else:
                elf = gen.build_adversary(case.program, self.work, stem="case")
                result = self.rig.run_case(elf, case.irqs)
        except (ToolchainError, IsolationError, VmConfigError) as exc:
            self.counts.stats.rejected += 1
            self.report.rejected += 1
            if len(self.report.errors) < MAX_ERRORS:
                self.report.errors.append(f"{type(exc).__name__}: {exc}")
            return
        busy = time.perf_counter() - t0
        self.counts.stats.busy_s += busy
        self.report.busy_s += busy
        self.counts.stats.cases += 1
        self.report.cases += 1
        self.counts.stats.coverage.update(case_coverage(case, result))
        broken = [p for p in self.opts.properties if violated(result, p)]
        if broken:
            self.failing.append(Failing(case, result, elf.read_bytes(), broken[0], time.time()))
            if not self.first_sent:
                self.first_sent = True
                self.channel.send(("first", self.index, (time.time(), broken[0])))
        self.counts.send(force=bool(broken))
        if broken:
            first = next((v for v in result.violations if v.prop == broken[0]), None)
            raise VIOLATED[broken[0]](first.line() if first else broken[0])

    def _run_mix(self, mix) -> Path:
        """Run a mix on the rig's machine (the rig restores its snapshot per case)."""
        from tools.isolation.mix import run_mix, write_mix

        toml = write_mix(mix, self.work)
        self._mix_result = run_mix(toml, self.rig.cfg, machine=self.rig.machine,
                                   src_dir=self.opts.src_dir,
                                   build_dir=self._mix_build_dir(),
                                   budgets=mix.availability())
        return toml

    def _mix_build_dir(self) -> Path:
        """Where mixes' firmware is built (the mutant's build folder when given)."""
        if self.opts.build_dir is not None:
            return Path(self.opts.build_dir) / f"mix-w{self.index}"
        return self.work / "build"

    def save(self) -> None:
        """Send the smallest failing case of each property of the search."""
        for prop in dict.fromkeys(f.prop for f in self.failing):
            runs = [f for f in self.failing if f.prop == prop]
            best = min(runs, key=lambda f: case_size(f.case))
            found = violation_record(self.index, self.opts, best, runs)
            if found.name in self.saved:
                continue
            self.saved.add(found.name)
            self.channel.send(("violation", self.index, found))
        self.failing = []


def violated(result, prop: str) -> bool:
    """Whether the case result breaks ``prop``."""
    return bool(result.counts.get(prop)) or any(v.prop == prop for v in result.violations)


def case_size(case) -> tuple:
    """What shrinking minimises: an adversary's instructions, items and irq events; a
    mix's VMs and its description."""
    from tools.isolation.gen import program_length

    if is_mix(case):
        return (len(case.vms), case.toml())
    return (program_length(case.program), len(case.program.items), len(case.irqs))


def is_mix(case) -> bool:
    return hasattr(case, "vms")


def is_seed(case) -> bool:
    """Whether ``case`` is a seed (``gen.SEEDS``, ``mix.SEED_MIXES``)."""
    if is_mix(case):
        return bool(case.note)
    return [i.kind for i in case.program.items] == ["seed"]


def case_coverage(case, result) -> Counter:
    """Coverage keys of one case: the checker's (VM-exit causes, SBI functions, CSR
    accesses, interrupts delivered), the program's item kinds (a mix's guests) and the
    run's end."""
    keys = Counter(result.coverage)
    if is_mix(case):
        keys.update(f"guest {vm.guest}" for vm in case.vms)
        keys[f"end {result.status}"] += 1
        return keys
    if not is_seed(case):       # a seed is no generated item kind
        keys.update(f"item {i.kind}" for i in case.program.items)
    keys[f"end {result.status}"] += 1
    if case.irqs:
        keys["irq harness lines driven"] += 1
    return keys


def case_digest(elf: bytes, irqs) -> str:
    """A short digest of a case (its ELF and irq schedule): folder names."""
    return hashlib.sha256(elf + repr(tuple(irqs)).encode()).hexdigest()[:12]


def violation_record(index: int, opts: IsolationOptions, best: Failing,
                     runs: list[Failing]) -> Found:
    """The files and case.json of a violation folder for the smallest failing case
    ``best`` of a search (``runs``: the search's failing cases of the same property);
    the parent adds ``found_after_s``."""
    from tools.isolation.gen import program_length

    case, result, prop = best.case, best.result, best.prop
    first = next((v for v in result.violations if v.prop == prop), None)
    if is_mix(case):
        return _mix_record(index, opts, best, runs, first)
    info = {
        "kind": "adversary", "property": prop, "statement": PROPERTIES[prop],
        "cycle": first.cycle if first else None, "address": first.addr if first else None,
        "pc": first.pc if first else None, "detail": first.detail if first else "",
        "violations": [v.line() for v in result.violations],
        "counts": dict(result.counts), "irqs": [list(e) for e in case.irqs],
        "program_length": program_length(case.program),
        "items": [i.kind for i in case.program.items],
        "corpus": case.program.items[0].note if is_seed(case) else None,
        "shrunk_from": program_length(runs[0].case.program), "failing_runs": len(runs),
        "status": result.status, "cycles": result.cycles, "seed": opts.seed,
        "worker": index, "config": opts.config, "max_items": opts.max_items,
        "time_protection": opts.time_protection,
        "victim_yields": victim_yields(index),
        "src_dir": str(opts.src_dir) if opts.src_dir else None,
        "build_dir": str(opts.build_dir) if opts.build_dir else None,
    }
    files = {ELF_NAME: best.elf, LISTING_NAME: case.program.asm().encode()}
    name = f"{prop}-{case_digest(best.elf, case.irqs)}"
    return Found(prop, name, files, info, runs[0].at)


def _mix_record(index: int, opts: IsolationOptions, best: Failing, runs: list[Failing],
                first) -> Found:
    """``violation_record`` of a mix: its scenario file instead of an adversary."""
    mix, result, prop = best.case, best.result, best.prop
    info = {
        "kind": "mix", "property": prop, "statement": PROPERTIES[prop],
        "cycle": first.cycle if first else None, "address": first.addr if first else None,
        "pc": first.pc if first else None, "detail": first.detail if first else "",
        "violations": [v.line() for v in result.violations],
        "counts": dict(result.counts), "irqs": [], "program_length": 0,
        "vms": len(mix.vms), "guests": [vm.guest for vm in mix.vms],
        "corpus": mix.note or None,
        "availability": {k: list(v) for k, v in mix.availability().items()},
        "shrunk_from": len(runs[0].case.vms), "failing_runs": len(runs),
        "status": result.status, "cycles": result.cycles, "seed": opts.seed,
        "worker": index, "config": opts.config,
        "src_dir": str(opts.src_dir) if opts.src_dir else None,
        "build_dir": str(opts.build_dir) if opts.build_dir else None,
    }
    name = f"{prop}-mix-{mix.digest()}"
    return Found(prop, name, {MIX_NAME: best.elf}, info, runs[0].at)


def _worker_body(index: int, opts: IsolationOptions, deadline_wall: float, channel,
                 rig, db: Path, work: Path) -> WorkerReport:
    """Boot a rig unless given one, then search until ``deadline_wall`` (time.time())."""
    t0 = time.monotonic()
    if rig is None:
        rig = boot_rig(opts.check(), opts.src_dir, opts.build_dir, opts.time_protection,
                       victim_yields(index))
    boot_s = time.monotonic() - t0
    deadline = time.monotonic() + (deadline_wall - time.time())
    searcher = Searcher(index, opts, rig, channel, db=db, work=work, deadline=deadline)
    report = searcher.run()
    report.boot_s = boot_s
    return report


#: The rig a forked local worker inherits from the parent.
_INHERITED: dict = {}


def _local_worker(index: int, opts: IsolationOptions, deadline_wall: float, queue,
                  stop) -> None:
    """A forked local worker process."""
    channel = LocalChannel(queue, stop)
    try:
        work = Path(opts.out) / "work" / f"w{index}"
        work.mkdir(parents=True, exist_ok=True)
        rig = None if victim_yields(index) else _INHERITED.get("rig")
        report = _worker_body(index, opts, deadline_wall, channel, rig,
                              Path(opts.out) / "db", work)
        channel.send(("done", index, report))
    except BaseException as exc:  # noqa: BLE001 - report any worker crash to the parent
        channel.send(("error", index, f"{type(exc).__name__}: {exc}"))


def _ray_worker(index: int, opts: IsolationOptions, deadline_wall: float, queue, stop,
                db_pack: dict[str, bytes]) -> dict[str, bytes]:
    """A Ray task: works in a scratch folder with a copy of the example database;
    returns the database's entries (the parent adds the new ones)."""
    channel = RayChannel(queue, stop)
    with tempfile.TemporaryDirectory(prefix="hvsim-isolation-") as tmp:
        db, work = Path(tmp) / "db", Path(tmp) / "work"
        unpack_dir(db_pack, db)
        work.mkdir()
        try:
            report = _worker_body(index, opts, deadline_wall, channel, None, db, work)
            channel.send(("done", index, report))
        except BaseException as exc:  # noqa: BLE001 - report any worker crash to the parent
            channel.send(("error", index, f"{type(exc).__name__}: {exc}"))
        return pack_dir(db)


def pack_dir(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


def unpack_dir(files: dict[str, bytes], folder: Path) -> int:
    """Write the files of ``pack_dir`` under ``folder`` (keeping existing ones); return
    how many were new."""
    new = 0
    for rel, data in files.items():
        path = Path(folder) / rel
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            new += 1
    Path(folder).mkdir(parents=True, exist_ok=True)
    return new


# --------------------------------------------------------------------------- the summary


@dataclass
class SavedViolation:
    """One violation folder."""

    property: str
    folder: Path
    cycle: int | None
    address: int | None
    detail: str
    program_length: int  # instructions of the adversary (0 for a mix)
    found_s: float  # seconds from the campaign start to the first failing case
    kind: str = "adversary"
    vms: int = 0  # VMs of a mix
    corpus: str | None = None  # the seed case's name when a seed found it


@dataclass
class CampaignSummary:
    """The totals of a campaign (``summary.json``)."""

    out: Path
    workers: int
    cluster: str  # "processes", "ray local" or the ray:// address
    properties: tuple[str, ...]
    cases: int = 0
    rejected: int = 0
    wall_s: float = 0.0
    busy_s: float = 0.0
    first_violation_s: float | None = None
    first_property: str | None = None
    reference_s: float | None = None  # when the reference case was seen to violate
    violations: list[SavedViolation] = field(default_factory=list)
    coverage: Counter = field(default_factory=Counter)
    per_worker: dict[int, WorkerReport] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    reference_violations: list[str] = field(default_factory=list)
    fallback: str = ""

    @property
    def cases_per_s(self) -> float:
        """Cases per second of wall clock, all workers (the rigs' boot included)."""
        return self.cases / self.wall_s if self.wall_s else 0.0

    @property
    def by_property(self) -> dict[str, int]:
        """Saved violations per selected property."""
        counts = Counter(v.property for v in self.violations)
        return {p: counts[p] for p in self.properties}

    @property
    def median_length(self) -> float | None:
        """Median ``program_length`` of the saved (shrunk) adversary violations (not the
        seed corpus's)."""
        lengths = [v.program_length for v in self.violations
                   if v.kind == "adversary" and not v.corpus]
        return statistics.median(lengths) if lengths else None

    def add(self, delta: Delta) -> None:
        self.cases += delta.cases
        self.rejected += delta.rejected
        self.busy_s += delta.busy_s
        self.coverage.update(delta.coverage)

    def coverage_groups(self) -> dict[str, int]:
        """Distinct coverage keys per group (``COVERAGE_GROUPS``)."""
        groups = Counter(k.split()[0] for k in self.coverage)
        return {name: groups[prefix] for prefix, name in COVERAGE_GROUPS}

    def progress(self, elapsed: float) -> str:
        """The live progress line."""
        from tools.isolation.gen import KINDS

        rate = self.cases / elapsed if elapsed else 0.0
        g = Counter(k.split()[0] for k in self.coverage)
        first = "" if self.first_violation_s is None else \
            f" (first after {self.first_violation_s:.0f} s)"
        return (f"[{int(elapsed) // 60:02d}:{int(elapsed) % 60:02d}] cases {self.cases} "
                f"({rate:.2f}/s)  violations {len(self.violations)}{first}  coverage "
                f"{len(self.coverage)} keys (exits {g['exit']}, sbi {g['sbi']}, "
                f"csr {g['csr']}, irq {g['irq']}, items {g['item']}/{len(KINDS)})")

    def to_json(self) -> dict:
        return {
            "cases": self.cases, "rejected": self.rejected, "wall_s": round(self.wall_s, 1),
            "cases_per_s": round(self.cases_per_s, 3),
            "workers": self.workers, "cluster": self.cluster, "fallback": self.fallback,
            "per_worker": [{"worker": w.index, "cases": w.cases,
                            "cases_per_s": round(w.cases_per_s, 3),
                            "boot_s": round(w.boot_s, 2), "search_s": round(w.search_s, 1),
                            "rejected": w.rejected, "errors": w.errors}
                           for w in sorted(self.per_worker.values(), key=lambda w: w.index)],
            "properties": list(self.properties),
            "violations_by_property": self.by_property,
            "violations": [{**asdict(v), "folder": v.folder.name} for v in self.violations],
            "first_violation_s": None if self.first_violation_s is None
            else round(self.first_violation_s, 2),
            "first_violation_property": self.first_property,
            "median_program_length": self.median_length,
            "coverage_keys": len(self.coverage), "coverage_groups": self.coverage_groups(),
            "reference_violations": self.reference_violations, "errors": self.errors,
        }

    def table(self) -> str:
        """The final report."""
        lines = [f"fuzz isolation: {self.cases} cases in {self.wall_s:.0f} s on {self.workers} "
                 f"worker{'s' * (self.workers != 1)} ({self.cluster}{self.fallback and ', '}"
                 f"{self.fallback}): {self.cases_per_s:.2f} cases/s"
                 + (f", {self.rejected} programs rejected" if self.rejected else ""),
                 "", f"{'worker':>6}  {'cases':>7}  {'cases/s':>7}  {'boot s':>6}"]
        for w in sorted(self.per_worker.values(), key=lambda w: w.index):
            lines.append(f"{w.index:>6}  {w.cases:>7}  {w.cases_per_s:>7.2f}  {w.boot_s:>6.1f}")
        lines += ["", f"{'property':<18}  violations"]
        lines += [f"{p:<18}  {n}" for p, n in self.by_property.items()]
        if self.first_violation_s is not None:
            median = "" if self.median_length is None else \
                f"; median shrunk reproducer {self.median_length:g} instructions"
            lines.append(f"first violation after {self.first_violation_s:.1f} s "
                         f"({self.first_property}){median}")
        groups = ", ".join(f"{name} {n}" for name, n in self.coverage_groups().items())
        lines += ["", f"coverage: {len(self.coverage)} keys ({groups})"]
        if self.reference_violations:
            lines.append("the firmware breaks " + ", ".join(self.reference_violations) +
                         " with no adversary at all (its reference case)")
        for v in self.violations:
            size = _n(v.vms, "VM") + " mix" if v.kind == "mix" else \
                _n(v.program_length, "instruction")
            lines.append(f"violation: {v.folder}  ({v.property}, {size})")
        return "\n".join(lines)


# --------------------------------------------------------------------------- the parent


class _Parent:
    """The parent's bookkeeping: messages in, folders and summary out."""

    def __init__(self, opts: IsolationOptions, summary: CampaignSummary, t0_wall: float,
                 stop):
        self.opts, self.summary, self.t0_wall, self.stop = opts, summary, t0_wall, stop

    def handle(self, kind: str, index: int, payload) -> None:
        s = self.summary
        if kind == "stats":
            s.add(payload)
        elif kind == "first":
            at, prop = payload
            if s.first_violation_s is None or at - self.t0_wall < s.first_violation_s:
                s.first_violation_s, s.first_property = max(0.0, at - self.t0_wall), prop
        elif kind == "violation":
            self.save(payload)
            if self.opts.stop_on_violation:
                self.stop()
        elif kind == "done":
            s.per_worker[index] = payload
        elif kind == "error":
            s.errors.append(f"worker {index}: {payload}")

    def save(self, found: Found) -> None:
        folder = Path(self.opts.out) / "violations" / found.name
        if any(v.folder == folder for v in self.summary.violations):
            return
        info = dict(found.case, found_after_s=round(found.found_at - self.t0_wall, 2))
        write_violation(folder, found.files, info)
        self.summary.violations.append(SavedViolation(
            found.prop, folder, info["cycle"], info["address"], info["detail"],
            info["program_length"], info["found_after_s"], info.get("kind", "adversary"),
            info.get("vms", 0), info.get("corpus")))


def write_violation(folder: Path, files: dict[str, bytes], info: dict) -> None:
    """Write a violation folder: the files, case.json, report.txt and README."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    (folder / CASE_NAME).write_text(json.dumps(info, indent=1) + "\n")
    (folder / REPORT_NAME).write_text(report_text(info) + "\n")
    what = (f"{MIX_NAME}: the shrunk scenario mix" if info.get("kind") == "mix" else
            f"{ELF_NAME}: the adversary guest; {LISTING_NAME}: its shrunk program")
    (folder / README_NAME).write_text(
        f"An isolation violation found by hvsim fuzz isolation ({info['property']}).\n"
        f"Replay: hvsim fuzz isolation --replay {folder}\n"
        f"{what}; {CASE_NAME}: irq schedule, seed and violations; {REPORT_NAME}: what "
        "broke.\n")


def _n(count: int, word: str) -> str:
    """``count`` and ``word``, plural unless one."""
    return f"{count} {word}{'s' * (count != 1)}"


def _hex(value) -> str:
    return "none" if value is None else f"{value:#x}"


def report_text(info: dict) -> str:
    """The paragraph of report.txt, then every violation line of the case."""
    when = "at the end of the run" if info["cycle"] is None or info["cycle"] < 0 else \
        f"at cycle {info['cycle']}"
    if info.get("kind") == "mix":
        text = (f"Property {info['property']} ({info['statement']}) was violated {when}, "
                f"address {_hex(info['address'])} (pc {_hex(info['pc'])}): "
                f"{info['detail'] or 'see below'}. The scenario mix ({MIX_NAME}) has "
                f"{_n(info['vms'], 'VM')} ({', '.join(info['guests'])}); worker "
                f"{info['worker']} first broke the property {info['found_after_s']} s into "
                "the campaign"
                + (f" with the seed mix '{info['corpus']}' (mix.SEED_MIXES, not shrunk)"
                   if info.get("corpus") else
                   f" and Hypothesis shrank it from {_n(info['shrunk_from'], 'VM')} "
                   f"({_n(info['failing_runs'], 'failing run')})") +
                f". The run ended {info['status']} after {info['cycles']} cycles from boot.")
        return "\n".join([text, "", *info["violations"]])
    found = (f"the seed case '{info['corpus']}' (gen.SEEDS, not shrunk)"
             if info.get("corpus") else "")
    text = (f"Property {info['property']} ({info['statement']}) was violated {when}, address "
            f"{_hex(info['address'])} (pc {_hex(info['pc'])}): {info['detail'] or 'see below'}. "
            + (f"It was found by {found}. " if found else "") +
            f"The adversary is {_n(info['program_length'], 'instruction')} in "
            f"{_n(len(info['items']), 'item')} ({', '.join(info['items'])}) with "
            f"{_n(len(info['irqs']), 'harness irq event')}; worker {info['worker']} first "
            f"broke the property {info['found_after_s']} s into the campaign and Hypothesis "
            f"shrank the case from "
            f"{info['shrunk_from']} to {_n(info['program_length'], 'instruction')} "
            f"({_n(info['failing_runs'], 'failing run')}). The run ended {info['status']} "
            f"after {info['cycles']} cycles from the snapshot.")
    return "\n".join([text, "", *info["violations"]])


def _connect_ray(cluster: str, workers: int) -> bool:
    """Start (``local``) or join (``ray://``) Ray; True when this call started it.
    IsolationError (one line) when the cluster cannot be reached or Ray is missing."""
    if cluster != "local":
        host, port = CLUSTER_ADDRESS.match(cluster).groups()
        try:
            socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise IsolationError(f"cannot reach the Ray cluster at {cluster}: "
                                 f"{exc.strerror or exc}") from None
    try:
        import ray
    except ImportError:
        raise IsolationError(f"--cluster needs Ray, an optional extra: {CLUSTER_EXTRA}") \
            from None
    import logging

    if ray.is_initialized():
        return False
    if cluster == "local":
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)
        return True
    try:
        ray.init(address=cluster, log_to_driver=False, logging_level=logging.ERROR)
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; all mean "not joined"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IsolationError(f"cannot join the Ray cluster at {cluster}: {first} "
                             f"(Ray Client needs {CLUSTER_EXTRA})") from None
    return True


def run_campaign(minutes: float, workers: int, out: Path, *, src_dir: Path | None = None,
                 build_dir: Path | None = None, properties=None, cluster: str | None = None,
                 seed: int | None = None, progress: bool = True,
                 max_items: int = DEFAULT_ITEMS, config: str = "default",
                 fallback_local: bool = False, stop_on_violation: bool = False,
                 kinds=None, time_protection: bool = False) -> CampaignSummary:
    """Run an isolation campaign of ``minutes`` on ``workers`` workers; results in
    ``out`` (see the module docstring). ``src_dir``/``build_dir``: firmware from other
    sources (mutants). ``properties``: names or a comma-separated string (None: all).
    ``cluster``: None (local processes), "local" or "ray://HOST:PORT";
    ``fallback_local``: use local processes when Ray is missing or unreachable.
    ``stop_on_violation``: end at the first saved violation. ``kinds``: the kinds of
    case (``KINDS``; None: all, or only adversaries with ``time_protection``, which runs
    the rig under the hypervisor's time-protected schedule and adds the timing
    property). Progress on stderr.
    Raises IsolationError (one line) on bad input."""
    t0_wall, t0 = time.time(), time.monotonic()
    opts = IsolationOptions(float(minutes), int(workers), Path(out),
                            parse_properties(properties), seed, int(max_items), config,
                            parse_cluster(cluster), Path(src_dir) if src_dir else None,
                            Path(build_dir) if build_dir else None, stop_on_violation,
                            parse_kinds(kinds if kinds is not None or not time_protection
                                        else ("adversary",)), bool(time_protection))
    cfg = opts.check()
    prepare_out(opts.out, ("db", "violations", "work"), IsolationError)
    stream = sys.stderr if progress else None
    started, fallback = False, ""
    if opts.cluster:
        try:
            started = _connect_ray(opts.cluster, opts.workers)
        except IsolationError as exc:
            if not fallback_local:
                raise
            fallback = "fell back to local processes"
            print(f"hvsim: {exc}; running {opts.workers} local worker processes instead "
                  "(--fallback-local)", file=sys.stderr)
            opts = dataclasses.replace(opts, cluster=None)
    try:
        rig = boot_rig(cfg, opts.src_dir, opts.build_dir, opts.time_protection)
        kind = "processes" if not opts.cluster else \
            ("ray local" if opts.cluster == "local" else opts.cluster)
        summary = CampaignSummary(opts.out, opts.workers, kind, opts.properties,
                                  reference_violations=reference_violations(rig),
                                  fallback=fallback)
        if summary.reference_violations and stream is not None:
            print("hvsim: note: the firmware's reference case (no adversary) already breaks "
                  f"{', '.join(summary.reference_violations)}", file=stream)
        deadline_wall = t0_wall + opts.budget_s
        tick = lambda: progress_line(stream, summary.progress(time.monotonic() - t0))  # noqa: E731
        if summary.reference_violations:
            summary.reference_s = time.monotonic() - t0
        if opts.cluster:
            _run_ray(opts, summary, deadline_wall, t0_wall, tick)
        else:
            _run_local(opts, summary, rig, deadline_wall, t0_wall, tick)
    finally:
        if started:
            import ray

            ray.shutdown()
    summary.wall_s = time.monotonic() - t0
    progress_line(stream, summary.progress(summary.wall_s), end=True)
    write_results(summary)
    return summary


def _run_local(opts, summary, rig, deadline_wall, t0_wall, tick) -> None:
    """Forked worker processes that inherit ``rig``."""
    ctx = process_context()
    queue, stop = ctx.Queue(), ctx.Event()
    parent = _Parent(opts, summary, t0_wall, stop.set)
    _INHERITED["rig"] = rig
    try:
        procs = start_processes(ctx, _local_worker, [
            (i, opts, deadline_wall, queue, stop) for i in range(opts.workers)])
    finally:
        _INHERITED.clear()
    try:
        collect(queue.get, len(procs), lambda: any(p.is_alive() for p in procs),
                parent.handle, tick)
    finally:
        stop.set()
        join_processes(procs, timeout=10.0)


def _run_ray(opts, summary, deadline_wall, t0_wall, tick) -> None:
    """One Ray task per worker; the example database travels with them."""
    import ray
    from ray.util.queue import Queue

    queue, stop = Queue(), Queue()
    parent = _Parent(opts, summary, t0_wall, lambda: stop.put(True))
    db = Path(opts.out) / "db"
    task = ray.remote(num_cpus=1, max_retries=0)(_ray_worker)
    pack = pack_dir(db)
    refs = [task.remote(i, opts, deadline_wall, queue, stop, pack)
            for i in range(opts.workers)]

    def alive() -> bool:
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
        return len(ready) < len(refs)

    try:
        collect(queue.get, len(refs), alive, parent.handle, tick)
        for ref in refs:
            try:
                unpack_dir(ray.get(ref), db)
            except Exception as exc:  # noqa: BLE001 - a task that crashed
                summary.errors.append(f"ray task: {type(exc).__name__}: "
                                      f"{str(exc).strip().splitlines()[-1:]}")
        while not queue.empty():
            parent.handle(*queue.get())
    finally:
        stop.put(True)


def write_results(summary: CampaignSummary) -> None:
    """coverage.json and summary.json in the output folder."""
    out = Path(summary.out)
    coverage = {"keys": len(summary.coverage), "groups": summary.coverage_groups(),
                "coverage": dict(sorted(summary.coverage.items()))}
    (out / "coverage.json").write_text(json.dumps(coverage, indent=1) + "\n")
    (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=1) + "\n")


# --------------------------------------------------------------------------- replay


@dataclass
class Replay:
    """A saved case run again."""

    folder: Path
    property: str
    result: object  # rig.CaseResult

    @property
    def still_violates(self) -> bool:
        return violated(self.result, self.property)


def load_case(folder: Path) -> dict:
    """case.json of a violation folder (its adversary ELF must be there too)."""
    folder = Path(folder)
    path = folder / CASE_NAME
    if not path.is_file():
        raise IsolationError(f"{folder}: no {CASE_NAME} (not a violation folder of hvsim "
                             "fuzz isolation)")
    try:
        info = json.loads(path.read_text())
        prop, irqs = info["property"], [tuple(int(x) for x in e) for e in info["irqs"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise IsolationError(f"{path}: not a case file ({type(exc).__name__}: {exc})") \
            from None
    if prop not in PROPERTIES:
        raise IsolationError(f"{path}: unknown property {prop!r}")
    needed = MIX_NAME if info.get("kind") == "mix" else ELF_NAME
    if not (folder / needed).is_file():
        raise IsolationError(f"{folder}: no {needed}")
    info["irqs"] = tuple(irqs)
    return info


def replay(folder: Path) -> Replay:
    """Run the case saved in ``folder`` again on a fresh rig (its configuration and
    firmware sources from case.json)."""
    from hardware.config import ConfigError, variant

    info = load_case(folder)
    src = info.get("src_dir")
    if src and not Path(src).is_dir():
        raise IsolationError(f"{folder}: the case ran on firmware from {src}, which is gone")
    try:
        cfg = variant(info.get("config") or "default")
    except ConfigError as exc:
        raise IsolationError(f"{folder / CASE_NAME}: {exc}") from None
    build = info.get("build_dir")
    if info.get("kind") == "mix":
        from tools.isolation.mix import run_mix

        budgets = {k: tuple(v) for k, v in info.get("availability", {}).items()}
        with tempfile.TemporaryDirectory(prefix="hvsim-replay-") as tmp:
            result = run_mix(Path(folder) / MIX_NAME, cfg, src_dir=Path(src) if src else None,
                             build_dir=Path(tmp), budgets=budgets)
        return Replay(Path(folder), info["property"], result)
    rig = boot_rig(cfg, Path(src) if src else None, Path(build) if build else None,
                   bool(info.get("time_protection")), bool(info.get("victim_yields")))
    result = rig.run_case(Path(folder) / ELF_NAME, info["irqs"])
    return Replay(Path(folder), info["property"], result)


# --------------------------------------------------------------------------- CLI


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``hvsim fuzz isolation`` with the ``fuzz`` command's subparsers."""
    c = subparsers.add_parser(
        "isolation", help="isolation fuzzing: adversarial guests against the hypervisor",
        description="Generate adversarial guests (tools/isolation/gen.py), run each next to "
                    "a victim VM from a post-boot snapshot with the isolation properties "
                    "checked, shrink and save every violation. Exit status "
                    f"{EXIT_VIOLATIONS} when violations were saved; with --replay, "
                    f"{EXIT_STILL_VIOLATES} while the case still violates its property.")
    c.add_argument("--minutes", type=float, default=None, metavar="N",
                   help="wall-clock budget in minutes (fractions allowed)")
    c.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="K",
                   help="workers: local processes or Ray tasks (default: the CPU count)")
    c.add_argument("--cluster", default=None, metavar="ray://HOST:PORT|local",
                   help=f"run the workers as Ray tasks on a cluster, or on a local Ray "
                        f"instance ({CLUSTER_EXTRA})")
    c.add_argument("--fallback-local", action="store_true",
                   help="use local processes when Ray is missing or the cluster unreachable")
    c.add_argument("--out", default=str(DEFAULT_OUT), metavar="DIR",
                   help=f"output folder: database, violations, coverage, summary "
                        f"(default: {DEFAULT_OUT})")
    c.add_argument("--properties", default=None, metavar="LIST",
                   help=f"comma-separated properties to check (default: all: "
                        f"{', '.join(PROPERTIES)})")
    c.add_argument("--seed", type=int, default=None, metavar="S",
                   help="seed the workers' searches (default: random)")
    c.add_argument("--max-items", type=int, default=DEFAULT_ITEMS, metavar="M",
                   help=f"items per adversary program, at most (default {DEFAULT_ITEMS})")
    c.add_argument("--config", default="default", metavar="VARIANT",
                   help="SoC configuration variant (default: default)")
    c.add_argument("--kinds", default=None, metavar="LIST",
                   help=f"kinds of case, searched in turn (default: {','.join(KINDS)}; "
                        f"adversary with --time-protection)")
    c.add_argument("--time-protection", action="store_true",
                   help="run the hypervisor's time-protected schedule and check the timing "
                        "property too (adversary cases)")
    c.add_argument("--stop-on-violation", action="store_true",
                   help="end the campaign at the first saved violation")
    c.add_argument("--replay", default=None, metavar="DIR",
                   help="run the case of a violation folder again and print its violations")
    c.set_defaults(func=cmd_fuzz_isolation)
    return c


def cmd_fuzz_isolation(args) -> int:
    """The ``hvsim fuzz isolation`` handler; returns the exit status."""
    if args.replay:
        return cmd_replay(Path(args.replay))
    if args.minutes is None:
        raise IsolationError("--minutes N is required (or --replay DIR)")
    summary = run_campaign(args.minutes, args.workers, Path(args.out),
                           properties=args.properties, cluster=args.cluster, seed=args.seed,
                           max_items=args.max_items, config=args.config,
                           fallback_local=args.fallback_local,
                           stop_on_violation=args.stop_on_violation, kinds=args.kinds,
                           time_protection=args.time_protection)
    print(summary.table())
    for err in summary.errors:
        print(f"error: {err}", file=sys.stderr)
    return EXIT_VIOLATIONS if summary.violations else EXIT_OK


def cmd_replay(folder: Path) -> int:
    """``--replay DIR``: print the case's violations; 1 if its property still breaks."""
    rep = replay(folder)
    r = rep.result
    print(f"replay {folder}: {r.status} after {r.cycles} cycles ({r.wall_s:.2f} s)")
    for v in r.violations:
        print(f"  {v.line()}")
    extra = {p: n for p, n in r.counts.items() if n}
    if extra:
        print("  counts: " + ", ".join(f"{p} {n}" for p, n in sorted(extra.items())))
    verdict = "still violates" if rep.still_violates else "no longer violates"
    print(f"{rep.property}: {verdict}")
    return EXIT_STILL_VIOLATES if rep.still_violates else EXIT_FIXED
