"""Bench shared by the core unit tests: one unit built in a fresh PyRTL block, its
inputs as ``pyrtl.Input`` and its results as ``pyrtl.Output``, driven one cycle at a
time by ``pyrtl.FastSimulation`` (about 25 us a cycle for the ALU)."""

from __future__ import annotations

from collections.abc import Callable

import pyrtl

from hardware.config import SocConfig

MASK64 = (1 << 64) - 1


def s64(v: int) -> int:
    """``v`` (64-bit pattern) as a signed integer."""
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


def sext(v: int, bits: int) -> int:
    """Sign-extend the low ``bits`` of ``v`` to a 64-bit pattern."""
    v &= (1 << bits) - 1
    if v >> (bits - 1):
        v -= 1 << bits
    return v & MASK64


class UnitBench:
    """``build(**inputs) -> {name: wire}`` elaborated alone and simulated.

    ``inputs`` maps input names to widths. Inputs keep their last value between
    ``step`` calls (0 at first), like the signals of a stalled pipeline stage.
    """

    def __init__(self, inputs: dict[str, int],
                 build: Callable[..., dict[str, pyrtl.WireVector]]):
        pyrtl.reset_working_block()
        self.block = pyrtl.working_block()
        wires = {n: pyrtl.Input(w, name=f"in_{n}") for n, w in inputs.items()}
        outs = build(**wires)
        self.outputs = list(outs)
        for name, wire in outs.items():
            wire = pyrtl.as_wires(wire)
            out = pyrtl.Output(len(wire), name=f"out_{name}")
            out <<= wire
        self.sim = pyrtl.FastSimulation(tracer=None, block=self.block)
        self.held = {n: 0 for n in inputs}
        self.width = dict(inputs)

    def step(self, **values: int) -> dict[str, int]:
        """One clock cycle with ``values`` applied; the outputs seen in that cycle."""
        for name, value in values.items():
            self.held[name] = value & ((1 << self.width[name]) - 1)
        self.sim.step({f"in_{n}": v for n, v in self.held.items()})
        return {n: self.sim.inspect(f"out_{n}") for n in self.outputs}

    __call__ = step


def run_rom_program(source: str, cycles: int, cfg: SocConfig | None = None) -> list[dict]:
    """Assemble ``source`` into the boot ROM of the SoC (where the core starts), run it
    for ``cycles`` cycles, and return the retirement records (the ``rvfi_*`` outputs).

    For the few unit-level checks that need the core around a unit; the whole-SoC
    tests live elsewhere.
    """
    from hardware.isa.zigasm import assemble
    from hardware.soc.soc import ROM_NAME, RVFI_FIELDS, elaborate

    code = assemble(source)
    code += bytes(-len(code) % 8)
    block = elaborate(cfg or SocConfig())
    rom = next(n.op_param[1] for n in block.logic
               if n.op == "m" and n.op_param[1].name == ROM_NAME)
    image = {i: int.from_bytes(code[8 * i:8 * i + 8], "little") for i in range(len(code) // 8)}
    sim = pyrtl.FastSimulation(tracer=None, memory_value_map={rom: image}, block=block)
    inputs = {w.name: 0 for w in block.wirevector_subset(pyrtl.Input)}
    records = []
    for _ in range(cycles):
        sim.step(inputs)
        if sim.inspect("rvfi_valid"):
            records.append({f: sim.inspect(f"rvfi_{f}") for f in RVFI_FIELDS})
    return records
