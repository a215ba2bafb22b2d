"""The CLI's words for the workflow's next-step hints (phaser.outcomes.Hint): a command line to
type. The TUI words the same hints as keys."""

from __future__ import annotations

from typing import Any

from phaser.outcomes import Action, Hint


def command(hint: Hint | dict[str, Any]) -> str:
    """``Hint(Action.RUN_PHASE, 3, "auth")`` -> ``phaser next auth --phase 3``."""
    if isinstance(hint, dict):
        action, phase, slug = Action(hint["action"]), hint.get("phase"), hint.get("slug")
    else:
        action, phase, slug = hint.action, hint.phase, hint.slug
    s = f" {slug}" if slug else ""
    n = f" {phase}" if phase is not None else " N"
    words = {
        Action.RUN_PHASE: f"phaser next{s} --phase{n}",
        Action.RESUME: f"phaser next{s}",
        Action.REDO: f"phaser redo{s}{n}",
        Action.APPROVE: f"phaser approve{s}" + (f" --phase {phase}" if phase is not None else ""),
        Action.TICK: f"phaser tick{s} {phase if phase is not None else 'P'}.T",
        Action.PLAN: f"phaser plan{s}",
        Action.REVISE: f'phaser plan{s} --revise "feedback"',
        Action.NEW_SPEC: 'phaser new "Title"',
        Action.ALLOW_DIRTY: f"phaser next{s} --allow-dirty",
        Action.VALIDATE: "phaser validate" + (f" specs/{slug}" if slug else ""),
        Action.CONFIGURE_GATES: "set [gates] commands in phaser.toml (phaser config shows them)",
    }
    return words[action]


def next_line(hints: Any) -> str | None:
    """``next: <command>`` for the hints of an outcome, or None when there are none."""
    shown = [command(h) for h in hints or []]
    return "next: " + "  or  ".join(dict.fromkeys(shown)) if shown else None
