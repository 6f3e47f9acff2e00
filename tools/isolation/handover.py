"""The scheduling property **handover** over the retirement trace (issue 7, item 1,
availability; docs/fuzzing.md, "Properties"; the policy is docs/hypervisor.md,
"Scheduling").

A VM that calls HVSIM yield (``sbi.HVSIM_YIELD``) gives up the CPU. The scheduler
then runs, among the runnable VMs with budget left, one of the highest priority, the
first in round-robin order after the yielder (the yielder itself comes last). The
trace does not show a VM's budget or state in general, so the checker judges only the
VMs whose eligibility it can prove. At the yield, VM *w* (not the yielder) is
**surely eligible** when:

- it never ran since the checker began (at reset, or at the first guest instruction
  after boot, when only the VM named ``current`` had been scheduled): a fresh VM is
  runnable with its whole budget; or its last exit to the hypervisor was an interrupt
  (a tick: it stays runnable) or an HVSIM yield, and it was not on the CPU for more
  than its period plus ``PERIOD_SLACK`` before the yield, so that its budget was
  replenished since it last ran; and
- it has no watchdog, or it used less than ``watchdog_left`` of it (its watchdog less a
  margin) since the checker began (all lives), so that no watchdog can have stopped it.

Violation: the VM the hypervisor runs next (its ``hv_running_vm`` at the first guest
record after the yield) has a lower priority than a surely eligible VM, or the same
priority and comes after it in round-robin order from the yielder. "On the CPU" means
scheduled by the hypervisor (``hv_running_vm``), which is what a budget is charged
for. Not judged with time protection, whose windows are a different policy.
"""

from __future__ import annotations

import numpy as np

#: Cycles beyond a VM's period it must have been off the CPU for its budget to be
#: surely replenished (the hypervisor charges a slice up to its own ``rdtime``, a few
#: hundred cycles after the trace's last record of it).
PERIOD_SLACK = 2_000
#: CPU a VM with a watchdog must have left of it to be surely not stopped by it: a
#: constant plus a quarter of the watchdog (the hypervisor charges each slice from its
#: ``rdtime`` before the switch, a few hundred cycles before the trace shows the VM
#: scheduled, and a watchdog VM may have a hundred slices).
WATCHDOG_MARGIN, WATCHDOG_MARGIN_FRACTION = 2_000, 0.25
#: Kinds of a VM's exit to the hypervisor that leave it runnable.
TICK, YIELD, OTHER = "tick", "yield", "other"
RUNNABLE_EXITS = (TICK, YIELD)


def watchdog_left(watchdog: int) -> int:
    """CPU cycles below which a VM with ``watchdog`` cannot have been stopped by it."""
    return watchdog - WATCHDOG_MARGIN - int(watchdog * WATCHDOG_MARGIN_FRACTION)


