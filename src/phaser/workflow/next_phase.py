"""`phaser next`: one phase (the next one, or a given one) in a fresh agent context, under the
plan's run lock."""

from __future__ import annotations

from phaser import events as ev
from phaser.agent.provider import Provider
from phaser.workflow import preflight, worktrees
from phaser.workflow.budget import Allowance
from phaser.workflow.locks import plan_run_lock
from phaser.workflow.phase import PhaseRun
from phaser.workflow.phase_outcome import PhaseOutcome
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.providers import RunOptions
from phaser.workflow.providers import preflight as preflight_models
from phaser.workflow.resume import recover
from phaser.workflow.routing import nothing, phase_models, plan_and_phase, route_model

__all__ = ["check_tree", "run_locked", "run_next"]


def check_tree(project: Project, info: SpecInfo, options: RunOptions) -> None:
    """Refuse to start on a tree with uncommitted changes (other than the plan) unless allowed."""
    preflight.check_tree(project, info, options)


def run_next(
    project: Project,
    slug: str | None,
    *,
    phase: int | None = None,
    options: RunOptions | None = None,
    on_event: ev.EventSink = ev.ignore,
    allowance: Allowance | None = None,
) -> PhaseOutcome:
    """Run one phase (the next one, or ``phase``) in a fresh agent context."""
    options = options or RunOptions()
    info = project.plan_spec(slug)
    # bad input (plan, phase number, script, key) is refused before anything is created on disk
    plan, target = plan_and_phase(project, info, phase)
    if target is None:
        return nothing(info, plan)
    provider = preflight.check(project, info, options).provider  # the refusals --dry-run predicts
    preflight_models(provider, phase_models(project, target, options))
    with plan_run_lock(project, info.slug):
        return run_locked(project, info, phase, options, on_event, allowance, provider)


def run_locked(
    project: Project,
    info: SpecInfo,
    phase: int | None,
    options: RunOptions,
    on_event: ev.EventSink,
    allowance: Allowance | None,
    provider: Provider,
) -> PhaseOutcome:
    """The body of `run_next`, for a caller that already holds the plan's run lock (redo)."""
    from phaser.workflow import wave_recovery  # what a killed parallel run left

    record = wave_recovery.recover_wave(project, info, on_event)
    message = recover(project.root, project.config.state_dir, info.slug, info.plan_path)
    if message:
        on_event(ev.Notice(message, "warning"))
    plan, target = plan_and_phase(
        project, info, phase
    )  # again, under the lock: another run may have moved on
    if target is None:
        return nothing(info, plan)
    check_tree(project, info, options)
    lane = record.lanes.get(target.number)
    if lane is not None and lane.state == worktrees.READY:  # done in its worktree before a kill
        return wave_recovery.merge_ready(project, info, record, target.number, on_event, options.stop_event)
    model, _why = route_model(project, target, options)
    run = PhaseRun(
        project,
        info,
        target.number,
        provider,
        model=model,
        on_event=on_event,
        stop_event=options.stop_event,
        allowance=allowance,
        escalate=project.config.models.escalate and not options.model and not target.model,
    )
    return run.run()
