"""Unit tests of the test finisher (hardware/soc/finisher.py)."""

import pytest

from hardware.config import SocConfig
from hardware.soc.finisher import OUTCOMES, build_finisher
from soc_bench import Benches, DeviceBench


@pytest.fixture(scope="module")
def bench():
    """``bench()``: the finisher, from reset."""
    return Benches(lambda: DeviceBench(lambda req: build_finisher(SocConfig(), req)))


def test_idle_and_reads_zero(bench):
    b = bench()
    out = b.step()
    assert (out["halt"], out["status"], out["code"]) == (0, 0, 0)
    assert b.read(0, 4) == 0 and b.lane(0) == 0


@pytest.mark.parametrize("value,status,code", [
    (0x5555, OUTCOMES["pass"][1], 0),
    (0x0042_3333, OUTCOMES["fail"][1], 0x42),
    (0xFFFF_3333, OUTCOMES["fail"][1], 0xFFFF),
    (0x7777, OUTCOMES["reset"][1], 0),
])
def test_outcomes_from_the_cycle_of_the_store(bench, value, status, code):
    b = bench()
    out = b.write(0, value, 4)
    assert (out["halt"], out["status"], out["code"]) == (1, status, code)
    out = b.idle(3)
    assert (out["halt"], out["status"], out["code"]) == (1, status, code)


def test_first_outcome_sticks(bench):
    b = bench()
    b.write(0, 0x0007_3333, 4)
    out = b.write(0, 0x5555, 4)
    assert (out["status"], out["code"]) == (OUTCOMES["fail"][1], 7)


@pytest.mark.parametrize("how", ["other value", "byte store", "load", "unselected", "other lane"])
def test_ignored_accesses(bench, how):
    b = bench()
    if how == "other value":
        b.write(0, 0x1234, 4)
    elif how == "byte store":
        b.write(0, 0x55, 1)
        b.write(1, 0x55, 1)
    elif how == "load":
        b.step(sel=1, re=1, mask=0xF, offset=0, wdata=0x5555)
    elif how == "unselected":
        b.step(sel=0, we=1, mask=0xF, offset=0, wdata=0x5555)
    else:
        b.step(sel=1, we=1, mask=0xF, offset=8, wdata=0x5555)
    assert b.step()["halt"] == 0


def test_upper_word_of_lane_is_not_the_register(bench):
    b = bench()
    assert b.write(4, 0x5555, 4)["halt"] == 0
