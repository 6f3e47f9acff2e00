"""The MMU unit (hardware/mmu/mmu.py) translates like the reference written from the
spec (hardware/mmu/sv39.py: spec 4.3.2 steps 1-6 and the permission step with Svade),
on random page tables, modes (U/S, SUM, MXR), access kinds and superpages: the same
physical address or the same fault, one cycle per PTE read on a miss, no cycle on a
TLB hit, and the permission step re-checked at every hit with the current mode.

The two-stage MMU of a configuration with the H extension likewise equals
hardware/mmu/reference.py (both stages, V=0/1, vsatp/hgatp Bare or not, SUM/MXR of
both levels, HLVX) on random memories of PTEs, and its TLB flushes select entries by
V and VMID (SFENCE.VMA, HFENCE.VVMA/GVMA)."""

from __future__ import annotations

import pyrtl
import pytest
from hypothesis import example, given, strategies as st

from hardware.config import CoreConfig
from pathlib import Path

import numpy as np

from hardware.mmu import reference as ref
from hardware.mmu import sv39
from hardware.mmu.mmu import MmuContext, MmuFlush, MmuRequest, build_mmu
from hardware.sim import cache
from hardware.sim.backends import make_simulator
from tests.unit import test_walker2 as w2
from tests.unit.test_ptw import RAM_BASE, RAM_BITS, ROOT_PPN, _build_memory, tables

INPUTS = (("satp", 64), ("priv_f", 2), ("priv_d", 2), ("sum", 1), ("mxr", 1),
          ("pc", 64), ("d_valid", 1), ("d_vaddr", 64), ("d_store", 1), ("flush", 1),
          ("done", 1))
RESULTS = ("ready", "paddr", "page_fault", "access_fault")
SATP_SV39 = 8 << 60


def _design() -> pyrtl.Block:
    pyrtl.reset_working_block()
    i = {n: pyrtl.Input(w, n) for n, w in INPUTS}
    ctx = MmuContext(satp=i["satp"], priv_fetch=i["priv_f"], priv_data=i["priv_d"],
                     sum=i["sum"], mxr=i["mxr"])
    zero = pyrtl.Const(0, 1)
    flush = MmuFlush(valid=i["flush"], by_addr=zero, vaddr=pyrtl.Const(0, 64), by_asid=zero,
                     asid=pyrtl.Const(0, 16))
    ram = pyrtl.MemBlock(64, RAM_BITS - 3, name="ram", asynchronous=True)
    pte_addr = pyrtl.WireVector(64)
    pte_ok = pte_addr[RAM_BITS:64] == (RAM_BASE >> RAM_BITS)
    mmu = build_mmu(CoreConfig(tlb_entries=4, has_h=False), ctx,
                    MmuRequest(pyrtl.Const(1, 1), i["pc"], zero),
                    MmuRequest(zero, (i["pc"] + 2)[0:64], zero),
                    MmuRequest(i["d_valid"], i["d_vaddr"], i["d_store"]), flush,
                    ram[pte_addr[3:RAM_BITS]], pte_ok, i["done"], pyrtl.Const(1, 1))
    pte_addr <<= mmu.pte.addr
    for side, res in (("f", mmu.fetch), ("d", mmu.data)):
        for n in RESULTS:
            o = pyrtl.Output(getattr(res, n).bitwidth, f"{side}_{n}")
            o <<= getattr(res, n)
    return pyrtl.working_block()


@pytest.fixture(scope="module")
def sim():
    s = make_simulator("compiled", cache.design_key("test_mmu", cache.source_hash("hardware/mmu")),
                       _design)
    yield s, s.snapshot()
    s.close()


