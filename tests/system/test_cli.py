"""Tests of the ``hvsim`` command line (``tools/cli.py``), the commit log
(``tools/commitlog.py``) and the bench report (``tools/bench.py``) on tiny programs.

Every bad input must give exactly one stderr line ``hvsim: error: ...``, a non-zero
status and no traceback.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from hardware.config import DEFAULT
from hardware.sim.machine import Retired, RunOutcome
from tests.system.tiny_programs import build, build_linked_at, build_rv32
from tools import cli
from tools.bench import BenchReport, Figure, _word_map, print_report
from tools.commitlog import format_record, strip_csr_fields
from tools.spike import SpikeError, find_spike, spike_command

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    """The tiny programs and the bad ELFs, built once per module."""
    out = tmp_path_factory.mktemp("cli")
    paths = {n: build(n, out) for n in ("pass", "fail3", "uart", "loop", "mix")}
    paths["rv32"] = build_rv32(out)
    paths["outside"] = build_linked_at(out, "outside", 0x2000_0000)
    paths["device"] = build_linked_at(out, "device", 0x1000_0000)
    paths["entry"] = build_linked_at(out, "entry", 0x8000_0000, entry=0x7000_0000)
    raw = paths["pass"].read_bytes()
    (out / "trunc_header.elf").write_bytes(raw[:40])
    (out / "trunc_body.elf").write_bytes(raw[:len(raw) // 2])
    (out / "text.elf").write_text("not an elf\n")
    other = bytearray(raw)
    struct.pack_into("<H", other, 18, 62)  # e_machine = x86-64
    (out / "x86.elf").write_bytes(bytes(other))
    for name in ("trunc_header", "trunc_body", "text", "x86"):
        paths[name] = out / f"{name}.elf"
    paths["dir"] = out
    return paths


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``hvsim argv`` in this process: (status, stdout, stderr)."""
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_error_line(err: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hvsim: error: "), err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- run-elf


def test_pass_exits_zero_with_summary(capsys, progs):
    status, out, err = run_cli(capsys, "run-elf", progs["pass"])
    assert status == 0 and out == ""
    summary = err.strip().splitlines()[-1]
    for word in ("pass", "cycles", "instret", "IPC", "wall", "cycles/s"):
        assert word in summary


def test_fail_code_is_exit_status(capsys, progs):
    status, _, err = run_cli(capsys, "run-elf", progs["fail3"])
    assert status == 3
    assert "exit code 3" in err


def test_uart_output_on_stdout(capsys, progs):
    status, out, _ = run_cli(capsys, "run-elf", progs["uart"])
    assert status == 0
    assert out == "hello, uart\n"


def test_timeout(capsys, progs):
    status, _, err = run_cli(capsys, "run-elf", progs["loop"], "--max-cycles", "100",
                             "--history", "4")
    assert status == cli.EXIT_TIMEOUT
    assert "timeout" in err and "privilege M" in err
    assert "no halt after 100 cycles: pc 0x80000" in err
    assert "last 4 retired" in err and "addi" in err


def test_backend_option(capsys, progs):
    status, out, _ = run_cli(capsys, "run-elf", progs["mix"], "--backend", "fast")
    assert (status, out) == (0, "ok")


def test_vcd_window(capsys, progs, tmp_path):
    vcd = tmp_path / "w.vcd"
    status, _, _ = run_cli(capsys, "run-elf", progs["mix"], "--vcd", vcd, "--window", "4:9")
    assert status == 0
    text = vcd.read_text()
    assert "$enddefinitions" in text and "core_pc" in text
    assert "#40" in text.splitlines() and "#90" in text.splitlines()


def test_run_demo(capsys):
    """``hvsim run``: the README's first command."""
    status, out, err = run_cli(capsys, "run")
    assert status == 0, err
    assert out.strip()


def test_help_mentions_hypervisor(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "--help"])
    assert "hypervisor" in capsys.readouterr().out


# --------------------------------------------------------------------------- bad input


BAD_ELFS = ["missing", "dir", "text", "trunc_header", "trunc_body", "rv32", "x86",
            "outside", "device", "entry"]


@pytest.mark.parametrize("case", BAD_ELFS)
def test_bad_elf(capsys, progs, case):
    path = progs["dir"] / "no_such.elf" if case == "missing" else progs[case]
    status, out, err = run_cli(capsys, "run-elf", path)
    assert status != 0 and out == ""
    assert_one_error_line(err)


