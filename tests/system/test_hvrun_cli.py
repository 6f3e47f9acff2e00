"""Fast tests of the scenario harness (``tools/hvrun.py``), the timeline
(``tools/timeline.py``) and ``hvsim run`` (``tools/cli.py``) on synthetic UART text:
no firmware is built; ``run_scenario`` and ``load_scenario`` are replaced by fakes.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tools import cli, hvrun
from tools.hvrun import (
    GuestLine,
    HvLine,
    HvOutput,
    HvOutputError,
    OtherLine,
    Record,
    ScenarioResult,
    compare_consoles,
    exit_cause_name,
    format_timeout_report,
    parse_output,
)
from tools.timeline import TimelineError, draw_timeline

VMS = ("alpha", "beta", "gamma")

GOOD = """\
hv: hvsim hypervisor, 3 VMs
[alpha] hello from alpha
[beta] hello from beta
hv: vm beta stopped: fault: cause 7 (STORE_ACCESS) pc 0x80000010 addr 0x0
[alpha] tick 1
[gamma]
[gamma] [bracketed] text
@vm 0 alpha state=shutdown code=0 cycles=1000 instret=900 runs=4 restarts=0 irqs=2
@exits alpha e10=5 i5=2
@sbi alpha 0x10.0=1 0x4442434e.0=3
@vm 1 beta state=stopped code=0 cycles=300 instret=200 runs=1 restarts=0 irqs=0
@exits beta e23=1
@sbi beta
@vm 2 gamma state=shutdown code=0 cycles=600 instret=500 runs=2 restarts=0 irqs=1
@exits gamma e10=2
@sbi gamma 0x54494d45.0=1
@sched 0 100 alpha
@sched 120 150 beta
@sched 150 250 gamma
@sched 260 400 alpha
@ticks_per_us 10
@end 1
"""

CLEAN = GOOD.replace("state=stopped", "state=shutdown").replace("@end 1", "@end 0")


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets."""
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(edges, edges[1:])]


# --------------------------------------------------------------------------- parser


def test_parse_whole_output():
    r = parse_output(GOOD, VMS)
    assert r.console == {"alpha": ["hello from alpha", "tick 1"], "beta": ["hello from beta"],
                         "gamma": ["", "[bracketed] text"]}
    assert r.hv_lines[0] == "hvsim hypervisor, 3 VMs"
    assert r.hv_lines[1].startswith("vm beta stopped")
    a, b = r.stats["alpha"], r.stats["beta"]
    assert (a.index, a.state, a.cycles, a.instret, a.runs, a.irqs) == (0, "shutdown", 1000,
                                                                       900, 4, 2)
    assert a.exits == {"e10": 5, "i5": 2} and a.exits_total == 7
    assert a.sbi == {"0x10.0": 1, "0x4442434e.0": 3} and a.sbi_total == 4
    assert b.state == "stopped" and b.sbi == {} and not b.clean
    assert r.sched[:2] == [(0, 100, "alpha"), (120, 150, "beta")]
    assert (r.ticks_per_us, r.end_code) == (10, 1)
    assert r.vm_names() == list(VMS)
    assert r.raw == GOOD
    assert r.unclean() == ["vm 'beta' did not shut down cleanly: state stopped, code 0"]
    share = r.cpu_share()
    assert share["alpha"] == pytest.approx(100 * 240 / 400)
    assert share["beta"] == pytest.approx(100 * 30 / 400)


def test_events_in_order():
    parser = HvOutput(VMS)
    events = parser.feed(b"hv: hi\n[alpha] x\n@end 0\nnoise\n[beta] part")
    assert events == [HvLine("hi"), GuestLine("alpha", "x"),
                      Record("end", ("0",), "@end 0"), OtherLine("noise")]
    assert parser.finish() == [GuestLine("beta", "part")]
    assert parser.finish() == []


def test_crlf_and_partial_record():
    parser = HvOutput()
    assert parser.feed(b"[alpha] a\r\n@vm 0 al") == [GuestLine("alpha", "a")]
    assert parser.finish() == [OtherLine("@vm 0 al")]  # cut off by a timeout: no error


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5000), max_size=40))
def test_split_anywhere_gives_same_result(cuts):
    data = (GOOD + "[alpha] caf\u00e9 \u2713\n").encode()
    parser = HvOutput(VMS)
    events = []
    for piece in chunks(data, cuts):
        events += parser.feed(piece)
    events += parser.finish()
    whole = HvOutput(VMS)
    assert events == whole.feed(data)
    whole.finish()
    assert parser.result == whole.result
    assert parser.result.console["alpha"][-1] == "caf\u00e9 \u2713"


