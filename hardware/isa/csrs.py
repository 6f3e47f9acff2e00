"""The one CSR specification table (RISC-V privileged spec 1.12, chapters 2, 3 and 4;
the Hypervisor Extension chapter (8.2 hypervisor and VS CSRs, 8.4 machine-level CSR
changes); Sstc; Zicntr).

Each row gives a CSR's address, its lowest privilege, how the hardware implements it
(``kind``), its reset value, its WARL write mask and its fields. The RTL read mux and
write logic (``hardware/core/csr.py``), the C headers, the docs table and the tests are
generated from this table; nothing else lists CSR addresses.

Kinds:
- ``plain``: a storage register; a write stores ``(old & ~wmask) | (new & wmask)``,
  then the row's ``legalize`` rule (if any) is applied. Bits of ``reset`` outside
  ``wmask`` are read-only constants (``hstatus.VSXL``, ``mideleg``'s VS bits with H).
- ``const``: reads ``reset``; writes are ignored (they are legal unless the address is
  in a read-only range, bits 11:10 == 0b11).
- ``special``: logic written by hand in ``csr.py`` (views of mstatus/mip/mie, counters,
  PMP). ``wmask`` still documents the writable bits.

A row with ``needs="h"`` exists only when ``CoreConfig.has_h`` is set; ``csr_table``
filters on it. The WARL masks of the H rows, and the H-dependent masks of ``mstatus``,
``medeleg``, ``mideleg``, ``mie`` and ``mip``, were read back from Spike
(``spike --isa=rv64imach_zicsr_zifencei_zicntr_sstc`` with the SoC's DTB).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hardware.config import CoreConfig

ALL = (1 << 64) - 1


@dataclass(frozen=True)
class Field:
    """A named bit field of a CSR."""

    name: str
    lsb: int
    width: int
    doc: str

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Csr:
    """One row of the CSR table."""

    name: str
    addr: int
    kind: str  # "plain" | "const" | "special"
    reset: int = 0
    wmask: int = 0  # WARL: bits a CSR write can change
    legalize: str = ""  # extra write rule: "clear_bit0", "tvec", "mpp"
    fields: tuple[Field, ...] = ()
    doc: str = ""
    needs: str = ""  # config feature the CSR needs ("pmp:<i>", "h")

    @property
    def priv(self) -> int:
        """Lowest privilege that may access it: 0 U, 1 S, 2 HS/VS, 3 M (addr bits 9:8)."""
        return (self.addr >> 8) & 3

    @property
    def read_only(self) -> bool:
        """Address bits 11:10 == 0b11 mark a read-only CSR; writing it is illegal."""
        return (self.addr >> 10) & 3 == 3


F = Field

#: mstatus fields (priv spec 3.1.6). sstatus is a view of the S fields.
MSTATUS_FIELDS = (
    F("SIE", 1, 1, "S-mode interrupt enable"),
    F("MIE", 3, 1, "M-mode interrupt enable"),
    F("SPIE", 5, 1, "SIE before the last trap into S"),
    F("UBE", 6, 1, "U-mode big endian (hardwired 0)"),
    F("MPIE", 7, 1, "MIE before the last trap into M"),
    F("SPP", 8, 1, "privilege before the last trap into S"),
    F("VS", 9, 2, "vector state (hardwired 0)"),
    F("MPP", 11, 2, "privilege before the last trap into M; 2 is legalized to 0"),
    F("FS", 13, 2, "FP state: writable without F so S can emulate FP (as Spike)"),
    F("XS", 15, 2, "extension state (hardwired 0)"),
    F("MPRV", 17, 1, "loads/stores in M use MPP's privilege"),
    F("SUM", 18, 1, "S may access U pages"),
    F("MXR", 19, 1, "make executable readable"),
    F("TVM", 20, 1, "trap satp and SFENCE.VMA in S"),
    F("TW", 21, 1, "trap WFI in S"),
    F("TSR", 22, 1, "trap SRET in S"),
    F("UXL", 32, 2, "U XLEN, hardwired 2 (64)"),
    F("SXL", 34, 2, "S XLEN, hardwired 2 (64)"),
    F("SBE", 36, 1, "S big endian (hardwired 0)"),
    F("MBE", 37, 1, "M big endian (hardwired 0)"),
    F("GVA", 38, 1, "H only: mtval holds a guest virtual address"),
    F("MPV", 39, 1, "H only: V before the last trap into M"),
    F("SD", 63, 1, "some dirty state: FS == 3"),
)


def _mask(fields: tuple[Field, ...], *names: str) -> int:
    m = 0
    for f in fields:
        if f.name in names:
            m |= f.mask
    return m


MSTATUS_WMASK = _mask(MSTATUS_FIELDS, "SIE", "MIE", "SPIE", "MPIE", "SPP", "MPP", "FS",
                      "MPRV", "SUM", "MXR", "TVM", "TW", "TSR")
MSTATUS_RESET = (2 << 32) | (2 << 34)
SSTATUS_RMASK = _mask(MSTATUS_FIELDS, "SIE", "SPIE", "UBE", "SPP", "VS", "FS", "XS", "SUM",
                      "MXR", "UXL", "SD")
SSTATUS_WMASK = _mask(MSTATUS_FIELDS, "SIE", "SPIE", "SPP", "FS", "SUM", "MXR")
#: mstatus fields writable only with H (hypervisor spec 8.4.1).
MSTATUS_H_WMASK = _mask(MSTATUS_FIELDS, "GVA", "MPV")

#: Interrupt bits of mip/mie (priv spec 3.1.9).
IRQ_FIELDS = (
    F("SSI", 1, 1, "supervisor software interrupt"),
    F("MSI", 3, 1, "machine software interrupt (CLINT msip)"),
    F("STI", 5, 1, "supervisor timer interrupt (stimecmp when menvcfg.STCE)"),
    F("MTI", 7, 1, "machine timer interrupt (CLINT mtimecmp)"),
    F("SEI", 9, 1, "supervisor external interrupt (PLIC context 1)"),
    F("MEI", 11, 1, "machine external interrupt (PLIC context 0)"),
)
IRQ_ALL = _mask(IRQ_FIELDS, *(f.name for f in IRQ_FIELDS))
IRQ_S = _mask(IRQ_FIELDS, "SSI", "STI", "SEI")
#: mip bits M-mode software can write (MSIP/MTIP/MEIP come from devices; STIP only
#: while menvcfg.STCE is 0, handled in csr.py).
MIP_WMASK = _mask(IRQ_FIELDS, "SSI", "STI", "SEI")

#: Interrupt bits added by H (hypervisor spec 8.2.3-8.2.5, 8.4.2): the VS-level
#: interrupts and the supervisor guest external interrupt.
H_IRQ_FIELDS = (
    F("VSSI", 2, 1, "VS software interrupt (alias of hvip.VSSIP)"),
    F("VSTI", 6, 1, "VS timer interrupt: hvip.VSTIP | vstimecmp timer when henvcfg.STCE"),
    F("VSEI", 10, 1, "VS external interrupt: hvip.VSEIP (no IMSIC, GEILEN = 0)"),
    F("SGEI", 12, 1, "supervisor guest external interrupt (reads 0: GEILEN = 0)"),
)
IRQ_VS = _mask(H_IRQ_FIELDS, "VSSI", "VSTI", "VSEI")
#: HS-level view (hip/hie) and mideleg's read-only-one bits with H.
IRQ_H = IRQ_VS | _mask(H_IRQ_FIELDS, "SGEI")
MIP_H_WMASK = _mask(H_IRQ_FIELDS, "VSSI")

#: medeleg: every synchronous exception that can happen but ecall-from-M can be
#: delegated (causes 1-9, the page faults 12, 13, 15); not the misaligned fetch
#: (impossible with C). Bits 18/19 (software-check, hardware-error) are writable as in
#: Spike although never raised.
MEDELEG_WMASK = 0xCB3FE
#: medeleg bits H adds: ecall from VS (10) and the guest-page faults and virtual
#: instruction (20-23) (hypervisor spec 8.4.3; Spike reads 0xfcb7fe).
MEDELEG_H_WMASK = (1 << 10) | (0xF << 20)
#: hedeleg: what HS may pass on to VS (hypervisor spec 8.2.2): causes 0-8, 12, 13, 15
#: and, as Spike, 18-19. Causes 9-11 and 20-23 are read-only 0. Bit 0 is writable
#: although the misaligned fetch cannot happen with C (Spike's mask).
HEDELEG_WMASK = 0xCB1FF

COUNTEREN_FIELDS = (F("CY", 0, 1, "cycle"), F("TM", 1, 1, "time"), F("IR", 2, 1, "instret"))
MENVCFG_FIELDS = (F("FIOM", 0, 1, "fence of I/O implies memory (read-only 0, as Spike)"),
                  F("STCE", 63, 1, "Sstc: enables stimecmp and the S timer from it"))
TVEC_FIELDS = (F("MODE", 0, 2, "0 direct, 1 vectored (bit 1 reads 0)"),
               F("BASE", 2, 62, "trap vector base, 4-byte aligned"))
SATP_FIELDS = (F("PPN", 0, 44, "root page table page number"),
               F("ASID", 44, 16, "address-space id (16 bits implemented)"),
               F("MODE", 60, 4, "0 Bare, 8 Sv39; other values leave satp unchanged"))
SATP_PPN_MASK, SATP_ASID_MASK, SATP_MODE_MASK = (f.mask for f in SATP_FIELDS)
#: satp MODE values the hart implements (priv spec 4.1.11).
SATP_MODES = {"bare": 0, "sv39": 8}
PMPCFG_DOC = "eight 8-bit entries: R W X A(2) 0 0 L; W without R reads back 0"

#: hstatus (hypervisor spec 8.2.1).
HSTATUS_FIELDS = (
    F("VSBE", 5, 1, "VS big endian (hardwired 0)"),
    F("GVA", 6, 1, "stval holds a guest virtual address"),
    F("SPV", 7, 1, "V before the last trap into HS"),
    F("SPVP", 8, 1, "VS privilege before the last trap (HLV/HSV privilege)"),
    F("HU", 9, 1, "HLV/HSV/HFENCE allowed in U-mode"),
    F("VGEIN", 12, 6, "VS guest external interrupt number (reads 0: GEILEN = 0)"),
    F("VTVM", 20, 1, "virtual-instruction trap on satp / SFENCE.VMA in VS"),
    F("VTW", 21, 1, "virtual-instruction trap on WFI in VS"),
    F("VTSR", 22, 1, "virtual-instruction trap on SRET in VS"),
    F("VSXL", 32, 2, "VS XLEN, hardwired 2 (64)"),
)
HSTATUS_WMASK = _mask(HSTATUS_FIELDS, "GVA", "SPV", "SPVP", "HU", "VTVM", "VTW", "VTSR")
HSTATUS_RESET = 2 << 32
HENVCFG_FIELDS = (F("STCE", 63, 1, "Sstc for VS: vstimecmp; writable and read as set only "
                                   "while menvcfg.STCE = 1 (as Spike)"),)
HGATP_FIELDS = (F("PPN", 0, 44, "root page table page number; bits 1:0 read 0 (16 KiB root)"),
                F("VMID", 44, 14, "virtual machine id (14 bits implemented, as Spike)"),
                F("MODE", 60, 4, "0 Bare, 8 Sv39x4; another value leaves MODE unchanged "
                                 "while VMID and PPN are written"))
HGATP_PPN_MASK, HGATP_VMID_MASK, HGATP_MODE_MASK = (f.mask for f in HGATP_FIELDS)
#: hgatp MODE values the hart implements (hypervisor spec 8.2.12).
HGATP_MODES = {"bare": 0, "sv39x4": 8}
#: vsstatus (hypervisor spec 8.2.13): the sstatus layout; UXL is hardwired 2.
VSSTATUS_RMASK = SSTATUS_RMASK
VSSTATUS_WMASK = SSTATUS_WMASK


def mstatus_wmask(core: CoreConfig) -> int:
    """Writable mstatus bits; MPV and GVA only with H."""
    return MSTATUS_WMASK | (MSTATUS_H_WMASK if core.has_h else 0)


def medeleg_wmask(core: CoreConfig) -> int:
    """Writable medeleg bits; H adds causes 10 and 20-23."""
    return MEDELEG_WMASK | (MEDELEG_H_WMASK if core.has_h else 0)


def mideleg_reset(core: CoreConfig) -> int:
    """mideleg's read-only bits: with H, VSSI/VSTI/VSEI/SGEI always go to HS (8.4.2)."""
    return IRQ_H if core.has_h else 0


