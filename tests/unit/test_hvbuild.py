"""The firmware build driver and its linker script (hypervisor/build.py; issue 5 "Build"),
exercised on a small stand-in firmware tree so it does not depend on hypervisor/src."""

from __future__ import annotations

from pathlib import Path

import pytest

from hardware.config import DEFAULT
from hardware.sim.elf import load_elf
from hypervisor.build import build_firmware, gen_dir, hv_linker_script
from hypervisor.config import VmConfigError, load_scenario
from tools import toolchain
from tools.toolchain import ToolchainError, build_elf

GUEST_LD = """ENTRY(_start)
SECTIONS {{ . = 0x80000000; .text : {{ *(.text.init) *(.text .text.*) }}
  .data : {{ *(.data .data.*) }} /DISCARD/ : {{ *(.comment) *(.riscv.attributes) }} }}
"""
GUEST_S = """    .section .text.init, "ax"
    .globl _start
_start:
    li a0, {tag}
1:  j 1b
"""
#: The firmware's real header, so a change to the table layout is caught here.
VMCONFIG_H = (Path(__file__).resolve().parents[2] / "hypervisor" / "src" / "include"
              / "vmconfig.h").read_text()
START_S = """#include "platform.h"
    .section .text.init, "ax"
    .globl _start
_start:
    la sp, m_stack + 64
    call hv_main
1:  j 1b
"""
MAIN_C = """#include "vmconfig.h"
#include "platform.h"
#include "encoding.h"
__attribute__((section(".data.mstage"))) uint64_t m_stack[8] = { 1 };
volatile uint64_t sink;
uint64_t zeroed[4];
void hv_main(void);
void hv_main(void)
{
    for (unsigned i = 0; i < hv_num_vms; i++)
        sink += hv_vm_configs[i].image[0] + hv_vm_configs[i].dtb_size + UART0_BASE;
    sink += CSR_HSTATUS + hv_reserved_size + zeroed[1];
}
"""


def tiny_guest(out_dir, tag=1):
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "g.S").write_text(GUEST_S.format(tag=tag))
    (out_dir / "g.ld").write_text(GUEST_LD.format())
    return build_elf([out_dir / "g.S"], out_dir / "g.elf", linker_script=out_dir / "g.ld")


@pytest.fixture
def tree(tmp_path):
    """A stand-in firmware source tree, a guest and a two-VM scenario."""
    src = tmp_path / "src"
    (src / "include").mkdir(parents=True)
    (src / "arch").mkdir()
    (src / "include" / "vmconfig.h").write_text(VMCONFIG_H)
    (src / "arch" / "start.S").write_text(START_S)
    (src / "main.c").write_text(MAIN_C)
    guest = tiny_guest(tmp_path / "guest")
    toml = tmp_path / "two.toml"
    toml.write_text(f'[[vm]]\nname = "a"\nimage = "{guest}"\nram = "2M"\n'
                    f'[[vm]]\nname = "b"\nimage = "{guest}"\nram = "4M"\n')
    return {"src": src, "guest": guest, "toml": toml, "build": tmp_path / "build",
            "tmp": tmp_path}


@pytest.fixture
def link_count(monkeypatch):
    """Counts the zig runs that produce the firmware ELF."""
    calls = []
    real = toolchain.subprocess.run

    def counting(cmd, *a, **kw):
        if any("hv.elf" in str(arg) for arg in cmd):
            calls.append(cmd)
        return real(cmd, *a, **kw)
    monkeypatch.setattr(toolchain.subprocess, "run", counting)
    return calls


def _build(tree, scenario=None):
    return build_firmware(scenario or tree["toml"], DEFAULT, src_dir=tree["src"],
                          build_dir=tree["build"])


def test_linker_script_layout():
    text = hv_linker_script(DEFAULT, 2 << 20)
    assert "ENTRY(_start)" in text and "ORIGIN = 0x80000000, LENGTH = 0x1000000" in text
    order = [text.index(f"  {s} ") for s in (".mstage", ".text", ".rodata", ".data",
                                              ".tohost", ".bss")]
    assert order == sorted(order)
    mstage = text[text.index("  .mstage"):text.index("  .text ")]
    assert mstage.index("_m_start = .") < mstage.index("*(.text.init)")
    assert mstage.index("*(.data.mstage*)") < mstage.index("ALIGN(4096)") < mstage.index("_m_end")
    for sym in ("_ram_start = 0x80000000;", "_ram_end = 0x81000000;",
                "_hv_limit = 0x80200000;", "_bss_start = .;", "_bss_end = .;", "tohost = .;",
                "fromhost = .;", "_hv_end = .;"):
        assert sym in text, sym
    assert ".bss (NOLOAD)" in text and "*(COMMON)" in text
    assert "ASSERT(_hv_end <= 0x80200000" in text
    assert "ASSERT" not in hv_linker_script(DEFAULT, 2 << 20, check_size=False)
    assert "_hv_limit = 0x80400000;" in hv_linker_script(DEFAULT, 4 << 20)


