"""Each isolation property (tools/isolation/oracles.py, gstage.py; docs/fuzzing.md)
fires on a planted violation and stays quiet on the legal neighbour of that record:
synthetic trace chunks over a small synthetic layout, and a synthetic G-stage table in
a fake memory."""

from __future__ import annotations

import numpy as np
import pytest

from tools.isolation import gstage
from tools.isolation.layout import (DEVICE, FREE_RAM, HV_DATA, HV_FREE, HV_STATIC, M_STAGE,
                                    UNMAPPED, Layout, Region)
from tools.isolation.oracles import FIELDS, INTERRUPT_BIT, TraceChecker

M, HV_CODE, HV_RW, VM0, VM1 = 0x8000_0000, 0x8000_1000, 0x8004_0000, 0x8020_0000, 0x8040_0000
RUNNING = HV_RW + 0x100
LAYOUT = Layout((Region(0, 0x1000_0000, UNMAPPED), Region(0x1000_0000, 0x1000_1000, DEVICE),
                 Region(0x1000_1000, M, UNMAPPED), Region(M, HV_CODE, M_STAGE),
                 Region(HV_CODE, HV_RW, HV_STATIC), Region(HV_RW, 0x8010_0000, HV_DATA),
                 Region(0x8010_0000, VM0, HV_FREE), Region(VM0, VM1, 0),
                 Region(VM1, 0x8060_0000, 1), Region(0x8060_0000, 0x8100_0000, FREE_RAM),
                 Region(0x8100_0000, 1 << 64, UNMAPPED)), ("a", "b"), 0x1000_0000)
NOP, SD, LD, ECALL = 0x13, 0x00B53023, 0x00053583, 0x73
VS, HS, MM = (1, 1), (1, 0), (3, 0)


def rec(pc_paddr, *, mode=VS, insn=NOP, trap=0, cause=0, rd=0, wdata=0, store=None, load=None,
        cycle=0):
    """One record: ``mode`` = (priv, v); ``store``/``load`` = physical address."""
    priv, v = mode
    r = dict.fromkeys(FIELDS, 0)
    r.update(pc=pc_paddr, pc_paddr=pc_paddr, insn=insn, trap=trap, cause=cause, priv=priv, v=v,
             rd=rd, rd_wdata=wdata, cycle=cycle)
    if store is not None:
        r.update(mem_paddr=store, mem_addr=store, mem_wmask=0xFF, mem_wdata=wdata)
    if load is not None:
        r.update(mem_paddr=load, mem_addr=load, mem_rmask=0xFF)
    return r


def schedule(vm: int) -> dict:
    """The hypervisor's store of ``vm`` to hv_running_vm."""
    return rec(HV_CODE, mode=HS, insn=SD, store=RUNNING, wdata=vm & 0xFFFFFFFF)


def chunk(*records) -> dict:
    return {f: np.array([r[f] for r in records], dtype=np.uint64) for f in FIELDS}


def check(*records, **kw) -> TraceChecker:
    """A checker (VM 0 scheduled, boot over) fed ``records`` in cycle order."""
    rows = [dict(r, cycle=r["cycle"] or i) for i, r in enumerate(records)]
    chk = TraceChecker(LAYOUT, RUNNING, booted=True, current=0, **kw)
    chk.feed(chunk(*rows))
    chk.finish()
    return chk


def props(chk: TraceChecker) -> set[str]:
    return set(chk.counts)


def test_a_clean_trace_is_clean():
    chk = check(rec(VM0), rec(VM0, insn=SD, store=VM0 + 8), rec(VM0, insn=LD, load=VM0 + 16),
                rec(HV_CODE, mode=HS, insn=SD, store=HV_RW + 8), schedule(1), rec(VM1))
    assert chk.ok, [v.line() for v in chk.violations]


@pytest.mark.parametrize("addr, bad", [(VM0 + 0x1000, False), (VM1, True), (HV_RW, True),
                                       (M, True), (0x8060_0000, True)])
def test_guest_stores_stay_in_their_partition(addr, bad):
    chk = check(rec(VM0, insn=SD, store=addr))
    assert props(chk) == ({"integrity"} if bad else set())


