"""Claude Code's PreToolUse hook: phaser's edit lock, run by the ``claude`` process before each tool.

Claude Code lets a tool run when a hook exits 1, crashes or is missing, so this command turns every
way it can fail into a denial: any exception, an unreadable or missing policy file, a malformed
input, and its own deadline (an alarm, shorter than the timeout Claude Code gives it) all exit 2.
Exit 0 (allow) is reached only after the policy file said yes. The same command answers the
``SessionStart`` hook with a marker, which is how phaser sees at start that its hook is active.

Usage: ``python -m phaser.agent.claude_code.hook POLICY.json`` with the hook input on stdin.
The policy file is written by phaser for every step: root, step, protected globs, the plan path.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

DENY = 2
DEADLINE_S = 10
"""The hook's own deadline; Claude Code's hook timeout is set higher (settings ``timeout``)."""
ACTIVE_MARKER = "phaser-hook-active"

READ_TOOLS = frozenset({"Read", "Glob", "Grep", "LS", "TodoWrite"})
EDIT_TOOLS = {"Write": "create", "Edit": "modify", "MultiEdit": "modify", "NotebookEdit": "modify"}
PLAN_TOOL_PREFIX = "mcp__phaser__"


def decide(policy_data: dict[str, Any], hook_input: dict[str, Any]) -> str | None:
    """None to allow the tool call, else the reason it is denied (shown to the model)."""
    from phaser.agent.policy import PathPolicy, PolicyRefusal, Step

    step = Step(policy_data["step"])
    tool = hook_input.get("tool_name")
    args = hook_input.get("tool_input")
    if not isinstance(tool, str) or not isinstance(args, dict):
        return "the tool call could not be read"
    if tool in READ_TOOLS:
        path = args.get("file_path") or args.get("path")
        if isinstance(path, str) and path and _touches_state(policy_data["root"], path):
            return f"{path} is phaser's run state, not part of the project"
        return None
    if tool.startswith(PLAN_TOOL_PREFIX):
        return None
    if step is not Step.CODE:
        return f"the {step.value} step may not change files or run commands; only the code step writes"
    if tool == "Bash":
        return None  # judged by the confinement around claude and the snapshot after the step
    action = EDIT_TOOLS.get(tool)
    if action is None:
        return f"{tool} is not one of the tools phaser allows in a phase"
    path = args.get("notebook_path") if tool == "NotebookEdit" else args.get("file_path")
    policy = PathPolicy(
        Path(policy_data["root"]),
        list(policy_data["protected"]),
        list(policy_data.get("unprotect", [])),
        Path(policy_data["plan_path"]) if policy_data.get("plan_path") else None,
    )
    try:
        policy.check_write(path if isinstance(path, str) else "", step, action)
    except PolicyRefusal as refusal:
        return f"({refusal.rule}) {refusal.message}"
    return None


def _touches_state(root: str, path: str) -> bool:
    full = Path(path) if Path(path).is_absolute() else Path(root) / path
    try:
        rel = full.resolve().relative_to(Path(root).resolve())
    except ValueError:
        return False
    return rel.parts[:1] == (".phaser",)


def _deny(reason: str) -> None:
    sys.stderr.write(f"phaser edit lock: {reason}\n")
    sys.stderr.flush()
    raise SystemExit(DENY)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        signal.signal(signal.SIGALRM, lambda *_: _deny("the hook ran out of time"))
        signal.alarm(DEADLINE_S)
        if len(argv) != 1:
            _deny("the hook was called without its policy file")
        policy_data = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
        hook_input = json.loads(sys.stdin.read() or "null")
        if not isinstance(policy_data, dict) or not isinstance(hook_input, dict):
            _deny("the hook's policy or input is not a JSON object")
        if hook_input.get("hook_event_name") == "SessionStart":
            sys.stdout.write(f"{ACTIVE_MARKER} {policy_data['nonce']}\n")
            return 0
        reason = decide(policy_data, hook_input)
        if reason is not None:
            _deny(reason)
        return 0
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure must deny, never allow
        _deny(f"the hook failed ({type(exc).__name__}: {exc}); denied to be safe")
    return DENY


if __name__ == "__main__":
    raise SystemExit(main())
