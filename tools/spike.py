"""Run an ELF on Spike, the golden model (ARCHITECTURE.md sections 1 and 5).

Spike is started with the SoC's DTB and ISA string (``hardware.soc.dtb``), so its hart
has the configured extensions and PMP entries and its CLINT, PLIC and ns16550 sit where
``hardware/soc/memory_map.py`` puts them, with RAM of the configured size at the RAM
base (``spike --isa=... --dtb=... -m<base>:<size> elf``). The run ends through HTIF: a
store of 1 to ``tohost`` passes (exit code 0), a store of ``(n << 1) | 1`` fails with
exit code ``n``. The UART transmit stream arrives on Spike's standard output.

Spike's own ``--instructions`` limit also exits with code 0, like a pass. When
``max_instructions`` is given, the run therefore records the commit log and takes the
code from the store to ``tohost`` it shows; with no such store the result has
``exit_code=None`` and ``limit_reached=True``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from hardware.config import SocConfig
from hardware.soc.dtb import isa_string, write_dtb
from hardware.soc.memory_map import region


#: Spike's report of a failing HTIF code (the process status keeps only its low 8 bits).
_FAILED_RE = re.compile(r"\*\*\* FAILED \*\*\* \(tohost = (\d+)\)")


class SpikeError(RuntimeError):
    """Spike is missing, failed to start, or did not finish in time."""


@dataclass(frozen=True)
class SpikeResult:
    """Outcome of one Spike run."""

    exit_code: int | None  # HTIF code: 0 pass, n fail; None if a limit stopped the run
    stdout_uart_text: str  # bytes the program sent to the UART (Spike's stdout)
    log: str  # Spike's stderr, followed by the commit log when one was recorded
    limit_reached: bool = False  # the instruction limit ended the run

    @property
    def passed(self) -> bool:
        """True if the program wrote 1 to tohost."""
        return self.exit_code == 0


def find_spike() -> Path:
    """The ``spike`` executable: next to the interpreter, else on PATH."""
    local = Path(sys.executable).parent / "spike"
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which("spike")
    if found:
        return Path(found)
    raise SpikeError("spike executable not found next to the Python interpreter or on PATH "
                     "(install it with: pip install spike==0.0.5.dev20)")


def elf_symbol(elf: Path, name: str) -> int | None:
    """The value of symbol ``name`` in ``elf``, or None."""
    with open(elf, "rb") as f:
        for sec in ELFFile(f).iter_sections():
            if isinstance(sec, SymbolTableSection):
                syms = sec.get_symbol_by_name(name)
                if syms:
                    return syms[0]["st_value"]
    return None


def _write_dtb(cfg: SocConfig, path: Path) -> None:
    """Write the SoC's DTB for ``cfg`` to ``path``."""
    write_dtb(cfg, path)


def spike_command(elf: Path, cfg: SocConfig, dtb: Path, *, max_instructions: int | None,
                  log_file: Path | None) -> list[str]:
    """The Spike command line for one run."""
    ram = region(cfg, "ram")
    cmd = [str(find_spike()), f"--isa={isa_string(cfg)}", f"--dtb={dtb}",
           f"-m{ram.base:#x}:{ram.size:#x}"]
    if max_instructions is not None:
        cmd.append(f"--instructions={max_instructions}")
    if log_file is not None:
        cmd += ["--log-commits", f"--log={log_file}"]
    return [*cmd, str(elf)]


def _tohost_code(commit_log: str, tohost: int | None) -> int | None:
    """The HTIF code of the first odd value the commit log shows stored to ``tohost``."""
    if tohost is None:
        return None
    pat = re.compile(rf"mem 0x0*{tohost:x} 0x([0-9a-f]+)")
    for m in pat.finditer(commit_log):
        value = int(m.group(1), 16)
        if value & 1:
            return value >> 1
    return None


def run_spike(elf: Path, cfg: SocConfig, *, max_instructions: int | None = None,
              timeout_s: float = 60, log_commits: bool = False) -> SpikeResult:
    """Run ``elf`` on Spike configured like the SoC ``cfg``; return the HTIF outcome.

    ``max_instructions`` bounds the run in Spike steps and turns on the commit log (about
    60 bytes per instruction, in a temporary file), so keep it to bounded runs of a few
    million instructions; ``timeout_s`` bounds any run in wall-clock time. Raises
    SpikeError if Spike is missing, fails to start, or times out.
    """
    elf = Path(elf)
    if not elf.is_file():
        raise SpikeError(f"{elf}: ELF file not found")
    with tempfile.TemporaryDirectory(prefix="hvsim-spike-") as tmp:
        dtb = Path(tmp) / "soc.dtb"
        _write_dtb(cfg, dtb)
        want_log = log_commits or max_instructions is not None
        log_file = Path(tmp) / "commits.log" if want_log else None
        cmd = spike_command(elf, cfg, dtb, max_instructions=max_instructions, log_file=log_file)
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise SpikeError(f"{elf}: spike did not finish within {timeout_s} s") from None
        commits = log_file.read_text(errors="replace") if log_file and log_file.exists() else ""
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode < 0 or (proc.returncode == 255 and "*** FAILED ***" not in stderr):
        first = stderr.strip().splitlines()[-1] if stderr.strip() else f"status {proc.returncode}"
        raise SpikeError(f"{elf}: spike failed: {first}")
    code: int | None = proc.returncode
    failed = _FAILED_RE.search(stderr)
    if failed:
        code = int(failed.group(1))
    limit = False
    if max_instructions is not None and code == 0:
        code = _tohost_code(commits, elf_symbol(elf, "tohost"))
        limit = code is None
    log = stderr + commits if log_commits else stderr
    return SpikeResult(code, proc.stdout.decode(errors="replace"), log, limit)
