"""The home screen: specs on the left, the selected plan on the right, the live run log below it.

Every long job (planning, running phases) runs in one named thread worker through
workflow.jobs.run_job (tui/home_jobs.py); its events come back as HomeScreen.RunEvent messages,
and the job's end as HomeScreen.JobEnded. Reading the plans (slow on a 1,000-phase plan) happens in
the named worker "reload", on a thread, and writing a tick in the worker "tick"; the spec watcher's
callback only posts HomeScreen.FilesChanged. The screen's other parts are mixins, one concern per
file: search and detail, ticking, spec actions, checkpoints, jobs; its keys are in tui/home_keys.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input

from phaser import events as ev
from phaser.errors import PhaserError
from phaser.outcomes import Outcome
from phaser.tui.detail import DetailPane
from phaser.tui.footer import PhaserFooter
from phaser.tui.home_checkpoints import Checkpoints
from phaser.tui.home_jobs import JobControl
from phaser.tui.home_keys import HOME_BINDINGS, HOME_PALETTE, KeyStates
from phaser.tui.home_live import LiveFiles
from phaser.tui.home_search import SearchAndDetail
from phaser.tui.home_specs import SpecActions
from phaser.tui.home_tasks import TaskToggling, Toggle
from phaser.tui.plan_tree import PlanTree
from phaser.tui.plan_view import PlanView, markdown_of
from phaser.tui.run_log import RunLog
from phaser.tui.run_status import RunStatus
from phaser.tui.spec_list import SpecList
from phaser.workflow.jobs import Job, JobKind
from phaser.workflow.overview import Overview, SpecView, read_overview, read_spec
from phaser.workflow.project import Project, SpecInfo

__all__ = ["HomeScreen", "Job", "JobKind"]


class HomeScreen(
    SearchAndDetail, TaskToggling, SpecActions, Checkpoints, JobControl, LiveFiles, KeyStates, Screen[None]
):
    BINDINGS = HOME_BINDINGS
    PALETTE = HOME_PALETTE
    """Titles of the screen's actions in the command palette (the footer uses the short descriptions)."""

    @dataclass
    class RunEvent(Message, bubble=False):
        """A workflow event from the worker thread."""

        slug: str
        event: ev.Event

    @dataclass
    class JobEnded(Message, bubble=False):
        job: Job
        outcome: Outcome
        detail: str = ""
        data: dict[str, Any] = field(default_factory=dict)

    @dataclass
    class FilesChanged(Message, bubble=False):
        """Spec or plan files changed on disk (the SpecWatcher's callback)."""

        paths: set[Path]

    @dataclass
    class Ticked(Message, bubble=False):
        """A tick written (error None) or refused, from the tick worker."""

        toggle: Toggle
        error: PhaserError | None = None
        undo: bool = False

    def __init__(self) -> None:
        super().__init__()
        self.job: Job | None = None
        self.running_phases: dict[str, tuple[int, ...]] = {}  # per slug: several in a parallel run
        self.last_outcomes: dict[tuple[str, int], dict] = {}
        self.watcher: Any = None
        self.reloads = 0
        self._reload_seq = 0
        self.undo_stack: list[Toggle] = []
        self._search: str = ""
        self._ended_job: Job | None = None
        self._search_target = "tree"
        self._log_hit = -1
        self._warmed: str | None = None
        """The spec whose plan warm_sections parsed."""
        self._history_slug: str | None = None
        """The spec whose past runs the log shows (None once this session wrote to the log)."""

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield SpecList(id="specs")
            with Vertical(id="right"):
                yield PlanView(id="plan")
                yield DetailPane(id="detail")
                yield RunStatus(id="run-status")
                yield Input(placeholder="search: enter finds the next match, escape closes", id="search")
                yield RunLog(id="log")
        yield PhaserFooter(compact=True)

    @property
    def project(self) -> Project:
        return self.app.project

    @property
    def spec_list(self) -> SpecList:
        return self.query_one(SpecList)

    @property
    def plan_view(self) -> PlanView:
        return self.query_one(PlanView)

    @property
    def log_pane(self) -> RunLog:
        return self.query_one(RunLog)

    @property
    def run_status(self) -> RunStatus:
        return self.query_one(RunStatus)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    @property
    def busy(self) -> bool:
        return self.job is not None

    async def on_mount(self) -> None:
        self.log_pane.border_title = "Log"
        await self.reload()
        self.spec_list.focus()
        self.show_history()
        self.start_watcher()
        self.set_interval(self.app.poll_s, self._poll_active, name="poll-active")

    def on_unmount(self) -> None:
        self.stop_watcher()

    # -- reading from disk ------------------------------------------------------------------

    def selected_info(self) -> SpecInfo | None:
        slug = self.spec_list.selected
        for info in self.project.specs():
            if info.slug == slug:
                return info
        return None

    def _running_in(self, slug: str | None) -> tuple[int, ...]:
        return self.running_phases.get(slug or "", ())

    async def reload(self, select: str | None = None) -> None:
        """Read every spec and plan again (on a worker thread) and show them, keeping the selection
        and cursor. A reload that a newer one overtook shows nothing."""
        self._reload_seq += 1
        seq = self._reload_seq
        want = select or self.spec_list.selected
        markdown = self.plan_view.showing_markdown
        loaded, text = await asyncio.to_thread(_read_overview, self.project, want, markdown)
        if seq != self._reload_seq:
            return
        running = dict(self.running_phases)
        await self.spec_list.show(
            loaded.statuses,
            select=select,
            running=running,
            approvals=self.project.config.approval.policy != "never",
        )
        info = self.selected_info()
        view = loaded.view
        if view is None or view.info is None or info is None or view.info.slug != info.slug:
            view, text = await asyncio.to_thread(read_spec, self.project, info), None
        self._apply(view, text)
        self.reloads += 1

    def schedule_reload(self) -> None:
        """Reload without holding up the screen's messages (a key, a tick) while the plans are read."""
        self.run_worker(self.reload(), name="reload", group="reload", exit_on_error=False)

    def _apply(self, view: SpecView, markdown: str | None = None) -> None:
        info = view.info
        if view.plan is not None and info is not None and info.slug != self._warmed:
            self._warmed = info.slug
            self.warm_sections(view.plan.text)
        job = self.job if self.job is not self._ended_job else None
        own_run = job is not None and info is not None and job.slug == info.slug
        running = self._running_in(info.slug if info else None)
        self.plan_view.apply(view, running=running, own_run=own_run, markdown=markdown)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="warm", name="warm-sections", exit_on_error=False)
    def warm_sections(self, text: str) -> None:
        """Parse the plan shown once, off the UI thread, so the first save or tick after a start
        parses only the section it changed (a plan from the disk cache was never parsed here)."""
        from phaser.plan.parse import warm

        warm(text)

    def show_plan(self) -> None:
        """Show the selected plan now (read on this thread: a spec switch, a run's phase starting)."""
        self._apply(read_spec(self.project, self.selected_info()))

    @on(PlanTree.NodeHighlighted)
    def _cursor_moved(self, event: PlanTree.NodeHighlighted) -> None:
        """R acts on the phase under the cursor: whether it can run changes as the cursor moves."""
        self.refresh_bindings()
        if self.detail.display and event.node.data is not None:
            self.show_detail(event.node.data)

    @on(SpecList.Selected)
    def _opened(self) -> None:
        """Enter or a click on a spec: go to its plan."""
        self.show_plan()
        if self.plan_view.plan is not None:
            self.plan_view.plan_tree.focus()

    @on(SpecList.Chosen)
    def _chosen(self, event: SpecList.Chosen) -> None:
        if self.plan_view.info is None or self.plan_view.info.slug != event.slug:
            self.show_plan()
            if self._history_slug:
                self.show_history()

    # -- actions ----------------------------------------------------------------------------

    async def action_reload(self) -> None:
        await self.reload()
        self.notify("reloaded from disk", timeout=2)

    def action_toggle_markdown(self) -> None:
        self.plan_view.toggle_markdown()

    def action_costs(self) -> None:
        from phaser.tui.costs import CostsScreen

        self.app.push_screen(CostsScreen(self.project))

    def action_help(self) -> None:
        from phaser.tui.help import HelpScreen, key_rows

        self.app.push_screen(HelpScreen(key_rows(self.app, self)))

    def action_toggle_theme(self) -> None:
        self.app.theme = "textual-light" if self.app.current_theme.dark else "textual-dark"

    def action_zoom_log(self) -> None:
        self.toggle_class("-zoom-log")
        if self.has_class("-zoom-log"):
            self.log_pane.focus()

    def action_detail(self) -> None:
        pane = self.detail
        pane.display = not pane.display
        node = self.plan_view.plan_tree.cursor_node
        if pane.display and node is not None and node.data is not None:
            self.show_detail(node.data)

    # -- helpers ----------------------------------------------------------------------------

    def error(self, exc: PhaserError, title: str, warning: bool = False) -> None:
        self.log_pane.line(f"{'warning' if warning else 'error'}: {exc}", "yellow" if warning else "bold red")
        self.notify(str(exc), title=title or exc.title, severity="warning" if warning else "error", timeout=6)


def _read_overview(project: Project, selected: str | None, markdown: bool) -> tuple[Overview, str | None]:
    """read_overview, and the selected plan's markdown view when it is on screen (on the worker)."""
    loaded = read_overview(project, selected)
    return loaded, markdown_of(loaded.view) if markdown and loaded.view is not None else None
