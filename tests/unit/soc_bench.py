"""Test bench shared by the SoC device unit tests: one device, its request fields as
Inputs, its ports as Outputs, simulated one cycle at a time.

Elaborating and compiling a device costs far more than the few hundred cycles a test
runs, so a test module builds each bench once (``Benches`` in a module-scoped fixture)
and every test, and every Hypothesis example, starts from ``reset()``, which restores
the snapshot taken before the first cycle. The simulator is the ``compiled`` backend
(ARCHITECTURE.md section 2), whose build cache makes a rerun skip the C compiler.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

import pyrtl

from hardware.sim.backends import make_simulator
from hardware.soc.bus import DeviceRequest

REQ_FIELDS = ("sel", "we", "re", "mask", "offset", "wdata")
#: Backend of every bench; ``fast`` and ``interp`` must give the same results.
BACKEND = "compiled"


def _elaborate(build: Callable, inputs: dict[str, int]) -> tuple[pyrtl.Block, list[str]]:
    """The device in a block of its own, and the names of its port fields."""
    with pyrtl.temp_working_block():
        req = DeviceRequest(name="req", component_type=pyrtl.Input)
        extra = {n: pyrtl.Input(w, name=n) for n, w in inputs.items()}
        ports = build(req, **extra)
        names = []
        for f in dataclasses.fields(ports):
            wire = getattr(ports, f.name)
            out = pyrtl.Output(len(wire), name=f"out_{f.name}")
            out <<= wire
            names.append(f.name)
        return pyrtl.working_block(), names


class DeviceBench:
    """Builds ``build(req, **inputs)`` once and simulates it from reset.

    ``inputs`` maps extra Input names to widths; they are passed to ``build`` as keyword
    arguments. Every field of the returned port dataclass becomes an Output ``out_<field>``.
    """

    def __init__(self, build: Callable, inputs: dict[str, int] | None = None,
                 backend: str | None = None):
        self.block, self.outputs = _elaborate(build, dict(inputs or {}))
        self.sim = make_simulator(backend or BACKEND, elaborate=lambda: self.block)
        self.extra = list(inputs or {})
        self._at_reset = self.sim.snapshot()
        self.reset()

    def reset(self) -> DeviceBench:
        """Back to the state before the first cycle, extra inputs 0; returns the bench."""
        self.sim.restore(self._at_reset)
        self.held = dict.fromkeys(self.extra, 0)
        self.cycles = 0
        return self

    def step(self, **fields) -> dict[str, int]:
        """One cycle; request fields default to idle, extra inputs keep their last value."""
        for f in REQ_FIELDS:
            self.sim.set_input(f"req.{f}", fields.pop(f, 0))
        self.held.update(fields)
        for name, value in self.held.items():
            self.sim.set_input(name, value)
        self.sim.run(1)
        self.cycles += 1
        return {n: self.sim.output(f"out_{n}") for n in self.outputs}

    def idle(self, n: int = 1, **inputs) -> dict[str, int]:
        """``n`` idle cycles; returns the ports of the last one."""
        out = {}
        for _ in range(n):
            out = self.step(**inputs)
        return out

    @staticmethod
    def _lane(addr: int, size: int) -> tuple[int, int, int]:
        assert addr % size == 0 and size in (1, 2, 4, 8)
        return addr & ~7, ((1 << size) - 1) << (addr % 8), (addr % 8) * 8

    def write(self, addr: int, value: int, size: int = 4, **inputs) -> dict[str, int]:
        """A committed store of ``size`` bytes at byte offset ``addr`` of the device."""
        off, mask, shift = self._lane(addr, size)
        data = (value & ((1 << 8 * size) - 1)) << shift
        return self.step(sel=1, we=1, mask=mask, offset=off, wdata=data, **inputs)

    def read(self, addr: int, size: int = 4, commit: bool = True, **inputs) -> int:
        """A load of ``size`` bytes at ``addr``; ``commit=False`` peeks (re = 0)."""
        off, mask, shift = self._lane(addr, size)
        out = self.step(sel=1, re=int(commit), mask=mask, offset=off, **inputs)
        return (out["rdata"] >> shift) & ((1 << 8 * size) - 1)

    def lane(self, offset: int, mask: int = 0xFF, commit: bool = True) -> int:
        """The whole 64-bit lane at ``offset`` under ``mask``."""
        return self.step(sel=1, re=int(commit), mask=mask, offset=offset)["rdata"]


class Benches:
    """One ``DeviceBench`` per set of arguments, built on first use: ``benches(*args)``
    returns ``make(*args)``, reset (``f()`` and ``f(16)`` share a bench when 16 is the
    default). Keep it in a module-scoped fixture."""

    def __init__(self, make: Callable[..., DeviceBench]):
        self.make = make
        self.signature = inspect.signature(make)
        self.built: dict[tuple, DeviceBench] = {}

    def __call__(self, *args, **kwargs) -> DeviceBench:
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = tuple(bound.arguments.items())
        if key not in self.built:
            self.built[key] = self.make(*bound.args, **bound.kwargs)
        return self.built[key].reset()
