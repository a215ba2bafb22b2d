"""Where an agent session for a step is built: the phase run and the planner both come here, so a
new kind of agent (another provider, an agent CLI) is chosen per model in one place."""

from __future__ import annotations

import threading

from phaser import events as ev
from phaser.agent.base import StepAgent
from phaser.agent.journal import Journal
from phaser.agent.loop import AgentSession
from phaser.agent.provider import Provider
from phaser.agent.tools import ToolBox
from phaser.config import BudgetConfig
from phaser.workflow.project import Project


def new_session(
    project: Project,
    provider: Provider,
    toolbox: ToolBox,
    journal: Journal,
    *,
    model: str,
    system: str,
    budget: BudgetConfig,
    on_event: ev.EventSink = ev.ignore,
    stop_event: threading.Event | None = None,
) -> AgentSession:
    """The agent for one phase attempt or one planning run, on ``model``, within ``budget``."""
    cfg = project.config
    return AgentSession(
        provider,
        toolbox,
        journal,
        model=model,
        system=system,
        max_tokens=cfg.provider.max_tokens,
        on_event=on_event,
        budget=budget,
        price=cfg.price(model),
        stop_event=stop_event,
        step_turns=cfg.agent.step_turns,
    )


def new_step_agent(
    project: Project,
    provider: Provider,
    toolbox: ToolBox,
    journal: Journal,
    *,
    model: str,
    system: str,
    budget: BudgetConfig,
    on_event: ev.EventSink = ev.ignore,
    stop_event: threading.Event | None = None,
) -> StepAgent:
    """The agent of a phase attempt: Claude Code for a ``claude-code`` model, else phaser's loop."""
    if project.config.provider_spec(model).kind == "claude-code":
        from phaser.workflow.step_agents import claude_code_session

        return claude_code_session(
            project,
            model,
            toolbox,
            journal,
            system=system,
            on_event=on_event,
            budget=budget,
            stop_event=stop_event,
        )
    return new_session(
        project,
        provider,
        toolbox,
        journal,
        model=model,
        system=system,
        budget=budget,
        on_event=on_event,
        stop_event=stop_event,
    )
