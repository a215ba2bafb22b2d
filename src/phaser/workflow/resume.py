"""Unfinished runs: a marker per plan while a phase runs, so that after a crash, Ctrl-C or kill the
next `phaser next` puts the tree back to its state before that phase, reporting (and keeping) what
it discards instead of building on half-applied edits."""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from phaser import layout
from phaser.agent.snapshot import Snapshot, diff, read_blob, restore, take_snapshot
from phaser.plan.store import atomic_write
from phaser.workflow import git


@dataclass
class ActiveRun:
    slug: str
    phase: int
    run_dir: str
    base_commit: str | None
    started: str


def _marker(state_dir: Path, slug: str) -> Path:
    return layout.active_marker(state_dir, slug)


def save_active(state_dir: Path, run: ActiveRun, before: Snapshot) -> None:
    path = _marker(state_dir, run.slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path.with_suffix(".snapshot"), pickle.dumps(before))
    atomic_write(path, json.dumps(asdict(run), indent=2))


def load_active(state_dir: Path, slug: str) -> tuple[ActiveRun, Snapshot] | None:
    path = _marker(state_dir, slug)
    if not path.is_file():
        return None
    try:
        run = ActiveRun(**json.loads(path.read_text(encoding="utf-8")))
        before = pickle.loads(path.with_suffix(".snapshot").read_bytes())
    except (OSError, ValueError, TypeError, pickle.UnpicklingError):
        return None
    return run, before


def clear_active(state_dir: Path, slug: str) -> None:
    path = _marker(state_dir, slug)
    for p in (path, path.with_suffix(".snapshot")):
        p.unlink(missing_ok=True)


def changed_paths(root: Path, before: Snapshot, exclude: Sequence[Path] = ()) -> list[str]:
    """Paths that differ from ``before``, minus ``exclude``. In a git repository only uncommitted
    ones count: the agent cannot commit, so anything committed since is a person's decision."""
    changes = diff(before, take_snapshot(root))
    top = root.resolve()
    excluded = {str(p.resolve().relative_to(top)) for p in exclude if p.resolve().is_relative_to(top)}
    paths = [p for p in sorted(changes.added + changes.modified + changes.deleted) if p not in excluded]
    if git.is_repo(root):
        dirty = set(git.dirty_paths(root))
        paths = [p for p in paths if p in dirty]
    return paths


def save_patch(root: Path, before: Snapshot, run_dir: Path, paths: list[str]) -> Path:
    """Write the changes of ``paths`` since ``before`` as a unified diff under ``run_dir``
    (nothing is lost)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    patch = run_dir / "discarded.patch"
    chunks = []
    for rel in paths:
        old = read_blob(before, rel) if rel in before.entries else None
        new_path = root / rel
        new = new_path.read_bytes() if new_path.is_file() else None
        chunks.append(_unified(rel, old, new))
    atomic_write(patch, "".join(chunks))
    return patch


def _unified(rel: str, old: bytes | None, new: bytes | None) -> str:
    import difflib

    def lines(data: bytes | None) -> list[str]:
        if data is None:
            return []
        return data.decode("utf-8", "replace").splitlines(keepends=True)

    a = f"a/{rel}" if old is not None else "/dev/null"
    b = f"b/{rel}" if new is not None else "/dev/null"
    text = "".join(difflib.unified_diff(lines(old), lines(new), a, b))
    return f"diff --git a/{rel} b/{rel}\n" + text + ("" if text.endswith("\n") or not text else "\n")


def recover(root: Path, state_dir: Path, slug: str, plan_path: Path) -> str | None:
    """Undo an unfinished run of ``slug``; returns a sentence for the person, or None if there was none."""
    found = load_active(state_dir, slug)
    if found is None:
        return None
    run, before = found
    paths = changed_paths(root, before, exclude=[plan_path])
    patch = save_patch(root, before, Path(run.run_dir), paths)
    restore(root, before, paths)
    clear_active(state_dir, slug)
    try:
        shown = patch.relative_to(root)
    except ValueError:
        shown = patch
    return (
        f"phase {run.phase} did not finish (started {run.started}): "
        "the tree is back to its state before that "
        f"phase; the discarded changes are kept in {shown}"
    )
