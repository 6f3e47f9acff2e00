"""Firmware isolation mutants (issue 7, part 5; tools/mutate/firmware.py): the catalogue
fits the current hypervisor sources, every mutant changes them and still compiles into
an image that differs from the clean one, and a bad id or a stale edit is one clear
line."""

from __future__ import annotations

import shutil

import pytest
from elftools.elf.elffile import ELFFile

from hardware.config import DEFAULT
from hypervisor.build import HV_SRC, build_firmware
from tools.mutate import firmware as F
from tools.mutate.firmware import CATEGORIES, MUTANTS, MutantError
from tools.mutate.netlist import MutateError

IDS = list(MUTANTS)


def _image(elf_path) -> bytes:
    """The bytes of every allocated section with contents (what the machine loads)."""
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        return b"".join(s.data() for s in elf.iter_sections()
                        if s["sh_flags"] & 2 and s["sh_type"] != "SHT_NOBITS")


def test_catalogue_shape():
    assert len(MUTANTS) >= 36
    assert len(MUTANTS) == len(F._CATALOGUE), "duplicate mutant ids"
    for m in MUTANTS.values():
        assert m.category in CATEGORIES, m.id
        assert m.edits and m.description and "\n" not in m.description, m.id
        assert m.id == m.id.lower() and " " not in m.id, m.id
        assert m.soc in ("default", "tlbkeep"), m.id
    assert {m.category for m in MUTANTS.values()} == set(CATEGORIES)


@pytest.mark.parametrize("mid", IDS)
def test_every_edit_matches_once_and_changes_the_sources(mid):
    texts = F.mutated_texts(mid)
    assert texts
    for rel, (old, new) in texts.items():
        assert old == (HV_SRC / rel).read_text()
        assert new != old, f"{mid}: {rel} unchanged"
    assert F.diff(mid).startswith("--- a/")


def test_no_two_mutants_are_the_same_patch():
    patches = {}
    for mid in IDS:
        key = tuple(sorted((rel, new) for rel, (_, new) in F.mutated_texts(mid).items()))
        assert key not in patches, f"{mid} repeats {patches.get(key)}"
        patches[key] = mid


def test_apply_copies_and_patches(tmp_path):
    mid = "vsatp-not-switched"
    dest = F.apply(mid, tmp_path / "src")
    assert dest == tmp_path / "src"
    changed = F.mutated_texts(mid)
    for path in HV_SRC.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(HV_SRC).as_posix()
            copy = (dest / rel).read_text()
            if rel in changed:
                assert copy == changed[rel][1] != path.read_text()
            else:
                assert copy == path.read_text(), rel
    # applying another mutant over the same folder starts again from clean sources
    F.apply("gp-not-saved", dest)
    assert (dest / "include/hv.h").read_text() == (HV_SRC / "include/hv.h").read_text()


def test_unknown_id_is_one_line():
    with pytest.raises(MutantError) as exc:
        F.apply("no-such-bug", "/nonexistent/dir")
    assert str(exc.value).startswith("unknown firmware mutant 'no-such-bug'")
    assert "\n" not in str(exc.value)
    assert isinstance(exc.value, MutateError)


@pytest.mark.parametrize("how", ["gone", "twice"])
def test_stale_edit_is_one_line_naming_the_mutant(tmp_path, how):
    mid = "vmid-zero-no-gvma-fence"
    edit = MUTANTS[mid].edits[1]
    src = tmp_path / "changed"
    shutil.copytree(HV_SRC, src)
    path = src / edit.file
    text = path.read_text()
    path.write_text(text.replace(edit.old, "") if how == "gone" else text + edit.old)
    with pytest.raises(MutantError) as exc:
        F.apply(mid, tmp_path / "out", src_dir=src)
    msg = str(exc.value)
    assert "\n" not in msg
    assert f"'{mid}'" in msg and "edit 2 of 2" in msg and edit.file in msg
    assert ("matches 0 times" if how == "gone" else "matches 2 times") in msg
    assert not (tmp_path / "out").exists(), "nothing is written when an edit fails"


def test_select():
    assert [m.id for m in F.select()] == IDS
    priv = F.select(category="privilege")
    assert priv and all(m.category == "privilege" for m in priv)
    assert [m.id for m in F.select("gp-not-saved, vtw-not-set")] == ["gp-not-saved", "vtw-not-set"]
    assert F.select(["gp-not-saved"], category="privilege") == []
    with pytest.raises(MutantError, match="unknown mutant category 'cpu'"):
        F.select(category="cpu")
    with pytest.raises(MutantError, match="unknown firmware mutant 'x'"):
        F.select(["x"])


def test_to_dict_round_trips_the_edits():
    d = MUTANTS["ipi-broadcast-all-vms"].to_dict()
    assert d["category"] == "interrupts/timer" and d["edits"][0]["file"] == "core/sbi.c"


@pytest.fixture(scope="module")
def clean_image(tmp_path_factory) -> bytes:
    fw = build_firmware("demo", DEFAULT, build_dir=tmp_path_factory.mktemp("clean"))
    return _image(fw.elf)


@pytest.mark.slow
@pytest.mark.parametrize("mid", IDS)
def test_every_mutant_builds_into_another_image(mid, tmp_path, clean_image):
    """Every mutant compiles with -Werror, and the compiler keeps the bug (the loaded
    image differs from the clean one: no edit is folded away as dead code)."""
    fw = F.build(mid, tmp_path, "demo")
    assert fw.elf.is_file()
    assert _image(fw.elf) != clean_image


def test_a_broken_reference_case_is_a_campaign_catch(tmp_path, monkeypatch):
    """A mutant whose rig cannot run its reference case is caught by it (the campaign
    stage goes on with the next mutant); any other campaign error still propagates."""
    import pytest

    from tools.isolation import IsolationError, campaign
    from tools.mutate import fwrun

    def broken(*args, **kwargs):
        raise IsolationError("the reference case is not clean (timeout): confidentiality")

    monkeypatch.setattr(campaign, "run_campaign", broken)
    res = fwrun.run_campaign_stage(fwrun.MUTANTS["gpr-not-restored-a2"], tmp_path, 0.1, 1)
    assert res.caught and res.by == "the rig's reference case" and "timeout" in res.detail

    def other(*args, **kwargs):
        raise IsolationError("--workers must be at least 1")

    monkeypatch.setattr(campaign, "run_campaign", other)
    with pytest.raises(IsolationError, match="workers"):
        fwrun.run_campaign_stage(fwrun.MUTANTS["gpr-not-restored-a2"], tmp_path / "b", 0.1, 1)


def test_mutate_fw_on_a_fresh_clone_lists_and_makes_its_default_folder(tmp_path, monkeypatch,
                                                                       capsys):
    """A fresh clone has no build/: ``--list`` writes nothing, a run makes the default
    results folder, and a --json folder that does not exist is still a one-line error."""
    from tools.cli import main
    from tools.mutate import fwrun

    build = tmp_path / "build"
    monkeypatch.setattr(fwrun, "BUILD_DIR", build)
    monkeypatch.setattr(fwrun, "run_all", lambda *a: [])
    assert main(["mutate", "fw", "--list"]) == 0
    assert "gpr-not-restored-a2" in capsys.readouterr().out and not build.exists()
    assert main(["mutate", "fw", "--ids", "gpr-not-restored-a2"]) == 0
    assert (build / "mutate" / "fw.json").is_file()
    assert main(["mutate", "fw", "--json", str(tmp_path / "no" / "fw.json")]) != 0
    assert "no such directory" in capsys.readouterr().err
