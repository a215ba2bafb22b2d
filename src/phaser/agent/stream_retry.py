"""What both SDK providers do once a stream has started: restart the turn on a failure the SDK will
not retry.

The SDKs retry 429, 5xx and connection errors themselves (``max_retries``) before a stream starts.
After HTTP 200 they retry nothing: a dropped connection, an unparsable event, an error event mid-stream
or a stream that ends early end the call. A provider's one-stream function raises
``RetryableStreamFailure`` for those; ``stream_with_retries`` restarts the whole turn, up to
``stream_retries`` times, records each restart for the journal, tells the stream callback to drop
what it has shown (``StreamChunk("retry")``) and backs off exponentially.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from phaser.agent.provider import ModelTurn, StreamCallback, StreamChunk
from phaser.errors import ProviderError


def one_line(text: object, limit: int = 300) -> str:
    """Text folded onto one line and cut at ``limit`` characters, for messages and the journal."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


class RetryableStreamFailure(Exception):
    """A failure after HTTP 200 that the SDK will not retry; phaser restarts the turn."""

    def __init__(self, kind: str, cause: object) -> None:
        super().__init__(kind)
        self.kind = kind
        self.cause = cause


class StreamRestarts:
    """The restart state both SDK providers hold: the client, how many restarts a turn may take, the
    backoff, and the log of restarts (``retries``, which the loop journals). A provider defines
    ``_stream_once(params, on_chunk, forwarded)`` and ``_where()`` and calls ``_restarting``."""

    def __init__(self, client: Any, *, stream_retries: int, retry_backoff_s: float) -> None:
        self.client = client
        self.stream_retries = stream_retries
        self.retry_backoff_s = retry_backoff_s
        self.retries: list[dict[str, Any]] = []
        """One entry per restarted turn (and, on the openai path, per reminder): attempt, error, message."""

    def _stream_once(
        self, params: dict[str, Any], on_chunk: StreamCallback | None, forwarded: list[bool]
    ) -> ModelTurn:
        raise NotImplementedError

    def _where(self) -> str:
        raise NotImplementedError

    def _restarting(self, params: dict[str, Any], on_chunk: StreamCallback | None) -> ModelTurn:
        """One turn, restarted on a failure after HTTP 200 (``stream_with_retries``)."""
        return stream_with_retries(
            lambda forwarded: self._stream_once(params, on_chunk, forwarded),
            on_chunk,
            where=self._where(),
            stream_retries=self.stream_retries,
            backoff_s=self.retry_backoff_s,
            log=self.retries,
        )


def stream_with_retries(
    stream_once: Callable[[list[bool]], ModelTurn],
    on_chunk: StreamCallback | None,
    *,
    where: str,
    stream_retries: int,
    backoff_s: float,
    log: list[dict[str, Any]],
) -> ModelTurn:
    """``stream_once(forwarded)`` until it returns a turn; ``forwarded[0]`` is set by it once a chunk
    reached ``on_chunk``. Each restart appends {attempt, error, message} to ``log``; past
    ``stream_retries`` restarts, one ProviderError naming ``where`` and the last error."""
    attempt = 0
    while True:
        forwarded = [False]
        try:
            return stream_once(forwarded)
        except RetryableStreamFailure as failure:
            attempt += 1
            message = one_line(failure.cause, 200)
            log.append({"attempt": attempt, "error": failure.kind, "message": message})
            if attempt > stream_retries:
                raise ProviderError(
                    f"{where} stream failed {attempt} times; last error: {failure.kind}: {message}"
                ) from None
            if forwarded[0] and on_chunk is not None:
                on_chunk(StreamChunk("retry", ""))
            if backoff_s > 0:
                time.sleep(backoff_s * 2 ** (attempt - 1))


def error_fields(err: Any) -> tuple[str, str]:
    """(error type, message) from an SDK's APIStatusError body, whatever shape it came in (the error
    object at the top or under ``error``); the SDK's own message where the body names none."""
    body = getattr(err, "body", None)
    fallback = str(getattr(err, "message", "") or err)
    if isinstance(body, dict):
        error = body.get("error")
        inner: dict = error if isinstance(error, dict) else body
        return str(inner.get("type") or "error"), str(inner.get("message") or fallback)
    return "error", fallback
