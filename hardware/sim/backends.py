"""One simulator API over three backends (ARCHITECTURE.md section 2, "Backends").

- ``compiled`` (default): ``FastCompiledSimulation``, C with dense memories, cached.
- ``fast``: ``pyrtl.FastSimulation`` (generated Python), for short unit tests.
- ``interp``: ``pyrtl.Simulation``, which can also write a VCD of a window of cycles.

All three offer the methods of ``Simulator`` with the same meaning, so they give
identical results (a test checks this). Memory bytes follow ``common`` (little-endian
words of ``elem_bytes(bitwidth)`` bytes).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable
from typing import Protocol

import numpy as np
import pyrtl
from pyrtl.wire import Const, Input, Output, Register

from hardware.sim.common import (
    RunResult,
    SimError,
    check_span,
    check_value,
    elem_bytes,
    unknown,
)
from hardware.sim.compiled import DEFAULT_CHUNK_NETS, NP_TYPES, FastCompiledSimulation

MemImages = dict[str, list[tuple[int, bytes]]]


class Simulator(Protocol):
    """What every backend offers."""

    backend: str

    @property
    def cycle(self) -> int: ...
    @property
    def inputs(self) -> list[str]: ...
    @property
    def outputs(self) -> list[str]: ...
    @property
    def registers(self) -> list[str]: ...
    @property
    def memories(self) -> list[str]: ...
    def set_input(self, name: str, value: int) -> None: ...
    def pulse_input(self, name: str, value: int) -> None: ...
    def run(self, max_cycles: int, stop_on: Iterable[str] = ()) -> RunResult: ...
    def output(self, name: str) -> int: ...
    def get_register(self, name: str) -> int: ...
    def set_register(self, name: str, value: int) -> None: ...
    def read_mem(self, name: str, byte_addr: int, n: int) -> bytes: ...
    def write_mem(self, name: str, byte_addr: int, data: bytes) -> None: ...
    def enable_trace(self, valid_output: str, outputs: list[str],
                     capacity: int = 1 << 16, ring: bool = False) -> None: ...
    def disable_trace(self) -> None: ...
    def drain_trace(self) -> list[dict[str, int]]: ...
    def load_images(self, images: MemImages) -> None: ...
    def snapshot(self) -> bytes: ...
    def restore(self, snap: bytes) -> None: ...
    def close(self) -> None: ...


# --------------------------------------------------------------------------- memory words


def _words_from_bytes(buf: bytes, bitwidth: int) -> list[int]:
    size = elem_bytes(bitwidth)
    if size <= 8:
        words = np.frombuffer(buf, dtype=NP_TYPES[size]).tolist()
    else:
        words = [int.from_bytes(buf[i:i + size], "little") for i in range(0, len(buf), size)]
    mask = (1 << bitwidth) - 1
    if bitwidth != 8 * size:
        words = [w & mask for w in words]
    return words


def _bytes_from_words(words: list[int], bitwidth: int) -> bytes:
    size = elem_bytes(bitwidth)
    if size <= 8:
        return np.array(words, dtype=NP_TYPES[size]).tobytes()
    return b"".join(w.to_bytes(size, "little") for w in words)


# --------------------------------------------------------------------------- VCD


class _Vcd:
    """Writes the named wires of a block for cycles ``start <= c < end`` to ``path``."""

    def __init__(self, path: str, start: int, end: int, block: pyrtl.Block):
        if not 0 <= start <= end:
            raise SimError(f"vcd window {start}:{end} is not a range of cycles")
        self.path, self.start, self.end = path, start, end
        self.wires = sorted((w for w in block.wirevector_set
                             if not isinstance(w, Const)
                             and not w.name.startswith(("tmp", "const_"))),
                            key=lambda w: w.name)
        self.ids = {w: self._ident(i) for i, w in enumerate(self.wires)}
        self.last: dict = {}
        self.file = None

    @staticmethod
    def _ident(n: int) -> str:
        chars = ""
        while True:
            chars += chr(33 + n % 94)
            n //= 94
            if n == 0:
                return chars

    def _open(self) -> None:
        try:
            self.file = open(self.path, "w")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise SimError(f"cannot write vcd file {self.path}: {exc.strerror}") from None
        lines = ["$timescale 1ns $end", "$scope module top $end"]
        for w in self.wires:
            lines.append(f"$var wire {w.bitwidth} {self.ids[w]} {w.name} $end")
        lines += ["$upscope $end", "$enddefinitions $end"]
        self.file.write("\n".join(lines) + "\n")

    def sample(self, cycle: int, value: Callable[[pyrtl.WireVector], int]) -> None:
        """Record the wires of ``cycle`` (time ``10 * cycle``) if it is in the window."""
        if not self.start <= cycle < self.end:
            return
        if self.file is None:
            self._open()
        changes = []
        for w in self.wires:
            v = value(w)
            if self.last.get(w) != v:
                self.last[w] = v
                bits = f"{v:b}" if w.bitwidth == 1 else f"b{v:b} "
                changes.append(f"{bits}{self.ids[w]}")
        self.file.write(f"#{10 * cycle}\n" + "".join(c + "\n" for c in changes))
        if cycle + 1 == self.end:
            self.close(cycle + 1)

    def close(self, end_cycle: int | None = None) -> None:
        """Finish the file (idempotent)."""
        if self.file is not None:
            if end_cycle is not None:
                self.file.write(f"#{10 * end_cycle}\n")
            self.file.close()
            self.file = None
            self.start = self.end  # nothing more to record


# --------------------------------------------------------------------------- pyrtl backends


class PyrtlSimulator:
    """The ``fast`` and ``interp`` backends: a Python loop over ``step``."""

    def __init__(self, block: pyrtl.Block, backend: str, vcd=None):
        self.backend = backend
        self.block = block
        self._inputs = {w.name: w for w in block.wirevector_subset(Input)}
        self._outputs = {w.name: w for w in block.wirevector_subset(Output)}
        self._registers = {w.name: w for w in block.wirevector_subset(Register)}
        mems = {net.op_param[1] for net in block.logic_subset("m@")}
        self._mems = {m.name: m for m in mems}
        if backend == "interp":
            self._sim = pyrtl.Simulation(tracer=None, block=block)
        else:
            self._sim = pyrtl.FastSimulation(tracer=None, block=block)
        self._vcd = _Vcd(*vcd, block) if vcd else None
        self._held = dict.fromkeys(self._inputs, 0)
        self._pulsed: set[str] = set()
        self._last_out = dict.fromkeys(self._outputs, 0)
        self._cycle = 0
        self._trace = None

    # ---- backend-specific state access

    def _mem_dict(self, mem) -> dict:
        if self.backend == "interp":
            return self._sim.memvalue.setdefault(mem.id, {})
        return self._sim.mems[f"fs_mem{mem.id}"]

    def _reg_dict(self) -> tuple[dict, Callable]:
        if self.backend == "interp":
            return self._sim.regvalue, lambda name: self._registers[name]
        return self._sim.regs, lambda name: name

    def _value(self, wire: pyrtl.WireVector) -> int:
        if self.backend == "interp":
            return self._sim.value[wire]
        return self._sim.context.get(wire.name, 0)

    # ---- API

    @property
    def cycle(self) -> int:
        """Cycles executed."""
        return self._cycle

    @property
    def inputs(self) -> list[str]:
        return sorted(self._inputs)

    @property
    def outputs(self) -> list[str]:
        return sorted(self._outputs)

    @property
    def registers(self) -> list[str]:
        return sorted(self._registers)

    @property
    def memories(self) -> list[str]:
        return sorted(self._mems)

    def set_input(self, name: str, value: int) -> None:
        """Drive Input ``name`` to ``value`` for every following cycle."""
        if name not in self._inputs:
            raise unknown("input", name, self._inputs)
        self._held[name] = check_value("input", name, value, self._inputs[name].bitwidth)
        self._pulsed.discard(name)

    def pulse_input(self, name: str, value: int) -> None:
        """Drive Input ``name`` to ``value`` for the next executed cycle only, then 0."""
        self.set_input(name, value)
        self._pulsed.add(name)

    def output(self, name: str) -> int:
        """Value of Output ``name`` in the last executed cycle (0 before any)."""
        if name not in self._outputs:
            raise unknown("output", name, self._outputs)
        return self._last_out[name]

    def get_register(self, name: str) -> int:
        """Current value of Register ``name`` (the value the next cycle will see)."""
        if name not in self._registers:
            raise unknown("register", name, self._registers)
        regs, key = self._reg_dict()
        return regs[key(name)]

    def set_register(self, name: str, value: int) -> None:
        """Overwrite Register ``name``."""
        if name not in self._registers:
            raise unknown("register", name, self._registers)
        regs, key = self._reg_dict()
        regs[key(name)] = check_value("register", name, value, self._registers[name].bitwidth)

    def _mem(self, name: str):
        if name not in self._mems:
            raise unknown("memory", name, self._mems)
        return self._mems[name]

    def read_mem(self, name: str, byte_addr: int, n: int) -> bytes:
        """``n`` bytes of memory ``name`` from byte address ``byte_addr``."""
        mem = self._mem(name)
        size = elem_bytes(mem.bitwidth)
        check_span(name, byte_addr, n, size << mem.addrwidth)
        if n == 0:
            return b""
        first, last = byte_addr // size, (byte_addr + n - 1) // size + 1
        if isinstance(mem, pyrtl.RomBlock):
            words = [self._rom_word(mem, a) for a in range(first, last)]
        else:
            store = self._mem_dict(mem)
            words = [store.get(a, 0) for a in range(first, last)]
        buf = _bytes_from_words(words, mem.bitwidth)
        return buf[byte_addr - first * size:][:n]

    @staticmethod
    def _rom_word(rom, addr: int) -> int:
        try:
            return int(rom._get_read_data(addr)) & ((1 << rom.bitwidth) - 1)
        except pyrtl.PyrtlError:
            return 0

    def write_mem(self, name: str, byte_addr: int, data: bytes) -> None:
        """Store ``data`` at byte address ``byte_addr`` of memory ``name``; bits above
        the word width are dropped."""
        mem = self._mem(name)
        if isinstance(mem, pyrtl.RomBlock):
            raise SimError(f"memory '{name}' is a ROM and cannot be written")
        data = bytes(data)
        size = elem_bytes(mem.bitwidth)
        check_span(name, byte_addr, len(data), size << mem.addrwidth)
        if not data:
            return
        first, last = byte_addr // size, (byte_addr + len(data) - 1) // size + 1
        store = self._mem_dict(mem)
        buf = bytearray((last - first) * size)
        for edge in {first, last - 1}:
            at = (edge - first) * size
            buf[at:at + size] = _bytes_from_words([store.get(edge, 0)], mem.bitwidth)
        head = byte_addr - first * size
        buf[head:head + len(data)] = data
        store.update(zip(range(first, last), _words_from_bytes(bytes(buf), mem.bitwidth)))

    def load_images(self, images: MemImages) -> None:
        """Write each ``(byte address, bytes)`` of each named memory."""
        for name, chunks in images.items():
            for addr, data in chunks:
                self.write_mem(name, addr, data)

    def _step(self) -> None:
        self._sim.step(dict(self._held))
        for name in self._pulsed:
            self._held[name] = 0
        self._pulsed.clear()
        for name, wire in self._outputs.items():
            self._last_out[name] = self._value(wire)
        if self._vcd is not None:
            self._vcd.sample(self._cycle, self._value)
        self._cycle += 1
        if self._trace is not None:
            valid, names, records, capacity, ring = self._trace
            if self._last_out[valid]:
                records.append({n: self._last_out[n] for n in names})
                if ring and len(records) > capacity:
                    del records[0]

    def run(self, max_cycles: int, stop_on: Iterable[str] = ()) -> RunResult:
        """Run up to ``max_cycles`` cycles with the Inputs held; stop after the first
        cycle in which an Output named in ``stop_on`` is nonzero."""
        stop_on = (stop_on,) if isinstance(stop_on, str) else tuple(stop_on)
        for name in stop_on:
            if name not in self._outputs:
                raise unknown("stop output", name, self._outputs)
        if max_cycles < 0:
            raise SimError(f"max_cycles must be >= 0, not {max_cycles}")
        for done in range(1, max_cycles + 1):
            self._step()
            hit = next((n for n in stop_on if self._last_out[n]), None)
            if hit is not None:
                return RunResult(done, hit)
        return RunResult(max_cycles, None)

    def enable_trace(self, valid_output: str, outputs: list[str], capacity: int = 1 << 16,
                     ring: bool = False) -> None:
        """Record ``outputs`` in every cycle where ``valid_output`` is nonzero (see
        ``FastCompiledSimulation.enable_trace``)."""
        for name in [valid_output, *outputs]:
            if name not in self._outputs:
                raise unknown("trace output", name, self._outputs)
        if capacity < 1:
            raise SimError(f"trace capacity must be >= 1, not {capacity}")
        self._trace = (valid_output, list(outputs), [], capacity, ring)

    def disable_trace(self) -> None:
        """Stop recording; records not yet drained are dropped."""
        self._trace = None

    def drain_trace(self) -> list[dict[str, int]]:
        """Records since the last drain, oldest first."""
        if self._trace is None:
            raise SimError("no trace is enabled (call enable_trace first)")
        records = self._trace[2]
        out = list(records)
        records.clear()
        return out

    def drain_trace_array(self) -> np.ndarray:
        """Records since the last drain as a structured array, oldest first."""
        names = self._trace[1] if self._trace else []
        records = self.drain_trace()
        out = np.zeros(len(records), dtype=[(n, np.uint64) for n in names])
        for n in names:
            out[n] = [r[n] for r in records]
        return out

    def snapshot(self) -> bytes:
        """Registers, memories, held inputs, last outputs and the cycle counter."""
        regs, key = self._reg_dict()
        state = {
            "regs": {n: regs[key(n)] for n in self._registers},
            "mems": {n: dict(self._mem_dict(m)) for n, m in self._mems.items()
                     if not isinstance(m, pyrtl.RomBlock)},
            "held": dict(self._held), "out": dict(self._last_out), "cycle": self._cycle,
        }
        return pickle.dumps(state)

    def restore(self, snap: bytes) -> None:
        """Return to a ``snapshot``; pending pulses are dropped."""
        try:
            state = pickle.loads(snap)
            regs, key = self._reg_dict()
            for n, v in state["regs"].items():
                regs[key(n)] = v
            for n, words in state["mems"].items():
                store = self._mem_dict(self._mems[n])
                store.clear()
                store.update(words)
        except (pickle.UnpicklingError, KeyError, TypeError, EOFError) as exc:
            raise SimError(f"snapshot does not fit this design ({exc})") from None
        self._held, self._last_out = state["held"], state["out"]
        self._cycle = state["cycle"]
        self._pulsed.clear()

    def close(self) -> None:
        """Finish the VCD file, if any."""
        if self._vcd is not None:
            self._vcd.close(self._cycle)


# --------------------------------------------------------------------------- factory

#: The backends, in the order ``--backend`` lists them.
BACKENDS = {
    "compiled": "C with dense memories, cached build (default)",
    "fast": "pyrtl.FastSimulation: generated Python, for short unit tests",
    "interp": "pyrtl.Simulation: interpreter, can write a VCD of a window of cycles",
}


def _elaborated(elaborate: Callable[[], pyrtl.Block | None]) -> pyrtl.Block:
    return pyrtl.working_block(elaborate())


def make_simulator(backend: str = "compiled", key: str | None = None,
                   elaborate: Callable[[], pyrtl.Block | None] | None = None,
                   mem_images: MemImages | None = None, *,
                   vcd: tuple[str, int, int] | None = None, opt: str = "-O2",
                   cc: str | None = None, chunk_nets: int = DEFAULT_CHUNK_NETS,
                   cache_dir=None) -> Simulator:
    """A simulator of the design that ``elaborate()`` builds, with ``mem_images``
    (memory name -> [(byte address, bytes)]) loaded.

    ``key`` names the design for the compiled backend's cache (without a key it hashes
    the generated C instead, so it always elaborates). ``vcd=(path, start, end)`` writes
    cycles ``start <= c < end`` as a VCD (``interp`` backend only). ``opt``, ``cc``,
    ``chunk_nets`` and ``cache_dir`` configure the compiled backend (see
    ``FastCompiledSimulation``).
    """
    if backend not in BACKENDS:
        raise SimError(f"unknown backend '{backend}' (valid: {', '.join(BACKENDS)})")
    if elaborate is None:
        raise SimError("make_simulator needs an elaborate() callable")
    if vcd is not None and backend != "interp":
        raise SimError(f"vcd needs backend 'interp', not '{backend}'")
    if backend == "compiled":
        if key is None:
            sim = FastCompiledSimulation(_elaborated(elaborate), opt=opt, cc=cc,
                                         chunk_nets=chunk_nets, cache_dir=cache_dir)
        else:
            sim = FastCompiledSimulation.load_or_build(key, elaborate, opt=opt, cc=cc,
                                                       chunk_nets=chunk_nets,
                                                       cache_dir=cache_dir)
    else:
        sim = PyrtlSimulator(_elaborated(elaborate), backend, vcd)
    sim.load_images(mem_images or {})
    return sim
