"""Build cache of compiled simulators (ARCHITECTURE.md section 2: "The built .so is
cached, keyed by a hash of the design").

An entry is two files in the cache directory: ``<key>.so`` and ``<key>.json`` (the
metadata that lets Python drive the library without elaborating the design). The JSON
is written last and both are written to a temporary name and renamed, so a reader sees
either a complete entry or none, even with several processes building at once.

The directory is ``$HVSIM_CACHE_DIR`` if set, else ``~/.cache/hvsim``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "HVSIM_CACHE_DIR"


@dataclass(frozen=True)
class Entry:
    """One complete cache entry."""

    key: str
    library: Path  # the compiled shared object
    meta: dict  # the decoded metadata JSON


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """The cache directory (created if missing)."""
    if override is not None:
        path = Path(override)
    elif os.environ.get(ENV_VAR):
        path = Path(os.environ[ENV_VAR])
    else:
        path = Path.home() / ".cache" / "hvsim"
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest(*parts: str) -> str:
    """A hex SHA-256 over ``parts`` (each length-prefixed, so boundaries matter)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode()
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def source_hash(root: str | os.PathLike, suffixes: tuple[str, ...] = (".py",)) -> str:
    """A hash of every file under ``root`` whose name ends in one of ``suffixes``
    (relative path and content), e.g. to key a design on the ``hardware/`` sources."""
    root = Path(root)
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes):
        if "__pycache__" in path.parts:
            continue
        rel = path.relative_to(root).as_posix().encode()
        h.update(len(rel).to_bytes(8, "little") + rel)
        data = path.read_bytes()
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def design_key(*parts: str) -> str:
    """Key of a design: a digest of caller-chosen ``parts`` (config repr, source hash)
    plus the PyRTL version. The simulator adds its own generator and compiler flags."""
    return digest("hvsim-design", _pyrtl_version(), *parts)


def _pyrtl_version() -> str:
    from importlib.metadata import version

    return version("pyrtl")


def lookup(key: str, directory: str | os.PathLike | None = None) -> Entry | None:
    """The complete entry for ``key``, or None."""
    base = cache_dir(directory)
    meta_path, lib_path = base / f"{key}.json", base / f"{key}.so"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    if not lib_path.is_file():
        return None
    return Entry(key, lib_path, meta)


def store(key: str, library: Path, meta: dict,
          directory: str | os.PathLike | None = None) -> Entry:
    """Move ``library`` into the cache under ``key`` and write ``meta`` beside it,
    atomically. ``library`` must be on the cache's file system (see ``scratch_dir``)."""
    base = cache_dir(directory)
    lib_path = base / f"{key}.so"
    os.replace(library, lib_path)
    atomic_write(base / f"{key}.json", json.dumps(meta, sort_keys=True).encode())
    return Entry(key, lib_path, meta)


def scratch_dir(directory: str | os.PathLike | None = None) -> Path:
    """A fresh private directory inside the cache directory, for one build."""
    return Path(tempfile.mkdtemp(prefix=".build-", dir=cache_dir(directory)))


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
