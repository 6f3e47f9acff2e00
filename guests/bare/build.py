"""Builds of the bare-metal programs in guests/bare (ARCHITECTURE.md section 4).

Each program is ``crt0.S`` + ``hvlib.c`` + one ``<name>.c``, linked with the linker script
generated from the memory map for the configuration, with the platform addresses as -D
flags. Builds are cached by ``tools.toolchain.build_elf``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from hardware.config import SocConfig
from tools.linker import write_linker_script
from tools.toolchain import BUILD_DIR, build_elf, platform_defines

#: Folder of the sources.
BARE_DIR = Path(__file__).resolve().parent
#: Sources linked into every program.
RUNTIME_SOURCES = (BARE_DIR / "crt0.S", BARE_DIR / "hvlib.c")
#: The programs: name -> main source.
PROGRAMS = {"demo": BARE_DIR / "demo.c", "bench": BARE_DIR / "bench.c",
            "tlbcost": BARE_DIR / "tlbcost.c"}


def build_program(name: str, cfg: SocConfig, *, small: bool = False) -> Path:
    """Build program ``name`` (see PROGRAMS) for ``cfg``; ``small`` adds -DSMALL."""
    if name not in PROGRAMS:
        known = ", ".join(sorted(PROGRAMS))
        raise KeyError(f"unknown bare-metal program '{name}' (known: {known})")
    key = hashlib.sha256(cfg.key().encode()).hexdigest()[:12]
    out_dir = BUILD_DIR / "bare" / key
    script = write_linker_script(cfg, out_dir / "link.ld")
    defines = platform_defines(cfg)
    if small:
        defines["SMALL"] = None
    stem = f"{name}-small" if small else name
    return build_elf([*RUNTIME_SOURCES, PROGRAMS[name]], out_dir / f"{stem}.elf",
                     linker_script=script, defines=defines, include_dirs=[BARE_DIR])
