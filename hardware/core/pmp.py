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


def _napot_match(word_addr: pyrtl.WireVector, pa: pyrtl.WireVector) -> pyrtl.WireVector:
    """NAPOT: the trailing ones of pmpaddr (and the zero above them) are don't-care."""
    care = ~(pa ^ (pa + 1)[0:54])
    return ((word_addr ^ pa) & care) == 0


def _entry_match(word_addr, a_mode, pa, prev_pa):
    tor = (word_addr >= prev_pa) & (word_addr < pa)
    na4 = word_addr == pa
    napot = _napot_match(word_addr, pa)
    return pyrtl.mux(a_mode, pyrtl.Const(0, 1), tor, na4, napot)


@dataclass
class PmpLookup:
    """The entry that decides an access."""

    matched: pyrtl.WireVector  # some entry matches any byte of the access
    full: pyrtl.WireVector  # the deciding entry covers every byte
    cfg: pyrtl.WireVector  # the deciding entry's 8-bit pmpNcfg


def build_pmp_lookup(state: PmpState, first: pyrtl.WireVector,
                     last: pyrtl.WireVector) -> PmpLookup:
    """Find the lowest-numbered entry matching bytes ``first``..``last``."""
    matched = pyrtl.Const(0, 1)
    full = pyrtl.Const(0, 1)
    cfg = pyrtl.Const(0, 8)
    wa_first, wa_last = first[2:56], last[2:56]
    high_zero = first[56:64] == 0  # addresses above 56 bits never match
    for i in reversed(range(len(state.cfg))):
        prev = state.addr[i - 1] if i > 0 else pyrtl.Const(0, 54)
        a_mode = state.cfg[i][3:5]
        m_first = _entry_match(wa_first, a_mode, state.addr[i], prev) & high_zero
        m_last = _entry_match(wa_last, a_mode, state.addr[i], prev) & high_zero
        hit = m_first | m_last
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
