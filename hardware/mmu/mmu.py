"""The MMU: Sv39 translation of fetches and data accesses for S and U mode (RISC-V
privileged spec 1.12, sections 3.1.6.3 (MPRV, SUM, MXR), 4.1.11 (satp), 4.2.1
(SFENCE.VMA), 4.3.2 (the translation process), 4.4 (Sv39)).

Per cycle the TLB is looked up twice: port 0 translates the fetch (``pc``), port 1 the
data access, or, for a 32-bit instruction whose second parcel lies on the next page,
that parcel (its translation is then latched until the instruction leaves, so the data
access gets port 1 in the next cycle). A hit costs no cycle. A miss stalls the
instruction while the walker (``ptw.py``) reads one PTE per cycle through the data
port; a successful walk whose leaf allows the access fills the TLB, and the access is
retried in the next cycle. A walk that ends in a fault latches the fault, which the
retry raises. The second parcel of a page-crossing fetch is always taken from its latch
(one cycle after its lookup), so its translation never depends combinationally on the
instruction it completes. Entries keep the leaf's flags, so the permission step (U/SUM/MXR, and
the Svade A/D rule) is checked at every use with the current mode.

Cycle costs: TLB hit 0; miss 1 cycle per PTE read (3 for a 4 KiB page, 2 for 2 MiB,
1 for 1 GiB); a 32-bit instruction that crosses a page one extra cycle (the lookup of
its second parcel), plus that parcel's walk on a miss.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.config import CoreConfig
from hardware.mmu import sv39
from hardware.mmu.ptw import build_ptw
from hardware.mmu.tlb import TlbFill, TlbFlush, build_tlb

#: Which request a walk serves (the ``mmu_walk_for`` register).
FOR_FETCH, FOR_FETCH_HI, FOR_DATA = range(3)


@dataclass
class MmuContext:
    """The CSR state translation depends on, this cycle."""

    satp: pyrtl.WireVector  # 64-bit satp (MODE bit 63 set = Sv39)
    priv_fetch: pyrtl.WireVector  # 2-bit privilege of fetches
    priv_data: pyrtl.WireVector  # 2-bit effective privilege of loads/stores (MPRV applied)
    sum: pyrtl.WireVector  # mstatus.SUM
    mxr: pyrtl.WireVector  # mstatus.MXR


@dataclass
class MmuRequest:
    """One access to translate."""

    valid: pyrtl.WireVector  # the access happens (else the result is don't-care)
    vaddr: pyrtl.WireVector  # 64-bit virtual address
    store: pyrtl.WireVector  # a store or AMO (needs W, and D under Svade)


@dataclass
class MmuResult:
    """The translation of one request."""

    ready: pyrtl.WireVector  # paddr or a fault is known this cycle (else the access stalls)
    paddr: pyrtl.WireVector  # 64-bit physical address
    page_fault: pyrtl.WireVector  # valid with ready
    access_fault: pyrtl.WireVector  # a PTE read was not allowed; valid with ready


@dataclass
class PteRead:
    """The walker's use of the data port."""

    active: pyrtl.WireVector  # a PTE is read this cycle (out): the data port is the walker's
    addr: pyrtl.WireVector  # 64-bit physical PTE address (out)
    data: pyrtl.WireVector  # 64-bit word at addr (in)
    ok: pyrtl.WireVector  # the read is allowed: RAM, and PMP grants S-mode read (in)


@dataclass
class MmuFlush:
    """SFENCE.VMA retiring (spec 4.2.1), or a satp write (flushes everything)."""

    valid: pyrtl.WireVector
    by_addr: pyrtl.WireVector  # rs1 != x0
    vaddr: pyrtl.WireVector
    by_asid: pyrtl.WireVector  # rs2 != x0
    asid: pyrtl.WireVector  # 16 bits


@dataclass
class MmuPorts:
    fetch: MmuResult  # the first parcel, at pc
    fetch_hi: MmuResult  # the second parcel, at pc + 2
    data: MmuResult
    stall: pyrtl.WireVector  # some valid request is not ready: the instruction waits
    pte: PteRead


def _named(width: int, name: str, value) -> pyrtl.WireVector:
    w = pyrtl.WireVector(width, name=name)
    w <<= value
    return w


