"""The two-stage walker (hardware/mmu/walker2.py) against the reference written from
the spec (hardware/mmu/reference.py): on random memories of page-table entries
("soups": pointers, leaves with random permissions, aligned and misaligned superpages,
garbage), random S/VS-stage and G-stage roots, modes, SUM/MXR/HLVX and access kinds,
the walk ends with the reference's physical address or its fault (kind, guest-physical
address, implicit or not), after exactly one cycle per PTE read."""

from __future__ import annotations

import numpy as np
import pyrtl
import pytest
from hypothesis import given, strategies as st

from hardware.mmu import reference as ref
from hardware.mmu.walker2 import WalkMode, WalkRequest, build_walker
from hardware.sim import cache
from hardware.sim.backends import make_simulator

RAM_BASE = 0x8000_0000
RAM_BITS = 18  # 256 KiB: 64 pages of PTEs
PAGES = 1 << (RAM_BITS - 12)
BASE_PPN = RAM_BASE >> 12
INPUTS = (("start", 1), ("vaddr", 64), ("s_on", 1), ("s_root", 44), ("g_on", 1),
          ("g_root", 44), ("priv", 2), ("sum", 1), ("mxr_s", 1), ("mxr_g", 1), ("store", 1),
          ("fetch", 1), ("hlvx", 1))
OUTPUTS = ("done", "page_fault", "guest_fault", "access_fault", "gpa", "implicit", "ppn",
           "level")


def _design() -> pyrtl.Block:
    pyrtl.reset_working_block()
    i = {n: pyrtl.Input(w, n) for n, w in INPUTS}
    ram = pyrtl.MemBlock(64, RAM_BITS - 3, name="ram", asynchronous=True)
    addr = pyrtl.WireVector(64)
    ok = addr[RAM_BITS:64] == (RAM_BASE >> RAM_BITS)
    req = WalkRequest(i["start"], i["vaddr"], i["s_on"], i["s_root"], i["g_on"], i["g_root"])
    mode = WalkMode(i["priv"], i["sum"], i["mxr_s"], i["mxr_g"], i["store"], i["fetch"],
                    i["hlvx"])
    res = build_walker(req, mode, ram[addr[3:RAM_BITS]], ok, pyrtl.Const(0, 1))
    addr <<= res.pte_addr
    for n in OUTPUTS:
        o = pyrtl.Output(getattr(res, n).bitwidth, f"o_{n}")
        o <<= getattr(res, n)
    return pyrtl.working_block()


@pytest.fixture(scope="module")
def sim():
    s = make_simulator("compiled", cache.design_key("test_walker2",
                                                    cache.source_hash("hardware/mmu")), _design)
    yield s, s.snapshot()
    s.close()


def soup(seed: int, flag_p: float = 0.9, u_p: float = 0.9) -> np.ndarray:
    """One word per PTE slot: mostly pointers into RAM and leaves whose flags are set
    with probability ``flag_p`` each (U: ``u_p``) so walks often succeed, some garbage."""
    rng = np.random.default_rng(seed)
    n = 1 << (RAM_BITS - 3)
    kind = rng.integers(0, 20, n)
    ppn_ram = BASE_PPN + rng.integers(0, PAGES, n).astype(np.uint64)
    ppn_ram = np.where(rng.random(n) < 0.03, ppn_ram - np.uint64(BASE_PPN), ppn_ram)
    flags = np.zeros(n, dtype=np.uint64)
    for bit in (1, 2, 3, 4, 6, 7):  # R W X U A D
        flags |= (rng.random(n) < (u_p if bit == 4 else flag_p)).astype(np.uint64) \
            << np.uint64(bit)
    leaf_ppn = np.where(rng.random(n) < 0.5, ppn_ram, ppn_ram & ~np.uint64(0x1FF))
    pointer = (ppn_ram << np.uint64(10)) | np.uint64(1)
    pointer |= np.where(rng.random(n) < 0.05, np.uint64(1 << 6), np.uint64(0))
    leaf = (leaf_ppn << np.uint64(10)) | flags | np.uint64(1)
    garbage = rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2)
    return np.where(kind < 12, pointer, np.where(kind < 19, leaf, garbage))


