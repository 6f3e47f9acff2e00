"""Tests of the device tree generator and decoder (hardware/soc/dtb.py), including a
run on Spike with the generated DTB.

``CFG`` is the default SoC, whose core has the H extension; the ISA string is checked
for both ``has_h`` settings (``H_CFG``, ``NOH_CFG``) and Spike runs with each."""

import dataclasses
import shutil
import struct
import subprocess
import sys

import pytest

from hardware.config import CoreConfig, SocConfig
from hardware.soc import dtb, memory_map

CFG = SocConfig()
H_CFG = SocConfig(core=CoreConfig(has_h=True))
NOH_CFG = SocConfig(core=CoreConfig(has_h=False))


def tree(cfg=CFG):
    return dtb.parse_dtb(dtb.build_dtb(cfg))


def test_header_and_blocks():
    blob = dtb.build_dtb(CFG)
    h = dtb.parse_header(blob)
    assert h["magic"] == 0xD00DFEED and h["version"] == 17 and h["last_comp_version"] == 16
    assert h["totalsize"] == len(blob) and len(blob) % 8 == 0
    assert h["off_mem_rsvmap"] % 8 == 0 and h["off_dt_struct"] % 4 == 0
    assert h["off_mem_rsvmap"] < h["off_dt_struct"] < h["off_dt_strings"]
    assert dtb.parse_reservations(blob) == []
    strings = blob[h["off_dt_strings"]:h["off_dt_strings"] + h["size_dt_strings"]]
    names = strings.split(b"\0")[:-1]
    assert len(names) == len(set(names))  # each property name stored once
    assert struct.unpack_from(">I", blob, h["off_dt_struct"] + h["size_dt_struct"] - 4) == (9,)


def test_reservations_round_trip():
    blob = dtb.flatten(dtb.device_tree(CFG), reservations=((0x8000_0000, 0x2_0000),))
    assert dtb.parse_reservations(blob) == [(0x8000_0000, 0x2_0000)]
    assert dtb.parse_dtb(blob) == tree()


def test_root_chosen_and_memory():
    t = tree()
    assert dtb.u32s(t["#address-cells"]) == (2,) and dtb.u32s(t["#size-cells"]) == (2,)
    assert dtb.strings(t["compatible"]) == ["hvsim,virt", "riscv-virtio"]
    stdout = dtb.strings(t["chosen"]["stdout-path"])[0]
    assert dtb.strings(dtb.node_at(t, stdout)["compatible"]) == ["ns16550a"]
    mem = t["memory@80000000"]
    assert dtb.strings(mem["device_type"]) == ["memory"]
    assert dtb.reg_pairs(mem["reg"]) == [(0x8000_0000, CFG.ram_size)]


def test_cpu_node():
    assert CFG.core.has_h
    cpu = tree()["cpus"]["cpu@0"]
    assert dtb.strings(cpu["device_type"]) == ["cpu"]
    assert dtb.u32s(cpu["reg"]) == (0,)
    assert dtb.strings(cpu["status"]) == ["okay"]
    assert dtb.strings(cpu["riscv,isa"]) == ["rv64imach_zicsr_zifencei_zicntr_sstc"]
    assert dtb.strings(cpu["riscv,isa-base"]) == ["rv64i"]
    assert dtb.strings(cpu["riscv,isa-extensions"]) == ["i", "m", "a", "c", "h", "zicsr",
                                                        "zifencei", "zicntr", "sstc"]
    assert dtb.strings(cpu["mmu-type"]) == ["riscv,sv39"]
    assert dtb.u32s(cpu["riscv,pmpregions"]) == (16,)
    intc = cpu["interrupt-controller"]
    assert "interrupt-controller" in intc and intc["interrupt-controller"] == b""
    assert dtb.strings(intc["compatible"]) == ["riscv,cpu-intc"]
    assert dtb.u32s(tree()["cpus"]["timebase-frequency"]) == (dtb.CORE_CLOCK_HZ,)


