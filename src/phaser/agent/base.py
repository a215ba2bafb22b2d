"""The seam between the workflow and whatever runs a step: phaser's own loop or an agent CLI.

A phase builds one StepAgent and calls ``run_step`` for explore, code (and fixes) and update. The
runner, gates, check-off, journal and TUI see only this: the step's result, the phase's running
usage, dollars and turns, and the ToolBox that holds claims, notes, refusals and violations. Runs
end through the project's exceptions (BudgetExceeded, RunStopped, ProviderError).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from phaser.agent.policy import Step
from phaser.agent.provider import Usage

if TYPE_CHECKING:
    from phaser.agent.tools import ToolBox


@dataclass
class StepResult:
    step: Step
    summary: str
    """finish_step's summary, or the last text the model wrote."""
    turns: int
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    ended: str = ""
    """finish_step, end_turn (or another stop reason without tool calls), or step_turns."""


class StepAgent(Protocol):
    """Runs the steps of one phase in one fresh context (AgentSession, ClaudeCodeSession)."""

    toolbox: ToolBox
    """Claims, claimed task texts, notes, added tasks, refusals and violations of the phase."""
    usage: Usage
    cost_usd: float
    turns: int

    def run_step(self, step: Step, prompt: str) -> StepResult:
        """Run one step to its end; raises BudgetExceeded, RunStopped or ProviderError."""
        ...
