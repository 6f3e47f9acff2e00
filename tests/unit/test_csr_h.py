"""The hypervisor-extension CSRs (privileged spec, Hypervisor Extension chapter 8.2 and
8.4; Sstc's vstimecmp) in the CSR table (hardware/isa/csrs.py, rows with needs="h") and
the CSR file (hardware/core/csr.py), as seen from M and HS (V = 0).

The read-back values were measured on Spike (``spike --isa=rv64imach_zicsr_zifencei_
zicntr_sstc`` with the SoC's DTB for ``CoreConfig(has_h=True)``: a program writes all
ones / zeros / patterns in M-mode and reads back, ``--log-commits``). Where Spike reads
a device line (MTIP) the expected value here drops it: the bench's lines are 0."""

from __future__ import annotations

import pyrtl
import pytest

from core_unit_bench import MASK64
from hardware.config import CoreConfig
from hardware.core.csr import CsrRequest, IrqLines, TrapEvent, build_csr_file
from hardware.isa import csrs as T
from hardware.isa import docs_tables
from test_csr_table import CsrBench

H_CFG = CoreConfig(has_h=True)
NOH = CoreConfig(has_h=False)
H_TABLE = T.csr_table(H_CFG)
H = T.by_name(H_CFG)
U, S, M = 0, 1, 3
STCE = 1 << 63
P5, PA = 0x5555_5555_5555_5555, 0xAAAA_AAAA_AAAA_AAAA

#: CSR numbers from the hypervisor spec (8.2, 8.4) and Sstc.
H_SPEC_ADDR = {
    "hstatus": 0x600, "hedeleg": 0x602, "hideleg": 0x603, "hie": 0x604, "htimedelta": 0x605,
    "hcounteren": 0x606, "hgeie": 0x607, "henvcfg": 0x60A, "htval": 0x643, "hip": 0x644,
    "hvip": 0x645, "htinst": 0x64A, "hgatp": 0x680, "hgeip": 0xE12, "vsstatus": 0x200,
    "vsie": 0x204, "vstvec": 0x205, "vsscratch": 0x240, "vsepc": 0x241, "vscause": 0x242,
    "vstval": 0x243, "vsip": 0x244, "vstimecmp": 0x24D, "vsatp": 0x280, "mtinst": 0x34A,
    "mtval2": 0x34B,
}

#: Spike, M-mode: value read back after writing all ones, 0x5555..., 0xaaaa... (menvcfg.STCE
#: = 1; hvip, hideleg, henvcfg and mie cleared before; the CSR written from zero).
SPIKE_WARL = {
    "hstatus": (0x2_007003C0, 0x2_00500140, 0x2_00200280),
    "hedeleg": (0xCB1FF, 0x41155, 0x8A0AA),
    "hideleg": (0x444, 0x444, 0),
    "hie": (0x1444, 0x1444, 0),
    "htimedelta": (MASK64, P5, PA),
    "hcounteren": (7, 5, 2),
    "hgeie": (0, 0, 0),
    "henvcfg": (STCE, 0, STCE),
    "htval": (MASK64, P5, PA),
    "hip": (0x4, 0x4, 0),
    "hvip": (0x444, 0x444, 0),
    "htinst": (MASK64, P5, PA),
    "hgatp": (0x03FF_FFFF_FFFF_FFFC, 0x0155_5555_5555_5554, 0x02AA_AAAA_AAAA_AAA8),
    "vsstatus": (0x8000_0002_000C_6122, 0x2_00044100, 0x2_00082022),
    "vsie": (0, 0, 0),
    "vstvec": (MASK64 - 2, P5, PA - 2),
    "vsscratch": (MASK64, P5, PA),
    "vsepc": (MASK64 - 1, P5 - 1, PA),
    "vscause": (MASK64, P5, PA),
    "vstval": (MASK64, P5, PA),
    "vsip": (0, 0, 0),
    "vstimecmp": (MASK64, P5, PA),
    "vsatp": (0x0FFF_FFFF_FFFF_FFFF, 0x0555_5555_5555_5555, 0x0AAA_AAAA_AAAA_AAAA),
    "mtinst": (MASK64, P5, PA),
    "mtval2": (MASK64, P5, PA),
    "mstatus": (0x8000_00CA_007E_79AA, 0x4A_00544100, 0x8A_002A28AA),
    "medeleg": (0xFCB7FE, 0x541554, 0xA8A2AA),
    "mie": (0x1EEE, 0x1444, 0xAAA),
    "sstatus": (0x8000_0002_000C_6122, 0x2_00044100, 0x2_00082022),
    "sie": (0x222, 0, 0x222),  # mideleg = all ones
    "sip": (0x2, 0, 0x2),
    "satp": (0, 0, 0),  # MODE 15, 5, 10: the whole write is ignored
}