@st.composite
def walks(draw):
    s_on, g_on = draw(st.sampled_from([(1, 0), (1, 1), (0, 1), (1, 1)]))
    if s_on:
        low = draw(st.integers(0, (1 << 39) - 1))
        vaddr = low | (~((1 << 39) - 1) & (2**64 - 1) if low >> 38 else 0)
    else:
        vaddr = draw(st.integers(0, 3)) << 39 | draw(st.integers(0, (1 << 39) - 1))
        vaddr = draw(st.sampled_from([vaddr, vaddr, vaddr | 1 << draw(st.integers(41, 63))]))
    access = draw(st.sampled_from("rwx"))
    return dict(seed=draw(st.integers(0, 2**32)), s_on=s_on, g_on=g_on, vaddr=vaddr,
                s_root=BASE_PPN + draw(st.integers(0, PAGES - 1)),
                g_root=BASE_PPN + 4 * draw(st.integers(0, PAGES // 4 - 1)),
                access=access, priv=draw(st.sampled_from([0, 1])), sum=draw(st.booleans()),
                mxr=draw(st.booleans()), vs_mxr=draw(st.booleans()),
                hlvx=access == "r" and draw(st.booleans()))


def _reference(words: np.ndarray, w: dict) -> ref.Translation:
    def read64(addr):
        if not RAM_BASE <= addr < RAM_BASE + (1 << RAM_BITS):
            return None
        return int(words[(addr - RAM_BASE) >> 3])
    sv39 = lambda on, root: (8 << 60 | root) if on else 0  # noqa: E731
    v = bool(w["g_on"])
    mode = ref.Mode(priv=w["priv"], v=v, satp=0 if v else sv39(1, w["s_root"]),
                    vsatp=sv39(w["s_on"], w["s_root"]), hgatp=sv39(w["g_on"], w["g_root"]),
                    sum=w["sum"], mxr=w["mxr"], vs_mxr=w["vs_mxr"] and v, hlvx=w["hlvx"])
    return ref.translate(read64, w["vaddr"], w["access"], mode)


@given(w=walks())
def test_walker_matches_reference(sim, w):
    s, reset = sim
    words = soup(w["seed"])
    s.restore(reset)
    s.write_mem("ram", 0, words.tobytes())
    want = _reference(words, w)
    v = bool(w["g_on"])
    for name, value in (("vaddr", w["vaddr"]), ("s_on", w["s_on"]), ("s_root", w["s_root"]),
                        ("g_on", w["g_on"]), ("g_root", w["g_root"]), ("priv", w["priv"]),
                        ("sum", int(w["sum"])), ("mxr_g", int(w["mxr"])),
                        ("mxr_s", int(w["mxr"] or (v and w["vs_mxr"]))),
                        ("store", int(w["access"] == "w")), ("fetch", int(w["access"] == "x")),
                        ("hlvx", int(w["hlvx"]))):
        s.set_input(name, value)
    s.pulse_input("start", 1)
    for cycles in range(1, 20):
        s.run(1)
        if s.output("o_done"):
            break
    else:
        raise AssertionError("the walk did not end")
    out = {n: s.output(f"o_{n}") for n in OUTPUTS}
    assert cycles == max(1, want.accesses), (cycles, want)
    if want.cause is None:
        assert not (out["page_fault"] | out["guest_fault"] | out["access_fault"]), (out, want)
        assert out["ppn"] << 12 | w["vaddr"] & 0xFFF == want.paddr, (hex(out["ppn"]), want)
        levels = [lv for lv in (want.level, want.g_level) if lv is not None]
        assert out["level"] == min(levels)
    elif want.cause in ref.GUEST_PAGE_FAULT.values():
        assert out["guest_fault"] and not out["access_fault"], (out, want)
        assert (out["gpa"], bool(out["implicit"])) == (want.gpa, want.implicit), (out, want)
    elif want.cause in ref.PAGE_FAULT.values():
        assert out["page_fault"] and not out["access_fault"], (out, want)
    else:
        assert out["access_fault"], (out, want)


def test_two_stage_gigapage_over_4k_g_pages(sim):
    """A VS gigapage over 4 KiB G-stage pages: 7 reads (G walk of the VS root PTE's
    address, the VS PTE, G walk of the final GPA); the TLB level is the smaller (0);
    the physical address goes through both stages (G maps GPA page i to RAM page i+16)."""
    s, reset = sim
    words = np.zeros(1 << (RAM_BITS - 3), dtype=np.uint64)
    pte = lambda ppn, fl: (ppn << 10) | fl  # noqa: E731
    g_root, g_l1, g_l0 = 4, 8, 9  # RAM page numbers (the root spans pages 4..7)
    words[g_root * 512 + 2] = pte(BASE_PPN + g_l1, 0x1)  # GPA bits 40:30 = 2
    words[g_l1 * 512 + 0] = pte(BASE_PPN + g_l0, 0x1)
    for i in range(32):
        words[g_l0 * 512 + i] = pte(BASE_PPN + 16 + i, 0xDF)  # VRWXU AD
    words[16 * 512 + 1] = pte(BASE_PPN, 0xCF)  # VS root (GPA page 0): VA 1 GiB -> GPA 2 GiB
    s.restore(reset)
    s.write_mem("ram", 0, words.tobytes())
    for name, value in (("vaddr", 0x4000_5123), ("s_on", 1), ("s_root", BASE_PPN), ("g_on", 1),
                        ("g_root", BASE_PPN + g_root), ("priv", 1), ("sum", 0), ("mxr_s", 0),
                        ("mxr_g", 0), ("store", 1), ("fetch", 0), ("hlvx", 0)):
        s.set_input(name, value)
    s.pulse_input("start", 1)
    for cycles in range(1, 20):
        s.run(1)
        if s.output("o_done"):
            break
    assert cycles == 7
    assert not (s.output("o_page_fault") | s.output("o_guest_fault") | s.output("o_access_fault"))
    assert s.output("o_ppn") == BASE_PPN + 16 + 5
    assert s.output("o_level") == 0
