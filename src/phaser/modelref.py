"""Model references: which backend serves a model, written ``provider:model``.

One syntax for every place a model is named (``[models]`` tiers, a phase's ``model:``, ``--model``,
escalation): ``claude-code:sonnet``, ``local:qwen3-coder:30b``, ``openrouter:deepseek/deepseek-chat``, or a
bare ``claude-sonnet-5-5``. The part before the first colon is a provider only when it names one (built in
or from ``[providers.NAME]``); otherwise the whole text is the model of the default provider, so model ids
that contain colons themselves (Ollama's ``qwen3-coder:30b``) stay usable behind a provider prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PROVIDER_KINDS = ("anthropic", "openai", "claude-code")
"""anthropic: the Messages API (also Ollama, llama.cpp, LM Studio's Anthropic endpoints);
openai: chat completions (OpenAI, OpenRouter, vLLM, Ollama, LM Studio, llama.cpp);
claude-code: the Claude Code CLI runs the whole step as its own agent."""

CLAUDE_CODE_AUTH = ("api-key", "subscription")


@dataclass(frozen=True)
class ProviderSpec:
    """A named backend: what speaks to it and where. Keys never live in config files, only the name of
    the environment variable that holds one."""

    name: str
    kind: str
    base_url: str = ""
    """Empty: the SDK's default (or, for anthropic, ANTHROPIC_BASE_URL)."""
    api_key_env: str = ""
    """Environment variable holding the key; empty: the server needs none (a local model)."""
    auth: str = "api-key"
    """claude-code only: api-key (ANTHROPIC_API_KEY) or subscription (the user's own Claude login)."""
    command: str = ""
    """claude-code only: the CLI to run; empty: ``claude`` on PATH."""
    max_retries: int | None = None
    """The SDK's retries for this provider (429, 5xx, connection errors); None: ``[provider] max_retries``."""
    timeout_s: float | None = None
    """The SDK's timeout per request for this provider; None: ``[provider] timeout_s``."""
    builtin: bool = field(default=False, compare=False)

    @property
    def local(self) -> bool:
        """A server on this machine (a local model): it costs nothing unless ``[prices]`` says otherwise."""
        host = (urlsplit(self.base_url).hostname or "") if self.base_url else ""
        return host in ("localhost", "127.0.0.1", "::1", "0.0.0.0") or host.endswith(".localhost")


BUILTIN_PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec("anthropic", "anthropic", "", "ANTHROPIC_API_KEY", builtin=True),
        ProviderSpec("claude-code", "claude-code", "", "ANTHROPIC_API_KEY", builtin=True),
        ProviderSpec("openai", "openai", "https://api.openai.com/v1", "OPENAI_API_KEY", builtin=True),
        ProviderSpec(
            "openrouter", "openai", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", builtin=True
        ),
        ProviderSpec("ollama", "openai", "http://localhost:11434/v1", "", builtin=True),
        ProviderSpec("vllm", "openai", "http://localhost:8000/v1", "", builtin=True),
        ProviderSpec("lmstudio", "openai", "http://localhost:1234/v1", "", builtin=True),
    )
}


@dataclass(frozen=True)
class ModelRef:
    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_model_ref(text: str, providers: Mapping[str, ProviderSpec], default: str = "anthropic") -> ModelRef:
    """Split ``text`` into provider and model; ``default`` serves a bare model name.

    Raises ValueError for an empty reference or an empty model after a provider prefix."""
    text = text.strip()
    if not text:
        raise ValueError("an empty model name")
    head, sep, rest = text.partition(":")
    if sep and head in providers:
        if not rest.strip():
            raise ValueError(f"{text!r} names provider {head!r} but no model")
        return ModelRef(head, rest.strip())
    return ModelRef(default, text)
