"""Spec Kit ``tasks.md``: ``## Phase N: Title`` sections (``3.5`` for inserted ones)
of ``- [ ] T001 [P] ...``.

Phases, tasks (ids such as T001 and markers such as [P] [US1] stay in the text), ``[X]`` case,
subheadings (``### Tests for User Story 1``) and the ``**Purpose**``/``**Checkpoint**`` lines are
kept where they were; sections such as "Dependencies & Execution Order" follow the phases as prose.
"""

from __future__ import annotations

from phaser.plan.parse import phase_heading, split_done_mark
from phaser.workflow.importers.draft import Draft, Line
from phaser.workflow.importers.sections import read_sections

KIND = "speckit"


def _phase_of(name: str, body: list[Line]) -> tuple[str, str] | None:
    name, _ = split_done_mark(name)
    found = phase_heading(name)
    return (str(found[0]), found[1] or f"Phase {found[0]}") if found else None


def convert(text: str) -> Draft:
    draft = read_sections(KIND, text, _phase_of)
    draft.title = draft.title.removeprefix("Tasks:").strip() or draft.title
    return draft
