"""The MMU unit (hardware/mmu/mmu.py) translates like the reference written from the
spec (hardware/mmu/sv39.py: spec 4.3.2 steps 1-6 and the permission step with Svade),
on random page tables, modes (U/S, SUM, MXR), access kinds and superpages: the same
physical address or the same fault, one cycle per PTE read on a miss, no cycle on a
TLB hit, and the permission step re-checked at every hit with the current mode."""

from __future__ import annotations

import pyrtl
import pytest
from hypothesis import given, strategies as st

from hardware.config import CoreConfig
from hardware.mmu import sv39
from hardware.mmu.mmu import MmuContext, MmuFlush, MmuRequest, build_mmu
from hardware.sim import cache
from hardware.sim.backends import make_simulator
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
    mmu = build_mmu(CoreConfig(tlb_entries=4), ctx,
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
