"""Coverage of fuzz runs, computed from the model's retirement records (issue 3, part 4;
docs/fuzzing-cpu.md, "Coverage").

Three views (privileged spec 1.12: 3.1.6 mstatus, 3.1.8 delegation, 3.3.2 xRET, 3.1.15
causes):

- instruction classes x privilege modes: retired (non-trapping) instructions of the
  generated body, by table row (``hardware/isa/instructions.py``) and mode;
- exception and interrupt causes x the mode that handles them (M or S, the delegation
  target), from each trap record and the record after it;
- transitions of the privilege state in ``mstatus``: MPP, SPP, MPRV, SUM, MXR and TVM,
  old -> new, by the event that caused them (CSR write, trap entry, MRET, SRET);
- paging (priv 4.1.11, 4.2.1, 4.3): accesses through the page tables by what they go
  through (the generator's tag: 4 KiB page, 2 MiB or 1 GiB superpage, a leaf outside
  RAM, a hole, the identity map), access kind, mode and outcome (retired, or the
  cause); SFENCE.VMA by form (rs1/rs2 zero or not), mode and outcome; S-mode accesses
  by SUM/MXR and outcome; page faults by the faulting mode and the handling mode;
  satp writes by the MODE written, mode and outcome;
- hypervisor (H spec 8.3, 8.5, 8.6): traps out of VS/VU (VM exits) by cause and source
  mode; guest-page faults by stage (the implicit VS-stage PTE read, or the final
  address) and access kind; HLV/HLVX/HSV by row and outcome; HFENCE.VVMA/GVMA by form,
  mode and outcome; every trap by cause and the mode that takes it (M, HS, VS).

The status fields are replayed from the records: trap entry and xRET follow the spec;
a CSR write's operand is the value of its source register, known because every record
carries the register it writes (the replay also resynchronises whenever ``mstatus`` or
``sstatus`` is read). Records also give the retire fraction: of the generated
instructions that executed (interrupt records excluded), the share that did not trap.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from hardware.config import SocConfig
from hardware.isa.causes import EXCEPTIONS, INTERRUPT_BIT, INTERRUPTS, cause_name
from hardware.isa.instructions import lookup

PRIV_NAMES = {0: "U", 1: "S", 3: "M"}
MODES = ("M", "S", "U")
MSTATUS, SSTATUS, SATP = 0x300, 0x100, 0x180
SFENCE_VMA_MATCH, SFENCE_VMA_MASK = 0x12000073, 0xFE007FFF
PAGE_FAULT_CODES = (12, 13, 15)
MRET, SRET = 0x30200073, 0x10200073
SPP_BIT, MPRV_BIT, MPP_SHIFT = 8, 17, 11
#: Events that change the privilege state.
EVENTS = ("csr", "trap", "mret", "sret")
#: The privilege-state fields and their values.
STATUS_VALUES = {"MPP": ("U", "S", "M"), "SPP": ("U", "S"), "MPRV": ("0", "1"),
                 "SUM": ("0", "1"), "MXR": ("0", "1"), "TVM": ("0", "1")}
#: Single-bit mstatus fields the replay follows: name -> (bit, written through sstatus).
STATUS_BITS = {"MPRV": (17, False), "SUM": (18, True), "MXR": (19, True), "TVM": (20, False)}
#: Paging bins: what an access went through, kinds, modes and outcomes.
VM_TAGS = ("4k", "2m", "1g")
VM_ACCESSES = ("load", "store", "amo", "lr", "sc", "fetch")
VM_OUTCOMES = ("ok", "page fault")
FENCE_FORMS = ("all", "va", "asid", "va+asid")
#: Hypervisor bins.
GUEST_FAULT_CODES = (20, 21, 23)
#: (A VSSI that hideleg delegates is taken by VS as an SSI, cause 1 in vscause.)
HFENCE_MATCH = {0x22000073: "hfence.vvma", 0x62000073: "hfence.gvma"}
HFENCE_FORMS = ("all", "addr", "id", "addr+id")
HLV_NAMES = ("hlv.b", "hlv.bu", "hlv.h", "hlv.hu", "hlv.w", "hlv.wu", "hlv.d", "hlvx.hu",
             "hlvx.wu", "hsv.b", "hsv.h", "hsv.w", "hsv.d")
HLV_OUTCOMES = ("ok", "LOAD_PAGE_FAULT", "LOAD_GUEST_PAGE_FAULT", "ILLEGAL_INSTRUCTION",
                "VIRTUAL_INSTRUCTION")
GPF_KINDS = ("load", "store", "amo", "fetch", "hlv", "hlvx", "hsv")
VM_EXIT_CAUSES = ("ILLEGAL_INSTRUCTION", "VIRTUAL_INSTRUCTION", "USER_ECALL",
                  "VIRTUAL_SUPERVISOR_ECALL", "LOAD_PAGE_FAULT", "STORE_PAGE_FAULT",
                  "FETCH_PAGE_FAULT", "LOAD_GUEST_PAGE_FAULT", "STORE_GUEST_PAGE_FAULT",
                  "FETCH_GUEST_PAGE_FAULT", "BREAKPOINT", "irq VSSI")
TRAP_TARGETS = ("M", "HS", "VS")


def vmode(priv: int, v: int) -> str:
    """M, HS, HU, VS or VU."""
    if priv == 3:
        return "M"
    return ("V" if v else "H") + ("S" if priv == 1 else "U")


def access_kind(name: str) -> str:
    """load, store, amo, lr, sc, hlv, hlvx or hsv of a memory row's name."""
    for prefix in ("hlvx", "hlv", "hsv", "lr", "sc", "amo"):
        if name.startswith(prefix):
            return prefix
    return "store" if name.removeprefix("c.").startswith("s") else "load"


