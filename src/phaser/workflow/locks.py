"""One writer per plan: a run, a redo or a (re)planning holds the plan's lock, across processes,
so none of them rewrites the plan or resets the tree under another."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from filelock import FileLock, Timeout

from phaser import layout
from phaser.errors import NeedsHuman
from phaser.workflow.project import Project


@contextmanager
def plan_run_lock(project: Project, slug: str) -> Iterator[None]:
    lock_dir = layout.locks_dir(project.config.state_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_dir / f"{slug}.lock"), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise NeedsHuman(f"another phaser run is working on {slug} right now") from None
    try:
        yield
    finally:
        lock.release()
