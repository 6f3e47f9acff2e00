"""The machine runner: one SoC, one ELF, and the run loop (ARCHITECTURE.md section 1,
"HTIF" and the test finisher; section 2, "Backends").

``Machine(cfg, backend)`` builds a simulator of ``hardware.soc.soc.elaborate(cfg)``
(cached by ``design_key``), ``load`` puts an ELF and the boot ROM into memory, and
``run`` executes cycles until the SoC halts or a cycle budget is spent. The run stops
in C on ``halt`` and on ``uart_tx_valid``; each UART byte is collected, handed to
``on_uart`` and the run continues.

Exit codes follow Spike: 0 = pass, HTIF ``(n << 1) | 1`` = fail with ``n``, the test
finisher's ``(code << 16) | 0x3333`` = fail with ``code`` (the SoC's ``halt_code``
already holds ``n``/``code``).

Retired-instruction count: the ``minstret`` CSR (``csr_minstret``), read once per run;
software writes to minstret and ``mcountinhibit.IR`` therefore change it.

A VCD window ``(path, A, B)`` on a non-``interp`` backend runs cycles before ``A`` on
the chosen backend, copies the whole state (registers and memories) into an ``interp``
simulator that records ``A <= cycle < B``, then copies it back. VCD times are
``10 * cycle``, as if the interpreter had run from cycle 0.

``snapshot()`` returns a ``MachineSnapshot`` of the whole SoC (the backend's state:
registers, memories, inputs, last outputs) plus the runner's own state (cycles, UART
bytes, halt code, held inputs, the RX queue, the loaded image, the retirement history);
``restore(snap)`` returns to it, so running on gives exactly what running straight
through gives. ``hardware/sim/snapshot.py`` stores snapshots in files.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyrtl

from hardware.config import DEFAULT, SocConfig
from hardware.isa.disasm import disassemble
from hardware.sim import cache
from hardware.sim.backends import BACKENDS, make_simulator
from hardware.sim.common import elem_bytes
from hardware.sim.elf import ElfImage
from hardware.soc.bootrom import bootrom_image
from hardware.soc.dtb import build_dtb
from hardware.soc.soc import RAM_NAME, ROM_NAME, RVFI_FIELDS, elaborate

#: The package whose sources key the build cache.
HARDWARE_DIR = Path(__file__).resolve().parent.parent
#: Fields of a retirement record (the ``rvfi_*`` Outputs without ``valid``).
RETIRE_FIELDS = tuple(f for f in RVFI_FIELDS if f != "valid")
#: Outputs that end one ``sim.run`` call.
STOP_ON = ("halt", "uart_tx_valid")
#: Register holding the retired-instruction count.
INSTRET_REGISTER = "csr_minstret"
#: Event counters of ``Machine.counters``: key -> register (hardware/mmu/mmu.py).
PERF_REGISTERS = {"tlb_walks": "mmu_perf_walks", "tlb_lookups": "mmu_perf_lookups"}
#: Privilege level names (priv spec 1.12, table 1.1).
PRIV_NAMES = {0: "U", 1: "S", 3: "M"}
#: Retired records kept for timeout reports while a full trace runs without ``history``.
DEFAULT_HISTORY = 16
#: Records per trace buffer before the simulator hands them to Python.
TRACE_CAPACITY = 1 << 16
#: Smallest run slice between progress reports (the interpreter runs ~100 cycles/s).
MIN_SLICE = 100
#: Cycles per run slice while a full retirement trace is on (bounds trace memory).
TRACE_SLICE = 1 << 20


class MachineError(ValueError):
    """Bad use of a Machine (a value out of range, a missing port); the message names it."""


class Retired(NamedTuple):
    """One retirement record (``hardware/core/core.py`` ``Retire``)."""

    pc: int
    insn: int  # 16-bit instructions zero-extended
    trap: int  # 1: the instruction (or an interrupt before it) trapped
    cause: int  # xcause of the trap
    priv: int
    v: int
    rd: int  # 0: no register written
    rd_wdata: int
    mem_addr: int
    mem_rmask: int  # byte lanes read (0: no load)
    mem_wmask: int  # byte lanes written (0: no store)
    mem_wdata: int  # store data in its byte lanes
    pc_paddr: int = 0  # physical address of the instruction (0 where unknown)
    mem_paddr: int = 0  # physical address of the load/store
    cycle: int = 0  # the cycle it left in, counted from reset

    def text(self) -> str:
        """``pc: insn  disassembly`` or the trap, for reports."""
        width = 4 if self.insn & 3 != 3 else 8
        if self.trap:
            kind = "interrupt" if self.cause >> 63 else "exception"
            return f"{self.pc:#018x}: trap ({kind}, cause {self.cause & ((1 << 63) - 1)})"
        return f"{self.pc:#018x}: {self.insn:0{width}x}  {disassemble(self.insn, self.pc)}"


def priv_name(priv: int) -> str:
    """``M``, ``S`` or ``U`` (or the number if reserved)."""
    return PRIV_NAMES.get(priv, str(priv))


@dataclass
class RunOutcome:
    """What a run did, counted from ``load``."""

    status: str  # "pass" | "fail" | "timeout"
    exit_code: int | None  # Spike's convention: 0 pass, n fail; None on timeout
    cycles: int
    instret: int
    wall_s: float  # wall time spent in ``run`` since ``load``
    uart_bytes: bytes
    last_pc: int  # fetch pc in the last executed cycle
    priv: int  # privilege level in the last executed cycle
    last_retired: list[Retired] = field(default_factory=list)  # oldest first; needs history

    @property
    def ipc(self) -> float:
        """Retired instructions per cycle."""
        return self.instret / self.cycles if self.cycles else 0.0

    @property
    def cycles_per_s(self) -> float:
        """Simulated cycles per wall-clock second."""
        return self.cycles / self.wall_s if self.wall_s > 0 else 0.0

    def summary(self) -> str:
        """One line: status, cycles, instret, IPC, wall time, simulated cycles/s."""
        code = "" if self.exit_code is None else f" (exit code {self.exit_code})"
        return (f"{self.status}{code}: {self.cycles} cycles, {self.instret} instret, "
                f"IPC {self.ipc:.3f}, {self.wall_s:.2f} s wall, "
                f"{self.cycles_per_s:,.0f} cycles/s")

    def timeout_report(self) -> str:
        """Where a timed-out run was: pc, privilege, and the last retired records."""
        lines = [f"no halt after {self.cycles} cycles: pc {self.last_pc:#x}, "
                 f"privilege {priv_name(self.priv)}"]
        if self.last_retired:
            lines.append(f"last {len(self.last_retired)} retired:")
            lines += [f"  {r.text()}" for r in self.last_retired]
        return "\n".join(lines)


@dataclass(frozen=True)
class MachineSnapshot:
    """The whole state of a Machine at one cycle (``Machine.snapshot``); read-only.

    ``state`` is the backend's ``snapshot()`` (bytes, or a read-only uint8 array when
    loaded from a file); ``design``/``backend``/``layout`` say which simulators can take
    it. ``meta`` is the caller's JSON-ready data (e.g. the scenario being run);
    ``source`` names the file it was loaded from, for messages.
    """

    design: str  # design_key(cfg)
    backend: str
    layout: str  # the backend's state layout (Machine.layout_key)
    state: bytes
    cycles: int
    wall_s: float
    uart: bytes
    halt_code: int | None
    held: tuple[tuple[str, int], ...]  # inputs the machine drives
    rx: tuple[int, ...]  # queued UART RX bytes
    ring: tuple[Retired, ...]  # the retirement history, oldest first
    image: ElfImage
    meta: dict = field(default_factory=dict)
    source: str = ""

    @property
    def label(self) -> str:
        """How messages name the snapshot."""
        return f"snapshot {self.source}" if self.source else "snapshot"


def design_key(cfg: SocConfig) -> str:
    """Cache key of the SoC for ``cfg``: the config, every ``.py`` under
    ``hardware/`` and the PyRTL version (backend options are added by the backend)."""
    return cache.design_key(cfg.key(), cache.source_hash(HARDWARE_DIR))


#: Build metadata of the compiled backend that fixes where each value sits in its state.
LAYOUT_FIELDS = ("state_size", "offsets", "inputs", "outputs", "registers", "memories")


def state_layout(sim) -> str:
    """A digest of where ``sim`` keeps each value in its ``snapshot()`` bytes: the
    compiled backend's layout metadata; the name-keyed ``fast``/``interp`` state only
    needs the backend."""
    meta = getattr(sim, "meta", None)
    if meta is None:
        return sim.backend
    table = json.dumps({k: meta[k] for k in LAYOUT_FIELDS}, sort_keys=True)
    return f"{sim.backend}:{hashlib.sha256(table.encode()).hexdigest()[:32]}"


def _columns(sim) -> dict[str, np.ndarray]:
    """Drain the simulator's trace into one uint64 array per field of RETIRE_FIELDS."""
    drain = getattr(sim, "drain_trace_array", None)
    if drain is not None:
        array = drain()
        return {f: np.ascontiguousarray(array[f"rvfi_{f}"]) for f in RETIRE_FIELDS}
    rows = sim.drain_trace()
    return {f: np.array([r[f"rvfi_{f}"] for r in rows], dtype=np.uint64)
            for f in RETIRE_FIELDS}


