"""The one instruction-encoding table of hvsim.

Sources: RISC-V unprivileged spec 20191213 chapters 2 (RV32I), 5 (RV64I), 7 (M), 8 (A),
9 (Zicsr), 3 (Zifencei), 16 (C, tables 16.4-16.7 for the RV64C quadrants) and the
privileged spec 1.12 sections 3.3 (mret/wfi), 4.2 (sret/sfence.vma) and 8.2/8.5 (H:
hfence, hlv/hlvx/hsv).

Each row gives a mnemonic, the bits that must match (``mask``) and their values
(``match``). The decoder, the disassembler, the C headers, the docs and the random
program generator are all generated from ``INSTRUCTIONS``.

Rows are grouped by extension. Within a 16-bit quadrant a more specific row comes first
where two rows overlap (listed in ``OVERLAPS``); ``lookup`` returns the first fit.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bit positions (msb, lsb) of the named encoding fields used to build rows.
FIELDS: dict[str, tuple[int, int]] = {
    # 32-bit formats
    "opcode": (6, 0),
    "rd": (11, 7),
    "funct3": (14, 12),
    "rs1": (19, 15),
    "rs2": (24, 20),
    "funct7": (31, 25),
    "funct6": (31, 26),
    "funct5": (31, 27),
    "imm12": (31, 20),
    "word": (31, 0),
    # 16-bit formats
    "op": (1, 0),
    "cfunct3": (15, 13),
    "c12": (12, 12),
    "crd": (11, 7),
    "crs2": (6, 2),
    "cfunct2": (11, 10),
    "cfunct2b": (6, 5),
    "half": (15, 0),
}

#: Operand formats (closed set) used by the disassembler and the program generator.
FORMATS = frozenset({
    "R", "I", "ISHIFT", "ISHIFTW", "S", "B", "U", "J", "JALR", "LOAD", "CSR", "CSRI",
    "AMO", "LR", "FENCE", "NONE", "SFENCE", "HLV", "HSV",
    "CIW", "CLW", "CLD", "CSW", "CSD", "CI", "CADDI16SP", "CLUI", "CSLLI", "CSHIFT",
    "CANDI", "CA", "CJ", "CB", "CLWSP", "CLDSP", "CSWSP", "CSDSP", "CJR", "CR", "CNONE",
})

EXTENSIONS = ("I", "M", "A", "Zicsr", "Zifencei", "priv", "H", "C")


@dataclass(frozen=True)
class Instruction:
    """One row of the encoding table."""

    name: str  # lower-case assembler mnemonic
    mask: int  # bits that must match
    match: int  # their values
    ext: str  # "I", "M", "A", "C", "Zicsr", "Zifencei", "priv", "H"
    fmt: str  # operand format, one of FORMATS
    width: int  # 32 or 16
    illegal: bool = False  # listed for completeness, decodes as illegal (C FP rows: no F/D)

    def matches(self, word: int) -> bool:
        """True when ``word`` has this row's fixed bits."""
        return word & self.mask == self.match


@dataclass(frozen=True)
class ImmLayout:
    """Where an immediate's bits sit in an instruction word (the spec's format figures).

    Each segment ``(insn_hi, insn_lo, imm_lo)`` puts instruction bits insn_hi..insn_lo at
    immediate bits imm_lo + (insn_hi - insn_lo)..imm_lo. Immediate bits no segment names
    are zero; a signed immediate is sign-extended from its highest named bit.
    """

    segments: tuple[tuple[int, int, int], ...]
    signed: bool

    def imm_to_insn(self) -> dict[int, int]:
        """Map immediate bit -> instruction bit."""
        return {lo + k: ilo + k for ihi, ilo, lo in self.segments for k in range(ihi - ilo + 1)}

    @property
    def top(self) -> int:
        """The highest immediate bit the encoding holds (the sign bit when signed)."""
        return max(self.imm_to_insn())

    def decode(self, word: int) -> int:
        """The immediate value of ``word`` (a Python int, negative when signed)."""
        value = 0
        for imm_bit, insn_bit in self.imm_to_insn().items():
            value |= (word >> insn_bit & 1) << imm_bit
        if self.signed and value >> self.top & 1:
            value -= 1 << (self.top + 1)
        return value

    def encode(self, value: int) -> int:
        """The instruction bits that hold ``value`` (bits the layout cannot hold are lost)."""
        word = 0
        for imm_bit, insn_bit in self.imm_to_insn().items():
            word |= (value >> imm_bit & 1) << insn_bit
        return word


