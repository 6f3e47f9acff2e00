"""``hvsim bench``: the simulator's figures side by side in one run (ARCHITECTURE.md
section 2, "Simulation: fast by construction").

All figures come from ``guests/bare/bench.c`` (CRC-32 and quicksort over ~1 MiB of RAM;
``--quick`` uses its ``-DSMALL`` build) on the SoC of the chosen config, as medians of
``reps`` repetitions. Every measurement that builds or runs a simulator happens in a
fresh child process (``python -m tools.bench probe ...``), so build caches, loaded
libraries and memory of one measurement never leak into another:

- ``compiled`` backend: cold build (elaborate + generate + C compile into an empty
  cache directory, with zig's own caches empty too), warm build (cache hit), simulated cycles/s over the whole
  program, and the child's peak RSS (``resource.getrusage``).
- Stock ``pyrtl.CompiledSimulation`` and ``pyrtl.FastSimulation`` of the same design
  with the same memory images, for a bounded number of cycles -> speed ratios.
- Spike on the same ELF: wall time of the process; instructions from the model's
  ``minstret`` -> retired instructions/s and the ratio to the model.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hardware.config import SocConfig

#: Targets of the platform issue: figure -> (comparison, bound).
TARGETS = {
    "compiled_cycles_per_s": (">=", 2_000_000),
    "compiled_vs_before_mmu": (">=", 0.70),
    "speedup_vs_stock_compiled": (">=", 10),
    "cold_build_s": ("<=", 20),
    "warm_build_s": ("<=", 2),
    "peak_rss_mb": ("<=", 400),
    "hv_sbi_null_instructions": ("<=", 100),
    "hv_switch_yield_instructions": ("<=", 300),
    "hv_switch_preempt_instructions": ("<=", 300),
    "hv_switch_context_instructions": ("<=", 300),
    "isolation_restore_ms": ("<=", 10),
}
#: Simulated cycles/s of the compiled backend on bench.c before the MMU/H issue (RV64IMAC
#: core, no MMU; median of 3 on this machine type, closing note of the platform issue).
BEFORE_MMU_CYCLES_PER_S = 2_425_967
#: The figures ``tlbcost.c`` prints: name in its line -> (figure name, label).
TLB_FIGURES = {
    "hit": ("tlb_hit_cycles", "translation: TLB hit"),
    "s_miss": ("tlb_s_miss_cycles", "translation: Sv39 miss, 4 KiB"),
    "two_stage_miss": ("tlb_two_stage_miss_cycles", "translation: two-stage miss, 4 KiB/4 KiB"),
    "g_only_miss": ("tlb_g_only_miss_cycles", "translation: G-stage-only miss, 4 KiB"),
}
#: Bounded cycle counts of the stock simulators: (full, quick).
STOCK_COMPILED_CYCLES = (20_000, 5_000)
STOCK_FAST_CYCLES = (2_000, 500)
#: Cycle budget of one compiled run (bench.c needs ~66M cycles).
COMPILED_MAX_CYCLES = 200_000_000
#: Cycles the cold-build probe runs after building (enough to touch memory).
COLD_RUN_CYCLES = 100_000
#: zig's own compilation caches, pointed at empty folders for a cold build.
ZIG_CACHE_VARS = ("ZIG_GLOBAL_CACHE_DIR", "ZIG_LOCAL_CACHE_DIR")
#: Cycles per stock CompiledSimulation.run() call.
STOCK_CHUNK = 1000


class BenchError(RuntimeError):
    """A measurement failed; the message names it."""


@dataclass
class Figure:
    """One row of the table."""

    name: str
    label: str
    unit: str
    samples: list[float]
    value: float = 0.0  # the median of ``samples``
    target: str = ""  # e.g. ">= 2000000"
    ok: bool | None = None  # None: no target
    note: str = ""

    def __post_init__(self) -> None:
        self.value = statistics.median(self.samples) if self.samples else float("nan")
        if self.name in TARGETS:
            op, bound = TARGETS[self.name]
            self.target = f"{op} {bound:,}"
            self.ok = self.value >= bound if op == ">=" else self.value <= bound


@dataclass
class BenchReport:
    """Everything ``hvsim bench`` measured."""

    config: str
    quick: bool
    reps: int
    elf: str
    figures: list[Figure] = field(default_factory=list)
    host: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The report as plain data."""
        return asdict(self)


