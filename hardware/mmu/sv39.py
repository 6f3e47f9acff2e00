"""Sv39 facts and a reference page-table walker written from the privileged spec
(RISC-V privileged spec 1.12, sections 4.3.1-4.3.2 "Virtual address translation
process", 4.4 "Sv39"), with Svade semantics (no hardware A/D updates: a clear A, or a
clear D on a store, is a page fault), as Spike does by default.

The reference walker is the oracle of the hardware walker's property tests; it is
plain Python over a ``read64(paddr) -> int | None`` callback (None: the PTE address is
not readable, an access fault).
"""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = 3
PAGE_SHIFT = 12
VPN_BITS = 9
PPN_BITS = 44
PTE_BITS = {"V": 0, "R": 1, "W": 2, "X": 3, "U": 4, "G": 5, "A": 6, "D": 7}
#: PTE bits 63:54 (N, PBMT, reserved) must be zero without Svnapot/Svpbmt.
PTE_RESERVED_MASK = ((1 << 10) - 1) << 54
SATP_MODE_BARE, SATP_MODE_SV39 = 0, 8

#: Page-fault cause per access kind (priv spec table 3.6).
PAGE_FAULT = {"x": 12, "r": 13, "w": 15}
ACCESS_FAULT = {"x": 1, "r": 5, "w": 7}


def pte_field(pte: int, name: str) -> int:
    return pte >> PTE_BITS[name] & 1


def pte_ppn(pte: int) -> int:
    return (pte >> 10) & ((1 << PPN_BITS) - 1)


def vpn(vaddr: int, level: int) -> int:
    return (vaddr >> (PAGE_SHIFT + VPN_BITS * level)) & ((1 << VPN_BITS) - 1)


def canonical(vaddr: int) -> bool:
    """Bits 63:39 must all equal bit 38 (spec 4.4.1)."""
    top = vaddr >> 38
    return top in (0, (1 << 26) - 1)


@dataclass(frozen=True)
class Leaf:
    """A successful walk: the leaf PTE and its level (0: 4 KiB, 1: 2 MiB, 2: 1 GiB)."""

    pte: int
    level: int
    accesses: int  # PTE reads the walk made (its cycle cost in the hardware)

    def paddr(self, vaddr: int) -> int:
        keep = PAGE_SHIFT + VPN_BITS * self.level
        return (pte_ppn(self.pte) << PAGE_SHIFT) & ~((1 << keep) - 1) | vaddr & ((1 << keep) - 1)


@dataclass(frozen=True)
class Fault:
    """A failed walk: ``kind`` "page" or "access" (the PTE read itself faulted)."""

    kind: str
    accesses: int


def walk(read64, root_ppn: int, vaddr: int) -> Leaf | Fault:
    """Steps 1-6 of spec 4.3.2 without the permission checks of step 5, which depend on
    the access and the mode (``allowed`` below): find the leaf PTE of ``vaddr``."""
    if not canonical(vaddr):
        return Fault("page", 0)
    a = root_ppn << PAGE_SHIFT
    for accesses, level in enumerate(range(LEVELS - 1, -1, -1), start=1):
        pte = read64(a + vpn(vaddr, level) * 8)
        if pte is None:
            return Fault("access", accesses)
        r, w, x = (pte_field(pte, k) for k in "RWX")
        if not pte_field(pte, "V") or (w and not r) or pte & PTE_RESERVED_MASK:
            return Fault("page", accesses)
        if r or x:
            if pte_ppn(pte) & ((1 << (VPN_BITS * level)) - 1):
                return Fault("page", accesses)  # misaligned superpage
            return Leaf(pte, level, accesses)
        if pte_field(pte, "D") or pte_field(pte, "A") or pte_field(pte, "U"):
            return Fault("page", accesses)  # non-leaf with D/A/U set is reserved
        a = pte_ppn(pte) << PAGE_SHIFT
    return Fault("page", LEVELS)


def allowed(pte: int, access: str, priv: int, sum_: bool, mxr: bool) -> bool:
    """Step 5 of spec 4.3.2 with Svade: may an access of kind ``access`` ("r", "w",
    "x") at privilege ``priv`` (0 U, 1 S) use the leaf ``pte``?"""
    r, w, x, u, a, d = (pte_field(pte, k) for k in "RWXUAD")
    if priv == 0 and not u:
        return False
    if priv == 1 and u and (access == "x" or not sum_):
        return False
    ok = {"r": r or (mxr and x), "w": w, "x": x}[access]
    return bool(ok and a and (d or access != "w"))
