"""VM configuration of the hypervisor: load, check, place and generate (issue 5, "VM
configuration as data"; the schema is in docs/hypervisor.md, "Configuration"; the table layout is hypervisor/src/include/vmconfig.h).

A scenario is a TOML file in ``hypervisor/configs/``: an optional ``[hypervisor]`` table and
1..8 ``[[vm]]`` tables. ``load_scenario`` checks it statically against the SoC
configuration (keys, types, names, sizes, placement inside RAM and outside the
hypervisor's reserved region, scheduling parameters, guest ELF images) and places the
partitions that have no explicit ``base`` (2 MiB aligned, first fit after the hypervisor,
in VM order). Every problem raises ``VmConfigError`` with one line naming the file and
the field. ``guest_dtb`` builds the device tree each guest sees (Devicetree Specification
v0.4, RISC-V bindings) and ``generate_c`` writes the firmware's ``vmtable.c`` and
``images.S``.

Check a file with ``python -m hypervisor.config FILE_OR_NAME``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import re
import struct
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NoReturn

from elftools.common.exceptions import ELFError, ELFParseError
from elftools.elf.elffile import ELFFile

from hardware.config import ConfigError, SocConfig, variant
from hardware.soc import dtb as fdt
from hardware.soc import memory_map
from tools.linker import write_if_changed

#: Folder of the scenarios; a bare name ``demo`` means ``CONFIGS_DIR / "demo.toml"``.
CONFIGS_DIR = Path(__file__).resolve().parent / "configs"
#: At most this many VMs (``HV_MAX_VMS`` of the firmware).
HV_MAX_VMS = 8
#: Granule and minimum alignment of sizes and explicit partition bases.
PAGE = 4 << 10
#: Alignment of automatically placed partitions.
AUTO_ALIGN = 2 << 20
#: Smallest guest partition.
MIN_VM_RAM = 128 << 10
#: Default ``[hypervisor] size``.
DEFAULT_HV_SIZE = 2 << 20
#: What every guest sees (guest-physical): RAM, the virtual ns16550, the DTB slot at the
#: end of its RAM.
GUEST_RAM_BASE = 0x8000_0000
GUEST_UART_BASE = 0x1000_0000
#: The page the hypervisor emulates as the virtual UART (an access anywhere in it is a
#: UART access, hv.h GUEST_UART_SIZE; docs/hypervisor.md "Virtual UART").
GUEST_UART_SIZE = 0x1000
#: The ns16550 register window the guest's DTB advertises (as QEMU's virt machine).
GUEST_UART_REGS = 0x100
DTB_SLOT = 64 << 10
#: Guest hart id (one vCPU per VM).
GUEST_HARTID = 0
#: Arguments handed to a guest in a2..a5.
MAX_ARGS = 4
#: ``on_fault`` values -> ``VM_ON_FAULT_*`` of vmconfig.h.
ON_FAULT = {"stop": 0, "restart": 1}
#: ``devices`` names -> ``VM_DEV_*`` bits of vmconfig.h.
DEVICES = {"uart": 1}
#: VM names.
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,15}\Z")
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
#: Range of budget_us, period_us.
MAX_US = U32_MAX
#: Known keys of each table.
TOP_KEYS = ("hypervisor", "vm")
HV_KEYS = ("size", "work_conserving", "time_protection", "pad_us", "boot_us")
#: The time-protected schedule's switch pad (microseconds) when ``pad_us`` is not given.
DEFAULT_PAD_US = 500
VM_KEYS = ("name", "guest", "image", "ram", "base", "budget_us", "period_us", "priority",
           "on_fault", "max_restarts", "devices", "args", "watchdog_us")
#: Per-VM defaults (period_us depends on the number of VMs).
VM_DEFAULTS = {"budget_us": 1000, "priority": 0, "on_fault": "stop", "max_restarts": 3,
               "devices": ("uart",), "args": ()}
_SIZE_RE = re.compile(r"(?i)\s*(0x[0-9a-f_]+|[0-9_]+)\s*([KMG])?\s*\Z")
_SUFFIX = {None: 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
_TOML_TYPES = {str: "a string", int: "an integer", float: "a float", bool: "a boolean",
               list: "an array", dict: "a table"}


class VmConfigError(ValueError):
    """A scenario file is invalid; the message is one line naming the file and field."""


@dataclass(frozen=True)
class VmSpec:
    """One checked, placed VM."""

    index: int  # position in the file (vm[index])
    name: str
    base: int  # host-physical partition base
    size: int  # partition (guest RAM) size in bytes
    image: Path | None  # the guest ELF (None only when loaded with resolve_images=False)
    guest: str | None  # guest program name when given with ``guest =``
    budget_us: int
    period_us: int
    priority: int
    on_fault: str  # "stop" | "restart"
    max_restarts: int
    devices: tuple[str, ...]
    args: tuple[int, ...]
    watchdog_us: int = 0  # stop the VM after this much CPU time (0: never)

    @property
    def end(self) -> int:
        """First byte after the partition."""
        return self.base + self.size


@dataclass(frozen=True)
class Scenario:
    """A checked scenario file."""

    path: Path  # absolute path of the TOML file
    name: str  # file stem
    hv_size: int  # bytes reserved for the hypervisor at ram_base
    vms: tuple[VmSpec, ...]
    ram_base: int  # host RAM (from the SoC configuration)
    ram_size: int
    work_conserving: bool = True  # idle CPU time goes to VMs out of budget
    time_protection: bool = False  # the time-protected schedule (hypervisor/src/core/tp.c)
    pad_us: int = DEFAULT_PAD_US  # its switch pad
    boot_us: int = 0  # its first frame's earliest start (0: right after boot)

    @property
    def label(self) -> str:
        """How error messages name the file."""
        return scenario_label(self.path)

    def vm(self, name: str) -> VmSpec:
        """The VM called ``name``."""
        for v in self.vms:
            if v.name == name:
                return v
        raise KeyError(name)


# ------------------------------------------------------------------------ value parsing

def scenario_label(path: Path) -> str:
    """The file as error messages name it: ``demo.toml`` for the shipped scenarios, else
    the path relative to the working directory when possible."""
    path = Path(path)
    if path.parent == CONFIGS_DIR:
        return path.name
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def human_size(n: int) -> str:
    """``4 MiB``, ``128 KiB`` or ``4097 bytes``."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if n and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} bytes"


