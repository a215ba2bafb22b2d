"""Ralph ``IMPLEMENTATION_PLAN.md``: a prioritised list the loop keeps current.

Every level-2 section with task items becomes a phase, numbered in order (``## Priority 1: Core``,
``## High priority``, ``## Completed``); plain bullets in a to-do-like or completed section are
tasks too (open, or done under "Completed"). Sections of notes, learnings or discoveries become
the notes of the phase before them; any other section follows the phases as prose.
"""

from __future__ import annotations

import re

from phaser.workflow.importers.draft import Draft, Line
from phaser.workflow.importers.sections import NOTES_RE, read_sections

KIND = "ralph"
_TODO_RE = re.compile(
    r"\b(priority|todo|to do|tasks?|backlog|next|in progress|remaining|pending|completed?|done)\b", re.I
)
_DONE_RE = re.compile(r"\b(completed?|done|finished)\b", re.I)


def convert(text: str) -> Draft:
    counter = [0]
    plain: list[str] = []

    def phase_of(name: str, body: list[Line]) -> tuple[str, str] | None:
        has_box = any(ln.box is not None for ln in body)
        if not has_box and NOTES_RE.search(name):
            return None
        if not has_box:
            items = [ln for ln in body if ln.is_item and ln.indent == 0]
            if not items or not _TODO_RE.search(name):
                return None
            mark = "x" if _DONE_RE.search(name) else " "
            for ln in body:
                if ln.is_item and ln.box is None:
                    ln.box, ln.optional = mark, False
            plain.append(name)
        counter[0] += 1
        title = re.sub(r"^(?:priority\s*)?\d+[:.)]?\s*", "", name, flags=re.I).strip(" :-") or name
        return str(counter[0]), title

    draft = read_sections(KIND, text, phase_of)
    for name in plain:
        draft.mapped.append(f"section '{name}': plain bullets read as tasks")
    return draft