def irq_fields(core: CoreConfig) -> tuple[Field, ...]:
    """The mip/mie fields of the configured core."""
    return IRQ_FIELDS + (H_IRQ_FIELDS if core.has_h else ())


def mie_wmask(core: CoreConfig) -> int:
    """Writable mie bits; H adds VSSIE, VSTIE, VSEIE and SGEIE (an alias of hie)."""
    return IRQ_ALL | (IRQ_H if core.has_h else 0)


def mip_wmask(core: CoreConfig) -> int:
    """mip bits M-mode can write; H adds VSSIP (an alias of hvip.VSSIP)."""
    return MIP_WMASK | (MIP_H_WMASK if core.has_h else 0)


def misa_reset(core: CoreConfig) -> int:
    """misa: MXL = 2 (RV64) and the extension letters the core implements."""
    letters = "AIMSU" + ("C" if core.has_c else "") + ("H" if core.has_h else "")
    return (2 << 62) | sum(1 << (ord(c) - ord("A")) for c in letters)


def _core_csrs(core: CoreConfig) -> list[Csr]:
    c = [
        # --- machine information (priv 3.1.1-3.1.5, 3.1.17)
        Csr("mvendorid", 0xF11, "const", core.mvendorid, doc="vendor id"),
        Csr("marchid", 0xF12, "const", core.marchid, doc="architecture id"),
        Csr("mimpid", 0xF13, "const", core.mimpid, doc="implementation id"),
        Csr("mhartid", 0xF14, "const", core.hartid, doc="hart id"),
        Csr("mconfigptr", 0xF15, "const", 0, doc="no configuration structure"),
        # --- machine trap setup
        Csr("mstatus", 0x300, "special", MSTATUS_RESET, mstatus_wmask(core), "mpp",
            MSTATUS_FIELDS, "machine status"),
        Csr("misa", 0x301, "const", misa_reset(core),
            doc="RV64 ACIMSU(H); writes ignored (WARL)"),
        Csr("medeleg", 0x302, "plain", 0, medeleg_wmask(core), doc="exception delegation to S"),
        Csr("mideleg", 0x303, "plain", mideleg_reset(core), IRQ_S, fields=irq_fields(core),
            doc="interrupt delegation to S (with H, VS/SGE interrupts read-only 1)"),
        Csr("mie", 0x304, "plain", 0, mie_wmask(core), fields=irq_fields(core),
            doc="interrupt enables"),
        Csr("mtvec", 0x305, "plain", 0, ALL, "tvec", TVEC_FIELDS, "M trap vector"),
        Csr("mcounteren", 0x306, "plain", 0, 0x7, fields=COUNTEREN_FIELDS,
            doc="counter access for S"),
        Csr("menvcfg", 0x30A, "plain", 0, _mask(MENVCFG_FIELDS, "STCE"),
            fields=MENVCFG_FIELDS, doc="M environment configuration"),
        Csr("mcountinhibit", 0x320, "plain", 0, 0x5,
            fields=(F("CY", 0, 1, "stop mcycle"), F("IR", 2, 1, "stop minstret")),
            doc="counter inhibit"),
        # --- machine trap handling
        Csr("mscratch", 0x340, "plain", 0, ALL, doc="M scratch"),
        Csr("mepc", 0x341, "plain", 0, ALL, "clear_bit0", doc="M exception pc"),
        Csr("mcause", 0x342, "plain", 0, ALL, doc="M trap cause"),
        Csr("mtval", 0x343, "plain", 0, ALL, doc="M trap value"),
        Csr("mip", 0x344, "special", 0, mip_wmask(core), fields=irq_fields(core),
            doc="interrupt pending"),
        # --- machine counters
        Csr("mcycle", 0xB00, "special", 0, ALL, doc="cycles"),
        Csr("minstret", 0xB02, "special", 0, ALL, doc="instructions retired"),
        # --- supervisor
        Csr("sstatus", 0x100, "special", 0, SSTATUS_WMASK, fields=MSTATUS_FIELDS,
            doc="view of mstatus"),
        Csr("sie", 0x104, "special", 0, IRQ_S, fields=IRQ_FIELDS, doc="view of mie under mideleg"),
        Csr("stvec", 0x105, "plain", 0, ALL, "tvec", TVEC_FIELDS, "S trap vector"),
        Csr("scounteren", 0x106, "plain", 0, 0x7, fields=COUNTEREN_FIELDS,
            doc="counter access for U"),
        Csr("senvcfg", 0x10A, "const", 0, doc="S environment configuration (FIOM read-only 0)"),
        Csr("sscratch", 0x140, "plain", 0, ALL, doc="S scratch"),
        Csr("sepc", 0x141, "plain", 0, ALL, "clear_bit0", doc="S exception pc"),
        Csr("scause", 0x142, "plain", 0, ALL, doc="S trap cause"),
        Csr("stval", 0x143, "plain", 0, ALL, doc="S trap value"),
        Csr("sip", 0x144, "special", 0, 1 << 1, fields=IRQ_FIELDS, doc="view of mip under mideleg"),
        Csr("stimecmp", 0x14D, "special", 0, ALL, doc="Sstc S timer compare"),
        Csr("satp", 0x180, "special", 0, SATP_MODE_MASK | SATP_ASID_MASK | SATP_PPN_MASK,
            fields=SATP_FIELDS,
            doc="address translation: Bare or Sv39; a write of another MODE is ignored"),
        # --- unprivileged counters (Zicntr)
        Csr("cycle", 0xC00, "special", doc="read-only view of mcycle"),
        Csr("time", 0xC01, "special", doc="read-only view of CLINT mtime"),
        Csr("instret", 0xC02, "special", doc="read-only view of minstret"),
    ]
    for n in range(3, 32):
        c.append(Csr(f"mhpmcounter{n}", 0xB00 + n, "const", doc="not implemented: reads 0"))
        c.append(Csr(f"mhpmevent{n}", 0x320 + n, "const", doc="not implemented: reads 0"))
    if core.pmp_regions:
        for i in (0, 2):
            if i * 4 < core.pmp_regions:
                c.append(Csr(f"pmpcfg{i}", 0x3A0 + i, "special", 0x1F if i == 0 else 0,
                             ALL, doc=PMPCFG_DOC))
        for i in range(core.pmp_regions):
            c.append(Csr(f"pmpaddr{i}", 0x3B0 + i, "special",
                         (1 << 54) - 1 if i == 0 else 0, (1 << 54) - 1,
                         doc="PMP address bits 55:2"))
    return c


