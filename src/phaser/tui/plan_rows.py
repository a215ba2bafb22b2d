"""What the plan tree's lines say: a phase's or a task's label, and the Row each line stands for.

Kept apart from the widget (tui/plan_tree.py) so that labels and the per-phase key that tells an
unchanged phase from a changed one are plain functions of the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text

from phaser.plan.model import Phase, Task

STATE_ICONS = {
    "done": "✓",
    "next": "◆",
    "running": "●",
    "blocked": "✗",
    "waiting": "⏸",
    "ready": "▷",
    "pending": "○",
    "skipped": "–",
}
"""One glyph per phase state, none shared with the fold marks (▸ ▾) or the task boxes."""

TASK_BOXES = {"checked": "[x]", "open": "[ ]", "active": "[-]", "blocked": "[~]"}
"""As the plan writes them: ``[-]`` in progress, ``[~]`` blocked (plan.model.BOX_STATES)."""


def task_state(task: Task) -> str:
    """checked, open, or the further state the plan gives a task (active: in progress, blocked)."""
    state = getattr(task, "state", None)
    if isinstance(state, str) and state and state not in ("done", "checked", "open", "todo"):
        return state
    return "checked" if task.checked else "open"


@dataclass
class Row:
    """What a tree line stands for."""

    kind: str
    """phase, task or note."""
    phase: int
    ref: str = ""
    state: str = ""
    """A phase's state (done, next, running, blocked, waiting, pending, skipped); a task's (checked,
    open, in progress, blocked, ...)."""
    index: int = 0
    text: str = ""
    """A task's text or a note as parsed (to check the line still holds the same task before writing)."""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.phase}:{self.ref}:{self.index}"


def phase_label(phase: Phase, state: str, model: str, commit: str | None = None) -> Text:
    """``model``: the one a done phase passed on, else the one it will run on; ``commit``: a done
    phase's commit (shown short)."""
    counts = f"{phase.tasks_done}/{len(phase.tasks)}"
    return Text.assemble(
        f"{STATE_ICONS.get(state, '·')} {phase.number}  {phase.title}  ",
        (f"{state}", "bold"),
        f"  {counts}  {phase.difficulty} · {model}",
        f" · {commit[:7]}" if commit else "",
    )


def task_label(task: Task, state: str) -> Text:
    box = TASK_BOXES.get(state, f"[{state[:1]}]")
    return Text(f"{'  ' * task.depth}{box} {task.ref}  {task.text}")


def phase_rows(phase: Phase, state: str, model: str, commit: str | None) -> list[tuple[Text, Row]]:
    """(label, row) of the phase's line, then of each task's and each note's."""
    out = [(phase_label(phase, state, model, commit), Row("phase", phase.number, state=state))]
    for task in phase.tasks:
        tstate = task_state(task)
        out.append((task_label(task, tstate), Row("task", phase.number, task.ref, tstate, text=task.text)))
    for j, note in enumerate(phase.notes):
        out.append((Text(f"✎ {note}"), Row("note", phase.number, state="note", index=j, text=note)))
    return out


def phase_key(phase: Phase, state: str, model: str, commit: str | None) -> tuple[Any, ...]:
    """Everything the phase's lines show: equal keys, equal lines (the tree leaves such a phase be)."""
    tasks = tuple((t.index, t.text, t.depth, task_state(t)) for t in phase.tasks)
    return (phase.number, phase.title, state, model, commit, phase.difficulty, tasks, tuple(phase.notes))
