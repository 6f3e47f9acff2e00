"""The isolation properties on the real firmware and on firmware mutants (issue 7: "The
properties run in CI and catch the mutants"; docs/fuzzing.md).

- Every guest-suite scenario that has hostile or many guests satisfies every property
  (no false positives), the noninterference runs agree, and the probe's availability
  holds next to a spinner with interrupts off.
- Derandomized adversary cases (the ``ci`` Hypothesis profile) on the rig are clean.
- Representative firmware mutants (memory isolation, vCPU state, SBI pointer checks,
  containment, scheduling, privilege, TLB) are caught by the property docs/fuzzing.md
  names.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tools.isolation import gen
from tools.isolation.rig import Rig
from tools.isolation.scenario import (PANIC_EXIT, availability, check_scenario,
                                       noninterference)
from hardware.config import variant
from tools.mutate.firmware import MUTANTS as MUTANT_CATALOGUE
from tools.mutate.firmware import apply

#: Scenarios checked on the unmodified firmware.
CLEAN = ("demo", "regs", "sbi", "uart", "wfi", "crash", "restart", "reboot", "spin", "fair",
         "hostile", "hostile2", "probe", "paging", "osmix", "timeprot")
#: Rig cases of the ci profile.
CI_CASES = 15
#: (mutant, scenario or "ni" (the noninterference runs), what catches it first: a
#: property, or "panic" for the hypervisor's own trap, exit code 4).
MUTANTS = (
    ("gstage-maps-one-page-past", "demo", "gstage"),
    ("vstvec-not-switched", "ni", "confidentiality"),
    ("callee-not-saved-on-ecall-switch", "ni", "confidentiality"),
    ("guest-ptr-off-by-one", "ni", "confidentiality"),
    ("dbcn-length-unchecked", "sbi", "confidentiality"),
    ("stats-pointer-unchecked", "sbi", "panic"),
    ("budget-timer-not-armed", "availability", "availability"),
    ("rr-pointer-not-advanced", "regs", "handover"),
    ("stopped-vm-resumed", "crash", "containment"),
    ("fault-emulated-as-uart", "crash", "containment"),
    ("restart-limit-off-by-one", "restart", "containment"),
    ("watchdog-timer-not-armed", "fair", "containment"),
    ("vtw-not-set", "wfi", "availability"),
    ("pmp-m-stage-rule-missing", "demo", "gstage"),
    ("spp-not-cleared-on-load", "osmix", "no-escalation"),
    ("dbcn-unbounded", "sbi", "bounded-exit"),
    ("no-vvma-fence-on-restart", "reboot", "confidentiality"),
    ("restart-partition-not-zeroed", "reboot", "confidentiality"),
    ("vuart-load-rd-mask", "uart", "gstage"),
)
MAX_CYCLES = 12_000_000


def _lines(violations) -> str:
    return "\n".join(v.line() for v in violations[:10])


@pytest.mark.parametrize("scenario", CLEAN)
def test_suite_scenarios_satisfy_every_property(scenario, cfg, machine):
    res = check_scenario(scenario, cfg, machine=machine, max_cycles=MAX_CYCLES)
    assert res.status != "timeout"
    assert res.ok, _lines(res.violations)


def test_probe_gets_its_budget_next_to_a_spinner(cfg, machine):
    res = check_scenario("probe", cfg, machine=machine, budgets={"probe": (400, 1000)},
                         max_cycles=MAX_CYCLES)
    assert res.ok, _lines(res.violations)


def test_victim_gets_its_budget_after_hogs(cfg, machine):
    found = availability(cfg, machine=machine, max_cycles=MAX_CYCLES)
    assert not found, _lines(found)


def test_victim_observations_do_not_depend_on_its_neighbours(cfg, machine):
    found = noninterference(cfg, machine=machine, max_cycles=MAX_CYCLES)
    assert not found, _lines(found)


@pytest.fixture(scope="module")
def rig(cfg, tmp_path_factory):
    return Rig(cfg, work_dir=tmp_path_factory.mktemp("rig"))


def test_reference_case_is_clean_and_ends(rig):
    ref = rig.reference
    assert ref.ok and ref.status == "pass", _lines(ref.violations)
    assert ref.victim_console.endswith("vprobe: PASS\n")


def test_adversary_cases_are_clean(rig, tmp_path):
    targets = gen.Targets.from_scenario(rig.scenario, "adversary", rig.cfg)
    seen = []

    @settings(max_examples=CI_CASES, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(gen.cases(targets, max_items=30))
    def case(c):
        elf = gen.build_adversary(c.program, tmp_path, stem=f"c{len(seen)}")
        res = rig.run_case(elf, c.irqs)
        seen.append(res.coverage)
        assert res.status != "timeout"
        assert res.ok, f"{_lines(res.violations)}\n{c.program.asm()}"

    case()
    assert len(seen) == CI_CASES


def test_an_adversary_really_runs(rig, tmp_path):
    """A case's adversary is the generated program, not the placeholder: an SBI call to
    an unknown extension shows in the coverage, and a hypervisor CSR access exits."""
    from tools.isolation.gen import Item, Program

    prog = Program((Item("sbi-random", "li a7, 0x7777\nli a6, 3\necall"),
                    Item("csr", "csrr t0, hstatus")))
    res = rig.run_case(gen.build_adversary(prog, tmp_path, stem="known"))
    assert res.ok, _lines(res.violations)
    assert res.coverage.get("sbi 0x7777.3") == 1
    assert any(k.startswith("exit cause 22") or k.startswith("exit cause 2")
               for k in res.coverage), sorted(res.coverage)


def _console_thief():
    """An adversary that reads its virtual UART's RBR and LSR, and SBI getchar."""
    from hypervisor.config import GUEST_UART_BASE
    from tools.isolation.gen import Item, Program

    return Program((Item("load", f"li t0, {GUEST_UART_BASE:#x}\nlbu t1, 5(t0)\n"
                                 "lbu t1, 0(t0)\nlbu t1, 0(t0)"),
                    Item("sbi-call", "li a7, 2\nli a6, 0\necall")))


