"""Boot ROM image: reset code, the entry point as data, and the DTB.

Implements the boot convention of ARCHITECTURE.md section 4 ("Boot", step 1) and of the
RISC-V SBI/Linux boot protocol: the ROM enters the firmware in M-mode with a0 = mhartid
and a1 = the physical address of the DTB. Instructions are encoded per the RISC-V
unprivileged spec v20191213, chapter 24 ("RV32/64G Instruction Set Listings").

Layout (offsets from the ROM base):

| offset | content |
|---|---|
| 0x0 | ``BOOT_CODE`` (5 instructions, no compressed encodings) |
| ``ENTRY_OFFSET`` | 64-bit little-endian entry point |
| ``memory_map.BOOTROM_DTB_OFFSET`` | the DTB |
"""

from __future__ import annotations

import struct

from hardware.config import SocConfig
from hardware.isa.csrs import CSR_ADDR
from hardware.soc import memory_map

#: Offset of the 64-bit entry point inside the ROM.
ENTRY_OFFSET = 0x18

#: Integer register numbers used by the boot code (ABI names).
T0, A0, A1, ZERO = 5, 10, 11, 0

#: Major opcodes and funct3 of the instructions used here: name -> (format, opcode, funct3).
OPCODES = {
    "auipc": ("U", 0x17, 0),
    "addi": ("I", 0x13, 0),
    "ld": ("I", 0x03, 3),
    "jalr": ("I", 0x67, 0),
    "csrrs": ("I", 0x73, 2),
}


class BootromError(ValueError):
    """The boot ROM image cannot be built; the message names the problem."""


def encode(name: str, rd: int, rs1: int = 0, imm: int = 0) -> int:
    """Encode one I- or U-type instruction as a 32-bit word."""
    fmt, opcode, funct3 = OPCODES[name]
    if fmt == "U":
        assert imm % 4096 == 0 and -(1 << 31) <= imm < (1 << 31)
        return (imm & 0xFFFF_F000) | rd << 7 | opcode
    assert -2048 <= imm < 4096 if name == "csrrs" else -2048 <= imm < 2048
    return (imm & 0xFFF) << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode


def boot_code() -> list[tuple[str, int, int, int]]:
    """The boot program as (instruction, rd, rs1, imm) rows; t0 holds the ROM base."""
    return [
        ("auipc", T0, 0, 0),                                  # t0 = ROM base
        ("addi", A1, T0, memory_map.BOOTROM_DTB_OFFSET),      # a1 = DTB
        ("csrrs", A0, ZERO, CSR_ADDR["mhartid"]),             # a0 = mhartid
        ("ld", T0, T0, ENTRY_OFFSET),                         # t0 = entry point
        ("jalr", ZERO, T0, 0),                                # jump to it
    ]


def boot_code_bytes() -> bytes:
    """The encoded boot program."""
    return b"".join(struct.pack("<I", encode(*row)) for row in boot_code())


def bootrom_image(cfg: SocConfig, entry: int, dtb: bytes) -> bytes:
    """The ROM contents (exactly the size of the ``bootrom`` region)."""
    size = memory_map.region(cfg, "bootrom").size
    code = boot_code_bytes()
    dtb_at = memory_map.BOOTROM_DTB_OFFSET
    if len(code) > ENTRY_OFFSET or ENTRY_OFFSET + 8 > dtb_at:
        raise BootromError(f"bootrom: code ({len(code)} bytes) overlaps the entry point or DTB")
    if not 0 <= entry < 1 << 64:
        raise BootromError(f"bootrom: entry point {entry:#x} is not a 64-bit address")
    if dtb_at + len(dtb) > size:
        raise BootromError(f"bootrom: DTB of {len(dtb)} bytes does not fit in the "
                           f"{size:#x}-byte ROM after offset {dtb_at:#x}")
    image = bytearray(size)
    image[:len(code)] = code
    image[ENTRY_OFFSET:ENTRY_OFFSET + 8] = struct.pack("<Q", entry)
    image[dtb_at:dtb_at + len(dtb)] = dtb
    return bytes(image)


def bootrom_words(image: bytes) -> list[int]:
    """The image as 64-bit little-endian words (for a ROM of doublewords)."""
    return [int.from_bytes(image[i:i + 8], "little") for i in range(0, len(image), 8)]
