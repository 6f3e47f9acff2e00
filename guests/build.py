"""Builds of the supervisor-mode guests (docs/guests.md).

Every guest is the runtime of ``guests/common`` (crt0, SBI calls, console and printf,
trap dispatch, DTB reader) plus its own sources, compiled for RV64IMAC with zig cc and
linked at guest-physical 0x8000_0000 into at most 1 MiB (the hypervisor places the
guest's DTB at the top of the VM's RAM, so images stay small). The generated
``encoding.h``/``platform.h`` (CSR numbers, causes, UART registers) are included from
the build directory. Builds are cached by ``tools.toolchain.build_elf``.

``GUESTS`` is the one table of guests: name, group, sources (a folder stands for every
``*.c``/``*.S`` in it) and a one-line summary; docs/guests.md and ``hvsim guests`` list
it.

``python -m guests.build [NAME ...]`` builds the named guests (default: all) and prints
their paths.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from hardware.config import variant
from hardware.isa.cheaders import write_headers
from tools.linker import SECTIONS, _section_text, script_head, script_tail, write_if_changed
from tools.toolchain import BUILD_DIR, ToolchainError, build_elf

#: Folder of the guest sources.
GUESTS_DIR = Path(__file__).resolve().parent
#: Folder of the runtime every guest links.
COMMON_DIR = GUESTS_DIR / "common"
#: Folder of the build products (ELFs, linker script, generated headers).
OUT_DIR = BUILD_DIR / "guests"
#: Guest-physical RAM window every guest is linked into: (origin, length).
RAM_ORIGIN, RAM_LENGTH = 0x8000_0000, 1 << 20
#: -mcpu of the guests: RV64IMAC, no H (guests run in VS-mode).
MARCH = "generic_rv64+m+a+c"
#: Sources linked into every guest.
RUNTIME_SOURCES = tuple(COMMON_DIR / f for f in ("crt0.S", "sbi.c", "klib.c", "printf.c",
                                                 "trap.c", "fdt.c"))
#: Include folders of every guest build (the runtime headers first).
INCLUDE_DIRS = (COMMON_DIR, OUT_DIR / "include")


#: The groups of guests, with what they are for.
GROUPS: dict[str, str] = {
    "example": "small kernels to start from; each shows one hypervisor service",
    "kernel": "operating-system-like kernels: paging, processes, timers",
    "conformance": "checks an SBI implementation against the SBI v2.0 specification",
    "workload": "self-checking programs to measure (cycles, IPC, exits, TLB misses)",
    "hostile": "misbehaving guests that the hypervisor must contain",
}


@dataclass(frozen=True)
class Guest:
    """One guest: ``group`` (example, kernel, conformance, workload, hostile), its
    ``sources`` relative to guests/ (a folder means every .c/.S in it, sorted), and what
    it shows."""

    group: str
    sources: tuple[str, ...]
    summary: str


def _g(group: str, summary: str, *sources: str) -> Guest:
    return Guest(group, sources, summary)


def _workload(name: str, summary: str) -> Guest:
    return _g("workload", summary, "workloads/harness.c", f"workloads/{name}.c")


#: The guests, by name.
GUESTS: dict[str, Guest] = {
    "hello": _g("example", "prints its boot arguments and the DTB facts", "kernels/hello.c"),
    "counter": _g("example", "counts and prints in chunks, yielding between them",
                  "kernels/counter.c"),
    "uarttest": _g("example", "drives the virtual ns16550 with every load/store width",
                   "kernels/uarttest.c"),
    "wfi": _g("example", "sleeps on the SBI timer with WFI five times", "kernels/wfi.c"),
    "regs": _g("example", "checks its registers, VS CSRs and Sv39 view survive switches",
               "kernels/regs.c"),
    "hvbench": _g("example", "marks the hypervisor's hot paths for `hvsim bench`",
                  "kernels/hvbench.c"),
    "vprobe": _g("example", "probes its own vCPU state with no time reads: the isolation "
                 "fuzzer's noninterference victim", "kernels/vprobe.c"),
    "tlbspy": _g("example", "a planted TLB-timing channel: a receiver times its TLB "
                 "entries after each preemption; a sender evicts them or not (args)",
                 "kernels/tlbspy.c"),
    "paging": _g("kernel", "Sv39 kernel with U-mode processes, syscalls, demand paging "
                 "and timer preemption", "kernels/paging"),
    "ticker": _g("kernel", "periodic ticks through SBI TIME and stimecmp, WFI when idle, "
                 "monotonic time and no lost ticks", "kernels/ticker.c"),
    "sbitest": _g("conformance", "SBI v2.0 conformance: every function, error codes and "
                  "bad pointers; a pass/fail table", "kernels/sbitest.c"),
    "crc32": _workload("crc32", "table-driven CRC-32 checked against a bitwise one and the "
                       "known check value"),
    "sort": _workload("sort", "quicksort, heapsort and merge sort of pseudo-random keys; "
                      "order, histogram and agreement checked"),
    "matmul": _workload("matmul", "40x40 int32 multiply checked by a transposed product, "
                        "A*I = A and row/column checksums"),
    "strings": _workload("strings", "tokenising, hashing, naive and Horspool search and "
                         "reversal of generated text"),
    "membw": _workload("membw", "fill and STREAM copy/scale/add/triad over 3 x 256 KiB"),
    "ptrchase": _workload("ptrchase", "a random cycle of one node per 4 KiB page over 1 MiB: "
                          "a TLB stress (args [0,0,0,1]: Sv39, two-stage misses)"),
    "spinner": _g("hostile", "spins forever with interrupts off", "hostile/spinner.c"),
    "crasher": _g("hostile", "stores outside its guest-physical memory",
                  "hostile/crasher.c"),
    "wfi_forever": _g("hostile", "WFI forever with nothing enabled", "hostile/wfi_forever.c"),
    "wild_mem": _g("hostile", "loads and stores over the whole guest-physical space",
                   "hostile/wild_mem.c"),
    "priv_probe": _g("hostile", "every M/HS CSR access and privileged instruction",
                     "hostile/priv_probe.c"),
    "ecall_storm": _g("hostile", "SBI calls with random and boundary arguments",
                      "hostile/ecall_storm.c"),
    "smc": _g("hostile", "self-modifying code with and without FENCE.I", "hostile/smc.c"),
    "fault_loop": _g("hostile", "an endless loop of faults it handles itself",
                     "hostile/fault_loop.c"),
    "rebooter": _g("hostile", "reboots itself through SBI SRST again and again",
                   "hostile/rebooter.c"),
}
#: Global labels that harnesses look up in a guest's symbol table: name -> symbols.
MARKERS: dict[str, tuple[str, ...]] = {
    "hvbench": ("hvbench_null_ecall", "hvbench_uart_store", "hvbench_ipi_ecall"),
    "uarttest": ("uarttest_clw",),
}


class GuestBuildError(ToolchainError):
    """A guest did not build; the message names the guest and the first error."""


def linker_script() -> str:
    """The guests' linker script: the section order of ``tools.linker.SECTIONS`` (without
    the HTIF block) in a RAM region of ``RAM_LENGTH`` bytes at ``RAM_ORIGIN``."""
    out = script_head("guests/build.py", RAM_ORIGIN, RAM_LENGTH)
    out += [_section_text(*s) for s in SECTIONS if s[0] != ".tohost"]
    out += script_tail("  _end = .;")
    return "\n".join(out)


def guest_sources(name: str) -> list[Path]:
    """The sources of guest ``name`` (without the runtime), folders expanded."""
    out: list[Path] = []
    for rel in GUESTS[name].sources:
        path = GUESTS_DIR / rel
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix in (".c", ".S"))
        else:
            out.append(path)
    return out


def prepare() -> Path:
    """Write the linker script and the generated headers; return the script's path."""
    write_headers(variant("default"), OUT_DIR / "include")
    return write_if_changed(OUT_DIR / "link.ld", linker_script())


