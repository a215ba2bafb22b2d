"""OpenSpec ``tasks.md``: ``## 1. Group`` sections of ``- [ ] 1.1 Task`` -> ``## Phase 1: Group``.

A task's ``1.1`` id is dropped when it equals phaser's ref for it (the ref says the same) and kept
in the text, with a line saying so, when it differs.
"""

from __future__ import annotations

from phaser.workflow.importers.draft import Draft, Line, split_id
from phaser.workflow.importers.sections import read_sections

KIND = "openspec"


def _phase_of(name: str, body: list[Line]) -> tuple[str, str] | None:
    found = split_id(name)
    return found if found and found[1] else None


def convert(text: str) -> Draft:
    draft = read_sections(KIND, text, _phase_of, strip_ids=True)
    if draft.title == "Imported plan":
        draft.title = "Tasks"
    return draft
