"""RVC expander: every RV64C instruction to its 32-bit equivalent (unpriv spec chapter 16,
"C" standard extension, tables 16.5-16.7 and the expansions listed with each instruction).

Everything is generated from the encoding table (``hardware.isa.instructions``):
- ``EXPANSIONS`` below names, for each compressed row, the 32-bit row it expands to and
  where that row's register operands come from; the fixed bits come from the 32-bit row's
  ``match`` and the immediate is moved bit by bit from the compressed layout to the 32-bit
  layout (``IMMEDIATES``).
- Reserved encodings come from ``C_RESERVED_WHEN`` and the rows flagged ``illegal``.

Hardware shape (kept small: it is on the simulation hot path). Each expansion is a pure
bit permutation, so it is one select net from a *pool* wire that holds the 16 instruction
bits, a constant 0, a constant 1 and the few "field is zero" flags that mark reserved
encodings. Bit 32 of every candidate is its ``illegal`` bit. A decision tree of 2:1 muxes
picks the candidate: first on bits 1:0 and 15:13, then on the few bits or field compares
that split a slot; identical subtrees are shared.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import pyrtl

from hardware.isa.instructions import (BY_NAME, C_RESERVED_WHEN, FORMAT_IMM, IMMEDIATES,
                                       INSTRUCTIONS, Instruction)


@dataclass
class RvcPorts:
    """Outputs of the expander."""

    insn32: pyrtl.WireVector  # 32-bit equivalent; 0 for a non-compressed word (bits 1:0 == 3)
    illegal: pyrtl.WireVector  # 1 bit: reserved encoding or FP load/store (no F/D)


#: Register operand sources: a fixed register number, or a field of the compressed word:
#: "rd" bits 11:7, "crs2" bits 6:2, "rdp" x8+bits 9:7, "rs2p" x8+bits 4:2.
Reg = str | int


@dataclass(frozen=True)
class Expansion:
    """How one compressed row becomes a 32-bit row."""

    target: str  # name of the 32-bit row
    rd: Reg | None = None
    rs1: Reg | None = None
    rs2: Reg | None = None
    imm: str | None = None  # immediate layout of the compressed word if its fmt has none


E = Expansion
SP, RA, ZERO = 2, 1, 0

#: The 32-bit equivalent of each compressed row (unpriv spec 16.3-16.7). Rows flagged
#: ``illegal`` (C FP loads/stores) have none.
EXPANSIONS: dict[str, Expansion] = {
    "c.addi4spn": E("addi", rd="rs2p", rs1=SP),
    "c.lw": E("lw", rd="rs2p", rs1="rdp"),
    "c.ld": E("ld", rd="rs2p", rs1="rdp"),
    "c.sw": E("sw", rs1="rdp", rs2="rs2p"),
    "c.sd": E("sd", rs1="rdp", rs2="rs2p"),
    "c.nop": E("addi", rd="rd", rs1="rd", imm="CI"),
    "c.addi": E("addi", rd="rd", rs1="rd"),
    "c.addiw": E("addiw", rd="rd", rs1="rd"),
    "c.li": E("addi", rd="rd", rs1=ZERO),
    "c.addi16sp": E("addi", rd=SP, rs1=SP),
    "c.lui": E("lui", rd="rd"),
    "c.srli": E("srli", rd="rdp", rs1="rdp"),
    "c.srai": E("srai", rd="rdp", rs1="rdp"),
    "c.andi": E("andi", rd="rdp", rs1="rdp"),
    "c.sub": E("sub", rd="rdp", rs1="rdp", rs2="rs2p"),
    "c.xor": E("xor", rd="rdp", rs1="rdp", rs2="rs2p"),
    "c.or": E("or", rd="rdp", rs1="rdp", rs2="rs2p"),
    "c.and": E("and", rd="rdp", rs1="rdp", rs2="rs2p"),
    "c.subw": E("subw", rd="rdp", rs1="rdp", rs2="rs2p"),
    "c.addw": E("addw", rd="rdp", rs1="rdp", rs2="rs2p"),
    "c.j": E("jal", rd=ZERO),
    "c.beqz": E("beq", rs1="rdp", rs2=ZERO),
    "c.bnez": E("bne", rs1="rdp", rs2=ZERO),
    "c.slli": E("slli", rd="rd", rs1="rd"),
    "c.lwsp": E("lw", rd="rd", rs1=SP),
    "c.ldsp": E("ld", rd="rd", rs1=SP),
    "c.jr": E("jalr", rd=ZERO, rs1="rd"),
    "c.mv": E("add", rd="rd", rs1=ZERO, rs2="crs2"),
    "c.ebreak": E("ebreak"),
    "c.jalr": E("jalr", rd=RA, rs1="rd"),
    "c.add": E("add", rd="rd", rs1="rd", rs2="crs2"),
    "c.swsp": E("sw", rs1=SP, rs2="crs2"),
    "c.sdsp": E("sd", rs1=SP, rs2="crs2"),
}

#: Register fields of the 32-bit word (lsb) each target format has.
_REG_FIELDS = {"rd": 7, "rs1": 15, "rs2": 20}
_FMT_REGS = {
    "R": ("rd", "rs1", "rs2"), "I": ("rd", "rs1"), "LOAD": ("rd", "rs1"),
    "JALR": ("rd", "rs1"), "ISHIFT": ("rd", "rs1"), "S": ("rs1", "rs2"),
    "B": ("rs1", "rs2"), "U": ("rd",), "J": ("rd",), "NONE": (),
}

#: Fields of the compressed word that can hold a register number: (lsb, width, base).
_C_REG_FIELDS = {"rd": (7, 5, 0), "crs2": (2, 5, 0), "rdp": (7, 3, 8), "rs2p": (2, 3, 8)}

#: Fields of the compressed word that split a slot by comparison: name -> (lsb, width).
_C_CMP_FIELDS = {"rd": (7, 5), "crs2": (2, 5)}

# Symbolic bit sources of a candidate: ("b", k) is instruction bit k, ("0",) / ("1",)
# constants, ("z", bits) the flag "all these instruction bits are zero".
Src = tuple
S0, S1 = ("0",), ("1",)
SLOT_BITS = (1, 0, 15, 14, 13)  # the main decision: quadrant, then funct3
SLOT_MASK = sum(1 << b for b in SLOT_BITS)


def _reg_sources(reg: Reg) -> list[Src]:
    """Five sources (lsb first) of a register operand."""
    if isinstance(reg, int):
        return [S1 if reg >> k & 1 else S0 for k in range(5)]
    lsb, width, base = _C_REG_FIELDS[reg]
    return [("b", lsb + k) if k < width else (S1 if base >> k & 1 else S0) for k in range(5)]


def _imm_sources(crow: Instruction, target: Instruction) -> dict[int, Src]:
    """32-bit word bit -> source, for the immediate of ``target`` taken from ``crow``
    (zero when the compressed row has no immediate, as for c.jr)."""
    tkey = FORMAT_IMM.get(target.fmt)
    ckey = EXPANSIONS[crow.name].imm or FORMAT_IMM.get(crow.fmt)
    if tkey is None:
        return {}
    if ckey is None:
        return {word_bit: S0 for word_bit in IMMEDIATES[tkey].imm_to_insn().values()}
    clayout = IMMEDIATES[ckey]
    cmap = clayout.imm_to_insn()
    out = {}
    for imm_bit, word_bit in IMMEDIATES[tkey].imm_to_insn().items():
        if imm_bit in cmap:
            out[word_bit] = ("b", cmap[imm_bit])
        elif clayout.signed and imm_bit > clayout.top:
            out[word_bit] = ("b", cmap[clayout.top])
        else:
            out[word_bit] = S0
    return out


def _illegal_source(crow: Instruction) -> Src:
    """Source of the candidate's illegal bit (a flag for reserved operand values)."""
    when = C_RESERVED_WHEN.get(crow.name)
    if when == "rd":
        return ("z", tuple(range(7, 12)))
    if when == "imm":
        return ("z", tuple(sorted(IMMEDIATES[FORMAT_IMM[crow.fmt]].imm_to_insn().values())))
    return S0


