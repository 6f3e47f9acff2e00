"""Flattened device tree of the SoC, built and decoded in pure Python.

Implements the Devicetree Specification v0.4, chapter 5 ("Flattened Devicetree (DTB)
Format": header, memory reservation block, structure block, strings block; version 17,
big-endian) and the RISC-V bindings for ``cpus``, ``riscv,cpu-intc``, ``riscv,clint0``,
``riscv,plic0`` and ``ns16550a``. Every address comes from ``memory_map.regions(cfg)``.

Spike (``--dtb=FILE``) takes the hart's ISA string, hart id, PMP count and MMU type from
the ``cpus`` node and instantiates its CLINT, PLIC and ns16550 at the ``reg`` of the
nodes whose ``compatible`` is ``riscv,clint0``, ``riscv,plic0`` and ``ns16550a``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from hardware.config import SocConfig
from hardware.soc import memory_map

FDT_MAGIC = 0xD00DFEED
FDT_VERSION = 17
FDT_LAST_COMP_VERSION = 16
FDT_BEGIN_NODE = 1
FDT_END_NODE = 2
FDT_PROP = 3
FDT_NOP = 4
FDT_END = 9
HEADER = struct.Struct(">10I")

#: Nominal core clock of the model. The simulated hardware has no wall clock; this is the
#: frequency the firmware is told, so that mtime ticks map to seconds.
CORE_CLOCK_HZ = 10_000_000

#: Phandles of the interrupt controllers.
PHANDLE_CPU_INTC = 1
PHANDLE_PLIC = 2

#: Local interrupt numbers (mip bits) wired from the CLINT and the PLIC to the hart.
IRQ_M_SOFT, IRQ_M_TIMER, IRQ_M_EXT, IRQ_S_EXT = 3, 7, 11, 9

#: RISC-V single-letter extensions in canonical order, with the config flag that gates each.
ISA_LETTERS = (("i", None), ("m", None), ("a", None), ("c", "has_c"), ("h", "has_h"))
#: Multi-letter extensions, in the order of the ISA string.
ISA_MULTI = ("zicsr", "zifencei", "zicntr", "sstc")

PropValue = Union[bytes, str, int, tuple, list, None]


class DtbError(ValueError):
    """A device tree blob is malformed; the message names the problem."""


@dataclass
class Node:
    """One device tree node: a name, ordered properties and ordered children."""

    name: str
    props: list[tuple[str, bytes]] = field(default_factory=list)
    children: list["Node"] = field(default_factory=list)

    def prop(self, name: str, value: PropValue) -> "Node":
        """Add property ``name``; ``value`` is encoded by ``encode_value``."""
        self.props.append((name, encode_value(value)))
        return self

    def child(self, node: "Node") -> "Node":
        """Add ``node`` as the last child and return it."""
        self.children.append(node)
        return node


def encode_value(value: PropValue) -> bytes:
    """Encode a property value: None = empty, int = one u32 cell, str = NUL-terminated
    string, list of str = string list, tuple of int = u32 cells, bytes = raw."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode() + b"\0"
    if isinstance(value, int):
        return struct.pack(">I", value)
    if isinstance(value, list):
        return b"".join(s.encode() + b"\0" for s in value)
    if isinstance(value, tuple):
        return b"".join(struct.pack(">I", v) for v in value)
    raise TypeError(f"cannot encode device tree property value {value!r}")


def cells64(*values: int) -> tuple[int, ...]:
    """Split 64-bit values into pairs of u32 cells (high first), for #address-cells 2."""
    out: list[int] = []
    for v in values:
        out += [(v >> 32) & 0xFFFF_FFFF, v & 0xFFFF_FFFF]
    return tuple(out)


#: The hart translates with Sv39 (priv spec 4.4); Spike reads this to size satp.
MMU_TYPE = "riscv,sv39"


def isa_string(cfg: SocConfig) -> str:
    """The ``riscv,isa`` string of the hart, e.g. ``rv64imac_zicsr_zifencei_zicntr_sstc``."""
    letters = "".join(l for l, flag in ISA_LETTERS if flag is None or getattr(cfg.core, flag))
    return "_".join([f"rv{cfg.core.xlen}{letters}", *ISA_MULTI])


