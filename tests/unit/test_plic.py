"""Unit tests of the PLIC (hardware/soc/plic.py) against docs/plic.md, with a
cycle-level Python reference model of the PLIC Specification v1.0.0 as documented there."""

from dataclasses import dataclass, field

import pytest
from hypothesis import given, strategies as st

from hardware.config import SocConfig
from hardware.soc.plic import NUM_SOURCES, PLIC_REGS, build_plic
from hardware.soc.regmap import regmap_c_defines, regmap_markdown
from soc_bench import Benches, DeviceBench

PENDING = 0x1000
CONTEXTS = (0, 1)
ALL_SOURCES = (1 << NUM_SOURCES + 1) - 2
#: Sources the random-traffic test drives: both ends of the id range and UART0.
HOT = (1, 2, 10, 30, 31)


def prio(s): return 4 * s
def enable(ctx): return 0x2000 + 0x80 * ctx
def threshold(ctx): return 0x200000 + 0x1000 * ctx
def claim(ctx): return 0x200004 + 0x1000 * ctx


@pytest.fixture(scope="module")
def plic():
    """``plic()``: the PLIC of the default config, from reset."""
    return Benches(lambda: DeviceBench(lambda req, sources: build_plic(SocConfig(), req, sources),
                                       {"sources": 32}))


def reference_best(prios, enabled, thresh, pending) -> int:
    """PLIC spec sections 6-8: highest priority enabled pending source above the
    threshold, lowest id on ties, 0 if none."""
    best, best_p = 0, 0
    for s in range(1, NUM_SOURCES + 1):
        if pending >> s & 1 and enabled >> s & 1 and prios[s] > thresh and prios[s] > best_p:
            best, best_p = s, prios[s]
    return best


@dataclass
class PlicModel:
    """docs/plic.md cycle by cycle, restricted to 4-byte accesses and whole-lane loads.

    A pending bit follows its line one cycle later unless the source is in flight
    (claimed and not completed); outputs of a cycle depend on the state at its start.
    """

    prios: list = field(default_factory=lambda: [0] * (NUM_SOURCES + 1))
    enables: list = field(default_factory=lambda: [0, 0])
    thresholds: list = field(default_factory=lambda: [0, 0])
    pending: int = 0
    in_flight: int = 0

    def best(self, ctx: int) -> int:
        return reference_best(self.prios, self.enables[ctx], self.thresholds[ctx], self.pending)

    def _value(self, addr: int) -> int:
        regs = {PENDING: self.pending}
        regs.update({prio(s): self.prios[s] for s in range(1, NUM_SOURCES + 1)})
        for c in CONTEXTS:
            regs.update({enable(c): self.enables[c], threshold(c): self.thresholds[c],
                         claim(c): self.best(c)})
        return regs.get(addr, 0)

    def _store(self, addr: int, value: int) -> int:
        """Apply a 4-byte store except completion; returns the completed one-hot."""
        for s in range(1, NUM_SOURCES + 1):
            if addr == prio(s):
                self.prios[s] = value & 7
        for c in CONTEXTS:
            if addr == enable(c):
                self.enables[c] = value & ~1
            if addr == threshold(c):
                self.thresholds[c] = value & 7
            if addr == claim(c) and value < 32 and self.enables[c] >> value & 1:
                return 1 << value
        return 0

    def cycle(self, lines: int, op: tuple) -> dict[str, int]:
        """One cycle with ``op`` on the bus; returns meip, seip and the read value."""
        out = {"meip": int(self.best(0) != 0), "seip": int(self.best(1) != 0), "value": 0}
        claimed = completed = 0
        kind = op[0]
        if kind in ("read", "ld"):
            addr, commit = op[1], op[2]
            width = 8 if kind == "ld" else 4
            out["value"] = sum(self._value(addr + k) << 8 * k for k in range(0, width, 4))
            for c in CONTEXTS:
                if commit and addr <= claim(c) < addr + width and self.best(c):
                    claimed |= 1 << self.best(c)
        elif kind == "write":
            completed = self._store(op[1], op[2])
        busy = (self.in_flight & ~completed) | claimed
        self.pending = lines & ALL_SOURCES & ~busy
        self.in_flight = busy
        return out


