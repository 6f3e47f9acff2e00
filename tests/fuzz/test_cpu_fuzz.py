"""Differential CPU fuzzing (docs/fuzzing-cpu.md): generated programs co-simulate with
Spike without divergence, the signature oracle agrees, and ``hvsim fuzz cpu`` runs,
saves shrunk failures and rejects bad input."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from hardware.config import DEFAULT
from tools.fuzz import FuzzError
from tools.fuzz import campaign as cmp
from tools.fuzz.campaign import (CampaignOptions, Oracle, Outcome, add_parser, prepare_out,
                                 run_campaign)
from tools.fuzz.gen import GenOptions, Program, programs, random_program

needs_cosim = pytest.mark.skipif(not cmp.cosim_available(),
                                 reason="tools.cosim or the spike bindings are missing")

_ORACLES: dict[str, Oracle] = {}


def oracle(kind: str, tmp: Path) -> Oracle:
    """One oracle (and compiled Machine) per kind for the whole module."""
    if kind not in _ORACLES:
        _ORACLES[kind] = Oracle(DEFAULT, tmp, kind)
    return _ORACLES[kind]


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# --------------------------------------------------------------------------- the property


@needs_cosim
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=programs(DEFAULT, length=200, min_length=40,
                        options=GenOptions(external_irqs=True)))
def test_generated_programs_cosimulate(program, tmp_path_factory):
    """Every generated program (harness interrupt lines included) ends and co-simulates
    with Spike with no divergence."""
    orc = oracle("cosim", tmp_path_factory.getbasetemp())
    assert orc.options == program.options
    outcome = orc.run(program)
    assert outcome.ok, f"{outcome.reason}\n{outcome.report}\n{program.asm()}"


def _cosimulate_kind(work, count: int, first_seed: int, wanted):
    """Co-simulate ``count`` random programs (seeds from ``first_seed``) that ``wanted``
    accepts; each must agree with Spike. Returns their coverage."""
    from tools.fuzz.coverage import Coverage

    orc = oracle("cosim", work)
    cov = Coverage()
    seed = first_seed
    while cov.programs < count:
        program = random_program(seed, length=300, options=orc.options)
        seed += 1
        if not wanted(program):
            continue
        outcome = orc.run(program)
        assert outcome.ok, f"{outcome.reason}\n{outcome.report}"
        cov.observe(outcome.records, program.body_range, program.tags)
    return cov


@needs_cosim
def test_paging_programs_cosimulate(work):
    """Paging programs (Sv39 in S and U, PTE changes and fences, SUM/MXR/MPRV, every
    page-fault cause) co-simulate with Spike and cover superpages and all fence forms."""
    cov = _cosimulate_kind(work, 12, 10_000, lambda program: program.vm)
    assert {"LOAD_PAGE_FAULT", "STORE_PAGE_FAULT", "FETCH_PAGE_FAULT"} <= \
        {n for n, _ in cov.causes}
    assert {t for t, _, _, o in cov.vm if o == "ok"} >= {"4k", "2m", "1g"}


@needs_cosim
def test_hypervisor_programs_cosimulate(work):
    """Hypervisor programs (VS/VU through both stages, HLV/HSV, HFENCE, delegation to
    VS, VSSIP injection) co-simulate with Spike and reach every trap target."""
    cov = _cosimulate_kind(work, 10, 20_000, lambda program: program.hv)
    assert {t for _, t in cov.targets} == {"M", "HS", "VS"}
    assert {m for _, m in cov.vexits} == {"VS", "VU"}
    assert {"FETCH_GUEST_PAGE_FAULT", "LOAD_GUEST_PAGE_FAULT", "STORE_GUEST_PAGE_FAULT",
            "VIRTUAL_INSTRUCTION"} <= {n for n, _ in cov.causes}
    assert {s for s, _ in cov.gpf} == {"implicit", "final"}
    assert {n for n, _, _, o in cov.hfence if o == "ok"} == {"hfence.vvma", "hfence.gvma"}


@needs_cosim
def test_external_interrupts_reach_both_modes(work):
    """Programs with PLIC items and a line schedule take MEI in M and SEI in M and S."""
    from tools.fuzz.coverage import Coverage

    orc = oracle("cosim", work)
    cov = Coverage()
    for seed in range(25):
        program = random_program(seed, length=300, options=orc.options)
        outcome = orc.run(program)
        assert outcome.ok, outcome.reason
        cov.observe(outcome.records, program.body_range)
    assert {("irq MEI", "M"), ("irq SEI", "M"), ("irq SEI", "S")} <= set(cov.causes)


def test_signature_oracle_agrees(work):
    """Without lockstep: the model's and Spike's signatures (exit codes) are equal."""
    orc = oracle("spike", work)
    assert orc.options == GenOptions(signature=True)
    # Without paging: Spike's --instructions limit (tools/spike.py) charges a whole
    # 5,000-step interleave chunk at every trap, so trap-heavy paging programs reach the
    # oracle's limit before they end (docs/fuzzing-cpu.md, Findings).
    options = dataclasses.replace(orc.options, paging=False)
    for seed in range(4):
        program = random_program(seed, length=150, options=options)
        outcome = orc.run(program)
        assert outcome.ok, outcome.reason
        assert outcome.records


def test_signature_oracle_detects_a_difference(work, monkeypatch):
    """The signature oracle fails when the two sides disagree (Spike's result forged)."""
    from tools import spike

    orc = oracle("spike", work)
    real = spike.run_spike

    def forged(*args, **kwargs):
        result = real(*args, **kwargs)
        return spike.SpikeResult(result.exit_code + 1, "", "", False)

    monkeypatch.setattr(spike, "run_spike", forged)
    outcome = orc.run(random_program(1, length=60, options=orc.options))
    assert not outcome.ok and "signatures differ" in outcome.reason


# --------------------------------------------------------------------------- campaigns


@needs_cosim
def test_campaign_runs_and_reports(tmp_path, monkeypatch):
    """A short campaign (fresh Hypothesis searches every 4 programs) checks programs,
    finds nothing, writes coverage and a summary."""
    monkeypatch.setattr(cmp, "SEARCH_PROGRAMS", 4)
    result = run_campaign(CampaignOptions(minutes=0.1, workers=1, out=tmp_path, seed=3,
                                          length=60), stream=None)
    assert result.programs >= 5 and not result.failures and not result.errors
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["programs"] == result.programs and summary["oracle"] == "cosim"
    text = (tmp_path / "coverage.txt").read_text()
    assert "causes x handling mode" in text and "privilege-state transitions" in text
    assert result.coverage.retire_fraction > 0.9


@needs_cosim
def test_campaign_saves_shrunk_failures(tmp_path, monkeypatch):
    """An injected failure (any program with an AMO fails) is shrunk and saved as ELF,
    listing, report and JSON; the database keeps it, and the exit status says so."""
    def fake_run(self, program: Program) -> Outcome:
        bad = any(i.name.startswith("amo") for i in program.insns)
        return Outcome(not bad, len(program.insns), "injected failure" if bad else "ok",
                       "divergence report" if bad else "")

    monkeypatch.setattr(Oracle, "run", fake_run)
    result = run_campaign(CampaignOptions(minutes=0.1, workers=1, out=tmp_path, seed=5,
                                          length=80), stream=None)
    assert result.failures and not result.errors
    folder = tmp_path / "failures" / result.failures[0]
    for name in ("prog.elf", "prog.S", "report.txt", "program.json"):
        assert (folder / name).is_file(), name
    program = Program.from_json(json.loads((folder / "program.json").read_text()))
    assert any(i.name.startswith("amo") for i in program.insns)
    assert len(program.items) <= 3
    assert "injected failure" in (folder / "report.txt").read_text()
    assert any((tmp_path / "db").rglob("*"))


def test_campaign_rejects_bad_input(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FuzzError, match="cannot write campaign folder"):
        prepare_out(blocker / "out")
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(FuzzError, match="cannot write campaign folder"):
            prepare_out(ro / "out")
    for bad, match in ((dict(minutes=0), "--minutes"), (dict(workers=0), "--workers"),
                       (dict(length=0), "--length"), (dict(config="nope"), "unknown config")):
        opts = dict(minutes=1, workers=1, out=tmp_path)
        opts.update(bad)
        with pytest.raises(FuzzError, match=match):
            CampaignOptions(**opts).check()
    with pytest.raises(FuzzError, match="unknown oracle"):
        Oracle(DEFAULT, tmp_path, "magic")


def test_cli_parser():
    """``hvsim fuzz cpu`` registers with the given subparsers and parses its options."""
    parser = argparse.ArgumentParser(prog="hvsim")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["fuzz", "cpu", "--minutes", "2.5", "--workers", "3",
                              "--seed", "9", "--out", "x"])
    assert (args.minutes, args.workers, args.seed, args.out) == (2.5, 3, 9, "x")
    assert args.func is cmp.cmd_fuzz_cpu


REGRESSIONS = sorted((Path(__file__).parent / "regressions").glob("*.json"))


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_saved_failures_agree_with_spike(tmp_path, path):
    """Programs the campaigns found failing (shrunk), kept as regressions:
    vs_superpage_fence.json: a VS-mode SFENCE.VMA by address inside a 2 MiB VS page
    whose translation the TLB holds as a 4 KiB piece (G stage 4 KiB) must remove that
    piece (hardware/mmu/tlb.py ``_flush_compare_h``); hvip_storm.json: a generator bug,
    a random CSR write set hvip.VSTIP/VSEIP in a program whose runtime never clears
    them (an endless HS interrupt storm; gen.CSR_WRITE_RULE now keeps hvip/hip out)."""
    from tools.cosim import cosim_elf
    program = Program.from_json(json.loads(path.read_text()))
    elf = program.build(tmp_path)
    result = cosim_elf(elf, DEFAULT, max_instructions=200_000)
    assert result.divergence is None, result.divergence.report()
    assert result.exit_code == 0
