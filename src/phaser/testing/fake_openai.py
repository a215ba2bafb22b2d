"""A stdlib HTTP server that speaks the OpenAI chat-completions wire format, for offline tests.

The real ``openai`` SDK is pointed at it through ``base_url`` (``FakeChatAPI.base_url`` ends in /v1),
so request building, SSE parsing, SDK retries and error classes all run for real. Replies come from
the turn-script format of ``phaser.agent.script``, the same scripts as ``FakeMessagesAPI``.

Streamed replies look like the real ones: a first chunk with ``role``, text in a few ``content``
deltas, each tool call as one delta with ``id``, ``type`` and ``function.name`` (empty arguments) and
then argument pieces under the same ``index``, a chunk with ``finish_reason``, with
``stream_options.include_usage`` a last chunk with no choices and the usage, then ``data: [DONE]``.

Server flavours (constructor flags): ``cached=True`` reports ``prompt_tokens_details.cached_tokens``
(OpenAI, vLLM with prompt-token details), ``cached=False`` leaves the details out (Ollama, llama.cpp);
``cost_per_mtok`` adds OpenRouter's ``usage.cost`` in dollars; ``api_key`` demands that Bearer key.
Prompt caching is automatic, as on OpenAI: the longest run of whole leading messages (tools and
system included) already sent on the same model is read from the cache once it reaches
``min_cache_tokens``. Tokens come from ``estimate_tokens``.

The server, the script and the faults are ``phaser.testing.fake_http.FakeServer``'s (fault keys:
``status``, ``drop``, ``truncate``, ``stream_error``, ``malformed``); here a ``truncate`` ends the
body with no finish_reason and no [DONE], and a ``stream_error`` is an ``{"error": ...}`` object
after HTTP 200.

A tool call whose ``input`` is a string (not allowed in script files) sends that string verbatim as
its ``arguments``, to test how phaser meets arguments that are not a JSON object.
"""

from __future__ import annotations

import json
import time
from typing import Any

from phaser.agent.script import Script, TurnSpec, estimate_tokens
from phaser.testing.fake_http import FakeServer, Handler, pieces

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_api_key",
    404: "not_found_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "server_error",
}


class InvalidRequest(Exception):
    """A request the real API would answer with 400."""


def validate(body: Any) -> None:
    """Raise InvalidRequest for the mistakes the real API rejects and phaser could make."""
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    for key in ("model", "messages"):
        if key not in body:
            raise InvalidRequest(f"Missing required parameter: '{key}'.")
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("'messages' must be a non-empty array")
    if body.get("stream_options") is not None and not body.get("stream"):
        raise InvalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.")
    names: set[str] = set()
    for i, tool in enumerate(body.get("tools") or []):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(fn, dict) or not fn.get("name"):
            raise InvalidRequest(f"Invalid 'tools[{i}]': expected a function tool with a name.")
        params = fn.get("parameters", {})
        if not isinstance(params, dict) or params.get("type") != "object":
            raise InvalidRequest(f"Invalid schema for function '{fn['name']}': schema must be a JSON object.")
        if fn["name"] in names:
            raise InvalidRequest(f"Duplicate function name '{fn['name']}' in 'tools'.")
        names.add(fn["name"])
    pending: set[str] = set()
    for i, msg in enumerate(messages):
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in ("system", "developer", "user", "assistant", "tool"):
            raise InvalidRequest(f"Invalid value for 'messages[{i}].role'.")
        if role == "tool":
            tid = msg.get("tool_call_id")
            if tid not in pending:
                raise InvalidRequest(
                    f"Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                    f"message with 'tool_calls' (messages[{i}].tool_call_id {tid!r})."
                )
            pending.discard(tid)
            continue
        if pending:
            raise InvalidRequest(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to "
                f"each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                f"{', '.join(sorted(pending))}"
            )
        if role == "assistant":
            calls = msg.get("tool_calls") or []
            if msg.get("content") is None and not calls:
                raise InvalidRequest(f"messages[{i}]: an assistant message needs content or tool_calls")
            for call in calls:
                fn = call.get("function") or {}
                if not call.get("id") or not isinstance(fn.get("arguments"), str):
                    raise InvalidRequest(f"messages[{i}].tool_calls: id and function.arguments are required")
            pending = {c["id"] for c in calls}
        elif not isinstance(msg.get("content"), (str, list)):
            raise InvalidRequest(f"messages[{i}].content: expected a string or an array")
    if pending:
        raise InvalidRequest(f"tool_call_ids did not have response messages: {', '.join(sorted(pending))}")


def _data(obj: Any) -> bytes:
    """One SSE data line: a JSON object, or raw bytes such as ``[DONE]``."""
    return b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n"


def _arguments(value: Any) -> str:
    """A tool call's arguments as sent: a string input goes out verbatim (broken JSON, for tests)."""
    return value if isinstance(value, str) else json.dumps(value)


