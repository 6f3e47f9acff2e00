"""The hypervisor-invariant property: each VM's G-stage table, walked from Python over
the model's RAM, maps exactly its partition (docs/fuzzing.md, "hypervisor invariants").

The tables are Sv39x4 (H spec 9.5.1, "Guest Physical Address Translation": a 16 KiB
root of 2048 entries indexed by GPA bits 40:30, then two levels of 512 entries; leaves
need U=1, priv spec 4.3.1's leaf rules otherwise). The hgatp of each VM comes from the
hypervisor's VM table, located through the firmware's ``hv_debug`` record
(hypervisor/src/core/debug.c).

Rules checked per VM: every valid leaf maps guest-physical ``GUEST_RAM_BASE + off`` to
host-physical ``base + off`` with ``off < size`` and is readable, writable, executable
and user (a guest's own RAM); the leaves together cover the whole partition once; no
non-leaf PTE points outside the hypervisor's data; the hgatp MODE is Sv39x4; and no two
VMs share a VMID (unless the hardware has no VMID bits, when every switch must fence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hardware.mmu.sv39 import PTE_BITS, pte_ppn
from hypervisor.config import GUEST_RAM_BASE

#: hgatp fields (H spec 9.2.10).
HGATP_MODE_SHIFT, HGATP_VMID_SHIFT, HGATP_VMID_BITS = 60, 44, 14
HGATP_PPN_MASK = (1 << 44) - 1
MODE_SV39X4 = 8
ROOT_ENTRIES, ENTRIES, LEVELS = 2048, 512, 3
PAGE = 4096
#: The hv_debug record (debug.c): magic, then addresses and offsets, 8 bytes each.
DEBUG_SYMBOL = "hv_debug"
DEBUG_MAGIC = 0x6876646267000001
DEBUG_FIELDS = ("magic", "vms", "nvms", "vm_size", "hgatp", "state")
LEAF_NEEDS = tuple(PTE_BITS[b] for b in ("V", "R", "W", "X", "U"))

Read = Callable[[int, int], bytes]


@dataclass(frozen=True)
class Mapping:
    """One leaf: ``size`` bytes at guest-physical ``gpa`` -> host-physical ``hpa``."""

    gpa: int
    hpa: int
    size: int
    pte: int


def read_u64(read: Read, addr: int) -> int:
    return int.from_bytes(read(addr, 8), "little")


def debug_record(read: Read, addr: int) -> dict[str, int] | None:
    """The ``hv_debug`` record at ``addr``; None when its magic is wrong."""
    rec = {f: read_u64(read, addr + 8 * i) for i, f in enumerate(DEBUG_FIELDS)}
    return rec if rec["magic"] == DEBUG_MAGIC else None


def vm_hgatps(read: Read, rec: dict[str, int]) -> list[int]:
    """The hgatp the hypervisor keeps for each of its VMs."""
    n = int.from_bytes(read(rec["nvms"], 4), "little")
    return [read_u64(read, rec["vms"] + i * rec["vm_size"] + rec["hgatp"]) for i in range(n)]


def walk(read: Read, root: int) -> tuple[list[Mapping], list[tuple[int, int]]]:
    """Every valid leaf under the Sv39x4 root at host-physical ``root``, and the
    (address, PTE) of every non-leaf pointer (to check where the tables live)."""
    leaves: list[Mapping] = []
    tables: list[tuple[int, int]] = []

    def visit(table: int, level: int, gpa_base: int, entries: int) -> None:
        raw = read(table, 8 * entries)
        for i in range(entries):
            pte = int.from_bytes(raw[8 * i:8 * i + 8], "little")
            if not pte & 1:
                continue
            gpa = gpa_base | i << (12 + 9 * level)
            if pte & 0xE:
                leaves.append(Mapping(gpa, pte_ppn(pte) << 12, 1 << (12 + 9 * level), pte))
            elif level > 0:
                tables.append((table + 8 * i, pte))
                visit(pte_ppn(pte) << 12, level - 1, gpa, ENTRIES)

    visit(root, LEVELS - 1, 0, ROOT_ENTRIES)
    return leaves, tables


def check_vm(read: Read, index: int, name: str, hgatp: int, base: int, size: int,
             table_ok: Callable[[int], bool]) -> list[str]:
    """Problems with VM ``index``'s G-stage table (empty when it is right)."""
    if hgatp >> HGATP_MODE_SHIFT != MODE_SV39X4:
        return [f"vm {name}: hgatp {hgatp:#x} is not Sv39x4"]
    root = (hgatp & HGATP_PPN_MASK) << 12
    if not table_ok(root):
        return [f"vm {name}: G-stage root {root:#x} is outside the hypervisor's data"]
    leaves, tables = walk(read, root)
    out = [f"vm {name}: G-stage table at {pte_ppn(p) << 12:#x} (PTE at {a:#x}) is outside "
           f"the hypervisor's data" for a, p in tables if not table_ok(pte_ppn(p) << 12)]
    covered = 0
    for m in leaves:
        off = m.gpa - GUEST_RAM_BASE
        if not (0 <= off and off + m.size <= size and m.hpa == base + off):
            out.append(f"vm {name}: G-stage maps gpa {m.gpa:#x} (+{m.size:#x}) to hpa "
                       f"{m.hpa:#x}, outside its partition [{base:#x}, {base + size:#x})")
            continue
        missing = [b for b in LEAF_NEEDS if not m.pte >> b & 1]
        if missing:
            out.append(f"vm {name}: G-stage leaf for gpa {m.gpa:#x} lacks "
                       f"{''.join(k for k, v in PTE_BITS.items() if v in missing)}")
        covered += m.size
    if not out and covered != size:
        out.append(f"vm {name}: G-stage leaves cover {covered:#x} of its {size:#x} bytes")
    return out


def check_all(read: Read, debug_addr: int, vms, table_ok: Callable[[int], bool],
              vmid_bits: int) -> list[str]:
    """Problems with every VM's G-stage table and with VMID sharing; ``vms`` are the
    scenario's VmSpecs (index, name, base, size)."""
    rec = debug_record(read, debug_addr)
    if rec is None:
        return [f"hv_debug at {debug_addr:#x} has the wrong magic (firmware layout changed?)"]
    hgatps = vm_hgatps(read, rec)
    out = []
    by_index = {v.index: v for v in vms}
    for i, hgatp in enumerate(hgatps):
        v = by_index.get(i)
        if v is not None:
            out += check_vm(read, i, v.name, hgatp, v.base, v.size, table_ok)
    if vmid_bits:
        mask = (1 << min(vmid_bits, HGATP_VMID_BITS)) - 1
        seen: dict[int, str] = {}
        for i, hgatp in enumerate(hgatps):
            vmid = hgatp >> HGATP_VMID_SHIFT & mask
            name = by_index[i].name if i in by_index else str(i)
            if vmid in seen:
                out.append(f"vms {seen[vmid]} and {name} share VMID {vmid}")
            seen.setdefault(vmid, name)
    return out
