"""Assistant turns written down ahead of time: the format shared by the scripted provider and the
fake Messages API server, so one script drives a run offline with or without the real SDK.

A script is a list of turns (or a callable from the request to a turn). A turn is a dict::

    {"text": "I'll look around first.",
     "tool_calls": [{"name": "bash", "input": {"command": "ls"}}],
     "stop_reason": "tool_use"}          # optional: derived from tool_calls

``{"fault": {"status": 529}}`` is a fault for the fake server to inject instead of a reply (the
next request gets the next turn, as an SDK retry would); the scripted provider raises it as a
ProviderError.

Turn keys: ``text`` (string), ``tool_calls`` (a list of ``{"name": str, "input": {...}, "id": str}``,
``input`` and ``id`` optional), ``content`` (a list of raw content blocks, objects with a string
``type``, sent before the text), ``stop_reason`` (string), or ``fault`` alone. Fault keys are listed in
``phaser.testing.fake_api``. ``load_script`` checks all of this before a run starts.
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
    """Read a JSON script file (a list of turns, or {"turns": [...]}), checked whole.

    Raises ValueError naming the first bad turn (1-based), e.g. ``turn 2: expected an object, got a
    string``, so a broken script fails before anything runs.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        if "turns" not in data:
            raise ValueError('expected a list of turns or {"turns": [...]}, got an object without "turns"')
        extra = sorted(set(data) - {"turns"})
        if extra:
            raise ValueError(f'unknown top-level key {extra[0]!r} (only "turns")')
        data = data["turns"]
    if not isinstance(data, list):
        raise ValueError(f"expected a list of turns, got {_kind(data)}")
    for i, turn in enumerate(data, 1):
        problem = turn_problem(turn)
        if problem:
            raise ValueError(f"turn {i}: {problem}")
    return data


TURN_KEYS = {"text", "tool_calls", "content", "stop_reason", "fault"}
TOOL_CALL_KEYS = {"name", "input", "id"}
# what each fault key must hold (see phaser.testing.fake_http; the scripted provider reads status, type)
FAULT_KEYS: dict[str, tuple[type, ...]] = {
    "status": (int,),
    "type": (str,),
    "message": (str,),
    "retry_after": (int, float),
    "drop": (bool,),
    "truncate": (bool,),
    "stream_error": (str,),
    "malformed": (bool,),
    "text": (str,),
    "stall": (int, float),
    "reply": (dict,),
}


def _kind(value: Any) -> str:
    """A JSON value's type, as a person reading the script file would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False  # JSON true is not a number
    return isinstance(value, types)


def turn_problem(turn: Any) -> str | None:
    """What is wrong with one turn spec, or None when it has the shape the readers expect."""
    if not isinstance(turn, dict):
        return f"expected an object, got {_kind(turn)}"
    unknown = sorted(set(turn) - TURN_KEYS)
    if unknown:
        return f"unknown key {unknown[0]!r} (expected {', '.join(sorted(TURN_KEYS))})"
    if "fault" in turn:
        return _fault_problem(turn)
    for key in ("text", "stop_reason"):
        if key in turn and not isinstance(turn[key], str):
            return f"{key}: expected a string, got {_kind(turn[key])}"
    calls = turn.get("tool_calls", [])
    if not isinstance(calls, list):
        return f"tool_calls: expected a list, got {_kind(calls)}"
    for j, call in enumerate(calls, 1):
        where = f"tool_calls[{j}]"
        if not isinstance(call, dict):
            return f"{where}: expected an object, got {_kind(call)}"
        unknown = sorted(set(call) - TOOL_CALL_KEYS)
        if unknown:
            return f"{where}: unknown key {unknown[0]!r} (expected id, input, name)"
        if not isinstance(call.get("name"), str) or not call["name"]:
            return f"{where}: name: expected a non-empty string, got {_kind(call.get('name'))}"
        if "input" in call and not isinstance(call["input"], dict):
            return f"{where}: input: expected an object, got {_kind(call['input'])}"
        if "id" in call and not isinstance(call["id"], str):
            return f"{where}: id: expected a string, got {_kind(call['id'])}"
    blocks = turn.get("content", [])
    if not isinstance(blocks, list):
        return f"content: expected a list, got {_kind(blocks)}"
    for j, block in enumerate(blocks, 1):
        if not isinstance(block, dict):
            return f"content[{j}]: expected an object, got {_kind(block)}"
        if not isinstance(block.get("type"), str):
            return f"content[{j}]: type: expected a string, got {_kind(block.get('type'))}"
    return None


def _fault_problem(turn: dict[str, Any]) -> str | None:
    if len(turn) > 1:
        other = sorted(set(turn) - {"fault"})[0]
        return f'a fault turn holds only "fault", not {other!r}'
    fault = turn["fault"]
    if not isinstance(fault, dict):
        return f"fault: expected an object, got {_kind(fault)}"
    for key, value in fault.items():
        if key not in FAULT_KEYS:
            return f"fault: unknown key {key!r} (expected {', '.join(sorted(FAULT_KEYS))})"
        if not _is(value, FAULT_KEYS[key]):
            want = "a number" if int in FAULT_KEYS[key] else _kind(FAULT_KEYS[key][0]())
            return f"fault: {key}: expected {want}, got {_kind(value)}"
    return None


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
