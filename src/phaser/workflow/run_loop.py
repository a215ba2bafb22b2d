"""`phaser run`: `next` again and again until every phase is done, a gate stays red, a budget is
used up, a person stops it, or a checkpoint waits for a human."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from phaser import events as ev
from phaser.errors import UsageError
from phaser.outcomes import Action, Hint, Outcome
from phaser.plan.model import Plan
from phaser.workflow.budget import Budget, Spend
from phaser.workflow.next_phase import run_next
from phaser.workflow.phase_outcome import PhaseOutcome
from phaser.workflow.project import Project
from phaser.workflow.providers import RunOptions, make_provider
from phaser.workflow.routing import load_plan, stuck_hints, stuck_reason

__all__ = ["RunResult", "run_all", "unapproved"]


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
            result.detail = f"waiting for approval of phase {', '.join(map(str, waiting))}"
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
