"""Build of the hypervisor firmware (issue 5, "Build"; docs/hypervisor.md, "Build").

``build_firmware`` checks a scenario, generates into
``build/hv/<SoC config hash>/<scenario>/`` the C headers (``hardware.isa.cheaders``), the
VM tables and embedded images (``hypervisor.config.generate_c``) and the linker script
(``hv_linker_script``), then compiles every ``*.c`` and ``*.S`` under ``hypervisor/src``
with ``tools.toolchain.build_elf`` (cached; warnings are errors). The guest ELFs and DTBs
enter the cache key through the sha256 comments of ``images.S``.

Memory layout of the image (from ``hardware.soc.memory_map``): linked at the RAM base;
``.mstage`` (the M-mode stage, page aligned, bracketed by ``_m_start``/``_m_end`` for PMP),
then ``.text``, ``.rodata``, ``.data``, the HTIF ``.tohost`` block and ``.bss``;
``_hv_end`` (page aligned) must not pass ``_hv_limit`` = RAM base + ``[hypervisor] size``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from hardware.config import SocConfig
from hardware.isa.cheaders import write_headers
from hardware.soc.memory_map import region
from hypervisor.config import Scenario, VmConfigError, generate_c, human_size, load_scenario
from tools import linker
from tools.toolchain import BUILD_DIR, ToolchainError, build_elf

#: Firmware sources.
HV_SRC = Path(__file__).resolve().parent / "src"
#: Root of the generated files and ELFs.
HV_BUILD_DIR = BUILD_DIR / "hv"
#: Compiler settings of the firmware.
HV_MARCH = "generic_rv64+m+a+c+h"
HV_OPT = "-O2"
HV_FLAGS = ("-std=c11", "-Wall", "-Wextra", "-fno-common", "-fno-pic", "-fomit-frame-pointer")
#: Input sections of the M-mode stage.
MSTAGE_INPUTS = (".text.init", ".text.mstage*", ".rodata.mstage*", ".data.mstage*",
                 ".bss.mstage*")
#: Linker ASSERT message when the image outgrows its reserved region.
TOO_BIG = "hypervisor image overflows [hypervisor].size"
#: Zero-filled memory that boot does not clear (``hv_entry`` clears only ``.bss``): the
#: G-stage table pools, which gstage.c zeroes table by table as it uses them.
NOINIT_SECTION = "  .noinit (NOLOAD) : {\n    *(.noinit .noinit.*)\n  } > RAM\n"


@dataclass(frozen=True)
class Firmware:
    """A built firmware image."""

    elf: Path
    scenario: Scenario
    gen_dir: Path | None = None  # generated headers, tables, DTBs and linker script


def hv_linker_script(cfg: SocConfig, hv_size: int, *, check_size: bool = True) -> str:
    """The firmware's linker script for ``cfg`` with ``hv_size`` bytes reserved. Without
    ``check_size`` the final ASSERT is left out (used to measure an oversized image)."""
    ram = region(cfg, "ram")
    limit = ram.base + hv_size
    mstage = "".join(f"    *({p})\n" for p in MSTAGE_INPUTS)
    out = linker.script_head("hypervisor/build.py from hardware/soc/memory_map.py",
                             ram.base, ram.size, {"_ram_start": ram.base,
                                                  "_ram_end": ram.base + ram.size,
                                                  "_hv_limit": limit})
    out += [
        "  .mstage : {\n    _m_start = .;\n" + mstage
        + "    . = ALIGN(4096);\n    _m_end = .;\n  } > RAM\n",
    ]
    out += [linker._section_text(*s) for s in linker.SECTIONS if s[0] != ".text.init"]
    out += [NOINIT_SECTION]
    check = [f'  ASSERT(_hv_end <= {limit:#x}, "{TOO_BIG}")'] if check_size else []
    out += linker.script_tail("  . = ALIGN(4096);", "  _hv_end = .;", *check)
    return "\n".join(out)


def gen_dir(cfg: SocConfig, scenario_name: str, build_dir: Path = HV_BUILD_DIR) -> Path:
    """Folder of the generated files of one scenario for one SoC configuration."""
    key = hashlib.sha256(cfg.key().encode()).hexdigest()[:12]
    return Path(build_dir) / key / scenario_name


def firmware_sources(src_dir: Path = HV_SRC) -> list[Path]:
    """Every ``*.c`` and ``*.S`` under ``src_dir``, sorted."""
    src_dir = Path(src_dir)
    return sorted(p for p in src_dir.rglob("*") if p.suffix in (".c", ".S") and p.is_file())


def _symbol(elf_path: Path, name: str) -> int | None:
    with open(elf_path, "rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        if table is None:
            return None
        syms = table.get_symbol_by_name(name)
        return syms[0]["st_value"] if syms else None


def _too_big(scenario: Scenario, end: int, ram_base: int) -> VmConfigError:
    need = end - ram_base
    return VmConfigError(f"{scenario.label}: [hypervisor].size: the hypervisor image needs "
                         f"{need:#x} bytes ({human_size(need)}) but only {scenario.hv_size:#x} "
                         f"({human_size(scenario.hv_size)}) are reserved")


def build_firmware(scenario: str | Path | Scenario, cfg: SocConfig, *,
                   src_dir: Path = HV_SRC, build_dir: Path = HV_BUILD_DIR) -> Firmware:
    """Build the firmware for ``scenario`` (a name, a TOML path or a loaded Scenario) on
    the SoC ``cfg``. Raises VmConfigError for a bad scenario or an image larger than
    ``[hypervisor] size``, ToolchainError for a compile error."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, cfg)
    src_dir = Path(src_dir).resolve()
    gen = gen_dir(cfg, scenario.name, build_dir)
    gen.mkdir(parents=True, exist_ok=True)
    write_headers(cfg, gen)
    generated = generate_c(scenario, gen, cfg)
    script = linker.write_if_changed(gen / "hv.ld", hv_linker_script(cfg, scenario.hv_size))
    sources = [*firmware_sources(src_dir), *generated[:2]]
    include_dirs = [src_dir / "include", gen]
    options = dict(include_dirs=include_dirs, opt=HV_OPT, march=HV_MARCH, extra_flags=HV_FLAGS)
    ram_base = region(cfg, "ram").base
    try:
        elf = build_elf(sources, gen / "hv.elf", linker_script=script, **options)
    except ToolchainError as exc:
        if TOO_BIG not in str(exc):
            raise
        probe_script = linker.write_if_changed(gen / "hv-probe.ld",
                                   hv_linker_script(cfg, scenario.hv_size, check_size=False))
        probe = build_elf(sources, gen / "hv-probe.elf", linker_script=probe_script, **options)
        raise _too_big(scenario, _symbol(probe, "_hv_end") or 0, ram_base) from None
    end = _symbol(elf, "_hv_end")
    if end is None:
        raise VmConfigError(f"{elf}: no _hv_end symbol (not linked with hv_linker_script)")
    if end > ram_base + scenario.hv_size:
        raise _too_big(scenario, end, ram_base)
    return Firmware(elf=elf, scenario=scenario, gen_dir=gen)