def permission_fault(flags, store, fetch, priv, sum_, mxr) -> pyrtl.WireVector:
    """Step 5 of spec 4.3.2 with Svade (``sv39.allowed``) on a leaf's 8 flag bits."""
    r, w, x, u, a, d = (flags[sv39.PTE_BITS[k]] for k in "RWXUAD")
    user = priv == 0
    bad_mode = pyrtl.select(user, ~u, u & (fetch | ~sum_))
    kind_ok = pyrtl.select(fetch, x, pyrtl.select(store, w, r | (mxr & x)))
    return bad_mode | ~kind_ok | ~a | (store & ~d)


def _noncanonical(vaddr: pyrtl.WireVector) -> pyrtl.WireVector:
    """Bits 63:39 differ from bit 38 (spec 4.4.1): a page fault, hit or miss."""
    top = vaddr[38:64]
    return (top != 0) & (top != (1 << 26) - 1)


def _physical(ppn: pyrtl.WireVector, vaddr: pyrtl.WireVector) -> pyrtl.WireVector:
    return pyrtl.concat(ppn, vaddr[0:12]).zero_extended(64)


class _Latch:
    """A walk's fault or a second-parcel translation, held until the instruction
    leaves (``done``)."""

    def __init__(self, name: str):
        self.valid = pyrtl.Register(1, name=f"mmu_{name}_valid")
        self.page = pyrtl.Register(1, name=f"mmu_{name}_page_fault")
        self.access = pyrtl.Register(1, name=f"mmu_{name}_access_fault")

    def drive(self, done, set_, page, access) -> None:
        self.valid.next <<= ~done & (self.valid | set_)
        self.page.next <<= pyrtl.select(set_, page, self.page)
        self.access.next <<= pyrtl.select(set_, access, self.access)


