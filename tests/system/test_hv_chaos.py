"""Chaos guests against the hypervisor on the model (issue 5, "Bad input": "A guest can
do anything and the hypervisor survives it"; item 9: "A misbehaving guest is contained
and reported; it never crashes the simulator or the hypervisor").

Each example runs a random guest from ``tools/isolation/gen.py`` through
``tests/system/chaos.py`` (SBI calls with any arguments, wild loads/stores/AMOs/fetches,
CSRs it may not touch, wfi, VS/VU switches, random VS page tables over the other
partitions, stimecmp, jumps, raw words, infinite loops) as VM ``chaos`` next to the
well-behaved ``counter`` guest as VM ``ref``, on one compiled ``Machine`` for the
module. Properties
(docs/hypervisor.md, "Fault containment", "Console protocol"):

- the run ends within ``MAX_CYCLES``, with no ``hv: panic`` or M-mode fatal line, no
  line outside the protocol, and an ``@end`` record whose code is 0 exactly when both
  VMs shut down cleanly (the platform exit code agrees);
- ``ref`` shuts down with reason 0 and prints exactly what it prints alone;
- ``chaos`` ends in a documented state for its ``on_fault`` policy, restarts at most
  ``max_restarts`` times (one ``restarting`` line per restart), and every time it
  (re)starts its vCPU is in the reset state (chaos_rt.S checks and would shut down
  with ``DIRTY_REASON``);
- every fault line names the chaos VM and a cause, pc and address (the watchdog's line
  has its own form); an access outside the partition names an address outside it;
- the schedule's intervals do not overlap.

A failing example's guest source and scenario are printed (``note``) and written to
``build/chaos-failures/<hash>/``; ``hvsim run build/chaos-failures/<hash>/chaos.toml``
replays it, and ``python -m tests.system.chaos DIR`` rebuilds an edited ``chaos.S``.

Examples scale with the Hypothesis profile (``CHAOS_SHARE`` of its ``max_examples``):
about 25 under ``ci`` and ``dev`` (about 1 s each), thousands under ``campaign``.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from hypothesis import event, given, note, settings

from hardware.config import variant
from hypervisor.build import build_firmware
from hypervisor.config import GUEST_RAM_BASE, load_scenario
from tests.system import chaos
from tests.system import hvharness as hv
from tools.hvrun import HvOutputError, ScenarioResult, parse_output, read_running_vm
from tools.isolation import gen
from tools.toolchain import BUILD_DIR

CFG = variant("default")
#: Cycle budget of one run: ``ref`` alone needs about 1.2 M; a chaos VM adds at most
#: three lives spinning into a 15 ms watchdog, three restarts (70 k each) and a wait
#: for a timer up to gen.TIMER_HORIZON: about 2.5 M in all.
MAX_CYCLES = 6_000_000
#: Share of the profile's max_examples this test runs (ci/dev: 100 -> 25).
CHAOS_SHARE = 0.25
EXAMPLES = max(1, int(settings.default.max_examples * CHAOS_SHARE))
#: Where failing cases are kept for replay.
FAILURES_DIR = BUILD_DIR / "chaos-failures"
#: End states by on_fault policy ("stopped" also ends a VM that waits for nothing;
#: "reset-limit" also follows SRST reboots, which count as restarts under either).
END_STATES = {"stop": {"shutdown", "stopped", "hart_stop", "watchdog", "reset-limit"},
              "restart": {"shutdown", "stopped", "hart_stop", "reset-limit"}}
#: The hypervisor's report of VMs that all wait for nothing (then stopped).
DEADLOCK_LINE = "every VM waits with no interrupt enabled that could wake it"
#: What the hypervisor prints when it dies (panic in HS, trap into M after boot).
FATAL_TEXTS = ("hv: panic", "hv: fatal")
#: The reason of a watchdog fault report.
WATCHDOG_REASON = "watchdog: used up its CPU time"


@pytest.fixture(scope="module")
def machine():
    from hardware.sim.machine import Machine

    m = Machine(CFG, "compiled")
    yield m
    m.close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("chaos")


@pytest.fixture(scope="module")
def reference(machine, workdir) -> list[str]:
    """The console of ``ref`` running alone."""
    toml = workdir / "reference.toml"
    toml.write_text("\n".join(chaos.reference_vm()) + "\n")
    result = hv.run_model(machine, toml, CFG, MAX_CYCLES)
    assert result.status == "pass" and result.stats["ref"].clean, result.raw[-2000:]
    assert result.console["ref"][-1] == "counter: done"
    return result.console["ref"]


def run_case(machine, workdir: Path, case: chaos.ChaosCase) -> ScenarioResult:
    """Build and run one case (the folder is reused by every example); the UART text
    is parsed after the run (HvOutputError: the firmware broke the protocol)."""
    from hardware.sim.elf import load_elf

    toml = chaos.write_case(case, workdir / "case")
    loaded = load_scenario(toml, CFG)
    elf = build_firmware(loaded, CFG).elf
    machine.load(load_elf(elf, CFG))
    outcome = machine.run(MAX_CYCLES)
    text = outcome.uart_bytes.decode(errors="replace")
    result = parse_output(text, [vm.name for vm in sorted(loaded.vms, key=lambda v: v.index)])
    result.status, result.exit_code = outcome.status, outcome.exit_code
    result.cycles, result.instret = outcome.cycles, outcome.instret
    if outcome.status == "timeout":
        running = read_running_vm(machine, elf, CFG)
        result.report = (f"{outcome.summary()}; hv_running_vm {running}, pc "
                         f"{outcome.last_pc:#x}, privilege {outcome.priv}")
    return result


def problems(case: chaos.ChaosCase, result: ScenarioResult, reference: list[str]) -> list[str]:
    """Every property the run breaks, one phrase each (empty: all hold)."""
    out = []
    if result.status == "timeout":
        return [f"no end within {MAX_CYCLES} cycles: {result.report}"]
    out += [f"hypervisor died: {text!r} in the output" for text in FATAL_TEXTS
            if text in result.raw]
    out += [f"line outside the protocol: {line!r}" for line in result.other_lines]
    ref, bad = result.stats.get("ref"), result.stats.get("chaos")
    if result.end_code is None or ref is None or bad is None:
        return out + ["missing @end or @vm record"]
    if not ref.clean:
        out.append(f"ref ended {ref.state}, code {ref.code}")
    if result.console.get("ref") != reference:
        out.append("ref's console differs from its console alone")
    want = 0 if ref.clean and bad.clean else 1
    if result.end_code != want or result.exit_code != want:
        out.append(f"@end {result.end_code}, exit code {result.exit_code}; want {want}")
    out += chaos_problems(case, result)
    if hv.overlapping_intervals(result):
        out.append(f"overlapping @sched intervals: {hv.overlapping_intervals(result)[:2]}")
    return out


def chaos_problems(case: chaos.ChaosCase, result: ScenarioResult) -> list[str]:
    """The properties of the chaos VM's end, restarts and fault reports."""
    out = []
    bad = result.stats["chaos"]
    if bad.state not in END_STATES[case.on_fault]:
        out.append(f"chaos ended {bad.state} under on_fault = {case.on_fault}")
    if bad.state == "shutdown" and bad.code & ~0xFFF == gen.DIRTY_REASON:
        out.append(f"chaos (re)started with CSR {bad.code & 0xFFF:#x} not in its reset state")
    if bad.restarts > case.max_restarts:
        out.append(f"{bad.restarts} restarts, max {case.max_restarts}")
    if len(hv.restarts(result)) != bad.restarts:
        out.append(f"{len(hv.restarts(result))} restarting lines for {bad.restarts} restarts")
    if hv.endings(result).get("chaos", (None,))[0] != bad.state:
        out.append(f"ended line {hv.endings(result).get('chaos')} != @vm state {bad.state}")
    parsed = hv.faults(result)
    out += [f"fault line without cause, pc and addr: {line!r}" for line in result.hv_lines
            if " fault: " in line and not hv.faults(ScenarioResult(hv_lines=[line]))]
    out += end_reason_problems(case, result, parsed)
    for f in parsed:
        if f.vm != "chaos":
            out.append(f"fault reported for {f.vm}: {f}")
        inside = GUEST_RAM_BASE <= f.addr < GUEST_RAM_BASE + chaos.CHAOS_RAM
        if f.reason == "access outside its partition" and inside:
            out.append(f"'outside its partition' at {f.addr:#x}, inside its RAM")
    return out


