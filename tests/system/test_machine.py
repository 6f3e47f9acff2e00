"""Tests of the machine runner ``hardware/sim/machine.py`` on tiny programs: exit codes
(HTIF and finisher), UART in both directions, harness interrupt lines, timeouts with
the retirement history, the retirement trace, the VCD window and backend equivalence.
"""

from __future__ import annotations

import pytest

from hardware.config import DEFAULT, VARIANTS
from hardware.sim.elf import load_elf
from hardware.sim.machine import (Machine, MachineError, Retired, copy_state, design_key,
                                  writable_memories)
from hardware.soc.soc import elaborate
from tests.system.tiny_programs import build

RAM_BASE = 0x8000_0000


@pytest.fixture(scope="module")
def elfs(tmp_path_factory):
    """Every tiny program, built once per module."""
    out = tmp_path_factory.mktemp("tiny")
    names = ("pass", "fail3", "finisher5", "uart", "loop", "echo", "irq", "mix")
    return {n: load_elf(build(n, out), DEFAULT) for n in names}


@pytest.fixture(scope="module")
def machine():
    """One compiled-backend machine (the .so is cached across sessions)."""
    return Machine(DEFAULT, "compiled")


def test_pass(machine, elfs):
    machine.load(elfs["pass"])
    out = machine.run(1000)
    assert (out.status, out.exit_code) == ("pass", 0)
    assert 0 < out.instret <= out.cycles < 1000
    assert out.uart_bytes == b""


def test_htif_fail_code(machine, elfs):
    machine.load(elfs["fail3"])
    out = machine.run(1000)
    assert (out.status, out.exit_code) == ("fail", 3)


def test_finisher_fail_code(machine, elfs):
    machine.load(elfs["finisher5"])
    out = machine.run(1000)
    assert (out.status, out.exit_code) == ("fail", 5)


def test_uart_bytes_and_callback(machine, elfs):
    machine.load(elfs["uart"])
    seen = []
    out = machine.run(10_000, on_uart=seen.append)
    assert out.status == "pass"
    assert out.uart_bytes == b"hello, uart\n"
    assert bytes(seen) == out.uart_bytes


def test_reload_resets_state(machine, elfs):
    """A second load of the same ELF gives the same run (memory and registers reset)."""
    machine.load(elfs["mix"])
    first = machine.run(1000)
    machine.load(elfs["mix"])
    second = machine.run(1000)
    assert first.status == "pass", first
    assert (first.cycles, first.instret, first.uart_bytes) == \
           (second.cycles, second.instret, second.uart_bytes)


def test_run_in_pieces_equals_one_run(machine, elfs):
    machine.load(elfs["uart"])
    whole = machine.run(10_000)
    machine.load(elfs["uart"])
    part = machine.run(7)
    assert part.status == "timeout" and part.cycles == 7
    rest = machine.run(10_000)
    assert (rest.status, rest.cycles, rest.uart_bytes) == \
           (whole.status, whole.cycles, whole.uart_bytes)


def test_timeout_reports_pc_priv_and_history(elfs):
    m = Machine(DEFAULT, "compiled", history=16)
    m.load(elfs["loop"])
    out = m.run(200)
    assert (out.status, out.exit_code, out.cycles) == ("timeout", None, 200)
    assert RAM_BASE <= out.last_pc < RAM_BASE + 0x100
    assert out.priv == 3
    assert len(out.last_retired) == 16
    report = out.timeout_report()
    assert f"pc {out.last_pc:#x}" in report and "privilege M" in report
    assert "addi" in report and ("jal" in report or "c.j" in report)


def test_timeout_without_history_has_no_records(machine, elfs):
    machine.load(elfs["loop"])
    out = machine.run(50)
    assert out.status == "timeout" and out.last_retired == []


def test_uart_rx_echo(machine, elfs):
    """Bytes pushed after the program enabled the RX FIFO (FCR) all arrive."""
    machine.load(elfs["echo"])
    assert machine.run(30).status == "timeout"
    for b in b"ping\n":
        machine.push_uart_rx(b)
    out = machine.run(5000)
    assert out.status == "pass", out.timeout_report()
    assert out.uart_bytes == b"ping\n"


