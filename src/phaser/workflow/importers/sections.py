"""The shared reader for sources whose phases are level-2 sections (Spec Kit, OpenSpec, Ralph).

Each kind says which headings are phases; the walk is the same: checkbox items become tasks
(nesting kept), lines indented under a task stay under it, subheadings stay in place, a ``Notes``
subsection (or a plan-level notes section) becomes notes, prose before the first task is the phase's
body, and other sections are kept verbatim after the phases. Tasks outside any phase are gathered
into one more phase at the end, so none is lost and the plan still validates.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from phaser.workflow.importers.draft import (
    Draft,
    DraftPhase,
    DraftTask,
    Line,
    free_number,
    heading_text,
    source_lines,
    split_id,
    task_from,
)

NOTES_RE = re.compile(
    r"\b(notes?|learnings?|lessons?|discover(?:y|ies)|insights?|known issues?|gotchas?)\b", re.I
)

PhaseOf = Callable[[str, list[Line]], "tuple[str, str] | None"]
"""(heading text, the section's lines) -> (phase number, title), or None when it is not a phase."""


def read_sections(kind: str, text: str, phase_of: PhaseOf, strip_ids: bool = False) -> Draft:
    lines = source_lines(text)
    title = next((heading_text(ln) for ln in lines if ln.heading == 1), "")
    draft = Draft(kind, title or "Imported plan")
    sections = _split(lines)
    loose: list[tuple[Line, int]] = []
    used: set[str] = set()
    for head, body in sections:
        if head is None:
            _intro(draft, body, loose)
            continue
        name = heading_text(head)
        found = phase_of(name, body)
        if found is None:
            tasks = [ln for ln in body if ln.box is not None]
            if NOTES_RE.search(name) and not tasks:
                notes = [ln.item_text for ln in body if ln.is_item and ln.indent == 0]
                target = draft.phases[-1] if draft.phases else None
                if target is not None and notes:
                    target.notes += notes
                    draft.mapped.append(
                        f"line {head.number}: '{name}' ({len(notes)} items) -> notes of phase {target.number}"
                    )
                    continue
            if tasks:
                loose += [(ln, head.number) for ln in tasks]
                body = [ln for ln in body if ln.box is None]
            draft.outro += [head.text, *[ln.text for ln in body]]
            draft.mapped.append(f"line {head.number}: section '{name}' kept as prose after the phases")
            continue
        number, ptitle = found
        if number in used:
            draft.unmapped.append(f"line {head.number}: phase {number} appears twice; renumbered")
            number = free_number(used, number)
        used.add(number)
        phase = DraftPhase(number, ptitle)
        _fill(phase, body, draft, strip_ids)
        if not phase.real_tasks and phase.status is None:
            draft.unmapped.append(f"line {head.number}: '{name}' has no tasks; kept as prose")
            draft.outro += [head.text, *[ln.text for ln in body]]
            used.discard(number)
            continue
        draft.phases.append(phase)
        draft.mapped.append(
            f"line {head.number}: '{name}' -> Phase {number}: {ptitle} ({len(phase.real_tasks)} tasks)"
        )
    if loose:
        number = free_number(used, str(len(draft.phases) + 1))
        phase = DraftPhase(number, "Tasks outside any phase")
        base = min(ln.indent for ln, _ in loose)
        phase.tasks = [task_from(ln, 1 if ln.indent > base else 0) for ln, _ in loose]
        draft.phases.append(phase)
        first, last = loose[0][0].number, loose[-1][0].number
        draft.unmapped.append(
            f"lines {first}-{last}: {len(loose)} tasks outside any phase -> Phase {number}: {phase.title}"
        )
    chain(draft)
    return draft


def chain(draft: Draft) -> None:
    """Sources like these run their phases in order: each depends on the one before (loosen by hand)."""
    for prev, phase in zip(draft.phases, draft.phases[1:], strict=False):
        if not phase.depends:
            phase.depends = [prev.number]
    if len(draft.phases) > 1:
        draft.mapped.append(
            "phases run in source order: each depends on the one before (loosen where independent)"
        )


def _split(lines: list[Line]) -> list[tuple[Line | None, list[Line]]]:
    out: list[tuple[Line | None, list[Line]]] = [(None, [])]
    for ln in lines:
        if ln.heading == 2:
            out.append((ln, []))
        else:
            out[-1][1].append(ln)
    return out


def _intro(draft: Draft, body: list[Line], loose: list[tuple[Line, int]]) -> None:
    seen_title = False
    for ln in body:
        if ln.heading == 1 and not seen_title:
            seen_title = True
            continue
        if ln.box is not None:
            loose.append((ln, ln.number))
            continue
        draft.intro.append(ln.text)
    while draft.intro and not draft.intro[-1].strip():
        draft.intro.pop()
    while draft.intro and not draft.intro[0].strip():
        draft.intro.pop(0)


def _fill(phase: DraftPhase, body: list[Line], draft: Draft, strip_ids: bool) -> None:
    stack: list[int] = []  # indents of open task items
    in_notes = False
    last: DraftTask | None = None
    for ln in body:
        if ln.heading:
            in_notes = ln.heading == 3 and NOTES_RE.fullmatch(heading_text(ln).rstrip(":")) is not None
            if not in_notes:
                phase.tasks.append(DraftTask(ln.text.strip(), raw=True))
            last, stack = None, []
            continue
        if in_notes:
            if ln.is_item and ln.indent == 0:
                phase.notes.append(ln.item_text)
            elif ln.text.strip() and phase.notes:
                phase.notes[-1] += " " + ln.text.strip()
            continue
        if ln.box is not None:
            while stack and stack[-1] >= ln.indent:
                stack.pop()
            task = task_from(ln, len(stack))
            if strip_ids:
                _strip(task, phase, draft, ln)
            phase.tasks.append(task)
            stack.append(ln.indent)
            last = task
            continue
        if (
            last is not None
            and ln.text.strip()
            and (ln.indent > stack[0] if ln.is_item else ln.text[:1] in " \t")
        ):
            last.details.append(
                ln.text.strip() if not ln.is_item else "  " * _level(ln, stack) + ln.text.strip()
            )
            continue
        if not phase.real_tasks:
            phase.body.append(ln.text)
        elif ln.text.strip():
            phase.tasks.append(DraftTask(ln.text, raw=True))
            last, stack = None, []


def _level(ln: Line, stack: list[int]) -> int:
    return max(0, sum(1 for indent in stack if indent < ln.indent) - 1)


def _strip(task: DraftTask, phase: DraftPhase, draft: Draft, ln: Line) -> None:
    """Drop a ``1.2`` id that equals phaser's ref for the task; keep (and say) one that differs."""
    index = len(phase.real_tasks) + 1
    want = f"{phase.number}.{index}" if "." not in phase.number else f"{phase.number}#{index}"
    found = split_id(task.text)
    if found is None or "." not in found[0]:
        return
    if found[0] in (want, f"{phase.number}.{index}"):
        task.text = found[1]
    else:
        draft.mapped.append(
            f"line {ln.number}: task {found[0]} is {want} in phaser; its id stays in the text"
        )
