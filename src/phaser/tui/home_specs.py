"""The home screen's spec actions: `n` writes a new spec (then offers to plan it), `e` edits the
selected spec in $EDITOR, `C` commits the spec folder (also offered when a run refuses a dirty tree).

A mixin of HomeScreen; it reaches the screen through the same attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from phaser.errors import PhaserError
from phaser.tui.confirm import ConfirmScreen
from phaser.tui.prompt import PromptScreen
from phaser.workflow.jobs import Job, JobKind


class SpecActions:
    """Expects HomeScreen's attributes (``project``, ``log_pane``, ``start_job``, ...)."""

    project: Any
    app: Any
    log_pane: Any

    if TYPE_CHECKING:  # provided by HomeScreen

        def notify(self, *args: Any, **kwargs: Any) -> Any: ...
        def error(self, *args: Any, **kwargs: Any) -> None: ...
        def selected_info(self) -> Any: ...
        def start_job(self, job: Job) -> None: ...
        def start_watcher(self) -> None: ...
        async def reload(self, select: str | None = None) -> None: ...

    def action_new_spec(self) -> None:
        self.app.push_screen(
            PromptScreen("New spec: its title", "e.g. Export to CSV", ok="Create"), self._create_spec
        )

    async def _create_spec(self, title: str | None) -> None:
        if not title:
            return
        from phaser.workflow.specs import new_spec

        try:
            info = new_spec(self.project, title)
        except PhaserError as exc:
            self.error(exc, "New spec")
            return
        self.start_watcher()
        await self.reload(select=info.slug)
        self.app.open_editor(info.spec_path)
        await self.reload(select=info.slug)

        def plan_now(yes: bool | None) -> None:
            if yes:
                self.start_job(Job(JobKind.PLAN, info.slug))

        self.app.push_screen(
            ConfirmScreen(
                f"Plan {info.slug} now? (a planning run on {self.project.config.models.plan})",
                yes="Plan it",
                no="Later",
            ),
            plan_now,
        )

    async def action_edit_spec(self) -> None:
        info = self.selected_info()
        if info is None:
            return
        self.app.open_editor(info.spec_path)
        await self.reload()

    def action_commit_spec(self) -> None:
        info = self.selected_info()
        if info is None:
            return
        from phaser.workflow.jobs import spec_dirt

        paths = spec_dirt(self.project, info.slug)
        if not paths:
            self.notify(f"{self.project.rel(info.dir)} has nothing to commit")
            return
        self._offer_commit(info.slug, paths, then=None)

    def _offer_commit(self, slug: str, paths: list[str], then: Job | None) -> None:
        def answer(yes: bool | None) -> None:
            if not yes:
                return
            from phaser.workflow.jobs import commit_spec

            try:
                commit = commit_spec(self.project, slug, paths)
            except PhaserError as exc:
                self.error(exc, "Commit")
                return
            self.log_pane.line(f"committed {', '.join(paths)} ({commit[:7]})", "green")
            if then is not None:
                self.start_job(Job(then.kind, then.slug, phase=then.phase))

        again = " and run again" if then is not None else ""
        self.app.push_screen(
            ConfirmScreen(
                f"Commit {', '.join(paths)} (the spec's own files){again}?", yes="Commit", no="Not now"
            ),
            answer,
        )
