"""Physical memory protection checker (RISC-V privileged spec 3.7).

Granularity is 4 bytes (G = 0), so NA4 is available. An access of at most 8 naturally
aligned bytes spans at most two 4-byte granules; checking its first and last byte is
enough to tell "no match", "partial match" (the access fails) and "full match".
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

A_OFF, A_TOR, A_NA4, A_NAPOT = range(4)
PRIV_M = 3


@dataclass
class PmpState:
    """The PMP CSRs as the checker sees them."""

    cfg: list  # per entry, 8-bit pmpNcfg (R bit 0, W 1, X 2, A 4:3, L 7)
    addr: list  # per entry, 54-bit pmpaddrN (address bits 55:2)


@dataclass
class PmpRange:
    """One entry decoded to a half-open range of 4-byte granules ``[lo, hi)`` (55 bits
    so that a NAPOT entry covering everything fits); OFF decodes to an empty range."""

    lo: pyrtl.WireVector
    hi: pyrtl.WireVector


def decode_ranges(state: PmpState) -> list[PmpRange]:
    """Each entry's granule range (priv 3.7.1.1): TOR [prev, pa), NA4 [pa, pa+1),
    NAPOT the aligned block whose size is given by pa's trailing ones. Decoded once
    and shared by every lookup."""
    ranges = []
    for i, (cfg, pa) in enumerate(zip(state.cfg, state.addr)):
        prev = state.addr[i - 1] if i > 0 else pyrtl.Const(0, 54)
        low_ones = pa ^ (pa + 1)[0:54]  # trailing ones of pa and the zero above them
        napot_lo = pa & ~low_ones
        napot_hi = ((pa | low_ones).zero_extended(55) + 1)[0:55]
        pa1 = (pa.zero_extended(55) + 1)[0:55]
        zero = pyrtl.Const(0, 55)
        a_mode = cfg[3:5]
        lo = pyrtl.mux(a_mode, zero, prev.zero_extended(55), pa.zero_extended(55),
                       napot_lo.zero_extended(55))
        hi = pyrtl.mux(a_mode, zero, pa.zero_extended(55), pa1, napot_hi)
        ranges.append(PmpRange(lo=lo, hi=hi))
    return ranges


@dataclass
class PmpLookup:
    """The entry that decides an access."""

    matched: pyrtl.WireVector  # some entry matches any byte of the access
    full: pyrtl.WireVector  # the deciding entry covers every byte
    cfg: pyrtl.WireVector  # the deciding entry's 8-bit pmpNcfg


def build_pmp_lookup(state: PmpState, ranges: list[PmpRange], first: pyrtl.WireVector,
                     last: pyrtl.WireVector | None = None) -> PmpLookup:
    """Find the lowest-numbered entry matching bytes ``first``..``last`` (``last``
    None: an access inside one granule, so only ``first`` is compared)."""
    matched = pyrtl.Const(0, 1)
    full = pyrtl.Const(0, 1)
    cfg = pyrtl.Const(0, 8)
    high_zero = first[56:64] == 0  # addresses above 56 bits never match
    wa_first = first[2:56].zero_extended(55)
    wa_last = None if last is None else last[2:56].zero_extended(55)
    for i in reversed(range(len(state.cfg))):
        r = ranges[i]
        m_first = (wa_first >= r.lo) & (wa_first < r.hi)
        m_last = m_first if wa_last is None else (wa_last >= r.lo) & (wa_last < r.hi)
        hit = (m_first | m_last) & high_zero
        matched = matched | hit
        full = pyrtl.select(hit, m_first & m_last, full)
        cfg = pyrtl.select(hit, state.cfg[i], cfg)
    return PmpLookup(matched=matched, full=full, cfg=cfg)


def pmp_allows(look: PmpLookup, priv: pyrtl.WireVector, need_r, need_w, need_x,
               implemented: bool, name: str) -> pyrtl.WireVector:
    """1 when the access is allowed (priv 3.7.1: M passes unless a locked entry
    denies; S/U need a matching entry when any entry is implemented)."""
    is_m = priv == PRIV_M
    ok = pyrtl.WireVector(1, name=f"pmp_{name}_ok")
    if not implemented:
        ok <<= 1
        return ok
    c = look.cfg
    perms = (~need_r | c[0]) & (~need_w | c[1]) & (~need_x | c[2])
    entry_ok = look.full & ((is_m & ~c[7]) | perms)
    ok <<= pyrtl.select(look.matched, entry_ok, is_m)
    return ok
