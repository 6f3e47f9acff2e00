"""Port bundles between the core's load/store unit, the bus and the devices.

The memory system is single-cycle (ARCHITECTURE.md section 1, "A memory access takes
one cycle"): a device answers a read combinationally in the cycle of the request and
takes a write at the clock edge that ends that cycle.

Every data access is naturally aligned and at most 8 bytes, so it falls in one 64-bit
*lane*: the 8-byte-aligned doubleword that holds it. Requests and responses carry the
whole lane plus a byte mask; devices never see sub-lane shifting.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl


@pyrtl.wire_struct
class DeviceRequest:
    """What the bus drives into one device, fields MSB first."""

    sel: 1  # the address falls in this device's window
    we: 1  # a store commits this cycle (write at the clock edge)
    re: 1  # a load commits this cycle (read side effects happen at the clock edge)
    mask: 8  # byte enables within the lane, bit i = byte i
    offset: 32  # byte offset of the lane within the device window (8-byte aligned)
    wdata: 64  # store data, already placed in its byte lanes


@dataclass
class DeviceResponse:
    """What one device answers, combinationally, in the cycle of the request."""

    rdata: pyrtl.WireVector  # 64-bit lane at ``offset``; bytes outside ``mask`` are don't-care


def lane_write(old: pyrtl.WireVector, wdata: pyrtl.WireVector, mask: pyrtl.WireVector) -> pyrtl.WireVector:
    """Merge ``wdata`` into the 64-bit ``old`` lane under the 8-bit byte ``mask``."""
    bytes_ = [pyrtl.select(mask[i], wdata[8 * i:8 * i + 8], old[8 * i:8 * i + 8]) for i in range(8)]
    return pyrtl.concat_list(bytes_)


def field_write(old: pyrtl.WireVector, req: DeviceRequest, lane_bit: int) -> pyrtl.WireVector:
    """New value of a register of ``old.bitwidth`` bits that sits at bit ``lane_bit`` of
    its lane, after the bytes of ``req`` that cover it are written (no enable check)."""
    width = old.bitwidth
    assert lane_bit % 8 == 0 and width % 8 == 0
    parts = []
    for i in range(width // 8):
        b = lane_bit // 8 + i
        parts.append(pyrtl.select(req.mask[b], req.wdata[8 * b:8 * b + 8], old[8 * i:8 * i + 8]))
    return pyrtl.concat_list(parts)
