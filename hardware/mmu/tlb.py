"""Fully associative TLB tagged by ASID (and, with the hypervisor extension, by V and
VMID), with global pages and superpages (RISC-V privileged spec 4.2.1 "SFENCE.VMA",
4.3.2, 4.4; hypervisor extension "Two-stage address translation", "HFENCE.VVMA and
HFENCE.GVMA").

Lookups are combinational (a hit costs no cycle); a fill lands at the clock edge in
the entry named by a round-robin pointer; SFENCE.VMA invalidates by address and/or
ASID, never a global entry when an ASID is given. Entries hold the leaf PTE's flags so
the permission step (U/SUM/MXR, A/D) is checked at use with the current mode.

Two-stage entries (a ``TlbFill`` with ``vmid``) are tagged {vpn (29 bits, so a 41-bit
guest-physical address fits when vsatp is Bare), ASID, VMID, V, S-stage Bare} and hold
besides the S/VS leaf's flags the G-stage leaf's flags (all ones when there is no G
stage), the guest-physical page (for ``htval`` when the G-stage check fails at a hit)
and the smaller page size of both stages. A flush selects entries by V (or both), VMID,
address and ASID.

The MMU (``mmu.py``) looks it up twice per cycle: fetch, and data (or the second
parcel of a fetch that crosses a page).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

VPN_BITS = 27
ASID_BITS = 16
PPN_BITS = 44
VMID_BITS = 14
GVPN_BITS = 29  # vpn of a two-stage entry: vaddr (or guest-physical address) bits 40:12

#: Tag and data of a two-stage entry, most significant field first: (name, width).
KEY_FIELDS_H = (("vpn", GVPN_BITS), ("asid", ASID_BITS), ("vmid", VMID_BITS), ("v", 1),
                ("sbare", 1))
DATA_FIELDS_H = (("gpa", GVPN_BITS), ("g_flags", 8), ("ppn", PPN_BITS), ("level", 2),
                 ("flags", 8))


@dataclass
class TlbFill:
    """A leaf found by the walker, written at the clock edge when ``valid``."""

    valid: pyrtl.WireVector
    vpn: pyrtl.WireVector  # 27 bits
    asid: pyrtl.WireVector  # 16 bits
    ppn: pyrtl.WireVector  # 44 bits (of the leaf PTE)
    level: pyrtl.WireVector  # 2 bits: 0 4 KiB, 1 2 MiB, 2 1 GiB
    flags: pyrtl.WireVector  # 8 bits: D A G U X W R V
    # two-stage entries only (vmid not None); vpn is then 29 bits
    vmid: pyrtl.WireVector | None = None  # 14 bits
    v: pyrtl.WireVector | None = None  # a guest (V=1) translation
    sbare: pyrtl.WireVector | None = None  # V=1 with vsatp Bare: no S-stage check, no ASID
    g_flags: pyrtl.WireVector | None = None  # 8 bits of the G-stage leaf (ones: no G stage)
    gpa: pyrtl.WireVector | None = None  # 29-bit guest-physical page of vpn


@dataclass
class TlbFlush:
    """SFENCE.VMA: ``valid``; ``by_addr`` (rs1 != x0) with ``vpn``; ``by_asid``
    (rs2 != x0) with ``asid``."""

    valid: pyrtl.WireVector
    by_addr: pyrtl.WireVector
    vpn: pyrtl.WireVector  # 27 bits (two-stage entries compare their low 27 vpn bits)
    by_asid: pyrtl.WireVector
    asid: pyrtl.WireVector
    # two-stage TLB only: which entries (V), or all of both V; by VMID
    v: pyrtl.WireVector | None = None
    all_v: pyrtl.WireVector | None = None
    by_vmid: pyrtl.WireVector | None = None
    vmid: pyrtl.WireVector | None = None


@dataclass
class TlbResult:
    """One lookup."""

    hit: pyrtl.WireVector
    ppn: pyrtl.WireVector  # 44-bit physical page number of the 4 KiB page (superpage
    #                        low bits already taken from the vpn)
    flags: pyrtl.WireVector  # 8 bits of the leaf PTE
    g_flags: pyrtl.WireVector | None = None  # two-stage: 8 bits of the G-stage leaf
    gpa: pyrtl.WireVector | None = None  # two-stage: 29-bit guest-physical page


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


def _fill_mask_h(fill: TlbFill) -> pyrtl.WireVector:
    """The key mask of a two-stage entry: the vpn bits its page size covers; the ASID
    unless the page is global or has no S stage; the VMID of guest entries; V and the
    S-stage-Bare bit always."""
    lo = pyrtl.select(fill.level == 0, pyrtl.Const(0x1FF, 9), pyrtl.Const(0, 9))
    mid = pyrtl.select(fill.level == 2, pyrtl.Const(0, 9), pyrtl.Const(0x1FF, 9))
    top = GVPN_BITS - 18
    asid = pyrtl.select(fill.flags[5] | fill.sbare, pyrtl.Const(0, ASID_BITS),
                        pyrtl.Const((1 << ASID_BITS) - 1, ASID_BITS))
    vmid = pyrtl.select(fill.v, pyrtl.Const((1 << VMID_BITS) - 1, VMID_BITS),
                        pyrtl.Const(0, VMID_BITS))
    return pyrtl.concat(pyrtl.Const((1 << top) - 1, top), mid, lo, asid, vmid,
                        pyrtl.Const(3, 2))


def _fields(wire: pyrtl.WireVector, layout) -> dict[str, pyrtl.WireVector]:
    """Split ``wire`` into the named fields of ``layout`` (most significant first)."""
    out, lsb = {}, wire.bitwidth
    for name, width in layout:
        lsb -= width
        out[name] = wire[lsb:lsb + width]
    return out


def _flush_compare_h(flush: TlbFlush) -> tuple:
    """SFENCE.VMA / HFENCE.VVMA / HFENCE.GVMA on two-stage entries, as one key compare:
    (key, care) where ``care`` has ones on the fields this flush selects by: vaddr bits
    38:30 if by address, the ASID, the VMID, and V unless ``all_v``.

    By address compares only the 1 GiB region: a guest entry is kept at the smaller page
    size of its two stages, so it can be a 4 KiB piece of a VS-stage superpage, and the
    fence must remove it whatever address in that superpage it names (spec 4.2.1: every
    translation of the leaf that maps the address). Flushing the rest of the gigabyte
    too is allowed."""
    def rep(bit, width):
        return pyrtl.select(bit, pyrtl.Const((1 << width) - 1, width), pyrtl.Const(0, width))
    extra = GVPN_BITS - VPN_BITS
    key = pyrtl.concat(pyrtl.Const(0, extra), flush.vpn, flush.asid, flush.vmid, flush.v,
                       pyrtl.Const(0, 1))
    care = pyrtl.concat(pyrtl.Const(0, extra), rep(flush.by_addr, VPN_BITS - 18),
                        pyrtl.Const(0, 18),
                        rep(flush.by_asid, ASID_BITS), rep(flush.by_vmid, VMID_BITS),
                        ~flush.all_v, pyrtl.Const(0, 1))
    return key, care


def _flush_kill_h(e: _Entry, flush: TlbFlush, compare: tuple) -> pyrtl.WireVector:
    """Entries of the flush's V (or of both, ``all_v``), of its VMID if ``by_vmid``, then
    by address and ASID as SFENCE.VMA; an entry without ASID (global or S-stage Bare)
    survives a flush by ASID. The entry's mask keeps out what it does not compare (the
    superpage's low vpn bits, the VMID of an HS-level entry)."""
    key, care = compare
    hit = ((e.key ^ key) & e.mask & care) == 0
    has_asid = e.mask[2 + VMID_BITS]  # lowest ASID bit of the mask
    return flush.valid & hit & (~flush.by_asid | has_asid)