#: Immediate layouts of the 32-bit formats (unpriv 2.3, 2.5) and of RVC (unpriv 16.3).
IMMEDIATES: dict[str, ImmLayout] = {
    "I": ImmLayout(((31, 20, 0),), True),
    "S": ImmLayout(((31, 25, 5), (11, 7, 0)), True),
    "B": ImmLayout(((31, 31, 12), (30, 25, 5), (11, 8, 1), (7, 7, 11)), True),
    "U": ImmLayout(((31, 12, 12),), True),
    "J": ImmLayout(((31, 31, 20), (30, 21, 1), (20, 20, 11), (19, 12, 12)), True),
    "SHAMT": ImmLayout(((25, 20, 0),), False),
    "SHAMTW": ImmLayout(((24, 20, 0),), False),
    "CSR": ImmLayout(((31, 20, 0),), False),
    "ZIMM": ImmLayout(((19, 15, 0),), False),
    "CIW": ImmLayout(((12, 11, 4), (10, 7, 6), (6, 6, 2), (5, 5, 3)), False),
    "CL_W": ImmLayout(((12, 10, 3), (6, 6, 2), (5, 5, 6)), False),
    "CL_D": ImmLayout(((12, 10, 3), (6, 5, 6)), False),
    "CI": ImmLayout(((12, 12, 5), (6, 2, 0)), True),
    "CSHAMT": ImmLayout(((12, 12, 5), (6, 2, 0)), False),
    "C16SP": ImmLayout(((12, 12, 9), (6, 6, 4), (5, 5, 6), (4, 3, 7), (2, 2, 5)), True),
    "CLUI": ImmLayout(((12, 12, 17), (6, 2, 12)), True),
    "CJ": ImmLayout(((12, 12, 11), (11, 11, 4), (10, 9, 8), (8, 8, 10), (7, 7, 6),
                     (6, 6, 7), (5, 3, 1), (2, 2, 5)), True),
    "CB": ImmLayout(((12, 12, 8), (11, 10, 3), (6, 5, 6), (4, 3, 1), (2, 2, 5)), True),
    "CLWSP": ImmLayout(((12, 12, 5), (6, 4, 2), (3, 2, 6)), False),
    "CLDSP": ImmLayout(((12, 12, 5), (6, 5, 3), (4, 2, 6)), False),
    "CSWSP": ImmLayout(((12, 9, 2), (8, 7, 6)), False),
    "CSDSP": ImmLayout(((12, 10, 3), (9, 7, 6)), False),
}


#: The immediate layout (key of IMMEDIATES) each operand format carries, if any.
FORMAT_IMM: dict[str, str] = {
    "I": "I", "LOAD": "I", "JALR": "I", "S": "S", "B": "B", "U": "U", "J": "J",
    "ISHIFT": "SHAMT", "ISHIFTW": "SHAMTW", "CSRI": "ZIMM",
    "CIW": "CIW", "CLW": "CL_W", "CSW": "CL_W", "CLD": "CL_D", "CSD": "CL_D", "CI": "CI",
    "CANDI": "CI", "CADDI16SP": "C16SP", "CLUI": "CLUI", "CSLLI": "CSHAMT",
    "CSHIFT": "CSHAMT", "CJ": "CJ", "CB": "CB", "CLWSP": "CLWSP", "CLDSP": "CLDSP",
    "CSWSP": "CSWSP", "CSDSP": "CSDSP",
}


