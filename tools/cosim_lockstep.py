"""One retirement at a time: step Spike to the model's record, apply the
synchronisation rules, compare (ARCHITECTURE.md section 5, layer 3; docs/cosim.md,
"Synchronisation rules").

Every rule of docs/cosim.md is one entry of ``RULES`` and one small method here:

- interrupts happen in Spike only where the model took one (``mie`` is masked on every
  other step), with Spike's timer set to the model's ``mtime`` first;
- harness interrupt lines reach Spike's PLIC at the model's boundary;
- a WFI that the model leaves without an interrupt is left in Spike too;
- values that depend on timing or on device models (counter CSRs, ``mip``/``sip``
  device bits, loads from devices and from the boot ROM) take the model's value;
- ``misa`` writes are undone in Spike (``misa`` is read-only in the model).
"""

from __future__ import annotations

from hardware.config import SocConfig
from hardware.isa.csrs import ALL_CSR_ADDR, CSR_ADDR
from hardware.sim.machine import Retired
from hardware.soc.memory_map import regions
from tools.cosim_spike import SpikeHart, SpikeStep

#: The rules, as documented (name -> one line); ``Lockstep.applied`` counts their use.
RULES = {
    "irq": "an interrupt the model takes is raised in Spike at the same boundary",
    "mask": "Spike takes no interrupt the model did not take (mie masked for the step)",
    "mtime": "before an interrupt, Spike's CLINT mtime is set to the model's",
    "lines": "harness interrupt lines reach Spike's PLIC at the model's boundary",
    "wfi": "a WFI the model leaves without an interrupt is left in Spike",
    "counter": "reads of cycle/time/instret/mcycle/minstret take the model's value",
    "mip": "reads of mip/sip take the model's device-driven bits",
    "ids": "reads of mvendorid/marchid/mimpid take the model's value",
    "device": "loads from device regions take the model's value",
    "bootrom": "boot ROM code: bits not compared, results take the model's value",
    "misa": "misa writes are undone in Spike (misa is read-only in the model)",
    "finisher": "a store to the test finisher ends the run without a Spike step",
}

#: Fields compared, in report order (the first that differs is reported).
COMPARED = ("pc", "trap", "cause", "insn", "priv", "v", "rd", "rd_wdata", "mem_addr",
            "mem_rmask", "mem_wmask", "mem_wdata")
MIE, MIP, SIP, SIE = (CSR_ADDR[n] for n in ("mie", "mip", "sip", "sie"))
#: With H, mie and mip are also seen through hie/vsie and hip/vsip (sie/sip with V=1).
MIE_VIEWS = frozenset((MIE, SIE, ALL_CSR_ADDR["hie"], ALL_CSR_ADDR["vsie"]))
MIP_VIEWS = frozenset((MIP, SIP, ALL_CSR_ADDR["hip"], ALL_CSR_ADDR["vsip"]))
MENVCFG, MISA = CSR_ADDR["menvcfg"], CSR_ADDR["misa"]
STIMECMP, SATP = CSR_ADDR["stimecmp"], CSR_ADDR["satp"]
#: CSRs whose value depends on cycle timing: reads take the model's value.
COUNTER_CSRS = frozenset(CSR_ADDR.get(n, a) for n, a in
                         (("cycle", 0xC00), ("time", 0xC01), ("instret", 0xC02),
                          ("mcycle", 0xB00), ("minstret", 0xB02)))
#: Implementation identity CSRs (Spike reports its own marchid): the model's value.
ID_CSRS = frozenset(CSR_ADDR.get(n, a) for n, a in
                    (("mvendorid", 0xF11), ("marchid", 0xF12), ("mimpid", 0xF13)))