def build_tlb(entries: int, lookups: list[tuple[pyrtl.WireVector, ...]],
              fill: TlbFill, flush: TlbFlush, name: str = "tlb") -> list[TlbResult]:
    """``lookups`` is a list of (vpn, asid), or for a two-stage TLB (``fill.vmid`` set)
    of (vpn, asid, vmid, v, sbare); returns one result per lookup."""
    two_stage = fill.vmid is not None
    key_bits = sum(w for _, w in KEY_FIELDS_H) if two_stage else KEY_BITS
    data_bits = sum(w for _, w in DATA_FIELDS_H) if two_stage else DATA_BITS
    es = [_Entry(*(pyrtl.Register(w, name=f"{name}{i}_{f}") for f, w in
                   (("valid", 1), ("key", key_bits), ("mask", key_bits), ("data", data_bits))))
          for i in range(entries)]
    ptr_bits = max(1, (entries - 1).bit_length())
    victim = pyrtl.Register(ptr_bits, name=f"{name}_victim")
    wrap = entries & (entries - 1) == 0
    victim.next <<= pyrtl.select(fill.valid, (victim + 1)[0:ptr_bits] if wrap
                                 else pyrtl.select(victim == entries - 1, 0,
                                                   (victim + 1)[0:ptr_bits]), victim)
    if two_stage:
        key = pyrtl.concat(*(getattr(fill, n) for n, _ in KEY_FIELDS_H))
        mask = _fill_mask_h(fill)
        data = pyrtl.concat(*(getattr(fill, n) for n, _ in DATA_FIELDS_H))
        compare = _flush_compare_h(flush)

        def kill(e, flush):
            return _flush_kill_h(e, flush, compare)
    else:
        key = pyrtl.concat(fill.vpn, fill.asid)
        mask = _fill_mask(fill)
        data = pyrtl.concat(fill.ppn, fill.level, fill.flags)
        kill = _flush_kill
    for i, e in enumerate(es):
        filled = fill.valid & (victim == i)
        e.valid.next <<= pyrtl.select(filled, 1, e.valid & ~kill(e, flush))
        e.key.next <<= pyrtl.select(filled, key, e.key)
        e.mask.next <<= pyrtl.select(filled, mask, e.mask)
        e.data.next <<= pyrtl.select(filled, data, e.data)
    if two_stage:
        return [_lookup_h(es, lk) for lk in lookups]
    return [_lookup(es, vpn, asid) for vpn, asid in lookups]