@pytest.fixture(scope="module")
def hcsr():
    return CsrBench(H_CFG)


@pytest.fixture(scope="module")
def csr0():
    return CsrBench(NOH)


def wr(b: CsrBench, name: str, value: int) -> None:
    assert b.write(H[name].addr, value & MASK64) == 0, name


def rd(b: CsrBench, name: str) -> int:
    value, illegal = b.read(H[name].addr)
    assert illegal == 0, name
    return value


def csrs(b: CsrBench, name: str, bits: int) -> None:
    b.access(H[name].addr, 2, bits, 1)


def csrc(b: CsrBench, name: str, bits: int) -> None:
    b.access(H[name].addr, 3, bits, 1)


def clean(b: CsrBench, stce: int = 0) -> None:
    """M-mode, the interrupt and H state zeroed, menvcfg.STCE = ``stce``."""
    b.at(M)
    for n in ("mie", "mip", "hvip", "hideleg", "henvcfg", "mideleg", "htimedelta",
              "mstatus", "hstatus"):
        wr(b, n, 0)
    wr(b, "menvcfg", stce << 63)
    wr(b, "vstimecmp", MASK64)
    wr(b, "stimecmp", MASK64)


# --- the table -------------------------------------------------------------------------

def test_h_rows_follow_the_spec_and_has_h():
    names = {r.name: r.addr for r in H_TABLE}
    base = {r.name: r.addr for r in T.csr_table(NOH)}
    assert {n: a for n, a in names.items() if n not in base} == H_SPEC_ADDR
    assert all(r.needs == "h" for r in H_TABLE if r.name in H_SPEC_ADDR)
    assert not set(H_SPEC_ADDR) & set(base)
    addrs = [r.addr for r in H_TABLE]
    assert addrs == sorted(addrs) and len(set(addrs)) == len(addrs)


@pytest.mark.parametrize("pmp", [0, 16])
def test_has_h_false_table_unchanged(pmp):
    """Without H the shared rows keep their masks and resets."""
    plain = T.by_name(CoreConfig(pmp_regions=pmp, has_h=False))
    assert plain["mstatus"].wmask == T.MSTATUS_WMASK == 0x7E79AA
    assert plain["medeleg"].wmask == 0xCB3FE
    assert (plain["mideleg"].wmask, plain["mideleg"].reset) == (0x222, 0)
    assert plain["mie"].wmask == 0xAAA and plain["mip"].wmask == 0x222
    assert not any(r.needs == "h" for r in plain.values())


def test_h_rows_privilege_and_masks():
    for r in H_TABLE:
        if r.name not in H_SPEC_ADDR:
            continue
        assert r.priv == (3 if r.name.startswith("m") else 2), r.name
        assert r.read_only == (r.name == "hgeip"), r.name
        assert 0 <= r.wmask <= MASK64 and 0 <= r.reset <= MASK64, r.name
        if r.kind == "const":
            assert r.wmask == 0, r.name
    for r in H_TABLE:
        seen = 0
        for f in r.fields:
            assert f.lsb + f.width <= 64 and seen & f.mask == 0, (r.name, f.name)
            seen |= f.mask


def test_mstatus_h_fields_only_with_h():
    assert T.mstatus_wmask(H_CFG) == T.MSTATUS_WMASK | (1 << 38) | (1 << 39)
    assert T.mstatus_wmask(NOH) == T.MSTATUS_WMASK
    assert T.SSTATUS_RMASK & T.MSTATUS_H_WMASK == 0


def test_docs_tables_are_current():
    assert docs_tables.main(["--check"]) == 0, "run python -m hardware.isa.docs_tables"
    assert "<!-- generated:csrs:h -->" in (docs_tables.DOCS_DIR / "csr.md").read_text()


def test_docs_h_table_lists_what_h_adds_and_changes():
    text = docs_tables.render("csrs:h")
    for name in (*H_SPEC_ADDR, "mstatus", "misa", "medeleg", "mideleg", "mie", "mip"):
        assert f"`{name}`" in text, name


# --- without H: nothing exists ---------------------------------------------------------

