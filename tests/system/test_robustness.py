"""A program that does anything at all never crashes the simulator (issue: the
hardware platform, "Bad input"): random words as code, wild stores, illegal
instructions and traps to an unset vector end in a timeout or a halt, never in an
exception, and the machine stays usable for the next program."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, strategies as st

from hardware.config import DEFAULT
from hardware.sim.elf import ElfImage
from hardware.sim.machine import Machine

RAM = 0x8000_0000
#: Words that make programs wander: wild stores through random registers, jumps to
#: random targets, CSR writes of random values (mtvec included), MRET/SRET/WFI.
NASTY = [0x0000_0073, 0x3020_0073, 0x1020_0073, 0x1050_0073, 0x3057_1073,
         0x0000_8067, 0x00A5_B023, 0x0000_0000, 0xFFFF_FFFF, 0x3007_1073]
words = st.lists(st.one_of(st.integers(0, 2**32 - 1), st.sampled_from(NASTY)),
                 min_size=1, max_size=200)


@pytest.fixture(scope="module")
def machine():
    m = Machine(DEFAULT)
    yield m
    m.close()


def _image(code: list[int], tohost: int | None) -> ElfImage:
    blob = b"".join(struct.pack("<I", w) for w in code)
    return ElfImage(entry=RAM, segments=[(RAM, blob)], tohost=tohost, path="<random>")


@given(code=words, use_tohost=st.booleans())
def test_random_code_never_crashes_the_simulator(machine, code, use_tohost):
    machine.load(_image(code, RAM + 0x1000 if use_tohost else None))
    out = machine.run(20_000)
    assert out.status in ("pass", "fail", "timeout")
    assert out.cycles <= 20_000


def test_machine_still_runs_programs_after_garbage(machine):
    """After a garbage program, a correct one still passes (reset is complete)."""
    machine.load(_image([0xFFFF_FFFF] * 8, None))
    assert machine.run(1_000).status == "timeout"
    # li a0,1; auipc t0,0x1; sd a0,-4(t0); j .  (tohost = RAM + 0x1000)
    ok = [0x0010_0513, 0x0000_1297, 0xFEA2_BE23, 0x0000_006F]
    machine.load(_image(ok, RAM + 0x1000))
    assert machine.run(1_000).status == "pass"