# --------------------------------------------------------------------------- probes


def _rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss is KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 if sys.platform != "darwin" else rss / (1 << 20)


def probe_compiled(cfg: SocConfig, elf: str, cache_dir: str, max_cycles: int,
                   cc: str | None, opt: str) -> dict:
    """Build (timed) and run the compiled backend once."""
    from hardware.sim.elf import load_elf
    from hardware.sim.machine import Machine

    t0 = time.perf_counter()
    machine = Machine(cfg, "compiled", cache_dir=cache_dir, cc=cc, opt=opt)
    build_s = time.perf_counter() - t0
    machine.load(load_elf(elf, cfg))
    cpu0 = time.process_time()
    outcome = machine.run(max_cycles)
    cpu_s = time.process_time() - cpu0
    return {"build_s": build_s, "from_cache": machine.from_cache, "status": outcome.status,
            "cycles": outcome.cycles, "instret": outcome.instret, "wall_s": outcome.wall_s,
            "cpu_s": cpu_s, "rss_mb": _rss_mb()}


def _word_map(chunks: list[tuple[int, bytes]]) -> dict[int, int]:
    """(byte address, bytes) chunks -> {64-bit word index: nonzero value}."""
    words: dict[int, int] = {}
    for addr, data in chunks:
        pad = addr % 8
        data = bytes(pad) + bytes(data)
        data += bytes(-len(data) % 8)
        base = (addr - pad) // 8
        for i in range(0, len(data), 8):
            value = int.from_bytes(data[i:i + 8], "little")
            if value:
                words[base + i // 8] = value
    return words


#: RAM made live in the stock CompiledSimulation before timing it (the platform
#: issue asks for the ratio "once >= 1 MiB of RAM is live"): words in the second MiB
#: below the top of RAM, clear of the bench's data and of its stack.
STOCK_LIVE_BYTES = 1 << 20


def _make_live(sim, ram, cfg: SocConfig, live_bytes: int) -> int:
    """Insert ``live_bytes`` of nonzero words into the stock simulator's RAM hash map
    through its C ``insert`` (an initial image of that size would take minutes to
    compile: the stock simulator writes one C statement per word)."""
    import ctypes

    if not live_bytes:
        return 0
    insert = sim._dll.insert
    insert.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)]
    insert.restype = None
    table = ctypes.c_void_p.in_dll(sim._dll, sim.var_names[ram])
    first = (cfg.ram_size - 2 * live_bytes) // 8
    value = (ctypes.c_uint64 * 1)(0x5A5A_5A5A_5A5A_5A5A)
    for index in range(first, first + live_bytes // 8):
        insert(table, index, value)
    return live_bytes


def probe_stock(cfg: SocConfig, elf: str, kind: str, cycles: int, live_bytes: int = 0) -> dict:
    """Build a stock PyRTL simulator (``compiled`` or ``fast``) of the SoC with the
    ELF and boot ROM as its memory_value_map (and, for ``compiled``, ``live_bytes`` more
    of RAM live in its hash map), then time ``cycles`` cycles."""
    import pyrtl

    from hardware.sim.elf import load_elf
    from hardware.soc.bootrom import bootrom_image
    from hardware.soc.dtb import build_dtb
    from hardware.soc.soc import RAM_NAME, ROM_NAME, elaborate

    image = load_elf(elf, cfg)
    t0 = time.perf_counter()
    block = elaborate(cfg)
    images = image.mem_images(cfg, {"ram": RAM_NAME, "bootrom": ROM_NAME})
    images.setdefault(ROM_NAME, []).insert(0, (0, bootrom_image(cfg, image.entry,
                                                                build_dtb(cfg))))
    mvm = {block.get_memblock_by_name(name): _word_map(chunks)
           for name, chunks in images.items()}
    inputs = {w.name: 0 for w in block.wirevector_subset(pyrtl.Input)}
    inputs["tohost_addr"] = image.tohost or 0
    halt = block.get_wirevector_by_name("halt")
    if kind == "compiled":
        sim = pyrtl.CompiledSimulation(tracer=pyrtl.SimulationTrace([halt]),
                                       memory_value_map=mvm, block=block)
        _make_live(sim, block.get_memblock_by_name(RAM_NAME), cfg, live_bytes)
    else:
        sim = pyrtl.FastSimulation(tracer=None, memory_value_map=mvm, block=block)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    done = 0
    while done < cycles:
        n = min(STOCK_CHUNK, cycles - done)
        if kind == "compiled":
            sim.run([inputs] * n)
        else:
            for _ in range(n):
                sim.step(inputs)
        done += n
    wall_s = time.perf_counter() - t0
    return {"build_s": build_s, "cycles": done, "wall_s": wall_s}


def _probe_main(argv: list[str]) -> int:
    """``python -m tools.bench probe JSON``: run one probe, print its JSON result."""
    from hardware.config import variant

    spec = json.loads(argv[0])
    cfg = variant(spec["config"])
    if spec["kind"] == "compiled":
        result = probe_compiled(cfg, spec["elf"], spec["cache_dir"], spec["max_cycles"],
                                spec.get("cc"), spec.get("opt", "-O2"))
    else:
        kind = spec["kind"].removeprefix("stock-")
        result = probe_stock(cfg, spec["elf"], kind, spec["cycles"], spec.get("live_bytes", 0))
    print(json.dumps(result))
    return 0


def _run_probe(spec: dict, timeout_s: float = 3600, env_extra: dict | None = None) -> dict:
    """Run one probe in a child process and return its result."""
    cmd = [sys.executable, "-m", "tools.bench", "probe", json.dumps(spec)]
    env = dict(os.environ, **(env_extra or {}))
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              env=env, cwd=root)
    except subprocess.TimeoutExpired:
        raise BenchError(f"bench probe {spec['kind']} did not finish in {timeout_s} s") from None
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no output)"]
        raise BenchError(f"bench probe {spec['kind']} failed: {lines[-1]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- spike


def time_spike(cfg: SocConfig, elf: Path) -> float:
    """Wall seconds of one Spike run of ``elf`` (raises BenchError unless it passes)."""
    from hardware.soc.dtb import write_dtb
    from tools.spike import spike_command

    with tempfile.TemporaryDirectory(prefix="hvsim-bench-") as tmp:
        dtb = write_dtb(cfg, Path(tmp) / "soc.dtb")
        cmd = spike_command(elf, cfg, dtb, max_instructions=None, log_file=None)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise BenchError(f"{elf}: spike exited with status {proc.returncode}")
    return wall


# --------------------------------------------------------------------------- report


def _progress(msg: str) -> None:
    print(f"hvsim bench: {msg}", file=sys.stderr, flush=True)


#: The parts of ``hvsim bench`` (``--only``), with what they measure.
PARTS = {
    "sim": "simulation speed against stock PyRTL and Spike, build time, memory, TLB costs",
    "hypervisor": "the hypervisor's paths (SBI call, VM switch, exits) and firmware size",
    "workloads": "per workload of the guest suite: cycles, IPC, exits, TLB miss rate",
    "isolation": "the isolation rig's snapshot restore and cases per second, mixes, and "
                 "time protection (cases, switch length, the planted TLB channel)",
}


def measure(cfg_name: str, quick: bool = False, reps: int = 3,
            log=_progress, parts: tuple[str, ...] = tuple(PARTS)) -> BenchReport:
    """Take the figures of ``parts``; ``log`` gets one line per step."""
    from guests.bare.build import build_program
    from hardware.config import variant

    cfg = variant(cfg_name)
    elf = build_program("bench", cfg, small=quick)
    report = BenchReport(cfg_name, quick, reps, str(elf))
    figs = simulator_figures(cfg_name, elf, quick, reps, log) if "sim" in parts else []
    if cfg.core.has_h and "hypervisor" in parts:
        log("hypervisor figures")
        figs += hypervisor_figures(cfg)
    if cfg.core.has_h and "workloads" in parts:
        log("workload figures")
        figs += workload_figures(cfg)
    if cfg.core.has_h and "isolation" in parts:
        figs += isolation_figures(cfg, log)
    report.figures = figs
    report.host = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
                   "loadavg": os.getloadavg()}
    return report


