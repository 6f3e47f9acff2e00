"""Fully associative TLB tagged by ASID, with global pages and superpages
(RISC-V privileged spec 4.2.1 "SFENCE.VMA", 4.3.2, 4.4).

Lookups are combinational (a hit costs no cycle); a fill lands at the clock edge in
the entry named by a round-robin pointer; SFENCE.VMA invalidates by address and/or
ASID, never a global entry when an ASID is given. Entries hold the leaf PTE's flags so
the permission step (U/SUM/MXR, A/D) is checked at use with the current mode.

Status: tested in isolation (``tests/unit/test_tlb.py``); not yet wired into the core.
The H extension adds VMID and V tags and G-stage permissions per entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

VPN_BITS = 27
ASID_BITS = 16
PPN_BITS = 44


@dataclass
class TlbFill:
    """A leaf found by the walker, written at the clock edge when ``valid``."""

    valid: pyrtl.WireVector
    vpn: pyrtl.WireVector  # 27 bits
    asid: pyrtl.WireVector  # 16 bits
    ppn: pyrtl.WireVector  # 44 bits (of the leaf PTE)
    level: pyrtl.WireVector  # 2 bits: 0 4 KiB, 1 2 MiB, 2 1 GiB
    flags: pyrtl.WireVector  # 8 bits: D A G U X W R V


@dataclass
class TlbFlush:
    """SFENCE.VMA: ``valid``; ``by_addr`` (rs1 != x0) with ``vpn``; ``by_asid``
    (rs2 != x0) with ``asid``."""

    valid: pyrtl.WireVector
    by_addr: pyrtl.WireVector
    vpn: pyrtl.WireVector
    by_asid: pyrtl.WireVector
    asid: pyrtl.WireVector


@dataclass
class TlbResult:
    """One lookup."""

    hit: pyrtl.WireVector
    ppn: pyrtl.WireVector  # 44-bit physical page number of the 4 KiB page (superpage
    #                        low bits already taken from the vpn)
    flags: pyrtl.WireVector  # 8 bits of the leaf PTE


@dataclass
class _Entry:
    valid: pyrtl.Register
    vpn: pyrtl.Register
    asid: pyrtl.Register
    ppn: pyrtl.Register
    level: pyrtl.Register
    flags: pyrtl.Register


def _vpn_match(entry: _Entry, vpn: pyrtl.WireVector) -> pyrtl.WireVector:
    """The vpn bits the entry's level covers are equal."""
    hi = entry.vpn[18:27] == vpn[18:27]
    mid = (entry.vpn[9:18] == vpn[9:18]) | (entry.level == 2)
    lo = (entry.vpn[0:9] == vpn[0:9]) | (entry.level != 0)
    return hi & mid & lo


def build_tlb(entries: int, lookups: list[tuple[pyrtl.WireVector, pyrtl.WireVector]],
              fill: TlbFill, flush: TlbFlush, name: str = "tlb") -> list[TlbResult]:
    """``lookups`` is a list of (vpn, asid); returns one result per lookup."""
    es = [_Entry(*(pyrtl.Register(w, name=f"{name}{i}_{f}") for f, w in
                   (("valid", 1), ("vpn", VPN_BITS), ("asid", ASID_BITS), ("ppn", PPN_BITS),
                    ("level", 2), ("flags", 8))))
          for i in range(entries)]
    ptr_bits = max(1, (entries - 1).bit_length())
    victim = pyrtl.Register(ptr_bits, name=f"{name}_victim")
    victim.next <<= pyrtl.select(fill.valid, (victim + 1)[0:ptr_bits] if entries & (entries - 1) == 0
                                 else pyrtl.select(victim == entries - 1, 0, (victim + 1)[0:ptr_bits]),
                                 victim)
    for i, e in enumerate(es):
        filled = fill.valid & (victim == i)
        is_global = e.flags[5]
        kill = flush.valid & (~flush.by_addr | _vpn_match(e, flush.vpn)) \
            & (~flush.by_asid | ((e.asid == flush.asid) & ~is_global))
        e.valid.next <<= pyrtl.select(filled, 1, e.valid & ~kill)
        for field in ("vpn", "asid", "ppn", "level", "flags"):
            reg = getattr(e, field)
            reg.next <<= pyrtl.select(filled, getattr(fill, field), reg)
    return [_lookup(es, vpn, asid) for vpn, asid in lookups]


def _lookup(es: list[_Entry], vpn: pyrtl.WireVector, asid: pyrtl.WireVector) -> TlbResult:
    hit = pyrtl.Const(0, 1)
    ppn = pyrtl.Const(0, PPN_BITS)
    level = pyrtl.Const(0, 2)
    flags = pyrtl.Const(0, 8)
    for e in reversed(es):  # the lowest-numbered matching entry wins
        m = e.valid & _vpn_match(e, vpn) & (e.flags[5] | (e.asid == asid))
        hit = hit | m
        ppn = pyrtl.select(m, e.ppn, ppn)
        level = pyrtl.select(m, e.level, level)
        flags = pyrtl.select(m, e.flags, flags)
    page = pyrtl.mux(level, ppn, pyrtl.concat(ppn[9:44], vpn[0:9]),
                     pyrtl.concat(ppn[18:44], vpn[0:18]), default=ppn)
    return TlbResult(hit=hit, ppn=page, flags=flags)
