"""Table-driven instruction decoder (RISC-V unprivileged spec ch. 2, 7, 8, 10;
privileged spec 3.3).

One row per 32-bit instruction maps the instruction (by name: its mask/match comes from
the one encoding table, ``hardware.isa.instructions``) to the control fields below.
Compressed instructions are expanded to 32-bit ones first (``rvc.py``).

Hardware: every row is a mask/match comparator; the matching row's index selects a
control word from a ROM. Encodings that match no row are illegal.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.config import CoreConfig
from hardware.isa.instructions import BY_NAME

# --- control field encodings -------------------------------------------------------
IMM_I, IMM_S, IMM_B, IMM_U, IMM_J, IMM_Z = range(6)
A_RS1, A_PC, A_ZERO = range(3)
B_RS2, B_IMM = range(2)
ALU_ADD, ALU_SUB, ALU_SLL, ALU_SLT, ALU_SLTU, ALU_XOR, ALU_SRL, ALU_SRA, ALU_OR, ALU_AND = range(10)
WB_ALU, WB_MEM, WB_LINK, WB_CSR, WB_MUL, WB_DIV = range(6)
SYS_NONE, SYS_ECALL, SYS_EBREAK, SYS_MRET, SYS_SRET, SYS_WFI, SYS_SFENCE = range(7)

#: Control word layout: (field, width), LSB first.
FIELDS = (
    ("legal", 1), ("imm", 3), ("a", 2), ("b", 1), ("alu", 4), ("word", 1), ("we", 1),
    ("wb", 3), ("br", 1), ("jal", 1), ("jalr", 1), ("ld", 1), ("st", 1), ("amo", 1),
    ("lr", 1), ("sc", 1), ("csr", 1), ("mul", 1), ("div", 1), ("sys", 3),
)


def _alu(op: int, imm: bool = False, word: bool = False) -> dict:
    return dict(imm=IMM_I, b=B_IMM if imm else B_RS2, alu=op, word=int(word), we=1)


def _rows() -> dict[str, dict]:
    """The control table: instruction name -> control fields (defaults 0)."""
    t: dict[str, dict] = {
        "lui": dict(imm=IMM_U, a=A_ZERO, b=B_IMM, alu=ALU_ADD, we=1),
        "auipc": dict(imm=IMM_U, a=A_PC, b=B_IMM, alu=ALU_ADD, we=1),
        "jal": dict(imm=IMM_J, jal=1, we=1, wb=WB_LINK),
        "jalr": dict(imm=IMM_I, jalr=1, we=1, wb=WB_LINK),
        "fence": dict(), "fence.i": dict(),
        "ecall": dict(sys=SYS_ECALL), "ebreak": dict(sys=SYS_EBREAK),
        "mret": dict(sys=SYS_MRET), "sret": dict(sys=SYS_SRET),
        "wfi": dict(sys=SYS_WFI), "sfence.vma": dict(sys=SYS_SFENCE),
    }
    for n in ("beq", "bne", "blt", "bge", "bltu", "bgeu"):
        t[n] = dict(imm=IMM_B, br=1)
    for n in ("lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"):
        t[n] = dict(imm=IMM_I, ld=1, we=1, wb=WB_MEM)
    for n in ("sb", "sh", "sw", "sd"):
        t[n] = dict(imm=IMM_S, st=1)
    reg_ops = {"add": ALU_ADD, "sub": ALU_SUB, "sll": ALU_SLL, "slt": ALU_SLT,
               "sltu": ALU_SLTU, "xor": ALU_XOR, "srl": ALU_SRL, "sra": ALU_SRA,
               "or": ALU_OR, "and": ALU_AND}
    for n, op in reg_ops.items():
        t[n] = _alu(op)
        if n not in ("sub",):
            t[n + "i"] = _alu(op, imm=True)
    del t["sltui"]
    t["sltiu"] = _alu(ALU_SLTU, imm=True)
    for n in ("add", "sub", "sll", "srl", "sra"):
        t[n + "w"] = _alu(reg_ops[n], word=True)
    for n in ("addi", "slli", "srli", "srai"):
        t[n[:-1] + "iw"] = _alu(reg_ops[n[:-1]], imm=True, word=True)
    for n in ("csrrw", "csrrs", "csrrc"):
        t[n] = dict(csr=1, we=1, wb=WB_CSR)
        t[n + "i"] = dict(csr=1, we=1, wb=WB_CSR, imm=IMM_Z)
    for n in ("mul", "mulh", "mulhsu", "mulhu", "mulw"):
        t[n] = dict(mul=1, we=1, wb=WB_MUL, word=int(n.endswith("w")))
    for n in ("div", "divu", "rem", "remu", "divw", "divuw", "remw", "remuw"):
        t[n] = dict(div=1, we=1, wb=WB_DIV, word=int(n.endswith("w")))
    for sz in ("w", "d"):
        t["lr." + sz] = dict(amo=1, lr=1, we=1, wb=WB_MEM)
        t["sc." + sz] = dict(amo=1, sc=1, we=1, wb=WB_MEM)
        for op in ("swap", "add", "xor", "and", "or", "min", "max", "minu", "maxu"):
            t[f"amo{op}.{sz}"] = dict(amo=1, we=1, wb=WB_MEM)
    return t


CONTROL = _rows()


def pack(fields: dict) -> int:
    """Pack control fields into a control word (``legal`` set)."""
    word, pos = 0, 0
    vals = dict(fields, legal=1)
    for name, width in FIELDS:
        v = vals.get(name, 0)
        assert 0 <= v < (1 << width), (name, v)
        word |= v << pos
        pos += width
    return word


CONTROL_BITS = sum(w for _, w in FIELDS)


@dataclass
class DecodePorts:
    """Decoded control fields; each is a named WireVector."""

    legal: pyrtl.WireVector
    imm: pyrtl.WireVector  # 64-bit sign-extended immediate of the instruction's format
    a: pyrtl.WireVector
    b: pyrtl.WireVector
    alu: pyrtl.WireVector
    word: pyrtl.WireVector
    we: pyrtl.WireVector
    wb: pyrtl.WireVector
    br: pyrtl.WireVector
    jal: pyrtl.WireVector
    jalr: pyrtl.WireVector
    ld: pyrtl.WireVector
    st: pyrtl.WireVector
    amo: pyrtl.WireVector
    lr: pyrtl.WireVector
    sc: pyrtl.WireVector
    csr: pyrtl.WireVector
    mul: pyrtl.WireVector
    div: pyrtl.WireVector
    sys: pyrtl.WireVector


def _sext(w: pyrtl.WireVector, width: int = 64) -> pyrtl.WireVector:
    return w.sign_extended(width)


def build_immediate(insn: pyrtl.WireVector, sel: pyrtl.WireVector) -> pyrtl.WireVector:
    """The 64-bit immediate of each format (unprivileged spec 2.3, figure 2.4)."""
    z = pyrtl.Const(0, 1)
    imm_i = _sext(insn[20:32])
    imm_s = _sext(pyrtl.concat(insn[25:32], insn[7:12]))
    imm_b = _sext(pyrtl.concat(insn[31], insn[7], insn[25:31], insn[8:12], z))
    imm_u = _sext(pyrtl.concat(insn[12:32], pyrtl.Const(0, 12)))
    imm_j = _sext(pyrtl.concat(insn[31], insn[12:20], insn[20], insn[21:31], z))
    imm_z = insn[15:20].zero_extended(64)
    return pyrtl.mux(sel, imm_i, imm_s, imm_b, imm_u, imm_j, imm_z, default=imm_i)


def decode_rows(cfg: CoreConfig) -> list[tuple[str, int, int, int]]:
    """(name, mask, match, control word) for every instruction the core implements."""
    rows = []
    for name, fields in CONTROL.items():
        ins = BY_NAME[name]
        assert ins.width == 32, name
        rows.append((name, ins.mask, ins.match, pack(fields)))
    return rows


def build_decode(cfg: CoreConfig, insn: pyrtl.WireVector) -> DecodePorts:
    """Decode a 32-bit instruction into control fields."""
    rows = decode_rows(cfg)
    hits = [(insn & mask) == match for _, mask, match, _ in rows]
    hit_vec = pyrtl.concat_list(hits)
    nbits = max(1, (len(rows)).bit_length())
    index_bits = []
    for bit in range(nbits):
        sel_mask = sum(1 << i for i in range(len(rows)) if (i + 1) >> bit & 1)
        index_bits.append((hit_vec & sel_mask) != 0)
    index = pyrtl.concat_list(index_bits)  # 0 = no row matched
    rom = pyrtl.RomBlock(bitwidth=CONTROL_BITS, addrwidth=nbits,
                         romdata=[0] + [r[3] for r in rows], name="decode_rom",
                         asynchronous=True, pad_with_zeros=True)
    ctl = rom[index]
    out, pos = {}, 0
    for name, width in FIELDS:
        w = pyrtl.WireVector(width, name=f"dec_{name}_sel" if name == "imm" else f"dec_{name}")
        w <<= ctl[pos:pos + width]
        out[name] = w
        pos += width
    imm = pyrtl.WireVector(64, name="dec_imm")
    imm <<= build_immediate(insn, out["imm"])
    out["imm"] = imm
    return DecodePorts(**out)
