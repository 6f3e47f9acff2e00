"""RVC expander (hardware/core/rvc.py): all 65536 halfwords through the PyRTL simulation
against a reference expander written here, independently, from the RISC-V unprivileged
spec chapter 16; plus a sample cross-checked against zig's assembler."""

from __future__ import annotations

import time

import pyrtl
import pytest

from hardware.core.rvc import build_rvc_expander, expansion_table
from hardware.isa.zigasm import assemble, split_words


def _b(h: int, hi: int, lo: int | None = None) -> int:
    lo = hi if lo is None else lo
    return (h >> lo) & ((1 << (hi - lo + 1)) - 1)


def _sext(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) & 1 else v


def _r(f7, rs2, rs1, f3, rd, opc):
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc


def _i(imm, rs1, f3, rd, opc):
    return (imm & 0xFFF) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc


def _s(imm, rs2, rs1, f3, opc):
    imm &= 0xFFF
    return (imm >> 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 31) << 7 | opc


def _bt(imm, rs2, rs1, f3):
    imm &= 0x1FFF
    return (_b(imm, 12) << 31 | _b(imm, 10, 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12
            | _b(imm, 4, 1) << 8 | _b(imm, 11) << 7 | 0x63)


def _jal(imm, rd):
    imm &= 0x1FFFFF
    return (_b(imm, 20) << 31 | _b(imm, 10, 1) << 21 | _b(imm, 11) << 20
            | _b(imm, 19, 12) << 12 | rd << 7 | 0x6F)


def reference(h: int) -> tuple[int, int] | None:
    """(insn32, illegal) for a compressed halfword; None for bits 1:0 == 3."""
    op, f3 = h & 3, h >> 13
    rd, rs2 = _b(h, 11, 7), _b(h, 6, 2)
    rdp, rs2p = 8 + _b(h, 9, 7), 8 + _b(h, 4, 2)
    ci = _sext(_b(h, 12) << 5 | _b(h, 6, 2), 6)
    shamt = _b(h, 12) << 5 | _b(h, 6, 2)
    ILL = (0, 1)
    if op == 3:
        return None
    if op == 0:
        uw = _b(h, 12, 10) << 3 | _b(h, 6) << 2 | _b(h, 5) << 6
        ud = _b(h, 12, 10) << 3 | _b(h, 6, 5) << 6
        if f3 == 0:
            nz = _b(h, 12, 11) << 4 | _b(h, 10, 7) << 6 | _b(h, 6) << 2 | _b(h, 5) << 3
            return (_i(nz, 2, 0, rs2p, 0x13), int(nz == 0))
        return {2: (_i(uw, rdp, 2, rs2p, 0x03), 0), 3: (_i(ud, rdp, 3, rs2p, 0x03), 0),
                6: (_s(uw, rs2p, rdp, 2, 0x23), 0), 7: (_s(ud, rs2p, rdp, 3, 0x23), 0)
                }.get(f3, ILL)
    if op == 1:
        if f3 == 0:
            return (_i(ci, rd, 0, rd, 0x13), 0)
        if f3 == 1:
            return (_i(ci, rd, 0, rd, 0x1B), int(rd == 0))
        if f3 == 2:
            return (_i(ci, 0, 0, rd, 0x13), 0)
        if f3 == 3:
            zero = int(_b(h, 12) == 0 and _b(h, 6, 2) == 0)
            if rd == 2:
                nz = _sext(_b(h, 12) << 9 | _b(h, 4, 3) << 7 | _b(h, 5) << 6 | _b(h, 2) << 5
                           | _b(h, 6) << 4, 10)
                return (_i(nz, 2, 0, 2, 0x13), zero)
            return ((ci << 12) & 0xFFFFF000 | rd << 7 | 0x37, zero)
        if f3 == 4:
            f2 = _b(h, 11, 10)
            if f2 == 0:
                return (_i(shamt, rdp, 5, rdp, 0x13), 0)
            if f2 == 1:
                return (_i(shamt | 0x400, rdp, 5, rdp, 0x13), 0)
            if f2 == 2:
                return (_i(ci, rdp, 4 + 3, rdp, 0x13), 0)
            sel = _b(h, 12) << 2 | _b(h, 6, 5)
            table = {0: (0x20, 0, 0x33), 1: (0, 4, 0x33), 2: (0, 6, 0x33), 3: (0, 7, 0x33),
                     4: (0x20, 0, 0x3B), 5: (0, 0, 0x3B)}
            if sel not in table:
                return ILL
            f7, fn3, opc = table[sel]
            return (_r(f7, rs2p, rdp, fn3, rdp, opc), 0)
        if f3 == 5:
            j = _sext(_b(h, 12) << 11 | _b(h, 8) << 10 | _b(h, 10, 9) << 8 | _b(h, 6) << 7
                      | _b(h, 7) << 6 | _b(h, 2) << 5 | _b(h, 11) << 4 | _b(h, 5, 3) << 1, 12)
            return (_jal(j, 0), 0)
        off = _sext(_b(h, 12) << 8 | _b(h, 6, 5) << 6 | _b(h, 2) << 5 | _b(h, 11, 10) << 3
                    | _b(h, 4, 3) << 1, 9)
        return (_bt(off, 0, rdp, f3 - 6), 0)
    # op == 2
    if f3 == 0:
        return (_i(shamt, rd, 1, rd, 0x13), 0)
    if f3 == 2:
        off = _b(h, 12) << 5 | _b(h, 6, 4) << 2 | _b(h, 3, 2) << 6
        return (_i(off, 2, 2, rd, 0x03), int(rd == 0))
    if f3 == 3:
        off = _b(h, 12) << 5 | _b(h, 6, 5) << 3 | _b(h, 4, 2) << 6
        return (_i(off, 2, 3, rd, 0x03), int(rd == 0))
    if f3 == 4:
        if _b(h, 12) == 0:
            if rs2 == 0:
                return (_i(0, rd, 0, 0, 0x67), int(rd == 0))
            return (_r(0, rs2, 0, 0, rd, 0x33), 0)
        if rs2 == 0 and rd == 0:
            return (0x00100073, 0)
        if rs2 == 0:
            return (_i(0, rd, 0, 1, 0x67), 0)
        return (_r(0, rs2, rd, 0, rd, 0x33), 0)
    if f3 == 6:
        off = _b(h, 12, 9) << 2 | _b(h, 8, 7) << 6
        return (_s(off, rs2, 2, 2, 0x23), 0)
    if f3 == 7:
        off = _b(h, 12, 10) << 3 | _b(h, 9, 7) << 6
        return (_s(off, rs2, 2, 3, 0x23), 0)
    return ILL  # c.fldsp / c.fsdsp: no F/D


def _simulate(backend, words: list[int], style: str = "logic") -> tuple[list[int], list[int]]:
    """insn32 and illegal of the expander for each word, on one PyRTL backend."""
    pyrtl.reset_working_block()
    insn = pyrtl.Input(16, "insn")
    ports = build_rvc_expander(insn, style)
    o32, oil = pyrtl.Output(32, "insn32"), pyrtl.Output(1, "illegal")
    o32 <<= ports.insn32
    oil <<= ports.illegal
    sim = backend()
    sim.step_multiple({"insn": words})
    out = list(sim.tracer.trace["insn32"]), list(sim.tracer.trace["illegal"])
    pyrtl.reset_working_block()
    return out


@pytest.fixture(scope="module")
def expander_outputs() -> tuple[list[int], list[int]]:
    """insn32 and illegal for all 65536 halfwords (CompiledSimulation: about 1 s)."""
    start = time.time()
    out = _simulate(pyrtl.CompiledSimulation, list(range(1 << 16)))
    assert time.time() - start < 60
    return out


@pytest.mark.parametrize("backend", [pyrtl.FastSimulation, pyrtl.Simulation])
def test_backends_agree(expander_outputs, backend):
    """The one-select-net-per-expansion trick gives the same values on every backend."""
    sample = list(range(0, 1 << 16, 13))
    words, illegal = _simulate(backend, sample)
    assert words == [expander_outputs[0][h] for h in sample]
    assert illegal == [expander_outputs[1][h] for h in sample]


def test_rom_table_equals_logic(expander_outputs):
    """The ROM contents (the decision tree evaluated in Python) equal the logic form
    for every halfword, so both forms match the reference above."""
    table = expansion_table()
    words, illegal = expander_outputs
    compressed = [h for h in range(1 << 16) if h & 3 != 3]
    assert [table[h] & 0xFFFFFFFF for h in compressed] == [words[h] for h in compressed]
    assert [table[h] >> 32 for h in compressed] == [illegal[h] for h in compressed]


@pytest.mark.parametrize("backend", [pyrtl.FastSimulation, pyrtl.CompiledSimulation])
def test_rom_style_in_hardware(expander_outputs, backend):
    """The ROM form, simulated, gives the logic form's outputs."""
    sample = [h for h in range(0, 1 << 16, 7) if h & 3 != 3]
    words, illegal = _simulate(backend, sample, style="rom")
    assert words == [expander_outputs[0][h] for h in sample]
    assert illegal == [expander_outputs[1][h] for h in sample]


def test_unknown_style():
    pyrtl.reset_working_block()
    with pytest.raises(ValueError, match="style"):
        build_rvc_expander(pyrtl.Input(16, "insn"), "magic")
    pyrtl.reset_working_block()


def test_net_count():
    """The logic form stays small (synthesis); the ROM form is a single read."""
    pyrtl.reset_working_block()
    build_rvc_expander(pyrtl.Input(16, "insn"), "logic")
    nets = len(pyrtl.working_block().logic)
    pyrtl.reset_working_block()
    assert nets <= 100


def test_rejects_wrong_width():
    pyrtl.reset_working_block()
    with pytest.raises(pyrtl.PyrtlError, match="16 bits"):
        build_rvc_expander(pyrtl.Input(32, "insn"))
    pyrtl.reset_working_block()


def test_exhaustive_against_reference(expander_outputs):
    words, illegal = expander_outputs
    bad = []
    for h in range(1 << 16):
        ref = reference(h)
        if ref is None:
            got = (words[h], illegal[h])
            ok = got == (0, 0)
        else:
            ok = illegal[h] == ref[1] and (ref[1] or words[h] == ref[0])
        if not ok:
            bad.append((hex(h), hex(words[h]), illegal[h], ref and hex(ref[0])))
    assert bad[:10] == []


def test_reserved_encodings_are_illegal(expander_outputs):
    _, illegal = expander_outputs
    for h in (0x0000, 0x0010, 0x2000, 0x8000, 0xA000, 0x2001, 0x6101, 0x6001, 0x6081,
              0x9C41, 0x9C61, 0x8002, 0x4002, 0x6002, 0x2002, 0xA002):
        assert illegal[h] == 1, hex(h)
    for h in (0x0001, 0x0005, 0x4001, 0x6005, 0x0002, 0x8006, 0x9006, 0x8401):  # HINTs
        assert illegal[h] == 0, hex(h)


def test_reference_counts():
    """The reference's reserved set has the size counted by hand from the spec's tables:
    4 FP slots and the Q0 funct3=100 slot (2048 words each), c.addi4spn nzuimm=0 (8),
    c.addiw rd=0 (64), c.addi16sp/c.lui imm=0 (32), the 2 reserved CA codes (128),
    c.lwsp/c.ldsp rd=0 (64 each), c.jr rs1=0 (1)."""
    refs = [reference(h) for h in range(1 << 16)]
    assert sum(r is None for r in refs) == 16384
    assert sum(1 for r in refs if r and r[1]) == 5 * 2048 + 8 + 64 + 32 + 128 + 64 + 64 + 1


#: (compressed, 32-bit) pairs assembled by zig; the expansion must equal the 32-bit form.
PAIRS = [
    ("c.addi4spn s0,sp,1020", "addi s0,sp,1020"),
    ("c.lw a0,124(a1)", "lw a0,124(a1)"),
    ("c.ld s1,248(a5)", "ld s1,248(a5)"),
    ("c.sw a2,4(s0)", "sw a2,4(s0)"),
    ("c.sd a3,8(a4)", "sd a3,8(a4)"),
    ("c.nop", "addi zero,zero,0"),
    ("c.addi a0,-32", "addi a0,a0,-32"),
    ("c.addiw t1,31", "addiw t1,t1,31"),
    ("c.li a7,-1", "addi a7,zero,-1"),
    ("c.addi16sp sp,-512", "addi sp,sp,-512"),
    ("c.lui t0,0xfffe1", "lui t0,0xfffe1"),
    ("c.srli a5,0x3f", "srli a5,a5,0x3f"),
    ("c.srai s0,0x21", "srai s0,s0,0x21"),
    ("c.andi a1,-7", "andi a1,a1,-7"),
    ("c.sub s0,s1", "sub s0,s0,s1"),
    ("c.xor a0,a1", "xor a0,a0,a1"),
    ("c.or a2,a3", "or a2,a2,a3"),
    ("c.and a4,a5", "and a4,a4,a5"),
    ("c.subw a0,a5", "subw a0,a0,a5"),
    ("c.addw s1,a2", "addw s1,s1,a2"),
    ("c.j .-2048", "jal zero,.-2048"),
    ("c.beqz a0,.+254", "beq a0,zero,.+254"),
    ("c.bnez s1,.-256", "bne s1,zero,.-256"),
    ("c.slli s11,0x3f", "slli s11,s11,0x3f"),
    ("c.lwsp a0,252(sp)", "lw a0,252(sp)"),
    ("c.ldsp ra,504(sp)", "ld ra,504(sp)"),
    ("c.jr ra", "jalr zero,0(ra)"),
    ("c.mv a0,t6", "add a0,zero,t6"),
    ("c.ebreak", "ebreak"),
    ("c.jalr t0", "jalr ra,0(t0)"),
    ("c.add a0,a1", "add a0,a0,a1"),
    ("c.swsp a0,4(sp)", "sw a0,4(sp)"),
    ("c.sdsp s2,496(sp)", "sd s2,496(sp)"),
]


def test_sample_against_zig(expander_outputs):
    """Targets are written relative to '.', so both forms encode the same offsets."""
    words, illegal = expander_outputs
    compressed = split_words(assemble(".option rvc\n" + "\n".join(c for c, _ in PAIRS)))
    wide = split_words(assemble(".option norvc\n" + "\n".join(w for _, w in PAIRS)))
    assert len(compressed) == len(wide) == len(PAIRS)
    for (_, half), (_, full), (text, _) in zip(compressed, wide, PAIRS):
        assert half & 3 != 3 and full & 3 == 3, text
        assert illegal[half] == 0, text
        assert words[half] == full, (text, hex(words[half]), hex(full))
