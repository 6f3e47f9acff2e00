"""Core-local interruptor (CLINT) for one hart.

Implements the SiFive CLINT register layout used by QEMU ``virt`` and Spike (the ACLINT
spec's MSWI at +0x0 and MTIMER at +0x4000 / +0xBFF8) and the machine timer semantics of
the RISC-V privileged spec v1.12, section 3.2.1: MTIP is pending while mtime >= mtimecmp.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.config import SocConfig
from hardware.soc import regmap
from hardware.soc.bus import DeviceRequest
from hardware.soc.regmap import Reg

#: The register map. mtimecmp resets to 0 as in Spike, so MTIP is pending out of reset.
CLINT_REGS: tuple[Reg, ...] = (
    Reg("msip", 0x0000, 1, slot=4, description="machine software interrupt pending of hart 0 (bit 0)"),
    Reg("mtimecmp", 0x4000, 64, description="timer compare of hart 0; MTIP = mtime >= mtimecmp"),
    Reg("mtime", 0xBFF8, 64, description="timer; +1 every `timebase_divider` cycles; writable"),
)


@dataclass
class ClintPorts:
    """What the CLINT drives."""

    rdata: pyrtl.WireVector  # 64-bit read lane
    msip: pyrtl.WireVector  # 1: machine software interrupt pending (mip.MSIP)
    mtip: pyrtl.WireVector  # 1: mtime >= mtimecmp (mip.MTIP)
    mtime: pyrtl.WireVector  # 64: current mtime, for the `time` CSR and Sstc stimecmp


def _tick(cfg: SocConfig) -> pyrtl.WireVector:
    """1 in the cycles where mtime advances (every ``timebase_divider`` cycles)."""
    div = cfg.timebase_divider
    if div == 1:
        return pyrtl.Const(1, 1)
    width = (div - 1).bit_length()
    count = pyrtl.Register(width, name="clint_prescale")
    wrap = count == div - 1
    count.next <<= pyrtl.select(wrap, pyrtl.Const(0, width), (count + 1)[:width])
    return wrap


def build_clint(cfg: SocConfig, req: DeviceRequest) -> ClintPorts:
    """The CLINT: msip, mtimecmp and mtime registers and the MSIP/MTIP lines."""
    regmap.check_map(CLINT_REGS)
    r_msip, r_cmp, r_time = CLINT_REGS
    (msip,) = regmap.storage(req, r_msip, "clint")
    (mtimecmp,) = regmap.storage(req, r_cmp, "clint")

    mtime = pyrtl.Register(64, name="clint_mtime_reg", reset_value=r_time.reset)
    tick = _tick(cfg)
    incremented = pyrtl.select(tick, (mtime + 1)[:64], mtime)
    mtime.next <<= pyrtl.select(regmap.write_enable(req, r_time),
                                regmap.written_value(req, r_time, mtime), incremented)

    rdata = regmap.read_mux(req, CLINT_REGS,
                            {"msip": msip, "mtimecmp": mtimecmp, "mtime": mtime},
                            name="clint_rdata")
    ports = ClintPorts(
        rdata=rdata,
        msip=pyrtl.WireVector(1, name="clint_msip"),
        mtip=pyrtl.WireVector(1, name="clint_mtip"),
        mtime=pyrtl.WireVector(64, name="clint_mtime"),
    )
    ports.msip <<= msip
    ports.mtip <<= ~(mtime < mtimecmp)
    ports.mtime <<= mtime
    return ports
