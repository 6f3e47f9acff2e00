"""The isolation properties as executable checks over one run of the model (issue 7,
item 1; docs/fuzzing.md, "Properties", states each precisely).

``TraceChecker`` consumes the retirement trace in chunks (numpy arrays of the
``rvfi_*`` fields, including the physical addresses ``pc_paddr``/``mem_paddr`` and the
``cycle`` of each record) and checks, record by record and in vectorised form:

- **integrity**: a guest (V=1) store lands in the partition its instruction was fetched
  from; after boot, a hypervisor (HS) store lands in the hypervisor's data, a device,
  or the partition of the VM it works for (the VM whose instruction retired last); no
  HS store touches the M stage, the hypervisor's code and read-only data, its unused
  reserve, or unowned RAM.
- **confidentiality**: the same rules for loads (a guest reads only its partition; HS
  reads only the partition of the VM it works for; HS never reads the M stage); and
  console input is VM 0's: after boot HS reads the console UART's receive buffer
  (RBR) only while it works for VM 0.
- **no-escalation**: V=1 instructions are fetched from a partition and run in VS or VU;
  nothing fetched from a partition retires with V=0; M-mode runs only from the M stage
  and the boot ROM; a V=1 access to an HS-, VS- or M-level CSR (address bits 9:8 of 2
  or 3), a hypervisor load/store or fence, or MRET never retires without trapping.
- **interrupt-routing**: an interrupt delivered to a VM (the record after the trap has
  V=1) is one that VM asked for: a timer after it called SBI set_timer (TIME or legacy)
  or wrote ``stimecmp``; a software interrupt after it sent an IPI or wrote ``sip``;
  never an external interrupt (the hypervisor gives guests no interrupt controller).
- **availability** (for the VMs named in ``budgets``): in every window of two periods
  from the end of boot (the first guest instruction of any VM) to the VM's last
  instruction, the cycles spent running it or working for it are at least its budget
  minus the slack (``availability_slack``).
- **handover** (``handover.py``, with ``vms`` and not ``time_protected``): a VM's
  HVSIM yield hands the CPU on in priority, then round-robin, order among the VMs
  surely able to run with budget.

End-of-run checks (``check_memory``/``check_gstage``) compare hashes of the regions
nobody may change after boot, and walk each VM's G-stage table (``gstage.py``).
``observation`` hashes a VM's architectural trace for the noninterference property;
with ``timed`` each record's ``cycle`` stamp is hashed too (the timing property).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from tools.isolation.containment import WFI, LifeChecker, VmPolicy
from tools.isolation.handover import OTHER, TICK, YIELD, HandoverChecker
from tools.isolation.layout import (DEVICE, FREE_RAM, HV_DATA, HV_FREE, HV_STATIC, M_STAGE,
                                    UNMAPPED, Layout)
from tools.isolation.sbi import HVSIM_YIELD, LEGACY_SEND_IPI, LEGACY_SET_TIMER, SBI_EXTS
from tools.isolation.zicsr import csr_access, csr_num, csr_writes, is_system

#: The VM whose console input is (hypervisor/src/core/vuart.c, sbi.c).
CONSOLE_VM = 0
#: The properties, with a one-line statement each (docs/fuzzing.md has the details).
PROPERTIES: dict[str, str] = {
    "integrity": "nothing outside the running VM's partition changes, except the "
                 "hypervisor's own data and devices",
    "confidentiality": "no VM and no hypervisor work for a VM reads another VM's memory "
                       "or VM 0's console input; a victim's observations do not depend "
                       "on its neighbour",
    "no-escalation": "guest instructions run with V=1 from their partition; HS/M-level "
                     "CSRs and instructions trap",
    "interrupt-routing": "every interrupt delivered to a VM is one it asked for",
    "availability": "every VM gets its budget in every two periods; a guest WFI never "
                    "holds the hart",
    "handover": "a VM's HVSIM yield hands the CPU on in priority, then round-robin, "
                "order to the VMs that can run with budget",
    "containment": "a VM that faults outside its partition never runs again in that "
                   "life; at most 1 + max_restarts lives; at most its watchdog of CPU per "
                   "life",
    "bounded-exit": "no single hypervisor exit (other than idling or reloading a VM) "
                    "lasts more than a bound",
    "gstage": "each VM's G-stage table maps exactly its partition; VMIDs are distinct; "
              "the PMP closes the M stage to HS",
    "timing": "with time protection on, a victim's cycle-stamped observations do not "
              "depend on its neighbour",
}
#: Fields of a trace chunk (``hardware.soc.soc.RVFI_FIELDS`` without ``valid``).
FIELDS = ("pc", "insn", "trap", "cause", "priv", "v", "rd", "rd_wdata", "mem_addr",
          "mem_rmask", "mem_wmask", "mem_wdata", "pc_paddr", "mem_paddr", "cycle")
#: Violations kept per property (the rest are counted).
MAX_KEPT = 20
#: Records a batching checker gathers before it checks them (``TraceChecker(batch=)``):
#: the machine hands over a chunk at every console byte, and each check pass has a
#: fixed cost of a few hundred microseconds whatever the chunk's length.
FEED_BATCH = 1 << 16
INTERRUPT_BIT = 1 << 63
#: Interrupt codes by class (priv spec table 3.6; VS codes are the S code + 1).
IRQ_CLASS = {1: "soft", 2: "soft", 5: "timer", 6: "timer", 9: "external", 10: "external"}
#: SBI extension ids that arm the timer or send IPIs (SBI spec v2.0 ch. 5-7).
TIMER_EXTS = (LEGACY_SET_TIMER, SBI_EXTS["TIME"])
IPI_EXTS = (LEGACY_SEND_IPI, SBI_EXTS["IPI"])
CSR_STIMECMP, CSR_SIP = 0x14D, 0x144
ECALL_FROM_VS = 10
A0, A6, A7 = 10, 16, 17
#: What a VM may lose of its budget per two-period window to hypervisor work it is not
#: charged for (switches, the scheduler's timer): a tenth of the budget plus a constant.
AVAILABILITY_SLACK_FRACTION, AVAILABILITY_SLACK_CYCLES = 0.1, 500
#: Fields hashed for a VM's observations (noninterference).
OBSERVED = ("pc", "insn", "trap", "cause", "priv", "rd", "rd_wdata", "mem_addr",
            "mem_rmask", "mem_wmask", "mem_wdata")
#: CSRs whose value depends on time (a VM reading them observes the schedule).
TIME_CSRS = (0xC00, 0xC01, 0xC02, 0x14D)


@dataclass(frozen=True)
class Violation:
    """One broken property at one record."""

    prop: str
    cycle: int
    pc: int
    addr: int
    detail: str

    def line(self) -> str:
        """One line: property, cycle, pc, address and what happened."""
        return (f"{self.prop}: cycle {self.cycle} pc {self.pc:#x} addr {self.addr:#x}: "
                f"{self.detail}")


@dataclass
class _VmState:
    a7: int = 0
    a6: int = 0
    asked: set = field(default_factory=set)


def availability_slack(budget: int) -> int:
    """Cycles of its budget a VM may lose per two-period window."""
    return int(budget * AVAILABILITY_SLACK_FRACTION) + AVAILABILITY_SLACK_CYCLES


def _privileged_insn(insn: np.ndarray) -> np.ndarray:
    """HLV/HSV (funct3 4), HFENCE.VVMA/GVMA (funct7 0x11/0x31) and MRET."""
    f3 = (insn >> 12) & 7
    f7 = insn >> 25
    sys = is_system(insn)
    return sys & ((f3 == 4) | ((f3 == 0) & ((f7 == 0x11) | (f7 == 0x31)))
                  | (insn == 0x30200073))


class TraceChecker:
    """Streaming checks of one run (see the module docstring). ``budgets`` maps VM
    index -> (budget, period) in cycles for the availability property. With ``batch``
    the chunks are gathered until they hold that many records (or ``finish``) and
    checked together: the results are the same as chunk by chunk (the checks do not
    depend on how the trace is cut), only reported later."""

    def __init__(self, layout: Layout, running_addr: int,
                 budgets: dict[int, tuple[int, int]] | None = None,
                 observe: tuple[int, ...] = (), booted: bool = False, current: int = -1,
                 vms: tuple[VmPolicy, ...] | None = None, timed: bool = False,
                 time_protected: bool = False, batch: int = 0):
        self.layout = layout
        self.batch = batch
        self._held: list[dict] = []
        self._held_rows = 0
        self.running_addr = running_addr
        self.budgets = dict(budgets or {})
        self.violations: list[Violation] = []
        self.counts: Counter = Counter()
        self.coverage: Counter = Counter()
        self.rows = 0
        self._current = current
        self._booted = booted
        self._boot_cycle: int | None = None
        self._vms = [_VmState() for _ in layout.vm_names]
        self._pending: dict | None = None
        self._time: dict[int, list[np.ndarray]] = {vm: [] for vm in self.budgets}
        self._observe = {vm: hashlib.sha256() for vm in observe}
        self._observed = Counter()
        self._observe_timed = {vm: hashlib.sha256() for vm in observe} if timed else {}
        self.lives = None if vms is None else LifeChecker(
            vms, [(r.base, r.end) for r in map(layout.partition, range(len(vms)))],
            self._report_one, layout.vm_names)
        self.handover = None if vms is None or time_protected else HandoverChecker(
            vms, self._report_one, layout.vm_names, current)

    # ---- reporting

    def _report(self, prop: str, rows: np.ndarray, arr: dict, detail) -> None:
        """Record a violation of ``prop`` at each of ``rows`` (indices into ``arr``);
        ``detail(i)`` describes row i."""
        if not len(rows):
            return
        self.counts[prop] += len(rows)
        kept = sum(v.prop == prop for v in self.violations)
        for i in rows[:max(0, MAX_KEPT - kept)]:
            i = int(i)
            addr = int(arr["mem_paddr"][i]) if arr["mem_rmask"][i] or arr["mem_wmask"][i] \
                else int(arr["pc_paddr"][i])
            self.violations.append(Violation(prop, int(arr["cycle"][i]), int(arr["pc"][i]),
                                             addr, detail(i)))

    def _report_one(self, prop: str, cycle: int, pc: int, addr: int, detail: str) -> None:
        """Record one violation of ``prop``."""
        self.counts[prop] += 1
        if sum(v.prop == prop for v in self.violations) < MAX_KEPT:
            self.violations.append(Violation(prop, cycle, pc, addr, detail))

    @property
    def ok(self) -> bool:
        """No property broken so far."""
        return not self.counts

    # ---- the trace

    def feed(self, arr: dict[str, np.ndarray]) -> None:
        """Check one chunk of records (``FIELDS`` -> equal-length uint64 arrays), or
        with ``batch`` hold it until enough records have come."""
        n = len(arr["pc"])
        if not n:
            return
        if not self.batch:
            self._check({k: np.asarray(arr[k], dtype=np.uint64) for k in FIELDS})
            return
        self._held.append({k: arr[k] for k in FIELDS})
        self._held_rows += n
        if self._held_rows >= self.batch:
            self._check_held()

    def _check_held(self) -> None:
        """Check the chunks ``feed`` has held, as one."""
        if not self._held:
            return
        held, self._held, self._held_rows = self._held, [], 0
        self._check({k: np.concatenate([np.asarray(c[k], dtype=np.uint64) for c in held])
                     for k in FIELDS})

    def _check(self, arr: dict[str, np.ndarray]) -> None:
        """Every per-record check over one chunk of uint64 arrays."""
        n = len(arr["pc"])
        trap = arr["trap"] != 0
        v = arr["v"] != 0
        done = ~trap
        guest = v & done
        owner = self.layout.classify(arr["pc_paddr"])
        self._cycles = arr["cycle"]
        if self._boot_cycle is None and self._booted:
            self._boot_cycle = int(self._cycles[0])
        cur = self._current_vm(arr)
        self._cur_row = cur
        if self.handover is not None:
            self.handover.begin(arr["cycle"], cur, v)
        booted = self._boot_mask(guest)
        self._check_fetch(arr, v, done, guest, owner)
        self._check_scheduled(arr, guest, owner, cur, booted)
        self._check_memory_access(arr, v, done, owner, cur, booted)
        self._check_csrs(arr, guest)
        self._check_interrupts(arr, trap, v, owner)
        if self.handover is not None:
            self.handover.end()
        self._account_time(arr, cur)
        self._observe_rows(arr, trap, v, owner)
        if self.lives is not None and booted.any():
            sl = slice(int(np.argmax(booted)), None)
            self.lives.feed({f: arr[f][sl] for f in FIELDS}, v[sl], trap[sl], owner[sl],
                            cur[sl])
        self.rows += n

    def _current_vm(self, arr) -> np.ndarray:
        """Per record, the VM the hypervisor has scheduled (the last value it stored to
        its ``hv_running_vm``, -1 for none), after the record."""
        n = len(arr["pc"])
        hit = (arr["mem_wmask"] != 0) & (arr["trap"] == 0) & \
            (arr["mem_paddr"] == np.uint64(self.running_addr))
        shift = (arr["mem_paddr"] & np.uint64(7)) * np.uint64(8)
        value = ((arr["mem_wdata"] >> shift) & np.uint64(0xFFFFFFFF)).astype(np.int64)
        value = np.where(value >= 1 << 31, value - (1 << 32), value)
        idx = np.where(hit, np.arange(n), -1)
        last = np.maximum.accumulate(idx)
        cur = np.where(last >= 0, value[np.maximum(last, 0)], self._current)
        self._current = int(cur[-1])
        return cur

    def _check_scheduled(self, arr, guest, owner, cur, booted) -> None:
        """Guest code runs only for the VM the hypervisor has scheduled."""
        bad = np.flatnonzero(guest & booted & (owner >= 0) & (owner != cur))
        name = self.layout.name
        self._report("no-escalation", bad, arr, lambda i: (
            f"{name(owner[i])} runs while the hypervisor has scheduled "
            f"{name(cur[i]) if cur[i] >= 0 else 'no vm'}"))

    def _boot_mask(self, guest: np.ndarray) -> np.ndarray:
        """Per record, whether some guest instruction retired before it (boot is over)."""
        if self._booted:
            return np.ones(len(guest), dtype=bool)
        first = np.flatnonzero(guest)
        if not len(first):
            return np.zeros(len(guest), dtype=bool)
        self._booted = True
        self._boot_cycle = int(self._cycles[first[0]])
        mask = np.zeros(len(guest), dtype=bool)
        mask[first[0]:] = True
        return mask

    def _check_fetch(self, arr, v, done, guest, owner) -> None:
        name = self.layout.name
        bad = np.flatnonzero(guest & (owner < 0))
        self._report("no-escalation", bad, arr,
                     lambda i: f"V=1 instruction fetched from {name(owner[i])}")
        bad = np.flatnonzero(v & done & (arr["priv"] > 1))
        self._report("no-escalation", bad, arr, lambda i: f"V=1 with privilege {arr['priv'][i]}")
        bad = np.flatnonzero(~v & done & (owner >= 0))
        self._report("no-escalation", bad, arr,
                     lambda i: f"V=0 (priv {arr['priv'][i]}) runs code of {name(owner[i])}")
        bad = np.flatnonzero(guest & (arr["insn"] == WFI))
        self._report("availability", bad, arr,
                     lambda i: f"{name(owner[i])} ran WFI at V=1 without a trap "
                               "(hstatus.VTW): it held the hart")
        m_mode = ~v & done & (arr["priv"] == 3)
        bad = np.flatnonzero(m_mode & (owner != M_STAGE) & (owner != DEVICE))
        self._report("no-escalation", bad, arr,
                     lambda i: f"M-mode runs code in {name(owner[i])}")

    def _check_memory_access(self, arr, v, done, owner, cur, booted) -> None:
        name = self.layout.name
        kind = self.layout.classify(arr["mem_paddr"])
        host = ~v & booted & (arr["priv"] != 3)
        protected = np.isin(kind, (M_STAGE, HV_STATIC, HV_FREE, FREE_RAM, UNMAPPED))
        for prop, mask in (("integrity", arr["mem_wmask"] != 0),
                           ("confidentiality", arr["mem_rmask"] != 0)):
            acc = done & mask
            verb = "stores to" if prop == "integrity" else "loads from"
            bad = np.flatnonzero(acc & v & (kind != owner))
            self._report(prop, bad, arr, lambda i, verb=verb: (
                f"vm {name(owner[i])[3:]} {verb} {name(kind[i])}"))
            other = (kind >= 0) & (kind != cur)
            deny = protected & (kind != HV_STATIC) if prop == "confidentiality" else protected
            bad = np.flatnonzero(acc & host & (other | deny))
            self._report(prop, bad, arr, lambda i, verb=verb: (
                f"HS working for {name(cur[i]) if cur[i] >= 0 else 'no vm'} {verb} "
                f"{name(kind[i])}"))
        self._check_console_input(arr, done, host, cur)

    def _check_console_input(self, arr, done, host, cur) -> None:
        """Console input belongs to VM 0 (docs/hypervisor.md, "SBI": DBCN read, legacy
        getchar and the virtual UART's RBR give it to VM 0 only): after boot, an HS read
        of the console UART's RBR is for VM 0 or a leak."""
        if self.layout.console_rx < 0:
            return
        name = self.layout.name
        bad = np.flatnonzero(done & host & (arr["mem_rmask"] != 0) & (cur != CONSOLE_VM)
                             & (arr["mem_paddr"] == np.uint64(self.layout.console_rx)))
        self._report("confidentiality", bad, arr, lambda i: (
            f"HS working for {name(cur[i]) if cur[i] >= 0 else 'no vm'} reads the console "
            f"input (UART RBR), which is {name(CONSOLE_VM)}'s alone"))

    def _check_csrs(self, arr, guest) -> None:
        insn = arr["insn"]
        csr = csr_num(insn)
        high = ((csr >> 8) & 3) >= 2
        bad = np.flatnonzero(guest & csr_access(insn) & high)
        self._report("no-escalation", bad, arr,
                     lambda i: f"V=1 access to CSR {int(csr[i]):#x} retired without a trap")
        bad = np.flatnonzero(guest & _privileged_insn(insn))
        self._report("no-escalation", bad, arr,
                     lambda i: f"V=1 hypervisor/M instruction {int(insn[i]):#010x} retired")
        for i in np.flatnonzero(guest & csr_access(insn)):
            self.coverage[f"csr {int(csr[i]):#05x} ok"] += 1

    def _check_interrupts(self, arr, trap, v, owner) -> None:
        """Sparse events in order: register writes of a6/a7, ecalls, CSR writes of
        stimecmp/sip, and interrupt traps with the mode of the record after them."""
        insn, rd, cause = arr["insn"], arr["rd"], arr["cause"]
        guest = v & ~trap
        regs = guest & ((rd == A7) | (rd == A6)) & (owner >= 0)
        writes = guest & csr_writes(insn) & np.isin(csr_num(insn), (CSR_STIMECMP, CSR_SIP))
        ecall = trap & v & (cause == ECALL_FROM_VS)
        irq = trap & ((cause & np.uint64(INTERRUPT_BIT)) != 0)
        exits = trap & v
        events = np.flatnonzero(regs | writes | ecall | irq | exits)
        if self._pending is not None:
            self._deliver(self._pending, arr, 0)
            self._pending = None
        n = len(insn)
        for i in events:
            i = int(i)
            if regs[i] and not trap[i]:
                st = self._vms[owner[i]]
                setattr(st, "a7" if rd[i] == A7 else "a6", int(arr["rd_wdata"][i]))
            elif writes[i]:
                self._vms[owner[i]].asked.add("timer" if csr_num(insn[i]) == CSR_STIMECMP
                                              else "soft")
            if trap[i]:
                info = {"cause": int(cause[i]), "v": bool(v[i]), "cycle": int(arr["cycle"][i]),
                        "pc": int(arr["pc"][i]), "vm": int(self._cur_row[i])}
                if i + 1 < n:
                    self._deliver(info, arr, i + 1)
                else:
                    self._pending = info

    def _deliver(self, info: dict, arr, j: int) -> None:
        """The trap ``info`` was followed by record ``j`` of ``arr``."""
        to_guest = bool(arr["v"][j])
        code = info["cause"] & ~INTERRUPT_BIT
        vm = int(self.layout.classify(arr["pc_paddr"][j:j + 1])[0]) if to_guest else -1
        if info["cause"] & INTERRUPT_BIT:
            cls = IRQ_CLASS.get(code, f"local {code}")
            if to_guest and vm >= 0:
                self.coverage[f"irq {cls} to guest"] += 1
                if cls not in self._vms[vm].asked:
                    self.counts["interrupt-routing"] += 1
                    if sum(x.prop == "interrupt-routing" for x in self.violations) < MAX_KEPT:
                        self.violations.append(Violation(
                            "interrupt-routing", info["cycle"], info["pc"], 0,
                            f"vm {self.layout.vm_names[vm]} got a {cls} interrupt "
                            f"(cause {code}) it never asked for"))
            elif info["v"]:
                self.coverage[f"exit irq {cls}"] += 1
                self._exited(info, TICK, j)
            return
        if info["v"] and not to_guest:
            self.coverage[f"exit cause {code}"] += 1
            kind = OTHER
            if code == ECALL_FROM_VS and info["vm"] >= 0:
                st = self._vms[info["vm"]]
                self.coverage[f"sbi {st.a7:#x}.{st.a6}"] += 1
                if st.a7 in TIMER_EXTS:
                    st.asked.add("timer")
                elif st.a7 in IPI_EXTS:
                    st.asked.add("soft")
                elif st.a7 == SBI_EXTS["HVSIM"] and st.a6 == HVSIM_YIELD:
                    kind = YIELD
            self._exited(info, kind, j)

    def _exited(self, info: dict, kind: str, j: int) -> None:
        """Tell the handover checker of a VM's exit (``j``: the record after it)."""
        if self.handover is not None:
            self.handover.exited(info["vm"], kind, j, info["cycle"], info["pc"])

    def _account_time(self, arr, cur) -> None:
        """Per budgeted VM, the cycle of each record and whether it counts for the VM."""
        for vm in self.budgets:
            self._time[vm].append(np.stack([arr["cycle"], (cur == vm).astype(np.uint64)]))

    def _observe_rows(self, arr, trap, v, owner) -> None:
        """Hash the observed fields of the observed VMs' records (HS-level interrupt
        traps, whose instruction runs again later, are not observations)."""
        if not self._observe:
            return
        irq = trap & ((arr["cause"] & np.uint64(INTERRUPT_BIT)) != 0)
        nxt_v = np.append(arr["v"][1:], arr["v"][-1:])
        keep_all = v & ~(irq & (nxt_v == 0))
        for vm, h in self._observe.items():
            keep = keep_all & (owner == vm)
            if keep.any():
                rows = np.stack([arr[f][keep] for f in OBSERVED], axis=1)
                h.update(np.ascontiguousarray(rows).tobytes())
                if self._observe_timed:     # one row per record: chunking does not matter
                    timed = np.column_stack([rows, arr["cycle"][keep]])
                    self._observe_timed[vm].update(np.ascontiguousarray(timed).tobytes())
                self._observed[vm] += int(keep.sum())

    # ---- after the run

    def finish(self) -> None:
        """Check what ``feed`` still holds, then what needs the whole run
        (availability)."""
        self._check_held()
        for vm, (budget, period) in self.budgets.items():
            self._check_availability(vm, budget, period)

    def _check_availability(self, vm: int, budget: int, period: int) -> None:
        """The first two-period window (one every quarter period) in which ``vm`` got
        less than its budget less the slack; all windows in one vectorised pass (a
        20 M-cycle run has thousands)."""
        if not self._time[vm]:
            return
        data = np.concatenate(self._time[vm], axis=1)
        cycles, mine = data[0].astype(np.int64), data[1].astype(np.int64)
        if len(cycles) < 2:
            return
        spent = np.concatenate([[0], np.cumsum(np.diff(cycles) * mine[:-1])])
        own = np.flatnonzero(mine)
        if not len(own):
            return
        start = self._boot_cycle if self._boot_cycle is not None else cycles[own[0]]
        end = cycles[own[-1]]
        need = budget - availability_slack(budget)
        at = cycles.astype(np.float64)
        starts = np.arange(int(start), int(end) - 2 * period, max(1, period // 4))
        got = np.interp(starts + 2 * period, at, spent) - np.interp(starts, at, spent)
        short = np.flatnonzero(got < need)
        if len(short):
            t, ran = int(starts[short[0]]), int(got[short[0]])
            self.counts["availability"] += 1
            self.violations.append(Violation(
                "availability", t, 0, 0,
                f"vm {self.layout.vm_names[vm]} ran {ran} cycles in "
                f"[{t}, {t + 2 * period}), less than its budget {budget} - "
                f"{availability_slack(budget)}"))

    def observation(self, vm: int) -> tuple[int, str]:
        """(records, sha256) of VM ``vm``'s observations so far (``observe`` at init)."""
        return self._observed[vm], self._observe[vm].hexdigest()

    def timed_observation(self, vm: int) -> tuple[int, str]:
        """(records, sha256) of VM ``vm``'s observations with their cycle stamps (the
        checker made with ``timed``)."""
        return self._observed[vm], self._observe_timed[vm].hexdigest()


# --------------------------------------------------------------------------- memory


def region_hashes(read, layout: Layout, kinds=(M_STAGE, HV_STATIC, HV_FREE, FREE_RAM),
                  chunk: int = 1 << 20) -> dict[tuple[int, int], str]:
    """sha256 of each region of ``kinds`` in RAM, keyed by (base, end)."""
    out = {}
    for r in layout.regions:
        if r.kind not in kinds or r.end - r.base > 1 << 32:
            continue
        h = hashlib.sha256()
        for a in range(r.base, r.end, chunk):
            h.update(read(a, min(chunk, r.end - a)))
        out[(r.base, r.end)] = h.hexdigest()
    return out


def check_memory(before: dict, after: dict, layout: Layout) -> list[Violation]:
    """Regions whose hash changed between ``before`` (after boot) and ``after``."""
    return [Violation("integrity", -1, 0, base,
                      f"{layout.name(layout.kind_of(base))} [{base:#x}, {end:#x}) changed "
                      "after boot")
            for (base, end), h in before.items() if after.get((base, end)) != h]


def partition_hash(read, layout: Layout, vm: int) -> str:
    """sha256 of VM ``vm``'s whole partition."""
    r = layout.partition(vm)
    return hashlib.sha256(read(r.base, r.end - r.base)).hexdigest()


__all__ = ["PROPERTIES", "FIELDS", "TraceChecker", "Violation", "region_hashes",
           "check_memory", "partition_hash", "HV_DATA"]
