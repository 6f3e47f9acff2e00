"""Disassembler generated from the instruction table (``instructions.INSTRUCTIONS``).

Output follows GNU objdump's ``-M no-aliases`` style: the table's mnemonic, then the
operands with ABI register names (unpriv spec chapter 25, "Calling convention"), CSR names
from ``csrs.py``, and branch/jump targets as absolute hex addresses. Compressed
instructions keep their ``c.`` mnemonic; the FP ones (no F/D here) still print, with FP
register names. Words no row matches and reserved encodings print as ``unknown 0x...``.
"""

from __future__ import annotations

from typing import Callable

from hardware.isa.instructions import FORMAT_IMM, IMMEDIATES, Instruction, lookup, reserved

ABI_NAMES = ("zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2",
             "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
             "s10", "s11", "t3", "t4", "t5", "t6")
FP_ABI_NAMES = ("ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0",
                "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5",
                "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11")

XMASK = (1 << 64) - 1


def _csr_names() -> dict[int, str]:
    try:
        from hardware.isa.csrs import CSRS
    except ImportError:
        return {}
    return {row.addr: row.name for row in CSRS}


CSR_NAMES = _csr_names()


def _bits(word: int, hi: int, lo: int) -> int:
    return (word >> lo) & ((1 << (hi - lo + 1)) - 1)


def _x(n: int) -> str:
    return ABI_NAMES[n]


def _rd(w: int) -> str:
    return _x(_bits(w, 11, 7))


def _rs1(w: int) -> str:
    return _x(_bits(w, 19, 15))


def _rs2(w: int) -> str:
    return _x(_bits(w, 24, 20))


def _crs2(w: int) -> str:
    return _x(_bits(w, 6, 2))


def _rdp(w: int) -> str:
    """rd'/rs1' of the compressed formats: x8..x15 from bits 9:7."""
    return _x(8 + _bits(w, 9, 7))


def _rs2p(w: int) -> str:
    """rs2'/rd' of the compressed formats: x8..x15 from bits 4:2."""
    return _x(8 + _bits(w, 4, 2))


def csr_name(addr: int) -> str:
    """The CSR's name from csrs.py, or its address in hex."""
    return CSR_NAMES.get(addr, f"{addr:#x}")


def _fence_set(bits: int) -> str:
    return "".join(c for c, b in zip("iorw", (8, 4, 2, 1)) if bits & b) or "0"


def _target(imm: int, pc: int) -> str:
    return f"{(pc + imm) & XMASK:#x}"


Operands = Callable[[int, int, int], str]  # (word, pc, imm) -> operand text