def candidate_sources(crow: Instruction) -> tuple[Src, ...]:
    """The 33 sources (lsb first; bit 32 = illegal) of the expansion of ``crow``."""
    exp = EXPANSIONS[crow.name]
    target = BY_NAME[exp.target]
    bits: dict[int, Src] = {k: (S1 if target.match >> k & 1 else S0)
                            for k in range(32) if target.mask >> k & 1}
    for field in _FMT_REGS[target.fmt]:
        reg = getattr(exp, field)
        if reg is None:
            raise ValueError(f"rvc.py EXPANSIONS: {crow.name} needs a {field} source")
        for k, src in enumerate(_reg_sources(reg)):
            bits[_REG_FIELDS[field] + k] = src
    bits.update(_imm_sources(crow, target))
    if sorted(bits) != list(range(32)):
        raise ValueError(f"rvc.py EXPANSIONS: {crow.name} leaves bits of {target.name} unset")
    return tuple(bits[k] for k in range(32)) + (_illegal_source(crow),)


# ---------------------------------------------------------------------------------------
# Decision tree over predicates. A predicate is ("b", k): bit k is 1, or ("eq", field, v):
# the compressed field equals v. A node is ("node", predicate, tree_if_1, tree_if_0); a
# leaf is "illegal", "plain" (bits 1:0 = 3) or ("cand", sources) of one expansion, so
# rows with the same expansion (c.nop, c.addi) are one leaf.


