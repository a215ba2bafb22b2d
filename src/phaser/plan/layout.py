"""Where things sit in a plan's text beyond what the Plan model carries (task boxes, list ends),
and the in-process memory of recent parses. Kept apart from the parser so that a plan rebuilt from
the parse cache needs neither markdown-it nor the parser's regular expressions."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from phaser.plan.model import Plan


@dataclass(frozen=True)
class TaskLoc:
    """Where a task's checkbox sits: enough to toggle it without a parse."""

    line: int
    offset: int
    """Character offset of the box's inner character (the space or x) in the text."""
    text: str


@dataclass(frozen=True)
class PhaseLayout:
    """Source positions the Plan model does not carry, for one phase (by position in plan.phases)."""

    heading_end: int
    task_cols: tuple[int, ...]
    task_ends: tuple[int, ...]
    """End line (exclusive) of each task's list item, nested content included."""
    note_marker: str | None
    """Bullet character of the last note item, so appended notes continue the same list."""
    notes_content_end: int | None
    """Line after the last non-blank line of the Notes subsection."""


@dataclass(frozen=True)
class Layout:
    phases: tuple[PhaseLayout, ...]
    tasks: dict[int, tuple[TaskLoc, ...]]
    """Phase number (first phase with that number) -> task locations."""


# A few recent parses, keyed by the exact text, so an edit right after a read (or a second
# toggle right after a first) finds task positions without parsing again.
_CACHE: OrderedDict[str, tuple[Plan | None, Layout]] = OrderedDict()
_CACHE_SIZE = 4


def remember(text: str, plan: Plan | None, layout: Layout) -> None:
    _CACHE[text] = (plan, layout)
    _CACHE.move_to_end(text)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def cached(text: str) -> tuple[Plan | None, Layout] | None:
    """The remembered (plan, layout) for exactly this text, if any."""
    return _CACHE.get(text)