@pytest.mark.parametrize("addr, bad", [(VM0 + 8, False), (VM1 + 8, True), (HV_CODE, True)])
def test_guest_loads_stay_in_their_partition(addr, bad):
    assert props(check(rec(VM0, insn=LD, load=addr))) == ({"confidentiality"} if bad else set())


@pytest.mark.parametrize("addr, bad", [(HV_RW + 8, False), (0x1000_0000, False), (VM0, False),
                                       (VM1, True), (HV_CODE, True), (M, True),
                                       (0x8010_0000, True), (0x8060_0000, True)])
def test_hypervisor_stores_only_for_the_scheduled_vm(addr, bad):
    chk = check(rec(HV_CODE, mode=HS, insn=SD, store=addr))
    assert props(chk) == ({"integrity"} if bad else set())


def test_hypervisor_loads_of_another_vm_are_a_leak_its_code_is_not():
    assert props(check(rec(HV_CODE, mode=HS, insn=LD, load=VM1))) == {"confidentiality"}
    assert check(rec(HV_CODE, mode=HS, insn=LD, load=HV_CODE)).ok
    assert check(schedule(1), rec(HV_CODE, mode=HS, insn=LD, load=VM1)).ok


def test_console_input_is_read_only_for_vm_0():
    """The hypervisor reads the console UART's RBR for VM 0 alone; for another VM, or
    for nobody, it leaks VM 0's input. LSR reads (transmit polling) are fine."""
    rbr, lsr = LAYOUT.console_rx, LAYOUT.console_rx + 5
    assert check(rec(HV_CODE, mode=HS, insn=LD, load=rbr)).ok
    assert check(schedule(1), rec(HV_CODE, mode=HS, insn=LD, load=lsr)).ok
    assert props(check(schedule(1), rec(HV_CODE, mode=HS, insn=LD, load=rbr))) == \
        {"confidentiality"}
    assert props(check(schedule(-1), rec(HV_CODE, mode=HS, insn=LD, load=rbr))) == \
        {"confidentiality"}
    chk = check(schedule(1), rec(HV_CODE, mode=HS, insn=SD, store=rbr))     # THR
    assert chk.ok


def test_m_mode_may_store_anywhere_but_runs_only_the_m_stage():
    assert check(rec(M, mode=MM, insn=SD, store=HV_CODE)).ok
    assert props(check(rec(HV_CODE, mode=MM))) == {"no-escalation"}


def test_before_boot_the_hypervisor_writes_every_partition():
    chk = TraceChecker(LAYOUT, RUNNING)
    chk.feed(chunk(rec(HV_CODE, mode=HS, insn=SD, store=VM1), schedule(0), rec(VM0)))
    assert chk.ok
    chk.feed(chunk(rec(HV_CODE, mode=HS, insn=SD, store=VM1)))
    assert props(chk) == {"integrity"}


@pytest.mark.parametrize("record", [
    rec(HV_RW, mode=VS),                        # V=1 fetch from hypervisor memory
    rec(VM0, mode=HS),                          # HS runs guest code
    rec(VM1, mode=VS),                          # the unscheduled VM runs
    rec(VM0, insn=0x30002573),                  # csrr a0, mstatus at V=1, no trap
    rec(VM0, insn=0x60002573),                  # csrr a0, hstatus
    rec(VM0, insn=0x6000C073),                  # hlv.b zero, (ra) (funct3 4)
    rec(VM0, insn=0x30200073),                  # mret
])
def test_escalations(record):
    assert props(check(record)) == {"no-escalation"}


def test_trapped_escalation_attempts_are_fine():
    assert check(rec(VM0, insn=0x30002573, trap=1, cause=2), rec(HV_CODE, mode=HS)).ok
    assert check(rec(VM0, insn=0x14002573)).ok     # csrr a0, sscratch (VS copy)


def _irq_to_guest(code: int) -> list[dict]:
    return [rec(VM0, trap=1, cause=INTERRUPT_BIT | code), rec(VM0 + 0x100)]


def _ecall(a7: int) -> list[dict]:
    return [rec(VM0, insn=0x00100893, rd=17, wdata=a7), rec(VM0, insn=ECALL, trap=1, cause=10),
            rec(HV_CODE, mode=HS)]


