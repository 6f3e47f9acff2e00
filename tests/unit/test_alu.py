"""ALU and branch comparator (hardware/core/alu.py) against Python models written from
the RISC-V unprivileged spec 2.4 (integer computational), 2.5 (branches), 5.2 and 5.3
(RV64I and its W forms)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from core_unit_bench import MASK64, UnitBench, s64, sext
from hardware.core import decode as d
from hardware.core.alu import build_alu, build_branch

SETTINGS = settings(max_examples=200, deadline=None)

EXTREMES = (0, 1, 2, 31, 32, 63, 64, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
            (1 << 63) - 1, 1 << 63, (1 << 63) + 1, MASK64, MASK64 - 1, 0xFFFF_FFFF_8000_0000,
            0x0000_0000_7FFF_FFFF, 0x5555_5555_5555_5555, 0xAAAA_AAAA_AAAA_AAAA)
u64 = st.one_of(st.integers(0, MASK64), st.sampled_from(EXTREMES))


def _shamt(b: int, word: bool) -> int:
    return b & (31 if word else 63)


def _sra(v: int, n: int) -> int:
    return (s64(v) >> n) & MASK64


def alu_ref(op: int, a: int, b: int, word: bool) -> int:
    """The 64-bit result of the operation (spec 2.4 / 5.2 / 5.3)."""
    if word:
        a32, n = a & 0xFFFF_FFFF, _shamt(b, True)
        res = {
            d.ALU_ADD: a + b,
            d.ALU_SUB: a - b,
            d.ALU_SLL: a32 << n,
            d.ALU_SRL: a32 >> n,
            d.ALU_SRA: _sra(sext(a, 32), n),
        }[op]
        return sext(res, 32)
    n = _shamt(b, False)
    return {
        d.ALU_ADD: a + b,
        d.ALU_SUB: a - b,
        d.ALU_SLL: a << n,
        d.ALU_SLT: int(s64(a) < s64(b)),
        d.ALU_SLTU: int(a < b),
        d.ALU_XOR: a ^ b,
        d.ALU_SRL: a >> n,
        d.ALU_SRA: _sra(a, n),
        d.ALU_OR: a | b,
        d.ALU_AND: a & b,
    }[op] & MASK64


#: (op, word) pairs the decoder produces (no W form of slt/sltu/xor/or/and).
OPS = [(op, False) for op in range(10)] + [
    (op, True) for op in (d.ALU_ADD, d.ALU_SUB, d.ALU_SLL, d.ALU_SRL, d.ALU_SRA)]
SHIFTS = [(op, w) for op, w in OPS if op in (d.ALU_SLL, d.ALU_SRL, d.ALU_SRA)]

#: branch funct3 -> predicate on (a, b) (spec 2.5).
BRANCHES = {
    0b000: lambda a, b: a == b,
    0b001: lambda a, b: a != b,
    0b100: lambda a, b: s64(a) < s64(b),
    0b101: lambda a, b: s64(a) >= s64(b),
    0b110: lambda a, b: a < b,
    0b111: lambda a, b: a >= b,
}


@pytest.fixture(scope="module")
def alu():
    return UnitBench({"op": 4, "a": 64, "b": 64, "word": 1},
                     lambda op, a, b, word: {"res": build_alu(op, a, b, word)})


@pytest.fixture(scope="module")
def branch():
    return UnitBench({"funct3": 3, "a": 64, "b": 64},
                     lambda funct3, a, b: {"taken": build_branch(funct3, a, b)})


def _check(alu, op, word, a, b):
    got = alu(op=op, a=a, b=b, word=int(word))["res"]
    want = alu_ref(op, a, b, word)
    assert got == want, f"op {op} word {word} a={a:#x} b={b:#x}: {got:#x} != {want:#x}"


@SETTINGS
@given(st.sampled_from(OPS), u64, u64)
def test_alu_matches_reference(alu, opw, a, b):
    _check(alu, opw[0], opw[1], a, b)


@pytest.mark.parametrize("op,word", SHIFTS)
def test_shift_amount_edges(alu, op, word):
    for a, n in itertools.product(EXTREMES, (0, 1, 31, 32, 33, 63)):
        for high in (0, 0xFFFF_FFFF_FFFF_FFC0):  # bits above the shift amount are ignored
            _check(alu, op, word, a, n | high)


def test_word_shift_by_32_uses_low_five_bits(alu):
    assert alu(op=d.ALU_SLL, a=1, b=32, word=1)["res"] == 1
    assert alu(op=d.ALU_SRA, a=0x8000_0000, b=31, word=1)["res"] == MASK64
    assert alu(op=d.ALU_SRL, a=0x8000_0000, b=31, word=1)["res"] == 1
    assert alu(op=d.ALU_SRL, a=0xFFFF_FFFF_0000_0000, b=0, word=1)["res"] == 0


def test_slt_sltu_extremes(alu):
    for a, b in itertools.product(EXTREMES, repeat=2):
        _check(alu, d.ALU_SLT, False, a, b)
        _check(alu, d.ALU_SLTU, False, a, b)
    assert alu(op=d.ALU_SLT, a=1 << 63, b=(1 << 63) - 1, word=0)["res"] == 1
    assert alu(op=d.ALU_SLTU, a=1 << 63, b=(1 << 63) - 1, word=0)["res"] == 0
    assert alu(op=d.ALU_SLT, a=MASK64, b=0, word=0)["res"] == 1
    assert alu(op=d.ALU_SLTU, a=0, b=MASK64, word=0)["res"] == 1


def test_word_add_sub_wrap_and_sign_extend(alu):
    assert alu(op=d.ALU_ADD, a=0x7FFF_FFFF, b=1, word=1)["res"] == 0xFFFF_FFFF_8000_0000
    assert alu(op=d.ALU_SUB, a=0x8000_0000, b=1, word=1)["res"] == 0x7FFF_FFFF
    assert alu(op=d.ALU_ADD, a=0x1234_5678_0000_0000, b=0, word=1)["res"] == 0
    assert alu(op=d.ALU_ADD, a=MASK64, b=1, word=0)["res"] == 0


@SETTINGS
@given(st.sampled_from(sorted(BRANCHES)), u64, u64, st.booleans())
def test_branch_matches_reference(branch, funct3, a, b, same):
    b = a if same else b
    got = branch(funct3=funct3, a=a, b=b)["taken"]
    assert got == int(BRANCHES[funct3](a, b)), f"funct3 {funct3:03b} a={a:#x} b={b:#x}"


@pytest.mark.parametrize("funct3", sorted(BRANCHES))
def test_branch_extremes(branch, funct3):
    for a, b in itertools.product(EXTREMES, repeat=2):
        assert branch(funct3=funct3, a=a, b=b)["taken"] == int(BRANCHES[funct3](a, b))
