"""Task references ``P.T`` (phase number, dot, task number within the phase; both from 1): the
one place they are read and written, by the plan edits, the agent's claims, `phaser tick` and
the harness's check-off."""

from __future__ import annotations

import re

_REF_RE = re.compile(r"\s*(\d+)\.(\d+)\s*")


def split_ref(ref: str) -> tuple[int, int] | None:
    """``(phase, task)`` of ``"P.T"`` (surrounding spaces allowed), or None if it is not one."""
    m = _REF_RE.fullmatch(ref)
    return (int(m.group(1)), int(m.group(2))) if m else None


def task_ref(phase: int, task: int) -> str:
    return f"{phase}.{task}"
