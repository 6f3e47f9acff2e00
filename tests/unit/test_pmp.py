"""PMP checker (hardware/core/pmp.py: build_pmp_lookup, pmp_allows) against a reference
checker written from the RISC-V privileged spec 3.7: TOR/NA4/NAPOT address matching,
the lowest-numbered matching entry decides, an entry that matches only some bytes of
an access fails it, M-mode passes unless the deciding entry is locked, and an access
no entry matches passes only in M-mode (when any entry is implemented)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings, strategies as st

from core_unit_bench import UnitBench, run_rom_program
from hardware.config import CoreConfig, SocConfig
from hardware.core.pmp import (A_NA4, A_NAPOT, A_OFF, A_TOR, PmpState, build_pmp_lookup,
                               decode_ranges, pmp_allows)

SETTINGS = settings(max_examples=200, deadline=None)
R, W, X, L = 1, 2, 4, 0x80
ADDR_BITS = 54
U, S, M = 0, 1, 3
#: access kinds: (need_r, need_w, need_x)
KINDS = {"load": (1, 0, 0), "store": (0, 1, 0), "amo": (1, 1, 0), "fetch": (0, 0, 1)}


def cfg_byte(a: int, perms: int = 0, lock: bool = False) -> int:
    return perms | a << 3 | (L if lock else 0)


def napot(base: int, size: int) -> int:
    """pmpaddr of the naturally aligned power-of-two region (size >= 8)."""
    assert size >= 8 and size & (size - 1) == 0 and base % size == 0
    return (base >> 2) | ((size >> 3) - 1)


@dataclass
class RefPmp:
    """The reference checker: entries as (pmpNcfg, pmpaddrN)."""

    cfgs: list[int]
    addrs: list[int]

    def byte_range(self, i: int) -> tuple[int, int] | None:
        """Bytes [lo, hi) that entry i matches (priv spec 3.7.1, table 3.9)."""
        a = self.cfgs[i] >> 3 & 3
        pa = self.addrs[i]
        if a == A_OFF:
            return None
        if a == A_TOR:
            return (self.addrs[i - 1] << 2 if i else 0), pa << 2
        if a == A_NA4:
            return pa << 2, (pa << 2) + 4
        ones = 0
        while ones < ADDR_BITS and pa >> ones & 1:
            ones += 1
        lo = (pa & ~((1 << ones) - 1)) << 2
        return lo, lo + (8 << ones)

    def decide(self, addr: int, size: int) -> tuple[int, bool] | None:
        """(entry, covers every byte) of the lowest entry matching any byte, or None."""
        for i in range(len(self.cfgs)):
            rng = self.byte_range(i)
            if rng is None:
                continue
            hits = [rng[0] <= b < rng[1] for b in range(addr, addr + size)]
            if any(hits):
                return i, all(hits)
        return None

    def allows(self, addr: int, size: int, priv: int, kind: str) -> bool:
        if not self.cfgs:
            return True
        found = self.decide(addr, size)
        if found is None:
            return priv == M
        i, full = found
        c = self.cfgs[i]
        if not full:
            return False
        if priv == M and not c & L:
            return True
        need_r, need_w, need_x = KINDS[kind]
        return bool((not need_r or c & R) and (not need_w or c & W) and (not need_x or c & X))


class PmpBench:
    """``n`` entries as Inputs; the lookup and the permission check as Outputs."""

    def __init__(self, n: int, implemented: bool = True):
        self.n = n
        inputs = {f"cfg{i}": 8 for i in range(n)}
        inputs.update({f"addr{i}": ADDR_BITS for i in range(n)})
        inputs.update(first=64, last=64, priv=2, r=1, w=1, x=1)

        def build(first, last, priv, r, w, x, **regs):
            state = PmpState(cfg=[regs[f"cfg{i}"] for i in range(n)],
                             addr=[regs[f"addr{i}"] for i in range(n)])
            look = build_pmp_lookup(state, decode_ranges(state), first, last)
            ok = pmp_allows(look, priv, r, w, x, implemented, "test")
            return {"matched": look.matched, "full": look.full, "cfg": look.cfg, "ok": ok}
        self.bench = UnitBench(inputs, build)

    def check(self, ref: RefPmp, addr: int, size: int, priv: int, kind: str) -> dict:
        regs = {f"cfg{i}": c for i, c in enumerate(ref.cfgs)}
        regs.update({f"addr{i}": a for i, a in enumerate(ref.addrs)})
        r, w, x = KINDS[kind]
        return self.bench(first=addr, last=addr + size - 1, priv=priv, r=r, w=w, x=x, **regs)


def run(bench: PmpBench, ref: RefPmp, addr: int, size: int, priv: int, kind: str) -> bool:
    """Compare the hardware with the reference; return the verdict."""
    out = bench.check(ref, addr, size, priv, kind)
    found = ref.decide(addr, size)
    where = f"cfgs={[hex(c) for c in ref.cfgs]} addrs={[hex(a) for a in ref.addrs]} " \
            f"addr={addr:#x} size={size} priv={priv} {kind}"
    assert out["matched"] == int(found is not None), where
    if found is not None:
        assert out["full"] == int(found[1]), where
        assert out["cfg"] == ref.cfgs[found[0]], where
    want = ref.allows(addr, size, priv, kind)
    assert out["ok"] == int(want), where
    return want


@pytest.fixture(scope="module")
def pmp4():
    return PmpBench(4)


@pytest.fixture(scope="module")
def pmp16():
    return PmpBench(16)


# --- random configurations -------------------------------------------------------------

WINDOW = 0x8000_0000  # entries and accesses cluster in a small window here
SPAN = 0x400


@st.composite
def entries(draw, n: int):
    cfgs, addrs = [], []
    for _ in range(n):
        a = draw(st.sampled_from((A_OFF, A_TOR, A_NA4, A_NAPOT)))
        perms = draw(st.integers(0, 7))
        lock = draw(st.booleans())
        if a == A_NAPOT and draw(st.booleans()):
            size = 8 << draw(st.integers(0, 6))
            base = WINDOW + draw(st.integers(0, SPAN // size - 1)) * size
            pa = napot(base, size)
        else:
            pa = (WINDOW >> 2) + draw(st.integers(0, SPAN // 4))
        cfgs.append(cfg_byte(a, perms, lock))
        addrs.append(pa)
    return RefPmp(cfgs, addrs)


@st.composite
def accesses(draw, ref: RefPmp):
    """An aligned access, often placed on an edge of one of ``ref``'s entries."""
    size = draw(st.sampled_from((1, 2, 4, 8, 8)))
    edges = [e for i in range(len(ref.cfgs)) for e in (ref.byte_range(i) or ())]
    if edges and draw(st.booleans()):
        addr = draw(st.sampled_from(edges)) + draw(st.sampled_from((-8, -4, 0, 4)))
    else:
        addr = WINDOW + draw(st.integers(-2, SPAN // size + 2)) * size
    priv = draw(st.sampled_from((U, S, M)))
    kind = draw(st.sampled_from(sorted(KINDS)))
    if kind == "fetch":
        size = 2
    return addr & ~(size - 1) & ((1 << 56) - 1), size, priv, kind


@SETTINGS
@given(st.data())
def test_random_configurations_4_entries(pmp4, data):
    ref = data.draw(entries(4))
    run(pmp4, ref, *data.draw(accesses(ref)))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_configurations_16_entries(pmp16, data):
    ref = data.draw(entries(16))
    run(pmp16, ref, *data.draw(accesses(ref)))


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, (1 << ADDR_BITS) - 1)),
                min_size=4, max_size=4),
       st.integers(0, (1 << 56) - 8), st.sampled_from((1, 2, 4, 8)),
       st.sampled_from((U, S, M)), st.sampled_from(sorted(KINDS)))
