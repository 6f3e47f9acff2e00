"""The ISA suite on the PyRTL model (ARCHITECTURE.md section 5, layer 2).

The same ELFs pass on Spike (``test_isa_spike.py``), which proves them right; here
they must pass on the model, on every named configuration, and give identical
architectural results (exit code, UART bytes, cycles, instret) on every backend.
"""

from __future__ import annotations

import pytest

from hardware.config import DEFAULT, VARIANTS
from hardware.sim.elf import load_elf
from hardware.sim.machine import Machine
from tests.isa.suite import MUST_FAIL, MUST_FAIL_CASE, build_test, list_tests, supports

TESTS = list_tests()
MAX_CYCLES = 5_000_000
#: Short tests that the slow Python backends also run (fast: ~3k cycles/s).
BACKEND_TESTS = ("rv64i_alu", "rv64c", "rv64i_mem", "vm_basic", "h_csr")


@pytest.fixture(scope="module")
def machines():
    """One compiled machine per configuration, reused (load() resets it)."""
    made = {}

    def get(name: str, backend: str = "compiled") -> Machine:
        if (name, backend) not in made:
            made[(name, backend)] = Machine(VARIANTS[name], backend)
        return made[(name, backend)]
    yield get
    for m in made.values():
        m.close()


def _run(machine: Machine, path, cfg, max_cycles=MAX_CYCLES, **kw):
    machine.load(load_elf(build_test(path, cfg, **kw), cfg))
    return machine.run(max_cycles)


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize("path", TESTS, ids=[p.stem for p in TESTS])
def test_isa_on_model(machines, name, path):
    """Every ISA test passes on the model in every named configuration."""
    cfg = VARIANTS[name]
    if not supports(cfg, path):
        pytest.skip(f"'{name}' lacks a feature {path.name} requires")
    out = _run(machines(name), path, cfg)
    assert out.status == "pass", f"{path.stem} on '{name}': {out.summary()}"


def test_model_reports_failures(machines):
    """A deliberately wrong test fails on the model with its case number."""
    out = _run(machines("default"), MUST_FAIL, DEFAULT, defines={"FAIL_KIND": 1},
               name="must_fail_1")
    assert (out.status, out.exit_code) == ("fail", MUST_FAIL_CASE)


@pytest.mark.parametrize("backend", ["fast", "interp"])
@pytest.mark.parametrize("stem", BACKEND_TESTS)
def test_backends_agree(machines, backend, stem):
    """The Python backends give the compiled backend's architectural results."""
    path = next(p for p in TESTS if p.stem == stem)
    ref = _run(machines("default"), path, DEFAULT)
    out = _run(machines("default", backend), path, DEFAULT, max_cycles=ref.cycles + 10)
    assert ref.status == "pass"
    assert (out.status, out.exit_code, out.uart_bytes, out.cycles, out.instret) == \
        (ref.status, ref.exit_code, ref.uart_bytes, ref.cycles, ref.instret)
