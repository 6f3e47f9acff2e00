"""The encoding table (hardware/isa/instructions.py) and the cause table
(hardware/isa/causes.py): structure, no unintended overlaps, spot encodings from the
specs, immediate layouts."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from hardware.isa import causes
from hardware.isa.instructions import (BY_NAME, C_RESERVED_WHEN, EXTENSIONS, FORMATS,
                                       IMMEDIATES, INSTRUCTIONS, OVERLAPS, lookup, reserved)


def _overlap(a, b) -> bool:
    """True when some word matches both rows."""
    return a.width == b.width and (a.match ^ b.match) & a.mask & b.mask == 0


def test_rows_well_formed():
    assert len(BY_NAME) == len(INSTRUCTIONS) == 150
    for r in INSTRUCTIONS:
        assert r.name == r.name.lower() and r.ext in EXTENSIONS and r.fmt in FORMATS
        assert r.match & ~r.mask == 0
        assert r.width == (16 if r.ext == "C" else 32)
        assert r.mask & 3 == 3 and (r.match & 3 == 3) == (r.width == 32)


def test_extension_counts():
    count = {e: sum(r.ext == e for r in INSTRUCTIONS) for e in EXTENSIONS}
    assert count == {"I": 52, "M": 13, "A": 22, "Zicsr": 6, "Zifencei": 1, "priv": 4,
                     "H": 15, "C": 37}
    assert {r.name for r in INSTRUCTIONS if r.illegal} == {"c.fld", "c.fsd", "c.fldsp",
                                                           "c.fsdsp"}


def test_overlaps_are_exactly_the_documented_ones():
    found = {(a.name, b.name) for a, b in itertools.combinations(INSTRUCTIONS, 2)
             if _overlap(a, b)}
    assert found == set(OVERLAPS)
    order = [r.name for r in INSTRUCTIONS]
    for specific, general in OVERLAPS:
        assert order.index(specific) < order.index(general)


@settings(max_examples=2000, deadline=None)
@given(st.integers(0, 0xFFFF_FFFF))
def test_random_words_match_at_most_one_row(word):
    width = 32 if word & 3 == 3 else 16
    w = word & ((1 << width) - 1)
    hits = [r for r in INSTRUCTIONS if r.width == width and r.matches(w)]
    names = {r.name for r in hits}
    for a, b in itertools.combinations(sorted(names), 2):
        assert (a, b) in OVERLAPS or (b, a) in OVERLAPS
    assert lookup(word) is (hits[0] if hits else None)


@pytest.mark.parametrize("word,name", [
    (0x00000013, "addi"),          # nop
    (0x00000073, "ecall"),
    (0x00100073, "ebreak"),
    (0x10200073, "sret"),
    (0x30200073, "mret"),
    (0x10500073, "wfi"),
    (0x12000073, "sfence.vma"),
    (0x0000100F, "fence.i"),
    (0x0FF0000F, "fence"),
    (0x8330000F, "fence"),         # fence.tso is a fence with fm=1000
    (0x6C05C573, "hlv.d"),         # hlv.d a0,(a1)
    (0x6E05C073, "hsv.d"),         # hsv.d zero,(a1)
    (0x62000073, "hfence.gvma"),
    (0x22000073, "hfence.vvma"),
    (0x1005A52F, "lr.w"),          # lr.w a0,(a1)
    (0x1605B52F, "lr.d"),          # lr.d.aqrl
    (0x40B50533, "sub"),
    (0x02B50533, "mul"),
    (0x4015551B, "sraiw"),
    (0x43F55513, "srai"),          # 6-bit shamt 63
    (0x30051073, "csrrw"),
    (0x0001, "c.nop"),
    (0x0005, "c.nop"),             # HINT
    (0x1141, "c.addi"),
    (0x6141, "c.addi16sp"),
    (0x6505, "c.lui"),
    (0x8082, "c.jr"),
    (0x852E, "c.mv"),
    (0x9002, "c.ebreak"),
    (0x9282, "c.jalr"),
    (0x952E, "c.add"),
])
def test_spot_encodings(word, name):
    assert lookup(word).name == name


@pytest.mark.parametrize("word", [
    0x1015A52F,                    # lr.w with rs2 != 0 is reserved
    0x0415151B,                    # slliw with funct7 != 0
    0x04051513,                    # slli with funct6 = 000001
    0x0000707F,                    # opcode 1111111
    0xFFFFFFFF,
    0x8000,                        # quadrant 0, funct3 100 (no Zcb)
    0x9C41,                        # reserved CA codes (c12=1, bits 6:5 = 10 / 11)
    0x9C61,
])
def test_undefined_words(word):
    assert lookup(word) is None


def test_reserved_operand_rules():
    assert set(C_RESERVED_WHEN) <= set(BY_NAME)
    cases = {0x0000: True, 0x0040: False, 0x2001: True, 0x2081: False, 0x6101: True,
             0x6141: False, 0x6081: True, 0x6085: False, 0x4002: True, 0x4082: False,
             0x6002: True, 0x8002: True, 0x8082: False, 0x2000: True, 0x0001: False}
    for word, res in cases.items():
        assert reserved(lookup(word), word) is res, hex(word)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(IMMEDIATES)), st.integers(0, (1 << 64) - 1))
def test_immediate_round_trip(key, raw):
    layout = IMMEDIATES[key]
    word = raw & 0xFFFF_FFFF
    value = layout.decode(word)
    assert layout.decode(layout.encode(value)) == value
    bits = set(layout.imm_to_insn().values())
    assert layout.encode(value) == sum(word & (1 << b) for b in bits)


def test_immediate_layouts_cover_disjoint_bits():
    for key, layout in IMMEDIATES.items():
        insn_bits = list(layout.imm_to_insn().values())
        assert len(insn_bits) == len(set(insn_bits)), key
        assert max(insn_bits) < (32 if key[0] != "C" or key == "CSR" else 13), key


def test_cause_constants_from_rows():
    assert causes.CAUSE_ILLEGAL_INSTRUCTION == 2
    assert causes.CAUSE_VIRTUAL_INSTRUCTION == 22
    assert causes.CAUSE_STORE_GUEST_PAGE_FAULT == 23
    assert causes.CAUSE_MACHINE_ECALL == 11
    assert causes.IRQ_MTI == 7 and causes.IRQ_SGEI == 12 and causes.IRQ_VSSI == 2
    assert [c.code for c in causes.EXCEPTIONS] == [*range(14), 15, 20, 21, 22, 23]
    assert sorted(c.code for c in causes.INTERRUPTS) == [1, 2, 3, 5, 6, 7, 9, 10, 11, 12]
    assert causes.INTERRUPT_PRIORITY == (11, 3, 7, 9, 1, 5, 12, 10, 2, 6)
    assert causes.cause_name(2) == "ILLEGAL_INSTRUCTION"
    assert causes.cause_name(causes.INTERRUPT_BIT | 7) == "irq MTI"
    assert causes.cause_name(30) == "exception 30"


def test_docs_tables_are_current():
    """docs/*.md sections generated from the tables match them (regenerate with
    `python -m hardware.isa.docs_tables`)."""
    from hardware.isa.docs_tables import DOCS_DIR, update_files
    assert update_files(sorted(DOCS_DIR.glob("*.md")), check=True) == []


def test_docs_markers_errors():
    from hardware.isa.docs_tables import DocsError, update_text
    with pytest.raises(DocsError, match="unknown generated table 'nope'"):
        update_text("<!-- generated:nope -->\n<!-- end generated:nope -->", "x.md")
    with pytest.raises(DocsError, match="unbalanced"):
        update_text("<!-- generated:causes -->\n", "x.md")
    text = update_text("a\n<!-- generated:causes -->\nold\n<!-- end generated:causes -->\nb")
    assert "CAUSE_ILLEGAL_INSTRUCTION" in text and "old" not in text and text.endswith("b")