def _match(es: list[_Entry], key: pyrtl.WireVector, data_bits: int):
    """(hit, data of the lowest-numbered matching entry)."""
    hit = pyrtl.Const(0, 1)
    data = pyrtl.Const(0, data_bits)
    for e in reversed(es):  # the lowest-numbered matching entry wins
        m = e.valid & (((key ^ e.key) & e.mask) == 0)
        hit = hit | m
        data = pyrtl.select(m, e.data, data)
    return hit, data


def _superpage(page: pyrtl.WireVector, level: pyrtl.WireVector, vpn: pyrtl.WireVector):
    """The 4 KiB page of ``vpn`` inside the (super)page ``page`` of ``level``."""
    w = page.bitwidth
    return pyrtl.mux(level, page, pyrtl.concat(page[9:w], vpn[0:9]),
                     pyrtl.concat(page[18:w], vpn[0:18]), default=page)


def _lookup(es: list[_Entry], vpn: pyrtl.WireVector, asid: pyrtl.WireVector) -> TlbResult:
    hit, data = _match(es, pyrtl.concat(vpn, asid), DATA_BITS)
    ppn, level, flags = data[10:54], data[8:10], data[0:8]
    return TlbResult(hit=hit, ppn=_superpage(ppn, level, vpn), flags=flags)


def _lookup_h(es: list[_Entry], lookup: tuple[pyrtl.WireVector, ...]) -> TlbResult:
    hit, data = _match(es, pyrtl.concat(*lookup), sum(w for _, w in DATA_FIELDS_H))
    d = _fields(data, DATA_FIELDS_H)
    vpn = lookup[0]
    return TlbResult(hit=hit, ppn=_superpage(d["ppn"], d["level"], vpn), flags=d["flags"],
                     g_flags=d["g_flags"], gpa=_superpage(d["gpa"], d["level"], vpn))
