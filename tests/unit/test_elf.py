"""Tests of the ELF loader (hardware/sim/elf.py): tiny ELFs are built with zig cc."""

import subprocess
import sys

import pytest

from hardware.config import SocConfig
from hardware.sim.elf import ElfError, load_elf

CFG = SocConfig()

START = """
.section .text.init, "ax"
.globl _start
_start:
  la t0, tohost
  li t1, 1
  STORE t1, 0(t0)
1: j 1b
.section .tohost, "aw"
.balign 8
.globl tohost
tohost: .dword 0
.globl fromhost
fromhost: .dword 0
.bss
.globl buf
buf: .zero BSS
"""

LINK = """
ENTRY(_start)
SECTIONS {{
  . = {base:#x};
  .text : {{ *(.text.init) *(.text*) }}
  .tohost : {{ *(.tohost) }}
  .bss : {{ *(.bss*) }}
}}
"""


def zig_elf(tmp, name, base=0x8000_0000, xlen=64, bss=4096):
    """Build a tiny ELF linked at ``base``; returns its path."""
    src, ld, out = tmp / f"{name}.S", tmp / f"{name}.ld", tmp / f"{name}.elf"
    src.write_text(START.replace("STORE", "sd" if xlen == 64 else "sw").replace("BSS", str(bss)))
    ld.write_text(LINK.format(base=base))
    subprocess.run([sys.executable, "-m", "ziglang", "cc",
                    f"-target", f"riscv{xlen}-freestanding-none",
                    f"-mcpu=generic_rv{xlen}+m+a+c", "-mcmodel=medany", "-nostdlib",
                    "-T", str(ld), str(src), "-o", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def elfs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("elf")
    return {
        "good": zig_elf(tmp, "good"),
        "rv32": zig_elf(tmp, "rv32", xlen=32),
        "uart": zig_elf(tmp, "uart", base=0x1000_0000),
        "hole": zig_elf(tmp, "hole", base=0x4000_0000),
        "ram_end": zig_elf(tmp, "ram_end", base=0x8000_0000 + CFG.ram_size - 0x10),
        "rom": zig_elf(tmp, "rom", base=0x1000, bss=64),
        "rom_overflow": zig_elf(tmp, "rom_overflow", base=0x1000),
    }


def variant(tmp_path, good, name, patch):
    """A copy of ``good`` changed by ``patch(bytearray) -> bytes``."""
    path = tmp_path / name
    path.write_bytes(bytes(patch(bytearray(good.read_bytes()))))
    return path


def test_good_elf(elfs):
    image = load_elf(elfs["good"], CFG)
    assert image.entry == 0x8000_0000
    assert [addr for addr, _ in image.segments] == [0x8000_0000, 0x8000_0010]
    data = dict(image.segments)[0x8000_0010]
    assert len(data) == 16 + 4096 and data[16:] == bytes(4096)  # bss zero-filled
    assert (image.tohost, image.fromhost) == (0x8000_0010, 0x8000_0018)
    assert image.symbols["buf"] == 0x8000_0020
    images = image.mem_images(CFG)
    assert [off for off, _ in images["ram"]] == [0, 0x10]


def test_rom_segment_is_loadable(elfs):
    image = load_elf(elfs["rom"], CFG)
    assert image.entry == 0x1000
    with pytest.raises(ElfError, match="bootrom, which has no simulated memory"):
        image.mem_images(CFG)
    assert image.mem_images(CFG, {"bootrom": "rom"})["rom"][0][0] == 0


def expect(path, message):
    with pytest.raises(ElfError) as info:
        load_elf(path, CFG)
    text = str(info.value)
    assert str(path) in text and message in text and "\n" not in text, text


def test_missing_and_unreadable(tmp_path):
    expect(tmp_path / "missing.elf", "cannot read ELF file (No such file or directory)")
    expect(tmp_path, "cannot read ELF file")


def test_not_an_elf(tmp_path):
    path = tmp_path / "text.elf"
    path.write_text("hello\n")
    expect(path, "not an ELF file")


@pytest.mark.parametrize("cut", [10, 63, 100, 0x1004, -10])
def test_truncated(tmp_path, elfs, cut):
    path = variant(tmp_path, elfs["good"], f"cut{cut}", lambda b: b[:cut])
    expect(path, "truncated")


def test_rv32_is_named(elfs):
    expect(elfs["rv32"], "ELF for rv32")


def test_big_endian(tmp_path, elfs):
    def flip(b):
        b[5] = 2
        return b
    expect(variant(tmp_path, elfs["good"], "be.elf", flip), "big-endian")


def test_other_machine(tmp_path, elfs):
    def x86(b):
        b[18:20] = (62).to_bytes(2, "little")
        return b
    expect(variant(tmp_path, elfs["good"], "x86.elf", x86), "machine 62, not RISC-V")


def test_segment_over_a_device(elfs):
    expect(elfs["uart"], "overlaps device 'uart0'")


def test_segment_outside_memory(elfs):
    expect(elfs["hole"], "is outside RAM and ROM")
    expect(elfs["ram_end"], "is outside RAM and ROM")
    expect(elfs["rom_overflow"], "segment 1 [0x1010, 0x2020) is outside RAM and ROM")


def test_entry_outside_executable_memory(tmp_path, elfs):
    def entry(b):
        b[24:32] = (0x0200_0000).to_bytes(8, "little")
        return b
    expect(variant(tmp_path, elfs["good"], "entry.elf", entry),
           "entry point 0x2000000 is outside executable memory")
