"""A stdlib HTTP server that speaks the Anthropic Messages API wire format, for offline tests.

The real SDK is pointed at it through ``base_url``, so every layer phaser relies on (request
building, SSE parsing, SDK retries, error classes) runs for real. Replies come from the turn-script
format in ``phaser.agent.script``; entries like ``{"fault": {"status": 529}}`` inject failures.

Faithful where phaser could get it wrong: SSE framing and event order, 400s for malformed
requests, usage numbers and prompt-cache accounting, including the tokens the real API adds for tool
use (its tool-use system prompt, the schemas of the bash and text editor tools). Simplified: other
tokens come from ``estimate_tokens``; cache entries never expire (TTL ignored, all writes count
as 5m writes); the cache looks back over every block boundary up to the last breakpoint instead of 20 blocks;
``count_tokens`` never consumes the script nor triggers faults.

Fault keys (each consumed instead of a reply; the next request gets the next turn):
``status`` (+ ``type``, ``message``, ``retry_after`` seconds -> ``retry-after``/``retry-after-ms``
headers, where zero goes out as 1 ms because SDK 2.14 treats a zero wait as absent; a 429 defaults to
``retry_after: 0``), ``drop`` (close the connection mid-stream),
``truncate`` (end the body cleanly before message_stop), ``stream_error`` (an ``event: error`` after
HTTP 200), ``malformed`` (a data line that is not JSON).
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from phaser.agent.script import Script, ScriptCursor, TurnSpec, estimate_tokens, stop_reason, turn_content

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
_SECRET_HEADERS = {"x-api-key", "authorization"}


class InvalidRequest(Exception):
    """A request the real API would answer with 400 invalid_request_error."""


def _canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content or [])


def _pieces(text: str, n: int = 3) -> list[str]:
    """Split text into up to n non-empty pieces, as the API splits deltas anywhere."""
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def prompt_blocks(body: dict[str, Any]) -> list[tuple[Any, bool]]:
    """The prompt as the cache sees it: (block without cache_control, is_breakpoint), in order
    tools -> system -> messages. A block's identity includes where it sits (role)."""
    out: list[tuple[Any, bool]] = []

    def add(kind: str, block: dict[str, Any]) -> None:
        clean = {k: v for k, v in block.items() if k != "cache_control"}
        out.append(([kind, clean], "cache_control" in block))

    for tool in body.get("tools") or []:
        add("tool", tool)
    for block in _blocks(body.get("system")):
        add("system", block)
    for msg in body.get("messages") or []:
        for block in _blocks(msg.get("content")):
            add(msg.get("role", ""), block)
    if body.get("cache_control") and out:  # automatic caching: a breakpoint on the last block
        out[-1] = (out[-1][0], True)
    return out


# What the real API bills beyond the JSON a client sends, from the tool-use pricing docs: a tool-use
# system prompt whenever tools are present (346 tokens with tool_choice auto/none, 313 with any/tool)
# and the schemas of Anthropic-defined tools, which the server expands from their `type`.
TOOL_USE_SYSTEM_TOKENS = {"auto": 346, "none": 346, "any": 313, "tool": 313}
SERVER_TOOL_TOKENS = {"bash_": 245, "text_editor_": 700}


def prompt_tokens(body: dict[str, Any]) -> list[int]:
    """Tokens of each prompt block (``prompt_blocks`` order), overheads included, so that usage
    figures and cache splits add up to what the real API would bill."""
    blocks = prompt_blocks(body)
    out = []
    for (kind, block), _ in blocks:
        server = next(
            (n for prefix, n in SERVER_TOOL_TOKENS.items() if str(block.get("type", "")).startswith(prefix)),
            None,
        )
        out.append(
            server if kind == "tool" and server is not None else estimate_tokens(_canon([kind, block]))
        )
    if body.get("tools") and out:
        choice = (body.get("tool_choice") or {}).get("type", "auto")
        out[0] += TOOL_USE_SYSTEM_TOKENS.get(choice, 346)
    return out


