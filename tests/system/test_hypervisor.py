"""System tests of the type-1 hypervisor (issue 5, "Done when": boot, each SBI function,
UART emulation, scheduling fairness, fault containment, vCPU isolation; item 13,
portability) on the model (compiled backend, one Machine for the module) and on Spike.

The scenarios are ``hypervisor/configs/*.toml``; the protocol of the output is
docs/hypervisor.md, "Console protocol". Oracles: the guests' own PASS/FAIL checks, the
expected console lines (the prime counts of ``counter`` are computed here), the
scenario's budgets and periods, the crasher's ELF (where its store is), and the other
platform (the per-VM consoles of the model and Spike must be identical).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from guests.build import GUESTS_DIR, build_guest
from hardware.config import variant
from hardware.soc.dtb import CORE_CLOCK_HZ
from hypervisor.config import load_scenario
from tests.system import hvharness as hv
from tools import cli
from tools.hvrun import compare_consoles

PLATFORMS = ("model", "spike")
#: Scenarios whose per-VM consoles must be the same everywhere (hvbench prints timings).
PORTABLE = ("demo", "sbi", "uart", "crash", "wfi", "regs")
#: Where the crasher stores (guests/hostile/crasher.c) and how that traps (H spec 9.6.3).
CRASH_ADDR = 0x4000_0000
CAUSE_STORE_GUEST_PAGE_FAULT = 23
CAUSE_LOAD_GUEST_PAGE_FAULT = 21
#: Fairness: periods skipped at the start (every guest prints its first line there).
WARMUP_PERIODS = 2
#: Fairness: |ticks in one period - budget| allowed, as a fraction of the period.
PERIOD_TOLERANCE = 0.03
#: Fairness: |share - budget/period| allowed over the whole periods, percentage points.
SHARE_TOLERANCE = 2.0
#: Availability: |CPU time of the spinner - its watchdog| allowed, as a fraction.
WATCHDOG_TOLERANCE = 0.02


@pytest.fixture(scope="module")
def cfg():
    return variant("default")


class Runs:
    """Scenario results, cached for the module; the model's Machine is built once."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.cache: dict[tuple[str, str], object] = {}
        self._machine = None

    def __call__(self, scenario: str, platform: str):
        key = (scenario, platform)
        if key not in self.cache:
            self.cache[key] = self.fresh(scenario, platform)
        return self.cache[key]

    def fresh(self, scenario: str, platform: str):
        """A new run (not cached)."""
        if platform != "model":
            skip_unless(platform)
            return hv.run_platform(scenario, self.cfg, platform)
        if self._machine is None:
            from hardware.sim.machine import Machine

            self._machine = Machine(self.cfg, "compiled")
        return hv.run_model(self._machine, scenario, self.cfg)


@pytest.fixture(scope="module")
def runs(cfg):
    """``runs(scenario, platform)``: the result of one run of a scenario."""
    return Runs(cfg)


def skip_unless(platform: str) -> None:
    """Skip the test when ``platform``'s emulator is not installed."""
    why = {"model": lambda: None, "spike": hv.spike_missing, "qemu": hv.qemu_missing}[platform]()
    if why:
        pytest.skip(f"{platform} unavailable: {why}")


def finished(result) -> None:
    """The run ended by itself with a complete record set."""
    assert result.status != "timeout", result.report
    assert result.end_code is not None, f"no @end record:\n{result.raw[-2000:]}"
    assert not hv.overlapping_intervals(result), "@sched intervals overlap"


def no_failures(result) -> None:
    bad = [f"[{vm}] {line}" for vm, lines in result.console.items() for line in lines
           if "FAIL" in line or "ERROR" in line or line.startswith("trap: unexpected")]
    assert not bad, "\n".join(bad)


def clean_end(result, names) -> None:
    for name in names:
        s = result.stats[name]
        assert (s.state, s.code) == ("shutdown", 0), f"vm {name}: {s.state}, code {s.code}"


# --------------------------------------------------------------------------- oracles


def counter_lines(first: str) -> list[str]:
    """The console of guests/kernels/counter.c, from its first line (limit, chunk)."""
    m = re.fullmatch(r"counter: primes below (\d+) in chunks of (\d+)", first)
    assert m, first
    limit, chunk = int(m[1]), int(m[2])
    sieve = [False, False] + [True] * (limit - 2)
    for n in range(2, int(limit ** 0.5) + 1):
        if sieve[n]:
            sieve[n * n::n] = [False] * len(sieve[n * n::n])
    lines, total = [first], 0
    for lo in range(0, limit, chunk):
        n = sum(sieve[lo:lo + chunk])
        total += n
        lines.append(f"counter: [{lo:4},{lo + chunk:4}) {n:3} primes, total {total:3}")
    return [*lines, "counter: done"]


