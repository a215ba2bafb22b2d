"""What changes under the home screen: files saved (the spec watcher), another process's run of
the shown plan (polled), and the log of past runs shown after a restart.

A mixin of HomeScreen. The watcher's callback runs on its timer thread and only posts
HomeScreen.FilesChanged; the reload it asks for runs in the named worker "reload".
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from phaser.errors import PhaserError


class LiveFiles:
    """Expects HomeScreen's attributes (``watcher``, ``plan_view``, ``log_pane``, ...)."""

    watcher: Any
    job: Any
    _history_slug: str | None
    project: Any
    app: Any
    plan_view: Any
    log_pane: Any
    FilesChanged: Any

    if TYPE_CHECKING:  # provided by HomeScreen

        def post_message(self, *args: Any) -> Any: ...
        def selected_info(self) -> Any: ...
        def schedule_reload(self) -> None: ...

    def start_watcher(self) -> None:
        app = self.app
        if self.watcher is not None or not app.watch_files or not self.project.specs_dir.is_dir():
            return
        from phaser.plan.watch import SpecWatcher

        self.watcher = SpecWatcher(
            self.project.specs_dir,
            self._files_changed,
            debounce_s=app.debounce_s,
        ).start()

    def stop_watcher(self) -> None:
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop()

    def _files_changed(self, paths: set[Path]) -> None:
        """Runs on the watcher's timer thread: hop to the UI with a message, nothing else."""
        self.post_message(self.FilesChanged(paths))

    def on_home_screen_files_changed(self, event: Any) -> None:
        self.schedule_reload()

    def show_history(self) -> None:
        """The log after a restart: the past runs of the selected spec (what `phaser log` prints)."""
        info = self.selected_info()
        if info is None or self._history_slug == "" or not info.has_plan:
            return
        from phaser.workflow.cost import log_lines

        try:
            lines = log_lines(self.project, info.slug)
        except PhaserError:
            return
        if lines and lines[0].startswith("no runs recorded"):
            return
        self.log_pane.clear_log()
        self.log_pane.line(f"past runs of {info.slug} (phaser log {info.slug}):", "bold dim")
        for line in lines[-300:]:
            self.log_pane.line(line, "dim")
        self._history_slug = info.slug

    def _session_log(self) -> None:
        """This session writes to the log: the history shown before is cleared once."""
        if self._history_slug:
            self.log_pane.clear_log()
        self._history_slug = ""

    async def _poll_active(self) -> None:
        """Another process's run of the shown plan starts, and may end, without touching the plan
        (a stop, a crash): look at its marker and lock now and then, and reload when they change."""
        view = self.plan_view
        if self.job is not None or view.info is None or view.plan is None:
            return
        from phaser.workflow.status import active_run

        if active_run(self.project, view.info.slug) != view.active:
            self.schedule_reload()
