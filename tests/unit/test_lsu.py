"""Load/store unit helpers (hardware/core/lsu.py) against Python models written from the
RISC-V unprivileged spec 2.6 / 5.3 (loads and stores, sign and zero extension), chapter
8 (AMO operations, .W on the low 32 bits with signed or unsigned min/max) and
privileged spec 3.6.3 (misaligned accesses trap, so only the flag matters then)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from core_unit_bench import MASK64, UnitBench, s64, sext
from hardware.core.lsu import amo_compute, build_lane, load_extract, store_lane
from hardware.isa.instructions import AMO_FUNCT5

SETTINGS = settings(max_examples=200, deadline=None)
EXTREMES = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
            (1 << 63) - 1, 1 << 63, MASK64, 0xFFFF_FFFF_8000_0000, 0x0000_0001_0000_0000,
            0x8000_0000_7FFF_FFFF, 0x7FFF_FFFF_8000_0000)
u64 = st.one_of(st.integers(0, MASK64), st.sampled_from(EXTREMES))
addrs = st.one_of(st.integers(0, MASK64), st.integers(0, 64), st.just(MASK64 - 7))
AMO_OPS = sorted(op for op in AMO_FUNCT5 if op.startswith("amo"))


def amo_ref(op: str, old: int, src: int, word: bool) -> int:
    """The value an AMO writes (spec 8.4); for .W only the low 32 bits are stored."""
    bits = 32 if word else 64
    mask = (1 << bits) - 1
    a, b = old & mask, src & mask
    sa, sb = s64(sext(a, bits)), s64(sext(b, bits))
    res = {
        "amoswap": b,
        "amoadd": a + b,
        "amoxor": a ^ b,
        "amoand": a & b,
        "amoor": a | b,
        "amomin": a if sa < sb else b,
        "amomax": a if sa > sb else b,
        "amominu": min(a, b),
        "amomaxu": max(a, b),
    }[op]
    return res & mask


@pytest.fixture(scope="module")
def lane():
    def build(addr, size):
        p = build_lane(addr, size)
        return {"misaligned": p.misaligned, "mask": p.mask, "last": p.last}
    return UnitBench({"addr": 64, "size": 2}, build)


@pytest.fixture(scope="module")
def load():
    return UnitBench({"lane": 64, "addr": 64, "size": 2, "unsigned": 1},
                     lambda lane, addr, size, unsigned:
                     {"value": load_extract(lane, addr, size, unsigned)})


@pytest.fixture(scope="module")
def store():
    return UnitBench({"data": 64, "addr": 64},
                     lambda data, addr: {"lane": store_lane(data, addr)})


@pytest.fixture(scope="module")
def amo():
    return UnitBench({"funct5": 5, "old": 64, "src": 64, "word": 1},
                     lambda funct5, old, src, word:
                     {"new": amo_compute(funct5, old, src, word)})


@SETTINGS
@given(addrs, st.integers(0, 3))
def test_lane_alignment_mask_and_last_byte(lane, addr, size):
    n = 1 << size
    out = lane(addr=addr, size=size)
    assert out["misaligned"] == int(addr % n != 0)
    assert out["last"] == (addr + n - 1) & MASK64
    if addr % n == 0:
        assert out["mask"] == ((1 << n) - 1) << (addr % 8)


def test_lane_every_offset_and_size(lane):
    for off, size in itertools.product(range(8), range(4)):
        n = 1 << size
        out = lane(addr=0x8000_0000 + off, size=size)
        assert out["misaligned"] == int(off % n != 0), (off, size)
        if off % n == 0:
            assert out["mask"] == ((1 << n) - 1) << off, (off, size)
            assert bin(out["mask"]).count("1") == n


LOADS = {"lb": (0, 0), "lh": (1, 0), "lw": (2, 0), "ld": (3, 0), "lbu": (0, 1),
         "lhu": (1, 1), "lwu": (2, 1)}


def load_ref(name: str, lane_value: int, addr: int) -> int:
    size, unsigned = LOADS[name]
    n = 1 << size
    v = lane_value >> (8 * (addr % 8)) & ((1 << (8 * n)) - 1)
    return v if unsigned else sext(v, 8 * n)


@SETTINGS
@given(st.sampled_from(sorted(LOADS)), u64, st.integers(0, 7), st.integers(0, MASK64 >> 3))
def test_load_extract(load, name, lane_value, off, base):
    size, unsigned = LOADS[name]
    addr = (base << 3 | off) & ~((1 << size) - 1)
    got = load(lane=lane_value, addr=addr, size=size, unsigned=unsigned)["value"]
    assert got == load_ref(name, lane_value, addr), f"{name} {lane_value:#x} @{addr:#x}"


@pytest.mark.parametrize("name", sorted(LOADS))
def test_load_sign_edges(load, name):
    size, unsigned = LOADS[name]
    for lane_value in EXTREMES + (0x8080_8080_8080_8080, 0x7F7F_7F7F_7F7F_7F7F):
        for off in range(0, 8, 1 << size):
            got = load(lane=lane_value, addr=off, size=size, unsigned=unsigned)["value"]
            assert got == load_ref(name, lane_value, off), (name, hex(lane_value), off)
    assert load(lane=0x80, addr=0, size=0, unsigned=0)["value"] == MASK64 - 0x7F
    assert load(lane=0x80, addr=0, size=0, unsigned=1)["value"] == 0x80


@SETTINGS
@given(u64, st.integers(0, 7), st.integers(0, 3))
def test_store_lane_places_bytes(store, data, off, size):
    n = 1 << size
    off &= ~(n - 1)
    got = store(data=data, addr=0x8000_0000 + off)["lane"]
    bytemask = ((1 << (8 * n)) - 1) << (8 * off)
    assert got & bytemask == (data << (8 * off)) & bytemask


@SETTINGS
@given(st.sampled_from(AMO_OPS), u64, u64, st.booleans())
def test_amo_compute(amo, op, old, src, word):
    got = amo(funct5=AMO_FUNCT5[op], old=old, src=src, word=int(word))["new"]
    mask = 0xFFFF_FFFF if word else MASK64
    assert got & mask == amo_ref(op, old, src, word), \
        f"{op}.{'w' if word else 'd'} old={old:#x} src={src:#x}: {got:#x}"


@pytest.mark.parametrize("op", AMO_OPS)
def test_amo_extremes(amo, op):
    for word in (False, True):
        mask = 0xFFFF_FFFF if word else MASK64
        for old, src in itertools.product(EXTREMES, repeat=2):
            got = amo(funct5=AMO_FUNCT5[op], old=old, src=src, word=int(word))["new"]
            assert got & mask == amo_ref(op, old, src, word), (op, word, hex(old), hex(src))


def test_amo_signed_and_unsigned_min_max_differ():
    neg, pos = 0xFFFF_FFFF_FFFF_FFFF, 1
    assert amo_ref("amomin", neg, pos, False) == neg
    assert amo_ref("amominu", neg, pos, False) == pos
    assert amo_ref("amomax", 0x8000_0000, 1, True) == 1
    assert amo_ref("amomaxu", 0x8000_0000, 1, True) == 0x8000_0000


def test_amo_word_ignores_upper_bits(amo):
    out = amo(funct5=AMO_FUNCT5["amomin"], old=0x0000_0001_FFFF_FFFF,
              src=0xFFFF_FFFF_0000_0001, word=1)["new"]
    assert out & 0xFFFF_FFFF == 0xFFFF_FFFF  # -1 < 1 in the low words
    out = amo(funct5=AMO_FUNCT5["amomaxu"], old=0xFFFF_FFFF_0000_0000,
              src=0x0000_0000_0000_0005, word=1)["new"]
    assert out & 0xFFFF_FFFF == 5
