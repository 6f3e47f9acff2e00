"""Markdown tables for the docs, generated from the one encoding table, the cause table,
the CSR table and the memory map (ARCHITECTURE.md section 3, "Generated files").

A page marks each generated section with a pair of HTML comments::

    <!-- generated:NAME -->
    ...replaced on every run...
    <!-- end generated:NAME -->

NAME is one of ``TABLES`` (``instructions``, ``instructions:<ext>``, ``causes``,
``interrupts``, ``csrs``, ``csrs:h``, ``memory-map``, ``guests``, ``guest-suite``) or ``regmap:<region>`` for a device's register
map. ``python -m hardware.isa.docs_tables`` rewrites the sections of every ``docs/*.md``;
``--check`` only reports stale pages (exit status 1).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

from hardware.config import SocConfig
from hardware.isa import causes
from hardware.isa.instructions import EXTENSIONS, INSTRUCTIONS, OVERLAPS

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_DIR = REPO_ROOT / "docs"
PRIV_NAMES = ("U", "S", "HS/VS", "M")

_SECTION = re.compile(
    r"(?P<open><!-- generated:(?P<name>[\w:.-]+) -->\n)(?P<body>.*?)"
    r"(?P<close><!-- end generated:(?P=name) -->)", re.S)


class DocsError(ValueError):
    """A page names an unknown table or has an unclosed marker; the message says where."""


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |"
              for row in rows]
    return "\n".join(lines) + "\n"


def instructions_table(ext: str | None = None) -> str:
    """Instructions with their mask/match, one table per extension (or just ``ext``)."""
    order = [r.name for r in INSTRUCTIONS]
    shadowed: dict[str, list[str]] = {}
    for specific, general in sorted(OVERLAPS, key=lambda p: order.index(p[0])):
        shadowed.setdefault(general, []).append(specific)
    parts = []
    for e in EXTENSIONS if ext is None else (ext,):
        rows = []
        for r in INSTRUCTIONS:
            if r.ext != e:
                continue
            notes = []
            if r.illegal:
                notes.append("decodes as illegal (no F/D)")
            if r.name in shadowed:
                notes.append("matched after " + ", ".join(shadowed[r.name]))
            rows.append((f"`{r.name}`", r.fmt, f"`{r.mask:#0{r.width // 4 + 2}x}`",
                         f"`{r.match:#0{r.width // 4 + 2}x}`", "; ".join(notes)))
        if ext is None:
            parts.append(f"**{e}** ({len(rows)})\n\n")
        parts.append(_table(("mnemonic", "format", "mask", "match", "notes"), rows))
        if ext is None:
            parts.append("\n")
    return "".join(parts).rstrip("\n") + "\n"


def causes_table() -> str:
    """Synchronous exception causes."""
    rows = [(c.code, f"`CAUSE_{c.name}`", c.doc, "yes" if c.h_only else "")
            for c in causes.EXCEPTIONS]
    return _table(("code", "constant", "description", "H only"), rows)


def interrupts_table() -> str:
    """Interrupt causes with their priority rank (1 = highest)."""
    rank = {code: i + 1 for i, code in enumerate(causes.INTERRUPT_PRIORITY)}
    rows = [(c.code, f"`IRQ_{c.name}`", f"`{1 << c.code:#x}`", rank[c.code], c.doc,
             "yes" if c.h_only else "") for c in causes.INTERRUPTS]
    return _table(("code", "constant", "mip bit", "priority", "description", "H only"), rows)


def _csr_line(c) -> tuple:
    wmask = getattr(c, "wmask", None)
    return (f"`{c.addr:#05x}`", f"`{c.name}`", PRIV_NAMES[c.priv], getattr(c, "kind", ""),
            "" if wmask is None else f"`{wmask:#x}`", getattr(c, "doc", ""))


_CSR_HEADER = ("address", "name", "priv", "kind", "write mask", "description")


def csrs_table() -> str:
    """The CSRs of the default core."""
    try:
        from hardware.isa.csrs import CSRS
    except ImportError:
        return "(no CSR table yet)\n"
    return _table(_CSR_HEADER, [_csr_line(c) for c in CSRS])


def csrs_h_table() -> str:
    """What ``has_h`` changes: the rows an H core adds or implements differently
    (``reset`` is the read-only-one bits of a ``plain`` row)."""
    from hardware.config import CoreConfig
    from hardware.isa.csrs import ALL_CSRS, csr_table
    default = {c.name: c for c in csr_table(CoreConfig(has_h=False))}
    rows = []
    for c in ALL_CSRS:
        old = default.get(c.name)
        if old is not None and (old.wmask, old.reset, old.kind) == (c.wmask, c.reset, c.kind):
            continue
        rows.append(_csr_line(c) + ("added" if old is None else "changed",
                                    f"`{c.reset:#x}`"))
    return _table(_CSR_HEADER + ("with H", "reset"), rows)


def memory_map_table(cfg: SocConfig | None = None) -> str:
    """Regions of the default SoC's address map."""
    from hardware.soc import memory_map
    rows = [(f"`{r.base:#011_x}`", f"`{r.size:#x}`", f"`{r.name}`", r.kind,
             "yes" if r.executable else "", r.doc)
            for r in memory_map.regions(cfg or SocConfig())]
    return _table(("base", "size", "name", "kind", "exec", "description"), rows)


