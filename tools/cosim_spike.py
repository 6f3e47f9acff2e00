"""Spike, the golden model, as a steppable hart for lockstep co-simulation
(ARCHITECTURE.md section 5, layer 3; docs/cosim.md, "The Spike side").

One ``SpikeHart`` is one in-process Spike (the ``spike`` package's bindings, ``import
riscv``) configured like the SoC: the ISA string and DTB of ``hardware.soc.dtb`` and RAM
of the configured size at the RAM base. The ELF is loaded by Spike's own HTIF front end
(``sim_t.run`` with an instruction limit of 0 loads the program and resets the hart
without executing anything); after that the hart is driven only through
``processor_t.step(1)``, so no device ticks and Spike's CLINT ``mtime`` moves only when
the co-simulator writes it.

What the bindings do not expose (memory, the device bus) is reached through two
exported ``sim_t`` methods of ``libriscv.so`` called with ``ctypes``: ``addr_to_mem``
(a host pointer into Spike's RAM, to read instruction bits) and ``mmio_store`` /
``mmio_load`` (to write the CLINT's ``mtime``). The ``sim_t`` pointer is read from the
pybind11 instance, a layout checked against ``processor_t.addressof`` before use.

Building a ``sim_t`` leaks its RAM in these bindings (the ``mem_t`` is never freed),
so one ``SpikeHart`` per configuration is kept per process (``hart_for``) and reset
between programs (``load``): hart reset, LR reservation dropped, CLINT, PLIC and UART
registers back to their reset values, the RAM pages the last program wrote zeroed, the
new segments copied in. Spike's boot ROM keeps the first program's entry point; the
boot-ROM rule of ``cosim_lockstep`` replaces the loaded entry with the model's.

Each step is classified from Spike's commit-log state (``state.log_reg_write``, which
Spike clears when an instruction starts): a sentinel key is planted before the step;
if it is gone an instruction executed, and it trapped exactly when both ``xcause`` and
``xepc`` were written; if it is still there nothing executed and the step was either
an interrupt (``xcause`` and ``xepc`` written) or a WFI wait.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from hardware.config import SocConfig
from hardware.isa.csrs import ALL_CSR_ADDR
from hardware.mmu import reference, sv39
from hardware.isa.csrs import CSR_ADDR
from hardware.soc.dtb import isa_string, write_dtb
from hardware.soc.memory_map import RESET_VECTOR, region

#: The ``spike`` release whose bindings this module was written against.
SPIKE_PACKAGE = "spike==0.0.5.dev20"
#: ``log_reg_write`` key type of CSRs (Spike's ``commit_log_reg_t``: ``(reg << 4) | type``,
#: type 0 = x register).
KEY_CSR = 4
#: A key Spike never writes (type 7 is unused): present after a step = nothing executed.
SENTINEL_KEY = (0xFFFF << 4) | 7
H_ADDR = ALL_CSR_ADDR
#: (xcause, xepc) CSR pairs whose joint write marks a trap into M, HS and VS.
TRAP_KEYS = {t: ((H_ADDR[c] << 4) | KEY_CSR, (H_ADDR[e] << 4) | KEY_CSR)
             for t, c, e in (("M", "mcause", "mepc"), ("S", "scause", "sepc"),
                             ("VS", "vscause", "vsepc"))}
SATP, VSATP, HGATP = (H_ADDR[n] for n in ("satp", "vsatp", "hgatp"))
MSTATUS, HSTATUS, VSSTATUS = (H_ADDR[n] for n in ("mstatus", "hstatus", "vsstatus"))
#: The xcause CSR of each trap target.
CAUSE_CSR = {"M": H_ADDR["mcause"], "S": H_ADDR["scause"], "VS": H_ADDR["vscause"]}
#: CSR writes a trap makes (deleted after it, so they cannot be mistaken for the next).
TRAP_CSR_NAMES = ("mcause", "mepc", "mtval", "mstatus", "scause", "sepc", "stval",
                  "sstatus", "vscause", "vsepc", "vstval", "vsstatus", "hstatus", "htval",
                  "htinst", "mtval2", "mtinst")
#: Offset of ``mtime`` in the CLINT (SiFive layout, as ``hardware/soc/clint.py``).
MTIME_OFFSET = 0xBFF8
MTIMECMP_OFFSET = 0x4000
#: Spike's RAM is sparse in pages of this size (``mem_t``).
PAGE_SHIFT = 12
PAGE = 1 << PAGE_SHIFT
#: PLIC layout (``hardware/soc/plic.py``): sources, per-context enable and threshold.
PLIC_SOURCES = range(1, 32)
PLIC_CONTEXTS = (0, 1)
PLIC_ENABLE, PLIC_ENABLE_STRIDE = 0x2000, 0x80
PLIC_THRESHOLD, PLIC_THRESHOLD_STRIDE = 0x200000, 0x1000
#: ns16550 registers written at reset, in this order (LCR first: clears DLAB).
UART_RESET_REGS = (3, 1, 4, 7)  # LCR, IER, MCR, SCR
#: Exported ``sim_t`` methods of libriscv.so (Itanium mangling).
SYM_ADDR_TO_MEM = "_ZN5sim_t11addr_to_memEm"
SYM_MMIO_LOAD = "_ZN5sim_t9mmio_loadEmmPh"
SYM_MMIO_STORE = "_ZN5sim_t10mmio_storeEmmPKh"
#: Offset of the value/holder pointer in a pybind11 instance (after PyObject_HEAD).
PYBIND_VALUE_OFFSET = 16


class CosimError(RuntimeError):
    """Co-simulation cannot run (Spike missing or rejecting the ELF, bad arguments);
    the message is one line naming the problem."""


class SpikeStep(NamedTuple):
    """What one ``SpikeHart.step`` did."""

    kind: str  # "retired" | "trap" | "idle" (waiting in WFI, nothing executed)
    pc: int  # pc before the step
    priv: int  # privilege before the step
    cause: int  # xcause of a trap, else 0
    executed: bool  # an instruction started executing (False: interrupt, fetch fault, idle)
    v: int = 0  # virtualization mode before the step (H)


@dataclass(frozen=True)
class MemAccess:
    """One logged memory access of a step."""

    addr: int
    value: int  # store data (0 for loads)
    size: int  # bytes


def _import_riscv():
    """The ``riscv`` bindings, or CosimError naming the missing package."""
    try:
        import riscv  # noqa: PLC0415 - optional dependency, loaded on first use
        from riscv.cfg import cfg_t, mem_cfg_t  # noqa: F401
        from riscv.sim import sim_t  # noqa: F401
    except (ImportError, AttributeError) as exc:
        raise CosimError(f"the spike Python bindings are missing or broken ({exc}); "
                         f"install them with: pip install {SPIKE_PACKAGE}") from None
    return riscv


def _libriscv():
    """The process's symbol table (libriscv.so is loaded RTLD_GLOBAL by ``riscv``)."""
    lib = ctypes.CDLL(None)
    try:
        a2m = getattr(lib, SYM_ADDR_TO_MEM)
        load = getattr(lib, SYM_MMIO_LOAD)
        store = getattr(lib, SYM_MMIO_STORE)
    except AttributeError as exc:
        raise CosimError(f"libriscv.so lacks a sim_t method ({exc}); "
                         f"use {SPIKE_PACKAGE}") from None
    a2m.restype, a2m.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_uint64]
    load.restype = ctypes.c_bool
    load.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_void_p]
    store.restype = ctypes.c_bool
    store.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_char_p]
    return a2m, load, store


