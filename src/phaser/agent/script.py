"""Assistant turns written down ahead of time: the format shared by the scripted provider and the
fake Messages API server, so one script drives a run offline with or without the real SDK.

A script is a list of turns (or a callable from the request to a turn). A turn is a dict::

    {"text": "I'll look around first.",
     "tool_calls": [{"name": "bash", "input": {"command": "ls"}}],
     "stop_reason": "tool_use"}          # optional: derived from tool_calls

``{"fault": {"status": 529}}`` is a fault for the fake server to inject instead of a reply (the
next request gets the next turn, as an SDK retry would); the scripted provider raises it as a
ProviderError.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

TurnSpec = dict[str, Any]
Script = Sequence[TurnSpec] | Callable[[dict[str, Any]], TurnSpec]


def estimate_tokens(obj: Any) -> int:
    """A deterministic stand-in for a tokenizer: about four bytes of JSON per token."""
    if not isinstance(obj, str):
        obj = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return max(1, math.ceil(len(obj.encode("utf-8")) / 4))


def turn_content(turn: TurnSpec, id_prefix: str = "toolu_") -> list[dict[str, Any]]:
    """Content blocks of a turn spec, in the Messages API's shape, with stable tool ids."""
    blocks: list[dict[str, Any]] = []
    for block in turn.get("content", []):
        blocks.append(dict(block))
    if turn.get("text"):
        blocks.append({"type": "text", "text": turn["text"]})
    for i, call in enumerate(turn.get("tool_calls", [])):
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id") or f"{id_prefix}{i:02d}",
                "name": call["name"],
                "input": call.get("input", {}),
            }
        )
    if not blocks:
        blocks.append({"type": "text", "text": ""})
    return blocks


def stop_reason(turn: TurnSpec) -> str:
    if turn.get("stop_reason"):
        return turn["stop_reason"]
    return "tool_use" if turn.get("tool_calls") else "end_turn"


def load_script(path: str | Path) -> list[TurnSpec]:
    """Read a JSON script file (a list of turns, or {"turns": [...]})."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("turns", [])
    if not isinstance(data, list):
        raise ValueError(f"{path}: a script is a list of turns")
    return data


class ScriptCursor:
    """Hands out the turns of a script one request at a time."""

    def __init__(self, script: Script) -> None:
        self._script = script
        self._pos = 0

    def next_turn(self, request: dict[str, Any]) -> TurnSpec:
        if callable(self._script):
            return self._script(request)
        if self._pos >= len(self._script):
            return {"text": "(the script has no more turns)", "stop_reason": "end_turn"}
        turn = self._script[self._pos]
        self._pos += 1
        return turn

    @property
    def remaining(self) -> int:
        return 0 if callable(self._script) else len(self._script) - self._pos
