"""`phaser next --dry-run`: what the next phase run would do, refused as the real run would be,
with a first-call estimate."""

from __future__ import annotations

from phaser.outcomes import Outcome
from phaser.workflow import preflight
from phaser.workflow.project import Project
from phaser.workflow.providers import RunOptions
from phaser.workflow.providers import preflight as preflight_models
from phaser.workflow.routing import phase_models, plan_and_phase, route_model, stuck_hints, stuck_reason

__all__ = ["dry_run"]


def dry_run(
    project: Project, slug: str | None, *, phase: int | None = None, options: RunOptions | None = None
) -> dict:
    """What `phaser next` would do, with a first-call estimate from count_tokens and the price table."""
    from phaser.agent.provider import Request
    from phaser.agent.tools import tool_definitions
    from phaser.workflow import prompts

    options = options or RunOptions()
    info = project.plan_spec(slug)
    plan, target = plan_and_phase(project, info, phase)
    if target is None:
        return {
            "slug": info.slug,
            "phase": None,
            "reason": stuck_reason(plan),
            "hints": [h.as_dict() for h in stuck_hints(plan, info.slug)],
            "exit_code": (Outcome.NOTHING if plan.complete else Outcome.STUCK).exit_code,
        }
    pre = preflight.check(project, info, options, dry_run=True)  # refuses as the real run would
    preflight_models(pre.provider, phase_models(project, target, options))
    model, why = route_model(project, target, options)
    cfg = project.config
    brief = prompts.phase_brief(plan, target, project.rel(info.plan_path)) + "\n" + prompts.EXPLORE
    request = Request(
        model,
        prompts.phase_system(project.root, info.spec_path, project.rel(info.spec_path)),
        [{"role": "user", "content": brief}],
        tool_definitions(),
        cfg.provider.max_tokens,
    )
    estimate: dict = {}
    try:
        tokens = pre.provider.count_tokens(request)
        price = cfg.price(model)
        estimate = {"input_tokens": tokens, "first_call_usd": price.cost(tokens, 0) if price else None}
    except Exception as exc:  # noqa: BLE001 - an estimate is optional; say why it is missing
        estimate = {"error": str(exc).splitlines()[0]}
    escalates_to = (
        cfg.escalated(model) if cfg.models.escalate and not options.model and not target.model else None
    )
    return {
        "slug": info.slug,
        "phase": target.number,
        "title": target.title,
        "difficulty": target.difficulty,
        "model": model,
        "model_reason": why,
        "escalates_to": escalates_to,
        "steps": ["explore (read-only)", "code", "gates", "plan update (plan tools only)"],
        "gates": cfg.gates.commands,
        "protected": cfg.protect.paths,
        "unprotect": target.unprotect,
        "budget": {
            "phase_usd": cfg.budget.phase_usd,
            "phase_tokens": cfg.budget.phase_tokens,
            "phase_turns": cfg.budget.phase_turns,
        },
        "estimate": estimate,
        "priced": cfg.price(model) is not None,
        "unfinished": pre.unfinished,
        "half_merge": pre.half_merge,
        "expected": pre.expected,
        "exit_code": pre.exit_code,
    }