def _enc(**fields: int) -> tuple[int, int]:
    """Mask and match of the given field values."""
    mask = match = 0
    for name, value in fields.items():
        hi, lo = FIELDS[name]
        fmask = ((1 << (hi - lo + 1)) - 1) << lo
        if value << lo & ~fmask:
            raise ValueError(f"instruction table: value {value:#x} does not fit field {name}")
        mask |= fmask
        match |= value << lo
    return mask, match


def _r32(name: str, ext: str, fmt: str, **fields: int) -> Instruction:
    mask, match = _enc(**fields)
    return Instruction(name, mask, match, ext, fmt, 32)


def _r16(name: str, fmt: str, illegal: bool = False, **fields: int) -> Instruction:
    mask, match = _enc(**fields)
    return Instruction(name, mask, match, "C", fmt, 16, illegal)


OP_LUI, OP_AUIPC, OP_JAL, OP_JALR = 0b0110111, 0b0010111, 0b1101111, 0b1100111
OP_BRANCH, OP_LOAD, OP_STORE, OP_IMM = 0b1100011, 0b0000011, 0b0100011, 0b0010011
OP_IMM32, OP_OP, OP_OP32, OP_MISC_MEM = 0b0011011, 0b0110011, 0b0111011, 0b0001111
OP_SYSTEM, OP_AMO = 0b1110011, 0b0101111


def _rv64i() -> list[Instruction]:
    rows = [
        _r32("lui", "I", "U", opcode=OP_LUI),
        _r32("auipc", "I", "U", opcode=OP_AUIPC),
        _r32("jal", "I", "J", opcode=OP_JAL),
        _r32("jalr", "I", "JALR", opcode=OP_JALR, funct3=0),
    ]
    for f3, n in ((0, "beq"), (1, "bne"), (4, "blt"), (5, "bge"), (6, "bltu"), (7, "bgeu")):
        rows.append(_r32(n, "I", "B", opcode=OP_BRANCH, funct3=f3))
    for f3, n in enumerate(("lb", "lh", "lw", "ld", "lbu", "lhu", "lwu")):
        rows.append(_r32(n, "I", "LOAD", opcode=OP_LOAD, funct3=f3))
    for f3, n in enumerate(("sb", "sh", "sw", "sd")):
        rows.append(_r32(n, "I", "S", opcode=OP_STORE, funct3=f3))
    for f3, n in ((0, "addi"), (2, "slti"), (3, "sltiu"), (4, "xori"), (6, "ori"), (7, "andi")):
        rows.append(_r32(n, "I", "I", opcode=OP_IMM, funct3=f3))
    rows += [
        _r32("slli", "I", "ISHIFT", opcode=OP_IMM, funct3=1, funct6=0b000000),
        _r32("srli", "I", "ISHIFT", opcode=OP_IMM, funct3=5, funct6=0b000000),
        _r32("srai", "I", "ISHIFT", opcode=OP_IMM, funct3=5, funct6=0b010000),
    ]
    for f3, f7, n in ((0, 0, "add"), (0, 0b0100000, "sub"), (1, 0, "sll"), (2, 0, "slt"),
                      (3, 0, "sltu"), (4, 0, "xor"), (5, 0, "srl"), (5, 0b0100000, "sra"),
                      (6, 0, "or"), (7, 0, "and")):
        rows.append(_r32(n, "I", "R", opcode=OP_OP, funct3=f3, funct7=f7))
    rows += [
        _r32("addiw", "I", "I", opcode=OP_IMM32, funct3=0),
        _r32("slliw", "I", "ISHIFTW", opcode=OP_IMM32, funct3=1, funct7=0),
        _r32("srliw", "I", "ISHIFTW", opcode=OP_IMM32, funct3=5, funct7=0),
        _r32("sraiw", "I", "ISHIFTW", opcode=OP_IMM32, funct3=5, funct7=0b0100000),
    ]
    for f3, f7, n in ((0, 0, "addw"), (0, 0b0100000, "subw"), (1, 0, "sllw"),
                      (5, 0, "srlw"), (5, 0b0100000, "sraw")):
        rows.append(_r32(n, "I", "R", opcode=OP_OP32, funct3=f3, funct7=f7))
    rows += [
        _r32("fence", "I", "FENCE", opcode=OP_MISC_MEM, funct3=0),
        _r32("ecall", "I", "NONE", word=0x0000_0073),
        _r32("ebreak", "I", "NONE", word=0x0010_0073),
    ]
    return rows


