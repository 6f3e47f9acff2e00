"""Disassembler (hardware/isa/disasm.py) against zig's assembler: every line below is
assembled, and the disassembly of each word must equal the line (branch targets as
absolute addresses)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from hardware.isa.disasm import disassemble
from hardware.isa.instructions import INSTRUCTIONS
from hardware.isa.zigasm import assemble, split_words

BASE = 0x8000_0000

#: 32-bit instructions, in the disassembler's own syntax. "{+N}" is the target pc+N.
LINES32 = """
lui a0,0x12345
auipc t0,0xfffff
jal ra,{+2048}
jal zero,{-4}
jalr ra,0(a0)
jalr zero,-8(t1)
beq a0,a1,{+8}
bne s0,s1,{-4096}
blt t0,t1,{+4094}
bge a2,a3,{+0}
bltu a4,a5,{-2}
bgeu t5,t6,{+12}
lb a0,-1(sp)
lh a1,2(sp)
lw a2,-2048(s0)
ld a3,2047(s1)
lbu a4,0(a5)
lhu a6,6(a7)
lwu s2,8(s3)
sb a0,7(sp)
sh s4,-6(s5)
sw s6,100(s7)
sd s8,-2048(s9)
addi sp,sp,-16
slti s10,s11,-1
sltiu t3,t4,1
xori a0,a1,-1
ori a0,a1,1024
andi a0,a1,2047
slli a0,a1,0x3f
srli a0,a1,0x1
srai a0,a1,0x20
add a0,a1,a2
sub ra,sp,gp
sll tp,t0,t1
slt t2,s0,s1
sltu a0,zero,a1
xor a0,a1,a2
srl a0,a1,a2
sra a0,a1,a2
or a0,a1,a2
and a0,a1,a2
addiw a0,a1,-5
slliw a0,a1,0x1f
srliw a0,a1,0x3
sraiw a0,a1,0x7
addw a0,a1,a2
subw a0,a1,a2
sllw a0,a1,a2
srlw a0,a1,a2
sraw a0,a1,a2
fence iorw,iorw
fence r,w
fence i,o
fence.tso
ecall
ebreak
mul a0,a1,a2
mulh a0,a1,a2
mulhsu a0,a1,a2
mulhu a0,a1,a2
div a0,a1,a2
divu a0,a1,a2
rem a0,a1,a2
remu a0,a1,a2
mulw a0,a1,a2
divw a0,a1,a2
divuw a0,a1,a2
remw a0,a1,a2
remuw a0,a1,a2
lr.w a0,(a1)
lr.d.aq a0,(a1)
sc.w a0,a2,(a1)
sc.d.rl a0,a2,(a1)
amoswap.w a0,a2,(a1)
amoadd.w.aqrl a0,a2,(a1)
amoxor.w.aq a0,a2,(a1)
amoand.w.rl a0,a2,(a1)
amoor.w a0,a2,(a1)
amomin.w a0,a2,(a1)
amomax.w a0,a2,(a1)
amominu.w a0,a2,(a1)
amomaxu.w a0,a2,(a1)
amoswap.d a0,a2,(a1)
amoadd.d a0,a2,(a1)
amoxor.d a0,a2,(a1)
amoand.d a0,a2,(a1)
amoor.d.aqrl a0,a2,(a1)
amomin.d a0,a2,(a1)
amomax.d a0,a2,(a1)
amominu.d a0,a2,(a1)
amomaxu.d a0,a2,(a1)
csrrw zero,mstatus,a0
csrrs a0,mepc,zero
csrrc a1,mip,a2
csrrwi zero,mie,5
csrrsi a0,sstatus,31
csrrci a0,satp,0
csrrw a0,0x7c0,a1
csrrs a0,cycle,zero
fence.i
sret
mret
wfi
sfence.vma a0,a1
sfence.vma zero,zero
hfence.vvma a0,a1
hfence.gvma zero,zero
hlv.b a0,(a1)
hlv.bu a0,(a1)
hlv.h a0,(a1)
hlv.hu a0,(a1)
hlvx.hu a0,(a1)
hlv.w a0,(a1)
hlv.wu a0,(a1)
hlvx.wu a0,(a1)
hlv.d a0,(a1)
hsv.b a0,(a1)
hsv.h a0,(a1)
hsv.w a0,(a1)
hsv.d a0,(a1)
"""

#: Compressed instructions (RV64C), same syntax.
LINES16 = """
c.addi4spn s0,sp,16
c.addi4spn a5,sp,1020
c.lw a0,4(a1)
c.lw s0,124(s1)
c.ld a0,248(s1)
c.sw a2,64(a3)
c.sd a4,8(a5)
c.nop
c.addi a0,-32
c.addi t6,31
c.addiw a0,-1
c.li a0,5
c.addi16sp sp,-512
c.addi16sp sp,496
c.lui a0,0x1
c.lui s1,0xfffe0
c.srli a5,0x3f
c.srai s0,0x1
c.andi a0,-1
c.sub s0,s1
c.xor a0,a1
c.or a2,a3
c.and a4,a5
c.subw s0,a5
c.addw a1,a2
c.j {-2048}
c.j {+2046}
c.beqz a0,{+254}
c.bnez s1,{-256}
c.slli a0,0x3f
c.lwsp a0,252(sp)
c.ldsp ra,504(sp)
c.jr ra
c.mv a0,a1
c.ebreak
c.jalr t0
c.add a0,a1
c.swsp a0,252(sp)
c.sdsp ra,504(sp)
c.fld fs0,8(a0)
c.fsd fa5,248(a5)
c.fldsp ft0,8(sp)
c.fsdsp fs11,504(sp)
"""


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.strip().splitlines()]


def _to_source(line: str) -> str:
    """The assembler form of a line: a target {+N} becomes .+N."""
    if "{" not in line:
        return line
    head, off = line.split("{")
    return f"{head}.{off.rstrip('}')}"


def _expected(line: str, pc: int) -> str:
    if "{" not in line:
        return line
    head, off = line.split("{")
    return f"{head}{pc + int(off.rstrip('}')):#x}"


@pytest.fixture(scope="module")
def assembled() -> list[tuple[str, int, int]]:
    lines = _lines(LINES32) + _lines(LINES16)
    src = (".option norvc\n" + "\n".join(map(_to_source, _lines(LINES32)))
           + "\n.option rvc\n" + "\n".join(map(_to_source, _lines(LINES16))))
    words = split_words(assemble(src))
    assert len(words) == len(lines)
    return [(line, BASE + off, word) for line, (off, word) in zip(lines, words)]


def test_disassembly_matches_assembler(assembled):
    bad = [(line, hex(w), disassemble(w, pc)) for line, pc, w in assembled
           if disassemble(w, pc) != _expected(line, pc)]
    assert not bad


def test_every_row_is_exercised(assembled):
    seen = {disassemble(w, pc).split()[0].split(".aq")[0].split(".rl")[0]
            for _, pc, w in assembled}
    seen.discard("fence.tso")
    missing = {r.name for r in INSTRUCTIONS} - seen
    assert not missing


def test_width_follows_low_bits(assembled):
    for line, _, w in assembled:
        assert (w & 3 == 3) == (not line.startswith("c."))


@pytest.mark.parametrize("word,text", [
    (0x0000, "unknown 0x0000"),            # all-zero halfword is reserved
    (0x4002, "unknown 0x4002"),            # c.lwsp with rd=0
    (0x6101, "unknown 0x6101"),            # c.addi16sp with nzimm=0
    (0x8002, "unknown 0x8002"),            # c.jr with rs1=0
    (0x9C41, "unknown 0x9c41"),            # reserved CA slot
    (0xFFFFFFFF, "unknown 0xffffffff"),
    (0x0000007F, "unknown 0x0000007f"),
    (0x0001, "c.nop"),
    (0x0005, "c.nop"),                     # HINT: c.nop with imm
])
def test_reserved_and_unknown(word, text):
    assert disassemble(word) == text


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 0xFFFF_FFFF), st.integers(0, (1 << 64) - 1))
def test_total(word, pc):
    """Every word disassembles to some text without raising."""
    text = disassemble(word, pc)
    assert text and "\n" not in text
