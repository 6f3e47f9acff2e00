"""Test finisher, compatible with QEMU's ``sifive_test`` device (``sifive,test0``).

A 32-bit store to offset 0 ends the simulation: the low 16 bits select the outcome
(0x5555 pass, 0x3333 fail, 0x7777 reset request) and, for a fail, the high 16 bits are
the exit code. Other values are ignored. Reads return 0. The first outcome sticks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.config import SocConfig
from hardware.soc import regmap
from hardware.soc.bus import DeviceRequest
from hardware.soc.regmap import Reg

FINISHER_REGS: tuple[Reg, ...] = (
    Reg("FINISH", 0x0, 32, access="wo",
        description="32-bit store: 0x5555 pass, (code<<16)|0x3333 fail, 0x7777 reset"),
)

#: Outcomes: name -> (low 16 bits of the store, value of the ``status`` port).
#: Status 0 means running.
OUTCOMES = {"pass": (0x5555, 1), "fail": (0x3333, 2), "reset": (0x7777, 3)}
STATUS_BITS = 2


@dataclass
class FinisherPorts:
    """What the finisher drives."""

    rdata: pyrtl.WireVector  # 64-bit read lane (always 0)
    halt: pyrtl.WireVector  # 1: an outcome was written (from the cycle of the store on)
    code: pyrtl.WireVector  # 16: exit code of a fail (0 for pass and reset)
    status: pyrtl.WireVector  # 2: 0 running, else the OUTCOMES status


def build_finisher(cfg: SocConfig, req: DeviceRequest) -> FinisherPorts:
    """The finisher: halt/code/status are combinational in the cycle of the store and
    held by registers afterwards."""
    regmap.check_map(FINISHER_REGS)
    reg = FINISHER_REGS[0]
    store = regmap.full_write(req, reg)
    value = req.wdata[(reg.offset % 8) * 8:(reg.offset % 8) * 8 + 32]

    new_status = pyrtl.Const(0, STATUS_BITS)
    for magic, status in OUTCOMES.values():
        new_status = pyrtl.select(value[:16] == magic, pyrtl.Const(status, STATUS_BITS), new_status)
    new_code = pyrtl.select(value[:16] == OUTCOMES["fail"][0], value[16:32], pyrtl.Const(0, 16))

    held_status = pyrtl.Register(STATUS_BITS, name="finisher_status_reg")
    held_code = pyrtl.Register(16, name="finisher_code_reg")
    take = store & (held_status == 0) & (new_status != 0)
    status = pyrtl.select(take, new_status, held_status)
    code = pyrtl.select(take, new_code, held_code)
    held_status.next <<= status
    held_code.next <<= code

    ports = FinisherPorts(
        rdata=regmap.read_mux(req, FINISHER_REGS, {}, name="finisher_rdata"),
        halt=pyrtl.WireVector(1, name="finisher_halt"),
        code=pyrtl.WireVector(16, name="finisher_code"),
        status=pyrtl.WireVector(STATUS_BITS, name="finisher_status"),
    )
    ports.halt <<= status != 0
    ports.code <<= code
    ports.status <<= status
    return ports
