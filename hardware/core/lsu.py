"""Load/store unit: address, alignment, byte lanes, AMO arithmetic
(RISC-V unprivileged spec 2.6, 5.3, ch. 8; privileged spec 3.6.3 (misaligned)).

Every access is naturally aligned (misaligned ones trap), so it lies inside one 64-bit
lane; see ``hardware/soc/bus.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyrtl

from hardware.core.alu import sext32


@dataclass
class LanePorts:
    """Byte-lane view of the access."""

    misaligned: pyrtl.WireVector
    mask: pyrtl.WireVector  # 8-bit byte mask within the lane
    last: pyrtl.WireVector  # address of the last byte accessed


def build_lane(addr: pyrtl.WireVector, size: pyrtl.WireVector) -> LanePorts:
    """Alignment check and byte mask for an access of 2**size bytes at ``addr``."""
    lo = addr[0:3]
    mis = pyrtl.mux(size, pyrtl.Const(0, 1), lo[0], lo[0:2] != 0, lo != 0)
    base = pyrtl.mux(size, pyrtl.Const(0x1, 8), pyrtl.Const(0x3, 8),
                     pyrtl.Const(0xF, 8), pyrtl.Const(0xFF, 8))
    mask = pyrtl.shift_left_logical(base, lo)
    nbytes_m1 = pyrtl.mux(size, pyrtl.Const(0, 3), pyrtl.Const(1, 3), pyrtl.Const(3, 3),
                          pyrtl.Const(7, 3))
    last = (addr + nbytes_m1)[0:64]
    return LanePorts(misaligned=mis, mask=mask, last=last)


def store_lane(data: pyrtl.WireVector, addr: pyrtl.WireVector) -> pyrtl.WireVector:
    """Place store data in its byte lanes."""
    return pyrtl.shift_left_logical(data, pyrtl.concat(addr[0:3], pyrtl.Const(0, 3)))


def load_extract(lane: pyrtl.WireVector, addr: pyrtl.WireVector, size: pyrtl.WireVector,
                 unsigned: pyrtl.WireVector) -> pyrtl.WireVector:
    """The loaded value, sign- or zero-extended per LB/LH/LW/LD/LBU/LHU/LWU."""
    v = pyrtl.shift_right_logical(lane, pyrtl.concat(addr[0:3], pyrtl.Const(0, 3)))
    signed = ~unsigned
    b = pyrtl.select(signed, v[0:8].sign_extended(64), v[0:8].zero_extended(64))
    h = pyrtl.select(signed, v[0:16].sign_extended(64), v[0:16].zero_extended(64))
    w = pyrtl.select(signed, v[0:32].sign_extended(64), v[0:32].zero_extended(64))
    return pyrtl.mux(size, b, h, w, v)


def amo_compute(funct5: pyrtl.WireVector, old: pyrtl.WireVector, src: pyrtl.WireVector,
                is_word: pyrtl.WireVector) -> pyrtl.WireVector:
    """New memory value of AMO<funct5> (old = loaded value, already extended)."""
    unsigned_cmp = funct5[3]  # minu/maxu are 11000/11100
    a = pyrtl.select(is_word, pyrtl.select(unsigned_cmp, old[0:32].zero_extended(64),
                                           sext32(old)), old)
    b = pyrtl.select(is_word, pyrtl.select(unsigned_cmp, src[0:32].zero_extended(64),
                                           sext32(src)), src)
    lt = pyrtl.select(unsigned_cmp, a < b, pyrtl.signed_lt(a, b))
    add = (a + b)[0:64]
    minv = pyrtl.select(lt, a, b)
    maxv = pyrtl.select(lt, b, a)
    # funct5: 00000 add, 00001 swap, 00100 xor, 01000 or, 01100 and,
    #         10000 min, 10100 max, 11000 minu, 11100 maxu
    sel = funct5[2:5]
    alu = pyrtl.mux(sel, add, a ^ b, a | b, a & b, minv, maxv, minv, maxv)
    out = pyrtl.WireVector(64, name="amo_result")
    out <<= pyrtl.select(funct5[0], src, alu)
    return out
