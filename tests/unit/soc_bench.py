"""Test bench shared by the SoC device unit tests: one device, its request fields as
Inputs, its ports as Outputs, driven by pyrtl.FastSimulation one cycle at a time."""

from __future__ import annotations

import dataclasses

import pyrtl

from hardware.soc.bus import DeviceRequest

REQ_FIELDS = ("sel", "we", "re", "mask", "offset", "wdata")


class DeviceBench:
    """Builds ``build(req, **inputs)`` in a fresh working block and simulates it.

    ``inputs`` maps extra Input names to widths; they are passed to ``build`` as keyword
    arguments. Every field of the returned port dataclass becomes an Output ``out_<field>``.
    """

    def __init__(self, build, inputs: dict[str, int] | None = None):
        pyrtl.reset_working_block()
        self.req = DeviceRequest(name="req", component_type=pyrtl.Input)
        self.extra = {n: pyrtl.Input(w, name=n) for n, w in (inputs or {}).items()}
        self.ports = build(self.req, **self.extra)
        self.outputs = []
        for f in dataclasses.fields(self.ports):
            wire = getattr(self.ports, f.name)
            out = pyrtl.Output(len(wire), name=f"out_{f.name}")
            out <<= wire
            self.outputs.append(f.name)
        self.sim = pyrtl.FastSimulation()
        self.held = {n: 0 for n in self.extra}
        self.cycles = 0

    def step(self, **fields) -> dict[str, int]:
        """One cycle; request fields default to idle, extra inputs keep their last value."""
        vals = {f"req.{f}": 0 for f in REQ_FIELDS}
        for k, v in fields.items():
            if k in REQ_FIELDS:
                vals[f"req.{k}"] = v
            else:
                self.held[k] = v
        vals.update(self.held)
        self.sim.step(vals)
        self.cycles += 1
        return {n: self.sim.inspect(f"out_{n}") for n in self.outputs}

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
