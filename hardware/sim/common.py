"""Types shared by every simulation backend (ARCHITECTURE.md section 2, "Backends").

One run result, one error type, and one rule for turning a MemBlock's words into bytes,
so that ``read_mem``/``write_mem`` mean the same thing on every backend.

Byte layout of a memory: each word occupies ``elem_bytes(bitwidth)`` bytes (1, 2, 4 or
8 for widths up to 64 bits, ``8 * limbs`` above), little-endian, word ``i`` at byte
``i * elem_bytes``. A 64-bit RAM word at byte address ``a`` therefore holds bytes
``a .. a+7`` exactly as a little-endian CPU sees them.
"""

from __future__ import annotations

from dataclasses import dataclass


class SimError(ValueError):
    """Bad use of a simulator (unknown name, value out of range, bad address)."""


@dataclass(frozen=True)
class RunResult:
    """What ``run`` did: cycles executed and the stop Output that ended it (or None)."""

    cycles: int
    stopped_by: str | None


def limbs(bitwidth: int) -> int:
    """Number of 64-bit limbs that hold a value of ``bitwidth`` bits."""
    return (bitwidth + 63) // 64


def elem_bytes(bitwidth: int) -> int:
    """Bytes one memory word occupies in the byte view of a memory."""
    for size in (1, 2, 4, 8):
        if bitwidth <= 8 * size:
            return size
    return 8 * limbs(bitwidth)


def check_value(kind: str, name: str, value: int, bitwidth: int) -> int:
    """Return ``value`` as an unsigned ``bitwidth``-bit int; negatives wrap (two's
    complement), anything that does not fit raises SimError naming the wire."""
    if not isinstance(value, int):
        raise SimError(f"{kind} '{name}': value {value!r} is not an integer")
    if -(1 << (bitwidth - 1)) <= value < 0:
        return value & ((1 << bitwidth) - 1)
    if not 0 <= value < (1 << bitwidth):
        raise SimError(f"{kind} '{name}': value {value:#x} does not fit in {bitwidth} bits")
    return value


def check_span(mem: str, byte_addr: int, n: int, size: int) -> None:
    """Raise SimError unless ``[byte_addr, byte_addr+n)`` lies within a memory of
    ``size`` bytes."""
    if byte_addr < 0 or n < 0 or byte_addr + n > size:
        raise SimError(
            f"memory '{mem}': bytes [{byte_addr:#x}, {byte_addr + n:#x}) outside its "
            f"{size:#x} bytes"
        )


def unknown(kind: str, name: str, known) -> SimError:
    """The error for a name that is not in ``known``."""
    names = ", ".join(sorted(known)) or "none"
    return SimError(f"unknown {kind} '{name}' (known: {names})")