class FakeChatAPI(FakeServer):
    """A local chat-completions API: ``with FakeChatAPI(script) as api: OpenAI(base_url=api.base_url)``."""

    thread_name = "fake-chat-api"
    url_path = "/v1"
    request_id_header = "x-request-id"
    error_types = ERROR_TYPES
    overloaded = (503, "The server is overloaded")

    def __init__(
        self,
        script: Script = (),
        *,
        cached: bool = True,
        cost_per_mtok: float | None = None,
        api_key: str | None = None,
        min_cache_tokens: int = 1024,
    ) -> None:
        self.cached = cached
        self.cost_per_mtok = cost_per_mtok
        self._seen: set[tuple[str, str]] = set()
        super().__init__(script, api_key=api_key, min_cache_tokens=min_cache_tokens)

    # -- usage -----------------------------------------------------------------------------
    def usage(self, body: dict[str, Any], completion_tokens: int) -> dict[str, Any]:
        """Usage of one request; stores its message prefixes in the automatic cache."""
        head = json.dumps(body.get("tools") or [], sort_keys=True)
        parts = [head, *(json.dumps(m, sort_keys=True) for m in body["messages"])]
        totals, total = [], 0
        for part in parts:
            total += estimate_tokens(part)
            totals.append(total)
        keys = [(str(body["model"]), "\x00".join(parts[: i + 1])) for i in range(len(parts))]
        with self._lock:
            hit = next((i for i in range(len(keys) - 2, -1, -1) if keys[i] in self._seen), None)
            self._seen.update(k for k, t in zip(keys, totals, strict=True) if t >= self.min_cache_tokens)
        cached = totals[hit] if hit is not None and totals[hit] >= self.min_cache_tokens else 0
        usage: dict[str, Any] = {
            "prompt_tokens": total,
            "completion_tokens": completion_tokens,
            "total_tokens": total + completion_tokens,
        }
        if self.cached:
            usage["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
            usage["completion_tokens_details"] = {"reasoning_tokens": 0}
        if self.cost_per_mtok is not None:
            usage["cost"] = round((total + completion_tokens) * self.cost_per_mtok / 1_000_000, 9)
        return usage

    # -- HTTP ------------------------------------------------------------------------------
    def _handle(self, h: Handler) -> None:
        req = self._receive(h)
        if self.api_key is not None and req.key != self.api_key:
            return self._error(h, 401, "Incorrect API key provided.")
        if req.path != "/v1/chat/completions":
            return self._error(h, 404, f"Not found: {req.path}")
        try:
            validate(req.body)
        except InvalidRequest as e:
            return self._error(h, 400, str(e))
        self._serve_turn(h, req.body, req.n)

    def _error(self, h: Handler, status: int, message: str, etype: str = "", **headers: str) -> None:
        error = {"message": message, "type": etype or ERROR_TYPES.get(status, "server_error"), "param": None}
        h.send_json(status, {"error": {**error, "code": None}}, headers)

    def _chunk(self, body: dict[str, Any], n: int, delta: dict[str, Any], finish: str | None = None) -> dict:
        out = {
            "id": f"chatcmpl-fake{n:04d}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if (body.get("stream_options") or {}).get("include_usage"):
            out["usage"] = None
        return out

    def _reply(self, h: Handler, turn: TurnSpec, body: dict[str, Any], n: int) -> None:
        text = turn.get("text", "")
        calls: list[dict[str, Any]] = [
            {
                "id": c.get("id") or f"call_f{n:04d}_{i:02d}",
                "type": "function",
                "function": {"name": c["name"], "arguments": _arguments(c.get("input", {}))},
            }
            for i, c in enumerate(turn.get("tool_calls", []))
        ]
        finish = "tool_calls" if calls else {"max_tokens": "length"}.get(turn.get("stop_reason", ""), "stop")
        out_tokens = estimate_tokens({"text": text, "calls": calls}) if (text or calls) else 1
        usage = self.usage(body, out_tokens)
        self._bill(n, usage)
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                message["tool_calls"] = calls
            reply = {
                "id": f"chatcmpl-fake{n:04d}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                "usage": usage,
            }
            return h.send_json(200, reply)
        h.start_stream()
        h.chunks(self._stream_open(body, n))
        if text:
            h.chunks(self._stream_partial(body, n, text))
        for i, call in enumerate(calls):
            first = {**call, "index": i, "function": {"name": call["function"]["name"], "arguments": ""}}
            h.chunk(_data(self._chunk(body, n, {"tool_calls": [first]})))
            for piece in pieces(call["function"]["arguments"]):
                h.chunk(
                    _data(
                        self._chunk(body, n, {"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
                    )
                )
        h.chunk(_data(self._chunk(body, n, {}, finish)))
        if (body.get("stream_options") or {}).get("include_usage"):
            last = self._chunk(body, n, {})
            last["choices"], last["usage"] = [], usage
            h.chunk(_data(last))
        h.chunk(_data(b"[DONE]"))
        h.end_stream()

    # -- a broken stream: the role chunk, part of the text, then the fault -----------------------
    def _stream_open(self, body: dict[str, Any], n: int) -> list[bytes]:
        return [_data(self._chunk(body, n, {"role": "assistant", "content": ""}))]

    def _stream_partial(self, body: dict[str, Any], n: int, text: str) -> list[bytes]:
        return [_data(self._chunk(body, n, {"content": piece})) for piece in pieces(text)]

    def _stream_error(self, fault: dict[str, Any]) -> bytes:
        message = fault.get("message", "The server had an error while processing your request.")
        etype = fault.get("stream_error", "server_error")
        return _data({"error": {"message": message, "type": etype, "param": None, "code": None}})
