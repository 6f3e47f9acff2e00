"""ELF loader for the simulated SoC (ARCHITECTURE.md section 1: memory map and HTIF).

``load_elf`` reads a 64-bit little-endian RISC-V ELF with pyelftools and checks it
against ``memory_map.regions(cfg)``: every PT_LOAD segment must lie wholly in one RAM or
ROM region, and the entry point in executable memory. Segments are returned at their
physical addresses with the ``memsz - filesz`` tail zero-filled. The symbols ``tohost``
and ``fromhost`` (the Spike/riscv-tests HTIF convention) are looked up if present.

Every problem raises ``ElfError`` with a one-line message that names the file.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError as _PyElfError
from elftools.common.exceptions import ELFParseError
from elftools.elf.elffile import ELFFile

from hardware.config import SocConfig
from hardware.soc import memory_map

#: e_machine of RISC-V.
EM_RISCV = 243
#: ELF identification bytes (ELF spec, "e_ident").
ELF_MAGIC = b"\x7fELF"
EI_CLASS, EI_DATA = 4, 5
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB = 1
#: Kinds of region a PT_LOAD segment may be loaded into.
LOADABLE_KINDS = ("ram", "rom")


class ElfError(ValueError):
    """The ELF cannot run on the model; the message names the file and the problem."""


@dataclass(frozen=True)
class ElfImage:
    """What the simulator needs from an ELF."""

    entry: int
    segments: list[tuple[int, bytes]]  # (physical address, bytes incl. zero fill)
    symbols: dict[str, int] = field(default_factory=dict)
    tohost: int | None = None  # address of the HTIF symbol, if the ELF has one
    fromhost: int | None = None
    path: str = ""  # the file it came from, for messages

    def mem_images(self, cfg: SocConfig,
                   memories: dict[str, str] | None = None) -> dict[str, list[tuple[int, bytes]]]:
        """The segments as ``make_simulator`` memory images: memory name -> [(byte
        offset within the memory, bytes)]. ``memories`` maps region names to MemBlock
        names (default: the RAM region into MemBlock ``ram``)."""
        memories = {"ram": "ram"} if memories is None else memories
        images: dict[str, list[tuple[int, bytes]]] = {}
        for addr, data in self.segments:
            region = memory_map.find(cfg, addr, max(len(data), 1))
            if region is None or region.name not in memories:
                where = region.name if region else "no region"
                raise ElfError(f"{self.path}: segment at {addr:#x} is in {where}, which "
                               f"has no simulated memory to load it into")
            images.setdefault(memories[region.name], []).append((addr - region.base, data))
        return images


def _fail(path, msg: str) -> ElfError:
    return ElfError(f"{path}: {msg}")


def _check_ident(path, raw: bytes) -> None:
    """Magic, class, byte order and machine, from the raw header bytes."""
    if len(raw) < 4 or raw[:4] != ELF_MAGIC:
        raise _fail(path, "not an ELF file (bad magic number)")
    if len(raw) < 20:
        raise _fail(path, f"truncated ELF ({len(raw)} bytes, shorter than the ELF header)")
    little = raw[EI_DATA] == ELFDATA2LSB
    machine = struct.unpack_from("<H" if little else ">H", raw, 18)[0]
    if raw[EI_CLASS] == ELFCLASS32:
        if machine == EM_RISCV:
            raise _fail(path, "ELF for rv32 (32-bit RISC-V); the model runs rv64 ELFs")
        raise _fail(path, f"32-bit ELF (e_machine {machine}); need a 64-bit RISC-V ELF")
    if raw[EI_CLASS] != ELFCLASS64:
        raise _fail(path, f"unknown ELF class {raw[EI_CLASS]}; need a 64-bit RISC-V ELF")
    if not little:
        raise _fail(path, "big-endian ELF; need a little-endian RISC-V ELF")
    if machine != EM_RISCV:
        raise _fail(path, f"ELF for machine {machine}, not RISC-V (e_machine {EM_RISCV})")


def _check_segment(path, cfg: SocConfig, n: int, paddr: int, memsz: int) -> None:
    """A PT_LOAD must lie wholly in one RAM/ROM region and touch no device."""
    span = f"segment {n} [{paddr:#x}, {paddr + memsz:#x})"
    for region in memory_map.regions(cfg):
        overlaps = paddr < region.base + region.size and region.base < paddr + memsz
        if overlaps and region.kind not in LOADABLE_KINDS:
            raise _fail(path, f"{span} overlaps device '{region.name}'")
    region = memory_map.find(cfg, paddr, memsz)
    if region is None or region.kind not in LOADABLE_KINDS:
        raise _fail(path, f"{span} is outside RAM and ROM")


def _segments(path, elf: ELFFile, cfg: SocConfig, size: int) -> list[tuple[int, bytes]]:
    segments = []
    for n, seg in enumerate(elf.iter_segments()):
        if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
            continue
        filesz, memsz, offset = seg["p_filesz"], seg["p_memsz"], seg["p_offset"]
        if filesz > memsz:
            raise _fail(path, f"segment {n} has filesz {filesz:#x} > memsz {memsz:#x}")
        if offset + filesz > size:
            raise _fail(path, f"truncated ELF (segment {n} needs bytes up to "
                              f"{offset + filesz:#x}, the file has {size:#x})")
        _check_segment(path, cfg, n, seg["p_paddr"], memsz)
        data = seg.data() + bytes(memsz - filesz)
        segments.append((seg["p_paddr"], data))
    return segments


def _symbols(elf: ELFFile) -> dict[str, int]:
    table = elf.get_section_by_name(".symtab")
    if table is None:
        return {}
    return {s.name: s["st_value"] for s in table.iter_symbols()
            if s.name and s["st_info"]["type"] not in ("STT_SECTION", "STT_FILE")}


def load_elf(path: str | Path, cfg: SocConfig) -> ElfImage:
    """Read and check the ELF at ``path`` for the SoC ``cfg``."""
    path = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot read ELF file ({exc.strerror or exc})") from None
    _check_ident(path, raw)
    if len(raw) < 64:
        raise _fail(path, f"truncated ELF ({len(raw)} bytes, shorter than the ELF header)")
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            for table, end in (
                ("program", elf["e_phoff"] + elf["e_phnum"] * elf["e_phentsize"]),
                ("section", elf["e_shoff"] + elf["e_shnum"] * elf["e_shentsize"]),
            ):
                if end > len(raw):
                    raise _fail(path, f"truncated ELF ({table} headers end at {end:#x}, "
                                      f"the file has {len(raw):#x} bytes)")
            segments = _segments(path, elf, cfg, len(raw))
            symbols = _symbols(elf)
            entry = elf["e_entry"]
    except (_PyElfError, ELFParseError, struct.error, EOFError, ValueError) as exc:
        if isinstance(exc, ElfError):
            raise
        raise _fail(path, f"truncated or corrupt ELF ({exc})") from None
    if not segments:
        raise _fail(path, "no loadable (PT_LOAD) segment")
    region = memory_map.find(cfg, entry, 2)
    if region is None or not region.executable:
        raise _fail(path, f"entry point {entry:#x} is outside executable memory")
    return ElfImage(entry, segments, symbols, symbols.get("tohost"),
                    symbols.get("fromhost"), path)
