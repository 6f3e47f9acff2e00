"""Generated C headers (hardware/isa/cheaders.py): they compile for the riscv64 target, in
C and in assembly, and every value equals the Python tables."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hardware.config import SocConfig
from hardware.isa import causes
from hardware.isa.cheaders import HeaderError, _add, write_headers
from hardware.isa.csrs import CSRS
from hardware.isa.instructions import INSTRUCTIONS
from hardware.soc import memory_map

CFG = SocConfig(ram_size=1 << 20)


def _zig(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "ziglang", "cc", "-target", "riscv64-freestanding-none",
           "-mcpu=generic_rv64+m+a+c", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def _expected() -> dict[str, int]:
    """Values the headers must hold, straight from the tables."""
    exp = {}
    for r in INSTRUCTIONS:
        n = r.name.upper().replace(".", "_")
        exp[f"MATCH_{n}"], exp[f"MASK_{n}"] = r.match, r.mask
    exp.update({f"CSR_{c.name.upper()}": c.addr for c in CSRS})
    exp.update({f"CAUSE_{c.name}": c.code for c in causes.EXCEPTIONS})
    exp.update({f"IRQ_{c.name}": c.code for c in causes.INTERRUPTS})
    exp.update({f"MIP_{c.name}P": 1 << c.code for c in causes.INTERRUPTS})
    exp["CAUSE_INTERRUPT_BIT"] = 1 << 63
    exp["MSTATUS_MPP"], exp["MSTATUS_SPP"], exp["MSTATUS_MIE"] = 0x1800, 0x100, 0x8
    for r in memory_map.regions(CFG):
        exp[f"{r.name.upper()}_BASE"], exp[f"{r.name.upper()}_SIZE"] = r.base, r.size
    exp["UART0_IRQ"] = memory_map.UART0_IRQ
    exp["RAM_SIZE"] = 1 << 20
    return exp


@pytest.fixture(scope="module")
def headers(tmp_path_factory):
    out = tmp_path_factory.mktemp("hdr")
    paths = write_headers(CFG, out)
    assert [p.name for p in paths] == ["encoding.h", "platform.h"]
    return out


def test_values_match_tables_in_c(headers, tmp_path):
    checks = "\n".join(f'_Static_assert({n} == {v:#x}ULL, "{n}");'
                       for n, v in _expected().items())
    src = tmp_path / "check.c"
    src.write_text('#include "encoding.h"\n#include "platform.h"\n#include "encoding.h"\n'
                   f"{checks}\nconst int prio[] = {{IRQ_PRIORITY_LIST}};\n")
    # zig 0.17's "cc -fsyntax-only" fails on its own cache rename, so compile for real.
    res = _zig("-c", "-Wall", "-Werror", "-I", str(headers), str(src), "-o",
               str(tmp_path / "check.o"))
    assert res.returncode == 0, res.stderr[:2000]


def test_usable_from_assembly(headers, tmp_path):
    src = tmp_path / "check.S"
    src.write_text('#include "encoding.h"\n#include "platform.h"\n'
                   "li a0, CSR_MSTATUS\nli a1, RAM_BASE\nli a2, CAUSE_INTERRUPT_BIT\n"
                   "li a3, MSTATUS_MPP\ncsrw mstatus, a3\nli a4, MATCH_SFENCE_VMA\n")
    res = _zig("-c", "-I", str(headers), str(src), "-o", str(tmp_path / "check.o"))
    assert res.returncode == 0, res.stderr[:2000]


def test_header_text(headers):
    for name, guard in (("encoding.h", "HVSIM_ENCODING_H"), ("platform.h", "HVSIM_PLATFORM_H")):
        text = (headers / name).read_text()
        assert "GENERATED" in text and "never edit" in text
        assert f"#ifndef {guard}" in text and text.rstrip().endswith(f"#endif /* {guard} */")
    plat = (headers / "platform.h").read_text()
    assert "#define UART0_THR" in plat and "#define CLINT_MTIMECMP" in plat


def test_write_is_idempotent(headers):
    before = {p.name: p.stat().st_mtime_ns for p in headers.iterdir()}
    write_headers(CFG, headers)
    assert before == {p.name: p.stat().st_mtime_ns for p in headers.iterdir()}


def test_conflicting_values_are_reported():
    defs = {"CSR_X": 1}
    _add(defs, "CSR_X", 1, "csrs.py")
    with pytest.raises(HeaderError, match="CSR_X"):
        _add(defs, "CSR_X", 2, "csrs.py")