_OPERANDS: dict[str, Operands] = {
    "R": lambda w, pc, i: f"{_rd(w)},{_rs1(w)},{_rs2(w)}",
    "I": lambda w, pc, i: f"{_rd(w)},{_rs1(w)},{i}",
    "ISHIFT": lambda w, pc, i: f"{_rd(w)},{_rs1(w)},{i:#x}",
    "ISHIFTW": lambda w, pc, i: f"{_rd(w)},{_rs1(w)},{i:#x}",
    "S": lambda w, pc, i: f"{_rs2(w)},{i}({_rs1(w)})",
    "B": lambda w, pc, i: f"{_rs1(w)},{_rs2(w)},{_target(i, pc)}",
    "U": lambda w, pc, i: f"{_rd(w)},{(i >> 12) & 0xFFFFF:#x}",
    "J": lambda w, pc, i: f"{_rd(w)},{_target(i, pc)}",
    "JALR": lambda w, pc, i: f"{_rd(w)},{i}({_rs1(w)})",
    "LOAD": lambda w, pc, i: f"{_rd(w)},{i}({_rs1(w)})",
    "CSR": lambda w, pc, i: f"{_rd(w)},{csr_name(_bits(w, 31, 20))},{_rs1(w)}",
    "CSRI": lambda w, pc, i: f"{_rd(w)},{csr_name(_bits(w, 31, 20))},{i}",
    "AMO": lambda w, pc, i: f"{_rd(w)},{_rs2(w)},({_rs1(w)})",
    "LR": lambda w, pc, i: f"{_rd(w)},({_rs1(w)})",
    "FENCE": lambda w, pc, i: f"{_fence_set(_bits(w, 27, 24))},{_fence_set(_bits(w, 23, 20))}",
    "NONE": lambda w, pc, i: "",
    "SFENCE": lambda w, pc, i: f"{_rs1(w)},{_rs2(w)}",
    "HLV": lambda w, pc, i: f"{_rd(w)},({_rs1(w)})",
    "HSV": lambda w, pc, i: f"{_rs2(w)},({_rs1(w)})",
    "CIW": lambda w, pc, i: f"{_rs2p(w)},sp,{i}",
    "CLW": lambda w, pc, i: f"{_rs2p(w)},{i}({_rdp(w)})",
    "CLD": lambda w, pc, i: f"{_rs2p(w)},{i}({_rdp(w)})",
    "CSW": lambda w, pc, i: f"{_rs2p(w)},{i}({_rdp(w)})",
    "CSD": lambda w, pc, i: f"{_rs2p(w)},{i}({_rdp(w)})",
    "CI": lambda w, pc, i: f"{_rd(w)},{i}",
    "CADDI16SP": lambda w, pc, i: f"sp,{i}",
    "CLUI": lambda w, pc, i: f"{_rd(w)},{(i >> 12) & 0xFFFFF:#x}",
    "CSLLI": lambda w, pc, i: f"{_rd(w)},{i:#x}",
    "CSHIFT": lambda w, pc, i: f"{_rdp(w)},{i:#x}",
    "CANDI": lambda w, pc, i: f"{_rdp(w)},{i}",
    "CA": lambda w, pc, i: f"{_rdp(w)},{_rs2p(w)}",
    "CJ": lambda w, pc, i: _target(i, pc),
    "CB": lambda w, pc, i: f"{_rdp(w)},{_target(i, pc)}",
    "CLWSP": lambda w, pc, i: f"{_rd(w)},{i}(sp)",
    "CLDSP": lambda w, pc, i: f"{_rd(w)},{i}(sp)",
    "CSWSP": lambda w, pc, i: f"{_crs2(w)},{i}(sp)",
    "CSDSP": lambda w, pc, i: f"{_crs2(w)},{i}(sp)",
    "CJR": lambda w, pc, i: _rd(w),
    "CR": lambda w, pc, i: f"{_rd(w)},{_crs2(w)}",
    "CNONE": lambda w, pc, i: "",
}


def _fp_operands(text: str) -> str:
    """Swap the data register of a C FP load/store for its FP ABI name."""
    reg, rest = text.split(",", 1)
    return f"{FP_ABI_NAMES[ABI_NAMES.index(reg)]},{rest}"


def _mnemonic(row: Instruction, word: int) -> str:
    if row.fmt in ("AMO", "LR"):
        return row.name + ("", ".rl", ".aq", ".aqrl")[_bits(word, 26, 25)]
    if row.name == "fence" and _bits(word, 31, 28) == 0b1000 and _bits(word, 27, 20) == 0x33:
        return "fence.tso"
    return row.name


def disassemble(word: int, pc: int = 0) -> str:
    """One instruction in objdump-like syntax; ``pc`` makes branch targets absolute."""
    row = lookup(word)
    if row is None or (reserved(row, word) and not row.illegal):
        digits = 8 if word & 3 == 3 else 4
        return f"unknown 0x{word & ((1 << (4 * digits)) - 1):0{digits}x}"
    word &= (1 << row.width) - 1
    key = FORMAT_IMM.get(row.fmt)
    imm = IMMEDIATES[key].decode(word) if key else 0
    operands = _OPERANDS[row.fmt](word, pc, imm)
    if row.illegal:
        operands = _fp_operands(operands)
    text = _mnemonic(row, word)
    if text == "fence.tso":
        operands = ""
    return f"{text} {operands}" if operands else text
