"""Configuration of the core and the SoC: frozen dataclasses with checked defaults.

Variants come from ``dataclasses.replace`` and are validated at construction
(ARCHITECTURE.md section 6, "Configuration"). Hardware for an optional feature is
generated only when the matching ``has_<feature>`` flag is set.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A configuration value is out of range; the message names the field."""


def _check(cond: bool, name: str, msg: str) -> None:
    if not cond:
        raise ConfigError(f"config field '{name}': {msg}")


def _is_pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class CoreConfig:
    """Knobs of the CPU core (RV64IMAC + Zicsr + Zifencei + Zicntr + Sstc)."""

    xlen: int = 64  # only RV64 is supported
    pmp_regions: int = 16  # number of PMP entries, 0..16 (priv spec 3.7)
    tlb_entries: int = 16  # fully associative TLB entries, 1..64
    # A CSR write of satp/vsatp/hgatp flushes the whole TLB (as Spike, whose TLB has no
    # ASID/VMID tags). Off: entries stay, told apart by their ASID/VMID tags; software
    # fences as the spec requires (priv 4.2.1, H 9.2.10). A co-design knob (variant tlbkeep).
    tlb_flush_on_atp: bool = True
    has_h: bool = True  # hypervisor extension (H 1.0: V modes, two-stage translation)
    has_c: bool = True  # compressed instructions
    hartid: int = 0  # value of mhartid
    div_cycles: int = 65  # extra cycles of DIV/REM: a load cycle + 64 radix-2 iterations
    amo_cycles: int = 1  # extra cycles of an AMO (read-modify-write)
    trap_cycles: int = 1  # extra cycles of trap entry
    mvendorid: int = 0
    marchid: int = 0
    mimpid: int = 0

    def __post_init__(self) -> None:
        _check(self.xlen == 64, "xlen", "only 64 is supported")
        _check(0 <= self.pmp_regions <= 16, "pmp_regions", "must be 0..16")
        _check(1 <= self.tlb_entries <= 64, "tlb_entries", "must be 1..64")
        _check(self.div_cycles == 65, "div_cycles", "the radix-2 divider takes 65 extra cycles")
        _check(0 <= self.amo_cycles <= 15, "amo_cycles", "must be 0..15")
        _check(0 <= self.trap_cycles <= 15, "trap_cycles", "must be 0..15")


@dataclass(frozen=True)
class SocConfig:
    """Knobs of the SoC around the core."""

    core: CoreConfig = field(default_factory=CoreConfig)
    ram_size: int = 16 << 20  # bytes of RAM at 0x8000_0000
    timebase_divider: int = 1  # mtime advances once every this many cycles
    plic_sources: int = 31  # PLIC interrupt sources 1..plic_sources
    harness_irq_lines: int = 4  # PLIC sources driven by the harness (the top ones)
    uart_fifo_depth: int = 16  # ns16550a TX/RX FIFO depth

    def __post_init__(self) -> None:
        _check(_is_pow2(self.ram_size), "ram_size", "must be a power of two")
        _check(64 << 10 <= self.ram_size <= 1 << 30, "ram_size", "must be 64 KiB..1 GiB")
        _check(1 <= self.timebase_divider <= 1 << 16, "timebase_divider", "must be 1..65536")
        _check(self.plic_sources == 31, "plic_sources", "the PLIC has exactly 31 sources")
        _check(0 <= self.harness_irq_lines <= 8, "harness_irq_lines", "must be 0..8")
        _check(self.uart_fifo_depth in (1, 2, 4, 8, 16), "uart_fifo_depth", "must be 1,2,4,8,16")

    @property
    def ram_words(self) -> int:
        """Number of 64-bit words of RAM."""
        return self.ram_size // 8

    def key(self) -> str:
        """A stable text form of every knob, used to key the build cache."""
        return repr(dataclasses.asdict(self))


DEFAULT = SocConfig()

#: Named variants selectable with ``--config NAME``.
VARIANTS: dict[str, SocConfig] = {
    "default": DEFAULT,
    "small": SocConfig(ram_size=1 << 20),
    "nopmp": SocConfig(core=CoreConfig(pmp_regions=0)),
    "noh": SocConfig(core=CoreConfig(has_h=False)),
    "tlbkeep": SocConfig(core=CoreConfig(tlb_flush_on_atp=False)),
}


def variant(name: str) -> SocConfig:
    """Return the named variant, or raise ConfigError naming the unknown variant."""
    try:
        return VARIANTS[name]
    except KeyError:
        known = ", ".join(sorted(VARIANTS))
        raise ConfigError(f"unknown config variant '{name}' (known: {known})") from None