def simulator_figures(cfg_name: str, elf: Path, quick: bool, reps: int, log) -> list[Figure]:
    """Simulation speed (medians of ``reps`` runs of ``elf``) against the stock PyRTL
    simulators and Spike; build times, memory, nets; the translation costs."""
    from hardware.config import variant
    from hardware.soc.soc import elaborate

    cfg = variant(cfg_name)
    base = {"config": cfg_name, "elf": str(elf)}
    which = 1 if quick else 0

    with tempfile.TemporaryDirectory(prefix="hvsim-bench-cache-") as tmp:
        cold = []
        for i in range(reps):
            log(f"cold build {i + 1}/{reps}")
            zig_cache = {var: f"{tmp}/zig{i}" for var in ZIG_CACHE_VARS}
            cold.append(_run_probe({**base, "kind": "compiled", "cache_dir": f"{tmp}/cold{i}",
                                    "max_cycles": COLD_RUN_CYCLES}, env_extra=zig_cache))
        warm_dir = f"{tmp}/cold0"
        warm = []
        for i in range(reps):
            log(f"compiled run {i + 1}/{reps} (warm build)")
            warm.append(_run_probe({**base, "kind": "compiled", "cache_dir": warm_dir,
                                    "max_cycles": COMPILED_MAX_CYCLES}))
    if any(w["status"] != "pass" for w in warm):
        raise BenchError(f"{elf} did not pass on the compiled backend: "
                         f"{[w['status'] for w in warm]}")
    stock_c, stock_f = [], []
    for i in range(reps):
        log(f"stock CompiledSimulation {i + 1}/{reps}")
        stock_c.append(_run_probe({**base, "kind": "stock-compiled",
                                   "cycles": STOCK_COMPILED_CYCLES[which],
                                   "live_bytes": 0 if quick else STOCK_LIVE_BYTES}))
    for i in range(reps):
        log(f"stock FastSimulation {i + 1}/{reps}")
        stock_f.append(_run_probe({**base, "kind": "stock-fast",
                                   "cycles": STOCK_FAST_CYCLES[which]}))
    spike_s = []
    for i in range(reps):
        log(f"spike {i + 1}/{reps}")
        spike_s.append(time_spike(cfg, elf))

    rate = [w["cycles"] / w["wall_s"] for w in warm]
    cpu_rate = [w["cycles"] / w["cpu_s"] for w in warm if w["cpu_s"] > 0]
    ips = [w["instret"] / w["wall_s"] for w in warm]
    instret = statistics.median(w["instret"] for w in warm)
    stock_c_rate = [s["cycles"] / s["wall_s"] for s in stock_c]
    stock_f_rate = [s["cycles"] / s["wall_s"] for s in stock_f]
    spike_ips = [instret / s for s in spike_s]
    med = statistics.median
    figs = [
        Figure("compiled_cycles_per_s", "compiled backend: simulated cycles/s (wall)",
               "cycles/s", rate,
               note=f"{int(med(w['cycles'] for w in warm)):,} cycles per run"),
        Figure("compiled_cycles_per_cpu_s", "compiled backend: cycles per CPU second",
               "cycles/s", cpu_rate, note="process CPU time; less sensitive to load"),
        Figure("stock_compiled_cycles_per_s", "pyrtl.CompiledSimulation: cycles/s",
               "cycles/s", stock_c_rate,
               note=f"first {STOCK_COMPILED_CYCLES[which]:,} cycles"
                    f"{'' if quick else ', 1 MiB of RAM live'}; build "
                    f"{med(s['build_s'] for s in stock_c):.1f} s"),
        Figure("speedup_vs_stock_compiled", "compiled / pyrtl.CompiledSimulation", "x",
               [med(rate) / r for r in stock_c_rate]),
        Figure("stock_fast_cycles_per_s", "pyrtl.FastSimulation: cycles/s", "cycles/s",
               stock_f_rate, note=f"first {STOCK_FAST_CYCLES[which]:,} cycles"),
        Figure("speedup_vs_stock_fast", "compiled / pyrtl.FastSimulation", "x",
               [med(rate) / r for r in stock_f_rate]),
        Figure("spike_instructions_per_s", "Spike: retired instructions/s", "instr/s",
               spike_ips, note=f"{int(instret):,} instructions (model's minstret)"),
        Figure("compiled_instructions_per_s", "compiled backend: retired instructions/s",
               "instr/s", ips),
        Figure("spike_speedup_over_compiled", "Spike / compiled (instructions/s)", "x",
               [s / med(ips) for s in spike_ips]),
        Figure("cold_build_s", "cold build: elaborate + C compile (empty cache)", "s",
               [c["build_s"] for c in cold]),
        Figure("warm_build_s", "warm build (cache hit)", "s", [w["build_s"] for w in warm]),
        Figure("peak_rss_mb", f"peak RSS, {cfg.ram_size >> 20} MiB RAM", "MB",
               [max(c["rss_mb"] for c in cold + warm)],
               note="largest of the cold and warm child processes"),
        Figure("pyrtl_nets", "PyRTL nets in the design", "nets",
               [float(len(elaborate(cfg).logic))]),
        Figure("compiled_vs_before_mmu", "compiled cycles/s / before the MMU+H issue", "x",
               [r / BEFORE_MMU_CYCLES_PER_S for r in rate],
               note=f"{BEFORE_MMU_CYCLES_PER_S:,} cycles/s (RV64IMAC, no MMU)"),
    ]
    log("translation costs")
    costs = measure_tlb_costs(cfg_name)
    figs += [Figure(name, label, "cycles", [float(costs[key])],
                    note="guests/bare/tlbcost.c, timed MPRV loads")
             for key, (name, label) in TLB_FIGURES.items() if costs.get(key, -1) >= 0]
    return figs