def build_program(sources: list[Path], out: Path, label: str, *,
                  defines: dict[str, object] | None = None,
                  include_dirs: tuple[Path, ...] = ()) -> Path:
    """Build ``sources`` over the runtime into the ELF ``out`` with the guests' linker
    script; a failure raises GuestBuildError naming ``label`` and the first error."""
    script = prepare()
    try:
        return build_elf([*RUNTIME_SOURCES, *sources], out, linker_script=script,
                         include_dirs=[*include_dirs, *INCLUDE_DIRS], opt="-O2",
                         march=MARCH, defines=defines)
    except ToolchainError as exc:
        raise GuestBuildError(f"guest {label!r}: {exc.args[0]}") from None


def build_guest(name: str) -> Path:
    """Build guest ``name`` (a key of ``GUESTS``); return the ELF path under build/guests/.

    Raises KeyError for an unknown name and GuestBuildError if the compiler or linker
    fails.
    """
    if name not in GUESTS:
        raise KeyError(f"unknown guest '{name}' (known: {', '.join(sorted(GUESTS))})")
    srcs = guest_sources(name)
    dirs = tuple(sorted({s.parent for s in srcs}))
    return build_program(srcs, OUT_DIR / f"{name}.elf", name, include_dirs=dirs)


def main(argv: list[str] | None = None) -> int:
    """Build the guests named in ``argv`` (default: all) and print their paths."""
    names = (sys.argv[1:] if argv is None else argv) or sorted(GUESTS)
    try:
        for name in names:
            print(build_guest(name))
    except (KeyError, ToolchainError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
