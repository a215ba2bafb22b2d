"""Task Master ``tasks.json``: each task becomes a phase, its subtasks the phase's tasks.

Both layouts are read: ``{"tasks": [...]}`` and the tagged ``{"master": {"tasks": [...]}}`` (every
tag, in file order). Status maps to a box: done -> ``[x]``, in-progress/review -> ``[-]``,
blocked -> ``[~]``, pending -> ``[ ]``; a cancelled or deferred task becomes a skipped phase (a
subtask with that status stays open, and a note says so). ``dependencies`` become ``depends``
(a subtask's ``"1.2"`` style ones, and those on other subtasks, are kept as notes). A task's
description is the phase's prose; its details and test strategy become notes.
"""

from __future__ import annotations

import json
from typing import Any

from phaser.errors import UsageError
from phaser.workflow.importers.draft import Draft, DraftPhase, DraftTask

KIND = "taskmaster"
_STATE = {
    "done": "done",
    "completed": "done",
    "in-progress": "active",
    "review": "active",
    "blocked": "blocked",
}
_SKIP = ("cancelled", "canceled", "deferred")


def convert(text: str) -> Draft:
    try:
        data = json.loads(text.removeprefix("\ufeff"))
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        raise UsageError(f"line {line}: not valid JSON ({getattr(exc, 'msg', exc)})") from None
    tagged = _tasks(data)
    draft = Draft(KIND, "Task Master tasks")
    used: set[str] = set()
    for tag, tasks in tagged:
        if len(tagged) > 1:
            draft.mapped.append(f"tag '{tag}': {len(tasks)} tasks")
        for task in tasks:
            _phase(draft, task, used)
    ids = {p.number for p in draft.phases}
    for phase in draft.phases:
        missing = [d for d in phase.depends if d not in ids]
        if missing:
            phase.depends = [d for d in phase.depends if d in ids]
            draft.unmapped.append(
                f"task {phase.number}: depends on {', '.join(missing)}, not in the file; dropped"
            )
    return draft


def _tasks(data: Any) -> list[tuple[str, list[dict]]]:
    if isinstance(data, dict) and isinstance(data.get("tasks"), list):
        return [("master", data["tasks"])]
    if isinstance(data, dict):
        tags = [
            (k, v["tasks"])
            for k, v in data.items()
            if isinstance(v, dict) and isinstance(v.get("tasks"), list)
        ]
        if tags:
            return tags
    raise UsageError('not a Task Master tasks.json: no "tasks" list (nor a tag holding one)')


def _phase(draft: Draft, task: Any, used: set[str]) -> None:
    if not isinstance(task, dict) or not str(task.get("title", "")).strip():
        draft.unmapped.append(f"a task without a title ({str(task)[:40]}): left out")
        return
    ident = str(task.get("id", "")).strip()
    number = (
        ident if ident.isdigit() and ident not in used else str(max((int(u) for u in used), default=0) + 1)
    )
    if ident and ident != number:
        draft.mapped.append(f"task id {ident} -> Phase {number}")
    used.add(number)
    title = " ".join(str(task["title"]).split())
    status = str(task.get("status", "pending")).strip().lower()
    phase = DraftPhase(number, title)
    if status in _SKIP:
        phase.status = "skipped"
        phase.notes.append(f"Task Master status: {status}")
    elif status == "blocked":
        phase.status = "blocked"
    phase.depends = [str(d) for d in task.get("dependencies") or [] if str(d).isdigit()]
    if task.get("description"):
        phase.body = [" ".join(str(task["description"]).split())]
    for key, label in (("details", "Details"), ("testStrategy", "Test strategy")):
        if str(task.get(key) or "").strip():
            phase.notes.append(f"{label}: {' '.join(str(task[key]).split())}")
    if task.get("priority"):
        phase.notes.append(f"Priority: {task['priority']}")
    subtasks = [s for s in task.get("subtasks") or [] if isinstance(s, dict)]
    for index, sub in enumerate(subtasks, start=1):
        text = " ".join(str(sub.get("title", "")).split()) or f"subtask {sub.get('id', index)}"
        sub_status = str(sub.get("status", "pending")).strip().lower()
        item = DraftTask(text, _STATE.get(sub_status, "open"))
        sid = str(sub.get("id", index))
        if sid != str(index):
            item.text = f"{text} (Task Master {ident}.{sid})"
        if sub_status in _SKIP:
            phase.notes.append(f"Task {number}.{index} was {sub_status} in Task Master (kept open)")
            draft.unmapped.append(
                f"subtask {ident}.{sid}: status '{sub_status}' has no box; kept open, noted"
            )
        if sub.get("description"):
            item.details.append(" ".join(str(sub["description"]).split()))
        deps = [str(d) for d in sub.get("dependencies") or []]
        if deps:
            phase.notes.append(
                f"Task {number}.{index} depends on {', '.join(deps)} (Task Master subtask ids)"
            )
        phase.tasks.append(item)
    if not subtasks:
        phase.tasks.append(DraftTask(title, _STATE.get(status, "done" if status in _SKIP else "open")))
        if status in _SKIP:
            phase.tasks[-1].state = "open"
    draft.phases.append(phase)
    draft.mapped.append(f"task {ident or number} -> Phase {number}: {title} ({len(phase.tasks)} tasks)")
