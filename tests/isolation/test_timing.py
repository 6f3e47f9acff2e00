"""Time protection (issue 7, item 6; docs/fuzzing.md, "Time protection";
hypervisor/src/core/tp.c).

- The hypervisor's time-protected schedule gives each VM fixed windows, and the timing
  property holds: the victim's cycle-stamped observations are the same next to every
  adversary of ``timeprot.ADVERSARIES``, with no window switch overrunning its pad.
- The planted TLB channel (``tlbspy``) is read by its receiver with time protection
  off on the ``tlbkeep`` SoC, and the property detects it; with it on, it cannot be.
- Derandomized adversary programs on the time-protected rig are clean, and the two
  time-protection mutants are caught by the timing property.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from hardware.config import variant
from hypervisor.config import load_scenario
from tools.hvrun import run_scenario
from tools.isolation import gen, timeprot
from tools.isolation.rig import Rig
from tools.isolation.timeprot import channel_demo, timing
from tools.mutate.firmware import apply

#: Adversary programs on the time-protected rig in the ci profile.
TP_CASES = 6


def _lines(violations) -> str:
    return "\n".join(v.line() for v in violations[:10])


@pytest.fixture(scope="module")
def tlbkeep():
    return variant("tlbkeep")


def _probes(console: list[str]) -> list[str]:
    return [line.rsplit(" probe ", 1)[1] for line in console if " probe " in line]


def test_windows_are_fixed_and_padded(tlbkeep):
    """Each VM runs only in its own window of every frame and resumes at the same
    offset in it; the switches never overran the pad."""
    sc = load_scenario("timeprot", tlbkeep)
    res = run_scenario(sc, tlbkeep)
    assert res.stats["spy"].state == "shutdown", res.report
    assert res.tp["overruns"] == 0 and 0 < res.tp["worst"] < res.tp["pad"], res.tp
    period = sc.vms[0].period_us * res.ticks_per_us
    window = sc.vms[0].budget_us * res.ticks_per_us        # equal budgets: equal windows
    offsets = []
    for vm in sc.vms:
        runs = [(a, b) for a, b, n in res.sched if n == vm.name]
        starts = {a % period for a, _ in runs}                 # no VM here waits
        assert len(starts) == 1, (vm.name, sorted(starts))
        offsets += starts
        assert all(b - a < window for a, b in runs), vm.name
    assert [o - offsets[0] for o in offsets] == [i * window for i in range(len(sc.vms))]
    assert set(_probes(res.console["spy"])) == {"145 ticks"}, res.console["spy"]


def test_timing_property_holds_with_time_protection(tlbkeep):
    res = timing(tlbkeep)
    assert [r.adversary for r in res.runs] == list(timeprot.ADVERSARIES)
    assert not res.violations, _lines(res.violations)
    assert not res.leaks
    assert all(r.tp and r.tp["overruns"] == 0 for r in res.runs)


def test_planted_tlb_channel_is_detected_only_without_time_protection(tlbkeep):
    open_, protected = channel_demo(tlbkeep)
    assert open_.leaks == ["tlb-send-1"]
    quiet, loud = ([int(p.split()[0]) for p in _probes(r.console)] for r in open_.runs)
    assert max(loud) > max(quiet), (quiet, loud)      # the receiver read the sender's bit
    assert not protected.leaks and not protected.violations, _lines(protected.violations)
    assert _probes(protected.runs[0].console) == _probes(protected.runs[1].console)


@pytest.fixture(scope="module")
def tp_rig(tmp_path_factory):
    return Rig(variant("default"), work_dir=tmp_path_factory.mktemp("tprig"),
               time_protection=True)


def test_time_protected_rig_adversary_cases_are_clean(tp_rig, tmp_path):
    assert tp_rig.reference.ok, _lines(tp_rig.reference.violations)
    targets = gen.Targets.from_scenario(tp_rig.scenario, "adversary", tp_rig.cfg)
    seen = []

    @settings(max_examples=TP_CASES, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(gen.cases(targets, max_items=30))
    def case(c):
        res = tp_rig.run_case(gen.build_adversary(c.program, tmp_path, stem=f"t{len(seen)}"),
                              c.irqs)
        seen.append(res)
        assert res.status != "timeout"
        assert res.ok, f"{_lines(res.violations)}\n{c.program.asm()}"

    case()
    assert len(seen) == TP_CASES


def test_seed_corpus_is_clean_under_time_protection(tp_rig, tmp_path):
    """The seeds (the TLB sweep among them) give the victim the same cycle-stamped
    trace as the placeholder adversary."""
    targets = gen.Targets.from_scenario(tp_rig.scenario, "adversary", tp_rig.cfg)
    for i, seed in enumerate(gen.seeds(targets)):
        res = tp_rig.run_case(gen.build_adversary(seed.program, tmp_path, stem=f"s{i}"))
        assert res.ok, f"{seed.program.items[0].note}: {_lines(res.violations)}"


def test_tlb_sweep_seed_reads_through_a_window_switch_without_flush(tmp_path):
    """The TLB-sweep seed evicts the victim's TLB entries: with the window switch's
    flush removed (tlbkeep SoC), the victim's timing depends on it."""
    sweep = next(s for s in gen.SEEDS if "TLB sweep" in s.program.items[0].note)
    src = apply("tp-no-tlb-flush", tmp_path / "src")
    rig = Rig(variant("tlbkeep"), src_dir=src, build_dir=tmp_path / "b",
              work_dir=tmp_path / "w", time_protection=True)
    res = rig.run_case(gen.build_adversary(sweep.program, tmp_path, stem="sweep"))
    assert [v.prop for v in res.violations] == ["timing"], _lines(res.violations)


@pytest.mark.parametrize("mutant, soc", (("tp-no-tlb-flush", "tlbkeep"),
                                         ("tp-pad-skipped", "default")))
def test_timing_catches_time_protection_mutants(mutant, soc, tmp_path):
    src = apply(mutant, tmp_path / "src")
    found = timing(variant(soc), src_dir=src, build_dir=tmp_path / "b").violations
    assert found and found[0].prop == "timing", _lines(found)


def test_bench_timing_figures(tmp_path, monkeypatch):
    """``hvsim bench --only isolation``'s time-protection figures: switch lengths under
    the pad, the channel's gap open and closed."""
    from tools.isolation import figures

    monkeypatch.setattr(figures, "CASES", 2)
    figs = figures.timing_figures(variant("default"), tmp_path, lambda msg: None)
    assert len(figs["tp_cases_per_s"][2]) >= 1 and min(figs["tp_cases_per_s"][2]) > 0
    assert 0 < max(figs["tp_switch_ticks"][2]) < timeprot.PAD_US * 10
    assert max(figs["tp_channel_open_ticks"][2]) > 0
    assert set(figs["tp_channel_protected_ticks"][2]) == {0.0}
