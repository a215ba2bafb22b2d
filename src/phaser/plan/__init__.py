"""Plans and specs: parse markdown into phases and tasks, edit them in place, watch them change.

Names are re-exported lazily (PEP 562), so ``import phaser.plan.model`` or
``from phaser.plan import Plan`` does not pay for markdown-it, YAML, filelock or watchdog; each
submodule loads on first use of one of its names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from phaser.plan.watch import SpecWatcher

_EXPORTS = {
    "edit": (
        "AddPhase",
        "AddTask",
        "AppendNote",
        "Op",
        "SetFrontmatter",
        "SetMeta",
        "SetTask",
        "apply",
        "apply_all",
    ),
    "model": ("DIFFICULTIES", "META_KEYS", "PHASE_STATES", "STATUSES", "Phase", "Plan", "Task"),
    "parse": ("parse_plan", "split_lines"),
    "store": ("atomic_write", "edit_plan", "is_own_write", "last_written", "read_plan"),
    "validate": ("Problem", "validate_path", "validate_text"),
    "watch": ("SpecWatcher",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "AddPhase",
    "AddTask",
    "AppendNote",
    "DIFFICULTIES",
    "META_KEYS",
    "Op",
    "PHASE_STATES",
    "Phase",
    "Plan",
    "Problem",
    "STATUSES",
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
assert set(__all__) == set(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'phaser.plan' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"phaser.plan.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