@pytest.mark.parametrize("mutant", (None, "ipi-broadcast-all-vms", "dbcn-unbounded",
                                    "guest-ptr-off-by-one"))
def test_seed_corpus_is_clean_and_reaches_the_sbi_edges(mutant, rig, tmp_path):
    """Every seed (gen.seeds) runs clean on the real firmware; the IPI seed catches an
    IPI to all harts that reaches every VM, the DBCN-page seed an unbounded DBCN, the
    buffer-edge seed a range check that lets a buffer end one byte past the RAM."""
    if mutant:
        src = apply(mutant, tmp_path / "src")
        rig = Rig(rig.cfg, src_dir=src, build_dir=tmp_path / "b", work_dir=tmp_path / "w")
    found = set()
    seeds = gen.seeds(gen.Targets.from_scenario(rig.scenario, "adversary", rig.cfg))
    assert len(seeds) == len(gen.SEEDS) + 1
    for i, seed in enumerate(seeds):
        res = rig.run_case(gen.build_adversary(seed.program, tmp_path, stem=f"s{i}"))
        assert mutant or res.ok, f"{seed.program.items[0].note}: {_lines(res.violations)}"
        found |= {v.prop for v in res.violations}
    want = {None: set(), "ipi-broadcast-all-vms": {"confidentiality"},
            "dbcn-unbounded": {"bounded-exit", "containment"},
            "guest-ptr-off-by-one": {"confidentiality"}}[mutant]
    assert want <= found and (mutant or not found), found