def end_reason_problems(case: chaos.ChaosCase, result: ScenarioResult,
                        parsed: list[hv.Fault]) -> list[str]:
    """The chaos VM's end state agrees with what the hypervisor reported before."""
    bad = result.stats["chaos"]
    deadlock = DEADLOCK_LINE in result.hv_lines
    watchdog = any(f.reason == WATCHDOG_REASON for f in parsed)
    if bad.state == "stopped" and not deadlock and not (
            case.on_fault == "stop" and parsed and parsed[-1].cause == bad.code):
        return [f"chaos stopped (code {bad.code}) with neither a deadlock nor a fault "
                f"of that cause reported under on_fault = {case.on_fault}"]
    if bad.state == "watchdog" and not watchdog:
        return ["chaos ended watchdog without a watchdog report"]
    if bad.state == "reset-limit" and not bad.code == bad.restarts == case.max_restarts:
        return [f"reset-limit with code {bad.code}, {bad.restarts} restarts, max "
                f"{case.max_restarts}"]
    return []


def keep_failure(workdir: Path, case: chaos.ChaosCase) -> Path:
    """Copy the case's folder to ``FAILURES_DIR/<hash>``; return the TOML path."""
    digest = hashlib.sha256(case.toml("chaos.elf").encode() + case.program.asm().encode())
    dest = FAILURES_DIR / digest.hexdigest()[:12]
    shutil.copytree(workdir / "case", dest, dirs_exist_ok=True)
    return dest / "chaos.toml"


