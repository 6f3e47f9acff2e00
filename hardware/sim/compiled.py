"""The fast compiled simulator (ARCHITECTURE.md section 2, "Simulation: fast by
construction").

PyRTL's stock ``CompiledSimulation`` keeps MemBlocks in a hash map, writes memory images
as C statements and copies every Output into Python lists each cycle. This module keeps
its per-net C emitters (``_build_*``) and replaces everything around them:

- All simulator state lives in one flat, zero-initialised buffer owned by Python
  (numpy): the cycle counter, the Input, Output and Register limbs, and every MemBlock
  as a dense array of 1/2/4/8-byte words (or 64-bit limbs above 64 bits). Loading an
  image, reading a register, a snapshot and a restore are numpy copies of that buffer;
  several simulators of one design can live in one process.
- Memory addresses are masked to the depth, so the C code never reads or writes out of
  bounds. RomBlocks stay ``const`` arrays in the library.
- A C loop ``hv_run`` runs up to N cycles with the Inputs held, and stops after the first
  cycle in which a chosen Output is nonzero. An optional trace appends chosen Outputs
  to a buffer in every cycle where a valid Output is 1; without a trace the loop has no
  trace code at all.
- The nets are emitted in a depth-first order from the registers, memory writes and
  Outputs (so each cone of logic stays together, dead logic is dropped and the source is
  the same in every run) and cut into functions of ``chunk_nets`` nets; only wires used
  across functions live in the state buffer. Compile time stays linear in the design
  size, where one giant function is superlinear.
- Muxes read both inputs before selecting, and LLVM's cmov-to-branch pass is off, so
  data-dependent muxes never become mispredicted branches.
- The library and a JSON description of the state layout are cached by key (``cache``),
  so a warm start loads the library without elaborating the design.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyrtl
from pyrtl.wire import Const, Input, Output, Register

from hardware.sim import cache
from hardware.sim.common import (
    RunResult,
    SimError,
    check_span,
    check_value,
    elem_bytes,
    limbs,
    unknown,
)

#: Version of the generated code: a hash of this file and of ``common`` (word layout),
#: so any change to them rebuilds.
GENERATOR_HASH = hashlib.sha256(
    Path(__file__).read_bytes() + Path(__file__).with_name("common.py").read_bytes()
).hexdigest()[:16]
#: Layout version of the metadata JSON.
META_FORMAT = 1
#: Alignment of every region of the state buffer.
ALIGN = 64
#: Cycles per C call, so Ctrl-C is honoured within a fraction of a second.
CHUNK = 1 << 20
#: Nets per generated C function: keeps compile time linear in the design size.
DEFAULT_CHUNK_NETS = 1000
#: Optimisation levels accepted by ``opt``.
OPT_LEVELS = ("-O1", "-O2", "-O3")
#: C element type of one memory word by byte size.
C_TYPES = {1: "uint8_t", 2: "uint16_t", 4: "uint32_t", 8: "uint64_t"}
#: numpy dtype of one memory word by byte size.
NP_TYPES = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _mask(bitwidth: int) -> int:
    return (1 << bitwidth) - 1


# --------------------------------------------------------------------------- codegen


class _Emitter(pyrtl.CompiledSimulation):
    """Generates the C source of one design; reuses the stock per-net emitters.

    It never compiles or runs anything, so the stock ``__init__`` is not called.
    """

    def __init__(self, block: pyrtl.Block):  # noqa: D107 - see class docstring
        self._dll = self._dir = None
        self.block = block
        self.var_names = {}
        self._uid_counter = 0
        self.mem_arrays = {}  # MemBlock/RomBlock -> (C array name, elem bytes, limbs)

    def __del__(self):
        pass

    def _build_mux(self, write, op, op_param, args, dest):
        """A select per limb with both inputs read first, so that the compiler may use
        a conditional move even when they live in memory (the stock emitter writes
        if/else, which becomes a badly predicted branch)."""
        sel = self._limb_name(args[0], 0)
        for limb in range(self._limbs(dest)):
            t, f = self._limb_name(args[2], limb), self._limb_name(args[1], limb)
            write(f"{{ const uint64_t t_ = {t}, f_ = {f}; "
                  f"{self._limb_name(dest, limb)} = {sel} ? t_ : f_; }}")

    def _build_concat(self, write, op, op_param, args, dest):
        """Concats of at most 64 bits, with runs of the same 1-bit wire (what
        ``sign_extended`` builds) emitted as one replicated mask instead of one shift
        per bit; wider concats use the stock emitter."""
        if dest.bitwidth > 64:
            return super()._build_concat(write, op, op_param, args, dest)
        runs = []  # [wire, count], LSB first
        for w in reversed(args):
            if runs and w.bitwidth == 1 and runs[-1][0] is w:
                runs[-1][1] += 1
            else:
                runs.append([w, 1])
        terms, pos = [], 0
        for w, count in runs:
            name = self._limb_name(w, 0)
            if count > 1:
                piece = f"((0-({name}&1ULL))&{_mask(count):#x}ULL)"
                width = count
            else:
                piece, width = name, w.bitwidth
            terms.append(piece if pos == 0 else f"({piece}<<{pos})")
            pos += width
        write(f"{self._limb_name(dest, 0)} = {'|'.join(terms) or '0'};")

    def _build_mem_read(self, write, op, op_param, args, dest):
        """A read of a dense array at the address masked to the depth."""
        mem = op_param[1]
        array, _, mem_limbs = self.mem_arrays[mem]
        index = self._mem_index(mem, args[0])
        for limb in range(self._limbs(dest)):
            cell = f"{array}[{index}]" if mem_limbs == 1 else f"{array}[{index}*{mem_limbs}+{limb}]"
            mask = self._make_mask(dest, mem.bitwidth, limb)
            write(f"{self._limb_name(dest, limb)} = (uint64_t){cell}{mask};")

    def _mem_index(self, mem, addr_wire) -> str:
        if self._limbs(addr_wire) > 1:
            raise SimError(f"memory '{mem.name}': address wider than 64 bits")
        return f"({self._limb_name(addr_wire, 0)}&{_mask(mem.addrwidth):#x}ULL)"

    def build_mem_write(self, write, net) -> None:
        """Commit one write port at the end of the cycle."""
        mem = net.op_param[1]
        addr, data, enable = net.args
        array, size, mem_limbs = self.mem_arrays[mem]
        write(f"if ({self._limb_name(enable, 0)}) {{")
        write(f"  uint64_t a_ = {self._mem_index(mem, addr)};")
        for limb in range(mem_limbs):
            value = self._limb_name(data, limb)
            top = mem.bitwidth - 64 * limb
            if data.bitwidth > mem.bitwidth and top < 64:
                value = f"({value}&{_mask(top):#x}ULL)"
            cell = f"{array}[a_]" if mem_limbs == 1 else f"{array}[a_*{mem_limbs}+{limb}]"
            write(f"  {cell} = ({C_TYPES.get(size, 'uint64_t')}){value};")
        write("}")


@dataclass
class _Layout:
    """Where each piece of state lives in the state buffer (byte offsets)."""

    size: int
    inputs: dict  # name -> [limb index in I, bitwidth]
    outputs: dict  # name -> [limb index in O, bitwidth]
    registers: dict  # name -> [limb index in R, bitwidth, reset value]
    shared: dict  # name -> [limb index in W, bitwidth]: wires passed between chunks
    memories: dict  # name -> {offset, depth, bitwidth, elem_bytes}
    offsets: dict  # region -> byte offset ("I", "O", "R", "W")


@dataclass
class _Plan:
    """The combinational nets cut into chunks, one C function each."""

    chunks: list  # lists of LogicNets in topological order
    shared: list  # wires used outside the chunk that computes them


def _named(wires: Iterable) -> list:
    return sorted(wires, key=lambda w: w.name)


def _memories(block: pyrtl.Block) -> tuple[list, list]:
    """The design's MemBlocks and RomBlocks, each sorted by name; names must be unique."""
    mems = {net.op_param[1] for net in block.logic_subset("m@")}
    seen = {}
    for mem in mems:
        if mem.name in seen:
            raise SimError(f"two memories are named '{mem.name}'; memory names must be unique")
        seen[mem.name] = mem
    roms = _named(m for m in mems if isinstance(m, pyrtl.RomBlock))
    rams = _named(m for m in mems if not isinstance(m, pyrtl.RomBlock))
    return rams, roms


