"""Adversarial guests for the isolation fuzzer (issue 7, item 2; docs/fuzzing.md),
grown from the chaos guests of issue 5 (tests/system/test_hv_chaos.py).

A ``Program`` is a tuple of ``Item``\\ s, each a short piece of RISC-V assembly with its
kind; ``Program.asm()`` renders them as the body ``chaos_main`` of a VS-mode guest over
``guests/common/chaos_rt.S``, whose trap handler skips every exception delegated to the
guest and silences every interrupt, so the program goes on after its faults (an ecall
from VU-mode and a fetch fault return to VS-mode, every other trap to the mode it came
from). ``programs(targets)`` is the Hypothesis strategy; its lists shrink item by item
to short reproducers, whose size ``program_length`` counts in instructions.

The item kinds (``KINDS``), first those of the issue-5 chaos guests:
``load``, ``store``, ``amo`` (AMOs, LR/SC) of every width in and around the guest's RAM,
in the virtual UART page and far away; ``csr`` (VS-visible, HS- and M-only, any number);
``sbi-call``, ``sbi-random``, ``sbi-pointer``, ``sbi-end`` (SBI v2.0 calls with random
and boundary arguments); ``simple`` (fences, ebreak, yield); ``wfi``; ``timer``
(stimecmp); ``sret`` (into VS or VU); ``satp`` (identity, bare, random, a root table at
a target); ``priv`` (mret, HFENCE, HLV/HLVX/HSV); ``raw`` words; ``jump``; ``stvec``;
``loop``. Then those aimed at the others, given as ``Targets`` (the host-physical
ranges of the hypervisor, the other partitions and the devices):
``target`` (accesses at their edges base-8, base, end-8, end and inside them, as
guest-physical or, under the identity Sv39 table, guest-virtual addresses); ``wide``
(anywhere in the Sv39x4 guest-physical space, below and just above 2^41, and at
non-canonical virtual addresses); ``vmap`` (maps a 4 KiB, 2 MiB or 1 GiB guest-virtual
page of the runtime's VS tables onto such an address with random permissions, then
accesses it through both stages); ``vpte`` (a random PTE anywhere in those tables);
``fetch`` (jumps there); ``vu`` (sret into VU-mode, accesses and ecalls there, back to
VS); ``sbi-edge`` (SBI pointer/length pairs across partition edges).

The runtime's VS tables (``chaos_pt`` root, ``chaos_pt1``, ``chaos_pt0``): the root maps
guest-physical 0..4 GiB one to one (1 GiB leaves, RWX, no U) and, at ``ALIAS_SLOT``, the
guest's RAM gigabyte again with U set, the VU alias of its code (a VU-mode program
runs there under Sv39; ``ALIAS_OFFSET`` apart). Items never rewrite those two root
entries (``RESERVED_SLOTS``), so code stays reachable.

``irq_schedules()`` draws the events of the harness-driven PLIC lines
(``hardware.sim.machine.Machine.set_irq_lines``), ``cases()`` a program with its
schedule, and ``build_adversary`` assembles a program with the runtime into an ELF
linked at guest-physical 0x8000_0000.

Facts from the RISC-V Privileged ISA ("Sv39", "Hypervisor Extension": two-stage
translation, Sv39x4, HLV/HSV, virtual-instruction exceptions) and the SBI v2.0
specification; numbers from the tables: CSR addresses ``hardware.isa.csrs``, encodings
``hardware.isa.instructions``, PTE bits ``hardware.mmu.sv39``, the guest memory map
``hypervisor.config``, the host one ``hardware.soc.memory_map``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from hypothesis import strategies as st

from hardware.isa.csrs import CSRS, IRQ_FIELDS, MSTATUS_FIELDS, SATP_MODES
from hardware.isa.instructions import BY_NAME
from hardware.mmu import sv39
from hypervisor.config import DEFAULT_HV_SIZE, DTB_SLOT, GUEST_RAM_BASE, GUEST_UART_BASE
from tools.isolation.sbi import HVSIM_YIELD, SBI_EXTS

MAX_U64 = (1 << 64) - 1
#: Guest page size; the virtual UART owns one page.
PAGE = 4096
MIB2, GIB = 2 << 20, 1 << 30
#: Guest-physical addresses of Sv39x4 are below this (41 bits).
GPA_LIMIT = 1 << 41
#: SRST reason of a guest that found its vCPU not in the reset state at entry
#: (``| CSR number``; the vendor range of SBI "System Reset"), CHAOS_DIRTY of chaos_rt.S.
DIRTY_REASON = 0xF0C5_0000
#: Root slot of the VU alias of the guest's RAM gigabyte, and the distance of the alias
#: from the code (CHAOS_ALIAS of chaos_rt.S: one bit, which the runtime clears).
ALIAS_SLOT = 6
ALIAS_OFFSET = (ALIAS_SLOT - (GUEST_RAM_BASE >> 30)) << 30
#: Root slots no item rewrites: the code's gigabyte and its VU alias.
RESERVED_SLOTS = (GUEST_RAM_BASE >> 30, ALIAS_SLOT)
#: Root slots ``vmap`` maps through (low, and high canonical from 256 on).
WINDOW_SLOTS = (0, 1, 3, 5, 255, 256, 300, 511)
#: Default RAM of the adversary (bytes).
DEFAULT_OWN_RAM = 128 << 10
#: Bytes of the guest's scratch buffer ``chaos_scratch`` (4 KiB aligned).
SCRATCH = 8192
#: The runtime every adversarial guest is linked with.
RUNTIME = Path(__file__).resolve().parents[2] / "guests" / "common" / "chaos_rt.S"
#: An extension id no one implements (the ecall that takes VU back to VS).
NO_EXT = 0x0A11_0000
#: Harness irq lines of the default SoC (``SocConfig.harness_irq_lines``).
DEFAULT_IRQ_LINES = 4
#: Cycle offsets of irq events are below this.
IRQ_HORIZON = 2_000_000

u64 = st.integers(0, MAX_U64)


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Range:
    """A host-physical range [base, base + size) of interest, with its name."""

    name: str
    base: int
    size: int

    @property
    def end(self) -> int:
        return self.base + self.size

    def edges(self) -> tuple[int, ...]:
        """The addresses at its edges: base-8, base, end-8, end."""
        return (self.base - 8, self.base, self.end - 8, self.end)


@dataclass(frozen=True)
class Targets:
    """What the adversary aims at: the hypervisor's and the other partitions'
    host-physical ranges (used as guest-physical and guest-virtual addresses), the
    devices', and the size of its own RAM (guest-physical ``GUEST_RAM_BASE`` on)."""

    hypervisor: Range
    partitions: tuple[Range, ...]
    devices: tuple[Range, ...] = ()
    own_ram: int = DEFAULT_OWN_RAM

    @classmethod
    def default(cls, own_ram: int = DEFAULT_OWN_RAM) -> Targets:
        """The default SoC: the hypervisor in the first 2 MiB of RAM, two 2 MiB
        partitions after it (where the first automatically placed VMs go), the RAM and
        the devices of ``hardware.soc.memory_map``."""
        from hardware.config import variant

        soc = _soc_ranges(variant("default"))
        ram = next(r for r in soc if r.name == "ram")
        hv = Range("hypervisor", ram.base, DEFAULT_HV_SIZE)
        parts = tuple(Range(f"vm{i}", hv.end + i * MIB2, MIB2) for i in range(2))
        return cls(hv, parts, soc, own_ram)

    @classmethod
    def from_scenario(cls, scenario, adversary: str, cfg) -> Targets:
        """The targets of VM ``adversary`` in ``scenario`` (a loaded
        ``hypervisor.config.Scenario``) on the SoC ``cfg``."""
        own = next((v for v in scenario.vms if v.name == adversary), None)
        if own is None:
            from tools.isolation import IsolationError

            raise IsolationError(f"{scenario.path}: no VM named {adversary!r}")
        hv = Range("hypervisor", scenario.ram_base, scenario.hv_size)
        parts = tuple(Range(v.name, v.base, v.size) for v in scenario.vms
                      if v.name != adversary)
        return cls(hv, parts, _soc_ranges(cfg), own.size)

    @property
    def ranges(self) -> tuple[Range, ...]:
        """The hypervisor and the other partitions."""
        return (self.hypervisor, *self.partitions)

    def edges(self) -> tuple[int, ...]:
        """The edge addresses of every range and device, sorted, without negatives."""
        return tuple(sorted({a for r in (*self.ranges, *self.devices) for a in r.edges()
                             if a >= 0}))

    @property
    def ram_end(self) -> int:
        """First guest-physical address after the adversary's RAM."""
        return GUEST_RAM_BASE + self.own_ram

    def in_image(self, addr: int) -> bool:
        """Whether ``addr`` (guest-physical) is in the adversary's own code and data
        (its RAM below the DTB slot): no generated store or fetch goes there."""
        return GUEST_RAM_BASE <= addr < self.ram_end - DTB_SLOT

    def in_ram(self, addr: int) -> bool:
        """Whether ``addr`` (guest-physical) is in the adversary's RAM."""
        return GUEST_RAM_BASE <= addr < self.ram_end


