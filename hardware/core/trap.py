"""Trap unit (RISC-V privileged spec 3.1.6.1, 3.1.7-3.1.9, 3.1.15, 3.3.1, 4.1.1).

Fixed sections, in order: collect causes -> priority -> delegate -> the CSR updates
(applied by ``csr.py`` from the ``TrapEvent`` this unit drives).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl


#: Interrupt priority (priv spec 3.1.9): MEI, MSI, MTI, SEI, SSI, STI.
IRQ_PRIORITY = (11, 3, 7, 9, 1, 5)
#: With H (hypervisor spec, "Hypervisor interrupt registers"): then VSEI, VSSI, VSTI.
IRQ_PRIORITY_H = IRQ_PRIORITY + (10, 2, 6)
#: The VS-level interrupts; taken into VS they are reported with code - 1 (VSSI -> SSI).
IRQ_VS = (2, 6, 10)


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


def _select_irq(pend: pyrtl.WireVector, order: tuple[int, ...] = IRQ_PRIORITY):
    """Highest-priority set bit of ``pend`` -> (any, 4-bit cause)."""
    cause = pyrtl.Const(0, 4)
    for bit in reversed(order):
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


def bit_at(vector: pyrtl.WireVector, index: pyrtl.WireVector) -> pyrtl.WireVector:
    """Bit ``index`` of ``vector`` (0 past its width): a right shift by the index bits,
    one word select per index bit (cheaper than a per-bit barrel shifter)."""
    word = vector
    for k in range(index.bitwidth):
        step = 1 << k
        if step >= word.bitwidth:
            word = pyrtl.select(index[k], pyrtl.Const(0, word.bitwidth), word)
            continue
        shifted = word[step:].zero_extended(word.bitwidth)
        word = pyrtl.select(index[k], shifted, word)
    return word[0]


def _exceptions(excs: list[Exc]):
    """(any, 5-bit cause, 64-bit tval, gva) of the highest-priority exception."""
    exc_any = pyrtl.Const(0, 1)
    exc_cause = pyrtl.Const(0, 5)
    exc_tval = pyrtl.Const(0, 64)
    for e in reversed(excs):
        exc_any = exc_any | e.valid
        exc_cause = pyrtl.select(e.valid, pyrtl.Const(e.cause, 5), exc_cause)
        exc_tval = pyrtl.select(e.valid, pyrtl.as_wires(e.tval).zero_extended(64), exc_tval)
    return exc_any, exc_cause, exc_tval


def build_trap(priv, mstatus, mip, mie, mideleg, medeleg, mtvec, stvec,
               excs: list[Exc], irq_allow: pyrtl.WireVector,
               exc_allow: pyrtl.WireVector | None = None) -> TrapDecision:
    """Combine ``excs`` (highest priority first) with pending interrupts. ``exc_allow``
    low masks every exception (the instruction is not fetched/translated yet)."""
    exc_any, exc_cause, exc_tval = _exceptions(excs)
    if exc_allow is not None:
        exc_any = exc_any & exc_allow
    irq_take, irq_cause, irq_to_s = build_interrupts(priv, mstatus, mip, mie, mideleg, irq_allow)

    is_irq = irq_take
    take = irq_take | exc_any
    code = pyrtl.select(is_irq, irq_cause.zero_extended(5), exc_cause)
    deleg_exc = bit_at(medeleg, exc_cause)
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



@dataclass
class HTrapState:
    """What the H-extension trap decision reads (hypervisor spec, "Traps")."""

    priv: pyrtl.WireVector  # 2-bit nominal privilege
    v: pyrtl.WireVector  # virtualization mode
    mie_bit: pyrtl.WireVector  # mstatus.MIE
    sie_bit: pyrtl.WireVector  # mstatus.SIE (HS)
    vsie_bit: pyrtl.WireVector  # vsstatus.SIE
    pend: pyrtl.WireVector  # 13 bits: mip & mie
    mideleg: pyrtl.WireVector  # 13 bits (VS bits read 1)
    hideleg: pyrtl.WireVector  # 13 bits
    medeleg: pyrtl.WireVector  # 24 bits
    hedeleg: pyrtl.WireVector  # 24 bits
    mtvec: pyrtl.WireVector
    stvec: pyrtl.WireVector  # HS stvec
    vstvec: pyrtl.WireVector


@dataclass
class HTrapDecision(TrapDecision):
    to_vs: pyrtl.WireVector = None  # handled in VS (to_s is then also 1)


def _levels(t: HTrapState):
    """Pending-and-enabled interrupts per target level (Spike's take_interrupt)."""
    ones = lambda c: pyrtl.select(c, pyrtl.Const(0x1FFF, 13), pyrtl.Const(0, 13))  # noqa: E731
    user, sup = t.priv == 0, t.priv == 1
    m_en = (t.priv != 3) | t.mie_bit
    hs_en = t.v | user | (sup & t.sie_bit)
    vs_en = t.v & (user | (sup & t.vsie_bit))
    m = t.pend & ~t.mideleg & ones(m_en)
    hs = t.pend & t.mideleg & ~t.hideleg & ones(hs_en)
    vs = t.pend & t.mideleg & t.hideleg & ones(vs_en)
    return m, hs, vs


def build_trap_h(t: HTrapState, excs: list[Exc], irq_allow: pyrtl.WireVector,
                 exc_allow: pyrtl.WireVector) -> HTrapDecision:
    """The trap decision with the H extension: M, HS or VS; delegation through
    medeleg/hedeleg and mideleg/hideleg; VS interrupts reported with code - 1."""
    exc_any, exc_cause, exc_tval = _exceptions(excs)
    exc_any = exc_any & exc_allow
    m, hs, vs = _levels(t)
    m_any, m_code = _select_irq(m, IRQ_PRIORITY_H)
    hs_any, hs_code = _select_irq(hs, IRQ_PRIORITY_H)
    vs_any, vs_code = _select_irq(vs, IRQ_PRIORITY_H)
    irq = irq_allow & (m_any | hs_any | vs_any)
    irq_vs = ~m_any & ~hs_any
    irq_code = pyrtl.select(m_any, m_code, pyrtl.select(hs_any, hs_code, (vs_code - 1)[0:4]))

    below_m = t.priv != 3
    m_deleg = bit_at(t.medeleg, exc_cause)
    h_deleg = bit_at(t.hedeleg, exc_cause)
    exc_s = m_deleg & below_m
    exc_vs = exc_s & t.v & h_deleg
    to_s = pyrtl.select(irq, ~m_any, exc_s)
    to_vs = pyrtl.select(irq, irq_vs, exc_vs)
    code = pyrtl.select(irq, irq_code.zero_extended(5), exc_cause)
    tvec = pyrtl.select(to_vs, t.vstvec, pyrtl.select(to_s, t.stvec, t.mtvec))
    base = pyrtl.concat(tvec[2:64], pyrtl.Const(0, 2))
    offset = pyrtl.concat(code, pyrtl.Const(0, 2)).zero_extended(64)
    vector = pyrtl.select(irq & tvec[0], (base + offset)[0:64], base)
    names = ("take", "is_irq", "cause", "tval", "to_s", "vector", "to_vs")
    widths = (1, 1, 64, 64, 1, 64, 1)
    out = HTrapDecision(*(pyrtl.WireVector(w, name=f"trap_{n}") for n, w in zip(names, widths)))
    out.take <<= irq | exc_any
    out.is_irq <<= irq
    out.cause <<= pyrtl.concat(irq, pyrtl.Const(0, 58), code)
    out.tval <<= pyrtl.select(irq, pyrtl.Const(0, 64), exc_tval)
    out.to_s <<= to_s
    out.vector <<= vector
    out.to_vs <<= to_vs
    return out