def _reg_updates(block: pyrtl.Block) -> list:
    """The register nets, by register name."""
    return sorted(block.logic_subset("r"), key=lambda n: n.dests[0].name)


def _writes(block: pyrtl.Block) -> list:
    """The memory write nets, by memory name, then address, data and enable wire."""
    return sorted(block.logic_subset("@"),
                  key=lambda n: (n.op_param[1].name, *(a.name for a in n.args)))


def _sinks(block: pyrtl.Block, src: dict) -> list:
    """The nets whose results are observable, in a fixed order: register updates,
    memory writes, then the nets driving Outputs."""
    outs = [src[o] for o in _named(block.wirevector_subset(Output)) if o in src]
    return _reg_updates(block) + _writes(block) + outs


def _ordered_nets(block: pyrtl.Block) -> list:
    """The combinational nets that some sink depends on, in a depth-first topological
    order: each sink's cone of logic stays together, which keeps the wires shared
    between chunks few, and the order is the same in every run. Nets that nothing
    observable depends on are dropped."""
    src, _ = block.net_connections()
    order, seen, open_ = [], set(), set()
    for sink in _sinks(block, src):
        if sink in seen:
            continue
        seen.add(sink)
        stack = [(sink, 0)]
        open_.add(sink)
        while stack:
            net, i = stack.pop()
            if i < len(net.args):
                stack.append((net, i + 1))
                parent = src.get(net.args[i])
                if parent is None or parent.op == "r":
                    continue
                if parent in open_:
                    raise SimError(f"combinational loop through wire '{net.args[i].name}'")
                if parent not in seen:
                    seen.add(parent)
                    open_.add(parent)
                    stack.append((parent, 0))
            else:
                open_.discard(net)
                if net.op not in "r@":
                    order.append(net)
    return order


def _plan(block: pyrtl.Block, chunk_nets: int) -> _Plan:
    """Cut the nets into chunks of ``chunk_nets`` (0: one chunk). The register, memory
    write and Output updates belong to the last chunk."""
    nets = _ordered_nets(block)
    size = chunk_nets if chunk_nets > 0 else max(len(nets), 1)
    chunks = [nets[i:i + size] for i in range(0, len(nets), size)] or [[]]
    home = {net.dests[0]: ci for ci, chunk in enumerate(chunks) for net in chunk}
    last = len(chunks) - 1
    uses = [(ci, net.args) for ci, chunk in enumerate(chunks) for net in chunk]
    uses += [(last, net.args) for net in block.logic_subset("r@")]
    uses += [(last, [w]) for w in block.wirevector_subset(Output)]
    shared = {w for ci, args in uses for w in args if home.get(w, ci) != ci}
    return _Plan(chunks, _named(shared))