def _value_pointer(obj) -> int:
    """The C++ object behind a pybind11 instance with a non-simple layout."""
    holder = ctypes.c_void_p.from_address(id(obj) + PYBIND_VALUE_OFFSET).value
    return ctypes.c_void_p.from_address(holder).value if holder else 0


_DTB_FILES: dict[str, Path] = {}
_HARTS: dict[str, "SpikeHart"] = {}


def dtb_file(cfg: SocConfig) -> Path:
    """The SoC's DTB for ``cfg`` in a temporary file, written once per process."""
    key = hashlib.sha256(cfg.key().encode()).hexdigest()[:16]
    path = _DTB_FILES.get(key)
    if path is None or not path.exists():
        path = Path(tempfile.gettempdir()) / f"hvsim-cosim-{os.getpid()}-{key}.dtb"
        write_dtb(cfg, path)
        if not _DTB_FILES:
            atexit.register(_remove_dtb_files)
        _DTB_FILES[key] = path
    return path


def _remove_dtb_files() -> None:
    for path in _DTB_FILES.values():
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def stdout_silenced(fds: tuple[int, ...] = (1,)):
    """Send the file descriptors ``fds`` (default: 1, where Spike's ns16550 writes
    directly) to /dev/null; a no-op for a descriptor that cannot be duplicated."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    saved = []
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            try:
                saved.append((fd, os.dup(fd)))
            except OSError:
                continue
            os.dup2(null, fd)
        yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        os.close(null)


class SpikeHart:
    """Spike configured like the SoC ``cfg`` with ``elf`` loaded, stepped one
    instruction at a time."""

    def __init__(self, elf: Path, cfg: SocConfig):
        """Build Spike for ``cfg`` around ``elf`` (Spike's boot ROM needs a program);
        call ``load`` before stepping."""
        riscv = _import_riscv()
        from riscv.cfg import cfg_t, mem_cfg_t  # noqa: PLC0415
        from riscv.sim import sim_t  # noqa: PLC0415

        ram = region(cfg, "ram")
        self.cfg = cfg
        self._clint = region(cfg, "clint").base
        spike_cfg = cfg_t(isa=isa_string(cfg), priv="msu",
                          mem_layout=[mem_cfg_t(ram.base, ram.size)])
        try:
            with stdout_silenced((1, 2)):
                self._sim = sim_t(cfg=spike_cfg, halted=False, plugin_device_factories=[],
                                  args=[str(elf)], dtb_file=str(dtb_file(cfg)),
                                  instruction_limit=0, log_path=os.devnull)
                self._sim.run()
        except Exception as exc:  # noqa: BLE001 - C++ errors arrive as RuntimeError etc.
            raise CosimError(f"{elf}: spike cannot run this ELF: {exc}") from None
        self._sim.configure_log(False, True)
        self.proc = self._sim.get_core(0)
        self.state = self.proc.state
        self._xpr = self.state.XPR
        self._log_reg = self.state.log_reg_write
        self._log_load = self.state.log_mem_read
        self._log_store = self.state.log_mem_write
        self._plic = self._sim.plic
        self._a2m, self._mmio_load, self._mmio_store = _libriscv()
        self._ptr = self._checked_sim_pointer(riscv)
        self._trap_keys = [(H_ADDR[n] << 4) | KEY_CSR for n in TRAP_CSR_NAMES]
        self._has_h = cfg.core.has_h
        self._ram_base = ram.base
        self._plic_base = region(cfg, "plic").base
        self._uart = region(cfg, "uart0").base
        self._dirty: set[int] = set()

    def _checked_sim_pointer(self, riscv) -> int:
        """The ``sim_t*``, after checking the pybind11 layout on the processor."""
        if _value_pointer(self.proc) != riscv.processor.processor_t.addressof(self.proc):
            raise CosimError(f"unexpected pybind11 object layout in the spike bindings; "
                             f"use {SPIKE_PACKAGE}")
        ptr = _value_pointer(self._sim)
        if not ptr or not self._a2m(ptr, region(self.cfg, "ram").base):
            raise CosimError(f"cannot reach Spike's memory; use {SPIKE_PACKAGE}")
        return ptr

    # ---- program loading

    def load(self, image) -> None:
        """Reset the hart and the devices, clear what the last program wrote and copy
        ``image`` (a ``hardware.sim.elf.ElfImage``) into RAM."""
        self.proc.reset()
        self._dirty.add(self._ram_base >> PAGE_SHIFT)
        try:
            self.proc.mmu.store_conditional_64(self._ram_base, 0)
        except Exception:  # noqa: BLE001 - no reservation to drop
            pass
        self._reset_devices()
        for page in self._dirty:
            host = self._host(page << PAGE_SHIFT)
            if host:
                ctypes.memset(host, 0, PAGE)
        self._dirty.clear()
        for addr, data in image.segments:
            self._write(addr, data, image.path)
        self.state.pc = RESET_VECTOR

    def _host(self, addr: int) -> int:
        return self._a2m(self._ptr, addr) or 0

    def _write(self, addr: int, data: bytes, path: str) -> None:
        """Copy ``data`` to RAM at ``addr``, page by page."""
        done = 0
        while done < len(data):
            at = addr + done
            n = min(len(data) - done, PAGE - (at & (PAGE - 1)))
            host = self._host(at)
            if not host:
                raise CosimError(f"{path}: segment at {addr:#x} is outside Spike's RAM "
                                 f"(co-simulation loads programs into RAM only)")
            ctypes.memmove(host, data[done:done + n], n)
            self._dirty.add(at >> PAGE_SHIFT)
            done += n

    def _reset_devices(self) -> None:
        """CLINT, PLIC and UART registers back to reset values; every PLIC source low,
        neither pending nor claimed (Spike clears both when a line drops in the first
        context that enables the source)."""
        for reg in UART_RESET_REGS:
            self.mmio_store(self._uart + reg, 1, 0)
        plic = self._plic_base
        for src in PLIC_SOURCES:
            self.mmio_store(plic + 4 * src, 4, 0)
        for ctx in PLIC_CONTEXTS:
            self.mmio_store(plic + PLIC_THRESHOLD + PLIC_THRESHOLD_STRIDE * ctx, 4, 0)
        for ctx in PLIC_CONTEXTS:
            for other in PLIC_CONTEXTS:
                enable = 0xFFFF_FFFE if other == ctx else 0
                self.mmio_store(plic + PLIC_ENABLE + PLIC_ENABLE_STRIDE * other, 4, enable)
            for src in PLIC_SOURCES:
                self._plic.set_interrupt_level(src, 0)
        for ctx in PLIC_CONTEXTS:
            self.mmio_store(plic + PLIC_ENABLE + PLIC_ENABLE_STRIDE * ctx, 4, 0)
        self.mmio_store(self._clint, 4, 0)
        self.mmio_store(self._clint + MTIMECMP_OFFSET, 8, 0)
        self.set_mtime(0)

    # ---- architectural state

    @property
    def pc(self) -> int:
        return self.state.pc

    @property
    def priv(self) -> int:
        return self.state.prv

    def reg(self, i: int) -> int:
        return self._xpr[i]

    def set_reg(self, i: int, value: int) -> None:
        if i:
            self._xpr.write(i, value)

    def regs(self) -> list[int]:
        """x0..x31."""
        return [self._xpr[i] for i in range(32)]

    def csr(self, addr: int) -> int:
        """A CSR value, read without side effects."""
        return self.proc.get_csr(addr)

    def set_csr(self, addr: int, value: int) -> None:
        """Write a CSR as software would (WARL rules apply)."""
        self.proc.put_csr(addr, value)

    def read64(self, paddr: int) -> int | None:
        """The dword at physical ``paddr`` in RAM (no side effects), or None."""
        host = self._a2m(self._ptr, paddr)
        return ctypes.c_uint64.from_address(host).value if host else None

    def fetch_paddr(self, pc: int, priv: int, v: int = 0) -> int | None:
        """The physical address a fetch at ``pc`` in mode ``priv`` (and ``v``) uses: Sv39
        by the current ``satp`` below M (hardware/mmu/sv39.py), both stages when V=1
        (hardware/mmu/reference.py), else ``pc``; None if the translation fails (the
        CSRs changed by the instruction itself)."""
        if v:
            csr = self.csr
            mode = reference.effective_mode(
                priv, True, "fetch", mstatus=csr(MSTATUS), hstatus=csr(HSTATUS),
                vsstatus=csr(VSSTATUS), vsatp=csr(VSATP), hgatp=csr(HGATP))
            return reference.translate(self.read64, pc, "x", mode).paddr
        satp = self.csr(SATP)
        if priv == 3 or satp >> 60 != sv39.SATP_MODE_SV39:
            return pc
        leaf = sv39.walk(self.read64, satp & ((1 << 44) - 1), pc)
        return leaf.paddr(pc) if isinstance(leaf, sv39.Leaf) else None

    def fetch_bits(self, pc: int, priv: int = 3, v: int = 0) -> int | None:
        """The instruction bits at virtual ``pc`` fetched in mode ``priv``/``v`` (16-bit
        ones zero-extended), or None outside RAM."""
        paddr = self.fetch_paddr(pc, priv, v)
        low = self._a2m(self._ptr, paddr) if paddr is not None else 0
        if not low:
            return None
        half = ctypes.c_uint16.from_address(low).value
        if half & 3 != 3:
            return half
        paddr_hi = self.fetch_paddr(pc + 2, priv, v) if (pc + 2) & 0xFFF == 0 else paddr + 2
        high = self._a2m(self._ptr, paddr_hi) if paddr_hi is not None else 0
        return half | (ctypes.c_uint16.from_address(high).value << 16 if high else 0)

    # ---- devices

    def mmio_load(self, addr: int, size: int) -> int | None:
        """A device read through Spike's bus (side effects included), or None."""
        buf = ctypes.create_string_buffer(size)
        if not self._mmio_load(self._ptr, addr, size, buf):
            return None
        return int.from_bytes(buf.raw, "little")

    def mmio_store(self, addr: int, size: int, value: int) -> bool:
        """A device write through Spike's bus; False if no device took it."""
        return bool(self._mmio_store(self._ptr, addr, size, value.to_bytes(size, "little")))

    @property
    def mtime(self) -> int:
        return self.mmio_load(self._clint + MTIME_OFFSET, 8) or 0

    def set_mtime(self, value: int) -> None:
        """Set the CLINT's ``mtime``; Spike re-evaluates MTIP and (Sstc) STIP."""
        self.mmio_store(self._clint + MTIME_OFFSET, 8, value & ((1 << 64) - 1))

    @property
    def mtimecmp(self) -> int:
        return self.mmio_load(self._clint + MTIMECMP_OFFSET, 8) or 0

    def set_irq_level(self, source: int, level: int) -> None:
        """Drive PLIC source ``source`` to ``level``."""
        self._plic.set_interrupt_level(source, level)

    # ---- stepping

    def step(self) -> SpikeStep:
        """Execute one instruction, take one pending interrupt, or wait in WFI."""
        log = self._log_reg
        pc, priv = self.state.pc, self.state.prv
        v = int(self.state.v) if self._has_h else 0
        log[SENTINEL_KEY] = (0, 0)
        self.proc.step(1)
        executed = SENTINEL_KEY not in log
        target = self._trap_target()
        if target is None:
            return SpikeStep("retired" if executed else "idle", pc, priv, 0, executed, v)
        cause = self.proc.get_csr(CAUSE_CSR[target])
        self._forget_trap_writes()
        return SpikeStep("trap", pc, priv, cause, executed, v)

    def _trap_target(self) -> str | None:
        """"M", "S" or "VS" if the last step entered a trap there, else None."""
        log = self._log_reg
        for target, (cause_key, epc_key) in TRAP_KEYS.items():
            if cause_key in log and epc_key in log:
                return target
        return None

    def _forget_trap_writes(self) -> None:
        log = self._log_reg
        for key in self._trap_keys:
            if key in log:
                del log[key]
        if SENTINEL_KEY in log:
            del log[SENTINEL_KEY]

    def wrote_reg(self, i: int) -> bool:
        """The last executed instruction logged a write of ``x<i>``."""
        return (i << 4) in self._log_reg

    def written_regs(self) -> list[int]:
        """Every nonzero ``x`` register the last executed instruction logged."""
        log = self._log_reg
        return [i for i in range(1, 32) if (i << 4) in log]

    def reg_writes(self) -> int:
        """Number of keys in the last instruction's register/CSR write log."""
        return len(self._log_reg)

    def loads(self) -> list[MemAccess]:
        log = self._log_load
        return [MemAccess(*log[i]) for i in range(len(log))]

    def stores(self) -> list[MemAccess]:
        """The last instruction's stores (their RAM pages are cleared at the next
        ``load``)."""
        log = self._log_store
        out = [MemAccess(*log[i]) for i in range(len(log))]
        for a in out:
            self._dirty.add(a.addr >> PAGE_SHIFT)
            self._dirty.add((a.addr + a.size - 1) >> PAGE_SHIFT)
        return out

    def has_loads(self) -> bool:
        return len(self._log_load) > 0

    def has_stores(self) -> bool:
        return len(self._log_store) > 0


def hart_for(elf: Path, image, cfg: SocConfig) -> SpikeHart:
    """The process's Spike for ``cfg`` (built on first use, with ``elf``), loaded with
    ``image``."""
    key = cfg.key()
    hart = _HARTS.get(key)
    if hart is None:
        hart = SpikeHart(elf, cfg)
        _HARTS[key] = hart
    hart.load(image)
    return hart
