"""The RV64IMAC core: in-order, one instruction per cycle when nothing stalls
(ARCHITECTURE.md section 1, "Microarchitecture").

Each cycle the core fetches the instruction at ``pc`` (combinational memory), decodes
it, executes it and either retires it or enters a trap at the clock edge. Stalls hold
the instruction: the divider (65 cycles), an AMO (``amo_cycles``), trap entry
(``trap_cycles``) and WFI (until an enabled interrupt is pending).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

import pyrtl

from hardware.config import CoreConfig
from hardware.core import decode as D
from hardware.core.alu import build_alu, build_branch
from hardware.core.csr import CsrRequest, IrqLines, TrapEvent, build_csr_file
from hardware.core.lsu import amo_compute, build_lane, load_extract, store_lane
from hardware.core.muldiv import build_div, build_mul
from hardware.core.pmp import build_pmp_lookup, decode_ranges, pmp_allows
from hardware.core.rvc import build_rvc_expander
from hardware.core import hyp
from hardware.core.trap import Exc, HTrapState, build_trap, build_trap_h
from hardware.isa import csrs as T
from hardware.mmu.mmu import MmuContext, MmuFlush, MmuRequest, build_mmu

RESET_PC = 0x1000


@dataclass
class FetchPort:
    """Instruction fetch: the core drives ``pc``; the SoC answers in the same cycle."""

    pc: pyrtl.WireVector  # 64-bit physical address of the first parcel (out)
    pc_hi: pyrtl.WireVector  # 64-bit physical address of the second parcel (out)
    parcel: pyrtl.WireVector  # the 16 bits at pc (in)
    parcel_hi: pyrtl.WireVector  # the 16 bits at pc_hi (in)
    ok: pyrtl.WireVector  # pc is in fetchable memory (in)
    ok_hi: pyrtl.WireVector  # pc_hi is in fetchable memory (in)


@dataclass
class DataPort:
    """Data access: the core drives the request; the SoC answers in the same cycle."""

    addr: pyrtl.WireVector  # 64-bit byte address (out)
    mask: pyrtl.WireVector  # 8-bit byte mask within the lane (out)
    wdata: pyrtl.WireVector  # 64-bit lane of store data (out)
    we: pyrtl.WireVector  # a store commits (out)
    re: pyrtl.WireVector  # a load commits (out)
    rdata: pyrtl.WireVector  # 64-bit lane at addr (in)
    read_ok: pyrtl.WireVector  # addr is readable memory or a device (in)
    write_ok: pyrtl.WireVector  # addr is writable (in)
    amo_ok: pyrtl.WireVector  # addr supports AMOs and LR/SC (RAM) (in)


@dataclass
class Retire:
    """The retirement record (RVFI-like), valid in the cycle an instruction leaves."""

    valid: pyrtl.WireVector
    pc: pyrtl.WireVector
    insn: pyrtl.WireVector  # 32 bits (16-bit instructions zero-extended)
    trap: pyrtl.WireVector
    cause: pyrtl.WireVector
    priv: pyrtl.WireVector
    v: pyrtl.WireVector
    rd: pyrtl.WireVector  # 0 when no register is written
    rd_wdata: pyrtl.WireVector
    mem_addr: pyrtl.WireVector
    mem_rmask: pyrtl.WireVector
    mem_wmask: pyrtl.WireVector
    mem_wdata: pyrtl.WireVector
    pc_paddr: pyrtl.WireVector  # physical address of the first parcel (fetch translation)
    mem_paddr: pyrtl.WireVector  # physical address of the load/store (data translation)
    cycle: pyrtl.WireVector  # cycles since reset (a free-running counter, not mcycle)


@dataclass
class CorePorts:
    fetch: FetchPort
    data: DataPort
    retire: Retire


def _named(width: int, name: str, value=None) -> pyrtl.WireVector:
    w = pyrtl.WireVector(width, name=name)
    if value is not None:
        w <<= value
    return w


def _ports() -> tuple[FetchPort, DataPort]:
    fetch = FetchPort(pc=_named(64, "fetch_pc"), pc_hi=_named(64, "fetch_pc_hi"),
                      parcel=_named(16, "fetch_parcel"), parcel_hi=_named(16, "fetch_parcel_hi"),
                      ok=_named(1, "fetch_ok"),
                      ok_hi=_named(1, "fetch_ok_hi"))
    data = DataPort(addr=_named(64, "dmem_addr"), mask=_named(8, "dmem_mask"),
                    wdata=_named(64, "dmem_wdata"), we=_named(1, "dmem_we"),
                    re=_named(1, "dmem_re"), rdata=_named(64, "dmem_rdata"),
                    read_ok=_named(1, "dmem_read_ok"), write_ok=_named(1, "dmem_write_ok"),
                    amo_ok=_named(1, "dmem_amo_ok"))
    return fetch, data


def _mmu_control(cfg, csr, dec, insn, retire_w, priv, eff_priv, v_data, r1, r2):
    """The MMU's flush request and context. Fences (priv 4.2.1, hyp. 8.5.2): SFENCE.VMA
    with V=0 flushes HS-level entries; in VS and HFENCE.VVMA, the guest entries of the
    current VMID; HFENCE.GVMA the guest entries (of VMID rs2 if rs2 != x0; every address:
    over-flushing is allowed). With ``tlb_flush_on_atp`` (default, as Spike) any CSR
    instruction on satp/vsatp/hgatp also flushes all; without it the ASID/VMID tags keep
    the entries apart and only fences flush."""
    is_sfence = dec.sys == D.SYS_SFENCE
    rs1, rs2 = insn[15:20], insn[20:25]
    csr_no = insn[20:32]
    atp_names = ("satp", "vsatp", "hgatp") if cfg.has_h else ("satp",)
    touch = pyrtl.Const(0, 1)
    if cfg.tlb_flush_on_atp:
        touch = functools.reduce(operator.or_, [dec.csr & (csr_no == T.ALL_CSR_ADDR[n])
                                                for n in atp_names])
    ms = csr.mstatus
    if not cfg.has_h:
        flush = MmuFlush(valid=retire_w & (is_sfence | touch), by_addr=is_sfence & (rs1 != 0),
                         vaddr=r1, by_asid=is_sfence & (rs2 != 0), asid=r2[0:16])
        return flush, MmuContext(satp=csr.satp, priv_fetch=priv, priv_data=eff_priv,
                                 sum=ms["SUM"], mxr=ms["MXR"])
    h = csr.h
    v = h["v"]
    hfv, hfg = dec.sys == D.SYS_HFENCE_V, dec.sys == D.SYS_HFENCE_G
    guest = (is_sfence & v) | hfv
    addr_form = is_sfence | hfv
    flush = MmuFlush(valid=retire_w & (is_sfence | hfv | hfg | touch),
                     by_addr=addr_form & (rs1 != 0), vaddr=r1,
                     by_asid=addr_form & (rs2 != 0), asid=r2[0:16],
                     v=guest | hfg, all_v=touch, by_vmid=guest | (hfg & (rs2 != 0)),
                     vmid=pyrtl.select(hfg, r2[0:14], h["hgatp"][44:58]))
    vs = h["vsstatus_f"]
    ctx = MmuContext(satp=csr.satp, priv_fetch=priv, priv_data=eff_priv, sum=ms["SUM"],
                     mxr=ms["MXR"], v_fetch=v, v_data=v_data, vsatp=h["vsatp"],
                     hgatp=h["hgatp"], vs_sum=vs["SUM"], vs_mxr=vs["MXR"])
    return flush, ctx


def _cycle_counter() -> pyrtl.Register:
    """Cycles since reset, for the retirement record only: unlike ``mcycle`` software
    can neither write nor inhibit it, so trace consumers can trust it."""
    count = pyrtl.Register(64, name="trace_cycle")
    count.next <<= (count + 1)[0:64]
    return count


def build_core(cfg: CoreConfig, irq: IrqLines) -> CorePorts:
    """Elaborate the core; the caller drives the ``in`` fields of the ports."""
    fetch, data = _ports()
    pc = pyrtl.Register(64, name="pc", reset_value=RESET_PC)
    pc_hi = _named(64, "pc_hi", (pc + 2)[0:64])

    # --- fetch and decode ----------------------------------------------------------
    raw = pyrtl.concat(fetch.parcel_hi, fetch.parcel)
    is_c = _named(1, "insn_is_c", fetch.parcel[0:2] != 3)
    rvc = build_rvc_expander(fetch.parcel)
    insn = _named(32, "insn", pyrtl.select(is_c, rvc.insn32, raw))
    dec = D.build_decode(cfg, insn)
    rd, rs1, rs2 = insn[7:12], insn[15:20], insn[20:25]
    funct3 = insn[12:15]
    rf = pyrtl.MemBlock(64, 5, name="regfile", asynchronous=True, max_read_ports=2)
    r1 = _named(64, "rs1_value", rf[rs1])
    r2 = _named(64, "rs2_value", rf[rs2])

    # --- execute ---------------------------------------------------------------------
    a = pyrtl.mux(dec.a, r1, pc, pyrtl.Const(0, 64), default=r1)
    b = pyrtl.select(dec.b, dec.imm, r2)
    alu = build_alu(dec.alu, a, b, dec.word)
    taken = build_branch(funct3, r1, r2)
    pc_plus = (pc + pyrtl.select(is_c, pyrtl.Const(2, 64), pyrtl.Const(4, 64)))[0:64]
    pc_rel = (pc + dec.imm)[0:64]
    jalr_t = pyrtl.concat((r1 + dec.imm)[1:64], pyrtl.Const(0, 1))
    next_pc = pyrtl.select(dec.jalr, jalr_t,
                           pyrtl.select(dec.jal | (dec.br & taken), pc_rel, pc_plus))
    mul = build_mul(funct3, r1, r2, dec.word)

    # --- memory access ---------------------------------------------------------------
    csr_tmp = _named(2, "priv_now")
    mstatus_mprv, mstatus_mpp = _named(1, "mprv_now"), _named(2, "mpp_now")
    no_imm = dec.amo | dec.hx
    addr = _named(64, "mem_addr", (r1 + pyrtl.select(no_imm, pyrtl.Const(0, 64), dec.imm))[0:64])
    # HLV/HSV: the size is funct7[2:1], unsigned is rs2[0] (hypervisor spec 8.5.1)
    size = pyrtl.select(dec.hx, insn[26:28], funct3[0:2])
    unsigned = pyrtl.select(dec.hx, insn[20], funct3[2])
    lane = build_lane(addr, size)
    mem_op = dec.ld | dec.st | dec.amo
    store_like = dec.st | (dec.amo & ~dec.lr)
    load_like = dec.ld | dec.amo & ~dec.sc
    eff_priv = _named(2, "data_priv")

    # --- CSR file and trap unit (priv is a CSR-file register) -------------------------
    commit = _named(1, "commit")
    retire_w = _named(1, "retire")
    trap_take = _named(1, "trap_commit")
    next_priv = _named(2, "next_priv")
    next_v = _named(1, "next_v") if cfg.has_h else None
    is_mret = dec.sys == D.SYS_MRET
    is_sret = dec.sys == D.SYS_SRET
    ev = TrapEvent(take=trap_take, to_s=_named(1, "ev_to_s"), cause=_named(64, "ev_cause"),
                   epc=pc, tval=_named(64, "ev_tval"), mret=retire_w & is_mret,
                   sret=retire_w & is_sret, retire=retire_w)
    csr_src = pyrtl.select(funct3[2], dec.imm, r1)
    req = CsrRequest(valid=dec.csr, addr=insn[20:32], funct3=funct3, src=csr_src,
                     src_idx=rs1, commit=retire_w & dec.csr)
    if cfg.has_h:
        ev.to_vs, ev.gva = _named(1, "ev_to_vs"), _named(1, "ev_gva")
        ev.tval2, ev.tinst = _named(64, "ev_tval2"), _named(64, "ev_tinst")
    csr = build_csr_file(cfg, req, ev, irq, next_priv, next_v)
    priv = csr.priv
    ms = csr.mstatus
    csr_tmp <<= priv
    mstatus_mprv <<= ms["MPRV"]
    mstatus_mpp <<= ms["MPP"]
    hst = v_data = None
    if cfg.has_h:
        hst = hyp.HState(priv=priv, v=csr.h["v"], mstatus=ms, hstatus=csr.h["hstatus_f"])
        d_priv, v_data = hyp.data_mode(dec, hst)
        eff_priv <<= d_priv
    else:
        eff_priv <<= pyrtl.select((priv == 3) & mstatus_mprv, mstatus_mpp, priv)

    # --- MMU -------------------------------------------------------------------------------
    hi_valid = _named(1, "fetch_hi_valid")
    d_valid = _named(1, "mmu_data_valid")
    irq_now = _named(1, "irq_now")
    is_sfence = dec.sys == D.SYS_SFENCE
    v_now = csr.h["v"] if cfg.has_h else pyrtl.Const(0, 1)
    flush, mmu_ctx = _mmu_control(cfg, csr, dec, insn, retire_w, priv, eff_priv, v_data, r1, r2)
    pte_ok = _named(1, "pte_read_ok")
    hlvx = dec.hx & dec.ld & insn[21] if cfg.has_h else None
    mmu = build_mmu(cfg, mmu_ctx, MmuRequest(pyrtl.Const(1, 1), pc, pyrtl.Const(0, 1)),
                    MmuRequest(hi_valid, pc_hi, pyrtl.Const(0, 1)),
                    MmuRequest(d_valid, addr, store_like, hlvx=hlvx), flush, data.rdata,
                    pte_ok, commit, ~irq_now)
    walking = mmu.pte.active
    fetch.pc <<= mmu.fetch.paddr
    fetch.pc_hi <<= mmu.fetch_hi.paddr
    d_paddr = mmu.data.paddr

    # --- PMP ---------------------------------------------------------------------------
    # Fetch is checked per 16-bit parcel, as Spike fetches: a parcel never crosses a
    # 4-byte granule, so one address per parcel suffices. Page-table reads are checked
    # as S-mode reads (priv spec 3.7.1).
    has_pmp = cfg.pmp_regions > 0
    ranges = decode_ranges(csr.pmp)
    x_only = (pyrtl.Const(0, 1), pyrtl.Const(0, 1), pyrtl.Const(1, 1))
    fetch_lo_ok = pmp_allows(build_pmp_lookup(csr.pmp, ranges, fetch.pc), priv, *x_only,
                             has_pmp, "fetch_lo")
    fetch_hi_ok = pmp_allows(build_pmp_lookup(csr.pmp, ranges, fetch.pc_hi), priv, *x_only,
                             has_pmp, "fetch_hi")
    last = pyrtl.select(walking, pyrtl.concat(mmu.pte.addr[3:64], pyrtl.Const(7, 3)),
                        pyrtl.concat(d_paddr[12:64], lane.last[0:12]))
    data.addr <<= pyrtl.select(walking, mmu.pte.addr, d_paddr)
    d_look = build_pmp_lookup(csr.pmp, ranges, data.addr, last)
    # HLVX needs the PMP to grant both read and execute (hyp. 8.3.1)
    hlvx_pmp = hlvx & ~walking if cfg.has_h else pyrtl.Const(0, 1)
    data_pmp = pmp_allows(d_look, pyrtl.select(walking, pyrtl.Const(1, 2), eff_priv),
                          load_like | walking, store_like & ~walking, hlvx_pmp,
                          has_pmp, "data")
    pte_ok <<= data.amo_ok & data_pmp

    # --- SC / reservation ----------------------------------------------------------------
    resv_valid = pyrtl.Register(1, name="resv_valid")
    resv_addr = pyrtl.Register(64, name="resv_addr")
    sc_ok = _named(1, "sc_success", resv_valid & (resv_addr == d_paddr))

    # --- exceptions in priority order (priv spec table 3.7) ---------------------------
    sys = dec.sys
    wfi = sys == D.SYS_WFI
    virtual = pyrtl.Const(0, 1)
    if cfg.has_h:
        sys_illegal, virtual = hyp.instruction_checks(dec, hst)
        sys_illegal = sys_illegal | (is_mret & (priv != 3))
        virtual = virtual | csr.h["virtual"]
    else:
        sys_illegal = ((is_mret & (priv != 3))
                       | (is_sret & ((priv == 0) | ((priv == 1) & ms["TSR"])))
                       | (wfi & ((priv == 0) | ((priv == 1) & ms["TW"])))
                       | (is_sfence & ((priv == 0) | ((priv == 1) & ms["TVM"]))))
    c_illegal = rvc.illegal if cfg.has_c else pyrtl.Const(1, 1)
    illegal = (is_c & c_illegal) | ~dec.legal | csr.illegal | sys_illegal
    ill_tval = pyrtl.select(is_c, raw[0:16].zero_extended(64), raw.zero_extended(64))
    is_ecall = sys == D.SYS_ECALL
    mis_load = mem_op & lane.misaligned & (dec.ld | dec.lr)
    mis_store = mem_op & lane.misaligned & store_like
    gf = {k: getattr(mmu, k).guest_fault if cfg.has_h else pyrtl.Const(0, 1)
          for k in ("fetch", "fetch_hi", "data")}
    lo_bad = (mmu.fetch.page_fault | gf["fetch"] | mmu.fetch.access_fault | ~fetch.ok
              | ~fetch_lo_ok)
    hi_valid <<= ~is_c & ~lo_bad
    hi_bad = hi_valid & (mmu.fetch_hi.page_fault | gf["fetch_hi"] | mmu.fetch_hi.access_fault
                         | ~fetch.ok_hi | ~fetch_hi_ok)
    d_valid <<= mem_op & ~lane.misaligned & ~lo_bad & ~hi_bad
    bus_ok = pyrtl.select(dec.amo, data.amo_ok,
                          pyrtl.select(store_like, data.write_ok, data.read_ok))
    acc_fault = mem_op & (mmu.data.access_fault | ~(bus_ok & data_pmp))
    if cfg.has_h:  # the guest-physical address of a guest-page fault, for htval/mtval2
        lo_g = mmu.fetch.guest_fault
        mmu_h_fetch_gpa = pyrtl.select(lo_g, mmu.fetch.gpa, mmu.fetch_hi.gpa)
        mmu_h_data_gpa = mmu.data.gpa
        mmu_h_implicit = pyrtl.select(lo_g, mmu.fetch.implicit, pyrtl.select(
            hi_valid & mmu.fetch_hi.guest_fault, mmu.fetch_hi.implicit, mmu.data.implicit))
    excs = [
        Exc(mmu.fetch.page_fault, 12, pc),
        Exc(gf["fetch"], 20, pc),
        Exc(lo_bad, 1, pc),
        Exc(hi_valid & mmu.fetch_hi.page_fault, 12, pc_hi),
        Exc(hi_valid & gf["fetch_hi"], 20, pc_hi),
        Exc(hi_bad, 1, pc_hi),
        Exc(illegal, 2, ill_tval),
        Exc(virtual, 22, ill_tval),
        Exc(sys == D.SYS_EBREAK, 3, pc),
        Exc(is_ecall & (priv == 0), 8, 0),
        Exc(is_ecall & (priv == 1) & ~v_now, 9, 0),
        Exc(is_ecall & (priv == 1) & v_now, 10, 0),
        Exc(is_ecall & (priv == 3), 11, 0),
        Exc(mis_store, 6, addr),
        Exc(mis_load, 4, addr),
        Exc(mem_op & mmu.data.page_fault & store_like, 15, addr),
        Exc(mem_op & mmu.data.page_fault & ~store_like, 13, addr),
        Exc(mem_op & gf["data"] & store_like, 23, addr),
        Exc(mem_op & gf["data"] & ~store_like, 21, addr),
        Exc(acc_fault & store_like, 7, addr),
        Exc(acc_fault & ~store_like, 5, addr),
    ]
    if not cfg.has_h:
        excs = [e for e in excs if e.cause not in (10, 20, 21, 22, 23)]
    in_wfi = pyrtl.Register(1, name="in_wfi")
    if cfg.has_h:
        h = csr.h
        trap = build_trap_h(HTrapState(
            priv=priv, v=v_now, mie_bit=ms["MIE"], sie_bit=ms["SIE"],
            vsie_bit=h["vsstatus_f"]["SIE"], pend=csr.mip & csr.mie, mideleg=csr.mideleg,
            hideleg=h["hideleg"], medeleg=csr.medeleg, hedeleg=h["hedeleg"],
            mtvec=csr.mtvec, stvec=csr.stvec, vstvec=h["vstvec"]),
            excs, ~in_wfi, ~mmu.stall)
    else:
        trap = build_trap(priv, ms, csr.mip, csr.mie, csr.mideleg, csr.medeleg, csr.mtvec,
                          csr.stvec, excs, ~in_wfi, exc_allow=~mmu.stall)
    irq_now <<= trap.is_irq

    # --- stalls and commit -------------------------------------------------------------
    # While the MMU stalls the fetched word may be garbage: nothing it decodes to may
    # start (the divider), count (AMO cycles) or wait (WFI).
    ready = ~mmu.stall
    div = build_div(funct3, r1, r2, dec.word, start=dec.div & ~trap.take & ready, clear=commit)
    irq_pending = (csr.mip & csr.mie) != 0
    wfi_wait = wfi & ~irq_pending & ready
    wait_cnt = pyrtl.Register(4, name="stall_count")
    need = pyrtl.select(trap.take, pyrtl.Const(cfg.trap_cycles, 4),
                        pyrtl.select(dec.amo & ~dec.lr & ~dec.sc & ready,
                                     pyrtl.Const(cfg.amo_cycles, 4), pyrtl.Const(0, 4)))
    hold = (~trap.take & ((dec.div & ~div.done) | wfi_wait | mmu.stall)) | (wait_cnt < need)
    commit <<= ~hold
    retire_w <<= commit & ~trap.take
    trap_take <<= commit & trap.take
    ev.to_s <<= trap.to_s
    ev.cause <<= trap.cause
    ev.tval <<= trap.tval
    if cfg.has_h:
        ev.to_vs <<= trap.to_vs
        gva, tval2, tinst = hyp.trap_values(trap.cause[0:5], trap.is_irq, hst, v_data,
                                            mmu_h_fetch_gpa, mmu_h_data_gpa, mmu_h_implicit)
        ev.gva <<= gva
        ev.tval2 <<= tval2
        ev.tinst <<= tinst
        next_v <<= hyp.next_v(hst, commit, trap.take, trap.to_vs, is_mret, is_sret)
    counting = hold & (trap.take | ready)
    wait_cnt.next <<= pyrtl.select(counting, pyrtl.select(wait_cnt == 15, wait_cnt,
                                                          (wait_cnt + 1)[0:4]),
                                   pyrtl.select(hold, wait_cnt, 0))
    in_wfi.next <<= hold & ~trap.take & wfi_wait

    sepc, spp = csr.sepc, ms["SPP"]
    if cfg.has_h:  # SRET in VS returns through vsepc / vsstatus.SPP
        sepc = pyrtl.select(v_now, csr.h["vsepc"], sepc)
        spp = pyrtl.select(v_now, csr.h["vsstatus_f"]["SPP"], spp)
    new_pc = pyrtl.select(trap.take, trap.vector,
                          pyrtl.select(is_mret, csr.mepc,
                                       pyrtl.select(is_sret, sepc, next_pc)))
    pc.next <<= pyrtl.select(commit, new_pc, pc)
    xret_priv = pyrtl.select(is_mret, ms["MPP"], spp.zero_extended(2))
    np_ = pyrtl.select(trap.take, pyrtl.select(trap.to_s, pyrtl.Const(1, 2), pyrtl.Const(3, 2)),
                       pyrtl.select(is_mret | is_sret, xret_priv, priv))
    next_priv <<= pyrtl.select(commit, np_, priv)

    # --- memory side effects -------------------------------------------------------------
    loaded = load_extract(data.rdata, addr, size, unsigned & ~dec.amo)
    amo_new = amo_compute(insn[27:32], loaded, r2, size == 2)
    st_val = pyrtl.select(dec.amo & ~dec.sc, amo_new, r2)
    store_ok = dec.st | (dec.amo & ~dec.lr & ~dec.sc) | (dec.sc & sc_ok)
    data.mask <<= lane.mask
    data.wdata <<= store_lane(st_val, addr)
    data.we <<= retire_w & store_ok
    data.re <<= retire_w & load_like
    resv_valid.next <<= pyrtl.select(retire_w & dec.lr, 1,
                                     pyrtl.select(retire_w & dec.sc, 0, resv_valid))
    resv_addr.next <<= pyrtl.select(retire_w & dec.lr, d_paddr, resv_addr)

    # --- write-back ----------------------------------------------------------------------
    mem_val = pyrtl.select(dec.sc, (~sc_ok).zero_extended(64), loaded)
    wb = pyrtl.mux(dec.wb, alu, mem_val, pc_plus, csr.rdata, mul, div.result, default=alu)
    rd_we = _named(1, "rd_we", retire_w & dec.we & (rd != 0))
    rf[rd] <<= pyrtl.MemBlock.EnabledWrite(wb, rd_we)

    rec = Retire(
        valid=_named(1, "ret_valid", commit), pc=pc,
        insn=_named(32, "ret_insn", pyrtl.select(is_c, raw[0:16].zero_extended(32), raw)),
        trap=trap_take, cause=trap.cause, priv=priv, v=v_now,
        rd=_named(5, "ret_rd", pyrtl.select(rd_we, rd, pyrtl.Const(0, 5))),
        rd_wdata=_named(64, "ret_rd_wdata", pyrtl.select(rd_we, wb, pyrtl.Const(0, 64))),
        mem_addr=addr,
        mem_rmask=_named(8, "ret_rmask", pyrtl.select(data.re, lane.mask, pyrtl.Const(0, 8))),
        mem_wmask=_named(8, "ret_wmask", pyrtl.select(data.we, lane.mask, pyrtl.Const(0, 8))),
        mem_wdata=data.wdata, pc_paddr=mmu.fetch.paddr, mem_paddr=d_paddr,
        cycle=_cycle_counter())
    return CorePorts(fetch=fetch, data=data, retire=rec)