@pytest.mark.parametrize("core,isa", [
    (CoreConfig(has_h=True), "rv64imach_zicsr_zifencei_zicntr_sstc"),
    (CoreConfig(has_h=False), "rv64imac_zicsr_zifencei_zicntr_sstc"),
    (CoreConfig(has_h=True, has_c=False, pmp_regions=0), "rv64imah_zicsr_zifencei_zicntr_sstc"),
    (CoreConfig(has_h=False, has_c=False, pmp_regions=0), "rv64ima_zicsr_zifencei_zicntr_sstc"),
])
def test_isa_and_pmp_follow_config(core, isa):
    cfg = dataclasses.replace(CFG, core=core, timebase_divider=4)
    cpus = tree(cfg)["cpus"]
    assert dtb.strings(cpus["cpu@0"]["riscv,isa"]) == [isa]
    base, *multi = isa.split("_")
    assert dtb.strings(cpus["cpu@0"]["riscv,isa-extensions"]) == [*base[4:], *multi]
    assert dtb.u32s(cpus["cpu@0"]["riscv,pmpregions"]) == (core.pmp_regions,)
    assert dtb.u32s(cpus["timebase-frequency"]) == (dtb.CORE_CLOCK_HZ // 4,)


def test_devices_match_memory_map():
    t = tree()
    soc = t["soc"]
    assert "ranges" in soc and dtb.strings(soc["compatible"]) == ["simple-bus"]
    want = {"riscv,clint0": "clint", "riscv,plic0": "plic", "ns16550a": "uart0",
            "sifive,test0": "finisher"}
    for compat, name in want.items():
        (path,) = dtb.find_compatible(t, compat)
        r = memory_map.region(CFG, name)
        assert path == f"/soc/{path.split('/')[-1]}" and path.endswith(f"@{r.base:x}")
        assert dtb.reg_pairs(dtb.node_at(t, path)["reg"]) == [(r.base, r.size)]


def test_interrupt_wiring():
    t = tree()
    intc = dtb.u32s(t["cpus"]["cpu@0"]["interrupt-controller"]["phandle"])[0]
    clint = dtb.node_at(t, dtb.find_compatible(t, "riscv,clint0")[0])
    plic = dtb.node_at(t, dtb.find_compatible(t, "riscv,plic0")[0])
    uart = dtb.node_at(t, dtb.find_compatible(t, "ns16550a")[0])
    assert dtb.u32s(clint["interrupts-extended"]) == (intc, 3, intc, 7)
    assert dtb.u32s(plic["interrupts-extended"]) == (intc, 11, intc, 9)
    assert dtb.u32s(plic["riscv,ndev"]) == (31,)
    assert dtb.u32s(plic["#interrupt-cells"]) == (1,) and plic["interrupt-controller"] == b""
    assert dtb.u32s(uart["interrupt-parent"]) == dtb.u32s(plic["phandle"])
    assert dtb.u32s(uart["interrupts"]) == (memory_map.UART0_IRQ,)
    assert dtb.u32s(uart["reg-shift"]) == (0,) and dtb.u32s(uart["reg-io-width"]) == (1,)


@pytest.mark.parametrize("mutate,msg", [
    (lambda b: b"\0" + b[1:], "bad magic"),
    (lambda b: b[:20], "shorter than"),
    (lambda b: b[:-64], "totalsize"),
])
def test_parse_errors_are_one_line(mutate, msg):
    with pytest.raises(dtb.DtbError, match=msg) as e:
        dtb.parse_dtb(mutate(dtb.build_dtb(CFG)))
    assert "\n" not in str(e.value)


def test_write_dtb(tmp_path):
    path = dtb.write_dtb(CFG, tmp_path / "x.dtb")
    assert path.read_bytes() == dtb.build_dtb(CFG)


# ------------------------------------------------------------------------------ Spike

PROGRAM = """
.option norvc
.section .text.init
.globl _start
_start:
  la t2, fail
  csrw mtvec, t2
  li t1, 0x10000000
  li t0, 'O'
  sb t0, 0(t1)
  li t0, 'K'
  sb t0, 0(t1)
  li t1, 0x0c000028
  li t0, 5
  sw t0, 0(t1)
  lw t3, 0(t1)
  bne t3, t0, fail
  li t1, 0x0200bff8
  ld t3, 0(t1)
  li t1, 0x02004000
  sd t3, 0(t1)
  li t0, RESULT
  la t1, tohost
  sd t0, 0(t1)
1: j 1b
fail:
  li t0, 7
  la t1, tohost
  sd t0, 0(t1)
2: j 2b
.section .tohost,"aw"
.align 6
.globl tohost
tohost: .dword 0
.align 6
.globl fromhost
fromhost: .dword 0
"""

LINK = """ENTRY(_start)
SECTIONS { . = 0x80000000; .text : { *(.text.init) *(.text*) }
  . = ALIGN(0x1000); .tohost : { *(.tohost) } }
"""


def spike_run(tmp_path, cfg: SocConfig, result: int, isa: str) -> subprocess.CompletedProcess:
    spike = shutil.which("spike")
    if spike is None:
        pytest.skip("spike is not installed")
    (tmp_path / "t.S").write_text(PROGRAM.replace("RESULT", str(result)))
    (tmp_path / "t.ld").write_text(LINK)
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", "riscv64-freestanding-none",
                    "-mcpu=generic_rv64+m+a+c", "-mcmodel=medany", "-nostdlib", "-T",
                    str(tmp_path / "t.ld"), str(tmp_path / "t.S"), "-o", str(tmp_path / "t.elf")],
                   check=True, capture_output=True)
    dtb.write_dtb(cfg, tmp_path / "t.dtb")
    return subprocess.run([spike, f"--dtb={tmp_path / 't.dtb'}", f"--isa={isa}",
                           f"-m0x80000000:{cfg.ram_size:#x}", str(tmp_path / "t.elf")],
                          capture_output=True, timeout=60, text=True)


@pytest.mark.parametrize("cfg,isa", [
    (NOH_CFG, "rv64imac_zicntr_sstc"),
    (H_CFG, "rv64imach_zicntr_sstc"),
])
def test_spike_runs_with_our_dtb(tmp_path, cfg, isa):
    run = spike_run(tmp_path, cfg, 1, isa)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "OK"  # Spike's ns16550 sits at the DTB's UART address


def test_spike_reports_failure(tmp_path):
    run = spike_run(tmp_path, H_CFG, (3 << 1) | 1, "rv64imach_zicntr_sstc")
    assert run.returncode == 3
