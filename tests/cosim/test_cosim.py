"""Lockstep co-simulation against Spike (tools/cosim.py, docs/cosim.md).

Every ISA test co-simulates with no divergence; a program driving the harness
interrupt lines through an irq schedule does too; the checker catches a real
difference on both sides (a model with one ALU net mutated, a Spike register flipped)
and names the right record and field; bad input gives one-line CosimErrors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyrtl
import pytest

import hardware.sim.machine as machine_module
from hardware.config import DEFAULT, CoreConfig, SocConfig
from hardware.sim.machine import Machine
from hardware.soc.soc import elaborate
from tests.isa.suite import build_test, list_tests
from tools import cosim
from tools.cosim import CosimError, add_parser, cosim_elf
from tools.cosim_spike import SpikeHart

HERE = Path(__file__).resolve().parent
#: Known model-vs-Spike differences that stop an ISA test (docs/cosim.md, "Findings").
KNOWN: dict[str, str] = {}
#: The harness-line program and its schedule: line 0 up then down, line 1 up then
#: down, line 2 up while the program waits in WFI.
IRQ_LINES = HERE / "irq_lines.S"
IRQ_SCHEDULE = [(3000, 0b001), (8000, 0), (14000, 0b010), (20000, 0), (30000, 0b100)]


@pytest.fixture(scope="module")
def machine() -> Machine:
    return Machine(DEFAULT)


def _isa_params():
    for path in list_tests():
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN[path.stem])] \
            if path.stem in KNOWN else []
        yield pytest.param(path, id=path.stem, marks=marks)


def _isa_elf(name: str) -> Path:
    (path,) = [p for p in list_tests() if p.stem == name]
    return build_test(path, DEFAULT)


@pytest.mark.parametrize("source", _isa_params())
def test_isa_suite_has_no_divergence(source, machine):
    result = cosim_elf(build_test(source, DEFAULT), DEFAULT, machine=machine)
    assert result.divergence is None, result.divergence.report()
    assert result.ok and result.exit_code == 0, result.reason
    assert result.instructions > 100


def test_interrupt_tests_exercise_the_synchronisation_rules(machine):
    rules = {}
    for name in ("irq_timer", "irq_soft", "irq_plic", "irq_priority", "irq_vectored"):
        result = cosim_elf(_isa_elf(name), DEFAULT, machine=machine)
        assert result.ok, result.reason
        for rule, n in result.rules.items():
            rules[rule] = rules.get(rule, 0) + n
    for rule in ("irq", "mask", "mtime", "wfi", "mip", "device", "bootrom"):
        assert rules[rule] > 0, rule


def test_harness_irq_lines_follow_the_schedule(machine):
    elf = build_test(IRQ_LINES, DEFAULT, defines={"HARNESS_LINES": DEFAULT.harness_irq_lines})
    result = cosim_elf(elf, DEFAULT, machine=machine, irq_schedule=IRQ_SCHEDULE)
    assert result.ok, result.divergence.report() if result.divergence else result.reason
    assert result.rules["lines"] >= 3 and result.rules["wfi"] >= 1
    assert result.rules["irq"] == 2
    # without the lines nothing interrupts: the program only spins
    quiet = cosim_elf(elf, DEFAULT, machine=machine, max_instructions=20_000)
    assert quiet.divergence is None and not quiet.ok and quiet.traps == 0


# --------------------------------------------------------------------------- real differences


def _alu_xor_becomes_or(cfg: SocConfig) -> pyrtl.Block:
    """The SoC with the ALU's 64-bit XOR net turned into an OR (a wrong-operator mutant)."""
    block = pyrtl.working_block(elaborate(cfg))
    _, sinks = block.net_connections()

    def reaches(wire, name: str, depth: int = 12) -> bool:
        frontier = {wire}
        for _ in range(depth):
            if any(w.name == name for w in frontier):
                return True
            frontier = {d for w in frontier for n in sinks.get(w, ()) for d in n.dests}
        return False

    (net,) = [n for n in block.logic if n.op == "^" and n.dests[0].bitwidth == 64
              and reaches(n.dests[0], "alu_result")]
    block.logic.remove(net)
    block.add_net(pyrtl.LogicNet("|", None, net.args, net.dests))
    return block


@pytest.fixture(scope="module")
def mutant() -> Machine:
    """A Machine of the XOR->OR mutant (its own build-cache key)."""
    patch = pytest.MonkeyPatch()
    key = machine_module.design_key
    patch.setattr(machine_module, "elaborate", _alu_xor_becomes_or)
    patch.setattr(machine_module, "design_key", lambda cfg: key(cfg) + "-test-alu-xor-or")
    try:
        return Machine(DEFAULT)
    finally:
        patch.undo()


def test_mutated_alu_is_caught_at_the_first_xor(mutant):
    result = cosim_elf(_isa_elf("rv64i_alu"), DEFAULT, machine=mutant)
    div = result.divergence
    assert not result.ok and div is not None
    assert div.field == "rd_wdata"
    assert div.model.insn & 0xFE00707F == 0x00004033  # xor
    assert div.model.rd_wdata == div.spike.rd_wdata | div.model.rd_wdata  # OR sets more bits
    report = div.report()
    assert "xor a0,a1,a2" in report and "<- differs" in report
    assert report.count("model ") >= 32 and "csr_mtvec" in report
    assert div.model_history[-1] == div.model and len(div.model_history) == 32


