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
(SYS_NONE, SYS_ECALL, SYS_EBREAK, SYS_MRET, SYS_SRET, SYS_WFI, SYS_SFENCE, SYS_HFENCE_V,
 SYS_HFENCE_G) = range(9)

#: Control word layout: (field, width), LSB first.
FIELDS = (
    ("legal", 1), ("imm", 3), ("a", 2), ("b", 1), ("alu", 4), ("word", 1), ("we", 1),
    ("wb", 3), ("br", 1), ("jal", 1), ("jalr", 1), ("ld", 1), ("st", 1), ("amo", 1),
    ("lr", 1), ("sc", 1), ("csr", 1), ("mul", 1), ("div", 1), ("sys", 4), ("hx", 1),
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
    # H extension: HLV/HLVX are loads, HSV stores, at rs1 (no immediate); ``hx`` marks
    # them (size in funct7[2:1], unsigned in rs2[0]); the fences are system ops.
    for n in ("hlv.b", "hlv.bu", "hlv.h", "hlv.hu", "hlvx.hu", "hlv.w", "hlv.wu",
              "hlvx.wu", "hlv.d"):
        t[n] = dict(ld=1, we=1, wb=WB_MEM, hx=1)
    for n in ("hsv.b", "hsv.h", "hsv.w", "hsv.d"):
        t[n] = dict(st=1, hx=1)
    t["hfence.vvma"] = dict(sys=SYS_HFENCE_V)
    t["hfence.gvma"] = dict(sys=SYS_HFENCE_G)
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
    hx: pyrtl.WireVector  # HLV/HLVX/HSV


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
        if ins.ext == "H" and not cfg.has_h:
            continue
        assert ins.width == 32, name
        rows.append((name, ins.mask, ins.match, pack(fields)))
    return rows


#: Bits of the instruction that select a row: funct7 (31:25), funct3 (14:12) and
#: opcode (6:2). Only ECALL/EBREAK and SRET/WFI share a key; they are told apart by an
#: exact compare.
KEY_FIELDS = ((25, 32), (12, 15), (2, 7))
KEY_MASK = sum(((1 << (hi - lo)) - 1) << lo for lo, hi in KEY_FIELDS)


def _key_of(word: int) -> int:
    key = 0
    for lo, hi in KEY_FIELDS:
        key = (key << (hi - lo)) | ((word >> lo) & ((1 << (hi - lo)) - 1))
    return key


def _word_of(key: int) -> int:
    word, pos = 3, 0
    for lo, hi in reversed(KEY_FIELDS):
        width = hi - lo
        word |= ((key >> pos) & ((1 << width) - 1)) << lo
        pos += width
    return word


def key_table(rows: list) -> tuple[list[int], list[list[int]]]:
    """For every key, 1 + the index of the row it can only be (0: no row), and the
    groups of rows that share a key (the first is the one the table names)."""
    table, groups = [], []
    for key in range(1 << 15):
        word = _word_of(key)
        cands = [i for i, (_, mask, match, _) in enumerate(rows)
                 if (word & mask & KEY_MASK) == (match & KEY_MASK)]
        if len(cands) > 1 and cands not in groups:
            groups.append(cands)
        table.append(cands[0] + 1 if cands else 0)
    return table, groups


def _rom(name: str, width: int, data: list[int]) -> pyrtl.RomBlock:
    addrwidth = max(1, (len(data) - 1).bit_length())
    return pyrtl.RomBlock(bitwidth=width, addrwidth=addrwidth, romdata=data, name=name,
                          asynchronous=True, pad_with_zeros=True)


def build_decode(cfg: CoreConfig, insn: pyrtl.WireVector) -> DecodePorts:
    """Decode a 32-bit instruction into control fields.

    A ROM indexed by the key bits names the only row that can match; the row's full
    mask/match then decides legality (so every undefined encoding is illegal)."""
    rows = decode_rows(cfg)
    table, groups = key_table(rows)
    nbits = len(rows).bit_length()
    key = pyrtl.concat_list([insn[lo:hi] for lo, hi in reversed(KEY_FIELDS)])
    index = _rom("decode_key_rom", nbits, table)[key]
    for group in groups:
        for i in group[1:]:
            _, mask, match, _ = rows[i]
            index = pyrtl.select((insn & mask) == match, pyrtl.Const(i + 1, nbits), index)
    mask_rom = _rom("decode_mask_rom", 32, [0] + [r[1] for r in rows])
    match_rom = _rom("decode_match_rom", 32, [1] + [r[2] for r in rows])
    exact = (insn & mask_rom[index]) == match_rom[index]
    ctl_raw = _rom("decode_ctl_rom", CONTROL_BITS, [0] + [r[3] for r in rows])[index]
    ctl = pyrtl.select(exact, ctl_raw, pyrtl.Const(0, CONTROL_BITS))  # illegal: no effects
    out, pos = {}, 0
    for name, width in FIELDS:
        w = pyrtl.WireVector(width, name=f"dec_{name}_sel" if name == "imm" else f"dec_{name}")
        field = ctl[pos:pos + width]
        w <<= field
        out[name] = w
        pos += width
    imm = pyrtl.WireVector(64, name="dec_imm")
    imm <<= build_immediate(insn, out["imm"])
    out["imm"] = imm
    return DecodePorts(**out)