def count_input_tokens(body: dict[str, Any]) -> int:
    """Input tokens of a request: the sum over its prompt blocks, so cache splits add up."""
    return sum(prompt_tokens(body))


def _count_breakpoints(body: dict[str, Any]) -> int:
    n = 1 if body.get("cache_control") else 0
    n += sum(1 for t in body.get("tools") or [] if "cache_control" in t)
    n += sum(1 for b in _blocks(body.get("system")) if isinstance(b, dict) and "cache_control" in b)
    for msg in body.get("messages") or []:
        n += sum(1 for b in _blocks(msg.get("content")) if isinstance(b, dict) and "cache_control" in b)
    return n


def validate(body: Any, *, count_only: bool = False) -> None:
    """Raise InvalidRequest for the mistakes the real API rejects and phaser could make."""
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    required = ("model", "messages") if count_only else ("model", "max_tokens", "messages")
    for key in required:
        if key not in body:
            raise InvalidRequest(f"{key}: Field required")
    if not count_only and (not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1):
        raise InvalidRequest("max_tokens: must be a positive integer")
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: at least one message is required")
    names: set[str] = set()
    for i, tool in enumerate(body.get("tools") or []):
        if "name" not in tool:
            raise InvalidRequest(f"tools.{i}.name: Field required")
        if tool.get("type", "custom") == "custom" and "input_schema" not in tool:
            raise InvalidRequest(f"tools.{i}.custom.input_schema: Field required")
        if tool["name"] in names:
            raise InvalidRequest("tools: Tool names must be unique.")
        names.add(tool["name"])
    found = _count_breakpoints(body)
    if found > 4:
        raise InvalidRequest(f"A maximum of 4 blocks with cache_control may be provided. Found {found}.")
    pending: list[str] = []  # tool_use ids the next user message must answer
    convo = [(i, m) for i, m in enumerate(messages) if m.get("role") != "system"]
    for pos, (i, msg) in enumerate(convo):
        role = msg.get("role")
        if role not in ("user", "assistant"):
            raise InvalidRequest(f"messages.{i}.role: Input should be 'user', 'assistant' or 'system'")
        blocks = _blocks(msg.get("content"))
        if not blocks and not (role == "assistant" and pos == len(convo) - 1):
            raise InvalidRequest(
                f"messages.{i}: all messages must have non-empty content except for the optional final "
                "assistant message"
            )
        for block in blocks:
            if block.get("type") == "text" and not block.get("text"):
                raise InvalidRequest(f"messages.{i}: text content blocks must be non-empty")
        if role == "user":
            results = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
            missing = [t for t in pending if t not in results]
            if missing:
                raise InvalidRequest(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately "
                    "after: "
                    f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` "
                    "block "
                    "in the next message."
                )
            extra = [t for t in results if t not in pending]
            if extra:
                raise InvalidRequest(
                    f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{', '.join(map(str, extra))}. Each `tool_result` block must have a corresponding "
                    "`tool_use` block in the previous message."
                )
            pending = []
        else:
            if pending:
                raise InvalidRequest(
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately "
                    "after: "
                    f"{', '.join(pending)}."
                )
            pending = [b["id"] for b in blocks if b.get("type") == "tool_use"]


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def block_events(index: int, block: dict[str, Any]) -> list[bytes]:
    """content_block_start / deltas / stop for one block, split the way the real API splits them."""
    kind = block.get("type")
    if kind == "text":
        start, deltas = (
            {**block, "text": ""},
            [{"type": "text_delta", "text": p} for p in _pieces(block["text"])],
        )
    elif kind == "tool_use":
        pieces = ["", *_pieces(json.dumps(block.get("input", {})))]
        start, deltas = (
            {**block, "input": {}},
            [{"type": "input_json_delta", "partial_json": p} for p in pieces],
        )
    elif kind == "thinking":
        start = {**block, "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block.get("thinking", ""))]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
    else:  # redacted_thinking and friends arrive whole in the start event
        start, deltas = block, []
    out = [
        _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
    ]
    out += [
        _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
        for d in deltas
    ]
    out.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not block stop()
    api: FakeMessagesAPI

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # clients hang up; that's fine
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like the real API
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
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

    def start_stream(self, request_id: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", request_id)
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class FakeMessagesAPI:
    """A local Messages API: ``with FakeMessagesAPI(script) as api: Anthropic(base_url=api.base_url)``."""

    def __init__(
        self, script: Script = (), *, min_cache_tokens: int = 1024, api_key: str | None = None
    ) -> None:
        self.min_cache_tokens = min_cache_tokens
        self.api_key = api_key  # when set, any other key gets a 401 like the real API
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._cache: set[str] = set()
        self._n = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.set_script(script)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeMessagesAPI:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.02,),  # poll interval: stop() waits up to one of these
            name="fake-messages-api",
            daemon=True,
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

    def __enter__(self) -> FakeMessagesAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeMessagesAPI is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- script and cache ------------------------------------------------------------------
    def set_script(self, script: Script) -> None:
        with self._lock:
            self._turns: list[TurnSpec] | None = None
            if callable(script):
                self._cursor = ScriptCursor(script)
            else:
                self._turns = list(script)  # the cursor shares the list: add_turns appends to it
                self._cursor = ScriptCursor(self._turns)

    def add_turns(self, *turns: TurnSpec) -> None:
        with self._lock:
            if self._turns is None:
                raise TypeError("cannot add turns to a callable script; use set_script")
            self._turns.extend(turns)

    def reset_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    @property
    def remaining(self) -> int:
        return self._cursor.remaining

    def cache_usage(self, body: dict[str, Any]) -> dict[str, Any]:
        """Usage for a request, and store its breakpoint prefixes in the cache."""
        blocks = prompt_blocks(body)
        digest = hashlib.sha256(str(body.get("model")).encode())
        hashes, totals, total = [], [], 0
        for (block, _), tokens in zip(blocks, prompt_tokens(body), strict=True):
            digest.update(_canon(block).encode() + b"\x00")
            hashes.append(digest.copy().hexdigest())
            total += tokens
            totals.append(total)
        marks = [i for i, (_, bp) in enumerate(blocks) if bp]
        read = written = 0
        if marks:
            last = marks[-1]
            with self._lock:
                hit = next((j for j in range(last, -1, -1) if hashes[j] in self._cache), None)
                read = totals[hit] if hit is not None else 0
                if totals[last] >= self.min_cache_tokens:
                    written = totals[last] - read
                    self._cache.update(hashes[i] for i in marks if totals[i] >= self.min_cache_tokens)
        return {
            "input_tokens": total - read - written,
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": written, "ephemeral_1h_input_tokens": 0},
        }

    # -- HTTP ------------------------------------------------------------------------------
    def _handle(self, h: _Handler) -> None:
        url = urlsplit(h.path)
        raw = h.rfile.read(int(h.headers.get("content-length") or 0))
        headers = {
            k.lower(): ("<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in h.headers.items()
        }
        try:
            body: Any = json.loads(raw or b"null")
        except ValueError:
            body = None
        # the SDK sends its key as `x-api-key` or (2.14) `Authorization: Bearer`; both count
        bearer = h.headers.get("authorization", "")
        key = h.headers.get("x-api-key") or (bearer[7:] if bearer.lower().startswith("bearer ") else None)
        record = {
            "path": url.path,
            "query": url.query,
            "headers": headers,
            "api_key": key is not None,
            "body": body,
        }
        with self._lock:
            self.requests.append(record)
            self._n += 1
            n = self._n
        rid = f"req_fake_{n:04d}"
        if key is None:
            return self._error(h, 401, "x-api-key header is required", rid)
        if self.api_key is not None and key != self.api_key:
            return self._error(h, 401, "invalid x-api-key", rid)
        if "anthropic-version" not in headers:
            return self._error(h, 400, "anthropic-version: header is required", rid)
        if url.path not in ("/v1/messages", "/v1/messages/count_tokens"):
            return self._error(h, 404, f"Not found: {url.path}", rid)
        count_only = url.path.endswith("/count_tokens")
        try:
            validate(body, count_only=count_only)
        except InvalidRequest as e:
            return self._error(h, 400, str(e), rid)
        if count_only:
            return h.send_json(200, {"input_tokens": count_input_tokens(body)}, {"request-id": rid})
        with self._lock:
            turn = self._cursor.next_turn(body)
        if "fault" in turn:
            return self._fault(h, turn["fault"], body, n, rid)
        self._reply(h, turn, body, n, rid)

    def _error(
        self, h: _Handler, status: int, message: str, rid: str, etype: str = "", **headers: str
    ) -> None:
        etype = etype or ERROR_TYPES.get(status, "api_error")
        error = {"type": "error", "error": {"type": etype, "message": message}, "request_id": rid}
        h.send_json(status, error, {"request-id": rid, **headers})

    def _message(self, body: dict[str, Any], content: list[dict[str, Any]], n: int) -> dict[str, Any]:
        usage = self.cache_usage(body)
        with self._lock:
            self.requests[n - 1]["usage"] = dict(usage)  # what this request was billed, for tests
        return {
            "id": f"msg_fake_{n:04d}",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": 1, "service_tier": "standard"},
        }

    def _reply(self, h: _Handler, turn: TurnSpec, body: dict[str, Any], n: int, rid: str) -> None:
        content = [
            b
            for b in turn_content(turn, id_prefix=f"toolu_f{n:04d}_")
            if not (b["type"] == "text" and not b["text"])
        ]
        message = self._message(body, [], n)
        output_tokens = estimate_tokens(content) if content else 1
        reason = stop_reason(turn)
        if not body.get("stream"):
            message.update(content=content, stop_reason=reason)
            message["usage"]["output_tokens"] = output_tokens
            return h.send_json(200, message, {"request-id": rid})
        h.start_stream(rid)
        h.chunk(_sse("message_start", {"type": "message_start", "message": message}))
        h.chunk(_sse("ping", {"type": "ping"}))
        for i, block in enumerate(content):
            for event in block_events(i, block):
                h.chunk(event)
        delta = {"stop_reason": reason, "stop_sequence": None}
        h.chunk(
            _sse(
                "message_delta",
                {"type": "message_delta", "delta": delta, "usage": {"output_tokens": output_tokens}},
            )
        )
        h.chunk(_sse("message_stop", {"type": "message_stop"}))
        h.end_stream()

    def _fault(self, h: _Handler, fault: dict[str, Any], body: dict[str, Any], n: int, rid: str) -> None:
        if "status" in fault:
            status = int(fault["status"])
            retry_after = fault.get("retry_after", 0 if status == 429 else None)
            headers = {}
            if retry_after is not None:  # the SDK ignores a zero wait and backs off: send at least 1 ms
                ms = max(1, round(retry_after * 1000))
                headers = {"retry-after": str(round(retry_after)), "retry-after-ms": str(ms)}
            message = fault.get("message", f"fake {ERROR_TYPES.get(status, 'error')}")
            return self._error(h, status, message, rid, fault.get("type", ""), **headers)
        if not body.get("stream"):  # stream faults on a plain request: the closest plain failure
            return self._error(h, 529, "Overloaded", rid)
        h.start_stream(rid)
        h.chunk(_sse("message_start", {"type": "message_start", "message": self._message(body, [], n)}))
        if fault.get("malformed"):
            h.chunk(b"event: content_block_start\ndata: {not json\n\n")
            return h.end_stream()
        partial = {"type": "text", "text": fault.get("text", "partial reply that will be")}
        for event in block_events(0, partial)[:-1]:
            h.chunk(event)
        if fault.get("drop"):
            h.close_connection = True  # no terminating chunk: the client sees a truncated body
            return None
        if fault.get("truncate"):  # a clean end of body, but no message_delta / message_stop
            return h.end_stream()
        etype = fault.get("stream_error", "overloaded_error")
        error = {"type": "error", "error": {"type": etype, "message": fault.get("message", "Overloaded")}}
        h.chunk(_sse("error", error))
        h.end_stream()