def test_no_h_csr_without_h(csr0):
    csr0.at(M)
    for name, addr in H_SPEC_ADDR.items():
        assert csr0.read(addr)[1] == 1, name
    assert csr0.read(H["mstatus"].addr)[1] == 0
    csr0.write(H["mstatus"].addr, MASK64)
    assert csr0.read(H["mstatus"].addr)[0] == 0x8000_000A_007E_79AA  # no MPV/GVA
    csr0.write(H["mstatus"].addr, 0)
    assert csr0.read(H["mideleg"].addr)[0] == 0  # no read-only VS bits
    csr0.write(H["mie"].addr, MASK64)
    assert csr0.read(H["mie"].addr)[0] == 0xAAA
    csr0.write(H["mie"].addr, 0)


# --- with H: WARL read-back as Spike ---------------------------------------------------

@pytest.mark.parametrize("name", sorted(SPIKE_WARL))
def test_write_patterns_read_back_like_spike(hcsr, name):
    clean(hcsr, stce=1)
    if name in ("sie", "sip"):
        wr(hcsr, "mideleg", MASK64)
    for value, want in zip((MASK64, P5, PA), SPIKE_WARL[name]):
        wr(hcsr, name, 0)
        wr(hcsr, name, value)
        assert rd(hcsr, name) == want, (name, hex(value))
    wr(hcsr, name, 0)
    clean(hcsr)


def test_fixed_bits_and_resets(hcsr):
    clean(hcsr)
    assert rd(hcsr, "hstatus") == 2 << 32  # VSXL
    wr(hcsr, "hstatus", (1 << 32) | (0x3F << 12) | (1 << 5))  # VSXL, VGEIN, VSBE
    assert rd(hcsr, "hstatus") == 2 << 32
    assert rd(hcsr, "mideleg") == 0x1444
    wr(hcsr, "mideleg", MASK64)
    assert rd(hcsr, "mideleg") == 0x1666
    wr(hcsr, "vsstatus", 1 << 32)
    assert rd(hcsr, "vsstatus") == 2 << 32
    assert rd(hcsr, "hgeip") == 0
    assert hcsr.write(H["hgeip"].addr, 0) == 1  # read-only address
    clean(hcsr)


def test_mstatus_mpv_gva(hcsr):
    clean(hcsr)
    csrs(hcsr, "mstatus", 0xC0_0000_0000)
    assert rd(hcsr, "mstatus") == 0xCA_0000_0000
    assert rd(hcsr, "sstatus") == 0x2_0000_0000
    wr(hcsr, "sstatus", 0)
    assert rd(hcsr, "mstatus") == 0xCA_0000_0000
    wr(hcsr, "mstatus", 0x80_0000_1000)  # MPV, MPP = 2 -> 0
    assert rd(hcsr, "mstatus") == 0x8A_0000_0000
    clean(hcsr)


def test_henvcfg_follows_menvcfg_stce(hcsr):
    clean(hcsr, stce=1)
    wr(hcsr, "henvcfg", MASK64)
    wr(hcsr, "menvcfg", 0)
    assert rd(hcsr, "henvcfg") == 0
    wr(hcsr, "menvcfg", STCE)
    assert rd(hcsr, "henvcfg") == STCE  # a read mask, not a clear
    wr(hcsr, "henvcfg", 0)
    wr(hcsr, "menvcfg", 0)
    wr(hcsr, "henvcfg", MASK64)  # ignored while menvcfg.STCE = 0
    wr(hcsr, "menvcfg", STCE)
    assert rd(hcsr, "henvcfg") == 0
    clean(hcsr)


def test_atp_modes_like_spike(hcsr):
    clean(hcsr)
    sv = (8 << 60) | ((MASK64 >> 4))
    for name, want in (("hgatp", 0x83FF_FFFF_FFFF_FFFC), ("vsatp", 0x8FFF_FFFF_FFFF_FFFF),
                       ("satp", 0x8FFF_FFFF_FFFF_FFFF)):
        wr(hcsr, name, sv)
        assert rd(hcsr, name) == want, name
    wr(hcsr, "hgatp", (9 << 60) | 0x40)  # keeps MODE, writes VMID and PPN
    assert rd(hcsr, "hgatp") == (8 << 60) | 0x40
    wr(hcsr, "vsatp", (9 << 60) | 1)
    assert rd(hcsr, "vsatp") == (8 << 60) | 1
    wr(hcsr, "satp", (9 << 60) | 1)  # satp ignores the whole write
    assert rd(hcsr, "satp") == 0x8FFF_FFFF_FFFF_FFFF
    wr(hcsr, "hgatp", 3)
    assert rd(hcsr, "hgatp") == 0
    wr(hcsr, "vsatp", 3)
    assert rd(hcsr, "vsatp") == 3
    for name in ("hgatp", "vsatp", "satp"):
        wr(hcsr, name, 0)


