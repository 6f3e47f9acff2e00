"""``hvsim fuzz isolation`` (tools/isolation/campaign.py; issue 7, item 4): a short
campaign on the real firmware finds nothing and writes its summary, coverage and
database; a planted violation is found, shrunk, saved as a complete folder and
replayed; a firmware mutant's G-stage bug is found; workers run as Ray tasks on a
local Ray instance; bad input is one line with exit status 2."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tools.cli import main
from tools.isolation import IsolationError
from tools.isolation import campaign as cmp
from tools.isolation import rig as rig_mod
from tools.isolation.oracles import PROPERTIES, Violation

#: The planted bug: an adversary with a store item "breaks integrity" at this spot.
PLANTED = Violation("integrity", 123_456, 0x8000_0010, 0x8020_0000,
                    "planted: vm adversary stores to vm victim")


def summary_of(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_short_campaign_on_the_real_firmware_is_clean(tmp_path, capsys):
    """A few cases on the unmodified firmware (after an unreachable Ray address, with
    the fallback to local processes): no violation, a summary with the rates, the
    coverage of the checker's keys and item kinds, and the example database."""
    out = tmp_path / "out"
    s = cmp.run_campaign(0.2, 1, out, seed=1, cluster="ray://127.0.0.1:1",
                         fallback_local=True)
    err = capsys.readouterr().err
    assert "cannot reach the Ray cluster" in err and "--fallback-local" in err
    assert s.cases >= 3 and not s.violations and not s.errors
    assert s.first_violation_s is None and s.median_length is None
    data = summary_of(out)
    assert data["cases"] == s.cases and data["cluster"] == "processes"
    assert data["fallback"] and data["workers"] == 1
    assert data["violations_by_property"] == {p: 0 for p in PROPERTIES}
    assert data["per_worker"][0]["cases"] == s.cases and data["per_worker"][0]["cases_per_s"] > 0
    assert data["cases_per_s"] > 0 and data["reference_violations"] == []
    cov = json.loads((out / "coverage.json").read_text())
    assert cov["keys"] == len(cov["coverage"]) >= 5
    assert any(k.startswith("item ") for k in cov["coverage"])
    assert any(k.startswith("exit ") for k in cov["coverage"])
    assert cov["coverage"].get("end pass", 0) + cov["coverage"].get("end fail", 0) > 0
    assert (out / "db").is_dir() and not any((out / "violations").iterdir())


def planted_run_case(original):
    """``Rig.run_case`` with the planted bug: a case whose listing has a store item
    violates integrity (and is not run: the fake is instant); the rig's own reference
    run (no ELF) is real."""
    def run_case(self, elf, irqs=(), max_cycles=rig_mod.CASE_CYCLES):
        if elf is None:
            return original(self, elf, irqs, max_cycles)
        bad = ": store" in Path(elf).with_suffix(".S").read_text()
        return rig_mod.CaseResult([PLANTED] if bad else [], {"integrity": 1} if bad else {},
                                  {"exit cause 10": 1}, 1000, "pass", 0.0)
    return run_case


def test_a_planted_violation_is_shrunk_saved_and_replayable(tmp_path, monkeypatch, capsys):
    """The campaign stops at the planted violation, records when it was found, and
    saves the shrunk case (one store item) as a folder that --replay runs again."""
    monkeypatch.setattr(rig_mod.Rig, "run_case", planted_run_case(rig_mod.Rig.run_case))
    out = tmp_path / "out"
    s = cmp.run_campaign(0.5, 1, out, seed=4, properties="integrity,gstage",
                         stop_on_violation=True, progress=False)
    assert s.wall_s < 25 and s.first_violation_s is not None and s.first_property == "integrity"
    assert [v.property for v in s.violations] == ["integrity"]
    folder = s.violations[0].folder
    assert folder.parent == out / "violations" and folder.name.startswith("integrity-")
    files = {p.name for p in folder.iterdir()}
    assert files == {"adversary.elf", "adversary.S", "case.json", "report.txt", "README"}
    listing = (folder / "adversary.S").read_text()
    assert listing.count("/* item ") == 1 and ": store" in listing
    case = json.loads((folder / "case.json").read_text())
    assert (case["property"], case["cycle"], case["address"]) == ("integrity", 123_456,
                                                                  0x8020_0000)
    assert case["items"] == ["store"] and case["irqs"] == [] and case["seed"] == 4
    assert case["violations"] == [PLANTED.line()] and case["program_length"] <= 4
    report = (folder / "report.txt").read_text()
    assert "integrity" in report and "cycle 123456" in report and "0x80200000" in report
    assert "planted" in report
    assert f"hvsim fuzz isolation --replay {folder}" in (folder / "README").read_text()
    data = summary_of(out)
    assert data["violations_by_property"] == {"integrity": 1, "gstage": 0}
    assert data["median_program_length"] == case["program_length"]
    assert data["first_violation_s"] == pytest.approx(s.first_violation_s, abs=0.01)
    assert any((out / "db").rglob("*")), "the database keeps the failure"

    capsys.readouterr()
    assert main(["fuzz", "isolation", "--replay", str(folder)]) == cmp.EXIT_STILL_VIOLATES == 3
    text = capsys.readouterr().out
    assert PLANTED.line() in text and "integrity: still violates" in text
    monkeypatch.undo()
    assert cmp.cmd_replay(folder) == 0
    assert "integrity: no longer violates" in capsys.readouterr().out