def _h_csrs() -> list[Csr]:
    """The hypervisor extension's CSRs (hypervisor spec 8.2, 8.4.4-8.4.5; Sstc)."""
    vs_irq = (F("SSI", 1, 1, "hip.VSSIP when hideleg delegates it"),
              F("STI", 5, 1, "hip.VSTIP when hideleg delegates it"),
              F("SEI", 9, 1, "hip.VSEIP when hideleg delegates it"))
    rows = [
        # --- hypervisor trap setup, counters, configuration (8.2.1-8.2.9)
        Csr("hstatus", 0x600, "plain", HSTATUS_RESET, HSTATUS_WMASK, fields=HSTATUS_FIELDS,
            doc="hypervisor status; VSXL = 2, VGEIN and VSBE read 0"),
        Csr("hedeleg", 0x602, "plain", 0, HEDELEG_WMASK, doc="exception delegation to VS"),
        Csr("hideleg", 0x603, "plain", 0, IRQ_VS, fields=H_IRQ_FIELDS,
            doc="interrupt delegation to VS"),
        Csr("hie", 0x604, "special", 0, IRQ_H, fields=H_IRQ_FIELDS,
            doc="view of mie's VS and SGE bits"),
        Csr("htimedelta", 0x605, "plain", 0, ALL, doc="VS/VU time = time + htimedelta"),
        Csr("hcounteren", 0x606, "plain", 0, 0x7, fields=COUNTEREN_FIELDS,
            doc="counter access for VS/VU"),
        Csr("hgeie", 0x607, "const", 0, doc="guest external interrupt enables (GEILEN = 0)"),
        Csr("henvcfg", 0x60A, "special", 0, _mask(HENVCFG_FIELDS, "STCE"),
            fields=HENVCFG_FIELDS, doc="VS environment configuration"),
        # --- hypervisor trap handling (8.2.10-8.2.11, 8.2.3-8.2.5)
        Csr("htval", 0x643, "plain", 0, ALL, doc="HS trap value: guest physical address >> 2"),
        Csr("hip", 0x644, "special", 0, MIP_H_WMASK, fields=H_IRQ_FIELDS,
            doc="view of mip's VS and SGE bits; VSSIP writable"),
        Csr("hvip", 0x645, "special", 0, IRQ_VS, fields=H_IRQ_FIELDS,
            doc="VS interrupts injected by HS (VSSIP is mip.VSSIP)"),
        Csr("htinst", 0x64A, "plain", 0, ALL, doc="HS trap instruction (transformed)"),
        Csr("hgeip", 0xE12, "const", 0, doc="guest external interrupts pending (GEILEN = 0)"),
        # --- G-stage translation (8.2.12)
        Csr("hgatp", 0x680, "special", 0, HGATP_MODE_MASK | HGATP_VMID_MASK
            | (HGATP_PPN_MASK & ~3), fields=HGATP_FIELDS,
            doc="G-stage translation: Bare or Sv39x4"),
        # --- virtual supervisor (8.2.13-8.2.20; Sstc)
        Csr("vsstatus", 0x200, "special", 2 << 32, VSSTATUS_WMASK, fields=MSTATUS_FIELDS,
            doc="VS copy of sstatus; UXL = 2"),
        Csr("vsie", 0x204, "special", 0, IRQ_S, fields=vs_irq,
            doc="view of mie's VS bits delegated by hideleg, shifted down one"),
        Csr("vstvec", 0x205, "plain", 0, ALL, "tvec", TVEC_FIELDS, "VS trap vector"),
        Csr("vsscratch", 0x240, "plain", 0, ALL, doc="VS scratch"),
        Csr("vsepc", 0x241, "plain", 0, ALL, "clear_bit0", doc="VS exception pc"),
        Csr("vscause", 0x242, "plain", 0, ALL, doc="VS trap cause"),
        Csr("vstval", 0x243, "plain", 0, ALL, doc="VS trap value"),
        Csr("vsip", 0x244, "special", 0, 1 << 1, fields=vs_irq,
            doc="view of mip's VS bits delegated by hideleg, shifted down one"),
        Csr("vstimecmp", 0x24D, "special", 0, ALL,
            doc="Sstc VS timer compare, against time + htimedelta"),
        Csr("vsatp", 0x280, "special", 0, SATP_MODE_MASK | SATP_ASID_MASK | SATP_PPN_MASK,
            fields=SATP_FIELDS, doc="VS-stage translation: Bare or Sv39; another MODE "
                                    "leaves MODE unchanged while ASID and PPN are written"),
        # --- machine trap handling with H (8.4.4-8.4.5)
        Csr("mtinst", 0x34A, "plain", 0, ALL, doc="M trap instruction (transformed)"),
        Csr("mtval2", 0x34B, "plain", 0, ALL, doc="M trap value 2: guest physical address >> 2"),
    ]
    return [dataclasses.replace(r, needs="h") for r in rows]


def _present(row: Csr, core: CoreConfig) -> bool:
    """Whether ``row`` exists on the configured core (its ``needs`` is met)."""
    return row.needs != "h" or core.has_h


def csr_table(core: CoreConfig) -> tuple[Csr, ...]:
    """Every CSR the configured core implements, in address order."""
    rows = [r for r in _core_csrs(core) + _h_csrs() if _present(r, core)]
    return tuple(sorted(rows, key=lambda r: r.addr))


def by_name(core: CoreConfig) -> dict[str, Csr]:
    """The table keyed by CSR name."""
    return {r.name: r for r in csr_table(core)}


#: The table of the default core, for tools that do not care about the config.
CSRS = csr_table(CoreConfig())
CSR_ADDR = {r.name: r.addr for r in CSRS}
#: The table of a core with every optional feature (H), for tools that need every name.
ALL_CSRS = csr_table(CoreConfig(has_h=True))
ALL_CSR_ADDR = {r.name: r.addr for r in ALL_CSRS}
