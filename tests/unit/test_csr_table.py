"""The CSR table (hardware/isa/csrs.py) and the parts of the CSR file
(hardware/core/csr.py) generated from it: addresses and names unique and as in the
privileged spec 1.12 tables 2.2-2.5, write masks within 64 bits, read-only ranges
(address bits 11:10 = 0b11), privilege bits 9:8, WARL read-back values checked against
Spike (``spike --isa=rv64imac_zicsr_zifencei_zicntr_sstc``, write all ones / zeros,
read back), and the generated docs table in docs/csr.md.

Everything here is about a core without the H extension (``NOH``); the rows and
behaviour H adds or changes are tested in test_csr_h.py. ``CsrBench`` serves both."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from core_unit_bench import MASK64, UnitBench
from hardware.config import CoreConfig
from hardware.core.csr import CsrRequest, IrqLines, TrapEvent, build_csr_file
from hardware.isa import csrs as T
from hardware.isa import docs_tables

NOH = CoreConfig(has_h=False)
TABLE = T.csr_table(NOH)
ROWS = T.by_name(NOH)
U, S, M = 0, 1, 3
KINDS = {"plain", "const", "special"}
LEGALIZE = {"", "clear_bit0", "tvec", "mpp"}
#: What a plain row keeps of a written value: its WARL mask, then its legalize rule.
LEGAL = {"": lambda v: v, "clear_bit0": lambda v: v & ~1, "tvec": lambda v: v & ~2}
#: The hart has Sv39 (the DTB says mmu-type riscv,sv39), so SUM/MXR/TVM are writable.
SUM_MXR = 1 << 18 | 1 << 19
TVM = 1 << 20


def kept(row: T.Csr, value: int) -> int:
    """The value a plain row holds after a write of ``value``."""
    return LEGAL[row.legalize](value & row.wmask)


#: CSR numbers from the privileged spec 1.12, tables 2.2-2.5 (and Sstc for stimecmp).
SPEC_ADDR = {
    "sstatus": 0x100, "sie": 0x104, "stvec": 0x105, "scounteren": 0x106, "senvcfg": 0x10A,
    "sscratch": 0x140, "sepc": 0x141, "scause": 0x142, "stval": 0x143, "sip": 0x144,
    "stimecmp": 0x14D, "satp": 0x180,
    "mvendorid": 0xF11, "marchid": 0xF12, "mimpid": 0xF13, "mhartid": 0xF14,
    "mconfigptr": 0xF15, "mstatus": 0x300, "misa": 0x301, "medeleg": 0x302,
    "mideleg": 0x303, "mie": 0x304, "mtvec": 0x305, "mcounteren": 0x306,
    "menvcfg": 0x30A, "mcountinhibit": 0x320, "mscratch": 0x340, "mepc": 0x341,
    "mcause": 0x342, "mtval": 0x343, "mip": 0x344, "pmpcfg0": 0x3A0, "pmpcfg2": 0x3A2,
    "mcycle": 0xB00, "minstret": 0xB02, "cycle": 0xC00, "time": 0xC01, "instret": 0xC02,
    **{f"pmpaddr{i}": 0x3B0 + i for i in range(16)},
    **{f"mhpmcounter{i}": 0xB00 + i for i in range(3, 32)},
    **{f"mhpmevent{i}": 0x320 + i for i in range(3, 32)},
}


# --- the table itself ------------------------------------------------------------------

@pytest.mark.parametrize("has_h", [False, True])
@pytest.mark.parametrize("pmp", [0, 1, 8, 9, 16])
def test_addresses_and_names_unique(pmp, has_h):
    rows = T.csr_table(CoreConfig(pmp_regions=pmp, has_h=has_h))
    addrs = [r.addr for r in rows]
    names = [r.name for r in rows]
    assert len(set(addrs)) == len(addrs)
    assert len(set(names)) == len(names)
    assert addrs == sorted(addrs)
    assert all(0 <= a < 0x1000 for a in addrs)


def test_addresses_follow_the_spec():
    assert {r.name: r.addr for r in TABLE} == SPEC_ADDR


@pytest.mark.parametrize("has_h", [False, True])
@pytest.mark.parametrize("pmp", range(17))
def test_pmp_rows_follow_pmp_regions(pmp, has_h):
    names = {r.name for r in T.csr_table(CoreConfig(pmp_regions=pmp, has_h=has_h))}
    assert {n for n in names if n.startswith("pmpaddr")} == {f"pmpaddr{i}" for i in range(pmp)}
    assert ("pmpcfg0" in names) == (pmp > 0)
    assert ("pmpcfg2" in names) == (pmp > 8)


def test_masks_and_resets_fit():
    for r in TABLE:
        assert r.kind in KINDS, r.name
        assert r.legalize in LEGALIZE, r.name
        assert 0 <= r.wmask <= MASK64, r.name
        assert 0 <= r.reset <= MASK64, r.name
        if r.kind == "plain":
            assert r.wmask != 0, f"{r.name}: a plain row needs writable bits"
            assert r.reset & ~r.wmask == 0, f"{r.name}: reset outside the writable bits"
            assert r.legalize in ("", "clear_bit0", "tvec"), r.name
        if r.kind == "const":
            assert r.wmask == 0, r.name


def test_read_only_ranges():
    for r in TABLE:
        assert r.read_only == ((r.addr >> 10) & 3 == 3), r.name
        if r.read_only:
            assert r.wmask == 0 and r.kind != "plain", f"{r.name} is writable"
    ro = {r.name for r in TABLE if r.read_only}
    assert ro == {"mvendorid", "marchid", "mimpid", "mhartid", "mconfigptr", "cycle",
                  "time", "instret"}


def test_privilege_from_address_bits():
    for r in TABLE:
        assert r.priv == (r.addr >> 8) & 3, r.name
        want = M if r.name.startswith("m") or r.name.startswith("pmp") else None
        if r.name in ("cycle", "time", "instret"):
            want = U
        elif r.name.startswith("s"):
            want = S
        assert r.priv == want, r.name


def test_fields_inside_64_bits_and_disjoint():
    for r in TABLE:
        seen = 0
        for f in r.fields:
            assert 0 <= f.lsb and f.lsb + f.width <= 64, (r.name, f.name)
            assert seen & f.mask == 0, (r.name, f.name)
            seen |= f.mask


def test_status_views_and_interrupt_masks():
    assert T.SSTATUS_WMASK & ~T.MSTATUS_WMASK == 0
    assert T.SSTATUS_WMASK & ~T.SSTATUS_RMASK == 0
    assert T.IRQ_S & ~T.IRQ_ALL == 0 and T.MIP_WMASK & ~T.IRQ_ALL == 0
    assert T.IRQ_ALL == 0xAAA and T.IRQ_S == 0x222
    assert T.misa_reset(NOH) == (2 << 62) | sum(1 << (ord(c) - 65) for c in "ACIMSU")
    assert T.misa_reset(CoreConfig(has_h=True)) == \
        (2 << 62) | sum(1 << (ord(c) - 65) for c in "ACHIMSU")


def test_docs_csr_page_is_current():
    page = Path(docs_tables.DOCS_DIR) / "csr.md"
    text = page.read_text()
    assert "<!-- generated:csrs -->" in text
    assert docs_tables.update_text(text, str(page)) == text, \
        "docs/csr.md is stale: run python -m hardware.isa.docs_tables"


# --- the CSR file generated from the table ---------------------------------------------

class CsrBench:
    """The CSR file alone; instructions are CSRRW/CSRRS issued at a held privilege.

    With ``cfg.has_h`` the trap-event inputs H adds (``to_vs``, ``gva``, ``tval2``,
    ``tinst``) and ``next_v`` are inputs too (held at 0: V = 0, no trap), and the
    ``virtual`` output (virtual-instruction exception) is read with ``illegal``."""

    INPUTS = dict(valid=1, addr=12, funct3=3, src=64, src_idx=5, commit=1, take=1, to_s=1,
                  cause=64, epc=64, tval=64, mret=1, sret=1, retire=1, msip=1, mtip=1, meip=1,
                  seip=1, mtime=64, next_priv=2)
    H_INPUTS = dict(to_vs=1, gva=1, tval2=64, tinst=64, next_v=1)

    def __init__(self, cfg: CoreConfig = NOH):
        inputs = dict(self.INPUTS, **(self.H_INPUTS if cfg.has_h else {}))

        def build(valid, addr, funct3, src, src_idx, commit, take, to_s, cause, epc, tval,
                  mret, sret, retire, msip, mtip, meip, seip, mtime, next_priv, to_vs=None,
                  gva=None, tval2=None, tinst=None, next_v=None):
            p = build_csr_file(cfg, CsrRequest(valid, addr, funct3, src, src_idx, commit),
                               TrapEvent(take, to_s, cause, epc, tval, mret, sret, retire,
                                         to_vs, gva, tval2, tinst),
                               IrqLines(msip, mtip, meip, seip, mtime), next_priv, next_v)
            self.widths = {n: len(getattr(p, n)) for n in ("mip", "mie", "mideleg")}
            out = {"rdata": p.rdata, "illegal": p.illegal, "priv": p.priv}
            if cfg.has_h:
                out["virtual"] = p.h["virtual"]
            return out
        self.bench = UnitBench(inputs, build)
        self.priv = M
        self.bench(next_priv=M)

    def at(self, priv: int) -> None:
        """Move to ``priv`` (one idle cycle)."""
        self.priv = priv
        self.bench(valid=0, commit=0, next_priv=priv)

    def access(self, addr: int, funct3: int, src: int, src_idx: int) -> dict:
        out = self.bench(valid=1, addr=addr, funct3=funct3, src=src, src_idx=src_idx,
                         commit=1, next_priv=self.priv)
        self.bench(valid=0, commit=0)
        return out

    def write(self, addr: int, value: int) -> int:
        """CSRRW; returns ``illegal``."""
        return self.access(addr, 1, value, 1)["illegal"]

    def read(self, addr: int) -> tuple[int, int]:
        """CSRRS with rs1 = x0: (value, illegal)."""
        out = self.access(addr, 2, 0, 0)
        return out["rdata"], out["illegal"]


@pytest.fixture(scope="module")
def csr():
    return CsrBench()


def test_every_row_reads_in_m_and_nothing_else_exists(csr):
    csr.at(M)
    addrs = {r.addr for r in TABLE}
    for a in range(0x1000):
        _, illegal = csr.read(a)
        assert illegal == int(a not in addrs), f"csr {a:#05x}"


def test_privilege_and_read_only_checks(csr):
    for priv in (U, S, M):
        csr.at(priv)
        for r in TABLE:
            if r.name in ("cycle", "time", "instret", "stimecmp"):
                continue  # counter-enable / STCE rules, tested below
            _, illegal = csr.read(r.addr)
            assert illegal == int(priv < r.priv), (r.name, priv)
    csr.at(M)
    for r in TABLE:
        if r.read_only:
            assert csr.write(r.addr, 0) == 1, r.name
            assert csr.access(r.addr, 2, 0, 0)["illegal"] == 0, r.name  # csrrs x0: no write
            assert csr.access(r.addr, 6, 0, 0)["illegal"] == 0, r.name  # csrrsi 0: no write
            assert csr.access(r.addr, 5, 0, 0)["illegal"] == 1, r.name  # csrrwi 0 writes


def test_plain_rows_keep_exactly_their_write_mask(csr):
    csr.at(M)
    for r in TABLE:
        if r.kind != "plain":
            continue
        for value in (MASK64, 0, 0x5555_5555_5555_5555):
            assert csr.write(r.addr, value) == 0, r.name
            got, _ = csr.read(r.addr)
            assert got == kept(r, value), (r.name, hex(value))


@pytest.mark.parametrize("name,after_ones", [
    # Values Spike reads back after writing all ones in M-mode.
    ("medeleg", 0xCB3FE), ("mideleg", 0x222), ("mie", 0xAAA), ("mcounteren", 0x7),
    ("scounteren", 0x7), ("mcountinhibit", 0x5), ("menvcfg", 1 << 63), ("senvcfg", 0),
    ("mtvec", MASK64 - 2), ("stvec", MASK64 - 2), ("mepc", MASK64 - 1), ("mcause", MASK64),
    ("pmpaddr0", (1 << 54) - 1), ("mhpmcounter3", 0), ("mhpmevent3", 0),
    ("mstatus", 0x8000_000A_0062_79AA | SUM_MXR | TVM),
    ("misa", 0x8000_0000_0014_1105),  # RV64 ACIMSU
])
def test_write_all_ones_reads_back_like_spike(csr, name, after_ones):
    csr.at(M)
    csr.write(ROWS["mstatus"].addr, 0)
    assert csr.write(ROWS[name].addr, MASK64) == 0
    assert csr.read(ROWS[name].addr) == (after_ones, 0)


def test_sstatus_view_like_spike(csr):
    csr.at(M)
    ms, ss = ROWS["mstatus"].addr, ROWS["sstatus"].addr
    csr.write(ms, MASK64)
    csr.write(ss, 0)
    assert csr.read(ms)[0] == 0x0000_000A_0062_1888 | TVM
    csr.write(ms, 0)
    csr.write(ss, MASK64)
    assert csr.read(ss)[0] == 0x8000_0002_0000_6122 | SUM_MXR
    assert csr.read(ms)[0] == 0x8000_000A_0000_6122 | SUM_MXR
    csr.write(ms, 0)


def test_pmpcfg_warl_like_spike(csr):
    csr.at(M)
    a = ROWS["pmpcfg0"].addr
    csr.write(a, 0x0202_0202_0202_0202)  # W without R is not kept
    assert csr.read(a)[0] == 0
    csr.write(a, 0x6060_6060_6060_6060)  # bits 6:5 read 0
    assert csr.read(a)[0] == 0
    csr.write(a, 0x1F)
    assert csr.read(a)[0] == 0x1F


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([r.name for r in TABLE if r.kind == "plain"]), st.integers(0, MASK64))
def test_csrrs_csrrc_set_and_clear_bits(csr, name, bits):
    csr.at(M)
    row = ROWS[name]
    csr.write(row.addr, 0)
    csr.access(row.addr, 2, bits, 1)  # csrrs
    assert csr.read(row.addr)[0] == kept(row, bits), name
    csr.write(row.addr, MASK64)
    csr.access(row.addr, 3, bits, 1)  # csrrc
    assert csr.read(row.addr)[0] == kept(row, MASK64 & ~bits), name


def test_counters_need_counteren_below_m(csr):
    mcen, scen = ROWS["mcounteren"].addr, ROWS["scounteren"].addr
    for bit, name in enumerate(("cycle", "time", "instret")):
        for men, sen in ((0, 0), (1, 0), (0, 1), (1, 1)):
            csr.at(M)
            csr.write(mcen, men << bit)
            csr.write(scen, sen << bit)
            for priv, ok in ((M, True), (S, bool(men)), (U, bool(men and sen))):
                csr.at(priv)
                assert csr.read(ROWS[name].addr)[1] == int(not ok), (name, men, sen, priv)
    csr.at(M)


def test_stimecmp_needs_stce_in_s(csr):
    csr.at(M)
    csr.write(ROWS["mcounteren"].addr, 0x7)
    csr.write(ROWS["menvcfg"].addr, 0)
    csr.at(S)
    assert csr.read(ROWS["stimecmp"].addr)[1] == 1
    csr.at(M)
    assert csr.read(ROWS["stimecmp"].addr)[1] == 0
    csr.write(ROWS["menvcfg"].addr, 1 << 63)
    csr.at(S)
    assert csr.read(ROWS["stimecmp"].addr)[1] == 0
    csr.at(M)


def test_stimecmp_needs_mcounteren_tm_in_s(csr):
    """Sstc: S-mode access also needs mcounteren.TM (Spike: stimecmp_csr_t checks the
    time counter's permission)."""
    csr.at(M)
    csr.write(ROWS["menvcfg"].addr, 1 << 63)
    csr.write(ROWS["mcounteren"].addr, 0)
    csr.at(S)
    assert csr.read(ROWS["stimecmp"].addr)[1] == 1
    csr.at(M)
    csr.write(ROWS["mcounteren"].addr, 0x2)
    csr.at(S)
    assert csr.read(ROWS["stimecmp"].addr)[1] == 0
    csr.at(M)


def test_interrupt_vectors_are_12_bits_wide(csr):
    """The trap unit combines mip, mie and mideleg bit by bit (``pend & ~mideleg``): a
    narrower mideleg would invert into zeros above its width and mask MEI."""
    assert csr.widths == {"mip": 12, "mie": 12, "mideleg": 12}
