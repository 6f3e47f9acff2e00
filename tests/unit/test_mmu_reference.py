"""The reference translation model (hardware/mmu/reference.py): hand-built page tables
for each rule of priv spec 4.3.2/4.4 and the hypervisor chapter's two-stage
translation, and agreement with the S-stage walker in sv39.py on random tables."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from hardware.mmu import sv39
from hardware.mmu.reference import (ILLEGAL_INSTRUCTION, KIND_ACCESS, VIRTUAL_INSTRUCTION, Mode,
                                    ModeError, effective_mode, hlv_exception, translate)

RAM_BASE, RAM_END = 0x8000_0000, 0x4_0000_0000  # sparse: unwritten words read as 0
GUEST_DELTA = 0x1_0000_0000  # guest memory: SPA = GPA + GUEST_DELTA
SV39, SV39X4 = 8 << 60, 8 << 60
BITS = sv39.PTE_BITS


def flags(names: str) -> int:
    return sum(1 << BITS[n] for n in names)


LEAF = flags("VRWXAD")  # with U for user / G-stage leaves
G_LEAF = flags("VRWXADU")


class Memory:
    """Sparse RAM with page allocators for HS (SPA) and guest (GPA) tables."""

    def __init__(self, ram_end: int = RAM_END, guest_delta: int = GUEST_DELTA):
        self.ram_end, self.guest_delta = ram_end, guest_delta
        self.words: dict[int, int] = {}
        self.next_spa = (RAM_BASE >> 12) + 0x100
        self.next_gpa = (RAM_BASE >> 12) + 0x100
        self.guest_pages: list[int] = []

    def read64(self, addr: int) -> int | None:
        return self.words.get(addr, 0) if RAM_BASE <= addr < self.ram_end else None

    def alloc(self, pages: int = 1, guest: bool = False) -> int:
        if guest:
            ppn, self.next_gpa = self.next_gpa, self.next_gpa + pages
            self.guest_pages += range(ppn, ppn + pages)
            return ppn
        ppn = -(-self.next_spa // 4) * 4  # 16 KiB aligned, for hgatp roots
        self.next_spa = ppn + pages
        return ppn

    def map(self, root: int, va: int, pa: int, pte_flags: int, level: int = 0, *,
            x4: bool = False, guest: bool = False) -> list[int]:
        """Map ``va`` to ``pa`` with a leaf at ``level``; returns the PTE addresses (as
        the walk sees them: GPAs for guest tables). Missing tables are allocated."""
        where = (lambda a: a + self.guest_delta) if guest else (lambda a: a)
        table, addrs = root, []
        for lvl in range(2, level - 1, -1):
            width = 11 if (x4 and lvl == 2) else 9
            addr = (table << 12) + ((va >> (12 + 9 * lvl)) & ((1 << width) - 1)) * 8
            addrs.append(addr)
            if lvl == level:
                self.words[where(addr)] = (pa >> 12) << 10 | pte_flags
                return addrs
            pte = self.words.get(where(addr), 0)
            if not pte & 1:
                pte = self.alloc(guest=guest) << 10 | 1
                self.words[where(addr)] = pte
            table = sv39.pte_ppn(pte)
        raise AssertionError("unreachable")

    def poke_flags(self, addr: int, set_: int = 0, clear: int = 0) -> None:
        self.words[addr] = (self.words[addr] | set_) & ~clear


def s_mode(root: int, priv: int = 1, **kw) -> Mode:
    return Mode(priv=priv, v=False, satp=SV39 | root, vsatp=0, hgatp=0,
                sum=kw.pop("sum", False), mxr=kw.pop("mxr", False), **kw)


def vs_mode(vs_root: int | None, g_root: int | None, priv: int = 1, **kw) -> Mode:
    return Mode(priv=priv, v=True, satp=0,
                vsatp=0 if vs_root is None else SV39 | vs_root,
                hgatp=0 if g_root is None else SV39X4 | (5 << 44) | g_root,
                sum=kw.pop("sum", False), mxr=kw.pop("mxr", False), **kw)


# ---------------------------------------------------------------- S-stage (HS / U)

@pytest.fixture
def mem():
    return Memory()


def _s_setup(mem: Memory, va: int, pa: int, pte_flags: int, level: int = 0):
    root = mem.alloc()
    addrs = mem.map(root, va, pa, pte_flags, level)
    return root, addrs


def test_4k_page(mem):
    root, _ = _s_setup(mem, 0x4000_1000, 0x8123_4000, LEAF)
    t = translate(mem.read64, 0x4000_1abc, "r", s_mode(root))
    assert (t.paddr, t.cause, t.accesses, t.level) == (0x8123_4abc, None, 3, 0)


@pytest.mark.parametrize("level,accesses", [(1, 2), (2, 1)])
def test_superpages_take_low_bits_from_va(mem, level, accesses):
    va, pa = 0xffff_ffff_c000_0000 | 0x1234_5678 & ((1 << (12 + 9 * level)) - 1), 0x1_c000_0000
    root, _ = _s_setup(mem, va, pa, LEAF, level)
    t = translate(mem.read64, va, "w", s_mode(root))
    mask = (1 << (12 + 9 * level)) - 1
    assert (t.paddr, t.accesses, t.level) == (pa | va & mask, accesses, level)


def test_misaligned_superpage(mem):
    root, _ = _s_setup(mem, 0x4020_0000, 0x8000_1000, LEAF, level=1)
    t = translate(mem.read64, 0x4020_0000, "x", s_mode(root))
    assert (t.paddr, t.cause, t.tval, t.accesses) == (None, 12, 0x4020_0000, 2)


def test_canonical(mem):
    high = 0xffff_ffc0_0000_1000  # bit 38 set, sign-extended: canonical
    root, _ = _s_setup(mem, high, 0x8000_2000, LEAF)
    assert translate(mem.read64, high, "r", s_mode(root)).paddr == 0x8000_2000
    bad = high & ~(1 << 63)
    t = translate(mem.read64, bad, "r", s_mode(root))
    assert (t.cause, t.tval, t.accesses) == (13, bad, 0)
    t = translate(mem.read64, 1 << 38, "w", s_mode(root))  # bit 38 set, 63:39 clear
    assert (t.cause, t.accesses) == (15, 0)


@pytest.mark.parametrize("mutate", [
    dict(clear=flags("V")),
    dict(clear=flags("R")),  # W without R
    dict(set_=1 << 54), dict(set_=1 << 61), dict(set_=1 << 63),  # reserved, PBMT, N
])
def test_invalid_leaf(mem, mutate):
    root, addrs = _s_setup(mem, 0x1000, 0x8000_3000, LEAF)
    mem.poke_flags(addrs[-1], **mutate)
    t = translate(mem.read64, 0x1000, "r", s_mode(root))
    assert (t.cause, t.accesses) == (13, 3)


@pytest.mark.parametrize("bit", ["D", "A", "U"])
def test_pointer_with_dau_is_reserved(mem, bit):
    root, addrs = _s_setup(mem, 0x1000, 0x8000_3000, LEAF)
    mem.poke_flags(addrs[1], set_=flags(bit))
    t = translate(mem.read64, 0x1000, "w", s_mode(root))
    assert (t.cause, t.accesses) == (15, 2)


def test_pointer_at_level_0(mem):
    root, addrs = _s_setup(mem, 0x1000, 0x8000_3000, flags("V"))
    t = translate(mem.read64, 0x1000, "x", s_mode(root))
    assert (t.cause, t.accesses) == (12, 3)


def test_user_bit_and_sum(mem):
    root, _ = _s_setup(mem, 0x1000, 0x8000_3000, LEAF | flags("U"))
    mem.map(root, 0x2000, 0x8000_4000, LEAF)
    def ok(va, acc, **kw):
        return translate(mem.read64, va, acc, s_mode(root, **kw)).cause
    assert ok(0x1000, "r", priv=0) is None
    assert ok(0x1000, "r") == 13  # S on a U page needs SUM
    assert ok(0x1000, "w", sum=True) is None
    assert ok(0x1000, "x", sum=True) == 12  # S never executes a U page
    assert ok(0x2000, "r", priv=0) == 13  # U on an S page
    assert ok(0x2000, "x", priv=0, sum=True) == 12


def test_mxr(mem):
    root, _ = _s_setup(mem, 0x1000, 0x8000_3000, flags("VXA"))
    assert translate(mem.read64, 0x1000, "r", s_mode(root)).cause == 13
    assert translate(mem.read64, 0x1000, "r", s_mode(root, mxr=True)).paddr == 0x8000_3000
    assert translate(mem.read64, 0x1000, "w", s_mode(root, mxr=True)).cause == 15
    # vsatp's MXR has no effect on an HS-level access
    assert translate(mem.read64, 0x1000, "r", s_mode(root, vs_mxr=True)).cause == 13


def test_svade(mem):
    root, addrs = _s_setup(mem, 0x1000, 0x8000_3000, LEAF)
    mem.poke_flags(addrs[-1], clear=flags("D"))
    assert translate(mem.read64, 0x1000, "r", s_mode(root)).cause is None
    assert translate(mem.read64, 0x1000, "w", s_mode(root)).cause == 15
    mem.poke_flags(addrs[-1], clear=flags("A"))
    assert translate(mem.read64, 0x1000, "x", s_mode(root)).cause == 12
    assert mem.words[addrs[-1]] & flags("AD") == 0  # never written back


@pytest.mark.parametrize("access,cause", [("x", 1), ("r", 5), ("w", 7)])
def test_pte_read_outside_ram_is_access_fault(mem, access, cause):
    root, addrs = _s_setup(mem, 0x1000, 0x8000_3000, LEAF)
    mem.words[addrs[0]] = (0x1000 >> 12) << 10 | 1  # next table outside RAM
    t = translate(mem.read64, 0x1000, access, s_mode(root))
    assert (t.cause, t.tval, t.gpa, t.accesses) == (cause, 0x1000, None, 2)


def test_identity_modes(mem):
    va = 0xdead_beef_0123
    m = Mode(priv=3, v=False, satp=SV39 | 5, vsatp=SV39, hgatp=SV39X4, sum=False, mxr=False)
    t = translate(mem.read64, va, "w", m)
    assert (t.paddr, t.accesses, t.level) == (va, 0, None)
    t = translate(mem.read64, va, "r", Mode(1, False, 0, SV39, SV39X4, False, False))
    assert (t.paddr, t.accesses) == (va, 0)


# ---------------------------------------------------------------- two-stage

class Guest:
    """A VS-stage table (in guest memory) and a G-stage table mapping guest pages
    with 4 KiB leaves (``g_level`` 0) or 1 GiB leaves at SPA = GPA + GUEST_DELTA."""

    def __init__(self, mem: Memory, g_level: int = 0):
        self.mem, self.g_level = mem, g_level
        self.vs_root = mem.alloc(guest=True)
        self.g_root = mem.alloc(4)
        self.g_ptes: dict[int, list[int]] = {}

    def map(self, va: int, gpa: int, pte_flags: int = LEAF, level: int = 0) -> list[int]:
        return self.mem.map(self.vs_root, va, gpa, pte_flags, level, guest=True)

    def g_map(self, gpa: int, spa: int | None = None, pte_flags: int = G_LEAF,
              level: int | None = None) -> list[int]:
        level = self.g_level if level is None else level
        gpa &= ~((1 << (12 + 9 * level)) - 1)
        spa = gpa + self.mem.guest_delta if spa is None else spa
        addrs = self.mem.map(self.g_root, gpa, spa, pte_flags, level, x4=True)
        self.g_ptes[gpa >> 12] = addrs
        return addrs

    def g_map_tables(self) -> None:
        for ppn in self.mem.guest_pages:
            if self.g_level == 0 or (ppn << 12) >> 30 not in {g >> 18 for g in self.g_ptes}:
                self.g_map(ppn << 12)

    def mode(self, vs: bool = True, g: bool = True, **kw) -> Mode:
        return vs_mode(self.vs_root if vs else None, self.g_root if g else None, **kw)


@pytest.fixture
def guest(mem):
    return Guest(mem)


def test_two_stage_4k_is_15_reads(guest, mem):
    guest.map(0x4000_5000, 0x8040_0000)
    guest.g_map(0x8040_0000)
    guest.g_map_tables()
    t = translate(mem.read64, 0x4000_5123, "w", guest.mode())
    assert (t.paddr, t.cause, t.accesses, t.level, t.g_level) == \
        (0x8040_0123 + GUEST_DELTA, None, 15, 0, 0)


def test_two_stage_superpages_count(mem):
    g = Guest(mem, g_level=2)
    g.map(0x4000_0000, 0x8060_0000, level=1)
    g.g_map_tables()
    t = translate(mem.read64, 0x4001_2345, "r", g.mode())
    assert (t.paddr, t.accesses, t.level, t.g_level) == \
        (0x8061_2345 + GUEST_DELTA, 2 * 2 + 1, 1, 2)


def test_hgatp_bare(guest, mem):
    vs_root = mem.alloc()
    mem.map(vs_root, 0x1000, 0x8000_7000, LEAF)
    t = translate(mem.read64, 0x1008, "r", vs_mode(vs_root, None))
    assert (t.paddr, t.accesses, t.level, t.g_level) == (0x8000_7008, 3, 0, None)


def test_vsatp_bare_gpa_is_vaddr(guest, mem):
    gpa = (1 << 40) | 0x2000  # bit 40: a root index above 511 (the 16 KiB root)
    addrs = guest.g_map(gpa, spa=0x8000_9000)
    assert addrs[0] >= (guest.g_root << 12) + 512 * 8
    t = translate(mem.read64, gpa | 0x10, "x", guest.mode(vs=False))
    assert (t.paddr, t.accesses, t.level, t.g_level) == (0x8000_9010, 3, 0, 0)
    big = 1 << 41  # GPA bits 63:41 must be zero: no canonical sign extension
    t = translate(mem.read64, big | 0x10, "r", guest.mode(vs=False))
    assert (t.cause, t.tval, t.gpa, t.implicit, t.accesses) == \
        (21, big | 0x10, big | 0x10, False, 0)
    neg = 0xffff_ffff_ffff_f000
    t = translate(mem.read64, neg, "w", guest.mode(vs=False))
    assert (t.cause, t.gpa) == (23, neg)


def test_both_bare_identity(mem):
    t = translate(mem.read64, 1 << 50, "w", vs_mode(None, None))
    assert (t.paddr, t.accesses) == (1 << 50, 0)


def test_hgatp_ppn_low_bits_read_as_zero(guest, mem):
    guest.g_map(0x2000, spa=0x8000_9000)
    m = guest.mode(vs=False)
    m2 = Mode(m.priv, m.v, m.satp, m.vsatp, m.hgatp | 3, m.sum, m.mxr)
    assert translate(mem.read64, 0x2000, "r", m2).paddr == 0x8000_9000


def test_g_leaf_needs_u_even_for_vs_mode(guest, mem):
    guest.g_map(0x2000, pte_flags=LEAF)
    t = translate(mem.read64, 0x2000, "r", guest.mode(vs=False, sum=True))
    assert (t.cause, t.gpa, t.accesses) == (21, 0x2000, 3)


@pytest.mark.parametrize("mutate", [
    dict(clear=flags("V")), dict(clear=flags("R")), dict(set_=1 << 60),
    dict(clear=flags("A")),
])
def test_g_leaf_faults(guest, mem, mutate):
    addrs = guest.g_map(0x2000)
    mem.poke_flags(addrs[-1], **mutate)
    t = translate(mem.read64, 0x2abc, "x", guest.mode(vs=False))
    assert (t.cause, t.tval, t.gpa, t.implicit) == (20, 0x2abc, 0x2abc, False)


def test_g_pointer_with_u_and_misaligned_g_superpage(guest, mem):
    addrs = guest.g_map(0x2000)
    mem.poke_flags(addrs[0], set_=flags("U"))
    assert translate(mem.read64, 0x2000, "r", guest.mode(vs=False)).cause == 21
    guest.g_map(0x4000_0000, spa=0x1_0000_1000, level=2)
    t = translate(mem.read64, 0x4000_0000, "r", guest.mode(vs=False))
    assert (t.cause, t.accesses) == (21, 1)


def test_g_svade_store_needs_d(guest, mem):
    addrs = guest.g_map(0x2000)
    mem.poke_flags(addrs[-1], clear=flags("D"))
    assert translate(mem.read64, 0x2000, "r", guest.mode(vs=False)).cause is None
    assert translate(mem.read64, 0x2000, "w", guest.mode(vs=False)).cause == 23


@pytest.mark.parametrize("access,cause", [("x", 20), ("r", 21), ("w", 23)])
def test_fault_on_vs_pte_address_reports_original_access(guest, mem, access, cause):
    guest.map(0x5000, 0x8040_0000)
    guest.g_map(0x8040_0000)
    guest.g_map_tables()
    level1_table = sv39.pte_ppn(mem.words[(guest.vs_root << 12) + GUEST_DELTA])
    g_addrs = guest.g_ptes[level1_table]
    mem.poke_flags(g_addrs[-1], clear=flags("V"))
    t = translate(mem.read64, 0x5000, access, guest.mode())
    pte_gpa = (level1_table << 12) + 0  # VPN[1] of 0x5000 is 0
    assert (t.cause, t.tval, t.gpa, t.implicit) == (cause, 0x5000, pte_gpa, True)
    assert t.accesses == 4 + 3  # root G walk + root PTE, then the failing G walk


def test_vs_pte_read_is_an_implicit_load(guest, mem):
    """R needed (MXR does not help), W and D not needed, even for a store."""
    guest.map(0x5000, 0x8040_0000)
    guest.g_map(0x8040_0000)
    guest.g_map_tables()
    root_g = guest.g_ptes[guest.vs_root][-1]
    mem.words[root_g] = mem.words[root_g] & ~flags("WD")
    assert translate(mem.read64, 0x5000, "w", guest.mode()).cause is None
    mem.words[root_g] = mem.words[root_g] & ~flags("R") | flags("X")
    t = translate(mem.read64, 0x5000, "r", guest.mode(mxr=True))
    assert (t.cause, t.gpa, t.implicit, t.accesses) == (21, guest.vs_root << 12, True, 3)


def test_vs_leaf_gpa_beyond_41_bits(guest, mem):
    guest.map(0x5000, 1 << 42)
    guest.g_map_tables()
    t = translate(mem.read64, 0x5010, "r", guest.mode())
    assert (t.cause, t.tval, t.gpa, t.implicit, t.accesses) == \
        (21, 0x5010, (1 << 42) | 0x10, False, 12)


def test_vs_stage_faults_are_page_faults(guest, mem):
    guest.map(0x5000, 0x8040_0000, LEAF | flags("U"))
    guest.g_map(0x8040_0000)
    guest.g_map_tables()
    t = translate(mem.read64, 0x5000, "r", guest.mode())  # VS on a U page, vsstatus.SUM=0
    assert (t.cause, t.gpa, t.accesses) == (13, None, 12)
    assert translate(mem.read64, 0x5000, "r", guest.mode(sum=True)).cause is None
    t = translate(mem.read64, 1 << 39, "r", guest.mode())  # non-canonical
    assert (t.cause, t.accesses) == (13, 0)


def test_g_access_fault_is_access_fault(guest, mem):
    guest.g_map(0x2000)
    m = guest.mode(vs=False)
    bad = Mode(m.priv, m.v, m.satp, m.vsatp, SV39X4 | (0x1000 >> 12), m.sum, m.mxr)
    t = translate(mem.read64, 0x2000, "w", bad)
    assert (t.cause, t.tval, t.gpa, t.accesses) == (7, 0x2000, None, 1)


def test_mxr_two_stages(guest, mem):
    """vsstatus.MXR affects only the VS stage; mstatus.MXR both."""
    guest.map(0x5000, 0x8040_0000, flags("VXA"))
    guest.map(0x6000, 0x8041_0000, LEAF)
    guest.g_map(0x8040_0000)
    guest.g_map(0x8041_0000, pte_flags=flags("VXAU"))
    guest.g_map_tables()
    tr = lambda va, **kw: translate(mem.read64, va, "r", guest.mode(**kw)).cause  # noqa: E731
    assert tr(0x5000) == 13
    assert tr(0x5000, vs_mxr=True) is None
    assert tr(0x5000, mxr=True) is None
    assert tr(0x6000, vs_mxr=True) == 21
    assert tr(0x6000, mxr=True) is None


def test_hlvx_needs_x_in_both_stages(guest, mem):
    guest.map(0x5000, 0x8040_0000, flags("VXA"))
    guest.map(0x6000, 0x8041_0000, flags("VRWAD"))
    guest.map(0x7000, 0x8042_0000, LEAF)
    guest.g_map(0x8040_0000)
    guest.g_map(0x8041_0000)
    guest.g_map(0x8042_0000, pte_flags=flags("VRWADU"))
    guest.g_map_tables()
    tr = lambda va: translate(mem.read64, va, "r", guest.mode(hlvx=True)).cause  # noqa: E731
    assert tr(0x5000) is None
    assert tr(0x6000) == 13
    assert tr(0x7000) == 21
    assert translate(mem.read64, 0x6000, "r", guest.mode(mxr=True)).cause is None


def test_hlvx_as_vs_on_user_page_follows_sum(guest, mem):
    guest.map(0x5000, 0x8040_0000, flags("VXAU"))
    guest.g_map(0x8040_0000)
    guest.g_map_tables()
    assert translate(mem.read64, 0x5000, "r", guest.mode(hlvx=True)).cause == 13
    assert translate(mem.read64, 0x5000, "r", guest.mode(hlvx=True, sum=True)).cause is None
    assert translate(mem.read64, 0x5000, "r", guest.mode(hlvx=True, priv=0)).cause is None


def test_bad_modes_are_rejected(mem):
    with pytest.raises(ModeError, match="satp MODE 9"):
        translate(mem.read64, 0, "r", Mode(1, False, 9 << 60, 0, 0, False, False))
    with pytest.raises(ModeError, match="hlvx"):
        translate(mem.read64, 0, "w", Mode(1, True, 0, 0, 0, False, False, hlvx=True))
    with pytest.raises(ModeError, match="priv"):
        translate(mem.read64, 0, "r", Mode(3, True, 0, 0, 0, False, False))


# ---------------------------------------------------------------- effective mode

MPRV, MPV, SUM, MXR = 1 << 17, 1 << 39, 1 << 18, 1 << 19
SPVP, HU = 1 << 8, 1 << 9


def test_effective_mode_mprv():
    m = effective_mode(3, False, "load", mstatus=MPRV | (1 << 11) | MPV | SUM, vsstatus=0)
    assert (m.priv, m.v, m.sum) == (1, True, False)  # vsstatus.SUM when virtual
    m = effective_mode(3, False, "store", mstatus=MPRV | (3 << 11) | MPV)
    assert (m.priv, m.v) == (3, False)  # MPV ignored when MPP=M
    m = effective_mode(3, False, "fetch", mstatus=MPRV | MPV)
    assert (m.priv, m.v) == (3, False)  # MPRV never applies to fetches
    m = effective_mode(3, False, "load", mstatus=MPRV | SUM)
    assert (m.priv, m.v, m.sum) == (0, False, True)


def test_effective_mode_hlv():
    m = effective_mode(1, False, "hlv", mstatus=SUM | MXR, hstatus=SPVP, vsstatus=MXR)
    assert (m.priv, m.v, m.sum, m.mxr, m.vs_mxr, m.hlvx) == (1, True, False, True, True, False)
    m = effective_mode(0, False, "hlvx", mstatus=0, hstatus=HU, vsstatus=SUM)
    assert (m.priv, m.v, m.sum, m.hlvx) == (0, True, True, True)
    m = effective_mode(1, True, "load", mstatus=MXR | SUM, vsstatus=0)
    assert (m.priv, m.v, m.sum, m.mxr, m.vs_mxr) == (1, True, False, True, False)
    assert hlv_exception(1, True, HU) == VIRTUAL_INSTRUCTION
    assert hlv_exception(0, False, 0) == ILLEGAL_INSTRUCTION
    assert hlv_exception(0, False, HU) is None
    assert hlv_exception(3, False, 0) is None


# ---------------------------------------------------------------- agreement with sv39.py

ROOT_PPN = (RAM_BASE >> 12) + 1


@st.composite
def s_tables(draw):
    """A vaddr and PTEs along its walk, mostly plausible ones (see test_ptw.py)."""
    if draw(st.booleans()):
        low = draw(st.integers(0, (1 << 39) - 1))
        vaddr = low if low >> 38 == 0 else low | (2**64 - (1 << 39))
    else:
        vaddr = draw(st.integers(0, 2**64 - 1))
    words = {}
    table = ROOT_PPN
    for level in (2, 1, 0):
        kind = draw(st.sampled_from(["pointer", "pointer", "leaf", "leaf", "garbage", "outside"]))
        low_flags = draw(st.integers(0, 255))
        if kind == "pointer":
            pte = draw(st.integers(RAM_BASE >> 12, (RAM_BASE >> 12) + 64)) << 10 | 1 \
                | (low_flags & 0xD0 if draw(st.integers(0, 3)) == 0 else 0)
        elif kind == "leaf":
            ppn = draw(st.integers(0, (1 << 44) - 1))
            if draw(st.booleans()):
                ppn &= ~((1 << (9 * level)) - 1)
            pte = ppn << 10 | low_flags | 1 | (2 if not low_flags & 8 or low_flags & 4 else 0)
        elif kind == "outside":
            pte = (0x1234 << 10) | 1
        else:
            pte = draw(st.integers(0, 2**64 - 1))
        addr = (table << 12) + sv39.vpn(vaddr, level) * 8
        words.setdefault(addr, pte)
        table = sv39.pte_ppn(words[addr])
    return vaddr, words


@settings(max_examples=300, deadline=None)
@given(case=s_tables(), access=st.sampled_from("rwx"), priv=st.sampled_from([0, 1]),
       sum_=st.booleans(), mxr=st.booleans())
def test_s_stage_agrees_with_sv39_walker(case, access, priv, sum_, mxr):
    vaddr, words = case

    def read64(addr):
        return words.get(addr, 0) if RAM_BASE <= addr < RAM_BASE + (1 << 20) else None
    ref = sv39.walk(read64, ROOT_PPN, vaddr)
    t = translate(read64, vaddr, access, s_mode(ROOT_PPN, priv=priv, sum=sum_, mxr=mxr))
    assert t.accesses == ref.accesses
    if isinstance(ref, sv39.Fault):
        table = sv39.ACCESS_FAULT if ref.kind == "access" else sv39.PAGE_FAULT
        assert (t.paddr, t.cause, t.tval) == (None, table[access], vaddr)
    elif not sv39.allowed(ref.pte, access, priv, sum_, mxr):
        assert (t.paddr, t.cause, t.tval) == (None, sv39.PAGE_FAULT[access], vaddr)
    else:
        assert (t.paddr, t.cause, t.level) == (ref.paddr(vaddr), None, ref.level)


# ---------------------------------------------------------------- cross-check with Spike

SPIKE_RAM_END = RAM_BASE + 0x100_0000  # the default 16 MiB
SPIKE_GUEST_DELTA = 0x40_0000
CSR_NUMBERS = {"hstatus": 0x600, "hgatp": 0x680, "vsatp": 0x280, "vsstatus": 0x200,
               "mtval2": 0x34B, "mtinst": 0x34A}
#: kind -> the access instruction, its address in a1, store data in a2, result in a0.
ACCESS_ASM = {
    "load": "ld a0, 0(a1)", "store": "sd a2, 0(a1)",
    "hlv": ".insn r 0x73, 4, 0x36, a0, a1, x0",
    "hlvx": ".insn r 0x73, 4, 0x34, a0, a1, x3",
    "hsv": ".insn r 0x73, 4, 0x37, x0, a1, a2",
}
NO_TRAP = 2**64 - 1

SPIKE_PROGRAM = r"""
#include <stdint.h>
#include "cases.h"
volatile uint64_t tr_cause, tr_tval, tr_tval2, tr_tinst;
extern volatile uint64_t tohost;

