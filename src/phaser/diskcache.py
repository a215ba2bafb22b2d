"""Entries on disk keyed by a file's identity and exact bytes: what the parse caches (plans,
spec checks, phaser.toml) are built on.

An entry is one JSON file in a cache folder, named by the source file's real path and holding that
path, the length and a BLAKE2 digest of the bytes its body was computed from: a read needs the same
file *and* the same content, so any byte change (or a different file) misses. JSON, not pickle:
reading an entry can never run code, whoever wrote it. An entry that is missing, torn, from another
version or unwritable is simply a miss; writes are atomic (temp file + rename).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

try:  # CPython's own BLAKE2: hashlib would load OpenSSL first, a cost on every start-up
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import blake2b

VERSION = 1


def digest(data: bytes) -> str:
    return blake2b(data, digest_size=20).hexdigest()


def entry_for(path: Path, folder: Path) -> tuple[str, Path]:
    """The source's real path and the entry file that belongs to it in ``folder``."""
    real = os.path.realpath(path)
    name = blake2b(real.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()
    return real, folder / f"{name}.json"


def read(path: Path, data: bytes, folder: Path, version: int = VERSION) -> dict[str, Any] | None:
    """The entry for exactly these bytes of this file, or None (missing, torn, stale, forged, or
    written in another ``version`` of its body's format)."""
    real, entry = entry_for(path, folder)
    try:
        raw = json.loads(entry.read_bytes())
    except (OSError, ValueError):
        return None
    if (
        not isinstance(raw, dict)
        or raw.get("v") != version
        or raw.get("path") != real
        or raw.get("size") != len(data)
        or raw.get("digest") != digest(data)
    ):
        return None
    return raw


def write(path: Path, data: bytes, body: dict[str, Any], folder: Path, version: int = VERSION) -> None:
    """Write the entry for these bytes of this file (best effort: a read-only tree has no cache)."""
    real, entry = entry_for(path, folder)
    try:
        payload = json.dumps(
            {"v": version, "path": real, "size": len(data), "digest": digest(data), **body},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
    except (TypeError, ValueError):  # something JSON can't hold (a YAML or TOML date): no entry
        return
    put(entry, payload)


def put(entry: Path, payload: bytes) -> None:
    """Write an entry file atomically (temp file + rename; best effort: a read-only tree has no cache)."""
    import tempfile

    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            os.replace(tmp, entry)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass
