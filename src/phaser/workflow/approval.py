"""Checkpoints: a human approves a done phase, or rejects it with feedback that reopens it."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

from phaser.errors import PhaserError, UsageError
from phaser.plan.edit import AddTask, AppendNote, Op, SetMeta
from phaser.plan.store import edit_plan, read_plan
from phaser.stamps import utc_stamp
from phaser.workflow.checks import checked_plan
from phaser.workflow.project import Project


def _today() -> str:
    return utc_stamp()


def approve(project: Project, slug: str | None, phase: int | None = None) -> list[int]:
    """Record approval (``approved: <date>``) on ``phase``, or on every done phase still waiting."""
    info = project.plan_spec(slug)
    plan = checked_plan(project, info)
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
    plan = checked_plan(project, info)
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


@dataclass
class CheckpointFacts:
    """What a person needs to judge a done phase: its commit, the commit's --stat, the gate results
    of its last run and its notes."""

    slug: str
    phase: int
    title: str
    commit: str | None = None
    diff_stat: str = ""
    """``git show --stat`` of the phase's commit, or why it could not be read."""
    gates: list[dict] = field(default_factory=list)
    """GateResult.as_dict() rows of the phase's last run."""
    notes: list[str] = field(default_factory=list)


GIT_TIMEOUT_S = 10.0


def git_show(root, commit: str, *args: str, timeout: float = GIT_TIMEOUT_S) -> str:
    """``git show <args> <commit>`` in ``root``; on failure or timeout, a line that says so."""
    try:
        proc = subprocess.run(
            ["git", "show", *args, commit], cwd=root, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"(git show {commit[:10]} took more than {timeout:g} s)"
    except OSError as exc:
        return f"(git show: {exc.strerror or exc})"
    return proc.stdout.rstrip() if proc.returncode == 0 else proc.stderr.strip()


def last_gates(project: Project, slug: str, phase: int) -> list[dict]:
    """The gate results of the phase's last recorded run, from the run journals."""
    from phaser.workflow.cost import cost_report

    try:
        report = cost_report(project, slug)
    except PhaserError:
        return []
    runs = [r for p in report.plans for r in p.get("runs", []) if str(r.get("phase")) == str(phase)]
    return list(runs[-1].get("gates") or []) if runs else []


def checkpoint_facts(
    project: Project, slug: str, phase: int, *, known: dict | None = None
) -> CheckpointFacts:
    """The facts of phase ``phase`` of ``slug``; ``known``: the phase's outcome from a run this
    process just made (its commit and gates), when there is one."""
    from phaser.workflow import git

    info = project.plan_spec(slug)
    target = read_plan(info.plan_path).phase(phase)
    title = target.title if target else ""
    notes = list(target.notes) if target else []
    commit = (known or {}).get("commit")
    gates = list((known or {}).get("gates") or [])
    root = project.root
    if commit is None and git.is_repo(root):
        commit = git.phase_commits(root, slug, {phase: title}).get(phase)
    if not gates:
        gates = last_gates(project, slug, phase)
    stat = git_show(root, commit, "--stat", "--format=%h %s") if commit else ""
    return CheckpointFacts(slug, phase, title, commit, stat, gates, notes)


def phase_diff(project: Project, commit: str) -> str:
    """The full patch of a phase's commit, to read at a checkpoint."""
    return git_show(project.root, commit, "--format=%h %s%n", "--patch", "--stat")
