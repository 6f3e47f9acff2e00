"""Platform-level interrupt controller (PLIC) for one hart with M and S contexts.

Implements the RISC-V PLIC Specification v1.0.0: the register layout of chapter 3
(priorities at 0x0, pending at 0x1000, enables at 0x2000 + 0x80*ctx, threshold and
claim/complete at 0x200000 + 0x1000*ctx), level-triggered gateways (section 5), the
threshold rule "interrupts of priority <= threshold are masked" (section 6) and
claim/complete (sections 7-8; ties go to the lowest source id).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.config import SocConfig
from hardware.soc import regmap
from hardware.soc.bus import DeviceRequest, field_write
from hardware.soc.regmap import Reg

#: Sources 1..NUM_SOURCES; source 0 does not exist.
NUM_SOURCES = 31
PRIORITY_BITS = 3
ID_BITS = NUM_SOURCES.bit_length()
#: Contexts in address order: hart 0 M-mode (drives meip), hart 0 S-mode (drives seip).
CONTEXTS = ("M", "S")

PLIC_REGS: tuple[Reg, ...] = (
    Reg("priority", 0x4, PRIORITY_BITS, slot=4, count=NUM_SOURCES, first_index=1,
        description="priority of source i; 0 = never interrupts, 7 = highest"),
    Reg("pending", 0x1000, 32, access="ro",
        description="bit i: source i pending (bit 0 is 0)"),
    Reg("enable", 0x2000, 32, count=len(CONTEXTS), stride=0x80,
        description="context i (0 = M, 1 = S): bit s enables source s (bit 0 is 0)"),
    Reg("threshold", 0x200000, PRIORITY_BITS, slot=4, count=len(CONTEXTS), stride=0x1000,
        description="context i: sources of priority <= threshold are masked"),
    Reg("claim", 0x200004, ID_BITS, slot=4, count=len(CONTEXTS), stride=0x1000,
        description="context i: a 32-bit read claims the best interrupt (returns its id, "
                    "0 if none); a write of an id completes it"),
)


@dataclass
class PlicPorts:
    """What the PLIC drives."""

    rdata: pyrtl.WireVector  # 64-bit read lane
    meip: pyrtl.WireVector  # 1: context 0 (hart 0 M) has an interrupt above threshold
    seip: pyrtl.WireVector  # 1: context 1 (hart 0 S) has an interrupt above threshold


def _planes(prios: list[pyrtl.WireVector]) -> list[pyrtl.WireVector]:
    """Priority bit-planes: plane b holds bit b of every source's priority (bit s =
    source s), so the search below works on whole 32-bit words."""
    return [pyrtl.concat_list([pyrtl.Const(0, 1)] + [p[b] for p in prios])
            for b in range(PRIORITY_BITS)]


def _lowest_id(onehot_ish: pyrtl.WireVector) -> pyrtl.WireVector:
    """Id of the lowest set bit of a 32-bit vector."""
    low = onehot_ish & (0 - onehot_ish)[0:32]
    bits = [(low & sum(1 << s for s in range(32) if s >> j & 1)) != 0 for j in range(ID_BITS)]
    return pyrtl.concat_list(bits)


def _best(eligible: pyrtl.WireVector, planes: list[pyrtl.WireVector],
          threshold: pyrtl.WireVector) -> pyrtl.WireVector:
    """Id of the highest-priority eligible source above ``threshold`` (lowest id on
    ties), or 0. Keeps, plane by plane from the top bit, the candidates whose bit is
    set whenever some candidate has it: what is left has the maximum priority."""
    cand, prio_bits = eligible, []
    for plane in reversed(planes):
        hit = cand & plane
        has = hit != 0
        cand = pyrtl.select(has, hit, cand)
        prio_bits.append(has)
    prio = pyrtl.concat_list(list(reversed(prio_bits)))
    fire = (cand != 0) & (prio > threshold)
    return pyrtl.select(fire, _lowest_id(cand), pyrtl.Const(0, ID_BITS))


def _enable_regs(req: DeviceRequest, reg: Reg) -> list[pyrtl.Register]:
    """Per-context enable words with bit 0 (source 0) hardwired to 0."""
    regs = []
    for ctx in range(reg.count):
        r = pyrtl.Register(32, name=f"plic_enable_{ctx}_reg")
        new = pyrtl.concat(regmap.written_value(req, reg, r, ctx)[1:], pyrtl.Const(0, 1))
        r.next <<= pyrtl.select(regmap.write_enable(req, reg, ctx), new, r)
        regs.append(r)
    return regs


def _completion(req: DeviceRequest, reg: Reg, ctx: int, enable: pyrtl.WireVector) -> pyrtl.WireVector:
    """32-bit one-hot of the source completed by a store to context ``ctx``'s
    claim/complete register; 0 unless the id is a source enabled in that context."""
    value = field_write(pyrtl.Const(0, 32), req, (reg.offset_of(ctx) % 8) * 8)
    valid = regmap.write_enable(req, reg, ctx) & (value[ID_BITS:] == 0)
    onehot = pyrtl.shift_left_logical(pyrtl.Const(1, 32), value[:ID_BITS])
    return pyrtl.select(valid, onehot & enable, pyrtl.Const(0, 32))


def build_plic(cfg: SocConfig, req: DeviceRequest, sources: pyrtl.WireVector) -> PlicPorts:
    """The PLIC. ``sources`` is 32 bits, bit i = level of interrupt source i (bit 0 unused)."""
    if len(sources) != 32:
        raise ValueError(f"build_plic: 'sources' must be 32 bits, not {len(sources)}")
    regmap.check_map(PLIC_REGS)
    r_prio, _, r_enable, r_thresh, r_claim = PLIC_REGS
    prios = regmap.storage(req, r_prio, "plic")
    enables = _enable_regs(req, r_enable)
    thresholds = regmap.storage(req, r_thresh, "plic")
    pending = pyrtl.Register(32, name="plic_pending_reg")
    in_flight = pyrtl.Register(32, name="plic_in_flight_reg")

    best_ids, claimed, completed = [], pyrtl.Const(0, 32), pyrtl.Const(0, 32)
    planes = _planes(prios)
    for ctx, name in enumerate(CONTEXTS):
        best = _best(pending & enables[ctx], planes, thresholds[ctx])
        best_id = pyrtl.WireVector(ID_BITS, name=f"plic_best_{name.lower()}")
        best_id <<= best
        best_ids.append(best_id)
        fire = regmap.read_strobe(req, r_claim, ctx) & (best_id != 0)
        claimed = claimed | pyrtl.select(fire, pyrtl.shift_left_logical(pyrtl.Const(1, 32), best_id),
                                         pyrtl.Const(0, 32))
        completed = completed | _completion(req, r_claim, ctx, enables[ctx])

    lines = pyrtl.concat(sources[1:], pyrtl.Const(0, 1))
    busy = (in_flight & ~completed) | claimed
    # Pending follows the source level while the source is not in flight, as QEMU's and
    # Spike's PLICs do: a line that drops before the claim withdraws its request.
    pending.next <<= lines & ~busy
    in_flight.next <<= busy

    rdata = regmap.read_mux(req, PLIC_REGS, {
        "priority": prios, "pending": pending, "enable": enables,
        "threshold": thresholds, "claim": best_ids}, name="plic_rdata")
    ports = PlicPorts(rdata=rdata, meip=pyrtl.WireVector(1, name="plic_meip"),
                      seip=pyrtl.WireVector(1, name="plic_seip"))
    ports.meip <<= best_ids[0] != 0
    ports.seip <<= best_ids[1] != 0
    return ports
