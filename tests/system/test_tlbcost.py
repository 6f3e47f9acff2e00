"""The translation cycle costs of docs/mmu.md and docs/h-extension.md, measured on the
whole SoC by guests/bare/tlbcost.c (what ``hvsim bench`` reports); the same program
passes on Spike, so its page tables and loads are architecturally right."""

from __future__ import annotations

from guests.bare.build import build_program
from hardware.config import VARIANTS
from tools.bench import measure_tlb_costs
from tools.spike import run_spike


def test_translation_costs_on_the_model():
    costs = measure_tlb_costs("default")
    assert costs["failures"] == 0
    assert (costs["hit"], costs["s_miss"], costs["two_stage_miss"], costs["two_stage_hit"],
            costs["g_only_miss"]) == (0, 3, 15, 0, 3)


def test_translation_costs_without_h():
    costs = measure_tlb_costs("noh")
    assert (costs["hit"], costs["s_miss"], costs["two_stage_miss"]) == (0, 3, -1)


def test_tlbcost_program_passes_on_spike():
    cfg = VARIANTS["default"]
    result = run_spike(build_program("tlbcost", cfg), cfg, timeout_s=60)
    assert result.exit_code == 0 and "failures 0" in result.stdout_uart_text
