"""Tests of the fast compiled simulator and its build cache (hardware/sim/compiled.py,
hardware/sim/cache.py)."""

import multiprocessing
import shutil
import struct
import time

import numpy as np
import pyrtl
import pytest

from hardware.sim import cache, toys
from hardware.sim.common import RunResult, SimError
from hardware.sim.compiled import FastCompiledSimulation, generate


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("simcache")


def build(cache_dir, builder, **kw):
    pyrtl.reset_working_block()
    builder()
    return FastCompiledSimulation(cache_dir=cache_dir, **kw)


# --------------------------------------------------------------------------- designs


def counter_design(halt_at=10):
    """cnt counts up; halt when cnt == halt_at; acc sums Input x; odd = cnt is odd."""
    cnt = pyrtl.Register(16, name="cnt")
    acc = pyrtl.Register(32, name="acc")
    x = pyrtl.Input(8, "x")
    cnt.next <<= (cnt + 1)[:16]
    acc.next <<= (acc + x)[:32]
    for name, value in {"halt": cnt == halt_at, "cnt_out": cnt, "acc_out": acc,
                        "odd": cnt[0], "sq": (cnt * cnt)[:32]}.items():
        out = pyrtl.Output(len(value), name)
        out <<= value


def big_memory_design(addrwidth=21):
    """A 64-bit RAM written and read through Inputs."""
    ram = pyrtl.MemBlock(64, addrwidth, name="ram", asynchronous=True)
    we, wdata = pyrtl.Input(1, "we"), pyrtl.Input(64, "wdata")
    waddr = pyrtl.Input(addrwidth, "waddr")
    raddr = pyrtl.Input(addrwidth, "raddr")
    ram[waddr] <<= pyrtl.MemBlock.EnabledWrite(wdata, we)
    rdata = pyrtl.Output(64, "rdata")
    rdata <<= ram[raddr]


def rom_design():
    rom = pyrtl.RomBlock(16, 3, [0x1111, 0x2222, 0x3333], name="rom", pad_with_zeros=True,
                         asynchronous=True)
    addr = pyrtl.Input(3, "addr")
    out = pyrtl.Output(16, "data")
    out <<= rom[addr]


# --------------------------------------------------------------------------- memories


def test_dense_memory_far_apart_addresses(cache_dir):
    sim = build(cache_dir, big_memory_design)
    top = (1 << 21) - 1
    for addr, value in ((0, 0x1111_2222_3333_4444), (top, 0xFFFF_0000_FFFF_0001)):
        sim.set_input("we", 1)
        sim.set_input("waddr", addr)
        sim.set_input("wdata", value)
        sim.run(1)
    sim.set_input("we", 0)
    for addr, value in ((0, 0x1111_2222_3333_4444), (top, 0xFFFF_0000_FFFF_0001)):
        sim.set_input("raddr", addr)
        sim.run(1)
        assert sim.output("rdata") == value
        assert sim.read_mem("ram", 8 * addr, 8) == struct.pack("<Q", value)
    sim.write_mem("ram", 8 * 1_000_000 + 3, b"\xab")
    sim.set_input("raddr", 1_000_000)
    sim.run(1)
    assert sim.output("rdata") == 0xAB << 24
    with pytest.raises(SimError, match="outside"):
        sim.read_mem("ram", 8 * top + 1, 8)


def test_bulk_image_load_and_restore_are_fast(cache_dir):
    sim = build(cache_dir, big_memory_design)
    image = np.random.default_rng(1).integers(0, 256, 16 << 20, dtype=np.uint8).tobytes()
    t0 = time.perf_counter()
    sim.write_mem("ram", 0, image)
    load_s = time.perf_counter() - t0
    snap = sim.snapshot()
    sim.write_mem("ram", 0, bytes(16 << 20))
    t0 = time.perf_counter()
    sim.restore(snap)
    restore_s = time.perf_counter() - t0
    assert sim.read_mem("ram", 0, 16 << 20) == image
    assert load_s < 0.5 and restore_s < 0.5, (load_s, restore_s)


def test_rom_reads_and_cannot_be_written(cache_dir):
    sim = build(cache_dir, rom_design)
    seen = []
    for addr in range(4):
        sim.set_input("addr", addr)
        sim.run(1)
        seen.append(sim.output("data"))
    assert seen == [0x1111, 0x2222, 0x3333, 0]
    assert sim.read_mem("rom", 2, 4) == bytes.fromhex("22223333")
    with pytest.raises(SimError, match="ROM"):
        sim.write_mem("rom", 0, b"\0")


