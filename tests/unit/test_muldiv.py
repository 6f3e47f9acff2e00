"""M extension (hardware/core/muldiv.py) against Python models written from the RISC-V
unprivileged spec chapter 7: MUL/MULH/MULHSU/MULHU/MULW, DIV/DIVU/REM/REMU and the W
forms, with the divide-by-zero and overflow results of table 7.1, and the divider's
cycle count."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from core_unit_bench import MASK64, UnitBench, s64, sext
from hardware.core.muldiv import build_div, build_mul

SETTINGS = settings(max_examples=200, deadline=None)

#: Cycles from the start cycle (the one the instruction first occupies, ``start`` = 1)
#: to the first cycle in which ``done`` is 1. The core commits in that cycle, so a
#: DIV/REM occupies DIV_LATENCY + 1 cycles: DIV_LATENCY extra cycles over one.
DIV_LATENCY = 65

EXTREMES = (0, 1, 2, 3, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
            (1 << 63) - 1, 1 << 63, MASK64, MASK64 - 1, 0xFFFF_FFFF_8000_0000,
            0xFFFF_FFFF_FFFF_FFFE)
u64 = st.one_of(st.integers(0, MASK64), st.sampled_from(EXTREMES),
                st.integers(0, 0xFFFF_FFFF), st.integers(-(1 << 31), -1).map(lambda v: v & MASK64))

MUL_OPS = {"mul": (0, 0), "mulh": (1, 0), "mulhsu": (2, 0), "mulhu": (3, 0), "mulw": (0, 1)}
DIV_OPS = {"div": (4, 0), "divu": (5, 0), "rem": (6, 0), "remu": (7, 0),
           "divw": (4, 1), "divuw": (5, 1), "remw": (6, 1), "remuw": (7, 1)}


def mul_ref(name: str, a: int, b: int) -> int:
    """Spec 7.1: products of signed/unsigned 64-bit operands."""
    sa, sb = s64(a), s64(b)
    prod = {"mul": sa * sb, "mulh": (sa * sb) >> 64, "mulhsu": (sa * b) >> 64,
            "mulhu": (a * b) >> 64, "mulw": sext(a * b, 32)}[name]
    return prod & MASK64


def _trunc_div(n: int, m: int) -> int:
    q = abs(n) // abs(m)
    return q if (n < 0) == (m < 0) else -q


def div_ref(name: str, a: int, b: int) -> int:
    """Spec 7.2 and table 7.1 (quotients round toward zero; x/0 = -1, x%0 = x; the
    most negative number / -1 = itself, remainder 0)."""
    word = name.endswith("w")
    bits = 32 if word else 64
    signed = "u" not in name
    if signed:
        n, m = s64(sext(a, bits)), s64(sext(b, bits))
    else:
        n, m = a & ((1 << bits) - 1), b & ((1 << bits) - 1)
    if m == 0:
        q, r = -1, n
    else:
        q = _trunc_div(n, m)
        r = n - q * m
    res = r if name.startswith("rem") else q
    return sext(res, 32) if word else res & MASK64


@pytest.fixture(scope="module")
def mul():
    return UnitBench({"funct3": 3, "a": 64, "b": 64, "word": 1},
                     lambda funct3, a, b, word: {"res": build_mul(funct3, a, b, word)})


class DivDriver:
    """Runs one division the way the core does: operands and funct3 held, ``start``
    for as long as the instruction waits, ``clear`` in its commit cycle."""

    def __init__(self):
        def build(funct3, a, b, word, start, clear):
            p = build_div(funct3, a, b, word, start, clear)
            return {"busy": p.busy, "done": p.done, "result": p.result}
        self.bench = UnitBench({"funct3": 3, "a": 64, "b": 64, "word": 1, "start": 1,
                                "clear": 1}, build)

    def run(self, name: str, a: int, b: int) -> tuple[int, int]:
        """(result, cycles from the start cycle to the first ``done`` cycle)."""
        funct3, word = DIV_OPS[name]
        out = self.bench(funct3=funct3, a=a, b=b, word=word, start=1, clear=0)
        cycles = 0
        while not out["done"]:
            cycles += 1
            assert cycles <= 200, "divider never finished"
            out = self.bench()
        self.bench(start=0, clear=1)  # the commit cycle of the core
        self.bench(clear=0)
        return out["result"], cycles


@pytest.fixture(scope="module")
def div():
    return DivDriver()


@SETTINGS
@given(st.sampled_from(sorted(MUL_OPS)), u64, u64)
def test_mul_matches_reference(mul, name, a, b):
    funct3, word = MUL_OPS[name]
    got = mul(funct3=funct3, a=a, b=b, word=word)["res"]
    want = mul_ref(name, a, b)
    assert got == want, f"{name} {a:#x} {b:#x}: {got:#x} != {want:#x}"


@pytest.mark.parametrize("name", sorted(MUL_OPS))
def test_mul_extremes(mul, name):
    funct3, word = MUL_OPS[name]
    for a, b in itertools.product(EXTREMES, repeat=2):
        assert mul(funct3=funct3, a=a, b=b, word=word)["res"] == mul_ref(name, a, b), \
            f"{name} {a:#x} {b:#x}"


def test_mulh_known_values(mul):
    assert mul(funct3=1, a=MASK64, b=MASK64, word=0)["res"] == 0  # (-1)(-1) = 1
    assert mul(funct3=3, a=MASK64, b=MASK64, word=0)["res"] == MASK64 - 1
    assert mul(funct3=2, a=MASK64, b=MASK64, word=0)["res"] == MASK64  # -1 * (2^64-1)
    assert mul(funct3=1, a=1 << 63, b=1 << 63, word=0)["res"] == 1 << 62


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(sorted(DIV_OPS)), u64, u64)
def test_div_matches_reference(div, name, a, b):
    got, _ = div.run(name, a, b)
    want = div_ref(name, a, b)
    assert got == want, f"{name} {a:#x} {b:#x}: {got:#x} != {want:#x}"


@pytest.mark.parametrize("name", sorted(DIV_OPS))
def test_divide_by_zero(div, name):
    for a in (0, 1, 0x8000_0000, 1 << 63, MASK64, 0x1234_5678_9ABC_DEF0):
        got, _ = div.run(name, a, 0)
        assert got == div_ref(name, a, 0), f"{name} {a:#x} / 0"
    quotient, _ = div.run(name, 7, 0)
    if name.startswith("div"):
        assert quotient == MASK64  # all ones, also for the W forms (sign-extended)


@pytest.mark.parametrize("name,a,q,r", [
    ("div", 1 << 63, 1 << 63, 0),
    ("divw", 0x8000_0000, 0xFFFF_FFFF_8000_0000, 0),
])
def test_signed_overflow(div, name, a, q, r):
    assert div.run(name, a, MASK64)[0] == q
    assert div.run("rem" + name[3:], a, MASK64)[0] == r
    assert div_ref(name, a, MASK64) == q


def test_w_forms_ignore_upper_bits(div):
    assert div.run("divw", 0xDEAD_BEEF_0000_0064, 0x1234_5678_FFFF_FFF6)[0] == MASK64 - 9
    assert div.run("divuw", 0xFFFF_FFFF_8000_0000, 0x0000_0001_0000_0002)[0] == 0x4000_0000
    assert div.run("remuw", 0xFFFF_FFFF_FFFF_FFFF, 0x10)[0] == 0xF


@pytest.mark.parametrize("name", sorted(DIV_OPS))
def test_divider_cycle_count(div, name):
    cycles = {div.run(name, a, b)[1] for a, b in ((100, 7), (0, 0), (1 << 63, MASK64),
                                                    (MASK64, 1))}
    assert cycles == {DIV_LATENCY}


def test_divider_busy_then_done_then_idle_after_clear(div):
    bench = div.bench
    out = bench(funct3=4, a=100, b=7, word=0, start=1, clear=0)
    assert (out["busy"], out["done"]) == (0, 0)
    seen = [bench() for _ in range(DIV_LATENCY)]
    assert all(s["busy"] == 1 and s["done"] == 0 for s in seen[:-1])
    assert (seen[-1]["busy"], seen[-1]["done"], seen[-1]["result"]) == (0, 1, 14)
    assert bench()["done"] == 1  # done holds until the core clears it
    bench(start=0, clear=1)
    out = bench(clear=0)
    assert (out["busy"], out["done"]) == (0, 0)


def test_clear_abandons_a_running_division(div):
    bench = div.bench
    bench(funct3=5, a=1000, b=3, word=0, start=1, clear=0)
    for _ in range(10):
        bench()
    bench(start=0, clear=1)  # a trap took the instruction away
    out = bench(clear=0)
    assert (out["busy"], out["done"]) == (0, 0)
    assert div.run("divu", 1000, 3) == (333, DIV_LATENCY)


def test_div_cycles_knob_is_the_measured_extra_cycles():
    from hardware.config import CoreConfig

    assert CoreConfig().div_cycles == DIV_LATENCY
