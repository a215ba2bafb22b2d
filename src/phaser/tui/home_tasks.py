"""The home screen's ticking: a key toggles a task at once on screen, a worker writes it through
workflow.edits.tick (with the text shown), a verified task asks before it is unticked, `u` undoes,
every toggle goes to the log. A mixin of HomeScreen; its handlers are found by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import work

from phaser.errors import PhaserError
from phaser.tui.confirm import ConfirmScreen
from phaser.tui.plan_tree import PlanTree


@dataclass
class Toggle:
    slug: str
    ref: str
    checked: bool
    text: str


class TaskToggling:
    """Expects HomeScreen's attributes (``plan_view``, ``log_pane``, ``Ticked``, ...)."""

    undo_stack: list[Toggle]
    plan_view: Any
    log_pane: Any
    project: Any
    app: Any
    Ticked: Any

    if TYPE_CHECKING:  # provided by the Screen

        def notify(self, *args: Any, **kwargs: Any) -> Any: ...
        def post_message(self, *args: Any) -> Any: ...
        def call_after_refresh(self, *args: Any) -> Any: ...
        def error(self, *args: Any, **kwargs: Any) -> None: ...
        def schedule_reload(self) -> None: ...
        def _session_log(self) -> None: ...

    def _verified(self, ref: str) -> bool:
        """The task sits in a phase phaser checked off and committed (its gates passed)."""
        status = self.plan_view.status
        tree = self.plan_view.plan_tree
        node = tree.task_node(ref)
        if status is None or node is None or node.data is None:
            return False
        return any(f.number == node.data.phase and f.commit for f in status.phases)

    def on_plan_tree_toggle_task(self, event: PlanTree.ToggleTask) -> None:
        info = self.plan_view.info
        if info is None:
            return
        if self.plan_view.refused:
            # phases may repeat a number or tasks be misnumbered: a ref could name another task than the
            # one shown
            count = len(self.plan_view.problems)
            self.notify(
                f"{self.project.rel(info.plan_path)} has {count} problem{'s' if count != 1 else ''} "
                "(listed above the "
                f"plan): fix the plan before ticking tasks; nothing was written",
                title=f"Task {event.ref}",
                severity="warning",
                timeout=8,
            )
            return
        if self.plan_view.plan is None:
            self.notify(
                f"{self.project.rel(info.plan_path)} does not parse (see above): fix it first; nothing was "
                "written",
                title=f"Task {event.ref}",
                severity="warning",
                timeout=6,
            )
            return
        toggle = Toggle(info.slug, event.ref, event.checked, event.text)
        if not event.checked and self._verified(event.ref):

            def answer(yes: bool | None) -> None:
                if yes:
                    self._toggle(toggle)

            self.app.push_screen(
                ConfirmScreen(
                    f"Task {event.ref} was verified by phaser's gates and committed. Untick it? (u undoes)",
                    yes="Untick",
                    no="Keep",
                ),
                answer,
            )
            return
        self._toggle(toggle)

    def _toggle(self, toggle: Toggle, undo: bool = False) -> None:
        """Show the new state at once, write it on a worker thread once the line is painted (the
        write's thread would otherwise hold the interpreter while the screen redraws)."""
        self.plan_view.plan_tree.set_task_state(toggle.ref, toggle.checked)
        self.call_after_refresh(self._write_tick, toggle, undo)

    @work(thread=True, group="tick", exit_on_error=False)
    def _write_tick(self, toggle: Toggle, undo: bool) -> None:
        from phaser.workflow.edits import tick

        try:
            tick(self.project, toggle.slug, toggle.ref, toggle.checked, expect_text=toggle.text)
        except PhaserError as exc:
            self.post_message(self.Ticked(toggle, exc, undo))
            return
        self.post_message(self.Ticked(toggle, None, undo))

    def on_home_screen_ticked(self, message: Any) -> None:
        toggle = message.toggle
        what = "ticked" if toggle.checked else "unticked"
        if message.error is not None:
            self.error(message.error, f"Task {toggle.ref}", warning=True)
        else:
            self._session_log()
            self.log_pane.line(
                f"{'undo: ' if message.undo else ''}{what} {toggle.ref} {toggle.text} ({toggle.slug})", "cyan"
            )
            if not message.undo:
                self.undo_stack.append(toggle)
        self.schedule_reload()

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("nothing to undo")
            return
        last = self.undo_stack.pop()
        self._toggle(Toggle(last.slug, last.ref, not last.checked, last.text), undo=True)