class HandoverChecker:
    """The handover property for VMs with ``policies`` (``containment.VmPolicy``):
    ``report(prop, cycle, pc, addr, detail)`` records a violation, ``names`` are the
    VMs' names and ``current`` the VM scheduled when the checker began (-1: none).

    Per trace chunk: ``begin`` with its cycles, scheduled VM per record and V bits,
    then ``exited`` for each VM exit to the hypervisor in order, then ``end``."""

    def __init__(self, policies, report, names: tuple[str, ...], current: int = -1):
        n = len(policies)
        self.vms, self.report, self.names = policies, report, names
        self.ran = [k == current for k in range(n)]
        self.last_exit: list[str | None] = [None] * n
        self.last_on: list[int | None] = [None] * n   # last cycle on the CPU
        self.cpu = [0] * n                              # cycles on the CPU
        self.waiting: tuple | None = None   # a yield whose successor is not seen yet
        self._tail: tuple[int, int] | None = None       # (vm, cycle) of the last record
        self._acc: tuple | None = None

    # ---- chunks

    def begin(self, cycles: np.ndarray, cur: np.ndarray, v: np.ndarray) -> None:
        """A new chunk: ``cur`` is the VM scheduled after each record (-1: none)."""
        self._cycles, self._cur, self._v = cycles.view(np.int64), cur, v
        self._vrows = None
        self._acc = None
        if self._tail is not None:
            vm, cycle = self._tail
            self.cpu[vm] += int(self._cycles[0]) - cycle
        if self.waiting is not None:
            self._resolve(0)

    def end(self) -> None:
        """Carry each VM's CPU time, last cycle on the CPU and whether it ran: one pass
        over the runs of equal ``cur`` (a chunk has few switches)."""
        cur, cycles, n = self._cur, self._cycles, len(self._cur)
        cuts = (np.flatnonzero(cur[1:] != cur[:-1]) + 1).tolist()
        for a, b in zip([0, *cuts], [*cuts, n]):
            k = int(cur[a])
            if 0 <= k < len(self.vms):
                self.cpu[k] += int(cycles[min(b, n - 1)] - cycles[a])
                self.last_on[k], self.ran[k] = int(cycles[b - 1]), True
        vm = int(cur[-1])
        self._tail = (vm, int(self._cycles[-1])) if vm >= 0 else None

    def _accounting(self):
        """Per VM: its CPU cycles before each record of the chunk (one more entry for
        the chunk's end, not counting its last record) and its last cycle on the CPU
        up to each record (-1: none in the chunk)."""
        if self._acc is None:
            dur = np.append(np.diff(self._cycles), 0)
            cum, last = [], []
            for k in range(len(self.vms)):
                mine = self._cur == k
                cum.append(np.concatenate([[0], np.cumsum(np.where(mine, dur, 0))]))
                last.append(np.maximum.accumulate(np.where(mine, self._cycles, -1)))
            self._acc = (cum, last)
        return self._acc

    # ---- exits

    def exited(self, vm: int, kind: str, row: int, cycle: int, pc: int) -> None:
        """VM ``vm`` trapped to the hypervisor (``kind``: TICK, YIELD or OTHER) at
        ``cycle``; ``row`` is the chunk's first record after the trap."""
        if not 0 <= vm < len(self.vms):
            return
        self.last_exit[vm] = kind
        if kind == YIELD:
            self.waiting = (vm, cycle, pc, self._eligible(vm, row, cycle))
            self._resolve(row)

    def _eligible(self, yielder: int, row: int, cycle: int) -> list[tuple[int, str]]:
        """(VM, why) for each VM surely eligible at a yield before record ``row``."""
        cum, last = self._accounting()
        out = []
        for k, pol in enumerate(self.vms):
            if k == yielder:
                continue
            on = int(last[k][row - 1]) if row > 0 and last[k][row - 1] >= 0 else self.last_on[k]
            ran = self.ran[k] or on is not None
            cpu = self.cpu[k] + int(cum[k][row])
            if pol.watchdog and cpu >= watchdog_left(pol.watchdog):
                continue
            if not ran:
                out.append((k, "it never ran"))
            elif self.last_exit[k] in RUNNABLE_EXITS and on is not None \
                    and cycle - on > pol.period + PERIOD_SLACK:
                out.append((k, f"it left on a {self.last_exit[k]} and was off the CPU for "
                               f"{cycle - on} cycles, more than its period {pol.period}"))
        return out

    def _resolve(self, row: int) -> None:
        """Judge the waiting yield by the VM scheduled at the first guest record from
        ``row`` on, if the chunk has one."""
        if self._vrows is None:
            self._vrows = np.flatnonzero(self._v)
        at = int(np.searchsorted(self._vrows, row))
        if at == len(self._vrows):
            return
        yielder, cycle, pc, eligible = self.waiting
        self.waiting = None
        nxt = int(self._cur[self._vrows[at]])
        if nxt < 0:
            return
        n = len(self.vms)
        order = lambda k: (-self.vms[k].priority, (k - yielder - 1) % n)  # noqa: E731
        for k, why in eligible:
            if order(k) < order(nxt):
                self.report("handover", cycle, pc, 0,
                            f"vm {self.names[yielder]} yielded and vm {self.names[nxt]} "
                            f"ran next, but vm {self.names[k]} could run with budget "
                            f"({why}) and comes first (priority, then round robin)")
                return
