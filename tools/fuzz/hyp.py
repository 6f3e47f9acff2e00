"""Hypervisor programs for differential CPU fuzzing: VS/VU modes, two-stage translation
and the H instructions (RISC-V privileged spec 20211203, chapter 8 "Hypervisor
Extension": 8.2 CSRs, 8.3 HLV/HSV/HFENCE, 8.4 VS CSRs, 8.5 two-stage translation and
Sv39x4, 8.6 traps, virtual instruction, delegation to VS). docs/fuzzing-cpu.md,
"Hypervisor programs".

``HypRealiser`` realises the items of a program whose ``Program.hv`` is set, over the
address space ``paging.build_hyp`` built (a G stage under hgatp, a VS stage under vsatp
or vsatp Bare). HS keeps satp Bare. The realiser tracks the mode (M, HS, HU, VS, VU),
the hstatus bits the runtime's invariants depend on and the current leaf PTEs of both
stages, so that:

- every PTE change is followed by the fence that covers it (SFENCE.VMA in VS,
  HFENCE.VVMA or HFENCE.GVMA in HS/M), and every hgatp/vsatp switch by a full fence, so
  no program relies on what a TLB still holds;
- a store through the tables reaches only the data region or the extra data pages (the
  targets are computed from the current PTEs of both stages);
- hedeleg[8] (ecall from VU) is never set, so a VU ecall reaches HS or M; VTSR is set
  only while nothing is delegated to VS (the VS handler's SRET would trap); TSR is never
  set (the M handler's emulation of a trapped HS SRET ignores SPV); CSR items never set
  MPRV (with MPV = 1 the M-mode stores of irq items to the CLINT would be translated
  by both stages and fault, and a WFI would wait for an interrupt never raised).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hardware.isa.csrs import Csr
from hardware.isa.instructions import BY_NAME
from tools.fuzz import paging as pg
from tools.fuzz.gen import (ILLEGAL_CSR_RANGES, MSTATUS_MPIE, MSTATUS_MPRV, MSTATUS_MXR,
                            MSTATUS_SIE, MSTATUS_SPP, MSTATUS_SUM, MSTATUS_TSR, PRV_M, PRV_S,
                            PRV_U, STUBS, ZERO, Emitter, GenOptions, GenState, Insn,
                            Realiser, _csr_rule, li_sequence, template)

MSTATUS_MPV = 1 << 39
HSTATUS_SPV, HSTATUS_SPVP, HSTATUS_HU = 1 << 7, 1 << 8, 1 << 9
HSTATUS_VTVM, HSTATUS_VTW, HSTATUS_VTSR = 1 << 20, 1 << 21, 1 << 22
VSSIP = 1 << 2
HEDELEG_WRITABLE, HIDELEG_WRITABLE = 0xCB1FF, 0x444
CAUSE_ECALL_U = 8

#: H CSRs only the runtime or the hgatp/vsatp items write: the VS handler's vector and
#: scratch, the stage roots, vstimecmp (a VSTIP the runtime does not clear).
H_NEVER = frozenset({"vstvec", "vsscratch", "vstimecmp", "hgatp", "vsatp"})
#: S CSRs a V-mode write must not touch: satp is vsatp, stimecmp is vstimecmp there.
V_NEVER = frozenset({"satp", "stimecmp"})
#: The S CSRs V modes access (each one is its VS CSR there, hypervisor spec 8.2).
SUBSTITUTED = ("sstatus", "sie", "stvec", "sscratch", "sepc", "scause", "stval", "sip",
               "satp", "stimecmp")
HLV_ROWS = ("hlv.b", "hlv.bu", "hlv.h", "hlv.hu", "hlv.w", "hlv.wu", "hlv.d", "hlvx.hu",
            "hlvx.wu", "hsv.b", "hsv.h", "hsv.w", "hsv.d")
_HLV_SIZE = {"b": 1, "bu": 1, "h": 2, "hu": 2, "w": 4, "wu": 4, "d": 8}


def hlv_size(name: str) -> int:
    """Bytes an HLV/HLVX/HSV row accesses."""
    return _HLV_SIZE[name.split(".")[1]]


@dataclass
class HypState(GenState):
    """What the hypervisor realisation knows between items (``mode`` with ``virt``
    gives M, HS, HU, VS, VU; ``ptes``/``code_u``/``asid`` are the VS stage's)."""

    virt: bool = False
    vtsr: bool = False
    vtvm: bool = False
    vtw: bool = False
    vdeleg: bool = False  # hedeleg or hideleg may be nonzero
    vmid: int = 0
    gptes: tuple = ()
    pmp: bool = False  # a pmp item changed the PMP entries


#: Kinds of a hypervisor program with weights in M, HS, HU, VS, VU.
H_KINDS: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("insn", (60, 66, 66, 66, 66)),
    ("li", (9, 9, 9, 9, 9)),
    ("csr", (7, 5, 1.5, 3, 1)),
    ("loop", (2, 2, 2, 2, 2)),
    ("lrsc", (2, 2, 2, 2, 2)),
    ("mode", (3.5, 3.5, 3, 3, 3)),
    ("exc", (1.2, 1.2, 1.2, 1.2, 1.2)),
    ("pmp", (1, 0, 0, 0, 0)),
    ("deleg", (2, 0, 0, 0, 0)),
    ("irq", (2.5, 0, 0, 0, 0)),
    ("mprv", (1, 0, 0, 0, 0)),
    ("stce", (0.7, 0, 0, 0, 0)),
    ("counter", (0.7, 0.7, 0.7, 0.7, 0.7)),
    ("ext", (1, 0, 0, 0, 0)),
    ("vmem", (0, 0, 0, 12, 12)),
    ("vpte", (2, 2, 0, 1.5, 0)),
    ("gpte", (2, 2, 0, 0, 0)),
    ("hfence", (1, 1, 0.4, 0.6, 0.4)),
    ("hlv", (3, 5, 4, 0.5, 0.5)),
    ("hstat", (1.5, 1.5, 0, 0, 0)),
    ("hdeleg", (2, 2, 0, 0, 0)),
    ("vsirq", (1.5, 1.5, 0, 0, 0)),
    ("hatp", (1, 1, 0, 0, 0)),
    ("vcsr", (0, 0, 0, 4, 2)),
    ("vtrap", (0, 0, 0, 1.2, 1)),
)
MODE_COLUMN = {(PRV_M, False): 0, (PRV_S, False): 1, (PRV_U, False): 2, (PRV_S, True): 3,
               (PRV_U, True): 4}
