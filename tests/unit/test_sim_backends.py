"""The three simulation backends give identical results (hardware/sim/backends.py;
ARCHITECTURE.md section 2: "All backends must give identical architectural results")."""

import struct

import pyrtl
import pytest

from hardware.sim import toys
from hardware.sim.backends import BACKENDS, make_simulator
from hardware.sim.common import RunResult, SimError

ALL = list(BACKENDS)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("simcache")


def elaborate_acc():
    pyrtl.reset_working_block()
    return toys.accumulator_machine()


def acc_image():
    return b"".join(struct.pack("<Q", w) for w in toys.acc_program())


def session(sim):
    """Drive the accumulator program to its end the way a harness would: stop on halt
    or a TX byte, push an RX byte while the machine waits for one, snapshot midway."""
    sim.enable_trace("ret_valid", ["ret_pc", "ret_acc"], capacity=5)
    log, snap = [], None
    while True:
        result = sim.run(1000, stop_on=("halt", "tx_valid"))
        log.append((result, sim.cycle, sim.output("tx_data"), sim.output("mix_out"),
                    sim.output("wide_rd"), sim.get_register("acc")))
        if snap is None:
            snap = sim.snapshot()
        if result.stopped_by != "tx_valid":
            break
        if sim.get_register("pc") == 13:
            sim.run(3)  # wait for a byte that has not come yet
            sim.pulse_input("rx_data", 0x41)
            sim.pulse_input("rx_valid", 1)
    log.append(sim.drain_trace())
    log.append(sim.read_mem("ram", 0, 8192))
    log.append(sim.read_mem("wide", 0, 256))
    sim.restore(snap)
    log.append((sim.cycle, sim.run(10_000, stop_on=["halt"]), sim.get_register("pc")))
    return log


@pytest.mark.parametrize("chunk_nets", [0, 16])
def test_backends_agree_on_the_accumulator_machine(cache_dir, chunk_nets):
    logs = {}
    for backend in ALL:
        kw = {"chunk_nets": chunk_nets} if backend == "compiled" else {}
        sim = make_simulator(backend, None, elaborate_acc, {"ram": [(0, acc_image())]},
                             cache_dir=cache_dir, **kw)
        logs[backend] = session(sim)
    first = logs["compiled"]
    assert first[0] == (RunResult(43, "tx_valid"), 43, 187, first[0][3], first[0][4],
                        first[0][5])
    assert first[-4][-1] == {"ret_pc": 15, "ret_acc": 65}
    assert struct.unpack_from("<Q", first[-3], 8 * 1023)[0] == 65
    for backend in ALL[1:]:
        assert logs[backend] == first, backend


def elaborate_random():
    pyrtl.reset_working_block()
    return toys.bench_machine(addrwidth=8, span_log2=6, extra_nets=300, seed=7)


def test_backends_agree_on_random_logic(cache_dir):
    seen = {}
    for backend in ALL:
        sim = make_simulator(backend, "random-logic", elaborate_random,
                             {"ram": [(5, bytes(range(1, 200)))]}, cache_dir=cache_dir)
        outs = []
        for _ in range(40):
            sim.run(5)
            outs.append((sim.output("acc_out"), sim.get_register("junk")))
        seen[backend] = (outs, sim.read_mem("ram", 0, 2048))
    assert seen["compiled"] == seen["fast"] == seen["interp"]


@pytest.mark.parametrize("backend", ALL)
def test_memory_bytes_and_errors(cache_dir, backend):
    sim = make_simulator(backend, "acc", elaborate_acc, {"ram": [(3, b"\x01\x02\x03")]},
                         cache_dir=cache_dir)
    assert sim.read_mem("ram", 0, 8) == b"\0\0\0\x01\x02\x03\0\0"
    sim.write_mem("ram", 6, b"\xff" * 4)
    assert sim.read_mem("ram", 0, 16) == b"\0\0\0\x01\x02\x03" + b"\xff" * 4 + b"\0" * 6
    sim.write_mem("wide", 16, b"\xff" * 16)
    assert sim.read_mem("wide", 16, 16) == b"\xff" * 10 + b"\0" * 6
    with pytest.raises(SimError, match="unknown memory 'nope' \\(known: ram, wide\\)"):
        sim.read_mem("nope", 0, 1)
    with pytest.raises(SimError, match="outside"):
        sim.write_mem("ram", 8 * 1024 - 2, b"abc")
    with pytest.raises(SimError, match="unknown output"):
        sim.output("nope")
    with pytest.raises(SimError, match="does not fit"):
        sim.set_input("rx_data", 1 << 8)


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(SimError, match="unknown backend 'verilator' \\(valid: compiled, "
                                       "fast, interp\\)"):
        make_simulator("verilator", None, elaborate_acc)