BAD_OPTIONS = [
    (["--backend", "verilator"], "unknown backend"),
    (["--vcd", "x.vcd", "--window", "9:3"], "A < B"),
    (["--vcd", "x.vcd", "--window", "5"], "A:B"),
    (["--vcd", "x.vcd", "--window", "a:b"], "not a number"),
    (["--vcd", "x.vcd"], "--window"),
    (["--window", "1:2"], "--vcd"),
    (["--max-cycles", "0"], "positive"),
    (["--max-cycles", "-3"], "positive"),
    (["--max-cycles", "lots"], "not a number"),
    (["--config", "huge"], "unknown config variant"),
    (["--commits", "/no/such/dir/log"], "commit log"),
    (["--vcd", "/no/such/dir/x.vcd", "--window", "0:5"], "vcd"),
    (["--frobnicate"], "unrecognized"),
]


@pytest.mark.parametrize("extra,words", BAD_OPTIONS, ids=[w for _, w in BAD_OPTIONS])
def test_bad_option(capsys, progs, extra, words):
    status, _, err = run_cli(capsys, "run-elf", progs["pass"], *extra)
    assert status == cli.EXIT_USAGE
    assert_one_error_line(err)
    assert words in err


def test_bad_config_for_run(capsys):
    status, _, err = run_cli(capsys, "run", "nonesuch")
    assert status == cli.EXIT_USAGE
    assert_one_error_line(err)


def test_missing_command(capsys):
    status, _, err = run_cli(capsys)
    assert status == cli.EXIT_USAGE
    assert_one_error_line(err)


def test_internal_error_is_one_line(capsys, progs, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("wires crossed")

    monkeypatch.setattr("hardware.sim.machine.Machine.run", boom)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    status, _, err = run_cli(capsys, "run-elf", progs["pass"])
    assert status == cli.EXIT_INTERNAL
    assert_one_error_line(err)
    assert "wires crossed" in err and "HVSIM_DEBUG=1" in err


def test_subprocess_error_has_no_traceback(tmp_path):
    """The real entry point, as a separate process."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop(cli.DEBUG_ENV, None)
    exe = shutil.which("hvsim")
    cmd = [exe] if exe else [sys.executable, "-m", "tools.cli"]
    proc = subprocess.run([*cmd, "run-elf", str(tmp_path / "nope.elf")], capture_output=True,
                          text=True, env=env, cwd=REPO)
    assert proc.returncode == cli.EXIT_USAGE
    assert_one_error_line(proc.stderr)


# --------------------------------------------------------------------------- parsing


def test_parse_count():
    assert cli.parse_count("5_000", "n") == 5000
    assert cli.parse_count("3M", "n") == 3_000_000
    assert cli.parse_count("2k", "n") == 2000
    with pytest.raises(cli.CliError):
        cli.parse_count("0", "n")


def test_parse_window():
    assert cli.parse_window("0:10") == (0, 10)
    assert cli.parse_window("1k:2k") == (1000, 2000)
    for bad in ("10:10", "3", "1:2:3", ":5"):
        with pytest.raises(cli.CliError):
            cli.parse_window(bad)


@pytest.mark.parametrize("status,code,expect", [
    ("pass", 0, 0), ("fail", 3, 3), ("fail", 256, 1), ("fail", 300, 44),
    ("timeout", None, cli.EXIT_TIMEOUT)])
def test_exit_status(status, code, expect):
    out = RunOutcome(status, code, 1, 1, 0.1, b"", 0, 3)
    assert cli.exit_status(out) == expect


# --------------------------------------------------------------------------- commit log


def _record(**kw) -> Retired:
    base = dict(pc=0x8000_0000, insn=0x13, trap=0, cause=0, priv=3, v=0, rd=0, rd_wdata=0,
                mem_addr=0, mem_rmask=0, mem_wmask=0, mem_wdata=0)
    return Retired(**{**base, **kw})


def test_commit_format_fields():
    assert format_record(_record(insn=0x4515, rd=10, rd_wdata=5)) == \
        "core   0: 3 0x0000000080000000 (0x4515) x10 0x0000000000000005"
    assert format_record(_record(insn=0x00000297, rd=5, rd_wdata=0x8000_0000)) == \
        "core   0: 3 0x0000000080000000 (0x00000297) x5  0x0000000080000000"
    sh = _record(insn=0x00c31623, mem_addr=0x8000_009c, mem_wmask=0x30,
                 mem_wdata=0x0008 << 32)
    assert format_record(sh).endswith("mem 0x000000008000009c 0x0008")
    amo = _record(insn=0x00a3382f, rd=16, rd_wdata=8, mem_addr=0x8000_0090, mem_rmask=0xFF,
                  mem_wmask=0xFF, mem_wdata=13)
    assert format_record(amo).endswith(
        "x16 0x0000000000000008 mem 0x0000000080000090 mem 0x0000000080000090 "
        "0x000000000000000d")


def test_commit_format_traps():
    ecall = _record(insn=0x73, trap=1, cause=11)
    assert format_record(ecall) == \
        "core   0: exception trap_machine_ecall, epc 0x0000000080000000"
    timer = _record(trap=1, cause=(1 << 63) | 7)
    assert "exception interrupt #7" in format_record(timer)
    assert format_record(ecall, traps=False) is None


def test_strip_csr_fields():
    line = "core   0: 3 0x0000000080000044 (0x34059a73) x20 0x0000000000000005 " \
           "c832_mscratch 0x0000000000000003"
    assert strip_csr_fields(line) == \
        "core   0: 3 0x0000000080000044 (0x34059a73) x20 0x0000000000000005"


def test_commit_log_matches_spike(capsys, progs, tmp_path):
    """After the boot ROM, our commit log and Spike's agree line for line."""
    try:
        find_spike()
    except SpikeError:
        pytest.skip("spike not installed")
    ours_path = tmp_path / "ours.log"
    status, _, _ = run_cli(capsys, "run-elf", progs["mix"], "--commits", ours_path)
    assert status == 0
    from hardware.soc.dtb import write_dtb

    dtb = write_dtb(DEFAULT, tmp_path / "soc.dtb")
    spike_log = tmp_path / "spike.log"
    cmd = spike_command(progs["mix"], DEFAULT, dtb, max_instructions=2000,
                        log_file=spike_log)
    subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)

    def in_ram(lines):
        return [ln for ln in lines if ln.startswith("core") and " 0x00000000800" in ln[:30]]

    ours = in_ram(ours_path.read_text().splitlines())
    theirs = in_ram(strip_csr_fields(ln) for ln in spike_log.read_text().splitlines())
    assert len(ours) > 15
    assert ours == theirs[:len(ours)]
    assert any("(0x" in ln and ln.split("(0x")[1][4] == ")" for ln in ours)  # compressed


