"""The TLB (hardware/mmu/tlb.py) against a Python model: random sequences of fills,
lookups and SFENCE.VMA flushes of every form (spec 4.2.1) give the same hits and
translations."""

from __future__ import annotations

import pyrtl
import pytest
from hypothesis import example, given, strategies as st

from hardware.mmu.tlb import TlbFill, TlbFlush, build_tlb
from hardware.sim import cache
from hardware.sim.backends import make_simulator

ENTRIES = 4
G = 1 << 5


def _design() -> pyrtl.Block:
    pyrtl.reset_working_block()
    i = {n: pyrtl.Input(w, n) for n, w in (
        ("f_valid", 1), ("f_vpn", 27), ("f_asid", 16), ("f_ppn", 44), ("f_level", 2),
        ("f_flags", 8), ("x_valid", 1), ("x_by_addr", 1), ("x_vpn", 27), ("x_by_asid", 1),
        ("x_asid", 16), ("l_vpn", 27), ("l_asid", 16))}
    fill = TlbFill(i["f_valid"], i["f_vpn"], i["f_asid"], i["f_ppn"], i["f_level"], i["f_flags"])
    flush = TlbFlush(i["x_valid"], i["x_by_addr"], i["x_vpn"], i["x_by_asid"], i["x_asid"])
    (res,) = build_tlb(ENTRIES, [(i["l_vpn"], i["l_asid"])], fill, flush)
    for n in ("hit", "ppn", "flags"):
        o = pyrtl.Output(getattr(res, n).bitwidth, f"o_{n}")
        o <<= getattr(res, n)
    return pyrtl.working_block()


@pytest.fixture(scope="module")
def sim():
    s = make_simulator("compiled", cache.design_key("test_tlb", cache.source_hash("hardware/mmu")),
                       _design)
    yield s, s.snapshot()
    s.close()


class Model:
    """Round-robin replacement, lowest index wins a multiple match."""

    def __init__(self):
        self.e = [None] * ENTRIES
        self.victim = 0

    @staticmethod
    def covers(e, vpn):
        shift = 9 * e["level"]
        return e["vpn"] >> shift == vpn >> shift

    def fill(self, **e):
        self.e[self.victim] = e
        self.victim = (self.victim + 1) % ENTRIES

    def flush(self, by_addr, vpn, by_asid, asid):
        for k, e in enumerate(self.e):
            if e is None:
                continue
            if (not by_addr or self.covers(e, vpn)) and \
                    (not by_asid or (e["asid"] == asid and not e["flags"] & G)):
                self.e[k] = None

    def lookup(self, vpn, asid):
        for e in self.e:
            if e and self.covers(e, vpn) and (e["flags"] & G or e["asid"] == asid):
                mask = (1 << (9 * e["level"])) - 1
                return 1, (e["ppn"] & ~mask) | (vpn & mask), e["flags"]
        return 0, None, None


# Few distinct tags, so that fills, flushes and lookups meet often (and superpages of
# one entry cover the vpns of another).
vpns = st.sampled_from([0x1, 0x201, 0x40001, 0x7FFFFFF])
asids = st.sampled_from([0, 1])
ops = st.one_of(
    st.tuples(st.just("fill"), vpns, asids, st.integers(0, 2**44 - 1), st.integers(0, 2),
              st.integers(0, 255)),
    st.tuples(st.just("flush"), st.booleans(), vpns, st.booleans(), asids),
    st.tuples(st.just("lookup"), vpns, asids))


@example(seq=[("fill", 1, 0, 5, 0, 0x21), ("flush", False, 0, True, 0), ("lookup", 1, 0)])
@example(seq=[("fill", 0x201, 1, 7, 1, 0x01), ("flush", True, 0x201, False, 0), ("lookup", 0x201, 1)])
@given(seq=st.lists(ops, min_size=1, max_size=30))
def test_tlb_matches_model(sim, seq):
    s, reset = sim
    s.restore(reset)
    model = Model()
    idle = dict(f_valid=0, x_valid=0)
    for op in seq:
        for k, v in idle.items():
            s.set_input(k, v)
        if op[0] == "fill":
            _, vpn, asid, ppn, level, flags = op
            for k, v in dict(f_valid=1, f_vpn=vpn, f_asid=asid, f_ppn=ppn, f_level=level,
                             f_flags=flags).items():
                s.set_input(k, v)
            model.fill(vpn=vpn, asid=asid, ppn=ppn, level=level, flags=flags)
            s.run(1)
        elif op[0] == "flush":
            _, by_addr, vpn, by_asid, asid = op
            for k, v in dict(x_valid=1, x_by_addr=int(by_addr), x_vpn=vpn,
                             x_by_asid=int(by_asid), x_asid=asid).items():
                s.set_input(k, v)
            model.flush(by_addr, vpn, by_asid, asid)
            s.run(1)
        else:
            _, vpn, asid = op
            s.set_input("l_vpn", vpn)
            s.set_input("l_asid", asid)
            s.run(1)
            hit, ppn, flags = model.lookup(vpn, asid)
            assert s.output("o_hit") == hit
            if hit:
                assert (s.output("o_ppn"), s.output("o_flags")) == (ppn, flags)
