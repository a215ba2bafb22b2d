"""The home screen's approval checkpoints: `a` shows what a person needs to judge a phase (the
facts come from workflow.approval, off the UI thread), then approves or rejects it.

A mixin of HomeScreen; it reaches the screen through the same attributes.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from phaser.errors import PhaserError
from phaser.tui.checkpoint import CheckpointInfo, CheckpointScreen, Decision


class Checkpoints:
    """Expects HomeScreen's attributes (``plan_view``, ``last_outcomes``, ``log_pane``, ...)."""

    project: Any
    app: Any
    plan_view: Any
    log_pane: Any
    last_outcomes: dict

    if TYPE_CHECKING:  # provided by HomeScreen

        def notify(self, *args: Any, **kwargs: Any) -> Any: ...
        def error(self, *args: Any, **kwargs: Any) -> None: ...
        def _session_log(self) -> None: ...
        async def reload(self, select: str | None = None) -> None: ...

    async def action_checkpoint(self) -> None:
        waiting = self.plan_view.waiting
        info = self.plan_view.info
        if not waiting or info is None:
            self.notify("no phase of this plan waits for approval")
            return
        number = waiting[0]
        cursor = self.plan_view.plan_tree.cursor_node
        if cursor is not None and cursor.data is not None and cursor.data.phase in waiting:
            number = cursor.data.phase
        slug = info.slug
        from phaser.workflow.approval import checkpoint_facts

        try:
            facts = await asyncio.to_thread(
                checkpoint_facts, self.project, slug, number, known=self.last_outcomes.get((slug, number))
            )
        except PhaserError as exc:
            self.error(exc, "Checkpoint")
            return
        self.app.push_screen(CheckpointScreen(facts), lambda d: self._decided(slug, number, d))

    def checkpoint_info(self, slug: str, number: int, title: str, notes: list[str]) -> CheckpointInfo:
        """What the person needs to judge a phase (workflow.approval.checkpoint_facts), with the
        title and notes given."""
        from phaser.workflow.approval import checkpoint_facts

        facts = checkpoint_facts(self.project, slug, number, known=self.last_outcomes.get((slug, number)))
        facts.title, facts.notes = title, list(notes)
        return facts

    async def _decided(self, slug: str, number: int, decision: Decision | None) -> None:
        if decision is None:
            return
        from phaser.workflow.approval import approve, reject

        self._session_log()
        try:
            if decision.approve:
                approve(self.project, slug, number)
                self.log_pane.line(f"phase {number} of {slug} approved", "green")
                self.notify(f"phase {number} approved", timeout=3)
            else:
                reject(self.project, slug, number, decision.feedback)
                self.log_pane.line(
                    f"phase {number} of {slug} rejected: {decision.feedback} (the phase is open again)",
                    "yellow",
                )
                self.notify(
                    f"phase {number} rejected: it is open again with your feedback as a task", timeout=4
                )
        except PhaserError as exc:
            self.error(exc, "Checkpoint")
        await self.reload()