def _expected(mem: dict, vaddr: int, access: str, priv: int, sum_: bool, mxr: bool):
    """(paddr, None) or (None, cause) by the reference, and the PTE reads it made."""
    def read64(addr):
        if not RAM_BASE <= addr < RAM_BASE + (1 << RAM_BITS):
            return None
        return mem.get(addr, 0)
    ref = sv39.walk(read64, ROOT_PPN, vaddr)
    if isinstance(ref, sv39.Fault):
        table = sv39.ACCESS_FAULT if ref.kind == "access" else sv39.PAGE_FAULT
        return None, table[access], ref.accesses
    if not sv39.allowed(ref.pte, access, priv, sum_, mxr):
        return None, sv39.PAGE_FAULT[access], ref.accesses
    return ref.paddr(vaddr), None, ref.accesses


def _access(s, side: str, limit: int = 12) -> tuple[int, dict]:
    """Run until the request is ready; return the cycles it stalled and the result."""
    for stalled in range(limit):
        s.run(1)
        if s.output(f"{side}_ready"):
            return stalled, {n: s.output(f"{side}_{n}") for n in RESULTS}
    raise AssertionError("the access never became ready")


def _check(out: dict, want_pa, want_cause, access: str) -> None:
    if want_cause is None:
        assert not out["page_fault"] and not out["access_fault"]
        assert out["paddr"] == want_pa
    elif want_cause == sv39.PAGE_FAULT[access]:
        assert out["page_fault"], "expected a page fault"
    else:
        assert out["access_fault"] and not out["page_fault"], "expected an access fault"


modes = st.tuples(st.sampled_from([0, 1]), st.booleans(), st.booleans())


@given(case=tables(), access=st.sampled_from("rwx"), mode=modes, mode2=modes,
       offset=st.integers(0, 4095))
def test_translation_matches_reference(sim, case, access, mode, mode2, offset):
    """Miss, walk, fill, then a hit with another mode: both equal the reference."""
    s, reset = sim
    vaddr, ptes = case
    vaddr = vaddr & ~0xFFF | offset & (0xFFE if access == "x" else 0xFFF)
    mem = _build_memory(vaddr, ptes)
    s.restore(reset)
    for addr, val in mem.items():
        s.write_mem("ram", addr - RAM_BASE, val.to_bytes(8, "little"))
    side = "f" if access == "x" else "d"
    s.set_input("satp", SATP_SV39 | ROOT_PPN)
    s.set_input("pc", vaddr if side == "f" else RAM_BASE)
    s.set_input("priv_f", 3 if side == "d" else mode[0])
    s.set_input("d_valid", int(side == "d"))
    s.set_input("d_vaddr", vaddr)
    s.set_input("d_store", int(access == "w"))
    for step, (priv, sum_, mxr) in enumerate((mode, mode2)):
        if side == "f":
            s.set_input("priv_f", priv)
        s.set_input("priv_d", priv)
        s.set_input("sum", int(sum_))
        s.set_input("mxr", int(mxr))
        want_pa, want_cause, reads = _expected(mem, vaddr, access, priv, sum_, mxr)
        stalled, out = _access(s, side)
        _check(out, want_pa, want_cause, access)
        first_ok = step == 0 and want_cause is None
        if step == 0 and sv39.canonical(vaddr):
            # a miss costs one cycle per PTE read and the retry finds the entry (or the
            # latched fault); a non-canonical address faults at once
            assert stalled == reads, (stalled, reads)
        if step == 1 and hit_expected:
            assert stalled == 0, "a filled entry must hit"
        hit_expected = first_ok
        s.pulse_input("done", 1)
        s.run(1)


def test_bare_and_machine_mode_do_not_translate(sim):
    """satp Bare, or M-mode with Sv39: the physical address is the virtual one."""
    s, reset = sim
    s.restore(reset)
    for satp, priv in ((0, 1), (SATP_SV39 | ROOT_PPN, 3)):
        s.set_input("satp", satp)
        s.set_input("priv_f", priv)
        s.set_input("priv_d", priv)
        s.set_input("pc", 0x1234_5678_9ABC)
        s.set_input("d_valid", 1)
        s.set_input("d_vaddr", 0xFFFF_0000_0000_0008)
        s.run(1)
        assert s.output("f_ready") and s.output("d_ready")
        assert s.output("f_paddr") == 0x1234_5678_9ABC
        assert s.output("d_paddr") == 0xFFFF_0000_0000_0008
        assert not (s.output("d_page_fault") | s.output("f_page_fault"))