def test_arbitrary_register_values(pmp4, regs, addr, size, priv, kind):
    ref = RefPmp([c for c, _ in regs], [a for _, a in regs])
    run(pmp4, ref, addr & ~(size - 1), size, priv, kind)


# --- the spec's rules, one by one ------------------------------------------------------

def _pad(cfgs: list[int], addrs: list[int], n: int = 4) -> RefPmp:
    return RefPmp(cfgs + [0] * (n - len(cfgs)), addrs + [0] * (n - len(addrs)))


def test_no_match_passes_only_in_m(pmp4):
    ref = _pad([], [])
    for kind in KINDS:
        assert run(pmp4, ref, 0x8000_0000, 8, M, kind)
        assert not run(pmp4, ref, 0x8000_0000, 8, S, kind)
        assert not run(pmp4, ref, 0x8000_0000, 8, U, kind)


def test_no_entry_implemented_allows_everything():
    bench = PmpBench(0, implemented=False)
    for priv in (U, S, M):
        out = bench.bench(first=0x8000_0000, last=0x8000_0007, priv=priv, r=1, w=1, x=0)
        assert out["ok"] == 1 and out["matched"] == 0


def test_tor_entry0_starts_at_zero_and_top_is_exclusive(pmp4):
    ref = _pad([cfg_byte(A_TOR, R)], [0x1000 >> 2])
    assert run(pmp4, ref, 0x0, 8, U, "load")
    assert run(pmp4, ref, 0xFF8, 8, U, "load")
    assert not run(pmp4, ref, 0x1000, 4, U, "load")
    assert not run(pmp4, ref, 0xFF8, 8, U, "store")


