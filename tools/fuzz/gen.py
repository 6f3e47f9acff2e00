"""Random RV64IMAC + Zicsr + Zifencei programs for differential CPU fuzzing (issue 3,
part 3; docs/fuzzing-cpu.md).

Sources: RISC-V unprivileged spec 20191213 (instruction formats, chapters 2, 5, 7, 8, 9,
16) and privileged spec 1.12 (3.1.6 mstatus, 3.1.8 delegation, 3.1.9 interrupts,
3.3.2 MRET/SRET, 3.7 PMP, Sstc); ``hardware/isa/instructions.py`` and
``hardware/isa/csrs.py`` are the tables every instruction and CSR comes from.

A ``Program`` is a list of *items* ``(kind code, seed)`` plus the initial contents of
the data region and the registers. Realising the items in order gives the body: each
item becomes a few instructions (an instruction row of the table with its operand
set-up, a CSR access, a mode switch, a PMP or delegation change, an interrupt scenario,
a deliberate exception, ...). The realisation tracks the privilege mode and the few
status bits the runtime's invariants depend on, so items fit the mode they run in.
``programs(cfg)`` is the Hypothesis strategy; Hypothesis shrinks the item list.

The body runs inside ``runtime.S`` (prologue, trap handlers, exit). The exit hashes the
registers, the data region, the trap records and the CSRs into the HTIF exit code, so a
program's exit code is a signature of its architectural outcome.

``Program.build`` assembles the program with the toolchain (``tools/toolchain.py``);
``Program.image``/``write_elf`` patch the body and data into a template ELF built once
per configuration (the layout is fixed, so both give identical bytes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import struct
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from hypothesis import strategies as st

from hardware.config import DEFAULT, CoreConfig, SocConfig
from hardware.isa.csrs import Csr, csr_table
from hardware.isa.disasm import disassemble
from hardware.isa.instructions import (BY_NAME, FORMAT_IMM, IMMEDIATES, INSTRUCTIONS,
                                       ImmLayout, Instruction, lookup, reserved)
from hardware.sim.elf import ElfImage, load_elf
from hardware.soc.memory_map import region
from tools.fuzz import FuzzError
from tools.fuzz import paging as pg
from tools.linker import write_linker_script
from tools.toolchain import BUILD_DIR, build_elf, platform_defines

# --------------------------------------------------------------------------- constants

RUNTIME = Path(__file__).resolve().with_name("runtime.S")
#: Bytes of the data region the body loads from and stores to.
DATA_SIZE = 512
#: gp = data region + GP_OFFSET, so 12-bit offsets from gp reach the whole region.
GP_OFFSET = 256
#: Fetch stubs (``jalr x0, 0(ra)``, 8 bytes apart) after the data region.
STUBS = 4
#: Bytes reserved for the body (it is padded to this size).
BODY_CAPACITY = 32 * 1024
#: Pages of the runtime's page-table pool and extra data pages (paging programs).
PT_PAGES = 12
VPAGES = 2
#: Pages of the runtime's G-stage page pool (hypervisor programs; 16 KiB aligned root).
GPT_PAGES = 16
#: a7 values of the runtime's ecall services.
MAGIC_UP = -1957
MAGIC_CLR = -1958

ZERO, RA, SP, GP, A7 = 0, 1, 2, 3, 17
XLEN_MASK = (1 << 64) - 1
PRV_U, PRV_S, PRV_M = 0, 1, 3

MSTATUS_SIE, MSTATUS_MIE, MSTATUS_MPIE = 1 << 1, 1 << 3, 1 << 7
MSTATUS_SPP, MSTATUS_MPP, MSTATUS_MPRV, MSTATUS_TSR = 1 << 8, 3 << 11, 1 << 17, 1 << 22
MSTATUS_SUM, MSTATUS_MXR, MSTATUS_TVM = 1 << 18, 1 << 19, 1 << 20
MENVCFG_STCE = 1 << 63
#: Exception causes no generated program can raise: misaligned fetch (0; targets are
#: 2-byte aligned with C, and the generator makes no misaligned jumps). The page faults
#: (12, 13, 15) need a paging program (``Program.vm``).
UNREACHABLE_CAUSES = frozenset({0})
PAGE_FAULTS = frozenset({12, 13, 15})
#: medeleg bits the runtime relies on: ecall from S always reaches M.
CAUSE_ECALL_S, CAUSE_ILLEGAL = 9, 2
#: medeleg bits generated writes leave 0 (none since the MMU: the page-fault bits 12, 13,
#: 15 are writable in the model and in Spike with mmu-type riscv,sv39).
MEDELEG_DIFFERS = 0
PMP_R, PMP_W, PMP_X, PMP_L = 1, 2, 4, 0x80
PMP_OFF, PMP_TOR, PMP_NA4, PMP_NAPOT = 0, 1, 2, 3

#: CLINT registers (priv spec 3.2.1 / SiFive CLINT layout).
CLINT_MSIP, CLINT_MTIMECMP = 0x0, 0x4000
#: Harness interrupt schedules: at most IRQ_PULSES pulses of 1..IRQ_WIDTH cycles,
#: starting in a window of model cycles after the prologue has configured the PLIC.
IRQ_PULSES, IRQ_WIDTH, IRQ_START, IRQ_HORIZON = 6, 256, 2_000, 8_000

# --------------------------------------------------------------------------- the table

#: Bit position and width of each operand field; ``*p`` fields hold x8..x15 as 0..7.
OPERAND_FIELDS: dict[str, tuple[int, int]] = {
    "rd": (7, 5), "rs1": (15, 5), "rs2": (20, 5), "aq": (26, 1), "rl": (25, 1),
    "pred": (24, 4), "succ": (20, 4), "csr": (20, 12),
    "crd": (7, 5), "crs2": (2, 5), "rdp": (2, 3), "rs1p": (7, 3), "rs2p": (2, 3),
}

#: Operands of each format of the table (``instructions.FORMATS``); the immediate comes
#: from ``instructions.FORMAT_IMM``.
FORMAT_OPERANDS: dict[str, tuple[str, ...]] = {
    "R": ("rd", "rs1", "rs2"), "I": ("rd", "rs1"), "LOAD": ("rd", "rs1"),
    "JALR": ("rd", "rs1"), "ISHIFT": ("rd", "rs1"), "ISHIFTW": ("rd", "rs1"),
    "S": ("rs1", "rs2"), "B": ("rs1", "rs2"), "U": ("rd",), "J": ("rd",),
    "CSR": ("rd", "rs1", "csr"), "CSRI": ("rd", "csr"), "AMO": ("rd", "rs1", "rs2", "aq", "rl"),
    "LR": ("rd", "rs1", "aq", "rl"), "FENCE": ("pred", "succ"), "NONE": (),
    "SFENCE": ("rs1", "rs2"), "HLV": ("rd", "rs1"), "HSV": ("rs1", "rs2"),
    "CIW": ("rdp",), "CLW": ("rdp", "rs1p"), "CLD": ("rdp", "rs1p"), "CSW": ("rs2p", "rs1p"),
    "CSD": ("rs2p", "rs1p"), "CI": ("crd",), "CADDI16SP": (), "CLUI": ("crd",),
    "CSLLI": ("crd",), "CSHIFT": ("rs1p",), "CANDI": ("rs1p",), "CA": ("rs1p", "rs2p"),
    "CJ": (), "CB": ("rs1p",), "CLWSP": ("crd",), "CLDSP": ("crd",), "CSWSP": ("crs2",),
    "CSDSP": ("crs2",), "CJR": ("crd",), "CR": ("crd", "crs2"), "CNONE": (),
}

#: Instruction class of each format (the generator's realiser for its rows).
FORMAT_CLASS: dict[str, str] = {
    "R": "alu", "I": "alu", "ISHIFT": "alu", "ISHIFTW": "alu", "U": "alu", "CI": "alu",
    "CIW": "alu", "CADDI16SP": "alu", "CLUI": "alu", "CSLLI": "alu", "CSHIFT": "alu",
    "CANDI": "alu", "CA": "alu", "CR": "alu",
    "LOAD": "load", "CLW": "load", "CLD": "load", "CLWSP": "load", "CLDSP": "load",
    "S": "store", "CSW": "store", "CSD": "store", "CSWSP": "store", "CSDSP": "store",
    "B": "branch", "CB": "branch", "J": "jump", "JALR": "jump", "CJ": "jump", "CJR": "jump",
    "AMO": "amo", "LR": "lr", "CSR": "csr", "CSRI": "csr", "FENCE": "fence",
    "SFENCE": "trap", "HLV": "hyp", "HSV": "hyp",
}

#: Class of the rows whose format says nothing about their behaviour (NONE, CNONE).
SYSTEM_CLASS: dict[str, str] = {
    "ecall": "trap", "ebreak": "trap", "c.ebreak": "trap", "mret": "xret", "sret": "xret",
    "wfi": "wfi", "fence.i": "fence", "c.nop": "alu",
}

#: Relative weight of each class when an ``insn`` item picks a row (spread evenly over
#: the class's rows). ``xret`` and ``wfi`` rows only appear in mode and interrupt items.
CLASS_WEIGHTS: dict[str, float] = {
    "alu": 44, "load": 12, "store": 12, "branch": 7, "jump": 5, "amo": 4, "lr": 1.5,
    "sc": 1.5, "csr": 5, "fence": 2, "trap": 0.4, "illegal": 0.3,
}
#: Class weights that differ in U-mode (where nearly every CSR access traps).
CLASS_WEIGHTS_U: dict[str, float] = {"csr": 0.5}

#: Access size of a memory row from its mnemonic's size letter (lb, sh, c.lwsp, amoadd.d).
_SIZE_LETTER = {"b": 1, "h": 2, "w": 4, "d": 8}


def row_class(row: Instruction) -> str:
    """The generator class of a table row."""
    if row.illegal:
        return "illegal"
    if row.fmt in ("NONE", "CNONE"):
        try:
            return SYSTEM_CLASS[row.name]
        except KeyError:
            raise FuzzError(f"instruction table row '{row.name}' ({row.fmt}) has no "
                            f"generator class: add it to tools/fuzz/gen.py SYSTEM_CLASS") from None
    cls = FORMAT_CLASS[row.fmt]
    return "sc" if cls == "amo" and row.name.startswith("sc.") else cls


def access_size(row: Instruction) -> int:
    """Bytes a load/store/AMO row accesses."""
    base = row.name.removeprefix("c.").split(".")
    name = base[1] if base[0] in ("lr", "sc") or base[0].startswith("amo") else base[0]
    name = name.removesuffix("sp").removesuffix("u")
    return _SIZE_LETTER[name[-1]]


def imm_range(layout: ImmLayout) -> tuple[int, int, int]:
    """(lowest, highest, step) of the immediates a layout holds."""
    bits = sorted(layout.imm_to_insn())
    lo, top = bits[0], bits[-1]
    if layout.signed:
        return -(1 << top), (1 << top) - (1 << lo), 1 << lo
    return 0, (1 << (top + 1)) - (1 << lo), 1 << lo


#: (immediate bit, instruction bit) pairs of each layout, for encoding.
_IMM_BITS = {name: tuple(layout.imm_to_insn().items()) for name, layout in IMMEDIATES.items()}


def _encode_imm(layout: str, value: int) -> int:
    word = 0
    for imm_bit, insn_bit in _IMM_BITS[layout]:
        word |= (value >> imm_bit & 1) << insn_bit
    return word


def encode(row: Instruction, imm: int = 0, **ops: int) -> int:
    """The word of ``row`` with the given operands (registers as numbers) and immediate."""
    word = row.match
    for name in FORMAT_OPERANDS[row.fmt]:
        lo, width = OPERAND_FIELDS[name]
        value = ops.get(name, 0)
        if name.endswith("p"):
            value -= 8
        if not 0 <= value < 1 << width:
            raise ValueError(f"{row.name}: operand {name}={ops.get(name)} out of range")
        word |= value << lo
    if row.fmt in FORMAT_IMM:
        word |= _encode_imm(FORMAT_IMM[row.fmt], imm)
    if word & row.mask != row.match:
        raise ValueError(f"{row.name}: operands overlap the fixed bits")
    return word


def valid_word(row: Instruction, word: int) -> bool:
    """True when ``word`` decodes as ``row`` and is not a reserved encoding of it."""
    return lookup(word) is row and not reserved(row, word)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class GenOptions:
    """What the generator may use beyond the differential-safe default."""

    counter_values: bool = False  # read cycle/time/instret into registers (oracle syncs them)
    external_irqs: bool = False  # PLIC items, handlers claim/complete, harness line schedule
    signature: bool = False  # exit code = hash of the final state (oracles without lockstep)
    paging: bool = True  # the strategy also draws Sv39 programs (S/U through page tables)
    hyp: bool = True  # ... and, when the core has H, hypervisor programs (VS/VU, two stages)


# --------------------------------------------------------------------------- emitter


@dataclass(frozen=True)
class Insn:
    """One generated instruction of the body."""

    pc: int
    word: int
    size: int  # 2 or 4
    name: str  # table row, or "illegal"
    item: int  # index of the item that produced it
    tag: str = ""  # paging: what the access goes through (4k, 2m, 1g, io, hole, identity)

    def text(self) -> str:
        """Disassembly, as in the listing."""
        return disassemble(self.word, self.pc)


class Emitter:
    """Collects the body's instructions at consecutive addresses."""

    def __init__(self, pc: int):
        self.pc = pc
        self.insns: list[Insn] = []
        self.item = 0

    def emit(self, name: str, imm: int = 0, tag: str = "", **ops: int) -> Insn:
        """Encode and append ``name`` (``Program.check`` re-decodes every instruction)."""
        row = BY_NAME[name]
        return self.raw(encode(row, imm, **ops), row.width // 8, name, tag)

    def raw(self, word: int, size: int, name: str, tag: str = "") -> Insn:
        insn = Insn(self.pc, word, size, name, self.item, tag)
        self.insns.append(insn)
        self.pc += size
        return insn

    def li(self, rd: int, value: int) -> None:
        """Load a 64-bit constant (lui/addiw/addi/slli, as an assembler's ``li``)."""
        for name, kw in li_sequence(rd, value):
            self.emit(name, **kw)

    def la(self, rd: int, target: int) -> None:
        """rd = target, pc-relative (auipc + addi)."""
        off = target - self.pc
        hi = (off + 0x800) >> 12
        self.emit("auipc", imm=hi << 12, rd=rd)
        self.emit("addi", imm=off - (hi << 12), rd=rd, rs1=rd)


def _sext(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def li_sequence(rd: int, value: int) -> list[tuple[str, dict]]:
    """Instructions that load ``value`` (taken modulo 2**64) into ``rd``."""
    value = _sext(value, 64)
    if -2048 <= value < 2048:
        return [("addi", {"rd": rd, "rs1": ZERO, "imm": value})]
    if -(1 << 31) <= value < (1 << 31):
        lo = _sext(value, 12)
        hi = _sext((value - lo) >> 12, 20)
        seq = [("lui", {"rd": rd, "imm": hi << 12})]
        if lo:
            seq.append(("addiw", {"rd": rd, "rs1": rd, "imm": lo}))
        return seq
    lo = _sext(value, 12)
    hi = (value - lo) >> 12
    shift = 12
    while not hi & 1:
        hi >>= 1
        shift += 1
    seq = li_sequence(rd, hi)
    seq.append(("slli", {"rd": rd, "rs1": rd, "imm": shift}))
    if lo:
        seq.append(("addi", {"rd": rd, "rs1": rd, "imm": lo}))
    return seq


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Layout:
    """Addresses of the runtime's symbols in the template ELF."""

    body: int
    data: int
    stubs: int
    exit: int
    clint: int
    plic: int
    unmapped: tuple[int, ...]  # addresses where no device or memory answers (model and Spike)
    ram: int = 0
    pt: int = 0  # page-table pool (fz_pt)
    vpages: int = 0  # extra data pages (fz_vpages)
    tohost: int = 0
    flip: int = 0  # fz_s_flip_sret (fence for the ASID in t4)
    flip_all: int = 0  # fz_s_flip_sret_all
    gpt: int = 0  # G-stage page pool (fz_gpt)

    @property
    def gp(self) -> int:
        return self.data + GP_OFFSET

    @property
    def vm(self) -> pg.VmLayout:
        """The physical facts the page tables describe."""
        return pg.VmLayout(self.ram, self.body, BODY_CAPACITY, self.pt, PT_PAGES, self.vpages,
                           VPAGES, self.data, DATA_SIZE, self.stubs, self.tohost, self.unmapped,
                           self.gpt, GPT_PAGES)


@dataclass
class GenState:
    """What the realisation knows about the machine between items."""

    mode: int = PRV_M
    tsr: bool = False  # mstatus.TSR (set only while medeleg[2] is clear)
    deleg_illegal: bool = False  # medeleg[2]
    stce: bool = False  # menvcfg.STCE (changed only by stce items)
    tvm: bool = False  # mstatus.TVM
    vm: bool = False  # satp is Sv39 (paging program)
    code_u: bool = False  # the body pages are U pages (the level-1 pointer to the U table)
    asid: int = 0  # satp.ASID
    used: frozenset = frozenset()  # ASIDs satp has held
    stale: frozenset = frozenset()  # ASIDs whose TLB entries may predate a PTE change
    ptes: tuple = ()  # current value of each window's leaf PTE


# --------------------------------------------------------------------------- rows


class RowTable:
    """The table's rows the configured core can run, grouped by generator class."""

    def __init__(self, cfg: SocConfig):
        self.rows: dict[str, list[Instruction]] = {}
        for row in INSTRUCTIONS:
            if row.ext == "H" and not cfg.core.has_h:
                continue
            if row.width == 16 and not cfg.core.has_c:
                continue
            self.rows.setdefault(row_class(row), []).append(row)
        weights = {c: w for c, w in CLASS_WEIGHTS.items() if c in self.rows}
        self.classes = list(weights)
        self.class_weights = {mode: [CLASS_WEIGHTS_U.get(c, weights[c]) if mode == PRV_U
                                     else weights[c] for c in self.classes]
                              for mode in (PRV_M, PRV_S, PRV_U)}
        self.csrs: tuple[Csr, ...] = csr_table(cfg.core)
        self.csrs_by_mode = {mode: [r for r in self.csrs if r.priv <= mode] or list(self.csrs)
                             for mode in (PRV_M, PRV_S, PRV_U)}

    def pick(self, rng: random.Random, cls: str | None = None, mode: int = PRV_M) -> Instruction:
        """A row of ``cls`` (or of a class chosen by the class weights of ``mode``)."""
        if cls is None:
            cls = rng.choices(self.classes, self.class_weights[mode])[0]
        return rng.choice(self.rows[cls])


#: CSR addresses no implementation of this profile (ours, Spike's) has: custom ranges and
#: extensions absent from RV64IMAC (F, V, H, N); accesses are illegal everywhere.
ILLEGAL_CSR_RANGES: tuple[tuple[int, int], ...] = (
    (0x000, 0x000), (0x001, 0x003), (0x008, 0x00F), (0x200, 0x2FF), (0x600, 0x6FF),
    (0x7C0, 0x7FF), (0x5C0, 0x5FF), (0x9C0, 0x9FF), (0x8C0, 0x8FF), (0xCC0, 0xCFF),
    (0xC20, 0xC22), (0xFC0, 0xFFF),
)

#: Major opcodes random illegal words avoid: SYSTEM and MISC-MEM hold encodings other
#: implementations decode (hypervisor loads, cache-block operations).
ILLEGAL_SKIP_OPCODES = frozenset({0x73, 0x0F})

#: How generated CSR writes treat each CSR (default: any value).
#: never: runtime-owned or different by design between the model and Spike (misa is
#: writable in Spike); pmp: only PMP items write them; timecmp: 0 (now) or huge (never);
#: stce: menvcfg.STCE keeps its value; status: TSR only while medeleg[2] is clear;
#: medeleg: ecall-from-S (9) never delegated, illegal (2) not while TSR is set;
#: satp: only ``satp`` items write it in paging programs; otherwise Bare with all other
#: fields 0 (other fields with MODE=Bare are UNSPECIFIED), or an unsupported MODE (the
#: whole write is ignored).
CSR_WRITE_RULE: dict[str, str] = {
    "mtvec": "never", "stvec": "never", "mscratch": "never", "sscratch": "never",
    "misa": "never", "mcycle": "never", "minstret": "never",
    "stimecmp": "timecmp", "menvcfg": "stce", "mstatus": "status", "sstatus": "status",
    "medeleg": "medeleg", "satp": "satp",
    # level-sensitive VS interrupts the non-hypervisor runtime never clears (an HS
    # interrupt storm; hypervisor programs inject VSSIP through their own item)
    "hvip": "never", "hip": "never",
}
#: CSRs whose values differ between the model and Spike: the counters (mtime rate, DIV
#: timing) and marchid (Spike's is 5). Generated reads put them in x0 (the access is
#: still checked).
VALUE_DIFFERS = frozenset({"cycle", "time", "instret", "mcycle", "minstret", "marchid"})


def _csr_rule(row: Csr | None) -> str:
    if row is None:
        return "random"
    if row.name.startswith("pmp"):
        return "pmp"
    return CSR_WRITE_RULE.get(row.name, "random")


# --------------------------------------------------------------------------- realisers


class Realiser:
    """Turns items into instructions for one configuration and layout."""

    #: Item kinds in code order (the code shrinks towards the first), with weights per
    #: privilege mode (M, S, U). M-only kinds have weight 0 outside M.
    KINDS: tuple[tuple[str, tuple[float, float, float]], ...] = (
        ("insn", (60, 66, 66)),
        ("li", (9, 9, 9)),
        ("csr", (7, 4, 1.5)),
        ("loop", (2, 2, 2)),
        ("lrsc", (2, 2, 2)),
        ("mode", (3, 2.5, 2.5)),
        ("exc", (1.2, 1.2, 1.2)),
        ("pmp", (1.5, 0, 0)),
        ("deleg", (2, 0, 0)),
        ("irq", (4, 0, 0)),
        ("mprv", (1, 0, 0)),
        ("stce", (1, 0, 0)),
        ("counter", (0.7, 0.7, 0.7)),
        ("ext", (1.5, 0, 0)),
        ("vmem", (0, 10, 10)),
        ("pte", (2.5, 2, 0)),
        ("sfence", (1, 1, 0.3)),
        ("vmstat", (1.5, 1.5, 0)),
        ("satp", (1, 0.7, 0)),
    )
    #: Kinds only paging programs use (weight 0 otherwise, so the kind an item code
    #: means in a program without paging does not depend on them).
    VM_KINDS = frozenset({"vmem", "pte", "sfence", "vmstat", "satp"})

    def __init__(self, cfg: SocConfig, layout: Layout, options: GenOptions):
        self.cfg, self.layout, self.options = cfg, layout, options
        self.table = RowTable(cfg)
        self.kinds = [k for k, _ in self.KINDS]
        self.kind_weights = {(vm, m): [0 if k in self.VM_KINDS and not vm else w[i]
                                       for k, w in self.KINDS]
                             for i, m in enumerate((PRV_M, PRV_S, PRV_U))
                             for vm in (False, True)}
        for vm in (False, True):
            if cfg.core.pmp_regions < 2:
                self.kind_weights[vm, PRV_M][self.kinds.index("pmp")] = 0
            if not (options.external_irqs and cfg.harness_irq_lines):
                self.kind_weights[vm, PRV_M][self.kinds.index("ext")] = 0
        self.zicsr = [r for r in INSTRUCTIONS if r.ext == "Zicsr"]
        self.vm: pg.VmSpace | None = None

    # ---- whole program

    def realise(self, items, vm: pg.VmSpace | None = None) -> tuple[list[Insn], int]:
        """The body's instructions and the number of items realised (``vm``: the
        address space of a paging program; the runtime starts it with satp set)."""
        em = Emitter(self.layout.body)
        state = GenState()
        self.vm = vm
        if vm is not None:
            state = GenState(vm=True, asid=vm.asid, used=frozenset({vm.asid}),
                             ptes=tuple(w.pte for w in vm.windows))
        limit = self.layout.body + BODY_CAPACITY - 16
        used = 0
        for index, (code, seed) in enumerate(items):
            mark, pc = len(em.insns), em.pc
            em.item = index
            kind = self.kind_of(code, state.mode, state.vm)
            saved = GenState(**vars(state))
            getattr(self, f"_item_{kind}")(em, random.Random(seed), state)
            if em.pc > limit:
                del em.insns[mark:]
                em.pc = pc
                state.__dict__.update(vars(saved))
                break
            used = index + 1
        em.item = len(items)
        if state.vm and state.mode != PRV_M:
            self.escalate(em, state)
        off = self.layout.exit - em.pc
        em.emit("jal", imm=off, rd=ZERO)
        return em.insns, used

    def kind_of(self, code: int, mode: int, vm: bool = False) -> str:
        """The kind an item code means in ``mode`` (codes are points in [0, 256))."""
        weights = self.kind_weights[vm, mode]
        point = code / 256 * sum(weights)
        for kind, w in zip(self.kinds, weights):
            if point < w:
                return kind
            point -= w
        return self.kinds[0]

    # ---- operand helpers

    @staticmethod
    def reg(rng: random.Random, avoid=()) -> int:
        """A destination register: never gp, rarely x0."""
        while True:
            r = 0 if rng.random() < 0.04 else rng.randrange(1, 32)
            if r != GP and r not in avoid:
                return r

    @staticmethod
    def src(rng: random.Random) -> int:
        return rng.randrange(32)

    @staticmethod
    def creg(rng: random.Random, avoid=()) -> int:
        """A register of the compressed set x8..x15."""
        choices = [r for r in range(8, 16) if r not in avoid]
        return rng.choice(choices)

    @staticmethod
    def value(rng: random.Random) -> int:
        """An interesting 64-bit value."""
        pick = rng.random()
        if pick < 0.35:
            return rng.getrandbits(64)
        if pick < 0.5:
            return rng.randrange(-2048, 2048)
        if pick < 0.7:
            return ((1 << rng.randrange(64)) + rng.choice((-1, 0, 0, 1))) * rng.choice((1, -1))
        if pick < 0.85:
            return rng.choice((0, 1, -1, 1 << 63, (1 << 63) - 1, 0xFFFF_FFFF, 0x8000_0000,
                               0x7FFF_FFFF, 0xFFFF_FFFF_0000_0000))
        return rng.getrandbits(32)

    def imm_for(self, row: Instruction, rng: random.Random) -> int:
        """A random immediate the row's layout holds (edges often)."""
        if row.fmt not in FORMAT_IMM:
            return 0
        lo, hi, step = imm_range(IMMEDIATES[FORMAT_IMM[row.fmt]])
        pick = rng.random()
        if pick < 0.15:
            return rng.choice((lo, hi, 0, step, -step if lo < 0 else step))
        if pick < 0.5:
            return rng.randrange(max(lo, -16 * step), min(hi, 16 * step) + 1, step) // step * step
        return rng.randrange(lo, hi + 1, step)

    def operands(self, row: Instruction, rng: random.Random, avoid=()) -> dict:
        """Random register operands of ``row`` (destinations avoid gp and ``avoid``)."""
        ops = {}
        for name in FORMAT_OPERANDS[row.fmt]:
            if name in ("rd", "crd"):
                ops[name] = self.reg(rng, avoid)
            elif name == "rdp":
                ops[name] = self.creg(rng, avoid)
            elif name == "rs1p" and row.fmt in ("CSHIFT", "CANDI", "CA"):
                ops[name] = self.creg(rng, avoid)
            elif name.endswith("p"):
                ops[name] = self.creg(rng)
            elif name in ("aq", "rl"):
                ops[name] = rng.randrange(2)
            elif name in ("pred", "succ"):
                ops[name] = rng.randrange(16)
            else:
                ops[name] = self.src(rng)
        return ops

    def alu(self, em: Emitter, rng: random.Random, row: Instruction | None = None,
            avoid=()) -> None:
        """One ALU row (register-register, immediate, shift, upper, compressed, M) whose
        destination is not in ``avoid`` (c.addi16sp writes sp)."""
        for _ in range(20):
            r = row or self.table.pick(rng, "alu")
            ops = self.operands(r, rng, avoid)
            word = encode(r, self.imm_for(r, rng), **ops)
            if valid_word(r, word) and not (r.name == "c.addi16sp" and SP in avoid):
                em.raw(word, r.width // 8, r.name)
                return
        em.emit("addi", imm=rng.randrange(-2048, 2048), rd=self.reg(rng, avoid), rs1=self.src(rng))

    def filler(self, em: Emitter, rng: random.Random, n: int, avoid=()) -> None:
        for _ in range(n):
            self.alu(em, rng, avoid=avoid)

    def data_offset(self, rng: random.Random, size: int, misaligned: bool = False) -> int:
        """A byte offset into the data region for an access of ``size`` bytes."""
        off = rng.randrange(0, DATA_SIZE - size + 1)
        if misaligned and size > 1:
            off = off // size * size + rng.randrange(1, size)
            off = min(off, DATA_SIZE - size)
            if off % size == 0:
                off += 1
            return off
        return off // size * size

    # ---- item kinds

    def _item_insn(self, em, rng, state):
        row = self.table.pick(rng, mode=state.mode)
        cls = row_class(row)
        getattr(self, f"_row_{cls}")(em, rng, state, row)

    def _item_li(self, em, rng, state):
        rd = self.reg(rng, (ZERO,))
        value = self.value(rng) if rng.random() < 0.85 else self.layout.gp + rng.randrange(
            -GP_OFFSET, GP_OFFSET)
        em.li(rd, value)

    def _row_alu(self, em, rng, state, row):
        self.alu(em, rng, row)

    def _mem_access(self, em, rng, row, misaligned=False, avoid=()) -> None:
        """Set up a base register, then ``row`` on the data region."""
        size = access_size(row)
        off = self.data_offset(rng, size, misaligned) - GP_OFFSET
        fmt = row.fmt
        if fmt in ("LOAD", "S"):
            if rng.random() < 0.5:
                base, imm = GP, off
            else:
                base = self.reg(rng, (ZERO, *avoid))
                k = rng.randrange(-64, 64)
                em.emit("addi", imm=k, rd=base, rs1=GP)
                imm = off - k
            if fmt == "LOAD":
                em.emit(row.name, imm=imm, rd=self.reg(rng, avoid), rs1=base)
            else:
                em.emit(row.name, imm=imm, rs1=base, rs2=self.src(rng))
            return
        lo, hi, step = imm_range(IMMEDIATES[FORMAT_IMM[fmt]])
        imm = rng.randrange(lo, min(hi, DATA_SIZE // 2) + 1, step)
        if fmt in ("CLWSP", "CLDSP", "CSWSP", "CSDSP"):
            em.emit("addi", imm=off - imm, rd=SP, rs1=GP)
            if fmt.startswith("CL"):
                em.emit(row.name, imm=imm, crd=self.reg(rng, (ZERO, *avoid)))
            else:
                em.emit(row.name, imm=imm, crs2=self.src(rng))
            return
        base = self.creg(rng, avoid)
        em.emit("addi", imm=off - imm, rd=base, rs1=GP)
        if fmt in ("CLW", "CLD"):
            em.emit(row.name, imm=imm, rdp=self.creg(rng, avoid), rs1p=base)
        else:
            em.emit(row.name, imm=imm, rs2p=self.creg(rng), rs1p=base)

    def _row_load(self, em, rng, state, row):
        self._mem_access(em, rng, row, misaligned=rng.random() < 0.005)

    def _row_store(self, em, rng, state, row):
        self._mem_access(em, rng, row, misaligned=rng.random() < 0.005)

    def _amo_base(self, em, rng, size: int, misaligned=False, avoid=()) -> int:
        base = self.reg(rng, (ZERO, *avoid))
        em.emit("addi", imm=self.data_offset(rng, size, misaligned) - GP_OFFSET, rd=base, rs1=GP)
        return base

    def _row_amo(self, em, rng, state, row, misaligned=False):
        base = self._amo_base(em, rng, access_size(row), misaligned)
        em.emit(row.name, rd=self.reg(rng), rs1=base, rs2=self.src(rng),
                aq=rng.randrange(2), rl=rng.randrange(2))

    def _row_lr(self, em, rng, state, row):
        sfx = row.name[-1]
        self.lrsc(em, rng, row, BY_NAME[f"sc.{sfx}" if rng.random() < 0.8 else
                                        f"sc.{'w' if sfx == 'd' else 'd'}"])

    def _row_sc(self, em, rng, state, row):
        sfx = row.name[-1]
        self.lrsc(em, rng, BY_NAME[f"lr.{sfx}"], row)

    def lrsc(self, em, rng, lr: Instruction, sc: Instruction) -> None:
        """An LR, 0-2 ALU instructions, then an SC (mostly to the same address).

        Every SC follows its own LR with nothing that can trap in between: Spike drops
        the reservation at every trap (its hart interleave ends there), the model keeps
        it, so an SC after a trap could succeed on one and fail on the other."""
        base = self._amo_base(em, rng, access_size(lr))
        em.emit(lr.name, rd=self.reg(rng, (base,)), rs1=base, aq=rng.randrange(2),
                rl=rng.randrange(2))
        self.filler(em, rng, rng.randrange(0, 3), avoid=(base,))
        if rng.random() < 0.15:
            base = self._amo_base(em, rng, access_size(sc), avoid=(base,))
        em.emit(sc.name, rd=self.reg(rng), rs1=base, rs2=self.src(rng),
                aq=rng.randrange(2), rl=rng.randrange(2))

    def _row_branch(self, em, rng, state, row):
        n = rng.randrange(0, 4)
        skip = Emitter(em.pc + row.width // 8)
        self.filler(skip, rng, n)
        off = skip.pc - em.pc
        if row.fmt == "B":
            em.emit(row.name, imm=off, rs1=self.src(rng), rs2=self.src(rng))
        else:
            em.emit(row.name, imm=off, rs1p=self.creg(rng))
        self._append(em, skip)

    @staticmethod
    def _append(em: Emitter, other: Emitter) -> None:
        for insn in other.insns:
            em.raw(insn.word, insn.size, insn.name)

    def _row_jump(self, em, rng, state, row):
        n = rng.randrange(0, 3)
        if row.fmt in ("J", "CJ"):
            skip = Emitter(em.pc + row.width // 8)
            self.filler(skip, rng, n)
            off = skip.pc - em.pc
            if row.fmt == "J":
                em.emit(row.name, imm=off, rd=self.reg(rng))
            else:
                em.emit(row.name, imm=off)
            self._append(em, skip)
            return
        tmp = self.reg(rng, (ZERO,))
        if row.fmt == "JALR":
            start = em.pc
            em.emit("auipc", imm=0, rd=tmp)
            skip = Emitter(em.pc + 4)
            self.filler(skip, rng, n)
            em.emit("jalr", imm=skip.pc - start, rd=self.reg(rng), rs1=tmp)
            self._append(em, skip)
            return
        start = em.pc
        em.emit("auipc", imm=0, rd=tmp)
        skip = Emitter(em.pc + 6)
        self.filler(skip, rng, n)
        em.emit("addi", imm=skip.pc - start, rd=tmp, rs1=tmp)
        em.emit(row.name, crd=tmp)
        self._append(em, skip)

    def _row_fence(self, em, rng, state, row):
        if row.fmt == "FENCE":
            em.emit(row.name, pred=rng.randrange(16), succ=rng.randrange(16))
        else:
            em.emit(row.name)

    def _row_trap(self, em, rng, state, row):
        if row.name == "ecall":
            em.emit("addi", imm=rng.randrange(0, 2048), rd=A7, rs1=ZERO)
        ops = self.operands(row, rng)
        em.emit(row.name, **ops)

    def _row_illegal(self, em, rng, state, row):
        ops = self.operands(row, rng)
        word = encode(row, self.imm_for(row, rng), **ops)
        em.raw(word, row.width // 8, "illegal")

    def _row_csr(self, em, rng, state, row):
        self.csr_access(em, rng, state, row)

    # ---- CSRs

    def pick_csr(self, rng: random.Random, mode: int) -> tuple[int, Csr | None]:
        """A CSR address: mostly one the mode may access, sometimes any, sometimes none."""
        pick = rng.random()
        if pick < 0.05:
            lo, hi = rng.choice(ILLEGAL_CSR_RANGES)
            return rng.randrange(lo, hi + 1), None
        row = rng.choice(self.table.csrs_by_mode[mode] if pick < 0.94 else self.table.csrs)
        return row.addr, row

    def csr_access(self, em, rng, state, op_row: Instruction | None = None,
                   addr_row: tuple[int, Csr | None] | None = None, value: int | None = None):
        """One Zicsr instruction on a CSR with a random value, within the write rules."""
        op = op_row or rng.choice(self.zicsr)
        addr, crow = addr_row or self.pick_csr(rng, state.mode)
        rule = self.write_rule(crow, state)
        name = crow.name if crow else ""
        rd = self.reg(rng)
        if name in VALUE_DIFFERS and (name == "marchid" or not self.options.counter_values):
            rd = ZERO
        imm_form = op.fmt == "CSRI"
        write = rng.random() < 0.75
        if rule in ("never", "pmp") or (rule == "satp" and state.vm):
            write = False
        if not write:
            op = BY_NAME["csrrsi" if imm_form else "csrrs"] if rng.random() < 0.5 else \
                BY_NAME["csrrci" if imm_form else "csrrc"]
            if imm_form:
                em.emit(op.name, imm=0, rd=rd, csr=addr)
            else:
                em.emit(op.name, rd=rd, rs1=ZERO, csr=addr)
            return
        kind = op.name.removeprefix("csrr").removesuffix("i")  # w, s, c
        if imm_form:
            val = rng.randrange(32) if value is None else value & 31
        else:
            val = self.value(rng) if value is None else value
        val, kind = self._apply_rule(rule, val, kind, state, imm_form)
        if imm_form:
            op = BY_NAME[f"csrr{kind}i"]
            em.emit(op.name, imm=val & 31, rd=rd, csr=addr)
        else:
            tmp = self.reg(rng, (ZERO,))
            if val == 0 and rng.random() < 0.5:
                tmp = ZERO
            else:
                em.li(tmp, val)
            em.emit(f"csrr{kind}", rd=rd, rs1=tmp, csr=addr)
        self._track_csr_write(name, kind, val, state)

    @staticmethod
    def write_rule(crow: Csr | None, state: GenState) -> str:
        """How a generated write may treat ``crow`` (CSR_WRITE_RULE)."""
        return _csr_rule(crow)

    @staticmethod
    def _apply_rule(rule, val, kind, state, imm_form):
        """The value and operation (w, s, c) a write may use under ``rule``."""
        if rule == "timecmp":
            return (timecmp_value(val), "w") if not imm_form else (0, "w")
        if rule == "stce":
            val &= ~MENVCFG_STCE & XLEN_MASK
            if kind == "w" and state.stce:
                if imm_form:
                    return val, "s"
                val |= MENVCFG_STCE
            return val, kind
        if rule == "status":
            if kind != "c" and (state.deleg_illegal or state.mode != PRV_M):
                val &= ~MSTATUS_TSR
            return val, kind
        if rule == "satp":
            mode = val >> 60 & 15
            return (0 if imm_form or mode in (0, 8) else val), "w"
        if rule == "medeleg":
            val &= ~((1 << CAUSE_ECALL_S) | MEDELEG_DIFFERS)
            if kind != "c" and state.tsr:
                val &= ~(1 << CAUSE_ILLEGAL)
            return val, kind
        return val, kind

    @staticmethod
    def _track_csr_write(name, kind, val, state) -> None:
        """Update the tracked bits after a write that reaches a CSR in M."""
        if state.mode != PRV_M:
            return
        if name == "mstatus":
            bit = bool(val & MSTATUS_TSR)
            state.tsr = {"w": bit, "s": state.tsr or bit, "c": state.tsr and not bit}[kind]
            bit = bool(val & MSTATUS_TVM)
            state.tvm = {"w": bit, "s": state.tvm or bit, "c": state.tvm and not bit}[kind]
        elif name == "medeleg":
            bit = bool(val & (1 << CAUSE_ILLEGAL))
            state.deleg_illegal = {"w": bit, "s": state.deleg_illegal or bit,
                                   "c": state.deleg_illegal and not bit}[kind]

    def _item_csr(self, em, rng, state):
        self.csr_access(em, rng, state)

    def _item_counter(self, em, rng, state):
        names = ["cycle", "time", "instret"] + (["mcycle", "minstret"] if state.mode == PRV_M
                                                 else [])
        byname = {r.name: r for r in self.table.csrs}
        crow = byname[rng.choice(names)]
        rd = self.reg(rng) if self.options.counter_values else ZERO
        em.emit("csrrs", rd=rd, rs1=ZERO, csr=crow.addr)

    # ---- scenarios

    def _item_loop(self, em, rng, state):
        counter = self.reg(rng, (ZERO, SP))
        em.emit("addi", imm=rng.randrange(1, 5), rd=counter, rs1=ZERO)
        top = em.pc
        self.filler(em, rng, rng.randrange(1, 5), avoid=(counter, SP))
        em.emit("addi", imm=-1, rd=counter, rs1=counter)
        if 8 <= counter < 16 and self.cfg.core.has_c and rng.random() < 0.5:
            em.emit("c.bnez", imm=top - em.pc, rs1p=counter)
        else:
            em.emit("bne", imm=top - em.pc, rs1=counter, rs2=ZERO)

    def _item_lrsc(self, em, rng, state):
        self._row_lr(em, rng, state, self.table.pick(rng, "lr"))

    def escalate(self, em: Emitter, state: GenState) -> None:
        """Go to M-mode through the runtime's ecall service."""
        em.emit("addi", imm=MAGIC_UP, rd=A7, rs1=ZERO)
        em.emit("ecall")
        state.mode = PRV_M

    def _item_mode(self, em, rng, state):
        if state.mode == PRV_U:
            self.escalate(em, state)
            return
        if state.mode == PRV_S:
            pick = rng.random()
            if pick < 0.45 or (state.vm and pick < 0.85 and (state.tsr or state.tvm)):
                self.escalate(em, state)
            elif state.vm and pick < 0.85:
                self._sret_flip(em, rng, state)
            else:
                self._sret(em, rng, state, PRV_U if pick < 0.85 else PRV_S)
            return
        target = rng.choice((PRV_S, PRV_S, PRV_U, PRV_U, PRV_M))
        if target != PRV_M and rng.random() < 0.2:
            self._sret(em, rng, state, target)
        else:
            self._mret(em, rng, state, target)

    def _xret_target(self, em, tmp: int, csr: str, n_after: int) -> None:
        """tmp = the address ``n_after`` 32-bit instructions after this 3-instruction
        sequence (right after the xret); write it to ``csr`` (mepc/sepc)."""
        start = em.pc
        target = start + 4 * (3 + n_after)
        em.la(tmp, target)
        em.emit("csrrw", rd=ZERO, rs1=tmp, csr=self._csr_addr(csr))

    def _csr_addr(self, name: str) -> int:
        return next(r.addr for r in self.table.csrs if r.name == name)

    def _status_seq(self, tmp: int, csr: str, clear: int, setv: int):
        """Instructions that clear then set bits of mstatus/sstatus (with their size)."""
        seq = []
        for op, v in (("c", clear), ("s", setv)):
            if v:
                seq += li_sequence(tmp, v)
                seq.append((f"csrr{op}", {"rd": ZERO, "rs1": tmp, "csr": self._csr_addr(csr)}))
        return seq

    def _mask_interrupts(self, em: Emitter, state: GenState) -> None:
        """Clear the interrupt enable of the current mode (MIE in M, SIE in S), so no
        interrupt entry overwrites xepc between its write and the xRET (which restores
        the enable from xPIE)."""
        if state.mode == PRV_M:
            em.emit("csrrci", imm=MSTATUS_MIE, rd=ZERO, csr=self._csr_addr("mstatus"))
        elif state.mode == PRV_S:
            em.emit("csrrci", imm=MSTATUS_SIE, rd=ZERO, csr=self._csr_addr("sstatus"))

    def _mret(self, em, rng, state, target, virt=None):
        tmp = self.reg(rng, (ZERO,))
        self._mask_interrupts(em, state)
        if target != PRV_M:
            self.code_for(em, rng, state, target)
        extra = rng.getrandbits(3)
        setv = (target << 11) | (MSTATUS_MPIE if extra & 1 else 0)
        clear = ((~target & 3) << 11) | (0 if extra & 1 else MSTATUS_MPIE)
        seq = self._status_seq(tmp, "mstatus", clear, setv)
        self._xret_target(em, tmp, "mepc", len(seq) + 1)
        self._emit_seq(em, seq)
        em.emit("mret")
        state.mode = target

    def _sret(self, em, rng, state, target):
        tmp = self.reg(rng, (ZERO,))
        self._mask_interrupts(em, state)
        if state.mode == PRV_M:
            self.code_for(em, rng, state, target)
        csr = "mstatus" if state.mode == PRV_M else "sstatus"
        spp = MSTATUS_SPP if target == PRV_S else 0
        seq = self._status_seq(tmp, csr, MSTATUS_SPP ^ spp, spp)
        self._xret_target(em, tmp, "sepc", len(seq) + 1)
        self._emit_seq(em, seq)
        em.emit("sret")
        if state.mode == PRV_M or not state.tsr:
            state.mode = target

    @staticmethod
    def _emit_seq(em: Emitter, seq) -> None:
        for name, kw in seq:
            em.emit(name, **kw)

    def _item_exc(self, em, rng, state):
        pick = rng.choice(("ecall", "ebreak", "illegal", "illegal", "load_fault",
                           "store_fault", "fetch_fault", "stub", "stub", "misaligned",
                           "misaligned", "amo_misaligned", "xret_low"))
        if pick == "ecall":
            self._row_trap(em, rng, state, BY_NAME["ecall"])
        elif pick == "ebreak":
            name = "c.ebreak" if self.cfg.core.has_c and rng.random() < 0.5 else "ebreak"
            em.emit(name)
        elif pick == "illegal":
            self._illegal(em, rng)
        elif pick in ("load_fault", "store_fault"):
            tmp = self.reg(rng, (ZERO,))
            row = self.table.pick(rng, "load" if pick == "load_fault" else "store")
            while row.width != 32:
                row = self.table.pick(rng, "load" if pick == "load_fault" else "store")
            size = access_size(row)
            em.li(tmp, rng.choice(self.layout.unmapped) + rng.randrange(0, 64, size))
            if row.fmt == "LOAD":
                em.emit(row.name, imm=0, rd=self.reg(rng), rs1=tmp)
            else:
                em.emit(row.name, imm=0, rs1=tmp, rs2=self.src(rng))
        elif pick in ("fetch_fault", "stub"):
            tmp = self.reg(rng, (ZERO, RA))
            if pick == "stub":
                em.la(tmp, self.layout.stubs + 8 * rng.randrange(STUBS))
            else:
                em.li(tmp, rng.choice(self.layout.unmapped) + rng.randrange(0, 64, 4))
            em.emit("jalr", imm=0, rd=RA, rs1=tmp)
        elif pick == "misaligned":
            row = self.table.pick(rng, rng.choice(("load", "store")))
            while access_size(row) == 1:
                row = self.table.pick(rng, rng.choice(("load", "store")))
            self._mem_access(em, rng, row, misaligned=True)
        elif pick == "amo_misaligned":
            row = self.table.pick(rng, rng.choice(("amo", "lr", "sc")))
            if row_class(row) == "lr":
                self._lr_misaligned(em, rng, row)
            else:
                self._row_amo(em, rng, state, row, misaligned=True)
        elif pick == "xret_low":
            if state.mode == PRV_M:
                self._illegal(em, rng)
            elif state.mode == PRV_S:
                em.emit("mret")
            else:
                name = rng.choice(("mret", "sret", "wfi"))
                self.wfi(em, rng) if name == "wfi" else em.emit(name)

    def _lr_misaligned(self, em, rng, row):
        base = self._amo_base(em, rng, access_size(row), misaligned=True)
        em.emit(row.name, rd=self.reg(rng), rs1=base, aq=0, rl=0)

    def _illegal(self, em, rng) -> None:
        """An instruction word that is illegal on this core (no row matches, a reserved
        compressed encoding, an FP-only row)."""
        pick = rng.random()
        if pick < 0.5 or (pick >= 0.85 and self.cfg.core.has_c) or not self.cfg.core.has_c:
            while True:
                word = rng.getrandbits(32) | 3
                if lookup(word) is None and word & 0x1F != 0x1F and \
                        word & 0x7F not in ILLEGAL_SKIP_OPCODES:
                    break
            em.raw(word, 4, "illegal")
        elif pick < 0.7 and self.cfg.core.has_c:
            self._row_illegal(em, rng, None, self.table.pick(rng, "illegal"))
        else:
            em.raw(0x0000, 2, "illegal")

    def _item_pmp(self, em, rng, state):
        n = self.cfg.core.pmp_regions
        tmp = self.reg(rng, (ZERO,))
        if rng.random() < 0.15:
            self._pmp_reset(em, tmp)
            return
        for entry in rng.sample(range(1, n), min(n - 1, rng.randrange(1, 4))):
            self._pmp_entry(em, rng, tmp, entry)

    def _pmp_reset(self, em, tmp: int) -> None:
        """Entry 0 as the runtime set it, the last entry granting everything, others off."""
        n = self.cfg.core.pmp_regions
        em.li(tmp, -1)
        em.emit("csrrw", rd=ZERO, rs1=tmp, csr=0x3B0 + n - 1)
        rwx = PMP_R | PMP_W | PMP_X
        cfg0, cfg2, last = (PMP_TOR << 3) | rwx, 0, (PMP_NAPOT << 3) | rwx
        if n - 1 < 8:
            cfg0 |= last << (8 * (n - 1))
        else:
            cfg2 = last << (8 * (n - 9))
        em.li(tmp, cfg0)
        em.emit("csrrw", rd=ZERO, rs1=tmp, csr=0x3A0)
        if n > 8:
            em.li(tmp, cfg2)
            em.emit("csrrw", rd=ZERO, rs1=tmp, csr=0x3A2)

    def _pmp_entry(self, em, rng, tmp: int, entry: int) -> None:
        """Give PMP entry ``entry`` a random mode, permissions and region near the data.

        Region edges in the data region are 8-byte aligned and NA4 entries cover fetch
        stubs only, so no aligned data access straddles an edge: Spike checks a failing
        SC's PMP permission on its first byte only (``check_load_reservation``), the
        model on every byte (priv 3.7.1)."""
        mode = rng.choices((PMP_OFF, PMP_TOR, PMP_NA4, PMP_NAPOT), (1, 3, 1, 5))[0]
        perms = sum(b for b in (PMP_R, PMP_W, PMP_X) if rng.random() < 0.8)
        locked = rng.random() < 0.03
        if locked:
            perms |= PMP_L
            mode = rng.choice((PMP_NA4, PMP_NAPOT))
        data = self.layout.data
        if mode == PMP_NAPOT:
            size_log = 56 if rng.random() < 0.05 else rng.randrange(3, 14)
            if locked:
                size_log = rng.randrange(3, DATA_SIZE.bit_length())
            if size_log == 56:
                addr = (1 << 54) - 1
            else:
                span = (0, DATA_SIZE) if locked else (-4096, 8192)
                base = (data + rng.randrange(*span)) >> size_log << size_log
                addr = (base >> 2) | ((1 << (size_log - 3)) - 1)
        elif mode == PMP_NA4:
            addr = (self.layout.stubs + 8 * rng.randrange(STUBS)) >> 2
        else:
            addr = (data + rng.randrange(-256, DATA_SIZE + 256, 8)) >> 2
        em.li(tmp, addr)
        em.emit("csrrw", rd=ZERO, rs1=tmp, csr=0x3B0 + entry)
        cfg_csr, shift = (0x3A0, 8 * entry) if entry < 8 else (0x3A2, 8 * (entry - 8))
        em.li(tmp, 0xFF << shift)
        em.emit("csrrc", rd=ZERO, rs1=tmp, csr=cfg_csr)
        byte = (mode << 3) | perms
        if byte:
            em.li(tmp, byte << shift)
            em.emit("csrrs", rd=ZERO, rs1=tmp, csr=cfg_csr)

    def _item_deleg(self, em, rng, state):
        byname = {r.name: r for r in self.table.csrs}
        for name in rng.sample(("medeleg", "mideleg"), rng.randrange(1, 3)):
            crow = byname[name]
            op = BY_NAME[rng.choice(("csrrw", "csrrw", "csrrs", "csrrc"))]
            self.csr_access(em, rng, state, op, (crow.addr, crow),
                            value=rng.getrandbits(64) & (crow.wmask or XLEN_MASK))

    #: Interrupt sources an irq item can make pending: (name, mip bit).
    IRQ_SOURCES = (("msi", 3), ("mti", 7), ("ssi", 1), ("sti", 5), ("sei", 9))

    def _item_irq(self, em, rng, state):
        tmp, tmp2 = self.reg(rng, (ZERO,)), self.reg(rng, (ZERO,))
        while tmp2 == tmp:
            tmp2 = self.reg(rng, (ZERO,))
        mstatus, mip, mie = (self._csr_addr(n) for n in ("mstatus", "mip", "mie"))
        em.emit("csrrci", imm=MSTATUS_MIE, rd=ZERO, csr=mstatus)
        source, bit = rng.choice(self.IRQ_SOURCES)
        clint = self.layout.clint
        if source == "msi":
            em.li(tmp, clint + CLINT_MSIP)
            em.emit("addi", imm=1, rd=tmp2, rs1=ZERO)
            em.emit("sw", imm=0, rs1=tmp, rs2=tmp2)
        elif source == "mti":
            em.li(tmp, clint + CLINT_MTIMECMP)
            em.emit("sd", imm=0, rs1=tmp, rs2=ZERO)
        elif source == "sti" and state.stce:
            em.emit("csrrw", rd=ZERO, rs1=ZERO, csr=self._csr_addr("stimecmp"))
        else:
            em.li(tmp, 1 << bit)
            em.emit("csrrs", rd=ZERO, rs1=tmp, csr=mip)
        self.filler(em, rng, 2, avoid=(tmp,))
        delegated = False
        if bit in (1, 5, 9):
            delegated = rng.random() < 0.5
            em.li(tmp, 1 << bit)
            em.emit("csrrs" if delegated else "csrrc", rd=ZERO, rs1=tmp,
                    csr=self._csr_addr("mideleg"))
        enabled = rng.random() < 0.9
        if enabled:
            em.li(tmp, 1 << bit)
            em.emit("csrrs", rd=ZERO, rs1=tmp, csr=mie)
        wake = rng.choice(("mie", "wfi", "drop", "none")) if enabled else \
            rng.choice(("mie", "drop", "none"))
        if wake == "wfi" and delegated and rng.random() < 0.4:
            # WFI in S: the delegated interrupt is pending and enabled in mie but masked
            # by sstatus.SIE = 0, so WFI completes and the interrupt waits (TW may trap).
            em.emit("csrrci", imm=MSTATUS_SIE, rd=ZERO, csr=mstatus)
            self._mret(em, rng, state, PRV_S, virt=False)
            self.wfi(em, rng)
            return
        if wake == "wfi":
            self.wfi(em, rng)
            wake = rng.choice(("mie", "drop"))
        if wake == "mie":
            em.emit("csrrsi", imm=MSTATUS_MIE, rd=ZERO, csr=mstatus)
        elif wake == "drop":
            self._mret(em, rng, state, rng.choice((PRV_S, PRV_U)))

    def wfi(self, em: Emitter, rng: random.Random) -> None:
        """WFI, then an ALU instruction: the co-simulation's WFI exit step restores
        Spike's ``mie`` after the next instruction, so that one must not write
        ``mie``/``sie`` (see docs/fuzzing-cpu.md, Findings)."""
        em.emit("wfi")
        self.alu(em, rng)

    def _item_mprv(self, em, rng, state):
        tmp = self.reg(rng, (ZERO,))
        mpp = rng.choice((PRV_U, PRV_S) if state.vm else (PRV_U, PRV_S, PRV_M))
        self._emit_seq(em, self._status_seq(tmp, "mstatus", MSTATUS_MPP, (mpp << 11) | MSTATUS_MPRV))
        for _ in range(rng.randrange(1, 4)):
            row = self.table.pick(rng, rng.choice(("load", "store")))
            while row.width != 32:
                row = self.table.pick(rng, rng.choice(("load", "store")))
            if state.vm and rng.random() < 0.6:
                self.vm_access(em, rng, state, row, avoid=(tmp,))
            else:
                self._mem_access(em, rng, row, avoid=(tmp,))
        self._emit_seq(em, self._status_seq(tmp, "mstatus", MSTATUS_MPRV, 0))

    def _item_ext(self, em, rng, state):
        """Enable (or disable) MEI and SEI in mie; the runtime routed the harness lines
        through the PLIC and the lines follow the program's schedule (``Program.irqs``)."""
        tmp = self.reg(rng, (ZERO,))
        em.li(tmp, rng.choice(((1 << 11) | (1 << 9), 1 << 11, 1 << 9)))
        em.emit("csrrs" if rng.random() < 0.8 else "csrrc", rd=ZERO, rs1=tmp,
                csr=self._csr_addr("mie"))

    def _item_stce(self, em, rng, state):
        tmp = self.reg(rng, (ZERO,))
        em.li(tmp, -1)
        em.emit("csrrw", rd=ZERO, rs1=tmp, csr=self._csr_addr("stimecmp"))
        em.li(tmp, 1 << 5)
        em.emit("csrrc", rd=ZERO, rs1=tmp, csr=self._csr_addr("mip"))
        state.stce = rng.random() < 0.6
        em.li(tmp, MENVCFG_STCE)
        em.emit("csrrs" if state.stce else "csrrc", rd=ZERO, rs1=tmp,
                csr=self._csr_addr("menvcfg"))
        if state.stce and rng.random() < 0.5:
            em.emit("csrrw", rd=ZERO, rs1=ZERO, csr=self._csr_addr("stimecmp"))

    # ---- paging (docs/fuzzing-cpu.md, "Paging")

    def clear_mprv(self, em, tmp: int) -> None:
        """MPRV = 0, so the M-mode stores that follow are not translated."""
        em.li(tmp, MSTATUS_MPRV)
        em.emit("csrrc", rd=ZERO, rs1=tmp, csr=self._csr_addr("mstatus"))

    def code_for(self, em, rng, state, target: int) -> None:
        """In M, before entering ``target``: make the body's pages U pages for U and S
        pages for S (swap the level-1 pointer, then fence)."""
        want = target == PRV_U
        if not state.vm or state.code_u == want:
            return
        tmp, val = self.two_regs(rng)
        self.clear_mprv(em, tmp)
        em.li(tmp, self.vm.code_pte)
        em.li(val, self.vm.code_u if want else self.vm.code_s)
        em.emit("sd", imm=0, rs1=tmp, rs2=val)
        self.fence(em, rng, state, None, glob=False, avoid=())
        state.code_u = want

    def two_regs(self, rng, avoid=()) -> tuple[int, int]:
        a = self.reg(rng, (ZERO, *avoid))
        b = self.reg(rng, (ZERO, a, *avoid))
        return a, b

    def fence(self, em, rng, state, va: int | None, glob: bool, avoid=()) -> None:
        """SFENCE.VMA after a PTE change, in a form that covers it (priv 4.2.1): with a
        leaf's ``va`` any form; a non-leaf change (va None) needs rs1 = x0; a global
        mapping needs rs2 = x0. An ASID-specific form leaves the other ASIDs stale."""
        forms = [(False, False)] + ([(True, False)] if va is not None else [])
        if not glob:
            forms += [(False, True)] + ([(True, True)] if va is not None else [])
        by_va, by_asid = rng.choice(forms)
        rs1 = rs2 = ZERO
        if by_va:
            rs1 = self.reg(rng, (ZERO, *avoid))
            em.li(rs1, va)
        if by_asid:
            rs2 = self.reg(rng, (ZERO, rs1, *avoid))
            em.li(rs2, state.asid)
        em.emit("sfence.vma", rs1=rs1, rs2=rs2, tag="fence")
        if by_asid:
            state.stale = state.stale | (state.used - {state.asid})
        elif not by_va:
            state.stale = frozenset()

    def _sret_flip(self, em, rng, state) -> None:
        """S -> U in a paging program: sepc and SPP set here, then the runtime's
        fz_s_flip_sret swaps the body to U pages, fences and returns (the body's own
        pages stop being executable in S)."""
        tmp = self.reg(rng, (ZERO, 29, 30, 31))
        self._mask_interrupts(em, state)
        seq = self._status_seq(tmp, "sstatus", MSTATUS_SPP, 0)
        by_asid = rng.random() < 0.6
        seq += li_sequence(30, self.vm.code_pte) + li_sequence(31, self.vm.code_u)
        if by_asid:
            seq += li_sequence(29, state.asid)
        self._xret_target(em, tmp, "sepc", len(seq) + 1)
        self._emit_seq(em, seq)
        target = self.layout.flip if by_asid else self.layout.flip_all
        em.emit("jal", imm=target - em.pc, rd=ZERO)
        if by_asid:
            state.stale = state.stale | (state.used - {state.asid})
        else:
            state.stale = frozenset()
        state.code_u = True
        state.mode = PRV_U

    def window_target(self, rng, state, size: int, fetch: bool = False) -> tuple[int, str]:
        """A virtual address for an access of ``size`` bytes (or a fetch of a stub) and
        what it goes through: a window (at data it may touch), a hole, the identity map."""
        vm, lay = self.vm, self.layout.vm
        pick = rng.random()
        if pick < 0.75 and vm.windows:
            i = self.pick_window(rng, state, fetch)
            w = vm.windows[i]
            pa = pg.pte_pa(state.ptes[i])
            base = pa & ~(w.size - 1)
            if fetch:
                stub = self.layout.stubs + 8 * rng.randrange(STUBS)
                if base <= stub < base + w.size:
                    return w.va + stub - base, w.name
            else:
                ranges = pg.targets(pa, w.level, lay)
                if ranges:
                    lo, hi = rng.choice(ranges)
                    off = rng.randrange(lo, hi - size + 1) // size * size
                    return w.va + off - base, w.name
                if w.name == "io" or not pg.LEVEL_SIZE[w.level] > pg.PAGE:
                    return w.va + rng.randrange(0, pg.PAGE - size + 1) // size * size, w.name
        if pick < 0.9 and vm.holes:
            return rng.choice(vm.holes) // 8 * 8, "hole"
        if fetch:
            return self.layout.stubs + 8 * rng.randrange(STUBS), "identity"
        return self.layout.data + self.data_offset(rng, size), "identity"

    def wants_user_pages(self, state) -> bool:
        """Whether the next access goes through U pages (it runs in U-mode)."""
        return state.mode == PRV_U

    def pick_window(self, rng, state, fetch: bool) -> int:
        """A window, preferring ones whose current PTE lets this mode in (U matches,
        valid, A set; X for a fetch), so that accesses through the tables often work."""
        want_u = self.wants_user_pages(state)
        weights = []
        for value in state.ptes:
            ok = value & pg.V and value & pg.A and bool(value & pg.U) == want_u
            if fetch:
                ok = ok and value & pg.X
            weights.append(4 if ok else 1)
        return rng.choices(range(len(state.ptes)), weights)[0]

    def vm_access(self, em, rng, state, row, avoid=()) -> None:
        """``row`` (a 32-bit or compressed load/store) on a translated address."""
        size = access_size(row)
        va, tag = self.window_target(rng, state, size)
        if row.fmt in ("LOAD", "S"):
            base = self.reg(rng, (ZERO, *avoid))
            k = rng.randrange(-2048, 2048) if rng.random() < 0.4 else 0
            em.li(base, va - k)
            if row.fmt == "LOAD":
                em.emit(row.name, imm=k, rd=self.reg(rng, avoid), rs1=base, tag=tag)
            else:
                em.emit(row.name, imm=k, rs1=base, rs2=self.src(rng), tag=tag)
            return
        if row.fmt in ("CLW", "CLD", "CSW", "CSD"):
            base = self.creg(rng, avoid)
            em.li(base, va)
            if row.fmt.startswith("CL"):
                em.emit(row.name, imm=0, rdp=self.creg(rng, avoid), rs1p=base, tag=tag)
            else:
                em.emit(row.name, imm=0, rs2p=self.creg(rng), rs1p=base, tag=tag)
            return
        em.li(SP, va)
        if row.fmt.startswith("CL"):
            em.emit(row.name, imm=0, crd=self.reg(rng, (ZERO, *avoid)), tag=tag)
        else:
            em.emit(row.name, imm=0, crs2=self.src(rng), tag=tag)

    def _item_vmem(self, em, rng, state):
        """A load, store, AMO, LR/SC pair or stub fetch through the page tables."""
        what = rng.choices(("load", "store", "amo", "lrsc", "fetch"), (4, 4, 1.5, 1, 1.2))[0]
        if what in ("load", "store"):
            self.vm_access(em, rng, state, self.table.pick(rng, what))
        elif what == "amo":
            row = self.table.pick(rng, "amo")
            va, tag = self.window_target(rng, state, access_size(row))
            base = self.reg(rng, (ZERO,))
            em.li(base, va)
            em.emit(row.name, rd=self.reg(rng), rs1=base, rs2=self.src(rng),
                    aq=rng.randrange(2), rl=rng.randrange(2), tag=tag)
        elif what == "lrsc":
            lr = self.table.pick(rng, "lr")
            sc = BY_NAME[f"sc.{lr.name[-1]}"]
            va, tag = self.window_target(rng, state, access_size(lr))
            base = self.reg(rng, (ZERO,))
            em.li(base, va)
            em.emit(lr.name, rd=self.reg(rng, (base,)), rs1=base, aq=rng.randrange(2),
                    rl=rng.randrange(2), tag=tag)
            self.filler(em, rng, rng.randrange(0, 3), avoid=(base,))
            em.emit(sc.name, rd=self.reg(rng), rs1=base, rs2=self.src(rng),
                    aq=rng.randrange(2), rl=rng.randrange(2), tag=tag)
        else:
            va, tag = self.window_target(rng, state, 4, fetch=True)
            tmp = self.reg(rng, (ZERO, RA))
            em.li(tmp, va)
            em.emit("jalr", imm=0, rd=RA, rs1=tmp, tag="fetch-" + tag)

    def changed_leaf(self, rng, w, old: int, flips: tuple[int, ...]) -> int:
        """A changed leaf PTE of window ``w``: the original, another data page (4 KiB
        windows), or 1-3 of the ``flips`` bits toggled."""
        pick = rng.random()
        if pick < 0.15:
            return w.pte
        if pick < 0.3 and w.name == "4k":
            lay = self.layout.vm
            pages = [lay.data] + [lay.vpages + i * pg.PAGE for i in range(lay.n_vpages)]
            return pg.pte(rng.choice(pages), old & 0x3FF)
        new = old
        for _ in range(rng.randrange(1, 4)):
            new ^= 1 << rng.choice(flips)
        return new

    def new_pte(self, rng, w: pg.Window, old: int) -> int:
        """A changed S/VS-stage leaf PTE, rarely with a reserved bit set."""
        new = self.changed_leaf(rng, w, old, (0, 1, 2, 3, 4, 5, 6, 6, 7, 7))
        if rng.random() < 0.03:
            new ^= 1 << rng.choice(pg.RESERVED_BITS)
        return new

    def _item_pte(self, em, rng, state):
        """Change a window's leaf PTE, then fence before anything uses it."""
        if state.mode == PRV_U or (state.mode == PRV_S and state.tvm) or not self.vm.windows:
            self._item_vmstat(em, rng, state)
            return
        i = rng.randrange(len(self.vm.windows))
        w = self.vm.windows[i]
        old = state.ptes[i]
        new = self.new_pte(rng, w, old)
        addr, val = self.two_regs(rng)
        if state.mode == PRV_M:
            self.clear_mprv(em, addr)
        em.li(addr, w.pte_addr)
        em.li(val, new)
        same_high = old >> 8 == new >> 8
        em.emit("sb" if same_high and rng.random() < 0.4 else "sd", imm=0, rs1=addr, rs2=val,
                tag="pte")
        glob = w.glob or bool((old | new) & pg.G)
        self.fence(em, rng, state, w.va + rng.randrange(w.size) // 8 * 8, glob, avoid=())
        state.ptes = state.ptes[:i] + (new,) + state.ptes[i + 1:]

    def _item_sfence(self, em, rng, state):
        """SFENCE.VMA in a random form with meaningful operands (no change pending)."""
        rs1 = rs2 = ZERO
        if rng.random() < 0.5:
            rs1 = self.reg(rng, (ZERO,))
            ws = self.vm.windows
            em.li(rs1, rng.choice(ws).va + rng.randrange(4096) if ws and rng.random() < 0.8
                  else self.value(rng))
        if rng.random() < 0.5:
            rs2 = self.reg(rng, (ZERO, rs1))
            em.li(rs2, state.asid if rng.random() < 0.6 else rng.getrandbits(16))
        em.emit("sfence.vma", rs1=rs1, rs2=rs2, tag="fence")
        executes = state.mode == PRV_M or (state.mode == PRV_S and not state.tvm)
        if executes and rs1 == ZERO and rs2 == ZERO:
            state.stale = frozenset()

    def _item_vmstat(self, em, rng, state):
        """Set or clear SUM/MXR (mstatus in M, sstatus in S; TVM too in M)."""
        bits = [b for b in (MSTATUS_SUM, MSTATUS_MXR) if rng.random() < 0.6] or [MSTATUS_SUM]
        value = sum(bits)
        if state.mode == PRV_M and rng.random() < 0.2:
            value |= MSTATUS_TVM
        tmp = self.reg(rng, (ZERO,))
        kind = rng.choice(("s", "c"))
        em.li(tmp, value)
        csr = "mstatus" if state.mode == PRV_M else "sstatus"
        em.emit(f"csrr{kind}", rd=self.reg(rng), rs1=tmp, csr=self._csr_addr(csr))
        self._track_csr_write("mstatus" if state.mode == PRV_M else "", kind, value, state)

    def _item_satp(self, em, rng, state):
        """Write satp: the same root with another ASID (fenced when that ASID may hold
        stale entries; S only picks ASIDs that cannot), or an unsupported MODE (the whole
        write is ignored, priv 4.1.11)."""
        tmp = self.reg(rng, (ZERO,))
        applies = state.mode == PRV_M or (state.mode == PRV_S and not state.tvm)
        if rng.random() < 0.15:
            mode = rng.choice((1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15))
            em.li(tmp, rng.getrandbits(60) | mode << 60)
            em.emit("csrrw", rd=self.reg(rng), rs1=tmp, csr=self._csr_addr("satp"))
            return
        clean = sorted(state.used - state.stale)
        if state.mode == PRV_M:
            asid = rng.choice(sorted(state.used)) if rng.random() < 0.5 else rng.getrandbits(16)
        else:
            asid = rng.choice(clean) if clean and rng.random() < 0.5 else rng.getrandbits(16)
            while asid in state.stale:
                asid = rng.getrandbits(16)
        em.li(tmp, self.vm.satp(asid))
        em.emit("csrrw", rd=self.reg(rng), rs1=tmp, csr=self._csr_addr("satp"))
        if not applies:
            return
        state.asid = asid
        state.used = state.used | {asid}
        if asid in state.stale:
            self.fence(em, rng, state, None, glob=False)
            state.stale = state.stale - {asid}


def timecmp_value(val: int) -> int:
    """A timer compare value that is either due now (0) or never (>= 2**63)."""
    return 0 if val & 3 == 0 else (val | (1 << 63)) & XLEN_MASK


# --------------------------------------------------------------------------- template


def _defines(cfg: SocConfig, signature: bool) -> dict[str, object]:
    return {**platform_defines(cfg), "FZ_DATA_SIZE": DATA_SIZE, "FZ_GP_OFFSET": GP_OFFSET,
            "FZ_STUBS": STUBS, "FZ_BODY_CAPACITY": BODY_CAPACITY,
            "FZ_MAGIC_UP": MAGIC_UP, "FZ_MAGIC_CLR": MAGIC_CLR,
            "FZ_SIGNATURE": int(signature), "FZ_PT_PAGES": PT_PAGES, "FZ_VPAGES": VPAGES,
            "FZ_GPT_PAGES": GPT_PAGES}


def _cfg_dir(cfg: SocConfig) -> Path:
    key = hashlib.sha256(cfg.key().encode()).hexdigest()[:12]
    return BUILD_DIR / "fuzz" / key


def _unmapped(cfg: SocConfig) -> tuple[int, ...]:
    """Addresses no region of the model and no device of Spike answers."""
    ram = region(cfg, "ram")
    return (0x2000_0000, 0x4000_0000, ram.base + ram.size, 0x1_0000_0000,
            0xFFFF_FFFF_FFFF_F000)


@dataclass(frozen=True)
class Template:
    """The runtime built with an empty body: the ELF every program is patched into."""

    cfg: SocConfig
    path: Path
    raw: bytes
    image: ElfImage
    layout: Layout
    patches: dict[str, tuple[int, int, int]]  # name -> (address, file offset, segment index)


_TEMPLATES: dict[tuple[str, bool], Template] = {}


def template(cfg: SocConfig = DEFAULT, signature: bool = False) -> Template:
    """The template ELF for ``cfg`` (built once, then cached in the process)."""
    key = (cfg.key(), signature)
    if key not in _TEMPLATES:
        out = _cfg_dir(cfg)
        options = GenOptions(signature=signature)
        path = _build_source(cfg, program_source(cfg, [], bytes(DATA_SIZE), (0,) * 31,
                                                 options), out, f"template{int(signature)}",
                             signature)
        _TEMPLATES[key] = _load_template(cfg, path)
    return _TEMPLATES[key]


def _build_source(cfg: SocConfig, text: str, out: Path, stem: str, signature: bool) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
        src = out / f"{stem}.S"
        if not src.exists() or src.read_text() != text:
            src.write_text(text)
    except OSError as exc:
        raise FuzzError(f"cannot write {out}: {exc.strerror or exc}") from None
    script = write_linker_script(cfg, out / "link.ld")
    return build_elf([src], out / f"{stem}.elf", linker_script=script,
                     defines=_defines(cfg, signature), opt="-O2")


def _load_template(cfg: SocConfig, path: Path) -> Template:
    from elftools.elf.elffile import ELFFile

    image = load_elf(path, cfg)
    raw = path.read_bytes()
    sym = image.symbols
    patches = {}
    with open(path, "rb") as f:
        segs = [s for s in ELFFile(f).iter_segments() if s["p_type"] == "PT_LOAD"]
        for name in ("fz_body", "fz_data", "fz_init_regs", "fz_opts", "fz_pt", "fz_vpages",
                     "fz_gpt"):
            addr = sym[name]
            for seg in segs:
                if seg["p_paddr"] <= addr < seg["p_paddr"] + seg["p_filesz"]:
                    index = next(i for i, (a, _) in enumerate(image.segments)
                                 if a == seg["p_paddr"])
                    patches[name] = (addr, seg["p_offset"] + addr - seg["p_paddr"], index)
                    break
            else:
                raise FuzzError(f"{path}: symbol {name} is not in a loaded segment")
    layout = Layout(sym["fz_body"], sym["fz_data"], sym["fz_stubs"], sym["fz_exit"],
                    region(cfg, "clint").base, region(cfg, "plic").base, _unmapped(cfg),
                    region(cfg, "ram").base, sym["fz_pt"], sym["fz_vpages"], sym["tohost"],
                    sym["fz_s_flip_sret"], sym["fz_s_flip_sret_all"], sym["fz_gpt"])
    if layout.body % pg.PAGE or layout.data % pg.PAGE or layout.pt % pg.PAGE or \
            layout.gpt % (4 * pg.PAGE):
        raise FuzzError(f"{path}: fz_body, fz_pt and fz_data must be page aligned, fz_gpt "
                        f"16 KiB aligned")
    return Template(cfg, path, raw, image, layout, patches)


_REALISERS: dict[tuple[str, GenOptions], Realiser] = {}


def realiser(cfg: SocConfig, options: GenOptions) -> Realiser:
    """The (cached) realiser of programs for ``cfg`` and ``options``."""
    key = (cfg.key(), options)
    if key not in _REALISERS:
        _REALISERS[key] = Realiser(cfg, template(cfg, options.signature).layout, options)
    return _REALISERS[key]


# --------------------------------------------------------------------------- program


def _opts_words(options: GenOptions, route: tuple[int, int], satp: int = 0, hgatp: int = 0,
                vsatp: int = 0) -> tuple[int, ...]:
    """fz_opts: flags (bit 0: external interrupts), PLIC enables of contexts M and S,
    the initial satp (0: no paging), hgatp and vsatp (hypervisor programs)."""
    if not options.external_irqs:
        return (0, 0, 0, satp, hgatp, vsatp)
    return (1, *route, satp, hgatp, vsatp)


def _vm_words(vm: pg.VmSpace | None, hyp: pg.HypSpace | None) -> tuple[int, int, int]:
    """(satp, hgatp, vsatp) the prologue writes."""
    if hyp is not None:
        return 0, hyp.g.hgatp(hyp.g.vmid), hyp.vsatp
    return (vm.satp(vm.asid) if vm else 0), 0, 0


def _blob_lines(data: bytes) -> list[str]:
    """Assembler lines for ``data`` (runs of zero doublewords as ``.zero``)."""
    out, zeros = [], 0
    for (v,) in struct.iter_unpack("<Q", data):
        if v == 0:
            zeros += 8
            continue
        if zeros:
            out.append(f"    .zero {zeros}")
            zeros = 0
        out.append(f"    .8byte 0x{v:016x}")
    if zeros:
        out.append(f"    .zero {zeros}")
    return out


def vpages_image(data: bytes) -> bytes:
    """Initial contents of the extra data pages: the data region, repeated."""
    return (data * (VPAGES * pg.PAGE // len(data) + 1))[:VPAGES * pg.PAGE]


def _body_lines(insns: list[Insn]) -> list[str]:
    lines = []
    used = 0
    for insn in insns:
        directive = ".4byte" if insn.size == 4 else ".2byte"
        width = 8 if insn.size == 4 else 4
        lines.append(f"    {directive} 0x{insn.word:0{width}x}  // {insn.pc:#x} "
                     f"[{insn.item}] {insn.text()}")
        used += insn.size
    lines.append(f"    .skip {BODY_CAPACITY - used}")
    return lines


def program_source(cfg: SocConfig, insns: list[Insn], data: bytes, regs, options: GenOptions,
                   header: str = "", route: tuple[int, int] = (0, 0),
                   vm: pg.VmSpace | None = None, hyp: pg.HypSpace | None = None) -> str:
    """The assembly source of a program: the FZ_BODY/FZ_DATA/FZ_REGS/FZ_PT_DATA/FZ_VPAGES_DATA
    macros and the runtime."""
    out = ["/* Generated by tools/fuzz/gen.py; assemble with tools.fuzz.gen.Program.build. */"]
    if header:
        out += [f"// {line}" for line in header.splitlines()]
    out += [".macro FZ_BODY", *_body_lines(insns), ".endm", "", ".macro FZ_DATA"]
    out += [f"    .8byte 0x{v:016x}" for (v,) in struct.iter_unpack("<Q", data)]
    out += [".endm", "", ".macro FZ_REGS", "fz_init_regs:", "    .8byte 0  // x0"]
    out += [f"    .8byte 0x{v & XLEN_MASK:016x}  // x{i + 1}" for i, v in enumerate(regs)]
    if hyp is not None:
        vm = hyp.vs
    words = _vm_words(vm, hyp)
    out += ["fz_opts:", *(f"    .8byte 0x{v:x}" for v in _opts_words(options, route, *words)),
            ".endm", "", ".macro FZ_PT_DATA"]
    out += _blob_lines(vm.image if vm else bytes(PT_PAGES * pg.PAGE))
    out += [".endm", "", ".macro FZ_GPT_DATA"]
    out += _blob_lines(hyp.g.image if hyp else bytes(GPT_PAGES * pg.PAGE))
    out += [".endm", "", ".macro FZ_VPAGES_DATA"]
    out += _blob_lines(vpages_image(data) if vm or hyp else bytes(VPAGES * pg.PAGE))
    out += [".endm", "", f'#include "{RUNTIME}"', ""]
    return "\n".join(out)


@dataclass(frozen=True)
class Program:
    """A generated program: items, the data region's and the registers' initial values."""

    items: tuple[tuple[int, int], ...]  # (kind code 0..255, seed)
    data: bytes
    regs: tuple[int, ...]  # x1..x31 (the value for gp is ignored)
    cfg: SocConfig = field(default=DEFAULT, repr=False, compare=False)
    options: GenOptions = field(default=GenOptions(), repr=False)
    irqs: tuple[tuple[int, int], ...] = ()  # harness line schedule: (model cycle, mask)
    route: int = 0  # harness line i goes to the PLIC's S context if bit i is set, else M
    vm: int = 0  # paging: the seed of the Sv39 address space (0: no paging, satp Bare)
    hv: int = 0  # hypervisor program: the seed of its two stages (0: none)

    @property
    def plic_enables(self) -> tuple[int, int]:
        """PLIC enable masks of contexts M and S (each harness source in exactly one)."""
        n = self.cfg.harness_irq_lines
        first = 32 - n
        s_mask = sum(1 << (first + i) for i in range(n) if self.route >> i & 1)
        all_mask = sum(1 << (first + i) for i in range(n))
        return all_mask & ~s_mask, s_mask

    @cached_property
    def template(self) -> Template:
        return template(self.cfg, self.options.signature)

    @cached_property
    def vm_space(self) -> pg.VmSpace | None:
        """The program's page tables (None without paging)."""
        return pg.build_vm(self.vm, self.template.layout.vm) if self.vm else None

    @cached_property
    def hyp_space(self) -> pg.HypSpace | None:
        """The G and VS stages of a hypervisor program (None otherwise)."""
        if not self.hv:
            return None
        if not self.cfg.core.has_h:
            raise FuzzError("a hypervisor program (Program.hv) needs a core with H")
        return pg.build_hyp(self.hv, self.template.layout.vm)

    @cached_property
    def _realised(self) -> tuple[list[Insn], int]:
        if self.hv:
            from tools.fuzz.hyp import hyp_realiser
            return hyp_realiser(self.cfg, self.options).realise(self.items, self.hyp_space)
        return realiser(self.cfg, self.options).realise(self.items, self.vm_space)

    @property
    def tags(self) -> dict[int, str]:
        """pc -> what the generated instruction's translation goes through (paging)."""
        return {i.pc: i.tag for i in self.insns if i.tag}

    @property
    def insns(self) -> list[Insn]:
        """The body's instructions (the last one jumps to the exit)."""
        return self._realised[0]

    @property
    def items_used(self) -> int:
        """Items that fit into the body (the rest were dropped)."""
        return self._realised[1]

    @property
    def body_range(self) -> tuple[int, int]:
        """[first, end) addresses of the generated instructions."""
        insns = self.insns
        return insns[0].pc, insns[-1].pc + insns[-1].size

    def __len__(self) -> int:
        return len(self.items)

    def to_json(self) -> dict:
        """Everything needed to rebuild the program exactly (``Program.from_json``)."""
        return {"items": [list(i) for i in self.items], "data": self.data.hex(),
                "regs": [v & XLEN_MASK for v in self.regs], "cfg": dataclasses.asdict(self.cfg),
                "options": dataclasses.asdict(self.options),
                "irqs": [list(e) for e in self.irqs], "route": self.route, "vm": self.vm,
                "hv": self.hv}

    @classmethod
    def from_json(cls, data: dict) -> Program:
        """The program ``to_json`` described (FuzzError on a malformed description)."""
        try:
            cfg_d = dict(data["cfg"])
            cfg = SocConfig(core=CoreConfig(**cfg_d.pop("core")), **cfg_d)
            return cls(tuple((int(k), int(s)) for k, s in data["items"]),
                       bytes.fromhex(data["data"]), tuple(int(v) for v in data["regs"]), cfg,
                       GenOptions(**data["options"]),
                       tuple((int(c), int(m)) for c, m in data.get("irqs", ())),
                       int(data.get("route", 0)), int(data.get("vm", 0)),
                       int(data.get("hv", 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise FuzzError(f"bad program description: {exc}") from None

    def check(self) -> None:
        """Raise FuzzError unless every instruction decodes as the row it was made from
        (and is not a reserved encoding of it); "illegal" ones must not decode as legal."""
        for insn in self.insns:
            row = lookup(insn.word)
            if insn.name == "illegal":
                if row is not None and not reserved(row, insn.word):
                    raise FuzzError(f"{insn.pc:#x}: illegal word {insn.word:#x} decodes as "
                                    f"{row.name}")
            elif row is None or row.name != insn.name or reserved(row, insn.word):
                raise FuzzError(f"{insn.pc:#x}: {insn.name} encoded as {insn.word:#x}, which "
                                f"decodes as {row.name if row else 'nothing'}")

    def body_bytes(self) -> bytes:
        out = bytearray()
        for insn in self.insns:
            out += insn.word.to_bytes(insn.size, "little")
        return bytes(out)

    def asm(self) -> str:
        """The program's assembly source (body listing with disassembly, data, runtime)."""
        header = f"{len(self.items)} items, {len(self.insns)} instructions"
        if self.irqs:
            header += f"\nharness interrupt lines (model cycle, mask): {list(self.irqs)}"
        vm = self.vm_space
        if vm:
            header += f"\nSv39: satp {vm.satp(vm.asid):#x}, windows:"
            for w in vm.windows:
                header += (f"\n  {w.name} va {w.va:#x} pte@{w.pte_addr:#x} = {w.pte:#x}"
                           f"{' (global path)' if w.glob else ''}")
            header += f"\nholes: {', '.join(hex(h) for h in vm.holes)}"
        hyp = self.hyp_space
        if hyp:
            g = hyp.g
            header += f"\nhypervisor: hgatp {g.hgatp(g.vmid):#x}, vsatp {hyp.vsatp:#x}"
            for w in g.windows:
                header += f"\n  G {w.name} gpa {w.gpa:#x} pte@{w.pte_addr:#x} = {w.pte:#x}"
            header += "\n  G holes: " + ", ".join(f"{a:#x} ({k})" for a, k in g.holes)
            if hyp.vs:
                for w in hyp.vs.windows:
                    header += f"\n  VS {w.name} va {w.va:#x} pte@{w.pte_addr:#x} = {w.pte:#x}"
                header += "\n  VS holes: " + ", ".join(
                    f"{a:#x} ({k})" for a, k in zip(hyp.vs.holes, hyp.vs.hole_kinds))
        return program_source(self.cfg, self.insns, self.data, self.regs, self.options,
                              header, self.plic_enables, vm, hyp)

    def build(self, out_dir: str | Path, stem: str = "prog") -> Path:
        """Assemble and link the program with the toolchain into ``out_dir``; the ELF."""
        return _build_source(self.cfg, self.asm(), Path(out_dir), stem, self.options.signature)

    def _patched(self) -> dict[str, bytes]:
        regs = struct.pack("<32Q", 0, *(v & XLEN_MASK for v in self.regs))
        vm, hyp = self.vm_space, self.hyp_space
        opts = _opts_words(self.options, self.plic_enables, *_vm_words(vm, hyp))
        out = {"fz_body": self.body_bytes(), "fz_data": self.data,
               "fz_init_regs": regs, "fz_opts": struct.pack(f"<{len(opts)}Q", *opts)}
        if hyp:
            vm = hyp.vs
            out["fz_gpt"] = hyp.g.image
            out["fz_vpages"] = vpages_image(self.data)
        if vm:
            out["fz_pt"] = vm.image
            out["fz_vpages"] = vpages_image(self.data)
        return out

    def image(self) -> ElfImage:
        """The loadable image, patched from the template (no toolchain run)."""
        tpl = self.template
        segments = [bytearray(d) for _, d in tpl.image.segments]
        for name, data in self._patched().items():
            addr, _, index = tpl.patches[name]
            seg_addr = tpl.image.segments[index][0]
            segments[index][addr - seg_addr: addr - seg_addr + len(data)] = data
        return ElfImage(tpl.image.entry, [(a, bytes(s)) for (a, _), s in
                                          zip(tpl.image.segments, segments)],
                        tpl.image.symbols, tpl.image.tohost, tpl.image.fromhost, "<fuzz>")

    def write_elf(self, path: str | Path) -> Path:
        """Write the patched ELF to ``path`` (same bytes as ``build``'s, without a
        toolchain run)."""
        tpl = self.template
        raw = bytearray(tpl.raw)
        for name, data in self._patched().items():
            _, offset, _ = tpl.patches[name]
            raw[offset: offset + len(data)] = data
        path = Path(path)
        try:
            path.write_bytes(bytes(raw))
        except OSError as exc:
            raise FuzzError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path


# --------------------------------------------------------------------------- strategies


#: Bytes of one drawn item: the kind code, then the seed of its realisation.
ITEM_BYTES = 5
#: Most items a drawn program can have (Hypothesis draws at most 8 KiB per example).
MAX_ITEMS = 800


def _item(raw: bytes, salt: int) -> tuple[int, int]:
    """``(kind code 0..255, seed)`` of a drawn item (bytes draw uniformly in Hypothesis,
    its bounded integers do not)."""
    return raw[0], int.from_bytes(raw[1:], "little") ^ salt


def programs(cfg: SocConfig = DEFAULT, *, length: int = 100, min_length: int = 1,
             options: GenOptions = GenOptions()) -> st.SearchStrategy[Program]:
    """Programs of ``min_length``..``length`` items (about 2.6 instructions per item).

    An item is drawn as ITEM_BYTES bytes; Hypothesis shrinks the list (deleting items)
    and the bytes (towards kind 0, ``insn``, and seed 0)."""
    if not 0 <= min_length <= length <= MAX_ITEMS:
        raise FuzzError(f"program length: need 0 <= min_length <= length <= {MAX_ITEMS} "
                        f"items, got {min_length}..{length}")

    hyp = options.hyp and options.paging and cfg.core.has_h

    def build(raw_items, salt, data, regs, irqs, route, vm) -> Program:
        salt = int.from_bytes(salt, "little")
        space, raw = vm
        seed = vm_seed(bool(space), raw)
        return Program(tuple(_item(r, salt) for r in raw_items), data, tuple(regs), cfg,
                       options, irq_schedule(irqs), route, seed if space == 1 else 0,
                       seed if space == 2 else 0)

    lines = cfg.harness_irq_lines if options.external_irqs else 0
    schedule = st.lists(st.tuples(st.integers(0, IRQ_HORIZON), st.integers(0, (1 << lines) - 1),
                                  st.integers(1, IRQ_WIDTH)),
                        max_size=IRQ_PULSES) if lines else st.just([])
    route = st.integers(0, (1 << lines) - 1) if lines else st.just(0)
    return st.builds(
        build,
        st.lists(st.binary(min_size=ITEM_BYTES, max_size=ITEM_BYTES), min_size=min_length,
                 max_size=length),
        st.binary(min_size=4, max_size=4),
        st.binary(min_size=DATA_SIZE, max_size=DATA_SIZE),
        st.lists(st.integers(0, XLEN_MASK), min_size=31, max_size=31),
        schedule,
        route,
        st.tuples(st.sampled_from((0, 1, 2) if hyp else (0, 1)),
                  st.binary(min_size=4, max_size=4)) if options.paging
        else st.just((0, b"")),
    )


def vm_seed(on: bool, raw: bytes) -> int:
    """``Program.vm`` from a drawn flag and seed bytes (never 0 when on)."""
    return (int.from_bytes(raw, "little") << 1 | 1) if on else 0


def irq_schedule(pulses) -> tuple[tuple[int, int], ...]:
    """The harness line schedule ``(model cycle, mask from then on)`` of drawn pulses
    ``(start, lines, width)``: each pulse raises its lines at IRQ_START + start for
    ``width`` cycles (a raised line interrupts again after every completion)."""
    edges: dict[int, list[tuple[int, int]]] = {}
    for start, mask, width in pulses:
        if mask:
            edges.setdefault(IRQ_START + start, []).append((mask, 1))
            edges.setdefault(IRQ_START + start + width, []).append((mask, -1))
    count = [0] * 32
    out, level = [], 0
    for cycle in sorted(edges):
        for mask, step in edges[cycle]:
            for line in range(32):
                if mask >> line & 1:
                    count[line] += step
        new = sum(1 << line for line in range(32) if count[line] > 0)
        if new != level:
            out.append((cycle, new))
            level = new
    return tuple(out)


def shrink_items(program: Program, fails, deadline: float | None = None) -> Program:
    """Delete items while ``fails(program)`` stays true (delta debugging: chunks of half
    the list, then quarters, ..., then single items). For programs drawn with a minimum
    length, which Hypothesis cannot shrink below. ``deadline``: a ``time.monotonic()``
    after which the best program so far is returned."""
    import time

    items = list(program.items)
    parts = 2
    while items:
        chunk = max(1, len(items) // parts)
        removed, i = False, 0
        while i < len(items):
            if deadline is not None and time.monotonic() > deadline:
                return dataclasses.replace(program, items=tuple(items))
            candidate = items[:i] + items[i + chunk:]
            if fails(dataclasses.replace(program, items=tuple(candidate))):
                items, removed = candidate, True
            else:
                i += chunk
        if not removed:
            if chunk == 1:
                break
            parts = min(parts * 2, len(items))
    return dataclasses.replace(program, items=tuple(items))


def random_program(seed: int, cfg: SocConfig = DEFAULT, *, length: int = 100,
                   options: GenOptions = GenOptions()) -> Program:
    """A program from a plain PRNG (benchmarks, quick reproductions without Hypothesis)."""
    rng = random.Random(seed)
    its = tuple((rng.randrange(256), rng.getrandbits(32)) for _ in range(length))
    lines = cfg.harness_irq_lines if options.external_irqs else 0
    irqs = irq_schedule([(rng.randrange(IRQ_HORIZON), rng.randrange(1 << lines),
                          rng.randrange(1, IRQ_WIDTH + 1))
                         for _ in range(rng.randrange(IRQ_PULSES + 1))]) if lines else ()
    route = rng.randrange(1 << lines) if lines else 0
    data, regs = rng.randbytes(DATA_SIZE), tuple(rng.getrandbits(64) for _ in range(31))
    vm = vm_seed(rng.random() < 0.5, rng.randbytes(4)) if options.paging else 0
    hv = 0
    if vm and options.hyp and cfg.core.has_h and rng.random() < 0.5:
        vm, hv = 0, vm
    return Program(its, data, regs, cfg, options, irqs, route, vm, hv)
