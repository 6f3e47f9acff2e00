"""Trap unit (hardware/core/trap.py: build_trap) against a reference written from the
RISC-V privileged spec 3.1.6.1 (global interrupt enables), 3.1.7 (mtvec modes), 3.1.8
(medeleg/mideleg), 3.1.9 (interrupt priority MEI > MSI > MTI > SEI > SSI > STI),
3.1.15 (mcause) and 3.1.16 (mtval), and from Spike's ``take_interrupt``: interrupts
that stay in M are chosen before the ones delegated to S.

``build_trap`` is the trap unit of a core without the H extension, so the delegation
masks come from the CSR table of ``NOH``."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings, strategies as st

from core_unit_bench import MASK64, UnitBench
from hardware.config import CoreConfig
from hardware.core.trap import Exc, build_trap
from hardware.isa import causes
from hardware.isa.csrs import IRQ_ALL, by_name

SETTINGS = settings(max_examples=200, deadline=None)
U, S, M = 0, 1, 3
NOH = CoreConfig(has_h=False)
CSRS = by_name(NOH)
MEDELEG_W = CSRS["medeleg"].wmask
MIDELEG_W = CSRS["mideleg"].wmask

#: The exception candidates in the order the core lists them (priv spec table 3.7:
#: fetch access fault, illegal instruction, breakpoint and ecalls, misaligned
#: store/load, store/load access fault).
EXC_ORDER = (causes.CAUSE_FETCH_ACCESS, causes.CAUSE_ILLEGAL_INSTRUCTION,
             causes.CAUSE_BREAKPOINT, causes.CAUSE_USER_ECALL,
             causes.CAUSE_SUPERVISOR_ECALL, causes.CAUSE_MACHINE_ECALL,
             causes.CAUSE_MISALIGNED_STORE, causes.CAUSE_MISALIGNED_LOAD,
             causes.CAUSE_STORE_ACCESS, causes.CAUSE_LOAD_ACCESS)
#: Standard interrupt priority, written from priv spec 3.1.9.
IRQ_ORDER = (causes.IRQ_MEI, causes.IRQ_MSI, causes.IRQ_MTI, causes.IRQ_SEI,
             causes.IRQ_SSI, causes.IRQ_STI)


@dataclass
class TrapIn:
    priv: int = M
    mie_bit: int = 0  # mstatus.MIE
    sie_bit: int = 0  # mstatus.SIE
    mip: int = 0
    mie: int = 0
    mideleg: int = 0
    medeleg: int = 0
    mtvec: int = 0
    stvec: int = 0
    exc: int = 0  # bit i: EXC_ORDER[i] is raised
    tvals: tuple = (0,) * len(EXC_ORDER)
    allow: int = 1


def trap_ref(t: TrapIn) -> dict:
    """take, is_irq, cause, tval, to_s, vector of the trap the hart enters."""
    pend = t.mip & t.mie
    m_en = t.priv < M or t.mie_bit
    s_en = t.priv < S or (t.priv == S and t.sie_bit)
    m_level = pend & ~t.mideleg if m_en else 0
    s_level = pend & t.mideleg if s_en else 0
    enabled = (m_level or s_level) if t.allow else 0
    irq = next((c for c in IRQ_ORDER if enabled >> c & 1), None)
    if irq is not None:
        to_s = bool(t.mideleg >> irq & 1)
        tvec = t.stvec if to_s else t.mtvec
        base = tvec & ~3
        vector = (base + 4 * irq) & MASK64 if tvec & 3 == 1 else base
        return dict(take=1, is_irq=1, cause=causes.INTERRUPT_BIT | irq, tval=0,
                    to_s=int(to_s), vector=vector)
    first = next((i for i in range(len(EXC_ORDER)) if t.exc >> i & 1), None)
    if first is None:
        return dict(take=0, is_irq=0)
    code = EXC_ORDER[first]
    to_s = t.priv != M and bool(t.medeleg >> code & 1)
    tvec = t.stvec if to_s else t.mtvec
    return dict(take=1, is_irq=0, cause=code, tval=t.tvals[first], to_s=int(to_s),
                vector=tvec & ~3)


@pytest.fixture(scope="module")
def trap():
    inputs = dict(priv=2, mie_bit=1, sie_bit=1, mip=12, mie=12, mideleg=12, medeleg=32,
                  mtvec=64, stvec=64, exc=len(EXC_ORDER), allow=1)
    inputs.update({f"tval{i}": 64 for i in range(len(EXC_ORDER))})

    def build(priv, mie_bit, sie_bit, mip, mie, mideleg, medeleg, mtvec, stvec, exc, allow,
              **tvals):
        excs = [Exc(exc[i], code, tvals[f"tval{i}"]) for i, code in enumerate(EXC_ORDER)]
        d = build_trap(priv, {"MIE": mie_bit, "SIE": sie_bit}, mip, mie, mideleg, medeleg,
                       mtvec, stvec, excs, allow)
        return {f: getattr(d, f) for f in ("take", "is_irq", "cause", "tval", "to_s",
                                           "vector")}
    return UnitBench(inputs, build)


def run(trap, t: TrapIn) -> dict:
    out = trap(priv=t.priv, mie_bit=t.mie_bit, sie_bit=t.sie_bit, mip=t.mip, mie=t.mie,
               mideleg=t.mideleg, medeleg=t.medeleg, mtvec=t.mtvec, stvec=t.stvec,
               exc=t.exc, allow=t.allow, **{f"tval{i}": v for i, v in enumerate(t.tvals)})
    want = trap_ref(t)
    got = {k: out[k] for k in want}
    assert got == want, f"{t}: {got} != {want}"
    return out


def _tvec(draw) -> int:
    v = draw(st.integers(0, MASK64)) & ~2  # bit 1 is legalized to 0 by the CSR file
    return v if draw(st.booleans()) else v & ~3


@st.composite
def trap_inputs(draw) -> TrapIn:
    irq_bits = st.integers(0, 0xFFF).map(lambda v: v & IRQ_ALL)
    return TrapIn(
        priv=draw(st.sampled_from((U, S, M))), mie_bit=draw(st.integers(0, 1)),
        sie_bit=draw(st.integers(0, 1)), mip=draw(irq_bits), mie=draw(irq_bits),
        mideleg=draw(st.integers(0, 0xFFF)) & MIDELEG_W,
        medeleg=draw(st.integers(0, (1 << 32) - 1)) & MEDELEG_W,
        mtvec=_tvec(draw), stvec=_tvec(draw),
        exc=draw(st.one_of(st.integers(0, (1 << len(EXC_ORDER)) - 1),
                           st.sampled_from([1 << i for i in range(len(EXC_ORDER))]),
                           st.just(0))),
        tvals=tuple(draw(st.integers(0, MASK64)) for _ in EXC_ORDER),
        allow=draw(st.sampled_from((1, 1, 1, 0))))


@SETTINGS
@given(trap_inputs())
def test_random_trap_decisions(trap, t):
    run(trap, t)


def test_exceptions_in_list_order(trap):
    tvals = tuple(0x1000 + i for i in range(len(EXC_ORDER)))
    for i, code in enumerate(EXC_ORDER):
        below = (1 << len(EXC_ORDER)) - (1 << i)  # this one and every later one
        out = run(trap, TrapIn(exc=below, tvals=tvals, mtvec=0x8000_0000))
        assert (out["cause"], out["tval"]) == (code, 0x1000 + i)
        assert out["vector"] == 0x8000_0000


def test_interrupt_priority_m_level(trap):
    order = []
    pending = IRQ_ALL
    for _ in IRQ_ORDER:
        out = run(trap, TrapIn(priv=S, mip=pending, mie=IRQ_ALL))
        code = out["cause"] & ~causes.INTERRUPT_BIT
        order.append(code)
        pending &= ~(1 << code)
    assert tuple(order) == IRQ_ORDER
    assert tuple(causes.INTERRUPT_PRIORITY[:6]) == IRQ_ORDER


def test_m_level_interrupt_beats_higher_priority_delegated_one(trap):
    # SEI (delegated) outranks MTI by code order, but M-level interrupts go first.
    t = TrapIn(priv=U, mip=1 << 9 | 1 << 7, mie=IRQ_ALL, mideleg=1 << 9)
    out = run(trap, t)
    assert out["cause"] == causes.INTERRUPT_BIT | 7 and out["to_s"] == 0


def test_delegated_interrupt_not_taken_in_m_and_gated_by_sie_in_s(trap):
    base = dict(mip=1 << 5, mie=1 << 5, mideleg=1 << 5, mie_bit=1, sie_bit=1)
    assert run(trap, TrapIn(priv=M, **base))["take"] == 0
    assert run(trap, TrapIn(priv=S, **{**base, "sie_bit": 0}))["take"] == 0
    out = run(trap, TrapIn(priv=S, **base))
    assert out["take"] == 1 and out["to_s"] == 1
    out = run(trap, TrapIn(priv=U, **{**base, "sie_bit": 0}))  # U: S interrupts always on
    assert out["take"] == 1 and out["to_s"] == 1


def test_m_interrupts_enabled_below_m_regardless_of_mie(trap):
    assert run(trap, TrapIn(priv=S, mip=1 << 7, mie=1 << 7, mie_bit=0))["take"] == 1
    assert run(trap, TrapIn(priv=M, mip=1 << 7, mie=1 << 7, mie_bit=0))["take"] == 0
    assert run(trap, TrapIn(priv=M, mip=1 << 7, mie=1 << 7, mie_bit=1))["take"] == 1
    assert run(trap, TrapIn(priv=M, mip=1 << 7, mie=1 << 7, mie_bit=1, allow=0))["take"] == 0


def test_interrupt_wins_over_exception(trap):
    out = run(trap, TrapIn(priv=U, mip=1 << 11, mie=1 << 11, exc=0b10, tvals=(5,) * 10))
    assert out["is_irq"] == 1 and out["tval"] == 0


def test_exception_delegation_never_from_m(trap):
    for code_index, code in enumerate(EXC_ORDER):
        for priv in (U, S, M):
            out = run(trap, TrapIn(priv=priv, exc=1 << code_index, medeleg=MEDELEG_W,
                                   mtvec=0x100, stvec=0x200))
            delegable = bool(MEDELEG_W >> code & 1)
            assert out["to_s"] == int(priv != M and delegable), (code, priv)
            assert out["vector"] == (0x200 if out["to_s"] else 0x100)


def test_vectored_mode_applies_to_interrupts_only(trap):
    for code in IRQ_ORDER:
        out = run(trap, TrapIn(priv=U, mip=1 << code, mie=1 << code, mtvec=0x8000_0001))
        assert out["vector"] == 0x8000_0000 + 4 * code
    out = run(trap, TrapIn(priv=U, exc=1, mtvec=0x8000_0001))
    assert out["vector"] == 0x8000_0000
    out = run(trap, TrapIn(priv=U, mip=1 << 5, mie=1 << 5, mideleg=1 << 5,
                           stvec=0x9000_0001))
    assert out["vector"] == 0x9000_0000 + 4 * 5


def test_xcause_interrupt_bit(trap):
    out = run(trap, TrapIn(priv=U, mip=1 << 3, mie=1 << 3))
    assert out["cause"] == (1 << 63) | 3
    out = run(trap, TrapIn(priv=U, exc=1 << 3))
    assert out["cause"] == causes.CAUSE_USER_ECALL and out["cause"] >> 63 == 0


def test_delegation_masks_match_spike():
    # Read back from spike --isa=rv64imac_zicsr_zifencei_zicntr_sstc after writing all
    # ones (DTB mmu-type riscv,sv39): every synchronous exception but misaligned fetch
    # (cannot happen with C) and ecall-from-M, the page faults 12/13/15 included; 10
    # and 14 are reserved without H; 18/19 are writable. mideleg: the three S-level
    # interrupts.
    assert MEDELEG_W == 0xCB3FE
    assert not MEDELEG_W >> causes.CAUSE_MACHINE_ECALL & 1
    assert MIDELEG_W == 0x222


def test_delegation_masks_with_h_match_spike():
    """The H core's masks (``build_trap_h``'s inputs), read back from spike
    --isa=rv64imach_zicntr_sstc after writing all ones: medeleg adds the virtual
    supervisor ecall (10) and the guest-page faults (20, 21, 23) and the virtual
    instruction exception (22); mideleg reads the VS/SGE bits as 1; hedeleg is every
    medeleg bit an HS may pass on (not the ecalls from HS/VS/M, not the guest-page
    faults or the virtual instruction exception)."""
    h = by_name(CoreConfig(has_h=True))
    assert h["medeleg"].wmask == 0xFCB7FE
    assert h["mideleg"].wmask | h["mideleg"].reset == 0x1666
    assert (h["hedeleg"].wmask, h["hideleg"].wmask) == (0xCB1FF, 0x444)
    assert h["hedeleg"].wmask & ~h["medeleg"].wmask == 1  # only misaligned fetch (0)