def _rv64m() -> list[Instruction]:
    names = ("mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu")
    rows = [_r32(n, "M", "R", opcode=OP_OP, funct3=f3, funct7=1) for f3, n in enumerate(names)]
    for f3, n in ((0, "mulw"), (4, "divw"), (5, "divuw"), (6, "remw"), (7, "remuw")):
        rows.append(_r32(n, "M", "R", opcode=OP_OP32, funct3=f3, funct7=1))
    return rows


#: funct5 of the A-extension operations (unpriv spec table 8.x / opcode map).
AMO_FUNCT5 = {
    "lr": 0b00010, "sc": 0b00011, "amoswap": 0b00001, "amoadd": 0b00000,
    "amoxor": 0b00100, "amoand": 0b01100, "amoor": 0b01000, "amomin": 0b10000,
    "amomax": 0b10100, "amominu": 0b11000, "amomaxu": 0b11100,
}


def _rv64a() -> list[Instruction]:
    rows = []
    for f3, sfx in ((2, "w"), (3, "d")):
        for op, f5 in AMO_FUNCT5.items():
            if op == "lr":
                rows.append(_r32(f"lr.{sfx}", "A", "LR", opcode=OP_AMO, funct3=f3,
                                 funct5=f5, rs2=0))
            else:
                rows.append(_r32(f"{op}.{sfx}", "A", "AMO", opcode=OP_AMO, funct3=f3,
                                 funct5=f5))
    return rows


def _zicsr() -> list[Instruction]:
    names = ((1, "csrrw"), (2, "csrrs"), (3, "csrrc"), (5, "csrrwi"), (6, "csrrsi"),
             (7, "csrrci"))
    return [_r32(n, "Zicsr", "CSRI" if f3 >= 5 else "CSR", opcode=OP_SYSTEM, funct3=f3)
            for f3, n in names]


def _priv() -> list[Instruction]:
    return [
        _r32("sret", "priv", "NONE", word=0x1020_0073),
        _r32("mret", "priv", "NONE", word=0x3020_0073),
        _r32("wfi", "priv", "NONE", word=0x1050_0073),
        _r32("sfence.vma", "priv", "SFENCE", opcode=OP_SYSTEM, rd=0, funct3=0,
             funct7=0b0001001),
    ]


def _hyp() -> list[Instruction]:
    rows = [
        _r32("hfence.vvma", "H", "SFENCE", opcode=OP_SYSTEM, rd=0, funct3=0,
             funct7=0b0010001),
        _r32("hfence.gvma", "H", "SFENCE", opcode=OP_SYSTEM, rd=0, funct3=0,
             funct7=0b0110001),
    ]
    loads = (("hlv.b", 0b0110000, 0), ("hlv.bu", 0b0110000, 1),
             ("hlv.h", 0b0110010, 0), ("hlv.hu", 0b0110010, 1), ("hlvx.hu", 0b0110010, 3),
             ("hlv.w", 0b0110100, 0), ("hlv.wu", 0b0110100, 1), ("hlvx.wu", 0b0110100, 3),
             ("hlv.d", 0b0110110, 0))
    for n, f7, rs2 in loads:
        rows.append(_r32(n, "H", "HLV", opcode=OP_SYSTEM, funct3=4, funct7=f7, rs2=rs2))
    for n, f7 in (("hsv.b", 0b0110001), ("hsv.h", 0b0110011), ("hsv.w", 0b0110101),
                  ("hsv.d", 0b0110111)):
        rows.append(_r32(n, "H", "HSV", opcode=OP_SYSTEM, funct3=4, funct7=f7, rd=0))
    return rows


