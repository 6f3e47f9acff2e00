"""Builds of the S-mode guest kernels in guests/kernels (docs/hypervisor.md).

Each guest is ``crt0.S`` + ``sbi.c`` + ``klib.c`` + one ``<name>.c``, compiled for
RV64IMAC with zig cc and linked at guest-physical 0x8000_0000 into at most 1 MiB (the
hypervisor places the guest's DTB at the top of the VM's RAM, so images stay small).
The generated ``encoding.h``/``platform.h`` (CSR numbers, causes, UART registers) are
included from the build directory. Builds are cached by ``tools.toolchain.build_elf``.

``python -m guests.kernels.build [NAME ...]`` builds the named guests (default: all) and
prints their paths.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hardware.config import variant
from hardware.isa.cheaders import write_headers
from tools.linker import SECTIONS, _section_text, script_head, script_tail, write_if_changed
from tools.toolchain import BUILD_DIR, ToolchainError, build_elf

#: Folder of the sources.
KERNELS_DIR = Path(__file__).resolve().parent
#: Folder of the build products (ELFs, linker script, generated headers).
OUT_DIR = BUILD_DIR / "guests"
#: Guest-physical RAM window every guest is linked into: (origin, length).
RAM_ORIGIN, RAM_LENGTH = 0x8000_0000, 1 << 20
#: -mcpu of the guests: RV64IMAC, no H (guests run in VS-mode).
MARCH = "generic_rv64+m+a+c"
#: Sources linked into every guest.
RUNTIME_SOURCES = (KERNELS_DIR / "crt0.S", KERNELS_DIR / "sbi.c", KERNELS_DIR / "klib.c")
#: The guests: name -> main source.
GUESTS: dict[str, Path] = {
    name: KERNELS_DIR / f"{name}.c"
    for name in ("hello", "counter", "uarttest", "sbitest", "crasher", "spinner", "wfi",
                 "hvbench", "regs")
}
#: Global labels that harnesses look up in a guest's symbol table: name -> symbols.
MARKERS: dict[str, tuple[str, ...]] = {
    "hvbench": ("hvbench_null_ecall", "hvbench_uart_store", "hvbench_ipi_ecall"),
    "uarttest": ("uarttest_clw",),
}


def linker_script() -> str:
    """The guests' linker script: the section order of ``tools.linker.SECTIONS`` (without
    the HTIF block) in a RAM region of ``RAM_LENGTH`` bytes at ``RAM_ORIGIN``."""
    out = script_head("guests/kernels/build.py", RAM_ORIGIN, RAM_LENGTH)
    out += [_section_text(*s) for s in SECTIONS if s[0] != ".tohost"]
    out += script_tail("  _end = .;")
    return "\n".join(out)


def build_guest(name: str) -> Path:
    """Build guest ``name`` (a key of ``GUESTS``); return the ELF path under build/guests/.

    Raises KeyError for an unknown name and ToolchainError if the compiler fails.
    """
    if name not in GUESTS:
        raise KeyError(f"unknown guest '{name}' (known: {', '.join(sorted(GUESTS))})")
    script = write_if_changed(OUT_DIR / "link.ld", linker_script())
    include = OUT_DIR / "include"
    write_headers(variant("default"), include)
    return build_elf([*RUNTIME_SOURCES, GUESTS[name]], OUT_DIR / f"{name}.elf",
                     linker_script=script, include_dirs=[KERNELS_DIR, include],
                     opt="-O2", march=MARCH)


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
