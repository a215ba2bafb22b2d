"""Choosing and building the model provider for a run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event

from phaser.agent.provider import Provider
from phaser.errors import UsageError
from phaser.workflow.project import Project

_SECRET_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "CLAUDE_CODE_OAUTH_TOKEN")
_saved_secrets: dict[str, str] = {}


@dataclass
class RunOptions:
    """What a person can override for one run, from the CLI or the TUI."""

    model: str | None = None
    profile: str | None = None
    provider: str | None = None
    script: str | None = None
    allow_dirty: bool = False
    provider_obj: Provider | None = field(default=None, repr=False)
    """An already built provider (tests, the demo, the TUI inject one)."""
    stop_event: Event | None = field(default=None, repr=False)


def api_key() -> str | None:
    """The key (and base URL), read once; afterwards kept in memory only, out of reach of the agent's
    commands, since phaser scrubs ANTHROPIC_* from its own environment once a client exists."""
    for name in _SECRET_ENV:
        if os.environ.get(name):
            _saved_secrets[name] = os.environ[name]
    return _saved_secrets.get("ANTHROPIC_API_KEY") or _saved_secrets.get("ANTHROPIC_AUTH_TOKEN")


def hide_secrets() -> None:
    """Remove secret variables from this process's environment, so the agent's commands can't read
    them there (nor through /proc/<pid>/environ); the client keeps its own copy of the key."""
    from phaser.agent.sandbox import scrub_process_env

    api_key()
    scrub_process_env()


def make_provider(project: Project, options: RunOptions) -> Provider:
    if options.provider_obj is not None:
        return options.provider_obj
    name = options.provider or project.config.provider.name
    if name == "scripted":
        from phaser.agent.script import load_script
        from phaser.agent.scripted import ScriptedProvider

        script = options.script or project.config.provider.script
        if not script:
            raise UsageError("the scripted provider needs a script: --script FILE or [provider] script")
        path = Path(script)
        if not path.is_absolute():
            path = (project.root / path) if (project.root / path).exists() else path.resolve()
        if not path.is_file():
            raise UsageError(f"{script}: no such script file")
        try:
            return ScriptedProvider(load_script(path))
        except ValueError as exc:
            raise UsageError(f"{path}: not a valid script: {exc}") from None
    from phaser.agent.anthropic_provider import AnthropicProvider

    cfg = project.config.provider
    provider = AnthropicProvider(
        api_key=api_key(),
        base_url=cfg.base_url or _saved_secrets.get("ANTHROPIC_BASE_URL") or None,
        max_retries=cfg.max_retries,
        timeout=cfg.timeout_s,
    )
    hide_secrets()
    return provider
