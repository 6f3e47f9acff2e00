"""The two-stage hardware page-table walker: Sv39 S/VS-stage over Sv39x4 G-stage
(privileged spec 4.3.2, 4.4; hypervisor extension "Two-stage address translation",
"Guest physical address translation", "Guest-page faults"), with Svade.

One PTE read per cycle through the data port. The walk state (``phase``, the VS-stage
level and table base, the G-stage level and table base, the guest-physical address
being translated) is kept apart from the per-read checks, in three phases:

- ``S``: read the S/VS-stage PTE (at its guest-physical address's translation when the
  G stage is on);
- ``G_PTE``: G-stage walk of a VS-stage PTE address (an implicit load: the G leaf needs
  U, R and A; no MXR);
- ``G_FINAL``: G-stage walk of the final guest-physical address (the leaf needs U and
  the access's own permission, with ``mstatus.MXR`` and HLVX).

A 4 KiB VS page over 4 KiB G pages costs 3 x (3 + 1) + 3 = 15 reads. The permission
step of both stages is done here, at the leaf, in the order the spec gives (a VS-stage
permission fault ends the walk before the final G-stage walk), so a walk ends either
with a translation the access may use, or with exactly one fault.

The walk also reports both leaves' flags (all ones for a missing G stage), which the
TLB keeps so that the MMU re-checks both stages' permissions at every hit.

Used by the MMU (``mmu.py``) of a configuration with the H extension (the S-only
configuration keeps the smaller ``ptw.py``); property-tested against ``reference.py``
(``tests/unit/test_walker2.py``, ``tests/unit/test_mmu.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.mmu import sv39

PH_S, PH_G_PTE, PH_G_FINAL = range(3)
GPA_BITS = 41


@dataclass
class WalkMode:
    """What the walk checks permissions against (held while the walk runs)."""

    priv: pyrtl.WireVector  # 2-bit effective privilege (0 U, 1 S)
    sum: pyrtl.WireVector  # SUM of the first stage (mstatus, or vsstatus when V)
    mxr_s: pyrtl.WireVector  # MXR for the first stage (mstatus.MXR | vsstatus.MXR when V)
    mxr_g: pyrtl.WireVector  # mstatus.MXR (the G stage)
    store: pyrtl.WireVector  # the access is a store/AMO
    fetch: pyrtl.WireVector  # the access is a fetch
    hlvx: pyrtl.WireVector  # HLVX: execute permission replaces read in both stages


@dataclass
class WalkRequest:
    start: pyrtl.WireVector
    vaddr: pyrtl.WireVector  # 64 bits
    s_on: pyrtl.WireVector  # first stage Sv39 (satp, or vsatp when V)
    s_root: pyrtl.WireVector  # 44-bit root PPN of the first stage
    g_on: pyrtl.WireVector  # G stage Sv39x4 (V and hgatp.MODE)
    g_root: pyrtl.WireVector  # 44-bit hgatp.PPN (bits 1:0 ignored: 16 KiB root)


@dataclass
class WalkResult:
    busy: pyrtl.WireVector  # a PTE is read this cycle
    pte_addr: pyrtl.WireVector  # 64-bit physical address of that PTE
    done: pyrtl.WireVector  # the walk ends this cycle
    page_fault: pyrtl.WireVector  # S/VS-stage page fault
    guest_fault: pyrtl.WireVector  # G-stage fault (guest-page fault)
    access_fault: pyrtl.WireVector  # a PTE read was refused
    gpa: pyrtl.WireVector  # 64-bit guest-physical address of a guest-page fault
    implicit: pyrtl.WireVector  # ... taken on a VS-stage PTE address
    ppn: pyrtl.WireVector  # 44-bit physical page of vaddr's 4 KiB page (when ok)
    level: pyrtl.WireVector  # 2-bit page size usable for a TLB entry (smaller of both)
    s_flags: pyrtl.WireVector  # 8 flag bits of the S/VS-stage leaf (when ok, s_on)
    g_flags: pyrtl.WireVector  # 8 flag bits of the G-stage leaf, all ones without G stage


@dataclass
class _Pte:
    """The checks of one PTE at a level (spec 4.3.2 steps 3-5, 4.4.1)."""

    leaf: pyrtl.WireVector
    bad: pyrtl.WireVector  # invalid, misaligned superpage, or a bad pointer
    ppn: pyrtl.WireVector


def _pte(pte: pyrtl.WireVector, level: pyrtl.WireVector) -> _Pte:
    v, r, w, x, u, a, d = (pte[sv39.PTE_BITS[k]] for k in "VRWXUAD")
    ppn = pte[10:54]
    invalid = ~v | (w & ~r) | (pte[54:64] != 0)
    leaf = r | x
    misaligned = pyrtl.mux(level, pyrtl.Const(0, 1), ppn[0:9] != 0, ppn[0:18] != 0,
                           default=pyrtl.Const(1, 1))
    bad_pointer = d | a | u | (level == 0)
    return _Pte(leaf=leaf, bad=invalid | pyrtl.select(leaf, misaligned, bad_pointer), ppn=ppn)


def perm_ok(pte, priv, sum_, mxr, store, fetch, hlvx, g_stage: bool) -> pyrtl.WireVector:
    """Steps 6-7 with Svade on a leaf's flags (bits 7:0 of ``pte``). G-stage leaves
    need U and are checked as U accesses."""
    r, w, x, u, a, d = (pte[sv39.PTE_BITS[k]] for k in "RWXUAD")
    if g_stage:
        user_ok = u
    else:
        user_ok = pyrtl.select(priv == 0, u, ~u | (sum_ & ~fetch))
    read_ok = pyrtl.select(hlvx, x, r | (mxr & x))
    kind_ok = pyrtl.select(fetch, x, pyrtl.select(store, w, read_ok))
    return user_ok & kind_ok & a & (d | ~store)


def _page(ppn: pyrtl.WireVector, level: pyrtl.WireVector, addr: pyrtl.WireVector):
    """The 44-bit page of ``addr`` inside a leaf of ``level`` whose PPN is ``ppn``."""
    return pyrtl.mux(level, ppn, pyrtl.concat(ppn[9:44], addr[12:21]),
                     pyrtl.concat(ppn[18:44], addr[12:30]), default=ppn)


def _index(addr: pyrtl.WireVector, level: pyrtl.WireVector, root_bits: int):
    """The PTE index of ``addr`` at ``level`` (``root_bits`` wide at level 2)."""
    return pyrtl.mux(level, addr[12:21].zero_extended(11), addr[21:30].zero_extended(11),
                     addr[30:30 + root_bits].zero_extended(11), default=pyrtl.Const(0, 11))


def _reg(width: int, name: str) -> pyrtl.Register:
    return pyrtl.Register(width, name=f"walk_{name}")


def build_walker(req: WalkRequest, mode: WalkMode, pte: pyrtl.WireVector,
                 pte_ok: pyrtl.WireVector, abort: pyrtl.WireVector) -> WalkResult:
    """Elaborate the walker; ``pte`` is the word at ``pte_addr``, ``pte_ok`` says the
    read was allowed; ``abort`` drops the walk (the instruction left)."""
    busy = _reg(1, "busy")
    regs = {n: _reg(w, n) for n, w in (("phase", 2), ("s_level", 2), ("s_base", 44),
                                       ("g_level", 2), ("g_base", 44), ("gpa", 64),
                                       ("spa", 56), ("s_page_level", 2), ("s_flags", 8))}
    active = busy | req.start
    vpn2 = pyrtl.concat(req.s_root, req.vaddr[30:39], pyrtl.Const(0, 3))
    g_root = pyrtl.concat(req.g_root[2:44], pyrtl.Const(0, 2))
    init = {
        "phase": pyrtl.select(req.s_on, pyrtl.select(req.g_on, pyrtl.Const(PH_G_PTE, 2),
                                                     pyrtl.Const(PH_S, 2)),
                              pyrtl.Const(PH_G_FINAL, 2)),
        "s_level": pyrtl.Const(2, 2), "s_base": req.s_root, "g_level": pyrtl.Const(2, 2),
        "g_base": g_root,
        "gpa": pyrtl.select(req.s_on, vpn2.zero_extended(64), req.vaddr),
    }
    cur = {n: pyrtl.select(busy, regs[n], init[n]) if n in init else regs[n] for n in regs}
    phase, s_level, g_level, gpa = cur["phase"], cur["s_level"], cur["g_level"], cur["gpa"]
    in_s = phase == PH_S
    final = phase == PH_G_FINAL

    s_addr = pyrtl.select(req.g_on, cur["spa"].zero_extended(64),
                          pyrtl.concat(cur["s_base"], _index(req.vaddr, s_level, 9)[0:9],
                                       pyrtl.Const(0, 3)).zero_extended(64))
    g_idx = _index(gpa, g_level, 11)  # the 16 KiB root: bits 10:9 land on base bits 1:0
    g_base = cur["g_base"]
    g_addr = pyrtl.concat(g_base[2:44], g_base[0:2] | g_idx[9:11], g_idx[0:9],
                          pyrtl.Const(0, 3)).zero_extended(64)
    level = pyrtl.select(in_s, s_level, g_level)
    chk = _pte(pte, level)

    # --- the S/VS stage -------------------------------------------------------------
    s_perm = perm_ok(pte, mode.priv, mode.sum, mode.mxr_s, mode.store, mode.fetch,
                      mode.hlvx, g_stage=False)
    s_leaf_gpa = pyrtl.concat(_page(chk.ppn, s_level, req.vaddr), req.vaddr[0:12])
    s_next_gpa = pyrtl.concat(chk.ppn, _index(req.vaddr, (s_level - 1)[0:2], 9)[0:9],
                              pyrtl.Const(0, 3))

    # --- the G stage ----------------------------------------------------------------
    gpa_bad = gpa[GPA_BITS:64] != 0
    g_perm = perm_ok(pte, pyrtl.Const(0, 2), pyrtl.Const(0, 1),
                      pyrtl.select(final, mode.mxr_g, pyrtl.Const(0, 1)),
                      final & mode.store, final & mode.fetch, final & mode.hlvx,
                      g_stage=True)
    g_spa = pyrtl.concat(_page(chk.ppn, g_level, gpa), gpa[0:12])

    # --- outcome of this cycle's read -----------------------------------------------
    read_bad = ~pte_ok & ~(~in_s & gpa_bad)
    s_fault = in_s & ~read_bad & (chk.bad | (chk.leaf & ~s_perm))
    g_fault = ~in_s & (gpa_bad | (~read_bad & (chk.bad | (chk.leaf & ~g_perm))))
    ends = active & (read_bad | s_fault | g_fault
                     | (chk.leaf & ((in_s & ~req.g_on) | final)))
    step = active & ~ends
    s_down = step & in_s & ~chk.leaf  # next VS level
    to_final = step & in_s & chk.leaf  # VS leaf found, G-stage the final GPA
    g_down = step & ~in_s & ~chk.leaf
    g_done = step & ~in_s & chk.leaf  # G leaf of a VS PTE address: read it next

    r = regs
    busy.next <<= step & ~abort
    r["phase"].next <<= pyrtl.select(
        s_down & req.g_on | to_final, pyrtl.select(to_final, pyrtl.Const(PH_G_FINAL, 2),
                                                   pyrtl.Const(PH_G_PTE, 2)),
        pyrtl.select(g_done, pyrtl.Const(PH_S, 2), phase))
    r["s_level"].next <<= pyrtl.select(s_down, (s_level - 1)[0:2], s_level)
    r["s_base"].next <<= pyrtl.select(s_down, chk.ppn, cur["s_base"])
    restart_g = s_down | to_final
    r["g_level"].next <<= pyrtl.select(restart_g, pyrtl.Const(2, 2),
                                       pyrtl.select(g_down, (g_level - 1)[0:2], g_level))
    r["g_base"].next <<= pyrtl.select(restart_g, g_root,
                                      pyrtl.select(g_down, chk.ppn, cur["g_base"]))
    r["gpa"].next <<= pyrtl.select(s_down, s_next_gpa.zero_extended(64),
                                   pyrtl.select(to_final, s_leaf_gpa.zero_extended(64), gpa))
    r["spa"].next <<= pyrtl.select(g_done, g_spa, cur["spa"])
    r["s_page_level"].next <<= pyrtl.select(to_final, s_level, cur["s_page_level"])
    r["s_flags"].next <<= pyrtl.select(to_final, pte[0:8], cur["s_flags"])

    out = WalkResult(*(pyrtl.WireVector(w, name=f"walk_o_{n}") for n, w in (
        ("busy", 1), ("pte_addr", 64), ("done", 1), ("page_fault", 1), ("guest_fault", 1),
        ("access_fault", 1), ("gpa", 64), ("implicit", 1), ("ppn", 44), ("level", 2),
        ("s_flags", 8), ("g_flags", 8))))
    out.busy <<= active
    out.pte_addr <<= pyrtl.select(in_s, s_addr, g_addr)
    out.done <<= ends
    out.page_fault <<= s_fault
    out.guest_fault <<= g_fault
    out.access_fault <<= read_bad
    out.gpa <<= gpa
    out.implicit <<= phase == PH_G_PTE
    s_page = _page(chk.ppn, s_level, req.vaddr)
    out.ppn <<= pyrtl.select(in_s, s_page, _page(chk.ppn, g_level, gpa))
    s_lvl = pyrtl.select(req.s_on, cur["s_page_level"], pyrtl.Const(2, 2))
    out.level <<= pyrtl.select(in_s, s_level,
                               pyrtl.select(g_level < s_lvl, g_level, s_lvl))
    out.s_flags <<= pyrtl.select(in_s, pte[0:8], cur["s_flags"])
    out.g_flags <<= pyrtl.select(final, pte[0:8], pyrtl.Const(0xFF, 8))
    return out
