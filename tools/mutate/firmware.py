"""Firmware isolation mutants (issue 7, part 5: "applies a catalogue of at least 30
isolation bugs to the hypervisor source (each a small patch ...), rebuilds, runs the
ci-profile property suite and a fixed-budget campaign per mutant").

``MUTANTS`` is the catalogue: one ``FwMutant`` per plausible programming error in
``hypervisor/src`` that breaks an isolation guarantee of docs/hypervisor.md, each a few
exact text edits (``Edit``: a file relative to ``hypervisor/src``, the old text, the new
text; every old text must occur exactly once when it is applied). ``apply`` writes a
mutated copy of the sources, ``build`` builds a scenario's firmware from it (the
``src_dir``/``build_dir`` of ``hypervisor.build.build_firmware``), ``select`` filters the
catalogue, ``diff`` shows a mutant as a unified diff.

Every mutant compiles with the firmware's ``-Werror`` flags and boots: the guests start
and print, so the bug shows (if at all) only in what the isolation properties check.
``soc`` names the SoC variant on which a mutant can be observed at all (the default SoC
flushes the whole TLB on every ``hgatp``/``vsatp`` write, which hides VMID and fence
bugs; ``tlbkeep`` does not); ``scenarios`` names configurations of
``hypervisor/configs`` whose guests exercise the mutated code.
"""

from __future__ import annotations

import difflib
import shutil
from dataclasses import dataclass
from pathlib import Path

from hardware.config import DEFAULT, SocConfig
from tools.mutate.netlist import MutateError

#: The fixed categories, in report order.
CATEGORIES = ("memory isolation", "vCPU state", "TLB/VMID", "interrupts/timer",
              "SBI pointer checks", "virtual UART", "scheduling/availability",
              "containment", "privilege", "time protection")


