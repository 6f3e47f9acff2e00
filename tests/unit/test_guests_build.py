"""The S-mode guest kernels (guests/build.py, docs/guests.md) build into RV64
ET_EXEC images linked inside guest RAM [0x8000_0000, +1 MiB), with their stack in .bss
and the marker symbols harnesses look up placed on the intended instructions."""

from __future__ import annotations

import struct

import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from guests.build import (GROUPS, GUESTS, MARKERS, RAM_LENGTH, RAM_ORIGIN, GuestBuildError, build_guest,
                          build_program, guest_sources, linker_script)

STACK_SIZE = 16384
#: The smallest VM (128 KiB) minus the 64 KiB the hypervisor keeps for the DTB.
SMALLEST_IMAGE_ROOM = (128 - 64) << 10
EF_RISCV_RVC, EF_RISCV_FLOAT_ABI = 0x1, 0x6
ECALL = 0x00000073
C_LW_S1_4_A5 = 0x43C4  # c.lw s1, 4(a5): funct3 010, uimm[2]=1, rs1'=a5, rd'=s1, op 00


def _load(name: str) -> tuple[dict, list[dict], dict[str, int], ELFFile, object]:
    path = build_guest(name)
    f = open(path, "rb")
    elf = ELFFile(f)
    symbols: dict[str, int] = {}
    for sec in elf.iter_sections():
        if isinstance(sec, SymbolTableSection):
            for sym in sec.iter_symbols():
                if sym.name:
                    symbols[sym.name] = sym["st_value"]
    return elf.header, list(elf.iter_segments()), symbols, elf, f


def _text_bytes(elf: ELFFile, addr: int, n: int) -> bytes:
    for sec in elf.iter_sections():
        base, size = sec["sh_addr"], sec["sh_size"]
        if sec["sh_flags"] & SH_FLAGS.SHF_EXECINSTR and base <= addr and addr + n <= base + size:
            return sec.data()[addr - base:addr - base + n]
    raise AssertionError(f"{addr:#x} is not in an executable section")


@pytest.fixture(scope="module", params=sorted(GUESTS))
def guest(request):
    header, segments, symbols, elf, f = _load(request.param)
    yield request.param, header, segments, symbols, elf
    f.close()


def test_guest_is_rv64_exec_at_ram_base(guest):
    name, header, _, symbols, _ = guest
    assert header["e_ident"]["EI_CLASS"] == "ELFCLASS64", name
    assert header["e_machine"] == "EM_RISCV", name
    assert header["e_type"] == "ET_EXEC", name
    assert header["e_entry"] == RAM_ORIGIN == symbols["_start"], name
    assert header["e_flags"] & EF_RISCV_RVC, name
    assert header["e_flags"] & EF_RISCV_FLOAT_ABI == 0, name


def test_guest_fits_in_its_ram_window(guest):
    name, _, segments, _, elf = guest
    loads = [s for s in segments if s["p_type"] == "PT_LOAD"]
    assert loads, name
    for seg in loads:
        assert RAM_ORIGIN <= seg["p_paddr"], name
        assert seg["p_paddr"] + seg["p_memsz"] <= RAM_ORIGIN + RAM_LENGTH, name
    for sec in elf.iter_sections():
        if sec["sh_flags"] & SH_FLAGS.SHF_ALLOC:
            assert RAM_ORIGIN <= sec["sh_addr"], (name, sec.name)
            assert sec["sh_addr"] + sec["sh_size"] <= RAM_ORIGIN + RAM_LENGTH, (name, sec.name)


def test_guest_fits_the_smallest_vm(guest):
    name, _, _, symbols, _ = guest
    assert symbols["_end"] - RAM_ORIGIN <= SMALLEST_IMAGE_ROOM, name


def test_guest_stack_is_in_bss(guest):
    name, _, _, symbols, elf = guest
    bss = elf.get_section_by_name(".bss")
    lo, hi = bss["sh_addr"], bss["sh_addr"] + bss["sh_size"]
    assert symbols["_stack_top"] - symbols["_stack_bottom"] == STACK_SIZE, name
    assert lo <= symbols["_stack_bottom"] and symbols["_stack_top"] <= hi, name
    assert symbols["_stack_top"] % 16 == 0, name
    assert symbols["_stack_top"] < RAM_ORIGIN + RAM_LENGTH, name


def test_guest_has_runtime_symbols_and_no_htif(guest):
    name, _, _, symbols, _ = guest
    for sym in ("trap_entry", "trap_handler", "kmain", "hsm_resume_entry", "sbi_call"):
        assert sym in symbols, (name, sym)
    assert symbols["trap_entry"] % 4 == 0, name
    assert "tohost" not in symbols, name


def test_text_init_comes_first(guest):
    name, _, _, _, elf = guest
    text_init = elf.get_section_by_name(".text.init")
    assert text_init["sh_addr"] == RAM_ORIGIN, name


def test_marker_symbols_sit_on_their_instructions():
    for name, markers in MARKERS.items():
        _, _, symbols, elf, f = _load(name)
        with f:
            for m in markers:
                assert m in symbols, (name, m)
            if name == "hvbench":
                word = struct.unpack("<I", _text_bytes(elf, symbols["hvbench_null_ecall"], 4))[0]
                assert word == ECALL
                word = struct.unpack("<I", _text_bytes(elf, symbols["hvbench_uart_store"], 4))[0]
                assert word & 0x7F == 0x23 and (word >> 12) & 7 == 0, f"{word:#x} is not sb"
            if name == "uarttest":
                half = struct.unpack("<H", _text_bytes(elf, symbols["uarttest_clw"], 2))[0]
                assert half == C_LW_S1_4_A5, f"{half:#x}"


def test_unknown_guest_is_a_one_line_key_error():
    with pytest.raises(KeyError) as exc:
        build_guest("no-such-guest")
    msg = exc.value.args[0]
    assert "\n" not in msg and "no-such-guest" in msg
    for name in GUESTS:
        assert name in msg


def test_linker_script_window():
    text = linker_script()
    assert f"ORIGIN = {RAM_ORIGIN:#x}, LENGTH = {RAM_LENGTH:#x}" in text
    assert "ENTRY(_start)" in text and "tohost" not in text
    assert text.index(".text.init :") < text.index(".text :") < text.index(".bss (NOLOAD)")


def test_guest_table_groups_and_sources_exist():
    for name, guest in GUESTS.items():
        assert guest.group in GROUPS, (name, guest.group)
        assert guest.summary and "\n" not in guest.summary, name
        srcs = guest_sources(name)
        assert srcs and all(p.is_file() and p.suffix in (".c", ".S") for p in srcs), name


def test_link_error_names_the_guest_and_the_symbol(tmp_path):
    src = tmp_path / "broken.c"
    src.write_text("extern int nowhere(void);\nint kmain(void) { return nowhere(); }\n")
    with pytest.raises(GuestBuildError) as exc:
        build_program([src], tmp_path / "broken.elf", "broken")
    msg = exc.value.args[0]
    assert "\n" not in msg
    assert msg.startswith("guest 'broken': ") and "nowhere" in msg


def test_compile_error_names_the_guest_file_and_line(tmp_path):
    src = tmp_path / "typo.c"
    src.write_text("int kmain(void)\n{\n    return undefined_name;\n}\n")
    with pytest.raises(GuestBuildError) as exc:
        build_program([src], tmp_path / "typo.elf", "typo")
    msg = exc.value.args[0]
    assert msg.startswith("guest 'typo': ") and "typo.c:3" in msg and "\n" not in msg
