"""`phaser next`, `phaser run` and `--dry-run`: which phase, on which model, under which rules."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from phaser import events as ev
from phaser.agent.provider import Provider
from phaser.errors import PlanError, UsageError
from phaser.outcomes import Action, Hint, Outcome
from phaser.plan.model import Phase, Plan
from phaser.plan.store import read_plan
from phaser.plan.validate import check_parsed
from phaser.workflow import preflight
from phaser.workflow.budget import Allowance, Budget, Spend
from phaser.workflow.checks import spec_problems
from phaser.workflow.locks import plan_run_lock
from phaser.workflow.phase import PhaseOutcome, PhaseRun
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.providers import RunOptions, make_provider
from phaser.workflow.providers import preflight as preflight_models
from phaser.workflow.resume import recover

__all__ = [
    "RunOptions",
    "RunResult",
    "check_tree",
    "dry_run",
    "pick_phase",
    "route_model",
    "run_all",
    "run_next",
]


@dataclass
class RunResult:
    slug: str
    reason: Outcome
    """complete, blocked (a gate stayed red in this run), stuck (nothing could run: a blocked phase or
    unmet dependencies from before), budget, stopped, error, approval, incomplete, unverified."""
    outcomes: list[PhaseOutcome] = field(default_factory=list)
    detail: str = ""
    """Why the run ended, in words (the last phase's detail, or why nothing could run)."""
    hints: list[Hint] = field(default_factory=list)
    """What a person can do next, as data (the last phase's hints when a phase ended the run)."""

    @property
    def spent(self) -> Spend:
        """What every phase of the run spent so far, as the run's caps count it."""
        return Spend(self.cost_usd, self.tokens, self.turns)

    @property
    def cost_usd(self) -> float:
        return sum(o.cost_usd for o in self.outcomes)

    @property
    def tokens(self) -> int:
        """Input (cached or not) and output tokens of every phase run so far, as the budget counts."""
        return sum(
            sum(
                int(o.usage.get(k) or 0)
                for k in (
                    "input_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                    "output_tokens",
                )
            )
            for o in self.outcomes
        )

    @property
    def turns(self) -> int:
        return sum(o.turns for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        return Outcome(self.reason).exit_code

    def as_dict(self) -> dict:
        hints = self.hints or (self.outcomes[-1].hints if self.outcomes else [])
        return {
            "slug": self.slug,
            "reason": Outcome(self.reason).value,
            "detail": self.detail or (self.outcomes[-1].detail if self.outcomes else ""),
            "cost_usd": self.cost_usd,
            "tokens": self.tokens,
            "turns": self.turns,
            "exit_code": self.exit_code,
            "phases": [o.as_dict() for o in self.outcomes],
            "hints": [h.as_dict() for h in hints],
        }


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


def load_plan(project: Project, info: SpecInfo) -> Plan:
    """The plan, refused (one `file:line: message`, exit 2) unless it passes `phaser validate`: an
    agent never starts on a plan whose dependencies, difficulties or numbering are wrong."""
    plan = read_plan(info.plan_path)  # broken frontmatter raises here, with its line
    rel = project.rel(info.plan_path)
    problems = spec_problems(project, info) + check_parsed(plan, rel)  # the spec is the phase's context
    if problems:
        more = f" (and {len(problems) - 1} more: phaser validate)" if len(problems) > 1 else ""
        first = problems[0]
        hints = [Hint(Action.VALIDATE, None, info.slug)] if more else []
        raise PlanError(first.message + more, path=first.path, line=first.line, hints=hints)
    return plan


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
            "(the notes say why): "
            f"fix the cause, then run it with phaser next --phase {first}, or delete its status line"
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
            f"{rel}: phase {number} is done; to run it again: phaser redo {number}",
            hints=[Hint(Action.REDO, number)],
        )
    done = {p.number for p in plan.phases if p.done}
    missing = [d for d in phase.depends if d not in done]
    if missing:
        raise UsageError(
            f"{rel}: phase {number} depends on phase {', '.join(map(str, missing))}, not done yet"
        )
    return phase


def check_tree(project: Project, info: SpecInfo, options: RunOptions) -> None:
    """Refuse to start on a tree with uncommitted changes (other than the plan) unless allowed."""
    preflight.check_tree(project, info, options)


def _target(project: Project, info: SpecInfo, phase: int | None) -> tuple[Plan, Phase | None]:
    """The checked plan and the phase to run (None: nothing can run)."""
    plan = load_plan(project, info)
    return plan, pick_phase(plan, phase, project.rel(info.plan_path))


def _nothing(info: SpecInfo, plan: Plan) -> PhaseOutcome:
    outcome = Outcome.NOTHING if plan.complete else Outcome.STUCK
    return PhaseOutcome(info.slug, 0, "", outcome, stuck_reason(plan), hints=stuck_hints(plan, info.slug))


def _phase_models(project: Project, target: Phase, options: RunOptions) -> list[str | None]:
    """The models a phase may use: its routed model and, when it escalates, the next tier up."""
    model, _why = route_model(project, target, options)
    escalates = project.config.models.escalate and not options.model and not target.model
    return [model, project.config.escalated(model) if escalates else None]


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
    plan, target = _target(project, info, phase)
    if target is None:
        return _nothing(info, plan)
    provider = preflight.check(project, info, options).provider  # the refusals --dry-run predicts
    preflight_models(provider, _phase_models(project, target, options))
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
    message = recover(project.root, project.config.state_dir, info.slug, info.plan_path)
    if message:
        on_event(ev.Notice(message, "warning"))
    plan, target = _target(project, info, phase)  # again, under the lock: another run may have moved on
    if target is None:
        return _nothing(info, plan)
    check_tree(project, info, options)
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


def _approval_limit(project: Project, approve: str | None) -> int | None:
    """None: never stop for approval; 0: stop after every phase; N: at most N unapproved."""
    policy = approve or project.config.approval.policy
    if policy == "never":
        return None
    if policy == "each":
        return 0
    if policy == "limit":
        return project.config.approval.limit
    if policy.isdigit():
        return int(policy)
    raise UsageError(f"--approve takes each, never or a number, not {policy!r}")


def unapproved(plan: Plan) -> list[int]:
    return [p.number for p in plan.phases if p.done and p.status != "skipped" and not p.approved]


def run_all(
    project: Project,
    slug: str | None,
    *,
    approve: str | None = None,
    options: RunOptions | None = None,
    on_event: ev.EventSink = ev.ignore,
) -> RunResult:
    """Loop `next` until done, a red gate, a budget, a stop, or a checkpoint that needs a human."""
    options = options or RunOptions()
    info = project.plan_spec(slug)
    limit = _approval_limit(project, approve)
    from phaser.workflow import parallel  # a hook: independent phases at once, in git worktrees

    if parallel.width(project, options) > 1:
        return parallel.run_parallel(project, info, limit=limit, options=options, on_event=on_event)
    if options.provider_obj is None and load_plan(project, info).next_phase() is not None:
        options = replace(options, provider_obj=make_provider(project, options))  # one client for the run
    result = RunResult(info.slug, Outcome.COMPLETE)
    budget = Budget(project.config.budget)
    while True:
        plan = load_plan(project, info)  # a human may edit it between phases: check it again
        waiting = unapproved(plan)
        if limit is not None and plan.next_phase() is not None and len(waiting) >= max(limit, 1):
            result.detail = (
                f"waiting for approval of phase {', '.join(map(str, waiting))}: phaser approve {info.slug}"
            )
            result.hints = [Hint(Action.APPROVE, waiting[0], info.slug)]
            on_event(ev.Notice(result.detail, hints=tuple(result.hints)))
            result.reason = Outcome.APPROVAL
            return result
        if plan.complete:
            result.reason = Outcome.COMPLETE
            return result
        if plan.next_phase() is None:
            result.detail = stuck_reason(plan)
            result.hints = stuck_hints(plan, info.slug)
            on_event(ev.Notice(result.detail, "warning", hints=tuple(result.hints)))
            result.reason = Outcome.STUCK
            return result
        reached = budget.run_reached(result.spent)
        if reached:
            result.detail = reached
            on_event(ev.Notice(result.detail, "warning"))
            result.reason = Outcome.BUDGET
            return result
        left = budget.run_left(result.spent)
        outcome = run_next(project, info.slug, options=options, on_event=on_event, allowance=left)
        if outcome.outcome in (Outcome.NOTHING, Outcome.STUCK):
            result.reason = Outcome.COMPLETE if outcome.outcome == Outcome.NOTHING else Outcome.STUCK
            result.detail = outcome.detail
            result.hints = outcome.hints
            return result
        result.outcomes.append(outcome)
        if outcome.outcome != Outcome.PASSED:
            result.reason = Outcome(outcome.outcome)
            return result
        if options.stop_event is not None and options.stop_event.is_set():
            result.reason = Outcome.STOPPED
            return result


def dry_run(
    project: Project, slug: str | None, *, phase: int | None = None, options: RunOptions | None = None
) -> dict:
    """What `phaser next` would do, with a first-call estimate from count_tokens and the price table."""
    from phaser.agent.provider import Request
    from phaser.agent.tools import tool_definitions
    from phaser.workflow import prompts

    options = options or RunOptions()
    info = project.plan_spec(slug)
    plan, target = _target(project, info, phase)
    if target is None:
        return {
            "slug": info.slug,
            "phase": None,
            "reason": stuck_reason(plan),
            "exit_code": (Outcome.NOTHING if plan.complete else Outcome.STUCK).exit_code,
        }
    pre = preflight.check(project, info, options)  # refuses as the real run would, same words
    preflight_models(pre.provider, _phase_models(project, target, options))
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
        "expected": pre.expected,
        "exit_code": pre.exit_code,
    }