def test_vs_interrupt_aliases_like_spike(hcsr):
    """Sequences run on Spike; MTIP (a device line) is left out of mip."""
    clean(hcsr)
    wr(hcsr, "hvip", MASK64)
    assert (rd(hcsr, "hvip"), rd(hcsr, "hip"), rd(hcsr, "mip")) == (0x444, 0x444, 0x444)
    wr(hcsr, "mip", 0)  # clears VSSIP only
    assert (rd(hcsr, "mip"), rd(hcsr, "hvip")) == (0x440, 0x440)
    wr(hcsr, "hvip", 0)
    wr(hcsr, "hip", MASK64)
    assert rd(hcsr, "hvip") == 0x4
    wr(hcsr, "hvip", MASK64)
    csrc(hcsr, "hip", 0x444)
    assert rd(hcsr, "hvip") == 0x440
    wr(hcsr, "hvip", 0)
    csrs(hcsr, "mip", 0x1444)
    assert (rd(hcsr, "hvip"), rd(hcsr, "mip")) == (0x4, 0x4)
    wr(hcsr, "hvip", MASK64)
    csrc(hcsr, "mip", 0x1444)
    assert rd(hcsr, "hvip") == 0x440
    # sip/sie never show the VS bits; sip does not write VSSIP
    wr(hcsr, "mideleg", MASK64)
    assert rd(hcsr, "sip") == 0
    wr(hcsr, "hvip", 0)
    wr(hcsr, "sip", MASK64)
    assert rd(hcsr, "hvip") == 0
    wr(hcsr, "mie", MASK64)
    assert rd(hcsr, "sie") == 0x222
    wr(hcsr, "sie", 0)
    assert rd(hcsr, "mie") == 0x1CCC
    clean(hcsr)


def test_vsip_vsie_follow_hideleg_like_spike(hcsr):
    clean(hcsr)
    wr(hcsr, "hvip", MASK64)
    assert (rd(hcsr, "hip"), rd(hcsr, "vsip")) == (0x444, 0)
    wr(hcsr, "hideleg", MASK64)
    assert rd(hcsr, "vsip") == 0x222
    wr(hcsr, "hideleg", 0x40)
    assert rd(hcsr, "vsip") == 0x20
    wr(hcsr, "hideleg", MASK64)
    wr(hcsr, "vsie", MASK64)
    assert (rd(hcsr, "vsie"), rd(hcsr, "mie"), rd(hcsr, "hie")) == (0x222, 0x444, 0x444)
    wr(hcsr, "mie", 0)
    wr(hcsr, "hideleg", 0x40)
    wr(hcsr, "vsie", MASK64)
    assert (rd(hcsr, "mie"), rd(hcsr, "vsie")) == (0x40, 0x20)
    wr(hcsr, "hideleg", MASK64)
    wr(hcsr, "hvip", 0)
    wr(hcsr, "vsip", MASK64)
    assert rd(hcsr, "hvip") == 0x4
    wr(hcsr, "hvip", MASK64)
    wr(hcsr, "vsip", 0)
    assert rd(hcsr, "hvip") == 0x440
    wr(hcsr, "hideleg", 0)
    wr(hcsr, "hvip", 0)
    wr(hcsr, "vsip", MASK64)  # VSSIP not delegated: no effect
    assert rd(hcsr, "hvip") == 0
    wr(hcsr, "mie", 0)
    wr(hcsr, "hie", MASK64)
    assert rd(hcsr, "mie") == 0x1444
    wr(hcsr, "mie", MASK64)
    wr(hcsr, "hie", 0)
    assert rd(hcsr, "mie") == 0xAAA
    clean(hcsr)


def vstip(b: CsrBench, mtime: int) -> int:
    b.bench(valid=0, commit=0, mtime=mtime)
    value = b.access(H["hip"].addr, 2, 0, 0)["rdata"]
    return (value >> 6) & 1


