"""A person's edits to a plan (CLI `tick`/`note`, TUI toggles), all through the safe edit path."""

from __future__ import annotations

from phaser.errors import EditConflict, UsageError
from phaser.plan import refs
from phaser.plan.edit import AppendNote, SetTask
from phaser.plan.model import Task
from phaser.plan.store import edit_plan
from phaser.workflow.checks import checked_plan
from phaser.workflow.project import Project


def parse_ref(ref: str) -> tuple[int, int]:
    """``2.3`` or ``3.5#2`` -> (phase, task); the one parser lives in phaser.plan.refs."""
    return refs.parse_ref(ref)


def tick(
    project: Project, slug: str | None, ref: str, checked: bool = True, *, expect_text: str | None = None
) -> Task:
    """Check or uncheck task ``ref``; the line is located again under the lock if the file moved on.

    ``expect_text``: the task's text as the person saw it (the TUI); when the file on disk has
    another task at ``ref``, nothing is written and an ``EditConflict`` says so.
    """
    info = project.plan_spec(slug)
    phase_no, index = parse_ref(ref)
    plan = checked_plan(project, info)
    phase = plan.phase(phase_no)
    if phase is None:
        raise UsageError(f"{project.rel(info.plan_path)}: no phase {phase_no}")
    task = phase.task(index)
    if task is None:
        raise UsageError(
            f"{project.rel(info.plan_path)}: phase {phase_no} has {len(phase.tasks)} tasks, no task {index}"
        )
    if expect_text is not None and task.text != expect_text:
        raise EditConflict(
            f"{project.rel(info.plan_path)} changed on disk: task {ref} is not what was shown; nothing was "
            "written"
        )
    if task.checked == checked:
        return task
    new = edit_plan(info.plan_path, SetTask(task.ref, checked, expect_text=task.text), base=plan.text)
    now = new.phase(phase_no) if new is not None else None
    for t in now.tasks if now is not None else []:
        if t.text == task.text:
            return t
    return task


def note(project: Project, slug: str | None, phase: int, text: str) -> None:
    info = project.plan_spec(slug)
    text = " ".join(text.split())
    if not text:
        raise UsageError("an empty note says nothing")
    plan = checked_plan(project, info)
    if plan.phase(phase) is None:
        raise UsageError(f"{project.rel(info.plan_path)}: no phase {phase}")
    edit_plan(info.plan_path, AppendNote(phase, text), base=plan.text)
