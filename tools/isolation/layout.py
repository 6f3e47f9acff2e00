"""The host-physical layout of one scenario run, as the isolation properties see it
(docs/fuzzing.md, "Layout"): the M stage, the hypervisor's code and read-only data
(its embedded guest images too), its writable data, its unused reserve, each VM's
partition, the RAM no one owns, and the devices.

Every address maps to one region; ``Layout.classify`` does it for a whole numpy array
of addresses at once (``numpy.searchsorted`` over the sorted region bounds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Region kinds. A VM partition's kind is its VM index (>= 0).
M_STAGE, HV_STATIC, HV_DATA, HV_FREE, FREE_RAM, DEVICE, UNMAPPED = range(-1, -8, -1)
KIND_NAMES = {M_STAGE: "M stage", HV_STATIC: "hypervisor code and rodata",
              HV_DATA: "hypervisor data", HV_FREE: "hypervisor reserve (unused)",
              FREE_RAM: "unowned RAM", DEVICE: "device", UNMAPPED: "unmapped"}
#: Firmware symbols that bound the hypervisor's regions (hypervisor/build.py's script).
BOUND_SYMBOLS = ("_m_start", "_m_end", "_data_start", "_hv_end", "_hv_limit")


@dataclass(frozen=True)
class Region:
    """[base, end) of one kind (a VM index for a partition)."""

    base: int
    end: int
    kind: int


@dataclass(frozen=True)
class Layout:
    """The regions of one run, sorted by base, covering [0, 2^64)."""

    regions: tuple[Region, ...]
    vm_names: tuple[str, ...]
    #: The physical UART's receive buffer (RBR): console input, VM 0's alone
    #: (docs/hypervisor.md, "SBI" and "Virtual UART"); -1: none.
    console_rx: int = -1

    def __post_init__(self) -> None:
        object.__setattr__(self, "_bases", np.array([r.base for r in self.regions],
                                                    dtype=np.uint64))
        object.__setattr__(self, "_kinds", np.array([r.kind for r in self.regions],
                                                    dtype=np.int64))

    def classify(self, addrs: np.ndarray) -> np.ndarray:
        """The region kind of every address in ``addrs`` (uint64 array)."""
        idx = np.searchsorted(self._bases, addrs.astype(np.uint64), side="right") - 1
        return self._kinds[idx]

    def kind_of(self, addr: int) -> int:
        """The region kind of one address."""
        return int(self.classify(np.array([addr], dtype=np.uint64))[0])

    def name(self, kind: int) -> str:
        """A region kind in words."""
        return f"vm {self.vm_names[kind]}" if kind >= 0 else KIND_NAMES[kind]

    def partition(self, vm: int) -> Region:
        """VM ``vm``'s partition."""
        return next(r for r in self.regions if r.kind == vm)

    def of_kind(self, kind: int) -> list[Region]:
        """Every region of ``kind``."""
        return [r for r in self.regions if r.kind == kind]


def _symbols(elf: Path, names) -> dict[str, int]:
    from tools.spike import elf_symbol

    out = {}
    for n in names:
        addr = elf_symbol(elf, n)
        if addr is None:
            from tools.isolation import IsolationError

            raise IsolationError(f"{elf}: firmware symbol {n} not found (not an hvsim "
                                 "hypervisor image?)")
        out[n] = addr
    return out


def build_layout(scenario, elf: Path, cfg) -> Layout:
    """The layout of ``scenario`` (a loaded ``hypervisor.config.Scenario``) run from
    the firmware ``elf`` on the SoC ``cfg``."""
    from hardware.soc.memory_map import regions as soc_regions

    sym = _symbols(elf, BOUND_SYMBOLS)
    ram_end = scenario.ram_base + scenario.ram_size
    parts = [Region(sym["_m_start"], sym["_m_end"], M_STAGE),
             Region(sym["_m_end"], sym["_data_start"], HV_STATIC),
             Region(sym["_data_start"], sym["_hv_end"], HV_DATA),
             Region(sym["_hv_end"], sym["_hv_limit"], HV_FREE)]
    if scenario.ram_base < sym["_m_start"]:
        parts.append(Region(scenario.ram_base, sym["_m_start"], FREE_RAM))
    vms = sorted(scenario.vms, key=lambda v: v.base)
    parts += [Region(v.base, v.base + v.size, v.index) for v in vms]
    for r in soc_regions(cfg):
        if r.kind == "device" or r.kind == "rom":
            parts.append(Region(r.base, r.base + r.size, DEVICE))
    parts.sort(key=lambda r: r.base)
    filled: list[Region] = []
    cursor = 0
    for r in parts:
        if r.base > cursor:
            in_ram = scenario.ram_base <= cursor < ram_end
            filled.append(Region(cursor, r.base, FREE_RAM if in_ram else UNMAPPED))
        filled.append(r)
        cursor = r.end
    if cursor < ram_end:
        filled.append(Region(cursor, ram_end, FREE_RAM))
        cursor = ram_end
    filled.append(Region(cursor, 1 << 64, UNMAPPED))
    names = tuple(v.name for v in sorted(scenario.vms, key=lambda v: v.index))
    return Layout(tuple(filled), names, console_rx(cfg))


def console_rx(cfg) -> int:
    """The address of the console UART's RBR on the SoC ``cfg``."""
    from hardware.soc.memory_map import region
    from hardware.soc.uart import REG

    return region(cfg, "uart0").base + REG["RBR"].offset
