"""Checkpoints: a human approves a done phase, or rejects it with feedback that reopens it."""

from __future__ import annotations

from phaser.errors import UsageError
from phaser.plan.edit import AddTask, AppendNote, Op, SetMeta
from phaser.plan.store import edit_plan, read_plan
from phaser.stamps import utc_stamp
from phaser.workflow.project import Project


def _today() -> str:
    return utc_stamp()


def approve(project: Project, slug: str | None, phase: int | None = None) -> list[int]:
    """Record approval (``approved: <date>``) on ``phase``, or on every done phase still waiting."""
    info = project.plan_spec(slug)
    plan = read_plan(info.plan_path)
    if phase is not None:
        target = plan.phase(phase)
        if target is None:
            raise UsageError(f"{project.rel(info.plan_path)}: no phase {phase}")
        if not target.done:
            raise UsageError(
                f"{project.rel(info.plan_path)}: phase {phase} is not done yet; nothing to approve"
            )
        numbers = [] if target.approved else [phase]
    else:
        numbers = [p.number for p in plan.phases if p.done and p.status != "skipped" and not p.approved]
    if numbers:
        edit_plan(info.plan_path, *[SetMeta(n, "approved", _today()) for n in numbers], base=plan.text)
    return numbers


def reject(project: Project, slug: str | None, phase: int, feedback: str) -> None:
    """The feedback becomes a note and an open task, so the phase is no longer done and runs again."""
    feedback = " ".join(feedback.split())
    if not feedback:
        raise UsageError("rejecting needs feedback: say what to change")
    info = project.plan_spec(slug)
    plan = read_plan(info.plan_path)
    target = plan.phase(phase)
    if target is None:
        raise UsageError(f"{project.rel(info.plan_path)}: no phase {phase}")
    ops: list[Op] = [
        AppendNote(phase, f"rejected {_today()}: {feedback}"),
        AddTask(phase, f"Address review feedback: {feedback}"),
        SetMeta(phase, "approved", None),
    ]
    if target.status in ("done", "blocked"):
        ops.append(SetMeta(phase, "status", None))
    edit_plan(info.plan_path, *ops, base=plan.text)
