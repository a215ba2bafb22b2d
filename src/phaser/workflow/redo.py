"""`phaser redo N`: back to the commit before phase N, untick it, run it again (e.g. on another model).
Both attempts stay in the journal, so `phaser cost` and `phaser log` compare them."""

from __future__ import annotations

from dataclasses import replace

from phaser import events as ev
from phaser.agent.confine.policy import resolve_backend
from phaser.errors import UsageError
from phaser.outcomes import Action, Hint
from phaser.plan.edit import AppendNote, Op, SetMeta, SetTask
from phaser.plan.model import Phase
from phaser.plan.store import atomic_write, edit_plan
from phaser.stamps import utc_stamp
from phaser.workflow import git
from phaser.workflow.locks import plan_run_lock
from phaser.workflow.phase import PhaseOutcome
from phaser.workflow.project import Project
from phaser.workflow.providers import RunOptions, make_provider
from phaser.workflow.runner import check_tree, load_plan, run_locked


def redo(
    project: Project,
    slug: str | None,
    number: int,
    *,
    force: bool = False,
    options: RunOptions | None = None,
    on_event: ev.EventSink = ev.ignore,
) -> PhaseOutcome:
    """Everything that can refuse (plan, phase, commits, provider, dirty tree, another run) is
    checked before the tree is touched; the reset and the new run happen under the plan's lock."""
    options = options or RunOptions()
    info = project.plan_spec(slug)
    root = project.root
    if not git.is_repo(root):
        raise UsageError("phaser redo needs a git repository (it resets to the commit before the phase)")
    plan = load_plan(project, info)
    phase = plan.phase(number)
    if phase is None:
        raise UsageError(f"{project.rel(info.plan_path)}: no phase {number}")
    history = git.phase_history(root, info.slug)
    own = git.commits_of(history, number, phase.title)
    if not own:
        raise UsageError(
            f"no commit of phase {number} ({phase.title}) found: "
            "phaser commits each phase that passes its gates"
        )
    first = own[-1]  # its oldest commit: an incomplete run may have come before the passing one
    later = [c for c in git.commits_touching_since(root, first) if c.split(" ", 1)[0] not in own]
    if later and not force:
        shown = "; ".join(line.split(" ", 1)[1] for line in later[:3])
        raise UsageError(
            f"{len(later)} later commit(s) build on phase {number} ({shown})",
            hints=[Hint(Action.REDO_FORCE, number, info.slug)],
        )
    before = git.parent(root, first)
    if before is None:
        raise UsageError(
            f"phase {number}'s commit {first[:10]} is the repository's first commit: "
            "there is nothing before it to reset to"
        )
    resolve_backend(project.config.agent.sandbox)  # fail closed before the reset and any request
    provider = make_provider(project, options)  # a bad script or a missing key: refused here
    from phaser.workflow import wave_recovery  # what a killed parallel run left

    wave_pending = wave_recovery.pending(project, info) is not None
    if not wave_pending:  # else checked once that is put right, under the lock (see preflight.check)
        check_tree(project, info, options)
    with plan_run_lock(project, info.slug):
        if wave_pending:
            wave_recovery.recover_wave(project, info, on_event)
            check_tree(project, info, options)
        dropped = {line.split(" ", 1)[0] for line in later}
        invalidated = sorted(
            {(c.number, c.commit) for c in history if c.commit in dropped and c.number != number}
        )
        plan_text = info.plan_path.read_text(encoding="utf-8")
        git.reset_hard(root, before)
        atomic_write(info.plan_path, plan_text)  # the plan keeps every note and edit made since
        stamp = utc_stamp()
        model = f" on {options.model}" if options.model else ""
        ops = _undo_ops(
            phase,
            f"redo {stamp}{model}: reset to {first[:10]}^, "
            f"so the attempt verified above (commit {own[0][:10]}) "
            "is undone; it stays in the journal",
        )
        for n, c in invalidated:  # --force dropped their commits: their ticks no longer hold
            dropped_phase = plan.phase(n)
            if dropped_phase is not None:
                ops += _undo_ops(
                    dropped_phase,
                    f"invalidated {stamp}: phaser redo {number} --force dropped "
                    f"this phase's commit {c[:10]}; "
                    "run it again",
                )
        edit_plan(info.plan_path, *ops)
        if invalidated:
            shown = ", ".join(str(n) for n in sorted({n for n, _ in invalidated}))
            on_event(
                ev.Notice(f"phase {shown}: commit dropped by --force; unticked, to run again", "warning")
            )
        again = replace(options, allow_dirty=True)
        return run_locked(project, info, number, again, on_event, None, provider)


def _undo_ops(phase: Phase, note: str) -> list[Op]:
    """Untick a phase (its evidence no longer holds), clear its approval and status, say why."""
    ops: list[Op] = [SetTask(t.ref, False, expect_text=t.text) for t in phase.tasks if t.checked]
    ops += [SetMeta(phase.number, "approved", None), SetMeta(phase.number, "status", None)]
    return ops + [AppendNote(phase.number, note)]