def test_build_links_the_tables_and_images(tree):
    fw = _build(tree)
    gen = gen_dir(DEFAULT, "two", tree["build"])
    assert fw.elf == gen / "hv.elf" and fw.gen_dir == gen
    assert {"encoding.h", "platform.h", "vmtable.c", "images.S", "vm0.dtb", "vm1.dtb",
            "hv.ld"} <= {p.name for p in gen.iterdir()}
    img = load_elf(fw.elf, DEFAULT)
    sym = img.symbols
    assert img.entry == sym["_start"] == sym["_m_start"] == 0x8000_0000
    assert sym["_m_start"] <= sym["m_stack"] < sym["_m_end"] and sym["_m_end"] % 4096 == 0
    assert sym["_m_end"] <= sym["hv_main"]
    assert sym["_bss_start"] <= sym["zeroed"] < sym["_bss_end"]
    assert sym["_hv_end"] % 4096 == 0 and sym["_hv_end"] <= 0x8020_0000
    assert img.tohost is not None and img.tohost % 64 == 0

    def read(addr, n):
        for base, data in img.segments:
            if base <= addr and addr + n <= base + len(data):
                return data[addr - base:addr - base + n]
        raise AssertionError(f"{addr:#x} not loaded")
    guest = tree["guest"].read_bytes()
    assert read(sym["hv_image_1"], len(guest)) == guest
    assert sym["hv_image_1_end"] - sym["hv_image_1"] == len(guest)
    dtb = (gen / "vm1.dtb").read_bytes()
    assert read(sym["hv_dtb_1"], len(dtb)) == dtb
    assert read(sym["hv_num_vms"], 4) == (2).to_bytes(4, "little")
    assert fw.scenario.vms[1].base == 0x8040_0000


def test_build_is_cached_and_sees_guest_changes(tree, link_count):
    first = _build(tree).elf.read_bytes()
    assert len(link_count) == 1
    _build(tree)
    assert len(link_count) == 1
    tiny_guest(tree["tmp"] / "guest", tag=2)
    second = _build(tree).elf.read_bytes()
    assert len(link_count) == 2 and second != first
    _build(tree, load_scenario(tree["toml"], DEFAULT))
    assert len(link_count) == 2


def test_build_sees_firmware_header_changes(tree, link_count):
    _build(tree)
    header = tree["src"] / "include" / "vmconfig.h"
    header.write_text(header.read_text() + "/* changed */\n")
    _build(tree)
    assert len(link_count) == 2


def test_image_larger_than_reserved_size(tree):
    (tree["src"] / "big.c").write_text("const unsigned char hv_big[64 << 10] = { 1 };\n")
    toml = tree["tmp"] / "small.toml"
    toml.write_text('[hypervisor]\nsize = "32K"\n' + tree["toml"].read_text())
    with pytest.raises(VmConfigError) as info:
        _build(tree, toml)
    msg = str(info.value)
    assert "\n" not in msg
    assert "small.toml: [hypervisor].size: the hypervisor image needs 0x" in msg
    assert "but only 0x8000 (32 KiB) are reserved" in msg


def test_warnings_are_errors(tree):
    (tree["src"] / "warn.c").write_text("int hv_unused(int x);\n"
                                        "int hv_unused(int x) { int y; return 0; }\n")
    with pytest.raises(ToolchainError, match=r"warn\.c:2: error: unused"):
        _build(tree)


def test_bad_scenario_is_reported_before_compiling(tree, link_count):
    bad = tree["tmp"] / "bad.toml"
    bad.write_text('[[vm]]\nname = "a"\nimage = "missing.elf"\nram = "2M"\n')
    with pytest.raises(VmConfigError, match=r"vm\[0\]\.image: image file not found"):
        _build(tree, bad)
    assert link_count == []


def test_gstage_pools_are_not_cleared_at_boot():
    """The real firmware keeps its G-stage table pools in .noinit (NOBITS, after .bss):
    boot clears only [_bss_start, _bss_end), and gstage.c zeroes each table it uses."""
    from elftools.elf.elffile import ELFFile

    fw = build_firmware("demo", DEFAULT)
    with open(fw.elf, "rb") as f:
        elf = ELFFile(f)
        noinit = elf.get_section_by_name(".noinit")
        syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        assert noinit is not None and noinit["sh_type"] == "SHT_NOBITS"
        lo, hi = noinit["sh_addr"], noinit["sh_addr"] + noinit["sh_size"]
    assert syms["_bss_end"] <= lo and hi <= syms["_hv_end"]
    assert all(lo <= syms[name] < hi for name in ("roots", "pool"))
    assert syms["_bss_end"] - syms["_bss_start"] < 128 << 10