def _soc_ranges(cfg) -> tuple[Range, ...]:
    from hardware.soc.memory_map import regions

    return tuple(Range(r.name, r.base, r.size) for r in regions(cfg))


# --------------------------------------------------------------------------- programs


class Item(NamedTuple):
    """One step of a program: its kind (a key of ``KINDS``), its assembly lines and a
    short description."""

    kind: str
    asm: str
    note: str = ""


_LABEL = re.compile(r"^[A-Za-z0-9_.$]+:$")


def program_length(program: Program) -> int:
    """The generated instructions of ``program``: every line of its items that is
    neither a label nor an assembler directive (``.word`` counts: it is a raw
    instruction); a pseudo-instruction (``li``, ``la``) counts as one."""
    n = 0
    for item in program.items:
        for line in item.asm.splitlines():
            text = line.split("#")[0].strip()
            if not text or _LABEL.match(text):
                continue
            if text.startswith(".") and not text.startswith(".word"):
                continue
            n += 1
    return n


@dataclass(frozen=True)
class Program:
    """A generated guest body."""

    items: tuple[Item, ...]

    def asm(self) -> str:
        """The whole generated source (``chaos_main`` plus its data): the listing."""
        out = ["/* An adversarial guest body, generated by tools/isolation/gen.py; link",
               " * with guests/common/chaos_rt.S (include paths: guests/common and the",
               " * generated encoding.h/platform.h). */",
               "#include \"encoding.h\"", "#include \"sbi.h\"", "",
               "    .text", "    .globl chaos_main", "chaos_main:"]
        for i, item in enumerate(self.items):
            out.append(f"    /* item {i}: {item.kind}{': ' if item.note else ''}{item.note} */")
            out += [f"    {line}" if not line.endswith(":") else line
                    for line in item.asm.splitlines()]
        out += ["    j chaos_exit", "", *_data_section()]
        return "\n".join(out) + "\n"


def _pte(ppn_addr: int, flags: str) -> int:
    return (ppn_addr >> 12) << 10 | sum(1 << sv39.PTE_BITS[k] for k in flags)


def _data_section() -> list[str]:
    """The VS tables (the root: identity over guest-physical 0..4 GiB and the VU alias;
    two zero tables below it) and the scratch buffer."""
    root = {gib: _pte(gib << 30, "VRWXAD") for gib in range(4)}
    root[ALIAS_SLOT] = _pte(GUEST_RAM_BASE, "VRWXUAD")
    out = ["    .section .data.chaos_pt, \"aw\"", "    .balign 4096"]
    for name, entries in (("chaos_pt", root), ("chaos_pt1", {}), ("chaos_pt0", {})):
        out += [f"    .globl {name}", f"{name}:"]
        out += [f"    .dword {entries.get(i, 0):#x}" for i in range(max(entries, default=-1) + 1)]
        out += [f"    .zero {(512 - max(entries, default=-1) - 1) * 8}"]
    out += ["", "    .section .bss.chaos_scratch, \"aw\", @nobits", "    .balign 4096",
            "    .globl chaos_scratch", "chaos_scratch:", f"    .zero {SCRATCH}"]
    return out


# --------------------------------------------------------------------------- values


def _li(reg: str, value: int) -> str:
    return f"li {reg}, {value & MAX_U64:#x}"


class Value(NamedTuple):
    """A register value: a constant (``li``) or an address expression (``la``)."""

    op: str
    expr: str

    def load(self, reg: str) -> str:
        return f"{self.op} {reg}, {self.expr}"


def const(v: int) -> Value:
    return Value("li", f"{v & MAX_U64:#x}")


def scratch(off: int) -> Value:
    return Value("la", f"chaos_scratch + {off}" if off >= 0 else f"chaos_scratch - {-off}")


CONTINUATION = Value("la", "9f")


def outside(t: Targets) -> tuple[int, ...]:
    """Addresses outside the guest's RAM and UART page, and at their edges."""
    end = t.ram_end
    return (0, 8, 0xFFF, GUEST_RAM_BASE - 8, GUEST_RAM_BASE - 1, end, end + 8, end - 4,
            end + PAGE, GUEST_UART_BASE - 8, GUEST_UART_BASE + PAGE, 0x4000_0000,
            0xC000_0000, 1 << 39, GPA_LIMIT - 8, GPA_LIMIT, 1 << 63, MAX_U64 - 7,
            0x0200_0000, 0x0C00_0000, 0x0010_0000)


def ram_edges(t: Targets) -> tuple[int, ...]:
    """Addresses at the edges of the guest's RAM (inside)."""
    end = t.ram_end
    return (GUEST_RAM_BASE, GUEST_RAM_BASE + 4, end - 8, end - 1, end - DTB_SLOT, end - 16)


def addresses(t: Targets, *, for_store: bool) -> st.SearchStrategy[Value]:
    """Where a load or store of the guest's own layout goes. Stores inside its RAM only
    hit the scratch buffer and the RAM edges (the start code and the DTB), so the
    program survives."""
    uart = st.one_of(st.integers(0, 15), st.integers(0, PAGE - 1)).map(
        lambda off: const(GUEST_UART_BASE + off))
    kinds = [st.integers(-8, SCRATCH + 8).map(scratch), uart,
             st.sampled_from(ram_edges(t)).map(const), st.sampled_from(outside(t)).map(const),
             u64.map(const)]
    if not for_store:
        kinds.append(st.integers(0, t.own_ram - 1).map(lambda o: const(GUEST_RAM_BASE + o)))
    return st.one_of(kinds)


