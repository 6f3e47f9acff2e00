"""Devices declared as register maps (ARCHITECTURE.md section 6, "Devices as register maps").

A device is a tuple of ``Reg`` rows (offset, width, reset, access, description), in the
manner of Rocket's ``regmap`` and LiteX's CSR export. From that one table this module
generates the lane read mux, the per-register write enables and merged write values, the
read side-effect strobes, the docs tables and the C ``#define``\\ s of ``platform.h``.

Bus semantics are those of ``hardware.soc.bus``: a request addresses one 64-bit lane; a
register occupies ``slot`` bytes of its lane, its value zero-extended to the slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import pyrtl

from hardware.soc.bus import DeviceRequest, field_write

#: Access kinds: who may read and write the register, and whether a read has a side effect.
ACCESS = {
    "rw": "read/write",
    "ro": "read-only (writes ignored)",
    "wo": "write-only (reads return 0)",
    "rc": "read-only; a read has a side effect",
}


class RegmapError(ValueError):
    """A register map is inconsistent; the message names the register."""


@dataclass(frozen=True)
class Field:
    """A named bit field of a register (for the C header and the docs)."""

    name: str
    lsb: int
    width: int = 1
    description: str = ""


@dataclass(frozen=True)
class Reg:
    """One register, or an array of ``count`` registers ``stride`` bytes apart."""

    name: str
    offset: int  # byte offset of element 0 within the device window
    width: int  # implemented bits
    reset: int = 0
    access: str = "rw"
    description: str = ""
    count: int = 1  # number of elements of an array register
    stride: int = 0  # bytes between array elements (default: the slot size)
    slot: int = 0  # bytes the register occupies on the bus (default: width rounded up)
    when: str = ""  # name of a condition wire that must be 1 ("!name": 0), e.g. DLAB
    fields: tuple[Field, ...] = ()
    first_index: int = 0  # index of element 0 (the PLIC's source 0 does not exist)

    def __post_init__(self) -> None:
        if self.access not in ACCESS:
            raise RegmapError(f"register {self.name}: unknown access '{self.access}'")
        if not 1 <= self.width <= 64:
            raise RegmapError(f"register {self.name}: width {self.width} is not 1..64")
        if self.slot_bytes * 8 < self.width or self.slot_bytes not in (1, 2, 4, 8):
            raise RegmapError(f"register {self.name}: slot of {self.slot_bytes} bytes")
        if self.offset % self.slot_bytes or (self.offset % 8) + self.slot_bytes > 8:
            raise RegmapError(f"register {self.name}: offset {self.offset:#x} is misaligned")
        if self.reset >> self.width:
            raise RegmapError(f"register {self.name}: reset {self.reset:#x} exceeds width")

    @property
    def slot_bytes(self) -> int:
        """Bytes the register occupies in its lane."""
        if self.slot:
            return self.slot
        return next(b for b in (1, 2, 4, 8) if b * 8 >= self.width)

    @property
    def step(self) -> int:
        """Bytes between consecutive array elements."""
        return self.stride or self.slot_bytes

    def offset_of(self, i: int = 0) -> int:
        """Byte offset of element ``i`` (counted from 0, not from ``first_index``)."""
        return self.offset + i * self.step

    def elements(self) -> list[tuple[int, int]]:
        """(index, byte offset) of every element, index counted from ``first_index``."""
        return [(self.first_index + i, self.offset_of(i)) for i in range(self.count)]

    @property
    def readable(self) -> bool:
        return self.access != "wo"

    @property
    def writable(self) -> bool:
        return self.access in ("rw", "wo")


RegMap = Sequence[Reg]


def lane(offset: int) -> int:
    """The 8-byte-aligned lane offset holding byte ``offset``."""
    return offset & ~7


def check_map(regmap: RegMap) -> None:
    """Raise RegmapError if two registers that can be live at once share bytes."""
    seen: dict[tuple[int, str], str] = {}
    for reg in regmap:
        for idx, off in reg.elements():
            for b in range(off, off + reg.slot_bytes):
                for kind in ("r" if reg.readable else "", "w" if reg.writable else ""):
                    if not kind:
                        continue
                    key = (b, kind + reg.when)
                    if key in seen:
                        raise RegmapError(
                            f"register {reg.name}[{idx}] overlaps {seen[key]} at byte {b:#x}")
                    seen[key] = f"{reg.name}[{idx}]"


def find(regmap: RegMap, name: str) -> Reg:
    """The register called ``name``."""
    for reg in regmap:
        if reg.name == name:
            return reg
    raise KeyError(name)


# ------------------------------------------------------------------------- hardware

Conds = Mapping[str, pyrtl.WireVector]


def _cond(reg: Reg, conds: Conds | None) -> pyrtl.WireVector | int:
    if not reg.when:
        return 1
    neg = reg.when.startswith("!")
    key = reg.when[1:] if neg else reg.when
    if conds is None or key not in conds:
        raise RegmapError(f"register {reg.name}: condition '{key}' is not supplied")
    return ~conds[key] if neg else conds[key]


def _memo(req: DeviceRequest, key: tuple, build):
    """Build a decode wire once per request and block: many registers share a lane or
    a byte position, and every net costs simulation time each cycle."""
    memo = pyrtl.working_block().__dict__.setdefault("_regmap_memo", {})
    k = (id(req),) + key
    if k not in memo:
        memo[k] = build()
    return memo[k]


def lane_hit(req: DeviceRequest, offset: int) -> pyrtl.WireVector:
    """1 when ``req`` selects this device and addresses the lane of ``offset``."""
    return _memo(req, ("lane", lane(offset)), lambda: req.sel & (req.offset == lane(offset)))


def _mask_test(req: DeviceRequest, reg: Reg, i: int, kind: str) -> pyrtl.WireVector:
    """1 when any (``kind`` "any") or every ("all") byte of the element is in the mask."""
    first = reg.offset_of(i) % 8
    bits = sum(1 << b for b in range(first, first + reg.slot_bytes))

    def build():
        hit = req.mask & bits
        return hit != 0 if kind == "any" else hit == bits
    return _memo(req, ("mask", kind, bits), build)


def _strobe(req: DeviceRequest, reg: Reg, i: int, kind: str, en) -> pyrtl.WireVector:
    off = reg.offset_of(i)
    base = _memo(req, ("strobe", kind, id(en), lane(off), off % 8, reg.slot_bytes),
                 lambda: en & lane_hit(req, off) & _mask_test(req, reg, i,
                                                              "any" if kind == "we_any" else "all"))
    return base


def write_enable(req: DeviceRequest, reg: Reg, i: int = 0, conds: Conds | None = None) -> pyrtl.WireVector:
    """1 when a committed store writes at least one byte of element ``i`` of ``reg``."""
    base = _strobe(req, reg, i, "we_any", req.we)
    return base & _cond(reg, conds) if reg.when else base


def full_write(req: DeviceRequest, reg: Reg, i: int = 0, conds: Conds | None = None) -> pyrtl.WireVector:
    """1 when a committed store writes every byte of element ``i`` of ``reg``."""
    base = _strobe(req, reg, i, "we_all", req.we)
    return base & _cond(reg, conds) if reg.when else base


def read_strobe(req: DeviceRequest, reg: Reg, i: int = 0, conds: Conds | None = None) -> pyrtl.WireVector:
    """1 when a committed load reads every byte of element ``i`` of ``reg`` (read side
    effects fire on this)."""
    base = _strobe(req, reg, i, "re_all", req.re)
    return base & _cond(reg, conds) if reg.when else base


def written_value(req: DeviceRequest, reg: Reg, old: pyrtl.WireVector, i: int = 0) -> pyrtl.WireVector:
    """``old`` (``reg.width`` bits) with the bytes of the store merged in."""
    first = reg.offset_of(i) % 8
    if reg.width <= 8:  # one byte: take the store's byte when its mask bit is set
        byte_on = _memo(req, ("mbit", first), lambda: req.mask[first])
        new = _memo(req, ("wbyte", first, reg.width),
                    lambda: req.wdata[8 * first:8 * first + reg.width])
        return pyrtl.select(byte_on, new, old)
    slot_old = old.zero_extended(reg.slot_bytes * 8)
    merged = field_write(slot_old, req, first * 8)
    return merged[:reg.width]


def storage(req: DeviceRequest, reg: Reg, prefix: str, conds: Conds | None = None) -> list[pyrtl.Register]:
    """Plain read/write registers for every element of ``reg``, reset to ``reg.reset``,
    updated only by stores. Names are ``{prefix}_{name}_reg`` (arrays: ``{prefix}_{name}_{index}_reg``)."""
    regs = []
    for idx, _ in reg.elements():
        i = idx - reg.first_index
        suffix = f"_{idx}" if reg.count > 1 else ""
        r = pyrtl.Register(reg.width, name=f"{prefix}_{reg.name.lower()}{suffix}_reg",
                           reset_value=reg.reset)
        r.next <<= pyrtl.select(write_enable(req, reg, i, conds), written_value(req, reg, r, i), r)
        regs.append(r)
    return regs


def read_mux(req: DeviceRequest, regmap: RegMap, values: Mapping[str, object],
             conds: Conds | None = None, name: str = "") -> pyrtl.WireVector:
    """The 64-bit lane at ``req.offset``: every readable register of the lane in its byte
    position, 0 elsewhere. ``values[reg.name]`` is a WireVector, or a list of them for an
    array. Unaddressed lanes and unselected requests read 0."""
    lanes: dict[int, list[tuple[int, pyrtl.WireVector]]] = {}
    for reg in regmap:
        if not reg.readable:
            continue
        if reg.name not in values:
            raise RegmapError(f"register {reg.name}: no read value supplied")
        val = values[reg.name]
        elems = val if isinstance(val, (list, tuple)) else [val]
        if len(elems) != reg.count:
            raise RegmapError(f"register {reg.name}: {len(elems)} values for {reg.count} elements")
        for i, v in enumerate(elems):
            v = pyrtl.as_wires(v, bitwidth=reg.width)
            if reg.when:
                v = pyrtl.select(_cond(reg, conds), v, pyrtl.Const(0, reg.width))
            off = reg.offset_of(i)
            lanes.setdefault(lane(off), []).append((off % 8 * 8, v.zero_extended(reg.slot_bytes * 8)))
    terms = []
    for lane_off, parts in sorted(lanes.items()):
        word = pyrtl.Const(0, 64)
        for bit, v in parts:
            placed = pyrtl.concat(v, pyrtl.Const(0, bit)) if bit else v
            word = word | placed.zero_extended(64)
        hit = req.offset == lane_off
        terms.append(pyrtl.select(hit, word, pyrtl.Const(0, 64)))
    out = pyrtl.WireVector(64, name=name)
    word = _or_all(terms) if terms else pyrtl.Const(0, 64)
    out <<= pyrtl.select(req.sel, word, pyrtl.Const(0, 64))
    return out


def _or_all(terms: list[pyrtl.WireVector]) -> pyrtl.WireVector:
    acc = terms[0]
    for t in terms[1:]:
        acc = acc | t
    return acc


# ---------------------------------------------------------------------- generated text

def _offset_text(reg: Reg) -> str:
    if reg.count == 1:
        return f"`{reg.offset:#x}`"
    base = reg.offset - reg.first_index * reg.step
    last = reg.first_index + reg.count - 1
    return f"`{base:#x} + {reg.step:#x}*i` (i = {reg.first_index}..{last})"


def regmap_markdown(regmap: RegMap) -> str:
    """A Markdown table of the register map (offset, name, width, access, reset,
    description; bit fields listed under the description)."""
    rows = ["| offset | name | bits | access | reset | description |",
            "|---|---|---|---|---|---|"]
    for reg in regmap:
        desc = reg.description.replace("|", "\\|")
        if reg.when:
            desc += f" (when {reg.when.replace('!', 'not ')})"
        if reg.fields:
            desc += "<br>" + "; ".join(
                f"{f.name} [{f.lsb + f.width - 1}:{f.lsb}]" if f.width > 1 else f"{f.name} [{f.lsb}]"
                for f in reg.fields)
        rows.append(f"| {_offset_text(reg)} | {reg.name} | {reg.width} | {reg.access} "
                    f"| `{reg.reset:#x}` | {desc} |")
    return "\n".join(rows) + "\n"


def regmap_c_defines(prefix: str, regmap: RegMap) -> str:
    """C ``#define``\\ s of register offsets (arrays as function-like macros taking the
    index), array counts and bit fields, every name prefixed with ``prefix``."""
    p = prefix.upper()
    lines = []
    done: set[str] = set()
    for reg in regmap:
        n = f"{p}_{reg.name.upper()}"
        if reg.count == 1:
            lines.append(f"#define {n} 0x{reg.offset:x}u")
        else:
            base = reg.offset - reg.first_index * reg.step
            lines.append(f"#define {n}(i) (0x{base:x}u + 0x{reg.step:x}u * (i))")
            lines.append(f"#define {n}_COUNT {reg.count}u")
        for f in reg.fields:
            fn = f"{n}_{f.name.upper()}"
            if fn in done:
                continue
            done.add(fn)
            if f.width == 1:
                lines.append(f"#define {fn} (1u << {f.lsb})")
            else:
                lines.append(f"#define {fn}_SHIFT {f.lsb}u")
                lines.append(f"#define {fn}_MASK 0x{(1 << f.width) - 1:x}u")
    return "\n".join(lines) + "\n"