def _layout(block: pyrtl.Block, rams: list, plan: _Plan) -> _Layout:
    """Place the cycle counter, I, O, R, W and every memory in one buffer."""
    def indexed(wires, extra=lambda w: []):
        table, index = {}, 0
        for w in _named(wires):
            table[w.name] = [index, w.bitwidth, *extra(w)]
            index += limbs(w.bitwidth)
        return table, index

    inputs, n_in = indexed(block.wirevector_subset(Input))
    outputs, n_out = indexed(block.wirevector_subset(Output))
    registers, n_reg = indexed(block.wirevector_subset(Register),
                               lambda r: [r.reset_value or 0])
    shared, n_shared = indexed(plan.shared)
    offsets, at = {}, ALIGN  # the cycle counter is the first 8 bytes
    for region, count in (("I", n_in), ("O", n_out), ("R", n_reg), ("W", n_shared)):
        offsets[region] = at
        at = _align(at + 8 * max(count, 1))
    memories = {}
    for mem in rams:
        size = elem_bytes(mem.bitwidth)
        memories[mem.name] = {"offset": at, "depth": 1 << mem.addrwidth,
                              "bitwidth": mem.bitwidth, "elem_bytes": size}
        at = _align(at + size * (1 << mem.addrwidth))
    return _Layout(at, inputs, outputs, registers, shared, memories, offsets)


_PRELUDE = r"""
#include <stdint.h>
#define EXPORT __attribute__((visibility("default")))
#define mul128(t0, t1, pl, ph) do { unsigned __int128 p_ = (unsigned __int128)(t0) * (t1); \
    (pl) = (uint64_t)p_; (ph) = (uint64_t)(p_ >> 64); } while (0)
"""

_RUN_LOOP = r"""
typedef struct {
  uint64_t valid;       /* limb index in O of the 1-bit valid Output */
  uint64_t nidx;        /* limbs per record */
  const uint64_t *idx;  /* limb indices in O copied into a record */
  uint64_t *buf;        /* cap records of nidx limbs */
  uint64_t cap, head, count;
  uint64_t ring;        /* 1: overwrite the oldest record; 0: stop when full */
} hv_trace_t;

static inline int hv_stop(const uint64_t *O, const uint64_t *stop, uint64_t nstop) {
  for (uint64_t k = 0; k < nstop; k++)
    if (O[stop[k]]) return 1;
  return 0;
}

static inline int hv_record(const uint64_t *O, hv_trace_t *t) {
  if (!O[t->valid]) return 0;
  uint64_t *rec = t->buf + t->head * t->nidx;
  for (uint64_t k = 0; k < t->nidx; k++) rec[k] = O[t->idx[k]];
  t->head = t->head + 1 == t->cap ? 0 : t->head + 1;
  if (t->count < t->cap) t->count++;
  return !t->ring && t->count == t->cap;
}

/* Run up to n cycles; *why = 0 (ran n), 1 (a stop Output was nonzero), 2 (trace full). */
EXPORT uint64_t hv_run(uint8_t *st, uint64_t n, const uint64_t *stop, uint64_t nstop,
                       hv_trace_t *tr, uint64_t *why) {
  const uint64_t *O = (const uint64_t *)(st + OFF_O);
  uint64_t i = 0, reason = 0;
  if (tr) {
    while (i < n) {
      hv_step(st);
      i++;
      int full = hv_record(O, tr);
      if (hv_stop(O, stop, nstop)) { reason = 1; break; }
      if (full) { reason = 2; break; }
    }
  } else {
    while (i < n) {
      hv_step(st);
      i++;
      if (hv_stop(O, stop, nstop)) { reason = 1; break; }
    }
  }
  *(uint64_t *)st += i;
  *why = reason;
  return i;
}

EXPORT uint64_t hv_state_size(void) { return STATE_SIZE; }
"""


def _c_hex(values: Iterable[int]) -> str:
    return ",".join(f"{v:#x}" for v in values)


def _rom_words(rom: pyrtl.RomBlock) -> list[int]:
    """Every word of a RomBlock, missing ones as 0, masked to the width."""
    words = []
    for addr in range(1 << rom.addrwidth):
        try:
            value = rom._get_read_data(addr)
        except pyrtl.PyrtlError:
            value = 0
        words.append(int(value) & _mask(rom.bitwidth))
    return words


def _emit_roms(write, em: _Emitter, roms: list) -> dict:
    """Declare each RomBlock as an exported const array; return its metadata."""
    table = {}
    for i, rom in enumerate(roms):
        size = elem_bytes(rom.bitwidth)
        rom_limbs = limbs(rom.bitwidth) if size > 8 else 1
        symbol = f"hv_rom{i}"
        em.mem_arrays[rom] = (symbol, size, rom_limbs)
        cells = []
        for word in _rom_words(rom):
            cells.extend((word >> (64 * k)) & _mask(64) for k in range(rom_limbs))
        write(f"EXPORT const {C_TYPES.get(size, 'uint64_t')} {symbol}[{len(cells)}] = "
              f"{{{_c_hex(cells)}}};")
        table[rom.name] = {"symbol": symbol, "depth": 1 << rom.addrwidth,
                           "bitwidth": rom.bitwidth, "elem_bytes": size}
    return table


def _name_wires(em: _Emitter, block: pyrtl.Block, lay: _Layout) -> None:
    """C names: state limbs for Inputs, Registers and shared wires, locals otherwise."""
    regions = (("I", lay.inputs), ("R", lay.registers), ("W", lay.shared))
    for wire in _named(block.wirevector_set):
        for region, table in regions:
            if wire.name in table:
                em.var_names[wire] = f"({region}+{table[wire.name][0]})"
                break
        else:
            em.var_names[wire] = em._clean_name("c" if isinstance(wire, Const) else "w", wire)


