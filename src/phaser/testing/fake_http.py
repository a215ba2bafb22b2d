"""What the fake model APIs share: a stdlib HTTP server on 127.0.0.1, request parsing and recording,
chunked SSE writing, the turn script, and the faults every wire format knows.

``FakeMessagesAPI`` (``fake_api``) and ``FakeChatAPI`` (``fake_openai``) are thin layers over
``FakeServer``: each says how its API checks a request, words an error, and frames a reply, a partial
reply and a mid-stream error. Everything here is wire-format neutral, so a fault means the same thing
on both paths: ``status`` (+ ``message``, ``type``, ``retry_after`` seconds -> ``retry-after`` and
``retry-after-ms`` headers, where zero goes out as 1 ms because the SDKs treat a zero wait as absent;
a 429 defaults to ``retry_after: 0``), ``drop`` (close the connection mid-stream), ``truncate`` (end
the body cleanly before the reply's end), ``stream_error`` (an error event after HTTP 200),
``malformed`` (a data line that is not JSON), ``stall`` (seconds to wait, or until ``stop()``, before
answering with the turn under ``reply``, default a short text: a server slower than a client's timeout).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import urlsplit

from phaser.agent.script import Script, ScriptCursor, TurnSpec

_SECRET_HEADERS = {"x-api-key", "authorization"}
_PARTIAL_TEXT = "partial reply that will be"
_F = TypeVar("_F", bound="FakeServer")


def pieces(text: str, n: int = 3) -> list[str]:
    """Split text into up to n non-empty pieces, as the real APIs split deltas anywhere."""
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def retry_headers(fault: dict[str, Any]) -> dict[str, str]:
    """The retry-after headers of a ``status`` fault (a 429 waits 0 s unless told otherwise)."""
    retry_after = fault.get("retry_after", 0 if int(fault["status"]) == 429 else None)
    if retry_after is None:
        return {}
    ms = max(1, round(retry_after * 1000))  # the SDKs ignore a zero wait and back off: at least 1 ms
    return {"retry-after": str(round(retry_after)), "retry-after-ms": str(ms)}


@dataclass
class Received:
    """One parsed request: what the layers check and answer; ``n`` counts from 1."""

    path: str
    body: Any
    key: str | None
    headers: dict[str, str]
    n: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not block stop()
    api: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # clients hang up; that's fine
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    """One connection. Every response carries the request's id under the API's header name."""

    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like the real APIs
    timeout = 30
    server: _Server
    request_id = ""

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        self.server.api._handle(self)

    def _id_header(self) -> None:
        if self.request_id:
            self.send_header(self.server.api.request_id_header, self.request_id)

    def send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self._id_header()
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self._id_header()
        self.end_headers()

    def chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def chunks(self, events: Iterable[bytes]) -> None:
        for data in events:
            self.chunk(data)

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class FakeServer:
    """A scripted API on 127.0.0.1: ``with Fake(script) as api: Client(base_url=api.base_url)``.

    A layer sets the class attributes and implements ``_handle`` (check, then ``_serve_turn``),
    ``_error``, ``_reply`` and the three pieces of a broken stream (``_stream_open``,
    ``_stream_partial``, ``_stream_error``)."""

    thread_name = "fake-api"
    url_path = ""  # what base_url ends in (the SDK appends the rest)
    request_id_header = "request-id"
    request_id_format = "req_fake_{n:04d}"
    error_types: dict[int, str] = {}
    malformed_line = b"data: {not json\n\n"
    overloaded = (529, "Overloaded")  # what a stream fault turns into on a request that does not stream

    def __init__(
        self, script: Script = (), *, api_key: str | None = None, min_cache_tokens: int = 1024
    ) -> None:
        self.api_key = api_key  # when set, any other key gets a 401 like the real API
        self.min_cache_tokens = min_cache_tokens
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._n = 0
        self._stopping = threading.Event()  # ends stalls, so stop() never waits on one
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.set_script(script)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self: _F) -> _F:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.02,),  # poll interval: stop() waits up to one of these
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self: _F) -> _F:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.url_path}"

    # -- script ----------------------------------------------------------------------------
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

    @property
    def remaining(self) -> int:
        return self._cursor.remaining

    def _bill(self, n: int, usage: dict[str, Any]) -> None:
        """Record what request ``n`` was billed, for tests."""
        with self._lock:
            self.requests[n - 1]["usage"] = dict(usage)

    # -- HTTP ------------------------------------------------------------------------------
    def _receive(self, h: Handler) -> Received:
        """Read, parse and record one request (secret headers redacted); give it its id."""
        url = urlsplit(h.path)
        raw = h.rfile.read(int(h.headers.get("content-length") or 0))
        headers = {
            k.lower(): ("<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in h.headers.items()
        }
        try:
            body: Any = json.loads(raw or b"null")
        except ValueError:
            body = None
        # a key comes as `x-api-key` (Anthropic) or `Authorization: Bearer` (both SDKs); both count
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
        h.request_id = self.request_id_format.format(n=n)
        return Received(url.path, body, key, headers, n)

    def _serve_turn(self, h: Handler, body: dict[str, Any], n: int) -> None:
        """The script's next turn: a reply, or the fault it names."""
        with self._lock:
            turn = self._cursor.next_turn(body)
        if "fault" in turn:
            return self._fault(h, turn["fault"], body, n)
        self._reply(h, turn, body, n)

    def _fault(self, h: Handler, fault: dict[str, Any], body: dict[str, Any], n: int) -> None:
        if "stall" in fault:
            self._stopping.wait(float(fault["stall"]))
            return self._reply(h, fault.get("reply", {"text": "slow, but here"}), body, n)
        if "status" in fault:
            status = int(fault["status"])
            message = fault.get("message", f"fake {self.error_types.get(status, 'error')}")
            return self._error(h, status, message, fault.get("type", ""), **retry_headers(fault))
        if not body.get("stream"):  # stream faults on a plain request: the closest plain failure
            return self._error(h, *self.overloaded)
        h.start_stream()
        h.chunks(self._stream_open(body, n))
        if fault.get("malformed"):
            h.chunk(self.malformed_line)
            return h.end_stream()
        h.chunks(self._stream_partial(body, n, fault.get("text", _PARTIAL_TEXT)))
        if fault.get("drop"):
            h.close_connection = True  # no terminating chunk: the client sees a truncated body
            return None
        if fault.get("truncate"):  # a clean end of body, but not the reply's end
            return h.end_stream()
        h.chunk(self._stream_error(fault))
        h.end_stream()

    # -- the wire format (a layer's part) ---------------------------------------------------
    def _handle(self, h: Handler) -> None:
        raise NotImplementedError

    def _error(self, h: Handler, status: int, message: str, etype: str = "", **headers: str) -> None:
        raise NotImplementedError

    def _reply(self, h: Handler, turn: TurnSpec, body: dict[str, Any], n: int) -> None:
        raise NotImplementedError

    def _stream_open(self, body: dict[str, Any], n: int) -> list[bytes]:
        """The events a broken stream starts with (the reply's head)."""
        raise NotImplementedError

    def _stream_partial(self, body: dict[str, Any], n: int, text: str) -> list[bytes]:
        """Part of a text reply, cut before its end."""
        raise NotImplementedError

    def _stream_error(self, fault: dict[str, Any]) -> bytes:
        """The error event that ends a ``stream_error`` fault."""
        raise NotImplementedError
