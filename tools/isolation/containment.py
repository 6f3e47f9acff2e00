"""Per-VM life-cycle properties over the retirement trace (issue 7, item 1: "a
misbehaving guest is contained"; docs/fuzzing.md, "Properties": containment,
bounded-exit, and the resume rule of no-escalation).

``LifeChecker`` follows each VM through its lives from the records the
``TraceChecker`` hands it (the VM of a record is the partition its instruction was
fetched from, or for a trap the VM the hypervisor had scheduled):

- **containment**: a load, store or fetch that the G-stage refused (guest-page-fault,
  H spec 9.6.3) at a guest-physical address that is neither the VM's RAM nor one of
  the devices the hypervisor emulates for it (the virtual UART: loads and stores, not
  fetches) ends that life: the VM never runs again, unless its policy is ``restart``,
  in which case its next record is the first of a new life (its entry point in VS
  after the hypervisor rewrote its partition). A VM has at most ``1 + max_restarts``
  lives (SRST reboots count, docs/hypervisor.md "Fault containment"). While a VM's
  VS-stage translation may be on (it wrote ``satp`` with anything but a surely-zero
  value: a CSRRW from x0 or a CSRRWI of 0; reads do not count) its guest-physical
  addresses are not known from the trace, so its faults are not judged. With a
  watchdog, the VM's own instructions take at most ``watchdog + WATCHDOG_SLACK`` cycles
  per life.
- **no-escalation** (resume rule): a VM switched back in resumes in the mode it was
  switched out in (VS or VU); only a new life starts afresh in VS.
- **bounded-exit**: no single stretch of hypervisor work between two guest
  instructions lasts more than ``EXIT_BOUND`` cycles, except one in which the
  hypervisor idles (WFI) or (re)loads a partition (a store to its first word): the
  hypervisor is not preemptible, so an unbounded exit starves every VM.
"""

from __future__ import annotations

import heapq
import struct
from dataclasses import dataclass

import numpy as np

from tools.isolation.zicsr import csr_num, csr_writes, csr_writes_zero

#: Guest-page-fault causes (H spec table 9.x): fetch, load, store/AMO.
FETCH_GPF, LOAD_GPF, STORE_GPF = 20, 21, 23
#: satp (0x180; vsatp when V=1).
CSR_SATP = 0x180
#: Cycles of its own a VM may run past its watchdog (the timer interrupt's latency).
WATCHDOG_SLACK = 500
#: Longest hypervisor exit, in cycles (a DBCN call of DBCN_MAX = 256 bytes is the
#: longest legal one, about 8,000 cycles on the model).
EXIT_BOUND = 20_000
#: The one WFI encoding (priv spec 3.3.3).
WFI = 0x10500073


@dataclass(frozen=True)
class VmPolicy:
    """What the configuration says about one VM's lives (guest-physical addresses)."""

    entry: int
    ram: tuple[int, int]
    devices: tuple[tuple[int, int], ...]  # emulated [base, end) windows (not fetches)
    restart: bool
    max_restarts: int
    watchdog: int  # cycles of CPU per life, 0: none
    priority: int = 0
    period: int = 0  # cycles between budget replenishments (at least the budget)


def elf_entry(path) -> int:
    """e_entry of an ELF64 file (gABI 4.1: at offset 24)."""
    with open(path, "rb") as f:
        head = f.read(32)
    return struct.unpack_from("<Q", head, 24)[0]


def policies(scenario, cycles_per_us: int = 10) -> tuple[VmPolicy, ...]:
    """The ``VmPolicy`` of each VM of a loaded scenario, by VM index."""
    from hypervisor.config import GUEST_RAM_BASE, GUEST_UART_BASE, GUEST_UART_SIZE

    out = []
    for v in sorted(scenario.vms, key=lambda v: v.index):
        uart = ((GUEST_UART_BASE, GUEST_UART_BASE + GUEST_UART_SIZE),) \
            if "uart" in v.devices else ()
        out.append(VmPolicy(elf_entry(v.image), (GUEST_RAM_BASE, GUEST_RAM_BASE + v.size),
                            uart, v.on_fault == "restart", v.max_restarts,
                            v.watchdog_us * cycles_per_us, v.priority,
                            max(v.period_us, v.budget_us) * cycles_per_us))
    return tuple(out)


