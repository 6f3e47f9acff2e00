"""Instruction decoder (hardware/core/decode.py): every row of ``decode_rows`` decodes
with its control word whatever its free bits are, words the encoding table does not
give to an implemented instruction decode as illegal with an all-zero control word, the
control words mean what the unprivileged spec says of each instruction, and the
immediates follow the format figures of unprivileged spec 2.3 (figure 2.4).

Both configurations are decoded: with the H extension (``H``: HLV/HLVX/HSV and
HFENCE.VVMA/GVMA, hypervisor spec 8.3, are rows) and without (``NOH``: their words are
illegal). The ``dec`` fixture runs each decoder test on both."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st

from core_unit_bench import UnitBench, sext
from hardware.config import CoreConfig
from hardware.core import decode as D
from hardware.isa.instructions import INSTRUCTIONS, lookup

SETTINGS = settings(max_examples=200, deadline=None)
H = CoreConfig(has_h=True)
NOH = CoreConfig(has_h=False)
CONFIGS = {"h": H, "noh": NOH}
ROWS = D.decode_rows(H)  # every row: the no-H rows are a subset
ROW_BY_NAME = {r[0]: r for r in ROWS}
NAMES = [f for f, _ in D.FIELDS]
WORDS_PER_ROW = 24


def unpack(word: int) -> dict[str, int]:
    """Control word -> fields (the layout of ``decode.FIELDS``, LSB first)."""
    out, pos = {}, 0
    for name, width in D.FIELDS:
        out[name] = word >> pos & ((1 << width) - 1)
        pos += width
    return out


def _bits(w: int, hi: int, lo: int) -> int:
    return w >> lo & ((1 << (hi - lo + 1)) - 1)


#: Immediates of each format, written from figure 2.4 of the unprivileged spec.
IMM_REF = {
    D.IMM_I: lambda w: sext(_bits(w, 31, 20), 12),
    D.IMM_S: lambda w: sext(_bits(w, 31, 25) << 5 | _bits(w, 11, 7), 12),
    D.IMM_B: lambda w: sext(_bits(w, 31, 31) << 12 | _bits(w, 7, 7) << 11
                            | _bits(w, 30, 25) << 5 | _bits(w, 11, 8) << 1, 13),
    D.IMM_U: lambda w: sext(_bits(w, 31, 12) << 12, 32),
    D.IMM_J: lambda w: sext(_bits(w, 31, 31) << 20 | _bits(w, 19, 12) << 12
                            | _bits(w, 20, 20) << 11 | _bits(w, 30, 21) << 1, 21),
    D.IMM_Z: lambda w: _bits(w, 19, 15),
}

_ALU_OF = {"add": D.ALU_ADD, "sub": D.ALU_SUB, "sll": D.ALU_SLL, "slt": D.ALU_SLT,
           "sltu": D.ALU_SLTU, "xor": D.ALU_XOR, "srl": D.ALU_SRL, "sra": D.ALU_SRA,
           "or": D.ALU_OR, "and": D.ALU_AND}
_IMM_ALU = {"addi": "add", "slti": "slt", "sltiu": "sltu", "xori": "xor", "ori": "or",
            "andi": "and", "slli": "sll", "srli": "srl", "srai": "sra", "addiw": "add",
            "slliw": "sll", "srliw": "srl", "sraiw": "sra"}
_SYS = {"ecall": D.SYS_ECALL, "ebreak": D.SYS_EBREAK, "mret": D.SYS_MRET,
        "sret": D.SYS_SRET, "wfi": D.SYS_WFI, "sfence.vma": D.SYS_SFENCE,
        "hfence.vvma": D.SYS_HFENCE_V, "hfence.gvma": D.SYS_HFENCE_G}
#: HLV/HLVX/HSV (hypervisor spec 8.3): access size in funct7[2:1], zero-extension in
#: rs2[0], HLVX (execute permission) in rs2[1].
H_SIZE = {"b": 0, "h": 1, "w": 2, "d": 3}


def spec_fields(name: str) -> dict[str, int]:
    """The control fields an instruction needs, from what the spec says it does.

    Only the fields that matter for ``name`` are given; the caller checks the other
    side-effect fields are 0.
    """
    w = {"we": 1}
    if name == "lui":
        return dict(w, imm=D.IMM_U, a=D.A_ZERO, b=D.B_IMM, alu=D.ALU_ADD, wb=D.WB_ALU, word=0)
    if name == "auipc":
        return dict(w, imm=D.IMM_U, a=D.A_PC, b=D.B_IMM, alu=D.ALU_ADD, wb=D.WB_ALU, word=0)
    if name == "jal":
        return dict(w, imm=D.IMM_J, jal=1, wb=D.WB_LINK)
    if name == "jalr":
        return dict(w, imm=D.IMM_I, jalr=1, wb=D.WB_LINK)
    if name in ("beq", "bne", "blt", "bge", "bltu", "bgeu"):
        return dict(imm=D.IMM_B, br=1, we=0)
    if name in ("lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"):
        return dict(w, imm=D.IMM_I, ld=1, wb=D.WB_MEM)
    if name in ("sb", "sh", "sw", "sd"):
        return dict(imm=D.IMM_S, st=1, we=0)
    if name in _IMM_ALU:
        return dict(w, imm=D.IMM_I, a=D.A_RS1, b=D.B_IMM, alu=_ALU_OF[_IMM_ALU[name]],
                    wb=D.WB_ALU, word=int(name.endswith("w")))
    if name in _ALU_OF or name[:-1] in ("add", "sub", "sll", "srl", "sra"):
        op = name if name in _ALU_OF else name[:-1]
        return dict(w, a=D.A_RS1, b=D.B_RS2, alu=_ALU_OF[op], wb=D.WB_ALU,
                    word=int(name not in _ALU_OF))
    if name.startswith("csrr"):
        return dict(w, csr=1, wb=D.WB_CSR, **({"imm": D.IMM_Z} if name.endswith("i") else {}))
    if name.startswith("mul"):
        return dict(w, mul=1, wb=D.WB_MUL, word=int(name == "mulw"))
    if name.startswith(("div", "rem")):
        return dict(w, div=1, wb=D.WB_DIV, word=int(name.endswith("w")))
    if name.startswith("lr."):
        return dict(w, amo=1, lr=1, sc=0, wb=D.WB_MEM)
    if name.startswith("sc."):
        return dict(w, amo=1, lr=0, sc=1, wb=D.WB_MEM)
    if name.startswith("amo"):
        return dict(w, amo=1, lr=0, sc=0, wb=D.WB_MEM)
    if name.startswith(("hlv.", "hlvx.")):  # a load from rs1 (no offset) into rd
        return dict(w, ld=1, wb=D.WB_MEM, hx=1)
    if name.startswith("hsv."):  # a store of rs2 at rs1 (no offset)
        return dict(st=1, we=0, hx=1)
    if name in _SYS:
        return dict(sys=_SYS[name], we=0)
    if name in ("fence", "fence.i"):
        return dict(we=0)
    raise AssertionError(f"no spec expectation for {name}")


#: Fields that cause side effects; 0 unless ``spec_fields`` names them.
SIDE_EFFECTS = ("we", "br", "jal", "jalr", "ld", "st", "amo", "lr", "sc", "csr", "mul",
                "div", "sys", "hx")


class Decoder:
    """The decoder of one configuration, elaborated alone."""

    def __init__(self, cfg: CoreConfig):
        self.cfg = cfg
        self.rows = D.decode_rows(cfg)
        self.row_by_name = {r[0]: r for r in self.rows}

        def build(insn):
            p = D.build_decode(cfg, insn)
            return {n: getattr(p, n) for n in NAMES}
        self.bench = UnitBench({"insn": 32}, build)

    def __call__(self, insn: int) -> dict[str, int]:
        return self.bench(insn=insn)

    def implemented(self, word: int):
        """The decode row an implemented instruction ``word`` belongs to, else None."""
        row = lookup(word) if word & 3 == 3 else None
        return self.row_by_name.get(row.name) if row else None

    def check(self, word: int) -> None:
        """``word`` decodes as its row says, or as illegal with no effects."""
        out = self(word)
        row = self.implemented(word)
        if row is None:
            assert out["legal"] == 0, f"{word:#010x} decodes as legal"
            zero = {n: out[n] for n in NAMES if n != "imm" and out[n]}
            assert not zero, f"illegal {word:#010x} has control fields {zero}"
            return
        name, _, _, ctl = row
        want = unpack(ctl)
        got = {n: out[n] for n in NAMES if n != "imm"}
        got["imm"] = want["imm"]  # the select is not an output; the value is checked below
        assert got == want, f"{name} {word:#010x}: {got} != {want}"
        assert out["imm"] == IMM_REF.get(want["imm"], IMM_REF[D.IMM_I])(word), \
            f"{name} {word:#010x}: immediate {out['imm']:#x}"


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def dec(request):
    return Decoder(CONFIGS[request.param])


@pytest.fixture(scope="module")
def dec_h():
    return Decoder(H)


@pytest.fixture(scope="module")
def dec_noh():
    return Decoder(NOH)


@pytest.fixture(scope="module")
def imm():
    return UnitBench({"insn": 32, "sel": 3},
                     lambda insn, sel: {"imm": D.build_immediate(insn, sel)})


@pytest.mark.parametrize("cfg", sorted(CONFIGS))
def test_rows_are_the_implemented_32_bit_instructions(cfg):
    rows = D.decode_rows(CONFIGS[cfg])
    names = [r[0] for r in rows]
    assert len(names) == len(set(names))
    exts = {"I", "M", "A", "Zicsr", "Zifencei", "priv"} | ({"H"} if CONFIGS[cfg].has_h else set())
    assert {i.ext for i in INSTRUCTIONS if i.width == 32} == {"I", "M", "A", "Zicsr",
                                                               "Zifencei", "priv", "H"}
    assert set(names) == {i.name for i in INSTRUCTIONS if i.width == 32 and i.ext in exts}
    for name, mask, match, ctl in rows:
        assert match & ~mask == 0 and mask & 3 == 3 and match & 3 == 3, name
        assert unpack(ctl)["legal"] == 1, name
        assert ROW_BY_NAME[name] == (name, mask, match, ctl)  # same row in both configs


def test_no_two_rows_share_a_word():
    for i, (n1, m1, v1, _) in enumerate(ROWS):
        for n2, m2, v2, _ in ROWS[i + 1:]:
            assert (v1 ^ v2) & m1 & m2 != 0, f"{n1} and {n2} overlap"


@pytest.mark.parametrize("name", [r[0] for r in ROWS])
def test_control_word_means_what_the_spec_says(name):
    fields = unpack(ROW_BY_NAME[name][3])
    want = spec_fields(name)
    for f in SIDE_EFFECTS:
        want.setdefault(f, 0)
    got = {f: fields[f] for f in want}
    assert got == want, name


def test_h_access_size_and_sign_come_from_fixed_bits():
    """The core takes an HLV/HLVX/HSV access's size from funct7[2:1], zero-extension
    from rs2[0] and HLVX from rs2[1]: those bits are fixed by each row's mask and mean
    what the mnemonic says."""
    hx_rows = [r for r in ROWS if unpack(r[3])["hx"]]
    assert {r[0] for r in hx_rows} == {i.name for i in INSTRUCTIONS
                                        if i.name.startswith(("hlv", "hsv"))}
    for name, mask, match, _ in hx_rows:
        fixed = (3 << 26) | (3 << 20) if name.startswith("hlv") else 3 << 26
        assert mask & fixed == fixed, name
        size = name.split(".")[1][0]
        assert match >> 26 & 3 == H_SIZE[size], name
        if name.startswith("hlv"):
            assert match >> 20 & 1 == int(name.endswith("u")), name
            assert match >> 21 & 1 == int(name.startswith("hlvx")), name


def test_every_row_decodes_whatever_its_free_bits(dec):
    rng = random.Random(2024)
    for name, mask, match, _ in ROWS:  # without H the H rows must decode as illegal
        free = ~mask & 0xFFFF_FFFF
        for k in range(WORDS_PER_ROW):
            bits = {0: 0, 1: free}.get(k, rng.getrandbits(32) & free)
            word = match | bits
            assert lookup(word).name == name
            dec.check(word)


def test_one_bit_away_from_each_row(dec):
    for _, mask, match, _ in ROWS:
        for bit in range(32):
            if mask >> bit & 1:
                dec.check(match ^ (1 << bit))


@SETTINGS
@given(st.integers(0, 0xFFFF_FFFF))
def test_random_words_legal_exactly_when_implemented(dec, word):
    dec.check(word | 3)


def test_random_word_sweep(dec):
    rng = random.Random(7)
    illegal = 0
    for _ in range(20000):
        word = rng.getrandbits(32) | 3
        dec.check(word)
        illegal += dec.implemented(word) is None
    assert illegal > 1000  # the sweep does reach illegal encodings


@pytest.mark.parametrize("low", [0, 1, 2])
def test_compressed_quadrants_never_match_a_32_bit_row(dec, low):
    rng = random.Random(low)
    for _ in range(500):
        word = rng.getrandbits(32) & ~3 | low
        out = dec(word)
        assert out["legal"] == 0 and out["we"] == 0, f"{word:#010x}"


def test_hypervisor_rows_are_illegal_without_h(dec_noh):
    assert not dec_noh.cfg.has_h
    for row in INSTRUCTIONS:
        if row.ext == "H":
            assert dec_noh(row.match)["legal"] == 0, row.name
            assert dec_noh(row.match | (~row.mask & 0x000F_8000))["legal"] == 0, row.name


def test_hypervisor_rows_decode_with_h(dec_h):
    assert dec_h.cfg.has_h
    for row in INSTRUCTIONS:
        if row.ext == "H":
            for word in (row.match, row.match | (~row.mask & 0x000F_8F80)):
                out = dec_h(word)
                assert out["legal"] == 1, row.name
                assert out["hx"] == int(row.name.startswith(("hlv", "hsv"))), row.name


@pytest.mark.parametrize("word,name", [
    (0x0000_0013, "addi"), (0x0000_0073, "ecall"), (0x0010_0073, "ebreak"),
    (0x3020_0073, "mret"), (0x1020_0073, "sret"), (0x1050_0073, "wfi"),
    (0x1200_0073, "sfence.vma"), (0x0000_100F, "fence.i"), (0x0FF0_000F, "fence"),
    (0x8330_000F, "fence"),  # fence.tso
    (0x1000_202F, "lr.w"), (0x1800_302F, "sc.d"), (0x0200_0033, "mul"),
    (0x4000_5013, "srai"), (0x4200_5013, "srai"),  # shamt[5] set: legal on RV64
])
def test_known_encodings(dec, word, name):
    assert dec.implemented(word)[0] == name
    dec.check(word)


@pytest.mark.parametrize("word,name", [
    # hypervisor spec 8.3 (SYSTEM, funct3 100 for the loads/stores, 000 for the fences)
    (0x6005_C573, "hlv.b"),   # hlv.b a0, (a1)
    (0x6015_C573, "hlv.bu"),  # hlv.bu a0, (a1)
    (0x6435_C573, "hlvx.hu"),  # hlvx.hu a0, (a1)
    (0x6805_C573, "hlv.w"),   # hlv.w a0, (a1)
    (0x6835_C573, "hlvx.wu"),  # hlvx.wu a0, (a1)
    (0x6C05_C573, "hlv.d"),   # hlv.d a0, (a1)
    (0x62A5_C073, "hsv.b"),   # hsv.b a0, (a1)
    (0x6EA5_C073, "hsv.d"),   # hsv.d a0, (a1)
    (0x2200_0073, "hfence.vvma"),  # hfence.vvma zero, zero
    (0x62B5_0073, "hfence.gvma"),  # hfence.gvma a0, a1
])
def test_known_h_encodings(dec, word, name):
    assert lookup(word).name == name
    assert (dec.implemented(word) is not None) == dec.cfg.has_h
    dec.check(word)


@pytest.mark.parametrize("word", [
    0x0000_0000, 0xFFFF_FFFF,
    0x8000_5013,  # srli with funct6 = 100000
    0x4000_1013,  # slli with funct6 = 010000
    0x4200_501B,  # sraiw with shamt[5] set (reserved on RV64)
    0x0020_0073, 0x3030_0073, 0x1010_0073,  # system words next to ebreak/mret/sret
    0x1010_202F,  # lr.w with rs2 != 0
    0x0000_4073,  # funct3 4 in SYSTEM (hlv space, funct7 0)
    0x6025_C573,  # hlv.b with rs2 = 2 (no hlvx.b)
    0x6C15_C573,  # hlv.d with rs2 = 1 (no hlv.du)
    0x62A5_C5F3,  # hsv.b with rd != 0
    0x2200_00F3,  # hfence.vvma with rd != 0
    0x0000_7067,  # jalr with funct3 7
    0x0000_2063,  # branch funct3 2
    0x0000_7003,  # load funct3 7
    0x0000_4023,  # store funct3 4
    0x0000_102F,  # AMO funct3 1
    0x2000_5033,  # srl/sra slot with funct7 = 0010000
    0x0600_0033,  # OP with funct7 = 0000011
])
def test_known_illegal_or_reserved(dec, word):
    assert dec.implemented(word) is None, f"{word:#010x}"
    dec.check(word)


@SETTINGS
@given(st.integers(0, 0xFFFF_FFFF), st.sampled_from(sorted(IMM_REF)))
def test_immediates_match_the_format_figures(imm, word, sel):
    assert imm(insn=word, sel=sel)["imm"] == IMM_REF[sel](word), f"sel {sel} {word:#010x}"


@pytest.mark.parametrize("sel", sorted(IMM_REF))
def test_immediate_sign_bits(imm, sel):
    for word in (0, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 0x0000_0F80, 0x000F_F000,
                 0x0010_0000, 0x000F_8000):
        assert imm(insn=word, sel=sel)["imm"] == IMM_REF[sel](word), f"{sel} {word:#x}"
    assert imm(insn=0xFFFF_FFFF, sel=D.IMM_I)["imm"] == (1 << 64) - 1
    assert imm(insn=0x8000_0000, sel=D.IMM_U)["imm"] == 0xFFFF_FFFF_8000_0000
    assert imm(insn=0x8000_0000, sel=D.IMM_B)["imm"] == (1 << 64) - 4096
    assert imm(insn=0x8000_0000, sel=D.IMM_J)["imm"] == (1 << 64) - (1 << 20)
    assert imm(insn=0xFFFF_FFFF, sel=D.IMM_Z)["imm"] == 31


NO_C_SRC = """
.option norvc
  la t0, handler
  csrw mtvec, t0
  csrr a0, misa
  .word 0x00010001       # two c.nop halves: not a 32-bit encoding
handler:
1: j 1b
"""


def test_has_c_false_makes_compressed_encodings_illegal():
    import dataclasses

    from core_unit_bench import run_rom_program
    from hardware.config import SocConfig

    cfg = SocConfig(core=dataclasses.replace(H, has_c=False))
    recs = run_rom_program(NO_C_SRC, 40, cfg)
    misa = next(r["rd_wdata"] for r in recs if r["insn"] == 0x30102573)  # csrr a0, misa
    assert misa >> 2 & 1 == 0
    trap = next(r for r in recs if r["pc"] == 0x1010)
    assert (trap["trap"], trap["cause"]) == (1, 2)