def _row_constraints(row: Instruction) -> dict[tuple, bool]:
    """Predicates that must hold for ``row`` beyond its slot (op and funct3)."""
    extra = row.mask & ~SLOT_MASK
    out: dict[tuple, bool] = {}
    for name, (lsb, width) in _C_CMP_FIELDS.items():
        fmask = ((1 << width) - 1) << lsb
        if extra & fmask == fmask:
            out[("eq", name, (row.match & fmask) >> lsb)] = True
            extra &= ~fmask
    for k in range(16):
        if extra >> k & 1:
            out[("b", k)] = bool(row.match >> k & 1)
    return out


def _leaf(row: Instruction) -> object:
    return "illegal" if row.illegal else ("cand", candidate_sources(row))


def _node(pred: tuple, one: object, zero: object) -> object:
    return one if one == zero else ("node", pred, one, zero)


def _size(node: object) -> int:
    """Number of muxes of a tree."""
    return 1 + _size(node[2]) + _size(node[3]) if node[0] == "node" else 0


def _slot_tree(rows: list[Instruction]) -> object:
    """Smallest decision tree of one slot (all rows share quadrant and funct3)."""
    cons = [(_row_constraints(r), r) for r in rows]
    preds = sorted({p for c, _ in cons for p in c})

    def build(order: tuple, i: int, assign: dict[tuple, bool]) -> object:
        if i == len(order):
            for c, r in cons:
                if all(assign.get(p) == v for p, v in c.items()):
                    return _leaf(r)
            return "illegal"
        return _node(order[i], build(order, i + 1, {**assign, order[i]: True}),
                     build(order, i + 1, {**assign, order[i]: False}))

    trees = (build(order, 0, {}) for order in itertools.permutations(preds))
    return min(trees, key=_size)


@functools.cache
def decision_tree() -> object:
    """The whole expander's decision tree (slot bits first, then in-slot predicates)."""
    c_rows = [r for r in INSTRUCTIONS if r.width == 16]

    def build(i: int, op: int, f3: int) -> object:
        if i == len(SLOT_BITS):
            if op == 3:
                return "plain"
            rows = [r for r in c_rows if r.match & 3 == op and r.match >> 13 == f3]
            return _slot_tree(rows) if rows else "illegal"
        bit = SLOT_BITS[i]
        sub = [build(i + 1, op | (v << bit if bit < 2 else 0),
                     f3 | (v << (bit - 13) if bit >= 13 else 0)) for v in (1, 0)]
        return _node(("b", bit), *sub)

    return build(0, 0, 0)


# ---------------------------------------------------------------------------------------
# Hardware


def _gather(src: pyrtl.WireVector, indices: list[int]) -> pyrtl.WireVector:
    """One select net: bit i of the result is bit ``indices[i]`` of ``src``."""
    out = pyrtl.WireVector(bitwidth=len(indices))
    net = pyrtl.LogicNet(op="s", op_param=tuple(indices), args=(src,), dests=(out,))
    pyrtl.working_block().add_net(net)
    return out


