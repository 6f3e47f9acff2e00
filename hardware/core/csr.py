"""The CSR file (RISC-V privileged spec 1.12 ch. 2, 3.1, 3.7, 4.1; Zicsr; Zicntr; Sstc;
Hypervisor Extension chapter 8.2 and 8.4 when ``CoreConfig.has_h``).

Generated from the one CSR table (``hardware/isa/csrs.py``): the read mux, the
existence check and the ``plain`` registers with their WARL masks come from its rows;
the ``special`` rows (mstatus/sstatus, mip/mie views, counters, PMP, stimecmp, and with
H hip/hie/hvip/vsip/vsie, henvcfg, hgatp, vsatp, vsstatus, vstimecmp) are written here.
Trap entry and xRET updates arrive from the trap unit and take precedence over CSR
instruction writes.

With H (hypervisor spec 8.2, 8.4, 8.6): the H and VS CSRs with their WARL rules, the
mip/mie aliases (bits 2, 6, 10, 12), the VS timer (``mtime + htimedelta >= vstimecmp``
sets mip.VSTIP while henvcfg.STCE); the V register (next value from the core); with
V = 1 the S CSRs that have a VS counterpart are that VS CSR (the privilege checks keep
the original number; a V = 1 satp write of an unsupported MODE changes nothing) and
``time`` reads ``mtime + htimedelta``; trap entry into M/HS/VS and xRET update
MPV/GVA, hstatus SPV/SPVP/GVA, vsstatus SIE/SPIE/SPP, the VS trap CSRs, htval/htinst
and mtval2/mtinst; the access checks raise the virtual-instruction exception where
Spike does (``_access_checks_h``). ``CsrPorts.h`` exports the H state the core needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.config import CoreConfig
from hardware.core.pmp import PmpState
from hardware.isa import csrs as T




@dataclass
class CsrRequest:
    """A CSR instruction in the current cycle."""

    valid: pyrtl.WireVector  # the instruction is a CSR instruction
    addr: pyrtl.WireVector  # 12-bit CSR number
    funct3: pyrtl.WireVector  # 1 RW, 2 RS, 3 RC, 5 RWI, 6 RSI, 7 RCI
    src: pyrtl.WireVector  # rs1 value or zero-extended uimm
    src_idx: pyrtl.WireVector  # rs1 field (register index or uimm), 5 bits
    commit: pyrtl.WireVector  # the instruction retires this cycle (writes happen)


@dataclass
class TrapEvent:
    """State updates requested by the trap unit for this cycle."""

    take: pyrtl.WireVector  # a trap is entered
    to_s: pyrtl.WireVector  # ... into S (else M)
    cause: pyrtl.WireVector  # 64-bit xcause value (interrupt bit 63)
    epc: pyrtl.WireVector  # 64-bit pc of the trapping instruction
    tval: pyrtl.WireVector  # 64-bit xtval
    mret: pyrtl.WireVector  # an MRET retires
    sret: pyrtl.WireVector  # an SRET retires
    retire: pyrtl.WireVector  # an instruction retires (minstret)
    # H only (hypervisor spec 8.6.4 "Trap entry"): the trap goes to VS (to_s is then
    # also set); xtval is a guest virtual address; mtval2/htval; mtinst/htinst.
    to_vs: pyrtl.WireVector | None = None
    gva: pyrtl.WireVector | None = None
    tval2: pyrtl.WireVector | None = None
    tinst: pyrtl.WireVector | None = None


@dataclass
class IrqLines:
    """Interrupt inputs from the devices."""

    msip: pyrtl.WireVector  # CLINT software interrupt
    mtip: pyrtl.WireVector  # CLINT timer interrupt
    meip: pyrtl.WireVector  # PLIC context 0
    seip: pyrtl.WireVector  # PLIC context 1
    mtime: pyrtl.WireVector  # 64-bit CLINT mtime


@dataclass
class CsrPorts:
    """What the rest of the core sees of the CSR file."""

    rdata: pyrtl.WireVector  # value read by the CSR instruction
    illegal: pyrtl.WireVector  # the CSR access is illegal at the current privilege
    priv: pyrtl.WireVector  # current privilege (register)
    mstatus: dict  # field name -> wire (MIE, SIE, MPIE, SPIE, MPP, SPP, MPRV, SUM, MXR, TVM, TW, TSR)
    mtvec: pyrtl.WireVector
    stvec: pyrtl.WireVector
    mepc: pyrtl.WireVector
    sepc: pyrtl.WireVector
    medeleg: pyrtl.WireVector
    mideleg: pyrtl.WireVector
    mie: pyrtl.WireVector  # 12 bits
    mip: pyrtl.WireVector  # 12 bits, as read
    pmp: PmpState
    time: pyrtl.WireVector
    satp: pyrtl.WireVector  # 64-bit satp value
    # H only (None without H): CSR name -> 64-bit read value for every H row, except
    # "hedeleg" (20 bits) and "hideleg" (12 bits), the trap unit's delegation vectors;
    # plus "hstatus_f" / "vsstatus_f" (field name -> register), "henvcfg_stce"
    # (effective STCE), "vs_timer", "v" (the V register) and "virtual" (this CSR access
    # raises the virtual-instruction exception).
    h: dict | None = None


def _reg(name: str, width: int, reset: int) -> pyrtl.Register:
    return pyrtl.Register(width, name=f"csr_{name}", reset_value=reset & ((1 << width) - 1))


def _place(value_bits: dict[int, pyrtl.WireVector], width: int = 64) -> pyrtl.WireVector:
    """Build a ``width``-bit value from {lsb: wire} pieces, zeros elsewhere."""
    parts, pos = [], 0
    for lsb in sorted(value_bits):
        w = pyrtl.as_wires(value_bits[lsb])
        if lsb > pos:
            parts.append(pyrtl.Const(0, lsb - pos))
        parts.append(w)
        pos = lsb + w.bitwidth
    if pos < width:
        parts.append(pyrtl.Const(0, width - pos))
    return pyrtl.concat_list(parts)


class _CsrFile:
    """Elaboration-time helper holding the wires shared by the builders below."""

    def __init__(self, cfg: CoreConfig, req: CsrRequest, ev: TrapEvent, irq: IrqLines):
        self.cfg, self.req, self.ev, self.irq = cfg, req, ev, irq
        self.rows = T.csr_table(cfg)
        self.read: dict[str, pyrtl.WireVector] = {}
        self.priv = pyrtl.Register(2, name="priv", reset_value=3)
        self.addr = req.addr
        self._wen: dict[str, pyrtl.WireVector] = {}
        self._writing = None
        self.v = None
        if cfg.has_h:
            self.v = pyrtl.Register(1, name="virt")
            self.addr = _substitute(self.rows, req.addr, self.v)
        ev = self.ev
        self.trap_m = ev.take & ~ev.to_s
        self.trap_s = ev.take & ev.to_s  # into HS (with H: not into VS)
        self.trap_vs = self.sret_vs = None
        self.sret_hs = ev.sret
        if cfg.has_h:
            self.trap_s = self.trap_s & ~ev.to_vs
            self.trap_vs = ev.take & ev.to_vs
            self.sret_hs = ev.sret & ~self.v
            self.sret_vs = ev.sret & self.v

    # --- write data ------------------------------------------------------------
    def write_data(self, rdata: pyrtl.WireVector) -> None:
        """CSRRW/RS/RC semantics; the write happens only if ``writes`` and commit."""
        r = self.req
        op = r.funct3[0:2]
        self.wval = pyrtl.mux(op, r.src, r.src, rdata | r.src, rdata & ~r.src)
        self.writes = r.valid & ((op == 1) | (r.src_idx != 0))

    def wen(self, name: str) -> pyrtl.WireVector:
        """The CSR instruction that commits this cycle writes CSR ``name`` (one wire per
        name, shared by every caller)."""
        if name not in self._wen:
            if self._writing is None:
                self._writing = self.req.commit & self.writes
            addr = next(x.addr for x in self.rows if x.name == name)
            self._wen[name] = self._writing & (self.addr == addr)
        return self._wen[name]


def _substitute(rows, addr: pyrtl.WireVector, v: pyrtl.WireVector) -> pyrtl.WireVector:
    """With V = 1 the S CSRs that have a VS counterpart (vs<name> at address + 0x100)
    are that VS CSR (hypervisor spec 8.2: "when V=1, the VS CSRs substitute for the
    corresponding supervisor CSRs"). Privilege checks keep the original address."""
    names = {r.name for r in rows}
    subs = [r.addr for r in rows if r.addr >> 8 == 1 and "v" + r.name in names]
    hit = pyrtl.Const(0, 1)
    for a in subs:
        hit = hit | (addr == a)
    out = pyrtl.WireVector(12, name="csr_eff_addr")
    out <<= pyrtl.select(v & hit, pyrtl.concat(addr[10:12], pyrtl.Const(2, 2), addr[0:8]),
                         addr)
    return out


def _build_mstatus(f: _CsrFile) -> dict:
    """mstatus and its sstatus view (priv 3.1.6, 4.1.1), with trap/xRET updates."""
    ev, priv = f.ev, f.priv
    spec = {fl.name: fl for fl in T.MSTATUS_FIELDS}
    wmask = T.mstatus_wmask(f.cfg)
    names = [fl.name for fl in T.MSTATUS_FIELDS if fl.mask & wmask]
    regs = {n: _reg(f"mstatus_{n.lower()}", spec[n].width, 0) for n in names}
    w_m, w_s = f.wen("mstatus"), f.wen("sstatus")
    wv = f.wval

    def field(n):
        return wv[spec[n].lsb:spec[n].lsb + spec[n].width]

    trap_m, trap_s, sret = f.trap_m, f.trap_s, f.sret_hs
    mpp_w = field("MPP")
    mpp_legal = pyrtl.select(mpp_w == 2, pyrtl.Const(0, 2), mpp_w)
    for n, reg in regs.items():
        nxt = reg
        if spec[n].mask & T.SSTATUS_WMASK:
            nxt = pyrtl.select(w_s, field(n), nxt)
        nxt = pyrtl.select(w_m, mpp_legal if n == "MPP" else field(n), nxt)
        if n == "MIE":
            nxt = pyrtl.select(ev.mret, regs["MPIE"], pyrtl.select(trap_m, 0, nxt))
        elif n == "MPIE":
            nxt = pyrtl.select(ev.mret, 1, pyrtl.select(trap_m, regs["MIE"], nxt))
        elif n == "MPP":
            nxt = pyrtl.select(ev.mret, pyrtl.Const(0, 2), pyrtl.select(trap_m, priv, nxt))
        elif n == "SIE":
            nxt = pyrtl.select(sret, regs["SPIE"], pyrtl.select(trap_s, 0, nxt))
        elif n == "SPIE":
            nxt = pyrtl.select(sret, 1, pyrtl.select(trap_s, regs["SIE"], nxt))
        elif n == "SPP":
            nxt = pyrtl.select(sret, 0, pyrtl.select(trap_s, priv[0], nxt))
        elif n == "MPRV":
            leave_m = (ev.mret & (regs["MPP"] != 3)) | sret
            nxt = pyrtl.select(leave_m, 0, nxt)
        elif n == "MPV":
            nxt = pyrtl.select(ev.mret, 0, pyrtl.select(trap_m, f.v, nxt))
        elif n == "GVA":
            nxt = pyrtl.select(trap_m, ev.gva, nxt)
        reg.next <<= nxt
    fixed = {spec["UXL"].lsb: pyrtl.Const(2, 2), spec["SXL"].lsb: pyrtl.Const(2, 2),
             spec["SD"].lsb: regs["FS"] == 3}
    mstatus = _place({**{spec[n].lsb: regs[n] for n in names}, **fixed})
    f.read["mstatus"] = mstatus
    f.read["sstatus"] = mstatus & T.SSTATUS_RMASK
    return regs


def _make_plain(f: _CsrFile) -> dict[str, pyrtl.Register]:
    """Every ``plain`` row: a register of just its writable bits (next set later); the
    bits of ``reset`` outside ``wmask`` read as constants."""
    out = {}
    for row in f.rows:
        if row.kind == "plain":
            reg = _reg(row.name, row.wmask.bit_length(), row.reset & row.wmask)
            out[row.name] = reg
            value = reg.zero_extended(64)
            fixed = row.reset & ~row.wmask
            f.read[row.name] = value | pyrtl.Const(fixed, 64) if fixed else value
    return out


def _drive_plain(f: _CsrFile, regs: dict, extra: dict) -> None:
    """Next values of the plain registers: CSR writes with the row's WARL rule, then
    trap-entry updates and the ``extra`` {name: [(cond, value), ...]} writes through
    views."""
    ev = f.ev
    trap_m, trap_s = f.trap_m, f.trap_s
    trap_updates = {
        "mepc": (trap_m, ev.epc), "mcause": (trap_m, ev.cause), "mtval": (trap_m, ev.tval),
        "sepc": (trap_s, ev.epc), "scause": (trap_s, ev.cause), "stval": (trap_s, ev.tval),
    }
    if f.cfg.has_h:
        trap_updates.update({
            "mtval2": (trap_m, ev.tval2), "mtinst": (trap_m, ev.tinst),
            "htval": (trap_s, ev.tval2), "htinst": (trap_s, ev.tinst),
            "vsepc": (f.trap_vs, ev.epc), "vscause": (f.trap_vs, ev.cause),
            "vstval": (f.trap_vs, ev.tval)})
    updates = {name: [upd] for name, upd in trap_updates.items()}
    for name, more in extra.items():
        updates.setdefault(name, []).extend(more)
    for row in f.rows:
        if row.kind != "plain":
            continue
        reg = regs[row.name]
        width = reg.bitwidth
        new = (f.wval & row.wmask)[0:width]
        if row.legalize == "clear_bit0":
            new = pyrtl.concat(new[1:width], pyrtl.Const(0, 1))
        elif row.legalize == "tvec":
            new = pyrtl.concat(new[2:width], pyrtl.Const(0, 1), new[0])
        nxt = pyrtl.select(f.wen(row.name), new, reg)
        for cond, val in updates.get(row.name, ()):
            nxt = pyrtl.select(cond, pyrtl.as_wires(val)[0:width], nxt)
        reg.next <<= nxt


def _build_interrupts(f: _CsrFile, plain: dict, h_bits: dict) -> pyrtl.WireVector:
    """mip/sip (priv 3.1.9, 4.1.3) with Sstc's STIP, and the sie view of mie. ``h_bits``
    gives mip's VS bits {bit: wire} on an H core."""
    irq, mideleg, mie = f.irq, plain["mideleg"], plain["mie"]
    ssip = _reg("mip_ssip", 1, 0)
    stip = _reg("mip_stip", 1, 0)
    seip = _reg("mip_seip", 1, 0)
    stimecmp = _reg("stimecmp", 64, T.by_name(f.cfg)["stimecmp"].reset)
    stce = plain["menvcfg"][63]
    stimer = irq.mtime >= stimecmp
    w_mip, w_sip = f.wen("mip"), f.wen("sip")
    wv = f.wval
    ssip.next <<= pyrtl.select(w_mip, wv[1], pyrtl.select(w_sip & mideleg[1], wv[1], ssip))
    stip.next <<= pyrtl.select(w_mip & ~stce, wv[5], stip)
    seip.next <<= pyrtl.select(w_mip, wv[9], seip)
    stimecmp.next <<= pyrtl.select(f.wen("stimecmp"), wv, stimecmp)
    mip = pyrtl.WireVector(12, name="csr_mip_value")
    mip <<= _place({1: ssip, 3: irq.msip, 5: pyrtl.select(stce, stimer, stip), 7: irq.mtip,
                    9: seip | irq.seip, 11: irq.meip, **h_bits}, 12)
    f.read["mip"] = mip.zero_extended(64)
    f.read["sip"] = (mip & mideleg).zero_extended(64)
    f.read["sie"] = (mie & mideleg).zero_extended(64)
    f.read["stimecmp"] = stimecmp
    return mip


def _build_counters(f: _CsrFile, plain: dict) -> None:
    """mcycle/minstret and the cycle/time/instret views (Zicntr)."""
    inhibit = plain["mcountinhibit"]
    mcycle = _reg("mcycle", 64, 0)
    minstret = _reg("minstret", 64, 0)
    mcycle.next <<= pyrtl.select(f.wen("mcycle"), f.wval,
                                 pyrtl.select(inhibit[0], mcycle, (mcycle + 1)[0:64]))
    inc = f.ev.retire & ~inhibit[2]
    minstret.next <<= pyrtl.select(f.wen("minstret"), f.wval,
                                   pyrtl.select(inc, (minstret + 1)[0:64], minstret))
    time = f.irq.mtime
    if f.cfg.has_h:  # VS/VU read time + htimedelta (hypervisor spec 8.2.11)
        time = pyrtl.select(f.v, (time + plain["htimedelta"])[0:64], time)
    f.read.update(mcycle=mcycle, minstret=minstret, cycle=mcycle, instret=minstret,
                  time=time)


def _pmp_cfg_byte(old: pyrtl.WireVector, new: pyrtl.WireVector) -> pyrtl.WireVector:
    """WARL pmpNcfg: bits 6:5 read 0; W without R is not kept; a locked entry keeps
    its value."""
    r, w = new[0], new[1] & new[0]
    legal = pyrtl.concat(new[7], pyrtl.Const(0, 2), new[2:5], w, r)
    return pyrtl.select(old[7], old, legal)


def _build_pmp(f: _CsrFile) -> PmpState:
    """pmpcfg0/2 and pmpaddr0..n-1 (priv 3.7.1)."""
    n = f.cfg.pmp_regions
    rows = T.by_name(f.cfg)
    cfgs = [_reg(f"pmp{i}cfg", 8, (rows["pmpcfg0"].reset >> (8 * i)) if i < 8 else 0)
            for i in range(n)]
    addrs = [_reg(f"pmpaddr{i}", 54, rows[f"pmpaddr{i}"].reset) for i in range(n)]
    for g in (0, 2):
        name = f"pmpcfg{g}"
        if name not in rows:
            continue
        wen = f.wen(name)
        entries = range(4 * g, min(4 * g + 8, n))
        for i in entries:
            byte = f.wval[8 * (i - 4 * g):8 * (i - 4 * g) + 8]
            cfgs[i].next <<= pyrtl.select(wen, _pmp_cfg_byte(cfgs[i], byte), cfgs[i])
        f.read[name] = _place({8 * (i - 4 * g): cfgs[i] for i in entries})
    for i in range(n):
        locked = cfgs[i][7]
        if i + 1 < n:
            locked = locked | (cfgs[i + 1][7] & (cfgs[i + 1][3:5] == 1))
        wen = f.wen(f"pmpaddr{i}") & ~locked
        addrs[i].next <<= pyrtl.select(wen, f.wval[0:54], addrs[i])
        f.read[f"pmpaddr{i}"] = addrs[i].zero_extended(64)
    return PmpState(cfg=cfgs, addr=addrs)


def _atp(f: _CsrFile, name: str, mode_wen, fields_wen) -> pyrtl.WireVector:
    """A satp-layout CSR (priv 4.1.11): the Sv39 bit of MODE written when ``mode_wen``,
    the 16-bit ASID and 44-bit PPN when ``fields_wen``."""
    sv39 = _reg(f"{name}_sv39", 1, 0)
    asid = _reg(f"{name}_asid", 16, 0)
    ppn = _reg(f"{name}_ppn", 44, 0)
    sv39.next <<= pyrtl.select(mode_wen, f.wval[63], sv39)
    asid.next <<= pyrtl.select(fields_wen, f.wval[44:60], asid)
    ppn.next <<= pyrtl.select(fields_wen, f.wval[0:44], ppn)
    value = pyrtl.WireVector(64, name=f"csr_{name}_value")
    value <<= pyrtl.concat(sv39, pyrtl.Const(0, 3), asid, ppn)
    f.read[name] = value
    return value


def _atp_mode_legal(f: _CsrFile) -> pyrtl.WireVector:
    mode = f.wval[60:64]
    return (mode == T.SATP_MODES["bare"]) | (mode == T.SATP_MODES["sv39"])


def _build_satp(f: _CsrFile) -> pyrtl.WireVector:
    """satp: MODE Bare or Sv39; a write of an unimplemented MODE has no effect at all
    (WARL), as on Spike."""
    wen = f.wen("satp") & _atp_mode_legal(f)
    return _atp(f, "satp", wen, wen)


def _mie_view_writes(f: _CsrFile, plain: dict) -> list:
    """Writes of mie through its views: sie (the S bits mideleg delegates) and, with H,
    hie (VS and SGE bits) and vsie (the VS bits hideleg delegates, shifted up one)."""
    mie = plain["mie"]
    w = mie.bitwidth
    s_mask = plain["mideleg"].zero_extended(w) & T.IRQ_S
    out = [(f.wen("sie"), (mie & ~s_mask) | (f.wval[0:w] & s_mask))]
    if f.cfg.has_h:
        h_mask = pyrtl.Const(T.IRQ_H, w)
        out.append((f.wen("hie"), (mie & ~h_mask) | (f.wval[0:w] & h_mask)))
        vs_mask = plain["hideleg"].zero_extended(w) & T.IRQ_VS
        up = pyrtl.concat(f.wval[0:w - 1], pyrtl.Const(0, 1))
        out.append((f.wen("vsie"), (mie & ~vs_mask) | (up & vs_mask)))
    return out


def _build_vs_timer(f: _CsrFile, plain: dict) -> dict:
    """henvcfg (hyp. 8.2.7: STCE written and read as set only while menvcfg.STCE, as
    Spike) and vstimecmp (Sstc): the VS timer fires when mtime + htimedelta >=
    vstimecmp."""
    menv_stce = plain["menvcfg"][63]
    stce = _reg("henvcfg_stce", 1, 0)
    stce.next <<= pyrtl.select(f.wen("henvcfg") & menv_stce, f.wval[63], stce)
    eff = pyrtl.WireVector(1, name="csr_henvcfg_stce_value")
    eff <<= stce & menv_stce
    vstimecmp = _reg("vstimecmp", 64, 0)
    vstimecmp.next <<= pyrtl.select(f.wen("vstimecmp"), f.wval, vstimecmp)
    timer = pyrtl.WireVector(1, name="csr_vs_timer")
    timer <<= (f.irq.mtime + plain["htimedelta"])[0:64] >= vstimecmp
    f.read["henvcfg"] = _place({63: eff})
    f.read["vstimecmp"] = vstimecmp
    return {"henvcfg_stce": eff, "vs_timer": timer}


def _build_vs_pending(f: _CsrFile, plain: dict, timer: dict) -> dict:
    """mip's VS bits (hyp. 8.2.3-8.2.5): VSSIP is one register written through mip, hip,
    hvip and (when hideleg delegates it) vsip; VSTIP and VSEIP are hvip's bits, VSTIP
    ORed with the VS timer while henvcfg.STCE. Returns {mip bit: wire}."""
    wv, hideleg = f.wval, plain["hideleg"]
    vssip = _reg("mip_vssip", 1, 0)
    vstip = _reg("hvip_vstip", 1, 0)
    vseip = _reg("hvip_vseip", 1, 0)
    direct = f.wen("mip") | f.wen("hip") | f.wen("hvip")
    via_vsip = f.wen("vsip") & hideleg[2]
    vssip.next <<= pyrtl.select(direct, wv[2], pyrtl.select(via_vsip, wv[1], vssip))
    vstip.next <<= pyrtl.select(f.wen("hvip"), wv[6], vstip)
    vseip.next <<= pyrtl.select(f.wen("hvip"), wv[10], vseip)
    f.read["hvip"] = _place({2: vssip, 6: vstip, 10: vseip})
    return {2: vssip, 6: vstip | (timer["henvcfg_stce"] & timer["vs_timer"]), 10: vseip}


def _build_h_views(f: _CsrFile, plain: dict, mip: pyrtl.WireVector) -> None:
    """hip/hie (the VS and SGE bits of mip/mie; SGEIP reads 0) and vsip/vsie (the VS
    bits hideleg delegates, shifted down one: VSSIP reads as SSIP)."""
    mie = plain["mie"]
    deleg = plain["hideleg"].zero_extended(13)
    f.read["hip"] = (mip.zero_extended(13) & T.IRQ_H).zero_extended(64)
    f.read["hie"] = (mie.zero_extended(13) & T.IRQ_H).zero_extended(64)
    f.read["vsip"] = (mip.zero_extended(13) & deleg)[1:13].zero_extended(64)
    f.read["vsie"] = (mie.zero_extended(13) & deleg)[1:13].zero_extended(64)


def _build_hgatp(f: _CsrFile) -> pyrtl.WireVector:
    """hgatp (hyp. 8.2.12): MODE Bare or Sv39x4, 14-bit VMID, PPN with bits 1:0 zero.
    A write of an unimplemented MODE keeps MODE and still writes VMID and PPN (Spike)."""
    sv39x4 = _reg("hgatp_sv39x4", 1, 0)
    vmid = _reg("hgatp_vmid", 14, 0)
    ppn = _reg("hgatp_ppn", 42, 0)
    wen = f.wen("hgatp")
    mode = f.wval[60:64]
    legal = (mode == T.HGATP_MODES["bare"]) | (mode == T.HGATP_MODES["sv39x4"])
    sv39x4.next <<= pyrtl.select(wen & legal, mode[3], sv39x4)
    vmid.next <<= pyrtl.select(wen, f.wval[44:58], vmid)
    ppn.next <<= pyrtl.select(wen, f.wval[2:44], ppn)
    value = pyrtl.WireVector(64, name="csr_hgatp_value")
    value <<= pyrtl.concat(sv39x4, pyrtl.Const(0, 5), vmid, ppn, pyrtl.Const(0, 2))
    f.read["hgatp"] = value
    return value


def _build_vsatp(f: _CsrFile) -> pyrtl.WireVector:
    """vsatp (hyp. 8.2.18): the satp layout. A direct write of an unimplemented MODE
    keeps MODE and still writes ASID and PPN (Spike); through satp with V = 1 the whole
    write has no effect."""
    legal = _atp_mode_legal(f)
    via_satp = f.req.addr == T.CSR_ADDR["satp"]
    wen = f.wen("vsatp") & (legal | ~via_satp)
    return _atp(f, "vsatp", wen & legal, wen)


def _build_vsstatus(f: _CsrFile) -> dict:
    """vsstatus (hyp. 8.2.13): a register per sstatus writable field; UXL = 2, SD =
    (FS == 3). Returns {field name: register}."""
    spec = {fl.name: fl for fl in T.MSTATUS_FIELDS}
    names = [fl.name for fl in T.MSTATUS_FIELDS if fl.mask & T.VSSTATUS_WMASK]
    wen = f.wen("vsstatus")
    regs = {}
    for n in names:
        lsb, width = spec[n].lsb, spec[n].width
        regs[n] = _reg(f"vsstatus_{n.lower()}", width, 0)
    trap, sret = f.trap_vs, f.sret_vs
    xret = {"SIE": (regs["SPIE"], pyrtl.Const(0, 1)), "SPIE": (pyrtl.Const(1, 1), regs["SIE"]),
            "SPP": (pyrtl.Const(0, 1), f.priv[0])}
    for n in names:
        lsb, width = spec[n].lsb, spec[n].width
        nxt = pyrtl.select(wen, f.wval[lsb:lsb + width], regs[n])
        if n in xret:
            on_sret, on_trap = xret[n]
            nxt = pyrtl.select(sret, on_sret, pyrtl.select(trap, on_trap, nxt))
        regs[n].next <<= nxt
    fixed = {spec["UXL"].lsb: pyrtl.Const(2, 2), spec["SD"].lsb: regs["FS"] == 3}
    f.read["vsstatus"] = _place({**{spec[n].lsb: regs[n] for n in names}, **fixed})
    return regs


def _hstatus_updates(f: _CsrFile, hs: pyrtl.WireVector) -> list:
    """hstatus on trap entry into HS (SPV = V, SPVP = the privilege if V was 1, GVA)
    and on an SRET from HS (SPV = 0) (hypervisor spec 8.2.1, 8.6.4; Spike's take_trap)."""
    spvp = pyrtl.select(f.v, f.priv[0], hs[8])
    on_trap = pyrtl.concat(hs[9:], spvp, f.v, f.ev.gva, hs[0:6])
    on_sret = pyrtl.concat(hs[8:], pyrtl.Const(0, 1), hs[0:7])
    return [(f.trap_s, on_trap), (f.sret_hs, on_sret)]


def _build_h(f: _CsrFile, plain: dict) -> tuple[dict, dict]:
    """The H extension's special CSRs. Returns (ports.h without the views, mip's VS
    bits)."""
    timer = _build_vs_timer(f, plain)
    h_bits = _build_vs_pending(f, plain, timer)
    hstatus = plain["hstatus"]
    h = {"hgatp": _build_hgatp(f), "vsatp": _build_vsatp(f),
         "vsstatus_f": _build_vsstatus(f), **timer,
         "hstatus_f": {fl.name: hstatus[fl.lsb:fl.lsb + fl.width] for fl in T.HSTATUS_FIELDS
                       if fl.mask & T.HSTATUS_WMASK}}
    return h, h_bits


def _read_mux(f: _CsrFile) -> tuple[pyrtl.WireVector, pyrtl.WireVector]:
    """The read mux and existence check, from the table's addresses. A ROM maps the
    address to (distinct read value, exists); CSRs that read the same wire or the same
    constant share one mux input."""
    values: list[pyrtl.WireVector] = [pyrtl.Const(0, 64)]
    slot: dict[object, int] = {("const", 0): 0}
    rom_data = [0] * 4096
    for r in f.rows:
        key = ("const", r.reset) if r.kind == "const" else ("wire", id(f.read[r.name]))
        if key not in slot:
            slot[key] = len(values)
            values.append(pyrtl.Const(r.reset, 64) if r.kind == "const" else f.read[r.name])
        rom_data[r.addr] = (slot[key] << 1) | 1
    width = len(values).bit_length() + 1
    rom = pyrtl.RomBlock(bitwidth=width, addrwidth=12, name="csr_index_rom",
                         romdata=rom_data, asynchronous=True)
    entry = rom[f.addr]
    rdata = pyrtl.WireVector(64, name="csr_rdata")
    rdata <<= pyrtl.mux(entry[1:], *values, default=pyrtl.Const(0, 64))
    return rdata, entry[0]


def _access_illegal(f: _CsrFile, exists, plain, mstatus) -> pyrtl.WireVector:
    """Privilege, read-only, TVM, counter-enable and STCE checks (priv 2.1, 3.1.11)."""
    a, priv = f.req.addr, f.priv
    level = a[8:10]
    if f.cfg.has_h:  # level 2 (HS/VS CSRs) is open to HS (hyp. 8.2)
        level = pyrtl.select(level == 2, pyrtl.Const(1, 2), level)
    bad = ~exists | (priv < level) | (f.writes & (a[10:12] == 3))
    tvm_csr = a == T.CSR_ADDR["satp"]
    if f.cfg.has_h:  # hgatp also traps in HS under mstatus.TVM (hyp. 8.2.12)
        tvm_csr = tvm_csr | (a == T.ALL_CSR_ADDR["hgatp"])
    bad = bad | (tvm_csr & (priv == 1) & mstatus["TVM"])
    is_ctr = (a[2:12] == (0xC00 >> 2)) & (a[0:2] != 3)
    bit = a[0:2]
    men = pyrtl.mux(bit, plain["mcounteren"][0], plain["mcounteren"][1], plain["mcounteren"][2], 0)
    sen = pyrtl.mux(bit, plain["scounteren"][0], plain["scounteren"][1], plain["scounteren"][2], 0)
    ctr_ok = (priv == 3) | ((priv == 1) & men) | ((priv == 0) & men & sen)
    bad = bad | (is_ctr & ~ctr_ok)
    # Sstc 3.2: S-mode stimecmp needs menvcfg.STCE and mcounteren.TM
    stc_ok = plain["menvcfg"][63] & plain["mcounteren"][1]
    stc_csr = a == T.CSR_ADDR["stimecmp"]
    if f.cfg.has_h:  # vstimecmp from HS: the same rule
        stc_csr = stc_csr | (a == T.ALL_CSR_ADDR["vstimecmp"])
    bad = bad | (stc_csr & (priv == 1) & ~stc_ok)
    out = pyrtl.WireVector(1, name="csr_illegal")
    out <<= f.req.valid & bad
    return out


def _first(checks: list) -> tuple[pyrtl.WireVector, pyrtl.WireVector]:
    """(illegal, virtual) of the first failing check; ``checks`` is a list of
    (fails, is_virtual) in the order Spike makes them."""
    illegal, virtual = pyrtl.Const(0, 1), pyrtl.Const(0, 1)
    for fails, is_virtual in reversed(checks):
        illegal = pyrtl.select(fails, ~is_virtual, illegal)
        virtual = pyrtl.select(fails, is_virtual, virtual)
    return illegal, virtual


def _access_checks_h(f: _CsrFile, exists, plain, mstatus, h) -> tuple:
    """CSR access rules with H (hypervisor spec 8.2, 8.6.1; Spike's verify_permissions):
    insufficient privilege is a virtual-instruction exception when V = 1 and the CSR is
    S- or HS-level, else illegal; VTVM, hcounteren and henvcfg.STCE are checked in VS."""
    a, priv, v = f.req.addr, f.priv, f.v
    level = a[8:10]
    eff = pyrtl.select((priv == 1) & ~v, pyrtl.Const(2, 2), priv)  # HS counts as level 2
    low = eff < level
    hs = h["hstatus_f"]
    bit = a[0:2]

    def enabled(reg):
        return pyrtl.mux(bit, reg[0], reg[1], reg[2], pyrtl.Const(0, 1))
    is_ctr = (a[2:12] == (0xC00 >> 2)) & (a[0:2] != 3)
    m_ok = (priv == 3) | enabled(plain["mcounteren"])
    h_ok = ~v | enabled(plain["hcounteren"])
    s_ok = (priv != 0) | enabled(plain["scounteren"])
    is_satp = a == T.CSR_ADDR["satp"]
    # stimecmp and vstimecmp share Spike's check order (Sstc first, then the privilege)
    is_stc = (a == T.CSR_ADDR["stimecmp"]) | (a == T.ALL_CSR_ADDR["vstimecmp"])
    tm = lambda reg: reg[1]  # noqa: E731
    checks = [
        (~exists, pyrtl.Const(0, 1)),
        (f.writes & (a[10:12] == 3), pyrtl.Const(0, 1)),
        # (v)stimecmp: STCE, then the time counter's enables, then henvcfg.STCE (Sstc)
        (is_stc & (priv != 3) & ~plain["menvcfg"][63], pyrtl.Const(0, 1)),
        (is_stc & (priv != 3) & ~tm(plain["mcounteren"]), pyrtl.Const(0, 1)),
        (is_stc & v & ~tm(plain["hcounteren"]), pyrtl.Const(1, 1)),
        (is_stc & v & ~h["henvcfg_stce"], pyrtl.Const(1, 1)),
        (low, v & (level != 3)),
        (is_satp & v & hs["VTVM"], pyrtl.Const(1, 1)),
        (is_satp & ~v & (priv == 1) & mstatus["TVM"], pyrtl.Const(0, 1)),
        ((a == T.ALL_CSR_ADDR["hgatp"]) & ~v & (priv == 1) & mstatus["TVM"], pyrtl.Const(0, 1)),
        (is_ctr & ~m_ok, pyrtl.Const(0, 1)),
        (is_ctr & ~h_ok, pyrtl.Const(1, 1)),
        (is_ctr & ~s_ok, v),
    ]
    illegal, virtual = _first(checks)
    out_i = pyrtl.WireVector(1, name="csr_illegal")
    out_v = pyrtl.WireVector(1, name="csr_virtual")
    out_i <<= f.req.valid & illegal
    out_v <<= f.req.valid & virtual
    return out_i, out_v


def build_csr_file(cfg: CoreConfig, req: CsrRequest, ev: TrapEvent, irq: IrqLines,
                   next_priv: pyrtl.WireVector,
                   next_v: pyrtl.WireVector | None = None) -> CsrPorts:
    """Elaborate the CSR file. ``next_priv`` (and with H ``next_v``) are the privilege
    (and virtualization mode) after this cycle."""
    f = _CsrFile(cfg, req, ev, irq)
    rdata = pyrtl.WireVector(64, name="csr_read_value")
    f.write_data(rdata)
    mstatus = _build_mstatus(f)
    plain = _make_plain(f)
    extra = {"mie": _mie_view_writes(f, plain)}
    if cfg.has_h:
        extra["hstatus"] = _hstatus_updates(f, plain["hstatus"])
    _drive_plain(f, plain, extra)
    h, h_bits = _build_h(f, plain) if cfg.has_h else (None, {})
    mip = _build_interrupts(f, plain, h_bits)
    if cfg.has_h:
        _build_h_views(f, plain, mip)
        h.update((r.name, f.read[r.name]) for r in f.rows if r.needs == "h" and r.kind != "const")
    _build_counters(f, plain)
    pmp = _build_pmp(f)
    satp = _build_satp(f)
    value, exists = _read_mux(f)
    rdata <<= value
    f.priv.next <<= next_priv
    if cfg.has_h:
        f.v.next <<= next_v
        illegal, virtual = _access_checks_h(f, exists, plain, mstatus, h)
        h.update(v=f.v, virtual=virtual, hedeleg=plain["hedeleg"],
                 hideleg=plain["hideleg"].zero_extended(12))
    else:
        illegal = _access_illegal(f, exists, plain, mstatus)
    mideleg, mie = plain["mideleg"].zero_extended(12), plain["mie"]
    if cfg.has_h:  # 12-bit vectors: SGEIP (bit 12) never pends with GEILEN = 0
        mideleg, mie = mideleg | pyrtl.Const(T.IRQ_VS, 12), mie[0:12]
    return CsrPorts(
        rdata=rdata, illegal=illegal, priv=f.priv,
        mstatus=mstatus, mtvec=f.read["mtvec"], stvec=f.read["stvec"],
        mepc=f.read["mepc"], sepc=f.read["sepc"], medeleg=plain["medeleg"],
        mideleg=mideleg, mie=mie, mip=mip, pmp=pmp, time=irq.mtime,
        satp=satp, h=h)