@settings(max_examples=EXAMPLES)
@given(case=chaos.chaos_cases())
def test_hypervisor_survives_chaos_guest(machine, workdir, reference, case):
    """Whatever the chaos VM does, the run ends cleanly for the reference VM, and the
    chaos VM is contained and reported."""
    note(f"--- chaos.S ---\n{case.program.asm()}--- chaos.toml ---\n{case.toml('chaos.elf')}")
    try:
        result = run_case(machine, workdir, case)
    except HvOutputError as exc:
        replay = keep_failure(workdir, case)
        pytest.fail(f"the firmware broke the console protocol: {exc}\n"
                    f"replay: hvsim run {replay}")
    bad = result.stats.get("chaos")
    event(f"chaos ended {bad.state if bad else '?'}")
    for f in hv.faults(result):
        event(f"fault: {f.reason}: cause {f.cause}")
    found = problems(case, result, reference)
    if found:
        replay = keep_failure(workdir, case)
        log = "\n".join(line for line in result.raw.splitlines()
                        if not line.startswith(("[ref]", "@sched")))
        pytest.fail("; ".join(found) + f"\nreplay: hvsim run {replay}\n{log[-3000:]}")


# --------------------------------------------------------------------------- fixed cases


def _case(*items: tuple[str, str], **kw) -> chaos.ChaosCase:
    return chaos.ChaosCase(gen.Program(tuple(gen.Item("fixed", asm, note)
                                             for note, asm in items)), **kw)


SSCRATCH = gen.csr_num("sscratch")
SPIN = ("infinite loop", "1:\nj 1b")
STORE_OUTSIDE = ("sd 0x40000000", "li t0, 0x40000000\nsd t0, 0(t0)")


def test_fault_and_restart_are_contained(machine, workdir, reference):
    """A guest that stores outside its partition is restarted, then stopped at its
    limit, with a complete report each time; each life starts from a reset vCPU."""
    case = _case(("csrw sscratch", f"li t1, 1\ncsrw {SSCRATCH:#x}, t1"), STORE_OUTSIDE,
                 on_fault="restart", max_restarts=2, watchdog_us=0)
    result = run_case(machine, workdir, case)
    assert problems(case, result, reference) == []
    assert result.stats["chaos"].state == "reset-limit"
    assert [(f.cause, f.addr) for f in hv.faults(result)] == [(23, 0x4000_0000)] * 3