def test_tor_with_base_above_top_matches_nothing(pmp4):
    ref = _pad([cfg_byte(A_OFF), cfg_byte(A_TOR, R | W | X)], [0x2000 >> 2, 0x1000 >> 2])
    assert not run(pmp4, ref, 0x1800, 8, S, "load")
    assert pmp4.check(ref, 0x1800, 8, S, "load")["matched"] == 0


def test_na4_partial_match_of_an_8_byte_access_fails_even_in_m(pmp4):
    ref = _pad([cfg_byte(A_NA4, R | W | X)], [0x8000_0004 >> 2])
    for priv in (U, S, M):
        assert not run(pmp4, ref, 0x8000_0000, 8, priv, "load")
    assert pmp4.check(ref, 0x8000_0000, 8, M, "load")["full"] == 0
    assert run(pmp4, ref, 0x8000_0004, 4, U, "load")
    assert run(pmp4, ref, 0x8000_0006, 2, U, "store")
    assert not run(pmp4, ref, 0x8000_0000, 4, U, "load")  # no match at all
    assert run(pmp4, ref, 0x8000_0000, 4, M, "load")


def test_partial_match_decides_before_a_later_full_match(pmp4):
    ref = _pad([cfg_byte(A_NA4, R | W), cfg_byte(A_NAPOT, R | W)],
               [0x8000_0004 >> 2, napot(0x8000_0000, 0x1000)])
    assert not run(pmp4, ref, 0x8000_0000, 8, S, "load")
    assert run(pmp4, ref, 0x8000_0008, 8, S, "load")


def test_napot_sizes(pmp4):
    for k in range(0, 20):
        size = 8 << k
        base = 0x8000_0000
        ref = _pad([cfg_byte(A_NAPOT, R)], [napot(base, size)])
        assert run(pmp4, ref, base, 8, U, "load"), size
        assert run(pmp4, ref, base + size - 8, 8, U, "load"), size
        assert not run(pmp4, ref, base + size, 8, U, "load"), size
        assert not run(pmp4, ref, base - 8, 8, U, "load"), size


def test_napot_all_ones_covers_the_whole_physical_space(pmp4):
    ref = _pad([cfg_byte(A_NAPOT, R | W | X)], [(1 << ADDR_BITS) - 1])
    for addr in (0, 0x8000_0000, (1 << 56) - 8):
        assert run(pmp4, ref, addr, 8, U, "amo")


def test_addresses_above_56_bits_never_match(pmp4):
    ref = _pad([cfg_byte(A_NAPOT, R | W | X)], [(1 << ADDR_BITS) - 1])
    out = pmp4.check(ref, 1 << 56, 8, U, "load")
    assert out["matched"] == 0 and out["ok"] == 0
    assert pmp4.check(ref, 1 << 63, 8, M, "load")["ok"] == 1