# --------------------------------------------------------------------------- bench


def test_bench_figures_and_table():
    figs = [Figure("compiled_cycles_per_s", "rate", "cycles/s", [3e6, 1e6, 2.5e6]),
            Figure("warm_build_s", "warm", "s", [3.0, 3.5, 2.5]),
            Figure("pyrtl_nets", "nets", "nets", [7600.0])]
    assert figs[0].value == 2.5e6 and figs[0].ok is True
    assert figs[1].ok is False and figs[1].target == "<= 2"
    assert figs[2].ok is None
    buf = io.StringIO()
    print_report(BenchReport("default", True, 3, "bench.elf", figs), file=buf)
    text = buf.getvalue()
    assert "2,500,000" in text and "NO" in text and "7,600" in text


def test_bench_word_map():
    assert _word_map([(4, b"\x01\x02")]) == {0: 0x0201 << 32}
    assert _word_map([(8, bytes(8) + b"\xff")]) == {2: 0xFF}


def test_bench_bad_reps(capsys):
    status, _, err = run_cli(capsys, "bench", "--reps", "0")
    assert status == cli.EXIT_USAGE
    assert_one_error_line(err)


def test_bench_unknown_part(capsys):
    status, _, err = run_cli(capsys, "bench", "--only", "nonsense")
    assert status != 0
    assert_one_error_line(err)
    assert "nonsense" in err and "workloads" in err


def test_bench_ratio_units_keep_decimals():
    figs = [Figure("workload_x_ipc", "x: IPC", "ratio", [0.8123]),
            Figure("workload_x_tlb_miss_rate", "x: miss", "%", [0.0421]),
            Figure("workload_x_exits_per_minstr", "x: exits", "per M", [1234.56]),
            Figure("isolation_restore_ms", "restore", "ms", [1.234]),
            Figure("isolation_cases_per_s", "cases", "cases/s", [2.567])]
    buf = io.StringIO()
    print_report(BenchReport("default", True, 1, "bench.elf", figs), file=buf)
    text = buf.getvalue()
    assert "0.812" in text and "0.042 %" in text and "1,234.6" in text
    assert "1.23 ms" in text and "2.57 cases/s" in text