def isa_extensions(cfg: SocConfig) -> list[str]:
    """The ``riscv,isa-extensions`` string list (same facts as ``isa_string``)."""
    letters = [l for l, flag in ISA_LETTERS if flag is None or getattr(cfg.core, flag)]
    return letters + list(ISA_MULTI)


def _reg(region: memory_map.Region) -> tuple[int, ...]:
    return cells64(region.base, region.size)


def _cpus(cfg: SocConfig) -> Node:
    cpus = Node("cpus")
    cpus.prop("#address-cells", 1).prop("#size-cells", 0)
    cpus.prop("timebase-frequency", CORE_CLOCK_HZ // cfg.timebase_divider)
    hart = cfg.core.hartid
    cpu = cpus.child(Node(f"cpu@{hart:x}"))
    cpu.prop("device_type", "cpu").prop("reg", hart).prop("status", "okay")
    cpu.prop("compatible", "riscv").prop("riscv,isa", isa_string(cfg))
    cpu.prop("riscv,isa-base", f"rv{cfg.core.xlen}i")
    cpu.prop("riscv,isa-extensions", isa_extensions(cfg))
    cpu.prop("mmu-type", MMU_TYPE).prop("riscv,pmpregions", cfg.core.pmp_regions)
    cpu.prop("clock-frequency", CORE_CLOCK_HZ)
    intc = cpu.child(Node("interrupt-controller"))
    intc.prop("#interrupt-cells", 1).prop("interrupt-controller", None)
    intc.prop("compatible", "riscv,cpu-intc").prop("phandle", PHANDLE_CPU_INTC)
    return cpus


def _soc(cfg: SocConfig) -> Node:
    r = {reg.name: reg for reg in memory_map.regions(cfg)}
    soc = Node("soc")
    soc.prop("#address-cells", 2).prop("#size-cells", 2)
    soc.prop("compatible", ["simple-bus"]).prop("ranges", None)

    test = soc.child(Node(f"test@{r['finisher'].base:x}"))
    test.prop("compatible", ["sifive,test0", "syscon"]).prop("reg", _reg(r["finisher"]))

    clint = soc.child(Node(f"clint@{r['clint'].base:x}"))
    clint.prop("compatible", ["riscv,clint0"]).prop("reg", _reg(r["clint"]))
    clint.prop("interrupts-extended",
               (PHANDLE_CPU_INTC, IRQ_M_SOFT, PHANDLE_CPU_INTC, IRQ_M_TIMER))

    plic = soc.child(Node(f"plic@{r['plic'].base:x}"))
    plic.prop("compatible", ["riscv,plic0", "sifive,plic-1.0.0"]).prop("reg", _reg(r["plic"]))
    plic.prop("#address-cells", 0).prop("#interrupt-cells", 1)
    plic.prop("interrupt-controller", None)
    plic.prop("interrupts-extended",
              (PHANDLE_CPU_INTC, IRQ_M_EXT, PHANDLE_CPU_INTC, IRQ_S_EXT))
    plic.prop("riscv,ndev", cfg.plic_sources).prop("riscv,max-priority", 7)
    plic.prop("phandle", PHANDLE_PLIC)

    uart = soc.child(Node(f"serial@{r['uart0'].base:x}"))
    uart.prop("compatible", ["ns16550a"]).prop("reg", _reg(r["uart0"]))
    uart.prop("clock-frequency", CORE_CLOCK_HZ)
    uart.prop("reg-shift", 0).prop("reg-io-width", 1)
    uart.prop("interrupts", memory_map.UART0_IRQ).prop("interrupt-parent", PHANDLE_PLIC)
    return soc


def uart_path(cfg: SocConfig) -> str:
    """Full path of the console UART node."""
    return f"/soc/serial@{memory_map.region(cfg, 'uart0').base:x}"


def device_tree(cfg: SocConfig) -> Node:
    """The device tree of the SoC as a ``Node`` tree."""
    ram = memory_map.region(cfg, "ram")
    root = Node("")
    root.prop("#address-cells", 2).prop("#size-cells", 2)
    root.prop("compatible", ["hvsim,virt", "riscv-virtio"]).prop("model", "hvsim,virt")
    chosen = root.child(Node("chosen"))
    chosen.prop("stdout-path", uart_path(cfg))
    aliases = root.child(Node("aliases"))
    aliases.prop("serial0", uart_path(cfg))
    root.child(_cpus(cfg))
    mem = root.child(Node(f"memory@{ram.base:x}"))
    mem.prop("device_type", "memory").prop("reg", _reg(ram))
    root.child(_soc(cfg))
    return root


def _pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


class _Strings:
    """The strings block: each property name stored once."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.offsets: dict[str, int] = {}

    def offset(self, name: str) -> int:
        if name not in self.offsets:
            self.offsets[name] = len(self.blob)
            self.blob += name.encode() + b"\0"
        return self.offsets[name]


def _struct_block(node: Node, strings: _Strings, out: bytearray) -> None:
    out += struct.pack(">I", FDT_BEGIN_NODE) + _pad4(node.name.encode() + b"\0")
    for name, value in node.props:
        out += struct.pack(">III", FDT_PROP, len(value), strings.offset(name)) + _pad4(value)
    for child in node.children:
        _struct_block(child, strings, out)
    out += struct.pack(">I", FDT_END_NODE)


def flatten(root: Node, boot_cpuid: int = 0,
            reservations: tuple[tuple[int, int], ...] = ()) -> bytes:
    """Serialise a ``Node`` tree as an FDT v17 blob."""
    strings = _Strings()
    dt_struct = bytearray()
    _struct_block(root, strings, dt_struct)
    dt_struct += struct.pack(">I", FDT_END)
    rsvmap = b"".join(struct.pack(">QQ", a, s) for a, s in (*reservations, (0, 0)))
    off_rsvmap = HEADER.size + (-HEADER.size % 8)
    off_struct = off_rsvmap + len(rsvmap)
    off_strings = off_struct + len(dt_struct)
    total = off_strings + len(strings.blob)
    total += -total % 8
    header = HEADER.pack(FDT_MAGIC, total, off_struct, off_strings, off_rsvmap, FDT_VERSION,
                         FDT_LAST_COMP_VERSION, boot_cpuid, len(strings.blob), len(dt_struct))
    blob = bytearray(total)
    blob[:HEADER.size] = header
    blob[off_rsvmap:off_struct] = rsvmap
    blob[off_struct:off_strings] = dt_struct
    blob[off_strings:off_strings + len(strings.blob)] = strings.blob
    return bytes(blob)


def build_dtb(cfg: SocConfig) -> bytes:
    """The DTB of the SoC described by ``cfg``."""
    return flatten(device_tree(cfg), boot_cpuid=cfg.core.hartid)


def write_dtb(cfg: SocConfig, path: str | Path) -> Path:
    """Write ``build_dtb(cfg)`` to ``path`` and return the path."""
    path = Path(path)
    path.write_bytes(build_dtb(cfg))
    return path


# ---------------------------------------------------------------------------- decoding

DtbTree = dict  # node: {property name: bytes, child name: DtbTree}


def _cstr(blob: bytes, pos: int, what: str) -> tuple[str, int]:
    end = blob.find(b"\0", pos)
    if end < 0:
        raise DtbError(f"DTB: unterminated {what} at offset {pos:#x}")
    return blob[pos:end].decode(errors="replace"), end + 1


def parse_header(blob: bytes) -> dict[str, int]:
    """Decode and check the FDT header; raise DtbError naming the bad field."""
    if len(blob) < HEADER.size:
        raise DtbError(f"DTB: {len(blob)} bytes is shorter than the 40-byte header")
    names = ("magic", "totalsize", "off_dt_struct", "off_dt_strings", "off_mem_rsvmap",
             "version", "last_comp_version", "boot_cpuid_phys", "size_dt_strings",
             "size_dt_struct")
    h = dict(zip(names, HEADER.unpack_from(blob)))
    if h["magic"] != FDT_MAGIC:
        raise DtbError(f"DTB: bad magic {h['magic']:#x} (expected {FDT_MAGIC:#x})")
    if h["last_comp_version"] > FDT_VERSION or h["version"] < FDT_LAST_COMP_VERSION:
        raise DtbError(f"DTB: unsupported version {h['version']}")
    if h["totalsize"] > len(blob):
        raise DtbError(f"DTB: totalsize {h['totalsize']} exceeds the {len(blob)} bytes given")
    for off, size in (("off_dt_struct", "size_dt_struct"), ("off_dt_strings", "size_dt_strings")):
        if h[off] + h[size] > h["totalsize"]:
            raise DtbError(f"DTB: block at {off}={h[off]:#x} runs past totalsize")
    return h


def parse_reservations(blob: bytes) -> list[tuple[int, int]]:
    """The (address, size) entries of the memory reservation block."""
    h = parse_header(blob)
    out, pos = [], h["off_mem_rsvmap"]
    while True:
        if pos + 16 > h["totalsize"]:
            raise DtbError("DTB: memory reservation block is not terminated")
        addr, size = struct.unpack_from(">QQ", blob, pos)
        if addr == 0 and size == 0:
            return out
        out.append((addr, size))
        pos += 16


def parse_dtb(blob: bytes) -> DtbTree:
    """Decode a DTB into nested dicts: each node maps property names to raw ``bytes``
    values and child node names (with unit address) to child dicts."""
    h = parse_header(blob)
    strings = blob[h["off_dt_strings"]:h["off_dt_strings"] + h["size_dt_strings"]]
    pos, end = h["off_dt_struct"], h["off_dt_struct"] + h["size_dt_struct"]
    stack: list[DtbTree] = []
    root: DtbTree | None = None
    while pos + 4 <= end:
        (token,) = struct.unpack_from(">I", blob, pos)
        pos += 4
        if token == FDT_BEGIN_NODE:
            name, pos = _cstr(blob, pos, "node name")
            pos += -pos % 4
            node: DtbTree = {}
            if stack:
                stack[-1][name] = node
            elif root is None:
                root = node
            else:
                raise DtbError("DTB: more than one root node")
            stack.append(node)
        elif token == FDT_PROP:
            if not stack:
                raise DtbError(f"DTB: property outside a node at offset {pos - 4:#x}")
            length, nameoff = struct.unpack_from(">II", blob, pos)
            pos += 8
            name, _ = _cstr(strings, nameoff, "property name")
            stack[-1][name] = bytes(blob[pos:pos + length])
            pos += length + (-length % 4)
        elif token == FDT_END_NODE:
            if not stack:
                raise DtbError(f"DTB: unbalanced FDT_END_NODE at offset {pos - 4:#x}")
            stack.pop()
        elif token == FDT_NOP:
            continue
        elif token == FDT_END:
            if stack or root is None:
                raise DtbError("DTB: FDT_END inside a node or before the root")
            return root
        else:
            raise DtbError(f"DTB: bad structure token {token:#x} at offset {pos - 4:#x}")
    raise DtbError("DTB: structure block has no FDT_END")


def node_at(tree: DtbTree, path: str) -> DtbTree:
    """The node at ``path`` (e.g. ``/soc/serial@10000000``); raise DtbError if absent."""
    node = tree
    for part in filter(None, path.split("/")):
        child = node.get(part)
        if not isinstance(child, dict):
            raise DtbError(f"DTB: no node '{path}'")
        node = child
    return node


def u32s(value: bytes) -> tuple[int, ...]:
    """A property value as big-endian u32 cells."""
    return struct.unpack(f">{len(value) // 4}I", value)


def strings(value: bytes) -> list[str]:
    """A property value as a string list."""
    return [s.decode() for s in value.split(b"\0")[:-1]]


def reg_pairs(value: bytes, address_cells: int = 2, size_cells: int = 2) -> list[tuple[int, int]]:
    """A ``reg`` property as (address, size) pairs."""
    cells = u32s(value)
    step = address_cells + size_cells
    out = []
    for i in range(0, len(cells), step):
        addr = size = 0
        for c in cells[i:i + address_cells]:
            addr = addr << 32 | c
        for c in cells[i + address_cells:i + step]:
            size = size << 32 | c
        out.append((addr, size))
    return out


def find_compatible(tree: DtbTree, compatible: str, path: str = "") -> list[str]:
    """Paths of every node whose ``compatible`` list contains ``compatible``."""
    found = []
    if compatible in strings(tree.get("compatible", b"")):
        found.append(path or "/")
    for name, value in tree.items():
        if isinstance(value, dict):
            found += find_compatible(value, compatible, f"{path}/{name}")
    return found
