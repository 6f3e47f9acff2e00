"""Random but valid Sv39 address spaces for paging fuzz programs (RISC-V privileged spec
1.12: 4.1.11 satp, 4.3.1 PTE format, 4.3.2 translation, 4.4 Sv39; hypervisor spec 8.5
Sv39x4 for the G stage of ``build_gstage``). docs/fuzzing-cpu.md, "Paging".

``build_vm(seed, layout)`` lays out page tables in the runtime's page pool (``fz_pt``):

- an identity map of the first 2 MiB of RAM in two level-0 tables that differ only in
  the U bit of the body's pages (``code_s``/``code_u``: the level-1 PTE that selects
  one). Runtime code is RX, runtime data and the page pool RW (all U=0, A=D=1), the data
  page and the extra data pages get random permissions, tohost stays unmapped;
- *windows*: leaves at random canonical virtual addresses (4 KiB pages on the data page
  or the extra pages, 2 MiB and 1 GiB superpages on the RAM base, a few on addresses no
  device answers) with random R/W/X/U/G/A/D, sometimes invalid (V=0, W without R,
  reserved bits, misaligned superpages, a level-0 pointer), several aliasing the same
  physical page;
- *holes*: virtual addresses whose walk stops at an invalid PTE, a pointer outside RAM
  (an access fault on the PTE read) or that are not canonical.

Windows never cover the layout's unmapped addresses (the fault items' targets) nor the
identity range, so a store through a window reaches only the data the generator meant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PAGE = 4096
LEVEL_SIZE = {0: 1 << 12, 1: 1 << 21, 2: 1 << 30}
V, R, W, X, U, G, A, D = (1 << i for i in range(8))
RESERVED_BITS = tuple(range(54, 64))
SATP_SV39 = 8 << 60
#: Physical addresses no region of the model and no device of Spike answers (leaves and
#: table pointers to them fault with an access fault).
NOWHERE = (0x2000_0000, 0x4000_0000)


def pte(pa: int, flags: int) -> int:
    """A PTE pointing at physical address ``pa`` with ``flags``."""
    return (pa >> 12) << 10 | flags


def pte_pa(value: int) -> int:
    return (value >> 10 & ((1 << 44) - 1)) << 12


def sext39(va: int) -> int:
    """The canonical 64-bit form of a 39-bit virtual address."""
    va &= (1 << 39) - 1
    return va | (((1 << 64) - 1) ^ ((1 << 39) - 1)) if va >> 38 else va


def vpn(va: int, level: int) -> int:
    return va >> (12 + 9 * level) & 511


#: Kinds of window: name -> (weight, level of its leaf); "io" maps a 4 KiB page nowhere.
WINDOW_KINDS = {"4k": (6, 0), "2m": (2, 1), "1g": (1.2, 2), "io": (0.5, 0)}


def pick_kind(rng) -> tuple[str, int]:
    """A window kind and its leaf level, by WINDOW_KINDS' weights."""
    name = rng.choices(tuple(WINDOW_KINDS), tuple(w for w, _ in WINDOW_KINDS.values()))[0]
    return name, WINDOW_KINDS[name][1]


def small_pages(lay) -> list[int]:
    """The 4 KiB pages a small window may map: the data page and the program's pages."""
    return [lay.data & ~(PAGE - 1)] + [lay.vpages + i * PAGE for i in range(lay.n_vpages)]


@dataclass(frozen=True)
class VmLayout:
    """Physical addresses the page tables describe (symbols of the runtime)."""

    ram: int  # RAM base = the runtime's first byte
    body: int  # first byte of the body (page aligned)
    body_size: int
    pt: int  # page pool
    pt_pages: int
    vpages: int  # extra data pages
    n_vpages: int
    data: int  # the data region's page (fz_data; the stubs follow the data region)
    data_size: int
    stubs: int
    tohost: int
    unmapped: tuple[int, ...]
    gpt: int = 0  # G-stage page pool (fz_gpt, 16 KiB aligned; H programs)
    gpt_pages: int = 0


