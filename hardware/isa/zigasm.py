"""Assemble a snippet of RISC-V assembly to machine code with zig's bundled LLVM assembler
(``python -m ziglang cc``), for tests that cross-check the encoding table.

Linker relaxation is off, so branches to nearby labels are resolved by the assembler and
the returned ``.text`` bytes are final.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from elftools.elf.elffile import ELFFile

#: -mcpu with every extension the table knows (D only so the C FP forms assemble).
FULL_MCPU = "generic_rv64+m+a+c+d+h"


class AsmError(RuntimeError):
    """The assembler rejected the snippet; the message is its first error line."""


def assemble(source: str, mcpu: str = FULL_MCPU) -> bytes:
    """The ``.text`` bytes of ``source`` assembled for riscv64."""
    with tempfile.TemporaryDirectory(prefix="hvsim-asm-") as tmp:
        src, obj = Path(tmp, "snippet.S"), Path(tmp, "snippet.o")
        src.write_text(source + "\n")
        cmd = [sys.executable, "-m", "ziglang", "cc", "-c", "-target",
               "riscv64-freestanding-none", f"-mcpu={mcpu}", "-mno-relax", str(src),
               "-o", str(obj)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            lines = [ln for ln in res.stderr.splitlines() if "error" in ln] or [res.stderr]
            raise AsmError(f"zig assembler: {lines[0].strip()}")
        with obj.open("rb") as f:
            return ELFFile(f).get_section_by_name(".text").data()


def split_words(code: bytes) -> list[tuple[int, int]]:
    """(offset, word) of each instruction in ``code``: 16 bits, or 32 when bits 1:0 are 3."""
    out, pc = [], 0
    while pc + 2 <= len(code):
        half = int.from_bytes(code[pc:pc + 2], "little")
        if half & 3 == 3:
            out.append((pc, int.from_bytes(code[pc:pc + 4], "little")))
            pc += 4
        else:
            out.append((pc, half))
            pc += 2
    return out