MODE_NAMES = {(PRV_M, False): "M", (PRV_S, False): "HS", (PRV_U, False): "HU",
              (PRV_S, True): "VS", (PRV_U, True): "VU"}


class HypRealiser(Realiser):
    """Turns the items of a hypervisor program into instructions."""

    def __init__(self, cfg, layout, options: GenOptions):
        super().__init__(cfg, layout, options)
        self.hkinds = [k for k, _ in H_KINDS]
        self.hweights = {col: [w[col] for _, w in H_KINDS] for col in range(5)}
        if cfg.core.pmp_regions < 2:
            self.hweights[0][self.hkinds.index("pmp")] = 0
        if not (options.external_irqs and cfg.harness_irq_lines):
            self.hweights[0][self.hkinds.index("ext")] = 0
        self.byname = {r.name: r for r in self.table.csrs}
        self.hyp: pg.HypSpace | None = None
        self.state: HypState | None = None
        self.access_u = False
        h_ranges = ((0x200, 0x2FF), (0x600, 0x6FF))
        self.illegal_ranges = tuple(r for r in ILLEGAL_CSR_RANGES if r not in h_ranges)

    # ---- whole program

    def realise(self, items, hyp: pg.HypSpace | None = None) -> tuple[list[Insn], int]:
        em = Emitter(self.layout.body)
        self.hyp = hyp
        self.vm = hyp.vs
        vs = hyp.vs
        state = HypState(vm=False, asid=vs.asid if vs else 0,
                         ptes=tuple(w.pte for w in vs.windows) if vs else (),
                         vmid=hyp.g.vmid, gptes=tuple(w.pte for w in hyp.g.windows))
        self.state = state
        limit = self.layout.body + 32 * 1024 - 24
        used = 0
        for index, (code, seed) in enumerate(items):
            mark, pc = len(em.insns), em.pc
            em.item = index
            kind = self.hkind_of(code, state)
            saved = dict(vars(state))
            getattr(self, f"_item_{kind}")(em, random.Random(seed), state)
            if em.pc > limit:
                del em.insns[mark:]
                em.pc = pc
                state.__dict__.update(saved)
                break
            used = index + 1
        em.item = len(items)
        if state.mode != PRV_M:
            self.escalate(em, state)
        em.emit("jal", imm=self.layout.exit - em.pc, rd=ZERO)
        return em.insns, used

    def hkind_of(self, code: int, state: HypState) -> str:
        weights = self.hweights[MODE_COLUMN[state.mode, state.virt]]
        point = code / 256 * sum(weights)
        for kind, w in zip(self.hkinds, weights):
            if point < w:
                return kind
            point -= w
        return self.hkinds[0]

    def addr(self, name: str) -> int:
        return self.byname[name].addr

    # ---- CSR rules

    def pick_csr(self, rng, mode):
        """As ``Realiser.pick_csr``, with HS reaching the hypervisor CSRs and the
        illegal addresses kept out of the H ranges."""
        st = self.state
        pick = rng.random()
        if pick < 0.04:
            lo, hi = rng.choice(self.illegal_ranges)
            return rng.randrange(lo, hi + 1), None
        level = 2 if mode == PRV_S and not st.virt else mode
        rows = [r for r in self.table.csrs if r.priv <= level] or list(self.table.csrs)
        row = rng.choice(rows if pick < 0.9 else self.table.csrs)
        return row.addr, row

    def write_rule(self, crow: Csr | None, state) -> str:
        if crow is None:
            return "random"
        if crow.name in H_NEVER or (state.virt and crow.name in V_NEVER):
            return "never"
        if crow.name in ("hstatus", "hedeleg", "hideleg", "hvip"):
            return crow.name
        return _csr_rule(crow)

    def _apply_rule(self, rule, val, kind, state, imm_form):
        if rule == "status":
            if kind != "c":
                val &= ~(MSTATUS_TSR | MSTATUS_MPRV)
            return val, kind
        if rule == "hstatus":
            if kind != "c" and state.vdeleg:
                val &= ~HSTATUS_VTSR
            return val, kind
        if rule in ("hedeleg", "hideleg"):
            val &= ~(1 << CAUSE_ECALL_U)
            if kind != "c" and state.vtsr:
                val = 0
            return val, kind
        if rule == "hvip":
            return val & VSSIP, kind
        return super()._apply_rule(rule, val, kind, state, imm_form)

    def _track_csr_write(self, name, kind, val, state) -> None:
        if state.virt or state.mode == PRV_U:
            return
        if name == "hstatus":
            for field_, bit in (("vtsr", HSTATUS_VTSR), ("vtvm", HSTATUS_VTVM),
                                ("vtw", HSTATUS_VTW)):
                on = bool(val & bit)
                old = getattr(state, field_)
                setattr(state, field_, {"w": on, "s": old or on, "c": old and not on}[kind])
        elif name in ("hedeleg", "hideleg"):
            if kind != "c" and val:
                state.vdeleg = True
        elif state.mode == PRV_M:
            super()._track_csr_write(name, kind, val, state)

    def _item_vcsr(self, em, rng, state):
        """A V-mode access to an S CSR (its VS CSR), or to an HS or M CSR (virtual
        instruction, or illegal)."""
        if rng.random() < 0.75:
            crow = self.byname[rng.choice(SUBSTITUTED)]
        else:
            crow = self.byname[rng.choice(("hstatus", "hgatp", "hedeleg", "vsstatus",
                                           "vsatp", "hvip", "mstatus", "mepc", "htval"))]
        self.csr_access(em, rng, state, addr_row=(crow.addr, crow))

    def _item_vtrap(self, em, rng, state):
        """In VS/VU: WFI (VU always traps; VS only while VTW is set: virtual
        instruction), SRET in VU, SFENCE.VMA (virtual in VU, and in VS under VTVM), or an
        ecall that is no service request."""
        pick = rng.choice(("wfi", "sret", "sfence", "ecall"))
        if pick == "wfi" and (state.mode == PRV_U or state.vtw):
            self.wfi(em, rng)
        elif pick == "sret" and state.mode == PRV_U:
            em.emit("sret")
        elif pick == "sfence":
            em.emit("sfence.vma", rs1=ZERO if rng.random() < 0.5 else self.src(rng),
                    rs2=ZERO if rng.random() < 0.5 else self.src(rng), tag="fence")
        else:
            self._row_trap(em, rng, state, BY_NAME["ecall"])

    # ---- modes

    def escalate(self, em, state) -> None:
        super().escalate(em, state)
        state.virt = False

    def _item_mode(self, em, rng, state):
        pick = rng.random()
        if state.mode == PRV_U:
            self.escalate(em, state)
        elif state.mode == PRV_S and state.virt:
            if pick < 0.35:
                self.escalate(em, state)
            elif pick < 0.8:
                if self.vm is not None and (state.vtsr or state.vtvm):
                    self.escalate(em, state)
                elif self.vm is not None:
                    self._sret_flip(em, rng, state)
                else:
                    self._v_sret(em, rng, state, PRV_U)
            else:
                self._v_sret(em, rng, state, PRV_S)
        elif state.mode == PRV_S:
            if pick < 0.25:
                self.escalate(em, state)
            else:
                target, virt = rng.choice(((PRV_S, False), (PRV_U, False), (PRV_S, True),
                                           (PRV_U, True), (PRV_S, True), (PRV_U, True)))
                self._hs_sret(em, rng, state, target, virt)
        else:
            target = rng.choice((PRV_S, PRV_S, PRV_U, PRV_U, PRV_M))
            self._mret(em, rng, state, target)

    def _mret(self, em, rng, state, target, virt=None):
        """M -> target with MPP and MPV set (MPV random when ``virt`` is None)."""
        if virt is None:
            virt = target != PRV_M and rng.random() < 0.6
        tmp = self.reg(rng, (ZERO,))
        self._mask_interrupts(em, state)
        if virt:
            self.code_for(em, rng, state, target)
        pie = rng.random() < 0.5
        setv = target << 11 | (MSTATUS_MPIE if pie else 0) | (MSTATUS_MPV if virt else 0)
        clear = (~target & 3) << 11 | (0 if pie else MSTATUS_MPIE) | \
            (0 if virt else MSTATUS_MPV)
        seq = self._status_seq(tmp, "mstatus", clear, setv)
        self._xret_target(em, tmp, "mepc", len(seq) + 1)
        self._emit_seq(em, seq)
        em.emit("mret")
        state.mode = target
        state.virt = virt and target != PRV_M

    def _hs_sret(self, em, rng, state, target, virt) -> None:
        """HS -> HS/HU/VS/VU: hstatus.SPV and sstatus.SPP, then SRET."""
        tmp = self.reg(rng, (ZERO,))
        self._mask_interrupts(em, state)
        if virt:
            self.code_for(em, rng, state, target)
        seq = li_sequence(tmp, HSTATUS_SPV) + [("csrrs" if virt else "csrrc",
                                                {"rd": ZERO, "rs1": tmp,
                                                 "csr": self.addr("hstatus")})]
        spp = MSTATUS_SPP if target == PRV_S else 0
        seq += self._status_seq(tmp, "sstatus", MSTATUS_SPP ^ spp, spp)
        self._xret_target(em, tmp, "sepc", len(seq) + 1)
        self._emit_seq(em, seq)
        em.emit("sret")
        state.mode, state.virt = target, virt

    def _v_sret(self, em, rng, state, target) -> None:
        """VS -> VS/VU with vsstatus.SPP (VTSR makes the SRET a virtual instruction)."""
        tmp = self.reg(rng, (ZERO,))
        self._mask_interrupts(em, state)
        spp = MSTATUS_SPP if target == PRV_S else 0
        seq = self._status_seq(tmp, "sstatus", MSTATUS_SPP ^ spp, spp)
        self._xret_target(em, tmp, "sepc", len(seq) + 1)
        self._emit_seq(em, seq)
        em.emit("sret")
        if not state.vtsr:
            state.mode = target

    def code_for(self, em, rng, state, target: int) -> None:
        """From M or HS, before entering VS/VU with a VS stage: the body's VS pages
        become S or U pages (the level-1 pointer swapped, then HFENCE.VVMA rs1 = x0)."""
        want = target == PRV_U
        if self.vm is None or state.code_u == want:
            return
        tmp, val = self.two_regs(rng)
        if state.mode == PRV_M:
            self.clear_mprv(em, tmp)
        em.li(tmp, self.vm.code_pte)
        em.li(val, self.vm.code_u if want else self.vm.code_s)
        em.emit("sd", imm=0, rs1=tmp, rs2=val, tag="pte")
        rs2 = ZERO
        if rng.random() < 0.5:
            rs2 = tmp
            em.li(rs2, state.asid)
        em.emit("hfence.vvma", rs1=ZERO, rs2=rs2, tag="fence")
        state.code_u = want

    # ---- accesses through both stages

    def resolve(self, gpa: int, state) -> int | None:
        """The physical address of ``gpa`` under the current G stage (None: not memory
        the generator knows)."""
        lo, hi = self.hyp.g.identity
        if lo <= gpa < hi:
            return gpa
        for w, value in zip(self.hyp.g.windows, state.gptes):
            if w.gpa <= gpa < w.gpa + w.size:
                return (pg.pte_pa(value) & ~(w.size - 1)) + gpa - w.gpa
        return None

    def _offsets(self, rng, region: int, size: int, pa_base: int | None, level: int,
                 access: int, fetch: bool) -> int | None:
        """An address in the leaf region starting at ``region`` (mapping ``pa_base``)
        that reaches only the data region or the extra pages (or stubs for a fetch);
        a random one when the region reaches no RAM (it can only fault)."""
        lay = self.layout.vm
        if pa_base is not None:
            if fetch:
                stubs = [self.layout.stubs + 8 * i for i in range(STUBS)
                         if pa_base <= self.layout.stubs + 8 * i < pa_base + size]
                if stubs:
                    return region + rng.choice(stubs) - pa_base
            else:
                ranges = pg.targets(pa_base, level, lay)
                if ranges:
                    lo, hi = rng.choice(ranges)
                    return region + rng.randrange(lo, hi - access + 1) // access * access \
                        - pa_base
            if pa_base < lay.ram + (1 << 31) and pa_base + size > lay.ram:
                return None
        return region + rng.randrange(0, pg.PAGE - access + 1) // access * access

    def window_target(self, rng, state, size: int, fetch: bool = False) -> tuple[int, str]:
        """A guest virtual address for an access in VS/VU (or an HLV/HSV) and what it
        goes through: a VS window, a G window (vsatp Bare), a hole of either stage, or
        the identity map."""
        hyp = self.hyp
        pick = rng.random()
        if pick < 0.75:
            if hyp.vs is not None and hyp.vs.windows:
                i = self.pick_window(rng, state, fetch)
                w = hyp.vs.windows[i]
                gpa = pg.pte_pa(state.ptes[i]) & ~(w.size - 1)
                pa = self.resolve(gpa, state) if w.level == 0 else gpa
                va = self._offsets(rng, w.va, w.size, pa, w.level, size, fetch)
                if va is not None:
                    return va, "vs-" + w.name
            elif hyp.vs is None and hyp.g.windows:
                i = rng.randrange(len(hyp.g.windows))
                w = hyp.g.windows[i]
                pa = pg.pte_pa(state.gptes[i]) & ~(w.size - 1)
                va = self._offsets(rng, w.gpa, w.size, pa, w.level, size, fetch)
                if va is not None:
                    return va, "g-" + w.name
        if pick < 0.9:
            holes = []
            if hyp.vs is not None:
                holes += [(h, "vs-" + ("ptr" if k == "ptr" else "hole"))
                          for h, k in zip(hyp.vs.holes, hyp.vs.hole_kinds)]
            else:
                holes += [(h, "g-" + ("big" if k == "big" else "hole")) for h, k in hyp.g.holes]
            if holes:
                h, tag = rng.choice(holes)
                return h // 8 * 8, tag
        if fetch:
            return self.layout.stubs + 8 * rng.randrange(STUBS), "identity"
        return self.layout.data + self.data_offset(rng, size), "identity"

    def wants_user_pages(self, state) -> bool:
        """Outside V the tables are G-stage (or HLV's) tables: U as chosen per program."""
        return self.access_u if not state.virt else state.mode == PRV_U

    # ---- page-table changes and fences

    def _item_vpte(self, em, rng, state):
        """Change a VS-stage leaf, then SFENCE.VMA (in VS) or HFENCE.VVMA (HS, M)."""
        vs = self.vm
        if vs is None or not vs.windows or (state.virt and state.vtvm):
            self._item_gpte(em, rng, state)
            return
        i = rng.randrange(len(vs.windows))
        w = vs.windows[i]
        old = state.ptes[i]
        new = self.new_pte(rng, w, old)
        addr, val = self.two_regs(rng)
        if state.mode == PRV_M:
            self.clear_mprv(em, addr)
        em.li(addr, w.pte_addr)
        em.li(val, new)
        em.emit("sd", imm=0, rs1=addr, rs2=val, tag="pte")
        glob = w.glob or bool((old | new) & pg.G)
        va = w.va + rng.randrange(w.size) // 8 * 8
        if state.virt:
            self.fence(em, rng, state, va, glob)
        else:
            self.hfence(em, rng, "hfence.vvma", va, state.asid, glob)
        state.ptes = state.ptes[:i] + (new,) + state.ptes[i + 1:]

    def hfence(self, em, rng, name: str, addr: int | None, ident: int,
               glob: bool = False) -> None:
        """An HFENCE that covers a change at ``addr`` (VA, or GPA for GVMA) for the
        current ASID/VMID ``ident`` (any form; rs1 = x0 when ``addr`` is None; rs2 = x0
        for a global mapping)."""
        by_addr = addr is not None and rng.random() < 0.5
        by_id = not glob and rng.random() < 0.5
        rs1 = rs2 = ZERO
        if by_addr:
            rs1 = self.reg(rng, (ZERO,))
            em.li(rs1, addr >> 2 if name == "hfence.gvma" else addr)
        if by_id:
            rs2 = self.reg(rng, (ZERO, rs1))
            em.li(rs2, ident)
        em.emit(name, rs1=rs1, rs2=rs2, tag="fence")

    def new_gpte(self, rng, w: pg.GWindow, old: int) -> int:
        """A changed G-stage leaf PTE (U flipped more often: G leaves need it)."""
        return self.changed_leaf(rng, w, old, (0, 1, 2, 3, 4, 4, 6, 7))

    def _item_gpte(self, em, rng, state):
        """Change a G-stage leaf, then HFENCE.GVMA (by GPA >> 2 and/or VMID)."""
        g = self.hyp.g
        if not g.windows or (state.mode == PRV_S and state.tvm) or state.virt or \
                state.mode == PRV_U:
            self._item_hstat(em, rng, state)
            return
        i = rng.randrange(len(g.windows))
        w = g.windows[i]
        new = self.new_gpte(rng, w, state.gptes[i])
        addr, val = self.two_regs(rng)
        if state.mode == PRV_M:
            self.clear_mprv(em, addr)
        em.li(addr, w.pte_addr)
        em.li(val, new)
        em.emit("sd", imm=0, rs1=addr, rs2=val, tag="gpte")
        self.hfence(em, rng, "hfence.gvma", w.gpa + rng.randrange(w.size) // 8 * 8, state.vmid)
        state.gptes = state.gptes[:i] + (new,) + state.gptes[i + 1:]

    def _item_hfence(self, em, rng, state):
        """HFENCE.VVMA or HFENCE.GVMA in a random form (illegal or virtual outside
        HS/M; GVMA illegal in HS under TVM)."""
        name = rng.choice(("hfence.vvma", "hfence.gvma"))
        rs1 = rs2 = ZERO
        if rng.random() < 0.5:
            rs1 = self.reg(rng, (ZERO,))
            vs, g = self.hyp.vs, self.hyp.g
            if name == "hfence.gvma" and g.windows and rng.random() < 0.8:
                value = rng.choice(g.windows).gpa >> 2
            elif vs is not None and vs.windows and rng.random() < 0.8:
                value = rng.choice(vs.windows).va
            else:
                value = self.value(rng)
            em.li(rs1, value)
        if rng.random() < 0.5:
            rs2 = self.reg(rng, (ZERO, rs1))
            ident = state.vmid if name == "hfence.gvma" else state.asid
            em.li(rs2, ident if rng.random() < 0.6 else rng.getrandbits(14))
        em.emit(name, rs1=rs1, rs2=rs2, tag="fence")

    def _item_hatp(self, em, rng, state):
        """Another VMID in hgatp (same root), or another ASID in vsatp, each followed by
        full fences (the realiser never relies on entries of an earlier VMID/ASID)."""
        if state.mode == PRV_S and state.tvm:
            self._item_hstat(em, rng, state)
            return
        tmp = self.reg(rng, (ZERO,))
        if state.mode == PRV_M:
            self.clear_mprv(em, tmp)
        if rng.random() < 0.6 or self.vm is None:
            vmid = rng.getrandbits(14)
            em.li(tmp, self.hyp.g.hgatp(vmid))
            em.emit("csrrw", rd=self.reg(rng), rs1=tmp, csr=self.addr("hgatp"))
            state.vmid = vmid
        else:
            asid = rng.getrandbits(16)
            em.li(tmp, self.vm.satp(asid))
            em.emit("csrrw", rd=self.reg(rng), rs1=tmp, csr=self.addr("vsatp"))
            state.asid = asid
        em.emit("hfence.gvma", rs1=ZERO, rs2=ZERO, tag="fence")
        em.emit("hfence.vvma", rs1=ZERO, rs2=ZERO, tag="fence")

    # ---- hypervisor status, delegation, interrupts

    def _item_hstat(self, em, rng, state):
        """Set or clear hstatus VTSR/VTW/VTVM/HU/SPVP, vsstatus SUM/MXR, mstatus MXR."""
        tmp = self.reg(rng, (ZERO,))
        pick = rng.random()
        kind = rng.choice(("s", "c"))
        if pick < 0.6:
            bits = [b for b in (HSTATUS_VTSR, HSTATUS_VTW, HSTATUS_VTVM, HSTATUS_HU,
                                HSTATUS_SPVP) if rng.random() < 0.4] or [HSTATUS_SPVP]
            value = sum(bits)
            if kind == "s" and state.vdeleg:
                value &= ~HSTATUS_VTSR
            name = "hstatus"
        elif pick < 0.85 or state.mode != PRV_M:
            value = rng.choice((MSTATUS_SUM, MSTATUS_MXR, MSTATUS_SUM | MSTATUS_MXR))
            name = "vsstatus"
        else:
            value, name = MSTATUS_MXR, "mstatus"
        em.li(tmp, value)
        em.emit(f"csrr{kind}", rd=self.reg(rng), rs1=tmp, csr=self.addr(name))
        self._track_csr_write(name, kind, value, state)

    def _item_hdeleg(self, em, rng, state):
        """Random hedeleg (never ecall from VU) and hideleg; VTSR cleared first."""
        tmp = self.reg(rng, (ZERO,))
        if state.vtsr:
            em.li(tmp, HSTATUS_VTSR)
            em.emit("csrrc", rd=ZERO, rs1=tmp, csr=self.addr("hstatus"))
            state.vtsr = False
        for name, mask in (("hedeleg", HEDELEG_WRITABLE & ~(1 << CAUSE_ECALL_U)),
                           ("hideleg", HIDELEG_WRITABLE)):
            if rng.random() < 0.75:
                value = rng.getrandbits(64) & mask if rng.random() < 0.85 else 0
                em.li(tmp, value)
                em.emit("csrrw", rd=self.reg(rng), rs1=tmp, csr=self.addr(name))
                state.vdeleg = state.vdeleg or bool(value)

    def _item_vsirq(self, em, rng, state):
        """VSSIP injected through hvip (or mip from M) with the current interrupt enable
        cleared, hideleg[2] and hie.VSSIE random, then (mostly) entry into VS or VU,
        where the interrupt is taken by VS (delegated) or HS."""
        tmp = self.reg(rng, (ZERO,))
        self._mask_interrupts(em, state)
        if rng.random() < 0.6:
            delegate = rng.random() < 0.6
            if delegate and state.vtsr:
                em.li(tmp, HSTATUS_VTSR)
                em.emit("csrrc", rd=ZERO, rs1=tmp, csr=self.addr("hstatus"))
                state.vtsr = False
            em.emit("csrrsi" if delegate else "csrrci", imm=VSSIP, rd=ZERO,
                    csr=self.addr("hideleg"))
            state.vdeleg = state.vdeleg or delegate
        em.emit("csrrsi" if rng.random() < 0.9 else "csrrci", imm=VSSIP, rd=ZERO,
                csr=self.addr("hie"))
        via = "mip" if state.mode == PRV_M and rng.random() < 0.3 else "hvip"
        em.emit("csrrsi", imm=VSSIP, rd=ZERO, csr=self.addr(via))
        if rng.random() < 0.5:
            em.emit("csrrsi" if rng.random() < 0.7 else "csrrci", imm=MSTATUS_SIE, rd=ZERO,
                    csr=self.addr("vsstatus"))
        if rng.random() < 0.85:
            target = rng.choice((PRV_S, PRV_U))
            if state.mode == PRV_M:
                self._mret(em, rng, state, target, virt=True)
            else:
                self._hs_sret(em, rng, state, target, True)

    def _item_pmp(self, em, rng, state):
        super()._item_pmp(em, rng, state)
        state.pmp = True

    # ---- hypervisor loads and stores

    def _item_hlv(self, em, rng, state):
        """HLV/HLVX/HSV with random SPVP (and HU) from M/HS, or as they stand in HU
        (illegal without HU) and in VS/VU (virtual instruction)."""
        name = rng.choice(HLV_ROWS)
        if not state.virt and state.mode != PRV_U and rng.random() < 0.5:
            bits = HSTATUS_SPVP | (HSTATUS_HU if rng.random() < 0.3 else 0)
            tmp = self.reg(rng, (ZERO,))
            em.li(tmp, bits)
            em.emit(rng.choice(("csrrs", "csrrc")), rd=ZERO, rs1=tmp,
                    csr=self.addr("hstatus"))
        self.access_u = rng.random() < 0.5
        fetch = name.startswith("hlvx") and rng.random() < 0.5
        va, tag = self.window_target(rng, state, hlv_size(name), fetch=fetch)
        if fetch:
            va += rng.choice((0, 2)) if name == "hlvx.hu" else 0
        base = self.reg(rng, (ZERO,))
        em.li(base, va)
        if name.startswith("hsv"):
            em.emit(name, rs1=base, rs2=self.src(rng), tag=tag)
        else:
            em.emit(name, rd=self.reg(rng), rs1=base, tag=tag)


_REALISERS: dict = {}


def hyp_realiser(cfg, options: GenOptions) -> HypRealiser:
    """The (cached) realiser of hypervisor programs for ``cfg`` and ``options``."""
    key = (cfg.key(), options)
    if key not in _REALISERS:
        _REALISERS[key] = HypRealiser(cfg, template(cfg, options.signature).layout, options)
    return _REALISERS[key]
