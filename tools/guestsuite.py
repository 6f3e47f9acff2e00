"""Golden transcripts of the guest suite (docs/guests.md, "Golden transcripts").

Every scenario of ``SUITE`` runs under the hypervisor; each VM's transcript is its
console lines, then the hypervisor's lines about that VM (fault reports, restarts, its
end) without the ``hv: vm <name>`` prefix. The pc of a fault report reads ``pc *``: a
watchdog's depends on when the time ran out, and any other moves whenever the guest's
code or the runtime changes (the cause and the address stay). The transcript of VM ``v`` in scenario ``s`` is
compared byte for byte with ``tests/system/golden/<s>/<v>.txt``, on the model and on
Spike (tests/system/test_guest_suite.py).

``python -m tools.guestsuite [--update] [--platform P] [SCENARIO ...]`` runs the
scenarios (default: all of ``SUITE``) and reports the differences, or with ``--update``
writes the golden files from the model after checking Spike agrees.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

from tools.hvrun import ScenarioResult

#: Folder of the golden files.
GOLDEN_DIR = Path(__file__).resolve().parents[1] / "tests" / "system" / "golden"
#: Scenarios of hypervisor/configs whose transcripts are golden, with what they show.
SUITE: dict[str, str] = {
    "demo": "three example guests share the CPU",
    "sbi": "SBI v2.0 conformance",
    "uart": "the virtual ns16550",
    "wfi": "WFI gives the slice away",
    "regs": "vCPU state survives switches",
    "crash": "a fault outside the partition is contained",
    "restart": "a faulty guest is restarted up to max_restarts",
    "spin": "a spinner with interrupts off is stopped by its watchdog",
    "paging": "two Sv39 kernels with U-mode processes",
    "ticker": "periodic ticks next to a CPU hog",
    "workloads": "the six self-checking workloads",
    "osmix": "two paging kernels and a workload",
    "hostile": "a victim and three misbehaving guests",
    "hostile2": "a victim and the other misbehaving guests",
    "probe": "vprobe's vCPU state survives hostile neighbours",
    "reboot": "each life of a rebooting guest starts clean",
}
#: Scenarios left out, and why.
NOT_GOLDEN = {
    "bench": "hvbench prints measured cycle counts",
    "fair": "the counters' progress depends on the budgets, checked by test_hypervisor",
    "weighted": "as fair",
    "timeprot": "tlbspy prints measured TLB timings (constant on the model, not on Spike); "
                "checked by tests/isolation/test_timing.py",
}

_HV_VM = re.compile(r"^vm (?P<vm>\S+) (?P<rest>(?:fault|ended|restarting|stopped).*)$")
_FAULT_PC = re.compile(r"(fault: .* pc )0x[0-9a-f]+")


def transcripts(result: ScenarioResult) -> dict[str, str]:
    """VM name -> its transcript (see the module docstring)."""
    out = {name: list(result.console.get(name, [])) for name in result.vm_names()}
    for line in result.hv_lines:
        m = _HV_VM.match(line)
        if m and m["vm"] in out:
            out[m["vm"]].append("hv: " + _FAULT_PC.sub(r"\1*", m["rest"]))
    return {name: "".join(f"{ln}\n" for ln in lines) for name, lines in out.items()}


def golden_path(scenario: str, vm: str) -> Path:
    """The golden file of VM ``vm`` of ``scenario``."""
    return GOLDEN_DIR / scenario / f"{vm}.txt"


def differences(scenario: str, got: dict[str, str], label: str) -> list[str]:
    """Unified diffs (one string per VM) between ``got`` and the golden files; a missing
    or extra golden file is a difference too."""
    out = []
    folder = GOLDEN_DIR / scenario
    extra = {p.stem for p in folder.glob("*.txt")} - set(got) if folder.is_dir() else set()
    for vm in sorted(extra):
        out.append(f"{scenario}: golden file for vm {vm} but the run has no such VM")
    for vm, text in got.items():
        path = golden_path(scenario, vm)
        if not path.is_file():
            out.append(f"{path}: missing (python -m tools.guestsuite --update "
                       f"{scenario})")
            continue
        want = path.read_text()
        if text != want:
            diff = difflib.unified_diff(want.splitlines(), text.splitlines(), str(path),
                                        f"{scenario}/{vm} on {label}", lineterm="", n=2)
            out.append("\n".join(diff))
    return out


def write_golden(scenario: str, got: dict[str, str]) -> list[Path]:
    """Replace the golden files of ``scenario`` with ``got``; return the paths."""
    folder = GOLDEN_DIR / scenario
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        if old.stem not in got:
            old.unlink()
    paths = []
    for vm, text in got.items():
        path = golden_path(scenario, vm)
        path.write_text(text)
        paths.append(path)
    return paths


#: Cycle limit of a model run and wall-clock limit of a Spike run.
MAX_CYCLES, SPIKE_TIMEOUT_S = 50_000_000, 120.0


def run(scenario: str, platform: str, cfg=None, machine=None) -> ScenarioResult:
    """One run of ``scenario`` on ``platform`` (the model reuses ``machine``)."""
    from hardware.config import variant
    from tools.hvrun import run_scenario

    cfg = cfg or variant("default")
    if platform == "model":
        return run_scenario(scenario, cfg, max_cycles=MAX_CYCLES, machine=machine)
    return run_scenario(scenario, cfg, platform=platform, timeout_s=SPIKE_TIMEOUT_S)


def main(argv: list[str] | None = None) -> int:
    """Check (or with --update, write) the golden transcripts; 0 when all match."""
    ap = argparse.ArgumentParser(prog="python -m tools.guestsuite")
    ap.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    ap.add_argument("--update", action="store_true", help="write the golden files")
    ap.add_argument("--platform", default="model", choices=("model", "spike"))
    args = ap.parse_args(argv)
    unknown = [s for s in args.scenarios if s not in SUITE]
    if unknown:
        print(f"error: not a suite scenario: {', '.join(unknown)} "
              f"(suite: {', '.join(SUITE)})", file=sys.stderr)
        return 2
    bad = 0
    for scenario in args.scenarios or list(SUITE):
        got = transcripts(run(scenario, args.platform))
        if args.update:
            other = transcripts(run(scenario, "spike"))
            if other != got:
                print(f"{scenario}: model and Spike disagree; not updated", file=sys.stderr)
                bad += 1
                continue
            for path in write_golden(scenario, got):
                print(f"wrote {path}")
            continue
        diffs = differences(scenario, got, args.platform)
        bad += bool(diffs)
        print("\n".join(diffs) if diffs else f"{scenario}: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
