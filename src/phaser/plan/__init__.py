"""Plans and specs: parse markdown into phases and tasks, edit them in place, watch them change.

Import from here; the submodules are the implementation. ``watch`` is not imported eagerly, so
commands that never watch files do not pay for watchdog (use ``phaser.plan.watch.SpecWatcher``
or ``phaser.plan.SpecWatcher``, which loads it on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phaser.plan.edit import (
    AddPhase,
    AddTask,
    AppendNote,
    Op,
    SetFrontmatter,
    SetMeta,
    SetTask,
    apply,
    apply_all,
)
from phaser.plan.model import DIFFICULTIES, META_KEYS, PHASE_STATES, STATUSES, Phase, Plan, Task
from phaser.plan.parse import parse_plan, split_lines
from phaser.plan.store import atomic_write, edit_plan, is_own_write, last_written, read_plan
from phaser.plan.validate import Problem, validate_path, validate_text

if TYPE_CHECKING:
    from phaser.plan.watch import SpecWatcher


def __getattr__(name: str) -> Any:
    if name == "SpecWatcher":
        from phaser.plan.watch import SpecWatcher

        return SpecWatcher
    raise AttributeError(f"module 'phaser.plan' has no attribute {name!r}")


__all__ = [
    "DIFFICULTIES",
    "META_KEYS",
    "PHASE_STATES",
    "STATUSES",
    "AddPhase",
    "AddTask",
    "AppendNote",
    "Op",
    "Phase",
    "Plan",
    "Problem",
    "SetFrontmatter",
    "SetMeta",
    "SetTask",
    "SpecWatcher",
    "Task",
    "apply",
    "apply_all",
    "atomic_write",
    "edit_plan",
    "is_own_write",
    "last_written",
    "parse_plan",
    "read_plan",
    "split_lines",
    "validate_path",
    "validate_text",
]