def test_an_interrupt_nobody_asked_for_is_misrouted():
    assert props(check(*_irq_to_guest(5))) == {"interrupt-routing"}
    assert props(check(*_irq_to_guest(9))) == {"interrupt-routing"}


def test_interrupts_asked_for_are_fine():
    assert check(*_ecall(0x54494D45), *_irq_to_guest(5)).ok
    assert check(*_ecall(0x735049), *_irq_to_guest(1)).ok
    assert check(rec(VM0, insn=0x14D51073), *_irq_to_guest(5)).ok     # csrw stimecmp, a0
    assert props(check(*_ecall(0x735049), *_irq_to_guest(5))) == {"interrupt-routing"}


def test_an_interrupt_taken_by_the_hypervisor_is_an_exit_not_a_delivery():
    chk = check(rec(VM0, trap=1, cause=INTERRUPT_BIT | 5), rec(HV_CODE, mode=HS))
    assert chk.ok and chk.coverage["exit irq timer"] == 1


def test_availability_counts_cycles_per_two_periods():
    period, budget = 4000, 2000
    starved = [rec(VM0, cycle=0), schedule(1) | {"cycle": 10}]
    starved += [rec(VM1, cycle=c) for c in range(20, 20000, 50)]
    starved += [schedule(0) | {"cycle": 20000}, rec(VM0, cycle=20010)]
    chk = TraceChecker(LAYOUT, RUNNING, budgets={0: (budget, period)}, booted=True, current=0)
    chk.feed(chunk(*starved))
    chk.finish()
    assert props(chk) == {"availability"}
    fair = []
    for p in range(6):
        t = p * period
        fair += [schedule(0) | {"cycle": t}, rec(VM0, cycle=t + 1), rec(VM0, cycle=t + 1800),
                 schedule(1) | {"cycle": t + 2100}, rec(VM1, cycle=t + 2101)]
    chk = TraceChecker(LAYOUT, RUNNING, budgets={0: (budget, period)}, booted=True, current=0)
    chk.feed(chunk(*fair, schedule(0) | {"cycle": 6 * period}, rec(VM0, cycle=6 * period + 1)))
    chk.finish()
    assert chk.ok, [v.line() for v in chk.violations]


def test_observations_do_not_depend_on_how_the_trace_is_cut():
    rows = [rec(VM0, insn=SD, store=VM0 + 8 * i, wdata=i, cycle=i) for i in range(10)]
    whole = TraceChecker(LAYOUT, RUNNING, observe=(0,), booted=True, current=0)
    whole.feed(chunk(*rows))
    cut = TraceChecker(LAYOUT, RUNNING, observe=(0,), booted=True, current=0)
    cut.feed(chunk(*rows[:3]))
    cut.feed(chunk(*rows[3:]))
    assert whole.observation(0) == cut.observation(0)
    other = TraceChecker(LAYOUT, RUNNING, observe=(0,), booted=True, current=0)
    other.feed(chunk(*rows[:9], rec(VM0, insn=SD, store=VM0, wdata=99, cycle=9)))
    assert other.observation(0) != whole.observation(0)


# --------------------------------------------------------------------------- G stage


class FakeRam:
    """Sparse memory of 8-byte words for the G-stage walker."""

    def __init__(self):
        self.words: dict[int, int] = {}

    def put(self, addr: int, value: int) -> None:
        self.words[addr] = value

    def read(self, addr: int, n: int) -> bytes:
        return b"".join(self.words.get(addr + i, 0).to_bytes(8, "little") for i in range(0, n, 8))


LEAF = 0xDF  # V R W X U A D (G clear)
ROOT, L1 = HV_RW + 0x4000, HV_RW + 0x8000


def _table(ram: FakeRam, base: int, size: int, extra: int | None = None) -> int:
    """An Sv39x4 table mapping guest RAM 0x8000_0000.. to ``base`` with 2 MiB leaves."""
    ram.put(ROOT + 8 * 2, (L1 >> 12) << 10 | 1)
    for i in range(size >> 21):
        ram.put(L1 + 8 * i, ((base + (i << 21)) >> 12) << 10 | LEAF)
    if extra is not None:
        ram.put(L1 + 8 * (size >> 21), (extra >> 12) << 10 | LEAF)
    return 8 << 60 | 1 << 44 | ROOT >> 12


