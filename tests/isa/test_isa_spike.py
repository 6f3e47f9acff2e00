"""Build every ISA test and run it on Spike, the golden model (ARCHITECTURE.md section 5).

A pass on Spike proves the test itself right; the same ELFs then run on the PyRTL model.
"""

from __future__ import annotations

import dataclasses

import pytest

from hardware.config import DEFAULT, VARIANTS
from tests.isa.suite import (MUST_FAIL, MUST_FAIL_CASE, MUST_FAIL_KINDS, build_test, list_tests,
                             supports)
from tools.spike import run_spike

TESTS = list_tests()
#: The default configuration with the hypervisor extension, for tests that require it.
H_CONFIG = dataclasses.replace(DEFAULT, core=dataclasses.replace(DEFAULT.core, has_h=True))


def spike_config(path):
    """The default configuration, or H_CONFIG for a test that requires the H extension."""
    return DEFAULT if supports(DEFAULT, path) else H_CONFIG


def test_suite_is_not_empty():
    """The suite finds its sources."""
    assert len(TESTS) >= 10


@pytest.mark.parametrize("path", TESTS, ids=[p.stem for p in TESTS])
def test_isa_on_spike(path):
    """The test passes on Spike with the default configuration (with H if it needs it)."""
    cfg = spike_config(path)
    elf = build_test(path, cfg)
    result = run_spike(elf, cfg, timeout_s=60)
    assert result.exit_code == 0, (
        f"{path.name}: case {result.exit_code} failed\n{result.log[-2000:]}")


OTHER_VARIANTS = sorted(set(VARIANTS) - {"default"})


@pytest.mark.parametrize("name", OTHER_VARIANTS)
@pytest.mark.parametrize("path", TESTS, ids=[p.stem for p in TESTS])
def test_isa_variants_on_spike(name, path):
    """The tests also pass on the other named configurations (less RAM, no PMP, ...)."""
    cfg = VARIANTS[name]
    if not supports(cfg, path):
        pytest.skip(f"'{name}' lacks a feature {path.name} requires")
    result = run_spike(build_test(path, cfg), cfg, timeout_s=60)
    assert result.exit_code == 0, f"{path.name} on '{name}': case {result.exit_code} failed"


@pytest.mark.parametrize("kind", MUST_FAIL_KINDS)
def test_harness_reports_failures(kind):
    """A deliberately wrong test fails with its case number (the suite can fail)."""
    elf = build_test(MUST_FAIL, DEFAULT, defines={"FAIL_KIND": kind}, name=f"must_fail_{kind}")
    result = run_spike(elf, DEFAULT, timeout_s=60)
    assert result.exit_code == MUST_FAIL_CASE


def test_harness_passes_without_failure():
    """The same source with no failure kind passes."""
    elf = build_test(MUST_FAIL, DEFAULT, defines={"FAIL_KIND": 0}, name="must_fail_0")
    assert run_spike(elf, DEFAULT, timeout_s=60).exit_code == 0
