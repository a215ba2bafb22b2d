"""OpenSpec ``tasks.md``: ``## 1. Group`` sections of ``- [ ] 1.1 Task`` -> ``## Phase 1: Group``.

A task's ``1.1`` id is dropped when it equals phaser's ref for it (the ref says the same) and kept
in the text, with a line saying so, when it differs.
"""

from __future__ import annotations

import re

from phaser.workflow.importers.draft import Draft, Line
from phaser.workflow.importers.sections import read_sections

KIND = "openspec"
_GROUP_RE = re.compile(r"(\d{1,9}(?:\.\d{1,9})*)\.?[ \t]+(.+)")


def _phase_of(name: str, body: list[Line]) -> tuple[str, str] | None:
    m = _GROUP_RE.fullmatch(name)
    return (m.group(1), m.group(2).strip()) if m else None


def convert(text: str) -> Draft:
    draft = read_sections(KIND, text, _phase_of, strip_ids=True)
    if draft.title == "Imported plan":
        draft.title = "Tasks"
    return draft