def _emit_consts(write, em: _Emitter, block: pyrtl.Block) -> None:
    for wire in _named(block.wirevector_subset(Const)):
        write(f"static const uint64_t {em.var_names[wire]}[{em._limbs(wire)}] = "
              f"{em._make_initializer(wire, wire.val)};")


def _emit_pointers(write, lay: _Layout, rams: list, em: _Emitter) -> None:
    names = []
    for region in ("I", "O", "R", "W"):
        write(f"  uint64_t *restrict {region} = (uint64_t *)(st + {lay.offsets[region]});")
        names.append(region)
    for i, mem in enumerate(rams):
        info = lay.memories[mem.name]
        ctype = C_TYPES.get(info["elem_bytes"], "uint64_t")
        em.mem_arrays[mem] = (f"M{i}", info["elem_bytes"],
                              limbs(mem.bitwidth) if info["elem_bytes"] > 8 else 1)
        write(f"  {ctype} *restrict M{i} = ({ctype} *)(st + {info['offset']});")
        names.append(f"M{i}")
    write("  uint64_t tmp, carry, tmphi, tmplo;")
    write("  " + " ".join(f"(void){n};" for n in [*names, "tmp", "carry", "tmphi", "tmplo"]))


def _emit_commit(write, em: _Emitter, block: pyrtl.Block, lay: _Layout) -> None:
    """End of the cycle: memory writes, Outputs, then Registers (all reads first)."""
    for net in _writes(block):
        em.build_mem_write(write, net)
    for oname, (index, width) in lay.outputs.items():
        wire = block.wirevector_by_name[oname]
        for limb in range(limbs(width)):
            write(f"  O[{index + limb}] = {em._limb_name(wire, limb)};")
    updates = []
    for net in _reg_updates(block):
        reg, nxt = net.dests[0], net.args[0]
        index = lay.registers[reg.name][0]
        for limb in range(limbs(reg.bitwidth)):
            value = em._limb_name(nxt, limb)
            top = reg.bitwidth - 64 * limb
            if nxt.bitwidth > reg.bitwidth and top < 64:
                value = f"({value}&{_mask(top):#x}ULL)"
            updates.append((index + limb, value))
    for k, (_, value) in enumerate(updates):
        write(f"  const uint64_t next{k} = {value};")
    for k, (index, _) in enumerate(updates):
        write(f"  R[{index}] = next{k};")


_BUILDERS = {
    "m": "_build_mem_read", "w": "_build_wire", "~": "_build_not",
    "&": "_build_bitwise", "|": "_build_bitwise", "^": "_build_bitwise",
    "n": "_build_nand", "=": "_build_eq", "<": "_build_lt_gt", ">": "_build_lt_gt",
    "x": "_build_mux", "+": "_build_add", "-": "_build_sub", "*": "_build_mul",
    "c": "_build_concat", "s": "_build_slice",
}


#: A select whose arms have at least this many nets only they use is emitted as an
#: if/else that computes just the taken arm (smaller cones stay branch-free).
LAZY_MIN_NETS = 2


def _consumers(block: pyrtl.Block) -> dict:
    """Wire -> [(net, argument index)] of every net that reads it."""
    out: dict = {}
    for net in block.logic:
        for i, a in enumerate(net.args):
            out.setdefault(a, []).append((net, i))
    return out


def _guards(block: pyrtl.Block, chunk: list, consumers: dict) -> dict:
    """For each net of ``chunk`` whose value only one arm of one select of the chunk
    needs (directly, or through nets that only that arm needs): net -> (select, arm).
    Wires that registers, memory writes, Outputs or other chunks read are never
    guarded (innermost select wins; ``arm`` is 1 for the false case, 2 for the true)."""
    in_chunk = set(chunk)
    outputs = set(block.wirevector_subset(Output))
    guard: dict = {}
    for net in reversed(chunk):
        w = net.dests[0]
        uses = consumers.get(w, ())
        if w in outputs or not uses:
            continue
        found = None
        for c, i in uses:
            if c not in in_chunk:
                found = None
                break
            if c.op == "x" and i in (1, 2):
                cand = (c, i)
            elif c in guard:
                cand = guard[c]
            else:
                found = None
                break
            if found is not None and cand != found:
                found = None
                break
            found = cand
        if found is not None:
            guard[net] = found
    return guard


def _lazy_groups(chunk: list, guard: dict) -> dict:
    """Group the guarded nets by where they are emitted: {(select, arm): [nets]} for the
    selects worth branching on, plus None for the rest, each in chunk order."""
    size: dict = {}
    for net, g in guard.items():
        size[g] = size.get(g, 0) + 1
    total: dict = {}
    for (x, arm), k in size.items():
        total[x] = total.get(x, 0) + k
    lazy = {x for x, k in total.items() if k >= LAZY_MIN_NETS}

    def place(net):
        g = guard.get(net)
        while g is not None and g[0] not in lazy:
            g = guard.get(g[0])
        return g

    groups: dict = {}
    for net in chunk:
        groups.setdefault(place(net), []).append(net)
    return groups


