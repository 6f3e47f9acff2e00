"""Unit tests of the CLINT (hardware/soc/clint.py)."""

import pytest
from hypothesis import given, strategies as st

from hardware.config import SocConfig
from hardware.soc.clint import CLINT_REGS, build_clint
from hardware.soc.regmap import regmap_c_defines
from soc_bench import Benches, DeviceBench

MSIP, MTIMECMP, MTIME = 0x0, 0x4000, 0xBFF8


def make_bench(divider: int = 1) -> DeviceBench:
    cfg = SocConfig(timebase_divider=divider)
    return DeviceBench(lambda req: build_clint(cfg, req))


@pytest.fixture(scope="module")
def bench():
    """``bench(divider=1)``: a CLINT with that timebase divider, from reset."""
    return Benches(make_bench)


def test_reset_values_and_mtip_out_of_reset(bench):
    b = bench()
    out = b.step()
    assert out["mtime"] == 0 and out["msip"] == 0
    assert out["mtip"] == 1  # mtimecmp resets to 0, as in Spike
    assert b.read(MTIMECMP, 8) == 0
    assert b.read(MSIP, 4) == 0


def test_mtime_counts_every_cycle(bench):
    b = bench()
    first = b.step()["mtime"]
    assert [b.step()["mtime"] for _ in range(3)] == [first + 1, first + 2, first + 3]


@pytest.mark.parametrize("divider", [2, 3, 7])
def test_mtime_divider(bench, divider):
    b = bench(divider)
    seen = [b.step()["mtime"] for _ in range(divider * 4)]
    assert seen[-1] - seen[0] in (3, 4)
    assert all(seen.count(v) == divider for v in range(1, 3))


def test_msip_only_bit0(bench):
    b = bench()
    b.write(MSIP, 0xFFFF_FFFF)
    assert b.read(MSIP) == 1 and b.step()["msip"] == 1
    b.write(MSIP, 0xFFFF_FFFE)
    assert b.read(MSIP) == 0 and b.step()["msip"] == 0


def test_mtimecmp_write_halves_and_mtip(bench):
    b = bench()
    b.write(MTIMECMP, 0x1234_5678, 4)
    b.write(MTIMECMP + 4, 0x0000_0001, 4)
    assert b.read(MTIMECMP, 8) == 0x1_1234_5678
    assert b.step()["mtip"] == 0
    b.write(MTIME, 0x1_1234_5676, 8)
    assert b.step()["mtime"] == 0x1_1234_5676
    assert b.step()["mtip"] == 0
    out = b.step()
    assert out["mtime"] == 0x1_1234_5678 and out["mtip"] == 1


def test_mtime_write_wins_over_increment(bench):
    b = bench()
    b.write(MTIME, 100, 8)
    assert b.step()["mtime"] == 100
    b.write(MTIME + 4, 0xAB, 4)
    assert b.step()["mtime"] >> 32 == 0xAB


def test_unmapped_and_unselected_read_zero_and_ignore_writes(bench):
    b = bench()
    b.write(MTIMECMP, 77, 8)
    b.write(0x8, 0xFFFF, 4)
    assert b.read(0x8) == 0
    assert b.step(sel=0, re=1, mask=0xFF, offset=MTIMECMP)["rdata"] == 0
    b.step(sel=0, we=1, mask=0xFF, offset=MTIMECMP, wdata=5)
    assert b.read(MTIMECMP, 8) == 77


def test_store_without_we_does_nothing(bench):
    b = bench()
    b.step(sel=1, we=0, mask=0xF, offset=MSIP, wdata=1)
    assert b.step()["msip"] == 0


@given(cmp=st.integers(0, 40), start=st.integers(0, 40))
def test_mtip_matches_compare(bench, cmp, start):
    b = bench()
    b.write(MTIMECMP, cmp, 8)
    b.write(MTIME, start, 8)
    for _ in range(5):
        out = b.step()
        assert out["mtip"] == int(out["mtime"] >= cmp)


def test_c_defines():
    text = regmap_c_defines("CLINT", CLINT_REGS)
    assert "#define CLINT_MTIME 0xbff8u" in text
    assert "#define CLINT_MTIMECMP 0x4000u" in text
