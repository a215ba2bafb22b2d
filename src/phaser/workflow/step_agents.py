"""Which StepAgent runs a phase: phaser's own loop over a Provider, or Claude Code.

``claude-code:MODEL`` (or a bare model with ``[models] provider = "claude-code"``) runs every step of
the phase as a ``claude -p`` run; anything else runs phaser's loop (built in phase.py as before).
"""

from __future__ import annotations

import os
import shutil
import threading

from phaser.agent.claude_code.session import ClaudeCodeOptions, ClaudeCodeSession
from phaser.agent.journal import Journal
from phaser.agent.tools import ToolBox
from phaser.config import BudgetConfig
from phaser.errors import ProviderError
from phaser.events import EventSink
from phaser.workflow import providers
from phaser.workflow.project import Project


def is_claude_code(project: Project, model: str) -> bool:
    return project.config.provider_spec(model).kind == "claude-code"


def claude_code_options(project: Project, model: str) -> ClaudeCodeOptions:
    """The CLI, auth and limits for ``model``'s provider; a missing CLI or key is one clear error."""
    cfg = project.config
    spec = cfg.provider_spec(model)
    retries, timeout = cfg.client_limits(spec)
    command = spec.command or "claude"
    found = (
        shutil.which(command) if os.sep not in command else (command if os.access(command, os.X_OK) else None)
    )
    if found is None:
        raise ProviderError(
            f"provider {spec.name}: the Claude Code CLI `{command}` was not found; install it "
            "(npm install -g @anthropic-ai/claude-code) or set [providers." + spec.name + "] command"
        )
    providers.api_key()  # reads the key and base URL once, before they are scrubbed from the env
    saved = providers._saved_secrets
    key = saved.get(spec.api_key_env or "ANTHROPIC_API_KEY") or os.environ.get(spec.api_key_env or "")
    if spec.auth == "api-key" and not key:
        raise ProviderError(
            f'provider {spec.name} uses auth = "api-key" but {spec.api_key_env or "ANTHROPIC_API_KEY"} '
            'is not set; set it, or use your Claude login with auth = "subscription"'
        )
    return ClaudeCodeOptions(
        command=os.path.abspath(found),
        auth=spec.auth,
        api_key=key if spec.auth == "api-key" else None,
        base_url=spec.base_url or saved.get("ANTHROPIC_BASE_URL") or None,
        oauth_token=saved.get("CLAUDE_CODE_OAUTH_TOKEN"),
        step_timeout_s=timeout * 3,
        max_retries=min(retries, 2),
        sandbox=cfg.agent.sandbox,
        config_dir=os.environ.get("CLAUDE_CONFIG_DIR"),
    )


def claude_code_session(
    project: Project,
    model: str,
    toolbox: ToolBox,
    journal: Journal,
    *,
    system: str,
    on_event: EventSink,
    budget: BudgetConfig,
    stop_event: threading.Event | None,
) -> ClaudeCodeSession:
    return ClaudeCodeSession(
        toolbox,
        journal,
        model=project.config.model_ref(model).model,
        system=system,
        options=claude_code_options(project, model),
        on_event=on_event,
        budget=budget,
        stop_event=stop_event,
        step_turns=project.config.agent.step_turns,
    )
