"""Which phase runs next and on which model: the checked plan, the picked phase, the routed model,
and why nothing can run when nothing can."""

from __future__ import annotations

from phaser.errors import UsageError
from phaser.outcomes import Action, Hint, Outcome
from phaser.plan.model import Phase, Plan
from phaser.workflow.checks import checked_plan
from phaser.workflow.phase_outcome import PhaseOutcome
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.providers import RunOptions

__all__ = [
    "load_plan",
    "nothing",
    "phase_models",
    "pick_phase",
    "route_model",
    "stuck_hints",
    "stuck_reason",
    "plan_and_phase",
]


def route_model(project: Project, phase: Phase, options: RunOptions) -> tuple[str, str]:
    """The model for a phase and why: --model, the phase's model:, or its difficulty tier."""
    if options.model:
        return options.model, "--model"
    if phase.model:
        return phase.model, "model: in the plan"
    profile = options.profile or project.config.models.profile
    return project.config.model_for(
        phase.difficulty, profile
    ), f"difficulty {phase.difficulty}, profile {profile}"


load_plan = checked_plan
"""The plan, refused (one `file:line: message`, exit 2) unless it passes `phaser validate`: an
agent never starts on a plan whose dependencies, difficulties or numbering are wrong."""


def stuck_hints(plan: Plan, slug: str) -> list[Hint]:
    """What a person can do when no phase can run: run the first blocked phase by hand."""
    blocked = [p.number for p in plan.phases if p.status == "blocked" and not p.done]
    return [Hint(Action.RUN_PHASE, blocked[0], slug)] if blocked and not plan.complete else []


def stuck_reason(plan: Plan) -> str:
    """Why no phase can run, and what a person can do about it."""
    if plan.complete:
        return "every phase is done"
    blocked = [p.number for p in plan.phases if p.status == "blocked" and not p.done]
    if blocked:
        first = blocked[0]
        return (
            f"phase {', '.join(map(str, blocked))} {'is' if len(blocked) == 1 else 'are'} blocked "
            f"(the notes say why): fix the cause, then delete phase {first}'s status line or run it"
        )
    return "no phase can run: the remaining phases wait on phases that are not done"


def pick_phase(plan: Plan, number: int | None, rel: str) -> Phase | None:
    if number is None:
        return plan.next_phase()
    phase = plan.phase(number)
    if phase is None:
        raise UsageError(f"{rel}: no phase {number}")
    if phase.done:
        raise UsageError(
            f"{rel}: phase {number} is done; to run it again",
            hints=[Hint(Action.REDO, number)],
        )
    done = {p.number for p in plan.phases if p.done}
    missing = [d for d in phase.depends if d not in done]
    if missing:
        raise UsageError(
            f"{rel}: phase {number} depends on phase {', '.join(map(str, missing))}, not done yet"
        )
    return phase


def plan_and_phase(project: Project, info: SpecInfo, phase: int | None) -> tuple[Plan, Phase | None]:
    """The checked plan and the phase to run (None: nothing can run)."""
    plan = load_plan(project, info)
    return plan, pick_phase(plan, phase, project.rel(info.plan_path))


def nothing(info: SpecInfo, plan: Plan) -> PhaseOutcome:
    outcome = Outcome.NOTHING if plan.complete else Outcome.STUCK
    return PhaseOutcome(info.slug, 0, "", outcome, stuck_reason(plan), hints=stuck_hints(plan, info.slug))


def phase_models(project: Project, target: Phase, options: RunOptions) -> list[str | None]:
    """The models a phase may use: its routed model and, when it escalates, the next tier up."""
    model, _why = route_model(project, target, options)
    escalates = project.config.models.escalate and not options.model and not target.model
    return [model, project.config.escalated(model) if escalates else None]