GSTAGE_BUG = ("    return map_range(vm->gpt, GUEST_RAM_BASE, vm->cfg->base, vm->cfg->size);",
              "    return map_range(vm->gpt, GUEST_RAM_BASE, vm->cfg->base, "
              "vm->cfg->size + PAGE);")


def test_a_firmware_mutant_is_detected(tmp_path, monkeypatch):
    """Firmware whose G-stage maps one page past each partition: the campaign (on
    ``src_dir``, only the gstage property) saves a gstage violation at once."""
    import shutil

    from hypervisor.build import HV_SRC

    # Rig._boot polls V=1 every BOOT_STEP cycles and misses the guests of this
    # firmware at 2,000; a fine step finds them (no-op once the rig stops exactly).
    monkeypatch.setattr(rig_mod, "BOOT_STEP", 100, raising=False)

    src = tmp_path / "src"
    shutil.copytree(HV_SRC, src)
    gstage = src / "arch" / "riscv" / "gstage.c"
    text = gstage.read_text()
    assert GSTAGE_BUG[0] in text, "gstage.c changed: update the test's edit"
    gstage.write_text(text.replace(*GSTAGE_BUG))
    s = cmp.run_campaign(0.5, 1, tmp_path / "out", src_dir=src, build_dir=tmp_path / "build",
                         properties=["gstage"], seed=2, stop_on_violation=True,
                         progress=False)
    assert s.reference_violations and "gstage" in s.reference_violations
    assert [v.property for v in s.violations] == ["gstage"]
    case = json.loads((s.violations[0].folder / "case.json").read_text())
    assert case["src_dir"] == str(src) and any("gstage" in line for line in case["violations"])


def test_the_seed_corpus_runs_first_and_is_reported_as_such(tmp_path):
    """Worker 0 runs ``gen.SEEDS`` before searching: against firmware whose virtual UART
    gives any VM the console input, the console seed is the (unshrunk) violation, named
    in case.json and the report, and left out of the shrunk-length median."""
    from tools.isolation.gen import SEEDS
    from tools.mutate.firmware import apply

    src = apply("vuart-rx-any-vm", tmp_path / "src")
    s = cmp.run_campaign(0.3, 1, tmp_path / "out", src_dir=src, build_dir=tmp_path / "b",
                         seed=3, kinds="adversary", stop_on_violation=True, progress=False)
    assert [v.property for v in s.violations] == ["confidentiality"]
    found = s.violations[0]
    assert found.corpus == SEEDS[0].program.items[0].note and s.median_length is None
    case = json.loads((found.folder / "case.json").read_text())
    assert case["corpus"] == found.corpus and case["items"] == ["seed"]
    assert "console input" in case["detail"]
    assert f"the seed case '{found.corpus}'" in (found.folder / "report.txt").read_text()


def test_the_seed_mixes_run_first_and_are_reported_as_such(tmp_path):
    """A mix campaign's worker 0 runs ``mix.SEED_MIXES`` before its first mix search:
    against a scheduler whose round-robin pointer never moves, the round-robin seed mix
    breaks ``handover`` and is saved as that seed, not shrunk."""
    from tools.isolation.mix import SEED_MIXES
    from tools.mutate.firmware import apply

    src = apply("rr-pointer-not-advanced", tmp_path / "src")
    s = cmp.run_campaign(0.5, 1, tmp_path / "out", src_dir=src, build_dir=tmp_path / "b",
                         seed=3, kinds="mix", stop_on_violation=True, progress=False)
    assert [(v.property, v.kind) for v in s.violations] == [("handover", "mix")]
    found = s.violations[0]
    assert found.corpus == SEED_MIXES[0].note
    case = json.loads((found.folder / "case.json").read_text())
    assert case["corpus"] == found.corpus and case["shrunk_from"] == 3
    assert f"the seed mix '{found.corpus}'" in (found.folder / "report.txt").read_text()
    assert (found.folder / cmp.MIX_NAME).read_text() == SEED_MIXES[0].toml()


@pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                    reason="ray is not installed (pip install 'hvsim[cluster]')")
def test_ray_local_cluster_runs_the_workers(tmp_path):
    """``--cluster local``: the workers are Ray tasks on a local instance; their
    counts reach the parent and their database entries come back."""
    out = tmp_path / "out"
    s = cmp.run_campaign(0.25, 1, out, seed=7, cluster="local", progress=False)
    assert s.cluster == "ray local" and not s.errors
    assert s.cases >= 1 and s.per_worker[0].cases == s.cases and s.per_worker[0].boot_s > 0
    assert summary_of(out)["cluster"] == "ray local"
    assert s.coverage and (out / "coverage.json").is_file()
    assert any((out / "db").rglob("*")), "the task's database entries came back"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args, message", [
    (["--minutes", "0"], "--minutes must be positive"),
    (["--minutes", "1", "--workers", "0"], "--workers must be at least 1"),
    (["--minutes", "1", "--properties", "integrity,bogus"], "unknown property 'bogus'"),
    (["--minutes", "1", "--cluster", "ray://nohost"], "bad --cluster address"),
    (["--minutes", "1", "--cluster", "ray://127.0.0.1:1"], "cannot reach the Ray cluster"),
    (["--minutes", "1", "--max-items", "0"], "--max-items"),
    (["--minutes", "1", "--config", "nope"], "nope"),
    (["--minutes", "1", "--kinds", "adversary,bogus"], "unknown case kind 'bogus'"),
    (["--minutes", "1", "--kinds", "mix", "--time-protection"],
     "mix cases do not run with --time-protection"),
    ([], "--minutes N is required"),
])
def test_bad_input_is_one_line(tmp_path, capsys, args, message):
    code = main(["fuzz", "isolation", "--out", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("hvsim: error: ")
    assert message in err


def test_unwritable_output_missing_ray_and_bad_replay_are_one_line(tmp_path, capsys,
                                                                    monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    not_a_case = tmp_path / "nothing"
    not_a_case.mkdir()
    cases = [(["--minutes", "1", "--out", str(blocker / "out")], "cannot write campaign folder"),
             (["--replay", str(not_a_case)], "no case.json"),
             (["--minutes", "1", "--out", str(tmp_path / "o"), "--cluster", "local"],
              "pip install 'hvsim[cluster]'")]
    monkeypatch.setitem(sys.modules, "ray", None)
    for args, message in cases:
        code = main(["fuzz", "isolation", *args])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and message in err, (args, err)
    (not_a_case / "case.json").write_text("{")
    with pytest.raises(IsolationError, match="not a case file"):
        cmp.load_case(not_a_case)


def test_property_and_cluster_parsing():
    assert cmp.parse_properties(None) == tuple(PROPERTIES)
    assert cmp.parse_properties("gstage, integrity") == ("integrity", "gstage")
    assert cmp.parse_properties(["availability"]) == ("availability",)
    with pytest.raises(IsolationError, match="valid: integrity"):
        cmp.parse_properties("integrity,nope,nah")
    assert cmp.parse_cluster("ray://head.example:10001") == "ray://head.example:10001"
    assert cmp.parse_cluster("local") == "local" and cmp.parse_cluster(None) is None
    for bad in ("head:10001", "ray://head:0", "ray://head:99999", "ray://:1"):
        with pytest.raises(IsolationError, match="bad --cluster"):
            cmp.parse_cluster(bad)


def test_time_protected_campaign_finds_an_unpadded_switch(tmp_path, capsys):
    """--time-protection: a campaign against firmware whose window switches are not
    padded (mutant tp-pad-skipped) saves a timing violation that --replay, on the
    time-protected rig again, still reproduces."""
    from tools.mutate.firmware import apply

    src = apply("tp-pad-skipped", tmp_path / "src")
    s = cmp.run_campaign(0.5, 1, tmp_path / "out", src_dir=src, build_dir=tmp_path / "build",
                         seed=3, stop_on_violation=True, progress=False,
                         time_protection=True)
    assert [v.property for v in s.violations] == ["timing"], s.table()
    folder = s.violations[0].folder
    case = json.loads((folder / "case.json").read_text())
    assert case["time_protection"] is True and case["kind"] == "adversary"
    capsys.readouterr()
    assert main(["fuzz", "isolation", "--replay", str(folder)]) == cmp.EXIT_STILL_VIOLATES
    assert "timing: still violates" in capsys.readouterr().out
