"""The one memory map of the SoC (ARCHITECTURE.md section 1, "Memory map").

QEMU ``virt`` and Spike compatible. The bus address decode, the DTB, the C header
``platform.h``, the linker scripts and the docs table are all generated from
``REGIONS``; nothing else states a base address.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.config import SocConfig


@dataclass(frozen=True)
class Region:
    """One window of the physical address space."""

    name: str  # identifier used in generated code (C macros are NAME_BASE / NAME_SIZE)
    base: int  # first byte address
    size: int  # window size in bytes (a power of two, aligned)
    kind: str  # "rom", "ram" or "device"
    executable: bool  # instruction fetch allowed
    doc: str  # one line for the docs table


def regions(cfg: SocConfig) -> tuple[Region, ...]:
    """The regions of the address map for ``cfg`` (RAM size comes from the config)."""
    return (
        Region("bootrom", 0x0000_1000, 0x1000, "rom", True,
               "boot ROM: reset vector, jumps to RAM with a0 = hartid, a1 = DTB"),
        Region("finisher", 0x0010_0000, 0x1000, "device", False,
               "test finisher (sifive_test): 0x5555 pass, (code<<16)|0x3333 fail"),
        Region("clint", 0x0200_0000, 0x10000, "device", False,
               "CLINT: msip +0x0, mtimecmp +0x4000, mtime +0xBFF8"),
        Region("plic", 0x0C00_0000, 0x400_0000, "device", False,
               "PLIC: 31 sources, context 0 = hart0 M, context 1 = hart0 S"),
        Region("uart0", 0x1000_0000, 0x100, "device", False,
               "UART0, ns16550a, IRQ 10"),
        Region("ram", 0x8000_0000, cfg.ram_size, "ram", True,
               "RAM; size set in the config"),
    )


def region(cfg: SocConfig, name: str) -> Region:
    """Look one region up by name."""
    for r in regions(cfg):
        if r.name == name:
            return r
    raise KeyError(name)


def find(cfg: SocConfig, addr: int, size: int = 1) -> Region | None:
    """The region that wholly contains ``[addr, addr+size)``, or None."""
    for r in regions(cfg):
        if r.base <= addr and addr + size <= r.base + r.size:
            return r
    return None


#: Interrupt wiring (ARCHITECTURE.md section 1). PLIC source of UART0.
UART0_IRQ = 10
#: Reset vector: the first instruction fetched.
RESET_VECTOR = 0x0000_1000
#: Offset of the DTB inside the boot ROM.
BOOTROM_DTB_OFFSET = 0x40
