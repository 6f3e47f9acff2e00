"""Cached bare-metal builds with zig cc (ARCHITECTURE.md section 4, "Toolchain").

``build_elf`` compiles and links C and assembly sources for the RV64IMAC target with
``python -m ziglang cc``. A build is skipped when the content hash of every input
(sources, the headers they include from the include directories, the linker script and
all flags) equals the one in the ``.stamp`` file next to the output.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Mapping

from hardware.config import SocConfig
from hardware.soc.memory_map import UART0_IRQ, regions

#: The repository root (tools/ lives directly inside it).
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Default directory for build products (git-ignored).
BUILD_DIR = REPO_ROOT / "build"
#: Default -mcpu value: RV64IMAC.
DEFAULT_MARCH = "generic_rv64+m+a+c"
#: Flags of every compile and link.
BASE_FLAGS = (
    "-target", "riscv64-freestanding-none",
    "-mcmodel=medany",
    "-ffreestanding",
    "-nostdlib",
    "-fno-builtin",
    "-Werror",
    "-g",
)
_INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
_ERROR_RE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:\d+:)?\s*error:\s*(?P<msg>.*)$", re.M)


class ToolchainError(RuntimeError):
    """A build failed; the message is one line naming the file and the first error."""


def zig_command() -> list[str]:
    """The command prefix that runs zig cc with the current interpreter."""
    return [sys.executable, "-m", "ziglang", "cc"]


def _headers(path: Path, include_dirs: Iterable[Path], seen: set[Path]) -> None:
    """Add to ``seen`` every file ``path`` includes (transitively) that can be found."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return
    for name in _INCLUDE_RE.findall(text):
        for d in (path.parent, *include_dirs):
            cand = (Path(d) / name).resolve()
            if cand.is_file():
                if cand not in seen:
                    seen.add(cand)
                    _headers(cand, include_dirs, seen)
                break


def _digest(inputs: Iterable[Path], flags: list[str]) -> str:
    """Content hash of the input files and the flags."""
    h = hashlib.sha256()
    for arg in flags:
        h.update(arg.encode() + b"\0")
    for p in sorted(set(inputs)):
        h.update(str(p).encode() + b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def _first_error(stderr: str, sources: list[Path]) -> str:
    """One line: the file and the first compiler or linker error."""
    m = _ERROR_RE.search(stderr)
    if m:
        return f"{m['file']}:{m['line']}: error: {m['msg'].strip()}"
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    err = next((ln for ln in lines if "error" in ln.lower()), lines[0] if lines else "unknown error")
    names = ", ".join(str(s) for s in sources)
    return f"{names}: {err}"


def compile_flags(*, linker_script: Path | None, defines: Mapping[str, object] | None,
                  include_dirs: Iterable[Path], opt: str, march: str,
                  extra_flags: Iterable[str] = ()) -> list[str]:
    """The full flag list of one build (without sources and output); ``extra_flags``
    follow the optimisation level."""
    flags = [*BASE_FLAGS, f"-mcpu={march}", opt, *extra_flags]
    for key, val in sorted((defines or {}).items()):
        flags.append(f"-D{key}" if val is None or val is True else f"-D{key}={val}")
    flags += [f"-I{Path(d).resolve()}" for d in include_dirs]
    if linker_script is not None:
        flags += [f"-Wl,-T,{Path(linker_script).resolve()}", "-Wl,--no-gc-sections"]
    return flags


def platform_defines(cfg: SocConfig) -> dict[str, object]:
    """-D flags that describe the platform of ``cfg`` to C and assembly (from the memory
    map: ``<REGION>_BASE`` / ``<REGION>_SIZE`` of every region, plus the hart's facts)."""
    defs: dict[str, object] = {}
    for r in regions(cfg):
        defs[f"{r.name.upper()}_BASE"] = f"{r.base:#x}"
        defs[f"{r.name.upper()}_SIZE"] = f"{r.size:#x}"
    defs["UART0_IRQ"] = UART0_IRQ
    defs["PMP_REGIONS"] = cfg.core.pmp_regions
    defs["HAS_H"] = int(cfg.core.has_h)
    defs["HARTID"] = cfg.core.hartid
    defs["MVENDORID"] = f"{cfg.core.mvendorid:#x}"
    defs["MIMPID"] = f"{cfg.core.mimpid:#x}"
    return defs


def build_elf(sources: list[Path], out: Path, *, linker_script: Path,
              defines: Mapping[str, object] | None = None, include_dirs: Iterable[Path] = (),
              opt: str = "-O2", march: str = DEFAULT_MARCH,
              extra_flags: Iterable[str] = ()) -> Path:
    """Compile and link ``sources`` into the ELF ``out``; return ``out``.

    Raises ToolchainError (one line naming the file and the first error) if a source is
    missing or the compiler fails. Skips the build when nothing changed since the last
    successful one.
    """
    sources = [Path(s).resolve() for s in sources]
    include_dirs = [Path(d).resolve() for d in include_dirs]
    out = Path(out).resolve()
    for s in sources:
        if not s.is_file():
            raise ToolchainError(f"{s}: source file not found")
    if not Path(linker_script).is_file():
        raise ToolchainError(f"{linker_script}: linker script not found")
    flags = compile_flags(linker_script=linker_script, defines=defines,
                          include_dirs=include_dirs, opt=opt, march=march,
                          extra_flags=extra_flags)
    deps: set[Path] = {Path(linker_script).resolve()}
    for s in sources:
        _headers(s, include_dirs, deps)
    digest = _digest([*sources, *deps], flags)
    stamp = out.with_name(out.name + ".stamp")
    if out.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    cmd = [*zig_command(), *flags, "-o", str(partial), *map(str, sources)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        stamp.unlink(missing_ok=True)
        raise ToolchainError(_first_error(proc.stderr, sources))
    os.replace(partial, out)
    stamp.write_text(digest + "\n")
    return out