def test_chaos_runtime_survives_its_own_faults(machine, workdir, reference):
    """The runtime skips delegated exceptions and silences interrupts: a program of
    illegal instructions, breakpoints, misaligned loads and a timer interrupt with
    SIE set still shuts down cleanly."""
    case = _case(("illegal", ".word 0\n.word 0xffffffff"), ("ebreak", "c.ebreak\nebreak"),
                 ("misaligned", "la t0, chaos_scratch + 1\nld t1, 0(t0)\nsw t1, 2(t0)"),
                 ("mret", f".word {gen.encode('mret'):#010x}"),
                 ("hlv.d", f"li t0, 0x80000000\n.word {gen.encode('hlv.d', 6, 5):#010x}"),
                 ("timer irq", f"li t0, {gen.SIE_STIE}\ncsrs {gen.SIE:#x}, t0\n"
                               f"csrw {gen.STIMECMP:#x}, zero\n"
                               f"csrsi {gen.SSTATUS:#x}, {gen.SSTATUS_SIE}\nnop\nnop"))
    result = run_case(machine, workdir, case)
    assert problems(case, result, reference) == []
    assert result.stats["chaos"].clean, result.raw[-1500:]


def test_watchdog_restart_resets_the_vcpu(machine, workdir, reference):
    """A VM restarted by its watchdog starts from a reset vCPU (docs/hypervisor.md,
    "vCPUs and exits": a restart zeroes the partition and the vCPU): here the second
    life must spin into the watchdog again, not find sscratch = 1 at its entry (the
    firmware once kept the old VS CSRs on this path)."""
    case = _case(("csrw sscratch", f"li t1, 1\ncsrw {SSCRATCH:#x}, t1"), SPIN,
                 on_fault="restart", max_restarts=1)
    result = run_case(machine, workdir, case)
    assert result.stats["chaos"].state == "reset-limit", result.raw[-1500:]


def test_restart_time_is_not_charged_to_the_new_life(machine, workdir, reference):
    """Each life of a VM that faults at once and is restarted faults the same way;
    the watchdog (2 ms) never fires, since no life runs more than a few instructions."""
    case = _case(STORE_OUTSIDE, on_fault="restart", max_restarts=2, watchdog_us=2000)
    result = run_case(machine, workdir, case)
    assert [(f.cause, f.addr) for f in hv.faults(result)] == [(23, 0x4000_0000)] * 3, \
        "\n".join(result.hv_lines)


def test_watchdog_report_names_pc(machine, workdir, reference):
    """The report of a guest stopped by its watchdog says where it was spinning."""
    case = _case(SPIN, on_fault="stop")
    result = run_case(machine, workdir, case)
    assert result.stats["chaos"].state == "watchdog"
    (f,) = hv.faults(result)
    assert (f.vm, f.reason, f.cause) == ("chaos", WATCHDOG_REASON, 5)
    assert GUEST_RAM_BASE <= f.pc < GUEST_RAM_BASE + chaos.CHAOS_RAM


def test_unknown_sbi_extensions_are_one_record_key(machine, workdir, reference):
    """Calls of unknown extensions with different function ids are one ``other``
    count in ``@sbi`` (docs/hypervisor.md, "Console protocol"); 0x20 is past the legacy
    range 0x00..0x0F (SBI spec v2.0 chapter 5) and names no extension."""
    calls = [(f"sbi 0x20.{fid}", f"li a6, {fid}\nli a7, 0x20\necall") for fid in (0, 1)]
    case = _case(*calls)
    result = run_case(machine, workdir, case)
    assert result.stats["chaos"].sbi.get("other") == 2


def test_vu_block_runs_at_the_alias_and_returns(machine, workdir, reference):
    """Under the runtime's Sv39 table a VU block runs at the VU alias of the code, stays
    in VU over its own faults, and its closing ecall traps to VS, not to the hypervisor:
    only the VS-mode call of an unknown extension after it reaches the SBI."""
    unknown = f"li a7, {gen.NO_EXT:#x}\necall"
    body = ["la t0, chaos_scratch", "sd t0, 0(t0)", ".word 0", "ld t1, 8(t0)"]
    vu = "\n".join([*gen._sret_lines(False), *body, "la s9, 9f", unknown, "9:"])
    case = _case(("sv39", "\n".join(gen.SATP_SETUPS["sv39"])), ("vu", vu),
                 ("unknown sbi", unknown))
    result = run_case(machine, workdir, case)
    assert problems(case, result, reference) == []
    assert result.stats["chaos"].clean, result.raw[-1500:]
    assert result.stats["chaos"].sbi.get("other") == 1