def _rv64c() -> list[Instruction]:
    """RV64C, quadrants 0, 1, 2 (unpriv spec 16.8, tables 16.5-16.7)."""
    return [
        # quadrant 0
        _r16("c.addi4spn", "CIW", op=0, cfunct3=0b000),
        _r16("c.fld", "CLD", True, op=0, cfunct3=0b001),
        _r16("c.lw", "CLW", op=0, cfunct3=0b010),
        _r16("c.ld", "CLD", op=0, cfunct3=0b011),
        _r16("c.fsd", "CSD", True, op=0, cfunct3=0b101),
        _r16("c.sw", "CSW", op=0, cfunct3=0b110),
        _r16("c.sd", "CSD", op=0, cfunct3=0b111),
        # quadrant 1
        _r16("c.nop", "CNONE", op=1, cfunct3=0b000, crd=0),
        _r16("c.addi", "CI", op=1, cfunct3=0b000),
        _r16("c.addiw", "CI", op=1, cfunct3=0b001),
        _r16("c.li", "CI", op=1, cfunct3=0b010),
        _r16("c.addi16sp", "CADDI16SP", op=1, cfunct3=0b011, crd=2),
        _r16("c.lui", "CLUI", op=1, cfunct3=0b011),
        _r16("c.srli", "CSHIFT", op=1, cfunct3=0b100, cfunct2=0b00),
        _r16("c.srai", "CSHIFT", op=1, cfunct3=0b100, cfunct2=0b01),
        _r16("c.andi", "CANDI", op=1, cfunct3=0b100, cfunct2=0b10),
        _r16("c.sub", "CA", op=1, cfunct3=0b100, c12=0, cfunct2=0b11, cfunct2b=0b00),
        _r16("c.xor", "CA", op=1, cfunct3=0b100, c12=0, cfunct2=0b11, cfunct2b=0b01),
        _r16("c.or", "CA", op=1, cfunct3=0b100, c12=0, cfunct2=0b11, cfunct2b=0b10),
        _r16("c.and", "CA", op=1, cfunct3=0b100, c12=0, cfunct2=0b11, cfunct2b=0b11),
        _r16("c.subw", "CA", op=1, cfunct3=0b100, c12=1, cfunct2=0b11, cfunct2b=0b00),
        _r16("c.addw", "CA", op=1, cfunct3=0b100, c12=1, cfunct2=0b11, cfunct2b=0b01),
        _r16("c.j", "CJ", op=1, cfunct3=0b101),
        _r16("c.beqz", "CB", op=1, cfunct3=0b110),
        _r16("c.bnez", "CB", op=1, cfunct3=0b111),
        # quadrant 2
        _r16("c.slli", "CSLLI", op=2, cfunct3=0b000),
        _r16("c.fldsp", "CLDSP", True, op=2, cfunct3=0b001),
        _r16("c.lwsp", "CLWSP", op=2, cfunct3=0b010),
        _r16("c.ldsp", "CLDSP", op=2, cfunct3=0b011),
        _r16("c.jr", "CJR", op=2, cfunct3=0b100, c12=0, crs2=0),
        _r16("c.mv", "CR", op=2, cfunct3=0b100, c12=0),
        _r16("c.ebreak", "CNONE", half=0x9002),
        _r16("c.jalr", "CJR", op=2, cfunct3=0b100, c12=1, crs2=0),
        _r16("c.add", "CR", op=2, cfunct3=0b100, c12=1),
        _r16("c.fsdsp", "CSDSP", True, op=2, cfunct3=0b101),
        _r16("c.swsp", "CSWSP", op=2, cfunct3=0b110),
        _r16("c.sdsp", "CSDSP", op=2, cfunct3=0b111),
    ]