def _mpp_name(value: int) -> str:
    """MPP as a mode name (2, reserved, is legalised to U as in the model and Spike)."""
    return {0: "U", 1: "S", 3: "M"}.get(value, "U")


@dataclass
class StatusReplay:
    """MPP/SPP/MPRV as the records change them."""

    fields: dict[str, str] = field(default_factory=lambda: {"MPP": "U", "SPP": "U", "MPRV": "0",
                                                            "SUM": "0", "MXR": "0",
                                                            "TVM": "0"})
    regs: list[int] = field(default_factory=lambda: [0] * 32)

    def set(self, name: str, value: str, event: str, out: Counter) -> None:
        old = self.fields[name]
        if old != value:
            out[(name, old, value, event)] += 1
            self.fields[name] = value

    def load(self, value: int, mstatus: bool) -> None:
        """Resynchronise from a read of mstatus (or sstatus: SPP only)."""
        self.fields["SPP"] = "S" if value >> SPP_BIT & 1 else "U"
        for name, (bit, in_sstatus) in STATUS_BITS.items():
            if mstatus or in_sstatus:
                self.fields[name] = str(value >> bit & 1)
        if mstatus:
            self.fields["MPP"] = _mpp_name(value >> MPP_SHIFT & 3)

    def csr(self, insn: int, old: int | None, mstatus: bool, out: Counter) -> None:
        """Apply a Zicsr instruction on mstatus/sstatus (``old``: the value it read)."""
        funct3, src = insn >> 12 & 7, insn >> 15 & 31
        operand = src if funct3 >= 5 else self.regs[src]
        kind = funct3 & 3  # 1 write, 2 set, 3 clear
        if kind != 1 and src == 0:
            return
        if old is not None:
            self.load(old, mstatus)
        current = {"SPP": int(self.fields["SPP"] == "S"),
                   "MPP": {"U": 0, "S": 1, "M": 3}[self.fields["MPP"]],
                   **{n: int(self.fields[n]) for n in STATUS_BITS}}
        bits = {"SPP": (SPP_BIT, 1), "MPP": (MPP_SHIFT, 3),
                **{n: (bit, 1) for n, (bit, _) in STATUS_BITS.items()}}
        for name, (shift, mask) in bits.items():
            if not mstatus and name != "SPP" and not STATUS_BITS.get(name, (0, False))[1]:
                continue
            value = operand >> shift & mask
            new = {1: value, 2: current[name] | value, 3: current[name] & ~value}[kind]
            text = _mpp_name(new) if name == "MPP" else ("S" if new and name == "SPP" else
                                                         ("U" if name == "SPP" else str(new)))
            self.set(name, text, "csr", out)