def test_irq_lines_reach_plic_pending(machine, elfs):
    """Harness line 0 is PLIC source 32 - harness_irq_lines (28 by default)."""
    machine.load(elfs["irq"])
    assert machine.run(300).status == "timeout"
    machine.set_irq_lines(1)
    assert machine.run(300).status == "pass"


def test_bad_arguments(machine, elfs):
    with pytest.raises(MachineError, match="backend"):
        Machine(DEFAULT, "verilator")
    with pytest.raises(MachineError, match="positive"):
        machine.load(elfs["pass"])
        machine.run(0)
    with pytest.raises(MachineError, match="0..255"):
        machine.push_uart_rx(256)
    with pytest.raises(MachineError, match="does not fit"):
        machine.set_irq_lines(1 << DEFAULT.harness_irq_lines)
    with pytest.raises(MachineError, match="window"):
        Machine(DEFAULT, "compiled", vcd=("x.vcd", 5, 5))


def test_run_before_load():
    m = Machine(DEFAULT, "compiled")
    with pytest.raises(MachineError, match="load"):
        m.run(10)


def test_trace_records(machine, elfs):
    """The full trace starts in the boot ROM and has one record per instruction."""
    records: list[Retired] = []
    machine.load(elfs["mix"])
    machine.trace_to(records.extend)
    try:
        out = machine.run(1000)
    finally:
        machine.trace_to(None)
    assert out.status == "pass"
    assert records[0].pc == 0x1000
    assert len([r for r in records if not r.trap]) == out.instret
    stores = [r for r in records if r.mem_wmask]
    assert any(r.mem_addr == 0x1000_0000 for r in stores)  # the UART


def test_design_key_depends_on_config():
    assert design_key(DEFAULT) == design_key(DEFAULT)
    assert design_key(DEFAULT) != design_key(VARIANTS["small"])


def _run_all(backend: str, elf) -> tuple:
    m = Machine(DEFAULT, backend)
    m.load(elf)
    out = m.run(2000)
    return out.status, out.exit_code, out.cycles, out.instret, out.uart_bytes


def test_backends_agree(elfs):
    """compiled, fast and interp: same UART output, exit code, cycles and instret."""
    results = {b: _run_all(b, elfs["mix"]) for b in ("compiled", "fast", "interp")}
    assert results["compiled"][0] == "pass"
    assert results["compiled"][4] == b"ok"
    assert results["fast"] == results["compiled"]
    assert results["interp"] == results["compiled"]


def test_vcd_window_matches_interp_from_reset(tmp_path, elfs):
    """Copying the compiled state into the interpreter at cycle A gives the same VCD
    as interpreting from reset."""
    window = (8, 20)
    files = {}
    for backend in ("compiled", "interp"):
        path = tmp_path / f"{backend}.vcd"
        m = Machine(DEFAULT, backend, vcd=(str(path), *window))
        m.load(elfs["mix"])
        out = m.run(2000)
        m.close()
        assert out.status == "pass"
        files[backend] = path.read_text()
    assert files["compiled"] == files["interp"]
    stamps = [ln for ln in files["compiled"].splitlines() if ln.startswith("#")]
    assert stamps[0] == "#80" and stamps[-1] == "#200"


def test_copy_state_round_trip(elfs):
    """State copied compiled -> fast runs on to the same result."""
    a = Machine(DEFAULT, "compiled")
    a.load(elfs["uart"])
    a.run(12)
    whole = Machine(DEFAULT, "compiled")
    whole.load(elfs["uart"])
    expect = whole.run(10_000)
    b = Machine(DEFAULT, "fast")
    b.load(elfs["uart"])
    mems = writable_memories(elaborate(DEFAULT))
    assert {"ram", "bootrom"} <= set(mems)
    copy_state(a.simulator, b.simulator, mems, sparse_dst=True)
    rest = b.run(10_000)
    assert rest.status == "pass"
    assert a.outcome().uart_bytes + rest.uart_bytes == expect.uart_bytes
    assert 12 + rest.cycles == expect.cycles