def _vms(size):
    from types import SimpleNamespace
    return [SimpleNamespace(index=0, name="a", base=VM0, size=size)]


def _debug(ram: FakeRam, hgatps: list[int]) -> int:
    rec_at, vms, nvms = HV_RW + 0x1000, HV_RW + 0x2000, HV_RW + 0x3000
    for i, v in enumerate((gstage.DEBUG_MAGIC, vms, nvms, 0x40, 0x8, 0)):
        ram.put(rec_at + 8 * i, v)
    ram.put(nvms, len(hgatps))
    for i, h in enumerate(hgatps):
        ram.put(vms + 0x40 * i + 8, h)
    return rec_at


def _gcheck(ram, hgatps, size):
    in_hv = lambda a: HV_RW <= a < 0x8010_0000  # noqa: E731
    return gstage.check_all(ram.read, _debug(ram, hgatps), _vms(size), in_hv, 14)


def test_gstage_exact_partition_is_clean():
    ram = FakeRam()
    assert _gcheck(ram, [_table(ram, VM0, 4 << 20)], 4 << 20) == []


def test_gstage_one_page_too_many_and_missing_permission():
    ram = FakeRam()
    probs = _gcheck(ram, [_table(ram, VM0, 2 << 20, extra=VM1)], 2 << 20)
    assert len(probs) == 1 and "outside its partition" in probs[0]
    ram = FakeRam()
    h = _table(ram, VM0, 2 << 20)
    ram.put(L1, (VM0 >> 12) << 10 | (LEAF & ~0x10))
    assert "lacks U" in _gcheck(ram, [h], 2 << 20)[0]


def test_gstage_shared_vmids_and_wrong_mode():
    from types import SimpleNamespace
    ram = FakeRam()
    h = _table(ram, VM0, 2 << 20)
    vms = [SimpleNamespace(index=i, name=n, base=VM0, size=2 << 20) for i, n in enumerate("ab")]
    in_hv = lambda a: HV_RW <= a < 0x8010_0000  # noqa: E731
    probs = gstage.check_all(ram.read, _debug(ram, [h, h]), vms, in_hv, 14)
    assert any("share VMID 1" in p for p in probs)
    assert "not Sv39x4" in _gcheck(FakeRam(), [0], 2 << 20)[0]


# --------------------------------------------------------------------------- lives
# (tools/isolation/containment.py). Guest pcs here are host-physical, so a VM's "entry
# point" is its partition's first byte; its guest-physical RAM is [VM0, VM1).

from tools.isolation.containment import EXIT_BOUND, WATCHDOG_SLACK, VmPolicy  # noqa: E402

UART_GPA = 0x1000_0000
CSRW_SATP, WFI_INSN = 0x18079073, 0x10500073
VU = (0, 1)


def policy(entry=VM0, restart=False, max_restarts=0, watchdog=0, ram=(VM0, VM1), priority=0,
           period=0):
    return VmPolicy(entry, ram, ((UART_GPA, UART_GPA + 0x100),), restart, max_restarts,
                    watchdog, priority, period)


def lives(*records, a=None, b=None):
    return check(*records, vms=(a or policy(), b or policy(entry=VM1, ram=(VM1, 0x8060_0000))))


def fault(pc, gpa, cause=23):
    """VM ``pc``'s store (or fetch, cause 20) refused by the G-stage at ``gpa``."""
    return rec(pc, trap=1, cause=cause, store=gpa)


def reload(vm_base):
    """The hypervisor's store to a partition's first word (scrub or image load)."""
    return rec(HV_CODE, mode=HS, insn=SD, store=vm_base)


def test_a_vm_that_faults_outside_its_ram_never_runs_again():
    chk = lives(rec(VM0), fault(VM0 + 4, 0x4000_0000), rec(HV_CODE, mode=HS), rec(VM0 + 4))
    assert props(chk) == {"containment"}
    assert lives(rec(VM0), fault(VM0 + 4, 0x4000_0000), rec(HV_CODE, mode=HS), schedule(1),
                 rec(VM1)).ok


