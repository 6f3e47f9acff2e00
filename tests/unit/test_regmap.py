"""Tests of the register-map helpers (hardware/soc/regmap.py) on a toy device."""

import dataclasses

import pyrtl
import pytest

from hardware.soc import regmap
from hardware.soc.regmap import Field, Reg, RegmapError
from soc_bench import Benches, DeviceBench

TOY = (
    Reg("a", 0x0, 8, reset=0x11),
    Reg("b", 0x2, 16, reset=0x2222),
    Reg("c", 0x4, 3, slot=4, reset=5),
    Reg("arr", 0x10, 32, count=3, stride=8, first_index=1),
    Reg("w", 0x40, 32, access="wo"),
    Reg("k", 0x48, 8, when="mode", fields=(Field("X", 3), Field("Y", 4, 2))),
)


@dataclasses.dataclass
class ToyPorts:
    rdata: pyrtl.WireVector
    strobe_c: pyrtl.WireVector
    w_value: pyrtl.WireVector


def build_toy(req, mode):
    a, b, c = (regmap.storage(req, TOY[i], "toy")[0] for i in range(3))
    arr = regmap.storage(req, TOY[3], "toy")
    (k,) = regmap.storage(req, TOY[5], "toy", {"mode": mode})
    w = pyrtl.Register(32, name="toy_w_reg")
    w.next <<= pyrtl.select(regmap.write_enable(req, TOY[4]), regmap.written_value(req, TOY[4], w), w)
    rdata = regmap.read_mux(req, TOY, {"a": a, "b": b, "c": c, "arr": arr, "k": k},
                            conds={"mode": mode})
    return ToyPorts(rdata, regmap.read_strobe(req, TOY[2]), w)


@pytest.fixture(scope="module")
def bench():
    """``bench()``: the toy device, from reset."""
    return Benches(lambda: DeviceBench(build_toy, {"mode": 1}))


def test_reset_and_lane_layout(bench):
    b = bench()
    assert b.lane(0x0, commit=False) == 5 << 32 | 0x2222 << 16 | 0x11
    assert b.lane(0x40, commit=False) == 0  # write-only reads 0


def test_byte_writes_merge_and_truncate(bench):
    b = bench()
    b.write(0x3, 0xAB, 1)
    assert b.read(0x2, 2) == 0xAB22
    b.write(0x4, 0xFF, 4)
    assert b.read(0x4, 4) == 7
    b.write(0x18, 0xDEADBEEF, 4)
    assert [b.read(0x10 + 8 * i, 4) for i in range(3)] == [0, 0xDEADBEEF, 0]
    b.write(0x40, 0x1234, 4)
    assert b.step()["w_value"] == 0x1234


def test_condition_hides_register(bench):
    b = bench()
    b.write(0x48, 0x77, 1, mode=0)
    assert b.read(0x48, 1, mode=1) == 0
    assert b.read(0x48, 1, mode=0, commit=False) == 0
    b.write(0x48, 0x77, 1, mode=1)
    assert b.read(0x48, 1, mode=1) == 0x77


def test_read_strobe_needs_every_byte(bench):
    b = bench()
    assert b.step(sel=1, re=1, mask=0x10, offset=0)["strobe_c"] == 0
    assert b.step(sel=1, re=0, mask=0xF0, offset=0)["strobe_c"] == 0
    assert b.step(sel=1, re=1, mask=0xF0, offset=0)["strobe_c"] == 1
    assert b.step(sel=1, re=1, mask=0xFF, offset=0)["strobe_c"] == 1


@pytest.mark.parametrize("kwargs,msg", [
    (dict(offset=0x2, width=32), "misaligned"),
    (dict(offset=0x0, width=8, access="rx"), "access"),
    (dict(offset=0x0, width=8, reset=0x100), "reset"),
    (dict(offset=0x0, width=65), "width"),
])
def test_bad_registers(kwargs, msg):
    with pytest.raises(RegmapError, match=msg):
        Reg("bad", **kwargs)


def test_check_map_finds_overlap():
    regmap.check_map(TOY)
    with pytest.raises(RegmapError, match="overlaps"):
        regmap.check_map(TOY + (Reg("clash", 0x2, 8),))


def test_generated_text():
    md = regmap.regmap_markdown(TOY)
    assert "| `0x8 + 0x8*i` (i = 1..3) | arr |" in md
    assert "(when mode)" in md and "Y [5:4]" in md
    c = regmap.regmap_c_defines("toy", TOY)
    assert "#define TOY_ARR(i) (0x8u + 0x8u * (i))" in c
    assert "#define TOY_ARR_COUNT 3u" in c
    assert "#define TOY_K_X (1u << 3)" in c and "#define TOY_K_Y_SHIFT 4u" in c
