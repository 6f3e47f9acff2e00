"""Hardware mutation testing (issue 3, part 5): mutant generation, re-application in a
fresh elaboration, loop and equivalence checks, and a known-bad mutant that the ISA
stage must kill."""

from __future__ import annotations

import argparse
import json
import pickle

import pytest

from hardware.config import DEFAULT
from tools.mutate import netlist as N
from tools.mutate.netlist import MutateError, Mutant
from tools.mutate.run import (Outcome, Plan, add_parser, apply_arguments, build_machine,
                              isa_cases, load_arguments, run_mutant, summarise)

UNITS = tuple(N.UNITS)


@pytest.fixture(scope="module")
def nl() -> N.Netlist:
    return N.analyse(DEFAULT)


def _shape(block) -> set:
    """The netlist by names: (op, param, arg names, dest names) per net."""
    def param(net):
        return net.op_param[1].name if net.op in "m@" else net.op_param
    return {(n.op, param(n), tuple(a.name for a in n.args), tuple(d.name for d in n.dests))
            for n in block.logic}


def _net(nl: N.Netlist, name: str):
    return nl.src[nl.block.wirevector_by_name[name]]


def _mutant(nl: N.Netlist, net, operator: str, unit: str, **kw) -> Mutant:
    return Mutant(id=0, unit=unit, operator=operator, net=net.dests[0].name, op=net.op, **kw)


def test_every_core_unit_owns_nets(nl):
    """The builder wrappers attribute nets to every unit, and only core nets."""
    owned = {u: len(nl.nets(u)) for u in UNITS}
    assert all(owned[u] > 0 for u in UNITS), owned
    assert all(u in N.UNITS for u in nl.unit_of.values())
    branch = _net(nl, "branch_taken")
    assert nl.unit_of[branch] == "alu"
    assert nl.unit_of[_net(nl, "dec_ld")] == "decode"
    assert nl.unit_of[_net(nl, "trap_take")] == "trap"


def test_generation_is_deterministic():
    """The same seed gives the same mutants from separate elaborations; another seed
    gives others; the count is met and split over the units."""
    a = N.generate(DEFAULT, UNITS, 27, seed=5)
    b = N.generate(DEFAULT, UNITS, 27, seed=5)
    c = N.generate(DEFAULT, UNITS, 27, seed=6)
    assert [m.key() for m in a.mutants] == [m.key() for m in b.mutants]
    assert [m.key() for m in a.mutants] != [m.key() for m in c.mutants]
    assert len(a.mutants) == 27 and len({m.key() for m in a.mutants}) == 27
    assert {m.unit for m in a.mutants} == set(UNITS)
    assert {m.kind for m in a.mutants} == set(N.KINDS)


def test_each_operator_changes_the_netlist(nl):
    """Every operator applied to a fresh block gives a different, observable netlist,
    and undo restores the clean one."""
    clean = _shape(nl.block)
    numbering = N.Numbering()
    base = numbering.signature(nl.block)
    gen = N.generate(DEFAULT, ("pmp", "csr", "alu"), 60, seed=1, netlist=nl)
    by_op = {}
    for m in gen.mutants:
        by_op.setdefault(m.operator, m)
    assert set(by_op) == set(N.OPERATORS)
    for m in by_op.values():
        block = N.fresh_block(DEFAULT)
        assert _shape(block) == clean
        edit = N.checked_apply(block, m)
        assert _shape(block) != clean, m.operator
        assert numbering.signature(block) != base, m.operator
        N.undo(block, edit)
        assert _shape(block) == clean


def test_reapplying_a_description_reproduces_the_mutant(nl):
    """A description (through pickle and JSON form) applied to two fresh blocks gives
    the same netlist."""
    m = N.generate(DEFAULT, ("trap",), 1, seed=3, netlist=nl).mutants[0]
    m2 = Mutant.from_dict(pickle.loads(pickle.dumps(m.to_dict())))
    assert m2 == m
    one, two = N.mutant_block(DEFAULT, m), N.mutant_block(DEFAULT, m2)
    assert _shape(one) == _shape(two) != _shape(nl.block)


def test_description_that_does_not_fit_is_refused(nl):
    stale = Mutant(id=0, unit="alu", operator="mux-swap", net="branch_taken", op="x")
    with pytest.raises(MutateError, match="is op 'w', not 'x'"):
        N.apply_mutant(N.fresh_block(DEFAULT), stale)
    wrong = _mutant(nl, _net(nl, "branch_taken"), "mux-swap", "alu")
    with pytest.raises(MutateError, match="'mux-swap' does not apply to op 'w'"):
        N.apply_mutant(N.fresh_block(DEFAULT), wrong)
    gone = Mutant(id=0, unit="alu", operator="and-or", net="no_such_wire", op="&")
    with pytest.raises(MutateError, match="no net drives wire 'no_such_wire'"):
        N.apply_mutant(N.fresh_block(DEFAULT), gone)


def test_combinational_loop_is_refused(nl):
    """Feeding a net's own downstream wire back into it is caught by PyRTL's loop
    finder (and the generator's own check)."""
    taken = _net(nl, "branch_taken")  # branch_taken = wire(x ^ funct3[0])
    xor = nl.src[taken.args[0]]
    arg = next(i for i, a in enumerate(xor.args) if a.bitwidth == 1)
    m = _mutant(nl, xor, "operand", "alu", arg=arg, replacement="branch_taken")
    assert N._depends_on(nl.src, nl.block.wirevector_by_name["branch_taken"], xor.dests[0])
    with pytest.raises(MutateError, match="combinational loop"):
        N.mutant_block(DEFAULT, m)