def test_byte_at_a_time():
    parser = HvOutput(VMS)
    events = [e for b in CLEAN.encode() for e in parser.feed(bytes((b,)))]
    assert sum(isinstance(e, GuestLine) for e in events) == 5
    assert parser.result.end_code == 0 and parser.result.unclean() == []


MALFORMED = [
    ("@vm 0 alpha state=shutdown code=0", "expected @vm"),
    ("@vm 0 alpha state=napping code=0 cycles=1 instret=1 runs=1 restarts=0 irqs=0",
     "unknown state 'napping'"),
    ("@vm x alpha state=shutdown code=0 cycles=1 instret=1 runs=1 restarts=0 irqs=0",
     "index 'x'"),
    ("@vm 0 alpha state=shutdown code=0 cycles=-1 instret=1 runs=1 restarts=0 irqs=0",
     "cycles '-1'"),
    ("@vm 0 alpha state=shutdown code=0 instret=1 cycles=1 runs=1 restarts=0 irqs=0",
     "expected @vm"),
    ("@exits alpha e10=5 x3=1", "bad exits field 'x3=1'"),
    ("@exits alpha e10=five", "exits e10 'five'"),
    ("@exits alpha e10=1 e10=2", "twice"),
    ("@exits", "expected @exits"),
    ("@sbi alpha 10.0=1", "bad sbi field"),
    ("@sched 10 5 alpha", "before it starts"),
    ("@sched 10 20", "expected @sched"),
    ("@sched 1 2 bad!name", "bad VM name"),
    ("@ticks_per_us 0", "positive"),
    ("@ticks_per_us", "expected @ticks_per_us"),
    ("@end", "expected @end"),
    ("@end zero", "code 'zero'"),
    ("@frobnicate 1", "unknown record '@frobnicate'"),
    ("@tp windows=1 overruns=0 worst=5", "expected @tp"),
    ("@tp overruns=0 windows=1 worst=5 pad=9", "expected @tp"),
    ("@tp windows=1 overruns=x worst=5 pad=9", "overruns 'x'"),
]


@pytest.mark.parametrize("line,words", MALFORMED, ids=[w for _, w in MALFORMED])
def test_malformed_record(line, words):
    parser = HvOutput(VMS)
    parser.feed(b"hv: boot\n[alpha] hi\n")
    with pytest.raises(HvOutputError) as info:
        parser.feed(line.encode() + b"\n")
    message = str(info.value)
    assert "\n" not in message
    assert "line 3" in message and words in message and line[:20] in message


def test_time_protection_record():
    """@tp (core/tp.c): windows, overruns, the longest switch and the pad, in ticks."""
    assert parse_output(GOOD, VMS).tp is None
    r = parse_output("@tp windows=27 overruns=1 worst=374 pad=5000\n@end 0\n")
    assert r.tp == {"windows": 27, "overruns": 1, "worst": 374, "pad": 5000}


def test_duplicate_records():
    vm = "@vm 0 alpha state=shutdown code=0 cycles=1 instret=1 runs=1 restarts=0 irqs=0\n"
    with pytest.raises(HvOutputError, match="second @vm"):
        parse_output(vm + vm)
    with pytest.raises(HvOutputError, match="second @end"):
        parse_output("@end 0\n@end 0\n")


def test_missing_vm_record_is_unclean():
    r = parse_output("[alpha] hi\n@end 3\n", ["alpha", "beta"])
    assert r.unclean() == ["vm 'alpha' has no @vm record", "vm 'beta' has no @vm record"]


def test_exit_cause_names():
    assert exit_cause_name("e10") == "VIRTUAL_SUPERVISOR_ECALL"
    assert exit_cause_name("i5") == "irq STI"
    assert exit_cause_name("e14") == "exception 14"


def test_json_round_trip():
    data = json.loads(json.dumps(parse_output(GOOD, VMS).to_json()))
    assert data["stats"]["alpha"]["exits"] == {"e10": 5, "i5": 2}
    assert data["sched"][0] == [0, 100, "alpha"]
    assert data["cpu_share"]["gamma"] == pytest.approx(25.0)


# --------------------------------------------------------------------------- comparison


def test_compare_identical_consoles():
    a = parse_output(GOOD, VMS)
    b = parse_output(GOOD.replace("cycles=1000", "cycles=7"), VMS)
    b.platform = "spike"
    assert compare_consoles(a, b) == []


def test_compare_differences():
    a = parse_output(GOOD, VMS)
    b = parse_output(GOOD.replace("tick 1", "tick 2").replace("[beta] hello from beta\n", "")
                     .replace("[gamma] [bracketed] text\n", ""), ["alpha", "beta", "gamma",
                                                                   "delta"])
    b.platform = "spike"
    diffs = compare_consoles(a, b)
    assert diffs == [
        "vm 'alpha' line 2: model 'tick 1' != spike 'tick 2'",
        "vm 'beta': model has 1 lines, spike has 0; first extra line in model: "
        "'hello from beta'",
        "vm 'gamma': model has 2 lines, spike has 1; first extra line in model: "
        "'[bracketed] text'",
        "vm 'delta': console only in spike",
    ]
    assert compare_consoles(a, b, labels=("x", "y"))[0].startswith("vm 'alpha' line 2: x ")


