"""Coverage of fuzz runs, computed from the model's retirement records (issue 3, part 4;
docs/fuzzing-cpu.md, "Coverage").

Three views (privileged spec 1.12: 3.1.6 mstatus, 3.1.8 delegation, 3.3.2 xRET, 3.1.15
causes):

- instruction classes x privilege modes: retired (non-trapping) instructions of the
  generated body, by table row (``hardware/isa/instructions.py``) and mode;
- exception and interrupt causes x the mode that handles them (M or S, the delegation
  target), from each trap record and the record after it;
- transitions of the privilege state in ``mstatus``: MPP, SPP and MPRV, old -> new, by
  the event that caused them (CSR write, trap entry, MRET, SRET).

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
MSTATUS, SSTATUS = 0x300, 0x100
MRET, SRET = 0x30200073, 0x10200073
SPP_BIT, MPRV_BIT, MPP_SHIFT = 8, 17, 11
#: Events that change the privilege state.
EVENTS = ("csr", "trap", "mret", "sret")
#: The privilege-state fields and their values.
STATUS_VALUES = {"MPP": ("U", "S", "M"), "SPP": ("U", "S"), "MPRV": ("0", "1")}


def _mpp_name(value: int) -> str:
    """MPP as a mode name (2, reserved, is legalised to U as in the model and Spike)."""
    return {0: "U", 1: "S", 3: "M"}.get(value, "U")


@dataclass
class StatusReplay:
    """MPP/SPP/MPRV as the records change them."""

    fields: dict[str, str] = field(default_factory=lambda: {"MPP": "U", "SPP": "U",
                                                            "MPRV": "0"})
    regs: list[int] = field(default_factory=lambda: [0] * 32)

    def set(self, name: str, value: str, event: str, out: Counter) -> None:
        old = self.fields[name]
        if old != value:
            out[(name, old, value, event)] += 1
            self.fields[name] = value

    def load(self, value: int, mstatus: bool) -> None:
        """Resynchronise from a read of mstatus (or sstatus: SPP only)."""
        self.fields["SPP"] = "S" if value >> SPP_BIT & 1 else "U"
        if mstatus:
            self.fields["MPP"] = _mpp_name(value >> MPP_SHIFT & 3)
            self.fields["MPRV"] = str(value >> MPRV_BIT & 1)

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
                   "MPRV": int(self.fields["MPRV"])}
        bits = {"SPP": (SPP_BIT, 1), "MPP": (MPP_SHIFT, 3), "MPRV": (MPRV_BIT, 1)}
        for name, (shift, mask) in bits.items():
            if not mstatus and name != "SPP":
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

    # ---- collecting

    def observe(self, records, body: tuple[int, int]) -> None:
        """Add one run: its records (``Retired``, oldest first) and the body's
        [first, end) addresses."""
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

        for i, r in enumerate(records):
            in_body = lo <= r.pc < hi
            mode = PRIV_NAMES.get(r.priv, str(r.priv))
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
                "status": [[*k, c] for k, c in sorted(self.status.items())]}

    @classmethod
    def from_json(cls, data: dict) -> Coverage:
        cov = cls(data["programs"], data["records"], data["body"], data["body_traps"])
        cov.insn.update({(n, m): c for n, m, c in data["insn"]})
        cov.trapped.update({(n, m): c for n, m, c in data["trapped"]})
        cov.causes.update({(n, t): c for n, t, c in data["causes"]})
        cov.status.update({tuple(k): c for *k, c in data["status"]})
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
        return {"rows": rows, "causes": causes, "irqs": irqs, "transitions": transitions}

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
                f" status {got_trans}/{len(u['transitions'])}")

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
        return "\n".join(out)


def dumps(cov: Coverage) -> str:
    return json.dumps(cov.to_json(), indent=1)
