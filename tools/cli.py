"""The ``hvsim`` command line (ARCHITECTURE.md section 3: "tools/ CLI (hvsim)").

Subcommands: ``run-elf`` (one ELF on the SoC), ``run`` (a hypervisor scenario, the
demo: ``tools/hvrun.py``), ``bench`` (the simulation figures, ``tools/bench.py``). See
``docs/cli.md``.

Exit status follows Spike: 0 pass, the program's failure code otherwise (taken modulo
256 like a process status, never 0 for a failure); 124 when the cycle budget runs out;
2 for bad input (one line ``hvsim: error: ...`` on stderr); 130 on Ctrl-C; 1 for an
internal error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from hardware.config import ConfigError, variant
from hardware.sim.backends import BACKENDS
from hardware.sim.common import SimError
from hardware.sim.elf import ElfError, load_elf
from hardware.sim.machine import Machine, MachineError, RunOutcome

EXIT_TIMEOUT = 124
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 1
DEBUG_ENV = "HVSIM_DEBUG"
DEFAULT_MAX_CYCLES = 100_000_000
#: Seconds of running before the live progress line appears.
PROGRESS_AFTER_S = 1.0
_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}
_COUNT_RE = re.compile(r"^\s*(-?)(\d[\d_]*)\s*([kKmMgG]?)\s*$")


class CliError(ValueError):
    """Bad command-line input; the message is the one line shown."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors become CliError (one line, no usage dump)."""

    def error(self, message: str):
        raise CliError(message)


# --------------------------------------------------------------------------- parsing


def parse_count(text: str, what: str) -> int:
    """A positive cycle count: digits with ``_`` separators and an optional k/M/G."""
    m = _COUNT_RE.match(text)
    if not m:
        raise CliError(f"{what} '{text}' is not a number (e.g. 5000000, 5_000_000, 5M)")
    value = int(m.group(2).replace("_", "")) * _SUFFIX[m.group(3).lower()]
    if m.group(1) or value == 0:
        raise CliError(f"{what} must be positive, not {text}")
    return value


def parse_window(text: str) -> tuple[int, int]:
    """``A:B`` with ``0 <= A < B``: the cycles ``A <= c < B``."""
    parts = text.split(":")
    if len(parts) != 2:
        raise CliError(f"--window '{text}' must have the form A:B (e.g. 1000:2000)")
    try:
        start = 0 if parts[0].strip() == "0" else parse_count(parts[0], "--window start")
        end = parse_count(parts[1], "--window end")
    except CliError as exc:
        raise CliError(f"--window '{text}': {exc}") from None
    if start >= end:
        raise CliError(f"--window '{text}': start must be below end (A < B)")
    return start, end