class _Builder:
    """Materializes the decision tree for one instruction wire, sharing every subterm."""

    def __init__(self, insn: pyrtl.WireVector):
        self.insn = insn
        self.zero_flags: dict[tuple[int, ...], pyrtl.WireVector] = {}
        self.preds: dict[tuple, pyrtl.WireVector] = {}
        self.cands: dict[tuple, pyrtl.WireVector] = {}
        self.pool_index: dict[Src, int] = {}
        self.pool: pyrtl.WireVector | None = None

    def zero_flag(self, bits: tuple[int, ...]) -> pyrtl.WireVector:
        """1 when all the given instruction bits are 0."""
        if bits not in self.zero_flags:
            picked = _gather(self.insn, list(bits))
            self.zero_flags[bits] = picked == 0
        return self.zero_flags[bits]

    def predicate(self, pred: tuple) -> pyrtl.WireVector:
        """1-bit wire of a decision-tree predicate."""
        if pred not in self.preds:
            if pred[0] == "b":
                self.preds[pred] = self.insn[pred[1]]
            else:
                lsb, width = _C_CMP_FIELDS[pred[1]]
                bits = tuple(range(lsb, lsb + width))
                self.preds[pred] = (self.zero_flag(bits) if pred[2] == 0
                                    else _gather(self.insn, list(bits)) == pred[2])
        return self.preds[pred]

    def make_pool(self, leaves: list[tuple[Src, ...]]) -> None:
        """The pool wire: instruction bits, 0, 1, then every reserved-operand flag."""
        flags = sorted({s for srcs in leaves for s in srcs if s[0] == "z"})
        self.pool_index = {("b", k): k for k in range(16)}
        self.pool_index[S0], self.pool_index[S1] = 16, 17
        parts = [self.zero_flag(f[1]) for f in flags]
        for i, f in enumerate(flags):
            self.pool_index[f] = 18 + i
        self.pool = pyrtl.concat(*reversed(parts), pyrtl.Const(0b10, 2), self.insn)

    def leaf(self, node: object) -> pyrtl.WireVector:
        if node == "illegal":
            return pyrtl.Const(1 << 32, 33)
        if node == "plain":
            return pyrtl.Const(0, 33)
        srcs = node[1]
        if srcs not in self.cands:
            self.cands[srcs] = _gather(self.pool, [self.pool_index[s] for s in srcs])
        return self.cands[srcs]

    def tree(self, node: object) -> pyrtl.WireVector:
        if node in ("illegal", "plain") or node[0] == "cand":
            return self.leaf(node)
        _, pred, one, zero = node
        return pyrtl.select(self.predicate(pred), self.tree(one), self.tree(zero))


def _leaves(node: object) -> list[tuple[Src, ...]]:
    """Sources of every candidate in the tree."""
    if node in ("illegal", "plain"):
        return []
    if node[0] == "cand":
        return [node[1]]
    return _leaves(node[2]) + _leaves(node[3])


def _eval_source(src: Src, word: int) -> int:
    if src[0] == "b":
        return word >> src[1] & 1
    if src[0] == "z":
        return int(all(not word >> k & 1 for k in src[1]))
    return 1 if src == S1 else 0


def _eval_pred(pred: tuple, word: int) -> bool:
    if pred[0] == "b":
        return bool(word >> pred[1] & 1)
    lsb, width = _C_CMP_FIELDS[pred[1]]
    return (word >> lsb) & ((1 << width) - 1) == pred[2]


def expand_word(word: int) -> int:
    """The same decision tree evaluated in Python: the 33-bit result (bit 32 =
    illegal) of expanding the 16-bit ``word``; 0 for a 32-bit encoding (bits 1:0 = 3)."""
    node = decision_tree()
    while node[0] == "node":
        _, pred, one, zero = node
        node = one if _eval_pred(pred, word) else zero
    if node == "illegal":
        return 1 << 32
    if node == "plain":
        return 0
    return sum(_eval_source(src, word) << k for k, src in enumerate(node[1]))


@functools.cache
def expansion_table() -> tuple[int, ...]:
    """``expand_word`` of every 16-bit word: the contents of the expander ROM."""
    return tuple(expand_word(w) for w in range(1 << 16))


def build_rvc_expander(insn: pyrtl.WireVector, style: str = "rom") -> RvcPorts:
    """Expand the 16-bit ``insn`` (unpriv spec 16.8) to a 32-bit instruction.

    ``style="rom"`` (default) looks the expansion up in a 64K-entry ROM generated from
    the decision tree: one net, the cheapest form for the simulators. ``style="logic"``
    builds the decision tree as muxes over bit permutations (about 90 nets), the form
    a synthesis flow wants; both compute ``expand_word``."""
    if insn.bitwidth != 16:
        raise pyrtl.PyrtlError(f"rvc expander: insn must be 16 bits, got {insn.bitwidth}")
    if style == "rom":
        rom = pyrtl.RomBlock(bitwidth=33, addrwidth=16, romdata=list(expansion_table()),
                             name="rvc_rom", asynchronous=True)
        out = rom[insn]
    elif style == "logic":
        tree = decision_tree()
        b = _Builder(insn)
        b.make_pool(_leaves(tree))
        out = b.tree(tree)
    else:
        raise ValueError(f"rvc expander style must be 'rom' or 'logic', not '{style}'")
    return RvcPorts(insn32=out[0:32], illegal=out[32])


def _check_expansions() -> None:
    for row in INSTRUCTIONS:
        if row.width == 16 and (row.name in EXPANSIONS) == row.illegal:
            raise ValueError(f"rvc.py EXPANSIONS: row {row.name} has the wrong entry")


_check_expansions()