def test_vs_timer_uses_htimedelta_and_henvcfg_stce(hcsr):
    clean(hcsr, stce=1)
    wr(hcsr, "henvcfg", STCE)
    wr(hcsr, "vstimecmp", 50)
    assert vstip(hcsr, 49) == 0 and vstip(hcsr, 50) == 1
    wr(hcsr, "htimedelta", -30)
    assert vstip(hcsr, 79) == 0 and vstip(hcsr, 80) == 1
    wr(hcsr, "htimedelta", 1 << 63)
    wr(hcsr, "vstimecmp", 1 << 63)
    assert vstip(hcsr, 0) == 1
    assert rd(hcsr, "mip") >> 6 & 1 == 1
    wr(hcsr, "henvcfg", 0)  # the timer no longer drives VSTIP; hvip still does
    assert vstip(hcsr, 0) == 0
    wr(hcsr, "hvip", 0x40)
    assert vstip(hcsr, 0) == 1
    hcsr.bench(valid=0, commit=0, mtime=0)
    clean(hcsr)


def test_hs_access_rules(hcsr):
    clean(hcsr, stce=1)
    for priv in (U, S, M):
        hcsr.at(priv)
        for name, addr in H_SPEC_ADDR.items():
            if name == "vstimecmp":
                continue
            want = priv < (3 if name.startswith("m") else 1)
            assert hcsr.read(addr)[1] == int(want), (name, priv)
    hcsr.at(M)
    wr(hcsr, "mstatus", 1 << 20)  # TVM: hgatp traps in HS
    hcsr.at(S)
    assert hcsr.read(H["hgatp"].addr)[1] == 1
    assert hcsr.read(H["vsatp"].addr)[1] == 0
    hcsr.at(M)
    wr(hcsr, "mstatus", 0)
    for men, mcen, ok in ((0, 0x2, False), (STCE, 0, False), (STCE, 0x2, True)):
        hcsr.at(M)
        wr(hcsr, "menvcfg", men)
        wr(hcsr, "mcounteren", mcen)
        hcsr.at(S)
        assert hcsr.read(H["vstimecmp"].addr)[1] == int(not ok), (men, mcen)
    hcsr.at(M)
    wr(hcsr, "mcounteren", 0)
    clean(hcsr)


def test_plain_h_rows_keep_their_mask(hcsr):
    clean(hcsr)
    for r in H_TABLE:
        if r.kind != "plain" or r.needs != "h":
            continue
        fixed = r.reset & ~r.wmask
        for value in (MASK64, 0, P5):
            wr(hcsr, r.name, value)
            kept = value & r.wmask
            kept &= ~1 if r.legalize == "clear_bit0" else MASK64
            kept &= ~2 if r.legalize == "tvec" else MASK64
            assert rd(hcsr, r.name) == kept | fixed, (r.name, hex(value))
        wr(hcsr, r.name, 0)
    clean(hcsr)


def _ports(cfg: CoreConfig):
    """The CSR file of ``cfg`` elaborated in a fresh block."""
    pyrtl.reset_working_block()
    widths = dict(CsrBench.INPUTS, **(CsrBench.H_INPUTS if cfg.has_h else {}))
    z = {n: pyrtl.Input(w, n) for n, w in widths.items()}
    return build_csr_file(
        cfg, CsrRequest(z["valid"], z["addr"], z["funct3"], z["src"], z["src_idx"], z["commit"]),
        TrapEvent(z["take"], z["to_s"], z["cause"], z["epc"], z["tval"], z["mret"], z["sret"],
                  z["retire"], z.get("to_vs"), z.get("gva"), z.get("tval2"), z.get("tinst")),
        IrqLines(z["msip"], z["mtip"], z["meip"], z["seip"], z["mtime"]), z["next_priv"],
        z.get("next_v"))


def test_ports_h_exports():
    """What the core will need of the H CSRs is exported in ``CsrPorts.h``."""
    ports = _ports(H_CFG)
    vectors = {"hedeleg": T.HEDELEG_WMASK.bit_length(), "hideleg": 12}  # for the trap unit
    for name in H_SPEC_ADDR:
        if H[name].kind != "const":
            assert len(ports.h[name]) == vectors.get(name, 64), name
    assert len(ports.h["v"]) == len(ports.h["virtual"]) == 1
    assert set(ports.h["hstatus_f"]) == {"GVA", "SPV", "SPVP", "HU", "VTVM", "VTW", "VTSR"}
    assert set(ports.h["vsstatus_f"]) == {"SIE", "SPIE", "SPP", "FS", "SUM", "MXR"}
    assert len(ports.h["vs_timer"]) == len(ports.h["henvcfg_stce"]) == 1
    assert {"MPV", "GVA"} <= set(ports.mstatus)
    assert (len(ports.mie), len(ports.mip), len(ports.mideleg)) == (12, 12, 12)
    plain = _ports(NOH)
    assert plain.h is None and not {"MPV", "GVA"} & set(plain.mstatus)
    pyrtl.reset_working_block()
