"""The VM configuration checker, placement, guest DTB and generated tables
(hypervisor/config.py; issue 5 "VM configuration as data", docs/hypervisor.md "Configuration")."""

from __future__ import annotations

import dataclasses
from pathlib import Path
import hashlib
import struct
import subprocess
import types

import pytest

from hardware.config import DEFAULT, VARIANTS
from hardware.soc import dtb as fdt
from hypervisor import config as vc
from hypervisor.config import VmConfigError, generate_c, guest_dtb, load_scenario
from tools.toolchain import BASE_FLAGS, build_elf, zig_command

GUEST_LD = """ENTRY(_start)
SECTIONS
{{
  . = {base:#x};
  .text : {{ *(.text.init) *(.text .text.*) }}
  .data : {{ *(.data .data.*) }}
  /DISCARD/ : {{ *(.comment) *(.riscv.attributes) }}
}}
"""
GUEST_S = """    .section .text.init, "ax"
    .globl _start
_start:
    li a0, {tag}
1:  j 1b
    .data
    .space {pad}
"""
#: The firmware's real header, so a change to the table layout is caught here.
VMCONFIG_H = (Path(__file__).resolve().parents[2] / "hypervisor" / "src" / "include"
              / "vmconfig.h").read_text()


def tiny_guest(out_dir, name="guest", *, tag=1, pad=8, base=0x8000_0000):
    """A minimal RV64 guest ELF linked at ``base`` with ``pad`` bytes of data."""
    out_dir.mkdir(parents=True, exist_ok=True)
    src = out_dir / f"{name}.S"
    src.write_text(GUEST_S.format(tag=tag, pad=pad))
    ld = out_dir / f"{name}.ld"
    ld.write_text(GUEST_LD.format(base=base))
    return build_elf([src], out_dir / f"{name}.elf", linker_script=ld)


@pytest.fixture(scope="module")
def guest_elf(tmp_path_factory):
    return tiny_guest(tmp_path_factory.mktemp("guest"))


def scenario_file(tmp_path, text, guest_elf=None, name="s.toml"):
    """Write a scenario; ``{elf}`` in ``text`` becomes the guest ELF path."""
    path = tmp_path / name
    path.write_text(text.replace("{elf}", str(guest_elf)) if guest_elf else text)
    return path


def vm(name="a", extra="", ram='"4M"'):
    return f'[[vm]]\nname = "{name}"\nimage = "{{elf}}"\nram = {ram}\n{extra}\n'


def load_error(tmp_path, text, guest_elf, cfg=DEFAULT, **kw):
    with pytest.raises(VmConfigError) as info:
        load_scenario(scenario_file(tmp_path, text, guest_elf), cfg, **kw)
    msg = str(info.value)
    label, _, rest = msg.partition(": ")
    assert "\n" not in msg and label.endswith("s.toml"), msg
    return rest


# ------------------------------------------------------------------ shipped scenarios

def test_shipped_scenarios_pass_the_checker():
    names = vc.list_scenarios()
    assert {"demo", "sbi", "uart", "crash", "spin", "wfi", "restart", "bench"} <= set(names)
    for name in names:
        s = load_scenario(name, DEFAULT, resolve_images=False)
        assert 1 <= len(s.vms) <= vc.HV_MAX_VMS
        assert all(v.guest for v in s.vms)


def test_demo_placement_and_defaults():
    s = load_scenario("demo", DEFAULT, resolve_images=False)
    assert s.name == "demo" and s.hv_size == 2 << 20
    assert [v.name for v in s.vms] == ["alpha", "beta", "gamma"]
    assert [v.guest for v in s.vms] == ["hello", "counter", "uarttest"]
    assert [v.base for v in s.vms] == [0x8020_0000, 0x8060_0000, 0x80A0_0000]
    assert all(v.size == 4 << 20 and v.budget_us == 1000 and v.period_us == 3000
               for v in s.vms)
    assert s.vms[0].devices == ("uart",) and s.vms[0].on_fault == "stop"
    assert s.vms[0].max_restarts == 3 and s.vms[0].args == ()


