"""The Provider on the official anthropic SDK: always streaming, prompt-cached, retried.

Retries happen in two layers. The SDK retries 429, 5xx and connection errors itself (max_retries)
before a stream starts. Once HTTP 200 has arrived the SDK retries nothing: an ``event: error``
mid-stream (APIStatusError with status 200), a dropped connection (a raw httpx2 transport error)
or an unparsable event end the call. Those restart the whole turn here, up to ``stream_retries``
times, and each restart is recorded in ``self.retries`` for the journal.

``import anthropic`` costs about two seconds, so it happens in ``__init__``, never at import time.
"""

from __future__ import annotations

import copy
import importlib
import os
import time
from collections.abc import Iterator
from typing import Any

from phaser.agent.provider import ModelTurn, Request, StreamCallback, StreamChunk, Usage, api_model
from phaser.errors import ProviderError

EPHEMERAL = {"type": "ephemeral"}
MAX_BREAKPOINTS = 4
# error types an `event: error` mid-stream may carry that are worth another try
_RETRYABLE_STREAM_ERRORS = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}
_UNCACHEABLE = {"thinking", "redacted_thinking"}  # the API refuses cache_control on these


def _one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _error_fields(err: Any) -> tuple[str, str]:
    """(error type, message) from an APIStatusError's body, whatever shape it came in."""
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        inner: dict = error if isinstance(error, dict) else body
        return str(inner.get("type") or "error"), str(inner.get("message") or "")
    return "error", str(getattr(err, "message", "") or err)


def _with_breakpoints(messages: list[dict[str, Any]], reserved: int, cache: bool) -> list[dict[str, Any]]:
    """A copy of the messages with a cache breakpoint on the last block of the last message (so
    each request reads the previous one's prefix), keeping the request within four breakpoints:
    ``reserved`` are taken by the tools and system; the caller's oldest message marks go first."""
    messages = copy.deepcopy(messages)
    if not cache or not messages:
        return messages
    last = messages[-1]
    if isinstance(last.get("content"), str) and last["content"]:
        last["content"] = [{"type": "text", "text": last["content"]}]
    content = last.get("content")
    blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
    target = next((b for b in reversed(blocks) if b.get("type") not in _UNCACHEABLE), None)
    room = MAX_BREAKPOINTS - reserved
    if target is None or room < 1:
        return messages
    target.setdefault("cache_control", dict(EPHEMERAL))
    marked = [
        b
        for m in messages
        if isinstance(m.get("content"), list)
        for b in m["content"]
        if isinstance(b, dict) and "cache_control" in b and b is not target
    ]
    for block in marked[: max(0, len(marked) - (room - 1))]:
        del block["cache_control"]
    return messages


