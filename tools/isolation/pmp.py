"""The PMP invariant (issue 7, item 1, "hypervisor invariants"; docs/fuzzing.md,
"Properties", gstage): after boot, no S- or U-mode access (HS, VS, VU, and the
G-stage walker) may read, write or execute any byte of the M stage.

The PMP CSRs are read from the model's registers and decided the way priv spec 3.7.1
does: the lowest-numbered entry that matches an address decides; an S/U access that
no entry matches fails when any entry is implemented. Entries are checked on every
granule boundary inside the region, since the decision is constant between them.
"""

from __future__ import annotations

A_OFF, A_TOR, A_NA4, A_NAPOT = range(4)
R, W, X, LOCK = 1, 2, 4, 0x80


def read_pmp(sim, entries: int) -> list[tuple[int, int]]:
    """(pmpNcfg, pmpaddrN) of each entry from the model's ``csr_*`` registers."""
    return [(sim.get_register(f"csr_pmp{i}cfg"), sim.get_register(f"csr_pmpaddr{i}"))
            for i in range(entries)]


def ranges(pmp: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Each entry as (lo, hi, cfg): byte range [lo, hi) (empty when OFF)."""
    out, prev = [], 0
    for cfg, addr in pmp:
        mode = (cfg >> 3) & 3
        if mode == A_TOR:
            lo, hi = prev << 2, addr << 2
        elif mode == A_NA4:
            lo, hi = addr << 2, (addr << 2) + 4
        elif mode == A_NAPOT:
            ones = (~addr & (addr + 1)).bit_length() - 1  # trailing ones of addr
            size = 1 << (ones + 3)
            lo = (addr << 2) & ~(size - 1)
            hi = lo + size
        else:
            lo = hi = 0
        out.append((lo, hi, cfg))
        prev = addr
    return out


def s_access(rows: list[tuple[int, int, int]], addr: int) -> int:
    """The R/W/X bits an S- or U-mode access to ``addr`` gets."""
    for lo, hi, cfg in rows:
        if lo <= addr < hi:
            return cfg & (R | W | X)
    return 0 if rows else R | W | X


def m_stage_problems(sim, entries: int, lo: int, hi: int) -> list[str]:
    """Where S/U-mode may touch the M stage [lo, hi); empty when the PMP closes it (or
    the SoC has no PMP, ``entries`` 0, where nothing can)."""
    if not entries:
        return []
    rows = ranges(read_pmp(sim, entries))
    points = sorted({lo, *(b for r in rows for b in r[:2] if lo < b < hi)})
    out = []
    for p in points:
        perms = s_access(rows, p)
        if perms:
            names = "".join(c for c, b in (("r", R), ("w", W), ("x", X)) if perms & b)
            out.append(f"the PMP gives S/U-mode '{names}' access to the M stage at {p:#x}")
    return out
