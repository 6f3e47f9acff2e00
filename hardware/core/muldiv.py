"""M extension: a single-cycle multiplier and an iterative radix-2 divider
(RISC-V unprivileged spec ch. 7).

The divider takes 64 iteration cycles after a start cycle; the core stalls the
instruction until ``done`` and commits it in the following cycle (65 extra cycles).
Division by zero and signed overflow give the results of spec table 7.1.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.core.alu import sext32


def build_mul(funct3: pyrtl.WireVector, a: pyrtl.WireVector, b: pyrtl.WireVector,
              word: pyrtl.WireVector) -> pyrtl.WireVector:
    """MUL/MULH/MULHSU/MULHU/MULW from one 64x64->128 unsigned product.

    The signed high halves use mulh(a,b) = mulhu(a,b) - (a<0 ? b : 0) - (b<0 ? a : 0).
    """
    prod = (a * b)[0:128]
    lo, hu = prod[0:64], prod[64:128]
    zero = pyrtl.Const(0, 64)
    corr_a = pyrtl.select(a[63], b, zero)
    corr_b = pyrtl.select(b[63], a, zero)
    hsu = (hu - corr_a)[0:64]
    h = (hsu - corr_b)[0:64]
    res = pyrtl.mux(funct3[0:2], lo, h, hsu, hu)
    out = pyrtl.WireVector(64, name="mul_result")
    out <<= pyrtl.select(word, sext32(lo), res)
    return out


@dataclass
class DivPorts:
    """Divider state seen by the core."""

    busy: pyrtl.WireVector  # iterating
    done: pyrtl.WireVector  # result ready for the stalled instruction
    result: pyrtl.WireVector  # 64-bit quotient or remainder (valid when done)


def build_div(funct3: pyrtl.WireVector, a: pyrtl.WireVector, b: pyrtl.WireVector,
              word: pyrtl.WireVector, start: pyrtl.WireVector,
              clear: pyrtl.WireVector) -> DivPorts:
    """Radix-2 restoring divider. ``start`` loads the operands; ``clear`` (the
    instruction committed or was abandoned by a trap) returns to idle."""
    signed = ~funct3[0]  # DIV/REM are funct3 4/6, DIVU/REMU 5/7
    want_rem = funct3[1]
    a_in = pyrtl.select(word, pyrtl.select(signed, sext32(a), a[0:32].zero_extended(64)), a)
    b_in = pyrtl.select(word, pyrtl.select(signed, sext32(b), b[0:32].zero_extended(64)), b)
    a_neg = signed & a_in[63]
    b_neg = signed & b_in[63]
    a_abs = pyrtl.select(a_neg, (0 - a_in)[0:64], a_in)
    b_abs = pyrtl.select(b_neg, (0 - b_in)[0:64], b_in)

    busy = pyrtl.Register(1, name="div_busy")
    done = pyrtl.Register(1, name="div_done")
    count = pyrtl.Register(6, name="div_count")
    rem = pyrtl.Register(64, name="div_rem")
    quo = pyrtl.Register(64, name="div_quo")
    dvs = pyrtl.Register(64, name="div_divisor")
    neg_q = pyrtl.Register(1, name="div_neg_q")
    neg_r = pyrtl.Register(1, name="div_neg_r")
    by_zero = pyrtl.Register(1, name="div_by_zero")
    dividend = pyrtl.Register(64, name="div_dividend")

    shifted = pyrtl.concat(rem, quo[63])  # 65 bits
    ge = shifted >= dvs.zero_extended(65)
    diff = (shifted - dvs.zero_extended(65))[0:64]
    new_rem = pyrtl.select(ge, diff, shifted[0:64])
    new_quo = pyrtl.concat(quo[0:63], ge)
    last = count == 63

    load = start & ~busy & ~done
    busy.next <<= pyrtl.select(clear, 0, pyrtl.select(load, 1, busy & ~last))
    done.next <<= pyrtl.select(clear, 0, done | (busy & last))
    count.next <<= pyrtl.select(busy, (count + 1)[0:6], 0)
    rem.next <<= pyrtl.select(load, pyrtl.Const(0, 64), pyrtl.select(busy, new_rem, rem))
    quo.next <<= pyrtl.select(load, a_abs, pyrtl.select(busy, new_quo, quo))
    for reg, val in ((dvs, b_abs), (neg_q, a_neg ^ b_neg), (neg_r, a_neg),
                     (by_zero, b_in == 0), (dividend, a_in)):
        reg.next <<= pyrtl.select(load, val, reg)

    q = pyrtl.select(neg_q, (0 - quo)[0:64], quo)
    r = pyrtl.select(neg_r, (0 - rem)[0:64], rem)
    q = pyrtl.select(by_zero, pyrtl.Const((1 << 64) - 1, 64), q)
    r = pyrtl.select(by_zero, dividend, r)
    res = pyrtl.select(want_rem, r, q)
    result = pyrtl.WireVector(64, name="div_result")
    result <<= pyrtl.select(word, sext32(res), res)
    return DivPorts(busy=busy, done=done, result=result)