def test_vcd_window(tmp_path, cache_dir):
    path = tmp_path / "w.vcd"
    sim = make_simulator("interp", None, elaborate_acc, {"ram": [(0, acc_image())]},
                         vcd=(str(path), 5, 8))
    sim.run(20)
    text = path.read_text()
    assert "$var wire 10 " in text and " pc $end" in text
    stamps = [line for line in text.splitlines() if line.startswith("#")]
    assert stamps == ["#50", "#60", "#70", "#80"]
    with pytest.raises(SimError, match="vcd needs backend 'interp'"):
        make_simulator("compiled", None, elaborate_acc, vcd=(str(path), 0, 1),
                       cache_dir=cache_dir)


def test_trace_arrays_agree(cache_dir):
    arrays = []
    for backend in ALL:
        sim = make_simulator(backend, "acc", elaborate_acc, {"ram": [(0, acc_image())]},
                             cache_dir=cache_dir)
        sim.enable_trace("ret_valid", ["ret_pc", "ret_acc"])
        sim.run(30)
        arrays.append(sim.drain_trace_array())
    assert arrays[0].dtype.names == ("ret_pc", "ret_acc") and len(arrays[0]) == 30
    assert all((a == arrays[0]).all() for a in arrays[1:])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_wide_values_agree_with_the_interpreter(cache_dir, seed):
    import random

    def elaborate():
        pyrtl.reset_working_block()
        return toys.wide_logic(seed=seed)

    traces = []
    for backend, chunk in (("compiled", 0), ("compiled", 9), ("interp", 0)):
        sim = make_simulator(backend, None, elaborate, cache_dir=cache_dir, chunk_nets=chunk)
        rng = random.Random(seed)
        seen = []
        for _ in range(25):
            for i in range(3):
                sim.set_input(f"in{i}", rng.getrandbits(130))
            sim.run(1)
            seen.append([sim.output(o) for o in ("o0", "o1", "o2", "o3", "mix")])
        traces.append(seen)
    assert traces[0] == traces[2] and traces[1] == traces[2]


def _tree(rng, leaves, depth):
    """A random expression over ``leaves`` whose inner nets are used once (so a select
    above it owns them), with nested selects, slices and concats."""
    import random  # noqa: F401 - rng is a random.Random
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(leaves)
    a, b = _tree(rng, leaves, depth - 1), _tree(rng, leaves, depth - 1)
    op = rng.randrange(6)
    if op == 0:
        return pyrtl.select(a[rng.randrange(a.bitwidth)], a, b)
    if op == 1:
        return (a + b)[:max(a.bitwidth, b.bitwidth)]
    if op == 2:
        return a ^ b
    if op == 3:
        return pyrtl.concat(a[:rng.randrange(1, a.bitwidth + 1)], b)[:130]
    if op == 4:
        return ~a & b
    return pyrtl.select(a == b, a, b)


def elaborate_cones(seed: int):
    """Selects whose arms are private cones (what the compiled backend computes only
    when the arm is taken), 64- and 130-bit, nested, over registers, inputs and a
    memory read."""
    import random
    pyrtl.reset_working_block()
    rng = random.Random(seed)
    regs = [pyrtl.Register(rng.choice((8, 64, 130)), name=f"r{i}", reset_value=i * 77 + 1)
            for i in range(4)]
    mem = pyrtl.MemBlock(64, 6, name="ram", asynchronous=True)
    inp = pyrtl.Input(70, "in0")
    leaves = [*regs, pyrtl.as_wires(mem[regs[0][:6]]), inp]
    for i, r in enumerate(regs):
        cond = _tree(rng, leaves, 2)
        arm_t, arm_f = _tree(rng, leaves, 4), _tree(rng, leaves, 4)
        r.next <<= pyrtl.select(cond[0], arm_t, arm_f)[:r.bitwidth] if r.bitwidth <= 64 \
            else pyrtl.select(cond[0], arm_t, arm_f).zero_extended(130)[:130]
        o = pyrtl.Output(r.bitwidth, f"o{i}")
        o <<= r
    mem[regs[1][:6]] <<= (regs[2] ^ regs[3])[:64]
    return pyrtl.working_block()


@pytest.mark.parametrize("seed", range(6))
def test_lazy_select_arms_agree_with_the_interpreter(cache_dir, seed):
    """The compiled backend's lazily computed select arms (compiled.py ``_guards``)
    give the interpreter's values every cycle."""
    from hardware.sim.compiled import generate
    source, _ = generate(elaborate_cones(seed))
    assert "if (" in source, "no lazy select in the design: the test checks nothing"
    runs = {}
    for backend in ("compiled", "interp"):
        sim = make_simulator(backend, None, lambda: elaborate_cones(seed),
                             {"ram": [(0, bytes(range(256)) * 2)]}, cache_dir=cache_dir)
        trace = []
        for cycle in range(60):
            sim.set_input("in0", (cycle * 0x9E3779B97F4A7C15) & ((1 << 70) - 1))
            sim.run(1)
            trace.append(tuple(sim.output(f"o{i}") for i in range(4)))
        runs[backend] = (trace, sim.read_mem("ram", 0, 512))
    assert runs["compiled"] == runs["interp"]
