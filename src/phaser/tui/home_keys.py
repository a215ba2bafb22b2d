"""The home screen's keys (shown in the footer, `?` and docs/tui.md), its command palette titles,
and which keys can act right now (``KeyStates.check_action``, a mixin of HomeScreen).

The footer must fit 80 columns with the tree focused, a run going and a phase waiting: the keys
with show=False are left out of it (they are in `?`, the command palette and docs/tui.md). No run
key collides with vim movement (j k h l gg G / n): next is `>`, run all `A`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding, BindingType
from textual.css.query import NoMatches

HOME_BINDINGS: list[BindingType] = [
    Binding("n", "new_spec", "New", tooltip="Write a new spec (title, then your $EDITOR)"),
    Binding("e", "edit_spec", "Edit", show=False, tooltip="Open the selected spec.md in $EDITOR"),
    Binding("p", "plan", "Plan", tooltip="Turn the selected spec into a plan (a planning run)"),
    Binding(
        "r", "revise", "Revise", show=False, tooltip="Revise the plan with your feedback (a planning run)"
    ),
    Binding("greater_than_sign", "run_next", "Next", tooltip="Run the next phase of the selected plan"),
    Binding("A", "run_all", "All", tooltip="Run phases until done, stopping at approval checkpoints"),
    Binding("s", "stop", "Stop", tooltip="Stop the run cleanly at the next turn (the phase stays resumable)"),
    Binding("a", "checkpoint", "Approve", tooltip="Review a phase waiting for approval: approve or reject"),
    Binding("u", "undo", "Undo", show=False, tooltip="Undo the last tick or untick"),
    Binding("d", "detail", "Detail", show=False, tooltip="Show or hide the detail pane of the line"),
    Binding("slash", "search", "Search", show=False, tooltip="Search the plan tree, or the log when focused"),
    Binding("z", "zoom_log", "Zoom log", show=False, tooltip="The log full screen, and back"),
    Binding(
        "m",
        "toggle_markdown",
        "View",
        show=False,
        tooltip="Show the plan as rendered markdown, or as a tree",
    ),
    Binding(
        "c", "costs", "Costs", show=False, tooltip="Tokens and dollars per phase and model, and every run"
    ),
    Binding("C", "commit_spec", "Commit spec", show=False, tooltip="Commit the selected spec folder"),
    Binding("T", "toggle_theme", "Theme", show=False, tooltip="Switch between the dark and light theme"),
    Binding("ctrl+r", "reload", "Reload", show=False, tooltip="Read every spec and plan from disk again"),
    Binding("question_mark", "help", "Help", tooltip="Every key"),
]

HOME_PALETTE = {
    "new_spec": "New spec",
    "edit_spec": "Edit spec in $EDITOR",
    "plan": "Plan it",
    "revise": "Revise the plan",
    "run_next": "Next phase",
    "run_all": "Run all phases",
    "run_phase": "Run the phase under the cursor",
    "stop": "Stop the run",
    "checkpoint": "Approve or reject a phase",
    "toggle_task": "Tick or untick the task",
    "undo": "Undo the last tick",
    "detail": "Detail pane",
    "search": "Search",
    "zoom_log": "Zoom the log",
    "toggle_markdown": "Markdown view",
    "costs": "Costs",
    "commit_spec": "Commit the spec",
    "toggle_theme": "Dark or light theme",
    "reload": "Reload from disk",
    "help": "Keys (help)",
}
"""Titles of the screen's actions in the command palette (the footer uses the short descriptions)."""


class KeyStates:
    """Bindings are enabled only when they can do something: False hides one (the footer must fit
    80 columns), None shows it dimmed."""

    undo_stack: list

    if TYPE_CHECKING:  # provided by HomeScreen
        plan_view: Any

        @property
        def busy(self) -> bool: ...

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        try:
            view = self.plan_view
        except NoMatches:
            return True
        info = view.info
        if action == "stop":
            return self.busy
        if action in ("run_next", "run_all"):
            # dimmed when nothing can run: complete, stuck (blocked, unmet dependencies), refused,
            # running elsewhere
            return False if view.plan is None else None if self.busy or not view.runnable() else True
        if action == "run_phase":
            return (
                False
                if view.plan is None
                else None
                if self.busy or not view.runnable(view.plan_tree.cursor_phase)
                else True
            )
        if action == "revise":
            return False if view.plan is None else None if self.busy else True
        if action == "plan":
            return None if self.busy or info is None else True
        if action in ("edit_spec", "commit_spec"):
            return None if info is None else True
        if action == "checkpoint":
            return bool(view.waiting) and not self.busy
        if action == "undo":
            return bool(self.undo_stack) or None
        return True