def test_equivalent_mutants_are_detected(nl):
    """Swapping a wire for a structurally identical one, or for one that differs only
    in bits nobody reads, is equivalent; inverting the branch comparator or feeding a
    register another value is not."""
    base = N.baseline(nl.block)
    eq = next(n for n in nl.nets("alu") if n.op == "="
              and {a.name for a in n.args} == {"rs1_value", "rs2_value"})
    assert N.equivalence(nl.block, _mutant(nl, eq, "eq-invert", "alu"), base) == ""
    twins = {}
    for n in nl.nets("pmp"):
        if n.op == "=" and n.args[1].__class__.__name__ == "Const":
            twins.setdefault((n.args[0].name, n.args[1].val), []).append(n)
    a, b = next(v for v in twins.values() if len(v) > 1)[:2]
    user = nl.consumers()[a.dests[0]][0]
    arg = [x is a.dests[0] for x in user.args].index(True)
    same = Mutant(id=0, unit="pmp", operator="operand", net=user.dests[0].name, op=user.op,
                  arg=arg, replacement=b.dests[0].name)
    assert N.equivalence(nl.block, same, base) == "value numbering"
    reg = _net(nl, "div_neg_r")
    other = next(w for w in nl.unit_wires("muldiv")[1] if w is not reg.args[0]
                 and w.name != "div_neg_r")
    fed = _mutant(nl, reg, "operand", "muldiv", arg=0, replacement=other.name)
    assert N.equivalence(nl.block, fed, base) == ""


def test_demanded_bits(nl):
    """Only bit 0 of the delegation shifter is read; every Output bit is demanded."""
    demand = N.demanded_bits(nl.block)
    taken = nl.block.wirevector_by_name["branch_taken"]
    assert demand[taken] == 1
    out = nl.block.wirevector_by_name["rvfi_pc"]
    assert demand[out] == (1 << 64) - 1
    dec_imm = nl.block.wirevector_by_name["dec_imm"]
    assert demand[dec_imm] == (1 << 64) - 1


def test_unknown_unit_is_one_line_error():
    with pytest.raises(MutateError) as err:
        N.units_for("fpu")
    msg = str(err.value)
    assert "\n" not in msg and "unknown unit 'fpu'" in msg
    assert all(u in msg for u in (*UNITS, "all"))
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["mutate", "hw", "--unit", "fpu"])
    with pytest.raises(MutateError, match="unknown unit 'fpu'"):
        args.func(args)


def test_branch_comparator_inverted_is_killed_by_the_isa_stage(nl):
    """BEQ/BNE taken the wrong way: the ISA suite kills it (the clean design passes the
    same plan, so the kill is the mutant's)."""
    eq = next(n for n in nl.nets("alu") if n.op == "="
              and {a.name for a in n.args} == {"rs1_value", "rs2_value"})
    mutant = _mutant(nl, eq, "eq-invert", "alu")
    plan = Plan(DEFAULT, isa_cases(DEFAULT, build_machine(DEFAULT, None)))
    out = run_mutant(plan, mutant)
    assert (out.status, out.stage) == ("killed", "isa"), out
    assert out.kill_s is not None and out.runs["isa"] >= 1


def _outcome(mid: int, status: str, key: str = "k", where: str = "w", stage=None) -> Outcome:
    return Outcome({"id": mid, "unit": "alu", "key": key, "where": where}, status, stage,
                   kill_s=0.5 if status == "killed" else None)


def test_argued_equivalents_and_score():
    """A survivor with an argument becomes equivalent and leaves the score's
    denominator; an argued mutant that is killed is reported as a wrong argument."""
    argued = {("k1", "w1"): {"reason": "because"}, ("k2", "w2"): {"reason": "wrong"}}
    outs = [_outcome(0, "survived", "k1", "w1"), _outcome(1, "killed", "k2", "w2", "isa"),
            _outcome(2, "survived"), _outcome(3, "killed", stage="budget")]
    warnings = apply_arguments(outs, argued)
    assert outs[0].status == "equivalent" and "because" in outs[0].shown_by
    assert len(warnings) == 1 and "mutant 1" in warnings[0]
    s = summarise(outs, ("isa", "ci", "budget"))
    assert (s["killed"], s["equivalent"], s["survived"]) == (2, 1, 1)
    assert s["score"] == round(2 / 3, 4)
    assert s["killed_fraction_by"] == {"isa": 0.25, "ci": 0.25, "budget": 0.5}


def test_argument_table_is_well_formed():
    """Every argued equivalence names a mutant key, a source line and a section of
    docs/mutation.md that exists."""
    from tools.mutate.run import ARGUED_FILE
    doc = (ARGUED_FILE.parents[2] / "docs" / "mutation.md").read_text()
    entries = json.loads(ARGUED_FILE.read_text())
    assert entries and load_arguments()
    for e in entries:
        assert e["key"].split(":")[0] in N.OPERATORS and e["where"].startswith("hardware/")
        anchor = e["doc"].split("#")[1]
        assert f'<a id="{anchor}"></a>' in doc, anchor