@pytest.mark.parametrize("pc, gpa, cause, fatal", [
    (VM0, UART_GPA + 5, 23, False), (UART_GPA + 4, UART_GPA + 4, 20, True),
    (VM0, UART_GPA + 0x100, 23, True), (VM0, VM0 + 0x100, 23, False)])
def test_the_virtual_uart_and_the_vms_ram_are_not_fatal(pc, gpa, cause, fatal):
    """A fetch fault's address is its pc; the UART is emulated for loads/stores only."""
    chk = lives(fault(pc, gpa, cause), rec(HV_CODE, mode=HS), rec(VM0 + 4))
    assert props(chk) == ({"containment"} if fatal else set())


def test_with_vs_translation_on_faults_are_not_judged():
    assert lives(rec(VM0, insn=CSRW_SATP), fault(VM0 + 4, 0x4000_0000),
                 rec(HV_CODE, mode=HS), rec(VM0 + 8)).ok


CSRR_SATP, CSRW_SATP_ZERO, CSRWI_SATP_0, CSRS_SATP = 0x180022F3, 0x18001073, 0x18005073, \
    0x1807A073


@pytest.mark.parametrize("before, judged", [
    ((CSRR_SATP,), True), ((CSRW_SATP,), False), ((CSRS_SATP,), False),
    ((CSRW_SATP, CSRW_SATP_ZERO), True), ((CSRW_SATP, CSRWI_SATP_0), True),
    ((CSRW_SATP_ZERO, CSRW_SATP), False)])
def test_only_a_satp_write_of_zero_turns_judging_back_on(before, judged):
    """A read of satp (csrr) leaves translation off; a write of a register or a set
    turns judging off; a write of x0 or of the immediate 0 (Bare) turns it on."""
    rows = [rec(VM0 + 4 * i, insn=insn) for i, insn in enumerate(before)]
    chk = lives(*rows, fault(VM0 + 0x40, 0x4000_0000), rec(HV_CODE, mode=HS), rec(VM0 + 0x44))
    assert props(chk) == ({"containment"} if judged else set())


def test_restarts_start_new_lives_up_to_max_restarts():
    one_life = [fault(VM0 + 4, 0x4000_0000), rec(HV_CODE, mode=HS), reload(VM0), rec(VM0)]
    a = policy(restart=True, max_restarts=1)
    assert lives(rec(VM0), *one_life, a=a).ok
    assert "starts life 3" in lives(rec(VM0), *one_life, *one_life, a=a).violations[0].detail
    assert props(lives(rec(VM0), *one_life)) == {"containment"}  # on_fault = stop
    assert lives(rec(VM0), rec(HV_CODE, mode=HS), reload(VM0), rec(VM0 + 4), rec(VM0)).ok


def test_a_vm_resumes_in_the_mode_it_was_switched_out_in():
    out = [rec(VM0, mode=VU, trap=1, cause=INTERRUPT_BIT | 5), schedule(1), rec(VM1),
           rec(VM1, trap=1, cause=INTERRUPT_BIT | 5), schedule(0)]
    assert lives(*out, rec(VM0, mode=VU)).ok
    assert props(lives(*out, rec(VM0, mode=VS))) == {"no-escalation"}


def test_a_guest_wfi_must_trap():
    assert props(check(rec(VM0, insn=WFI_INSN))) == {"availability"}
    assert check(rec(VM0, insn=WFI_INSN, trap=1, cause=22)).ok


def test_one_hypervisor_exit_is_bounded_unless_it_idles_or_reloads():
    long = EXIT_BOUND + 10
    exit_ = [rec(VM0, insn=ECALL, trap=1, cause=10, cycle=1), rec(HV_CODE, mode=HS, cycle=2)]
    assert props(lives(*exit_, rec(VM0 + 4, cycle=long))) == {"bounded-exit"}
    assert lives(*exit_, rec(HV_CODE, mode=HS, insn=WFI_INSN, cycle=3),
                 rec(VM0 + 4, cycle=long)).ok
    assert lives(*exit_, reload(VM0), rec(VM0 + 4, cycle=long)).ok