def drive(b: DeviceBench, lines: int, op: tuple) -> dict[str, int]:
    """Put ``op`` on the bus of ``b`` for one cycle with the source lines at ``lines``."""
    kind = op[0]
    if kind == "write":
        out = b.write(op[1], op[2], 4, sources=lines)
        return {**out, "value": 0}
    if kind in ("read", "ld"):
        size = 8 if kind == "ld" else 4
        out = b.step(sel=1, re=int(op[2]), mask=(1 << size) - 1 << op[1] % 8, offset=op[1] & ~7,
                     sources=lines)
        return {**out, "value": out["rdata"] >> 8 * (op[1] % 8) & (1 << 8 * size) - 1}
    return {**b.step(sources=lines), "value": 0}


def test_reset_state(plic):
    b = plic()
    out = b.step()
    assert out["meip"] == 0 and out["seip"] == 0
    for addr in (prio(1), PENDING, enable(0), enable(1), threshold(0), claim(0), claim(1)):
        assert b.read(addr, commit=False) == 0


def test_registers_are_warl(plic):
    b = plic()
    b.write(prio(5), 0xFFFF_FFFF)
    assert b.read(prio(5)) == 7
    b.write(enable(0), 0xFFFF_FFFF)
    assert b.read(enable(0)) == 0xFFFF_FFFE  # source 0 does not exist
    b.write(threshold(1), 0xFFFF_FFFF)
    assert b.read(threshold(1)) == 7
    b.write(PENDING, 0xFFFF_FFFF)
    assert b.read(PENDING) == 0
    b.write(0x0, 5)
    assert b.read(0x0) == 0  # priority of source 0 is not a register


def test_lane_read_holds_both_registers(plic):
    b = plic()
    b.write(prio(2), 3)
    b.write(prio(3), 6)
    assert b.lane(0x8) == 6 << 32 | 3


def test_gateway_pending_claim_complete(plic):
    b = plic()
    b.write(prio(10), 1)
    b.write(enable(0), 1 << 10)
    out = b.step(sources=1 << 10)  # the line rises and stays high
    assert out["meip"] == 0
    out = b.step()  # pending is visible the next cycle
    assert out["meip"] == 1 and out["seip"] == 0
    assert b.read(PENDING, commit=False) == 1 << 10
    assert b.read(claim(0)) == 10
    out = b.step()
    assert out["meip"] == 0 and b.read(PENDING, commit=False) == 0
    b.idle(3)  # line still high, but in flight: no new pending
    assert b.read(PENDING, commit=False) == 0 and b.read(claim(0)) == 0
    assert b.write(claim(0), 10)["meip"] == 0  # complete
    assert b.step()["meip"] == 1  # line still high: pending again the next cycle
    assert b.read(claim(0)) == 10
    b.step(sources=0)  # the line drops while in flight
    b.write(claim(0), 10)
    assert b.idle(3)["meip"] == 0 and b.read(PENDING, commit=False) == 0


def test_line_drop_before_claim_withdraws_request(plic):
    b = plic()
    b.write(prio(10), 3)
    b.write(enable(0), 1 << 10)
    b.write(enable(1), 1 << 10)
    b.step(sources=1 << 10)
    out = b.step(sources=0)  # pending now; the line drops in this cycle
    assert (out["meip"], out["seip"]) == (1, 1)
    out = b.step()
    assert (out["meip"], out["seip"]) == (0, 0)
    assert b.read(PENDING, commit=False) == 0
    assert b.read(claim(0)) == 0 and b.read(claim(1)) == 0
    b.step(sources=1 << 10)  # a new request
    assert b.step()["meip"] == 1 and b.read(claim(1)) == 10


