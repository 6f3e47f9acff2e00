"""Fully associative TLB tagged by ASID, with global pages and superpages
(RISC-V privileged spec 4.2.1 "SFENCE.VMA", 4.3.2, 4.4).

Lookups are combinational (a hit costs no cycle); a fill lands at the clock edge in
the entry named by a round-robin pointer; SFENCE.VMA invalidates by address and/or
ASID, never a global entry when an ASID is given. Entries hold the leaf PTE's flags so
the permission step (U/SUM/MXR, A/D) is checked at use with the current mode.

The MMU (``mmu.py``) looks it up twice per cycle: fetch, and data (or the second
parcel of a fetch that crosses a page).
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
    """One entry. ``key`` is {vpn, asid}; ``mask`` has ones on the key bits a lookup
    must match (the vpn bits the page size covers; the asid unless the page is global),
    so a lookup is one xor-and-compare per entry."""

    valid: pyrtl.Register
    key: pyrtl.Register  # 43 bits: vpn (42:16), asid (15:0)
    mask: pyrtl.Register  # 43 bits
    data: pyrtl.Register  # 54 bits: ppn (53:10), level (9:8), flags (7:0)


KEY_BITS = VPN_BITS + ASID_BITS
DATA_BITS = PPN_BITS + 2 + 8


def _fill_mask(fill: TlbFill) -> pyrtl.WireVector:
    """The key mask of a new entry: level 1 ignores vpn[8:0], level 2 vpn[17:0]; a
    global page ignores the asid."""
    lo = pyrtl.select(fill.level == 0, pyrtl.Const(0x1FF, 9), pyrtl.Const(0, 9))
    mid = pyrtl.select(fill.level == 2, pyrtl.Const(0, 9), pyrtl.Const(0x1FF, 9))
    asid = pyrtl.select(fill.flags[5], pyrtl.Const(0, ASID_BITS),
                        pyrtl.Const((1 << ASID_BITS) - 1, ASID_BITS))
    return pyrtl.concat(pyrtl.Const(0x1FF, 9), mid, lo, asid)


def _flush_kill(e: _Entry, flush: TlbFlush) -> pyrtl.WireVector:
    """SFENCE.VMA (spec 4.2.1): by address, by ASID (never a global entry), or all."""
    vpn_hit = ((e.key[ASID_BITS:] ^ flush.vpn) & e.mask[ASID_BITS:]) == 0
    is_global = e.data[5]
    asid_hit = (e.key[0:ASID_BITS] == flush.asid) & ~is_global
    return flush.valid & (~flush.by_addr | vpn_hit) & (~flush.by_asid | asid_hit)


def build_tlb(entries: int, lookups: list[tuple[pyrtl.WireVector, pyrtl.WireVector]],
              fill: TlbFill, flush: TlbFlush, name: str = "tlb") -> list[TlbResult]:
    """``lookups`` is a list of (vpn, asid); returns one result per lookup."""
    es = [_Entry(*(pyrtl.Register(w, name=f"{name}{i}_{f}") for f, w in
                   (("valid", 1), ("key", KEY_BITS), ("mask", KEY_BITS), ("data", DATA_BITS))))
          for i in range(entries)]
    ptr_bits = max(1, (entries - 1).bit_length())
    victim = pyrtl.Register(ptr_bits, name=f"{name}_victim")
    wrap = entries & (entries - 1) == 0
    victim.next <<= pyrtl.select(fill.valid, (victim + 1)[0:ptr_bits] if wrap
                                 else pyrtl.select(victim == entries - 1, 0,
                                                   (victim + 1)[0:ptr_bits]), victim)
    key = pyrtl.concat(fill.vpn, fill.asid)
    mask = _fill_mask(fill)
    data = pyrtl.concat(fill.ppn, fill.level, fill.flags)
    for i, e in enumerate(es):
        filled = fill.valid & (victim == i)
        e.valid.next <<= pyrtl.select(filled, 1, e.valid & ~_flush_kill(e, flush))
        e.key.next <<= pyrtl.select(filled, key, e.key)
        e.mask.next <<= pyrtl.select(filled, mask, e.mask)
        e.data.next <<= pyrtl.select(filled, data, e.data)
    return [_lookup(es, vpn, asid) for vpn, asid in lookups]


def _lookup(es: list[_Entry], vpn: pyrtl.WireVector, asid: pyrtl.WireVector) -> TlbResult:
    key = pyrtl.concat(vpn, asid)
    hit = pyrtl.Const(0, 1)
    data = pyrtl.Const(0, DATA_BITS)
    for e in reversed(es):  # the lowest-numbered matching entry wins
        m = e.valid & (((key ^ e.key) & e.mask) == 0)
        hit = hit | m
        data = pyrtl.select(m, e.data, data)
    ppn, level, flags = data[10:54], data[8:10], data[0:8]
    page = pyrtl.mux(level, ppn, pyrtl.concat(ppn[9:44], vpn[0:9]),
                     pyrtl.concat(ppn[18:44], vpn[0:18]), default=ppn)
    return TlbResult(hit=hit, ppn=page, flags=flags)
