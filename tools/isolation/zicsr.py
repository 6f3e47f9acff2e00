"""Classifying SYSTEM instructions in a trace chunk (vectorised over the ``insn``
column): which access a CSR, which write one, which write a known zero (unprivileged
spec, chapter "Zicsr", "CSR Instructions")."""

from __future__ import annotations

import numpy as np

#: funct3 of CSRRW and CSRRWI (the swap forms, which always write).
CSRRW, CSRRWI = 1, 5


def is_system(insn: np.ndarray) -> np.ndarray:
    """The SYSTEM major opcode."""
    return (insn & 0x7F) == 0x73


def csr_access(insn: np.ndarray) -> np.ndarray:
    """CSRRW, CSRRS, CSRRC and their immediate forms (funct3 1-3, 5-7)."""
    f3 = (insn >> 12) & 7
    return is_system(insn) & (f3 != 0) & (f3 != 4)


def csr_num(insn: np.ndarray) -> np.ndarray:
    """The CSR number (bits 31:20)."""
    return insn >> 20


def csr_writes(insn: np.ndarray) -> np.ndarray:
    """CSR instructions that write: CSRRW/CSRRWI always, the set/clear forms only when
    rs1 or the immediate is nonzero (a CSRRS/CSRRC from x0 is a pure read)."""
    f3 = (insn >> 12) & 7
    rs1 = (insn >> 15) & 31
    return csr_access(insn) & (((f3 & 3) == 1) | (rs1 != 0))


def csr_writes_zero(insn: np.ndarray) -> np.ndarray:
    """CSR instructions that surely write 0: CSRRW from x0 and CSRRWI of 0 (what a
    register source or a set/clear form writes is not in the instruction)."""
    f3 = (insn >> 12) & 7
    rs1 = (insn >> 15) & 31
    return csr_access(insn) & ((f3 == CSRRW) | (f3 == CSRRWI)) & (rs1 == 0)
