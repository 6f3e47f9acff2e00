"""Snapshot files: a ``MachineSnapshot`` on disk (issue 7 item 3, "Fast restart";
docs/simulation.md, "Snapshots").

Layout (all integers little-endian)::

    0   8  magic  b"HVSIMSNP"
    8   4  format version (FORMAT_VERSION)
    12  4  header length H
    16  8  body length B
    24  4  CRC-32 of header and body
    28  4  zero
    32  H  header: UTF-8 JSON (PREAMBLE fields and the runner's state)
    32+H B body: zlib of [runs table][run words][UART bytes]

The backend state is stored as the runs of nonzero 64-bit words: the table holds one
``(first word, word count)`` pair of uint64 per run, then come the words of every run in
order. A 16 MiB RAM that the firmware touched in a few places is a few hundred KiB.

Only the ``compiled`` backend's state (a flat buffer, see ``compiled.py``) is stored;
``fast``/``interp`` snapshots live in memory only. ``load`` checks the magic, the
format version, the hvsim version, the checksum, the design (``design_key(cfg)``) and
the body's consistency; every refusal is a ``SnapshotError`` naming the file and the
reason.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from hardware.config import VARIANTS, SocConfig
from hardware.sim.elf import ElfImage
from hardware.sim.machine import MachineError, MachineSnapshot, Retired, design_key

MAGIC = b"HVSIMSNP"
FORMAT_VERSION = 1
#: magic, format version, header length, body length, CRC-32, zero.
PREFIX = struct.Struct("<8sIIQII")
#: The backend whose state files can hold.
FILE_BACKEND = "compiled"
#: zlib level of the body (the nonzero words are mostly code and page tables).
ZLIB_LEVEL = 6
WORD = 8
#: Keys the header must have.
HEADER_KEYS = ("hvsim", "design", "config", "backend", "layout", "state_size", "runs",
               "uart_len", "cycles", "wall_s", "halt_code", "held", "rx", "ring", "image",
               "meta")


class SnapshotError(MachineError):
    """A snapshot file cannot be written or read; one line naming the file."""


def hvsim_version() -> str:
    """The installed hvsim version (``unknown`` outside an installed tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hvsim")
    except PackageNotFoundError:
        return "unknown"


def config_name(cfg: SocConfig) -> str:
    """The variant name of ``cfg`` (``custom`` if it is none of them)."""
    return next((name for name, v in VARIANTS.items() if v == cfg), "custom")


# --------------------------------------------------------------------------- runs


def _words(state) -> np.ndarray:
    """The state as uint64 words (zero-padded to a whole word)."""
    raw = np.frombuffer(state, dtype=np.uint8)
    if len(raw) % WORD:
        raw = np.concatenate([raw, np.zeros(WORD - len(raw) % WORD, np.uint8)])
    return raw.view("<u8")


def encode_runs(state) -> tuple[np.ndarray, np.ndarray]:
    """(runs table as an (n, 2) uint64 array of first word and count, the nonzero
    words) of a state buffer."""
    words = _words(state)
    nz = words != 0
    edges = np.flatnonzero(np.diff(np.concatenate(([False], nz, [False])).astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    table = np.stack([starts, ends - starts], axis=1).astype("<u8")
    return table, words[nz]


def decode_runs(table: np.ndarray, payload: np.ndarray, size: int) -> np.ndarray:
    """The read-only uint8 state of ``size`` bytes that ``encode_runs`` describes."""
    out = np.zeros((size + WORD - 1) // WORD, dtype="<u8")
    starts, counts = table[:, 0].astype(np.int64), table[:, 1].astype(np.int64)
    firsts = np.cumsum(counts) - counts
    index = np.repeat(starts - firsts, counts) + np.arange(len(payload), dtype=np.int64)
    out[index] = payload
    state = out.view(np.uint8)[:size]
    state.flags.writeable = False
    return state


# --------------------------------------------------------------------------- save


def _header(snap: MachineSnapshot, cfg_name: str, state_size: int, runs: int) -> dict:
    image = snap.image
    return {
        "hvsim": hvsim_version(), "design": snap.design, "config": cfg_name,
        "backend": snap.backend, "layout": snap.layout, "state_size": state_size,
        "runs": runs, "uart_len": len(snap.uart), "cycles": snap.cycles,
        "wall_s": snap.wall_s, "halt_code": snap.halt_code, "held": dict(snap.held),
        "rx": list(snap.rx), "ring": [list(r) for r in snap.ring],
        "image": {"entry": image.entry, "tohost": image.tohost,
                  "fromhost": image.fromhost, "path": image.path},
        "meta": snap.meta,
    }


def save(snap: MachineSnapshot, path: str | os.PathLike, cfg: SocConfig | None = None) -> int:
    """Write ``snap`` to ``path`` (atomically: a temporary file then a rename); ``cfg``
    only names the config in the header. Returns the file size in bytes."""
    path = Path(path)
    if snap.backend != FILE_BACKEND:
        raise SnapshotError(f"cannot write snapshot {path}: files hold '{FILE_BACKEND}' "
                            f"backend state, this snapshot is of '{snap.backend}'")
    table, payload = encode_runs(snap.state)
    state_size = len(np.frombuffer(snap.state, dtype=np.uint8))
    header = json.dumps(_header(snap, config_name(cfg) if cfg else "", state_size,
                                len(table)), separators=(",", ":")).encode()
    body = zlib.compress(table.tobytes() + payload.tobytes() + bytes(snap.uart), ZLIB_LEVEL)
    crc = zlib.crc32(body, zlib.crc32(header))
    prefix = PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), len(body), crc, 0)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(prefix + header + body)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SnapshotError(f"cannot write snapshot {path}: {exc.strerror}") from None
    return PREFIX.size + len(header) + len(body)


# --------------------------------------------------------------------------- load


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise SnapshotError(f"cannot read snapshot {path}: it is a directory") from None
    except OSError as exc:
        raise SnapshotError(f"cannot read snapshot {path}: {exc.strerror}") from None


def _split(path: Path, data: bytes) -> tuple[dict, bytes]:
    """The header and compressed body of a file's bytes, checked."""
    fail = _failer(path)
    if not data:
        fail("empty file")
    if data[:len(MAGIC)] != MAGIC:
        if len(data) < len(MAGIC) and MAGIC.startswith(data):
            fail(f"truncated ({len(data)} bytes)")
        fail("not an hvsim snapshot (bad magic)")
    if len(data) < PREFIX.size:
        fail(f"truncated ({len(data)} bytes, shorter than the {PREFIX.size}-byte prefix)")
    _, version, hlen, blen, crc, _ = PREFIX.unpack_from(data)
    if version != FORMAT_VERSION:
        fail(f"format version {version}, this hvsim reads version {FORMAT_VERSION}")
    if len(data) < PREFIX.size + hlen + blen:
        fail(f"truncated ({len(data)} bytes, the prefix says {PREFIX.size + hlen + blen})")
    if len(data) > PREFIX.size + hlen + blen:
        fail(f"corrupt ({len(data) - PREFIX.size - hlen - blen} bytes after the body)")
    header = data[PREFIX.size:PREFIX.size + hlen]
    body = data[PREFIX.size + hlen:]
    if zlib.crc32(body, zlib.crc32(header)) != crc:
        fail("corrupt (checksum mismatch)")
    try:
        fields = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError):
        fail("corrupt (header is not JSON)")
    if not isinstance(fields, dict) or any(k not in fields for k in HEADER_KEYS):
        fail("corrupt (header fields missing)")
    return fields, body


def _failer(path: Path):
    def fail(reason: str):
        raise SnapshotError(f"snapshot {path}: {reason}")
    return fail


def _check_identity(path: Path, h: dict, cfg: SocConfig) -> None:
    """Refuse a snapshot of another hvsim version, backend or design."""
    fail = _failer(path)
    if h["hvsim"] != hvsim_version():
        fail(f"made by hvsim {h['hvsim']}, this is hvsim {hvsim_version()}")
    if h["backend"] != FILE_BACKEND:
        fail(f"holds '{h['backend']}' backend state; files hold '{FILE_BACKEND}' state")
    if h["design"] != design_key(cfg):
        here = config_name(cfg)
        if h["config"] and h["config"] != here:
            fail(f"another design (SoC config '{h['config']}'; this run uses '{here}')")
        fail("another design (the SoC config, the hardware sources or the PyRTL version "
             "changed since it was saved)")


def _state(path: Path, h: dict, body: bytes) -> tuple[np.ndarray, bytes]:
    """The backend state and the UART bytes from the compressed body."""
    fail = _failer(path)
    try:
        raw = zlib.decompress(body)
    except zlib.error:
        fail("corrupt (body does not decompress)")
    runs, size, uart_len = h["runs"], h["state_size"], h["uart_len"]
    if len(raw) < 16 * runs:
        fail("corrupt (runs table cut short)")
    table = np.frombuffer(raw, dtype="<u8", count=2 * runs).reshape(-1, 2)
    words = int(table[:, 1].sum()) if runs else 0
    ends = table[:, 0] + table[:, 1]
    if runs and (int(ends.max()) * WORD > size + WORD - 1 or np.any(table[:, 1] == 0)):
        fail("corrupt (a run lies outside the state)")
    if len(raw) != 16 * runs + WORD * words + uart_len:
        fail("corrupt (body length does not match the header)")
    payload = np.frombuffer(raw, dtype="<u8", offset=16 * runs, count=words)
    return decode_runs(table, payload, size), raw[len(raw) - uart_len:]


def load(path: str | os.PathLike, cfg: SocConfig) -> MachineSnapshot:
    """The snapshot in ``path``, which must be of the design of ``cfg`` and this hvsim
    version; otherwise SnapshotError naming the file and the reason."""
    path = Path(path)
    h, body = _split(path, _read(path))
    _check_identity(path, h, cfg)
    try:
        state, uart = _state(path, h, body)
        image = ElfImage(h["image"]["entry"], [], {}, h["image"]["tohost"],
                         h["image"]["fromhost"], h["image"]["path"])
        return MachineSnapshot(
            h["design"], h["backend"], h["layout"], state, int(h["cycles"]),
            float(h["wall_s"]), uart, h["halt_code"],
            tuple((str(k), int(v)) for k, v in h["held"].items()),
            tuple(int(b) for b in h["rx"]), tuple(Retired(*r) for r in h["ring"]), image,
            dict(h["meta"]), str(path))
    except SnapshotError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        raise SnapshotError(f"snapshot {path}: corrupt (bad header values)") from None
