"""The CLI's words for the workflow's next-step hints (phaser.outcomes.Hint): a command line to
type. The TUI words the same hints as keys."""

from __future__ import annotations

from typing import Any

from phaser.outcomes import Action, Hint


def command(hint: Hint | dict[str, Any]) -> str:
    """``Hint(Action.RUN_PHASE, 3, "auth")`` -> ``phaser next --phase 3 auth``."""
    if isinstance(hint, dict):
        action, phase, slug = Action(hint["action"]), hint.get("phase"), hint.get("slug")
    else:
        action, phase, slug = hint.action, hint.phase, hint.slug
    s = f" {slug}" if slug else ""
    n = f" {phase}" if phase is not None else " N"
    words = {
        Action.RUN_PHASE: f"phaser next --phase{n}{s}",
        Action.RESUME: f"phaser next{s}",
        Action.REDO: f"phaser redo{s}{n}",
        Action.REDO_FORCE: f"phaser redo{s}{n} --force",
        Action.APPROVE: f"phaser approve{s}" + (f" --phase {phase}" if phase is not None else ""),
        Action.TICK: f"phaser tick{s} {phase if phase is not None else 'P'}.T",
        Action.PLAN: f"phaser plan{s}",
        Action.REVISE: f'phaser plan{s} --revise "feedback"',
        Action.REPLACE_PLAN: f"phaser plan{s} --force",
        Action.NEW_SPEC: 'phaser new "Title"',
        Action.ALLOW_DIRTY: f"phaser next{s} --allow-dirty",
        Action.VALIDATE: "phaser validate" + (f" specs/{slug}" if slug else ""),
        Action.CONFIGURE_GATES: "set [gates] commands in phaser.toml (phaser config shows them)",
    }
    return words[action]


_CLAUSE = {
    Action.TICK: " ({})",
    Action.ALLOW_DIRTY: ", or run {}",
    Action.REPLACE_PLAN: ", or force it: {}",
    Action.REDO_FORCE: ": {} drops them",
    Action.CONFIGURE_GATES: ", or {}",
}
"""How a command ends a sentence (``: {}`` unless named here)."""


def say(text: str, hints: Any) -> str:
    """``text`` (a workflow message, which names no command) ended with the commands of its hints:
    ``phase 1 is done; to run it again`` -> ``...: phaser redo 1``."""
    clauses = [_CLAUSE.get(_action(h), ": {}").format(command(h)) for h in hints or []]
    return text + "".join(dict.fromkeys(clauses))


def _action(hint: Hint | dict[str, Any]) -> Action:
    return Action(hint["action"]) if isinstance(hint, dict) else hint.action


def next_line(hints: Any) -> str | None:
    """``next: <command>`` for the hints of an outcome, or None when there are none."""
    shown = [command(h) for h in hints or []]
    return "next: " + "  or  ".join(dict.fromkeys(shown)) if shown else None
