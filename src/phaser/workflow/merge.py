"""Merging a parallel lane back, one at a time in phase order: merge its branch onto the current
head, run the gates on the merged tree, then tick with evidence and commit, as a phase alone does.
A conflict or a red gate after the merge stops that phase's line: the merge is aborted (the head
and tree are as before), the phase is marked blocked with its branch and worktree named in the
note, and both are kept for a person.

Everything here works from the lane's record (``wave.json``), not from memory, so a lane that was
READY when a run was killed merges the same way on the next run.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from phaser import events as ev
from phaser.agent.confine.policy import Choice, build, harness_readonly, protected_files
from phaser.agent.journal import Journal
from phaser.agent.provider import Usage
from phaser.agent.sandbox import safe_env
from phaser.errors import PhaserError, RunStopped
from phaser.outcomes import Action, Hint, Outcome
from phaser.plan.edit import AppendNote, SetMeta
from phaser.stamps import utc_stamp
from phaser.workflow import git, merge_git, worktrees
from phaser.workflow.checkoff import Evidence, check_off_ops, claims_to_ops, commit_message, evidence_stamp
from phaser.workflow.gates import GateResult, audit, describe, run_gates
from phaser.workflow.git_guard import GitGuard
from phaser.workflow.phase_outcome import PhaseOutcome
from phaser.workflow.plan_file import PlanFile
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.worktrees import Lane, WaveRecord


@dataclass
class MergeContext:
    project: Project
    info: SpecInfo
    record: WaveRecord
    confinement: Choice
    on_event: ev.EventSink
    stop_event: threading.Event | None = None

    @property
    def plan(self) -> PlanFile:
        return PlanFile(self.info.plan_path, self.project.rel(self.info.plan_path))


def _usage(data: dict) -> Usage:
    keys = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    return Usage(**{k: int(data.get(k) or 0) for k in keys}, cache_known=not data.get("cache_unknown"))


def _gate(data: dict) -> GateResult:
    return GateResult(**{k: v for k, v in data.items() if k in GateResult.__dataclass_fields__})


def outcome_of(ctx: MergeContext, lane: Lane) -> PhaseOutcome:
    """The lane's phase outcome with its figures (every attempt), before the merge decides it."""
    w = lane.work
    return PhaseOutcome(
        ctx.info.slug,
        lane.number,
        w.get("title", ""),
        Outcome.ERROR,
        model=w.get("model", ""),
        attempts=int(w.get("attempts") or 1),
        usage=dict(w.get("usage") or {}),
        cost_usd=float(w.get("cost_usd") or 0.0),
        turns=int(w.get("turns") or 0),
        run_dir=w.get("rel_run_dir", ""),
        violations=int(w.get("violations") or 0),
    )


def keep_journals(project: Project, lane: Lane) -> None:
    """Copy the lane's journals (in its worktree's .phaser/) into the main checkout's, where
    `phaser log`, `cost` and `show` read them; before its worktree goes."""
    src = lane.worktree / ".phaser" / "runs"
    if src.is_dir():
        shutil.copytree(src, project.config.state_dir / "runs", dirs_exist_ok=True)


def cleanup(project: Project, lane: Lane, record: WaveRecord) -> None:
    """A merged (or discarded) lane: journals kept, worktree and branch removed, record dropped."""
    keep_journals(project, lane)
    worktrees.remove(project.root, lane)
    record.drop(lane.number)


def _finish(ctx: MergeContext, out: PhaseOutcome, journal: Journal | None) -> PhaseOutcome:
    if journal is not None:
        journal.write("outcome", **out.as_dict())
        journal.close()
    event = ev.PhaseFinished(ctx.info.slug, out.phase, out.outcome, out.detail, out.as_dict())
    event.lane = out.phase
    ctx.on_event(event)
    return out