def test_lock_bit_binds_m_mode(pmp4):
    unlocked = _pad([cfg_byte(A_NAPOT, 0)], [napot(0x8000_0000, 0x1000)])
    locked = _pad([cfg_byte(A_NAPOT, R, lock=True)], [napot(0x8000_0000, 0x1000)])
    for kind in KINDS:
        assert run(pmp4, unlocked, 0x8000_0010, 8, M, kind)
        assert not run(pmp4, unlocked, 0x8000_0010, 8, S, kind)
        assert run(pmp4, locked, 0x8000_0010, 8, M, kind) == (kind == "load")


def test_lowest_entry_wins(pmp4):
    ref = _pad([cfg_byte(A_NAPOT, R), cfg_byte(A_NAPOT, R | W | X)],
               [napot(0x8000_0000, 0x100), napot(0x8000_0000, 0x10000)])
    assert not run(pmp4, ref, 0x8000_0010, 8, U, "store")
    assert run(pmp4, ref, 0x8000_0100, 8, U, "store")


def test_amo_needs_read_and_write(pmp4):
    for perms in range(8):
        ref = _pad([cfg_byte(A_NAPOT, perms)], [napot(0x8000_0000, 0x1000)])
        assert run(pmp4, ref, 0x8000_0000, 8, S, "amo") == (perms & 3 == 3)


def test_fetch_needs_execute(pmp4):
    for perms in range(8):
        ref = _pad([cfg_byte(A_NAPOT, perms)], [napot(0x8000_0000, 0x1000)])
        assert run(pmp4, ref, 0x8000_0002, 2, U, "fetch") == bool(perms & X)


# --- the core's use of the checker -----------------------------------------------------

#: The core checks fetches through a different MMU with and without H: run on both.
CORES = {"h": SocConfig(core=CoreConfig(has_h=True)),
         "noh": SocConfig(core=CoreConfig(has_h=False))}

STRADDLE_SRC = """
.option norvc
  la t0, handler
  csrw mtvec, t0
  la t0, boundary
  srli t0, t0, 2
  csrw pmpaddr0, t0
  li t0, -1
  csrw pmpaddr1, t0
  li t0, 0x9B8D          # entry 0: L TOR X R up to boundary; entry 1: L NAPOT W R
  csrw pmpcfg0, t0
  j straddle
handler:
  csrr a3, mtval
1: j 1b
.balign 256
  .skip 254
straddle:
  addi a0, a0, 1         # 4 bytes: its upper half lies past the boundary
boundary = straddle + 2
  addi a0, a0, 1
"""


@pytest.mark.parametrize("core", sorted(CORES))
def test_fetch_checks_both_halves_of_a_32_bit_instruction(core):
    recs = run_rom_program(STRADDLE_SRC, 200, CORES[core])
    trap = next(r for r in recs if r["trap"])
    boundary = 0x1000 + 0x200
    assert (trap["pc"], trap["cause"]) == (boundary - 2, 1)
    tval = next(r["rd_wdata"] for r in recs if r["insn"] == 0x343026F3)  # csrr a3, mtval
    assert tval == boundary


#: Both halves executable, but through different entries: Spike checks each 16-bit
#: parcel on its own, so the instruction runs and the ebreak after it traps.
SPLIT_X_SRC = STRADDLE_SRC.replace("li t0, 0x9B8D", "li t0, 0x9F8D").replace(
    "boundary = straddle + 2\n  addi a0, a0, 1", "boundary = straddle + 2\n  ebreak")


@pytest.mark.parametrize("core", sorted(CORES))
def test_fetch_halves_may_be_allowed_by_different_entries(core):
    assert SPLIT_X_SRC != STRADDLE_SRC and "ebreak" in SPLIT_X_SRC
    recs = run_rom_program(SPLIT_X_SRC, 200, CORES[core])
    trap = next(r for r in recs if r["trap"])
    boundary = 0x1000 + 0x200
    assert (trap["pc"], trap["cause"]) == (boundary + 2, 3)
