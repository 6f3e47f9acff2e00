"""Tests of the boot ROM image (hardware/soc/bootrom.py): the encoder against the zig
assembler, the image layout, and the boot code run on Spike."""

import shutil
import struct
import subprocess
import sys

import pytest
from elftools.elf.elffile import ELFFile

from hardware.config import SocConfig
from hardware.soc import bootrom, dtb, memory_map

CFG = SocConfig()  # the default SoC: its DTB (in the ROM) names a core with H
ZIG = [sys.executable, "-m", "ziglang", "cc", "-target", "riscv64-freestanding-none",
       "-mcpu=generic_rv64+m+a+c", "-mcmodel=medany", "-nostdlib"]

REF_ASM = f"""
.option norvc
.text
auipc t0, 0
addi a1, t0, {memory_map.BOOTROM_DTB_OFFSET}
csrr a0, mhartid
ld t0, {bootrom.ENTRY_OFFSET}(t0)
jr t0
"""


def assemble(tmp_path, text: str) -> bytes:
    (tmp_path / "ref.S").write_text(text)
    subprocess.run(ZIG + ["-c", str(tmp_path / "ref.S"), "-o", str(tmp_path / "ref.o")],
                   check=True, capture_output=True)
    with open(tmp_path / "ref.o", "rb") as f:
        return ELFFile(f).get_section_by_name(".text").data()


def test_encoding_matches_assembler(tmp_path):
    assert bootrom.boot_code_bytes() == assemble(tmp_path, REF_ASM)


@pytest.mark.parametrize("row", [("addi", 31, 1, -2048), ("ld", 7, 2, 2047), ("jalr", 1, 31, -1),
                                 ("auipc", 9, 0, -4096), ("csrrs", 3, 0, 0xC01)])
def test_encoder_edge_immediates(tmp_path, row):
    name, rd, rs1, imm = row
    asm = {"addi": f"addi x{rd}, x{rs1}, {imm}", "ld": f"ld x{rd}, {imm}(x{rs1})",
           "jalr": f"jalr x{rd}, {imm}(x{rs1})", "auipc": f"auipc x{rd}, {(imm >> 12) & 0xFFFFF}",
           "csrrs": f"csrrs x{rd}, {imm}, x{rs1}"}[name]
    want = assemble(tmp_path, f".option norvc\n.text\n{asm}\n")
    assert struct.pack("<I", bootrom.encode(name, rd, rs1, imm)) == want


def test_image_layout():
    blob = dtb.build_dtb(CFG)
    image = bootrom.bootrom_image(CFG, 0x8020_0000, blob)
    assert len(image) == memory_map.region(CFG, "bootrom").size
    assert image.startswith(bootrom.boot_code_bytes())
    assert struct.unpack_from("<Q", image, bootrom.ENTRY_OFFSET) == (0x8020_0000,)
    at = memory_map.BOOTROM_DTB_OFFSET
    assert image[at:at + len(blob)] == blob
    assert dtb.parse_dtb(image[at:]) == dtb.parse_dtb(blob)
    words = bootrom.bootrom_words(image)
    assert len(words) == len(image) // 8 and words[bootrom.ENTRY_OFFSET // 8] == 0x8020_0000


@pytest.mark.parametrize("entry,dtb_size,msg", [
    (1 << 64, 100, "entry point"),
    (0x8000_0000, 0x1000, "does not fit"),
])
def test_image_errors(entry, dtb_size, msg):
    with pytest.raises(bootrom.BootromError, match=msg):
        bootrom.bootrom_image(CFG, entry, b"\0" * dtb_size)


CHECKER = """
.option norvc
.section .text.rom, "ax"
.globl _start
_start:
.incbin "{rom}"
.section .text.entry, "ax"
.globl entry
entry:
  bnez a0, bad
  la t1, _start + {dtb_off}
  bne a1, t1, bad
  lwu t2, 0(a1)
  li t3, 0xedfe0dd0
  bne t2, t3, bad
  li t0, 1
  j done
bad:
  li t0, 3
done:
  la t1, tohost
  sd t0, 0(t1)
1: j 1b
.section .tohost, "aw"
.align 6
.globl tohost
tohost: .dword 0
.align 6
.globl fromhost
fromhost: .dword 0
"""
LINK = """ENTRY(_start)
SECTIONS { . = 0x80000000; .rom : { *(.text.rom) } . = 0x80001000; .text : { *(.text.entry) }
  . = ALIGN(0x1000); .tohost : { *(.tohost) } }
"""


def test_boot_code_on_spike(tmp_path):
    """The ROM image, placed at the start of RAM, enters ``entry`` with a0 = mhartid and
    a1 = the DTB it carries."""
    spike = shutil.which("spike")
    if spike is None:
        pytest.skip("spike is not installed")
    blob = dtb.build_dtb(CFG)
    (tmp_path / "rom.bin").write_bytes(bootrom.bootrom_image(CFG, 0x8000_1000, blob))
    (tmp_path / "c.S").write_text(CHECKER.format(rom=tmp_path / "rom.bin",
                                                 dtb_off=memory_map.BOOTROM_DTB_OFFSET))
    (tmp_path / "c.ld").write_text(LINK)
    subprocess.run(ZIG + ["-T", str(tmp_path / "c.ld"), str(tmp_path / "c.S"),
                          "-o", str(tmp_path / "c.elf")], check=True, capture_output=True)
    (tmp_path / "t.dtb").write_bytes(blob)
    isa = dtb.isa_string(CFG)  # Spike must implement what the DTB says (H by default)
    run = subprocess.run([spike, f"--dtb={tmp_path / 't.dtb'}", f"--isa={isa}",
                          f"-m0x80000000:{CFG.ram_size:#x}", str(tmp_path / "c.elf")],
                         capture_output=True, timeout=60, text=True)
    assert run.returncode == 0, run.stderr
