"""The model side of lockstep co-simulation: one program on a ``Machine``, its
retirement records in batches (ARCHITECTURE.md section 5, layer 3; docs/cosim.md,
"The model side").

The model never waits for Spike, so it runs ahead in bulk on the compiled backend with
the retirement trace on (``rvfi_*`` Outputs, recorded in C). A run slice ends early
only where the co-simulator needs the model's state at an exact instruction boundary:

- after a trap cycle (``rvfi_trap``): for an interrupt, the CLINT's ``mtime`` in the
  cycle the trap committed is kept (``mtime_at``) so Spike's timer can be set to it;
- after the cycle in which a harness interrupt line changed (``irq_schedule``): the
  new line mask is kept (``lines_at``) at the index of the first record retired after
  the model's PLIC can see it (its gateway takes one cycle);
- on a UART byte (collected) and on halt.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from hardware.sim.elf import ElfImage
from hardware.sim.machine import RETIRE_FIELDS, Machine, Retired

#: Outputs that end a run slice.
STOP_ON = ("halt", "uart_tx_valid", "rvfi_trap")
#: Registers of the CLINT timer (``hardware/soc/clint.py``).
MTIME_REGISTER = "clint_mtime_reg"
PRESCALE_REGISTER = "clint_prescale"
#: First and largest run slice in cycles (slices double: short programs stop early).
FIRST_SLICE = 4096
MAX_SLICE = 1 << 18
#: Records the C trace buffer holds before it spills to Python (nothing is lost).
TRACE_CAPACITY = 4096
#: Bit of xcause that marks an interrupt.
INTERRUPT_BIT = 1 << 63


@dataclass
class ModelRun:
    """Runs ``image`` on ``machine`` and yields its records; see the module docstring.

    ``irq_schedule`` is a sequence of ``(cycle, mask)``: from ``cycle`` (counted from
    load) on, the harness interrupt lines are ``mask``.
    """

    machine: Machine
    image: ElfImage
    max_records: int
    max_cycles: int
    irq_schedule: Sequence[tuple[int, int]] = ()
    cycles: int = 0
    count: int = 0
    halted: bool = False
    exit_code: int | None = None
    uart: bytearray = field(default_factory=bytearray)
    mtime_at: dict[int, int] = field(default_factory=dict)
    lines_at: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._sim = self.machine.simulator
        self._schedule = sorted(self.irq_schedule)
        self._divider = self.machine.cfg.timebase_divider
        self._fields = [f"rvfi_{f}" for f in RETIRE_FIELDS]
        self._trimmed = False

    def batches(self) -> Iterator[list[Retired]]:
        """Load the program and yield its records, oldest first, until it halts or a
        budget runs out."""
        self.machine.load(self.image)
        self._sim.enable_trace("rvfi_valid", self._fields, capacity=TRACE_CAPACITY)
        slice_cycles = FIRST_SLICE
        while not self.halted and self.count < self.max_records and \
                self.cycles < self.max_cycles:
            changed = self._apply_schedule()
            limit = 1 if changed is not None else min(slice_cycles, self._until_schedule())
            limit = min(limit, self.max_cycles - self.cycles)
            result = self._sim.run(limit, STOP_ON)
            self.cycles += result.cycles
            records = self._drain()
            if changed is not None:
                self.lines_at[self.count] = changed
            if result.stopped_by is not None and not self._trimmed:
                self._on_stop(records)
            slice_cycles = min(slice_cycles * 2, MAX_SLICE)
            if records:
                yield records

    def _drain(self) -> list[Retired]:
        array = self._sim.drain_trace_array()
        self._trimmed = False
        if not len(array):
            return []
        columns = [array[f].tolist() for f in self._fields]
        records = [Retired(*row) for row in zip(*columns)]
        room = self.max_records - self.count
        self._trimmed = len(records) > room
        records = records[:room]
        self.count += len(records)
        return records

    def _apply_schedule(self) -> int | None:
        """Drive the lines due at the current cycle; the new mask, or None."""
        mask = None
        while self._schedule and self._schedule[0][0] <= self.cycles:
            mask = self._schedule.pop(0)[1]
        if mask is not None:
            self.machine.set_irq_lines(mask)
        return mask

    def _until_schedule(self) -> int:
        if not self._schedule:
            return MAX_SLICE
        return max(1, self._schedule[0][0] - self.cycles)

    def _on_stop(self, records: list[Retired]) -> None:
        sim = self._sim
        if sim.output("uart_tx_valid"):
            self.uart.append(sim.output("uart_tx_data"))
        if sim.output("halt"):
            self.halted = True
            self.exit_code = sim.output("halt_code")
        if records and records[-1].trap and records[-1].cause & INTERRUPT_BIT:
            self.mtime_at[self.count - 1] = self._mtime_in_last_cycle()

    def _mtime_in_last_cycle(self) -> int:
        """``mtime`` during the cycle just run (the register already holds the next)."""
        value = self._sim.get_register(MTIME_REGISTER)
        ticked = self._divider == 1 or self._sim.get_register(PRESCALE_REGISTER) == 0
        return (value - ticked) & ((1 << 64) - 1)


def registers_after(machine: Machine, image: ElfImage, index: int,
                    irq_schedule: Sequence[tuple[int, int]] = (), *, max_cycles: int,
                    prefix: str = "csr_") -> dict[str, int]:
    """Replay ``image`` on ``machine`` one retirement at a time up to record ``index``
    (inclusive, or ``max_cycles``) and return the registers whose name starts with
    ``prefix``, plus ``pc`` and ``priv`` (the state after that record)."""
    machine.load(image)
    sim = machine.simulator
    schedule = sorted(irq_schedule)
    cycles = count = 0
    while count <= index and cycles < max_cycles:
        while schedule and schedule[0][0] <= cycles:
            machine.set_irq_lines(schedule.pop(0)[1])
        limit = schedule[0][0] - cycles if schedule else MAX_SLICE
        result = sim.run(min(limit, max_cycles - cycles), ("rvfi_valid", "halt"))
        cycles += result.cycles
        if result.stopped_by is None:
            continue
        if sim.output("rvfi_valid"):
            count += 1
        elif sim.output("halt"):
            break
    names = [n for n in sim.registers if n.startswith(prefix)] + ["pc", "priv"]
    return {n: sim.get_register(n) for n in sorted(names) if n in sim.registers}