#: Non-canonical Sv39 virtual addresses (bits 63..39 differ from bit 38) at the seams.
NONCANONICAL = (1 << 38, 1 << 39, (1 << 39) | (1 << 38), 0xFFFF_FFBF_FFFF_F000,
                0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_F000, 0x0000_0040_8000_0000)
#: Guest-physical seams of the Sv39x4 space (and just beyond it).
GPA_SEAMS = ((1 << 32) - 8, 1 << 32, (1 << 39) - 8, 1 << 39, 1 << 40, GPA_LIMIT - PAGE,
             GPA_LIMIT - 8, GPA_LIMIT, GPA_LIMIT + PAGE, 1 << 55, (1 << 56) - 8)


@st.composite
def noncanonical(draw) -> int:
    """A virtual address whose bits 63..39 are not all equal to bit 38."""
    low = draw(st.integers(0, (1 << 39) - 1))
    high = draw(st.integers(0, (1 << 25) - 1))
    if high == ((1 << 25) - 1 if low >> 38 else 0):
        high ^= 1 << draw(st.integers(0, 24))
    return high << 39 | low


def _forbidden(t: Targets, use: str) -> tuple[int, int]:
    """The guest-physical interval [lo, hi) addresses for ``use`` avoid: loads none,
    stores the guest's own code and data, fetches its RAM."""
    if use == "store":
        return GUEST_RAM_BASE, t.ram_end - DTB_SLOT
    if use == "fetch":
        return GUEST_RAM_BASE, t.ram_end
    return 0, 0


def _allowed(t: Targets, use: str):
    """The test of addresses for ``use`` (see ``_forbidden``)."""
    lo, hi = _forbidden(t, use)
    return lambda a: not lo <= a < hi


