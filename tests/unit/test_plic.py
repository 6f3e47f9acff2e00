"""Unit tests of the PLIC (hardware/soc/plic.py), with a Python reference model."""

from hypothesis import given, settings, strategies as st

from hardware.config import SocConfig
from hardware.soc.plic import NUM_SOURCES, PLIC_REGS, build_plic
from hardware.soc.regmap import regmap_c_defines, regmap_markdown
from soc_bench import DeviceBench

PENDING = 0x1000


def prio(s): return 4 * s
def enable(ctx): return 0x2000 + 0x80 * ctx
def threshold(ctx): return 0x200000 + 0x1000 * ctx
def claim(ctx): return 0x200004 + 0x1000 * ctx


def bench() -> DeviceBench:
    return DeviceBench(lambda req, sources: build_plic(SocConfig(), req, sources), {"sources": 32})


def reference_best(prios, enabled, thresh, pending) -> int:
    """PLIC spec sections 6-8: highest priority enabled pending source above the
    threshold, lowest id on ties, 0 if none."""
    best, best_p = 0, 0
    for s in range(1, NUM_SOURCES + 1):
        if pending >> s & 1 and enabled >> s & 1 and prios[s] > thresh and prios[s] > best_p:
            best, best_p = s, prios[s]
    return best


def test_reset_state():
    b = bench()
    out = b.step()
    assert out["meip"] == 0 and out["seip"] == 0
    for addr in (prio(1), PENDING, enable(0), enable(1), threshold(0), claim(0), claim(1)):
        assert b.read(addr, commit=False) == 0


def test_registers_are_warl():
    b = bench()
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


def test_lane_read_holds_both_registers():
    b = bench()
    b.write(prio(2), 3)
    b.write(prio(3), 6)
    assert b.lane(0x8) == 6 << 32 | 3


def test_gateway_pending_claim_complete():
    b = bench()
    b.write(prio(10), 1)
    b.write(enable(0), 1 << 10)
    out = b.step(sources=1 << 10)  # the line rises
    assert out["meip"] == 0
    out = b.step()  # pending is visible the next cycle
    assert out["meip"] == 1 and out["seip"] == 0
    assert b.read(PENDING, commit=False) == 1 << 10
    assert b.read(claim(0)) == 10
    out = b.step()
    assert out["meip"] == 0 and b.read(PENDING, commit=False) == 0
    b.idle(3)  # line still high, but in flight: no new pending
    assert b.read(PENDING, commit=False) == 0 and b.read(claim(0)) == 0
    b.write(claim(0), 10)  # complete
    b.step()
    assert b.step()["meip"] == 1  # level still high: pending again
    b.step(sources=0)
    assert b.read(claim(0)) == 10
    b.write(claim(0), 10)
    assert b.idle(3)["meip"] == 0


def test_claim_side_effect_needs_re_and_full_mask():
    b = bench()
    b.write(prio(4), 2)
    b.write(enable(1), 1 << 4)
    b.step(sources=1 << 4)
    b.step(sources=0)
    assert b.read(claim(1), commit=False) == 4  # peek: no claim
    assert b.read(claim(1), size=2) == 4  # partial read: no claim
    b.step(sel=0, re=1, mask=0xF0, offset=claim(1) & ~7)  # not selected
    assert b.step()["seip"] == 1
    assert b.read(claim(1)) == 4
    assert b.step()["seip"] == 0


def test_completion_of_disabled_source_is_ignored():
    b = bench()
    b.write(prio(7), 1)
    b.write(enable(0), 1 << 7)
    b.step(sources=1 << 7)
    b.step(sources=0)
    assert b.read(claim(0)) == 7
    b.write(claim(1), 7)  # context 1 does not enable source 7
    b.step(sources=1 << 7)
    assert b.step()["meip"] == 0  # still in flight
    b.write(claim(0), 7)
    b.step()
    assert b.step()["meip"] == 1


def test_priority_threshold_and_ties():
    b = bench()
    for s, p in ((3, 5), (9, 5), (12, 6), (20, 2)):
        b.write(prio(s), p)
    b.write(enable(0), (1 << 3) | (1 << 9) | (1 << 12) | (1 << 20))
    b.step(sources=(1 << 3) | (1 << 9) | (1 << 12) | (1 << 20))
    b.step(sources=0)
    b.write(threshold(0), 6)
    assert b.step()["meip"] == 0 and b.read(claim(0)) == 0
    b.write(threshold(0), 4)
    assert [b.read(claim(0)) for _ in range(3)] == [12, 3, 9]
    assert b.read(claim(0)) == 0  # source 20 is masked by the threshold
    b.write(threshold(0), 0)
    assert b.read(claim(0)) == 20


def test_priority_zero_never_interrupts():
    b = bench()
    b.write(enable(0), 1 << 1)
    b.step(sources=1 << 1)
    assert b.idle(2, sources=0)["meip"] == 0
    assert b.read(PENDING, commit=False) == 1 << 1


@settings(max_examples=30, deadline=None)
@given(prios=st.lists(st.integers(0, 7), min_size=NUM_SOURCES, max_size=NUM_SOURCES),
       enables=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
       thresholds=st.tuples(st.integers(0, 7), st.integers(0, 7)),
       lines=st.integers(0, 2**32 - 1), ctx=st.integers(0, 1))
def test_claim_sequence_matches_reference(prios, enables, thresholds, lines, ctx):
    b = bench()
    p = [0] + prios
    for s in range(1, NUM_SOURCES + 1):
        b.write(prio(s), p[s])
    for c in (0, 1):
        b.write(enable(c), enables[c])
        b.write(threshold(c), thresholds[c])
    b.step(sources=lines)
    b.step(sources=0)
    pending = lines & ~1
    en = [e & ~1 for e in enables]
    assert b.read(PENDING, commit=False) == pending
    for _ in range(NUM_SOURCES + 1):
        want = reference_best(p, en[ctx], thresholds[ctx], pending)
        out = b.step()
        assert out["meip"] == int(reference_best(p, en[0], thresholds[0], pending) != 0)
        assert out["seip"] == int(reference_best(p, en[1], thresholds[1], pending) != 0)
        assert b.read(claim(ctx)) == want
        if want == 0:
            break
        pending &= ~(1 << want)


def test_generated_docs_and_defines():
    text = regmap_markdown(PLIC_REGS)
    assert "`0x0 + 0x4*i` (i = 1..31)" in text
    defines = regmap_c_defines("PLIC", PLIC_REGS)
    assert "#define PLIC_CLAIM(i) (0x200004u + 0x1000u * (i))" in defines
    assert "#define PLIC_PRIORITY(i) (0x0u + 0x4u * (i))" in defines
