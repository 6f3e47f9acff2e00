"""Hardware page-table walker, Sv39 S-stage (RISC-V privileged spec 4.3.2, 4.4).

One PTE access per cycle through the core's data port. The walk state (busy, level,
table base) is kept apart from the translation stage so that the G-stage walks of the
hypervisor extension (Sv39x4 for each VS-stage PTE address and for the final address,
like CVA6's S / G-intermediate / G-final states) can be added as a ``stage`` register
without changing the per-level step.

The MMU (``mmu.py``) instantiates one walker for fetch and data translation.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.mmu import sv39


@dataclass
class PtwPorts:
    """What the walker drives."""

    busy: pyrtl.WireVector  # a walk is in progress (the instruction stalls)
    pte_addr: pyrtl.WireVector  # 64-bit physical address of the PTE read this cycle
    done: pyrtl.WireVector  # the walk ends this cycle
    fault: pyrtl.WireVector  # ... with a fault (page fault unless access_fault)
    access_fault: pyrtl.WireVector  # the PTE read itself was not allowed
    leaf: pyrtl.WireVector  # 64-bit leaf PTE (valid when done & ~fault)
    level: pyrtl.WireVector  # 2-bit level of the leaf


def build_ptw(start: pyrtl.WireVector, vaddr: pyrtl.WireVector, root_ppn: pyrtl.WireVector,
              pte: pyrtl.WireVector, pte_ok: pyrtl.WireVector,
              abort: pyrtl.WireVector | None = None) -> PtwPorts:
    """``start`` begins a walk of ``vaddr`` from ``root_ppn`` (held while busy); ``pte``
    is the 64-bit word at ``pte_addr`` this cycle and ``pte_ok`` says the read was
    allowed (a mapped, PMP-permitted address). ``abort`` drops a walk in progress (the
    instruction it serves left the core, e.g. for an interrupt)."""
    busy = pyrtl.Register(1, name="ptw_busy")
    level = pyrtl.Register(2, name="ptw_level")
    base = pyrtl.Register(sv39.PPN_BITS, name="ptw_base")
    active = busy | start
    cur_level = pyrtl.select(busy, level, pyrtl.Const(sv39.LEVELS - 1, 2))
    cur_base = pyrtl.select(busy, base, root_ppn)
    vpns = [vaddr[12 + 9 * i:21 + 9 * i] for i in range(sv39.LEVELS)]
    index = pyrtl.mux(cur_level, *vpns, default=vpns[0])
    addr = pyrtl.concat(cur_base, index, pyrtl.Const(0, 3)).zero_extended(64)

    v, r, w, x = (pte[sv39.PTE_BITS[k]] for k in "VRWX")
    d, a, u = (pte[sv39.PTE_BITS[k]] for k in "DAU")
    ppn = pte[10:54]
    reserved = pte[54:64] != 0
    invalid = ~v | (w & ~r) | reserved
    is_leaf = r | x
    low_ppn = pyrtl.mux(cur_level, pyrtl.Const(0, 1), ppn[0:9] != 0, ppn[0:18] != 0,
                        default=pyrtl.Const(1, 1))
    bad_pointer = d | a | u | (cur_level == 0)
    top = vaddr[38:64]
    noncanonical = ~((top == 0) | (top == (1 << 26) - 1))
    page_fault = noncanonical | invalid | pyrtl.select(is_leaf, low_ppn, bad_pointer)
    acc_fault = ~noncanonical & ~pte_ok
    ends = active & (acc_fault | page_fault | is_leaf)

    keep_going = active & ~ends if abort is None else active & ~ends & ~abort
    busy.next <<= keep_going
    level.next <<= pyrtl.select(active & ~ends, (cur_level - 1)[0:2], level)
    base.next <<= pyrtl.select(active & ~ends, ppn, base)

    ports = PtwPorts(
        busy=pyrtl.WireVector(1, name="ptw_active"), pte_addr=pyrtl.WireVector(64, name="ptw_pte_addr"),
        done=pyrtl.WireVector(1, name="ptw_done"), fault=pyrtl.WireVector(1, name="ptw_fault"),
        access_fault=pyrtl.WireVector(1, name="ptw_access_fault"),
        leaf=pyrtl.WireVector(64, name="ptw_leaf"), level=pyrtl.WireVector(2, name="ptw_leaf_level"))
    ports.busy <<= active
    ports.pte_addr <<= addr
    ports.done <<= ends
    ports.fault <<= acc_fault | page_fault
    ports.access_fault <<= acc_fault
    ports.leaf <<= pte
    ports.level <<= cur_level
    return ports