def hello_lines(index: int, count: int, ram_kib: int) -> list[str]:
    """The console of guests/kernels/hello.c (the DTB size is matched as a number)."""
    return [f"hello: hello from vm {index} of {count} (hart 0)", "hello: args 0 0 0 0",
            f"hello: ram {ram_kib} KiB at 0x80000000, dtb <n> bytes, timebase 10000000 Hz",
            *(f"hello: tick {k}" for k in range(1, 6)), "hello: done"]


def same_lines(got: list[str], want: list[str]) -> bool:
    return len(got) == len(want) and all(
        re.fullmatch(re.escape(w).replace("<n>", r"\d+"), g) for g, w in zip(got, want))


def sbitest_checks() -> set[str]:
    """Every check name of guests/kernels/sbitest.c (each must print ``ok <name>``)."""
    src = (GUESTS_DIR / "kernels" / "sbitest.c").read_text()
    names = set(re.findall(r'(?:check(?:_err|_val|_true)?|timer_round|ipi_round)\(\s*"(\w+)"',
                           src))
    names |= set(re.findall(r'\{"(probe_\w+)"', src))
    return names


def vm_limits(cfg, scenario: str, ticks_per_us: int) -> dict[str, tuple[int, int]]:
    """VM name -> (budget, period) in ticks."""
    return {vm.name: (vm.budget_us * ticks_per_us, vm.period_us * ticks_per_us)
            for vm in load_scenario(scenario, cfg).vms}


# --------------------------------------------------------------------------- boot


@pytest.mark.parametrize("platform", PLATFORMS)
def test_boot_demo(runs, cfg, platform):
    r = runs("demo", platform)
    finished(r)
    assert r.end_code == 0 and r.exit_code == 0
    assert list(r.console) == ["alpha", "beta", "gamma"]
    clean_end(r, ["alpha", "beta", "gamma"])
    assert same_lines(r.console["alpha"], hello_lines(0, 3, 4096)), r.console["alpha"]
    assert r.console["beta"] == counter_lines(r.console["beta"][0])
    assert r.console["gamma"][-1] == "uarttest: PASS"
    no_failures(r)
    assert r.ticks_per_us == CORE_CLOCK_HZ // cfg.timebase_divider // 1_000_000
    for name in ("alpha", "beta", "gamma"):
        assert r.stats[name].runs >= 1 and r.stats[name].instret > 0
        assert any(vm == name for _, _, vm in r.sched)
    assert hv.endings(r) == {n: ("shutdown", 0) for n in ("alpha", "beta", "gamma")}


def test_model_is_deterministic(runs, cfg):
    first = runs("demo", "model")
    again = runs.fresh("demo", "model")
    assert again.sched == first.sched
    assert (again.cycles, again.instret) == (first.cycles, first.instret)
    assert again.raw == first.raw


# --------------------------------------------------------------------------- SBI, UART


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_sbi_function(runs, platform):
    r = runs("sbi", platform)
    finished(r)
    lines = r.console["sbi"]
    assert lines[-1] == "sbitest: PASS", lines[-3:]
    no_failures(r)
    checks = sbitest_checks()
    assert len(checks) > 50
    ok = {line[3:] for line in lines if line.startswith("ok ")}
    assert not checks - ok, f"no 'ok' line for {sorted(checks - ok)}"
    for text in ("sbitest: dbcn write", "sbitest: dbcn write_byte", "sbitest: legacy putchar"):
        assert text in lines
    clean_end(r, ["sbi"])
    counted = {key.split(".")[0] for key in r.stats["sbi"].sbi}
    for ext in (0x0, 0x1, 0x2, 0x10, 0x54494D45, 0x735049, 0x52464E43, 0x48534D,
                0x53525354, 0x4442434E, 0x0A006876):
        assert f"{ext:#x}" in counted, f"no @sbi count for extension {ext:#x}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_uart_emulation(runs, platform):
    r = runs("uart", platform)
    finished(r)
    assert r.end_code == 0
    assert r.console["uart"][-1] == "uarttest: PASS"
    assert "uarttest: sh/sw to THR: AB" in r.console["uart"]
    no_failures(r)
    exits = r.stats["uart"].exits
    assert exits.get(f"e{CAUSE_LOAD_GUEST_PAGE_FAULT}", 0) > 0
    assert exits.get(f"e{CAUSE_STORE_GUEST_PAGE_FAULT}", 0) > 0
    assert exits.get("e10") == 1        # only the SRST shutdown goes through SBI