@dataclass
class _Life:
    """One VM's state as the checker follows it."""

    lives: int = 1
    dead: tuple[int, int] | None = None  # (cycle, gpa) of the fault that ended the life
    translated: bool = False
    reloaded: bool = False  # the hypervisor wrote its partition's first word
    priv: int = -1  # mode of its last record, -1: not seen this life
    time: int = 0  # its own cycles, all lives
    life_start: int = 0  # ``time`` when this life began
    overran: bool = False


class LifeChecker:
    """The checks of the module docstring; ``report(prop, cycle, pc, addr, detail)``
    records a violation."""

    def __init__(self, vms: tuple[VmPolicy, ...], partitions: list[tuple[int, int]], report,
                 names: tuple[str, ...]):
        self.vms, self.report, self.names = vms, report, names
        self.state = [_Life() for _ in vms]
        self.bases = np.array([b for b, _ in partitions], dtype=np.uint64)
        self.entries = np.array([p.entry for p in vms], dtype=np.uint64)
        self.last_vm, self.last_priv = -1, -1  # of the last V=1 record
        self.last_guest_cycle: int | None = None  # cycle of the last V=1 record
        self.exit_excused = False
        self.pending: tuple[int, int] | None = None  # (vm, cycle) of a chunk's last record
        self.longest_exit = 0

    def feed(self, arr, v, trap, owner, cur) -> None:
        """One chunk (see ``TraceChecker.feed``)."""
        vm = np.where(trap & (owner < 0), cur, owner)
        guest = v & (vm >= 0)
        self._cycles = arr["cycle"]
        self._account(arr["cycle"], cur >= 0, cur)
        reload = ~v & (arr["mem_wmask"] != 0) & np.isin(arr["mem_paddr"], self.bases)
        self._exits(arr, v, reload)
        self._events(arr, v, trap, vm, guest, reload)
        self._check_watchdogs(arr["cycle"])

    # ---- CPU time per VM (watchdog)

    def _account(self, cycles, mine, vm) -> None:
        """Add each record's cycles (to the next record) to the time of the VM the
        hypervisor had scheduled then (``mine``: rows with one; ``vm``: which)."""
        if self.pending is not None:
            pvm, pcycle = self.pending
            self.state[pvm].time += int(cycles[0]) - pcycle
        dur = np.diff(cycles.astype(np.int64))
        rows = mine[:-1]
        if rows.any():
            sums = np.bincount(vm[:-1][rows], weights=dur[rows], minlength=len(self.vms))
            for k in np.flatnonzero(sums):
                self.state[k].time += int(sums[k])
        self.pending = (int(vm[-1]), int(cycles[-1])) if mine[-1] else None
        self._dur, self._mine, self._vm = dur, mine, vm

    def _time_before(self, k: int, row: int) -> int:
        """VM ``k``'s time up to record ``row`` of the current chunk."""
        rows = self._mine[row:-1] & (self._vm[row:-1] == k)
        return self.state[k].time - int(self._dur[row:][rows].sum())

    def _check_watchdogs(self, cycles) -> None:
        """Each watchdog VM's time in its life up to its last instruction of the chunk
        (the hypervisor's work after it, a fault report, a stop or a restart's scrub,
        comes after the watchdog's decision)."""
        for k, pol in enumerate(self.vms):
            hit = np.flatnonzero(self._row_vm == k) if pol.watchdog else ()
            if len(hit):
                self._check_life_time(k, int(self._guest_rows[hit[-1]]), cycles)

    def _check_life_time(self, k: int, row: int, cycles) -> None:
        """VM ``k``'s time in its life up to the end of its record ``row``."""
        st, pol = self.state[k], self.vms[k]
        used = self._time_before(k, row + 1) - st.life_start
        if pol.watchdog and not st.overran and used > pol.watchdog + WATCHDOG_SLACK:
            st.overran = True
            self.report("containment", int(cycles[row]), 0, 0,
                        f"vm {self.names[k]} ran {used} cycles in life {st.lives}, more "
                        f"than its watchdog {pol.watchdog} + {WATCHDOG_SLACK}")

    # ---- hypervisor exits

    def _exits(self, arr, v, reload) -> None:
        """Length of each stretch between two V=1 records without idling or reloads
        (``reload``: the hypervisor's stores to a partition's first word)."""
        cycles = arr["cycle"].astype(np.int64)
        excuse = reload | (~v & (arr["insn"] == WFI) & (arr["trap"] == 0))
        rows = np.flatnonzero(v)
        if not len(rows):
            self.exit_excused |= bool(excuse.any())
            return
        before = np.concatenate([[0], np.cumsum(excuse)])  # excuses before each row
        starts = np.concatenate([[-1], rows[:-1]])
        gap_excused = (before[rows] - before[starts + 1]) > 0
        prev_cycle = np.concatenate([[self.last_guest_cycle if self.last_guest_cycle
                                      is not None else cycles[rows[0]]], cycles[rows[:-1]]])
        gaps = cycles[rows] - prev_cycle
        gap_excused[0] |= self.exit_excused or self.last_guest_cycle is None
        gaps = np.where(gap_excused, 0, gaps)
        worst = int(np.argmax(gaps))
        self.longest_exit = max(self.longest_exit, int(gaps[worst]))
        if gaps[worst] > EXIT_BOUND:
            i = int(rows[worst])
            self.report("bounded-exit", int(cycles[i]), int(arr["pc"][i]), 0,
                        f"the hypervisor worked {int(gaps[worst])} cycles without running a "
                        f"guest (bound {EXIT_BOUND})")
        self.last_guest_cycle = int(cycles[rows[-1]])
        self.exit_excused = bool(excuse[rows[-1] + 1:].any())

    # ---- lives

    def _events(self, arr, v, trap, vm, guest, reload) -> None:
        """The rare records that move a VM through its life, in order: guest-page
        faults, satp writes, partition reloads, switches, records at an entry point,
        and the next record of a VM that died or was reloaded."""
        insn, cause = arr["insn"], arr["cause"]
        gpf = guest & trap & np.isin(cause, (FETCH_GPF, LOAD_GPF, STORE_GPF))
        satp = guest & ~trap & csr_writes(insn) & (csr_num(insn) == CSR_SATP)
        rows = np.flatnonzero(guest)
        self._guest_rows, self._row_vm = rows, vm[rows]
        if not len(rows) and not reload.any():
            return
        prev_vm = np.full(len(vm), -1, dtype=np.int64)
        prev_priv = np.full(len(vm), -1, dtype=np.int64)
        if len(rows):
            prev_vm[rows] = np.concatenate([[self.last_vm], vm[rows[:-1]]])
            prev_priv[rows] = np.concatenate([[self.last_priv],
                                              arr["priv"][rows[:-1]].astype(np.int64)])
        switch = guest & (prev_vm != vm)
        at_entry = guest & (arr["pc"] == self.entries[np.maximum(vm, 0)])
        heap = [int(i) for i in np.flatnonzero(gpf | satp | reload | switch | at_entry)]
        heap += [j for k, st in enumerate(self.state)
                 if st.dead is not None or st.reloaded for j in self._next_row(k, -1)]
        heapq.heapify(heap)
        done = -1
        while heap:
            i = heapq.heappop(heap)
            if i <= done:
                continue
            done = i
            if reload[i]:
                k = int(np.searchsorted(self.bases, arr["mem_paddr"][i], side="right") - 1)
                self.state[k].reloaded = True
                for j in self._next_row(k, i):
                    heapq.heappush(heap, j)
                continue
            k = int(vm[i])
            if switch[i] and prev_vm[i] >= 0:
                self.state[int(prev_vm[i])].priv = int(prev_priv[i])
            if self._record(k, i, arr, bool(switch[i]), bool(gpf[i]), bool(satp[i])):
                for j in self._next_row(k, i):
                    heapq.heappush(heap, j)
        if len(rows):
            self.last_vm = int(vm[rows[-1]])
            self.last_priv = int(arr["priv"][rows[-1]])

    def _next_row(self, k: int, after: int) -> list[int]:
        """The first guest record of VM ``k`` after row ``after`` (none or one)."""
        rows, owners = self._guest_rows, self._row_vm
        later = rows > after
        hit = np.flatnonzero(later & (owners == k))
        return [int(rows[hit[0]])] if len(hit) else []

    def _record(self, k: int, i: int, arr, switched: bool, gpf: bool, satp: bool) -> bool:
        """Record ``i`` of VM ``k``; whether the VM's next record must be seen too (it
        died here)."""
        st, pol = self.state[k], self.vms[k]
        cycle, pc, priv = int(arr["cycle"][i]), int(arr["pc"][i]), int(arr["priv"][i])
        if st.reloaded and pc == pol.entry and priv == 1:
            self._new_life(k, i, cycle)
            return False
        st.reloaded = False  # it ran on: that store was not a reload
        if st.dead is not None:
            self.report("containment", cycle, pc, st.dead[1],
                        f"vm {self.names[k]} runs again after its fault at cycle "
                        f"{st.dead[0]} (guest-physical {st.dead[1]:#x}) ended its life")
            st.dead = None  # one report per fault
            return False
        if switched and st.priv >= 0 and priv != st.priv:
            self.report("no-escalation", cycle, pc, 0,
                        f"vm {self.names[k]} resumed in {_mode(priv)} after it was switched "
                        f"out in {_mode(st.priv)}")
        if satp:
            st.translated = not csr_writes_zero(arr["insn"][i])
        if gpf and not st.translated:
            self._fault(k, i, arr, cycle, pc)
        return st.dead is not None

    def _fault(self, k, i, arr, cycle, pc) -> None:
        """A guest-page fault of VM ``k`` (translation off: the address is physical)."""
        pol = self.vms[k]
        cause = int(arr["cause"][i])
        gpa = pc if cause == FETCH_GPF else int(arr["mem_addr"][i])
        if pol.ram[0] <= gpa < pol.ram[1]:
            return
        if cause != FETCH_GPF and any(lo <= gpa < hi for lo, hi in pol.devices):
            return
        self.state[k].dead = (cycle, gpa)

    def _new_life(self, k, i, cycle) -> None:
        st, pol = self.state[k], self.vms[k]
        before = np.flatnonzero((self._row_vm == k) & (self._guest_rows < i))
        if len(before):     # the old life's last record (an earlier chunk checked it)
            self._check_life_time(k, int(self._guest_rows[before[-1]]), self._cycles)
        st.lives += 1
        if st.lives > 1 + pol.max_restarts:
            self.report("containment", cycle, pol.entry, 0,
                        f"vm {self.names[k]} starts life {st.lives}, more than 1 + "
                        f"max_restarts ({pol.max_restarts})")
        elif st.dead is not None and not pol.restart:
            self.report("containment", cycle, pol.entry, 0,
                        f"vm {self.names[k]} (on_fault = stop) restarts after its fault")
        st.dead, st.translated, st.reloaded, st.priv = None, False, False, -1
        st.life_start, st.overran = self._time_before(k, i), False


def _mode(priv: int) -> str:
    return {0: "VU", 1: "VS"}.get(priv, f"priv {priv}")