class MutantError(MutateError):
    """A firmware mutant that does not exist or no longer fits the sources; one line."""


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` (which must occur exactly once) by ``new`` in ``file``."""

    file: str  # relative to hypervisor/src
    old: str
    new: str


@dataclass(frozen=True)
class FwMutant:
    """One isolation bug: an id, what goes wrong, its category and its patch."""

    id: str
    category: str
    description: str
    edits: tuple[Edit, ...]
    soc: str = "default"  # SoC variant on which the bug can show
    scenarios: tuple[str, ...] = ("demo",)  # configurations that exercise the code

    def to_dict(self) -> dict:
        """JSON form (the runner's report)."""
        return {"id": self.id, "category": self.category, "description": self.description,
                "soc": self.soc, "scenarios": list(self.scenarios),
                "edits": [{"file": e.file, "old": e.old, "new": e.new} for e in self.edits]}


def _m(mid: str, category: str, description: str, *edits: tuple[str, str, str],
       soc: str = "default", scenarios: tuple[str, ...] = ("demo",)) -> FwMutant:
    """A catalogue row; each edit is (file, old, new)."""
    return FwMutant(mid, category, description, tuple(Edit(*e) for e in edits), soc,
                    scenarios)


ENTRY, VCPU, GSTAGE = "arch/riscv/entry.S", "arch/riscv/vcpu.c", "arch/riscv/gstage.c"
BOOT, HV_H, MAIN = "arch/riscv/boot.S", "include/hv.h", "core/main.c"
SCHED, SBI, TRAP = "core/sched.c", "core/sbi.c", "core/trap.c"
VM, VUART, TP = "core/vm.c", "core/vuart.c", "core/tp.c"

#: The VCPU_CSRS list of hv.h (a CSR left out is neither saved nor loaded) and the line
#: of the fields only the hypervisor sets (where a CSR moved out of the list lives on).
_LIST = "#define VCPU_CSRS(X) \\\n"
_HV_ONLY = "    uint64_t htimedelta, hgatp;     /* set by the hypervisor only */"
#: The one call that builds a VM's G-stage mapping (gstage.c).
_MAP = "    return map_range(vm->gpt, GUEST_RAM_BASE, vm->cfg->base, vm->cfg->size);"


def _csr_unlisted(mid: str, item: str, what: str, scenarios=("regs",)) -> FwMutant:
    """``item`` (e.g. ``X(vsatp, CSR_VSATP) ``) dropped from VCPU_CSRS."""
    return _m(mid, "vCPU state", f"{what} is not switched: the next VM runs with the "
              "previous VM's value (and its own is lost)", (HV_H, item, ""),
              scenarios=scenarios)


def _csr_hv_only(mid: str, item: str, name: str, what: str, category: str,
                 scenarios=("demo",)) -> FwMutant:
    """``item`` moved from VCPU_CSRS to the fields only the hypervisor sets."""
    return _m(mid, category, what, (HV_H, item, ""),
              (HV_H, _HV_ONLY, _HV_ONLY.replace("hgatp;", f"hgatp, {name};")),
              scenarios=scenarios)


_CATALOGUE = (
    # ---------------------------------------------------------------- vCPU state
    _m("gpr-not-restored-a2", "vCPU state",
       "a2 is not reloaded on the way back to a guest: after any trap or SBI call it "
       "holds whatever the hypervisor's C code left there",
       (ENTRY, "    ld a2, R(12)(sp)\n", ""), scenarios=("regs", "sbi")),
    _m("gpr-not-saved-t3", "vCPU state",
       "t3 is not saved on trap entry: a guest preempted or calling SBI gets back a "
       "stale t3 from its frame",
       (ENTRY, "    sd t3, R(28)(\\base)\n", ""), scenarios=("regs",)),
    _m("callee-not-restored-s5", "vCPU state",
       "s5 is not loaded on a full restore: a switched-to VM keeps the previous VM's s5",
       (ENTRY, "    ld s5, R(21)(\\base)\n", ""), scenarios=("regs",)),
    _m("callee-not-saved-on-ecall-switch", "vCPU state",
       "a switch from the SBI fast path (yield, wait) does not save the old VM's "
       "callee-saved registers: it resumes with stale s0-s11, gp, tp",
       (ENTRY, "    SAVE_CALLEE t0\n", ""), scenarios=("regs",)),
    _m("gp-not-saved", "vCPU state",
       "gp is not saved with the callee-saved registers: a VM resumed after a switch "
       "gets its gp from an older frame",
       (ENTRY, "    sd gp, R(3)(\\base)\n", ""), scenarios=("regs",)),
    _m("tp-not-restored", "vCPU state",
       "tp is not loaded on a full restore: a switched-to VM keeps the previous VM's tp",
       (ENTRY, "    ld tp, R(4)(\\base)\n", ""), scenarios=("regs",)),
    _csr_unlisted("vsatp-not-switched", "X(vsatp, CSR_VSATP) ", "vsatp",
                  scenarios=("regs", "osmix")),
    _csr_unlisted("vstvec-not-switched", "X(vstvec, CSR_VSTVEC) ", "vstvec",
                  scenarios=("regs", "demo")),
    _csr_unlisted("vsepc-not-switched", " X(vsepc, CSR_VSEPC)", "vsepc"),
    _csr_unlisted("vsscratch-not-switched", "X(vsscratch, CSR_VSSCRATCH) ", "vsscratch"),
    _csr_unlisted("vsstatus-not-switched", "X(vsstatus, CSR_VSSTATUS) ", "vsstatus"),
    _csr_hv_only("vsie-not-switched", "X(vsie, CSR_VSIE) ", "vsie",
                 "vsie is kept as hypervisor-only state (synced at WFI, never loaded): a "
                 "VM runs with the previous VM's interrupt enables", "vCPU state",
                 scenarios=("demo", "regs")),
    _m("vcsr-saved-into-next-vcpu", "vCPU state",
       "on a switch the live VS CSRs are saved into the incoming vCPU instead of the "
       "outgoing one, so the incoming VM gets the outgoing VM's VS state",
       (SCHED, "vcpu_save(&loaded->cpu);", "vcpu_save(&next->cpu);"),
       scenarios=("demo", "regs")),
    _m("restart-vcsrs-not-reloaded", "vCPU state",
       "a VM restarted while its state is live keeps its old life's VS CSRs, time offset "
       "and timer (the fresh vCPU is never loaded)",
       (SCHED, "    if (loaded == vm)\n        vcpu_load(&vm->cpu);\n", ""),
       scenarios=("restart",)),
    # ---------------------------------------------------------------- TLB/VMID
    _m("vmid-zero-no-gvma-fence", "TLB/VMID",
       "every VM gets VMID 0 and switches do not fence the G-stage (HFENCE.GVMA): "
       "translations of one VM stay usable by the next",
       (GSTAGE, "    vm->vmid = (vm->index + 1) < (1ull << vmid_bits) ? vm->index + 1 : 0;",
        "    vm->vmid = 0;"),
       (GSTAGE, "    return hv_nvms + 1 > (1ull << vmid_bits);", "    return 0;"),
       soc="tlbkeep", scenarios=("regs",)),
    _m("vmid-from-partition-base", "TLB/VMID",
       "the VMID is taken from the partition's 4 MiB frame number, so two 2 MiB "
       "partitions in one frame share a VMID (and no fence separates them)",
       (GSTAGE, "    vm->vmid = (vm->index + 1) < (1ull << vmid_bits) ? vm->index + 1 : 0;",
        "    vm->vmid = (vm->cfg->base >> 22) & ((1ull << vmid_bits) - 1);"),
       soc="tlbkeep", scenarios=("regs",)),
    _m("no-vvma-fence-on-restart", "TLB/VMID",
       "a restarted VM's VS-stage TLB entries are not fenced (HFENCE.VVMA): the new life "
       "can use its old life's translations",
       (VCPU, "        hfence_vvma_all();\n        c->fence_vs = 0;",
        "        c->fence_vs = 0;"),
       soc="tlbkeep", scenarios=("reboot",)),
    # ---------------------------------------------------------------- memory isolation
    _m("gstage-maps-one-page-past", "memory isolation",
       "the G-stage maps one page more than the partition: the first page of the next "
       "partition (or past RAM) is the VM's last guest page",
       (GSTAGE, _MAP, _MAP.replace("vm->cfg->size)", "vm->cfg->size + PAGE)"))),
    _m("gstage-maps-page-below", "memory isolation",
       "the G-stage mapping starts one page early: guest page 0x7ffff000 is the last "
       "page of the previous partition or of the hypervisor",
       (GSTAGE, _MAP, "    return map_range(vm->gpt, GUEST_RAM_BASE - PAGE, "
        "vm->cfg->base - PAGE,\n                     vm->cfg->size + PAGE);")),
    _m("dtb-copy-leaks-hv-memory", "memory isolation",
       "the guest DTB is copied with the slot's size instead of the DTB's: 64 KiB of "
       "hypervisor memory after it (other guests' images and DTBs) land in guest RAM",
       (VM, "vm->cfg->dtb, vm->cfg->dtb_size);", "vm->cfg->dtb, GUEST_DTB_SLOT);")),
    _m("restart-partition-not-zeroed", "memory isolation",
       "a restart does not zero the partition: the new life reads its old life's data "
       "(confidentiality across lives of one VM only)",
       (VM, "    hv_memset((void *)(uintptr_t)vm->cfg->base, 0, vm->cfg->size);\n", ""),
       scenarios=("restart", "reboot")),
    # ---------------------------------------------------------------- SBI pointer checks
    _m("dbcn-length-unchecked", "SBI pointer checks",
       "DBCN write/read check only the first byte of the buffer: up to 256 bytes past "
       "the partition are printed from or written to",
       (SBI, "guest_ptr(vm, A(1), n);", "guest_ptr(vm, A(1), 1);"),
       scenarios=("sbi",)),
    _m("guest-ptr-start-only", "SBI pointer checks",
       "guest_ptr checks that a range starts in the VM's RAM but not that it ends there "
       "(DBCN, HVSIM stats, HSM resume)",
       (VM, "    if (gpa < GUEST_RAM_BASE || len > size || gpa - GUEST_RAM_BASE > size - len)",
        "    if (gpa < GUEST_RAM_BASE || len > size || gpa - GUEST_RAM_BASE >= size)"),
       scenarios=("sbi",)),
    _m("guest-ptr-off-by-one", "SBI pointer checks",
       "guest_ptr accepts a range that ends one byte past the VM's RAM",
       (VM, "gpa - GUEST_RAM_BASE > size - len)", "gpa - GUEST_RAM_BASE > size - len + 1)"),
       scenarios=("sbi",)),
    _m("stats-pointer-unchecked", "SBI pointer checks",
       "HVSIM stats translates the guest address without a range check: the guest "
       "chooses where 48 bytes of statistics are written",
       (SBI, "A(1) ? 0 : guest_ptr(vm, A(0), n);",
        "(void *)(uintptr_t)(vm->cfg->base + (A(0) - GUEST_RAM_BASE));"),
       scenarios=("sbi",)),
    # ---------------------------------------------------------------- interrupts/timer
    _csr_hv_only("hvip-not-switched", " X(hvip, CSR_HVIP)", "hvip",
                 "hvip is kept as hypervisor-only state (never loaded): an interrupt "
                 "injected into one VM (an IPI) is delivered to whichever VM runs next",
                 "interrupts/timer", scenarios=("sbi", "demo")),
    _csr_hv_only("vstimecmp-not-switched", " X(vstimecmp, CSR_VSTIMECMP)", "vstimecmp",
                 "vstimecmp is kept as hypervisor-only state (never loaded): a VM's timer "
                 "fires in whichever VM runs, and its own is not re-armed",
                 "interrupts/timer", scenarios=("demo", "wfi")),
    _m("vstimecmp-not-reset", "interrupts/timer",
       "a (re)started vCPU keeps vstimecmp = 0 instead of 'never': a VM that enables its "
       "timer interrupt without arming the timer takes one at once",
       (VCPU, "    c->vstimecmp = UINT64_MAX;\n", ""),
       scenarios=("demo", "wfi")),
    _m("ipi-broadcast-all-vms", "interrupts/timer",
       "SBI send_ipi to all harts (hart_mask_base = -1) raises VSSIP in every VM, not "
       "only in the caller's one vCPU",
       (SBI, "    if (A(1) == (uint64_t)-1 || (A(0) & 1)) {",
        "    if (A(1) == (uint64_t)-1)\n        for (unsigned i = 0; i < hv_nvms; i++)\n"
        "            hv_vms[i].cpu.hvip |= MIP_VSSIP;\n"
        "    if (A(1) == (uint64_t)-1 || (A(0) & 1)) {"),
       scenarios=("sbi",)),
    _m("vs-timer-not-delegated", "interrupts/timer",
       "hideleg leaves out VSTI: a guest's timer interrupt traps to HS, which ignores it, "
       "so the guest never sees its timer",
       (MAIN, "#define HIDELEG_GUEST (MIP_VSSIP | MIP_VSTIP | MIP_VSEIP)",
        "#define HIDELEG_GUEST (MIP_VSSIP | MIP_VSEIP)")),
    # ---------------------------------------------------------------- virtual UART
    _m("vuart-load-rd-mask", "virtual UART",
       "the emulated UART load takes rd from 6 bits: an LH/LD/LHU writes the register "
       "value past the guest frame into the vCPU's sepc, hstatus and CSR fields",
       (VUART, "op->reg = (insn >> 7) & 31;\n", "op->reg = (insn >> 7) & 63;\n"),
       scenarios=("uart",)),
    _m("vuart-rx-any-vm", "virtual UART",
       "every VM's virtual UART reads the console input (RBR, LSR.DR), not only VM 0's",
       (VUART, "return vm->index == 0 && uart_rx_ready() ? (uint8_t)hv_getc() : 0;",
        "return uart_rx_ready() ? (uint8_t)hv_getc() : 0;"),
       (VUART, "(vm->index == 0 && uart_rx_ready() ? UART0_LSR_DR : 0)",
        "(uart_rx_ready() ? UART0_LSR_DR : 0)"),
       scenarios=("demo",)),
    _m("gstage-uart-passthrough", "virtual UART",
       "the G-stage maps the physical UART at the virtual UART's address: guests write "
       "the console directly, bypassing the per-VM consoles",
       (GSTAGE, _MAP, "    if ((vm->cfg->devices & VM_DEV_UART)\n"
        "        && map_range(vm->gpt, GUEST_UART_BASE, hv_platform.uart_base, PAGE))\n"
        "        return -1;\n" + _MAP),
       scenarios=("uart", "demo")),
    # ---------------------------------------------------------------- scheduling
    _m("budget-not-charged", "scheduling/availability",
       "the running VM's budget is never charged: a CPU-bound VM keeps the CPU on "
       "every tick until its watchdog",
       (SCHED, "    vm->budget_left -= used < vm->budget_left ? used : vm->budget_left;\n",
        ""),
       scenarios=("spin", "fair")),
    _m("tick-ignores-budget", "scheduling/availability",
       "on a tick the running VM goes on even when its budget is used up",
       (SCHED, "cur->state == VM_RUNNABLE && cur->budget_left\n",
        "cur->state == VM_RUNNABLE\n"),
       scenarios=("spin", "fair")),
    _m("budget-timer-not-armed", "scheduling/availability",
       "the HS timer is not armed for the end of the running VM's budget: a spinning VM "
       "is preempted only by other events (replenishments, its watchdog)",
       (SCHED, "    if (run && run->budget_left && run->budget_left < t - now)\n"
        "        t = now + run->budget_left;\n", ""),
       scenarios=("spin", "fair")),
    _m("hs-timer-never-enabled", "scheduling/availability",
       "sie.STIE is never set: the hypervisor's timer never preempts a guest, so budgets "
       "and watchdogs are not enforced",
       (SCHED, "    csr_set(CSR_SIE, MIP_STIP);\n", ""), scenarios=("spin", "demo")),
    _m("rr-pointer-not-advanced", "scheduling/availability",
       "the round-robin pointer never moves: a VM that yields is picked again while it "
       "has budget, and the scan always favours the first VMs",
       (SCHED, "    rr_last = next->index;\n", ""), scenarios=("regs", "demo")),
    _m("dbcn-unbounded", "scheduling/availability",
       "DBCN write/read move any length in one call: a guest keeps the non-preemptible "
       "hypervisor busy for as long as it likes",
       (SBI, "    if (n > DBCN_MAX)\n        n = DBCN_MAX;", ""),
       scenarios=("sbi",)),
    _m("watchdog-timer-not-armed", "scheduling/availability",
       "the HS timer is not armed for the running VM's watchdog: a VM runs past its "
       "watchdog until the next budget or replenishment event",
       (SCHED, "    if (run)\n        t = sched_watchdog_due(run, now, t);\n", ""),
       scenarios=("spin", "fair")),
    # ---------------------------------------------------------------- containment
    _m("fault-emulated-as-uart", "containment",
       "the UART range check is missing: any load/store outside the partition of a VM "
       "with a UART is 'emulated' (ignored, reads 0) and the VM goes on",
       (TRAP, "    if ((vm->cfg->devices & VM_DEV_UART) && gpa - GUEST_UART_BASE < GUEST_UART_SIZE\n"
        "        && scause != CAUSE_FETCH_GUEST_PAGE_FAULT) {",
        "    if ((vm->cfg->devices & VM_DEV_UART) && scause != CAUSE_FETCH_GUEST_PAGE_FAULT) {"),
       scenarios=("crash",)),
    _m("stopped-vm-resumed", "containment",
       "after an access outside its partition the stopped VM is resumed instead of "
       "switched away: it keeps running (and faulting) for the rest of its slice",
       (TRAP, "        vm_fault(vm, \"access outside its partition\", scause, r->sepc, gpa);\n"
        "    }\n    return vm->state == VM_DONE ? sched_switch(RS_END) : frame_fresh(r);",
        "        vm_fault(vm, \"access outside its partition\", scause, r->sepc, gpa);\n"
        "    }\n    return frame_fresh(r);"),
       scenarios=("crash",)),
    _m("restart-wipes-next-page", "containment",
       "a restart zeroes one page past the partition: the next VM loses its first page",
       (VM, "    hv_memset((void *)(uintptr_t)vm->cfg->base, 0, vm->cfg->size);",
        "    hv_memset((void *)(uintptr_t)vm->cfg->base, 0, vm->cfg->size + 4096);"),
       scenarios=("restart",)),
    _m("watchdog-does-not-stop", "containment",
       "a VM past its watchdog (on_fault = stop) is reported but not stopped",
       (VM, "    else\n        vm_stop(vm, END_WATCHDOG, vm->cfg->watchdog_us);\n", ""),
       scenarios=("spin", "fair")),
    _m("srst-shutdown-ends-all", "containment",
       "an SRST shutdown from one VM ends every VM (system shutdown instead of VM "
       "shutdown)",
       (SBI, "    if (type == 0) {\n        vm_stop(vm, END_SHUTDOWN, reason);",
        "    if (type == 0) {\n        for (unsigned i = 0; i < hv_nvms; i++)\n"
        "            if (hv_vms[i].state != VM_DONE)\n"
        "                vm_stop(&hv_vms[i], END_SHUTDOWN, reason);"),
       scenarios=("demo",)),
    _m("restart-limit-off-by-one", "containment",
       "a faulting VM is restarted once more than max_restarts allows",
       (VM, "if (vm->st.restarts >= vm->cfg->max_restarts)",
        "if (vm->st.restarts > vm->cfg->max_restarts)"),
       scenarios=("restart",)),
    # ---------------------------------------------------------------- privilege
    _m("spp-not-cleared-on-load", "privilege",
       "loading a vCPU sets sstatus.SPP but never clears it: a VU process resumes in VS "
       "when the previous VM trapped from VS",
       (VCPU, "        csr_set(CSR_SSTATUS, MSTATUS_SPP);\n    else\n"
        "        csr_clear(CSR_SSTATUS, MSTATUS_SPP);\n",
        "        csr_set(CSR_SSTATUS, MSTATUS_SPP);\n"),
       scenarios=("osmix",)),
    _m("vtw-not-set", "privilege",
       "hstatus.VTW is not set: a guest's WFI stalls the hart instead of trapping, so a "
       "waiting VM holds the CPU to the end of its slice",
       (VCPU, "#define HSTATUS_GUEST (HSTATUS_SPV | HSTATUS_SPVP | HSTATUS_VTW)",
        "#define HSTATUS_GUEST (HSTATUS_SPV | HSTATUS_SPVP)"),
       scenarios=("wfi", "demo")),
    _m("medeleg-keeps-illegal-in-m", "privilege",
       "medeleg does not delegate illegal instructions: a guest's illegal instruction "
       "reaches the M stage, which ends the whole machine",
       (BOOT, "#define DELEG_EXC_MASK  (~((1 << CAUSE_SUPERVISOR_ECALL) | (1 << CAUSE_MACHINE_ECALL)))",
        "#define DELEG_EXC_MASK  (~((1 << CAUSE_SUPERVISOR_ECALL) | (1 << CAUSE_MACHINE_ECALL)"
        " | (1 << CAUSE_ILLEGAL_INSTRUCTION)))")),
    _m("pmp-m-stage-rule-missing", "privilege",
       "the PMP entry that closes the M stage is not enabled: HS (and any path to "
       "host-physical memory) can read and write the M-mode code and stack",
       (BOOT, "    li t0, ((PMP_NAPOT | PMP_RWX) << 16) | (PMP_TOR << 8)",
        "    li t0, ((PMP_NAPOT | PMP_RWX) << 16)")),
    _m("sbi-set-timer-writes-stimecmp", "privilege",
       "SBI set_timer writes the hypervisor's stimecmp instead of vstimecmp: a guest "
       "sets when it is preempted, and its own timer never fires",
       (SBI, "    csr_write(CSR_VSTIMECMP, A(0));     /* Sstc",
        "    csr_write(CSR_STIMECMP, A(0));     /* Sstc"),
       scenarios=("demo", "sbi")),
    # ---------------------------------------------------------------- time protection
    _m("tp-no-tlb-flush", "time protection",
       "a time-protected window switch does not flush the TLB: the next VM finds the "
       "entries its neighbour left (or evicted), a timing channel",
       (TP, "            sched_load(vm);\n            hfence_gvma_all();\n",
        "            sched_load(vm);\n"),
       soc="tlbkeep", scenarios=("timeprot",)),
    _m("tp-pad-skipped", "time protection",
       "a time-protected window switch is not padded: a VM resumes as soon as the switch "
       "is done, whose length depends on how its neighbour left the CPU",
       (TP, "    return start + hv_tp.pad;", "    return 0;"),
       scenarios=("timeprot",)),
)

#: The catalogue: mutant id -> mutant.
MUTANTS: dict[str, FwMutant] = {m.id: m for m in _CATALOGUE}


def _hv_src() -> Path:
    from hypervisor.build import HV_SRC

    return HV_SRC


def get(mutant_id: str) -> FwMutant:
    """The mutant ``mutant_id``; MutantError when there is none."""
    try:
        return MUTANTS[mutant_id]
    except KeyError:
        raise MutantError(f"unknown firmware mutant '{mutant_id}' "
                          f"({len(MUTANTS)} known; list them with select())") from None


def select(ids=None, category: str | None = None) -> list[FwMutant]:
    """The mutants named by ``ids`` (a list or a comma-separated string; None: all) in
    ``category`` (None: any), in catalogue order."""
    if category is not None and category not in CATEGORIES:
        raise MutantError(f"unknown mutant category '{category}' "
                          f"(valid: {', '.join(CATEGORIES)})")
    if isinstance(ids, str):
        ids = [i.strip() for i in ids.split(",") if i.strip()]
    chosen = [get(i) for i in ids] if ids is not None else list(MUTANTS.values())
    wanted = {m.id for m in chosen}
    return [m for m in MUTANTS.values()
            if m.id in wanted and (category is None or m.category == category)]


def mutated_texts(mutant_id: str, src_dir: Path | None = None) -> dict[str, tuple[str, str]]:
    """File (relative) -> (original, mutated) text of every file the mutant edits.
    MutantError when an edit's old text does not occur exactly once."""
    mutant = get(mutant_id)
    src = Path(src_dir) if src_dir is not None else _hv_src()
    texts: dict[str, tuple[str, str]] = {}
    for n, edit in enumerate(mutant.edits, 1):
        path = src / edit.file
        if edit.file not in texts:
            if not path.is_file():
                raise MutantError(f"firmware mutant '{mutant.id}': edit {n} of "
                                  f"{len(mutant.edits)}: no file {edit.file} in {src}")
            original = path.read_text()
            texts[edit.file] = (original, original)
        original, text = texts[edit.file]
        count = text.count(edit.old)
        if count != 1:
            first = edit.old.strip().splitlines()[0] if edit.old.strip() else edit.old
            raise MutantError(f"firmware mutant '{mutant.id}': edit {n} of "
                              f"{len(mutant.edits)} ({edit.file}: '{first}') matches "
                              f"{count} times, not once: the sources changed, update "
                              "the catalogue")
        texts[edit.file] = (original, text.replace(edit.old, edit.new))
    return texts


def apply(mutant_id: str, dest_dir: Path, src_dir: Path | None = None) -> Path:
    """Copy the firmware sources (``src_dir``, default ``hypervisor/src``) to
    ``dest_dir`` and apply the mutant; returns ``dest_dir``. Every edit is checked
    before anything is written. Files already in ``dest_dir`` are overwritten."""
    src = Path(src_dir) if src_dir is not None else _hv_src()
    texts = mutated_texts(mutant_id, src)
    dest = Path(dest_dir)
    try:
        shutil.copytree(src, dest, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
        for rel, (_, text) in texts.items():
            (dest / rel).write_text(text)
    except OSError as exc:
        raise MutantError(f"firmware mutant '{mutant_id}': cannot write {dest}: "
                          f"{exc.strerror or exc}") from None
    return dest


def build(mutant_id: str, work_dir: Path, scenario="demo", cfg: SocConfig | None = None):
    """Apply the mutant under ``work_dir/src`` and build ``scenario``'s firmware for
    ``cfg`` (default: the default SoC) under ``work_dir/build``; returns the
    ``hypervisor.build.Firmware``."""
    from hypervisor.build import build_firmware

    work = Path(work_dir)
    src = apply(mutant_id, work / "src")
    return build_firmware(scenario, cfg or DEFAULT, src_dir=src, build_dir=work / "build")


def diff(mutant_id: str, src_dir: Path | None = None) -> str:
    """The mutant as a unified diff against the sources."""
    out = []
    for rel, (old, new) in mutated_texts(mutant_id, src_dir).items():
        out += difflib.unified_diff(old.splitlines(keepends=True),
                                    new.splitlines(keepends=True), f"a/{rel}", f"b/{rel}")
    return "".join(out)