# --- the two-stage MMU (CoreConfig(has_h=True)) ------------------------------------------

H_INPUTS = INPUTS + (("vsatp", 64), ("hgatp", 64), ("v_f", 1), ("v_d", 1), ("vs_sum", 1),
                     ("vs_mxr", 1), ("d_hlvx", 1), ("x_by_addr", 1), ("x_vaddr", 64),
                     ("x_by_asid", 1), ("x_asid", 16), ("x_v", 1), ("x_all_v", 1),
                     ("x_by_vmid", 1), ("x_vmid", 14), ("hi_valid", 1))
H_RESULTS = RESULTS + ("guest_fault", "gpa", "implicit")
BASE_PPN = w2.BASE_PPN
HGATP_SV39X4 = ref.HGATP_MODE_SV39X4 << 60


def _design_h() -> pyrtl.Block:
    pyrtl.reset_working_block()
    i = {n: pyrtl.Input(w, n) for n, w in H_INPUTS}
    ctx = MmuContext(satp=i["satp"], priv_fetch=i["priv_f"], priv_data=i["priv_d"],
                     sum=i["sum"], mxr=i["mxr"], v_fetch=i["v_f"], v_data=i["v_d"],
                     vsatp=i["vsatp"], hgatp=i["hgatp"], vs_sum=i["vs_sum"],
                     vs_mxr=i["vs_mxr"])
    flush = MmuFlush(valid=i["flush"], by_addr=i["x_by_addr"], vaddr=i["x_vaddr"],
                     by_asid=i["x_by_asid"], asid=i["x_asid"], v=i["x_v"],
                     all_v=i["x_all_v"], by_vmid=i["x_by_vmid"], vmid=i["x_vmid"])
    ram = pyrtl.MemBlock(64, w2.RAM_BITS - 3, name="ram", asynchronous=True)
    pte_addr = pyrtl.WireVector(64)
    pte_ok = pte_addr[w2.RAM_BITS:64] == (w2.RAM_BASE >> w2.RAM_BITS)
    zero = pyrtl.Const(0, 1)
    mmu = build_mmu(CoreConfig(tlb_entries=4, has_h=True), ctx,
                    MmuRequest(pyrtl.Const(1, 1), i["pc"], zero),
                    MmuRequest(i["hi_valid"], (i["pc"] + 2)[0:64], zero),
                    MmuRequest(i["d_valid"], i["d_vaddr"], i["d_store"], i["d_hlvx"]), flush,
                    ram[pte_addr[3:w2.RAM_BITS]], pte_ok, i["done"], pyrtl.Const(1, 1))
    pte_addr <<= mmu.pte.addr
    for side, res in (("f", mmu.fetch), ("h", mmu.fetch_hi), ("d", mmu.data)):
        for n in H_RESULTS:
            o = pyrtl.Output(getattr(res, n).bitwidth, f"{side}_{n}")
            o <<= getattr(res, n)
    return pyrtl.working_block()


@pytest.fixture(scope="module")
def sim_h():
    key = cache.design_key("test_mmu_h", cache.source_hash("hardware/mmu"),
                           cache.digest(Path(__file__).read_text()))
    s = make_simulator("compiled", key, _design_h)
    yield s, s.snapshot()
    s.close()


def _access_h(s, side: str, limit: int = 24) -> tuple[int, dict]:
    for stalled in range(limit):
        s.run(1)
        if s.output(f"{side}_ready"):
            return stalled, {n: s.output(f"{side}_{n}") for n in H_RESULTS}
    raise AssertionError("the access never became ready")


