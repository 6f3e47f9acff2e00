"""Trap causes: the one table of exception and interrupt codes.

Sources: RISC-V privileged spec 1.12, section 3.1.15 (mcause, table 3.6), section 3.1.9
(interrupt priority: MEI, MSI, MTI, SEI, SSI, STI) and chapter 8 (hypervisor extension:
causes 10, 20-23, the VS interrupts 2/6/10, SGEI 12, and the priority order of section
8.2.10 that places SGEI, VSEI, VSSI, VSTI after the S interrupts).

The RTL trap unit, the C header ``encoding.h``, the docs table and the tests are all
generated from ``EXCEPTIONS`` and ``INTERRUPTS``. The module-level constants
``CAUSE_<NAME>`` and ``IRQ_<NAME>`` are built from the rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    """One row of the cause table."""

    code: int  # exception code (mcause without the interrupt bit)
    name: str  # upper-case identifier: constants are CAUSE_<name> or IRQ_<name>
    doc: str  # description as in the spec's table
    h_only: bool = False  # exists only with the hypervisor extension


#: Synchronous exceptions (mcause interrupt bit 0). Codes 14 and 16-19 are reserved.
EXCEPTIONS: tuple[Cause, ...] = (
    Cause(0, "MISALIGNED_FETCH", "instruction address misaligned"),
    Cause(1, "FETCH_ACCESS", "instruction access fault"),
    Cause(2, "ILLEGAL_INSTRUCTION", "illegal instruction"),
    Cause(3, "BREAKPOINT", "breakpoint"),
    Cause(4, "MISALIGNED_LOAD", "load address misaligned"),
    Cause(5, "LOAD_ACCESS", "load access fault"),
    Cause(6, "MISALIGNED_STORE", "store/AMO address misaligned"),
    Cause(7, "STORE_ACCESS", "store/AMO access fault"),
    Cause(8, "USER_ECALL", "environment call from U-mode or VU-mode"),
    Cause(9, "SUPERVISOR_ECALL", "environment call from HS-mode"),
    Cause(10, "VIRTUAL_SUPERVISOR_ECALL", "environment call from VS-mode", True),
    Cause(11, "MACHINE_ECALL", "environment call from M-mode"),
    Cause(12, "FETCH_PAGE_FAULT", "instruction page fault"),
    Cause(13, "LOAD_PAGE_FAULT", "load page fault"),
    Cause(15, "STORE_PAGE_FAULT", "store/AMO page fault"),
    Cause(20, "FETCH_GUEST_PAGE_FAULT", "instruction guest-page fault", True),
    Cause(21, "LOAD_GUEST_PAGE_FAULT", "load guest-page fault", True),
    Cause(22, "VIRTUAL_INSTRUCTION", "virtual instruction", True),
    Cause(23, "STORE_GUEST_PAGE_FAULT", "store/AMO guest-page fault", True),
)

#: Interrupts (mcause interrupt bit 1); the code is also the bit number in mip/mie.
INTERRUPTS: tuple[Cause, ...] = (
    Cause(1, "SSI", "supervisor software interrupt"),
    Cause(2, "VSSI", "virtual supervisor software interrupt", True),
    Cause(3, "MSI", "machine software interrupt"),
    Cause(5, "STI", "supervisor timer interrupt"),
    Cause(6, "VSTI", "virtual supervisor timer interrupt", True),
    Cause(7, "MTI", "machine timer interrupt"),
    Cause(9, "SEI", "supervisor external interrupt"),
    Cause(10, "VSEI", "virtual supervisor external interrupt", True),
    Cause(11, "MEI", "machine external interrupt"),
    Cause(12, "SGEI", "supervisor guest external interrupt", True),
)

#: Names of the interrupts, highest priority first (priv spec 3.1.9 and 8.2.10).
INTERRUPT_PRIORITY_NAMES = ("MEI", "MSI", "MTI", "SEI", "SSI", "STI", "SGEI", "VSEI",
                            "VSSI", "VSTI")

#: mcause bit that marks an interrupt on RV64.
INTERRUPT_BIT = 1 << 63

EXCEPTION_BY_CODE: dict[int, Cause] = {c.code: c for c in EXCEPTIONS}
INTERRUPT_BY_CODE: dict[int, Cause] = {c.code: c for c in INTERRUPTS}
_INTERRUPT_BY_NAME = {c.name: c for c in INTERRUPTS}

#: Interrupt codes, highest priority first.
INTERRUPT_PRIORITY: tuple[int, ...] = tuple(_INTERRUPT_BY_NAME[n].code
                                            for n in INTERRUPT_PRIORITY_NAMES)


def _check_tables() -> None:
    for table in (EXCEPTIONS, INTERRUPTS):
        codes = [c.code for c in table]
        names = [c.name for c in table]
        if len(set(codes)) != len(codes) or len(set(names)) != len(names):
            raise ValueError("cause table: duplicate code or name")
    if sorted(INTERRUPT_PRIORITY_NAMES) != sorted(_INTERRUPT_BY_NAME):
        raise ValueError("cause table: the priority list must name every interrupt once")


def cause_name(mcause: int) -> str:
    """A readable name of an mcause value, e.g. 'ILLEGAL_INSTRUCTION' or 'irq MTI'."""
    code = mcause & ~INTERRUPT_BIT
    if mcause & INTERRUPT_BIT:
        row = INTERRUPT_BY_CODE.get(code)
        return f"irq {row.name}" if row else f"irq {code}"
    row = EXCEPTION_BY_CODE.get(code)
    return row.name if row else f"exception {code}"


_check_tables()
globals().update({f"CAUSE_{c.name}": c.code for c in EXCEPTIONS})
globals().update({f"IRQ_{c.name}": c.code for c in INTERRUPTS})
__all__ = ["Cause", "EXCEPTIONS", "INTERRUPTS", "INTERRUPT_PRIORITY", "INTERRUPT_PRIORITY_NAMES",
           "INTERRUPT_BIT", "EXCEPTION_BY_CODE", "INTERRUPT_BY_CODE", "cause_name"]
__all__ += [f"CAUSE_{c.name}" for c in EXCEPTIONS] + [f"IRQ_{c.name}" for c in INTERRUPTS]
