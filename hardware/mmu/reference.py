"""Reference model of RISC-V address translation, both stages, written from the spec
text; the oracle of the hardware MMU's property tests.

Implements:
- privileged spec 1.12, 4.3.2 "Virtual address translation process" and 4.4 "Sv39"
  (S-stage for HS/U, VS-stage for VS/VU), with Svade: a clear A, or a clear D on a
  store, is a page fault; the hardware never writes a PTE;
- hypervisor extension, "Two-stage address translation", "Guest physical address
  translation" (Sv39x4: 41-bit GPA, bits 63:41 zero, 16 KiB root indexed by GPA bits
  40:30, leaves need U=1, every access checked as a U-mode access, only
  ``mstatus.MXR`` applies), "Guest-page faults" (causes 20/21/23, htval = GPA >> 2);
- every VS-stage PTE address is itself G-stage translated, as an implicit *load*
  (R needed, no MXR, Svade: only A) whose faults are reported with the cause of the
  *original* access (fetch/load/store);
- "Hypervisor virtual-machine load and store instructions": HLV/HSV act as V=1 with
  privilege ``hstatus.SPVP``; HLVX needs X instead of R in both stages; they trap
  (illegal in U-mode unless ``hstatus.HU``, virtual-instruction when V=1) before any
  translation, see :func:`hlv_exception`;
- ``mstatus.MPRV``/``MPP``/``MPV`` for explicit loads and stores (:func:`effective_mode`).

The walker is plain Python over ``read64(paddr) -> int | None`` (None: the PTE read is
not permitted, an access fault of the original access type). ``accesses`` counts the
PTE reads in the order a one-read-per-cycle walker makes them: for each VS-stage
level, the G-stage walk of the PTE's guest-physical address and then the PTE itself;
finally the G-stage walk of the leaf's GPA (15 reads with 4 KiB pages in both stages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hardware.mmu import sv39
from hardware.mmu.sv39 import ACCESS_FAULT, PAGE_FAULT

#: Guest-page-fault cause per access kind (hypervisor spec, trap cause codes).
GUEST_PAGE_FAULT = {"x": 20, "r": 21, "w": 23}
HGATP_MODE_BARE, HGATP_MODE_SV39X4 = 0, 8
#: Sv39x4 widens the root index by this many bits (GPA bits 40:39).
SV39X4_EXTRA_ROOT_BITS = 2
GPA_BITS = sv39.PAGE_SHIFT + sv39.VPN_BITS * sv39.LEVELS + SV39X4_EXTRA_ROOT_BITS
PRIV_U, PRIV_S, PRIV_M = 0, 1, 3

#: Field positions (lsb, width) in the CSRs that select the translation.
CSR_FIELDS = {
    "satp.MODE": (60, 4), "satp.PPN": (0, 44),
    "hgatp.MODE": (60, 4), "hgatp.VMID": (44, 14), "hgatp.PPN": (0, 44),
    "mstatus.MPP": (11, 2), "mstatus.MPRV": (17, 1), "mstatus.SUM": (18, 1),
    "mstatus.MXR": (19, 1), "mstatus.MPV": (39, 1),
    "vsstatus.SUM": (18, 1), "vsstatus.MXR": (19, 1),
    "hstatus.SPVP": (8, 1), "hstatus.HU": (9, 1),
}
#: The memory access each kind of instruction makes.
KIND_ACCESS = {"fetch": "x", "load": "r", "store": "w", "hlv": "r", "hlvx": "r", "hsv": "w"}
ILLEGAL_INSTRUCTION, VIRTUAL_INSTRUCTION = 2, 22


class ModeError(ValueError):
    """A Mode or access that no hart can produce (a CSR value the WARL field never holds)."""


def field(csr: str, name: str, value: int) -> int:
    """Field ``name`` of the CSR ``csr`` in ``value`` (see CSR_FIELDS)."""
    lsb, width = CSR_FIELDS[f"{csr}.{name}"]
    return value >> lsb & ((1 << width) - 1)


@dataclass(frozen=True)
class Mode:
    """Everything that decides a translation (see :func:`effective_mode`)."""

    priv: int  # effective privilege of the access: 0 U, 1 S, 3 M
    v: bool  # virtualization mode of the access (V, or MPV under MPRV, or 1 for HLV/HSV)
    satp: int  # HS satp value (used when v is False)
    vsatp: int  # used when v is True
    hgatp: int  # used when v is True (MODE 0 Bare / 8 Sv39x4, VMID 57:44, PPN 43:0)
    sum: bool  # mstatus.SUM (v False) -- or vsstatus.SUM (v True)
    mxr: bool  # mstatus.MXR
    vs_mxr: bool = False  # vsstatus.MXR (only when v)
    hlvx: bool = False  # HLVX: execute permission instead of read, both stages


@dataclass(frozen=True)
class Translation:
    """The outcome of one translation."""

    paddr: int | None  # None on a fault
    cause: int | None  # 1/5/7 access, 12/13/15 page, 20/21/23 guest-page fault
    tval: int | None  # the faulting (guest-)virtual address, as xtval gets it
    gpa: int | None  # for guest-page faults: the guest-physical address (htval = gpa >> 2)
    implicit: bool  # guest-page fault on an implicit VS-stage PTE access (htinst/GVA rules)
    accesses: int  # PTE reads made (one cycle each in the hardware)
    level: int | None  # leaf level of the final stage-1 leaf (or G leaf when vsatp Bare)
    g_level: int | None = None  # leaf level of the final G-stage leaf (None: no G-stage)


class _Fault(Exception):
    """Ends a translation: ``cause`` plus, for guest-page faults, the GPA."""

    def __init__(self, cause: int, gpa: int | None = None, implicit: bool = False):
        super().__init__(cause)
        self.cause, self.gpa, self.implicit = cause, gpa, implicit


def _bit(pte: int, name: str) -> bool:
    return bool(sv39.pte_field(pte, name))


def _index(addr: int, level: int, extra_root_bits: int) -> int:
    width = sv39.VPN_BITS + (extra_root_bits if level == sv39.LEVELS - 1 else 0)
    return addr >> (sv39.PAGE_SHIFT + sv39.VPN_BITS * level) & ((1 << width) - 1)


def _invalid(pte: int) -> bool:
    """Step 3: V clear, W without R, or a reserved bit (63:54) set."""
    return not _bit(pte, "V") or (_bit(pte, "W") and not _bit(pte, "R")) \
        or bool(pte & sv39.PTE_RESERVED_MASK)


def _is_leaf(pte: int) -> bool:
    return _bit(pte, "R") or _bit(pte, "X")


def _bad_pointer(pte: int) -> bool:
    """D, A and U are reserved in non-leaf PTEs (4.4.1)."""
    return _bit(pte, "D") or _bit(pte, "A") or _bit(pte, "U")


def _misaligned(pte: int, level: int) -> bool:
    return bool(sv39.pte_ppn(pte) & ((1 << (sv39.VPN_BITS * level)) - 1))


def _find_leaf(read_pte: Callable[[int], int], root_ppn: int, addr: int,
               extra_root_bits: int) -> tuple[int, int] | None:
    """Steps 1-5 of 4.3.2: the leaf PTE of ``addr`` and its level, or None for a page
    fault of the stage. ``read_pte`` raises _Fault for faults of the read itself."""
    a = root_ppn << sv39.PAGE_SHIFT
    for level in range(sv39.LEVELS - 1, -1, -1):
        pte = read_pte(a + _index(addr, level, extra_root_bits) * 8)
        if _invalid(pte):
            return None
        if _is_leaf(pte):
            return None if _misaligned(pte, level) else (pte, level)
        if _bad_pointer(pte):
            return None
        a = sv39.pte_ppn(pte) << sv39.PAGE_SHIFT
    return None


def _rwx_ok(pte: int, access: str, mxr: bool, hlvx: bool) -> bool:
    """Step 6b: R/W/X against the access (MXR: X makes readable; HLVX: X replaces R)."""
    if access == "r":
        return _bit(pte, "X") if hlvx else _bit(pte, "R") or (mxr and _bit(pte, "X"))
    return _bit(pte, "W" if access == "w" else "X")


def _ad_ok(pte: int, access: str) -> bool:
    """Step 7 with Svade: A set, and D set for a store."""
    return _bit(pte, "A") and (access != "w" or _bit(pte, "D"))


def _user_ok(pte: int, access: str, priv: int, sum_: bool) -> bool:
    """Step 6a: the U bit against the effective privilege and SUM. HLVX counts as a load
    here (as Spike does): SUM lets VS-mode HLVX read an executable U page."""
    if _bit(pte, "U"):
        return priv == PRIV_U or (sum_ and access != "x")
    return priv != PRIV_U


def _page_address(pte: int, level: int, addr: int) -> int:
    return sv39.Leaf(pte, level, 0).paddr(addr)


class _Walker:
    """One translation: the PTE-read counter and the two stages."""

    def __init__(self, read64, access: str, mode: Mode):
        self.read64, self.access, self.mode = read64, access, mode
        self.accesses = 0
        self.g_level: int | None = None

    def read(self, paddr: int) -> int:
        """One PTE read; a refused read is an access fault of the original access."""
        self.accesses += 1
        pte = self.read64(paddr)
        if pte is None:
            raise _Fault(ACCESS_FAULT[self.access])
        return pte

    def g_stage(self, gpa: int, implicit: bool) -> int:
        """G-stage translation of ``gpa``: the final GPA (``implicit`` False) with the
        access's own permissions, or a VS-stage PTE address as an implicit load."""
        hgatp = self.mode.hgatp
        if field("hgatp", "MODE", hgatp) == HGATP_MODE_BARE:
            return gpa
        fault = _Fault(GUEST_PAGE_FAULT[self.access], gpa, implicit)
        if gpa >> GPA_BITS:
            raise fault
        root = field("hgatp", "PPN", hgatp) & ~((1 << SV39X4_EXTRA_ROOT_BITS) - 1)
        found = _find_leaf(self.read, root, gpa, SV39X4_EXTRA_ROOT_BITS)
        if found is None:
            raise fault
        pte, level = found
        access, mxr, hlvx = ("r", False, False) if implicit else \
            (self.access, self.mode.mxr, self.mode.hlvx)
        if not (_bit(pte, "U") and _rwx_ok(pte, access, mxr, hlvx) and _ad_ok(pte, access)):
            raise fault
        if not implicit:
            self.g_level = level
        return _page_address(pte, level, gpa)

    def first_stage(self, atp: int, vaddr: int, read_pte) -> tuple[int, int]:
        """S-stage (V=0) or VS-stage (V=1) translation of ``vaddr``: (address, level)."""
        mode = self.mode
        fault = _Fault(PAGE_FAULT[self.access])
        if not sv39.canonical(vaddr):
            raise fault
        found = _find_leaf(read_pte, field("satp", "PPN", atp), vaddr, 0)
        if found is None:
            raise fault
        pte, level = found
        mxr = mode.mxr or (mode.v and mode.vs_mxr)
        if not (_user_ok(pte, self.access, mode.priv, mode.sum)
                and _rwx_ok(pte, self.access, mxr, mode.hlvx) and _ad_ok(pte, self.access)):
            raise fault
        return _page_address(pte, level, vaddr), level

    def run(self, vaddr: int) -> tuple[int, int | None]:
        """The whole translation: (physical address, level)."""
        mode = self.mode
        if mode.priv == PRIV_M:
            return vaddr, None
        if not mode.v:
            if field("satp", "MODE", mode.satp) == sv39.SATP_MODE_BARE:
                return vaddr, None
            return self.first_stage(mode.satp, vaddr, self.read)
        if field("satp", "MODE", mode.vsatp) == sv39.SATP_MODE_BARE:
            paddr = self.g_stage(vaddr, implicit=False)
            return paddr, self.g_level
        gpa, level = self.first_stage(
            mode.vsatp, vaddr, lambda a: self.read(self.g_stage(a, implicit=True)))
        return self.g_stage(gpa, implicit=False), level