def _check_h(out: dict, want: ref.Translation) -> None:
    faults = (out["page_fault"], out["guest_fault"], out["access_fault"])
    if want.cause is None:
        assert faults == (0, 0, 0) and out["paddr"] == want.paddr, (out, want)
    elif want.cause in ref.GUEST_PAGE_FAULT.values():
        assert faults == (0, 1, 0), (out, want)
        assert (out["gpa"], bool(out["implicit"])) == (want.gpa, want.implicit), (out, want)
    elif want.cause in sv39.PAGE_FAULT.values():
        assert faults == (1, 0, 0), (out, want)
    else:
        assert faults == (0, 0, 1), (out, want)


h_modes = st.fixed_dictionaries(dict(priv=st.sampled_from([0, 1]), sum=st.booleans(),
                                     vs_sum=st.booleans(), mxr=st.booleans(),
                                     vs_mxr=st.booleans(), hlvx=st.booleans(),
                                     store=st.booleans()))


S_PAGES, G_ROOT_PAGE, G_L1, G_L0 = (1, 2, 3), 4, 8, 9  # RAM pages of the path tables


def _path_tables(case: dict) -> np.ndarray:
    """One translation path: the first stage maps ``vaddr`` with a leaf at
    ``s_level`` (to GPA 2 GiB for a superpage, else RAM page 16..47), the G stage maps
    RAM identically with leaves at ``g_level``; both leaves get the drawn flags (the G
    leaves also serve the VS-stage PTE addresses)."""
    words = np.zeros(1 << (w2.RAM_BITS - 3), dtype=np.uint64)

    def put(page, index, value):
        words[page * 512 + index] = value

    if case["g_on"]:
        g_leaf = case["g_flags"] | 1
        if case["g_level"] == 2:
            put(G_ROOT_PAGE, 2, BASE_PPN << 10 | g_leaf)
        else:
            put(G_ROOT_PAGE, 2, (BASE_PPN + G_L1) << 10 | 1)
            if case["g_level"] == 1:
                put(G_L1, 0, BASE_PPN << 10 | g_leaf)
            else:
                put(G_L1, 0, (BASE_PPN + G_L0) << 10 | 1)
                for i in range(w2.PAGES):
                    put(G_L0, i, (BASE_PPN + i) << 10 | g_leaf)
    if case["s_on"]:
        vaddr, level = case["vaddr"], case["s_level"]
        target = BASE_PPN if level else BASE_PPN + 16 + (vaddr >> 12 & 31)
        for depth, page in zip((2, 1, 0), S_PAGES):
            index = vaddr >> (12 + 9 * depth) & 0x1FF
            if depth == level:
                put(page, index, target << 10 | case["s_flags"] | 1)
                break
            put(page, index, (BASE_PPN + S_PAGES[3 - depth]) << 10 | 1)
    return words


#: Leaf flags: all (with or without U), all but one (R W X U A D) or two, or anything.
flag_bytes = st.one_of(
    st.tuples(st.sampled_from([0xDF, 0xCF]),
              st.sampled_from([0] * 6 + [0x02, 0x04, 0x04, 0x08, 0x08, 0x10, 0x40, 0x80, 0x80,
                                         0x06, 0x0A]))
    .map(lambda t: t[0] & ~t[1]), st.integers(0, 255))