def regmap_table(region: str) -> str:
    """A device's register map (``hardware.soc.<device>.<DEVICE>_REGS``)."""
    from hardware.isa.cheaders import device_regmaps
    from hardware.soc.regmap import regmap_markdown
    for name, regs in device_regmaps(SocConfig()):
        if name == region:
            return regmap_markdown(regs)
    raise DocsError(f"docs marker regmap:{region}: no register map for that region")


def guests_table() -> str:
    """The guests of ``guests.build.GUESTS``, by group."""
    from guests.build import GROUPS, GUESTS
    rows = [(f"`{name}`", g.group, g.summary, ", ".join(f"`{s}`" for s in g.sources))
            for group in GROUPS for name, g in GUESTS.items() if g.group == group]
    return _table(("guest", "group", "what it does", "sources (guests/)"), rows)


def guest_suite_table() -> str:
    """The scenarios with golden transcripts (``tools.guestsuite.SUITE``)."""
    from tools.guestsuite import NOT_GOLDEN, SUITE
    rows = [(f"`{name}`", what) for name, what in SUITE.items()]
    rows += [(f"`{name}`", f"(no golden files: {why})") for name, why in NOT_GOLDEN.items()]
    return _table(("scenario", "shows"), rows)


TABLES: dict[str, Callable[[], str]] = {
    "instructions": instructions_table,
    "causes": causes_table,
    "interrupts": interrupts_table,
    "csrs": csrs_table,
    "csrs:h": csrs_h_table,
    "memory-map": memory_map_table,
    "guests": guests_table,
    "guest-suite": guest_suite_table,
}


def render(name: str) -> str:
    """The text of the generated table called ``name``."""
    if name in TABLES:
        return TABLES[name]()
    kind, _, arg = name.partition(":")
    if kind == "instructions" and arg in EXTENSIONS:
        return instructions_table(arg)
    if kind == "regmap" and arg:
        return regmap_table(arg)
    raise DocsError(f"unknown generated table '{name}'")


def update_text(text: str, where: str = "page") -> str:
    """``text`` with every generated section rewritten."""
    opened = re.findall(r"<!-- generated:([\w:.-]+) -->", text)
    closed = re.findall(r"<!-- end generated:([\w:.-]+) -->", text)
    if sorted(opened) != sorted(closed):
        odd = sorted(set(opened) ^ set(closed))
        raise DocsError(f"{where}: unbalanced generated markers {odd}")

    def repl(m: re.Match) -> str:
        try:
            body = render(m["name"])
        except DocsError as e:
            raise DocsError(f"{where}: {e}") from None
        return f"{m['open']}{body}{m['close']}"

    return _SECTION.sub(repl, text)


def update_files(paths: list[Path], check: bool = False) -> list[Path]:
    """Rewrite (or with ``check`` only find) the pages whose sections are stale."""
    stale = []
    for p in paths:
        text = p.read_text()
        new = update_text(text, str(p))
        if new != text:
            stale.append(p)
            if not check:
                p.write_text(new)
    return stale


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m hardware.isa.docs_tables [--check] [FILE.md ...]``."""
    ap = argparse.ArgumentParser(prog="python -m hardware.isa.docs_tables",
                                 description="Regenerate the tables in docs/*.md.")
    ap.add_argument("--check", action="store_true", help="only report stale pages")
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args(argv)
    files = args.files or sorted(DOCS_DIR.glob("*.md"))
    try:
        stale = update_files(files, args.check)
    except (DocsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for p in stale:
        print(f"{'stale' if args.check else 'updated'}: {p}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