def test_spike_register_flip_is_caught_at_that_record(machine, monkeypatch):
    flip_at = 150
    calls = {"n": 0}
    real_step = SpikeHart.step

    def step(self):
        out = real_step(self)
        calls["n"] += 1
        if calls["n"] > flip_at and out.kind == "retired" and self.written_regs() \
                and "flipped" not in calls:
            reg = self.written_regs()[0]
            self.set_reg(reg, self.reg(reg) ^ 0x10)
            calls["flipped"] = (calls["n"] - 1, reg)
        return out

    monkeypatch.setattr(SpikeHart, "step", step)
    result = cosim_elf(_isa_elf("rv64m"), DEFAULT, machine=machine)
    index, reg = calls["flipped"]
    div = result.divergence
    assert div is not None and (div.index, div.field) == (index, "rd_wdata")
    assert div.spike.rd_wdata ^ div.model.rd_wdata == 0x10 and div.model.rd == reg
    assert div.spike_regs[reg] != div.model_regs[reg]


def test_cli_reports_a_divergence_and_writes_the_report(mutant, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cosim, "_machine_for", lambda machine, cfg: mutant)
    args = _parser().parse_args(["cosim", str(_isa_elf("rv64i_alu")),
                                 "--report", str(tmp_path / "div.txt")])
    assert args.func(args) == cosim.EXIT_DIVERGENCE
    out = capsys.readouterr().out
    assert "field rd_wdata" in out
    assert "xor a0,a1,a2" in (tmp_path / "div.txt").read_text()


def test_cli_passes_a_clean_program(machine, monkeypatch, capsys):
    monkeypatch.setattr(cosim, "_machine_for", lambda m, cfg: machine)
    args = _parser().parse_args(["cosim", str(_isa_elf("rv64c")), "--max-instructions", "5000"])
    assert args.func(args) == cosim.EXIT_OK
    assert "no divergence" in capsys.readouterr().out
    args = _parser().parse_args(["cosim", str(_isa_elf("rv64m")), "--max-instructions", "50"])
    assert args.func(args) == cosim.EXIT_INCOMPLETE


# --------------------------------------------------------------------------- bad input


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hvsim")
    add_parser(parser.add_subparsers(dest="command"))
    return parser


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_missing_elf(tmp_path, machine):
    with pytest.raises(CosimError) as exc:
        cosim_elf(tmp_path / "nope.elf", machine=machine)
    assert "not found" in _one_line(exc)


def test_not_an_elf(tmp_path, machine):
    bad = tmp_path / "bad.elf"
    bad.write_bytes(b"\x7fELF not really")
    with pytest.raises(CosimError) as exc:
        cosim_elf(bad, machine=machine)
    assert str(bad) in _one_line(exc)


def test_missing_spike_package(monkeypatch, machine):
    from tools import cosim_spike

    monkeypatch.setattr(cosim_spike, "_HARTS", {})
    monkeypatch.setitem(sys.modules, "riscv", None)
    with pytest.raises(CosimError) as exc:
        cosim_elf(_isa_elf("rv64c"), machine=machine)
    assert "pip install spike" in _one_line(exc)


def test_bad_arguments(machine):
    elf = _isa_elf("rv64c")
    with pytest.raises(CosimError, match="max_instructions"):
        cosim_elf(elf, machine=machine, max_instructions=0)
    with pytest.raises(CosimError, match="irq_schedule"):
        cosim_elf(elf, machine=machine, irq_schedule=[(10, 1 << 7)])
    with pytest.raises(CosimError, match="different SocConfig"):
        cosim_elf(elf, SocConfig(ram_size=1 << 20), machine=machine)
    with pytest.raises(SystemExit):
        _parser().parse_args(["cosim", str(elf), "--max-instructions", "-3"])


def test_cli_unwritable_report(tmp_path):
    args = _parser().parse_args(["cosim", str(_isa_elf("rv64c")),
                                 "--report", str(tmp_path / "no" / "such" / "r.txt")])
    with pytest.raises(CosimError) as exc:
        args.func(args)
    assert "not a writable folder" in _one_line(exc)


def test_wfi_exit_keeps_a_following_sie_write(machine):
    """Regression: leaving a WFI, the checker restored Spike's mie after the next
    instruction and so undid that instruction's write of sie (fuzzer reproducer)."""
    elf = build_test(HERE / "wfi_mie.S", DEFAULT)
    result = cosim_elf(elf, DEFAULT, machine=machine)
    assert result.divergence is None, result.divergence.report()
    assert result.ok and result.exit_code == 0



def test_page_crossing_load_store_agrees(machine):
    """Regression (CPU fuzzer, paging programs): a load/store whose 32-bit instruction
    crosses into a page that misses in the TLB. The MMU started a second walk in the
    cycle the second parcel hit, and the access then left under that walk, using the
    data port the walker owned (hardware/mmu/mmu.py: no walk for a parcel that hits;
    no commit while a walk is in progress)."""
    elf = build_test(HERE / "vm_cross_page_load.S", DEFAULT)
    result = cosim_elf(elf, DEFAULT, machine=machine)
    assert result.divergence is None, result.divergence.report()
    assert result.ok and result.exit_code == 0


@pytest.mark.parametrize("name", ["h_vstimecmp_stce", "h_hlvx_pmp"])
def test_h_fuzzer_reproducers_agree(machine, name):
    """Regressions found by the CPU fuzzer's hypervisor programs: vstimecmp accessed from
    VS/VU while menvcfg.STCE = 0 is illegal (Sstc's check comes before the
    virtual-instruction one, as for stimecmp); HLVX needs the PMP to grant read and
    execute (a load access fault otherwise)."""
    elf = build_test(HERE / f"{name}.S", DEFAULT)
    result = cosim_elf(elf, DEFAULT, machine=machine)
    assert result.divergence is None, result.divergence.report()
    assert result.ok and result.exit_code == 0