def test_restart_scenario_policy():
    s = load_scenario("restart", DEFAULT, resolve_images=False)
    crash = s.vm("crash")
    assert crash.on_fault == "restart" and crash.max_restarts == 2


def test_unknown_scenario_lists_the_available_ones():
    with pytest.raises(VmConfigError, match=r"nosuch: unknown scenario \(available: .*demo"):
        load_scenario("nosuch", DEFAULT)


def test_missing_file():
    with pytest.raises(VmConfigError, match="scenario file not found"):
        load_scenario("/nonexistent/x.toml", DEFAULT)


# ----------------------------------------------------------------------- checker errors

#: A time-protected scenario's [hypervisor] table.
TP = "[hypervisor]\ntime_protection = true\n"

BAD = {
    "syntax": ("[[vm]]\nname = \n", "TOML syntax error", "line 2"),
    "unknown top key": ("colour = 1\n" + vm(), "colour:", "unknown key"),
    "unknown hv key": ("[hypervisor]\nsise = 1\n" + vm(), "[hypervisor].sise:", "unknown key"),
    "unknown vm key": (vm(extra="bugdet_us = 5"), "vm[0].bugdet_us:", "unknown key"),
    "hypervisor not a table": ("hypervisor = 3\n" + vm(), "[hypervisor]:", "must be a table"),
    "vm not tables": ("vm = [1, 2]\n", "vm:", "array of tables"),
    "no vm": ("[hypervisor]\nsize = \"2M\"\n", "vm:", "1..8 VMs"),
    "too many vms": ("".join(vm(f"v{i}", ram='"128K"') for i in range(9)), "vm:", "9 VMs"),
    "missing name": ('[[vm]]\nimage = "{elf}"\nram = "4M"\n', "vm[0].name:", "missing"),
    "missing ram": ('[[vm]]\nname = "a"\nimage = "{elf}"\n', "vm[0].ram:", "missing"),
    "name type": ('[[vm]]\nname = 3\nimage = "{elf}"\nram = "4M"\n', "vm[0].name:",
                  "must be a string"),
    "name regex": (vm("bad name!"), "vm[0].name:", "not a valid name"),
    "name too long": (vm("a" * 16), "vm[0].name:", "not a valid name"),
    "duplicate name": (vm("x") + vm("x"), "vm[1].name:", "already the name of vm[0]"),
    "size syntax": (vm(ram='"3M5"'), "vm[0].ram:", "'3M5' is not a size"),
    "size type": (vm(ram="true"), "vm[0].ram:", "is not a size"),
    "size granule": (vm(ram="200000"), "vm[0].ram:", "not a multiple of 4 KiB"),
    "size minimum": (vm(ram='"64K"'), "vm[0].ram:", "smaller than the minimum 128 KiB"),
    "hv size": ('[hypervisor]\nsize = "16M"\n' + vm(), "[hypervisor].size:",
                "leaves no RAM"),
    "hv size granule": ('[hypervisor]\nsize = 1000\n' + vm(), "[hypervisor].size:",
                        "multiple of 4 KiB"),
    "work_conserving type": ('[hypervisor]\nwork_conserving = "x"\n' + vm(),
                             "[hypervisor].work_conserving:", "must be a boolean"),
    "watchdog range": (vm(extra="watchdog_us = -1"), "vm[0].watchdog_us:", ""),
    "time_protection type": ("[hypervisor]\ntime_protection = 1\n" + vm(),
                             "[hypervisor].time_protection:", "must be a boolean"),
    "pad without tp": ("[hypervisor]\npad_us = 100\n" + vm(), "[hypervisor].pad_us:",
                       "only applies with time_protection"),
    "boot_us without tp": ("[hypervisor]\nboot_us = 100\n" + vm(), "[hypervisor].boot_us:",
                           "only applies with time_protection"),
    "pad zero": ("[hypervisor]\ntime_protection = true\npad_us = 0\n" + vm(),
                 "[hypervisor].pad_us:", "out of range"),
    "tp periods differ": (TP + vm("a", "budget_us = 1000\nperiod_us = 3000", ram='"1M"')
                          + vm("b", "budget_us = 1000\nperiod_us = 4000", ram='"1M"'),
                          "vm[1].period_us:", "one period for every VM (vm[0] has 3000 us"),
    "tp window under pad": (TP + vm(extra="budget_us = 400\nperiod_us = 3000"),
                            "vm[0].budget_us:", "longer than the switch pad (400 us <= "
                                                "pad_us = 500 us)"),
    "tp restarts": (TP + vm(extra="max_restarts = 1"), "vm[0].max_restarts:",
                    "time protection needs 0"),
    "tp budgets over period": (TP + vm("a", "budget_us = 2000\nperiod_us = 3000", ram='"1M"')
                               + vm("b", "budget_us = 2000\nperiod_us = 3000", ram='"1M"'),
                               "[hypervisor].time_protection:",
                               "add up to 4000 us, more than their period of 3000 us"),
    "base syntax": (vm(extra='base = "here"'), "vm[0].base:", "is not an address"),
    "base alignment": (vm(extra="base = 0x80400100"), "vm[0].base:", "not 4 KiB aligned"),
    "overlap": (vm("a", 'base = "0x80400000"') + vm("b", 'base = "0x80600000"'),
                "vm[1].base:", "overlaps vm[0] 'a' 0x80400000..0x80800000"),
    "outside ram": (vm(extra='base = "0x80e00000"'), "vm[0].base:", "outside RAM"),
    "below ram": (vm(extra="base = 0x10000000"), "vm[0].base:", "outside RAM"),
    "over hypervisor": (vm(extra='base = "0x80100000"'), "vm[0].base:",
                        "hypervisor's reserved region 0x80000000..0x80200000"),
    "auto does not fit": ("".join(vm(f"v{i}") for i in range(4)), "vm[3].ram:",
                          "free: 2 MiB, largest aligned gap: 2 MiB"),
    "budget type": (vm(extra='budget_us = "10"'), "vm[0].budget_us:", "must be an integer"),
    "budget zero": (vm(extra="budget_us = 0"), "vm[0].budget_us:", "out of range"),
    "budget over period": (vm(extra="budget_us = 5000\nperiod_us = 4000"),
                           "vm[0].budget_us:", "exceeds the period"),
    "priority": (vm(extra="priority = -1"), "vm[0].priority:", "out of range"),
    "priority bool": (vm(extra="priority = true"), "vm[0].priority:", "must be an integer"),
    "on_fault": (vm(extra='on_fault = "explode"'), "vm[0].on_fault:", "'explode' is not one"),
    "max_restarts": (vm(extra="max_restarts = -2"), "vm[0].max_restarts:", "out of range"),
    "devices type": (vm(extra='devices = "uart"'), "vm[0].devices:", "must be an array"),
    "device unknown": (vm(extra='devices = ["gpu"]'), "vm[0].devices[0]:", "unknown device"),
    "device twice": (vm(extra='devices = ["uart", "uart"]'), "vm[0].devices[1]:", "twice"),
    "too many args": (vm(extra="args = [1, 2, 3, 4, 5]"), "vm[0].args:", "at most 4"),
    "arg negative": (vm(extra="args = [1, -1]"), "vm[0].args[1]:", "out of range"),
    "arg over u64": (vm(extra=f"args = [{1 << 64}]"), "vm[0].args[0]:", "out of range"),
    "arg type": (vm(extra='args = ["1"]'), "vm[0].args[0]:", "must be an integer"),
    "guest and image": (vm(extra='guest = "hello"'), "vm[0].guest:", "both given"),
    "neither guest nor image": ('[[vm]]\nname = "a"\nram = "4M"\n', "vm[0].guest:",
                                "neither given"),
    "missing image": ('[[vm]]\nname = "a"\nimage = "nothere.elf"\nram = "4M"\n',
                      "vm[0].image:", "image file not found"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_checker_error(tmp_path, guest_elf, case):
    """Each kind of mistake gives one line naming the file and the field."""
    text, field, fragment = BAD[case]
    msg = load_error(tmp_path, text, guest_elf)
    assert msg.startswith(f"{field} ") or field == "TOML syntax error", msg
    assert fragment in msg, msg


def _patched(raw: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(raw)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out)


ELF_BAD = {
    "not an elf": (lambda raw: b"#!/bin/sh\n" + raw[10:], "is not an ELF file"),
    "elfclass32": (lambda raw: _patched(raw, 4, "B", 1), "ELFCLASS64"),
    "not risc-v": (lambda raw: _patched(raw, 18, "<H", 62), "not RISC-V"),
    "not exec": (lambda raw: _patched(raw, 16, "<H", 3), "ET_DYN, not an executable"),
    "truncated header": (lambda raw: raw[:40], "truncated"),
    "truncated segments": (lambda raw: raw[:0x80], "truncated"),
    "entry outside": (lambda raw: _patched(raw, 24, "<Q", 0x8010_0000),
                      "entry point 0x80100000 is outside its loaded segments"),
}


@pytest.mark.parametrize("case", sorted(ELF_BAD))
def test_image_errors(tmp_path, guest_elf, case):
    mangle, fragment = ELF_BAD[case]
    bad = tmp_path / "bad.elf"
    bad.write_bytes(mangle(guest_elf.read_bytes()))
    msg = load_error(tmp_path, vm(), bad)
    assert msg.startswith("vm[0].image: ") and fragment in msg, msg


def test_image_must_leave_room_for_the_dtb(tmp_path):
    """A 64 KiB + 8 image does not fit 128 KiB of RAM minus the 64 KiB DTB slot."""
    elf = tiny_guest(tmp_path / "g", "big", pad=64 << 10)
    msg = load_error(tmp_path, vm(ram='"128K"'), elf)
    assert "vm[0].image:" in msg and "does not fit the guest RAM" in msg
    assert "needs ram >= 132 KiB" in msg
    load_scenario(scenario_file(tmp_path, vm(ram='"192K"'), elf), DEFAULT)


def test_image_linked_elsewhere(tmp_path):
    elf = tiny_guest(tmp_path / "g", "low", base=0x8000_0000 - 0x1000)
    msg = load_error(tmp_path, vm(), elf)
    assert "segment 0 [0x7ffff000" in msg and "does not fit the guest RAM" in msg


def test_ram_from_soc_config(tmp_path, guest_elf):
    """The 1 MiB 'small' SoC has no room beside the default 2 MiB hypervisor."""
    msg = load_error(tmp_path, vm(ram='"128K"'), guest_elf, cfg=VARIANTS["small"])
    assert "[hypervisor].size:" in msg and "RAM is 1 MiB" in msg
    text = '[hypervisor]\nsize = "512K"\n' + vm(ram='"256K"')
    msg = load_error(tmp_path, text, guest_elf, cfg=VARIANTS["small"])
    assert "vm[0].ram:" in msg and "free: 512 KiB" in msg


# ----------------------------------------------------------------------------- placement

def test_placement_around_explicit_partitions(tmp_path, guest_elf):
    """Explicit partitions are placed first; the others skip over them, 2 MiB aligned."""
    text = (vm("a", ram='"2M"') + vm("b", 'base = "0x80400000"', ram='"1M"')
            + vm("c", ram='"4M"') + vm("d", 'base = 0x80300000', ram='"128K"')
            + vm("e", ram='"128K"'))
    s = load_scenario(scenario_file(tmp_path, text, guest_elf), DEFAULT)
    assert {v.name: v.base for v in s.vms} == {
        "a": 0x8060_0000, "b": 0x8040_0000, "c": 0x8080_0000, "d": 0x8030_0000,
        "e": 0x8020_0000}


def test_placement_is_first_fit_in_vm_order(tmp_path, guest_elf):
    text = (vm("a", ram='"128K"') + vm("b", ram='"2M"') + vm("c", 'base = "0x80800000"')
            + vm("d", ram='"2M"'))
    s = load_scenario(scenario_file(tmp_path, text, guest_elf), DEFAULT)
    assert [v.base for v in s.vms] == [0x8020_0000, 0x8040_0000, 0x8080_0000, 0x8060_0000]
    for a in s.vms:
        for b in s.vms:
            assert a is b or a.end <= b.base or b.end <= a.base


def test_sizes_and_defaults(tmp_path, guest_elf):
    text = ('[hypervisor]\nsize = "0x300000"\nwork_conserving = false\n'
            + vm("a", 'period_us = 9000\nargs = [1, 18446744073709551615]\ndevices = []',
                 ram=str(256 << 10))
            + vm("b", 'budget_us = 700\npriority = 4\non_fault = "restart"', ram='"1m"'))
    s = load_scenario(scenario_file(tmp_path, text, guest_elf), DEFAULT)
    a, b = s.vms
    assert s.hv_size == 0x30_0000 and s.work_conserving is False
    assert a.base == 0x8040_0000 and a.size == 256 << 10 and a.period_us == 9000
    assert a.args == (1, (1 << 64) - 1) and a.devices == ()
    assert b.size == 1 << 20 and b.period_us == 1400 and b.priority == 4
    assert b.on_fault == "restart" and b.image == guest_elf.resolve()


def test_time_protection_defaults(tmp_path, guest_elf):
    """Time protection: pad_us 500 and boot_us 0 unless given, max_restarts 0 by
    default (a restart's scrub would overrun a window), written into vmtable.c."""
    text = (TP + "boot_us = 20000\n" + vm("a", "budget_us = 1000\nperiod_us = 3000", '"1M"')
            + vm("b", "budget_us = 2000\nperiod_us = 3000", '"1M"'))
    s = load_scenario(scenario_file(tmp_path, text, guest_elf), DEFAULT)
    assert s.time_protection and s.pad_us == vc.DEFAULT_PAD_US and s.boot_us == 20000
    assert [v.max_restarts for v in s.vms] == [0, 0]
    table = vc.vmtable_c(s, [(1, 1), (1, 1)])
    assert "hv_time_protected = 1;" in table and "hv_tp_pad_us = 500ull;" in table
    assert "hv_tp_boot_us = 20000ull;" in table
    plain = load_scenario("demo", DEFAULT, resolve_images=False)
    assert not plain.time_protection and "hv_time_protected = 0;" in vc.vmtable_c(
        plain, [(1, 1)] * len(plain.vms))


# ---------------------------------------------------------------------- guest = resolution

def test_guest_resolves_through_guest_builder(tmp_path, guest_elf, monkeypatch):
    built = []
    fake = types.SimpleNamespace(GUESTS={"hello": None},
                                 build_guest=lambda n: built.append(n) or guest_elf)
    monkeypatch.setattr(vc, "_guest_module", lambda: fake)
    path = scenario_file(tmp_path, '[[vm]]\nname = "a"\nguest = "hello"\nram = "4M"\n')
    s = load_scenario(path, DEFAULT)
    assert s.vms[0].image == guest_elf and s.vms[0].guest == "hello" and built == ["hello"]
    assert load_scenario(path, DEFAULT, resolve_images=False).vms[0].image is None
    assert built == ["hello"]
    path.write_text('[[vm]]\nname = "a"\nguest = "nope"\nram = "4M"\n')
    with pytest.raises(VmConfigError, match=r"vm\[0\]\.guest: unknown guest 'nope' "
                                            r"\(known: hello\)"):
        load_scenario(path, DEFAULT, resolve_images=False)


def test_guest_build_failure_is_one_line(tmp_path, monkeypatch):
    def broken(name):
        raise RuntimeError("guests/kernels/x.c:3: error: oops\nmore")
    monkeypatch.setattr(vc, "_guest_module",
                        lambda: types.SimpleNamespace(GUESTS={"x": 0}, build_guest=broken))
    path = scenario_file(tmp_path, '[[vm]]\nname = "a"\nguest = "x"\nram = "4M"\n')
    with pytest.raises(VmConfigError) as info:
        load_scenario(path, DEFAULT)
    assert str(info.value).endswith("/s.toml: vm[0].guest: cannot build guest 'x': "
                                    "guests/kernels/x.c:3: error: oops")


# ---------------------------------------------------------------------------- guest DTB

def test_guest_dtb_parses_back(tmp_path, guest_elf):
    s = load_scenario(scenario_file(tmp_path, vm(ram='"3M"'), guest_elf), DEFAULT)
    blob = guest_dtb(s.vms[0], DEFAULT)
    assert len(blob) < vc.DTB_SLOT
    tree = fdt.parse_dtb(blob)
    assert fdt.strings(tree["compatible"]) == ["hvsim,vm", "riscv-virtio"]
    assert fdt.strings(tree["chosen"]["stdout-path"]) == ["/soc/serial@10000000"]
    assert fdt.reg_pairs(tree["memory@80000000"]["reg"]) == [(0x8000_0000, 3 << 20)]
    cpus = tree["cpus"]
    assert fdt.u32s(cpus["timebase-frequency"]) == (fdt.CORE_CLOCK_HZ,)
    cpu = cpus["cpu@0"]
    assert fdt.strings(cpu["riscv,isa"]) == ["rv64imac_zicsr_zifencei_zicntr_sstc"]
    assert "h" not in fdt.strings(cpu["riscv,isa-extensions"])
    assert fdt.strings(cpu["mmu-type"]) == ["riscv,sv39"]
    assert fdt.strings(cpu["interrupt-controller"]["compatible"]) == ["riscv,cpu-intc"]
    uart = fdt.node_at(tree, "/soc/serial@10000000")
    assert fdt.strings(uart["compatible"]) == ["ns16550a"]
    assert fdt.reg_pairs(uart["reg"]) == [(0x1000_0000, 0x100)]
    assert fdt.u32s(uart["reg-shift"]) == (0,) and fdt.u32s(uart["reg-io-width"]) == (1,)
    assert "interrupts" not in uart and "interrupt-parent" not in uart
    assert fdt.find_compatible(tree, "riscv,plic0") == []


def test_the_guest_map_of_hv_h_is_the_one_of_config_py():
    """hv.h repeats the guest-physical map for the C side: the virtual UART the
    hypervisor emulates (a whole page) is the range the isolation checker allows."""
    import re

    text = (Path(vc.__file__).parent / "src/include/hv.h").read_text()
    defs = {m[1]: int(m[2], 16) for m in re.finditer(r"#define (GUEST_\w+)\s+(0x[0-9a-f]+)",
                                                        text)}
    assert defs == {"GUEST_RAM_BASE": vc.GUEST_RAM_BASE, "GUEST_UART_BASE": vc.GUEST_UART_BASE,
                    "GUEST_UART_SIZE": vc.GUEST_UART_SIZE, "GUEST_DTB_SLOT": vc.DTB_SLOT}
    assert vc.GUEST_UART_REGS <= vc.GUEST_UART_SIZE


def test_guest_dtb_timebase_follows_soc(guest_elf, tmp_path):
    cfg = dataclasses.replace(DEFAULT, timebase_divider=10)
    s = load_scenario(scenario_file(tmp_path, vm(), guest_elf), cfg)
    tree = fdt.parse_dtb(guest_dtb(s.vms[0], cfg))
    assert fdt.u32s(tree["cpus"]["timebase-frequency"]) == (fdt.CORE_CLOCK_HZ // 10,)


# ---------------------------------------------------------------------- generated tables

def _compile(src, include_dir, march="generic_rv64+m+a+c+h"):
    obj = src.with_suffix(src.suffix + ".o")
    cmd = [*zig_command(), *BASE_FLAGS, f"-mcpu={march}", "-O2", "-std=c11", "-Wall",
           "-Wextra", f"-I{include_dir}", "-c", str(src), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return obj


def test_generated_c_compiles_and_is_stable(tmp_path, guest_elf):
    text = (vm("alpha", "args = [7, 0x123456789]\nbudget_us = 500\npriority = 2")
            + vm("beta", 'on_fault = "restart"\nmax_restarts = 5\ndevices = []'))
    s = load_scenario(scenario_file(tmp_path, text, guest_elf), DEFAULT)
    out = tmp_path / "gen"
    paths = generate_c(s, out, DEFAULT)
    table, images, *dtbs = paths
    assert [p.name for p in paths] == ["vmtable.c", "images.S", "vm0.dtb", "vm1.dtb"]
    (out / "vmconfig.h").write_text(VMCONFIG_H)
    _compile(table, out)
    _compile(images, out)
    c = table.read_text()
    assert '.name = "alpha"' in c and ".base = 0x80200000ull" in c
    assert f".image_size = {guest_elf.stat().st_size}ull" in c
    assert f".dtb_size = {dtbs[0].stat().st_size}ull" in c
    assert ".args = { 0x7ull, 0x123456789ull, 0x0ull, 0x0ull }" in c
    assert ".on_fault = 1u" in c and ".max_restarts = 5u" in c and ".devices = 0u" in c
    assert "hv_num_vms = 2u" in c and "hv_reserved_size = 0x200000ull" in c
    order = [c.index(f"        .{f} =") for f in (
        "name", "base", "size", "image", "image_size", "dtb", "dtb_size", "budget_us",
        "period_us", "priority", "on_fault", "max_restarts", "devices", "args")]
    assert order == sorted(order)
    asm = images.read_text()
    assert f'.incbin "{guest_elf}"' in asm and f'.incbin "{dtbs[1]}"' in asm
    assert ".section .rodata.images" in asm and "hv_dtb_1_end:" in asm
    assert hashlib.sha256(guest_elf.read_bytes()).hexdigest() in asm
    stamps = [p.stat().st_mtime_ns for p in paths]
    assert generate_c(s, out, DEFAULT) == paths
    assert [p.stat().st_mtime_ns for p in paths] == stamps


def test_generate_needs_resolved_images():
    s = load_scenario("demo", DEFAULT, resolve_images=False)
    with pytest.raises(VmConfigError, match=r"demo.toml: vm\[0\]\.guest: image not resolved"):
        generate_c(s, "/nonexistent", DEFAULT)


# ------------------------------------------------------------------------ command line

def test_command_line(tmp_path, guest_elf, capsys):
    good = scenario_file(tmp_path, vm("a") + vm("b"), guest_elf)
    assert vc.main([str(good)]) == 0
    assert capsys.readouterr().out.startswith("ok: 2 VMs in ")
    bad = scenario_file(tmp_path, vm(ram='"3M5"'), guest_elf, name="bad.toml")
    assert vc.main([str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("bad.toml: vm[0].ram: '3M5' is not a size (use an integer or <n>K/M/G)")
    assert vc.main(["--no-images", "demo"]) == 0
    assert "ok: 3 VMs in demo.toml" in capsys.readouterr().out
