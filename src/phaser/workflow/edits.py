"""A person's edits to a plan (CLI `tick`/`note`, TUI toggles), all through the safe edit path."""

from __future__ import annotations

from phaser.errors import UsageError
from phaser.plan.edit import AppendNote, SetTask
from phaser.plan.model import Task
from phaser.plan.refs import split_ref
from phaser.plan.store import edit_plan, read_plan
from phaser.workflow.project import Project


def parse_ref(ref: str) -> tuple[int, int]:
    parts = split_ref(ref)
    if parts is None:
        raise UsageError(f"task reference {ref!r} is not P.T (phase number, dot, task number), e.g. 2.3")
    return parts


def tick(project: Project, slug: str | None, ref: str, checked: bool = True) -> Task:
    """Check or uncheck task ``ref``; the line is located again under the lock if the file moved on."""
    info = project.plan_spec(slug)
    phase_no, index = parse_ref(ref)
    plan = read_plan(info.plan_path)
    phase = plan.phase(phase_no)
    if phase is None:
        raise UsageError(f"{project.rel(info.plan_path)}: no phase {phase_no}")
    task = phase.task(index)
    if task is None:
        raise UsageError(
            f"{project.rel(info.plan_path)}: phase {phase_no} has {len(phase.tasks)} tasks, no task {index}"
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
    plan = read_plan(info.plan_path)
    if plan.phase(phase) is None:
        raise UsageError(f"{project.rel(info.plan_path)}: no phase {phase}")
    edit_plan(info.plan_path, AppendNote(phase, text), base=plan.text)
