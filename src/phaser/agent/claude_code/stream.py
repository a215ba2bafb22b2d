"""Reading Claude Code's ``--output-format stream-json`` events, as phaser's own events.

One ``assistant`` event arrives per content block (the blocks of one API reply share
``message.id``), tool results come back in ``user`` events, and only the closing ``result`` event
has real usage and cost. The reader turns text into TextDelta, tool calls into ToolStarted and
ToolFinished, retries into notices, and a denial by phaser's hook into a refusal in the journal,
so the CLI and the TUI show a Claude Code step as they show phaser's own loop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phaser.agent.claude_code.hook import ACTIVE_MARKER, PLAN_TOOL_PREFIX
from phaser.agent.journal import Journal
from phaser.events import EventSink, Notice, TextDelta, ToolFinished, ToolStarted

DENIAL_MARK = "phaser edit lock: "
NOT_ENABLED = "No such tool available"


def tool_label(name: str) -> str:
    """The name phaser shows: plan tools without their MCP prefix."""
    return name[len(PLAN_TOOL_PREFIX) :] if name.startswith(PLAN_TOOL_PREFIX) else name


def summarise(name: str, args: Any, root: Path, limit: int = 160) -> str:
    """One line for ToolStarted: the command, or the path (relative to the root), or the arguments."""
    args = args if isinstance(args, dict) else {}
    if name == "Bash":
        text = str(args.get("command", ""))
    elif "file_path" in args or "notebook_path" in args or "path" in args:
        path = str(args.get("file_path") or args.get("notebook_path") or args.get("path"))
        try:
            path = Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
        text = f"{name.lower()} {path}"
    else:
        text = " ".join(f"{k}={v}" for k, v in args.items())
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _result_text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content or "")


@dataclass
class StreamState:
    """What one ``claude -p`` run said, as far as it got."""

    session_id: str = ""
    model: str = ""
    """The model Claude Code reports (it rewrites some ids), from init."""
    hook_active: bool = False
    init: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    messages: set[str] = field(default_factory=set)
    """API replies seen (one per model request): phaser's turns."""
    last_text: str = ""
    tools: dict[str, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)
    """tool_use id -> (name, summary, input), until its result arrives."""
    refused: set[str] = field(default_factory=set)
    """tool_use ids phaser's hook denied."""


class StreamReader:
    """Feeds each stream-json line to the event sink and the journal; ``state`` holds the facts."""

    def __init__(self, root: Path, step: str, nonce: str, journal: Journal, on_event: EventSink) -> None:
        self.root = root
        self.step = step
        self.nonce = nonce
        self.journal = journal
        self.on_event = on_event
        self.state = StreamState()
        self.refusals: list[dict[str, Any]] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        """One line of output; returns the event (None for a line that is not a JSON object)."""
        try:
            event = json.loads(line)
        except ValueError:
            return None
        if not isinstance(event, dict):
            return None
        kind, sub = event.get("type"), event.get("subtype")
        if kind == "system" and sub == "hook_response":
            self._hook(event)
        elif kind == "system" and sub == "init":
            self.state.init = event
            self.state.session_id = str(event.get("session_id") or "")
            self.state.model = str(event.get("model") or "")
        elif kind == "system" and sub == "api_retry":
            self._retry(event)
        elif kind == "assistant":
            self._assistant(event)
        elif kind == "user":
            self._user(event)
        elif kind == "result":
            self.state.result = event
        return event

    def _hook(self, event: dict[str, Any]) -> None:
        if event.get("hook_event") == "SessionStart":
            out = str(event.get("stdout") or "")
            if event.get("exit_code") == 0 and f"{ACTIVE_MARKER} {self.nonce}" in out:
                self.state.hook_active = True

    def _retry(self, event: dict[str, Any]) -> None:
        self.journal.write(
            "retry",
            step=self.step,
            attempt=event.get("attempt"),
            error=f"HTTP {event.get('error_status')}",
            delay_ms=event.get("retry_delay_ms"),
        )
        self.on_event(
            Notice(
                f"Claude Code retries after HTTP {event.get('error_status')} "
                f"(attempt {event.get('attempt')} of {event.get('max_retries')})",
                "warning",
            )
        )

    def _assistant(self, event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        if message.get("id"):
            self.state.messages.add(str(message["id"]))
        for block in message.get("content") or []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and block.get("text"):
                self.state.last_text = str(block["text"])
                self.on_event(TextDelta(str(block["text"]) + "\n"))
            elif block.get("type") == "tool_use":
                name = str(block.get("name", "?"))
                raw = block.get("input")
                args: dict[str, Any] = raw if isinstance(raw, dict) else {}
                summary = summarise(name, args, self.root)
                self.state.tools[str(block.get("id"))] = (name, summary, args)
                self.on_event(ToolStarted(tool_label(name), summary))

    def _user(self, event: dict[str, Any]) -> None:
        content = (event.get("message") or {}).get("content")
        for block in content if isinstance(content, list) else []:
            if not isinstance(block, dict) or block.get("type") != "tool_result":
                continue
            tid = str(block.get("tool_use_id"))
            name, summary, args = self.state.tools.pop(tid, ("?", "", {}))
            text = _result_text(block.get("content"))
            ok = not block.get("is_error", False)
            if DENIAL_MARK in text:
                self._refusal(tid, name, text.split(DENIAL_MARK, 1)[1].strip())
            elif not ok and NOT_ENABLED in text:  # a tool this step does not get (--tools)
                self._refusal(tid, name, f"(step-tools) {name} is not one of the {self.step} step's tools")
            self.on_event(ToolFinished(tool_label(name), ok, summary))
            self.journal.write("tool", step=self.step, name=name, input=args, ok=ok, result=text)

    def _refusal(self, tool_use_id: str, tool: str, reason: str) -> None:
        rule = "edit-lock"
        if reason.startswith("(") and ")" in reason:
            rule, reason = reason[1 : reason.index(")")], reason[reason.index(")") + 1 :].strip()
        record = {"step": self.step, "tool": tool, "rule": rule, "message": reason}
        self.state.refused.add(tool_use_id)
        self.refusals.append(record)
        self.journal.write("refusal", **record)

    def unlisted_denials(self) -> None:
        """Denials the result lists that phaser's hook did not make (Claude Code's own rules)."""
        for denial in (self.state.result or {}).get("permission_denials") or []:
            if isinstance(denial, dict) and str(denial.get("tool_use_id")) not in self.state.refused:
                tool = str(denial.get("tool_name", "?"))
                record = {
                    "step": self.step,
                    "tool": tool,
                    "rule": "claude-code",
                    "message": "denied by Claude Code",
                }
                self.state.refused.add(str(denial.get("tool_use_id")))
                self.refusals.append(record)
                self.journal.write("refusal", **record)
