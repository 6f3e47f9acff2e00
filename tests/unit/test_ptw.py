"""The hardware Sv39 walker (hardware/mmu/ptw.py) equals the reference walker written
from the spec (hardware/mmu/sv39.py) on random page tables: same leaf, same level,
same fault kind, one cycle per PTE access."""

from __future__ import annotations

import pyrtl
import pytest
from hypothesis import given, strategies as st

from hardware.mmu import sv39
from hardware.mmu.ptw import build_ptw
from hardware.sim import cache
from hardware.sim.backends import make_simulator

RAM_BASE = 0x8000_0000
RAM_BITS = 19  # 512 KiB
PAGES = (1 << RAM_BITS) >> 12
ROOT_PPN = (RAM_BASE >> 12) + 1


def _design() -> pyrtl.Block:
    pyrtl.reset_working_block()
    start, vaddr = pyrtl.Input(1, "start"), pyrtl.Input(64, "vaddr")
    root = pyrtl.Input(44, "root")
    ram = pyrtl.MemBlock(64, RAM_BITS - 3, name="ram", asynchronous=True)
    pte_addr = pyrtl.WireVector(64)
    in_ram = pte_addr[RAM_BITS:64] == (RAM_BASE >> RAM_BITS)
    pte = ram[pte_addr[3:RAM_BITS]]
    ports = build_ptw(start, vaddr, root, pte, in_ram)
    pte_addr <<= ports.pte_addr
    for name in ("busy", "done", "fault", "access_fault", "leaf", "level"):
        out = pyrtl.Output(getattr(ports, name).bitwidth, f"o_{name}")
        out <<= getattr(ports, name)
    return pyrtl.working_block()


@pytest.fixture(scope="module")
def sim():
    s = make_simulator("compiled", cache.design_key("test_ptw", cache.source_hash("hardware/mmu")),
                       _design)
    yield s, s.snapshot()
    s.close()


def _ppn_in_ram(page: int) -> int:
    return (RAM_BASE >> 12) + page


@st.composite
def tables(draw):
    """A vaddr and the PTEs along its walk (plus the kind of each)."""
    canonical = draw(st.booleans()) or draw(st.booleans())
    low = draw(st.integers(0, (1 << 39) - 1))
    vaddr = (low if low >> 38 == 0 else low | ~((1 << 39) - 1) & (2**64 - 1)) if canonical \
        else draw(st.integers(1 << 39, 2**63))
    ptes = []
    for level in (2, 1, 0):
        kind = draw(st.sampled_from(["pointer", "pointer", "leaf", "leaf", "garbage",
                                     "outside", "reserved"]))
        flags = draw(st.integers(0, 255))
        if kind == "pointer":
            pte = (_ppn_in_ram(draw(st.integers(2, PAGES - 1))) << 10) | 1 | (flags & 0xC0 if draw(st.booleans()) else 0)
        elif kind == "leaf":
            align = draw(st.booleans())
            ppn = draw(st.integers(0, (1 << 44) - 1))
            if align:
                ppn &= ~((1 << (9 * level)) - 1)
            pte = (ppn << 10) | (flags | 1) | (2 if flags & 4 else 0)
            if not flags & 0xA:
                pte |= 2
        elif kind == "outside":
            pte = (0x1234 << 10) | 1
        elif kind == "reserved":
            pte = (1 << 61) | (_ppn_in_ram(3) << 10) | 0xCF
        else:
            pte = draw(st.integers(0, 2**64 - 1))
        ptes.append(pte)
    return vaddr, ptes


def _build_memory(vaddr: int, ptes: list[int]) -> dict[int, int]:
    """Place each PTE where the walk will read it (following the pointers)."""
    mem: dict[int, int] = {}
    base = ROOT_PPN
    for level, pte in zip((2, 1, 0), ptes):
        addr = (base << 12) + sv39.vpn(vaddr, level) * 8
        if RAM_BASE <= addr < RAM_BASE + (1 << RAM_BITS):
            mem.setdefault(addr, pte)
        base = sv39.pte_ppn(mem.get(addr, pte))
    return mem


@given(case=tables())
def test_walker_matches_reference(sim, case):
    s, reset = sim
    vaddr, ptes = case
    mem = _build_memory(vaddr, ptes)
    s.restore(reset)
    for addr, val in mem.items():
        s.write_mem("ram", addr - RAM_BASE, val.to_bytes(8, "little"))

    def read64(addr):
        if not RAM_BASE <= addr < RAM_BASE + (1 << RAM_BITS):
            return None
        return mem.get(addr, 0)
    ref = sv39.walk(read64, ROOT_PPN, vaddr)

    s.set_input("vaddr", vaddr)
    s.set_input("root", ROOT_PPN)
    s.pulse_input("start", 1)
    cycles = 0
    while True:
        s.run(1)
        cycles += 1
        if s.output("o_done"):
            break
        assert cycles < 10, "walk did not end"
    if isinstance(ref, sv39.Leaf):
        assert not s.output("o_fault")
        assert (s.output("o_leaf"), s.output("o_level")) == (ref.pte, ref.level)
        assert cycles == ref.accesses
    else:
        assert s.output("o_fault")
        assert bool(s.output("o_access_fault")) == (ref.kind == "access")
        if sv39.canonical(vaddr):
            assert cycles == ref.accesses


def test_allowed_rules():
    """Spot checks of the permission step of the reference (spec 4.3.2 step 5)."""
    leaf = lambda *bits: sum(1 << sv39.PTE_BITS[b] for b in ("V", "A") + bits)  # noqa: E731
    assert sv39.allowed(leaf("R"), "r", 1, False, False)
    assert not sv39.allowed(leaf("R", "U"), "r", 1, False, False)  # S on a U page needs SUM
    assert sv39.allowed(leaf("R", "U"), "r", 1, True, False)
    assert not sv39.allowed(leaf("X", "U"), "x", 1, True, False)  # never execute U in S
    assert sv39.allowed(leaf("X"), "r", 1, False, True)  # MXR
    assert not sv39.allowed(leaf("R", "W"), "w", 1, False, False)  # D clear: Svade fault
    assert not sv39.allowed(leaf("R"), "r", 0, False, False)  # U needs U=1
