"""The core's H-extension rules (hypervisor extension 1.0 of the privileged spec,
sections 8.1 "Privilege modes", 8.2.1 hstatus, 8.5 "Hypervisor instructions", 8.6
"Traps"), as Spike implements them (riscv/insns/{sret,wfi,sfence_vma,hfence_*,hlv_*,
hsv_*}.h and processor_t::take_trap).

Everything here is elaborated only for ``CoreConfig.has_h``; core.py calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.core import decode as D

#: Causes whose xtval is the pc (GVA is set for them when V was 1): fetch faults and
#: the breakpoint.
PC_CAUSES = (1, 3, 12, 20)
#: Data-access faults: GVA is set when the access was a guest one (V, MPRV with MPV, or
#: HLV/HSV).
DATA_CAUSES = (4, 5, 6, 7, 13, 15, 21, 23)
#: htinst/mtinst of a guest-page fault on an implicit VS-stage PTE read (RV64: the
#: "ld" pseudoinstruction 0x3000; hypervisor spec 8.6.3, as Spike). Every other trap
#: writes 0 (allowed by the spec: no instruction is transformed).
TINST_IMPLICIT_PTE_READ = 0x3000


@dataclass
class HState:
    """The CSR state the rules read."""

    priv: pyrtl.WireVector
    v: pyrtl.WireVector
    mstatus: dict  # field -> wire (TW, TSR, TVM, MPRV, MPP, MPV, ...)
    hstatus: dict  # field -> wire (VTSR, VTW, VTVM, HU, SPV, SPVP)


def instruction_checks(dec: D.DecodePorts, st: HState) -> tuple:
    """(illegal, virtual) for SRET, WFI, SFENCE.VMA, the HFENCEs and HLV/HLVX/HSV."""
    ms, hs, v = st.mstatus, st.hstatus, st.v
    u, s = st.priv == 0, st.priv == 1
    sret = dec.sys == D.SYS_SRET
    wfi = dec.sys == D.SYS_WFI
    sfence = dec.sys == D.SYS_SFENCE
    hfv = dec.sys == D.SYS_HFENCE_V
    hfg = dec.sys == D.SYS_HFENCE_G
    hx = dec.hx
    illegal = ((sret & ~v & (u | (s & ms["TSR"])))
               | (wfi & ((ms["TW"] & (st.priv != 3)) | (~v & u)))
               | (sfence & ~v & (u | (s & ms["TVM"])))
               | (hfv & ~v & u)
               | (hfg & ~v & (u | (s & ms["TVM"])))
               | (hx & ~v & u & ~hs["HU"]))
    virtual = v & ((sret & (u | hs["VTSR"]))
                   | (wfi & ~ms["TW"] & (u | hs["VTW"]))
                   | (sfence & (u | hs["VTVM"]))
                   | hfv | hfg | hx)
    return illegal, virtual


def data_mode(dec: D.DecodePorts, st: HState) -> tuple:
    """(effective privilege, effective V) of a load/store: HLV/HSV use hstatus.SPVP
    with V = 1; in M with MPRV, MPP and MPV (V only if MPP is not M)."""
    ms = st.mstatus
    mprv = (st.priv == 3) & ms["MPRV"]
    priv = pyrtl.select(dec.hx, st.hstatus["SPVP"].zero_extended(2),
                        pyrtl.select(mprv, ms["MPP"], st.priv))
    v = dec.hx | pyrtl.select(mprv, ms["MPV"] & (ms["MPP"] != 3), st.v)
    return priv, v


def _cause_classes(cause: pyrtl.WireVector) -> tuple:
    """(pc cause, data cause, guest-page fault) of a 5-bit cause: one ROM read."""
    data = [int(c in PC_CAUSES) | int(c in DATA_CAUSES) << 1 | int(c in (20, 21, 23)) << 2
            for c in range(32)]
    rom = pyrtl.RomBlock(bitwidth=3, addrwidth=5, romdata=data, name="h_cause_class_rom",
                         asynchronous=True)
    word = rom[cause[0:5]]
    return word[0], word[1], word[2]


def trap_values(cause: pyrtl.WireVector, is_irq: pyrtl.WireVector, st: HState,
                v_data: pyrtl.WireVector, fetch_gpa: pyrtl.WireVector,
                data_gpa: pyrtl.WireVector, implicit: pyrtl.WireVector) -> tuple:
    """(gva, tval2, tinst) of a trap with 5-bit exception ``cause`` (hyp. 8.6.2-8.6.4)."""
    pc_cause, data_cause, guest_cause = _cause_classes(cause)
    gva = ~is_irq & ((st.v & pc_cause) | (v_data & data_cause))
    guest = ~is_irq & guest_cause
    gpa = pyrtl.select(cause == 20, fetch_gpa, data_gpa)
    tval2 = pyrtl.select(guest, pyrtl.concat(pyrtl.Const(0, 2), gpa[2:64]), pyrtl.Const(0, 64))
    tinst = pyrtl.select(guest & implicit, pyrtl.Const(TINST_IMPLICIT_PTE_READ, 64),
                         pyrtl.Const(0, 64))
    return gva, tval2, tinst


def next_v(st: HState, commit, trap_take, to_vs, is_mret, is_sret) -> pyrtl.WireVector:
    """V after this cycle: a trap into M or HS clears it, into VS keeps it; MRET
    restores MPV (unless MPP is M); SRET from HS restores hstatus.SPV."""
    ms = st.mstatus
    after = pyrtl.select(trap_take, to_vs,
                         pyrtl.select(is_mret, ms["MPV"] & (ms["MPP"] != 3),
                                      pyrtl.select(is_sret & ~st.v, st.hstatus["SPV"], st.v)))
    return pyrtl.select(commit, after, st.v)
