"""The self-checking ISA test suite (ARCHITECTURE.md section 5, layer 2).

Each ``tests/isa/*.S`` file is one topic. ``build_test`` links it with the runtime
(``runtime/hvtest_rt.S``) for a SoC configuration; the platform addresses reach the
assembly as -D flags generated here from ``hardware/soc/memory_map.py``. The resulting
ELF ends through HTIF ``tohost``: 1 = pass, ``(n << 1) | 1`` = case ``n`` failed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from hardware.config import SocConfig
from tools.linker import write_linker_script
from tools.toolchain import BUILD_DIR, build_elf, platform_defines

#: Folder of the test sources.
ISA_DIR = Path(__file__).resolve().parent
#: Folder of the macro header.
INCLUDE_DIR = ISA_DIR / "include"
#: The runtime linked into every test.
RUNTIME = ISA_DIR / "runtime" / "hvtest_rt.S"
#: A test that must fail, one way per FAIL_KIND (the harness's self-test).
MUST_FAIL = ISA_DIR / "meta" / "must_fail.S"
#: FAIL_KIND values of MUST_FAIL; each must fail as case MUST_FAIL_CASE.
MUST_FAIL_KINDS = range(1, 9)
MUST_FAIL_CASE = 7


#: Features a test can require with a ``requires: <feature>[, ...]`` line in its header
#: comment, and the configuration flag each one needs.
FEATURES = {"h": "has_h", "pmp": "pmp_regions"}


def list_tests() -> list[Path]:
    """Every test source, sorted by name."""
    return sorted(ISA_DIR.glob("*.S"))


def requirements(path: Path) -> frozenset[str]:
    """The features named on the test's ``requires:`` line (none if it has no such line)."""
    for line in Path(path).read_text().splitlines()[:40]:
        _, sep, rest = line.partition("requires:")
        if sep:
            names = frozenset(n.strip() for n in rest.rstrip("*/ ").split(",") if n.strip())
            unknown = names - FEATURES.keys()
            if unknown:
                raise ValueError(f"{path}: unknown feature(s) on the requires: line: "
                                 f"{', '.join(sorted(unknown))}")
            return names
    return frozenset()


def supports(cfg: SocConfig, path: Path) -> bool:
    """True if ``cfg`` has every feature the test requires."""
    return all(getattr(cfg.core, FEATURES[n]) for n in requirements(path))


def build_dir(cfg: SocConfig) -> Path:
    """Build folder of the suite for ``cfg`` (one per distinct configuration)."""
    key = hashlib.sha256(cfg.key().encode()).hexdigest()[:12]
    return BUILD_DIR / "isa" / key


def build_test(path: Path, cfg: SocConfig, *, defines: dict[str, object] | None = None,
               name: str | None = None) -> Path:
    """Build the test ``path`` for ``cfg``; return the ELF path (cached).

    ``defines`` adds -D flags and ``name`` replaces the ELF's file stem (for variants of
    one source).
    """
    path = Path(path).resolve()
    out_dir = build_dir(cfg)
    script = write_linker_script(cfg, out_dir / "link.ld")
    return build_elf([path, RUNTIME], out_dir / f"{name or path.stem}.elf",
                     linker_script=script, defines={**platform_defines(cfg), **(defines or {})},
                     include_dirs=[INCLUDE_DIR], opt="-O2")