def _check(vaddr: int, access: str, mode: Mode) -> None:
    if access not in PAGE_FAULT:
        raise ModeError(f"access {access!r} is not one of 'r', 'w', 'x'")
    if not 0 <= vaddr < 1 << 64:
        raise ModeError(f"vaddr {vaddr:#x} is not a 64-bit value")
    if mode.priv not in (PRIV_U, PRIV_S, PRIV_M) or (mode.v and mode.priv == PRIV_M):
        raise ModeError(f"Mode.priv {mode.priv} with v={mode.v} is not a privilege mode")
    if mode.hlvx and access != "r":
        raise ModeError(f"Mode.hlvx is set for a {access!r} access (HLVX is a load)")
    for name, csr, legal in (("satp", "satp", (sv39.SATP_MODE_BARE, sv39.SATP_MODE_SV39)),
                             ("vsatp", "satp", (sv39.SATP_MODE_BARE, sv39.SATP_MODE_SV39)),
                             ("hgatp", "hgatp", (HGATP_MODE_BARE, HGATP_MODE_SV39X4))):
        if field(csr, "MODE", getattr(mode, name)) not in legal:
            raise ModeError(f"Mode.{name} MODE {field(csr, 'MODE', getattr(mode, name))} "
                            f"is not one of {legal} (the WARL field never holds it)")


