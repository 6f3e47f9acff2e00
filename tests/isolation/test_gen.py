"""The adversarial guest generator (tools/isolation/gen.py; issue 7, item 2): programs
assemble and fit, every kind is drawn, targets are aimed at, programs shrink to short
reproducers, irq schedules are well-formed, and ``program_length`` counts right."""

from __future__ import annotations

import pytest
from elftools.elf.elffile import ELFFile
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from hypervisor.config import DTB_SLOT, GUEST_RAM_BASE
from tools.isolation import IsolationError, gen

#: Settings of the sampling helpers and of ``find``: repeatable and quick.
FIXED = settings(derandomize=True, database=None, deadline=None,
                 suppress_health_check=list(HealthCheck))
#: Targets that appear nowhere else: a 3 MiB hypervisor, one odd partition, no devices.
#: Settings of ``find``: long enough to meet rare kinds.
SEARCH = settings(FIXED, max_examples=2000)
ODD = gen.Targets(gen.Range("hypervisor", 0x8000_0000, 0x30_0000),
                  (gen.Range("victim", 0x8123_4000, 0x5000),), devices=())


def sample(strategy, n: int) -> list:
    """The first ``n`` examples Hypothesis draws from ``strategy`` (derandomized)."""
    out = []

    @settings(FIXED, max_examples=n)
    @given(strategy)
    def collect(x):
        out.append(x)

    collect()
    return out


def loaded_end(elf) -> int:
    """First address after the ELF's loadable segments."""
    with open(elf, "rb") as f:
        return max(s["p_vaddr"] + s["p_memsz"] for s in ELFFile(f).iter_segments()
                   if s["p_type"] == "PT_LOAD")


def test_programs_build_and_fit(tmp_path):
    """Generated programs (a few, and one with items of every kind) assemble with the
    runtime into ELFs at 0x8000_0000 that fit the default guest RAM below its DTB."""
    every = st.tuples(*(gen.items(None, (k,)) for k in gen.KINDS for _ in range(3)))
    progs = sample(gen.programs(min_items=5), 3)
    progs.append(gen.Program(sample(every, 1)[0]))
    limit = GUEST_RAM_BASE + gen.DEFAULT_OWN_RAM - DTB_SLOT
    for i, p in enumerate(progs):
        elf = gen.build_adversary(p, tmp_path / str(i))
        assert elf == tmp_path / str(i) / "adversary.elf" and elf.is_file()
        assert (tmp_path / str(i) / "adversary.S").read_text() == p.asm()
        with open(elf, "rb") as f:
            assert ELFFile(f).header["e_entry"] == GUEST_RAM_BASE
        assert loaded_end(elf) <= limit, f"program {i} does not fit below the DTB slot"


def test_every_kind_is_drawn():
    """A sample of programs holds every item kind."""
    kinds = {i.kind for p in sample(gen.programs(), 500) for i in p.items}
    assert kinds == set(gen.KINDS)


def aimed(item: gen.Item) -> tuple[int, ...]:
    """The guest addresses an item aims at, from its note: the address of ``target``,
    ``wide`` and ``fetch``, the guest-physical one ``vmap`` maps, the first and last
    byte of an ``sbi-edge`` buffer."""
    if item.kind == "vmap":
        return (int(item.note.split("-> ")[1].split()[0], 16),)
    if item.kind == "sbi-edge":
        ptr, length = (int(x, 16) for x in item.note.split()[-1].split("+"))
        return (ptr, ptr + length - 1)
    return (int(item.note.split()[item.kind != "fetch"], 16),)


@pytest.mark.parametrize("kind", ["target", "vmap", "fetch", "sbi-edge"])
def test_targets_are_aimed_at(kind):
    """Items aimed at others hit every edge of the given ranges (base-8, base, end-8,
    end; a buffer crosses base and end) and addresses inside them."""
    items = [i for p in sample(gen.programs(ODD, kinds=(kind,)), 200) for i in p.items]
    if kind == "sbi-edge":
        spans = [aimed(i) for i in items]
        for edge in (a for r in ODD.ranges for a in (r.base, r.end)):
            assert any(lo < edge <= hi for lo, hi in spans), hex(edge)
        return
    seen = {a for i in items for a in aimed(i)}
    edges = {a for r in ODD.ranges for a in r.edges()
             if kind != "fetch" or not ODD.in_ram(a)}
    assert edges <= seen, sorted(hex(a) for a in edges - seen)
    for r in ODD.ranges:
        assert any(r.base < a < r.end - 8 for a in seen), r.name