def test_console_input_stays_with_vm_0(rig, tmp_path):
    """The rig's console input is the victim's (VM 0): the adversary reading its virtual
    UART and SBI getchar gets none of it on the real firmware, and a firmware whose
    virtual UART hands it to any VM is caught."""
    from tools.isolation.rig import CONSOLE_INPUT

    assert CONSOLE_INPUT
    res = rig.run_case(gen.build_adversary(_console_thief(), tmp_path, stem="thief"))
    assert res.ok, _lines(res.violations)
    src = apply("vuart-rx-any-vm", tmp_path / "src")
    bad = Rig(rig.cfg, src_dir=src, build_dir=tmp_path / "b", work_dir=tmp_path / "w")
    res = bad.run_case(gen.build_adversary(_console_thief(), tmp_path, stem="thief2"))
    assert res.violations and res.violations[0].prop == "confidentiality", \
        _lines(res.violations)
    assert "console input" in res.violations[0].detail


@pytest.mark.parametrize("soc, mutant, prop", [
    ("default", None, None), ("tlbkeep", None, None),
    ("default", "rr-pointer-not-advanced", "handover"),
    ("tlbkeep", "no-vvma-fence-on-restart", "confidentiality")])
def test_seed_mixes_are_clean_and_catch_their_policies(soc, mutant, prop, tmp_path):
    """The seed mixes (mix.SEED_MIXES) run clean on the real firmware, on the default
    SoC and on tlbkeep; the round-robin one catches a scheduler whose round-robin
    pointer never moves (handover), the reboot one a restart without HFENCE.VVMA."""
    from tools.isolation.mix import SEED_MIXES, run_mix, write_mix

    cfg = variant(soc)
    src = apply(mutant, tmp_path / "src") if mutant else None
    found = []
    for i, m in enumerate(SEED_MIXES):
        res = run_mix(write_mix(m, tmp_path, stem=f"seed{i}"), cfg, src_dir=src,
                      build_dir=tmp_path / "b", budgets=m.availability(),
                      max_cycles=MAX_CYCLES)
        assert res.status != "timeout", m.note
        found += res.violations
    assert [v.prop for v in found[:1]] == ([prop] if prop else []), _lines(found)


@pytest.mark.parametrize("scenario", ("reboot",))
def test_stale_tlb_entries_are_not_a_false_positive_on_tlbkeep(scenario):
    """The SoC that keeps TLB entries across satp/hgatp writes (where the fence mutants
    show) runs the restart scenarios clean too."""
    res = check_scenario(scenario, variant("tlbkeep"), max_cycles=MAX_CYCLES)
    assert res.ok, _lines(res.violations)


@pytest.mark.parametrize("mutant, where, prop", MUTANTS)
def test_properties_catch_mutants(mutant, where, prop, cfg, machine, tmp_path):
    if MUTANT_CATALOGUE[mutant].soc != "default":   # its own SoC, its own machine
        cfg, machine = variant(MUTANT_CATALOGUE[mutant].soc), None
    src = apply(mutant, tmp_path / "src")
    where_built = {"src_dir": src, "build_dir": tmp_path / "b", "max_cycles": MAX_CYCLES}
    if where in ("ni", "availability"):
        run = noninterference if where == "ni" else availability
        found = run(cfg, machine=machine, **where_built)
    else:
        res = check_scenario(where, cfg, machine=machine, **where_built)
        if prop == "panic":
            assert res.exit_code == PANIC_EXIT, f"mutant {mutant}: {res.status}"
            return
        found = res.violations
    assert found, f"mutant {mutant} was not caught in {where}"
    assert found[0].prop == prop, _lines(found)


def test_bench_isolation_figures_sample_the_rig(rig, tmp_path, monkeypatch):
    """``hvsim bench --only isolation`` (tools/isolation/figures.py) times restores,
    cases and mixes on a rig, which still runs clean cases afterwards."""
    from tools.isolation import figures

    for name, n in (("RESTORES", 3), ("FILE_RESTORES", 2), ("CASES", 3), ("MIXES", 1)):
        monkeypatch.setattr(figures, name, n)
    mem, files = figures.restore_times(rig)
    assert len(mem) == 3 and len(files) == 2 and min(mem + files) > 0
    assert len(figures.case_times(rig, tmp_path / "c")) >= 2
    assert len(figures.mix_times(rig, tmp_path / "m")) == 1
    assert rig.run_case(None).ok