def hypervisor_figures(cfg: SocConfig) -> list[Figure]:
    """The issue 5 figures (tools/hvfigures.py): HS instructions and cycles of each
    hypervisor path, and the firmware's size."""
    from hypervisor.build import build_firmware
    from tools import hvfigures

    figs = []
    for key, f in hvfigures.measure(cfg).items():
        label = hvfigures.LABELS[key]
        note = f"median of {f['n']}"
        if f["instructions"] is not None:
            figs.append(Figure(f"hv_{key}_instructions", f"{label}: HS instructions",
                               "instr", [float(f["instructions"])], note=note))
        if f["cycles"] is not None:
            figs.append(Figure(f"hv_{key}_cycles", f"{label}: cycles", "cycles",
                               [float(f["cycles"])], note="guest-timed, mean"))
    size = hvfigures.firmware_size(build_firmware("demo", cfg).elf)
    figs += [Figure("hv_c_lines", "firmware: lines of C (hypervisor/src)", "lines",
                    [float(size["c_lines"])]),
             Figure("hv_asm_lines", "firmware: lines of assembly", "lines",
                    [float(size["asm_lines"])]),
             Figure("hv_text_bytes", "firmware: bytes of code (.mstage + .text)", "bytes",
                    [float(size["text_bytes"])])]
    return figs