@dataclass
class Coverage:
    """Counts of one or many runs; ``merge`` adds another."""

    programs: int = 0
    records: int = 0
    body: int = 0  # generated instructions executed (interrupt records excluded)
    body_traps: int = 0  # ... of which trapped
    insn: Counter = field(default_factory=Counter)  # (row name, mode) -> retired
    trapped: Counter = field(default_factory=Counter)  # (row name, mode) -> raised an exception
    causes: Counter = field(default_factory=Counter)  # (cause name, target mode) -> traps
    status: Counter = field(default_factory=Counter)  # (field, old, new, event) -> count
    vm: Counter = field(default_factory=Counter)  # (tag, access, mode, outcome) -> count
    fences: Counter = field(default_factory=Counter)  # (form, mode, outcome) -> count
    sumxr: Counter = field(default_factory=Counter)  # (SUM, MXR, outcome) of S data accesses
    faults: Counter = field(default_factory=Counter)  # (cause, faulting mode, handler) pages
    satp: Counter = field(default_factory=Counter)  # (MODE written, mode, outcome) -> count
    vexits: Counter = field(default_factory=Counter)  # (cause, VS/VU) -> traps out of V
    gpf: Counter = field(default_factory=Counter)  # (implicit/final, access kind) -> faults
    hlv: Counter = field(default_factory=Counter)  # (row, outcome) -> count
    hfence: Counter = field(default_factory=Counter)  # (row, form, mode, outcome) -> count
    targets: Counter = field(default_factory=Counter)  # (cause, M/HS/VS) -> traps

    # ---- collecting

    def observe(self, records, body: tuple[int, int], tags: dict[int, str] | None = None) -> None:
        """Add one run: its records (``Retired``, oldest first), the body's [first,
        end) addresses and, for paging programs, ``Program.tags`` (pc -> what the
        access at pc goes through)."""
        self.programs += 1
        self.records += len(records)
        lo, hi = body
        replay = StatusReplay()
        names: dict[int, str] = {}

        def row_name(word: int) -> str:
            name = names.get(word)
            if name is None:
                row = lookup(word)
                name = names[word] = row.name if row else "unknown"
            return name

        tags = tags or {}
        for i, r in enumerate(records):
            in_body = lo <= r.pc < hi
            mode = PRIV_NAMES.get(r.priv, str(r.priv))
            nxt = records[i + 1] if i + 1 < len(records) else None
            if r.trap and r.cause in PAGE_FAULT_CODES:
                target = PRIV_NAMES.get(nxt.priv, "?") if nxt else "?"
                self.faults[(cause_name(r.cause), mode, target)] += 1
            if in_body:
                self._paging(r, nxt, mode, tags.get(r.pc), replay, row_name)
                self._hyp_body(r, row_name)
            if r.trap:
                prev = records[i - 1] if i else None
                self._hyp_trap(r, nxt, prev, tags, row_name)
            if r.trap:
                if in_body and not r.cause & INTERRUPT_BIT:
                    self.trapped[(row_name(r.insn), mode)] += 1
                self._trap(r, records[i + 1].priv if i + 1 < len(records) else None,
                           replay, in_body)
                continue
            if in_body:
                self.body += 1
                self.insn[(row_name(r.insn), mode)] += 1
            self._status(r, records[i + 1].priv if i + 1 < len(records) else None, replay)
            if r.rd:
                replay.regs[r.rd] = r.rd_wdata

    def _paging(self, r, nxt, mode: str, tag: str | None, replay: StatusReplay,
                row_name) -> None:
        """The paging bins of one body record (``nxt``: the record after it)."""
        interrupt = r.trap and r.cause & INTERRUPT_BIT
        if interrupt:
            return
        outcome = cause_name(r.cause) if r.trap else "ok"
        insn = r.insn
        if insn & SFENCE_VMA_MASK == SFENCE_VMA_MATCH:
            form = FENCE_FORMS[(insn >> 15 & 31 != 0) + 2 * (insn >> 20 & 31 != 0)]
            self.fences[(form, mode, outcome)] += 1
        elif insn & 0x7F == 0x73 and insn >> 12 & 7 not in (0, 4) and insn >> 20 == SATP \
                and insn >> 12 & 3 == 1:
            operand = insn >> 15 & 31 if insn >> 12 & 7 >= 5 else replay.regs[insn >> 15 & 31]
            written = {0: "bare", 8: "sv39"}.get(operand >> 60 & 15, "unsupported")
            self.satp[(written, mode, outcome)] += 1
        if not tag:
            return
        if tag.startswith("fetch-"):
            tag, access = tag.removeprefix("fetch-"), "fetch"
            if r.trap:
                return
            outcome = cause_name(nxt.cause) if nxt and nxt.trap and \
                not nxt.cause & INTERRUPT_BIT else "ok"
        else:
            name = row_name(insn)
            access = ("lr" if name.startswith("lr.") else "sc" if name.startswith("sc.")
                      else "amo" if name.startswith("amo") else
                      "store" if name.removeprefix("c.").startswith("s") else "load")
        if tag in ("pte", "gpte", "fence"):
            return
        if outcome in ("LOAD_PAGE_FAULT", "STORE_PAGE_FAULT", "FETCH_PAGE_FAULT"):
            outcome = "page fault"
        self.vm[(tag, access, mode, outcome)] += 1
        if mode == "S" and access != "fetch":
            self.sumxr[(replay.fields["SUM"], replay.fields["MXR"], outcome)] += 1

    def _hyp_body(self, r, row_name) -> None:
        """HLV/HSV and HFENCE bins of one body record."""
        if r.trap and r.cause & INTERRUPT_BIT:
            return
        outcome = cause_name(r.cause) if r.trap else "ok"
        base = r.insn & 0xFE007FFF
        if base in HFENCE_MATCH:
            form = HFENCE_FORMS[(r.insn >> 15 & 31 != 0) + 2 * (r.insn >> 20 & 31 != 0)]
            self.hfence[(HFENCE_MATCH[base], form, vmode(r.priv, r.v), outcome)] += 1
        elif r.insn & 0x7F == 0x73 and r.insn >> 12 & 7 == 4:
            name = row_name(r.insn)
            if name in HLV_NAMES:
                self.hlv[(name, outcome)] += 1

    def _hyp_trap(self, r, nxt, prev, tags: dict, row_name) -> None:
        """VM-exit, guest-page-fault and trap-target bins of one trap record."""
        if nxt is None:
            return
        name = cause_name(r.cause)
        target = vmode(nxt.priv, nxt.v)
        self.targets[(name, "HS" if target == "HS" else target)] += 1
        if r.v and not nxt.v:
            self.vexits[(name, vmode(r.priv, r.v))] += 1
        if r.cause & INTERRUPT_BIT or r.cause not in GUEST_FAULT_CODES:
            return
        if r.cause == 20:
            tag, kind = (tags.get(prev.pc, "") if prev else ""), "fetch"
        else:
            tag, kind = tags.get(r.pc, ""), access_kind(row_name(r.insn))
            kind = {"lr": "load", "sc": "store"}.get(kind, kind)
        stage = "implicit" if tag.endswith("ptr") else "final"
        self.gpf[(stage, kind)] += 1

    def _trap(self, r, target, replay: StatusReplay, in_body: bool) -> None:
        interrupt = bool(r.cause & INTERRUPT_BIT)
        if in_body and not interrupt:
            self.body += 1
            self.body_traps += 1
        where = PRIV_NAMES.get(target, "?")
        self.causes[(cause_name(r.cause), where)] += 1
        if target == 3:
            replay.set("MPP", PRIV_NAMES.get(r.priv, "U"), "trap", self.status)
        elif target == 1:
            replay.set("SPP", "S" if r.priv == 1 else "U", "trap", self.status)

    def _status(self, r, next_priv, replay: StatusReplay) -> None:
        insn = r.insn
        if insn == MRET:
            replay.set("MPP", "U", "mret", self.status)
            if next_priv != 3:
                replay.set("MPRV", "0", "mret", self.status)
        elif insn == SRET:
            replay.set("SPP", "U", "sret", self.status)
            replay.set("MPRV", "0", "sret", self.status)
        elif insn & 0x7F == 0x73 and insn >> 12 & 7 not in (0, 4) and \
                insn >> 20 in (MSTATUS, SSTATUS):
            old = r.rd_wdata if r.rd else None
            replay.csr(insn, old, insn >> 20 == MSTATUS, self.status)

    # ---- combining and reporting

    def merge(self, other: Coverage) -> None:
        self.programs += other.programs
        self.records += other.records
        self.body += other.body
        self.body_traps += other.body_traps
        self.insn.update(other.insn)
        self.trapped.update(other.trapped)
        self.causes.update(other.causes)
        self.status.update(other.status)
        for name in HYP_COUNTERS:
            getattr(self, name).update(getattr(other, name))

    @property
    def retire_fraction(self) -> float:
        """Share of the executed generated instructions that retired without a trap."""
        return 1 - self.body_traps / self.body if self.body else 0.0

    def to_json(self) -> dict:
        return {"programs": self.programs, "records": self.records, "body": self.body,
                "body_traps": self.body_traps,
                "insn": [[n, m, c] for (n, m), c in sorted(self.insn.items())],
                "trapped": [[n, m, c] for (n, m), c in sorted(self.trapped.items())],
                "causes": [[n, t, c] for (n, t), c in sorted(self.causes.items())],
                "status": [[*k, c] for k, c in sorted(self.status.items())],
                **{name: [[*k, c] for k, c in sorted(getattr(self, name).items())]
                   for name in HYP_COUNTERS}}

    @classmethod
    def from_json(cls, data: dict) -> Coverage:
        cov = cls(data["programs"], data["records"], data["body"], data["body_traps"])
        cov.insn.update({(n, m): c for n, m, c in data["insn"]})
        cov.trapped.update({(n, m): c for n, m, c in data["trapped"]})
        cov.causes.update({(n, t): c for n, t, c in data["causes"]})
        cov.status.update({tuple(k): c for *k, c in data["status"]})
        for name in HYP_COUNTERS:
            getattr(cov, name).update({tuple(k): c for *k, c in data.get(name, ())})
        return cov

    def universe(self, cfg: SocConfig) -> dict[str, list]:
        """What full coverage means for ``cfg``: the generator's rows, the reachable
        causes, the status transitions."""
        from tools.fuzz.gen import RowTable, UNREACHABLE_CAUSES
        table = RowTable(cfg)
        rows = sorted({r.name for cls, rows in table.rows.items() if cls not in
                       ("illegal", "hyp") for r in rows})
        causes = [c.name for c in EXCEPTIONS if not c.h_only and c.code not in
                  UNREACHABLE_CAUSES]
        irqs = [f"irq {c.name}" for c in INTERRUPTS if not c.h_only]
        transitions = [(f, a, b) for f, vals in STATUS_VALUES.items() for a in vals
                       for b in vals if a != b]
        vm = [(t, a, m, o) for t in VM_TAGS for a in VM_ACCESSES for m in ("S", "U")
              for o in VM_OUTCOMES]
        fences = [(f, m, "ok") for f in FENCE_FORMS for m in ("M", "S")] + \
            [(f, "U", "ILLEGAL_INSTRUCTION") for f in FENCE_FORMS]
        sumxr = [(a, b, o) for a in "01" for b in "01" for o in ("ok", "page fault")]
        faults = [(cause_name(c), m, t) for c in PAGE_FAULT_CODES for m in ("S", "U")
                  for t in ("M", "S")]
        out = {"rows": rows, "causes": causes, "irqs": irqs, "transitions": transitions,
               "vm": vm, "fences": fences, "sumxr": sumxr, "faults": faults}
        if cfg.core.has_h:
            out.update(hyp_universe())
        return out

    def summary(self, cfg: SocConfig) -> str:
        """One short line for the progress display."""
        u = self.universe(cfg)
        cells = {k for k, c in (self.insn + self.trapped).items() if c}
        got_rows = sum(1 for n in u["rows"] if any((n, m) in cells for m in MODES))
        cause_names = {n for n, _ in self.causes}
        got_causes = sum(1 for n in u["causes"] + u["irqs"] if n in cause_names)
        trans = {(f, a, b) for f, a, b, _ in self.status}
        got_trans = sum(1 for t in u["transitions"] if t in trans)
        return (f"rows {got_rows}/{len(u['rows'])} "
                f"rowxmode {len(cells & {(n, m) for n in u['rows'] for m in MODES})}/"
                f"{3 * len(u['rows'])} causes {got_causes}/{len(u['causes']) + len(u['irqs'])}"
                f" status {got_trans}/{len(u['transitions'])}"
                f" paging {self._got(u, 'vm')}/{len(u['vm'])}" +
                (f" hyp {sum(self._got(u, n) for n in HYP_BINS)}/"
                 f"{sum(len(u[n]) for n in HYP_BINS)}" if "vexits" in u else ""))

    def _got(self, universe: dict, name: str) -> int:
        """Bins of ``name`` (vm, fences, sumxr, faults) in ``universe`` seen so far."""
        seen = getattr(self, name)
        return sum(1 for b in universe[name] if seen.get(b))

    def report(self, cfg: SocConfig) -> str:
        """The coverage tables (text)."""
        u = self.universe(cfg)
        out = [f"coverage of {self.programs} programs, {self.records:,} records, "
               f"{self.body:,} generated instructions executed, retire fraction "
               f"{self.retire_fraction:.2%}", "",
               "instruction rows x mode (executed: retired/trapped):"]
        out.append(f"  {'row':<14}{'M':>14}{'S':>14}{'U':>14}")
        for name in u["rows"]:
            cells = [f"{self.insn.get((name, m), 0)}/{self.trapped.get((name, m), 0)}"
                     for m in MODES]
            out.append(f"  {name:<14}" + "".join(f"{c:>14}" for c in cells))
        missing = [f"{n}/{m}" for n in u["rows"] for m in MODES
                   if not self.insn.get((n, m)) and not self.trapped.get((n, m))]
        out.append(f"  not covered ({len(missing)}): {', '.join(missing) or 'none'}")
        out += ["", "causes x handling mode (delegation target):",
                f"  {'cause':<28}{'M':>8}{'S':>8}"]
        for name in u["causes"] + u["irqs"]:
            out.append(f"  {name:<28}" + "".join(f"{self.causes.get((name, t), 0):>8}"
                                                for t in ("M", "S")))
        out += ["", "privilege-state transitions (mstatus) by event:",
                f"  {'field':<6}{'transition':<12}" + "".join(f"{e:>8}" for e in EVENTS)]
        for f, a, b in u["transitions"]:
            counts = [self.status.get((f, a, b, e), 0) for e in EVENTS]
            out.append(f"  {f:<6}{a + '->' + b:<12}" + "".join(f"{c:>8}" for c in counts))
        out += self._paging_report(u)
        if "vexits" in u:
            out += self._hyp_report(u)
        return "\n".join(out)

    def _hyp_report(self, u: dict) -> list[str]:
        out = []
        for name, title in (("vexits", "hypervisor: VM exits (traps out of V) x cause x mode"),
                            ("gpf", "guest-page faults x stage x access kind"),
                            ("hlv", "HLV/HLVX/HSV x outcome"),
                            ("hfence", "HFENCE form x mode x outcome"),
                            ("targets", "traps x cause x target (M, HS, VS)")):
            seen = getattr(self, name)
            missing = [" ".join(b) for b in u[name] if not seen.get(b)]
            out += ["", f"{title} ({self._got(u, name)}/{len(u[name])} bins):"]
            out += [f"  {' '.join(k)}: {c}" for k, c in sorted(seen.items())]
            out.append(f"  not covered ({len(missing)}): {', '.join(missing) or 'none'}")
        return out

    def _paging_report(self, u: dict) -> list[str]:
        out = ["", f"paging: accesses through the page tables ({self._got(u, 'vm')}/"
               f"{len(u['vm'])} bins; tag access mode: ok/page fault/other):"]
        keys = sorted({k[:3] for k in self.vm} | {b[:3] for b in u["vm"]})
        for t, a, m in keys:
            ok = self.vm.get((t, a, m, "ok"), 0)
            pf = self.vm.get((t, a, m, "page fault"), 0)
            other = sum(c for k, c in self.vm.items() if k[:3] == (t, a, m)) - ok - pf
            out.append(f"  {t:<9}{a:<7}{m:<3}{ok:>7}/{pf}/{other}")
        for name, title in (("fences", "SFENCE.VMA form x mode x outcome"),
                            ("sumxr", "S data accesses by SUM, MXR, outcome"),
                            ("faults", "page faults x faulting mode x handling mode"),
                            ("satp", "satp writes x MODE written x mode x outcome")):
            extra = f" ({self._got(u, name)}/{len(u[name])} bins)" if name in u else ""
            out += ["", f"{title}{extra}:"]
            out += [f"  {' '.join(k)}: {c}" for k, c in sorted(getattr(self, name).items())]
        return out