class AnthropicProvider:
    """Claude through the Messages API. Inject ``client`` in tests (pointed at FakeMessagesAPI)."""

    name = "anthropic"

    def __init__(
        self,
        client: Any = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_retries: int = 4,
        timeout: float = 600.0,
        stream_retries: int = 2,
        cache: bool = True,
        retry_backoff_s: float = 0.5,
    ) -> None:
        if client is None and not (api_key or os.environ.get("ANTHROPIC_API_KEY")):
            raise ProviderError(
                "ANTHROPIC_API_KEY is not set: export it (or use --provider scripted / phaser demo for the "
                "offline demo)"
            )
        import anthropic

        try:  # the transport of anthropic >= 2.13; older SDKs ride on httpx
            http_lib = importlib.import_module("httpx2")
        except ImportError:  # pragma: no cover
            http_lib = importlib.import_module("httpx")

        self._anthropic = anthropic
        self._transport_errors: tuple[type[BaseException], ...] = (
            http_lib.TransportError,
            anthropic.APIConnectionError,
        )
        self._stream_errors: tuple[type[BaseException], ...] = (*self._transport_errors, ValueError)
        if client is None:
            client = anthropic.Anthropic(
                api_key=api_key or os.environ["ANTHROPIC_API_KEY"],
                base_url=base_url or os.environ.get("ANTHROPIC_BASE_URL") or None,
                max_retries=max_retries,
                timeout=timeout,
            )
        self.client = client
        self.stream_retries = stream_retries
        self.cache = cache
        self.retry_backoff_s = retry_backoff_s
        self.retries: list[dict[str, Any]] = []
        """One entry per restarted turn: attempt, error (type), message."""

    # -- request building ------------------------------------------------------------------
    def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": api_model(request.model, self.name),
        }
        reserved = sum(1 for t in request.tools if "cache_control" in t)
        if request.system:
            block: dict[str, Any] = {"type": "text", "text": request.system}
            if self.cache:
                block["cache_control"] = dict(EPHEMERAL)  # tools come first, so this caches them too
                reserved += 1
            params["system"] = [block]
        params["messages"] = _with_breakpoints(request.messages, reserved, self.cache)
        if request.tools:
            params["tools"] = list(request.tools)
        return params

    # -- Provider --------------------------------------------------------------------------
    def count_tokens(self, request: Request) -> int:
        try:
            return int(self.client.messages.count_tokens(**self._params(request)).input_tokens)
        except self._anthropic.AnthropicError as e:
            raise ProviderError(self._describe(e)) from None

    def complete(self, request: Request, on_chunk: StreamCallback | None = None) -> ModelTurn:
        params = {**self._params(request), "max_tokens": request.max_tokens}
        attempt = 0
        while True:
            forwarded = [False]
            try:
                return self._stream_once(params, on_chunk, forwarded)
            except _RetryableStreamFailure as failure:
                attempt += 1
                cause = failure.cause
                self.retries.append(
                    {"attempt": attempt, "error": failure.kind, "message": _one_line(cause, 200)}
                )
                if attempt > self.stream_retries:
                    raise ProviderError(
                        f"Anthropic API stream failed {attempt} times; last error: {failure.kind}: "
                        f"{_one_line(cause, 200)}"
                    ) from None
                if forwarded[0] and on_chunk is not None:
                    on_chunk(StreamChunk("retry", ""))
                if self.retry_backoff_s > 0:
                    time.sleep(self.retry_backoff_s * 2 ** (attempt - 1))

    def _stream_once(
        self, params: dict[str, Any], on_chunk: StreamCallback | None, forwarded: list[bool]
    ) -> ModelTurn:
        try:
            manager = self.client.messages.stream(**params)
            stream = manager.__enter__()  # sends the request; the SDK has retried what it could
        except self._anthropic.AnthropicError as e:
            raise ProviderError(self._describe(e)) from None
        complete = False
        try:
            for event in self._events(stream):  # callback errors propagate untouched
                complete = complete or event.type == "message_stop"
                if on_chunk is None:
                    continue
                if event.type == "text" and event.text:
                    forwarded[0] = True
                    on_chunk(StreamChunk("text", event.text))
                elif event.type == "content_block_start" and event.content_block.type in (
                    "tool_use",
                    "server_tool_use",
                ):
                    forwarded[0] = True
                    on_chunk(StreamChunk("tool", event.content_block.name))
        finally:
            manager.__exit__(None, None, None)
        if not complete:
            raise _RetryableStreamFailure("incomplete_stream", "the stream ended before message_stop")
        return self._turn(stream.get_final_message())

    def _events(self, stream: Any) -> Iterator[Any]:
        """The stream's events, with failures after HTTP 200 sorted into retryable or final."""
        events = iter(stream)
        while True:
            try:
                event = next(events)
            except StopIteration:
                return
            except self._anthropic.APIStatusError as e:
                kind, _ = _error_fields(e)
                if e.status_code == 200 and kind in _RETRYABLE_STREAM_ERRORS:
                    raise _RetryableStreamFailure(kind, e) from None
                raise ProviderError(self._describe(e)) from None
            except self._stream_errors as e:  # dropped connection; unparsable event
                raise _RetryableStreamFailure(type(e).__name__, e) from None
            yield event

    def _turn(self, final: Any) -> ModelTurn:
        usage = final.usage
        return ModelTurn(
            content=[block.model_dump(mode="json", exclude_none=True) for block in final.content],
            stop_reason=str(final.stop_reason),
            usage=Usage(
                input_tokens=usage.input_tokens or 0,
                output_tokens=usage.output_tokens or 0,
                cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
                cache_read_input_tokens=usage.cache_read_input_tokens or 0,
            ),
            model=final.model,
            id=final.id,
        )

    def _describe(self, err: BaseException) -> str:
        """One line for a person: status, error type, message; no traceback."""
        anthropic = self._anthropic
        if isinstance(err, anthropic.APIStatusError):
            kind, message = _error_fields(err)
            status = err.status_code
            if status == 401:
                return (
                    f"Anthropic API rejected the API key (401 {kind}: {_one_line(message)}); "
                    "check ANTHROPIC_API_KEY"
                )
            return f"Anthropic API error {status} {kind}: {_one_line(message)}"
        if isinstance(err, anthropic.APIConnectionError):
            cause = err.__cause__ or err
            return f"cannot reach the Anthropic API at {self.client.base_url}: {_one_line(cause)}"
        return f"Anthropic API call failed: {type(err).__name__}: {_one_line(err)}"


class _RetryableStreamFailure(Exception):
    """A failure after HTTP 200 that the SDK will not retry; phaser restarts the turn."""

    def __init__(self, kind: str, cause: object) -> None:
        super().__init__(kind)
        self.kind = kind
        self.cause = cause
