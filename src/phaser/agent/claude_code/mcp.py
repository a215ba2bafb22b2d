"""phaser's plan tools (claim a task, add a note, add a task) as an MCP server for Claude Code.

Two halves, because the ``claude`` process runs confined and may not write the plan itself:

* ``PlanToolServer`` runs in phaser, on a Unix socket in a private folder. Each request is one tool
  call, run by the phase's own ``ToolBox`` (the same safe plan edits and claim bookkeeping as
  phaser's loop; nothing is forked), one call at a time.
* ``python -m phaser.agent.claude_code.mcp SOCKET`` is the stdio MCP server that ``claude`` starts
  (``--mcp-config``, ``--strict-mcp-config``). It speaks JSON-RPC on stdin/stdout and forwards
  ``tools/call`` to the socket. It imports nothing of phaser, so it starts fast.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

SERVER_NAME = "phaser"
PLAN_TOOLS = ("claim_task", "add_note", "add_task")
PROTOCOL_VERSION = "2025-06-18"
MAX_MESSAGE = 1 << 20


def tool_names() -> list[str]:
    """The names Claude Code gives the plan tools (for --allowedTools)."""
    return [f"mcp__{SERVER_NAME}__{name}" for name in PLAN_TOOLS]


class PlanToolServer:
    """Serves the plan tools of one phase to the MCP bridge over a Unix socket."""

    def __init__(self, toolbox: Any, socket_path: Path) -> None:
        self.toolbox = toolbox
        self.path = Path(socket_path)
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> PlanToolServer:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(self.path))
        os.chmod(self.path, 0o600)
        sock.listen(8)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="phaser-plan-tools", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def definitions(self) -> list[dict[str, Any]]:
        from phaser.agent.tools import CUSTOM_TOOLS

        return [
            {"name": t["name"], "description": t["description"], "inputSchema": t["input_schema"]}
            for t in CUSTOM_TOOLS
            if t["name"] in PLAN_TOOLS
        ]

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """One request from the bridge: ``{"list": true}`` or ``{"name": ..., "input": {...}}``."""
        from phaser.agent.provider import ToolCall

        if request.get("list"):
            return {"tools": self.definitions()}
        name = request.get("name")
        if name not in PLAN_TOOLS:
            return {
                "content": f"Unknown tool {name!r}; the plan tools are {', '.join(PLAN_TOOLS)}.",
                "is_error": True,
            }
        args = request.get("input")
        call = ToolCall(str(request.get("id") or name), str(name), args if isinstance(args, dict) else {})
        with self._lock:
            block = self.toolbox.run(call)
            self.calls.append({"name": name, "input": call.input, "ok": not block.get("is_error", False)})
        return {"content": block["content"], "is_error": bool(block.get("is_error", False))}

    def _serve(self) -> None:
        while self._sock is not None:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                request = json.loads(_read_line(conn))
                reply = self.handle(request if isinstance(request, dict) else {})
            except Exception as exc:  # noqa: BLE001 - a bad request is an error result, not a crash
                reply = {"content": f"plan tool failed: {type(exc).__name__}: {exc}", "is_error": True}
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps(reply).encode() + b"\n")


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n") and len(data) < MAX_MESSAGE:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


# -- the stdio bridge that claude starts ----------------------------------------------------------


def _ask(socket_path: str, request: dict[str, Any]) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(60)
        conn.connect(socket_path)
        conn.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(_read_line(conn))
    return reply if isinstance(reply, dict) else {"content": "bad reply from phaser", "is_error": True}


def _rpc(socket_path: str, message: dict[str, Any]) -> dict[str, Any] | None:
    method, params = message.get("method"), message.get("params") or {}
    if method == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": params.get("protocolVersion") or PROTOCOL_VERSION,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": SERVER_NAME, "version": "1"},
        }
    elif method == "tools/list":
        result = {"tools": _ask(socket_path, {"list": True}).get("tools", [])}
    elif method == "tools/call":
        try:
            reply = _ask(socket_path, {"name": params.get("name"), "input": params.get("arguments") or {}})
        except (OSError, ValueError) as exc:
            reply = {"content": f"phaser's plan tools are unreachable: {exc}", "is_error": True}
        result = {
            "content": [{"type": "text", "text": str(reply.get("content", ""))}],
            "isError": bool(reply.get("is_error")),
        }
    elif method == "ping":
        result = {}
    elif "id" not in message:
        return None  # a notification (initialized, cancelled): nothing to answer
    else:
        return {
            "jsonrpc": "2.0",
            "id": message["id"],
            "error": {"code": -32601, "message": f"no method {method}"},
        }
    if "id" not in message:
        return None
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        sys.stderr.write("usage: python -m phaser.agent.claude_code.mcp SOCKET\n")
        return 2
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
            reply = _rpc(argv[0], message) if isinstance(message, dict) else None
        except Exception as exc:  # noqa: BLE001 - answer with a JSON-RPC error, keep serving
            reply = {"jsonrpc": "2.0", "id": None, "error": {"code": -32603, "message": str(exc)}}
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