#: mip bits (priv spec 3.1.9).
SSIP, MSIP, STIP, MTIP, SEIP, MEIP = (1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 9, 1 << 11)
#: Interrupts raised by the PLIC, whose model gateway lags Spike's by cycles.
EXT_IRQS = SEIP | MEIP
#: menvcfg.STCE (Sstc): STIP follows stimecmp instead of software.
MENVCFG_STCE = 1 << 63
#: Encodings (unpriv spec chapter 24, priv spec 3.3).
OPCODE_SYSTEM = 0x73
WFI = 0x10500073
INTERRUPT_BIT = 1 << 63
#: Byte-lane mask (8 bits) -> bit mask (64 bits).
_BYTE_MASKS = [sum(0xFF << (8 * i) for i in range(8) if lanes >> i & 1) for lanes in range(256)]
#: Instruction-bit cache granule: a store into a granule holding cached code clears it.
CODE_LINE_SHIFT = 6


def csr_access(insn: int) -> tuple[int, bool] | None:
    """(csr, writes) of a Zicsr instruction, else None."""
    if insn & 0x7F != OPCODE_SYSTEM:
        return None
    funct3 = (insn >> 12) & 7
    if funct3 in (0, 4):
        return None
    src = (insn >> 15) & 31
    return insn >> 20, funct3 in (1, 5) or src != 0


def lane_mask(addr: int, size: int) -> int:
    """Byte-lane mask of a ``size``-byte access at ``addr`` in its 64-bit word."""
    return ((1 << size) - 1) << (addr & 7)


def byte_mask(lanes: int) -> int:
    """The bit mask of the byte lanes set in ``lanes``."""
    return _BYTE_MASKS[lanes & 0xFF]


def normalise(rec: Retired) -> Retired:
    """``rec`` with the don't-care fields zeroed (bits, cause, address and data that
    the record's kind does not define, and the model-only physical addresses and cycle
    that Spike does not report), so that records compare with ``==``."""
    pc, insn, trap, cause, priv, v, rd, wdata, addr, rmask, wmask, sdata = rec[:12]
    if trap:
        insn = 0
    else:
        cause = 0
    if not (rmask or wmask):
        addr = 0
    sdata = sdata & _BYTE_MASKS[wmask] if wmask else 0
    return tuple.__new__(Retired, (pc, insn, trap, cause, priv, v, rd, wdata, addr,
                                   rmask, wmask, sdata, 0, 0, 0))