def _as_records(columns: dict[str, np.ndarray], start: int = 0) -> list[Retired]:
    """Records ``start``.. of ``columns``."""
    cols = [columns[f][start:].tolist() for f in RETIRE_FIELDS]
    return [Retired(*row) for row in zip(*cols)]


# --------------------------------------------------------------------------- state copy


def writable_memories(block: pyrtl.Block) -> dict[str, int]:
    """Name -> byte size of every MemBlock that is not a ROM."""
    mems = {net.op_param[1] for net in block.logic_subset("m@")}
    return {m.name: elem_bytes(m.bitwidth) << m.addrwidth for m in mems
            if not isinstance(m, pyrtl.RomBlock)}


def _nonzero_runs(data: bytes, word: int = 8) -> list[tuple[int, int]]:
    """(start, end) byte spans of the maximal runs of nonzero ``word``-byte words."""
    if len(data) % word:
        return [(0, len(data))]
    nz = np.frombuffer(data, dtype=f"<u{word}") != 0
    edges = np.flatnonzero(np.diff(np.concatenate(([False], nz, [False])).astype(np.int8)))
    return [(int(a) * word, int(b) * word) for a, b in zip(edges[::2], edges[1::2])]


def copy_state(src, dst, memories: dict[str, int], sparse_dst: bool) -> None:
    """Copy every register and the named memories of ``src`` into ``dst`` (two
    simulators of the same design). ``sparse_dst``: ``dst`` starts all-zero, so only
    nonzero words are written."""
    for name in src.registers:
        dst.set_register(name, src.get_register(name))
    for name, size in memories.items():
        data = src.read_mem(name, 0, size)
        if sparse_dst:
            for start, end in _nonzero_runs(data):
                dst.write_mem(name, start, data[start:end])
        else:
            dst.write_mem(name, 0, data)