def translate(read64, vaddr: int, access: str, mode: Mode) -> Translation:
    """Translate ``vaddr`` for an ``access`` ("r", "w", "x") under ``mode``."""
    _check(vaddr, access, mode)
    walker = _Walker(read64, access, mode)
    try:
        paddr, level = walker.run(vaddr)
    except _Fault as f:
        return Translation(None, f.cause, vaddr, f.gpa, f.implicit, walker.accesses, None)
    return Translation(paddr, None, None, None, False, walker.accesses, level, walker.g_level)


def effective_mode(prv: int, v: bool, kind: str, *, mstatus: int, hstatus: int = 0,
                   vsstatus: int = 0, satp: int = 0, vsatp: int = 0, hgatp: int = 0) -> Mode:
    """The Mode of an access made by an instruction of ``kind`` (see KIND_ACCESS) at
    privilege ``prv`` and virtualization mode ``v``: MPRV/MPP/MPV apply to explicit
    loads and stores; HLV/HLVX/HSV use V=1 and privilege SPVP (call
    :func:`hlv_exception` first). SUM comes from vsstatus when the access is virtual
    (HS-level SUM is ignored), MXR from mstatus, and vsstatus.MXR too when virtual."""
    if kind not in KIND_ACCESS:
        raise ModeError(f"instruction kind {kind!r} is not one of {sorted(KIND_ACCESS)}")
    priv = prv
    if kind in ("hlv", "hlvx", "hsv"):
        priv, v = field("hstatus", "SPVP", hstatus), True
    elif kind != "fetch" and field("mstatus", "MPRV", mstatus):
        priv = field("mstatus", "MPP", mstatus)
        v = v or bool(field("mstatus", "MPV", mstatus) and priv != PRIV_M)
    sum_ = field("vsstatus", "SUM", vsstatus) if v else field("mstatus", "SUM", mstatus)
    return Mode(priv=priv, v=v, satp=satp, vsatp=vsatp, hgatp=hgatp, sum=bool(sum_),
                mxr=bool(field("mstatus", "MXR", mstatus)),
                vs_mxr=bool(v and field("vsstatus", "MXR", vsstatus)), hlvx=kind == "hlvx")


def hlv_exception(prv: int, v: bool, hstatus: int) -> int | None:
    """The exception an HLV/HLVX/HSV raises before translating: virtual-instruction
    when V=1, illegal-instruction in U-mode with hstatus.HU=0; None if it may run."""
    if v:
        return VIRTUAL_INSTRUCTION
    if prv == PRIV_U and not field("hstatus", "HU", hstatus):
        return ILLEGAL_INSTRUCTION
    return None