def test_in_flight_source_ignores_its_line_until_completed(plic):
    b = plic()
    b.write(prio(31), 7)
    b.write(enable(1), 1 << 31)
    b.step(sources=1 << 31)
    b.step()
    assert b.read(claim(1)) == 31
    b.step(sources=0)
    b.idle(2, sources=1 << 31)  # the line pulses low and back high while in flight
    assert b.step()["seip"] == 0 and b.read(PENDING, commit=False) == 0
    b.write(claim(1), 31)
    assert b.step()["seip"] == 1


def test_claim_side_effect_needs_re_and_full_mask(plic):
    b = plic()
    b.write(prio(4), 2)
    b.write(enable(1), 1 << 4)
    b.step(sources=1 << 4)  # held high from here on
    b.step()
    assert b.read(claim(1), commit=False) == 4  # peek: no claim
    assert b.read(claim(1), size=2) == 4  # partial read: no claim
    b.step(sel=0, re=1, mask=0xF0, offset=claim(1) & ~7)  # not selected
    assert b.step()["seip"] == 1
    assert b.lane(claim(1) & ~7) >> 32 == 4  # ld of threshold and claim claims
    assert b.step()["seip"] == 0
    b.write(claim(1), 4)
    assert b.step()["seip"] == 1
    assert b.read(claim(1)) == 4
    assert b.step()["seip"] == 0


def test_completion_of_disabled_source_is_ignored(plic):
    b = plic()
    b.write(prio(7), 1)
    b.write(enable(0), 1 << 7)
    b.step(sources=1 << 7)  # held high
    b.step()
    assert b.read(claim(0)) == 7
    b.write(claim(1), 7)  # context 1 does not enable source 7
    assert b.idle(2)["meip"] == 0  # still in flight
    b.write(claim(0), 7 | 1 << 8)  # not an id
    assert b.idle(2)["meip"] == 0
    b.write(claim(0), 7)
    assert b.step()["meip"] == 1


def test_priority_threshold_and_ties(plic):
    b = plic()
    for s, p in ((3, 5), (9, 5), (12, 6), (20, 2)):
        b.write(prio(s), p)
    b.write(enable(0), (1 << 3) | (1 << 9) | (1 << 12) | (1 << 20))
    b.step(sources=(1 << 3) | (1 << 9) | (1 << 12) | (1 << 20))  # held high
    b.write(threshold(0), 6)
    assert b.step()["meip"] == 0 and b.read(claim(0)) == 0
    b.write(threshold(0), 4)
    assert [b.read(claim(0)) for _ in range(3)] == [12, 3, 9]
    assert b.read(claim(0)) == 0  # source 20 is masked by the threshold
    b.write(threshold(0), 0)
    assert b.read(claim(0)) == 20


def test_priority_zero_never_interrupts(plic):
    b = plic()
    b.write(enable(0), 1 << 1)
    b.step(sources=1 << 1)
    assert b.idle(2)["meip"] == 0
    assert b.read(PENDING, commit=False) == 1 << 1  # pending all the same


def test_pending_does_not_depend_on_enables(plic):
    b = plic()
    b.step(sources=0xFFFF_FFFF)
    out = b.step()
    assert b.read(PENDING, commit=False) == ALL_SOURCES  # bit 0 is not a source
    assert (out["meip"], out["seip"]) == (0, 0)


@given(prios=st.lists(st.integers(0, 7), min_size=NUM_SOURCES, max_size=NUM_SOURCES),
       enables=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
       thresholds=st.tuples(st.integers(0, 7), st.integers(0, 7)),
       lines=st.integers(0, 2**32 - 1), ctx=st.sampled_from(CONTEXTS))
