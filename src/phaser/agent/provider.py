"""The small provider protocol the agent loop talks to, and the records that cross it.

Content blocks are kept as plain dicts in the Messages API's own shape, so an assistant turn goes
back to the model verbatim (thinking blocks included) whichever provider produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
        )

    @property
    def total_input(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }


@dataclass
class ToolCall:
    id: str
    name: str
    input: dict[str, Any]


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

    @property
    def text(self) -> str:
        return "".join(b.get("text", "") for b in self.content if b.get("type") == "text")

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [
            ToolCall(b["id"], b["name"], dict(b.get("input") or {}))
            for b in self.content
            if b.get("type") == "tool_use"
        ]


@dataclass
class StreamChunk:
    """Something the provider saw while the reply streamed: ``text`` deltas or a ``tool`` starting."""

    type: str
    text: str = ""


StreamCallback = Callable[[StreamChunk], None]


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
