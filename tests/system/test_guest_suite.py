"""The guest suite under the hypervisor (issue 6, item 8; docs/guests.md): every VM's
transcript in every suite scenario matches its golden file on the model and on Spike,
every well-behaved guest (any group but ``hostile``) shuts down cleanly even next to
misbehaving guests, and no run ends in a hypervisor panic or a timeout."""

from __future__ import annotations

import pytest

from guests.build import GUESTS
from hypervisor.config import load_scenario
from tools import guestsuite as gs
from tests.system import hvharness as hv
from tools.hvrun import ScenarioResult

#: The hypervisor's exit code for a panic (docs/hypervisor.md, "Exit").
PANIC_EXIT = 4


def _run(scenario: str, platform: str, cfg, machine) -> ScenarioResult:
    if platform != "model":
        why = hv.spike_missing()
        if why:
            pytest.skip(f"spike unavailable: {why}")
    return gs.run(scenario, platform, cfg, machine if platform == "model" else None)


def _well_behaved(scenario: str, cfg) -> list[str]:
    """The VMs of ``scenario`` whose guest is not in the hostile group."""
    return [v.name for v in load_scenario(scenario, cfg).vms
            if v.guest is None or GUESTS[v.guest].group != "hostile"]


@pytest.mark.parametrize("platform", ("model", "spike"))
@pytest.mark.parametrize("scenario", sorted(gs.SUITE))
def test_transcripts_match_golden(scenario, platform, cfg, machine):
    result = _run(scenario, platform, cfg, machine)
    assert result.status != "timeout", result.report
    assert result.exit_code != PANIC_EXIT, result.raw[-3000:]
    assert result.end_code is not None, f"no @end record:\n{result.raw[-2000:]}"
    diffs = gs.differences(scenario, gs.transcripts(result), platform)
    assert not diffs, "\n".join(diffs)
    for name in _well_behaved(scenario, cfg):
        s = result.stats[name]
        assert (s.state, s.code, s.restarts) == ("shutdown", 0, 0), \
            f"{scenario}: well-behaved vm {name}: {s.state}, code {s.code}, {s.restarts} restarts"


def test_every_guest_runs_in_a_suite_scenario(cfg):
    """Every guest but those that print measured timings (bench, timeprot)."""
    used = {v.guest for s in gs.SUITE for v in load_scenario(s, cfg).vms}
    assert set(GUESTS) - used <= {"hvbench", "tlbspy"}, sorted(set(GUESTS) - used)


def test_suite_and_exclusions_cover_the_configs():
    from hypervisor.config import CONFIGS_DIR

    names = {p.stem for p in CONFIGS_DIR.glob("*.toml")}
    assert names == set(gs.SUITE) | set(gs.NOT_GOLDEN)


# --------------------------------------------------------------------------- the oracle


def _result(console, hv_lines, names=("a", "b")) -> ScenarioResult:
    r = ScenarioResult("x")
    r.console = {n: list(console.get(n, [])) for n in names}
    r.hv_lines = list(hv_lines)
    return r


def test_transcript_holds_console_then_the_vms_hv_lines():
    r = _result({"a": ["one", "two"], "b": ["three"]},
                ["hypervisor on hart 0", "vm a: 4096 KiB at 0x80200000, entry 0x80000000",
                 "vm b fault: access outside its partition: cause 23 (x) pc 0x8000001c "
                 "addr 0x40000000", "vm b restarting (1 of 2)", "vm a ended: shutdown, code 0"])
    got = gs.transcripts(r)
    assert got["a"] == "one\ntwo\nhv: ended: shutdown, code 0\n"
    assert got["b"] == ("three\nhv: fault: access outside its partition: cause 23 (x) pc * "
                        "addr 0x40000000\nhv: restarting (1 of 2)\n")


def test_fault_pcs_are_masked_addresses_are_not():
    r = _result({}, ["vm a fault: watchdog: used up its CPU time: cause 5 (STI) pc 0x80000123 "
                     "addr 0x0", "vm a fault: unhandled exception: cause 2 (x) pc 0x80000200 "
                     "addr 0x1234"], names=("a",))
    assert gs.transcripts(r)["a"] == (
        "hv: fault: watchdog: used up its CPU time: cause 5 (STI) pc * addr 0x0\n"
        "hv: fault: unhandled exception: cause 2 (x) pc * addr 0x1234\n")


def test_differences_name_missing_changed_and_extra_files(tmp_path, monkeypatch):
    monkeypatch.setattr(gs, "GOLDEN_DIR", tmp_path)
    gs.write_golden("s", {"a": "x\n", "gone": "y\n"})
    diffs = gs.differences("s", {"a": "x\n", "new": "z\n"}, "model")
    assert len(diffs) == 2
    assert "gone" in diffs[0] and "no such VM" in diffs[0]
    assert "new.txt: missing" in diffs[1]
    diffs = gs.differences("s", {"a": "X\n", "gone": "y\n"}, "model")
    assert len(diffs) == 1 and "-x" in diffs[0] and "+X" in diffs[0]
    gs.write_golden("s", {"a": "x\n"})
    assert not (tmp_path / "s" / "gone.txt").exists()
