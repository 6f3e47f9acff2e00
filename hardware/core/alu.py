"""Integer ALU and branch comparator (RISC-V unprivileged spec 2.4, 2.5, 5.2, 5.3).

W-form operations (RV64I 5.3) work on the low 32 bits and sign-extend the result.
"""

from __future__ import annotations

import pyrtl

from hardware.core import decode as d


def sext32(w: pyrtl.WireVector) -> pyrtl.WireVector:
    """Sign-extend the low 32 bits of ``w`` to 64."""
    return w[0:32].sign_extended(64)


def build_alu(op: pyrtl.WireVector, a: pyrtl.WireVector, b: pyrtl.WireVector,
              word: pyrtl.WireVector) -> pyrtl.WireVector:
    """64-bit result of ``op`` on ``a`` and ``b`` (ops: ``decode.ALU_*``)."""
    is_sra = op == d.ALU_SRA
    a_w = pyrtl.select(is_sra, sext32(a), a[0:32].zero_extended(64))
    a_in = pyrtl.select(word, a_w, a)
    shamt = pyrtl.select(word, b[0:5].zero_extended(6), b[0:6])
    add = (a + b)[0:64]
    sub = (a - b)[0:64]
    sll = pyrtl.shift_left_logical(a_in, shamt)
    srl = pyrtl.shift_right_logical(a_in, shamt)
    sra = pyrtl.shift_right_arithmetic(a_in, shamt)
    slt = pyrtl.signed_lt(a, b).zero_extended(64)
    sltu = (a < b).zero_extended(64)
    res = pyrtl.mux(op, add, sub, sll, slt, sltu, a ^ b, srl, sra, a | b, a & b, default=add)
    out = pyrtl.WireVector(64, name="alu_result")
    out <<= pyrtl.select(word, sext32(res), res)
    return out


def build_branch(funct3: pyrtl.WireVector, a: pyrtl.WireVector,
                 b: pyrtl.WireVector) -> pyrtl.WireVector:
    """1 when the branch with ``funct3`` (BEQ..BGEU) is taken."""
    eq = a == b
    lt = pyrtl.signed_lt(a, b)
    ltu = a < b
    base = pyrtl.mux(funct3[1:3], eq, eq, lt, ltu)
    taken = pyrtl.WireVector(1, name="branch_taken")
    taken <<= base ^ funct3[0]
    return taken
