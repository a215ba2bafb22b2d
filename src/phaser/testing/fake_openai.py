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

Fault keys (see ``phaser.agent.script``), each consumed instead of a reply: ``status`` (+ ``message``,
``type``, ``retry_after`` -> ``retry-after``/``retry-after-ms``; a 429 defaults to 0 s, sent as 1 ms),
``drop`` (close the connection mid-stream), ``truncate`` (end the body cleanly with no finish_reason
and no [DONE]), ``stream_error`` (an ``{"error": ...}`` object after HTTP 200), ``malformed`` (a data
line that is not JSON).

A tool call whose ``input`` is a string (not allowed in script files) sends that string verbatim as
its ``arguments``, to test how phaser meets arguments that are not a JSON object.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from phaser.agent.script import Script, ScriptCursor, TurnSpec, estimate_tokens

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


def _pieces(text: str, n: int = 3) -> list[str]:
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


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


def _arguments(value: Any) -> str:
    """A tool call's arguments as sent: a string input goes out verbatim (broken JSON, for tests)."""
    return value if isinstance(value, str) else json.dumps(value)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    api: FakeChatAPI

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.server.api._handle(self)

    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def data(self, obj: Any) -> None:
        self.chunk(b"data: " + (obj if isinstance(obj, bytes) else json.dumps(obj).encode()) + b"\n\n")

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class FakeChatAPI:
    """A local chat-completions API: ``with FakeChatAPI(script) as api: OpenAI(base_url=api.base_url)``."""

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
        self.api_key = api_key
        self.min_cache_tokens = min_cache_tokens
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._seen: set[tuple[str, str]] = set()
        self._n = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.set_script(script)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeChatAPI:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-chat-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeChatAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeChatAPI is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def set_script(self, script: Script) -> None:
        with self._lock:
            turns = None if callable(script) else list(script)
            self._turns: list[TurnSpec] | None = turns
            self._cursor = ScriptCursor(script if turns is None else turns)

    def add_turns(self, *turns: TurnSpec) -> None:
        with self._lock:
            if self._turns is None:
                raise TypeError("cannot add turns to a callable script; use set_script")
            self._turns.extend(turns)

    @property
    def remaining(self) -> int:
        return self._cursor.remaining

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
    def _handle(self, h: _Handler) -> None:
        url = urlsplit(h.path)
        raw = h.rfile.read(int(h.headers.get("content-length") or 0))
        try:
            body: Any = json.loads(raw or b"null")
        except ValueError:
            body = None
        bearer = h.headers.get("authorization", "")
        key = bearer[7:] if bearer.lower().startswith("bearer ") else None
        record = {"path": url.path, "api_key": key is not None, "body": body}
        with self._lock:
            self.requests.append(record)
            self._n += 1
            n = self._n
        if self.api_key is not None and key != self.api_key:
            return self._error(h, 401, "Incorrect API key provided.")
        if url.path != "/v1/chat/completions":
            return self._error(h, 404, f"Not found: {url.path}")
        try:
            validate(body)
        except InvalidRequest as e:
            return self._error(h, 400, str(e))
        with self._lock:
            turn = self._cursor.next_turn(body)
        if "fault" in turn:
            return self._fault(h, turn["fault"], body, n)
        self._reply(h, turn, body, n)

    def _error(self, h: _Handler, status: int, message: str, etype: str = "", **headers: str) -> None:
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

    def _reply(self, h: _Handler, turn: TurnSpec, body: dict[str, Any], n: int) -> None:
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
        with self._lock:
            self.requests[n - 1]["usage"] = usage
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
        h.data(self._chunk(body, n, {"role": "assistant", "content": ""}))
        if text:
            for piece in _pieces(text):
                h.data(self._chunk(body, n, {"content": piece}))
        for i, call in enumerate(calls):
            first = {**call, "index": i, "function": {"name": call["function"]["name"], "arguments": ""}}
            h.data(self._chunk(body, n, {"tool_calls": [first]}))
            for piece in _pieces(call["function"]["arguments"]):
                h.data(self._chunk(body, n, {"tool_calls": [{"index": i, "function": {"arguments": piece}}]}))
        h.data(self._chunk(body, n, {}, finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            last = self._chunk(body, n, {})
            last["choices"], last["usage"] = [], usage
            h.data(last)
        h.data(b"[DONE]")
        h.end_stream()

    def _fault(self, h: _Handler, fault: dict[str, Any], body: dict[str, Any], n: int) -> None:
        if "status" in fault:
            status = int(fault["status"])
            retry_after = fault.get("retry_after", 0 if status == 429 else None)
            headers = {}
            if retry_after is not None:
                ms = max(1, round(retry_after * 1000))
                headers = {"retry-after": str(round(retry_after)), "retry-after-ms": str(ms)}
            message = fault.get("message", f"fake {ERROR_TYPES.get(status, 'error')}")
            return self._error(h, status, message, fault.get("type", ""), **headers)
        if not body.get("stream"):
            return self._error(h, 503, "The server is overloaded")
        h.start_stream()
        h.data(self._chunk(body, n, {"role": "assistant", "content": ""}))
        if fault.get("malformed"):
            h.chunk(b"data: {not json\n\n")
            return h.end_stream()
        for piece in _pieces(fault.get("text", "partial reply that will be")):
            h.data(self._chunk(body, n, {"content": piece}))
        if fault.get("drop"):
            h.close_connection = True  # no terminating chunk: the client sees a truncated body
            return None
        if fault.get("truncate"):
            return h.end_stream()
        message = fault.get("message", "The server had an error while processing your request.")
        etype = fault.get("stream_error", "server_error")
        h.data({"error": {"message": message, "type": etype, "param": None, "code": None}})
        h.end_stream()
