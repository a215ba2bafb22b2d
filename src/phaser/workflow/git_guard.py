"""Git stays the user's: .git/hooks and .git/config as they were when a phase began.

A hook or a config key planted during a phase (``core.hooksPath``, ``alias``, a ``pre-commit``
file) would run with the user's full rights at the next commit, phaser's own included. The guard
records them when the phase begins; before phaser commits it puts them back and says what had
changed, so phaser's commit runs only the hooks the user had.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from phaser.errors import PhaserError


class GitPlanted(PhaserError):
    """.git/hooks or .git/config changed during the phase (restored)."""

    exit_code = 1


@dataclass(frozen=True)
class _Entry:
    data: bytes | None
    """File bytes; None for a directory."""
    mode: int
    link: str | None = None


def _git_dir(root: Path) -> Path:
    dot = root / ".git"
    if dot.is_file():  # a worktree or submodule: "gitdir: <path>"
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            return (root / text.split(":", 1)[1].strip()).resolve()
    return dot


def _read(path: Path) -> dict[str, _Entry]:
    out: dict[str, _Entry] = {}
    if not os.path.lexists(path):
        return out
    items = [path]
    if path.is_dir() and not path.is_symlink():
        items += sorted(path.rglob("*"))
    for p in items:
        rel = p.relative_to(path.parent).as_posix()
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode):
            out[rel] = _Entry(None, st.st_mode, os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = _Entry(None, st.st_mode)
        else:
            out[rel] = _Entry(p.read_bytes(), st.st_mode)
    return out


@dataclass
class GitGuard:
    git_dir: Path
    entries: dict[str, _Entry]

    WATCHED: ClassVar[tuple[str, ...]] = ("hooks", "config")

    @classmethod
    def take(cls, root: Path) -> GitGuard:
        git_dir = _git_dir(Path(root))
        entries: dict[str, _Entry] = {}
        for name in cls.WATCHED:
            entries.update(_read(git_dir / name))
        return cls(git_dir, entries)

    def changes(self) -> list[str]:
        now: dict[str, _Entry] = {}
        for name in self.WATCHED:
            now.update(_read(self.git_dir / name))
        out = []
        for rel in sorted(set(now) | set(self.entries)):
            old, new = self.entries.get(rel), now.get(rel)
            if old == new:
                continue
            verb = "added" if old is None else "removed" if new is None else "changed"
            out.append(f".git/{rel} {verb}")
        return out

    def restore(self) -> list[str]:
        """Put the watched paths back; returns what had changed (empty: nothing)."""
        changed = self.changes()
        if not changed:
            return []
        for name in self.WATCHED:
            target = self.git_dir / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif os.path.lexists(target):
                target.unlink()
        for rel, entry in sorted(self.entries.items()):
            target = self.git_dir / rel
            if entry.link is not None:
                os.symlink(entry.link, target)
            elif entry.data is None:
                target.mkdir(exist_ok=True)
                os.chmod(target, stat.S_IMODE(entry.mode))
            else:
                target.write_bytes(entry.data)
                os.chmod(target, stat.S_IMODE(entry.mode))
        return changed
