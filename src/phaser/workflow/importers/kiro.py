"""Kiro ``tasks.md``: one list whose top-level numbered items are the phases.

``- [ ] 2. Implement data models`` becomes ``## Phase 2: Implement data models``; its ``2.1``,
``2.2`` sub-items (indented under it, or flat at the same level as Kiro also writes them) become
its tasks, and their numbers stay their refs (an id that differs from phaser's ref stays in the
text). A top-level item without sub-items becomes a phase with that one task. Detail bullets and
``_Requirements: 1.1_`` lines stay under their task; Kiro's optional ``- [ ]*`` stays optional.
"""

from __future__ import annotations

from phaser.workflow.importers.draft import (
    Draft,
    DraftPhase,
    DraftTask,
    free_number,
    heading_text,
    source_lines,
    split_id,
    task_from,
)
from phaser.workflow.importers.sections import chain

KIND = "kiro"


def convert(text: str) -> Draft:
    lines = source_lines(text)
    title = next((heading_text(ln) for ln in lines if ln.heading == 1), "") or "Implementation Plan"
    draft = Draft(KIND, title)
    boxes = [ln for ln in lines if ln.box is not None]
    if not boxes:
        return draft
    top = min(ln.indent for ln in boxes)
    phase: DraftPhase | None = None
    head: DraftTask | None = None  # the top-level item itself, until a sub-task shows up
    last: DraftTask | None = None
    sub_indent: int | None = None
    used: set[str] = set()
    for ln in lines:
        if ln.heading == 1 and not draft.phases and phase is None:
            continue
        if ln.box is not None:
            m = split_id(ln.item_text)
            ident = m[0] if m else None
            flat_sub = (
                ident is not None
                and "." in ident
                and phase is not None
                and ident.split(".")[0] == phase.number
            )
            if ln.indent == top and not flat_sub:
                _close(draft, phase, head)
                fresh = ident is not None and "." not in ident and ident not in used
                number = ident if ident is not None and fresh else free_number(used, str(len(used) + 1))
                used.add(number)
                phase = DraftPhase(number, m[1] if m and ident == number else ln.item_text)
                head = task_from(ln, 0)
                head.text = phase.title
                last, sub_indent = head, None
                draft.mapped.append(f"line {ln.number}: item {ident or '-'} -> Phase {number}: {phase.title}")
                continue
            assert phase is not None
            if sub_indent is None:
                sub_indent = ln.indent
            task = task_from(ln, 1 if ln.indent > sub_indent else 0)
            if m:
                index = len(phase.tasks) + 1
                if ident == f"{phase.number}.{index}":
                    task.text = m[1]
                elif ident and "." in ident:
                    draft.mapped.append(
                        f"line {ln.number}: task {ident} is {phase.number}.{index} in phaser; its id stays "
                        "in the text"
                    )
            phase.tasks.append(task)
            last = task
            continue
        if phase is None:
            if ln.text.strip() and ln.heading != 1:
                draft.intro.append(ln.text)
            continue
        if ln.text.strip() and last is not None and (ln.indent > top if ln.is_item else ln.text[:1] in " \t"):
            if last is head and not phase.tasks:
                phase.body.append(ln.text.strip())
            else:
                last.details.append(ln.text.strip())
        elif ln.text.strip():
            (last.details if phase.tasks and last is not None else phase.body).append(ln.text.strip())
    _close(draft, phase, head)
    chain(draft)
    return draft


def _close(draft: Draft, phase: DraftPhase | None, head: DraftTask | None) -> None:
    if phase is None or head is None:
        return
    if not phase.tasks:
        head.details, phase.body = phase.body, []
        phase.tasks = [head]
    elif head.state == "done" and any(t.state != "done" for t in phase.tasks if not t.optional):
        draft.unmapped.append(
            f"phase {phase.number}: the item is ticked but some of its sub-tasks are not; the sub-tasks "
            "decide"
        )
    draft.phases.append(phase)