__asm__(".section .text.init\n.globl _start\n_start:\n"
        " la sp, _stack_top\n la t0, trap\n csrw mtvec, t0\n call main\n1: j 1b\n"
        ".text\n.align 2\ntrap:\n"
        " csrr t0, mcause\n la t1, tr_cause\n sd t0, 0(t1)\n"
        " csrr t0, mtval\n la t1, tr_tval\n sd t0, 0(t1)\n"
        " csrr t0, 0x34B\n la t1, tr_tval2\n sd t0, 0(t1)\n"
        " csrr t0, 0x34A\n la t1, tr_tinst\n sd t0, 0(t1)\n"
        " csrr t0, mepc\n addi t0, t0, 4\n csrw mepc, t0\n"
        " li t0, 3 << 11\n csrs mstatus, t0\n li t0, 1 << 17\n csrc mstatus, t0\n mret\n");

#define ACCESS(insn) \
    __asm__ volatile(".option push\n.option norvc\n csrs mstatus, a3\n " insn \
                     "\n csrc mstatus, a3\n.option pop" \
                     : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3) : "t0", "t1", "memory")

static uint64_t access(uint64_t kind, uint64_t mstatus, uint64_t addr, uint64_t data) {
    register uint64_t a0 __asm__("a0") = 0, a1 __asm__("a1") = addr;
    register uint64_t a2 __asm__("a2") = data, a3 __asm__("a3") = mstatus;
    switch (kind) {
    ACCESS_CASES
    }
    return a0;
}