def test_wide_memory_words_are_masked(cache_dir):
    sim = build(cache_dir, toys.accumulator_machine)
    sim.write_mem("wide", 16, b"\xff" * 16)
    assert sim.read_mem("wide", 16, 16) == b"\xff" * 10 + b"\0" * 6


# --------------------------------------------------------------------------- running


def test_stop_on_output_and_cycle_counter(cache_dir):
    sim = build(cache_dir, counter_design)
    assert sim.run(1000, stop_on=("halt",)) == RunResult(11, "halt")
    assert sim.output("cnt_out") == 10 and sim.get_register("cnt") == 11
    assert sim.output("sq") == 100
    assert sim.run(5, stop_on=("halt",)) == RunResult(5, None)
    assert sim.run(0) == RunResult(0, None)
    assert sim.cycle == 16
    with pytest.raises(SimError, match="unknown stop output 'nope'"):
        sim.run(1, stop_on=("nope",))


def test_stop_names_the_first_listed_output_that_fired(cache_dir):
    sim = build(cache_dir, counter_design)
    sim.run(3)
    assert sim.run(10, stop_on=("halt", "odd")) == RunResult(1, "odd")


def test_pulse_input_lasts_one_cycle(cache_dir):
    sim = build(cache_dir, counter_design)
    sim.pulse_input("x", 5)
    sim.run(10)
    assert sim.get_register("acc") == 5
    sim.set_input("x", 1)
    sim.run(3)
    assert sim.get_register("acc") == 8
    sim.pulse_input("x", 7)
    assert sim.run(4, stop_on=("odd",)).cycles >= 1
    sim.run(3)
    assert sim.get_register("acc") == 15


def test_inputs_and_registers_are_checked(cache_dir):
    sim = build(cache_dir, counter_design)
    with pytest.raises(SimError, match="unknown input 'y' \\(known: x\\)"):
        sim.set_input("y", 1)
    with pytest.raises(SimError, match="does not fit in 8 bits"):
        sim.set_input("x", 256)
    sim.set_input("x", -1)
    sim.run(1)
    assert sim.get_register("acc") == 255
    sim.set_register("cnt", 9)
    assert sim.run(5, stop_on=["halt"]) == RunResult(2, "halt")
    with pytest.raises(SimError, match="unknown register"):
        sim.get_register("nope")


def test_wide_register_get_and_set(cache_dir):
    sim = build(cache_dir, toys.accumulator_machine)
    assert sim.get_register("mix") == 1
    sim.set_register("mix", (1 << 99) | 5)
    assert sim.get_register("mix") == (1 << 99) | 5
    sim.run(1)
    assert sim.output("mix_out") == (1 << 99) | 5


# --------------------------------------------------------------------------- trace


def test_trace_is_lossless_across_buffer_refills(cache_dir):
    sim = build(cache_dir, counter_design)
    sim.enable_trace("odd", ["cnt_out", "sq"], capacity=3)
    sim.run(20)
    records = sim.drain_trace()
    assert records == [{"cnt_out": c, "sq": c * c} for c in range(1, 20, 2)]
    assert sim.drain_trace() == []
    sim.run(4)
    assert [r["cnt_out"] for r in sim.drain_trace()] == [21, 23]


def test_trace_ring_keeps_the_last_records(cache_dir):
    sim = build(cache_dir, counter_design)
    sim.enable_trace("odd", ["cnt_out"], capacity=4, ring=True)
    sim.run(30)
    assert [r["cnt_out"] for r in sim.drain_trace()] == [23, 25, 27, 29]
    arr = (sim.run(4), sim.drain_trace_array())[1]
    assert list(arr["cnt_out"]) == [31, 33]


def test_trace_errors(cache_dir):
    sim = build(cache_dir, counter_design)
    with pytest.raises(SimError, match="no trace"):
        sim.drain_trace()
    with pytest.raises(SimError, match="unknown trace output"):
        sim.enable_trace("odd", ["nope"])


# --------------------------------------------------------------------------- state


def test_snapshot_restore_round_trip(cache_dir):
    sim = build(cache_dir, toys.accumulator_machine)
    sim.write_mem("ram", 0, b"".join(struct.pack("<Q", w) for w in toys.acc_program()))
    sim.run(20)
    snap = sim.snapshot()

    def finish():
        sim.run(100, stop_on=["halt", "tx_valid"])
        sim.run(100, stop_on=["halt", "tx_valid"])
        return (sim.cycle, sim.get_register("acc"), sim.output("mix_out"),
                sim.read_mem("ram", 0, 8192))

    first = finish()
    sim.restore(snap)
    assert sim.cycle == 20
    assert finish() == first
    with pytest.raises(SimError, match="does not fit"):
        sim.restore(snap[:-8])