@dataclass(frozen=True)
class Window:
    """A leaf mapping the generator accesses through."""

    va: int  # canonical virtual base of the leaf's region
    level: int  # 0: 4 KiB, 1: 2 MiB, 2: 1 GiB
    pte_addr: int  # physical (= identity virtual) address of the leaf PTE
    pte: int  # its initial value
    glob: bool  # a non-leaf PTE on the walk is global
    name: str  # 4k, 2m, 1g, io (leaf outside RAM)

    @property
    def size(self) -> int:
        return LEVEL_SIZE[self.level]


@dataclass(frozen=True)
class VmSpace:
    """A program's Sv39 address space."""

    image: bytes  # contents of the page pool
    root: int  # physical address of the root table
    code_pte: int  # address of the level-1 PTE that selects the identity level-0 table
    code_s: int  # its value for S (body pages U=0)
    code_u: int  # its value for U (body pages U=1)
    windows: tuple[Window, ...]
    holes: tuple[int, ...]
    asid: int  # initial ASID
    hole_kinds: tuple[str, ...] = ()  # per hole: canonical, unmapped, bad, ptr (pointer outside RAM)

    def satp(self, asid: int) -> int:
        return SATP_SV39 | (asid & 0xFFFF) << 44 | self.root >> 12


class _Pool:
    """Table pages allocated from the runtime's pool."""

    def __init__(self, layout: VmLayout):
        self.layout = layout
        self.words = [0] * (layout.pt_pages * 512)
        self.next = 0

    def alloc(self) -> int | None:
        if self.next >= self.layout.pt_pages:
            return None
        self.next += 1
        return self.layout.pt + (self.next - 1) * PAGE

    def get(self, addr: int) -> int:
        return self.words[(addr - self.layout.pt) // 8]

    def put(self, addr: int, value: int) -> None:
        self.words[(addr - self.layout.pt) // 8] = value

    def image(self) -> bytes:
        return b"".join(w.to_bytes(8, "little") for w in self.words)


class _Builder:
    def __init__(self, rng: random.Random, layout: VmLayout, extra: tuple[int, ...] = (),
                 gpa_holes: tuple[int, ...] = ()):
        self.rng, self.layout, self.extra, self.gpa_holes = rng, layout, extra, gpa_holes
        self.hole_kinds: list[str] = []
        self.pool = _Pool(layout)
        self.root = self.pool.alloc()
        self.reserved: list[tuple[int, int]] = []  # [lo, hi) virtual ranges windows avoid
        self.glob: dict[int, bool] = {}  # table address -> some pointer above it is global

    # ---- tables

    def slot(self, va: int, level: int) -> tuple[int, bool] | None:
        """Address of the PTE of ``va`` at ``level`` (tables created on the way, with
        random G on new pointers), and whether the walk above is global; None when the
        pool is full or a leaf is in the way."""
        table, glob = self.root, False
        for lvl in (2, 1, 0):
            addr = table + 8 * vpn(va, lvl)
            if lvl == level:
                return None if self.pool.get(addr) else (addr, glob)
            value = self.pool.get(addr)
            if value == 0:
                new = self.pool.alloc()
                if new is None:
                    return None
                flags = V | (G if self.rng.random() < 0.1 else 0)
                self.pool.put(addr, pte(new, flags))
                value = self.pool.get(addr)
            elif value & (R | W | X) or not value & V:
                return None
            glob = glob or bool(value & G)
            table = pte_pa(value)
        return None

    # ---- identity map of the first 2 MiB

    def identity(self) -> tuple[int, int, int]:
        lay, rng = self.layout, self.rng
        l1 = self.pool.alloc()
        self.pool.put(self.root + 8 * vpn(lay.ram, 2), pte(l1, V))
        l0s, l0u = self.pool.alloc(), self.pool.alloc()
        code_pte = l1 + 8 * vpn(lay.ram, 1)
        self.pool.put(code_pte, pte(l0s, V))
        rt_glob = G if rng.random() < 0.5 else 0
        for page in range(lay.ram, (lay.data & ~(PAGE - 1)) + PAGE, PAGE):
            if page < lay.body:
                flags = V | R | X | A | rt_glob
            elif page < lay.body + lay.body_size:
                flags = V | R | X | A
            elif page < lay.pt + lay.pt_pages * PAGE:
                flags = V | R | W | A | D | rt_glob
            else:
                flags = self.perms(data=True)
            slot = vpn(page, 0) * 8
            body = lay.body <= page < lay.body + lay.body_size
            self.pool.put(l0s + slot, pte(page, flags))
            self.pool.put(l0u + slot, pte(page, flags | (U if body else 0)))
        self.reserved.append((lay.ram, lay.ram + LEVEL_SIZE[1]))
        return code_pte, pte(l0s, V), pte(l0u, V)

    def perms(self, data: bool = False) -> int:
        """Random leaf flags: mostly valid, sometimes a reserved encoding."""
        rng = self.rng
        flags = V if rng.random() < 0.93 else 0
        for bit, p in ((R, 0.75), (W, 0.6), (X, 0.45 if not data else 0.2), (U, 0.5),
                       (G, 0.25), (A, 0.9), (D, 0.8)):
            if rng.random() < p:
                flags |= bit
        if not flags & (R | W | X):
            flags |= R
        if flags & W and not flags & R and rng.random() < 0.8:
            flags |= R
        if rng.random() < 0.03:
            flags |= 1 << rng.choice(RESERVED_BITS)
        return flags

    # ---- windows and holes

    def free_va(self, level: int) -> int | None:
        """A random canonical base for a leaf at ``level`` outside reserved ranges."""
        rng, size = self.rng, LEVEL_SIZE[level]
        for _ in range(40):
            if rng.random() < 0.4:
                top = vpn(self.layout.ram, 2) if rng.random() < 0.6 else rng.randrange(512)
                va = top << 30 | rng.randrange(1 << 30) & ~(size - 1)
            else:
                va = rng.randrange(1 << 39) & ~(size - 1)
            lo = va
            if any(lo < hi2 and lo2 < lo + size for lo2, hi2 in self.reserved):
                continue
            if any(lo <= (u & ((1 << 39) - 1)) < lo + size + 64 for u in self.layout.unmapped):
                continue
            return sext39(va)
        return None

    def window(self) -> Window | None:
        rng, lay = self.rng, self.layout
        name, level = pick_kind(rng)
        va = self.free_va(level)
        if va is None:
            return None
        found = self.slot(va, level)
        if found is None:
            return None
        addr, glob = found
        flags = self.perms(data=name != "io")
        if name == "4k":
            pages = small_pages(lay)
            pa = rng.choice(pages + list(self.extra)) if self.extra and rng.random() < 0.5 \
                else rng.choice(pages)
            if rng.random() < 0.3:
                flags |= X
        elif name == "io":
            pa = rng.choice(NOWHERE)
        else:
            pa = lay.ram & ~(LEVEL_SIZE[level] - 1)
            if rng.random() < 0.3:
                flags |= X
            if rng.random() < 0.1:
                pa += PAGE * rng.randrange(1, 512)  # misaligned superpage
        if level == 0 and rng.random() < 0.03:
            flags &= ~(R | W | X)  # a pointer at level 0
        value = pte(pa, flags)
        self.pool.put(addr, value)
        self.reserved.append((va & ((1 << 39) - 1), (va & ((1 << 39) - 1)) + LEVEL_SIZE[level]))
        return Window(va, level, addr, value, glob, name)

    def hole(self) -> int:
        """A virtual address whose translation faults."""
        rng = self.rng
        pick = rng.random()
        if pick < 0.15:
            self.hole_kinds.append("canonical")
            return rng.randrange(1 << 39, 1 << 62) & ~7  # not canonical
        va = self.free_va(0)
        if va is None:
            self.hole_kinds.append("canonical")
            return 1 << 40
        kind = "unmapped"
        if self.gpa_holes and pick < 0.6:
            # a level-1 pointer to a GPA the G stage does not map: the walk's next PTE
            # read takes an implicit guest-page fault
            found = self.slot(va, 1)
            if found is not None:
                self.pool.put(found[0], pte(rng.choice(self.gpa_holes) & ~(PAGE - 1), V))
                kind = "ptr"
        elif pick < 0.3:
            found = self.slot(va, rng.choice((0, 1)))
            if found is not None:
                addr, _ = found
                bad = rng.choice((0, pte(rng.choice(NOWHERE), V), W | V,
                                  V | R | (1 << rng.choice(RESERVED_BITS))))
                self.pool.put(addr, bad)
                kind = "ptr" if bad >> 10 else "bad"
        self.hole_kinds.append(kind)
        self.reserved.append((va & ((1 << 39) - 1), (va & ((1 << 39) - 1)) + PAGE))
        return va


def build_vm(seed: int, layout: VmLayout, extra: tuple[int, ...] = (),
             gpa_holes: tuple[int, ...] = ()) -> VmSpace:
    """The address space of a paging program drawn from ``seed`` (``extra``: more
    pages 4 KiB leaves may point at; for a VS stage, guest-physical aliases;
    ``gpa_holes``: GPAs the G stage does not map, for table pointers of holes)."""
    rng = random.Random(seed)
    b = _Builder(rng, layout, extra, gpa_holes)
    code_pte, code_s, code_u = b.identity()
    first = tuple(b.hole() for _ in range(rng.randrange(1, 3))) if gpa_holes else ()
    windows = []
    for _ in range(rng.randrange(3, 9)):
        w = b.window()
        if w is not None:
            windows.append(w)
    if rng.random() < 0.2:
        # a non-leaf PTE with A/D/U set (reserved for non-leaf PTEs): walks through it fault
        for w in windows:
            table, addr = b.root, None
            addr = table + 8 * vpn(w.va, 2)
            value = b.pool.get(addr)
            if value & V and not value & (R | W | X) and vpn(w.va, 2) != vpn(layout.ram, 2):
                b.pool.put(addr, value | rng.choice((A, D, U)))
                break
    holes = first + tuple(b.hole() for _ in range(rng.randrange(1, 4)))
    return VmSpace(b.pool.image(), b.root, code_pte, code_s, code_u, tuple(windows), holes,
                   rng.getrandbits(16), tuple(b.hole_kinds))


def targets(window_pa: int, level: int, layout: VmLayout) -> list[tuple[int, int]]:
    """Physical [lo, hi) ranges a window mapping ``window_pa`` may access: the data
    region and extra pages it covers (never code or runtime data)."""
    size = LEVEL_SIZE[level]
    base = window_pa & ~(size - 1)
    ranges = [(layout.data, layout.data + layout.data_size)]
    ranges += [(layout.vpages + i * PAGE, layout.vpages + (i + 1) * PAGE)
               for i in range(layout.n_vpages)]
    return [(lo, hi) for lo, hi in ranges if base <= lo and hi <= base + size]


# --------------------------------------------------------------------------- G stage
# Hypervisor spec (H 1.0) 8.2.12 hgatp, 8.5.1 Sv39x4: a 16 KiB root indexed by GPA[40:30],
# then two Sv39 levels; every leaf a guest may use needs U = 1; GPA bits 63:41 fault.

HGATP_SV39X4 = 8 << 60
GPA_BITS = 41
G_ROOT_PAGES = 4


def gvpn(gpa: int, level: int) -> int:
    """Index of ``gpa`` in a G-stage table at ``level`` (the root has 2048 entries)."""
    return gpa >> (12 + 9 * level) & (0x7FF if level == 2 else 511)


@dataclass(frozen=True)
class GWindow:
    """A G-stage leaf the generator accesses through (``gpa``: its guest-physical base)."""

    gpa: int
    level: int
    pte_addr: int
    pte: int
    name: str  # 4k, 2m, 1g, io

    @property
    def size(self) -> int:
        return LEVEL_SIZE[self.level]


@dataclass(frozen=True)
class GSpace:
    """A program's G stage (Sv39x4 under hgatp)."""

    image: bytes  # contents of the G page pool
    root: int
    windows: tuple[GWindow, ...]
    holes: tuple[tuple[int, str], ...]  # (GPA, kind: unmapped, big, bad)
    vmid: int
    identity: tuple[int, int]  # [lo, hi) GPAs mapped to the same physical addresses

    def hgatp(self, vmid: int) -> int:
        return HGATP_SV39X4 | (vmid & 0x3FFF) << 44 | self.root >> 12


@dataclass(frozen=True)
class HypSpace:
    """The two stages of a hypervisor program: G stage, and the VS stage (None: vsatp
    Bare, guest virtual = guest physical)."""

    g: GSpace
    vs: VmSpace | None

    @property
    def vsatp(self) -> int:
        return self.vs.satp(self.vs.asid) if self.vs else 0


class _GBuilder:
    """G-stage tables in the G pool (root: its first four pages)."""

    def __init__(self, rng: random.Random, layout: VmLayout):
        self.rng, self.layout = rng, layout
        self.words = [0] * (layout.gpt_pages * 512)
        self.next = G_ROOT_PAGES
        self.root = layout.gpt
        self.reserved: list[tuple[int, int]] = []

    def alloc(self) -> int | None:
        if self.next >= self.layout.gpt_pages:
            return None
        self.next += 1
        return self.layout.gpt + (self.next - 1) * PAGE

    def get(self, addr: int) -> int:
        return self.words[(addr - self.layout.gpt) // 8]

    def put(self, addr: int, value: int) -> None:
        self.words[(addr - self.layout.gpt) // 8] = value

    def slot(self, gpa: int, level: int) -> int | None:
        """Address of the G PTE of ``gpa`` at ``level`` (tables created on the way)."""
        table = self.root
        for lvl in (2, 1, 0):
            addr = table + 8 * gvpn(gpa, lvl)
            value = self.get(addr)
            if lvl == level:
                return None if value else addr
            if value == 0:
                new = self.alloc()
                if new is None:
                    return None
                self.put(addr, pte(new, V))
                value = self.get(addr)
            elif value & (R | W | X) or not value & V:
                return None
            table = pte_pa(value)
        return None

    def perms(self, data: bool = True) -> int:
        """G leaf flags: mostly usable by a guest (U, A, D), sometimes not."""
        rng = self.rng
        flags = V if rng.random() < 0.95 else 0
        for bit, p in ((R, 0.92), (W, 0.8), (X, 0.35 if data else 0.9), (U, 0.9), (A, 0.93),
                       (D, 0.88)):
            if rng.random() < p:
                flags |= bit
        if not flags & (R | W | X):
            flags |= R
        if flags & W and not flags & R and rng.random() < 0.8:
            flags |= R
        if rng.random() < 0.02:
            flags |= 1 << rng.choice(RESERVED_BITS)
        return flags

    def identity(self) -> tuple[int, int]:
        """GPA = PA for the first 2 MiB of RAM: one 2 MiB leaf, or 4 KiB leaves (runtime
        code RX, runtime data and pools RW, data pages random; all U, A, D)."""
        lay, rng = self.layout, self.rng
        lo = lay.ram
        hi = lo + LEVEL_SIZE[1]
        self.reserved.append((lo, hi))
        if rng.random() < 0.25:
            self.put(self.slot(lo, 1), pte(lo, V | R | W | X | U | A | D))
            return lo, hi
        l0 = self.slot(lo, 0) - 8 * gvpn(lo, 0)
        for page in range(lo, (lay.data & ~(PAGE - 1)) + PAGE, PAGE):
            if page < lay.body + lay.body_size:
                flags = V | R | X | U | A
            elif page < lay.vpages:
                flags = V | R | W | U | A | D
            else:
                flags = self.perms()
            self.put(l0 + 8 * gvpn(page, 0), pte(page, flags))
        return lo, hi

    def free_gpa(self, level: int) -> int | None:
        rng, size = self.rng, LEVEL_SIZE[level]
        avoid = tuple(self.layout.unmapped) + NOWHERE
        for _ in range(40):
            if rng.random() < 0.5:
                gpa = (self.layout.ram >> 30) << 30 | rng.randrange(1 << 30) & ~(size - 1)
            else:
                gpa = rng.randrange(1 << GPA_BITS) & ~(size - 1)
            if any(gpa < h and l < gpa + size for l, h in self.reserved):
                continue
            if any(gpa <= u < gpa + size + 64 for u in avoid):
                continue
            return gpa
        return None

    def window(self) -> GWindow | None:
        rng, lay = self.rng, self.layout
        name, level = pick_kind(rng)
        gpa = self.free_gpa(level)
        if gpa is None:
            return None
        addr = self.slot(gpa, level)
        if addr is None:
            return None
        flags = self.perms()
        if name == "4k":
            pa = rng.choice(small_pages(lay))
        elif name == "io":
            pa = rng.choice(NOWHERE)
        else:
            pa = lay.ram & ~(LEVEL_SIZE[level] - 1)
            if rng.random() < 0.1:
                pa += PAGE * rng.randrange(1, 512)  # misaligned superpage
        value = pte(pa, flags)
        self.put(addr, value)
        self.reserved.append((gpa, gpa + LEVEL_SIZE[level]))
        return GWindow(gpa, level, addr, value, name)

    def hole(self) -> tuple[int, str]:
        rng = self.rng
        pick = rng.random()
        if pick < 0.25:
            return rng.randrange(1 << GPA_BITS, 1 << 56) & ~7, "big"
        gpa = self.free_gpa(0)
        if gpa is None:
            return 1 << 45, "big"
        kind = "unmapped"
        if pick < 0.55:
            addr = self.slot(gpa, rng.choice((0, 1)))
            if addr is not None:
                self.put(addr, rng.choice((pte(rng.choice(NOWHERE), V), W | V, V | R | W | A,
                                           V | R | U | (1 << rng.choice(RESERVED_BITS)))))
                kind = "bad"
        self.reserved.append((gpa, gpa + PAGE))
        return gpa, kind

    def image(self) -> bytes:
        return b"".join(w.to_bytes(8, "little") for w in self.words)


def build_gstage(rng: random.Random, layout: VmLayout) -> GSpace:
    """A random G stage: identity map of the runtime's 2 MiB, 3-8 windows, 1-3 holes."""
    b = _GBuilder(rng, layout)
    ident = b.identity()
    windows = [w for w in (b.window() for _ in range(rng.randrange(3, 9))) if w is not None]
    holes = tuple(b.hole() for _ in range(rng.randrange(1, 4)))
    return GSpace(b.image(), b.root, tuple(windows), holes, rng.getrandbits(14), ident)


def safe_pages(g: GSpace, layout: VmLayout) -> tuple[int, ...]:
    """GPAs of whole extra data pages through G windows (aliases a VS leaf may map)."""
    out = []
    for w in g.windows:
        pa = pte_pa(w.pte)
        for lo, hi in targets(pa, w.level, layout):
            if hi - lo == PAGE and lo != layout.data & ~(PAGE - 1):
                out.append(w.gpa + lo - (pa & ~(w.size - 1)))
    return tuple(out)


def build_hyp(seed: int, layout: VmLayout) -> HypSpace:
    """The address space of a hypervisor program: the G stage, then (70%) a VS stage
    whose 4 KiB leaves may also point at G-window aliases of the extra pages or at GPAs
    the G stage does not map; its tables live in the VS pool (identity in the G stage)."""
    rng = random.Random(seed)
    g = build_gstage(rng, layout)
    if rng.random() < 0.3:
        return HypSpace(g, None)
    extra = safe_pages(g, layout) + tuple(gpa & ~(PAGE - 1) for gpa, kind in g.holes
                                          if kind != "big")
    holes = tuple(gpa for gpa, kind in g.holes if kind != "bad") + NOWHERE
    return HypSpace(g, build_vm(rng.getrandbits(32), layout, extra, holes))