static void fail(uint64_t n) { tohost = (n << 1) | 1; for (;;) {} }

int main(void) {
    for (unsigned i = 0; i < sizeof pokes / sizeof pokes[0]; i++)
        *(volatile uint64_t *)pokes[i][0] = pokes[i][1];
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct tcase *c = &cases[i];
        __asm__ volatile("csrw 0x680, %0\n csrw 0x280, %1\n csrw 0x600, %2\n csrw 0x200, %3\n"
                         ".insn r 0x73, 0, 0x31, x0, x0, x0\n.insn r 0x73, 0, 0x11, x0, x0, x0\n"
                         "sfence.vma\n csrc mstatus, %4"
                         :: "r"(c->hgatp), "r"(c->vsatp), "r"(c->hstatus), "r"(c->vsstatus),
                            "r"(CLEAR_MSTATUS) : "memory");
        tr_cause = ~0ull; tr_tval = tr_tval2 = tr_tinst = 0;
        uint64_t data = 0x5a5a000000000000ull | i;
        uint64_t got = access(c->kind, c->mstatus, c->vaddr, data);
        if (tr_cause != c->cause) fail(i + 1);
        if (c->cause != ~0ull) {
            int implicit = tr_tinst == 0x3000 || tr_tinst == 0x3020;
            if (tr_tval != c->tval || tr_tval2 != c->tval2 || implicit != (int)c->implicit)
                fail(i + 1);
            continue;
        }
        volatile uint64_t *p = (volatile uint64_t *)(c->paddr & ~7ull);
        if (c->kind == 1 || c->kind == 4) {
            if (*p != data) fail(i + 1);
            *p = c->old;
        } else if (got != (c->kind == 3 ? (uint32_t)*p : *p)) {
            fail(i + 1);
        }
    }
    tohost = 1;
    for (;;) {}
}
"""


def _spike_world() -> tuple[Memory, Guest, list[int]]:
    """One set of tables with a mapping per rule; returns the vaddrs to try."""
    mem = Memory(SPIKE_RAM_END, SPIKE_GUEST_DELTA)
    g = Guest(mem)
    data = 0x8030_0000
    leaves = [  # (va, gpa, VS flags, G flags)
        (0x5000, data, LEAF, G_LEAF), (0x6000, data + 0x1000, flags("VXA"), G_LEAF),
        (0x7000, data + 0x2000, LEAF, flags("VXAU")),
        (0x8000, data + 0x3000, LEAF | flags("U"), G_LEAF),
        (0x9000, data + 0x4000, flags("VRA"), G_LEAF),
        (0xa000, data + 0x5000, LEAF, flags("VRWAU")),
        (0xb000, 1 << 42, LEAF, None), (0xc000, 0x9000_0000, LEAF, None),
        (0x40_0000, data + 0x6000, LEAF, G_LEAF), (0xd000, data + 0x7000, flags("VRWXD"), G_LEAF),
        (0xe000, data + 0x8000, LEAF | flags("U"), flags("VRXAU")),
        (0x60_0000, data + 0x9000, LEAF, G_LEAF),
    ]
    for va, gpa, vs_flags, g_flags in leaves:
        g.map(va, gpa, vs_flags)
        if g_flags is not None:
            g.g_map(gpa, pte_flags=g_flags)
    g.map(0x20_0000, 0x8040_0000, LEAF | flags("U"), level=1)
    g.g_map(0x8041_3000)
    g.g_map_tables()
    l0_table = sv39.pte_ppn(mem.words[g.map(0x40_0000, data + 0x6000)[1] + SPIKE_GUEST_DELTA])
    mem.poke_flags(g.g_ptes[l0_table][-1], clear=flags("V"))  # its VS table is unmapped in G
    l0_table = sv39.pte_ppn(mem.words[g.map(0x60_0000, data + 0x9000)[1] + SPIKE_GUEST_DELTA])
    mem.poke_flags(g.g_ptes[l0_table][-1], clear=flags("RWD"))  # G: its VS table execute-only
    vaddrs = [va + 0x18 for va, *_ in leaves] + [0x21_3010, 0x60_0000, 1 << 39,
                                                 0xffff_ffff_ffff_f000]
    gpas = [data + 0x18, data + 0x2010, data + 0x5008, 0x8041_3000, (1 << 41) + 8, 0x9000_0000]
    return mem, g, vaddrs + gpas


def _spike_modes() -> list[tuple[str, int, int, int, bool]]:
    """(kind, mstatus, hstatus, vsstatus, vsatp on) run from M-mode."""
    mprv_s, mprv_u = MPRV | MPV | (1 << 11), MPRV | MPV
    out = []
    for vs in (True, False):
        out += [("load", mprv_s, 0, 0, vs), ("store", mprv_s, 0, 0, vs), ("load", mprv_u, 0, 0, vs),
                ("load", mprv_s | SUM, 0, SUM, vs), ("store", mprv_s | SUM, 0, 0, vs),
                ("load", mprv_s, 0, MXR, vs), ("load", mprv_s | MXR, 0, 0, vs),
                ("hlv", 0, SPVP, 0, vs), ("hlv", 0, 0, 0, vs), ("hlvx", 0, SPVP, 0, vs),
                ("hlvx", MXR, SPVP, SUM, vs), ("hsv", 0, 0, 0, vs), ("hsv", 0, SPVP, SUM, vs)]
    return out


def _spike_cases(mem: Memory, g: Guest, vaddrs: list[int]) -> list[dict]:
    cases = []
    kinds = list(ACCESS_ASM)
    for kind, mstatus, hstatus, vsstatus, vs in _spike_modes():
        vsatp = SV39 | g.vs_root if vs else 0
        hgatp = SV39X4 | g.g_root
        mode = effective_mode(3, False, kind, mstatus=mstatus, hstatus=hstatus,
                              vsstatus=vsstatus, vsatp=vsatp, hgatp=hgatp)
        for va in vaddrs:
            t = translate(mem.read64, va, KIND_ACCESS[kind], mode)
            cases.append(dict(
                kind=kinds.index(kind), mstatus=mstatus, hstatus=hstatus, vsstatus=vsstatus,
                vsatp=vsatp, hgatp=hgatp, vaddr=va,
                cause=NO_TRAP if t.cause is None else t.cause, tval=t.tval or 0,
                tval2=(t.gpa or 0) >> 2, implicit=int(t.implicit), paddr=t.paddr or 0,
                old=0 if t.paddr is None else mem.words.get(t.paddr & ~7, 0)))
    return cases


def _cases_header(mem: Memory, cases: list[dict]) -> str:
    fields = list(cases[0])
    rows = ",\n".join("{" + ", ".join(f"{c[f]:#x}ull" for f in fields) + "}" for c in cases)
    pokes = ",\n".join(f"{{{a:#x}ull, {v:#x}ull}}" for a, v in sorted(mem.words.items()))
    return (f"struct tcase {{ uint64_t {', '.join(fields)}; }};\n"
            f"static const struct tcase cases[] = {{\n{rows}\n}};\n"
            f"static const uint64_t pokes[][2] = {{\n{pokes}\n}};\n"
            f"#define CLEAR_MSTATUS {MPRV | MPV | (3 << 11) | SUM | MXR:#x}ull\n"
            "#define ACCESS_CASES " + " ".join(
                f'case {i}: ACCESS("{asm}"); break;' for i, asm in enumerate(ACCESS_ASM.values()))
            + "\n")


def test_two_stage_cases_agree_with_spike(tmp_path):
    """MPRV/MPV and HLV/HLVX/HSV accesses from M-mode over one set of two-stage tables:
    Spike's trap (mcause, mtval, mtval2, implicit mtinst) or data equals the model's."""
    import dataclasses
    import shutil

    from hardware.config import SocConfig
    from tools.linker import write_linker_script
    from tools.spike import run_spike
    from tools.toolchain import build_elf, platform_defines
    if shutil.which("spike") is None:
        pytest.skip("spike is not installed")
    default = SocConfig()
    cfg = dataclasses.replace(default, core=dataclasses.replace(default.core, has_h=True))
    mem, g, vaddrs = _spike_world()
    for a in range(0x8030_0000, 0x8030_a000, 8):  # data: a distinct word per address
        mem.words.setdefault(a + SPIKE_GUEST_DELTA, a * 0x9E37_79B9 & (2**64 - 1))
    mem.words.setdefault(0x8041_3000 + SPIKE_GUEST_DELTA, 0x1234_5678_9abc_def0)
    assert all(RAM_BASE + 0x10_0000 <= a < SPIKE_RAM_END for a in mem.words)
    cases = _spike_cases(mem, g, vaddrs)
    assert {c["cause"] for c in cases} == {NO_TRAP, 13, 15, 21, 23}
    (tmp_path / "cases.h").write_text(_cases_header(mem, cases))
    src = tmp_path / "xcheck.c"
    src.write_text(SPIKE_PROGRAM)
    elf = build_elf([src], tmp_path / "xcheck.elf",
                    linker_script=write_linker_script(cfg, tmp_path / "link.ld"),
                    defines=platform_defines(cfg), include_dirs=[tmp_path], opt="-O1")
    result = run_spike(elf, cfg, timeout_s=60)
    code = result.exit_code
    assert code == 0, f"case {code}: {cases[code - 1] if code else None}\n{result.log[-2000:]}"