# --------------------------------------------------------------------------- scheduling


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("scenario", ["fair", "weighted"])
def test_budgets_are_cpu_shares(runs, cfg, scenario, platform):
    """CPU-bound VMs, all runnable until the first watchdog: each full period gives each
    VM its budget, and over those periods its share is budget/period."""
    r = runs(scenario, platform)
    finished(r)
    limits = vm_limits(cfg, scenario, r.ticks_per_us)
    period = {p for _, p in limits.values()}
    assert len(period) == 1
    period = period.pop()
    all_runnable = min(hv.last_run_end(r).values())
    n = all_runnable // period
    assert n >= WARMUP_PERIODS + 3, f"only {n} full periods while all VMs ran"
    for name, (budget, _) in limits.items():
        assert r.stats[name].state == "watchdog"
        per = [hv.ticks_between(r, k * period, (k + 1) * period).get(name, 0)
               for k in range(n)]
        off = [t for t in per[WARMUP_PERIODS:] if abs(t - budget) > PERIOD_TOLERANCE * period]
        assert not off, f"vm {name}: ticks per period {per}, budget {budget}"
        share = 100.0 * sum(per) / (n * period)
        assert abs(share - 100.0 * budget / period) <= SHARE_TOLERANCE, (name, share)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_spinning_vm_does_not_starve_the_others(runs, cfg, platform):
    r = runs("spin", platform)
    finished(r)
    clean_end(r, ["hello", "count"])
    assert same_lines(r.console["hello"], hello_lines(1, 3, 2048)), r.console["hello"]
    assert r.console["count"] == counter_lines(r.console["count"][0])
    spin = r.stats["spin"]
    assert spin.state == "watchdog"
    assert spin.exits.get("i5", 0) > 1       # preempted by the HS timer
    watchdog = {vm.name: vm.watchdog_us for vm in load_scenario("spin", cfg).vms}["spin"]
    ran = r.cpu_ticks()["spin"] / r.ticks_per_us
    assert abs(ran - watchdog) <= WATCHDOG_TOLERANCE * watchdog, ran
    assert any("watchdog" in line for line in r.hv_lines)


#: A guest that hands the hypervisor one long SBI DBCN console write, at once.
FLOOD_GUEST = r"""
#include "klib.h"
#define N (64u << 10)
static char buf[N];
int kmain(void)
{
    for (unsigned i = 0; i < N; i++)
        buf[i] = 'x';
    for (unsigned i = 99; i < N; i += 100)
        buf[i] = '\n';
    struct sbiret r = sbi_debug_console_write(N, (unsigned long)buf, 0);
    kprintf("\nflood: wrote %ld\n", r.value);
    return r.error != SBI_SUCCESS;
}
"""
FLOOD_SCENARIO = """
[[vm]]
name = "flood"
image = "flood.elf"
ram = "2M"

[[vm]]
name = "count"
guest = "counter"
ram = "2M"
"""


def test_one_sbi_call_cannot_hold_the_cpu(runs, cfg, tmp_path):
    """A CPU-bound VM ("count") waits at most a period and a budget between runs (the
    other VM may run on across a replenishment) while the other VM makes a 64 KiB
    console write in one SBI call: the hypervisor is not preemptible, so it must cut the
    write short (SBI spec 12.1 allows a partial write)."""
    hv.build_test_guest(FLOOD_GUEST, tmp_path, "flood")
    scenario = tmp_path / "flood.toml"
    scenario.write_text(FLOOD_SCENARIO)
    r = runs.fresh(str(scenario), "model")
    finished(r)
    clean_end(r, ["count"])
    wrote = [line for line in r.console["flood"] if line.startswith("flood: wrote")]
    assert wrote and int(wrote[0].split()[-1]) > 0, r.console["flood"][-3:]
    assert hv.last_run_end(r)["count"] > min(s for s, _, vm in r.sched if vm == "flood")
    budget, period = vm_limits(cfg, str(scenario), r.ticks_per_us)["count"]
    assert hv.longest_wait(r, "count") <= period + budget