def workload_figures(cfg: SocConfig) -> list[Figure]:
    """The issue 6 figures (tools/guestfigures.py): each workload alone in a VM."""
    from tools import guestfigures

    figs = []
    for name, values in guestfigures.measure(cfg).items():
        for key, (label, unit) in guestfigures.FIGURES.items():
            figs.append(Figure(f"workload_{name}_{key}", f"{name}: {label}", unit,
                               [values[key]], note="deterministic, one run"))
    return figs


def isolation_figures(cfg: SocConfig, log) -> list[Figure]:
    """The issue 7 figures (tools/isolation/figures.py): rig restores, cases/s."""
    from tools.isolation import figures

    return [Figure(name, label, unit, samples)
            for name, (label, unit, samples) in figures.measure(cfg, log).items()]


def measure_tlb_costs(cfg_name: str) -> dict[str, int]:
    """Cycle costs of translation on the model: runs ``guests/bare/tlbcost.c`` (timed
    MPRV loads) and returns its printed figures (-1: not applicable without H)."""
    from guests.bare.build import build_program
    from hardware.config import variant
    from hardware.sim.elf import load_elf
    from hardware.sim.machine import Machine

    cfg = variant(cfg_name)
    elf = build_program("tlbcost", cfg)
    m = Machine(cfg, "compiled")
    try:
        m.load(load_elf(elf, cfg))
        out = m.run(5_000_000)
    finally:
        m.close()
    text = out.uart_bytes.decode(errors="replace")
    line = next((ln for ln in text.splitlines() if ln.startswith("tlbcost:")), None)
    if out.status != "pass" or line is None:
        raise BenchError(f"{elf}: the translation-cost program did not pass "
                         f"({out.status}): {text.strip()[-200:]}")
    words = line.split()[1:]
    return {k: int(v) for k, v in zip(words[::2], words[1::2])}