def _machine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", default="compiled", metavar="NAME",
                   help=f"simulation backend: {', '.join(BACKENDS)} (default: compiled)")
    p.add_argument("--max-cycles", default=str(DEFAULT_MAX_CYCLES), metavar="N",
                   help=f"cycle budget; reaching it exits with status {EXIT_TIMEOUT} "
                        f"(default: {DEFAULT_MAX_CYCLES:_}; k/M/G suffixes allowed)")
    p.add_argument("--vcd", metavar="FILE", help="write a VCD of the cycles in --window")
    p.add_argument("--window", metavar="A:B", help="cycles A <= c < B for --vcd")
    p.add_argument("--commits", metavar="FILE",
                   help="write a Spike-style commit log (--log-commits format)")
    p.add_argument("--history", type=int, default=0, metavar="N",
                   help="keep the last N retired instructions for a timeout report")
    p.add_argument("--gcc", action="store_true",
                   help="compile the compiled backend with gcc instead of zig cc")
    p.add_argument("--opt", default="-O2", choices=("-O1", "-O2", "-O3"),
                   help="C optimisation level of the compiled backend (default: -O2)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``hvsim``."""
    parser = _Parser(prog="hvsim", description="Cycle-level RISC-V SoC simulator.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("run-elf", help="run a RISC-V ELF on the SoC",
                       description="Run PROG.elf on the SoC. UART output goes to stdout; "
                                   "the exit status is the program's (Spike convention).")
    p.add_argument("elf", metavar="PROG.elf")
    p.add_argument("--config", default="default", metavar="VARIANT",
                   help="SoC configuration variant (default: default)")
    _machine_options(p)

    p = sub.add_parser("run", help="run a hypervisor scenario (the demo)",
                       description="Build the type-1 hypervisor firmware and its guests for "
                                   "the scenario CONFIG and run it on the model, Spike or "
                                   "QEMU. Each guest's console streams in its own colour; "
                                   "a statistics table follows. See docs/cli.md.")
    p.add_argument("config", nargs="?", default=None, metavar="CONFIG",
                   help="scenario name (hypervisor/configs/CONFIG.toml) or a TOML path "
                        "(default: demo, or the snapshot's with --restore)")
    p.add_argument("--soc", default="default", metavar="VARIANT",
                   help="SoC configuration variant (default: default)")
    p.add_argument("--platform", default="model", choices=("model", "spike", "qemu"),
                   help="where to run: the model (default), spike, or qemu (if installed)")
    p.add_argument("--timeline", metavar="PNG", help="draw which VM ran when into PNG")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    p.add_argument("--plain", action="store_true", help="no colour")
    p.add_argument("--save-at", nargs=2, metavar=("CYCLE", "FILE"),
                   help="save a snapshot of the model at cycle CYCLE to FILE, then run on "
                        "to the end")
    p.add_argument("--restore", metavar="FILE",
                   help="start from the snapshot FILE (saved by --save-at) instead of booting")
    _machine_options(p)

    p = sub.add_parser("bench", help="measure simulation speed, build time and memory",
                       description="Benchmark figures of the simulator on guests/bare/"
                                   "bench.c (medians of repetitions).")
    p.add_argument("--quick", action="store_true",
                   help="short runs (the small bench build, fewer cycles)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--reps", type=int, default=3, metavar="N",
                   help="repetitions per figure (default: 3, minimum 1)")
    p.add_argument("--config", default="default", metavar="VARIANT",
                   help="SoC configuration variant (default: default)")
    p.add_argument("--only", action="append", metavar="PART",
                   help="measure only PART (repeatable): sim, hypervisor, workloads, isolation")
    for module in _plugins():
        module.add_parser(sub)
    return parser


#: Modules that add their own subcommand: each has ``add_parser(subparsers)`` (the
#: parser's ``func`` default is its handler, returning an exit status) and ``ERRORS``,
#: the exception classes whose messages are one-line input errors.
PLUGINS = ("tools.cosim", "tools.fuzz.campaign", "tools.mutate.run")


def _plugins() -> list:
    import importlib

    return [importlib.import_module(name) for name in PLUGINS]


# --------------------------------------------------------------------------- output


def error_line(message: str) -> str:
    """``hvsim: error: <message>`` on one line."""
    flat = " ".join(str(message).split())
    return f"hvsim: error: {flat}"


def exit_status(outcome: RunOutcome) -> int:
    """The process status for ``outcome`` (see the module docstring)."""
    if outcome.status == "timeout":
        return EXIT_TIMEOUT
    code = outcome.exit_code or 0
    if code == 0:
        return 0
    return code & 0xFF or 1


class _UartOut:
    """Streams UART bytes to stdout as they arrive."""

    def __init__(self):
        self.stream = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None

    def __call__(self, byte: int) -> None:
        if self.stream is not None and sys.stdout is sys.__stdout__:
            self.stream.write(bytes((byte,)))
            self.stream.flush()
        else:
            sys.stdout.write(chr(byte))
            sys.stdout.flush()


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters shown as ``\\xNN``: a guest's console bytes
    must not reach the user's terminal as escape sequences."""
    return _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class _Progress:
    """A live status line (rich), shown once a run is long: on ``console`` when it is a
    terminal (output printed through it appears above the line), else on a terminal
    stderr (redirecting a terminal stdout above it)."""

    def __init__(self, max_cycles: int, console=None):
        from rich.console import Console

        self.max_cycles = max_cycles
        self.live = None
        self.redirect = False
        if console is not None and console.is_terminal:
            self.console = console
        elif sys.stderr.isatty():
            self.console = Console(file=sys.stderr)
            self.redirect = console is None and sys.stdout.isatty()
        else:
            self.console = None

    def __call__(self, cycles: int, wall_s: float) -> None:
        if self.console is None or wall_s < PROGRESS_AFTER_S:
            return
        from rich.live import Live
        from rich.text import Text

        text = Text(f"cycle {cycles:,} / {self.max_cycles:,}  "
                    f"{cycles / wall_s:,.0f} cycles/s  {wall_s:.1f} s", style="dim")
        if self.live is None:
            self.live = Live(text, console=self.console, transient=True,
                             redirect_stdout=self.redirect, redirect_stderr=False,
                             refresh_per_second=4)
            self.live.start()
        else:
            self.live.update(text)

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


# --------------------------------------------------------------------------- commands


def _machine_args(args) -> dict:
    if args.backend not in BACKENDS:
        raise CliError(f"unknown backend '{args.backend}' (valid: {', '.join(BACKENDS)})")
    max_cycles = parse_count(args.max_cycles, "--max-cycles")
    if args.history < 0:
        raise CliError(f"--history must be >= 0, not {args.history}")
    vcd = None
    if args.window is not None and args.vcd is None:
        raise CliError("--window needs --vcd FILE")
    if args.vcd is not None:
        if args.window is None:
            raise CliError("--vcd needs --window A:B (the cycles to record)")
        start, end = parse_window(args.window)
        vcd = (args.vcd, start, end)
    return {"max_cycles": max_cycles, "vcd": vcd}


def run_program(elf: str, cfg, args) -> int:
    """Run ``elf`` on a Machine configured from ``args``; return the exit status."""
    opts = _machine_args(args)
    image = load_elf(elf, cfg)
    commits = None
    if args.commits is not None:
        from tools.commitlog import CommitLogWriter

        commits = CommitLogWriter(args.commits, hartid=cfg.core.hartid)
    machine = Machine(cfg, args.backend, vcd=opts["vcd"], opt=args.opt,
                      cc="gcc" if args.gcc else None, history=args.history)
    machine.load(image)
    if commits is not None:
        machine.trace_to(commits)
    progress = _Progress(opts["max_cycles"])
    try:
        outcome = machine.run(opts["max_cycles"], on_uart=_UartOut(), on_progress=progress)
    except KeyboardInterrupt:
        progress.stop()
        outcome = machine.outcome()
        print(f"hvsim: interrupted at cycle {outcome.cycles}: pc {outcome.last_pc:#x}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        progress.stop()
        machine.close()
        if commits is not None:
            commits.close()
    sys.stdout.flush()
    if outcome.status == "timeout":
        print(f"hvsim: timeout: {outcome.timeout_report()}", file=sys.stderr)
    print(f"hvsim: {outcome.summary()}", file=sys.stderr)
    return exit_status(outcome)


def cmd_run_elf(args) -> int:
    """``hvsim run-elf``."""
    return run_program(args.elf, variant(args.config), args)


def cmd_run(args) -> int:
    """``hvsim run``: a hypervisor scenario (see ``tools/hvrun.py``)."""
    from tools import hvrun

    cfg = variant(args.soc)
    opts = _machine_args(args)
    if args.platform != "model":
        for flag, value in (("--vcd", args.vcd), ("--commits", args.commits),
                            ("--history", args.history), ("--gcc", args.gcc),
                            ("--save-at", args.save_at), ("--restore", args.restore)):
            if value:
                raise CliError(f"{flag} needs --platform model")
    for flag, path in (("--json", args.json), ("--timeline", args.timeline)):
        _check_output_path(flag, path)
    save_at, resume = _snapshot_args(args, cfg, opts["max_cycles"])
    if resume is None:
        scenario = hvrun.load_scenario(args.config or "demo", cfg)
        vm_names = [vm.name for vm in sorted(scenario.vms, key=lambda vm: vm.index)]
    else:
        scenario = hvrun.load_scenario(args.config, cfg) if args.config else None
        vm_names = list(hvrun.saved_scenario(resume).vm_names)
    view = ScenarioView(vm_names, plain=args.plain)
    progress = _Progress(opts["max_cycles"], view.console)
    machine_options = {"vcd": opts["vcd"], "opt": args.opt, "history": args.history,
                       "cc": "gcc" if args.gcc else None}
    try:
        result = hvrun.run_scenario(
            scenario, cfg, platform=args.platform, max_cycles=opts["max_cycles"],
            backend=args.backend, on_event=view.event,
            on_progress=progress if args.platform == "model" else None,
            machine_options=machine_options, commits=args.commits, save_at=save_at,
            resume=resume, on_saved=_saved_line)
    finally:
        progress.stop()
    view.print_table(result)
    if resume is not None:
        print(f"hvsim: resumed from {resume.label} at cycle {resume.cycles:,}",
              file=sys.stderr)
    status, messages = run_status(result)
    for line in messages:
        print(f"hvsim: {line}", file=sys.stderr)
    print(f"hvsim: {run_summary(result)}", file=sys.stderr)
    return _write_outputs(result, args, status)


def _snapshot_args(args, cfg, max_cycles: int):
    """``(save_at, resume)`` of ``hvsim run``: ``(CYCLE, FILE)`` or None, the loaded
    ``--restore`` snapshot or None; bad values raise one-line errors before any run."""
    if not (args.save_at or args.restore):
        return None, None
    if args.backend != "compiled":
        flag = "--save-at" if args.save_at else "--restore"
        raise CliError(f"{flag} needs --backend compiled, not '{args.backend}'")
    resume = None
    if args.restore is not None:
        from hardware.sim import snapshot

        resume = snapshot.load(args.restore, cfg)
    if args.save_at is None:
        return None, resume
    text, path = args.save_at
    cycle = parse_count(text, "--save-at CYCLE")
    if cycle > max_cycles:
        raise CliError(f"--save-at cycle {cycle:,} is beyond --max-cycles {max_cycles:,}")
    if resume is not None and cycle <= resume.cycles:
        raise CliError(f"--save-at cycle {cycle:,} is not after the restored cycle "
                       f"{resume.cycles:,}")
    _check_output_path("--save-at", path)
    from pathlib import Path

    if not os.access(Path(path).resolve().parent, os.W_OK):
        raise CliError(f"cannot write --save-at file {path}: permission denied")
    return (cycle, path), resume


def _saved_line(cycle: int, path, size: int) -> None:
    print(f"hvsim: saved a snapshot at cycle {cycle:,} to {path} ({size:,} bytes)",
          file=sys.stderr)


def _check_output_path(flag: str, path: str | None) -> None:
    """Fail before a run whose output file could not be written."""
    if path is None:
        return
    from pathlib import Path

    target = Path(path)
    if target.is_dir():
        raise CliError(f"{flag} {path} is a directory")
    if not target.resolve().parent.is_dir():
        raise CliError(f"cannot write {flag} file {path}: no such directory")


def _write_outputs(result, args, status: int) -> int:
    """Write --json and --timeline; a failure is one error line (status 2 if the run
    itself passed)."""
    import json

    from tools.timeline import TimelineError, draw_timeline

    try:
        if args.json is not None:
            try:
                with open(args.json, "w") as f:
                    json.dump(result.to_json(), f, indent=2)
                    f.write("\n")
            except OSError as exc:
                raise CliError(f"cannot write --json file {args.json}: {exc.strerror}") from None
        if args.timeline is not None:
            draw_timeline(result, args.timeline)
    except (CliError, TimelineError) as exc:
        print(error_line(str(exc)), file=sys.stderr)
        return status or EXIT_USAGE
    return status


def run_status(result) -> tuple[int, list[str]]:
    """The exit status of a scenario run and the lines that explain it: 0 when ``@end``
    says 0, 124 on a timeout, 1 otherwise (naming the VMs that did not end cleanly)."""
    if result.status == "timeout":
        return EXIT_TIMEOUT, [f"timeout: {result.report}"]
    if result.end_code is None:
        return 1, [f"the firmware ended ({result.status}, exit code {result.exit_code}) "
                   f"without an @end record"]
    if result.end_code == 0:
        return 0, []
    return 1, result.unclean() or [f"the firmware reported @end {result.end_code}"]


def run_summary(result) -> str:
    """One line: status, scenario, platform, VMs, cycles, instret, wall time."""
    counts = ""
    if result.cycles is not None:
        counts = f", {result.cycles:,} cycles, {result.instret:,} instret"
    return (f"{result.status}: scenario '{result.scenario}' on {result.platform}: "
            f"{len(result.vm_names())} VMs{counts}, {result.wall_s:.2f} s wall")


class ScenarioView:
    """Shows a scenario's output: guest lines prefixed by the VM name in its colour,
    ``hv:`` lines dimmed, ``@`` records hidden, then the statistics table."""

    #: Wrap width of the table when stdout is not a terminal.
    PIPE_WIDTH = 160

    def __init__(self, vm_names: list[str], plain: bool = False):
        from rich.console import Console

        self.index = {name: i for i, name in enumerate(vm_names)}
        self.width = max((len(n) for n in vm_names), default=0)
        colours = {"color_system": None} if plain else {}
        probe = Console(**colours)
        self.console = Console(highlight=False, **colours,
                               width=None if probe.is_terminal else self.PIPE_WIDTH)

    def colour(self, name: str) -> str:
        """The VM's colour (new names get the next palette entries)."""
        from tools.hvrun import vm_colour

        if name not in self.index:
            self.index[name] = len(self.index)
        return vm_colour(self.index[name])

    def event(self, event) -> None:
        """Print one parsed line."""
        from rich.text import Text

        from tools.hvrun import GuestLine, HvLine, OtherLine

        if isinstance(event, GuestLine):
            pad = " " * (self.width - len(event.vm) + 1)
            text = Text.assemble((f"[{event.vm}]", f"bold {self.colour(event.vm)}"),
                                 pad if event.text else "", printable(event.text))
        elif isinstance(event, HvLine):
            text = Text(f"hv: {printable(event.text)}", style="dim")
        elif isinstance(event, OtherLine):
            text = Text(printable(event.text))
        else:
            return
        self.console.print(text, soft_wrap=True)

    def print_table(self, result) -> None:
        """The per-VM statistics table under a title line."""
        self.console.print(f"{result.scenario} on {result.platform}", style="bold",
                           soft_wrap=True)
        self.console.print(stats_table(result, self.colour))


def _top_exits(exits: dict[str, int], n: int = 3) -> str:
    from tools.hvrun import exit_cause_name

    top = sorted(exits.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return ", ".join(f"{exit_cause_name(k)} {v:,}" for k, v in top)


def stats_table(result, colour=None):
    """A rich Table of the per-VM statistics of ``result``."""
    from rich.table import Table
    from rich.text import Text

    share = result.cpu_share()
    table = Table()
    for name, justify in (("VM", "left"), ("state", "left"), ("code", "right"),
                          ("cycles", "right"), ("CPU %", "right"), ("runs", "right"),
                          ("exits", "right"), ("top exit causes", "left"),
                          ("SBI calls", "right"), ("irqs", "right")):
        table.add_column(name, justify=justify)
    for name in result.vm_names():
        s = result.stats.get(name)
        label = Text(name, style=f"bold {colour(name)}" if colour else "")
        cpu = f"{share[name]:.1f}" if name in share else "-"
        if s is None or not s.reported:
            table.add_row(label, Text("no record", style="bold red"), "-", "-", cpu, "-",
                          "-", "", "-", "-")
            continue
        state = Text(s.state, style="" if s.clean else "bold red")
        table.add_row(label, state, str(s.code), f"{s.cycles:,}", cpu, f"{s.runs:,}",
                      f"{s.exits_total:,}", _top_exits(s.exits), f"{s.sbi_total:,}",
                      f"{s.irqs:,}")
    return table


def cmd_bench(args) -> int:
    """``hvsim bench``."""
    from tools.bench import run_bench

    if args.reps < 1:
        raise CliError(f"--reps must be >= 1, not {args.reps}")
    variant(args.config)
    from tools.bench import PARTS

    parts = tuple(args.only) if args.only else tuple(PARTS)
    run_bench(args.config, quick=args.quick, reps=args.reps, json_path=args.json, parts=parts)
    return 0


COMMANDS = {"run-elf": cmd_run_elf, "run": cmd_run, "bench": cmd_bench}


def _input_errors() -> tuple[type[BaseException], ...]:
    """The project's exceptions that mean bad input or environment (one-line messages)."""
    from hardware.soc.bootrom import BootromError
    from hardware.soc.dtb import DtbError
    from tools.bench import BenchError
    from tools.spike import SpikeError
    from tools.toolchain import ToolchainError

    plugin_errors = tuple(e for m in _plugins() for e in getattr(m, "ERRORS", ()))
    return (CliError, ConfigError, ElfError, SimError, MachineError, BootromError, DtbError,
            ToolchainError, SpikeError, BenchError, OSError, KeyError, *plugin_errors,
            *_hypervisor_errors())


#: Modules of the hypervisor run and the names of their one-line input errors; a
#: module may also list extra classes in ``ERRORS``.
HYPERVISOR_ERRORS = (("hypervisor.config", ("VmConfigError",)), ("hypervisor.build", ()),
                     ("guests.build", ()), ("tools.hvrun", ("HvRunError",)),
                     ("tools.timeline", ("TimelineError",)))


def _hypervisor_errors() -> tuple[type[BaseException], ...]:
    """The input errors of the hypervisor modules that exist (imported lazily)."""
    import importlib

    found: list[type[BaseException]] = []
    for name, attrs in HYPERVISOR_ERRORS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        found += [getattr(module, a) for a in attrs if hasattr(module, a)]
        found += list(getattr(module, "ERRORS", ()))
    return tuple(found)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hvsim`` console script; returns the exit status."""
    debug = bool(os.environ.get(DEBUG_ENV))
    try:
        args = build_parser().parse_args(argv)
        handler = COMMANDS.get(args.command) or args.func
        return handler(args)
    except KeyboardInterrupt:
        print("hvsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into lines
        if debug:
            raise
        if isinstance(exc, _input_errors()):
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            print(error_line(message), file=sys.stderr)
            return EXIT_USAGE
        print(error_line(f"internal error: {type(exc).__name__}: {exc} "
                         f"(run with {DEBUG_ENV}=1 for a traceback)"), file=sys.stderr)
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    """After a broken pipe, keep the interpreter's final flush from failing again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
