"""How a phase run ends once its attempts are over: blocked (red gates, or something planted in
.git), or green: what was claimed is ticked, the evidence stamped, the change committed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from phaser import events as ev
from phaser.agent.snapshot import Snapshot, restore
from phaser.outcomes import Action, Hint, Outcome
from phaser.plan.edit import AppendNote, SetMeta
from phaser.plan.model import Phase
from phaser.stamps import utc_stamp
from phaser.workflow import git
from phaser.workflow.checkoff import (
    Evidence,
    check_off_ops,
    claims_to_ops,
    commit_message,
    commit_phase,
    evidence_stamp,
    uncommitted_stat,
)
from phaser.workflow.gates import describe
from phaser.workflow.phase_outcome import Attempt, PhaseOutcome, patch_size
from phaser.workflow.resume import changed_paths, clear_active, save_patch

if TYPE_CHECKING:
    from phaser.workflow.phase import PhaseRun

__all__ = ["block", "complete", "discard"]


def discard(run: PhaseRun, a: Attempt, before: Snapshot, why: str) -> None:
    """Put the tree back to its state before the phase; the attempt's changes go to a patch."""
    paths = changed_paths(run.root, before, exclude=[run.info.plan_path])
    patch = save_patch(run.root, before, Path(a.journal.run_dir), paths)
    a.undone = patch_size(patch, len(paths))
    restore(run.root, before, paths)
    run.on_event(
        ev.Notice(f"{why}: the attempt's changes were undone (kept in {run.project.rel(patch)})", "warning")
    )


def _mark_blocked(run: PhaseRun, out: PhaseOutcome, why: str, detail: str) -> None:
    """The phase's status line says blocked, its notes say why; the line stops there."""
    run.plan.edit(SetMeta(run.number, "status", "blocked"), AppendNote(run.number, why[:600]))
    clear_active(run.cfg.state_dir, run.info.slug)
    out.outcome, out.detail = Outcome.BLOCKED, detail
    out.hints = [Hint(Action.RUN_PHASE, run.number, run.info.slug)]


def block(run: PhaseRun, out: PhaseOutcome, a: Attempt, before: Snapshot) -> PhaseOutcome:
    """The gates stayed red after every fix attempt on every model."""
    discard(run, a, before, "gates stayed red")
    already = [g.command for g in a.gates if not g.ok and g.command in run.gates.red_before]
    prior = f" ({', '.join(f'`{c}`' for c in already)} already red before the phase)" if already else ""
    models = ", ".join(dict.fromkeys(m for m in [run.model, a.model] if m))
    why = (
        f"blocked {utc_stamp()}{prior}: gates still red after {run.cfg.gates.fix_attempts} fix attempts "
        f"on {models}: {describe(a.gates)}"
    )
    _mark_blocked(run, out, why, "gates stayed red; the phase is marked status: blocked")
    return run.finish(out, a)


def _planted(
    run: PhaseRun, out: PhaseOutcome, a: Attempt, before: Snapshot, planted: list[str]
) -> PhaseOutcome:
    """Something in the phase changed .git/hooks or .git/config: restored, the line stops."""
    discard(run, a, before, "git hooks or config changed during the phase")
    what = "; ".join(planted)
    why = f"blocked {utc_stamp()}: planted in .git during the phase (restored, nothing committed): {what}"
    a.journal.write("git_planted", planted=planted)
    _mark_blocked(run, out, why, f"planted in .git during the phase, restored, nothing committed: {what}")
    return run.finish(out, a)


def _unchanged(run: PhaseRun, phase: Phase, out: PhaseOutcome, before: Snapshot) -> bool:
    """Whether the phase changed no file outside the plan (and needed to): green gates on such a
    tree prove nothing about its claims."""
    plan_rel = run.plan.rel
    unchanged = not uncommitted_stat([p for p in changed_paths(run.root, before) if p != plan_rel])["files"]
    unchanged = unchanged and not phase.no_code_change
    if unchanged and run.repo:  # a re-run of an incomplete phase: its earlier run's commit holds the work
        unchanged = not git.phase_commits(run.root, run.info.slug, {run.number: out.title})
    return unchanged


