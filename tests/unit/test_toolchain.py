"""The toolchain driver, the generated linker script, the Spike runner and the bare-metal
programs (ARCHITECTURE.md sections 3-5)."""

from __future__ import annotations

import re
import zlib

import pytest
from elftools.elf.elffile import ELFFile

from guests.bare.build import BARE_DIR, RUNTIME_SOURCES, build_program
from hardware.config import DEFAULT, VARIANTS
from hardware.soc.memory_map import region
from tools.linker import linker_script, write_linker_script
from tools.spike import SpikeError, elf_symbol, run_spike
from tools.toolchain import ToolchainError, build_elf, platform_defines

MASK64 = (1 << 64) - 1


def _xorshift64star(state: int):
    """The generator of bench.c, in Python: an independent known answer."""
    while True:
        state ^= state >> 12
        state = (state ^ (state << 25)) & MASK64
        state ^= state >> 27
        yield (state * 0x2545F4914F6CDD1D) & MASK64


def _bare(tmp_path, main_c: str, name: str = "prog"):
    """Build crt0 + hvlib + a C source given as text."""
    src = tmp_path / f"{name}.c"
    src.write_text(main_c)
    script = write_linker_script(DEFAULT, tmp_path / "link.ld")
    return build_elf([*RUNTIME_SOURCES, src], tmp_path / f"{name}.elf", linker_script=script,
                     defines=platform_defines(DEFAULT), include_dirs=[BARE_DIR])


def test_linker_script_follows_memory_map():
    """Origin and length come from the config's RAM region; the section order is fixed."""
    for cfg in (DEFAULT, VARIANTS["small"]):
        ram = region(cfg, "ram")
        text = linker_script(cfg)
        assert f"ORIGIN = {ram.base:#x}, LENGTH = {ram.size:#x}" in text
        order = [text.index(f"  {s} ") for s in (".text.init", ".text", ".rodata", ".data",
                                                   ".tohost", ".bss")]
        assert order == sorted(order)


def test_demo_runs_on_spike():
    """The demo prints its banner and computed lines, then passes."""
    elf = build_program("demo", DEFAULT)
    result = run_spike(elf, DEFAULT, timeout_s=60)
    assert result.exit_code == 0, result.log
    out = result.stdout_uart_text
    assert out.startswith("hvsim bare-metal demo\n")
    assert "primes below 100: 2 3 5 7 11 13 17 19 23 29 31 37 41 43 47 53 59 61 67 71 73 79 83 89 97\n" in out
    assert "F(90) = 2880067194370816120\n" in out
    assert out.endswith("demo: PASS\n")


def test_demo_elf_layout():
    """Entry at the RAM base, tohost and fromhost 64-byte aligned, stack at the top."""
    elf = build_program("demo", DEFAULT)
    ram = region(DEFAULT, "ram")
    with open(elf, "rb") as f:
        assert ELFFile(f).header["e_entry"] == ram.base
    tohost, fromhost = elf_symbol(elf, "tohost"), elf_symbol(elf, "fromhost")
    assert tohost % 64 == 0 and fromhost % 64 == 0 and fromhost >= tohost + 8
    assert elf_symbol(elf, "_stack_top") == ram.base + ram.size


def test_bench_small_runs_on_spike():
    """The SMALL benchmark passes its own checks and matches Python's CRC-32."""
    elf = build_program("bench", DEFAULT, small=True)
    result = run_spike(elf, DEFAULT, timeout_s=60)
    assert result.exit_code == 0, result.log
    out = result.stdout_uart_text
    assert out.endswith("bench: PASS\n")
    rng = _xorshift64star(0x9E3779B97F4A7C15)
    data = b"".join(next(rng).to_bytes(8, "little") for _ in range((16 << 10) // 8))
    assert f"crc32 of 16384 bytes: {zlib.crc32(data):08x}" in out
    keys = sorted(next(rng) for _ in range(1 << 10))
    assert f"min {keys[0]:016x} max {keys[-1]:016x}, 0 out of order" in out


def test_main_return_value_is_the_exit_code(tmp_path):
    """main's return value n ends the run with HTIF code n; a trap gives 0x100 + mcause."""
    elf = _bare(tmp_path, '#include "hvlib.h"\nint main(void) { return 5; }\n', "ret5")
    assert run_spike(elf, DEFAULT).exit_code == 5
    elf = _bare(tmp_path, '#include "hvlib.h"\nint main(void) {'
                          ' __asm__ volatile("ebreak"); return 0; }\n', "trap")
    assert run_spike(elf, DEFAULT).exit_code == 0x103


def test_instruction_limit_is_not_a_pass(tmp_path):
    """A program stopped by max_instructions reports limit_reached, not exit code 0."""
    elf = _bare(tmp_path, '#include "hvlib.h"\nint main(void) { for (;;) __asm__ volatile("");'
                          ' }\n', "spin")
    result = run_spike(elf, DEFAULT, max_instructions=20000)
    assert result.limit_reached and result.exit_code is None
    elf = build_program("demo", DEFAULT)
    result = run_spike(elf, DEFAULT, max_instructions=10_000_000)
    assert result.exit_code == 0 and not result.limit_reached


def test_build_is_cached(tmp_path):
    """A second build with the same inputs does not run the compiler; a new flag does."""
    src = '#include "hvlib.h"\nint main(void) { return 0; }\n'
    elf = _bare(tmp_path, src, "cached")
    mtime = elf.stat().st_mtime_ns
    assert _bare(tmp_path, src, "cached").stat().st_mtime_ns == mtime
    script = tmp_path / "link.ld"
    build_elf([*RUNTIME_SOURCES, tmp_path / "cached.c"], elf, linker_script=script,
              defines={**platform_defines(DEFAULT), "EXTRA": 1}, include_dirs=[BARE_DIR])
    assert elf.stat().st_mtime_ns != mtime


def test_syntax_error_is_one_line_naming_the_file(tmp_path):
    """A compile error raises ToolchainError: one line, the file and the first error."""
    bad = tmp_path / "broken.c"
    bad.write_text("int main(void) {\n  return 0\n}\n")
    with pytest.raises(ToolchainError) as err:
        build_elf([bad], tmp_path / "broken.elf", linker_script=write_linker_script(
            DEFAULT, tmp_path / "link.ld"))
    msg = str(err.value)
    assert "\n" not in msg
    assert re.match(rf"{re.escape(str(bad))}:2: error: ", msg), msg


def test_missing_source_and_elf_errors(tmp_path):
    """Missing inputs give clear errors naming the file."""
    script = write_linker_script(DEFAULT, tmp_path / "link.ld")
    with pytest.raises(ToolchainError, match="nothere.c: source file not found"):
        build_elf([tmp_path / "nothere.c"], tmp_path / "x.elf", linker_script=script)
    with pytest.raises(SpikeError, match="nothere.elf: ELF file not found"):
        run_spike(tmp_path / "nothere.elf", DEFAULT)


def test_missing_spike_is_a_clear_error(tmp_path, monkeypatch):
    """Without a spike executable, run_spike says so in one line."""
    import tools.spike as spike_mod

    monkeypatch.setattr(spike_mod.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    elf = build_program("demo", DEFAULT)
    with pytest.raises(SpikeError, match="spike executable not found"):
        run_spike(elf, DEFAULT)