def build_mmu(cfg: CoreConfig, ctx: MmuContext, fetch: MmuRequest, fetch_hi: MmuRequest,
              data: MmuRequest, flush: MmuFlush, pte_data: pyrtl.WireVector,
              pte_ok: pyrtl.WireVector, done: pyrtl.WireVector,
              walk_allow: pyrtl.WireVector) -> MmuPorts:
    """Elaborate the MMU. ``done``: the instruction leaves this cycle (retires or traps);
    ``walk_allow``: a walk may start (no interrupt is being taken)."""
    sv39_on = ctx.satp[63]
    asid = ctx.satp[44:60]
    on_i = sv39_on & (ctx.priv_fetch != 3)
    on_d = sv39_on & (ctx.priv_data != 3)

    crossing = on_i & fetch_hi.valid & (fetch.vaddr[1:12] == 0x7FF)
    hi = _Latch("hi")
    hi_ppn = pyrtl.Register(sv39.PPN_BITS, name="mmu_hi_ppn")
    serve_hi = crossing & ~hi.valid
    port1_vaddr = pyrtl.select(serve_hi, fetch_hi.vaddr, data.vaddr)

    fill = TlbFill(valid=pyrtl.WireVector(1, name="tlb_fill"), vpn=pyrtl.WireVector(27),
                   asid=asid, ppn=pyrtl.WireVector(44), level=pyrtl.WireVector(2),
                   flags=pyrtl.WireVector(8))
    tflush = TlbFlush(valid=flush.valid, by_addr=flush.by_addr, vpn=flush.vaddr[12:39],
                      by_asid=flush.by_asid, asid=flush.asid)
    look_i, look_1 = build_tlb(cfg.tlb_entries, [(fetch.vaddr[12:39], asid),
                                                 (port1_vaddr[12:39], asid)], fill, tflush)

    walk_fault = {k: _Latch(n) for k, n in ((FOR_FETCH, "if"), (FOR_FETCH_HI, "ihf"),
                                            (FOR_DATA, "df"))}
    f_pf = permission_fault(look_i.flags, pyrtl.Const(0, 1), pyrtl.Const(1, 1),
                            ctx.priv_fetch, ctx.sum, ctx.mxr)
    p1_fetch = serve_hi
    p1_pf = permission_fault(look_1.flags, ~p1_fetch & data.store, p1_fetch,
                             pyrtl.select(p1_fetch, ctx.priv_fetch, ctx.priv_data),
                             ctx.sum, ctx.mxr)

    # --- the first parcel ---------------------------------------------------------
    wf = walk_fault[FOR_FETCH]
    nc = on_i & _noncanonical(fetch.vaddr)
    lo = MmuResult(
        ready=_named(1, "mmu_fetch_ready", ~on_i | nc | look_i.hit | wf.valid),
        paddr=_named(64, "mmu_fetch_paddr",
                     pyrtl.select(on_i, _physical(look_i.ppn, fetch.vaddr), fetch.vaddr)),
        page_fault=_named(1, "mmu_fetch_pf",
                          nc | on_i & pyrtl.select(look_i.hit, f_pf, wf.page)),
        access_fault=_named(1, "mmu_fetch_af", ~nc & on_i & ~look_i.hit & wf.access))

    # --- the second parcel: same page as the first unless crossing -------------------
    wf = walk_fault[FOR_FETCH_HI]
    nc = crossing & _noncanonical(fetch_hi.vaddr)
    hi_now = serve_hi & look_1.hit
    hi.drive(done, hi_now, p1_pf, pyrtl.Const(0, 1))
    hi_ppn.next <<= pyrtl.select(hi_now, look_1.ppn, hi_ppn)
    hi_res = MmuResult(
        ready=_named(1, "mmu_fetch_hi_ready", ~crossing | hi.valid | wf.valid | nc),
        paddr=_named(64, "mmu_fetch_hi_paddr",
                     pyrtl.select(crossing, _physical(hi_ppn, fetch_hi.vaddr),
                                  pyrtl.select(on_i, _physical(look_i.ppn, fetch_hi.vaddr),
                                               fetch_hi.vaddr))),
        page_fault=_named(1, "mmu_fetch_hi_pf",
                          nc | crossing & pyrtl.select(hi.valid, hi.page, wf.page)),
        access_fault=_named(1, "mmu_fetch_hi_af", ~nc & crossing & ~hi.valid & wf.access))

    # --- data ---------------------------------------------------------------------------
    wf = walk_fault[FOR_DATA]
    nc = on_d & _noncanonical(data.vaddr)
    d_hit = ~serve_hi & look_1.hit
    d_res = MmuResult(
        ready=_named(1, "mmu_data_ready", ~on_d | nc | d_hit | (~serve_hi & wf.valid)),
        paddr=_named(64, "mmu_data_paddr",
                     pyrtl.select(on_d, _physical(look_1.ppn, data.vaddr), data.vaddr)),
        page_fault=_named(1, "mmu_data_pf", nc | on_d & pyrtl.select(d_hit, p1_pf, wf.page)),
        access_fault=_named(1, "mmu_data_af", ~nc & on_d & ~d_hit & wf.access))

    # --- walks: first parcel, then second parcel, then data --------------------------
    want_lo = fetch.valid & ~lo.ready
    want_hi = fetch_hi.valid & ~hi_res.ready
    want_d = data.valid & ~d_res.ready
    stall = _named(1, "mmu_stall", want_lo | want_hi | want_d)
    busy = pyrtl.Register(1, name="mmu_walking")
    walk_for = pyrtl.Register(2, name="mmu_walk_for")
    pick = pyrtl.select(want_lo, pyrtl.Const(FOR_FETCH, 2),
                        pyrtl.select(want_hi, pyrtl.Const(FOR_FETCH_HI, 2),
                                     pyrtl.Const(FOR_DATA, 2)))
    start = ~busy & (want_lo | want_hi | (want_d & ~serve_hi)) & walk_allow
    which = pyrtl.select(busy, walk_for, pick)
    walk_vaddr = pyrtl.select(which == FOR_FETCH, fetch.vaddr, port1_vaddr)
    ptw = build_ptw(start, walk_vaddr, ctx.satp[0:44], pte_data, pte_ok, abort=done)
    busy.next <<= ptw.busy & ~ptw.done & ~done
    walk_for.next <<= which

    is_fetch = which != FOR_DATA
    leaf_pf = permission_fault(ptw.leaf[0:8], ~is_fetch & data.store, is_fetch,
                               pyrtl.select(is_fetch, ctx.priv_fetch, ctx.priv_data),
                               ctx.sum, ctx.mxr)
    ok = ptw.done & ~ptw.fault & ~leaf_pf
    bad = ptw.done & ~ok
    fill.valid <<= ok & ~done
    fill.vpn <<= walk_vaddr[12:39]
    fill.ppn <<= ptw.leaf[10:54]
    fill.level <<= ptw.level
    fill.flags <<= ptw.leaf[0:8]
    for k, latch in walk_fault.items():
        latch.drive(done, bad & (which == k), ~ptw.access_fault, ptw.access_fault)

    pte = PteRead(active=_named(1, "mmu_pte_active", ptw.busy), addr=ptw.pte_addr,
                  data=pte_data, ok=pte_ok)
    return MmuPorts(fetch=lo, fetch_hi=hi_res, data=d_res, stall=stall, pte=pte)
