"""The plan as data: phases, tasks and notes, each carrying the source lines it came from.

Line numbers are 0-based indexes into ``text.splitlines(keepends=True)`` so that edit operations
can splice exactly the lines they target; add 1 when showing them to a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phaser.difficulty import DIFFICULTIES

__all__ = ["DIFFICULTIES", "META_KEYS", "PHASE_STATES", "STATUSES", "Phase", "Plan", "Task"]

STATUSES = ("blocked", "skipped", "done")
# Phase metadata keys phaser understands; any other key in the metadata paragraph is a validation error.
META_KEYS = ("difficulty", "depends", "model", "status", "unprotect", "approved", "budget")
PHASE_STATES = ("done", "next", "pending", "blocked", "skipped")


@dataclass
class Task:
    """One GFM task-list item."""

    phase: int
    """Number of the phase the task belongs to."""
    index: int
    """1-based position among the phase's tasks in document order (nested ones included)."""
    line: int
    """0-based source line of the item's ``[ ]`` marker."""
    checked: bool
    text: str
    """The item's first line, without list marker and checkbox."""
    depth: int = 0
    """0 for a top-level item of the phase, 1 for a task nested in another list item, ..."""

    @property
    def ref(self) -> str:
        return f"{self.phase}.{self.index}"


@dataclass
class Phase:
    """A ``## Phase N: title`` section, up to the next level-2 heading."""

    number: int
    title: str
    line: int
    """0-based line of the heading."""
    end_line: int
    """0-based line where the section ends (exclusive): the next level-2 heading or end of file."""
    meta: dict[str, str] = field(default_factory=dict)
    meta_lines: dict[str, int] = field(default_factory=dict)
    """Metadata key -> 0-based line."""
    meta_span: tuple[int, int] | None = None
    """[start, end) lines of the metadata paragraph, or None when the phase has none."""
    tasks: list[Task] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    notes_line: int | None = None
    """0-based line of the ``### Notes`` heading, if any."""
    notes_end_line: int | None = None
    """0-based line where the Notes subsection ends (exclusive)."""

    @property
    def difficulty(self) -> str:
        return self.meta.get("difficulty", "medium").strip().lower() or "medium"

    @property
    def depends(self) -> list[int]:
        raw = self.meta.get("depends", "")
        out: list[int] = []
        for part in raw.replace(";", ",").split(","):
            part = part.strip().lower().removeprefix("phase").strip()
            if part.isdigit():
                out.append(int(part))
        return out

    @property
    def status(self) -> str | None:
        value = self.meta.get("status", "").strip().lower()
        return value or None

    @property
    def model(self) -> str | None:
        return self.meta.get("model", "").strip() or None

    @property
    def approved(self) -> bool:
        return bool(self.meta.get("approved", "").strip())

    @property
    def unprotect(self) -> list[str]:
        return [p.strip() for p in self.meta.get("unprotect", "").split(",") if p.strip()]

    @property
    def tasks_done(self) -> int:
        return sum(1 for t in self.tasks if t.checked)

    @property
    def done(self) -> bool:
        """Done when it says so (done/skipped) or has tasks and all are checked."""
        if self.status in ("done", "skipped"):
            return True
        return bool(self.tasks) and all(t.checked for t in self.tasks)

    def task(self, index: int) -> Task | None:
        return self.tasks[index - 1] if 1 <= index <= len(self.tasks) else None


@dataclass
class Plan:
    """A parsed ``plan.md`` (or any markdown file with phases)."""

    text: str
    path: Path | None = None
    frontmatter: dict[str, Any] = field(default_factory=dict)
    frontmatter_span: tuple[int, int] | None = None
    """[start, end) lines of the frontmatter block including both ``---`` fences."""
    title: str = ""
    phases: list[Phase] = field(default_factory=list)

    def phase(self, number: int) -> Phase | None:
        for p in self.phases:
            if p.number == number:
                return p
        return None

    def next_phase(self) -> Phase | None:
        """The first phase that is not done, not blocked, and whose dependencies are all done."""
        done = {p.number for p in self.phases if p.done}
        for p in self.phases:
            if p.done or p.status == "blocked":
                continue
            if all(d in done for d in p.depends):
                return p
        return None

    def state(self, phase: Phase) -> str:
        """One of PHASE_STATES."""
        if phase.status == "skipped":
            return "skipped"
        if phase.done:
            return "done"
        if phase.status == "blocked":
            return "blocked"
        nxt = self.next_phase()
        if nxt is not None and nxt.number == phase.number:
            return "next"
        return "pending"

    @property
    def tasks_total(self) -> int:
        return sum(len(p.tasks) for p in self.phases)

    @property
    def tasks_done(self) -> int:
        return sum(p.tasks_done for p in self.phases)

    @property
    def complete(self) -> bool:
        return bool(self.phases) and all(p.done for p in self.phases)