def _words(t: Targets, use: str, base: int, end: int) -> list[st.SearchStrategy[int]]:
    """Strategies of the 8-byte aligned addresses in [base, end) allowed for ``use``."""
    lo, hi = _forbidden(t, use)
    parts = [(base, min(end, lo)), (max(base, hi), end)] if lo < hi else [(base, end)]
    return [st.integers(0, (b - a) // 8 - 1).map(lambda k, a=a: (a + 7) // 8 * 8 + 8 * k)
            for a, b in parts if b - a >= 16]


@functools.lru_cache(maxsize=None)
def target_addresses(t: Targets, use: str = "load") -> st.SearchStrategy[int]:
    """Host-physical addresses of ``t``'s ranges and devices, to be used as guest
    addresses: their edges, and any 8-byte word inside a range."""
    ok = _allowed(t, use)
    edges = [a for a in t.edges() if ok(a)]
    inside = [w for r in t.ranges for w in _words(t, use, r.base, r.end)]
    return st.one_of(*([st.sampled_from(edges)] if edges else []), *inside)


@functools.lru_cache(maxsize=None)
def wide_addresses(t: Targets, use: str = "load",
                   virtual: bool = True) -> st.SearchStrategy[int]:
    """Anywhere in (and just past) the Sv39x4 guest-physical space, and (``virtual``)
    non-canonical virtual addresses."""
    ok = _allowed(t, use)
    gpas = [st.sampled_from([a for a in GPA_SEAMS if ok(a)]),
            *_words(t, use, 0, GPA_LIMIT + PAGE)]
    return st.one_of(*gpas, *((st.sampled_from(NONCANONICAL), noncanonical())
                              if virtual else ()))


def lengths(t: Targets) -> tuple[int, ...]:
    """Lengths and sizes SBI calls get."""
    return (0, 1, 7, 48, 255, 256, 257, PAGE, DTB_SLOT, t.own_ram, t.own_ram + 1, 1 << 32,
            1 << 63, MAX_U64)


@functools.lru_cache(maxsize=None)
def sbi_args(t: Targets) -> st.SearchStrategy[Value]:
    """An SBI argument: small, a length, an address, a mask-like value, anything."""
    return st.one_of(st.integers(0, 8).map(const), st.sampled_from(lengths(t)).map(const),
                     addresses(t, for_store=True),
                     st.sampled_from((0, 1, 0xFFFF_FFFF)).map(const), u64.map(const))


# --------------------------------------------------------------------------- helpers


def _norvc(lines: list[str], norvc: bool) -> list[str]:
    """Keep the assembler from compressing ``lines`` when ``norvc``."""
    return [".option push", ".option norvc", *lines, ".option pop"] if norvc else lines


def _addi(reg: str, n: int) -> list[str]:
    """Add ``n`` (|n| <= 4094) to ``reg`` with 12-bit immediates."""
    half = n // 2
    return [f"addi {reg}, {reg}, {k}" for k in (half, n - half) if k]


def _csr_group(lo: int, hi: int, *, skip: tuple[str, ...] = ()) -> tuple[tuple[str, int], ...]:
    return tuple((r.name, r.addr) for r in CSRS if lo <= r.addr <= hi and r.name not in skip)


#: CSRs a VS-mode guest reaches (S-level, redirected to the VS copies, and the counters).
VS_CSRS = _csr_group(0x100, 0x1FF) + _csr_group(0xC00, 0xCFF)
#: VS-visible CSRs whose writes keep the runtime alive (stvec, satp and stimecmp have
#: their own items).
VS_WRITABLE = _csr_group(0x100, 0x1FF, skip=("stvec", "satp", "stimecmp"))
#: Hypervisor and VS CSRs (virtual-instruction exception from VS) and M-mode CSRs
#: (illegal instruction).
HS_M_CSRS = _csr_group(0x200, 0x2FF) + _csr_group(0x600, 0x6FF) + _csr_group(0x300, 0x3FF) \
    + _csr_group(0xB00, 0xBFF) + _csr_group(0xF00, 0xFFF)
CSR_OPS = ("csrrw", "csrrs", "csrrc")


def csr_num(name: str) -> int:
    return next(addr for n, addr in VS_CSRS + HS_M_CSRS if n == name)


def _bit(fields, name: str) -> int:
    return next(f.mask for f in fields if f.name == name)


SATP, STIMECMP, TIME, SIE = csr_num("satp"), csr_num("stimecmp"), csr_num("time"), csr_num("sie")
SSTATUS, SEPC = csr_num("sstatus"), csr_num("sepc")
SSTATUS_SIE, SSTATUS_SPP = _bit(MSTATUS_FIELDS, "SIE"), _bit(MSTATUS_FIELDS, "SPP")
SIE_SSIE, SIE_STIE = _bit(IRQ_FIELDS, "SSI"), _bit(IRQ_FIELDS, "STI")
SV39_MODE = SATP_MODES["sv39"] << 60
DELTAS = (0, 1, 50, 500, 5_000, 50_000)
#: Latest guest time a timer may be set to, in ticks (20 ms): a VM that waits for a
#: later timer legitimately keeps the run going past its end (its watchdog counts CPU
#: time only), so no value the guest writes to stimecmp or SBI set_timer lies beyond.
TIMER_HORIZON = 200_000
#: Timer deadlines: soon, now, or never (UINT64_MAX: no timer).
timer_values = st.one_of(st.integers(0, TIMER_HORIZON), st.sampled_from((0, 1, MAX_U64)))


def _now_plus(delta: int) -> list[str]:
    """t0 := time + delta (time reads as 0 where it traps, as in VU without
    scounteren.TM)."""
    return ["li t0, 0", f"csrr t0, {TIME:#x}", _li("t1", delta), "add t0, t0, t1"]


def _sbi(ext: int, fid: int, args: list[Value]) -> list[str]:
    regs = [v.load(f"a{i}") for i, v in enumerate(args)]
    return [*regs, _li("a6", fid), _li("a7", ext), "ecall"]


def _satp_root(table: str = "chaos_pt", asid: int = 0) -> list[str]:
    """vsatp := Sv39 over ``table`` with ``asid``."""
    return [f"la t0, {table}", "srli t0, t0, 12", _li("t1", SV39_MODE | asid << 44),
            "or t0, t0, t1", f"csrw {SATP:#x}, t0"]


#: How an access item sets up the first stage: keep vsatp, bare (the address is
#: guest-physical), or the runtime's table (guest-virtual).
SATP_SETUPS = {"keep": [], "bare": [f"csrw {SATP:#x}, zero", "sfence.vma"],
               "sv39": [*_satp_root(), "sfence.vma"]}


def encode(name: str, rd: int = 0, rs1: int = 0, rs2: int = 0) -> int:
    return BY_NAME[name].match | rd << 7 | rs1 << 15 | rs2 << 20


LOADS = ("lb", "lbu", "lh", "lhu", "lw", "lwu", "ld")
STORES = ("sb", "sh", "sw", "sd")
AMOS = ("amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu",
        "amomaxu")
#: (base, data) register pairs: a3/a1 and sp give the compressed forms (C.LW/C.SW,
#: C.LWSP/C.SWSP...), t0/t2 the 32-bit ones.
BASES = ("t0", "a3", "sp")
#: Privileged and hypervisor instructions a VS guest may not run (x5 = t0, x6 = t1).
PRIV_NAMES = ("mret", "hfence.vvma", "hfence.gvma", "hlv.b", "hlv.wu", "hlv.d", "hlvx.hu",
              "hlvx.wu", "hsv.b", "hsv.w", "hsv.d")


@st.composite
def _access(draw, use: str, addr: int) -> list[str]:
    """One access of kind ``use`` (load, store, amo, lr, sc, hlv, fetch) at the
    constant ``addr`` through t0."""
    if use == "fetch":
        return ["la s9, 9f", _li("t0", addr), "jr t0", "9:"]
    lines = [_li("t0", addr)]
    if use == "load":
        return lines + [f"{draw(st.sampled_from(LOADS))} t1, 0(t0)"]
    if use == "store":
        return lines + [_li("t2", draw(u64)), f"{draw(st.sampled_from(STORES))} t2, 0(t0)"]
    if use == "hlv":
        name = draw(st.sampled_from(PRIV_NAMES[3:]))
        word = encode(name, rd=6 if name.startswith("hl") else 0, rs1=5,
                      rs2=6 if name.startswith("hs") else 0)
        return lines + [f".word {word:#010x}"]
    width = draw(st.sampled_from(("w", "d")))
    if use == "amo":
        return lines + [f"{draw(st.sampled_from(AMOS))}.{width} t2, t1, (t0)"]
    return lines + [f"{use}.{width} t2, {'' if use == 'lr' else 't1, '}(t0)"]


#: Access kinds and where their addresses may go (the ``_allowed`` use).
ACCESS_USE = {"load": "load", "lr": "load", "hlv": "load", "store": "store",
              "amo": "store", "sc": "store", "fetch": "fetch"}


# --------------------------------------------------------------------------- own items


@st.composite
def load_item(draw, t: Targets) -> Item:
    op, addr, base = draw(st.sampled_from(LOADS)), draw(addresses(t, for_store=False)), \
        draw(st.sampled_from(BASES))
    rd = draw(st.sampled_from(("t1", "a0", "a2", "zero")))
    offset = draw(st.sampled_from((0, 0, 8, -8, 2047, -2048)))
    lines = [addr.load(base), *_addi(base, -offset), f"{op} {rd}, {offset}({base})"]
    return Item("load", "\n".join(_norvc(lines, draw(st.booleans()))), f"{op} {addr.expr}")


@st.composite
def store_item(draw, t: Targets) -> Item:
    op, addr, base = draw(st.sampled_from(STORES)), draw(addresses(t, for_store=True)), \
        draw(st.sampled_from(BASES))
    rs = draw(st.sampled_from(("t2", "a1", "zero")))
    lines = [addr.load(base), *([_li(rs, draw(u64))] if rs != "zero" else []),
             f"{op} {rs}, 0({base})"]
    return Item("store", "\n".join(_norvc(lines, draw(st.booleans()))), f"{op} {addr.expr}")


@st.composite
def amo_item(draw, t: Targets) -> Item:
    addr = draw(addresses(t, for_store=True))
    width = draw(st.sampled_from(("w", "d")))
    order = draw(st.sampled_from(("", ".aq", ".rl", ".aqrl")))
    form = draw(st.sampled_from(("amo", "lr", "sc", "lrsc")))
    lines = [addr.load("t0"), _li("t1", draw(u64))]
    if form == "amo":
        lines.append(f"{draw(st.sampled_from(AMOS))}.{width}{order} t2, t1, (t0)")
    if form in ("lr", "lrsc"):
        lines.append(f"lr.{width}{order} t2, (t0)")
    if form in ("sc", "lrsc"):
        lines.append(f"sc.{width}{order} t2, t1, (t0)")
    return Item("amo", "\n".join(lines), f"{form}.{width} {addr.expr}")


@st.composite
def csr_item(draw, t: Targets) -> Item:
    write = draw(st.booleans())
    pool = st.sampled_from(VS_WRITABLE if write else VS_CSRS)
    name, num = draw(st.one_of(pool, st.sampled_from(HS_M_CSRS),
                               st.integers(0, 0xFFF).map(lambda n: (f"csr {n:#x}", n))))
    if not write:
        return Item("csr", f"csrr t0, {num:#x}", f"read {name}")
    op = draw(st.sampled_from(CSR_OPS))
    if draw(st.booleans()):
        return Item("csr", f"{op}i t0, {num:#x}, {draw(st.integers(0, 31))}", f"{op}i {name}")
    value = draw(st.one_of(u64, st.sampled_from((0, MAX_U64, 2, 0x20, 0x222)),
                           st.integers(0, 0xFFFF)))
    return Item("csr", f"{_li('t1', value)}\n{op} t0, {num:#x}, t1", f"{op} {name}")


@st.composite
def stvec_item(draw, t: Targets) -> Item:
    """A wild trap vector: the next trap goes anywhere."""
    return Item("stvec", f"{draw(addresses(t, for_store=False)).load('t1')}\n"
                         f"csrw {csr_num('stvec'):#x}, t1")


@st.composite
def satp_item(draw, t: Targets) -> Item:
    """vsatp: the runtime's table, bare, a random value, or a root at a target."""
    kind = draw(st.sampled_from(("identity", "identity", "bare", "random", "sv39-random",
                                 "target-root")))
    fence = ["sfence.vma"] if draw(st.booleans()) else []
    if kind == "identity":
        lines = _satp_root(asid=draw(st.integers(0, 0xFFFF)))[:-1]
    elif kind == "bare":
        lines = ["li t0, 0"]
    elif kind == "random":
        lines = [_li("t0", draw(u64))]
    elif kind == "sv39-random":
        lines = [_li("t0", SV39_MODE | draw(st.integers(0, (1 << 60) - 1)))]
    else:
        root = draw(st.one_of(target_addresses(t), wide_addresses(t)))
        lines = [_li("t0", SV39_MODE | (root >> 12) & ((1 << 44) - 1))]
    return Item("satp", "\n".join([*lines, f"csrw {SATP:#x}, t0", *fence]), kind)


@st.composite
def timer_item(draw, t: Targets) -> Item:
    """A stimecmp write: relative to now, or an absolute deadline."""
    if draw(st.booleans()):
        value = draw(timer_values)
        return Item("timer", f"{_li('t0', value)}\ncsrw {STIMECMP:#x}, t0", f"{value:#x}")
    delta = draw(st.sampled_from(DELTAS))
    return Item("timer", "\n".join([*_now_plus(delta), f"csrw {STIMECMP:#x}, t0"]),
                f"+{delta}")


@st.composite
def wfi_item(draw, t: Targets) -> Item:
    """wfi: bare, with stimecmp or SBI set_timer armed and STIE on, or after a self-IPI."""
    how = draw(st.sampled_from(("bare", "stimecmp", "sbi-timer", "ipi")))
    if how == "bare":
        return Item("wfi", "wfi")
    if how == "ipi":
        lines = _sbi(SBI_EXTS["IPI"], 0, [const(1), const(0)])
        lines += [_li("t1", SIE_SSIE), f"csrs {SIE:#x}, t1", "wfi", f"csrc {SIE:#x}, t1"]
        return Item("wfi", "\n".join(lines), "ipi")
    delta = draw(st.sampled_from(DELTAS))
    lines = _now_plus(delta)
    if how == "stimecmp":
        lines.append(f"csrw {STIMECMP:#x}, t0")
    else:
        lines += ["mv a0, t0", *_sbi(SBI_EXTS["TIME"], 0, [])]
    lines += [_li("t1", SIE_STIE), f"csrs {SIE:#x}, t1", "wfi", f"csrc {SIE:#x}, t1",
              "li t0, -1", f"csrw {STIMECMP:#x}, t0"]
    return Item("wfi", "\n".join(lines), f"{how} +{delta}")


def _sret_lines(spp: bool) -> list[str]:
    """sret to label 9 in VS (SPP = 1) or VU (SPP = 0; at the VU alias of the code when
    vsatp is not bare); s9 := 9f."""
    lines = ["la s9, 9f", "la t0, 9f"]
    if not spp:
        lines += [f"csrr t1, {SATP:#x}", "srli t1, t1, 60", "beqz t1, 8f",
                  _li("t1", ALIAS_OFFSET), "or t0, t0, t1", "8:"]
    return lines + [f"csrw {SEPC:#x}, t0", _li("t1", SSTATUS_SPP),
                    f"{'csrs' if spp else 'csrc'} {SSTATUS:#x}, t1", "sret", "9:"]


@st.composite
def sret_item(draw, t: Targets) -> Item:
    """sret to the next item, in VS or VU."""
    spp = draw(st.booleans())
    return Item("sret", "\n".join(_sret_lines(spp)), f"to {'VS' if spp else 'VU'}")


SIMPLE = {
    "sfence.vma": "sfence.vma", "sfence.vma t0, t1": "sfence.vma t0, t1",
    "fence.i": "fence.i", "fence": "fence", "fence.tso": "fence.tso",
    "ebreak": ".option push\n.option norvc\nebreak\n.option pop", "c.ebreak": "c.ebreak",
    "ecall yield": "\n".join(_sbi(SBI_EXTS["HVSIM"], HVSIM_YIELD, [])),
    "nop": "nop",
}


@st.composite
def simple_item(draw, t: Targets) -> Item:
    name = draw(st.sampled_from(tuple(SIMPLE)))
    return Item("simple", SIMPLE[name], name)


@st.composite
def priv_item(draw, t: Targets) -> Item:
    name = draw(st.sampled_from(PRIV_NAMES))
    addr = draw(st.one_of(addresses(t, for_store=False), target_addresses(t).map(const)))
    word = encode(name, rd=6 if name.startswith("hl") else 0, rs1=5,
                  rs2=6 if name.startswith("hs") else 0)
    return Item("priv", f"{addr.load('t0')}\n.word {word:#010x}", name)


#: Major opcodes of the raw words: every 32-bit one but the control flow (BRANCH,
#: JALR, JAL), which would leave the program.
RAW_OPCODES = tuple(op for op in range(3, 128, 4) if op not in (0x63, 0x67, 0x6F))


@st.composite
def raw_item(draw, t: Targets) -> Item:
    """A random 32-bit instruction word with any opcode but branches and jumps."""
    word = draw(st.integers(0, (1 << 25) - 1)) << 7 | draw(st.sampled_from(RAW_OPCODES))
    return Item("raw", f".word {word:#010x}", f"{word:#010x}")


def wild_targets(t: Targets) -> tuple[int, ...]:
    """Jump targets of the guest's own layout."""
    end = t.ram_end
    return (0, GUEST_UART_BASE, GUEST_UART_BASE + 0x802, end, end - DTB_SLOT,
            GUEST_RAM_BASE - 4, 0x4000_0000, GPA_LIMIT, MAX_U64 - 3)


@st.composite
def jump_item(draw, t: Targets) -> Item:
    """A jump anywhere; a fetch fault the guest sees resumes at the next item (s9)."""
    target = draw(st.one_of(st.sampled_from(wild_targets(t)), u64))
    return Item("jump", f"la s9, 9f\n{_li('t0', target)}\njr t0\n9:", f"{target:#x}")


@st.composite
def loop_item(draw, t: Targets) -> Item:
    """Spin forever (the watchdog ends it), with interrupts on or off."""
    sie = draw(st.booleans())
    return Item("loop", (f"csrsi {SSTATUS:#x}, {SSTATUS_SIE}\n" if sie else "") + "1:\nj 1b",
                "SIE" if sie else "")


@st.composite
def sbi_random_item(draw, t: Targets) -> Item:
    """An SBI call with a random extension (implemented, legacy or unknown), function
    and arguments."""
    ext = draw(st.one_of(st.sampled_from(tuple(SBI_EXTS.values())), st.integers(0, 15),
                         st.integers(0, 0xFFFF_FFFF), u64))
    fid = draw(st.one_of(st.integers(0, 8), u64))
    if ext == 8:
        ext = 9                     # legacy shutdown: the ends of a VM have their own item
    if ext == SBI_EXTS["SRST"] and fid == 0 or ext == SBI_EXTS["HSM"] and fid == 1:
        fid += 16
    args = draw(st.lists(sbi_args(t), min_size=1, max_size=6))
    if ext in (SBI_EXTS["TIME"], 0):
        args[0] = const(draw(timer_values))
    return Item("sbi-random", "\n".join(_sbi(ext, fid, args)), f"{ext:#x}.{fid:#x}")


@st.composite
def sbi_pointer_item(draw, t: Targets) -> Item:
    """The calls that take pointers and lengths: DBCN write/read, HVSIM stats, HSM
    non-retentive suspend (resume at the next item, or anywhere)."""
    which = draw(st.sampled_from(("dbcn write", "dbcn read", "stats", "suspend")))
    ptr, length = draw(sbi_args(t)), draw(sbi_args(t))
    hi = draw(st.sampled_from((const(0), const(0), const(1), const(0xFFFF_FFFF))))
    if which.startswith("dbcn"):
        lines = _sbi(SBI_EXTS["DBCN"], int(which == "dbcn read"), [length, ptr, hi])
    elif which == "stats":
        lines = _sbi(SBI_EXTS["HVSIM"], 3, [ptr, hi, length])
    else:
        resume = draw(st.one_of(st.just(CONTINUATION), addresses(t, for_store=False)))
        kind = draw(st.sampled_from((0x8000_0000, 0, 0x8000_0001, 1, 0x1000_0000)))
        arm = [*_now_plus(draw(st.sampled_from(DELTAS))), f"csrw {STIMECMP:#x}, t0",
               _li("t1", SIE_STIE),
               f"csrs {SIE:#x}, t1"] if draw(st.booleans()) else []
        lines = ["la s9, 9f", *arm,
                 *_sbi(SBI_EXTS["HSM"], 3, [const(kind), resume, draw(sbi_args(t))]), "9:"]
    return Item("sbi-pointer", "\n".join(lines), which)


@st.composite
def sbi_call_item(draw, t: Targets) -> Item:
    """A call of an implemented function with argument values chosen to matter."""
    ext_name = draw(st.sampled_from(("BASE", "TIME", "IPI", "RFENCE", "HSM", "HVSIM",
                                     "legacy")))
    masks = st.sampled_from((0, 1, 2, 3, MAX_U64)).map(const)
    bases = st.sampled_from((0, 1, MAX_U64, 64)).map(const)
    args_s = sbi_args(t)
    if ext_name == "legacy":
        ext, fid = draw(st.sampled_from((0, 1, 2, 3, 4, 5, 6, 7))), 0
        args = [draw(st.one_of(timer_values.map(const), args_s) if ext else
                     timer_values.map(const))]
    elif ext_name in ("IPI", "RFENCE"):
        ext, fid = SBI_EXTS[ext_name], draw(st.integers(0, 7))
        args = [draw(masks), draw(bases), draw(args_s), draw(args_s), draw(args_s)]
    elif ext_name == "BASE":
        ext, fid = SBI_EXTS[ext_name], draw(st.integers(0, 7))
        args = [draw(st.one_of(st.sampled_from(tuple(SBI_EXTS.values())).map(const),
                               args_s))]
    elif ext_name == "TIME":
        ext, fid = SBI_EXTS[ext_name], draw(st.integers(0, 2))
        args = [const(draw(timer_values))]
    elif ext_name == "HSM":
        ext, fid = SBI_EXTS[ext_name], draw(st.sampled_from((0, 2, 4)))
        args = [draw(st.sampled_from((0, 1, MAX_U64)).map(const)), draw(args_s),
                draw(args_s)]
    else:
        ext, fid = SBI_EXTS[ext_name], draw(st.integers(0, 4))
        args = [draw(args_s) for _ in range(3)]
    return Item("sbi-call", "\n".join(_sbi(ext, fid, args)), f"{ext_name} {fid}")


@st.composite
def sbi_end_item(draw, t: Targets) -> Item:
    """A call that may end or reboot the VM: SRST with any type and reason, HSM
    hart_stop, legacy shutdown."""
    which = draw(st.sampled_from(("srst", "srst", "hart_stop", "legacy shutdown")))
    if which == "srst":
        args = [draw(st.sampled_from((0, 1, 2, 3, 0xF000_0000, MAX_U64)).map(const)),
                draw(st.sampled_from((0, 1, 2, 0xE000_0000, 1 << 32)).map(const))]
        lines = _sbi(SBI_EXTS["SRST"], draw(st.sampled_from((0, 0, 1))), args)
    elif which == "hart_stop":
        lines = _sbi(SBI_EXTS["HSM"], 1, [])
    else:
        lines = _sbi(8, 0, [])
    return Item("sbi-end", "\n".join(lines), which)


# --------------------------------------------------------------------------- against others


@st.composite
def target_item(draw, t: Targets) -> Item:
    """An access at a target (an edge or inside), as a guest-physical address (vsatp
    bare), a guest-virtual one (the identity table), or under whatever vsatp holds."""
    use = draw(st.sampled_from(("load", "store", "amo", "lr", "sc", "hlv")))
    addr = draw(target_addresses(t, ACCESS_USE[use]))
    setup = draw(st.sampled_from(tuple(SATP_SETUPS)))
    lines = [*SATP_SETUPS[setup], *draw(_access(use, addr))]
    return Item("target", "\n".join(lines), f"{use} {addr:#x} ({setup})")


@st.composite
def wide_item(draw, t: Targets) -> Item:
    """An access anywhere in the Sv39x4 guest-physical space or at a non-canonical
    virtual address."""
    use = draw(st.sampled_from(("load", "store", "amo", "lr", "fetch")))
    addr = draw(wide_addresses(t, ACCESS_USE[use]))
    setup = draw(st.sampled_from(tuple(SATP_SETUPS)))
    lines = [*SATP_SETUPS[setup], *draw(_access(use, addr))]
    return Item("wide", "\n".join(lines), f"{use} {addr:#x} ({setup})")


@st.composite
def fetch_item(draw, t: Targets) -> Item:
    """A jump to a target, outside the Sv39x4 space or to a non-canonical address."""
    addr = draw(st.one_of(target_addresses(t, "fetch"), wide_addresses(t, "fetch")))
    setup = draw(st.sampled_from(tuple(SATP_SETUPS)))
    lines = [*SATP_SETUPS[setup], *draw(_access("fetch", addr))]
    return Item("fetch", "\n".join(lines), f"{addr:#x} ({setup})")


#: Leaf permission sets of ``vmap``: the usual ones, then odd ones.
LEAF_FLAGS = ("VRWXAD", "VRWAD", "VRAD", "VXAD", "VRWXUAD", "VRUAD", "VRWXD", "VRWXA",
              "VW", "VWX", "V", "RWXAD", "VRWXGAD")
#: PTE bits above the PPN (reserved, PBMT, N): mostly none.
PTE_HIGH = (0, 0, 0, 0, 1 << 54, 1 << 61, 1 << 63)
#: (size, levels of table below the root) of a ``vmap`` leaf.
LEVELS = {"4k": (PAGE, 2), "2m": (MIB2, 1), "1g": (GIB, 0)}


def _sext39(va: int) -> int:
    """Sign-extend a 39-bit virtual address."""
    return va - (1 << 39) & MAX_U64 if va >> 38 & 1 else va


def _store_pte(table: str, index: int, value_lines: list[str]) -> list[str]:
    """table[index] := t0 (computed by ``value_lines``)."""
    return [*value_lines, f"la t1, {table} + {index * 8}", "sd t0, 0(t1)"]


def _pointer_to(table: str) -> list[str]:
    """t0 := a non-leaf PTE pointing at ``table`` (4 KiB aligned)."""
    return [f"la t0, {table}", "srli t0, t0, 2", "ori t0, t0, 1"]


@st.composite
def vmap_item(draw, t: Targets) -> Item:
    """Map a guest-virtual page onto a target guest-physical address in the runtime's
    tables, switch vsatp to them, and access the page: both stages translate."""
    use = draw(st.sampled_from(("load", "store", "amo", "lr", "fetch")))
    gpa = draw(st.one_of(target_addresses(t, ACCESS_USE[use]),
                         wide_addresses(t, ACCESS_USE[use], virtual=False)))
    level = draw(st.sampled_from(("1g", "4k", "4k", "2m")))
    size, depth = LEVELS[level]
    slot = draw(st.sampled_from(WINDOW_SLOTS))
    i1, i0 = draw(st.integers(0, 511)), draw(st.integers(0, 511))
    frame = gpa & ~(size - 1) if draw(st.integers(0, 3)) else gpa & ~(PAGE - 1)
    leaf = _pte(frame, draw(st.sampled_from(LEAF_FLAGS))) | draw(st.sampled_from(PTE_HIGH))
    va = slot << 30 | (i1 << 21 if depth else 0) | (i0 << 12 if depth == 2 else 0)
    gva = _sext39(va | gpa & (size - 1))
    lines = []
    if depth:
        lines += _store_pte("chaos_pt", slot, _pointer_to("chaos_pt1"))
    if depth == 2:
        lines += _store_pte("chaos_pt1", i1, _pointer_to("chaos_pt0"))
    table, index = (("chaos_pt", slot), ("chaos_pt1", i1), ("chaos_pt0", i0))[depth]
    lines += _store_pte(table, index, [_li("t0", leaf)])
    lines += [*_satp_root(asid=draw(st.sampled_from((0, 1, 0xFFFF)))), "sfence.vma"]
    lines += draw(_access(use, gva))
    return Item("vmap", "\n".join(lines), f"{use} {gva:#x} -> {gpa:#x} ({level})")


@st.composite
def vpte_item(draw, t: Targets) -> Item:
    """A random PTE (any value, a pointer to one of the tables, a leaf at a target)
    into any entry of the runtime's tables but the reserved root slots."""
    table = draw(st.sampled_from(("chaos_pt", "chaos_pt1", "chaos_pt0")))
    index = draw(st.integers(0, 511).filter(
        lambda i: table != "chaos_pt" or i not in RESERVED_SLOTS))
    how = draw(st.sampled_from(("random", "pointer", "leaf")))
    if how == "random":
        value = [_li("t0", draw(u64))]
    elif how == "pointer":
        value = _pointer_to(draw(st.sampled_from(("chaos_pt", "chaos_pt1", "chaos_pt0"))))
    else:
        gpa = draw(target_addresses(t))
        value = [_li("t0", _pte(gpa, draw(st.sampled_from(LEAF_FLAGS))))]
    fence = ["sfence.vma"] if draw(st.booleans()) else []
    return Item("vpte", "\n".join([*_store_pte(table, index, value), *fence]),
                f"{table}[{index}] {how}")


#: What a VU block does: its sub-items' kinds.
VU_KINDS = ("load", "store", "amo", "target", "wide", "csr", "sbi-call", "sbi-random",
            "sbi-pointer", "priv", "raw", "wfi", "simple")


@st.composite
def vu_item(draw, t: Targets) -> Item:
    """sret into VU-mode, a few accesses, CSR accesses and ecalls there (each ecall
    takes it back to VS), then an ecall to be back in VS for sure."""
    body = draw(st.lists(items(t, VU_KINDS), min_size=1, max_size=4))
    lines = [*_sret_lines(False), *(line for i in body for line in i.asm.splitlines()),
             "la s9, 9f", _li("a7", NO_EXT), "ecall", "9:"]
    return Item("vu", "\n".join(lines), " ".join(i.kind for i in body))


def _edges_of(t: Targets) -> tuple[int, ...]:
    """Guest-physical edges a pointer may cross: the guest's RAM, its DTB slot, its
    UART page, and the targets'."""
    own = (GUEST_RAM_BASE, t.ram_end, t.ram_end - DTB_SLOT, GUEST_UART_BASE,
           GUEST_UART_BASE + PAGE)
    return tuple(sorted({*own, *(a for r in t.ranges for a in (r.base, r.end))}))


@st.composite
def sbi_edge_item(draw, t: Targets) -> Item:
    """DBCN write/read or HVSIM stats with a buffer that starts ``before`` bytes below a
    partition edge and reaches ``after`` bytes past it. Buffers the hypervisor would
    write never lie inside the guest's own code and data."""
    which = draw(st.sampled_from(("dbcn write", "dbcn read", "stats")))
    edge = draw(st.sampled_from(_edges_of(t)))
    before = draw(st.sampled_from((0, 1, 8, 48, PAGE - 1, PAGE)))
    after = draw(st.sampled_from((0, 1, 8, 47, 48, PAGE)))
    ptr, length = edge - before, before + after
    writes = which != "dbcn write"
    if writes and t.in_ram(ptr) and t.in_ram(ptr + length - 1) and t.in_image(ptr):
        ptr, length = t.ram_end - before, before + after
    if draw(st.integers(0, 3)) == 0:
        length = draw(st.sampled_from((MAX_U64, 1 << 63, (1 << 64) - ptr % (1 << 64))))
    hi = const(draw(st.sampled_from((0, 0, 0, 1))))
    if which == "stats":
        lines = _sbi(SBI_EXTS["HVSIM"], 3, [const(ptr), hi, const(length)])
    else:
        lines = _sbi(SBI_EXTS["DBCN"], int(writes), [const(length), const(ptr), hi])
    return Item("sbi-edge", "\n".join(lines), f"{which} {ptr:#x}+{length:#x}")


# --------------------------------------------------------------------------- programs

#: Item strategy builders by kind, each with its weight (out of the sum). Items shrink
#: towards the first kind, whose smallest item is two choices, so the shrinker can
#: then delete them (it deletes runs of at most a few choices).
KINDS: dict[str, tuple[int, object]] = {
    "simple": (6, simple_item), "load": (8, load_item), "store": (8, store_item),
    "amo": (5, amo_item), "csr": (10, csr_item), "sbi-call": (8, sbi_call_item),
    "sbi-random": (6, sbi_random_item), "sbi-pointer": (6, sbi_pointer_item),
    "wfi": (4, wfi_item), "timer": (3, timer_item),
    "sret": (3, sret_item), "satp": (3, satp_item), "priv": (3, priv_item),
    "raw": (2, raw_item), "jump": (1, jump_item), "stvec": (1, stvec_item),
    "loop": (1, loop_item), "sbi-end": (1, sbi_end_item),
    "target": (8, target_item), "wide": (4, wide_item), "vmap": (8, vmap_item),
    "vpte": (2, vpte_item), "fetch": (2, fetch_item), "vu": (4, vu_item),
    "sbi-edge": (4, sbi_edge_item),
}


@functools.lru_cache(maxsize=None)
def item_strategies(t: Targets) -> dict[str, tuple[int, st.SearchStrategy[Item]]]:
    """Every kind's (weight, strategy) for ``t``."""
    return {kind: (weight, build(t)) for kind, (weight, build) in KINDS.items()}


@functools.lru_cache(maxsize=None)
def items(t: Targets | None = None,
          kinds: tuple[str, ...] | None = None) -> st.SearchStrategy[Item]:
    """One item of ``kinds`` (default: all), drawn by weight (a branch per unit of
    weight: ``one_of`` shrinks far better than ``flatmap``)."""
    table = item_strategies(t or default_targets())
    return st.one_of([table[k][1] for k in kinds or tuple(table) for _ in range(table[k][0])])


@functools.lru_cache(maxsize=None)
def default_targets() -> Targets:
    """``Targets.default()``, made once."""
    return Targets.default()


def programs(targets: Targets | None = None, min_items: int = 1, max_items: int = 60,
             kinds: tuple[str, ...] | None = None) -> st.SearchStrategy[Program]:
    """Programs of ``min_items``..``max_items`` items of ``kinds`` (default: all)
    against ``targets`` (default: ``Targets.default()``)."""
    return st.lists(items(targets, kinds), min_size=min_items, max_size=max_items).map(
        lambda xs: Program(tuple(xs)))


# --------------------------------------------------------------------------- irq storms

#: Gaps between irq events (cycles): storms, a tick apart, far apart.
IRQ_GAPS = (1, 2, 7, 64, 1_000, 10_000, 100_000)


def _normalise(events: list[tuple[int, int]], horizon: int) -> tuple[tuple[int, int], ...]:
    """Gaps to offsets; drop events past ``horizon`` and those that change nothing."""
    out, at, level = [], 0, 0
    for gap, mask in events:
        at += gap
        if at >= horizon:
            break
        if mask != level:
            out.append((at, mask))
            level = mask
    return tuple(out)


def irq_schedules(lines: int = DEFAULT_IRQ_LINES, horizon: int = IRQ_HORIZON,
                  max_events: int = 16) -> st.SearchStrategy[tuple[tuple[int, int], ...]]:
    """Schedules of the harness irq lines: ``(offset, mask)`` events, ``offset`` in
    cycles from the start of the case (strictly increasing, below ``horizon``),
    ``mask`` the new level of the lines (bit i: line i, < 2^lines; each differs from
    the level before, which starts at 0). Shrinks to no events."""
    if lines <= 0:
        return st.just(())
    gap = st.one_of(st.sampled_from(IRQ_GAPS), st.integers(1, horizon))
    mask = st.one_of(st.sampled_from((0, (1 << lines) - 1)), st.integers(0, (1 << lines) - 1))
    return st.lists(st.tuples(gap, mask), max_size=max_events).map(
        lambda ev: _normalise(ev, horizon))


@dataclass(frozen=True)
class AdversaryCase:
    """A program and the harness irq-line events that go with it."""

    program: Program
    irqs: tuple[tuple[int, int], ...] = ()


def cases(targets: Targets | None = None, lines: int = DEFAULT_IRQ_LINES,
          max_items: int = 60) -> st.SearchStrategy[AdversaryCase]:
    """A program against ``targets`` with an irq schedule over ``lines`` lines."""
    return st.builds(AdversaryCase, program=programs(targets, max_items=max_items),
                     irqs=irq_schedules(lines))


# --------------------------------------------------------------------------- seeds


def _seed(name: str, *lines: str) -> AdversaryCase:
    return AdversaryCase(Program((Item("seed", "\n".join(lines), name),)))


#: Pages the TLB-sweep seed loads from: more than the default TLB's 16 entries
#: (hardware/config.py), within the rig adversary's 128 KiB of RAM.
SWEEP_PAGES = 24
#: The seed corpus (with ``seeds``' buffer-edge seed): each guest-visible hypervisor
#: interface used once, with the edge arguments its specification names, run before a
#: campaign's first search and before the ci stage's derandomized cases (a fuzzer's
#: seeds; random programs reach these calls too, rarely). Console input is the
#: victim's; "all harts" (hart_mask_base -1, SBI spec v2.0 section 3.2) of a one-hart
#: VM is the caller; a DBCN buffer may be longer than one call moves (SBI spec v2.0
#: section 12).
SEEDS: tuple[AdversaryCase, ...] = (
    _seed("console reads: virtual UART LSR and RBR, SBI getchar, DBCN read",
          _li("t0", GUEST_UART_BASE), "lbu t1, 5(t0)", "lbu t1, 0(t0)",
          *_sbi(2, 0, []), *_sbi(SBI_EXTS["DBCN"], 1, [const(64), scratch(0), const(0)])),
    _seed("IPI to all harts and to hart 0 (SSIE off)",
          *_sbi(SBI_EXTS["IPI"], 0, [const(0), const(-1)]),
          *_sbi(SBI_EXTS["IPI"], 0, [const(1), const(0)])),
    _seed("DBCN write of one page of its RAM",
          *_sbi(SBI_EXTS["DBCN"], 0, [const(PAGE), scratch(0), const(0)])),
    _seed(f"a TLB sweep: one load from each of {SWEEP_PAGES} pages of its RAM",
          _li("t0", GUEST_RAM_BASE), _li("t1", SWEEP_PAGES), "1:", "ld t2, 0(t0)",
          _li("t3", PAGE), "add t0, t0, t3", "addi t1, t1, -1", "bnez t1, 1b"),
    _seed("remote fences of every hart and range",
          *_sbi(SBI_EXTS["RFENCE"], 0, [const(0), const(-1)]),
          *_sbi(SBI_EXTS["RFENCE"], 1, [const(0), const(-1), const(0), const(-1)])),
)


def seeds(t: Targets) -> tuple[AdversaryCase, ...]:
    """``SEEDS``, then the buffer-edge seed of ``t``'s RAM: the SBI calls that take a
    buffer (DBCN write, HVSIM stats), once with a buffer that ends at the last byte of
    the RAM (accepted) and once with one that ends a byte past it (refused with
    INVALID_PARAM, SBI spec v2.0 sections 3 and 12)."""
    end, stats = t.ram_end, 48
    edge = _seed("SBI buffers ending at the last byte of its RAM, then one byte past it",
                 *_sbi(SBI_EXTS["DBCN"], 0, [const(16), const(end - 16), const(0)]),
                 *_sbi(SBI_EXTS["DBCN"], 0, [const(17), const(end - 16), const(0)]),
                 *_sbi(SBI_EXTS["HVSIM"], 3, [const(end - stats), const(0), const(stats)]),
                 *_sbi(SBI_EXTS["HVSIM"], 3, [const(end - stats + 1), const(0), const(stats)]))
    return (*SEEDS, edge)


# --------------------------------------------------------------------------- build


def build_source(source: Path, out: Path) -> Path:
    """Assemble ``source`` (a generated body) with the runtime into the ELF ``out``."""
    from guests.build import COMMON_DIR, MARCH, OUT_DIR, linker_script
    from tools.linker import write_if_changed
    from tools.toolchain import build_elf

    include = _headers(OUT_DIR / "include")
    script = write_if_changed(OUT_DIR / "chaos-link.ld", linker_script())
    return build_elf([RUNTIME, Path(source)], Path(out), linker_script=script,
                     include_dirs=[COMMON_DIR, include], opt="-O2", march=MARCH,
                     defines={"CHAOS_DIRTY": f"{DIRTY_REASON:#x}",
                              "CHAOS_ALIAS": f"{ALIAS_OFFSET:#x}"})


@functools.lru_cache(maxsize=None)
def _headers(include: Path) -> Path:
    """Write the generated headers once per process."""
    from hardware.config import variant
    from hardware.isa.cheaders import write_headers

    write_headers(variant("default"), include)
    return include


def build_adversary(program: Program, out_dir: Path, *, stem: str = "adversary") -> Path:
    """Write ``out_dir/<stem>.S`` (the listing) and build ``out_dir/<stem>.elf``, linked
    at guest-physical 0x8000_0000; return the ELF's path (ToolchainError on failure)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / f"{stem}.S"
    text = program.asm()
    if not source.is_file() or source.read_text() != text:
        source.write_text(text)
    return build_source(source, out_dir / f"{stem}.elf")