def _emit_lazy(write, em: _Emitter, net, groups: dict, indent: str = "  ") -> None:
    """Emit ``net``; a select with lazy arms becomes if/else computing only the taken arm
    (each arm's nets, then the select's value; the other arm is never read)."""
    if (net, 1) not in groups and (net, 2) not in groups:
        if net.op not in _BUILDERS:
            raise SimError(f"the compiled simulator cannot handle net op '{net.op}'")
        getattr(em, _BUILDERS[net.op])(write, net.op, net.op_param, net.args, net.dests[0])
        return
    sel, dest = em._limb_name(net.args[0], 0), net.dests[0]
    for arm, head in ((2, f"if ({sel}) {{"), (1, "} else {")):
        write(head)
        for inner in groups.get((net, arm), ()):
            _emit_lazy(write, em, inner, groups, indent + "  ")
        for limb in range(em._limbs(dest)):
            write(f"{em._limb_name(dest, limb)} = {em._limb_name(net.args[arm], limb)};")
    write("}")


def _emit_chunks(write, em: _Emitter, block: pyrtl.Block, lay: _Layout, rams: list,
                 plan: _Plan, lazy: bool = True) -> None:
    """One C function per chunk, then ``hv_step`` calling them in order. With ``lazy``,
    logic that only one arm of a select needs is computed only when that arm is taken
    (``_guards``): device reads, the CSR read mux and the like cost nothing on the
    cycles that do not use them."""
    last = len(plan.chunks) - 1
    consumers = _consumers(block) if lazy else {}
    for ci, chunk in enumerate(plan.chunks):
        write(f"static void __attribute__((noinline)) hv_chunk{ci}(uint8_t *restrict st) {{")
        _emit_pointers(write, lay, rams, em)
        for net in chunk:
            dest = net.dests[0]
            if em.var_names[dest].startswith("w"):
                write(f"  uint64_t {em.var_names[dest]}[{em._limbs(dest)}];")
        groups = _lazy_groups(chunk, _guards(block, chunk, consumers) if lazy else {})
        for net in groups.get(None, ()):
            _emit_lazy(write, em, net, groups)
        if ci == last:
            _emit_commit(write, em, block, lay)
        write("}")
    write("static void hv_step(uint8_t *restrict st) {")
    for ci in range(len(plan.chunks)):
        write(f"  hv_chunk{ci}(st);")
    write("}")


def generate(block: pyrtl.Block, chunk_nets: int = 0) -> tuple[str, dict]:
    """The C source and the metadata (without build facts) of ``block``; the nets are
    cut into functions of ``chunk_nets`` nets (0: one function)."""
    block.sanity_check()
    rams, roms = _memories(block)
    plan = _plan(block, chunk_nets)
    lay = _layout(block, rams, plan)
    em = _Emitter(block)
    _name_wires(em, block, lay)
    lines: list[str] = [_PRELUDE]
    write = lines.append
    write(f"#define OFF_O {lay.offsets['O']}")
    write(f"#define STATE_SIZE {lay.size}ULL")
    rom_table = _emit_roms(write, em, roms)
    _emit_consts(write, em, block)
    _emit_chunks(write, em, block, lay, rams, plan)
    write(_RUN_LOOP)
    meta = {
        "format": META_FORMAT,
        "generator": GENERATOR_HASH,
        "state_size": lay.size,
        "offsets": lay.offsets,
        "inputs": lay.inputs,
        "outputs": lay.outputs,
        "registers": lay.registers,
        "memories": lay.memories,
        "roms": rom_table,
        "nets": sum(len(c) for c in plan.chunks),
        "chunks": len(plan.chunks),
        "shared_wires": len(plan.shared),
    }
    return "\n".join(lines) + "\n", meta


# --------------------------------------------------------------------------- compiling


def compiler_command(cc: str | None = None) -> list[str]:
    """The compiler driver: zig's clang from the ``ziglang`` wheel unless ``cc`` names
    another (e.g. "gcc")."""
    if cc in (None, "zig"):
        return [sys.executable, "-m", "ziglang", "cc"]
    return cc.split()


def _compiler_identity(cmd: list[str]) -> str:
    """Text that changes when the compiler or the host CPU changes."""
    from importlib.metadata import PackageNotFoundError, version

    if cmd[1:3] == ["-m", "ziglang"]:
        try:
            ident = "zig " + version("ziglang")
        except PackageNotFoundError:
            ident = "zig"
    else:
        try:
            ident = subprocess.run(cmd + ["--version"], capture_output=True, text=True,
                                   timeout=30).stdout.splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            ident = " ".join(cmd)
    return f"{ident} {platform.machine()} {_cpu_flags()}"


def _cpu_flags() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return hashlib.sha256(line.encode()).hexdigest()[:16]
    except OSError:
        pass
    return platform.processor()


def _is_clang(cmd: list[str]) -> bool:
    return cmd[1:3] == ["-m", "ziglang"] or "clang" in Path(cmd[0]).name


def _flags(cmd: list[str], opt: str) -> list[str]:
    """Compiler flags: zig targets the host CPU by default, gcc needs -march=native.
    LLVM's x86 pass that turns conditional moves with a memory operand into branches is
    off: PyRTL muxes on data-dependent selects would mispredict."""
    if opt not in OPT_LEVELS:
        raise SimError(f"opt must be one of {', '.join(OPT_LEVELS)}, not '{opt}'")
    extra = [] if cmd[1:3] == ["-m", "ziglang"] else ["-march=native"]
    if _is_clang(cmd) and platform.machine().lower() in ("x86_64", "amd64"):
        extra += ["-mllvm", "-x86-cmov-converter=false"]
    return [opt, "-g0", *extra, "-shared", "-fPIC", "-fvisibility=hidden", "-w"]


