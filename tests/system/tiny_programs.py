"""Tiny assembly programs for the machine-runner and CLI tests, built with zig cc.

Each program starts at ``_start`` in ``.text.init`` (the first byte of RAM) and ends
through HTIF ``tohost`` (1 = pass, ``(n << 1) | 1`` = fail with ``n``), the test
finisher, or never (``loop``). Addresses come from ``hardware/soc/memory_map.py``.
"""

from __future__ import annotations

from pathlib import Path

from hardware.config import DEFAULT, SocConfig
from hardware.soc.memory_map import region
from tools.linker import write_linker_script
from tools.toolchain import build_elf

_HEADER = """
    .section .text.init, "ax"
    .globl _start
_start:
"""

_PASS = """
    li t0, 1
    la t1, tohost
    sd t0, 0(t1)
9:  j 9b
"""


def _sources(cfg: SocConfig) -> dict[str, str]:
    uart = region(cfg, "uart0").base
    finisher = region(cfg, "finisher").base
    plic = region(cfg, "plic").base
    return {
        "pass": _PASS,
        "fail3": """
    li t0, (3 << 1) | 1
    la t1, tohost
    sd t0, 0(t1)
9:  j 9b
""",
        "finisher5": f"""
    li t0, {finisher:#x}
    li t1, (5 << 16) | 0x3333
    sw t1, 0(t0)
9:  j 9b
""",
        "uart": f"""
    li t0, {uart:#x}
    la t1, msg
1:  lbu t2, 0(t1)
    beqz t2, 2f
    sb t2, 0(t0)
    addi t1, t1, 1
    j 1b
2:
{_PASS}
    .section .rodata
msg: .asciz "hello, uart\\n"
""",
        "loop": """
    li a0, 0
1:  addi a0, a0, 1
    j 1b
""",
        "echo": f"""
    li t0, {uart:#x}
    li t1, 1
    sb t1, 2(t0)
1:  lbu t1, 5(t0)
    andi t1, t1, 1
    beqz t1, 1b
    lbu t2, 0(t0)
    sb t2, 0(t0)
    li t3, 10
    bne t2, t3, 1b
{_PASS}
""",
        "irq": f"""
    li t0, {plic + 0x1000:#x}
    li t2, 1 << 28
1:  lw t1, 0(t0)
    and t1, t1, t2
    beqz t1, 1b
{_PASS}
""",
        "mix": f"""
    li t0, {uart:#x}
    li t1, 'o'
    sb t1, 0(t0)
    li a0, 6
    li a1, 7
    mul a2, a0, a1
    c.addi a2, 1
    la t2, scratch
    sd a2, 0(t2)
    lw a3, 0(t2)
    amoadd.d a4, a0, (t2)
    li t1, 'k'
    sb t1, 0(t0)
    li t1, (9 << 1) | 1
    li t3, 43
    bne a3, t3, 8f
{_PASS}
8:  la t3, tohost
    sd t1, 0(t3)
7:  j 7b
    .data
    .balign 8
scratch: .dword 0
""",
    }


#: Program names.
PROGRAMS = tuple(_sources(DEFAULT))


def build(name: str, out_dir: Path, cfg: SocConfig = DEFAULT) -> Path:
    """Build program ``name`` for ``cfg`` into ``out_dir``; return the ELF path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src = out_dir / f"{name}.S"
    src.write_text(_HEADER + _sources(cfg)[name])
    script = write_linker_script(cfg, out_dir / "link.ld")
    return build_elf([src], out_dir / f"{name}.elf", linker_script=script)


def _link_at(out_dir: Path, name: str, target: str, base: int,
             entry: int | None = None) -> Path:
    """A two-instruction program for ``target`` linked at ``base``."""
    import subprocess

    from tools.toolchain import zig_command

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src, script = out_dir / f"{name}.S", out_dir / f"{name}.ld"
    src.write_text(_HEADER + "    li t0, 1\n1:  j 1b\n")
    script.write_text(f"SECTIONS {{ . = {base:#x}; .text : {{ *(.text.init) *(.text) }} }}\n")
    out = out_dir / f"{name}.elf"
    cmd = [*zig_command(), "-target", target, "-nostdlib", f"-Wl,-T,{script}"]
    if entry is not None:
        cmd.append(f"-Wl,-e,{entry:#x}")
    subprocess.run([*cmd, "-o", str(out), str(src)], check=True, capture_output=True)
    return out


def build_rv32(out_dir: Path) -> Path:
    """A 32-bit RISC-V ELF in RAM (the model must refuse it)."""
    return _link_at(out_dir, "rv32", "riscv32-freestanding-none", 0x8000_0000)


def build_linked_at(out_dir: Path, name: str, base: int, entry: int | None = None) -> Path:
    """An RV64 program linked at ``base`` (entry point ``entry``), for bad-ELF cases."""
    return _link_at(out_dir, name, "riscv64-freestanding-none", base, entry)
