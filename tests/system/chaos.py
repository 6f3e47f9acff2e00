"""Chaos cases: a random VS-mode guest next to a reference VM (issue 5, "Bad input": "A
guest can do anything and the hypervisor survives it"; docs/hypervisor.md, "Fault
containment").

The guest programs come from the isolation fuzzer's generator ``tools/isolation/gen.py``
(``gen.programs``: SBI calls with random and boundary arguments, wild loads, stores,
AMOs and fetches, CSRs of every privilege, hypervisor instructions, wfi, VS/VU
switches, random VS page tables over the other partitions' and the hypervisor's
addresses...), aimed at ``TARGETS``. This module adds what only the chaos test needs:
``chaos_cases()`` draws the rest of a test case (the chaos VM's fault policy, watchdog,
priority, UART and position next to a reference VM); ``write_case`` writes a case as
``chaos.S``, ``chaos.elf`` and ``chaos.toml``, and ``hvsim run <dir>/chaos.toml``
replays it. ``python -m tests.system.chaos <dir>`` rebuilds ``<dir>/chaos.S`` (for
instance pasted from a failing test's output) and prints the command.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from tools.isolation import gen

#: RAM of the chaos VM (bytes): small, because a restart zeroes it (about 0.5 cycles
#: per byte) and that time is charged to the restarted VM (see WATCHDOGS_US).
CHAOS_RAM = 128 << 10
#: The chaos VM's watchdog_us choices: longer than a restart of CHAOS_RAM (about 70k
#: cycles, 7 ms), else the restart alone trips the watchdog of the new life
#: (test_hv_chaos.py::test_restart_time_is_not_charged_to_the_new_life).
WATCHDOGS_US = (8_000, 15_000)
#: What the chaos VM aims at: the default SoC's hypervisor and the two first 2 MiB
#: partition slots, where the reference VM and the chaos VM go.
TARGETS = gen.Targets.default(own_ram=CHAOS_RAM)


def programs(min_items: int = 5, max_items: int = 60) -> st.SearchStrategy[gen.Program]:
    """Chaos programs of ``min_items``..``max_items`` items against ``TARGETS``."""
    return gen.programs(TARGETS, min_items, max_items)


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class ChaosCase:
    """A chaos VM (with its policy) next to the reference VM."""

    program: gen.Program
    on_fault: str = "stop"
    max_restarts: int = 1
    watchdog_us: int = WATCHDOGS_US[0]
    priority: int = 0
    uart: bool = True
    chaos_first: bool = False

    def toml(self, image: str, ref_guest: str = "counter") -> str:
        """The scenario: the chaos VM from ``image`` and the reference VM ``ref``."""
        chaos = ["[[vm]]", 'name = "chaos"', f'image = "{image}"',
                 f'ram = "{CHAOS_RAM >> 10}K"', f'on_fault = "{self.on_fault}"',
                 f"max_restarts = {self.max_restarts}", f"watchdog_us = {self.watchdog_us}",
                 f"priority = {self.priority}",
                 'devices = ["uart"]' if self.uart else "devices = []"]
        ref = reference_vm(ref_guest)
        vms = [chaos, ref] if self.chaos_first else [ref, chaos]
        return "# A chaos case (tests/system/test_hv_chaos.py).\n\n" + \
            "\n\n".join("\n".join(v) for v in vms) + "\n"


def reference_vm(guest: str = "counter") -> list[str]:
    """The TOML lines of the reference VM."""
    return ["[[vm]]", 'name = "ref"', f'guest = "{guest}"', 'ram = "2M"']


def chaos_cases() -> st.SearchStrategy[ChaosCase]:
    """A program and the rest of its scenario."""
    return st.builds(ChaosCase, program=programs(),
                     on_fault=st.sampled_from(("stop", "restart")),
                     max_restarts=st.integers(0, 2),
                     watchdog_us=st.sampled_from(WATCHDOGS_US),
                     priority=st.sampled_from((0, 0, 1)), uart=st.booleans() | st.just(True),
                     chaos_first=st.booleans())


# --------------------------------------------------------------------------- build


def write_case(case: ChaosCase, folder: Path) -> Path:
    """Write ``chaos.S``, ``chaos.elf`` and ``chaos.toml`` into ``folder``; return the
    TOML path (``hvsim run <it>`` replays the case)."""
    gen.build_adversary(case.program, folder, stem="chaos")
    toml = Path(folder) / "chaos.toml"
    text = case.toml("chaos.elf")
    if not toml.is_file() or toml.read_text() != text:
        toml.write_text(text)
    return toml


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.system.chaos DIR``: build ``DIR/chaos.S`` (a chaos body) into
    ``DIR/chaos.elf``; write ``DIR/chaos.toml`` if missing; print the run command."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m tests.system.chaos DIR  (DIR holds chaos.S)", file=sys.stderr)
        return 2
    folder = Path(args[0])
    source = folder / "chaos.S"
    if not source.is_file():
        print(f"error: {source}: file not found", file=sys.stderr)
        return 1
    from tools.toolchain import ToolchainError

    try:
        gen.build_source(source, folder / "chaos.elf")
    except ToolchainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    toml = folder / "chaos.toml"
    if not toml.is_file():
        toml.write_text(ChaosCase(gen.Program(())).toml("chaos.elf"))
    print(f"hvsim run {toml}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