def _compile(source: str, command: list[str], workdir: Path) -> Path:
    """Compile ``source`` into ``workdir/sim.so``; raise SimError on failure."""
    c_path, so_path = workdir / "sim.c", workdir / "sim.so"
    c_path.write_text(source)
    try:
        proc = subprocess.run(command + [str(c_path), "-o", str(so_path)],
                              capture_output=True, text=True)
    except OSError as exc:
        raise SimError(f"cannot run the C compiler '{command[0]}': {exc}") from None
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SimError(f"C compiler failed on {c_path}: {tail}")
    return so_path


@dataclass(frozen=True)
class BuildOptions:
    """How the C is generated and compiled; part of the cache key."""

    opt: str = "-O2"  # one of OPT_LEVELS
    cc: str | None = None  # None: zig cc from the ziglang wheel; else e.g. "gcc"
    chunk_nets: int = DEFAULT_CHUNK_NETS  # nets per C function (0: one function)

    def command(self) -> list[str]:
        """The full compiler command without the file names."""
        cmd = compiler_command(self.cc)
        return cmd + _flags(cmd, self.opt)

    def identity(self) -> list[str]:
        """Everything about the build that must be part of a cache key."""
        cmd = compiler_command(self.cc)
        return [GENERATOR_HASH, _compiler_identity(cmd), *_flags(cmd, self.opt),
                f"chunk={self.chunk_nets}"]


def _build(source: str, meta: dict, key: str, options: BuildOptions, cache_dir,
           codegen_seconds: float) -> cache.Entry:
    """Compile ``source`` and store it with ``meta`` under ``key``."""
    workdir = cache.scratch_dir(cache_dir)
    try:
        t0 = time.perf_counter()
        command = options.command()
        so_path = _compile(source, command, workdir)
        meta.update(key=key, command=command, codegen_seconds=round(codegen_seconds, 3),
                    compile_seconds=round(time.perf_counter() - t0, 3))
        return cache.store(key, so_path, meta, cache_dir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _generate_timed(block: pyrtl.Block, options: BuildOptions) -> tuple[str, dict, float]:
    t0 = time.perf_counter()
    source, meta = generate(block, options.chunk_nets)
    return source, meta, time.perf_counter() - t0


_LIBRARIES: dict[str, ctypes.CDLL] = {}


def _load_library(path: Path) -> ctypes.CDLL:
    """Load a built library once per process (state is per simulator, not per library)."""
    real = os.path.realpath(path)
    if real not in _LIBRARIES:
        lib = ctypes.CDLL(real)
        lib.hv_run.restype = ctypes.c_uint64
        lib.hv_run.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p,
                               ctypes.c_uint64, ctypes.c_void_p, ctypes.c_void_p]
        lib.hv_state_size.restype = ctypes.c_uint64
        _LIBRARIES[real] = lib
    return _LIBRARIES[real]


# --------------------------------------------------------------------------- runtime


class _Trace(ctypes.Structure):
    _fields_ = [("valid", ctypes.c_uint64), ("nidx", ctypes.c_uint64),
                ("idx", ctypes.c_void_p), ("buf", ctypes.c_void_p),
                ("cap", ctypes.c_uint64), ("head", ctypes.c_uint64),
                ("count", ctypes.c_uint64), ("ring", ctypes.c_uint64)]