@st.composite
def h_cases(draw):
    """A regime (V; satp/vsatp/hgatp on or Bare; ASID, VMID), an address, an access kind
    and the page tables: a memory of PTEs (test_walker2's soup, random roots) or one
    path built for the address (levels and leaf flags drawn)."""
    v = draw(st.booleans())
    if v:
        s_on, g_on = draw(st.sampled_from([(1, 1)] * 4 + [(0, 1), (0, 1), (1, 0), (0, 0)]))
    else:
        s_on, g_on = draw(st.sampled_from([1] * 7 + [0])), draw(st.sampled_from([0, 1]))
    path = draw(st.booleans())
    if s_on:
        low = draw(st.integers(0, (1 << 39) - 1))
        if path and draw(st.integers(0, 3)):
            low &= ~(((1 << 12) - 1) << 18)  # a superpage's GPA stays in RAM
        vaddr = low | (~((1 << 39) - 1) & (2**64 - 1) if low >> 38 else 0)
        vaddr = draw(st.sampled_from([vaddr] * 9 + [vaddr ^ 1 << draw(st.integers(39, 63))]))
    else:
        vaddr = w2.RAM_BASE + draw(st.integers(0, (1 << w2.RAM_BITS) - 1)) if path \
            else draw(st.integers(0, (1 << ref.GPA_BITS) - 1))
        vaddr = draw(st.sampled_from([vaddr] * 9 + [vaddr | 1 << draw(st.integers(41, 63))]))
    case = dict(v=v, s_on=s_on, g_on=g_on, vaddr=vaddr, path=path,
                seed=draw(st.integers(0, 2**32)), s_level=draw(st.integers(0, 2)),
                g_level=draw(st.integers(0, 2)), s_flags=draw(flag_bytes),
                g_flags=draw(flag_bytes), access=draw(st.sampled_from("rwx")),
                m_priv=not v and draw(st.sampled_from([False] * 9 + [True])),
                other=draw(st.integers(0, 2**30 - 1)))
    s_root = BASE_PPN + (S_PAGES[0] if path else draw(st.integers(0, w2.PAGES - 1)))
    g_root = BASE_PPN + (G_ROOT_PAGE if path else 4 * draw(st.integers(0, w2.PAGES // 4 - 1)))

    def atp(on):
        return (8 << 60) | draw(st.integers(0, 0xFFFF)) << 44 | s_root if on else 0
    case.update(satp=atp(not v and s_on), vsatp=atp(v and s_on),
                hgatp=(HGATP_SV39X4 if g_on else 0) | draw(st.integers(0, (1 << 14) - 1)) << 44
                | g_root)
    return case


def _h_mode(case: dict, mode: dict, access: str) -> ref.Mode:
    v = case["v"]
    priv = 3 if case["m_priv"] else mode["priv"]
    return ref.Mode(priv=priv, v=v, satp=case["satp"], vsatp=case["vsatp"],
                    hgatp=case["hgatp"], sum=mode["vs_sum"] if v else mode["sum"],
                    mxr=mode["mxr"], vs_mxr=v and mode["vs_mxr"],
                    hlvx=v and access == "r" and mode["hlvx"])


def _h_set(s, case: dict, mode: ref.Mode, side: str, access: str, vaddr: int) -> None:
    """Drive one request: ``side`` "f" (the fetch, data idle) or "d" (fetch from
    untranslated M-mode)."""
    fetch = side == "f"
    for name, value in (("satp", mode.satp), ("vsatp", mode.vsatp), ("hgatp", mode.hgatp),
                        ("pc", vaddr if fetch else RAM_BASE), ("priv_f", mode.priv if fetch else 3),
                        ("v_f", int(fetch and mode.v)), ("priv_d", mode.priv),
                        ("v_d", int(mode.v)), ("d_valid", int(not fetch)), ("d_vaddr", vaddr),
                        ("d_store", int(access == "w")), ("d_hlvx", int(mode.hlvx)),
                        ("sum", int(mode.sum if not mode.v else 0)),
                        ("vs_sum", int(mode.sum if mode.v else 0)), ("mxr", int(mode.mxr)),
                        ("vs_mxr", int(mode.vs_mxr))):
        s.set_input(name, value)


def _hcase(**kw) -> dict:
    """A path-table case (see ``h_cases``): guest S-mode, both stages on, 4 KiB pages."""
    case = dict(v=True, s_on=1, g_on=1, vaddr=0x1234_5678, path=True, seed=0, s_level=0,
                g_level=0, s_flags=0xCF, g_flags=0xDF, access="r", m_priv=False, other=0xABC,
                satp=0, vsatp=SATP_SV39 | 7 << 44 | BASE_PPN + S_PAGES[0],
                hgatp=HGATP_SV39X4 | 3 << 44 | BASE_PPN + G_ROOT_PAGE)
    case.update(kw)
    if not case["s_on"]:
        case["vsatp"] = 0
    return case


def _hmode(**kw) -> dict:
    mode = dict(priv=1, sum=False, vs_sum=False, mxr=False, vs_mxr=False, hlvx=False,
                store=False)
    mode.update(kw)
    return mode


# A load fills, then (a hit) a store on a G page without W: guest-page fault (15 reads).
@example(case=_hcase(g_flags=0xDB), mode=_hmode(), mode2=_hmode(store=True))
# ... the same with 2 MiB pages in both stages: the hit's GPA (htval) in another 4 KiB page.
@example(case=_hcase(g_flags=0xDB, s_level=1, g_level=1), mode=_hmode(),
         mode2=_hmode(store=True))
# ... a store on a VS page without W and a G page without W: the VS stage comes first.
@example(case=_hcase(s_flags=0xCB, g_flags=0xDB), mode=_hmode(), mode2=_hmode(store=True))
# vsatp Bare, an execute-only G page: MXR (mstatus) lets a load fill it; without it
# (vsstatus.MXR does not count for the G stage) the hit faults.
@example(case=_hcase(s_on=0, g_flags=0xD9, vaddr=w2.RAM_BASE + 0x3458),
         mode=_hmode(mxr=True), mode2=_hmode(vs_mxr=True))
# HLVX needs X in both stages: a hit on a G page without X faults.
@example(case=_hcase(g_flags=0xD7), mode=_hmode(), mode2=_hmode(hlvx=True))
# A VS gigapage over 4 KiB G pages (7 reads), a U page read by U then by S with SUM.
@example(case=_hcase(s_level=2, s_flags=0xDF, vaddr=0x4000_1234, other=0x3F_F000),
         mode=_hmode(priv=0), mode2=_hmode(vs_sum=True))
# HS: 2 MiB page, fetch; then a fetch from U mode faults at the hit.
@example(case=_hcase(v=False, access="x", s_level=1, satp=SATP_SV39 | BASE_PPN + S_PAGES[0],
                     vsatp=0), mode=_hmode(), mode2=_hmode(priv=0))
@given(case=h_cases(), mode=h_modes, mode2=h_modes)
def test_two_stage_matches_reference(sim_h, case, mode, mode2):
    """A miss walks for reference.accesses cycles and gives the reference's result;
    the next access (another mode, and for data maybe another kind) hits when the walk
    filled the TLB and is re-checked in both stages; an access elsewhere in the larger
    leaf of both stages hits if it lies in the smaller one (the entry's page size), else
    walks; every result equals the reference."""
    s, reset = sim_h
    words = _path_tables(case) if case["path"] else w2.soup(case["seed"], 0.95, 0.8)
    s.restore(reset)
    s.write_mem("ram", 0, words.tobytes())

    def read64(addr):
        if not w2.RAM_BASE <= addr < w2.RAM_BASE + (1 << w2.RAM_BITS):
            return None
        return int(words[(addr - w2.RAM_BASE) >> 3])

    access = case["access"]
    side = "f" if access == "x" else "d"
    align = ~1 if side == "f" else ~0
    access2 = access if side == "f" else "w" if mode2["store"] else "r"
    vaddr = case["vaddr"] & align
    filled = hit = False
    for step, (m, acc) in enumerate(((mode, access), (mode2, access2), (mode2, access2))):
        if step == 2:
            if not filled:
                break
            levels = [lv for lv in (first.level, first.g_level) if lv is not None]
            moved = vaddr ^ (vaddr ^ case["other"]) & ((1 << (12 + 9 * max(levels))) - 1) & align
            hit = (moved ^ vaddr) >> (12 + 9 * min(levels)) == 0
            vaddr = moved
        rmode = _h_mode(case, m, acc)
        want = ref.translate(read64, vaddr, acc, rmode)
        _h_set(s, case, rmode, side, acc, vaddr)
        stalled, out = _access_h(s, side)
        _check_h(out, want)
        assert stalled == (0 if hit else want.accesses), (step, stalled, want)
        if step == 0:
            first, filled = want, want.cause is None and want.accesses > 0
            hit = filled
        s.pulse_input("done", 1)
        s.run(1)


# Structured tables: G stage maps GPA 2 GiB..3 GiB to RAM (identity, one gigapage);
# the VS table (at GPA page 1) and the HS table (RAM page 2) map VA i GiB, i < 4, to
# 2 GiB with a gigapage. A guest miss is 3 reads, an HS miss 1.
G_ROOT, VS_ROOT, HS_ROOT = BASE_PPN + 4, BASE_PPN + 1, BASE_PPN + 2
GUEST_MISS, HS_MISS = 3, 1


def _flat_tables() -> np.ndarray:
    words = np.zeros(1 << (w2.RAM_BITS - 3), dtype=np.uint64)
    words[(G_ROOT - BASE_PPN) * 512 + 2] = BASE_PPN << 10 | 0xDF  # VRWXU AD
    for i in range(4):
        words[(VS_ROOT - BASE_PPN) * 512 + i] = BASE_PPN << 10 | 0xCF  # VRWX AD
        words[(HS_ROOT - BASE_PPN) * 512 + i] = BASE_PPN << 10 | 0xCF
    return words


@pytest.fixture
def flat(sim_h):
    s, reset = sim_h
    s.restore(reset)
    s.write_mem("ram", 0, _flat_tables().tobytes())
    for name, _ in H_INPUTS:
        s.set_input(name, 0)
    for name, value in (("pc", RAM_BASE), ("priv_f", 3),
                        ("satp", SATP_SV39 | 1 << 44 | HS_ROOT),
                        ("vsatp", SATP_SV39 | 1 << 44 | VS_ROOT),
                        ("hgatp", HGATP_SV39X4 | 1 << 44 | G_ROOT), ("priv_d", 1)):
        s.set_input(name, value)
    return s


def _load(s, vaddr: int, v: int, vmid: int = 1) -> int:
    """One S-mode load (HS when v=0); returns the cycles it stalled."""
    s.set_input("hgatp", HGATP_SV39X4 | vmid << 44 | G_ROOT)
    for name, value in (("d_valid", 1), ("d_vaddr", vaddr), ("v_d", v)):
        s.set_input(name, value)
    stalled, out = _access_h(s, "d")
    assert (out["page_fault"], out["guest_fault"], out["access_fault"]) == (0, 0, 0), out
    assert out["paddr"] == RAM_BASE | vaddr & ((1 << 30) - 1)
    s.set_input("d_valid", 0)
    s.pulse_input("done", 1)
    s.run(1)
    return stalled


def _flush(s, v=0, all_v=0, by_vmid=0, vmid=0, by_addr=0, vaddr=0, by_asid=0, asid=0):
    for name, value in (("x_v", v), ("x_all_v", all_v), ("x_by_vmid", by_vmid),
                        ("x_vmid", vmid), ("x_by_addr", by_addr), ("x_vaddr", vaddr),
                        ("x_by_asid", by_asid), ("x_asid", asid)):
        s.set_input(name, value)
    s.pulse_input("flush", 1)
    s.run(1)


VA = 0x4000_1230


def test_sfence_v0_keeps_guest_entries(flat):
    """SFENCE.VMA with V=0 drops HS entries only; a satp/vsatp/hgatp write (all_v)
    drops both."""
    s = flat
    assert (_load(s, VA, 1), _load(s, VA, 0)) == (GUEST_MISS, HS_MISS)
    assert (_load(s, VA, 1), _load(s, VA, 0)) == (0, 0)
    _flush(s, v=0)
    assert (_load(s, VA, 1), _load(s, VA, 0)) == (0, HS_MISS)
    _flush(s, v=1, by_vmid=1, vmid=1, by_asid=1, asid=1)  # SFENCE.VMA in VS mode, rs2=1
    assert (_load(s, VA, 1), _load(s, VA, 0)) == (GUEST_MISS, 0)
    _flush(s, all_v=1)
    assert (_load(s, VA, 1), _load(s, VA, 0)) == (GUEST_MISS, HS_MISS)


def test_vmid_change_misses(flat):
    """An entry of VMID 1 does not hit for VMID 2; HS entries ignore the VMID."""
    s = flat
    assert (_load(s, VA, 1, vmid=1), _load(s, VA, 0, vmid=1)) == (GUEST_MISS, HS_MISS)
    assert (_load(s, VA, 1, vmid=2), _load(s, VA, 0, vmid=2)) == (GUEST_MISS, 0)
    assert _load(s, VA, 1, vmid=1) == 0


def test_hfence_gvma_by_vmid(flat):
    """HFENCE.GVMA with rs2 = VMID 1 drops that VMID's guest entries only."""
    s = flat
    for vmid in (1, 2):
        assert _load(s, VA, 1, vmid=vmid) == GUEST_MISS
    assert _load(s, VA, 0) == HS_MISS
    _flush(s, v=1, by_vmid=1, vmid=1)
    assert (_load(s, VA, 1, vmid=2), _load(s, VA, 0), _load(s, VA, 1, vmid=1)) \
        == (0, 0, GUEST_MISS)


def test_hfence_vvma_by_address(flat):
    """HFENCE.VVMA by address drops the guest entry of that page of this VMID only."""
    s = flat
    for vaddr in (VA, VA + (1 << 30)):
        assert _load(s, vaddr, 1) == GUEST_MISS
    _flush(s, v=1, by_vmid=1, vmid=1, by_addr=1, vaddr=VA)
    assert (_load(s, VA + (1 << 30), 1), _load(s, VA, 1)) == (0, GUEST_MISS)


def test_vsatp_bare_entries_are_separate(flat):
    """An entry filled with vsatp Bare (vaddr = GPA, G stage only: 1 read) is not used
    once vsatp is Sv39, nor the other way round (the S-stage-Bare bit is in the tag)."""
    s = flat
    gpa = RAM_BASE | 0x1230
    s.set_input("vsatp", 0)
    assert (_load(s, gpa, 1), _load(s, gpa, 1)) == (1, 0)
    s.set_input("vsatp", SATP_SV39 | 1 << 44 | VS_ROOT)
    assert (_load(s, gpa, 1), _load(s, gpa, 1)) == (GUEST_MISS, 0)
    s.set_input("vsatp", 0)
    assert _load(s, gpa, 1) == 0


@pytest.mark.parametrize("gpa_page", [BASE_PPN, 0xC0000])
def test_guest_fetch_crossing_a_page(flat, gpa_page):
    """A 32-bit guest instruction at VA 1 GiB - 2: its second parcel (VA 1 GiB) maps to
    GPA ``gpa_page``: 2 GiB is mapped by the G stage (the parcel translates, also from
    its latch on the retry), 3 GiB is not (fetch guest-page fault with that GPA)."""
    s = flat
    s.write_mem("ram", ((VS_ROOT - BASE_PPN) * 512 + 1) * 8,
                (gpa_page << 10 | 0xCF).to_bytes(8, "little"))
    for name, value in (("pc", (1 << 30) - 2), ("priv_f", 1), ("v_f", 1), ("hi_valid", 1)):
        s.set_input(name, value)
    for _ in range(2):
        for _cycle in range(30):
            s.run(1)
            if s.output("f_ready") and s.output("h_ready"):
                break
        lo, hi = ({n: s.output(f"{p}_{n}") for n in H_RESULTS} for p in "fh")
        assert (lo["page_fault"], lo["guest_fault"], lo["paddr"]) == (0, 0, 0xBFFF_FFFE)
        if gpa_page == BASE_PPN:
            assert (hi["page_fault"], hi["guest_fault"], hi["paddr"]) == (0, 0, RAM_BASE)
        else:
            assert (hi["page_fault"], hi["guest_fault"], hi["implicit"]) == (0, 1, 0)
            assert hi["gpa"] == 0xC000_0000
        s.pulse_input("done", 1)
        s.run(1)
