"""The small provider protocol the agent loop talks to, and the records that cross it.

Content blocks are kept as plain dicts in the Messages API's own shape, so an assistant turn goes
back to the model verbatim (thinking blocks included) whichever provider produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from phaser.errors import ProviderError


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_known: bool = True
    """False when the server did not say how much of the prompt it read from its cache (Ollama, vLLM
    without --enable-prompt-tokens-details): the whole prompt is then counted as uncached input."""

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.cache_known and other.cache_known,
        )

    @property
    def total_input(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }
        if not self.cache_known:
            out["cache_unknown"] = True
        return out


@dataclass
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]
    error: str = ""
    """Why the call cannot run as sent (arguments that are not a JSON object); goes back as is_error."""


@dataclass
class Request:
    """One call to the model. The loop builds it; the provider adds cache breakpoints."""

    model: str
    system: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    max_tokens: int = 16000
    metadata: dict[str, Any] = field(default_factory=dict)
    """Free-form context for providers that need it (the scripted one reads ``step`` and ``phase``)."""


@dataclass
class ModelTurn:
    """The assistant's reply to one Request."""

    content: list[dict[str, Any]]
    stop_reason: str
    usage: Usage
    model: str
    id: str = ""
    cost_usd: float | None = None
    """The dollars the server itself reported for this turn (OpenRouter's ``usage.cost``); None: priced
    by phaser from the token counts and the price table."""

    @property
    def text(self) -> str:
        return "".join(b.get("text", "") for b in self.content if b.get("type") == "text")

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [
            ToolCall(b["id"], b["name"], dict(b.get("input") or {}), str(b.get("input_error") or ""))
            for b in self.content
            if b.get("type") == "tool_use"
        ]


@dataclass
class StreamChunk:
    """Something the provider saw while the reply streamed: ``text`` deltas or a ``tool`` starting."""

    type: str
    text: str = ""


StreamCallback = Callable[[StreamChunk], None]


def api_model(model: str, provider_name: str) -> str:
    """The model id the server knows: ``local:qwen3-coder`` without the prefix of the provider it was
    routed to (a prefix is a provider only when it names one, so this never cuts a model's own colon)."""
    prefix = provider_name + ":"
    return model[len(prefix) :] if model.startswith(prefix) else model


@runtime_checkable
class Provider(Protocol):
    name: str

    def complete(self, request: Request, on_chunk: StreamCallback | None = None) -> ModelTurn:
        """Send one request, stream the reply through ``on_chunk``, return the whole turn.

        Raises ProviderError when the model cannot be reached after retries.
        """
        ...

    def count_tokens(self, request: Request) -> int:
        """Input tokens the request would cost, for estimates before a run."""
        ...


class SpentTurnError(ProviderError):
    """A provider error after tokens were spent (replies that never called a tool, however often they
    were reminded): ``turn`` holds what they used and cost, so the session bills it before the error
    ends the step."""

    def __init__(self, msg: str, turn: ModelTurn) -> None:
        super().__init__(msg)
        self.turn = turn