def take_back(ctx: MergeContext, lane: Lane) -> None:
    """The lane's merge, if one is in progress, taken back: what it wrote goes, a person's edit
    made meanwhile stays (`merge_git.undo_merge`)."""
    root = ctx.project.root
    if not merge_git.merge_in_progress(root):
        return
    if not lane.head_before:
        merge_git.abort_merge(root)
        return
    kept = merge_git.undo_merge(root, lane.head_before, lane.merged_tree)
    if kept:
        ctx.on_event(
            ev.Notice(
                f"phase {lane.number}: {', '.join(kept[:5])} changed during its merge and keep your "
                "version (uncommitted)",
                "warning",
            )
        )


def block(
    ctx: MergeContext, lane: Lane, out: PhaseOutcome, why: str, journal: Journal | None
) -> PhaseOutcome:
    """Stop this phase's line: blocked, its branch and worktree kept and named in the note."""
    take_back(ctx, lane)
    kept = f"branch {lane.branch} and worktree {ctx.project.rel(lane.worktree)} kept"
    note = f"blocked {utc_stamp()}: {why}; {kept}"
    ctx.plan.edit(SetMeta(lane.number, "status", "blocked"), AppendNote(lane.number, note[:600]))
    ctx.record.set(lane.number, worktrees.BLOCKED)
    keep_journals(ctx.project, lane)
    if journal is not None:
        journal.write("merge_blocked", reason=why, branch=lane.branch, worktree=str(lane.worktree))
    out.outcome, out.detail = Outcome.BLOCKED, f"{why}; the phase is marked status: blocked ({kept})"
    out.hints = [Hint(Action.RUN_PHASE, lane.number, ctx.info.slug)]
    return _finish(ctx, out, journal)


def _gates_after_merge(ctx: MergeContext, lane: Lane) -> list[GateResult]:
    """The gates on the merged tree, confined as a phase's gates are (the main checkout's root)."""
    cfg, root = ctx.project.config, ctx.project.root
    phase = ctx.plan.read().phase(lane.number)
    unprotect = phase.unprotect if phase is not None else []
    protected = protected_files(root, unprotect, cfg.protect.paths)
    policy = build(
        root,
        ctx.confinement,
        read_only=False,
        readonly=harness_readonly(root, ctx.info.plan_path, protected),
        protected=protected,
        network=cfg.gates.network,
        credential_extra=cfg.agent.credential_paths,
        kind="gate",
    )
    kept = {p: p.read_bytes() for p in policy.protected if p.is_file()}
    baseline = [_gate(g) for g in lane.work.get("baseline") or []]
    ctx.on_event(_tagged(ev.StepStarted("gates"), lane.number))
    results = audit(
        run_gates(cfg.gates.commands, root, cfg.gates.timeout_s, safe_env(), ctx.stop_event, policy),
        baseline,
        [],
        unprotect,
    )
    for path, data in kept.items():  # a gate may not change a protected file, here either
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            for r in results:
                r.ok, r.summary = False, f"{r.summary}: the gate changed protected files (restored)"
    for g in results:
        ctx.on_event(
            _tagged(
                ev.GateFinished(g.command, g.ok, g.summary, g.output_tail if not g.ok else ""), lane.number
            )
        )
    return results


def _tagged(event: ev.Event, number: int) -> ev.Event:
    event.lane = number
    return event


