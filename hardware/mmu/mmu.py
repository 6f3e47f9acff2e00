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

With the H extension (``cfg.has_h``; hypervisor extension "Two-stage address
translation", "Guest-page faults", HLV/HLVX/HSV) the same structure translates in both
stages: each request has a regime (V; satp, or vsatp over hgatp), the walker is the
two-stage ``walker2.py``, TLB entries are tagged by V, VMID and "S stage Bare" and keep
both leaves' flags, so both stages' permission steps run at every hit (a G-stage
failure is a guest-page fault with the guest-physical address). The configuration
without H elaborates exactly the Sv39-only MMU.

Cycle costs: TLB hit 0; miss 1 cycle per PTE read (3 for a 4 KiB page, 2 for 2 MiB,
1 for 1 GiB; up to 15 for a two-stage walk); a 32-bit instruction that crosses a page
one extra cycle (the lookup of its second parcel), plus that parcel's walk on a miss.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import pyrtl

from hardware.config import CoreConfig
from hardware.mmu import sv39
from hardware.mmu.ptw import build_ptw
from hardware.mmu.tlb import GVPN_BITS, VMID_BITS, TlbFill, TlbFlush, TlbResult, build_tlb
from hardware.mmu.walker2 import GPA_BITS, WalkMode, WalkRequest, build_walker, perm_ok

#: Which request a walk serves (the ``mmu_walk_for`` register).
FOR_FETCH, FOR_FETCH_HI, FOR_DATA = range(3)
#: Width of the event counters (``_perf_counters``).
PERF_BITS = 48


@dataclass
class MmuContext:
    """The CSR state translation depends on, this cycle."""

    satp: pyrtl.WireVector  # 64-bit satp (MODE bit 63 set = Sv39)
    priv_fetch: pyrtl.WireVector  # 2-bit privilege of fetches
    priv_data: pyrtl.WireVector  # 2-bit effective privilege of loads/stores (MPRV applied)
    sum: pyrtl.WireVector  # mstatus.SUM
    mxr: pyrtl.WireVector  # mstatus.MXR (with V=1: MXR of the G stage)
    # the H extension only (None when cfg.has_h is False)
    v_fetch: pyrtl.WireVector | None = None  # V of fetches
    v_data: pyrtl.WireVector | None = None  # V of loads/stores (MPV under MPRV, 1 for HLV/HSV)
    vsatp: pyrtl.WireVector | None = None  # 64 bits, the first stage when V=1
    hgatp: pyrtl.WireVector | None = None  # 64 bits: MODE 63:60 (0 Bare, 8 Sv39x4), VMID 57:44
    vs_sum: pyrtl.WireVector | None = None  # vsstatus.SUM (replaces SUM when V=1)
    vs_mxr: pyrtl.WireVector | None = None  # vsstatus.MXR (ORed into the VS stage's MXR)


@dataclass
class MmuRequest:
    """One access to translate."""

    valid: pyrtl.WireVector  # the access happens (else the result is don't-care)
    vaddr: pyrtl.WireVector  # 64-bit virtual address
    store: pyrtl.WireVector  # a store or AMO (needs W, and D under Svade)
    hlvx: pyrtl.WireVector | None = None  # H only, data: HLVX (X replaces R, both stages)


@dataclass
class MmuResult:
    """The translation of one request."""

    ready: pyrtl.WireVector  # paddr or a fault is known this cycle (else the access stalls)
    paddr: pyrtl.WireVector  # 64-bit physical address
    page_fault: pyrtl.WireVector  # valid with ready
    access_fault: pyrtl.WireVector  # a PTE read was not allowed; valid with ready
    # the H extension only (None when cfg.has_h is False)
    guest_fault: pyrtl.WireVector | None = None  # a G-stage (guest-page) fault; with ready
    gpa: pyrtl.WireVector | None = None  # 64-bit guest-physical address of that fault
    implicit: pyrtl.WireVector | None = None  # ... taken on a VS-stage PTE address


@dataclass
class PteRead:
    """The walker's use of the data port."""

    active: pyrtl.WireVector  # a PTE is read this cycle (out): the data port is the walker's
    addr: pyrtl.WireVector  # 64-bit physical PTE address (out)
    data: pyrtl.WireVector  # 64-bit word at addr (in)
    ok: pyrtl.WireVector  # the read is allowed: RAM, and PMP grants S-mode read (in)


@dataclass
class MmuFlush:
    """SFENCE.VMA retiring (spec 4.2.1), or a satp write (flushes everything); with the
    H extension also HFENCE.VVMA/GVMA and writes of vsatp/hgatp."""

    valid: pyrtl.WireVector
    by_addr: pyrtl.WireVector  # rs1 != x0
    vaddr: pyrtl.WireVector
    by_asid: pyrtl.WireVector  # rs2 != x0
    asid: pyrtl.WireVector  # 16 bits
    # the H extension only (None when cfg.has_h is False)
    v: pyrtl.WireVector | None = None  # 0: HS-level (V=0) entries, 1: guest entries
    all_v: pyrtl.WireVector | None = None  # entries of both V (a satp/vsatp/hgatp write)
    by_vmid: pyrtl.WireVector | None = None  # only guest entries of ``vmid``
    vmid: pyrtl.WireVector | None = None  # 14 bits


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


#: The fields a two-stage latch adds: (name, width).
_LATCH_H = (("guest", 1), ("gpa", 64), ("implicit", 1))


class _Latch:
    """A walk's fault or a second-parcel translation, held until the instruction
    leaves (``done``); with ``two_stage`` also a guest-page fault, its guest-physical
    address and whether it was taken on a VS-stage PTE address."""

    def __init__(self, name: str, two_stage: bool = False):
        self.valid = pyrtl.Register(1, name=f"mmu_{name}_valid")
        self.page = pyrtl.Register(1, name=f"mmu_{name}_page_fault")
        self.access = pyrtl.Register(1, name=f"mmu_{name}_access_fault")
        self.two_stage = two_stage
        for f, w in _LATCH_H if two_stage else ():
            setattr(self, f, pyrtl.Register(w, name=f"mmu_{name}_{f}"))

    def drive(self, done, set_, page, access, **two_stage) -> None:
        self.valid.next <<= ~done & (self.valid | set_)
        self.page.next <<= pyrtl.select(set_, page, self.page)
        self.access.next <<= pyrtl.select(set_, access, self.access)
        for f, _ in _LATCH_H if self.two_stage else ():
            reg = getattr(self, f)
            reg.next <<= pyrtl.select(set_, two_stage[f], reg)


@dataclass
class _Arbiter:
    """Which request the walker serves, and whether the instruction waits."""

    busy: pyrtl.Register  # a walk is in progress (next value set by the builder)
    walk_for: pyrtl.Register  # the request it serves (next value set by the builder)
    stall: pyrtl.WireVector
    start: pyrtl.WireVector
    which: pyrtl.WireVector
    walk_vaddr: pyrtl.WireVector


def _arbiter(lo, hi, data, hi_now, serve_hi, walk_allow, port1_vaddr) -> _Arbiter:
    """Walks in priority order: first parcel, second parcel, data. ``lo``/``hi``/``data``
    are (request, result) pairs. A walk in progress owns the data port, so the
    instruction never leaves under it; a second parcel that hits this cycle is latched
    at the edge and needs no walk."""
    (f_req, f_res), (h_req, h_res), (d_req, d_res) = lo, hi, data
    want_lo = f_req.valid & ~f_res.ready
    want_hi = h_req.valid & ~h_res.ready
    want_d = d_req.valid & ~d_res.ready
    busy = pyrtl.Register(1, name="mmu_walking")
    walk_for = pyrtl.Register(2, name="mmu_walk_for")
    stall = _named(1, "mmu_stall", want_lo | want_hi | want_d | busy)
    pick = pyrtl.select(want_lo, pyrtl.Const(FOR_FETCH, 2),
                        pyrtl.select(want_hi, pyrtl.Const(FOR_FETCH_HI, 2),
                                     pyrtl.Const(FOR_DATA, 2)))
    start = ~busy & (want_lo | (want_hi & ~hi_now) | (want_d & ~serve_hi)) & walk_allow
    which = pyrtl.select(busy, walk_for, pick)
    walk_vaddr = pyrtl.select(which == FOR_FETCH, f_req.vaddr, port1_vaddr)
    return _Arbiter(busy, walk_for, stall, start, which, walk_vaddr)


def _perf_counters(done, start, fetch_on, data_on) -> None:
    """Event counters for co-design measurements, visible to the simulator only (no CSR;
    docs/mmu.md "Event counters"): ``mmu_perf_walks`` counts the page walks started (TLB
    misses of the fetch, second-parcel and data ports), ``mmu_perf_lookups`` the translated
    accesses of the instructions that leave (a translated fetch and a translated data
    access count one each)."""
    walks = pyrtl.Register(PERF_BITS, name="mmu_perf_walks")
    lookups = pyrtl.Register(PERF_BITS, name="mmu_perf_lookups")
    walks.next <<= (walks + start)[:PERF_BITS]
    n = pyrtl.select(done, (fetch_on + data_on), pyrtl.Const(0, 2))
    lookups.next <<= (lookups + n)[:PERF_BITS]


def build_mmu(cfg: CoreConfig, ctx: MmuContext, fetch: MmuRequest, fetch_hi: MmuRequest,
              data: MmuRequest, flush: MmuFlush, pte_data: pyrtl.WireVector,
              pte_ok: pyrtl.WireVector, done: pyrtl.WireVector,
              walk_allow: pyrtl.WireVector) -> MmuPorts:
    """Elaborate the MMU: Sv39 only, or both stages when ``cfg.has_h`` (then the H
    fields of the context, the data request and the flush are required). ``done``: the
    instruction leaves this cycle (retires or traps); ``walk_allow``: a walk may start
    (no interrupt is being taken)."""
    if cfg.has_h:
        return build_two_stage(cfg, ctx, fetch, fetch_hi, data, flush, pte_data, pte_ok,
                               done, walk_allow)
    return _build_sv39(cfg, ctx, fetch, fetch_hi, data, flush, pte_data, pte_ok, done,
                       walk_allow)


def _build_sv39(cfg: CoreConfig, ctx: MmuContext, fetch: MmuRequest, fetch_hi: MmuRequest,
                data: MmuRequest, flush: MmuFlush, pte_data: pyrtl.WireVector,
                pte_ok: pyrtl.WireVector, done: pyrtl.WireVector,
                walk_allow: pyrtl.WireVector) -> MmuPorts:
    """The MMU of a configuration without the H extension (see ``build_mmu``)."""
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
    arb = _arbiter((fetch, lo), (fetch_hi, hi_res), (data, d_res), hi_now, serve_hi,
                   walk_allow, port1_vaddr)
    stall, start, which, walk_vaddr = arb.stall, arb.start, arb.which, arb.walk_vaddr
    ptw = build_ptw(start, walk_vaddr, ctx.satp[0:44], pte_data, pte_ok, abort=done)
    arb.busy.next <<= ptw.busy & ~ptw.done & ~done
    arb.walk_for.next <<= which
    _perf_counters(done, start, fetch.valid & on_i, data.valid & on_d)

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


# --- the two-stage MMU (H extension) ---------------------------------------------------


@dataclass
class _Regime:
    """How one request is translated this cycle (two-stage MMU)."""

    on: pyrtl.WireVector  # some stage translates
    first: pyrtl.WireVector  # the S stage (V=0) or the VS stage (V=1) is on
    v: pyrtl.WireVector
    asid: pyrtl.WireVector  # of satp, or of vsatp when V=1
    sbare: pyrtl.WireVector  # V=1 with vsatp Bare: the guest-physical address is vaddr
    priv: pyrtl.WireVector
    sum: pyrtl.WireVector  # mstatus.SUM, or vsstatus.SUM when V=1
    mxr_s: pyrtl.WireVector  # MXR of the first stage (vsstatus.MXR ORed in when V=1)


def _regime(ctx: MmuContext, v, priv) -> _Regime:
    vs_on, g_on = ctx.vsatp[63], ctx.hgatp[63]
    first = pyrtl.select(v, vs_on, ctx.satp[63] & (priv != 3))
    return _Regime(on=first | (v & g_on), first=first, v=v,
                   asid=pyrtl.select(v, ctx.vsatp[44:60], ctx.satp[44:60]),
                   sbare=v & ~vs_on, priv=priv, sum=pyrtl.select(v, ctx.vs_sum, ctx.sum),
                   mxr_s=ctx.mxr | (v & ctx.vs_mxr))


def _pick(sel, a: _Regime, b: _Regime) -> _Regime:
    """``a`` when ``sel``, else ``b``, field by field."""
    return _Regime(*(pyrtl.select(sel, getattr(a, f.name), getattr(b, f.name))
                     for f in fields(_Regime)))


def _tag(reg: _Regime, vaddr, vmid) -> tuple:
    """The TLB tag of a lookup (``tlb.KEY_FIELDS_H``)."""
    return (vaddr[12:12 + GVPN_BITS], reg.asid, vmid, reg.v, reg.sbare)


def _early(reg: _Regime, vaddr, gate) -> tuple[pyrtl.WireVector, pyrtl.WireVector]:
    """Faults known before any lookup: a non-canonical address when the first stage is
    on (page fault); with only the G stage on, a guest-physical address with any of
    bits 63:41 set (guest-page fault, spec "Guest physical address translation")."""
    pf = gate & reg.first & _noncanonical(vaddr)
    gf = gate & ~reg.first & (vaddr[GPA_BITS:64] != 0)
    return pf, gf


@dataclass
class _Outcome:
    """The faults a TLB hit gives (same fields as a two-stage ``_Latch``)."""

    page: pyrtl.WireVector
    access: pyrtl.WireVector
    guest: pyrtl.WireVector
    gpa: pyrtl.WireVector
    implicit: pyrtl.WireVector


def _hit_outcome(look: TlbResult, reg: _Regime, vaddr, store, fetch, hlvx, mxr_g) -> _Outcome:
    """The permission step of both stages on a hit's leaf flags, with the current
    mode: first the S/VS stage (page fault), then the G stage (guest-page fault)."""
    s_ok = reg.sbare | perm_ok(look.flags, reg.priv, reg.sum, reg.mxr_s, store, fetch,
                               hlvx, g_stage=False)
    zero = pyrtl.Const(0, 1)
    g_ok = perm_ok(look.g_flags, pyrtl.Const(0, 2), zero, mxr_g, store, fetch, hlvx,
                   g_stage=True)
    return _Outcome(page=~s_ok, access=zero, guest=s_ok & ~g_ok,
                    gpa=pyrtl.concat(look.gpa, vaddr[0:12]).zero_extended(64), implicit=zero)


def _resolve(name: str, on, early, vaddr, paddr, known, hit: _Outcome, walk_valid,
             walk: _Latch) -> MmuResult:
    """One request's result: an early fault, else the ``known`` outcome (a hit), else
    the fault a walk latched; ready when one of them is there or ``on`` is low."""
    e_pf, e_gf = early
    nc = e_pf | e_gf
    use = ~nc & on
    return MmuResult(
        ready=_named(1, f"mmu_{name}_ready", ~on | nc | known | walk_valid),
        paddr=_named(64, f"mmu_{name}_paddr", paddr),
        page_fault=_named(1, f"mmu_{name}_pf",
                          e_pf | use & pyrtl.select(known, hit.page, walk.page)),
        access_fault=_named(1, f"mmu_{name}_af", use & ~known & walk.access),
        guest_fault=_named(1, f"mmu_{name}_gf",
                           e_gf | use & pyrtl.select(known, hit.guest, walk.guest)),
        gpa=_named(64, f"mmu_{name}_gpa",
                   pyrtl.select(nc, vaddr, pyrtl.select(known, hit.gpa, walk.gpa))),
        implicit=_named(1, f"mmu_{name}_implicit", use & ~known & walk.implicit))


def _check_h(ctx: MmuContext, flush: MmuFlush) -> None:
    for obj, names in ((ctx, ("v_fetch", "v_data", "vsatp", "hgatp", "vs_sum", "vs_mxr")),
                       (flush, ("v", "by_vmid", "vmid"))):
        for n in names:
            if getattr(obj, n) is None:
                raise ValueError(f"{type(obj).__name__}.{n} is required when has_h is True")


def build_two_stage(cfg: CoreConfig, ctx: MmuContext, fetch: MmuRequest,
                    fetch_hi: MmuRequest, data: MmuRequest, flush: MmuFlush,
                    pte_data: pyrtl.WireVector, pte_ok: pyrtl.WireVector,
                    done: pyrtl.WireVector, walk_allow: pyrtl.WireVector) -> MmuPorts:
    """The MMU of a configuration with the H extension (see ``build_mmu``): the same
    ports, lookups, latches and walk arbitration as Sv39, with the two-stage walker
    (``walker2.py``) and TLB entries tagged by V and VMID."""
    _check_h(ctx, flush)
    zero = pyrtl.Const(0, 1)
    reg_i = _regime(ctx, ctx.v_fetch, ctx.priv_fetch)
    reg_d = _regime(ctx, ctx.v_data, ctx.priv_data)
    vmid = ctx.hgatp[44:44 + VMID_BITS]
    hlvx = data.hlvx if data.hlvx is not None else zero

    crossing = reg_i.on & fetch_hi.valid & (fetch.vaddr[1:12] == 0x7FF)
    hi = _Latch("hi", two_stage=True)
    hi_ppn = pyrtl.Register(sv39.PPN_BITS, name="mmu_hi_ppn")
    serve_hi = crossing & ~hi.valid
    port1_vaddr = pyrtl.select(serve_hi, fetch_hi.vaddr, data.vaddr)
    reg_1 = _pick(serve_hi, reg_i, reg_d)

    fill = TlbFill(valid=pyrtl.WireVector(1, name="tlb_fill"), vpn=pyrtl.WireVector(GVPN_BITS),
                   asid=pyrtl.WireVector(16), ppn=pyrtl.WireVector(44),
                   level=pyrtl.WireVector(2), flags=pyrtl.WireVector(8), vmid=vmid,
                   v=pyrtl.WireVector(1), sbare=pyrtl.WireVector(1),
                   g_flags=pyrtl.WireVector(8), gpa=pyrtl.WireVector(GVPN_BITS))
    tflush = TlbFlush(valid=flush.valid, by_addr=flush.by_addr, vpn=flush.vaddr[12:39],
                      by_asid=flush.by_asid, asid=flush.asid, v=flush.v,
                      all_v=flush.all_v if flush.all_v is not None else zero,
                      by_vmid=flush.by_vmid, vmid=flush.vmid)
    look_i, look_1 = build_tlb(cfg.tlb_entries, [_tag(reg_i, fetch.vaddr, vmid),
                                                 _tag(reg_1, port1_vaddr, vmid)], fill, tflush)

    walk_fault = {k: _Latch(n, two_stage=True) for k, n in (
        (FOR_FETCH, "if"), (FOR_FETCH_HI, "ihf"), (FOR_DATA, "df"))}
    one = pyrtl.Const(1, 1)
    f_out = _hit_outcome(look_i, reg_i, fetch.vaddr, zero, one, zero, ctx.mxr)
    p1_out = _hit_outcome(look_1, reg_1, port1_vaddr, ~serve_hi & data.store, serve_hi,
                          ~serve_hi & hlvx, ctx.mxr)

    # --- the first parcel, the second parcel (latched when crossing), data ------------
    lo = _resolve("fetch", reg_i.on, _early(reg_i, fetch.vaddr, reg_i.on), fetch.vaddr,
                  pyrtl.select(reg_i.on, _physical(look_i.ppn, fetch.vaddr), fetch.vaddr),
                  look_i.hit, f_out, walk_fault[FOR_FETCH].valid, walk_fault[FOR_FETCH])
    hi_now = serve_hi & look_1.hit
    hi.drive(done, hi_now, p1_out.page, zero, guest=p1_out.guest, gpa=p1_out.gpa,
             implicit=zero)
    hi_ppn.next <<= pyrtl.select(hi_now, look_1.ppn, hi_ppn)
    hi_paddr = pyrtl.select(crossing, _physical(hi_ppn, fetch_hi.vaddr),
                            pyrtl.select(reg_i.on, _physical(look_i.ppn, fetch_hi.vaddr),
                                         fetch_hi.vaddr))
    hi_res = _resolve("fetch_hi", crossing, _early(reg_i, fetch_hi.vaddr, crossing),
                      fetch_hi.vaddr, hi_paddr, hi.valid, hi,
                      walk_fault[FOR_FETCH_HI].valid, walk_fault[FOR_FETCH_HI])
    d_hit = ~serve_hi & look_1.hit
    d_res = _resolve("data", reg_d.on, _early(reg_d, data.vaddr, reg_d.on), data.vaddr,
                     pyrtl.select(reg_d.on, _physical(look_1.ppn, data.vaddr), data.vaddr),
                     d_hit, p1_out, ~serve_hi & walk_fault[FOR_DATA].valid,
                     walk_fault[FOR_DATA])

    # --- walks: first parcel, then second parcel, then data --------------------------
    arb = _arbiter((fetch, lo), (fetch_hi, hi_res), (data, d_res), hi_now, serve_hi,
                   walk_allow, port1_vaddr)
    stall, start, which, walk_vaddr = arb.stall, arb.start, arb.which, arb.walk_vaddr
    is_fetch = which != FOR_DATA
    wreg = _pick(is_fetch, reg_i, reg_d)
    req = WalkRequest(start=start, vaddr=walk_vaddr, s_on=wreg.first,
                      s_root=pyrtl.select(wreg.v, ctx.vsatp[0:44], ctx.satp[0:44]),
                      g_on=wreg.v & ctx.hgatp[63], g_root=ctx.hgatp[0:44])
    mode = WalkMode(priv=wreg.priv, sum=wreg.sum, mxr_s=wreg.mxr_s, mxr_g=ctx.mxr,
                    store=~is_fetch & data.store, fetch=is_fetch, hlvx=~is_fetch & hlvx)
    walk = build_walker(req, mode, pte_data, pte_ok, abort=done)
    arb.busy.next <<= walk.busy & ~walk.done & ~done
    arb.walk_for.next <<= which
    _perf_counters(done, start, fetch.valid & reg_i.on, data.valid & reg_d.on)

    bad = walk.done & (walk.page_fault | walk.guest_fault | walk.access_fault)
    fill.valid <<= walk.done & ~bad & ~done
    for dest, value in ((fill.vpn, walk_vaddr[12:12 + GVPN_BITS]), (fill.asid, wreg.asid),
                        (fill.ppn, walk.ppn), (fill.level, walk.level),
                        (fill.flags, walk.s_flags), (fill.v, wreg.v), (fill.sbare, wreg.sbare),
                        (fill.g_flags, walk.g_flags), (fill.gpa, walk.gpa[12:12 + GVPN_BITS])):
        dest <<= value
    for k, latch in walk_fault.items():
        latch.drive(done, bad & (which == k), walk.page_fault, walk.access_fault,
                    guest=walk.guest_fault, gpa=walk.gpa, implicit=walk.implicit)

    pte = PteRead(active=_named(1, "mmu_pte_active", walk.busy), addr=walk.pte_addr,
                  data=pte_data, ok=pte_ok)
    return MmuPorts(fetch=lo, fetch_hi=hi_res, data=d_res, stall=stall, pte=pte)