class Lockstep:
    """Drives ``spike`` one model record at a time (see the module docstring)."""

    def __init__(self, spike: SpikeHart, cfg: SocConfig):
        self.spike = spike
        self.cfg = cfg
        spans = {r.name: (r.base, r.base + r.size) for r in regions(cfg)}
        self._ram = spans.pop("ram")
        self._rom = spans["bootrom"]
        self._finisher = spans["finisher"]
        self._misa = spike.csr(MISA)
        self._line_base = 32 - cfg.harness_irq_lines
        self._lines = 0
        self._in_wfi = False
        self._bits: dict[int, int] = {}
        self._code_lines: set[int] = set()
        self.applied = dict.fromkeys(RULES, 0)
        self.note = ""

    # ---- one record

    def step(self, rec: Retired, mtime: int | None, lines: int | None) -> Retired | None:
        """Advance Spike by the model's record ``rec``; return Spike's record (None
        when a rule skips the Spike step). ``self.note`` explains a Spike-side anomaly."""
        self.note = ""
        if lines is not None:
            self._drive_lines(lines)
        if rec.trap and rec.cause & INTERRUPT_BIT:
            step = self._interrupt_step(rec, mtime)
        elif self._is_finisher_store(rec):
            self.applied["finisher"] += 1
            return None
        else:
            step = self._plain_step(rec)
        return self._record(rec, step)

    def _drive_lines(self, mask: int) -> None:
        changed = mask ^ self._lines
        for i in range(self.cfg.harness_irq_lines):
            if changed >> i & 1:
                self.spike.set_irq_level(self._line_base + i, mask >> i & 1)
        self._lines = mask
        self.applied["lines"] += 1

    def _interrupt_step(self, rec: Retired, mtime: int | None) -> SpikeStep:
        """Raise the model's interrupt in Spike: sync the timer, enable in ``mie`` the
        non-PLIC interrupts and the taken one, step."""
        spike = self.spike
        if mtime is not None:
            spike.set_mtime(mtime)
            self.applied["mtime"] += 1
        real = spike.csr(MIE)
        taken = 1 << (rec.cause & 63)
        allowed = (real & ~EXT_IRQS) | (real & taken)
        pending = spike.csr(MIP)
        spike.set_csr(MIE, allowed)
        step = spike.step()
        spike.set_csr(MIE, real)
        if step.kind != "trap":
            self.note = (f"the model took interrupt {rec.cause & 63}; in Spike mip was "
                         f"{pending:#x} and mie {real:#x} (PLIC interrupts other than the "
                         f"taken one masked), which enabled no interrupt")
        self.applied["irq"] += 1
        self._in_wfi = False
        return step

    def _plain_step(self, rec: Retired) -> SpikeStep:
        """Execute the next instruction with interrupts masked (or leave a WFI)."""
        spike = self.spike
        if self._in_wfi:
            return self._wfi_exit_step(rec)
        access = csr_access(rec.insn) if not rec.trap else None
        touches_mie = access is not None and access[0] in MIE_VIEWS
        real = 0 if touches_mie else spike.csr(MIE)
        if real:
            spike.set_csr(MIE, 0)
            self.applied["mask"] += 1
        step = spike.step()
        if real:
            spike.set_csr(MIE, real)
        return step

    def _wfi_exit_step(self, rec: Retired) -> SpikeStep:
        """Leave a WFI the model left without an interrupt: Spike needs a bit pending
        in ``mip & mie``; its timer is advanced to the compare value if that is all
        it lacks. Spike's ``mie`` is restored after the step unless the stepped
        instruction (``rec``) itself writes ``mie``/``sie`` (restoring would undo it)."""
        spike = self.spike
        self._in_wfi = False
        self.applied["wfi"] += 1
        real = spike.csr(MIE)
        if not spike.csr(MIP) & real:
            self._advance_timer(real)
        quiet = real & ~EXT_IRQS
        mie = quiet if spike.csr(MIP) & quiet else real
        access = csr_access(rec.insn) if not rec.trap else None
        touches_mie = access is not None and access[0] in MIE_VIEWS
        spike.set_csr(MIE, mie)
        step = spike.step()
        if not touches_mie:
            spike.set_csr(MIE, real)
        if step.kind == "idle":
            self.note = "Spike found no interrupt pending in mip & mie to leave the WFI"
        return step

    def _advance_timer(self, mie: int) -> None:
        spike = self.spike
        targets = []
        if mie & MTIP:
            targets.append(spike.mtimecmp)
        if mie & STIP and spike.csr(MENVCFG) & MENVCFG_STCE:
            targets.append(spike.csr(STIMECMP))
        later = [t for t in targets if t > spike.mtime]
        if later:
            spike.set_mtime(min(later))

    def _is_finisher_store(self, rec: Retired) -> bool:
        lo, hi = self._finisher
        return bool(rec.mem_wmask) and lo <= rec.mem_addr < hi

    # ---- Spike's record

    def _record(self, rec: Retired, step: SpikeStep) -> Retired:
        """Spike's record of ``step``, with the value rules applied against ``rec``."""
        spike = self.spike
        if step.kind == "trap":
            return Retired(step.pc, 0, 1, step.cause, step.priv, step.v, 0, 0, 0, 0, 0, 0)
        if step.kind == "idle":
            self.note = self.note or "Spike is waiting in WFI and executed nothing"
            return Retired(step.pc, 0, 0, 0, step.priv, step.v, 0, 0, 0, 0, 0, 0)
        insn = self._insn(step.pc, rec, step.priv, step.v)
        rd = self._written_reg(rec.rd, insn)
        rd_wdata = spike.reg(rd) if rd else 0
        addr = rmask = wmask = wdata = 0
        if spike.has_loads():
            load = spike.loads()[0]
            addr, rmask = load.addr, lane_mask(load.addr, load.size)
        if spike.has_stores():
            store = spike.stores()[0]
            addr, wmask = store.addr, lane_mask(store.addr, store.size)
            wdata = (store.value << 8 * (store.addr & 7)) & byte_mask(wmask)
            self._forget_code(addr, store.size)
        if insn == WFI:
            self._in_wfi = True
        out = tuple.__new__(Retired, (step.pc, insn, 0, 0, step.priv, step.v, rd, rd_wdata,
                                      addr, rmask, wmask, wdata, 0, 0, 0))
        return self._take_model_values(rec, out)

    def _insn(self, pc: int, rec: Retired, priv: int, v: int = 0) -> int:
        lo, hi = self._rom
        if lo <= pc < hi:
            self.applied["bootrom"] += 1
            return rec.insn
        if v or (priv != 3 and self.spike.csr(SATP) >> 63):
            return self.spike.fetch_bits(pc, priv, v) or 0  # translated: not cached
        bits = self._bits.get(pc)
        if bits is None:
            bits = self.spike.fetch_bits(pc) or 0
            self._bits[pc] = bits
            self._code_lines.add(pc >> CODE_LINE_SHIFT)
            self._code_lines.add((pc + 2) >> CODE_LINE_SHIFT)
        return bits

    def _forget_code(self, addr: int, size: int) -> None:
        """Drop cached instruction bits if a store may have overwritten them."""
        lines = self._code_lines
        if addr >> CODE_LINE_SHIFT in lines or (addr + size - 1) >> CODE_LINE_SHIFT in lines:
            self._bits.clear()
            lines.clear()

    def _written_reg(self, model_rd: int, insn: int) -> int:
        """The x register Spike's instruction wrote (0: none)."""
        spike = self.spike
        if model_rd and spike.wrote_reg(model_rd):
            return model_rd
        keys = spike.reg_writes()
        if keys == 0 or (keys == 1 and spike.wrote_reg(0)):
            return 0
        written = spike.written_regs()
        return written[0] if written else 0

    def _take_model_values(self, rec: Retired, out: Retired) -> Retired:
        """Apply the value rules: where the model's value stands, copy it into Spike's
        register and record (only when both wrote the same register with the same
        instruction)."""
        if not out.rd or out.rd != rec.rd or out.insn != rec.insn:
            return self._after_csr_write(out)
        rule = self._value_rule(rec, out)
        if rule is None:
            return self._after_csr_write(out)
        if rule == "mip" and not self._mip_bits_agree(rec, out):
            self.note = ("mip/sip read: the software-owned bits (SSIP, and STIP without "
                         "menvcfg.STCE) differ; the other bits follow device timing")
            return self._after_csr_write(out)
        self.applied[rule] += 1
        self.spike.set_reg(out.rd, rec.rd_wdata)
        return self._after_csr_write(out._replace(rd_wdata=rec.rd_wdata))

    def _value_rule(self, rec: Retired, out: Retired) -> str | None:
        lo, hi = self._rom
        if lo <= out.pc < hi:
            return "bootrom"
        access = csr_access(out.insn)
        if access is not None:
            if access[0] in COUNTER_CSRS:
                return "counter"
            if access[0] in MIP_VIEWS:
                return "mip"
            if access[0] in ID_CSRS:
                return "ids"
            return None
        if out.mem_rmask and rec.mem_rmask and out.mem_addr == rec.mem_addr and \
                not self._ram[0] <= out.mem_addr < self._ram[1]:
            return "device"
        return None

    def _mip_bits_agree(self, rec: Retired, out: Retired) -> bool:
        """The software-owned mip bits (SSIP; STIP without Sstc's STCE) read the same."""
        own = SSIP | (0 if self.spike.csr(MENVCFG) & MENVCFG_STCE else STIP)
        return (rec.rd_wdata ^ out.rd_wdata) & own == 0

    def _after_csr_write(self, out: Retired) -> Retired:
        access = csr_access(out.insn)
        if access is not None and access == (MISA, True):
            self.spike.set_csr(MISA, self._misa)
            self.applied["misa"] += 1
        return out