# --------------------------------------------------------------------------- faults


@pytest.mark.parametrize("platform", PLATFORMS)
def test_crashing_vm_is_stopped_and_reported(runs, cfg, platform):
    r = runs("crash", platform)
    finished(r)
    assert r.end_code != 0
    reports = hv.faults(r)
    assert len(reports) == 1, r.hv_lines
    f = reports[0]
    assert (f.vm, f.cause, f.addr) == ("crash", CAUSE_STORE_GUEST_PAGE_FAULT, CRASH_ADDR)
    lo, hi = hv.symbol_range(build_guest("crasher"), "kmain")
    assert lo <= f.pc < hi, f"fault pc {f.pc:#x} outside the crasher's kmain"
    crash = r.stats["crash"]
    assert (crash.state, crash.code) == ("stopped", CAUSE_STORE_GUEST_PAGE_FAULT)
    assert r.console["crash"] == ["crasher: starting", "crasher: storing to 0x40000000"]
    clean_end(r, ["hello", "count"])
    assert same_lines(r.console["hello"], hello_lines(0, 3, 4096)), r.console["hello"]
    assert r.console["count"] == counter_lines(r.console["count"][0])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_restart_policy_stops_after_max_restarts(runs, cfg, platform):
    r = runs("restart", platform)
    finished(r)
    limit = {vm.name: vm.max_restarts for vm in load_scenario("restart", cfg).vms}["crash"]
    assert hv.restarts(r) == [("crash", k, limit) for k in range(1, limit + 1)]
    assert len(hv.faults(r)) == limit + 1
    s = r.stats["crash"]
    assert (s.state, s.restarts) == ("reset-limit", limit)
    assert r.console["crash"] == ["crasher: starting",
                                  "crasher: storing to 0x40000000"] * (limit + 1)
    clean_end(r, ["hello"])
    assert r.console["hello"][-1] == "hello: done"


WATCHDOG_RESTART = """
[[vm]]
name = "spin"
guest = "spinner"
ram = "2M"
watchdog_us = 2000
on_fault = "restart"
max_restarts = 2

[[vm]]
name = "count"
guest = "counter"
ram = "2M"
"""


@pytest.mark.parametrize("platform", PLATFORMS)
def test_watchdog_restarts_then_stops_a_spinning_vm(runs, cfg, platform, tmp_path):
    """A VM that never yields is restarted by its watchdog (a fresh vCPU each time) and
    ends in reset-limit; the other VM is not disturbed."""
    path = tmp_path / "watchdog_restart.toml"
    path.write_text(WATCHDOG_RESTART)
    r = runs.fresh(path, platform)
    finished(r)
    assert hv.restarts(r) == [("spin", 1, 2), ("spin", 2, 2)]
    assert r.console["spin"] == ["spinner: spinning forever with interrupts off"] * 3
    s = r.stats["spin"]
    assert (s.state, s.restarts) == ("reset-limit", 2)
    clean_end(r, ["count"])
    assert r.console["count"] == counter_lines("counter: primes below 3000 in chunks of 500")


# --------------------------------------------------------------------------- isolation


@pytest.mark.parametrize("platform", PLATFORMS)
def test_vcpu_state_is_isolated(runs, cfg, platform):
    """guests/kernels/regs.c in three VMs: registers, VS CSRs and the Sv39 view survive
    every yield and every timer preemption unchanged."""
    r = runs("regs", platform)
    finished(r)
    no_failures(r)
    rounds = {vm.name: vm.args[1] for vm in load_scenario("regs", cfg).vms}
    assert len(rounds) >= 2
    clean_end(r, rounds)
    for name, n in rounds.items():
        assert r.console[name][-1] == "regs: PASS"
        assert r.stats[name].sbi.get("0xa006876.0") == n      # one yield per round
        assert r.stats[name].runs > n


#: The firmware mutation the stale-TLB check of regs.c exists for: every VM gets VMID 0
#: and switches do not fence the G-stage.
VMID_BUG = (("    vm->vmid = (vm->index + 1) < (1ull << vmid_bits) ? vm->index + 1 : 0;",
             "    vm->vmid = 0;"),
            ("    return hv_nvms + 1 > (1ull << vmid_bits);", "    return 0;"))