#: Counters saved, merged and loaded (the paging and hypervisor views).
HYP_COUNTERS = ("vm", "fences", "sumxr", "faults", "satp", "vexits", "gpf", "hlv", "hfence",
                "targets")
#: Hypervisor bins with a universe (``hyp_universe``).
HYP_BINS = ("vexits", "gpf", "hlv", "hfence", "targets")


def hyp_universe() -> dict[str, list]:
    """What full hypervisor coverage means (configurations with H)."""
    return {
        "vexits": [(c, m) for c in VM_EXIT_CAUSES for m in ("VS", "VU")
                   if (c, m) not in (("USER_ECALL", "VS"), ("VIRTUAL_SUPERVISOR_ECALL", "VU"))],
        "gpf": [(s, k) for s in ("implicit", "final") for k in GPF_KINDS],
        "hlv": [(n, o) for n in HLV_NAMES for o in HLV_OUTCOMES
                if not (n.startswith("hsv") and "LOAD" in o)] +
               [(n, o) for n in HLV_NAMES if n.startswith("hsv")
                for o in ("STORE_PAGE_FAULT", "STORE_GUEST_PAGE_FAULT")],
        "hfence": [(n, f, m, o) for n in HFENCE_MATCH.values() for f in HFENCE_FORMS
                   for m, o in (("M", "ok"), ("HS", "ok"), ("VS", "VIRTUAL_INSTRUCTION"),
                                ("VU", "VIRTUAL_INSTRUCTION"), ("HU", "ILLEGAL_INSTRUCTION"))],
        "targets": [(c, t) for c in ("ILLEGAL_INSTRUCTION", "LOAD_PAGE_FAULT",
                                     "STORE_PAGE_FAULT", "FETCH_PAGE_FAULT", "BREAKPOINT")
                    for t in TRAP_TARGETS] + [("USER_ECALL", "M"), ("USER_ECALL", "HS")] +
                   [(c, t) for c in ("VIRTUAL_INSTRUCTION", "LOAD_GUEST_PAGE_FAULT",
                                     "STORE_GUEST_PAGE_FAULT", "FETCH_GUEST_PAGE_FAULT",
                                     "VIRTUAL_SUPERVISOR_ECALL") for t in ("M", "HS")] +
                   [("irq SSI", "VS"), ("irq VSSI", "HS")],
    }


def dumps(cov: Coverage) -> str:
    return json.dumps(cov.to_json(), indent=1)