INSTRUCTIONS: tuple[Instruction, ...] = tuple(
    _rv64i() + _rv64m() + _rv64a() + _zicsr()
    + [_r32("fence.i", "Zifencei", "NONE", opcode=OP_MISC_MEM, funct3=1)]
    + _priv() + _hyp() + _rv64c()
)

BY_NAME: dict[str, Instruction] = {r.name: r for r in INSTRUCTIONS}

#: Pairs (specific, general) of rows that both match some words; the specific row is
#: listed first and wins. c.nop is c.addi with rd=0 (its nonzero-imm forms are HINTs);
#: c.addi16sp is the rd=2 case of c.lui's slot; c.jr / c.jalr are the rs2=0 cases of
#: c.mv / c.add; c.ebreak is the rd=0 case of c.jalr.
OVERLAPS: frozenset[tuple[str, str]] = frozenset({
    ("c.nop", "c.addi"),
    ("c.addi16sp", "c.lui"),
    ("c.jr", "c.mv"),
    ("c.jalr", "c.add"),
    ("c.ebreak", "c.jalr"),
    ("c.ebreak", "c.add"),
})

#: Reserved encodings inside a compressed row's slot (unpriv 16.8, tables 16.5-16.7):
#: "imm" when the row's immediate is zero, "rd" when bits 11:7 (rd or rs1) are zero.
#: Rows flagged ``illegal`` are reserved whatever their operands.
C_RESERVED_WHEN: dict[str, str] = {
    "c.addi4spn": "imm",
    "c.addiw": "rd",
    "c.addi16sp": "imm",
    "c.lui": "imm",
    "c.lwsp": "rd",
    "c.ldsp": "rd",
    "c.jr": "rd",
}


def reserved(row: Instruction, word: int) -> bool:
    """True when ``word`` (matched by ``row``) is a reserved encoding of that row."""
    when = C_RESERVED_WHEN.get(row.name)
    if row.illegal or when is None:
        return row.illegal
    if when == "rd":
        return word >> 7 & 0x1F == 0
    return IMMEDIATES[FORMAT_IMM[row.fmt]].decode(word) == 0


_ROWS32 = tuple(r for r in INSTRUCTIONS if r.width == 32)
_ROWS16 = tuple(r for r in INSTRUCTIONS if r.width == 16)


def lookup(word: int) -> Instruction | None:
    """The first row whose mask/match fits ``word`` (16-bit rows when word & 3 != 3)."""
    if word & 3 == 3:
        rows, word = _ROWS32, word & 0xFFFF_FFFF
    else:
        rows, word = _ROWS16, word & 0xFFFF
    for r in rows:
        if word & r.mask == r.match:
            return r
    return None


def _check_table() -> None:
    names = [r.name for r in INSTRUCTIONS]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"instruction table: duplicate rows {sorted(dup)}")
    for r in INSTRUCTIONS:
        if r.fmt not in FORMATS or r.ext not in EXTENSIONS or r.match & ~r.mask:
            raise ValueError(f"instruction table: bad row {r.name}")
        if (r.width == 16) != (r.match & 3 != 3):
            raise ValueError(f"instruction table: row {r.name} width disagrees with bits 1:0")
        if FORMAT_IMM.get(r.fmt, "I") not in IMMEDIATES:
            raise ValueError(f"instruction table: row {r.name} has no immediate layout")
    if not set(C_RESERVED_WHEN) <= set(BY_NAME):
        raise ValueError("instruction table: C_RESERVED_WHEN names an unknown row")


_check_table()
