"""The translation cycle costs of docs/mmu.md and docs/h-extension.md, measured on the
whole SoC by guests/bare/tlbcost.c (what ``hvsim bench`` reports); the same program
passes on Spike, so its page tables and loads are architecturally right."""

from __future__ import annotations

from guests.bare.build import build_program
from hardware.config import VARIANTS
from tools.bench import measure_tlb_costs
from tools.spike import run_spike
from tools.toolchain import BUILD_DIR

#: Where the tiny programs of this module are built.
BUILD_TMP = BUILD_DIR / "tests" / "tlbcost"


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


def test_event_counters_count_walks_and_translated_accesses():
    """``Machine.counters`` (docs/mmu.md "Event counters"): an M-mode program translates
    nothing; tlbcost's three miss cases are its only walks (its MPRV loads are its only
    translated accesses: more than the walks, far fewer than its instructions)."""
    from hardware.sim.elf import load_elf
    from hardware.sim.machine import Machine
    from tests.system.tiny_programs import build

    cfg = VARIANTS["default"]
    machine = Machine(cfg)
    machine.load(load_elf(build("pass", BUILD_TMP), cfg))
    machine.run(1000)
    assert {k: machine.counters()[k] for k in ("tlb_walks", "tlb_lookups")} == {
        "tlb_walks": 0, "tlb_lookups": 0}
    machine.load(load_elf(build_program("tlbcost", cfg), cfg))
    out = machine.run(5_000_000)
    c = machine.counters()
    assert out.status == "pass"
    assert c["cycles"] == out.cycles and c["instret"] == out.instret
    assert c["tlb_walks"] == 3
    assert 3 < c["tlb_lookups"] < out.instret // 10
