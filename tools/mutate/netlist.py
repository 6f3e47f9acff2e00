"""Mutants of the core's PyRTL netlist (issue 3, part 5: "automatic hardware mutation
testing"; mutation classes from surveys of real CPU bugs: a wrong operand and a broken
condition).

- **Units.** Nets carry no module information, so the core is elaborated with the unit
  builders of ``hardware/core/*.py`` wrapped where ``core.py`` looks them up; each
  wrapper claims the nets its call adds (inner calls first). ``core`` is the glue that
  ``build_core`` adds itself; the devices outside the core are never mutated.
- **Operators** (``OPERATORS``): ``operand`` replaces one argument of a net with another
  wire of the same width from the same unit; ``mux-swap`` swaps a 2:1 mux's data inputs
  (its select inverted); ``lt-ge`` turns ``a < b`` into ``~(a < b)`` (``a >= b``);
  ``and-or`` turns ``&`` into ``|`` and back; ``eq-invert`` turns ``a == b`` into
  ``a != b``. Memories, memory ports, Inputs and Outputs are never mutated.
- **Descriptions.** A ``Mutant`` names its net by the net's destination wire. Temporary
  wire names come from PyRTL's global counters, which ``fresh_block`` resets, so the
  same name denotes the same net in every elaboration of the same sources: a mutant is
  re-applied to a freshly elaborated block in a worker process.
- **Rejected candidates.** A candidate that would close a combinational loop is
  skipped; so is one shown *equivalent* to the design (``equivalence``), so no program
  can observe it: either value numbering with constant folding and bit tracking
  (``Numbering``) gives every register's next value, every memory write port and every
  Output the same number before and after the edit, or the edit changes only bits of
  its wire that no Output, memory write or register can see (``demanded_bits``).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pyrtl
import pyrtl.memory
import pyrtl.wire
from pyrtl.wire import Const, Input, Output, Register

import hardware
from hardware.config import SocConfig
from hardware.soc.soc import elaborate

#: The ``hardware`` package: nets are located by the first stack frame inside it.
HARDWARE_DIR = Path(hardware.__file__).resolve().parent
#: Unit -> the builder functions whose nets it owns, as (module, attribute) where the
#: core's elaboration looks them up. ``core`` wraps ``build_core`` itself and keeps the
#: nets no other unit claims.
UNITS: dict[str, tuple[tuple[str, str], ...]] = {
    "decode": (("hardware.core.decode", "build_decode"),),
    "alu": (("hardware.core.core", "build_alu"), ("hardware.core.core", "build_branch")),
    "muldiv": (("hardware.core.core", "build_mul"), ("hardware.core.core", "build_div")),
    "csr": (("hardware.core.core", "build_csr_file"),),
    "trap": (("hardware.core.core", "build_trap"), ("hardware.core.core", "build_trap_h")),
    "hyp": (("hardware.core.hyp", "instruction_checks"), ("hardware.core.hyp", "data_mode"),
            ("hardware.core.hyp", "trap_values"), ("hardware.core.hyp", "next_v")),
    "mmu": (("hardware.core.core", "build_mmu"),),
    "pmp": (("hardware.core.core", "decode_ranges"), ("hardware.core.core", "build_pmp_lookup"),
            ("hardware.core.core", "pmp_allows")),
    "lsu": (("hardware.core.core", "build_lane"), ("hardware.core.core", "store_lane"),
            ("hardware.core.core", "load_extract"), ("hardware.core.core", "amo_compute")),
    "rvc": (("hardware.core.core", "build_rvc_expander"),),
    "core": (("hardware.soc.soc", "build_core"),),
}
#: ``--unit`` value that selects every unit.
ALL_UNITS = "all"
#: The two mutation classes.
KINDS = ("wrong-operand", "broken-condition")


@dataclass(frozen=True)
class Operator:
    """One mutation operator."""

    kind: str  # one of KINDS
    ops: str  # PyRTL net ops it applies to
    text: str  # what it does


OPERATORS: dict[str, Operator] = {
    "operand": Operator("wrong-operand", "w~&|^n+-*<>=xcsr",
                        "one argument replaced by another wire of the same width "
                        "from the same unit"),
    "mux-swap": Operator("broken-condition", "x",
                         "a 2:1 mux's data inputs swapped (its select inverted)"),
    "lt-ge": Operator("broken-condition", "<>", "a < b becomes a >= b (a > b: a <= b)"),
    "and-or": Operator("broken-condition", "&|", "& becomes | and | becomes &"),
    "eq-invert": Operator("broken-condition", "=", "a == b becomes a != b"),
}
#: Ops whose argument order does not matter (value numbering sorts their arguments).
COMMUTATIVE = frozenset("&|^n+*=")
#: How ``equivalence`` shows a candidate equivalent.
EQUIVALENCE_METHODS = ("value numbering", "demanded bits")
#: Attempts per mutant before a unit is declared out of candidates.
MAX_ATTEMPTS = 500


class MutateError(ValueError):
    """Bad input to mutation testing (an unknown unit, a mutant that does not fit the
    design, ...); the message is one line."""


def units_for(unit: str) -> tuple[str, ...]:
    """The units ``--unit`` selects (``all``: every unit)."""
    if unit == ALL_UNITS:
        return tuple(UNITS)
    if unit not in UNITS:
        raise MutateError(f"unknown unit '{unit}' (valid: {', '.join([*UNITS, ALL_UNITS])})")
    return (unit,)


# --------------------------------------------------------------------------- mutants


@dataclass(frozen=True)
class Mutant:
    """A small, picklable description of one mutant."""

    id: int
    unit: str
    operator: str  # key of OPERATORS
    net: str  # name of the mutated net's destination wire
    op: str  # the net's op in the clean design
    arg: int = -1  # operand: index of the replaced argument
    replacement: str = ""  # operand: the wire put in its place
    where: str = ""  # source line that created the net's wire
    text: str = ""  # before -> after, for reports

    @property
    def kind(self) -> str:
        """``wrong-operand`` or ``broken-condition``."""
        return OPERATORS[self.operator].kind

    def key(self) -> str:
        """What identifies the edit (the id and the display fields do not)."""
        return f"{self.operator}:{self.net}:{self.arg}:{self.replacement}"

    def to_dict(self) -> dict:
        return {**asdict(self), "kind": self.kind, "key": self.key()}

    @classmethod
    def from_dict(cls, data: dict) -> Mutant:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# --------------------------------------------------------------------------- elaboration


@contextlib.contextmanager
def _rvc_as_logic() -> Iterator[None]:
    """Elaborate the RVC expander in its logic form (``style="logic"``) when it has
    one: the ROM form is a memory, which is never mutated; both compute the same
    function."""
    module = importlib.import_module("hardware.core.core")
    original = module.build_rvc_expander
    if "style" not in inspect.signature(original).parameters:
        yield
        return
    module.build_rvc_expander = functools.wraps(original)(
        functools.partial(original, style="logic"))
    try:
        yield
    finally:
        module.build_rvc_expander = original


def fresh_block(cfg: SocConfig) -> pyrtl.Block:
    """A newly elaborated mutation design (the SoC, with the RVC expander as logic)
    whose temporary wire names match every other fresh elaboration of the same
    sources (PyRTL's name counters are reset first)."""
    pyrtl.wire._reset_wire_indexers()
    pyrtl.memory._reset_memory_indexer()
    with _rvc_as_logic():
        return elaborate(cfg)


def _claiming(fn, unit: str, claims: dict):
    """``fn`` wrapped so that the nets its call adds are claimed for ``unit`` (unless
    an inner call claimed them first)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        before = set(pyrtl.working_block().logic)
        result = fn(*args, **kwargs)
        for net in pyrtl.working_block().logic - before:
            claims.setdefault(net, unit)
        return result
    return wrapper


@contextlib.contextmanager
def _recording_units(claims: dict) -> Iterator[None]:
    """Wrap every builder of ``UNITS`` for the duration of one elaboration."""
    saved = []
    try:
        for unit, builders in UNITS.items():
            for module_name, attr in builders:
                module = importlib.import_module(module_name)
                original = getattr(module, attr)
                saved.append((module, attr, original))
                setattr(module, attr, _claiming(original, unit, claims))
        yield
    finally:
        for module, attr, original in reversed(saved):
            setattr(module, attr, original)


def _caller_in_hardware() -> str:
    """``path:line`` of the innermost stack frame inside ``hardware/``."""
    root = str(HARDWARE_DIR)
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(root):
            rel = Path(name).relative_to(HARDWARE_DIR.parent).as_posix()
            return f"{rel}:{frame.f_lineno}"
        frame = frame.f_back
    return ""


@contextlib.contextmanager
def _locating_wires(where: dict) -> Iterator[None]:
    """Record, for each wire created, the source line that created it."""
    original = pyrtl.wire.next_tempvar_name

    def named(name=""):
        result = original(name)
        where[result] = _caller_in_hardware()
        return result
    pyrtl.wire.next_tempvar_name = named
    try:
        yield
    finally:
        pyrtl.wire.next_tempvar_name = original


# --------------------------------------------------------------------------- analysis


def _sources(nets: Iterable[pyrtl.LogicNet]) -> dict:
    """Wire -> the net that drives it."""
    return {d: net for net in nets for d in net.dests}


@dataclass
class Netlist:
    """The elaborated SoC with each core net's unit and each wire's source line."""

    cfg: SocConfig
    block: pyrtl.Block
    unit_of: dict  # LogicNet -> unit (core nets only)
    where: dict  # wire name -> "hardware/...py:line"
    src: dict = field(init=False)
    live: set = field(init=False)

    def __post_init__(self):
        self.src = _sources(self.block.logic)
        self.live = _observable(self.block, self.src)
        self._consumers: dict | None = None

    def nets(self, unit: str) -> list[pyrtl.LogicNet]:
        """The unit's mutable nets (observable, not memory ports), sorted by name."""
        return sorted((n for n, u in self.unit_of.items()
                       if u == unit and n in self.live and n.op not in "m@"
                       and not isinstance(n.dests[0], Output)),
                      key=lambda n: n.dests[0].name)

    def unit_wires(self, unit: str) -> dict[int, list[pyrtl.WireVector]]:
        """Width -> the unit's wires that may replace an argument (no Consts, Inputs or
        Outputs), sorted by name."""
        wires = set()
        for net, u in self.unit_of.items():
            if u == unit:
                wires.update(net.args)
                wires.update(net.dests)
        by_width: dict[int, list] = {}
        for w in sorted(wires, key=lambda w: w.name):
            if not isinstance(w, (Const, Input, Output)):
                by_width.setdefault(w.bitwidth, []).append(w)
        return by_width

    def consumers(self) -> dict:
        """Wire -> the nets that read it."""
        if self._consumers is None:
            self._consumers = {}
            for net in self.block.logic:
                for a in net.args:
                    self._consumers.setdefault(a, []).append(net)
        return self._consumers

    def feeds(self, wire: pyrtl.WireVector, limit: int = 2, depth: int = 12) -> list[str]:
        """The nearest named wires downstream of ``wire`` (for reports)."""
        found, seen, frontier = [], {wire}, [wire]
        for _ in range(depth):
            nxt = []
            for w in frontier:
                for net in sorted(self.consumers().get(w, ()), key=lambda n: str(n.op)):
                    for d in net.dests:
                        if d in seen:
                            continue
                        seen.add(d)
                        if _is_named(d):
                            found.append(d.name)
                        else:
                            nxt.append(d)
            if found:
                return sorted(found)[:limit]
            frontier = nxt
        return found


def _describe(nl: Netlist, wire, depth: int, indent: str, out: list) -> None:
    net = nl.src.get(wire)
    where = nl.where.get(wire.name, "")
    if isinstance(wire, Const):
        out.append(f"{indent}{wire.val} ({wire.bitwidth} bits)")
        return
    if net is None or net.op == "r" or depth == 0:
        kind = "register" if net is not None and net.op == "r" else "..."
        out.append(f"{indent}{wire.name}/{wire.bitwidth} [{kind}] {where}")
        return
    param = ""
    if net.op == "s":
        idx = list(net.op_param)
        param = str(idx) if len(idx) <= 8 else f"[{idx[0]}..{idx[-1]}]"
    out.append(f"{indent}{wire.name}/{wire.bitwidth} = {net.op}{param} {where}")
    args = list(net.args)
    while args:
        a, n = args[0], 1
        while n < len(args) and args[n] is a:
            n += 1
        if n > 1:
            out.append(f"{indent}  {n} x {a.name}/{a.bitwidth}:")
        _describe(nl, a, depth - 1, indent + "  ", out)
        args = args[n:]


def explain(nl: Netlist, mutant: Mutant, depth: int = 3) -> str:
    """The mutated net's input cone (``depth`` levels), the replacement's, and the
    nets that read it, with source lines: the material for an equivalence argument."""
    wire = nl.block.wirevector_by_name[mutant.net]
    out = [f"mutant {mutant.id} ({mutant.unit}, {mutant.operator}): {mutant.text}",
           f"source: {mutant.where}", "net:"]
    _describe(nl, wire, depth, "  ", out)
    if mutant.replacement:
        out.append("replacement:")
        _describe(nl, nl.block.wirevector_by_name[mutant.replacement], depth, "  ", out)
    out.append("read by:")
    seen = set()
    for net in nl.consumers().get(wire, ()):
        if id(net) in seen:
            continue
        seen.add(id(net))
        dest = net.dests[0].name if net.dests else f"write port of {net.op_param[1].name}"
        names = list(dict.fromkeys(a.name for a in net.args))
        out.append(f"  {dest} = {net.op}({', '.join(names[:6])}"
                   f"{', ...' if len(names) > 6 else ''}) {nl.where.get(dest, '')}")
    feeds = nl.feeds(wire, limit=4)
    if feeds:
        out.append(f"nearest named wires downstream: {', '.join(feeds)}")
    return "\n".join(out)


def _is_named(w: pyrtl.WireVector) -> bool:
    return not w.name.startswith(("tmp", "const_", "mutant_"))


def _observable(block: pyrtl.Block, src: dict) -> set:
    """Nets some Output depends on, through registers and memories."""
    writes: dict = {}
    for net in block.logic_subset("@"):
        writes.setdefault(net.op_param[1], []).append(net)
    live: set = set()
    stack = [src[o] for o in block.wirevector_subset(Output) if o in src]
    while stack:
        net = stack.pop()
        if net in live:
            continue
        live.add(net)
        if net.op == "m":
            stack.extend(writes.get(net.op_param[1], ()))
        stack.extend(src[a] for a in net.args if a in src)
    return live


def analyse(cfg: SocConfig) -> Netlist:
    """Elaborate the SoC with every core net attributed to its unit."""
    claims: dict = {}
    where: dict = {}
    with _recording_units(claims), _locating_wires(where):
        block = fresh_block(cfg)
    return Netlist(cfg, block, claims, where)


# --------------------------------------------------------------------------- editing


@dataclass
class Edit:
    """An applied mutant, so that it can be undone."""

    removed: pyrtl.LogicNet
    added: list
    wires: list


def _net_named(block: pyrtl.Block, name: str) -> pyrtl.LogicNet:
    wire = block.wirevector_by_name.get(name)
    if wire is not None:
        for net in block.logic:
            if any(d is wire for d in net.dests):
                return net
    raise MutateError(f"mutant does not fit this design: no net drives wire '{name}'")


def apply_mutant(block: pyrtl.Block, mutant: Mutant) -> Edit:
    """Change ``block`` in place as ``mutant`` says; return the edit (for ``undo``)."""
    net = _net_named(block, mutant.net)
    if net.op != mutant.op:
        raise MutateError(f"mutant {mutant.id} does not fit this design: net "
                          f"'{mutant.net}' is op '{net.op}', not '{mutant.op}'")
    if mutant.operator not in OPERATORS or net.op not in OPERATORS[mutant.operator].ops:
        raise MutateError(f"mutant {mutant.id}: operator '{mutant.operator}' does not "
                          f"apply to op '{net.op}'")
    dest = net.dests[0]
    added, wires = [], []
    if mutant.operator == "operand":
        new = block.wirevector_by_name.get(mutant.replacement)
        if new is None or not 0 <= mutant.arg < len(net.args):
            raise MutateError(f"mutant {mutant.id} does not fit this design: no wire "
                              f"'{mutant.replacement}' or argument {mutant.arg}")
        if new.bitwidth != net.args[mutant.arg].bitwidth:
            raise MutateError(f"mutant {mutant.id}: '{mutant.replacement}' is "
                              f"{new.bitwidth} bits, the argument "
                              f"{net.args[mutant.arg].bitwidth}")
        args = tuple(new if i == mutant.arg else a for i, a in enumerate(net.args))
        added.append(pyrtl.LogicNet(net.op, net.op_param, args, net.dests))
    elif mutant.operator == "mux-swap":
        sel, low, high = net.args
        added.append(pyrtl.LogicNet("x", None, (sel, high, low), net.dests))
    elif mutant.operator == "and-or":
        added.append(pyrtl.LogicNet("|" if net.op == "&" else "&", None, net.args,
                                    net.dests))
    else:  # lt-ge, eq-invert: the comparison into a new wire, then inverted
        inner = pyrtl.WireVector(dest.bitwidth, name=f"mutant_{dest.name}", block=block)
        wires.append(inner)
        added.append(pyrtl.LogicNet(net.op, net.op_param, net.args, (inner,)))
        added.append(pyrtl.LogicNet("~", None, (inner,), net.dests))
    block.logic.remove(net)
    for n in added:
        block.add_net(n)
    return Edit(net, added, wires)


def undo(block: pyrtl.Block, edit: Edit) -> None:
    """Return ``block`` to its state before ``apply_mutant``."""
    for n in edit.added:
        block.logic.remove(n)
    for w in edit.wires:
        block.remove_wirevector(w)
    block.logic.add(edit.removed)


def checked_apply(block: pyrtl.Block, mutant: Mutant) -> Edit:
    """``apply_mutant``, then PyRTL's sanity check and loop finder; a mutant that
    fails them is undone and raises MutateError."""
    edit = apply_mutant(block, mutant)
    try:
        block.sanity_check()
        loop = pyrtl.find_loop(block)
    except pyrtl.PyrtlError as exc:
        undo(block, edit)
        raise MutateError(f"mutant {mutant.id} ({mutant.key()}) breaks the netlist: "
                          f"{str(exc).splitlines()[0]}") from None
    if loop is not None:
        undo(block, edit)
        raise MutateError(f"mutant {mutant.id} ({mutant.key()}) closes a combinational loop")
    return edit


def mutant_block(cfg: SocConfig, mutant: Mutant) -> pyrtl.Block:
    """A fresh SoC with ``mutant`` applied, checked for sanity and combinational loops."""
    block = fresh_block(cfg)
    checked_apply(block, mutant)
    return block


def _depends_on(src: dict, start: pyrtl.WireVector, target: pyrtl.WireVector) -> bool:
    """``start`` depends combinationally on ``target`` (registers cut the path)."""
    seen, stack = set(), [start]
    while stack:
        w = stack.pop()
        if w is target:
            return True
        if w in seen:
            continue
        seen.add(w)
        net = src.get(w)
        if net is not None and net.op != "r":
            stack.extend(net.args)
    return False


# --------------------------------------------------------------------------- equivalence


def _mask(width: int) -> int:
    return (1 << width) - 1


def _fold(op: str, param, vals: list[int], widths: list[int], dw: int) -> int:
    """The value of a net whose arguments are all constants."""
    if op == "w":
        v = vals[0]
    elif op == "~":
        v = ~vals[0]
    elif op in "&|^n":
        a, b = vals
        v = {"&": a & b, "|": a | b, "^": a ^ b, "n": ~(a & b)}[op]
    elif op in "+-*":
        a, b = vals
        v = {"+": a + b, "-": a - b, "*": a * b}[op]
    elif op in "=<>":
        a, b = vals
        v = int({"=": a == b, "<": a < b, ">": a > b}[op])
    elif op == "x":
        v = vals[2] if vals[0] else vals[1]
    elif op == "c":
        v = 0
        for val, w in zip(vals, widths):
            v = (v << w) | val
    elif op == "s":
        v = sum(((vals[0] >> i) & 1) << k for k, i in enumerate(param))
    else:
        raise MutateError(f"cannot fold op '{op}'")
    return v & _mask(dw)


class Numbering:
    """Value numbering with constant folding: two wires with the same number carry the
    same value in every cycle, whatever the registers and memories hold. Numbers are
    shared by every block numbered with one instance, so they can be compared.

    Bit-rearranging nets (concat, bit select, ``&``/``|`` with a constant, and the bits
    a mux passes through unchanged) are also tracked bit by bit: each bit is an atom
    ``(number, index)`` or ``("K", bit)``, so e.g. bit 31 of ``{insn[31:12], 12'b0}``
    and bit 31 of ``insn & 0xFFFFFFFF`` get the same number."""

    def __init__(self):
        self._table: dict = {}
        self._keys: list = []
        self._widths: list[int] = []
        self._bits: dict[int, tuple] = {}

    def _intern(self, key, width: int) -> int:
        n = self._table.get(key)
        if n is None:
            n = self._table[key] = len(self._keys)
            self._keys.append(key)
            self._widths.append(width)
        return n

    def const(self, width: int, value: int) -> int:
        return self._intern(("K", width, value & _mask(width)), width)

    def _const_value(self, n: int) -> int | None:
        key = self._keys[n]
        return key[2] if key[0] == "K" else None

    def bits(self, n: int) -> tuple:
        """The atoms of number ``n``, least significant bit first."""
        if n in self._bits:
            return self._bits[n]
        value = self._const_value(n)
        if value is not None:
            return tuple(("K", value >> i & 1) for i in range(self._widths[n]))
        return tuple((n, i) for i in range(self._widths[n]))

    def _from_bits(self, atoms: tuple) -> int:
        """The number of a value given by its atoms (a plain number when they are
        exactly one number's bits in order, a constant when all are constant)."""
        if all(a[0] == "K" for a in atoms):
            return self.const(len(atoms), sum(b << i for i, (_, b) in enumerate(atoms)))
        first = atoms[0][0]
        if (first != "K" and self._widths[first] == len(atoms)
                and atoms == tuple((first, i) for i in range(len(atoms)))):
            return first
        n = self._intern(("B", atoms), len(atoms))
        self._bits[n] = atoms
        return n

    def _rearranged(self, op, param, args, vals) -> tuple | None:
        """The atoms of a bit-rearranging net, or None."""
        if op == "c":
            return tuple(a for n in reversed(args) for a in self.bits(n))
        if op == "s":
            src = self.bits(args[0])
            return tuple(src[i] for i in param)
        if op in "&|" and (vals[0] is None) != (vals[1] is None):
            k, other = (vals[0], args[1]) if vals[0] is not None else (vals[1], args[0])
            keep = 1 if op == "&" else 0
            return tuple(a if k >> i & 1 == keep else ("K", 1 - keep)
                         for i, a in enumerate(self.bits(other)))
        return None

    def _net(self, net: pyrtl.LogicNet, args: list[int]) -> int:
        op, dw = net.op, net.dests[0].bitwidth
        widths = [a.bitwidth for a in net.args]
        if op == "m":
            return self._intern(("M", net.op_param[1].name, dw, args[0]), dw)
        vals = [self._const_value(a) for a in args]
        if all(v is not None for v in vals):
            return self.const(dw, _fold(op, net.op_param, vals, widths, dw))
        simple = self._simplify(op, net.op_param, args, vals, widths, dw)
        if simple is not None:
            return simple
        atoms = self._rearranged(op, net.op_param, args, vals)
        if atoms is not None and len(atoms) == dw:
            return self._from_bits(atoms)
        if op == ">":
            op, args = "<", [args[1], args[0]]
        elif op in COMMUTATIVE:
            args = sorted(args)
        n = self._intern((op, net.op_param, dw, *args), dw)
        if op == "x" and n not in self._bits:
            low, high = self.bits(args[1]), self.bits(args[2])
            self._bits[n] = tuple(lo if lo == hi else (n, i)
                                  for i, (lo, hi) in enumerate(zip(low, high)))
        return n

    def _simplify(self, op, param, args, vals, widths, dw) -> int | None:
        """Sound identities: wires, constant selects, x&x, x|0, ~~x, whole slices..."""
        if op == "w" or (op == "c" and len(args) == 1):
            return args[0]
        if op == "x":
            sel, low, high = args
            if vals[0] is not None:
                return high if vals[0] else low
            return low if low == high else None
        if op == "s" and tuple(param) == tuple(range(widths[0])):
            return args[0]
        if op == "~":
            key = self._keys[args[0]]
            return key[3] if key[0] == "~" else None
        if op in "&|^" and widths[0] == widths[1] == dw:
            a, b = args
            if a == b:
                return self.const(dw, 0) if op == "^" else a
            for x, other in ((vals[0], b), (vals[1], a)):
                if x is None:
                    continue
                if x == 0:
                    return self.const(dw, 0) if op == "&" else other
                if x == _mask(dw) and op != "^":
                    return other if op == "&" else self.const(dw, x)
        return None

    def numbers(self, block: pyrtl.Block) -> tuple[dict, tuple]:
        """Wire -> number for every wire the sinks depend on, and the sinks: the numbers
        of every register's next value, memory write port and Output."""
        src = _sources(block.logic)
        memo: dict = {}

        def number(wire) -> int:
            stack = [wire]
            while stack:
                w = stack[-1]
                if w in memo:
                    stack.pop()
                    continue
                net = src.get(w)
                if isinstance(w, Const):
                    memo[w] = self.const(w.bitwidth, w.val)
                elif isinstance(w, (Input, Register)) or net is None:
                    memo[w] = self._intern(("V", w.name, w.bitwidth), w.bitwidth)
                else:
                    missing = [a for a in net.args if a not in memo]
                    if missing:
                        stack.extend(missing)
                        continue
                    memo[w] = self._net(net, [memo[a] for a in net.args])
                stack.pop()
            return memo[wire]

        sinks = []
        for net in block.logic:
            if net.op == "r":
                sinks.append(("reg", net.dests[0].name, number(net.args[0])))
            elif net.op == "@":
                sinks.append(("mem", net.op_param[1].name, *map(number, net.args)))
        for out in block.wirevector_subset(Output):
            sinks.append(("out", out.name, number(out)))
        return memo, tuple(sorted(sinks))

    def signature(self, block: pyrtl.Block) -> tuple:
        """The sinks of ``numbers``."""
        return self.numbers(block)[1]


def _topological(block: pyrtl.Block, src: dict) -> list:
    """The combinational nets, each after the nets driving its arguments."""
    order, done = [], set()
    for root in block.logic:
        if root.op in "r@" or id(root) in done:
            continue
        stack = [(root, 0)]
        while stack:
            net, i = stack.pop()
            if i == 0 and id(net) in done:
                continue
            if i < len(net.args):
                stack.append((net, i + 1))
                parent = src.get(net.args[i])
                if parent is not None and parent.op not in "r@" and id(parent) not in done:
                    stack.append((parent, 0))
            elif id(net) not in done:
                done.add(id(net))
                order.append(net)
    return order


def _demand_args(net: pyrtl.LogicNet, d: int, demand: dict) -> None:
    """Add to each argument of ``net`` the bits that ``d`` (bits of its result) needs."""
    op, args = net.op, net.args

    def need(wire, bits: int) -> None:
        demand[wire] = demand.get(wire, 0) | (bits & _mask(wire.bitwidth))
    if op in "w~&|^n":
        for a in args:
            need(a, d)
    elif op == "x":
        need(args[0], 1)
        need(args[1], d)
        need(args[2], d)
    elif op == "c":
        offset = 0
        for a in reversed(args):
            need(a, d >> offset)
            offset += a.bitwidth
    elif op == "s":
        need(args[0], sum(1 << i for k, i in enumerate(net.op_param) if d >> k & 1))
    elif op in "+-*":
        for a in args:
            need(a, _mask(d.bit_length()))
    else:  # = < > m: every bit of every argument
        for a in args:
            need(a, _mask(a.bitwidth))


def demanded_bits(block: pyrtl.Block) -> dict:
    """Wire -> mask of the bits that can influence an Output, a memory write or (through
    registers, to a fixed point) either: a bit outside the mask is never observed."""
    src = _sources(block.logic)
    order = _topological(block, src)
    demand: dict = {o: _mask(o.bitwidth) for o in block.wirevector_subset(Output)}
    for net in block.logic_subset("@"):
        for a in net.args:
            demand[a] = _mask(a.bitwidth)
    regs = list(block.logic_subset("r"))
    while True:
        for net in reversed(order):
            d = demand.get(net.dests[0], 0)
            if d:
                _demand_args(net, d, demand)
        grew = False
        for net in regs:
            arg = net.args[0]
            want = demand.get(net.dests[0], 0) & _mask(arg.bitwidth)
            if want & ~demand.get(arg, 0):
                demand[arg] = demand.get(arg, 0) | want
                grew = True
        if not grew:
            return demand


@dataclass
class Baseline:
    """The clean design's value numbers and demanded bits, against which mutants are
    checked for equivalence."""

    numbering: Numbering
    memo: dict
    sinks: tuple
    demand: dict


def baseline(block: pyrtl.Block) -> Baseline:
    numbering = Numbering()
    memo, sinks = numbering.numbers(block)
    return Baseline(numbering, memo, sinks, demanded_bits(block))


def equivalence(block: pyrtl.Block, mutant: Mutant, base: Baseline | None = None) -> str:
    """How ``mutant`` is shown equivalent to the clean ``block`` ("" if it is not):
    ``value numbering`` (every sink keeps its number) or ``demanded bits`` (the mutated
    wire changes only bits no sink can observe). ``block`` is restored."""
    base = base or baseline(block)
    edit = apply_mutant(block, mutant)
    try:
        memo, sinks = base.numbering.numbers(block)
        if sinks == base.sinks:
            return "value numbering"
        wire = edit.removed.dests[0]
        before, after = wire, wire
        if edit.removed.op == "r":  # a register's edit changes its next value
            before, after = edit.removed.args[0], edit.added[0].args[0]
        if before not in base.memo or after not in memo:
            return ""
        old, new = base.numbering.bits(base.memo[before]), base.numbering.bits(memo[after])
        changed = sum(1 << i for i, (a, b) in enumerate(zip(old, new)) if a != b)
        return "demanded bits" if changed & base.demand.get(wire, 0) == 0 else ""
    finally:
        undo(block, edit)


def structurally_equivalent(block: pyrtl.Block, mutant: Mutant,
                            base: Baseline | None = None) -> bool:
    """``equivalence`` says the mutant is equivalent."""
    return bool(equivalence(block, mutant, base))


# --------------------------------------------------------------------------- generation


def _net_text(net: pyrtl.LogicNet, args=None) -> str:
    args = list(net.args if args is None else args)
    parts = []
    while args:
        a, n = args[0], 1
        while n < len(args) and args[n] is a:
            n += 1
        name = str(a.val) if isinstance(a, Const) else a.name
        parts.append(f"{n} x {name}" if n > 1 else name)
        args = args[n:]
    names = ", ".join(parts)
    op = {"x": "mux", "s": "bits", "c": "concat", "w": "wire", "r": "reg"}.get(net.op, net.op)
    return f"{net.dests[0].name} = {op}({names})"


@dataclass
class Generation:
    """The mutants of one run and the candidates that were turned down."""

    mutants: list[Mutant]
    rejected: dict[str, int]  # reason -> count ("loop", "equivalent", "duplicate")
    equivalent: list[tuple[Mutant, str]]  # equivalent candidates and how it was shown
    short: dict[str, int]  # unit -> mutants it could not supply


class _Candidates:
    """The candidate edits of one unit, by operator."""

    def __init__(self, nl: Netlist, unit: str):
        nets = nl.nets(unit)
        self.wires = nl.unit_wires(unit)
        self.by_operator = {name: [n for n in nets if n.op in o.ops]
                            for name, o in OPERATORS.items()}
        self.by_operator = {k: v for k, v in self.by_operator.items() if v}

    def operators(self, kind: str) -> list[str]:
        return [k for k in self.by_operator if OPERATORS[k].kind == kind]


def _quotas(units: tuple[str, ...], count: int) -> dict[str, int]:
    base, extra = divmod(count, len(units))
    return {u: base + (i < extra) for i, u in enumerate(units)}


def _draw(nl: Netlist, cands: _Candidates, unit: str, kind: str,
          rng: random.Random) -> Mutant | None:
    """One random candidate of ``kind`` (None if the draw has no valid replacement)."""
    operator = rng.choice(cands.operators(kind))
    net = rng.choice(cands.by_operator[operator])
    dest = net.dests[0]
    common = dict(id=0, unit=unit, operator=operator, net=dest.name, op=net.op,
                  where=nl.where.get(dest.name, ""))
    feeds = nl.feeds(dest)
    tail = f"  [feeds {', '.join(feeds)}]" if feeds else ""
    if operator == "operand":
        arg = rng.randrange(len(net.args))
        old = net.args[arg]
        pool = [w for w in cands.wires.get(old.bitwidth, ()) if w is not old and w is not dest]
        if not pool:
            return None
        new = rng.choice(pool)
        args = tuple(new if i == arg else a for i, a in enumerate(net.args))
        text = f"{_net_text(net)} -> {_net_text(net, args)}{tail}"
        return Mutant(**common, arg=arg, replacement=new.name, text=text)
    after = {"mux-swap": "data inputs swapped", "lt-ge": "inverted (>=)",
             "and-or": "| instead of &" if net.op == "&" else "& instead of |",
             "eq-invert": "inverted (!=)"}[operator]
    if operator == "lt-ge" and net.op == ">":
        after = "inverted (<=)"
    return Mutant(**common, text=f"{_net_text(net)} -> {after}{tail}")


def generate(cfg: SocConfig, units: tuple[str, ...], count: int, seed: int,
             netlist: Netlist | None = None) -> Generation:
    """``count`` distinct mutants split evenly over ``units`` (a unit that runs out of
    candidates leaves its share to the others), alternating the two classes within a
    unit; deterministic from ``seed`` and the hardware sources."""
    if count < 1:
        raise MutateError(f"--count must be >= 1, not {count}")
    nl = netlist or analyse(cfg)
    gen = _Generator(nl, seed)
    quotas = _quotas(units, count)
    for unit in units:
        while gen.made[unit] < quotas[unit] and gen.next(unit):
            pass
    open_units = [u for u in units if u not in gen.exhausted]
    while len(gen.mutants) < count and open_units:
        for unit in list(open_units):
            if len(gen.mutants) == count:
                break
            if not gen.next(unit):
                open_units.remove(unit)
    short = {u: quotas[u] - gen.made[u] for u in units if gen.made[u] < quotas[u]}
    return Generation(gen.mutants, gen.rejected, gen.equivalent, short)


class _Generator:
    """Draws mutants unit by unit, turning down loops, duplicates and equivalents."""

    def __init__(self, nl: Netlist, seed: int):
        self.nl = nl
        self.base = baseline(nl.block)
        self.rng = random.Random(f"hvsim-mutate-hw:{seed}")
        self.mutants: list[Mutant] = []
        self.rejected = {"loop": 0, "equivalent": 0, "duplicate": 0, "no-replacement": 0}
        self.equivalent: list[Mutant] = []
        self.seen: set[str] = set()
        self.made: dict[str, int] = dict.fromkeys(UNITS, 0)
        self.exhausted: set[str] = set()
        self._cands: dict[str, _Candidates] = {}

    def next(self, unit: str) -> bool:
        """Add one more mutant of ``unit``; False when none can be found."""
        if unit not in self._cands:
            self._cands[unit] = _Candidates(self.nl, unit)
        cands = self._cands[unit]
        kinds = [k for k in KINDS if cands.operators(k)]
        if not kinds or unit in self.exhausted:
            self.exhausted.add(unit)
            return False
        kind = kinds[self.made[unit] % len(kinds)]
        for _ in range(MAX_ATTEMPTS):
            m = _draw(self.nl, cands, unit, kind, self.rng)
            reason = _reject(self.nl, m, self.seen, self.base)
            if reason:
                key = "equivalent" if reason in EQUIVALENCE_METHODS else reason
                self.rejected[key] += 1
                if key == "equivalent":
                    self.equivalent.append((m, reason))
                continue
            self.seen.add(m.key())
            self.mutants.append(Mutant(**{**asdict(m), "id": len(self.mutants)}))
            self.made[unit] += 1
            return True
        self.exhausted.add(unit)
        return False


def _reject(nl: Netlist, m: Mutant | None, seen: set, base: Baseline) -> str:
    """Why candidate ``m`` is turned down ("" if it is kept)."""
    if m is None:
        return "no-replacement"
    if m.key() in seen:
        return "duplicate"
    if m.operator == "operand" and m.op != "r":
        target = nl.block.wirevector_by_name[m.net]
        if _depends_on(nl.src, nl.block.wirevector_by_name[m.replacement], target):
            return "loop"
    how = equivalence(nl.block, m, base)
    if how:
        seen.add(m.key())
    return how