def _shift_vcd(path: str, cycles: int) -> None:
    """Add ``10 * cycles`` to every time stamp of the VCD at ``path``."""
    p = Path(path)
    if not p.exists():
        return
    lines = p.read_text().splitlines()
    shifted = [f"#{int(ln[1:]) + 10 * cycles}" if ln.startswith("#") and ln[1:].isdigit()
               else ln for ln in lines]
    p.write_text("\n".join(shifted) + "\n")


# --------------------------------------------------------------------------- machine


class Machine:
    """The SoC for ``cfg`` on one simulation backend.

    ``vcd=(path, start, end)`` records cycles ``start <= c < end`` as a VCD (any
    backend; see the module docstring). ``opt``/``cc`` choose the C optimisation level
    and compiler of the ``compiled`` backend. ``history`` keeps the last N retired
    records for ``RunOutcome.last_retired`` (0: off, no cost).
    """

    def __init__(self, cfg: SocConfig = DEFAULT, backend: str = "compiled", *,
                 vcd: tuple[str, int, int] | None = None, opt: str = "-O2",
                 cc: str | None = None, cache_dir=None, history: int = 0):
        if backend not in BACKENDS:
            raise MachineError(f"unknown backend '{backend}' (valid: {', '.join(BACKENDS)})")
        if history < 0:
            raise MachineError(f"history must be >= 0, not {history}")
        if vcd is not None:
            if not 0 <= vcd[1] < vcd[2]:
                raise MachineError(f"vcd window {vcd[1]}:{vcd[2]} must have 0 <= start < end")
            if not Path(vcd[0]).resolve().parent.is_dir():
                raise MachineError(f"cannot write vcd file {vcd[0]}: no such directory")
        self.cfg, self.backend, self.history = cfg, backend, history
        self._vcd = vcd if backend != "interp" else None
        self._window = self._vcd
        t0 = time.perf_counter()
        self.design = design_key(cfg)
        self._sim = make_simulator(backend, self.design, lambda: elaborate(cfg),
                                   vcd=vcd if backend == "interp" else None, opt=opt, cc=cc,
                                   cache_dir=cache_dir)
        self.build_s = time.perf_counter() - t0
        self.from_cache = bool(getattr(self._sim, "from_cache", False))
        self._main = self._sim
        self._layout: str | None = None
        self._reset = self._sim.snapshot()
        self._sink: Callable[[list[Retired]], None] | None = None
        self._sink_arrays = False
        self._image: ElfImage | None = None
        self._held: dict[str, int] = {}
        self._start_state()

    # ---- setup

    def _start_state(self) -> None:
        self._cycles = 0
        self._wall = 0.0
        self._uart = bytearray()
        self._rx: deque[int] = deque()
        self._halt_code: int | None = None
        self._ring: deque[Retired] = deque(maxlen=self.history or DEFAULT_HISTORY)
        self._configure_trace(self._sim)

    def _configure_trace(self, sim) -> None:
        if self._sink is not None:
            sim.enable_trace("rvfi_valid", [f"rvfi_{f}" for f in RETIRE_FIELDS],
                             capacity=TRACE_CAPACITY)
        elif self.history:
            sim.enable_trace("rvfi_valid", [f"rvfi_{f}" for f in RETIRE_FIELDS],
                             capacity=self.history, ring=True)
        elif hasattr(sim, "disable_trace"):
            sim.disable_trace()

    @property
    def simulator(self):
        """The backend simulator (``hardware.sim.backends.Simulator``)."""
        return self._sim

    @property
    def cycle(self) -> int:
        """Cycles executed since ``load``."""
        return self._cycles

    def load(self, image: ElfImage) -> None:
        """Reset the machine, then write the boot ROM (entry point and DTB) and the ELF
        segments into memory and point the HTIF at the ELF's ``tohost``."""
        if self._sim is not self._main:
            self._sim.close()
            self._sim = self._main
        self._window = self._vcd
        self._sim.restore(self._reset)
        rom = bootrom_image(self.cfg, image.entry, build_dtb(self.cfg))
        self._sim.write_mem(ROM_NAME, 0, rom)
        images = image.mem_images(self.cfg, {"ram": RAM_NAME, "bootrom": ROM_NAME})
        for name, chunks in images.items():
            for addr, data in chunks:
                self._sim.write_mem(name, addr, data)
        self._image = image
        self._held = {}
        self._set("tohost_addr", image.tohost or 0)
        self._set("uart_rx_valid", 0)
        self._set("uart_rx_data", 0)
        if "irq_lines" in self._sim.inputs:
            self._set("irq_lines", 0)
        self._start_state()

    def _set(self, name: str, value: int) -> None:
        self._held[name] = value
        self._sim.set_input(name, value)

    def push_uart_rx(self, byte: int) -> None:
        """Queue one byte for the UART receiver (delivered one per cycle)."""
        if not 0 <= byte <= 0xFF:
            raise MachineError(f"uart rx byte {byte} is not in 0..255")
        self._rx.append(byte)

    def set_irq_lines(self, mask: int) -> None:
        """Drive the harness interrupt lines (bit i = PLIC source 32 - n + i)."""
        n = self.cfg.harness_irq_lines
        if n == 0:
            raise MachineError("this config has no harness irq lines (harness_irq_lines = 0)")
        if not 0 <= mask < 1 << n:
            raise MachineError(f"irq_lines mask {mask:#x} does not fit in {n} lines")
        self._set("irq_lines", mask)

    def trace_to(self, sink: Callable[[list[Retired]], None] | None,
                 arrays: bool = False) -> None:
        """Send every retired record to ``sink`` (in batches, oldest first); None stops.
        With ``arrays`` a batch is a dict of one uint64 numpy array per field of
        ``RETIRE_FIELDS`` instead of a list of Retired (much cheaper for bulk checks).
        Call before ``run``."""
        self._sink = sink
        self._sink_arrays = arrays
        self._configure_trace(self._sim)

    # ---- running

    def _deliver_rx(self) -> None:
        """Drive the next queued RX byte for exactly one cycle."""
        self._sim.set_input("uart_rx_data", self._rx.popleft())
        self._sim.pulse_input("uart_rx_valid", 1)

    def _flush_trace(self) -> None:
        """Move the simulator's records to the sink (full trace) or the history ring."""
        if self._sink is None and not self.history:
            return
        columns = _columns(self._sim)
        n = len(columns["pc"])
        if not n:
            return
        if self._sink is not None and self._sink_arrays:
            self._ring.extend(_as_records(columns, max(0, n - self._ring.maxlen)))
            self._sink(columns)
            return
        records = _as_records(columns)
        self._ring.extend(records)
        if self._sink is not None:
            self._sink(records)

    def _boundary(self) -> int | None:
        """The next cycle at which the VCD window starts or ends, if any."""
        if self._window is None:
            return None
        _, start, end = self._window
        if self._sim is not self._main:
            return end
        return start if self._cycles < start else None

    def _switch_window(self) -> bool:
        """Enter or leave the VCD window if the current cycle asks for it."""
        if self._window is None:
            return False
        _, start, end = self._window
        inside = self._sim is not self._main
        if not inside and start <= self._cycles < end:
            self._enter_window()
            return True
        if inside and self._cycles >= end:
            self._leave_window()
            return True
        return False

    def _enter_window(self) -> None:
        path, start, end = self._window
        self._flush_trace()
        vsim = make_simulator("interp", None, lambda: elaborate(self.cfg),
                              vcd=(path, 0, end - start))
        self._vcd_memories = writable_memories(vsim.block)
        copy_state(self._main, vsim, self._vcd_memories, sparse_dst=True)
        for name, value in self._held.items():
            vsim.set_input(name, value)
        self._sim = vsim
        self._configure_trace(vsim)

    def _leave_window(self) -> None:
        path, start, _ = self._window
        self._flush_trace()
        self._sim.close()
        _shift_vcd(path, start)
        copy_state(self._sim, self._main, self._vcd_memories, sparse_dst=False)
        self._sim = self._main
        self._window = None
        self._configure_trace(self._main)

    def _step_to(self, target: int, on_uart) -> bool:
        """Run until cycle ``target`` or a halt; True if halted."""
        while self._cycles < target and self._halt_code is None:
            self._switch_window()
            boundary = self._boundary()
            limit = target if boundary is None else min(target, boundary)
            if self._rx:
                self._deliver_rx()
                limit = self._cycles + 1
            if self._sink is not None:
                limit = min(limit, self._cycles + TRACE_SLICE)
            result = self._sim.run(limit - self._cycles, STOP_ON)
            self._cycles += result.cycles
            if self._sink is not None:
                self._flush_trace()
            if result.stopped_by is None:
                continue
            if self._sim.output("uart_tx_valid"):
                byte = self._sim.output("uart_tx_data")
                self._uart.append(byte)
                if on_uart is not None:
                    on_uart(byte)
            if self._sim.output("halt"):
                self._halt_code = self._sim.output("halt_code")
        return self._halt_code is not None

    def run(self, max_cycles: int, on_uart: Callable[[int], None] | None = None,
            on_progress: Callable[[int, float], None] | None = None,
            progress_s: float = 0.25) -> RunOutcome:
        """Run until the SoC halts or ``max_cycles`` more cycles have passed.

        ``on_uart(byte)`` is called for each byte the UART transmits. ``on_progress(
        cycles, wall_s)`` is called about every ``progress_s`` seconds.
        """
        if self._image is None:
            raise MachineError("no program loaded (call load first)")
        if max_cycles <= 0:
            raise MachineError(f"max_cycles must be positive, not {max_cycles}")
        target = self._cycles + max_cycles
        t0 = time.perf_counter()
        slice_cycles = MIN_SLICE
        try:
            while self._halt_code is None and self._cycles < target:
                if on_progress is None:
                    self._step_to(target, on_uart)
                    break
                s0, c0 = time.perf_counter(), self._cycles
                self._step_to(min(target, self._cycles + slice_cycles), on_uart)
                spent = time.perf_counter() - s0
                on_progress(self._cycles, self._wall + time.perf_counter() - t0)
                if spent > 0 and self._cycles > c0:
                    rate = (self._cycles - c0) / spent
                    slice_cycles = max(MIN_SLICE, int(rate * progress_s))
        finally:
            self._wall += time.perf_counter() - t0
        return self.outcome()

    def outcome(self) -> RunOutcome:
        """The outcome so far (``timeout`` while the SoC has not halted)."""
        if self._halt_code is None:
            status, code = "timeout", None
        else:
            code = self._halt_code
            status = "pass" if code == 0 else "fail"
        self._flush_trace()
        return RunOutcome(status, code, self._cycles, self.instret(), self._wall,
                          bytes(self._uart), self._sim.output("core_pc"),
                          self._sim.output("core_priv"), list(self._ring))

    def instret(self) -> int:
        """Instructions retired since ``load`` (the minstret CSR)."""
        if INSTRET_REGISTER in self._sim.registers:
            return self._sim.get_register(INSTRET_REGISTER)
        return 0

    def counters(self) -> dict[str, int]:
        """The simulator-visible event counters since ``load`` (docs/mmu.md "Event
        counters"): ``cycles``, ``instret``, ``tlb_walks``, ``tlb_lookups``."""
        out = {"cycles": self._cycles, "instret": self.instret()}
        for key, reg in PERF_REGISTERS.items():
            out[key] = self._sim.get_register(reg) if reg in self._sim.registers else 0
        return out

    # ---- snapshots

    @property
    def layout_key(self) -> str:
        """Which snapshots this machine's simulator can take (``state_layout``)."""
        if self._layout is None:
            self._layout = state_layout(self._main)
        return self._layout

    def snapshot(self, meta: dict | None = None) -> MachineSnapshot:
        """The whole state now: the SoC's and the runner's (see ``MachineSnapshot``);
        ``meta`` is kept with it. Pending retirement records go to the trace sink
        first."""
        if self._image is None:
            raise MachineError("nothing to snapshot: no program loaded (call load first)")
        if self._sim is not self._main:
            _, start, end = self._window
            raise MachineError(f"cannot snapshot at cycle {self._cycles}: inside the VCD "
                               f"window {start}:{end}")
        self._flush_trace()
        return MachineSnapshot(
            self.design, self.backend, self.layout_key, self._sim.snapshot(), self._cycles,
            self._wall, bytes(self._uart), self._halt_code, tuple(self._held.items()),
            tuple(self._rx), tuple(self._ring), self._image, dict(meta or {}))

    def check_snapshot(self, snap: MachineSnapshot) -> None:
        """Raise MachineError, naming the snapshot, unless this machine can restore it."""
        if snap.design != self.design:
            raise MachineError(f"{snap.label} is of another design (another SoC config, "
                               f"hardware sources or PyRTL version)")
        if snap.backend != self.backend:
            raise MachineError(f"{snap.label} is of backend '{snap.backend}', this machine "
                               f"runs '{self.backend}'")
        if snap.layout != self.layout_key:
            raise MachineError(f"{snap.label} has another state layout (a compiled backend "
                               f"built by another generator or with other chunk_nets)")

    def restore(self, snap: MachineSnapshot) -> None:
        """Return to ``snap`` (of a machine of the same design and backend). The trace
        sink and history length stay this machine's; records not yet handed to the sink
        are dropped. A VCD window is recorded again if ``snap`` is before its start."""
        self.check_snapshot(snap)
        if self._sim is not self._main:
            self._leave_window()
        self._sim.restore(snap.state)
        self._configure_trace(self._sim)
        self._image = snap.image
        self._held = dict(snap.held)
        self._cycles, self._wall = snap.cycles, snap.wall_s
        self._uart = bytearray(snap.uart)
        self._rx = deque(snap.rx)
        self._halt_code = snap.halt_code
        self._ring = deque(snap.ring, maxlen=self.history or DEFAULT_HISTORY)
        self._window = self._vcd if self._vcd and snap.cycles < self._vcd[1] else None

    def close(self) -> None:
        """Finish a VCD window that is still open."""
        if self._sim is not self._main:
            self._leave_window()
        elif hasattr(self._sim, "close"):
            self._sim.close()


def run_elf(image: ElfImage, cfg: SocConfig = DEFAULT, backend: str = "compiled",
            max_cycles: int = 10_000_000, **kwargs) -> RunOutcome:
    """Load ``image`` on a fresh Machine and run it; ``kwargs`` go to ``Machine``."""
    machine = Machine(cfg, backend, **kwargs)
    machine.load(image)
    try:
        return machine.run(max_cycles)
    finally:
        machine.close()

