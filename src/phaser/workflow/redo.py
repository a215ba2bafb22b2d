"""`phaser redo N`: back to the commit before phase N, untick it, run it again (e.g. on another model).
Both attempts stay in the journal, so `phaser cost` and `phaser log` compare them."""

from __future__ import annotations

import datetime as dt

from phaser import events as ev
from phaser.errors import UsageError
from phaser.plan.edit import AppendNote, SetMeta, SetTask
from phaser.plan.store import atomic_write, edit_plan, read_plan
from phaser.workflow import git
from phaser.workflow.phase import PhaseOutcome
from phaser.workflow.project import Project
from phaser.workflow.providers import RunOptions
from phaser.workflow.runner import _check_tree, run_next


def redo(
    project: Project,
    slug: str | None,
    number: int,
    *,
    force: bool = False,
    options: RunOptions | None = None,
    on_event: ev.EventSink = ev.ignore,
) -> PhaseOutcome:
    options = options or RunOptions()
    info = project.plan_spec(slug)
    root = project.root
    if not git.is_repo(root):
        raise UsageError("phaser redo needs a git repository (it resets to the commit before the phase)")
    plan = read_plan(info.plan_path)
    phase = plan.phase(number)
    if phase is None:
        raise UsageError(f"{project.rel(info.plan_path)}: no phase {number}")
    commit = git.find_phase_commit(root, info.slug, number)
    if commit is None:
        raise UsageError(
            f"no commit of phase {number} found (phaser commits each phase that passes its gates)"
        )
    later = git.commits_touching_since(root, commit)
    if later and not force:
        shown = "; ".join(line.split(" ", 1)[1] for line in later[:3])
        raise UsageError(
            f"{len(later)} later commit(s) build on phase {number} ({shown}): pass --force to drop them"
        )
    _check_tree(project, info, options)
    dropped = {line.split(" ", 1)[0] for line in later}
    invalidated = sorted(
        (n, c) for n, c in git.phase_commits(root, info.slug).items() if c in dropped and n != number
    )
    plan_text = info.plan_path.read_text(encoding="utf-8")
    git.reset_hard(root, f"{commit}^")
    atomic_write(info.plan_path, plan_text)  # the plan keeps every note and edit made since
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    model = f" on {options.model}" if options.model else ""
    ops = _undo_ops(
        phase,
        f"redo {stamp}{model}: reset to {commit[:10]}^, so the attempt verified above (commit {commit[:10]}) "
        "is undone; it stays in the journal",
    )
    for n, c in invalidated:  # --force dropped their commits: their ticks no longer hold
        ops += _undo_ops(
            plan.phase(n),
            f"invalidated {stamp}: phaser redo {number} --force dropped this phase's commit {c[:10]}; "
            "run it again",
        )
    edit_plan(info.plan_path, *ops)
    if invalidated:
        shown = ", ".join(str(n) for n, _ in invalidated)
        on_event(ev.Notice(f"phase {shown}: commit dropped by --force; unticked, to run again", "warning"))
    return run_next(
        project,
        info.slug,
        phase=number,
        options=RunOptions(**{**options.__dict__, "allow_dirty": True}),
        on_event=on_event,
    )


def _undo_ops(phase, note: str) -> list:
    """Untick a phase (its evidence no longer holds), clear its approval and status, say why."""
    ops: list = [SetTask(t.ref, False, expect_text=t.text) for t in phase.tasks if t.checked]
    ops += [SetMeta(phase.number, "approved", None), SetMeta(phase.number, "status", None)]
    return ops + [AppendNote(phase.number, note)]