# --------------------------------------------------------------------------- timeout report


def test_timeout_report_names_running_vm():
    text = format_timeout_report(5000, 1, list(VMS), 0x8000_0040, 1, 1,
                                 ["0x0000000080000040: 0000006f  j 0x80000040"])
    lines = text.splitlines()
    assert lines[0] == ("no end after 5000 cycles: vm 'beta' (index 1) was running; "
                        "pc 0x80000040, privilege VS (V=1)")
    assert lines[1] == "last 1 retired:" and "j 0x80000040" in lines[2]


@pytest.mark.parametrize("running,priv,v,words", [
    (-1, 1, 0, "no VM on the CPU (hypervisor or idle); pc 0x10, privilege HS (V=0)"),
    (None, 3, None, "running VM unknown (no hv_running_vm symbol); pc 0x10, privilege M (V=?)"),
    (9, 0, 1, "hv_running_vm = 9 names no VM (there are 3); pc 0x10, privilege VU (V=1)"),
])
def test_timeout_report_other_cases(running, priv, v, words):
    assert words in format_timeout_report(10, running, list(VMS), 0x10, priv, v)


def test_running_vm_read_from_ram(tmp_path, monkeypatch):
    """``hv_running_vm`` is read as a signed 32-bit word at its offset in RAM."""
    from hardware.config import DEFAULT

    seen = {}

    def read_mem(name, addr, n):
        seen.update(name=name, addr=addr, n=n)
        return (-1 & 0xFFFF_FFFF).to_bytes(4, "little")

    machine = SimpleNamespace(simulator=SimpleNamespace(read_mem=read_mem))
    monkeypatch.setattr("tools.spike.elf_symbol", lambda elf, name: 0x8000_1230)
    assert hvrun.read_running_vm(machine, tmp_path / "fw.elf", DEFAULT) == -1
    assert seen == {"name": "ram", "addr": 0x1230, "n": 4}
    monkeypatch.setattr("tools.spike.elf_symbol", lambda elf, name: None)
    assert hvrun.read_running_vm(machine, tmp_path / "fw.elf", DEFAULT) is None


def test_unknown_platform():
    with pytest.raises(hvrun.HvRunError, match="unknown platform 'bochs'"):
        hvrun.run_scenario("demo", None, platform="bochs")


