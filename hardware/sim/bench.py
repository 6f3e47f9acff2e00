"""Benchmark of the simulation backends (ARCHITECTURE.md section 2), reported in
``docs/simulation.md``.

Run ``python -m hardware.sim.bench`` (add ``--quick`` for a smoke run). It measures, on
``toys.bench_machine`` (a 2M-word 64-bit MemBlock with more than 1 MiB live):
cycles/s of ``FastCompiledSimulation``, of PyRTL's stock ``CompiledSimulation`` (driven
with ``run()`` in chunks) and of ``FastSimulation``; and the cold and warm build time of
the compiled backend on that design and on larger random designs.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time

import numpy as np
import pyrtl

from hardware.sim import toys
from hardware.sim.compiled import FastCompiledSimulation

#: Words the LFSR spreads over: 2**18 words = 2 MiB, ~1.3 MiB live after WARMUP.
SPAN_LOG2 = 18
WARMUP = 1 << 18


#: Makes every C source of this run new, so that zig's own cache cannot serve it.
SALT = random.getrandbits(64)


def _elaborate(extra_nets: int = 0) -> pyrtl.Block:
    pyrtl.reset_working_block()
    return toys.bench_machine(addrwidth=21, span_log2=SPAN_LOG2, extra_nets=extra_nets,
                              seed=SALT, salt=SALT)


def _rate(run, cycles: int) -> float:
    t0 = time.perf_counter()
    run(cycles)
    return cycles / (time.perf_counter() - t0)


def bench_fast_compiled(cycles: int, cache_dir: str) -> dict:
    """Cold build, warm load (including the cache lookup, no elaboration) and speed."""
    t0 = time.perf_counter()
    sim = FastCompiledSimulation.load_or_build("bench", _elaborate, cache_dir=cache_dir)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    FastCompiledSimulation.load_or_build("bench", _elaborate, cache_dir=cache_dir)
    warm = time.perf_counter() - t0
    sim.run(WARMUP)
    live = int(np.count_nonzero(sim.mem_view("ram").view(np.uint64))) * 8
    return {"cold_s": cold, "warm_s": warm, "live_bytes": live,
            "rate": _rate(sim.run, cycles), "compile_s": sim.meta["compile_seconds"]}


def bench_stock_compiled(cycles: int, chunk: int = 10_000) -> dict:
    """PyRTL's CompiledSimulation, tracing only one Output, run in chunks."""
    block = _elaborate()
    t0 = time.perf_counter()
    tracer = pyrtl.SimulationTrace(wires_to_track=[block.wirevector_by_name["done"]])
    sim = pyrtl.CompiledSimulation(tracer=tracer, block=block)
    build = time.perf_counter() - t0

    def run(n: int) -> None:
        for _ in range(0, n, chunk):
            sim.run([{}] * chunk)
    early = _rate(run, chunk)
    run(WARMUP - chunk)
    return {"cold_s": build, "rate": _rate(run, cycles), "early_rate": early}


def bench_stock_image_compile(words: int) -> float:
    """Seconds for the stock CompiledSimulation to build with a ``words``-word image."""
    block = _elaborate()
    image = {a: a * 0x9E37_79B9 & (1 << 64) - 1 for a in range(words)}
    t0 = time.perf_counter()
    pyrtl.CompiledSimulation(memory_value_map={block.memblock_by_name["ram"]: image},
                             block=block)
    return time.perf_counter() - t0


def bench_fastsim(cycles: int) -> dict:
    """PyRTL's FastSimulation, memory pre-filled as after the warm-up, no tracer."""
    block = _elaborate()
    t0 = time.perf_counter()
    image = {a: a | 1 for a in range(0, 1 << SPAN_LOG2, 2)}
    sim = pyrtl.FastSimulation(tracer=None, block=block,
                               memory_value_map={block.memblock_by_name["ram"]: image})
    build = time.perf_counter() - t0

    def run(n: int) -> None:
        for _ in range(n):
            sim.step({})
    return {"cold_s": build, "rate": _rate(run, cycles)}


def bench_build_scaling(sizes: list[int], cache_dir: str) -> list[dict]:
    """Cold build time and speed of the compiled backend on bigger random designs."""
    rows = []
    for extra in sizes:
        block = _elaborate(extra)
        sim = FastCompiledSimulation(block, cache_dir=cache_dir)
        rows.append({"nets": sim.meta["nets"], "chunks": sim.meta["chunks"],
                     "codegen_s": sim.meta["codegen_seconds"],
                     "compile_s": sim.meta["compile_seconds"],
                     "rate": _rate(sim.run, 200_000)})
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark as Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few cycles, small designs")
    args = parser.parse_args(argv)
    cycles = 200_000 if args.quick else 2_000_000
    with tempfile.TemporaryDirectory() as cache_dir:
        ours = bench_fast_compiled(cycles, cache_dir)
        stock = bench_stock_compiled(20_000 if args.quick else 100_000)
        fast = bench_fastsim(2_000 if args.quick else 20_000)
        image_s = bench_stock_image_compile(2_000 if args.quick else 16_384)
        scaling = bench_build_scaling([1000] if args.quick else [2000, 8000, 32000], cache_dir)
    print(f"live RAM after warm-up: {ours['live_bytes'] / 2**20:.2f} MiB\n")
    print("| backend | build (s) | cycles/s |\n|---|---|---|")
    print(f"| FastCompiledSimulation (cold build) | {ours['cold_s']:.2f} | {ours['rate']:,.0f} |")
    print(f"| FastCompiledSimulation (warm load) | {ours['warm_s']:.3f} | |")
    print(f"| stock CompiledSimulation | {stock['cold_s']:.2f} | {stock['rate']:,.0f} "
          f"(first {10_000} cycles: {stock['early_rate']:,.0f}) |")
    print(f"| FastSimulation | {fast['cold_s']:.2f} | {fast['rate']:,.0f} |")
    print(f"\nstock CompiledSimulation build with a "
          f"{2_000 if args.quick else 16_384}-word image: {image_s:.1f} s\n")
    print("| nets | chunks | codegen (s) | compile (s) | cycles/s |\n|---|---|---|---|---|")
    for row in scaling:
        print(f"| {row['nets']} | {row['chunks']} | {row['codegen_s']:.2f} | "
              f"{row['compile_s']:.2f} | {row['rate']:,.0f} |")


if __name__ == "__main__":
    main()