def _regs_on_tlbkeep(src_dir: Path, build_dir: Path):
    """regs on the `tlbkeep` SoC (no TLB flush on hgatp/vsatp writes: the VMID tags are
    all that keeps the VMs' translations apart) with the firmware in ``src_dir``."""
    from tools.hvrun import run_scenario

    return run_scenario("regs", variant("tlbkeep"), max_cycles=hv.MODEL_MAX_CYCLES,
                        src_dir=src_dir, build_dir=build_dir)


def test_vmids_keep_tlb_entries_apart(tmp_path):
    """On a TLB that keeps entries across hgatp/vsatp writes, regs passes with the real
    firmware and fails when every VM shares VMID 0 (so the check can fail)."""
    from hypervisor.build import HV_SRC

    result = _regs_on_tlbkeep(HV_SRC, tmp_path / "good")
    assert result.status == "pass", result.raw[-500:]
    assert all(lines[-1] == "regs: PASS" for lines in result.console.values())
    bad_src = _mutated_firmware(tmp_path, "arch/riscv/gstage.c", VMID_BUG)
    result = _regs_on_tlbkeep(bad_src, tmp_path / "bad")
    assert result.status != "pass"
    assert not all(lines and lines[-1] == "regs: PASS" for lines in result.console.values())


def _mutated_firmware(tmp_path: Path, file: str, edits) -> Path:
    """A copy of hypervisor/src with ``edits`` ((old, new) pairs) applied to ``file``."""
    import shutil

    from hypervisor.build import HV_SRC

    src = tmp_path / "src"
    shutil.copytree(HV_SRC, src)
    path = src / file
    text = path.read_text()
    for old, new in edits:
        assert old in text, f"{file} changed: update the test's edit"
        text = text.replace(old, new)
    path.write_text(text)
    return src


def test_pmp_keeps_hs_out_of_the_m_stage(tmp_path, cfg):
    """A hypervisor that reads the M stage's memory (boot.S, PMP entry 1) takes a load
    access fault in HS: it reports a panic instead of reading it."""
    from tools.hvrun import run_scenario

    src = _mutated_firmware(tmp_path, "core/main.c", [(
        "    platform_init(dtb);\n",
        "    platform_init(dtb);\n    extern char _m_start[];\n"
        "    hv_printf(\"hv: read 0x%x\\n\", *(volatile unsigned *)_m_start);\n")])
    result = run_scenario("uart", cfg, max_cycles=2_000_000, src_dir=src,
                          build_dir=tmp_path / "build")
    assert "hv: read" not in result.raw
    assert "hv: panic: trap in HS-mode: cause 5 (load access fault)" in result.raw
    assert (result.status, result.exit_code) == ("fail", 4)


# --------------------------------------------------------------------------- portability


@pytest.mark.parametrize("scenario", PORTABLE)
def test_model_and_spike_consoles_match(runs, scenario):
    model, spike = runs(scenario, "model"), runs(scenario, "spike")
    finished(model)
    finished(spike)
    assert compare_consoles(model, spike) == []
    assert model.end_code == spike.end_code
    assert hv.faults(model) == hv.faults(spike)
    assert {n: s.state for n, s in model.stats.items()} == \
        {n: s.state for n, s in spike.stats.items()}
    if scenario == "uart":
        exceptions = [{k: v for k, v in r.stats["uart"].exits.items() if k[0] == "e"}
                      for r in (model, spike)]
        assert exceptions[0] == exceptions[1]


def test_qemu_virt_matches_the_model(runs, cfg):
    skip_unless("qemu")
    model, qemu = runs("demo", "model"), runs("demo", "qemu")
    assert qemu.status != "timeout", qemu.report
    assert qemu.end_code == 0, qemu.raw[-2000:]
    assert compare_consoles(model, qemu) == []


# --------------------------------------------------------------------------- bad input


BAD_SCENARIOS = {
    "unknown_key": ('[[vm]]\nname = "a"\nguest = "hello"\nram = "2M"\ncolour = "red"\n',
                    r"vm\[0\]\.colour: unknown key"),
    "overlap": ('[[vm]]\nname = "a"\nguest = "hello"\nram = "4M"\nbase = "0x80400000"\n'
                '[[vm]]\nname = "b"\nguest = "hello"\nram = "2M"\nbase = "0x80600000"\n',
                r"vm\[1\]\.base: .*overlaps vm\[0\] 'a'"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_hvsim_run_rejects_a_bad_scenario(tmp_path, capsys, case):
    text, pattern = BAD_SCENARIOS[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    status = cli.main(["run", str(path), "--plain"])
    out, err = capsys.readouterr()
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0] or Path(path).name in lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in out + err
