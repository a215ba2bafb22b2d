"""What a phase's session has spent (tokens, dollars, turns), checked against the phase's caps: one
account for every StepAgent, phaser's own loop and Claude Code alike."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from phaser.agent.base import StepResult
from phaser.agent.journal import Journal
from phaser.agent.provider import Usage
from phaser.config import BudgetConfig
from phaser.errors import BudgetExceeded, RunStopped
from phaser.events import EventSink, UsageUpdated

__all__ = ["Metered"]


class Metered:
    """The spend of one phase's session: a base for the sessions (StepAgents) that run its steps."""

    def __init__(
        self,
        journal: Journal,
        budget: BudgetConfig,
        on_event: EventSink,
        stop_event: threading.Event | None,
    ) -> None:
        self.journal = journal
        self.budget = budget
        self.on_event = on_event
        self.stop_event = stop_event
        self.usage = Usage()
        self.cost_usd = 0.0
        self.turns = 0

    @property
    def tokens(self) -> int:
        """Tokens that count against the phase budget: all input (cached or not) and output."""
        return self.usage.total_input + self.usage.output_tokens

    def _charge(self, model: str, usage: Usage, cost: float | None, result: StepResult) -> None:
        """Add one response's usage and dollars (None: not priced) to the phase and the step."""
        self.usage, result.usage = self.usage + usage, result.usage + usage
        if cost is not None:
            self.cost_usd += cost
            result.cost_usd += cost
        s = self.usage
        self.on_event(
            UsageUpdated(
                model,
                s.input_tokens,
                s.output_tokens,
                s.cache_creation_input_tokens,
                s.cache_read_input_tokens,
                self.cost_usd,
            )
        )

    def _close_step(
        self, step: Any, result: StepResult, toolbox: Any, enforce: Callable[[], list[str]], **extra: Any
    ) -> None:
        """A step's backstop, on every way out: ``enforce`` puts back what the step may not change,
        then its end is journaled (whatever ``enforce`` raised) and the journal flushed; what was put
        back is told to the model's summary."""
        reverted: list[str] = []
        try:
            reverted = enforce()
        finally:
            self.journal.write(
                "step_end",
                step=step.value,
                ended=result.ended,
                summary=result.summary,
                turns=result.turns,
                usage=result.usage.as_dict(),
                cost_usd=round(result.cost_usd, 6),
                claims=[list(c) for c in toolbox.claims],
                violations=len(toolbox.violations),
                **extra,
            )
            self.journal.flush()
        if reverted:
            result.summary += "\n[phaser] " + "\n[phaser] ".join(reverted)

    def _over_budget(self, reason: str) -> BudgetExceeded:
        self.journal.write("budget_exceeded", reason=reason, **self._totals())
        return BudgetExceeded(f"budget reached: {reason}")

    def _check_budget(self) -> None:
        """Before each request or run: refuse to spend more once a phase cap is reached."""
        b = self.budget
        reason = None
        if self.turns >= b.phase_turns:
            reason = f"the phase used {self.turns} turns (limit {b.phase_turns})"
        elif self.tokens >= b.phase_tokens:
            reason = f"the phase used {self.tokens:,} tokens (limit {b.phase_tokens:,})"
        elif self.cost_usd >= b.phase_usd:
            reason = f"the phase cost ${self.cost_usd:.4f} (limit ${b.phase_usd:.4f})"
        if reason is not None:
            raise self._over_budget(reason)

    def _check_stop(self) -> None:
        if self.stop_event is not None and self.stop_event.is_set():
            self.journal.write("stopped", reason="stopped by user", **self._totals())
            raise RunStopped("stopped by user")

    def _totals(self) -> dict[str, Any]:
        return {"turns": self.turns, "usage": self.usage.as_dict(), "cost_usd": round(self.cost_usd, 6)}
