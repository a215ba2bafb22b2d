"""Where an agent session for a step is built: the phase run and the planner both come here, so a
new kind of agent (another provider, an agent CLI) is chosen per model in one place."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from phaser import events as ev
from phaser.agent.base import StepAgent
from phaser.agent.journal import Journal
from phaser.agent.loop import AgentSession
from phaser.agent.provider import Provider
from phaser.agent.tools import ToolBox
from phaser.config import BudgetConfig
from phaser.workflow.project import Project

__all__ = ["AgentSpec", "new_session", "new_step_agent"]


@dataclass(frozen=True)
class AgentSpec:
    """What the agent of one phase attempt or one planning run is built from, whatever its kind."""

    project: Project
    provider: Provider
    toolbox: ToolBox
    journal: Journal
    model: str
    system: str
    budget: BudgetConfig
    on_event: ev.EventSink = ev.ignore
    stop_event: threading.Event | None = None


def new_session(spec: AgentSpec) -> AgentSession:
    """phaser's own loop on ``spec.model``, within ``spec.budget`` (the planner always uses it)."""
    cfg = spec.project.config
    return AgentSession(
        spec.provider,
        spec.toolbox,
        spec.journal,
        model=spec.model,
        system=spec.system,
        max_tokens=cfg.provider.max_tokens,
        on_event=spec.on_event,
        budget=spec.budget,
        price=cfg.price(spec.model),
        stop_event=spec.stop_event,
        step_turns=cfg.agent.step_turns,
    )


def new_step_agent(spec: AgentSpec) -> StepAgent:
    """The agent of a phase attempt: Claude Code for a ``claude-code`` model, else phaser's loop."""
    if spec.project.config.provider_spec(spec.model).kind == "claude-code":
        from phaser.workflow.step_agents import claude_code_session

        return claude_code_session(
            spec.project,
            spec.model,
            spec.toolbox,
            spec.journal,
            system=spec.system,
            on_event=spec.on_event,
            budget=spec.budget,
            stop_event=spec.stop_event,
        )
    return new_session(spec)