def merge_lane(ctx: MergeContext, lane: Lane, guard: GitGuard) -> PhaseOutcome:
    """Merge one READY lane onto the head: gates on the merged tree, tick, commit."""
    project, root, cfg = ctx.project, ctx.project.root, ctx.project.config
    w = lane.work
    out = outcome_of(ctx, lane)
    journal = Journal(Path(w["run_dir"])) if Path(w.get("run_dir", "")).parent.is_dir() else None
    plan_rel = ctx.plan.rel
    head_before = git.head(root)
    ctx.record.set(lane.number, worktrees.MERGING, head_before=head_before)
    try:
        plan = ctx.plan.read()
        phase = ctx.plan.phase(lane.number, plan)
    except PhaserError as exc:  # renumbered or removed while it ran
        return block(ctx, lane, out, str(exc), journal)
    gates: list[GateResult] = []
    if w.get("commit"):
        conflict = merge_git.merge(root, lane.branch)
        if conflict is not None:
            onto = (head_before or "")[:10]
            reason = f"merging {lane.branch} onto {onto} conflicted in {', '.join(conflict[:8])}"
            return block(ctx, lane, out, reason, journal)
        ctx.record.set(lane.number, worktrees.MERGING, merged_tree=merge_git.index_tree(root))
        if cfg.gates.commands:
            try:
                gates = _gates_after_merge(ctx, lane)
            except RunStopped:
                take_back(ctx, lane)
                ctx.record.set(lane.number, worktrees.READY)
                out.outcome = Outcome.STOPPED
                out.detail = f"stopped during the gates after the merge; {lane.branch} merges on the next run"
                out.hints = [Hint(Action.RESUME, lane.number, ctx.info.slug)]
                return _finish(ctx, out, journal)
            out.gates = [g.as_dict() for g in gates]
            if journal is not None:
                journal.write("gates_after_merge", results=out.gates)
            if not all(g.ok for g in gates):
                return block(
                    ctx,
                    lane,
                    out,
                    f"gates red after merging onto {(head_before or '')[:10]}: {describe(gates)}",
                    journal,
                )
    planted = guard.restore()
    if planted:
        return block(
            ctx, lane, out, "planted in .git during the phase (restored): " + "; ".join(planted), journal
        )
    claims = claims_to_ops(phase, [tuple(c) for c in w.get("claims", [])], dict(w.get("claimed_text") or {}))
    no_gates = not cfg.gates.commands
    unchanged = not w.get("commit") and not phase.no_code_change
    unverified = no_gates or unchanged
    out.claimed = claims.claimed
    out.ticked = [] if unverified else [op.ref for op in claims.ticks]
    evidence = Evidence(
        gates=gates,
        model=w.get("model", ""),
        first_model=w.get("first_model", ""),
        usage=_usage(w.get("usage") or {}),
        cost_usd=float(w.get("cost_usd") or 0.0),
        claimed=claims.claimed,
        number=lane.number,
        title=out.title,
        base=head_before,
        confinement=w.get("confinement", ""),
    )
    why = None if no_gates or not unchanged else "the code step changed no file outside the plan"
    stamp = evidence_stamp(evidence, unverified=unverified, why=why)
    new_plan = ctx.plan.edit(*check_off_ops(phase, claims, stamp, unverified=unverified))
    ctx.record.set(lane.number, worktrees.TICKED)
    message = commit_message(ctx.info.slug, lane.number, out.title, stamp)
    if merge_git.merge_in_progress(root):
        commit = merge_git.commit_merge(root, message, plan_rel)
    else:
        commit = git.commit_paths(root, message, [plan_rel])
    out.commit = commit
    out.diff = git.diff_stat(root, head_before or git.empty_tree(root), commit, exclude=[plan_rel])
    ctx.record.set(lane.number, worktrees.MERGED)
    if journal is not None:
        journal.write("commit", commit=out.commit, merged=lane.branch, paths=w.get("work", []))
    done = ctx.plan.phase(lane.number, new_plan)
    if unverified:
        out.outcome = Outcome.UNVERIFIED
        out.detail = (
            "no gates configured ([gates] commands): nothing was ticked; review the commit and tick by hand"
            if no_gates
            else "the code step changed no file outside the plan, so green gates prove nothing; "
            "nothing was ticked"
        )
        out.hints = [Hint(Action.TICK, lane.number, ctx.info.slug)]
    elif done.done:
        out.outcome, out.detail = (
            Outcome.PASSED,
            f"{len(out.ticked)} task(s) checked off after green gates on the merged tree",
        )
    else:
        left = [t.ref for t in done.tasks if not t.checked]
        out.outcome = Outcome.INCOMPLETE
        out.detail = f"gates green, but tasks {', '.join(left)} were not claimed done; review the plan"
    result = _finish(ctx, out, journal)
    cleanup(project, lane, ctx.record)
    return result
