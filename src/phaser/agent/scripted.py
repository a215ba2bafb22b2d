"""A provider that replays a script with no network: it serves the tests and the offline demo."""

from __future__ import annotations

from phaser.agent.provider import ModelTurn, Request, StreamCallback, StreamChunk, Usage
from phaser.agent.script import Script, ScriptCursor, estimate_tokens, stop_reason, turn_content
from phaser.errors import ProviderError


class ScriptedProvider:
    name = "scripted"

    def __init__(self, script: Script) -> None:
        self._cursor = ScriptCursor(script)
        self._n = 0
        self.requests: list[Request] = []

    def _as_wire(self, request: Request) -> dict:
        return {
            "model": request.model,
            "system": request.system,
            "messages": request.messages,
            "tools": request.tools,
            "metadata": request.metadata,
        }

    def count_tokens(self, request: Request) -> int:
        wire = self._as_wire(request)
        wire.pop("metadata")
        return estimate_tokens(wire)

    def complete(self, request: Request, on_chunk: StreamCallback | None = None) -> ModelTurn:
        self.requests.append(request)
        turn = self._cursor.next_turn(self._as_wire(request))
        if "fault" in turn:
            fault = turn["fault"]
            raise ProviderError(
                f"scripted fault: {fault.get('type', 'api_error')} ({fault.get('status', 500)})"
            )
        self._n += 1
        content = turn_content(turn, id_prefix=f"toolu_s{self._n:04d}_")
        if on_chunk is not None:
            for block in content:
                if block["type"] == "text" and block["text"]:
                    on_chunk(StreamChunk("text", block["text"]))
                elif block["type"] == "tool_use":
                    on_chunk(StreamChunk("tool", block["name"]))
        usage = Usage(input_tokens=self.count_tokens(request), output_tokens=estimate_tokens(content))
        return ModelTurn(content, stop_reason(turn), usage, request.model, id=f"msg_scripted_{self._n:04d}")