def test_two_simulators_of_one_design_are_independent(cache_dir):
    a = build(cache_dir, counter_design)
    b = FastCompiledSimulation(cache_dir=cache_dir)
    assert b.from_cache
    a.run(5)
    assert (a.get_register("cnt"), b.get_register("cnt")) == (5, 0)


def test_chunked_code_matches_one_function(cache_dir):
    results = []
    for chunk in (0, 7):
        sim = build(cache_dir, toys.accumulator_machine, chunk_nets=chunk)
        sim.write_mem("ram", 0, b"".join(struct.pack("<Q", w) for w in toys.acc_program()))
        sim.enable_trace("ret_valid", ["ret_pc", "ret_acc"])
        r = sim.run(200, stop_on=["tx_valid"])
        results.append((r, sim.drain_trace(), sim.output("mix_out"), sim.output("wide_rd"),
                        sim.read_mem("ram", 0, 8192)))
        if chunk:
            assert sim.meta["chunks"] > 10 and sim.meta["shared_wires"] > 0
    assert results[0] == results[1]


# --------------------------------------------------------------------------- build and cache


def test_cache_hit_skips_elaborate(tmp_path):
    calls = []

    def elaborate():
        calls.append(1)
        pyrtl.reset_working_block()
        counter_design()
        return pyrtl.working_block()

    def must_not_run():
        raise AssertionError("elaborate() called on a cache hit")

    first = FastCompiledSimulation.load_or_build("k1", elaborate, cache_dir=tmp_path)
    assert calls == [1] and not first.from_cache
    second = FastCompiledSimulation.load_or_build("k1", must_not_run, cache_dir=tmp_path)
    assert second.from_cache
    assert second.run(100, stop_on=["halt"]) == RunResult(11, "halt")
    FastCompiledSimulation.load_or_build("k2", elaborate, cache_dir=tmp_path)
    assert calls == [1, 1]
    names = sorted(p.suffix for p in tmp_path.iterdir())
    assert names == [".json", ".json", ".so", ".so"]  # no temporary files left


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HVSIM_CACHE_DIR", str(tmp_path / "env"))
    assert cache.cache_dir() == tmp_path / "env"
    assert (tmp_path / "env").is_dir()
    assert cache.design_key("a", "b") != cache.design_key("ab")


def _build_in_process(path):
    pyrtl.reset_working_block()
    counter_design()
    sim = FastCompiledSimulation.load_or_build("same", pyrtl.working_block, cache_dir=path)
    return sim.run(100, stop_on=["halt"]).cycles


def test_parallel_builds_of_one_key(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        assert pool.map(_build_in_process, [tmp_path, tmp_path]) == [11, 11]
    assert cache.lookup(next(tmp_path.glob("*.json")).stem, tmp_path) is not None


def test_generated_source_is_deterministic():
    sources = set()
    for _ in range(2):
        pyrtl.reset_working_block()
        pyrtl.wire._reset_wire_indexers()  # temporary names restart, as in a new process
        toys.accumulator_machine()
        sources.add(generate(pyrtl.working_block(), 50)[0])
    assert len(sources) == 1


def test_build_errors_are_one_line(tmp_path):
    pyrtl.reset_working_block()
    counter_design()
    with pytest.raises(SimError, match="opt must be one of"):
        FastCompiledSimulation(opt="-O9", cache_dir=tmp_path)
    with pytest.raises(SimError, match="cannot run the C compiler"):
        FastCompiledSimulation(cc="/nonexistent/cc", cache_dir=tmp_path)
    with pytest.raises(SimError, match="C compiler failed"):
        FastCompiledSimulation(cc="false", cache_dir=tmp_path)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
def test_gcc_build_gives_the_same_results(tmp_path):
    sim = build(tmp_path, counter_design, cc="gcc")
    assert "gcc" in sim.meta["command"][0]
    assert sim.run(100, stop_on=["halt"]) == RunResult(11, "halt")


def test_trace_full_in_the_cycle_of_a_stop_loses_nothing(cache_dir):
    sim = build(cache_dir, counter_design)
    sim.enable_trace("odd", ["cnt_out"], capacity=1)
    for _ in range(4):
        assert sim.run(10, stop_on=["odd"]).stopped_by == "odd"
    assert [r["cnt_out"] for r in sim.drain_trace()] == [1, 3, 5, 7]