def _align_up(n: int, align: int) -> int:
    return -(-n // align) * align


class _Checker:
    """Typed reads of TOML values; every failure is one line naming the file and field."""

    def __init__(self, label: str) -> None:
        self.label = label

    def fail(self, field: str, msg: str) -> NoReturn:
        raise VmConfigError(f"{self.label}: {field}: {msg}" if field else f"{self.label}: {msg}")

    def expect(self, field: str, value: Any, kind: type) -> Any:
        """``value`` must have TOML type ``kind`` (booleans are not integers)."""
        if type(value) is not kind:
            got = _TOML_TYPES.get(type(value), type(value).__name__)
            self.fail(field, f"must be {_TOML_TYPES[kind]} (got {got} {value!r})")
        return value

    def integer(self, field: str, value: Any, lo: int, hi: int) -> int:
        self.expect(field, value, int)
        if not lo <= value <= hi:
            self.fail(field, f"{value} is out of range {lo}..{hi}")
        return value

    def number(self, field: str, value: Any, what: str) -> int:
        """An integer, or a string: decimal or 0x hex with an optional K/M/G suffix."""
        if type(value) is int:
            return value
        if type(value) is str:
            m = _SIZE_RE.match(value)
            if m:
                return int(m[1].replace("_", ""), 0) * _SUFFIX[m[2] and m[2].upper()]
        self.fail(field, f"{value!r} is not {what} (use an integer or <n>K/M/G)")

    def size(self, field: str, value: Any, minimum: int) -> int:
        n = self.number(field, value, "a size")
        if n % PAGE:
            self.fail(field, f"{n:#x} is not a multiple of 4 KiB")
        if n < minimum:
            self.fail(field, f"{human_size(n) if n else '0'} is smaller than the minimum "
                             f"{human_size(minimum)}")
        return n

    def keys(self, field: str, table: dict, known: tuple[str, ...]) -> None:
        for key in table:
            if key not in known:
                where = f"{field}.{key}" if field else key
                self.fail(where, f"unknown key (known: {', '.join(known)})")


# ------------------------------------------------------------------------ scenario files

def list_scenarios() -> list[str]:
    """Names of the shipped scenarios."""
    return sorted(p.stem for p in CONFIGS_DIR.glob("*.toml"))


def scenario_path(path_or_name: str | Path) -> Path:
    """The TOML file of a scenario given by path or bare name."""
    p = Path(path_or_name)
    if p.suffix == ".toml" or len(p.parts) > 1 or p.is_file():
        if not p.is_file():
            raise VmConfigError(f"{p}: scenario file not found")
        return p.resolve()
    cand = CONFIGS_DIR / f"{p.name}.toml"
    if not cand.is_file():
        known = ", ".join(list_scenarios()) or "none"
        raise VmConfigError(f"{p}: unknown scenario (available: {known})")
    return cand


def _read_toml(path: Path, label: str) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise VmConfigError(f"{label}: TOML syntax error: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VmConfigError(f"{label}: cannot read file ({exc})") from None


@dataclass(frozen=True)
class _HvTable:
    """The checked ``[hypervisor]`` table."""

    size: int
    work_conserving: bool
    time_protection: bool
    pad_us: int
    boot_us: int


def _hypervisor_table(chk: _Checker, doc: dict, ram_size: int) -> _HvTable:
    """``[hypervisor]``: size, work_conserving, time_protection, pad_us, boot_us."""
    table = doc.get("hypervisor", {})
    chk.expect("[hypervisor]", table, dict)
    chk.keys("[hypervisor]", table, HV_KEYS)
    size = chk.size("[hypervisor].size", table.get("size", DEFAULT_HV_SIZE), PAGE)
    if size >= ram_size:
        chk.fail("[hypervisor].size", f"{human_size(size)} leaves no RAM for VMs "
                                      f"(RAM is {human_size(ram_size)})")
    conserving = chk.expect("[hypervisor].work_conserving",
                            table.get("work_conserving", True), bool)
    tp = chk.expect("[hypervisor].time_protection", table.get("time_protection", False), bool)
    for key in ("pad_us", "boot_us"):
        if key in table and not tp:
            chk.fail(f"[hypervisor].{key}", "only applies with time_protection = true")
    pad = chk.integer("[hypervisor].pad_us", table.get("pad_us", DEFAULT_PAD_US), 1, MAX_US)
    boot = chk.integer("[hypervisor].boot_us", table.get("boot_us", 0), 0, MAX_US)
    return _HvTable(size, conserving, tp, pad, boot)


def _check_time_protection(chk: _Checker, hv: _HvTable, tables: list[dict],
                           vms: list[dict]) -> None:
    """The time-protected schedule's constraints (docs/hypervisor.md, "Time protection"):
    one period, budgets (windows) that fit in it and outlast the pad, and no restarts
    (max_restarts defaults to 0), whose partition scrub is not preemptible."""
    period = vms[0]["period_us"]
    for v, t in zip(vms, tables):
        f = f"vm[{v['index']}]"
        if v["period_us"] != period:
            chk.fail(f"{f}.period_us", f"time protection needs one period for every VM "
                                       f"(vm[0] has {period} us, this one {v['period_us']} us)")
        if v["budget_us"] <= hv.pad_us:
            chk.fail(f"{f}.budget_us", f"a time-protected window must be longer than the "
                                       f"switch pad ({v['budget_us']} us <= pad_us = "
                                       f"{hv.pad_us} us)")
        if "max_restarts" not in t:
            v["max_restarts"] = 0
        elif v["max_restarts"]:
            chk.fail(f"{f}.max_restarts", "time protection needs 0: a restart's partition "
                                          "scrub is not preemptible and would overrun the "
                                          "next window")
    total = sum(v["budget_us"] for v in vms)
    if total > period:
        chk.fail("[hypervisor].time_protection", f"the VMs' budgets add up to {total} us, "
                                                 f"more than their period of {period} us")


def _vm_tables(chk: _Checker, doc: dict) -> list[dict]:
    vms = doc.get("vm")
    if vms is None:
        chk.fail("vm", f"no [[vm]] table (a scenario has 1..{HV_MAX_VMS} VMs)")
    if type(vms) is not list or not all(type(v) is dict for v in vms):
        chk.fail("vm", "must be an array of tables ([[vm]])")
    if not 1 <= len(vms) <= HV_MAX_VMS:
        chk.fail("vm", f"{len(vms)} VMs given; a scenario has 1..{HV_MAX_VMS} VMs")
    return vms


def _vm_fields(chk: _Checker, i: int, t: dict, nvms: int, base_dir: Path) -> dict:
    """Type and range checks of one ``[[vm]]`` table; placement and images come later."""
    f = f"vm[{i}]"
    chk.keys(f, t, VM_KEYS)
    for key in ("name", "ram"):
        if key not in t:
            chk.fail(f"{f}.{key}", "missing (required)")
    name = chk.expect(f"{f}.name", t["name"], str)
    if not NAME_RE.match(name):
        chk.fail(f"{f}.name", f"{name!r} is not a valid name ([A-Za-z0-9_-], 1..15 characters)")
    ram = chk.size(f"{f}.ram", t["ram"], MIN_VM_RAM)
    base = None
    if "base" in t:
        base = chk.number(f"{f}.base", t["base"], "an address")
        if base % PAGE:
            chk.fail(f"{f}.base", f"{base:#x} is not 4 KiB aligned")
    if ("guest" in t) == ("image" in t):
        chk.fail(f"{f}.guest", "give exactly one of 'guest' and 'image' "
                               f"({'both' if 'guest' in t else 'neither'} given)")
    guest = image = None
    if "guest" in t:
        guest = chk.expect(f"{f}.guest", t["guest"], str)
    else:
        image = (base_dir / chk.expect(f"{f}.image", t["image"], str)).resolve()
    budget = chk.integer(f"{f}.budget_us", t.get("budget_us", VM_DEFAULTS["budget_us"]),
                         1, MAX_US)
    period = chk.integer(f"{f}.period_us", t.get("period_us", min(budget * nvms, MAX_US)),
                         1, MAX_US)
    if budget > period:
        chk.fail(f"{f}.budget_us", f"budget {budget} us exceeds the period {period} us")
    on_fault = chk.expect(f"{f}.on_fault", t.get("on_fault", VM_DEFAULTS["on_fault"]), str)
    if on_fault not in ON_FAULT:
        chk.fail(f"{f}.on_fault", f"{on_fault!r} is not one of {', '.join(map(repr, ON_FAULT))}")
    return {
        "index": i, "name": name, "size": ram, "base": base, "guest": guest, "image": image,
        "budget_us": budget, "period_us": period,
        "priority": chk.integer(f"{f}.priority", t.get("priority", 0), 0, U32_MAX),
        "on_fault": on_fault,
        "max_restarts": chk.integer(f"{f}.max_restarts",
                                    t.get("max_restarts", VM_DEFAULTS["max_restarts"]),
                                    0, U32_MAX),
        "devices": _devices(chk, f"{f}.devices", t.get("devices", list(VM_DEFAULTS["devices"]))),
        "args": _args(chk, f"{f}.args", t.get("args", [])),
        "watchdog_us": chk.integer(f"{f}.watchdog_us", t.get("watchdog_us", 0), 0, U32_MAX),
    }


def _devices(chk: _Checker, field: str, value: Any) -> tuple[str, ...]:
    chk.expect(field, value, list)
    for n, dev in enumerate(value):
        chk.expect(f"{field}[{n}]", dev, str)
        if dev not in DEVICES:
            chk.fail(f"{field}[{n}]", f"unknown device {dev!r} (known: {', '.join(DEVICES)})")
        if dev in value[:n]:
            chk.fail(f"{field}[{n}]", f"device {dev!r} listed twice")
    return tuple(value)


def _args(chk: _Checker, field: str, value: Any) -> tuple[int, ...]:
    chk.expect(field, value, list)
    if len(value) > MAX_ARGS:
        chk.fail(field, f"{len(value)} arguments given, at most {MAX_ARGS} (a2..a5)")
    return tuple(chk.integer(f"{field}[{n}]", a, 0, U64_MAX) for n, a in enumerate(value))


# ------------------------------------------------------------------------------ placement

def _span(lo: int, hi: int) -> str:
    return f"{lo:#x}..{hi:#x}"


def _place(chk: _Checker, vms: list[dict], ram_base: int, ram_size: int, hv_size: int) -> None:
    """Fill in ``base`` of every VM: check the explicit ones, then place the others (first
    fit, 2 MiB aligned, in VM order)."""
    ram_end, hv_end = ram_base + ram_size, ram_base + hv_size
    taken: list[tuple[int, int, int]] = []  # (lo, hi, vm index)
    for v in vms:
        if v["base"] is None:
            continue
        lo, hi, f = v["base"], v["base"] + v["size"], f"vm[{v['index']}].base"
        if lo < ram_base or hi > ram_end:
            chk.fail(f, f"partition {_span(lo, hi)} is outside RAM {_span(ram_base, ram_end)}")
        if lo < hv_end:
            chk.fail(f, f"partition {_span(lo, hi)} overlaps the hypervisor's reserved "
                        f"region {_span(ram_base, hv_end)} ([hypervisor].size)")
        for olo, ohi, j in taken:
            if lo < ohi and olo < hi:
                chk.fail(f, f"partition {_span(lo, hi)} overlaps vm[{j}] '{vms[j]['name']}' "
                            f"{_span(olo, ohi)}")
        taken.append((lo, hi, v["index"]))
    for v in vms:
        if v["base"] is None:
            v["base"] = _first_fit(chk, v, taken, hv_end, ram_end)
            taken.append((v["base"], v["base"] + v["size"], v["index"]))


def _first_fit(chk: _Checker, v: dict, taken: list[tuple[int, int, int]], lo: int,
               ram_end: int) -> int:
    size = v["size"]
    cand = _align_up(lo, AUTO_ALIGN)
    while cand + size <= ram_end:
        clash = [hi for olo, hi, _ in taken if cand < hi and olo < cand + size]
        if not clash:
            return cand
        cand = _align_up(max(clash), AUTO_ALIGN)
    free = (ram_end - lo) - sum(hi - olo for olo, hi, _ in taken)
    chk.fail(f"vm[{v['index']}].ram", f"no 2 MiB-aligned free room for {human_size(size)} "
             f"in RAM after the hypervisor and the VMs placed before "
             f"(free: {human_size(free) if free else 'nothing'}, largest aligned gap: "
             f"{_largest_gap(taken, lo, ram_end)})")


def _largest_gap(taken: list[tuple[int, int, int]], lo: int, hi: int) -> str:
    edges = sorted((a, b) for a, b, _ in taken)
    best, cursor = 0, lo
    for a, b in [*edges, (hi, hi)]:
        start = _align_up(cursor, AUTO_ALIGN)
        best = max(best, a - start)
        cursor = max(cursor, b)
    return human_size(best) if best > 0 else "none"


# ----------------------------------------------------------------------------- ELF images

def check_image(path: Path, ram_size: int, fail: Callable[[str], NoReturn]) -> None:
    """Check that ``path`` is an RV64 executable that loads inside the guest RAM
    ``[GUEST_RAM_BASE, GUEST_RAM_BASE + ram_size - DTB_SLOT)`` with its entry point in a
    loaded segment; call ``fail(message)`` otherwise."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        fail(f"image file not found: {path}")
    except OSError as exc:
        fail(f"cannot read {path} ({exc.strerror or exc})")
    if raw[:4] != b"\x7fELF":
        fail(f"{path} is not an ELF file (bad magic number)")
    if len(raw) < 64:
        fail(f"{path} is a truncated ELF ({len(raw)} bytes, shorter than the ELF header)")
    try:
        segments, entry = _elf_layout(path, raw, fail)
    except (ELFError, ELFParseError, struct.error, EOFError, ValueError) as exc:
        if isinstance(exc, VmConfigError):
            raise
        fail(f"{path} is a truncated or corrupt ELF ({exc})")
    lo, hi = GUEST_RAM_BASE, GUEST_RAM_BASE + ram_size - DTB_SLOT
    if not segments:
        fail(f"{path} has no loadable (PT_LOAD) segment")
    for n, (vaddr, paddr, memsz) in segments:
        for addr in (paddr, vaddr):
            if not (lo <= addr and addr + memsz <= hi):
                need = _align_up(max(addr + memsz - lo, 0) + DTB_SLOT, PAGE)
                fail(f"{path}: segment {n} [{addr:#x}, {addr + memsz:#x}) does not fit the "
                     f"guest RAM [{lo:#x}, {hi:#x}) (ram minus the 64 KiB DTB slot"
                     + (f"; needs ram >= {human_size(need)})" if addr >= lo else ")"))
    if not any(v <= entry < v + m for _, (v, _p, m) in segments):
        fail(f"{path}: entry point {entry:#x} is outside its loaded segments")


def _elf_layout(path: Path, raw: bytes, fail: Callable[[str], NoReturn]
                ) -> tuple[list[tuple[int, tuple[int, int, int]]], int]:
    """(PT_LOAD segments as (number, (vaddr, paddr, memsz)), entry) after the header
    checks."""
    elf = ELFFile(io.BytesIO(raw))
    if elf.elfclass != 64:
        fail(f"{path} is a {elf.elfclass}-bit ELF; guests must be ELFCLASS64 (RV64)")
    if not elf.little_endian:
        fail(f"{path} is a big-endian ELF; guests must be little-endian RISC-V")
    if elf["e_machine"] != "EM_RISCV":
        fail(f"{path} is an ELF for {elf['e_machine']}, not RISC-V (EM_RISCV)")
    if elf["e_type"] != "ET_EXEC":
        fail(f"{path} is {elf['e_type']}, not an executable (ET_EXEC)")
    ph_end = elf["e_phoff"] + elf["e_phnum"] * elf["e_phentsize"]
    if ph_end > len(raw):
        fail(f"{path} is a truncated ELF (program headers end at {ph_end:#x}, "
             f"the file has {len(raw):#x} bytes)")
    segments = []
    for n, seg in enumerate(elf.iter_segments()):
        if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
            continue
        if seg["p_offset"] + seg["p_filesz"] > len(raw):
            fail(f"{path} is a truncated ELF (segment {n} needs bytes up to "
                 f"{seg['p_offset'] + seg['p_filesz']:#x}, the file has {len(raw):#x})")
        if seg["p_filesz"] > seg["p_memsz"]:
            fail(f"{path}: segment {n} has filesz > memsz")
        segments.append((n, (seg["p_vaddr"], seg["p_paddr"], seg["p_memsz"])))
    return segments, elf["e_entry"]


def _guest_module():
    """``guests.build`` (imported only when needed)."""
    from guests import build
    return build


def _known_guest(chk: _Checker, field: str, name: str, required: bool):
    """The guest build module after checking ``name`` is one of its guests; None when the
    module is missing and not ``required``."""
    try:
        mod = _guest_module()
    except ImportError as exc:
        if required:
            chk.fail(field, f"cannot build guest {name!r}: guests/build.py is not available ({exc})")
        return None
    known = getattr(mod, "GUESTS", None)
    if known is not None and name not in known:
        chk.fail(field, f"unknown guest {name!r} (known: {', '.join(sorted(known))})")
    return mod


def _guest_image(chk: _Checker, field: str, name: str) -> Path:
    mod = _known_guest(chk, field, name, required=True)
    try:
        return Path(mod.build_guest(name))
    except (RuntimeError, KeyError, ValueError, OSError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        chk.fail(field, f"cannot build guest {name!r}: {msg}")


def _resolve_image(chk: _Checker, v: dict, resolve: bool) -> None:
    """Build the guest of ``v`` (``guest =``) and check its ELF, in place."""
    field = f"vm[{v['index']}].{'guest' if v['guest'] is not None else 'image'}"
    if not resolve:
        if v["guest"] is not None:
            _known_guest(chk, field, v["guest"], required=False)
        return
    if v["guest"] is not None:
        v["image"] = _guest_image(chk, field, v["guest"])
    check_image(v["image"], v["size"], lambda msg: chk.fail(field, msg))


# ---------------------------------------------------------------------------- load_scenario

def load_scenario(path_or_name: str | Path, cfg: SocConfig, *,
                  resolve_images: bool = True) -> Scenario:
    """Read, check and place the scenario ``path_or_name`` (a TOML path or the name of a
    file in ``hypervisor/configs``) for the SoC ``cfg``. With ``resolve_images`` the guest
    programs are built and every ELF is checked; without, ``guest =`` VMs have
    ``image = None`` and image files are not read. Raises VmConfigError."""
    path = scenario_path(path_or_name)
    chk = _Checker(scenario_label(path))
    doc = _read_toml(path, chk.label)
    chk.keys("", doc, TOP_KEYS)
    ram = memory_map.region(cfg, "ram")
    hv = _hypervisor_table(chk, doc, ram.size)
    tables = _vm_tables(chk, doc)
    vms = [_vm_fields(chk, i, t, len(tables), path.parent) for i, t in enumerate(tables)]
    if hv.time_protection:
        _check_time_protection(chk, hv, tables, vms)
    for v in vms:
        first = next(w for w in vms if w["name"] == v["name"])
        if first is not v:
            chk.fail(f"vm[{v['index']}].name", f"{v['name']!r} is already the name of "
                                              f"vm[{first['index']}]")
    _place(chk, vms, ram.base, ram.size, hv.size)
    for v in vms:
        _resolve_image(chk, v, resolve_images)
    return Scenario(path=path, name=path.stem, hv_size=hv.size,
                    vms=tuple(VmSpec(**v) for v in vms), ram_base=ram.base,
                    ram_size=ram.size, work_conserving=hv.work_conserving,
                    time_protection=hv.time_protection, pad_us=hv.pad_us,
                    boot_us=hv.boot_us)


# ------------------------------------------------------------------------------ guest DTB

def guest_dtb(vm: VmSpec, cfg: SocConfig) -> bytes:
    """The device tree the guest of ``vm`` sees: one hart without H, its RAM at
    GUEST_RAM_BASE and the virtual ns16550 (no interrupt wired)."""
    guest_cfg = dataclasses.replace(
        cfg, core=dataclasses.replace(cfg.core, has_h=False, hartid=GUEST_HARTID))
    uart_path = f"/soc/serial@{GUEST_UART_BASE:x}"
    root = fdt.Node("")
    root.prop("#address-cells", 2).prop("#size-cells", 2)
    root.prop("compatible", ["hvsim,vm", "riscv-virtio"]).prop("model", "hvsim,vm")
    root.child(fdt.Node("chosen")).prop("stdout-path", uart_path)
    root.child(fdt.Node("aliases")).prop("serial0", uart_path)

    cpus = root.child(fdt.Node("cpus"))
    cpus.prop("#address-cells", 1).prop("#size-cells", 0)
    cpus.prop("timebase-frequency", fdt.CORE_CLOCK_HZ // cfg.timebase_divider)
    cpu = cpus.child(fdt.Node(f"cpu@{GUEST_HARTID:x}"))
    cpu.prop("device_type", "cpu").prop("reg", GUEST_HARTID).prop("status", "okay")
    cpu.prop("compatible", "riscv").prop("riscv,isa", fdt.isa_string(guest_cfg))
    cpu.prop("riscv,isa-base", f"rv{cfg.core.xlen}i")
    cpu.prop("riscv,isa-extensions", fdt.isa_extensions(guest_cfg))
    cpu.prop("mmu-type", fdt.MMU_TYPE)
    intc = cpu.child(fdt.Node("interrupt-controller"))
    intc.prop("#interrupt-cells", 1).prop("interrupt-controller", None)
    intc.prop("compatible", "riscv,cpu-intc").prop("phandle", fdt.PHANDLE_CPU_INTC)

    mem = root.child(fdt.Node(f"memory@{GUEST_RAM_BASE:x}"))
    mem.prop("device_type", "memory").prop("reg", fdt.cells64(GUEST_RAM_BASE, vm.size))

    soc = root.child(fdt.Node("soc"))
    soc.prop("#address-cells", 2).prop("#size-cells", 2)
    soc.prop("compatible", ["simple-bus"]).prop("ranges", None)
    uart = soc.child(fdt.Node(f"serial@{GUEST_UART_BASE:x}"))
    uart.prop("compatible", ["ns16550a"]).prop("reg", fdt.cells64(GUEST_UART_BASE,
                                                                  GUEST_UART_REGS))
    uart.prop("clock-frequency", fdt.CORE_CLOCK_HZ)
    uart.prop("reg-shift", 0).prop("reg-io-width", 1)
    blob = fdt.flatten(root, boot_cpuid=GUEST_HARTID)
    if len(blob) >= DTB_SLOT:
        raise VmConfigError(f"vm[{vm.index}]: guest DTB is {len(blob)} bytes, more than "
                            f"the {DTB_SLOT}-byte slot")
    return blob


# ------------------------------------------------------------------------------ generation

def _asm_string(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _vm_initializer(vm: VmSpec, image_size: int, dtb_size: int) -> str:
    args = [*vm.args, *[0] * (MAX_ARGS - len(vm.args))]
    devices = " | ".join(f"{DEVICES[d]}u /* VM_DEV_{d.upper()} */" for d in vm.devices) or "0u"
    fields = [
        ("name", f'"{vm.name}"'),
        ("base", f"{vm.base:#x}ull"),
        ("size", f"{vm.size:#x}ull"),
        ("image", f"hv_image_{vm.index}"),
        ("image_size", f"{image_size}ull"),
        ("dtb", f"hv_dtb_{vm.index}"),
        ("dtb_size", f"{dtb_size}ull"),
        ("budget_us", f"{vm.budget_us}ull"),
        ("period_us", f"{vm.period_us}ull"),
        ("priority", f"{vm.priority}u"),
        ("on_fault", f"{ON_FAULT[vm.on_fault]}u /* VM_ON_FAULT_{vm.on_fault.upper()} */"),
        ("max_restarts", f"{vm.max_restarts}u"),
        ("devices", devices),
        ("args", "{ " + ", ".join(f"{a:#x}ull" for a in args) + " }"),
        ("watchdog_us", f"{vm.watchdog_us}ull"),
    ]
    body = "".join(f"        .{k} = {v},\n" for k, v in fields)
    return f"    {{   /* vm[{vm.index}] */\n{body}    }},\n"


def vmtable_c(scenario: Scenario, sizes: list[tuple[int, int]]) -> str:
    """Text of vmtable.c; ``sizes`` holds (image bytes, DTB bytes) per VM."""
    externs = "".join(f"extern const uint8_t hv_image_{v.index}[], hv_dtb_{v.index}[];\n"
                      for v in scenario.vms)
    inits = "".join(_vm_initializer(v, *sizes[v.index]) for v in scenario.vms)
    return (f"/* Generated by hypervisor/config.py from {scenario.path.name}; do not edit. */\n"
            '#include "vmconfig.h"\n\n'
            f"{externs}\n"
            "const struct vm_config hv_vm_configs[] = {\n"
            f"{inits}"
            "};\n\n"
            f"const unsigned hv_num_vms = {len(scenario.vms)}u;\n"
            f"const uint64_t hv_reserved_size = {scenario.hv_size:#x}ull;\n"
            f"const int hv_work_conserving = {int(scenario.work_conserving)};\n"
            f"const int hv_time_protected = {int(scenario.time_protection)};\n"
            f"const uint64_t hv_tp_pad_us = {scenario.pad_us}ull;\n"
            f"const uint64_t hv_tp_boot_us = {scenario.boot_us}ull;\n")


def images_s(scenario: Scenario, dtb_paths: list[Path]) -> str:
    """Text of images.S: each VM's ELF and DTB embedded with .incbin. The files' sha256
    are written as comments so that the build cache sees content changes."""
    lines = [f"/* Generated by hypervisor/config.py from {scenario.path.name}; do not edit. */"]
    for v, dtb in zip(scenario.vms, dtb_paths):
        lines.append(f"/* vm[{v.index}] {v.name}: image sha256 {_sha256(v.image.read_bytes())} */")
        lines.append(f"/* vm[{v.index}] {v.name}: dtb sha256 {_sha256(dtb.read_bytes())} */")
    lines += ['    .section .rodata.images,"a"', "    .balign 8"]
    for v, dtb in zip(scenario.vms, dtb_paths):
        i = v.index
        lines += [f"    .globl hv_image_{i}, hv_image_{i}_end, hv_dtb_{i}, hv_dtb_{i}_end",
                  f"hv_image_{i}:", f"    .incbin {_asm_string(v.image)}", f"hv_image_{i}_end:",
                  "    .balign 8",
                  f"hv_dtb_{i}:", f"    .incbin {_asm_string(dtb)}", f"hv_dtb_{i}_end:",
                  "    .balign 8"]
    return "\n".join(lines) + "\n"


def generate_c(scenario: Scenario, outdir: str | Path, cfg: SocConfig) -> list[Path]:
    """Write vmtable.c, images.S and one DTB per VM (``vm<i>.dtb``) into ``outdir``, only
    rewriting files whose contents changed; return [vmtable.c, images.S, *DTBs]."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    dtbs, sizes = [], []
    for v in scenario.vms:
        if v.image is None:
            raise VmConfigError(f"{scenario.label}: vm[{v.index}].guest: image not resolved "
                                f"(load the scenario with resolve_images=True)")
        blob = guest_dtb(v, cfg)
        dtbs.append(write_if_changed(out / f"vm{v.index}.dtb", blob))
        sizes.append((v.image.stat().st_size, len(blob)))
    table = write_if_changed(out / "vmtable.c", vmtable_c(scenario, sizes).encode())
    images = write_if_changed(out / "images.S", images_s(scenario, dtbs).encode())
    return [table, images, *dtbs]


# ------------------------------------------------------------------------------ command line

def describe(scenario: Scenario) -> str:
    """One line summarising a checked scenario."""
    parts = [f"{v.name} {human_size(v.size)} at {v.base:#x}"
             + (f" (guest {v.guest})" if v.guest else f" ({v.image.name if v.image else '?'})")
             for v in scenario.vms]
    n = len(scenario.vms)
    return (f"ok: {n} VM{'s' if n != 1 else ''} in {scenario.label}, hypervisor "
            f"{human_size(scenario.hv_size)}: " + ", ".join(parts))


def main(argv: list[str] | None = None) -> int:
    """``python -m hypervisor.config [--config VARIANT] [--no-images] SCENARIO...``."""
    ap = argparse.ArgumentParser(prog="python -m hypervisor.config",
                                 description="Check hypervisor VM scenario files.")
    ap.add_argument("scenarios", nargs="+", help="TOML file or scenario name")
    ap.add_argument("--config", default="default", help="SoC config variant")
    ap.add_argument("--no-images", action="store_true",
                    help="do not build guests or check the ELF images")
    args = ap.parse_args(argv)
    try:
        cfg = variant(args.config)
        for s in args.scenarios:
            print(describe(load_scenario(s, cfg, resolve_images=not args.no_images)))
    except (VmConfigError, ConfigError) as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
