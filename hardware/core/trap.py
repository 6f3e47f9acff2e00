"""Trap unit (RISC-V privileged spec 3.1.6.1, 3.1.7-3.1.9, 3.1.15, 3.3.1, 4.1.1).

Fixed sections, in order: collect causes -> priority -> delegate -> the CSR updates
(applied by ``csr.py`` from the ``TrapEvent`` this unit drives).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl


#: Interrupt priority (priv spec 3.1.9): MEI, MSI, MTI, SEI, SSI, STI.
IRQ_PRIORITY = (11, 3, 7, 9, 1, 5)


@dataclass
class Exc:
    """One synchronous exception candidate."""

    valid: pyrtl.WireVector
    cause: int
    tval: pyrtl.WireVector


@dataclass
class TrapDecision:
    """The outcome of this cycle's trap logic."""

    take: pyrtl.WireVector  # a trap is entered instead of retiring the instruction
    is_irq: pyrtl.WireVector
    cause: pyrtl.WireVector  # 64-bit xcause
    tval: pyrtl.WireVector  # 64-bit xtval
    to_s: pyrtl.WireVector  # handled in S-mode
    vector: pyrtl.WireVector  # 64-bit handler address


def _select_irq(pend: pyrtl.WireVector):
    """Highest-priority set bit of ``pend`` (12 bits) -> (any, 4-bit cause)."""
    cause = pyrtl.Const(0, 4)
    for bit in reversed(IRQ_PRIORITY):
        cause = pyrtl.select(pend[bit], pyrtl.Const(bit, 4), cause)
    return pend != 0, cause


def build_interrupts(priv, mstatus, mip, mie, mideleg, allow) -> tuple:
    """Which interrupt (if any) is taken now (Spike's order: M-level first)."""
    pend = mip & mie
    m_en = (priv != 3) | mstatus["MIE"]
    s_en = (priv == 0) | ((priv == 1) & mstatus["SIE"])
    m_pend = pend & ~mideleg & pyrtl.select(m_en, pyrtl.Const(0xFFF, 12), pyrtl.Const(0, 12))
    s_pend = pend & mideleg & pyrtl.select(s_en, pyrtl.Const(0xFFF, 12), pyrtl.Const(0, 12))
    m_any, m_cause = _select_irq(m_pend)
    s_any, s_cause = _select_irq(s_pend)
    take = allow & (m_any | s_any)
    cause = pyrtl.select(m_any, m_cause, s_cause)
    return take, cause, ~m_any


def build_trap(priv, mstatus, mip, mie, mideleg, medeleg, mtvec, stvec,
               excs: list[Exc], irq_allow: pyrtl.WireVector,
               exc_allow: pyrtl.WireVector | None = None) -> TrapDecision:
    """Combine ``excs`` (highest priority first) with pending interrupts. ``exc_allow``
    low masks every exception (the instruction is not fetched/translated yet)."""
    exc_any = pyrtl.Const(0, 1)
    exc_cause = pyrtl.Const(0, 5)
    exc_tval = pyrtl.Const(0, 64)
    for e in reversed(excs):
        exc_any = exc_any | e.valid
        exc_cause = pyrtl.select(e.valid, pyrtl.Const(e.cause, 5), exc_cause)
        exc_tval = pyrtl.select(e.valid, pyrtl.as_wires(e.tval).zero_extended(64), exc_tval)
    if exc_allow is not None:
        exc_any = exc_any & exc_allow
    irq_take, irq_cause, irq_to_s = build_interrupts(priv, mstatus, mip, mie, mideleg, irq_allow)

    is_irq = irq_take
    take = irq_take | exc_any
    code = pyrtl.select(is_irq, irq_cause.zero_extended(5), exc_cause)
    deleg_exc = pyrtl.shift_right_logical(medeleg.zero_extended(32), exc_cause)[0]
    to_s = pyrtl.select(is_irq, irq_to_s, deleg_exc & (priv != 3))
    tvec = pyrtl.select(to_s, stvec, mtvec)
    base = pyrtl.concat(tvec[2:64], pyrtl.Const(0, 2))
    vectored = is_irq & tvec[0]
    offset = pyrtl.concat(code, pyrtl.Const(0, 2)).zero_extended(64)
    vector = pyrtl.select(vectored, (base + offset)[0:64], base)
    out = TrapDecision(
        take=pyrtl.WireVector(1, name="trap_take"),
        is_irq=pyrtl.WireVector(1, name="trap_is_irq"),
        cause=pyrtl.WireVector(64, name="trap_cause"),
        tval=pyrtl.WireVector(64, name="trap_tval"),
        to_s=pyrtl.WireVector(1, name="trap_to_s"),
        vector=pyrtl.WireVector(64, name="trap_vector"),
    )
    out.take <<= take
    out.is_irq <<= is_irq
    out.cause <<= pyrtl.concat(is_irq, pyrtl.Const(0, 58), code)
    out.tval <<= pyrtl.select(is_irq, pyrtl.Const(0, 64), exc_tval)
    out.to_s <<= to_s
    out.vector <<= vector
    return out