def test_no_store_or_fetch_into_own_code():
    """Accesses aimed at others never store into the adversary's own code and data,
    nor fetch from its RAM (the program must survive its own items)."""
    t = gen.Targets(ODD.hypervisor, ODD.partitions, own_ram=4 << 20)
    for p in sample(gen.programs(t, kinds=("target", "wide", "vmap", "fetch")), 150):
        for item in p.items:
            use = "fetch" if item.kind == "fetch" else item.note.split()[0]
            (addr,) = aimed(item)
            if gen.ACCESS_USE[use] == "store":
                assert not t.in_image(addr), item
            if use == "fetch":
                assert not t.in_ram(addr), item


@pytest.mark.parametrize("kind", ["target", "wide", "vmap", "vpte", "vu", "fetch", "sbi-edge",
                                  "load", "csr", "sbi-call"])
def test_shrinks_to_short_reproducer(kind):
    """A program that fails when it holds an item of ``kind`` shrinks to that one item
    in at most 20 instructions."""
    found = find(gen.programs(), lambda p: any(i.kind == kind for i in p.items),
                 settings=SEARCH)
    assert [i.kind for i in found.items] == [kind]
    assert gen.program_length(found) <= 20, found.asm()


def test_compound_failure_shrinks_to_its_items():
    """A failure that needs a VU switch and, after it, an access to a target keeps
    just those two items."""
    def failing(p: gen.Program) -> bool:
        kinds = [i.kind for i in p.items]
        return "vu" in kinds and "target" in kinds[kinds.index("vu"):]

    found = find(gen.programs(), failing, settings=SEARCH)
    assert [i.kind for i in found.items] == ["vu", "target"]
    assert gen.program_length(found) <= 20, found.asm()


def test_irq_schedules_are_well_formed():
    """Offsets strictly increase below the horizon; masks fit the lines and each
    changes the level (which starts at 0); no lines means no events."""
    schedules = sample(gen.irq_schedules(lines=3, horizon=50_000), 200)
    assert any(len(s) >= 3 for s in schedules)
    assert any(b - a == 1 for s in schedules for (a, _), (b, _) in zip(s, s[1:])), \
        "no storm (events one cycle apart)"
    for s in schedules:
        offsets = [o for o, _ in s]
        assert offsets == sorted(set(offsets)) and all(0 < o < 50_000 for o in offsets)
        levels = [0, *(m for _, m in s)]
        assert all(0 <= m < 8 for m in levels)
        assert all(a != b for a, b in zip(levels, levels[1:]))
    assert set(sample(gen.irq_schedules(lines=0), 5)) == {()}
    (event,) = find(gen.irq_schedules(), lambda s: len(s) >= 1, settings=FIXED)
    assert event[0] == 1


def test_cases_carry_program_and_schedule():
    case = sample(gen.cases(max_items=5), 1)[0]
    assert isinstance(case.program, gen.Program) and isinstance(case.irqs, tuple)


def test_program_length_counts_instructions():
    """Labels and directives do not count; ``.word`` and pseudo-instructions count one."""
    prog = gen.Program((gen.Item("fetch", "la s9, 9f\nli t0, 0x5\njr t0\n9:"),
                        gen.Item("simple", ".option push\n.option norvc\nebreak\n.option pop"),
                        gen.Item("raw", ".word 0x13\n1:\nj 1b\n"),
                        gen.Item("fixed", "  # nothing\n\n")))
    assert gen.program_length(prog) == 6
    assert gen.program_length(gen.Program(())) == 0


def test_targets_from_scenario():
    """The targets of one VM are the hypervisor and the other VMs' partitions."""
    from hardware.config import variant
    from hypervisor.config import load_scenario

    cfg = variant("default")
    scenario = load_scenario("demo", cfg, resolve_images=False)
    me, *others = sorted(scenario.vms, key=lambda v: v.index)
    t = gen.Targets.from_scenario(scenario, me.name, cfg)
    assert t.hypervisor == gen.Range("hypervisor", scenario.ram_base, scenario.hv_size)
    assert [(r.base, r.size) for r in t.partitions] == [(v.base, v.size) for v in others]
    assert t.own_ram == me.size and any(r.name == "plic" for r in t.devices)
    with pytest.raises(IsolationError, match="no VM named 'nobody'"):
        gen.Targets.from_scenario(scenario, "nobody", cfg)
