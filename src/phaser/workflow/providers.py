"""Choosing and building the model providers of a run: one per provider name, keys read once."""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from typing import Any

from phaser.agent.provider import ModelTurn, Provider, Request, StreamCallback
from phaser.agent.sandbox import is_secret_name
from phaser.config import TIERS, Config
from phaser.errors import ProviderError, UsageError
from phaser.modelref import ProviderSpec
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
    parallel: int | None = None
    """At most this many independent phases at once (``--parallel N``); None: ``[run] parallel``."""


def api_key() -> str | None:
    """The key (and base URL), read once; afterwards kept in memory only, out of reach of the agent's
    commands, since phaser scrubs ANTHROPIC_* from its own environment once a client exists."""
    for name in _SECRET_ENV:
        if os.environ.get(name):
            _saved_secrets[name] = os.environ[name]
    return _saved_secrets.get("ANTHROPIC_API_KEY") or _saved_secrets.get("ANTHROPIC_AUTH_TOKEN")


def provider_key(spec: ProviderSpec) -> str | None:
    """The key of a provider, from its ``api_key_env``, read once like ``api_key``."""
    if spec.kind == "anthropic" and spec.api_key_env == "ANTHROPIC_API_KEY":
        return api_key()
    name = spec.api_key_env
    if not name:
        return None
    if os.environ.get(name):
        _saved_secrets[name] = os.environ[name]
    return _saved_secrets.get(name)


def hide_secrets(extra: tuple[str, ...] = ()) -> None:
    """Remove secret variables from this process's environment, so the agent's commands can't read
    them there (nor through /proc/<pid>/environ); the clients keep their own copies of the keys.
    ``extra``: key variables named in ``api_key_env`` whose names do not look secret."""
    from phaser.agent import sandbox

    api_key()
    for name in extra:
        value = os.environ.pop(name, None)
        if value is not None:
            _saved_secrets.setdefault(name, value)
            if len(value) >= 8:
                sandbox._removed_secrets.add(value)  # redacted wherever text leaves the harness
    sandbox.scrub_process_env()


class ProviderPool:
    """The Provider for a run: each request goes to the provider of its model (``local:qwen3-coder`` to
    ``[providers.local]``, a bare name to ``[models] provider``), each built once, on first use.

    Escalation and profiles may cross providers inside one run, and the phase never needs to know:
    every model call names its model. All keys are read when the pool is made, then scrubbed from
    the environment, so a provider built later still has its key. ``retries`` is one list shared by
    every provider, which the loop journals."""

    name = "pool"

    def __init__(self, project: Project) -> None:
        self.config = project.config
        self._providers: dict[str, Provider] = {}
        self._lock = threading.Lock()
        self.retries: list[dict[str, Any]] = []
        specs = self.config.providers.values()
        self._keys = {spec.name: provider_key(spec) for spec in specs}
        hide_secrets(
            tuple(s.api_key_env for s in specs if s.api_key_env and not is_secret_name(s.api_key_env))
        )

    def spec_for(self, model: str) -> ProviderSpec:
        return self.config.provider_spec(model)

    def provider_for(self, model: str) -> Provider:
        """The provider that serves ``model``; raises ProviderError when it cannot be built (a key)."""
        spec = self.spec_for(model)
        with self._lock:
            if spec.name not in self._providers:
                provider = build_provider(self.config, spec, self._keys.get(spec.name))
                provider.retries = self.retries  # type: ignore[attr-defined]
                self._providers[spec.name] = provider
            return self._providers[spec.name]

    def complete(self, request: Request, on_chunk: StreamCallback | None = None) -> ModelTurn:
        return self.provider_for(request.model).complete(request, on_chunk)

    def count_tokens(self, request: Request) -> int:
        return self.provider_for(request.model).count_tokens(request)


def build_provider(config: Config, spec: ProviderSpec, key: str | None) -> Provider:
    """One provider of kind anthropic or openai, with its own retries and timeout (else [provider]'s)."""
    cfg = config.provider
    max_retries, timeout = config.client_limits(spec)
    if spec.kind == "claude-code":
        raise UsageError(
            f"provider {spec.name!r} is Claude Code, which runs whole steps as its own agent, not single "
            "model calls"
        )
    if spec.kind == "openai":
        from phaser.agent.openai_provider import OpenAIProvider

        return OpenAIProvider(
            name=spec.name,
            api_key=key,
            api_key_env=spec.api_key_env,
            base_url=spec.base_url or None,
            max_retries=max_retries,
            timeout=timeout,
            tool_reminders=cfg.tool_reminders,
        )
    from phaser.agent.anthropic_provider import AnthropicProvider

    builtin = spec.name == "anthropic"
    base_url = spec.base_url or (cfg.base_url or _saved_secrets.get("ANTHROPIC_BASE_URL") if builtin else "")
    if not key and not spec.api_key_env:
        key = "no-key"  # a local Messages API (Ollama, llama.cpp, LM Studio) wants none
    if not key and not builtin:
        raise ProviderError(f"{spec.api_key_env} is not set: export it for provider {spec.name!r}")
    anthropic = AnthropicProvider(
        api_key=key, base_url=base_url or None, max_retries=max_retries, timeout=timeout
    )
    anthropic.name = spec.name
    return anthropic


def make_provider(project: Project, options: RunOptions, models: list[str] | None = None) -> Provider:
    """The provider of a run: the injected one, the scripted one, or a ProviderPool that has already
    built the providers of ``models`` (default: ``--model``), so a missing key is refused before
    anything starts; the runner preflights each phase's models the same way."""
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
    pool = ProviderPool(project)
    preflight(pool, models if models is not None else [options.model] if options.model else [])
    return pool


def preflight(provider: Provider, models: Sequence[str | None]) -> None:
    """Build the providers of ``models`` now, so a missing key or a bad provider is refused before a
    phase starts (others are built on first use)."""
    if not isinstance(provider, ProviderPool):
        return
    for model in models:
        if model and provider.spec_for(model).kind != "claude-code":  # its agent is built per step
            provider.provider_for(model)


@dataclass(frozen=True)
class TierRoute:
    """What one tier resolves to, for `phaser config`: which backend answers and whether it is priced."""

    tier: str
    ref: str
    provider: str
    kind: str
    base_url: str
    model: str
    priced: bool
    """False: no ``[prices]`` entry and not a local server (a gateway may still report its own cost)."""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def tier_routes(project: Project) -> list[TierRoute]:
    """plan, easy, medium, hard -> (provider, kind, base_url, model, price known?)."""
    cfg = project.config
    out = []
    for tier in ("plan", *TIERS):
        text = getattr(cfg.models, tier)
        ref = cfg.model_ref(text)
        spec = cfg.providers[ref.provider]
        base_url = spec.base_url
        if not base_url and spec.name == "anthropic":
            base_url = (
                cfg.provider.base_url
                or _saved_secrets.get("ANTHROPIC_BASE_URL")
                or os.environ.get("ANTHROPIC_BASE_URL", "")
                or "(the SDK's default)"
            )
        out.append(
            TierRoute(
                tier,
                str(ref),
                spec.name,
                spec.kind,
                base_url or "(default)",
                ref.model,
                cfg.price(text) is not None,
            )
        )
    return out