def _fmt(value: float, unit: str) -> str:
    if unit in ("x",):
        return f"{value:,.2f}x" if value < 10 else f"{value:,.1f}x"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ratio":
        return f"{value:.3f}"
    if unit == "%":
        return f"{value:.3f} %"
    if unit == "per M":
        return f"{value:,.1f}"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit in ("ms", "cases/s"):
        return f"{value:,.2f} {unit}"
    return f"{value:,.0f}"


def print_report(report: BenchReport, file=None) -> None:
    """The figures as a rich table."""
    from rich.console import Console
    from rich.table import Table

    title = (f"hvsim bench: {Path(report.elf).name}, config {report.config}, "
             f"median of {report.reps}")
    table = Table(title=title)
    for col in ("figure", "value", "target", "ok", "note"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for f in report.figures:
        ok = "" if f.ok is None else ("yes" if f.ok else "NO")
        table.add_row(f.label, _fmt(f.value, f.unit), f.target, ok, f.note)
    Console(file=file or sys.stdout, width=140).print(table)


def run_bench(config: str = "default", quick: bool = False, reps: int = 3,
              json_path: str | None = None, parts: tuple[str, ...] = tuple(PARTS)) -> BenchReport:
    """Measure ``parts`` of the config variant named ``config``, print the table, and
    write ``json_path`` if given."""
    if json_path is not None and not Path(json_path).resolve().parent.is_dir():
        raise BenchError(f"cannot write {json_path}: no such directory")
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise BenchError(f"unknown bench part '{unknown[0]}' (valid: {', '.join(PARTS)})")
    report = measure(config, quick, reps, parts=parts)
    print_report(report)
    if json_path is not None:
        Path(json_path).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report


if __name__ == "__main__":
    if sys.argv[1:2] == ["probe"]:
        sys.exit(_probe_main(sys.argv[2:]))
    sys.exit(f"usage: {sys.argv[0]} probe JSON (internal; use `hvsim bench`)")
