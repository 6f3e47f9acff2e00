"""Per-workload figures of the guest suite (issue 6; docs/guests.md, "Figures").

Each workload guest (group ``workload`` of ``guests.build.GUESTS``) runs alone in a VM
under the hypervisor on the model. From the hypervisor's ``@vm``/``@exits`` records of
that VM (the hypervisor counts a VM's cycles and instructions between entering and
leaving it): cycles, instructions, IPC, and VM exits per million instructions. From the
MMU's event counters over the whole run (``Machine.counters``; the hypervisor runs with
translation off, so every translated access is the guest's): the TLB miss rate, page
walks per translated access. The model is deterministic, so one run gives each figure.
"""

from __future__ import annotations

from pathlib import Path

from tools.toolchain import BUILD_DIR

#: Where the one-VM scenarios are written.
SCENARIO_DIR = BUILD_DIR / "workload-scenarios"
#: RAM of the workload's VM.
VM_RAM = "4M"
#: Cycle limit of one workload run.
MAX_CYCLES = 50_000_000
#: The figures of one workload: key -> (label, unit).
FIGURES = {
    "cycles": ("cycles in the VM", "cycles"),
    "instret": ("instructions", "instr"),
    "ipc": ("IPC", "ratio"),
    "exits_per_minstr": ("VM exits per million instructions", "per M"),
    "tlb_miss_rate": ("TLB miss rate (walks per translated access)", "%"),
}


#: Extra runs of a workload with other args: label -> (guest, args). The args of a
#: workload are [size, rounds, mode, translation] (guests/workloads/workload.h).
VARIANTS = {"ptrchase-sv39": ("ptrchase", (0, 0, 0, 1))}


class WorkloadError(RuntimeError):
    """A workload did not pass; the message names it."""


def workloads() -> dict[str, tuple[str, tuple[int, ...]]]:
    """The runs: label -> (guest, args): every workload guest in table order with
    default args, then ``VARIANTS``."""
    from guests.build import GUESTS

    runs = {name: (name, ()) for name, g in GUESTS.items() if g.group == "workload"}
    return {**runs, **VARIANTS}


def workload_scenario(label: str, guest: str, args: tuple[int, ...] = ()) -> Path:
    """Write (if changed) the one-VM scenario that runs ``guest`` with ``args`` in a VM
    called ``label``; return its path."""
    from tools.linker import write_if_changed

    lines = [f"# hvsim bench: workload {label} alone (written by tools/guestfigures.py)",
             "", "[[vm]]", f'name = "{label}"', f'guest = "{guest}"', f'ram = "{VM_RAM}"']
    if args:
        lines.append(f"args = [{', '.join(str(a) for a in args)}]")
    return write_if_changed(SCENARIO_DIR / f"{label}.toml", "\n".join(lines) + "\n")


def figures_of(result, name: str) -> dict[str, float]:
    """The figures of workload VM ``name`` from a finished run (see the docstring)."""
    s = result.stats[name]
    walks, lookups = result.counters.get("tlb_walks", 0), result.counters.get("tlb_lookups", 0)
    return {
        "cycles": float(s.cycles),
        "instret": float(s.instret),
        "ipc": s.instret / s.cycles if s.cycles else 0.0,
        "exits_per_minstr": s.exits_total * 1e6 / s.instret if s.instret else 0.0,
        "tlb_miss_rate": 100.0 * walks / lookups if lookups else 0.0,
    }


def measure_workload(name: str, cfg, machine=None, guest: str | None = None,
                     args: tuple[int, ...] = ()) -> dict[str, float]:
    """Run workload ``guest`` (default: ``name``) with ``args`` alone in a VM called
    ``name`` on the model; return its figures."""
    from tools.hvrun import run_scenario

    result = run_scenario(workload_scenario(name, guest or name, args), cfg, machine=machine,
                          max_cycles=MAX_CYCLES)
    s = result.stats.get(name)
    if result.status == "timeout" or s is None or (s.state, s.code) != ("shutdown", 0):
        end = "timeout" if s is None else f"{s.state}, code {s.code}"
        tail = " | ".join(result.console.get(name, [])[-2:])
        raise WorkloadError(f"workload {name} did not pass ({end}): {tail}")
    return figures_of(result, name)


def measure(cfg) -> dict[str, dict[str, float]]:
    """Every workload's figures, on one Machine."""
    from hardware.sim.machine import Machine

    machine = Machine(cfg, "compiled")
    try:
        return {label: measure_workload(label, cfg, machine, guest, args)
                for label, (guest, args) in workloads().items()}
    finally:
        machine.close()