def _record(run: PhaseRun, out: PhaseOutcome, a: Attempt, before: Snapshot, stamp: str) -> None:
    """Commit the phase's change with its plan (or, outside git, say nothing was committed)."""
    plan_rel = run.plan.rel
    paths = sorted(set(changed_paths(run.root, before)) | {plan_rel})
    work = [p for p in paths if p != plan_rel]
    if not run.repo:
        out.diff = uncommitted_stat(work)
        run.on_event(
            ev.Notice(
                f"{run.root} is not a git repository: phaser committed nothing; the phase's changes "
                "are in the tree, unrecorded (git init to have each phase committed)",
                "warning",
            )
        )
        return
    message = commit_message(run.info.slug, run.number, out.title, stamp)
    committed = commit_phase(run.root, message, paths, plan_rel, guard=run.guard)
    out.commit, out.diff = committed.commit, committed.diff
    mixed = sorted(set(work) & run.dirty_before)
    if mixed:
        more = f" and {len(mixed) - 5} more" if len(mixed) > 5 else ""
        run.on_event(
            ev.Notice(
                "the commit includes uncommitted changes made before the phase in "
                + ", ".join(mixed[:5])
                + more,
                "warning",
            )
        )
    a.journal.write("commit", commit=out.commit, paths=paths, mixed=mixed)


def _word(run: PhaseRun, out: PhaseOutcome, done: Phase, unverified: bool) -> None:
    """The outcome of a green phase: passed, incomplete, or unverified (and why)."""
    no_gates = not run.cfg.gates.commands
    claimed = ", ".join(out.claimed) or "(none)"
    if unverified and not no_gates:
        out.outcome = Outcome.UNVERIFIED
        out.detail = (
            f"the code step changed no file outside the plan, so green gates prove nothing about claims "
            f"{claimed}; nothing was ticked (a phase that needs no code change says `changes: none`); "
            "review the change and tick by hand"
        )
        out.hints = [Hint(Action.TICK, run.number, run.info.slug)]
    elif unverified:
        out.outcome = Outcome.UNVERIFIED
        out.detail = (
            f"no gates configured ([gates] commands), so claims {claimed} were not ticked; "
            "review the commit and tick by hand"
        )
        out.hints = [
            Hint(Action.TICK, run.number, run.info.slug),
            Hint(Action.CONFIGURE_GATES, None, run.info.slug),
        ]
    elif done.done:
        out.outcome, out.detail = Outcome.PASSED, f"{len(out.ticked)} task(s) checked off after green gates"
    else:
        left = [t.ref for t in done.tasks if not t.checked]
        out.outcome = Outcome.INCOMPLETE
        out.detail = f"gates green, but tasks {', '.join(left)} were not claimed done; review the plan"


def complete(
    run: PhaseRun, out: PhaseOutcome, a: Attempt, base: str | None, before: Snapshot
) -> PhaseOutcome:
    """Green gates: tick what was claimed, stamp the evidence, commit the phase's change."""
    assert a.session is not None
    planted = run.guard.restore() if run.guard is not None else []
    if planted:
        return _planted(run, out, a, before, planted)
    toolbox = a.session.toolbox
    phase = run.plan.phase(run.number)
    claims = claims_to_ops(phase, toolbox.claims, toolbox.claimed_text)
    if claims.lost:
        run.on_event(
            ev.Notice(
                f"claimed task(s) {', '.join(claims.lost)} are no longer in phase {run.number} as claimed; "
                "not ticked",
                "warning",
            )
        )
    # nothing but the model's word (no gates), or green gates on a tree the phase did not touch:
    # record the claims, tick nothing
    no_gates = not run.cfg.gates.commands
    unchanged = _unchanged(run, phase, out, before)
    unverified = no_gates or unchanged
    out.claimed = claims.claimed
    out.ticked = [] if unverified else [op.ref for op in claims.ticks]
    spent = run.spent(a)
    evidence = Evidence(
        gates=a.gates,
        model=a.model,
        first_model=run.model,
        usage=run.usage + a.session.usage,  # every attempt
        cost_usd=spent.usd,
        claimed=claims.claimed,
        number=run.number,
        title=out.title,
        base=base,
        confinement=run.confinement.backend,
    )
    why = None if no_gates or not unchanged else "the code step changed no file outside the plan"
    stamp = evidence_stamp(evidence, unverified=unverified, why=why)
    new_plan = run.plan.edit(*check_off_ops(phase, claims, stamp, unverified=unverified))
    done = run.plan.phase(run.number, new_plan)
    _record(run, out, a, before, stamp)
    clear_active(run.cfg.state_dir, run.info.slug)
    _word(run, out, done, unverified)
    return run.finish(out, a)