def test_claim_sequence_matches_reference(plic, prios, enables, thresholds, lines, ctx):
    b = plic()
    p = [0] + prios
    for s in range(1, NUM_SOURCES + 1):
        b.write(prio(s), p[s])
    for c in CONTEXTS:
        b.write(enable(c), enables[c])
        b.write(threshold(c), thresholds[c])
    b.step(sources=lines)  # held high until the claims are done
    pending = lines & ALL_SOURCES
    en = [e & ~1 for e in enables]
    assert b.read(PENDING, commit=False) == pending
    claimed = 0
    for _ in range(NUM_SOURCES + 1):
        want = reference_best(p, en[ctx], thresholds[ctx], pending)
        out = b.step()
        assert out["meip"] == int(reference_best(p, en[0], thresholds[0], pending) != 0)
        assert out["seip"] == int(reference_best(p, en[1], thresholds[1], pending) != 0)
        assert b.read(claim(ctx)) == want
        if want == 0:
            break
        pending &= ~(1 << want)
        claimed |= 1 << want
    assert b.read(PENDING, commit=False) == pending
    b.step(sources=0)  # unclaimed requests are withdrawn
    out = b.step()
    assert (out["meip"], out["seip"]) == (0, 0) and b.read(PENDING, commit=False) == 0
    b.step(sources=lines)
    assert b.read(PENDING, commit=False) == lines & ALL_SOURCES & ~claimed  # claimed: in flight


LINES = st.sets(st.sampled_from((0,) + HOT)).map(lambda ids: sum(1 << s for s in ids))
#: Per cycle, the lines change by XOR with one of these (mostly they hold).
TOGGLE = st.sampled_from((0, 0, 0, 0) + tuple(1 << s for s in (0,) + HOT) + (ALL_SOURCES,))
SETUP = st.tuples(st.lists(st.integers(1, 7), min_size=len(HOT), max_size=len(HOT)),
                  st.tuples(LINES, LINES), st.tuples(st.integers(0, 3), st.integers(0, 3)),
                  LINES)
ANY_ADDR = st.sampled_from([prio(s) for s in (0,) + HOT] + [PENDING, PENDING + 4]
                           + [f(c) for c in CONTEXTS for f in (enable, threshold, claim)])
CTX_CLAIM = st.sampled_from([claim(c) for c in CONTEXTS])
CLAIM = st.tuples(st.just("read"), CTX_CLAIM, st.just(True))
COMPLETE = st.tuples(st.just("write"), CTX_CLAIM, st.sampled_from(HOT + HOT + (0, 32)))
OPS = st.one_of(
    st.just(("idle",)),
    st.tuples(st.just("read"), ANY_ADDR, st.booleans()),
    st.tuples(st.just("ld"), st.sampled_from([threshold(c) for c in CONTEXTS]), st.booleans()),
    st.tuples(st.just("write"), ANY_ADDR, st.integers(0, 2**32 - 1)),
    CLAIM, CLAIM, COMPLETE, COMPLETE, COMPLETE,
)


@given(setup=SETUP, traffic=st.lists(st.tuples(TOGGLE, OPS), min_size=20, max_size=80))
def test_random_traffic_matches_model(plic, setup, traffic):
    """Every cycle of random bus traffic and line changes: meip, seip, read data and
    the pending and in-flight registers agree with ``PlicModel``."""
    b, model = plic(), PlicModel()
    prios, enables, thresholds, lines = setup
    config = [("write", prio(s), p) for s, p in zip(HOT, prios)]
    config += [("write", f(c), v[c]) for c in CONTEXTS
               for f, v in ((enable, enables), (threshold, thresholds))]
    for n, (toggle, op) in enumerate([(0, op) for op in config] + traffic):
        lines ^= toggle
        want = model.cycle(lines, op)
        got = drive(b, lines, op)
        assert {k: got[k] for k in want} == want, f"cycle {n}: {op}"
        assert b.sim.get_register("plic_pending_reg") == model.pending, f"after cycle {n}"
        assert b.sim.get_register("plic_in_flight_reg") == model.in_flight, f"after cycle {n}"


def test_generated_docs_and_defines():
    text = regmap_markdown(PLIC_REGS)
    assert "`0x0 + 0x4*i` (i = 1..31)" in text
    defines = regmap_c_defines("PLIC", PLIC_REGS)
    assert "#define PLIC_CLAIM(i) (0x200004u + 0x1000u * (i))" in defines
    assert "#define PLIC_PRIORITY(i) (0x0u + 0x4u * (i))" in defines
