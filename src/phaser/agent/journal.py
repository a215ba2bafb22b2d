"""The run journal: one JSON object per line, appended and fsynced as it happens.

A crash loses at most the line being written; ``read_journal`` skips a torn last line. Secrets
are redacted before anything reaches the disk and long strings keep only their head and tail.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from phaser import layout
from phaser.agent.sandbox import cap_text, known_secret_values, redact

MAX_STRING = 20_000
_SECRET_KEY = re.compile(r"api[-_]?key|authorization|x-api-key|password|secret|token", re.I)
_TOKEN_COUNT_KEY = re.compile(r"_tokens?$|^tokens?_", re.I)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clean(value: Any, secrets: list[str], key: str = "") -> Any:
    """A JSON-safe copy with secret fields blanked, known secret values redacted, long text cut."""
    if key and _SECRET_KEY.search(key) and not _TOKEN_COUNT_KEY.search(key) and isinstance(value, str):
        return "[redacted]"
    if isinstance(value, str):
        return cap_text(redact(value, secrets), MAX_STRING)[0]
    if isinstance(value, dict):
        return {str(k): clean(v, secrets, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v, secrets) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Path):
        return str(value)
    return clean(repr(value), secrets)


class Journal:
    """Appends ``{"t": ..., "kind": ..., ...}`` lines to ``run_dir/journal.jsonl``."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / "journal.jsonl"
        self._file: IO[str] | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._secrets = known_secret_values()

    @classmethod
    def new(cls, state_dir: Path, slug: str, phase: int | str) -> Journal:
        """A journal in a fresh ``state_dir/runs/<slug>/<phase>/<UTC timestamp>/`` folder."""
        base = layout.runs_dir(Path(state_dir), slug) / str(phase)
        base.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        for n in range(1000):
            run_dir = base / (stamp if n == 0 else f"{stamp}-{n}")
            try:
                run_dir.mkdir()
                return cls(run_dir)
            except FileExistsError:
                continue
        raise FileExistsError(f"cannot create a run folder under {base}")

    def write(self, kind: str, **data: Any) -> None:
        """Append one entry and push it to disk before returning."""
        if self._file is None:
            raise ValueError("journal is closed")
        secrets = sorted(set(self._secrets) | set(known_secret_values()), key=len, reverse=True)
        entry = {"t": _now(), "kind": kind, **clean(data, secrets)}
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.flush()

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Entries of a journal file (or run folder); a torn or garbled line is skipped."""
    path = Path(path)
    if path.is_dir():
        path = path / "journal.jsonl"
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