def test_a_vm_runs_at_most_its_watchdog_per_life():
    wd = 1_000
    run = [rec(VM0, cycle=1), rec(VM0 + 4, cycle=wd + WATCHDOG_SLACK + 10),
           rec(HV_CODE, mode=HS, cycle=wd + WATCHDOG_SLACK + 20)]
    assert props(lives(*run, a=policy(watchdog=wd))) == {"containment"}
    assert lives(*run, a=policy(watchdog=wd + WATCHDOG_SLACK + 100)).ok


# --------------------------------------------------------------------------- handover
# (tools/isolation/handover.py): VM a (index 0) is scheduled when the trace begins.

from tools.isolation.handover import PERIOD_SLACK, watchdog_left  # noqa: E402
from tools.isolation.sbi import HVSIM_YIELD, SBI_EXTS  # noqa: E402

PERIOD = 10_000
LI_A7, LI_A6, WFI_TRAP = 0x00100893, 0x00100813, 22


def yield_(pc=VM0, cycle=0, a7=SBI_EXTS["HVSIM"], a6=HVSIM_YIELD):
    """VM ``pc``'s HVSIM yield (its a6/a7 set just before) and the hypervisor's entry."""
    return [rec(pc, insn=LI_A7, rd=17, wdata=a7, cycle=cycle),
            rec(pc, insn=LI_A6, rd=16, wdata=a6, cycle=cycle + 1),
            rec(pc, insn=ECALL, trap=1, cause=10, cycle=cycle + 2),
            rec(HV_CODE, mode=HS, cycle=cycle + 3)]


def b_ran(exit_cause, until=100):
    """VM b ran from cycle 10 to ``until`` and left on a trap of ``exit_cause``; a runs."""
    return [schedule(1) | {"cycle": 5}, rec(VM1, cycle=10),
            rec(VM1 + 4, trap=1, cause=exit_cause, cycle=until),
            rec(HV_CODE, mode=HS, cycle=until + 1), schedule(0) | {"cycle": until + 2},
            rec(VM0 + 8, cycle=until + 3)]


def handover(*records, split=None, a=None, b=None, time_protected=False):
    """The handover violations of ``records`` (two chunks when ``split``)."""
    vms = (a or policy(period=PERIOD), b or policy(entry=VM1, ram=(VM1, 0x8060_0000),
                                                   period=PERIOD))
    rows = [dict(r, cycle=r["cycle"] or i) for i, r in enumerate(records)]
    chk = TraceChecker(LAYOUT, RUNNING, booted=True, current=0, vms=vms,
                       time_protected=time_protected)
    for part in ((rows[:split], rows[split:]) if split else (rows,)):
        chk.feed(chunk(*part))
    return [v.detail for v in chk.violations if v.prop == "handover"]


def test_a_yield_hands_over_to_a_vm_that_never_ran():
    assert handover(*yield_(), schedule(1) | {"cycle": 8}, rec(VM1, cycle=9)) == []
    (bad,) = handover(*yield_(), rec(VM0 + 4, cycle=9))
    assert "vm a yielded and vm a ran next, but vm b could run with budget (it never " \
        "ran)" in bad
    assert handover(*yield_(), schedule(-1) | {"cycle": 7}, schedule(0) | {"cycle": 8},
                    rec(VM0 + 4, cycle=9))


def test_other_ecalls_are_no_yield():
    assert handover(*yield_(a6=1), rec(VM0 + 4, cycle=9)) == []
    assert handover(*yield_(a7=SBI_EXTS["TIME"]), rec(VM0 + 4, cycle=9)) == []


def test_a_vm_is_judged_runnable_with_budget_only_when_that_is_certain():
    """b left on a tick: runnable, and surely refilled once off the CPU for more than
    its period; after a WFI (or any other exit) it may be waiting."""
    tick, late = INTERRUPT_BIT | 5, 100 + PERIOD + PERIOD_SLACK + 10
    assert handover(*b_ran(tick), *yield_(cycle=late), rec(VM0 + 4, cycle=late + 9))
    assert handover(*b_ran(tick), *yield_(cycle=late - 20), rec(VM0 + 4, cycle=late)) == []
    assert handover(*b_ran(WFI_TRAP), *yield_(cycle=late), rec(VM0 + 4, cycle=late + 9)) == []


def test_a_watchdog_that_may_have_fired_is_not_judged():
    """b ran about 100 cycles: with less than WATCHDOG_MARGIN left of its watchdog it
    may have been stopped."""
    late = 100 + PERIOD + PERIOD_SLACK + 10
    trace = (*b_ran(INTERRUPT_BIT | 5), *yield_(cycle=late), rec(VM0 + 4, cycle=late + 9))

    def b(watchdog):
        return policy(entry=VM1, ram=(VM1, 0x8060_0000), period=PERIOD, watchdog=watchdog)

    wd = next(w for w in range(0, 10_000, 10) if watchdog_left(w) > 50)
    assert handover(*trace, b=b(wd)) == []
    wd = next(w for w in range(0, 10_000, 10) if watchdog_left(w) > 500)
    assert handover(*trace, b=b(wd))


def test_priority_comes_before_round_robin():
    a = policy(period=PERIOD, priority=1)
    assert handover(*yield_(), rec(VM0 + 4, cycle=9), a=a) == []


def test_a_yield_is_judged_across_chunks_and_not_with_time_protection():
    trace = (*yield_(), rec(HV_CODE, mode=HS, cycle=6), rec(VM0 + 4, cycle=9))
    for split in (2, 3, 4, 5):
        assert handover(*trace, split=split), split
    assert handover(*trace, time_protected=True) == []


def test_a_batching_checker_reports_what_a_chunk_by_chunk_one_does():
    """``batch`` holds chunks and checks them together at ``batch`` records or at
    ``finish``: the same violations, counts, coverage and observations."""
    trace = [*yield_(), rec(VM0 + 4, insn=SD, store=VM1, cycle=9),
             rec(VM0 + 8, insn=LD, load=HV_RW, cycle=10), schedule(1) | {"cycle": 11},
             *[rec(VM1 + 4 * i, insn=SD, store=VM1 + 8 * i, wdata=i, cycle=12 + i)
               for i in range(6)], rec(VM1 + 40, insn=SD, store=VM0, cycle=20)]
    vms = (policy(period=PERIOD), policy(entry=VM1, ram=(VM1, 0x8060_0000), period=PERIOD))

    def run(batch):
        chk = TraceChecker(LAYOUT, RUNNING, observe=(1,), booted=True, current=0, vms=vms,
                           budgets={1: (4, 8)}, batch=batch)
        for r in trace:
            chk.feed(chunk(r))
        held = list(chk.violations)
        chk.finish()
        return held, (sorted(v.line() for v in chk.violations), dict(chk.counts),
                      dict(chk.coverage), chk.observation(1), chk.rows)

    _, whole = run(0)
    assert {"integrity", "confidentiality", "handover"} <= set(whole[1])
    for batch in (3, 5, 1 << 16):
        held, got = run(batch)
        assert got == whole, batch
    assert held == []                     # 1 << 16: nothing checked before finish


# --------------------------------------------------------------------------- PMP

def test_pmp_closes_the_m_stage_only_with_the_tor_entry():
    from types import SimpleNamespace

    from tools.isolation.pmp import m_stage_problems

    lo, hi = 0x8000_0000, 0x8000_1000
    tor, napot_all = 0x08, 0x18 | 7
    regs = {"csr_pmp0cfg": 0, "csr_pmpaddr0": lo >> 2, "csr_pmp1cfg": tor,
            "csr_pmpaddr1": hi >> 2, "csr_pmp2cfg": napot_all, "csr_pmpaddr2": (1 << 54) - 1}
    sim = SimpleNamespace(get_register=lambda n: regs[n])
    assert m_stage_problems(sim, 3, lo, hi) == []
    regs["csr_pmp1cfg"] = 0
    assert m_stage_problems(sim, 3, lo, hi) == [
        "the PMP gives S/U-mode 'rwx' access to the M stage at 0x80000000"]
    assert m_stage_problems(sim, 0, lo, hi) == []
