"""The plan as data: phases, tasks and notes, each carrying the source lines it came from.

Line numbers are 0-based indexes into ``text.splitlines(keepends=True)`` so that edit operations
can splice exactly the lines they target; add 1 when showing them to a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phaser.plan.refs import parse_number, task_ref

DIFFICULTIES = ("easy", "medium", "hard")
STATUSES = ("blocked", "skipped", "done")
# Phase metadata keys phaser understands; any other key in the metadata paragraph is a validation error.
META_KEYS = ("difficulty", "depends", "model", "status", "unprotect", "approved", "budget")
PHASE_STATES = ("done", "next", "ready", "pending", "blocked", "skipped")
"""``next``: the phase ``phaser next`` runs; ``ready``: runnable too (its dependencies are done) but
later in the plan; ``pending``: waits for a dependency."""
TASK_STATES = ("open", "done", "active", "blocked")
"""A task's box: ``[ ]`` open, ``[x]``/``[X]`` done, ``[-]`` in progress, ``[~]`` blocked."""
BOX_STATES = {" ": "open", "x": "done", "X": "done", "-": "active", "~": "blocked"}


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
    state: str = ""
    """One of TASK_STATES; derived from ``checked`` when not given."""
    optional: bool = False
    """Kiro's ``- [ ]* task``: may be left open; it does not hold its phase back."""

    def __post_init__(self) -> None:
        if not self.state or (self.state == "done") != self.checked:
            self.state = (
                "done" if self.checked else (self.state if self.state in ("active", "blocked") else "open")
            )

    @property
    def ref(self) -> str:
        return task_ref(self.phase, self.index)


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
    heading_done: bool = False
    """The heading carries a done mark (``## Phase 1 ✅ — Setup``, ``... (done)``), as roadmaps write it."""

    @property
    def difficulty(self) -> str:
        return self.meta.get("difficulty", "medium").strip().lower() or "medium"

    @property
    def depends(self) -> list[int]:
        raw = self.meta.get("depends", "")
        out: list[int] = []
        for part in raw.replace(";", ",").split(","):
            number = parse_number(part.strip().lower().removeprefix("phase"))
            if number is not None:
                out.append(number)
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
        """Done when it says so (done/skipped, or a done mark in its heading) or has tasks and all
        the required ones are checked (Kiro's optional ``[ ]*`` tasks may stay open)."""
        if self.status in ("done", "skipped") or self.heading_done:
            return True
        required = [t for t in self.tasks if not t.optional]
        return bool(required) and all(t.checked for t in required)

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
    loose_tasks: list[Task] = field(default_factory=list)
    """Task items before the first phase heading (or under a non-phase level-2 heading): they
    belong to no phase, so nothing runs or ticks them; validate and status report them."""
    odd_boxes: list[tuple[int, str]] = field(default_factory=list)
    """(0-based line, box) of list items that look like a checkbox phaser does not know (``[?]``)."""
    _memo: tuple[int, int, dict[int, Phase], dict[int, str], Phase | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def _queries(self) -> tuple[dict[int, Phase], dict[int, str], Phase | None]:
        """Phase index, every phase's state and the next phase, computed once per plan (linear).

        Plans are built by the parser and not mutated afterwards; the memo is still keyed on the
        phase list's identity and length so a caller appending phases gets fresh answers."""
        memo = self._memo
        if memo is not None and memo[0] == id(self.phases) and memo[1] == len(self.phases):
            return memo[2], memo[3], memo[4]
        index: dict[int, Phase] = {}
        for p in self.phases:
            index.setdefault(p.number, p)
        done = {p.number for p in self.phases if p.done}
        states: dict[int, str] = {}
        nxt: Phase | None = None
        for p in self.phases:
            if p.status == "skipped":
                state = "skipped"
            elif p.done:
                state = "done"
            elif p.status == "blocked":
                state = "blocked"
            elif all(d in done for d in p.depends):
                state = "ready" if nxt is not None else "next"
                nxt = nxt or p
            else:
                state = "pending"
            states.setdefault(id(p), state)
        self._memo = (id(self.phases), len(self.phases), index, states, nxt)
        return index, states, nxt

    def phase(self, number: int) -> Phase | None:
        return self._queries()[0].get(number)

    def next_phase(self) -> Phase | None:
        """The first phase that is not done, not blocked, and whose dependencies are all done."""
        return self._queries()[2]

    def state(self, phase: Phase) -> str:
        """One of PHASE_STATES."""
        state = self._queries()[1].get(id(phase))
        if state is None:  # a phase object from another parse of the same plan
            same = self.phase(phase.number)
            state = self._queries()[1].get(id(same), "pending") if same is not None else "pending"
        return state

    @property
    def tasks_total(self) -> int:
        return sum(len(p.tasks) for p in self.phases)

    @property
    def tasks_done(self) -> int:
        return sum(p.tasks_done for p in self.phases)

    @property
    def complete(self) -> bool:
        return bool(self.phases) and all(p.done for p in self.phases)
