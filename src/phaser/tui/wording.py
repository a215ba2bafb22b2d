"""How the screen words and colours what the workflow reports.

Outcomes fall in three kinds: ``ok`` (green), ``human`` (yellow: nothing is broken, a person has
to decide or act: approve, fix a blocked phase, tick by hand, raise a budget, wait for another
run) and ``error`` (red). The workflow's messages name CLI commands; where the TUI has the same
action on a key, ``tui_words`` names the key instead.
"""

from __future__ import annotations

import re

from phaser.outcomes import Action, Hint, kind


def outcome_kind(outcome: str) -> str:
    """ok, human or error: the one table of phaser.outcomes (an unknown word is an error)."""
    return str(kind(outcome))


def outcome_style(outcome: str) -> str:
    """The rich style of a finished phase or job in the log."""
    return {"ok": "green", "human": "yellow", "error": "red"}[outcome_kind(outcome)]


_SLUG = r"[A-Za-z0-9][\w.-]*"
_CLI_TO_KEYS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"phaser approve {_SLUG}"), "press a to review it"),
    (re.compile(r"phaser next --phase (\d+)"), r"R on phase \1 in the plan"),
    (re.compile(r"phaser next restarts it"), "> restarts it"),
    (re.compile(r"\(phaser tick\)"), "(x on the task)"),
    (re.compile(rf"\(phaser plan {_SLUG}\)"), "(p plans it)"),
    (re.compile(rf"run phaser plan {_SLUG}( first)?"), "press p to plan it"),
    (re.compile(r'(create one with: )?phaser new "Title"( writes one)?'), "n writes one"),
    (
        re.compile(r'use --revise "feedback" to revise it, or --force to replace it'),
        "r revises it, p replaces it",
    ),
    (re.compile(r", or pass --allow-dirty"), ""),
    (re.compile(r" \(and (\d+) more: phaser validate\)"), r" (and \1 more, listed above the plan)"),
]


def tui_words(text: str) -> str:
    """``text`` with the CLI commands that have a key here replaced by that key."""
    for pattern, keys in _CLI_TO_KEYS:
        text = pattern.sub(keys, text)
    return text


def hint_words(hint: Hint) -> str:
    """A next step (workflow data) worded with this screen's keys."""
    phase = f" {hint.phase}" if hint.phase is not None else ""
    return {
        Action.RUN_PHASE: f"R on phase{phase} in the plan runs it",
        Action.RESUME: "> runs it again",
        Action.REDO: f"phaser redo{phase} (in a shell) runs it again from scratch",
        Action.APPROVE: "a reviews it",
        Action.TICK: "x ticks a task by hand",
        Action.PLAN: "p plans it",
        Action.REVISE: "r revises the plan, p replaces it",
        Action.NEW_SPEC: "n writes a spec",
        Action.ALLOW_DIRTY: "C commits the spec folder (when it is the only change)",
        Action.VALIDATE: "every problem is listed above the plan",
        Action.CONFIGURE_GATES: "[gates] commands in phaser.toml make phaser verify",
    }.get(hint.action, str(hint.action))