def test_qemu_missing(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(hvrun.HvRunError, match="qemu-system-riscv64 not found"):
        hvrun.qemu_command(Path("fw.elf"))
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/" + name)
    cmd = hvrun.qemu_command(Path("fw.elf"))
    assert cmd[:3] == ["/usr/bin/qemu-system-riscv64", "-M", "virt"]
    assert "rv64,h=true" in cmd and cmd[-2:] == ["-kernel", "fw.elf"]


# --------------------------------------------------------------------------- timeline


def test_timeline_png(tmp_path):
    out = draw_timeline(parse_output(GOOD, VMS), tmp_path / "t.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000


def test_timeline_errors(tmp_path):
    with pytest.raises(TimelineError, match="no @sched records"):
        draw_timeline(parse_output("[alpha] hi\n"), tmp_path / "t.png")
    with pytest.raises(TimelineError, match="cannot write timeline"):
        draw_timeline(parse_output(GOOD, VMS), tmp_path / "missing" / "t.png")


# --------------------------------------------------------------------------- CLI


def fake_scenario(names=VMS):
    return SimpleNamespace(name="demo", vms=[SimpleNamespace(index=i, name=n)
                                             for i, n in enumerate(names)])


@pytest.fixture
def fake_run(monkeypatch):
    """Replace scenario loading and running: the run replays ``state['text']``."""
    state = {"text": CLEAN, "status": "pass", "calls": []}

    def load(config, cfg):
        if config == "nonesuch":
            raise cli.CliError("nonesuch: no such scenario")
        return fake_scenario()

    def run(scenario, cfg, *, platform="model", on_event=None, **kw):
        state["calls"].append(dict(platform=platform, **kw))
        parser = HvOutput([vm.name for vm in scenario.vms],
                          ScenarioResult(scenario.name, platform))
        for event in parser.feed(state["text"].encode()) + parser.finish():
            on_event(event)
        r = parser.result
        r.status, r.cycles, r.instret, r.wall_s = state["status"], 123_456, 100_000, 0.5
        if r.status == "timeout":
            r.report = format_timeout_report(123_456, 2, list(VMS), 0x8000_0000, 1, 1)
        return r

    monkeypatch.setattr(hvrun, "load_scenario", load)
    monkeypatch.setattr(hvrun, "run_scenario", run)
    return state


def run_cli(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_run_clean(capsys, fake_run):
    status, out, err = run_cli(capsys, "run", "--plain")
    assert status == 0, err
    assert "[alpha] hello from alpha" in out and "hv: hvsim hypervisor" in out
    assert "@vm" not in out and "@sched" not in out
    assert "[gamma] [bracketed] text" in out
    for word in ("state", "CPU %", "top exit causes", "SBI calls", "VIRTUAL_SUPERVISOR_ECALL",
                 "irq STI", "60.0", "1,000"):
        assert word in out, word
    assert "pass: scenario 'demo' on model: 3 VMs, 123,456 cycles" in err
    assert fake_run["calls"][0]["max_cycles"] == cli.DEFAULT_MAX_CYCLES


def test_cli_run_shows_guest_control_bytes_escaped(capsys, fake_run):
    """A guest's escape sequences never reach the terminal raw."""
    fake_run["text"] = CLEAN.replace("[alpha] hello from alpha",
                                     "[alpha] hello \x1b]0;pwned\x07 \x1b[2J from alpha")
    status, out, err = run_cli(capsys, "run")
    assert status == 0, err
    assert "\x1b" not in out and "\x07" not in out
    assert r"hello \x1b]0;pwned\x07 \x1b[2J from alpha" in out


def test_cli_run_unclean_vm(capsys, fake_run):
    fake_run["text"] = GOOD
    status, _, err = run_cli(capsys, "run")
    assert status == 1
    assert "vm 'beta' did not shut down cleanly: state stopped" in err


def test_cli_run_no_end_record(capsys, fake_run):
    fake_run["text"] = "[alpha] hi\n"
    fake_run["status"] = "fail"
    status, _, err = run_cli(capsys, "run")
    assert status == 1 and "without an @end record" in err


def test_cli_run_timeout(capsys, fake_run, tmp_path):
    fake_run["text"] = "[alpha] hi\n[gamma] partial"
    fake_run["status"] = "timeout"
    status, out, err = run_cli(capsys, "run", "--max-cycles", "5k",
                               "--timeline", tmp_path / "t.png")
    assert status == cli.EXIT_TIMEOUT
    assert "timeout: no end after 123456 cycles: vm 'gamma' (index 2) was running" in err
    assert "[gamma] partial" in out and "no record" in out
    assert "no @sched records" in err  # the timeline cannot be drawn; the status stays
    assert fake_run["calls"][0]["max_cycles"] == 5000


def test_cli_run_json_and_timeline(capsys, fake_run, tmp_path):
    js, png = tmp_path / "r.json", tmp_path / "t.png"
    status, _, err = run_cli(capsys, "run", "demo", "--platform", "spike", "--json", js,
                             "--timeline", png)
    assert status == 0, err
    data = json.loads(js.read_text())
    assert data["platform"] == "spike" and data["end_code"] == 0
    assert data["console"]["beta"] == ["hello from beta"]
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert fake_run["calls"][0]["on_progress"] is None


@pytest.mark.parametrize("argv,words", [
    (["nonesuch"], "no such scenario"),
    (["--soc", "huge"], "unknown config variant"),
    (["--platform", "bochs"], "invalid choice"),
    (["--platform", "spike", "--history", "4"], "--history needs --platform model"),
    (["--json", "/no/such/dir/r.json"], "no such directory"),
    (["--timeline", "/"], "is a directory"),
    (["--max-cycles", "0"], "positive"),
])
def test_cli_run_bad_input(capsys, fake_run, argv, words):
    status, _, err = run_cli(capsys, "run", *argv)
    assert status == cli.EXIT_USAGE
    assert len(err.splitlines()) == 1 and err.startswith("hvsim: error: ")
    assert words in err
    assert fake_run["calls"] == []


def test_cli_malformed_output_is_one_line(capsys, fake_run):
    fake_run["text"] = "[alpha] hi\n@vm 0 alpha state=bogus\n"
    status, _, err = run_cli(capsys, "run")
    assert status == cli.EXIT_USAGE
    assert err.strip().splitlines()[-1].startswith("hvsim: error: firmware output line 2")


def test_cli_colours(capsys, fake_run, monkeypatch):
    """With colour forced, each VM's prefix carries its own palette colour."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLORTERM", "truecolor")
    status, out, _ = run_cli(capsys, "run")
    assert status == 0
    assert "\x1b[" in out and "38;2;58;134;255" in out  # alpha: #3a86ff
    status, out, _ = run_cli(capsys, "run", "--plain")
    assert "\x1b[" not in out
