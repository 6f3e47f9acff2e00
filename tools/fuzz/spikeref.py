"""Spike alone as the reference run of a generated program: retirement records like the
model's (``hardware.sim.machine.Retired``), from Spike stepped in-process
(``tools.cosim_spike.SpikeHart``). docs/fuzzing-cpu.md, "Spike-only runs".

For what the model cannot run yet (the H extension; paging before the MMU lands) this
checks that a generated program ends through tohost and lets ``Coverage`` count what it
exercised. Spike's own interrupts are not masked (there is no model to follow), so
programs with harness lines are not meaningful here.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.sim.machine import Retired
from tools.fuzz.gen import Program


@dataclass
class SpikeRun:
    """Records of one run, and how it ended."""

    records: list[Retired]
    ended: bool  # tohost was written
    exit_value: int  # the value written to tohost (1 = pass)
    steps: int


def spike_records(program: Program, max_steps: int = 200_000) -> SpikeRun:
    """Step ``program`` on Spike until it writes tohost or ``max_steps`` steps ran."""
    from tools.cosim_spike import hart_for

    elf = program.template.path
    image = program.image()
    hart = hart_for(elf, image, program.cfg)
    tohost = image.tohost
    records: list[Retired] = []
    for step in range(max_steps):
        pc, priv = hart.pc, hart.priv
        insn = hart.fetch_bits(pc, priv) or 0
        s = hart.step()
        if s.kind == "idle":
            continue
        if s.kind == "trap":
            records.append(Retired(pc, insn if s.executed else 0, 1, s.cause, priv, 0, 0, 0,
                                   0, 0, 0, 0))
            continue
        rd = next(iter(hart.written_regs()), 0)
        stores = hart.stores()
        loads = hart.loads()
        mem = stores[0] if stores else (loads[0] if loads else None)
        records.append(Retired(pc, insn, 0, 0, priv, 0, rd, hart.reg(rd) if rd else 0,
                               mem.addr if mem else 0, (1 << mem.size) - 1 if loads else 0,
                               (1 << mem.size) - 1 if stores else 0,
                               mem.value if stores else 0))
        for st in stores:
            if st.addr == tohost:
                return SpikeRun(records, True, st.value, step + 1)
    return SpikeRun(records, False, 0, max_steps)
