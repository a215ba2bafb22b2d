"""How the screen words and colours what the workflow reports.

Outcomes fall in three kinds: ``ok`` (green), ``human`` (yellow: nothing is broken, a person has
to decide or act: approve, fix a blocked phase, tick by hand, raise a budget, wait for another
run) and ``error`` (red). The workflow's messages name no command; their next steps come as data
(phaser.outcomes.Hint), which this screen words with its keys.
"""

from __future__ import annotations

from typing import Any

from phaser.outcomes import Action, Hint, kind


def outcome_kind(outcome: str) -> str:
    """ok, human or error: the one table of phaser.outcomes (an unknown word is an error)."""
    return str(kind(outcome))


def outcome_style(outcome: str) -> str:
    """The rich style of a finished phase or job in the log."""
    return {"ok": "green", "human": "yellow", "error": "red"}[outcome_kind(outcome)]


def hint_words(hint: Hint) -> str:
    """A next step (workflow data) worded with this screen's keys, for a ``next:`` line."""
    phase = f" {hint.phase}" if hint.phase is not None else ""
    return {
        Action.RUN_PHASE: f"R on phase{phase} in the plan runs it",
        Action.RESUME: "> runs it again",
        Action.REDO: f"phaser redo{phase} (in a shell) runs it again from scratch",
        Action.REDO_FORCE: f"phaser redo{phase} --force (in a shell) drops the later commits",
        Action.APPROVE: "a reviews it",
        Action.TICK: "x ticks a task by hand",
        Action.PLAN: "p plans it",
        Action.REVISE: "r revises the plan, p replaces it",
        Action.REPLACE_PLAN: "p replaces the plan",
        Action.NEW_SPEC: "n writes a spec",
        Action.ALLOW_DIRTY: "C commits the spec folder (when it is the only change)",
        Action.VALIDATE: "every problem is listed above the plan",
        Action.CONFIGURE_GATES: "[gates] commands in phaser.toml make phaser verify",
    }.get(hint.action, str(hint.action))


def _clause(hint: Hint) -> str:
    """A next step as it ends a message (with its own separator); "" where this screen has no way."""
    phase = f" {hint.phase}" if hint.phase is not None else ""
    return {
        Action.RUN_PHASE: f": R on phase{phase} runs it",
        Action.RESUME: ": > restarts it",
        Action.REDO: f": phaser redo{phase} (in a shell) runs it again",
        Action.REDO_FORCE: f": phaser redo{phase} --force (in a shell) drops them",
        Action.APPROVE: ": press a to review it",
        Action.TICK: " (x on the task)",
        Action.PLAN: ": press p to plan it",
        Action.REVISE: ": r revises it",
        Action.REPLACE_PLAN: ", p replaces it",
        Action.NEW_SPEC: ": n writes one",
        Action.ALLOW_DIRTY: "",  # the screen offers to commit the spec folder instead
        Action.VALIDATE: ": every problem is listed above the plan",
        Action.CONFIGURE_GATES: ", or set [gates] commands in phaser.toml",
    }.get(hint.action, "")


def _hint(hint: Hint | dict[str, Any]) -> Hint | None:
    if isinstance(hint, Hint):
        return hint
    try:
        return Hint(Action(hint["action"]), hint.get("phase"), hint.get("slug"))
    except (KeyError, ValueError, TypeError):
        return None  # a journal or outcome from another version


def with_keys(text: str, hints: Any) -> str:
    """A workflow message followed by its next steps in this screen's keys: ``waiting for
    approval of phase 1`` -> ``...: press a to review it``."""
    clauses = [_clause(hint) for h in hints or [] if (hint := _hint(h)) is not None]
    return text + "".join(dict.fromkeys(clauses))