class FastCompiledSimulation:
    """A compiled simulator with dense memories, a C run loop and a build cache.

    Construct it from a block (``FastCompiledSimulation(block)``), or with
    ``load_or_build(key, elaborate)`` to skip elaboration on a cache hit.
    """

    backend = "compiled"

    def __init__(self, block: pyrtl.Block | None = None, *, opt: str = "-O2",
                 cc: str | None = None, chunk_nets: int = DEFAULT_CHUNK_NETS,
                 cache_dir=None):
        options = BuildOptions(opt, cc, chunk_nets)
        source, meta, seconds = _generate_timed(pyrtl.working_block(block), options)
        key = cache.digest("hvsim-source", source, *options.identity())
        entry = cache.lookup(key, cache_dir)
        self.from_cache = entry is not None
        if entry is None:
            entry = _build(source, meta, key, options, cache_dir, seconds)
        self._attach(entry)

    @classmethod
    def load_or_build(cls, key: str, elaborate: Callable[[], pyrtl.Block | None], *,
                      opt: str = "-O2", cc: str | None = None,
                      chunk_nets: int = DEFAULT_CHUNK_NETS,
                      cache_dir=None) -> FastCompiledSimulation:
        """The simulator of the design named by ``key``; ``elaborate()`` (which returns
        the design's block, or None for the working block) runs only on a cache miss.

        ``key`` must change whenever the design would: e.g. ``cache.design_key(cfg.key(),
        cache.source_hash("hardware"))``. The generator version, the compiler, its
        flags and the host CPU are added here.
        """
        options = BuildOptions(opt, cc, chunk_nets)
        full_key = cache.digest("hvsim-design", key, *options.identity())
        entry = cache.lookup(full_key, cache_dir)
        sim = cls.__new__(cls)
        sim.from_cache = entry is not None
        if entry is None:
            block = pyrtl.working_block(elaborate())
            source, meta, seconds = _generate_timed(block, options)
            entry = _build(source, meta, full_key, options, cache_dir, seconds)
        sim._attach(entry)
        return sim

    # ---- setup

    def _attach(self, entry: cache.Entry) -> None:
        meta = entry.meta
        if meta.get("format") != META_FORMAT:
            raise SimError(f"cache entry {entry.library} has an unknown format")
        self.key = entry.key
        self.library_path = entry.library
        self.meta = meta
        self._lib = _load_library(entry.library)
        size = meta["state_size"]
        if self._lib.hv_state_size() != size:
            raise SimError(f"cache entry {entry.library} does not match its metadata")
        raw = np.zeros(size + ALIGN, dtype=np.uint8)
        start = (-raw.ctypes.data) % ALIGN
        self._state = raw[start:start + size]
        self._ptr = self._state.ctypes.data
        self._inputs = meta["inputs"]
        self._outputs = meta["outputs"]
        self._registers = meta["registers"]
        self._mems = meta["memories"]
        self._roms = meta["roms"]
        self._I = self._region("I", self._inputs)
        self._O = self._region("O", self._outputs)
        self._R = self._region("R", self._registers)
        for name, (index, width, reset) in self._registers.items():
            self._write_limbs(self._R, index, width, reset)
        self._pulsed: set[str] = set()
        self._stop_cache: dict[tuple, tuple] = {}
        self._why = ctypes.c_uint64(0)
        self._trace = None

    def _region(self, region: str, table: dict) -> np.ndarray:
        count = sum(limbs(w) for _, w, *_ in table.values())
        off = self.meta["offsets"][region]
        return self._state[off:off + 8 * max(count, 1)].view(np.uint64)

    @staticmethod
    def _write_limbs(array: np.ndarray, index: int, width: int, value: int) -> None:
        for limb in range(limbs(width)):
            array[index + limb] = (value >> (64 * limb)) & _mask(64)

    @staticmethod
    def _read_limbs(array: np.ndarray, index: int, width: int) -> int:
        value = 0
        for limb in reversed(range(limbs(width))):
            value = (value << 64) | int(array[index + limb])
        return value

    # ---- names

    @property
    def inputs(self) -> list[str]:
        """Names of the design's Inputs."""
        return list(self._inputs)

    @property
    def outputs(self) -> list[str]:
        """Names of the design's Outputs."""
        return list(self._outputs)

    @property
    def registers(self) -> list[str]:
        """Names of the design's Registers."""
        return list(self._registers)

    @property
    def memories(self) -> list[str]:
        """Names of the design's MemBlocks and RomBlocks."""
        return list(self._mems) + list(self._roms)

    # ---- inputs, outputs, registers

    def _input(self, name: str) -> tuple[int, int]:
        try:
            return self._inputs[name]
        except KeyError:
            raise unknown("input", name, self._inputs) from None

    def set_input(self, name: str, value: int) -> None:
        """Drive Input ``name`` to ``value`` for every following cycle."""
        index, width = self._input(name)
        self._write_limbs(self._I, index, width, check_value("input", name, value, width))
        self._pulsed.discard(name)

    def pulse_input(self, name: str, value: int) -> None:
        """Drive Input ``name`` to ``value`` for the next executed cycle only, then 0."""
        self.set_input(name, value)
        self._pulsed.add(name)

    def output(self, name: str) -> int:
        """Value of Output ``name`` in the last executed cycle (0 before any)."""
        try:
            index, width = self._outputs[name]
        except KeyError:
            raise unknown("output", name, self._outputs) from None
        return self._read_limbs(self._O, index, width)

    def get_register(self, name: str) -> int:
        """Current value of Register ``name`` (the value the next cycle will see)."""
        try:
            index, width, _ = self._registers[name]
        except KeyError:
            raise unknown("register", name, self._registers) from None
        return self._read_limbs(self._R, index, width)

    def set_register(self, name: str, value: int) -> None:
        """Overwrite Register ``name``."""
        try:
            index, width, _ = self._registers[name]
        except KeyError:
            raise unknown("register", name, self._registers) from None
        self._write_limbs(self._R, index, width, check_value("register", name, value, width))

    @property
    def cycle(self) -> int:
        """Cycles executed since construction (restored by ``restore``)."""
        return int(self._state[:8].view(np.uint64)[0])

    # ---- memories

    def mem_view(self, name: str) -> np.ndarray:
        """The bytes of memory ``name`` as a live uint8 array (read-only for ROMs)."""
        if name in self._mems:
            info = self._mems[name]
            off, size = info["offset"], info["depth"] * info["elem_bytes"]
            return self._state[off:off + size]
        if name in self._roms:
            info = self._roms[name]
            size = info["depth"] * info["elem_bytes"]
            array = (ctypes.c_uint8 * size).in_dll(self._lib, info["symbol"])
            view = np.ctypeslib.as_array(array)
            view.flags.writeable = False
            return view
        raise unknown("memory", name, self.memories)

    def read_mem(self, name: str, byte_addr: int, n: int) -> bytes:
        """``n`` bytes of memory ``name`` from byte address ``byte_addr``."""
        view = self.mem_view(name)
        check_span(name, byte_addr, n, len(view))
        return view[byte_addr:byte_addr + n].tobytes()

    def write_mem(self, name: str, byte_addr: int, data: bytes) -> None:
        """Store ``data`` at byte address ``byte_addr`` of memory ``name``; bits above
        the word width are dropped."""
        if name in self._roms:
            raise SimError(f"memory '{name}' is a ROM and cannot be written")
        view = self.mem_view(name)
        buf = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
        check_span(name, byte_addr, len(buf), len(view))
        view[byte_addr:byte_addr + len(buf)] = buf
        self._mask_words(name, byte_addr, len(buf))

    def _mask_words(self, name: str, byte_addr: int, n: int) -> None:
        info = self._mems[name]
        width, size = info["bitwidth"], info["elem_bytes"]
        if n == 0 or width == 8 * size:
            return
        first, last = byte_addr // size, (byte_addr + n - 1) // size + 1
        view = self.mem_view(name)
        if size <= 8:
            view.view(NP_TYPES[size])[first:last] &= NP_TYPES[size](_mask(width))
        else:
            words = view.view(np.uint64).reshape(-1, size // 8)
            words[first:last, -1] &= np.uint64(_mask(width - 64 * (size // 8 - 1)))

    def load_images(self, images: dict[str, list[tuple[int, bytes]]]) -> None:
        """Write each ``(byte address, bytes)`` of each named memory."""
        for name, chunks in images.items():
            for addr, data in chunks:
                self.write_mem(name, addr, data)

    # ---- state

    def snapshot(self) -> bytes:
        """All registers, memories, inputs, outputs and the cycle counter."""
        return self._state.tobytes()

    def restore(self, snap: bytes) -> None:
        """Return to a ``snapshot`` of a simulator of the same design; pending pulses
        are dropped."""
        if len(snap) != len(self._state):
            raise SimError(f"snapshot of {len(snap)} bytes does not fit this design "
                           f"({len(self._state)} bytes of state)")
        self._state[:] = np.frombuffer(snap, dtype=np.uint8)
        self._pulsed.clear()

    # ---- running

    def _stop_indices(self, stop_on: tuple[str, ...]):
        if stop_on not in self._stop_cache:
            idx = []
            for name in stop_on:
                if name not in self._outputs:
                    raise unknown("stop output", name, self._outputs)
                index, width = self._outputs[name]
                if width > 64:
                    raise SimError(f"stop output '{name}' is wider than 64 bits")
                idx.append(index)
            array = np.array(idx or [0], dtype=np.uint64)
            self._stop_cache[stop_on] = (array, len(idx))
        return self._stop_cache[stop_on]

    def _call(self, n: int, stop: np.ndarray, nstop: int) -> tuple[int, int]:
        record = self._trace[0] if self._trace else None
        done = self._lib.hv_run(self._ptr, n, stop.ctypes.data, nstop,
                                None if record is None else ctypes.byref(record),
                                ctypes.byref(self._why))
        if record is not None and not record.ring and record.count == record.cap:
            self._spill_trace()  # full, whether or not a stop Output also ended the run
        return done, self._why.value

    def run(self, max_cycles: int, stop_on: Iterable[str] = ()) -> RunResult:
        """Run up to ``max_cycles`` cycles with the Inputs held; stop after the first
        cycle in which an Output named in ``stop_on`` is nonzero."""
        stop_on = (stop_on,) if isinstance(stop_on, str) else tuple(stop_on)
        stop, nstop = self._stop_indices(stop_on)
        if max_cycles < 0:
            raise SimError(f"max_cycles must be >= 0, not {max_cycles}")
        done, why = 0, 0
        if self._pulsed and max_cycles > 0:
            done, why = self._call(1, stop, nstop)
            for name in self._pulsed:
                index, width = self._inputs[name]
                self._write_limbs(self._I, index, width, 0)
            self._pulsed.clear()
        while why != 1 and done < max_cycles:
            n, why = self._call(min(max_cycles - done, CHUNK), stop, nstop)
            done += n
        stopped_by = None
        if why == 1:
            stopped_by = next(name for name in stop_on if self.output(name))
        return RunResult(done, stopped_by)

    def close(self) -> None:
        """Nothing to finish (the ``interp`` backend closes its VCD here)."""

    # ---- retirement trace

    def enable_trace(self, valid_output: str, outputs: list[str], capacity: int = 1 << 16,
                     ring: bool = False) -> None:
        """Record ``outputs`` in every cycle where ``valid_output`` is nonzero.

        With ``ring=False`` (default) nothing is lost: a full buffer is moved to Python
        and the run continues. With ``ring=True`` only the last ``capacity`` records
        are kept.
        """
        fields = [valid_output, *outputs]
        for name in fields:
            if name not in self._outputs:
                raise unknown("trace output", name, self._outputs)
            if self._outputs[name][1] > 64:
                raise SimError(f"trace output '{name}' is wider than 64 bits")
        if capacity < 1:
            raise SimError(f"trace capacity must be >= 1, not {capacity}")
        idx = np.array([self._outputs[n][0] for n in outputs] or [0], dtype=np.uint64)
        buf = np.zeros((capacity, max(len(outputs), 1)), dtype=np.uint64)
        record = _Trace(self._outputs[valid_output][0], len(outputs), idx.ctypes.data,
                        buf.ctypes.data, capacity, 0, 0, int(ring))
        self._trace = (record, idx, buf, list(outputs), [])

    def disable_trace(self) -> None:
        """Stop recording; records not yet drained are dropped."""
        self._trace = None

    def _spill_trace(self) -> None:
        record, _, buf, _, spilled = self._trace
        start = (record.head - record.count) % record.cap
        order = (np.arange(record.count) + start) % record.cap
        spilled.append(buf[order].copy())
        record.head = record.count = 0

    def drain_trace_array(self) -> np.ndarray:
        """Records since the last drain as a structured array (one uint64 field per
        traced Output), oldest first."""
        if self._trace is None:
            raise SimError("no trace is enabled (call enable_trace first)")
        self._spill_trace()
        record, _, _, names, spilled = self._trace
        rows = np.concatenate(spilled) if spilled else np.zeros((0, len(names)), np.uint64)
        spilled.clear()
        dtype = np.dtype([(n, np.uint64) for n in names])
        out = np.zeros(len(rows), dtype=dtype)
        for k, n in enumerate(names):
            out[n] = rows[:, k]
        return out

    def drain_trace(self) -> list[dict[str, int]]:
        """Records since the last drain, oldest first, as dicts of Output values."""
        array = self.drain_trace_array()
        names = array.dtype.names
        return [dict(zip(names, map(int, row))) for row in array.tolist()]
