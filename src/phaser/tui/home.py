"""The home screen: specs on the left, the selected plan on the right, the live run log below it.

Every long job (planning, running phases) runs in one named thread worker through
workflow.jobs.run_job; its events come back as HomeScreen.RunEvent messages, and the job's end as
HomeScreen.JobEnded. Reading the plans (slow on a 1,000-phase plan) and writing a tick happen off
the UI thread too; the spec watcher's callback only posts HomeScreen.FilesChanged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Input

from phaser import events as ev
from phaser.errors import PhaserError
from phaser.outcomes import Action, Hint, Outcome
from phaser.tui.checkpoint import CheckpointInfo, CheckpointScreen, Decision
from phaser.tui.confirm import ConfirmScreen
from phaser.tui.detail import DetailPane
from phaser.tui.footer import PhaserFooter
from phaser.tui.home_search import SearchAndDetail
from phaser.tui.home_tasks import TaskToggling, Toggle
from phaser.tui.plan_tree import PlanTree
from phaser.tui.plan_view import PlanView, ViewData, load_view, relative
from phaser.tui.prompt import PromptScreen
from phaser.tui.run_log import RunLog
from phaser.tui.run_status import RunStatus
from phaser.tui.spec_list import SpecList
from phaser.tui.wording import hint_words, outcome_kind, outcome_style, with_keys
from phaser.workflow.jobs import Job, JobKind
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.status import PlanStatus, status_of

__all__ = ["HomeScreen", "Job", "JobKind"]


@dataclass
class Loaded:
    """Every spec's status and the selected one's plan, read on a worker thread."""

    statuses: list[PlanStatus]
    view: ViewData | None


def load_all(project: Project, selected: str | None) -> Loaded:
    """Read every spec and plan; the selected plan once (its status serves the list as well)."""
    statuses: list[PlanStatus] = []
    view = None
    infos = project.specs()
    if selected not in {i.slug for i in infos} and infos:
        selected = infos[0].slug
    for info in infos:
        if info.slug == selected:
            view = load_view(project, info)
            statuses.append(view.status if view.status is not None else status_of(project, info))
        else:
            statuses.append(status_of(project, info))
    for status in statuses:
        if status.error:
            status.error = relative(project, status.error)
    return Loaded(statuses, view)


class HomeScreen(SearchAndDetail, TaskToggling, Screen[None]):
    # The footer must fit 80 columns with the tree focused, a run going and a phase waiting: the
    # keys with show=False are left out of it (they are in `?`, the command palette and docs/tui.md).
    # No run key collides with vim movement (j k h l gg G / n): next is `>`, run all `A`.
    BINDINGS = [
        Binding("n", "new_spec", "New", tooltip="Write a new spec (title, then your $EDITOR)"),
        Binding("e", "edit_spec", "Edit", show=False, tooltip="Open the selected spec.md in $EDITOR"),
        Binding("p", "plan", "Plan", tooltip="Turn the selected spec into a plan (a planning run)"),
        Binding(
            "r", "revise", "Revise", show=False, tooltip="Revise the plan with your feedback (a planning run)"
        ),
        Binding("greater_than_sign", "run_next", "Next", tooltip="Run the next phase of the selected plan"),
        Binding("A", "run_all", "All", tooltip="Run phases until done, stopping at approval checkpoints"),
        Binding(
            "s", "stop", "Stop", tooltip="Stop the run cleanly at the next turn (the phase stays resumable)"
        ),
        Binding(
            "a", "checkpoint", "Approve", tooltip="Review a phase waiting for approval: approve or reject"
        ),
        Binding("u", "undo", "Undo", show=False, tooltip="Undo the last tick or untick"),
        Binding("d", "detail", "Detail", show=False, tooltip="Show or hide the detail pane of the line"),
        Binding(
            "slash", "search", "Search", show=False, tooltip="Search the plan tree, or the log when focused"
        ),
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

    PALETTE = {
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

    @dataclass
    class RunEvent(Message, bubble=False):
        """A workflow event from the worker thread."""

        slug: str
        event: ev.Event

    @dataclass
    class JobEnded(Message, bubble=False):
        job: Job
        outcome: str
        """passed, incomplete, blocked, budget, stopped, error, nothing, complete, approval, planned."""
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
        self.running_phase: tuple[str, int] | None = None
        self.last_outcomes: dict[tuple[str, int], dict] = {}
        self.watcher: Any = None
        self.reloads = 0
        self._reload_seq = 0
        self.undo_stack: list[Toggle] = []
        self._search: str = ""
        self._ended_job: Job | None = None
        self._search_target = "tree"
        self._log_hit = -1
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

    def _running_in(self, slug: str | None) -> int | None:
        return self.running_phase[1] if self.running_phase and self.running_phase[0] == slug else None

    async def reload(self, select: str | None = None) -> None:
        """Read every spec and plan again (on a worker thread) and show them, keeping the selection
        and cursor. A reload that a newer one overtook shows nothing."""
        self._reload_seq += 1
        seq = self._reload_seq
        want = select or self.spec_list.selected
        loaded = await asyncio.to_thread(load_all, self.project, want)
        if seq != self._reload_seq:
            return
        running = self.running_phase
        await self.spec_list.show(
            loaded.statuses,
            select=select,
            running=running,
            approvals=self.project.config.approval.policy != "never",
        )
        info = self.selected_info()
        view = loaded.view
        if view is None or view.info is None or info is None or view.info.slug != info.slug:
            view = await asyncio.to_thread(load_view, self.project, info)
        self._apply(view)
        self.reloads += 1

    def schedule_reload(self) -> None:
        """Reload without holding up the screen's messages (a key, a tick) while the plans are read."""
        self.run_worker(self.reload(), group="reload", exit_on_error=False)

    def _apply(self, view: ViewData) -> None:
        info = view.info
        job = self.job if self.job is not self._ended_job else None
        own_run = job is not None and info is not None and job.slug == info.slug
        self.plan_view.apply(view, running=self._running_in(info.slug if info else None), own_run=own_run)
        self.refresh_bindings()

    def show_plan(self) -> None:
        """Show the selected plan now (read on this thread: a spec switch, a run's phase starting)."""
        self._apply(load_view(self.project, self.selected_info()))

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

    @on(PlanTree.NodeHighlighted)
    def _cursor_moved(self, event: PlanTree.NodeHighlighted) -> None:
        """R acts on the phase under the cursor: whether it can run changes as the cursor moves."""
        self.refresh_bindings()
        if self.detail.display and event.node.data is not None:
            self.show_detail(event.node.data)

    async def _poll_active(self) -> None:
        """Another process's run of the shown plan starts, and may end, without touching the plan
        (a stop, a crash): look at its marker and lock now and then, and reload when they change."""
        view = self.plan_view
        if self.job is not None or view.info is None or view.plan is None:
            return
        from phaser.workflow.status import active_run

        if active_run(self.project, view.info.slug) != view.active:
            self.schedule_reload()

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

    # -- live files -------------------------------------------------------------------------

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

    @on(FilesChanged)
    def _on_files_changed(self, event: FilesChanged) -> None:
        self.schedule_reload()

    # -- actions: bindings are enabled only when they can do something ----------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        try:
            view = self.plan_view
        except NoMatches:
            return True
        # False hides a binding (the footer must fit 80 columns), None shows it dimmed.
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

    def action_plan(self) -> None:
        info = self.selected_info()
        if info is None or self.busy:
            return
        if not info.has_plan:
            self.start_job(Job(JobKind.PLAN, info.slug))
            return

        def replace(yes: bool | None) -> None:
            if yes:
                self.start_job(Job(JobKind.PLAN, info.slug, force=True))

        self.app.push_screen(
            ConfirmScreen(
                f"{self.project.rel(info.plan_path)} exists. Replace it with a new plan? (r revises it "
                "instead)",
                yes="Replace",
                no="Keep",
            ),
            replace,
        )

    def action_revise(self) -> None:
        info = self.selected_info()
        if info is None or not info.has_plan or self.busy:
            return

        def revise(feedback: str | None) -> None:
            if feedback:
                self.start_job(Job(JobKind.REVISE, info.slug, feedback=feedback))

        self.app.push_screen(
            PromptScreen(
                f"Revise the plan of {info.slug}: what should change?",
                "feedback for the planner",
                ok="Revise",
            ),
            revise,
        )

    def action_run_next(self) -> None:
        info = self.selected_info()
        if info is not None and info.has_plan:
            self.start_job(Job(JobKind.NEXT, info.slug))

    def action_run_all(self) -> None:
        info = self.selected_info()
        if info is not None and info.has_plan:
            self.start_job(Job(JobKind.ALL, info.slug))

    def action_run_phase(self) -> None:
        """R on the plan tree: run the phase under the cursor (a blocked one too), as `phaser next --phase "
        "N`."""
        info = self.selected_info()
        number = self.plan_view.plan_tree.cursor_phase
        if info is not None and info.has_plan and number is not None:
            self.start_job(Job(JobKind.PHASE, info.slug, phase=number))

    def action_stop(self) -> None:
        if self.job is None:
            return
        self.job.stop.set()
        self.run_status.stopping()
        self.log_pane.line(
            "stop requested: the run ends at the next turn; the phase stays resumable", "yellow"
        )

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

    # -- checkpoints ------------------------------------------------------------------------

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

    # -- jobs -------------------------------------------------------------------------------

    def start_job(self, job: Job) -> None:
        if self.job is not None:
            self.notify(f"busy: {self.job.what} (s stops it)", severity="warning")
            return
        self.job = job
        self._session_log()
        self.log_pane.line(f"»»» {job.what}", "bold")
        self.run_status.started(job.what)
        self.refresh_bindings()
        self.run_job(job)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False, name="run")
    def run_job(self, job: Job) -> None:
        """Runs on a worker thread: the workflow's run_job, every event posted, and how it ended."""
        from phaser.workflow.jobs import JobResult, run_job
        from phaser.workflow.providers import RunOptions

        def sink(event: ev.Event) -> None:
            self.post_message(self.RunEvent(job.slug, event))

        try:
            options = RunOptions(stop_event=job.stop, provider_obj=self.app.session_provider())
            result = run_job(self.project, job, options, sink)
        except Exception as exc:  # noqa: BLE001 - the worker never raises: the screen says what happened
            result = JobResult("error", f"{type(exc).__name__}: {exc}")
        self.post_message(self.JobEnded(job, result.outcome, result.detail, result.data))

    @on(RunEvent)
    async def _run_event(self, message: RunEvent) -> None:
        event = message.event
        self.log_pane.show(event)
        self.run_status.event(event)
        if isinstance(event, ev.PhaseStarted):
            self.running_phase = (event.slug, event.phase)
            await self.reload()
        elif isinstance(event, ev.PhaseFinished):
            self.running_phase = None
            self.last_outcomes[(event.slug, event.phase)] = event.data
            await self.reload()

    @on(JobEnded)
    async def _job_ended(self, message: JobEnded) -> None:
        job = message.job
        self.running_phase = None
        data = message.data
        if job.kind in (JobKind.NEXT, JobKind.PHASE) and data.get("phase"):
            self.last_outcomes[(job.slug, data["phase"])] = data
        for phase in data.get("phases", []):
            self.last_outcomes[(job.slug, phase["phase"])] = phase
        outcome, detail = message.outcome, with_keys(message.detail, data.get("hints"))
        self.run_status.ended(outcome, detail)
        self._ended_job = job  # the reload sees the plan's lock and marker as no longer this screen's
        try:
            await self.reload(select=job.slug)
        finally:
            self._ended_job = None
        view = self.plan_view
        waiting = view.waiting if view.info is not None and view.info.slug == job.slug else []
        if outcome == Outcome.COMPLETE and waiting:
            # every phase ran, but a checkpoint waits: the plan is not complete until a person approves
            outcome = Outcome.APPROVAL
            listed = ", ".join(map(str, waiting))
            many = len(waiting) > 1
            phases, waits = ("phases", "wait") if many else ("phase", "waits")
            detail = f"{phases} {listed} {waits} for approval: press a to review"
        self.log_pane.line(
            f"««« {job.what}: {outcome}" + (f": {detail}" if detail else ""), f"bold {outcome_style(outcome)}"
        )
        if outcome != message.outcome:
            self.run_status.ended(outcome, detail)
        for hint in data.get("hints") or []:
            # the next steps as data (phaser.outcomes.Hint), worded with this screen's keys
            try:
                words = hint_words(Hint(Action(hint["action"]), hint.get("phase"), hint.get("slug")))
            except (KeyError, ValueError):
                continue
            self.log_pane.line(f"    next: {words}", "dim")
        kind = outcome_kind(outcome)
        dirt: list[str] = []
        if outcome == Outcome.REFUSED and job.kind.runs_phases and "uncommitted" in message.detail:
            from phaser.workflow.jobs import spec_dirt

            dirt = spec_dirt(self.project, job.slug)
        if dirt:
            pass  # the commit offer below says it all
        elif kind == "error":
            self.notify(detail or outcome, title=job.what, severity="error", timeout=6)
        elif outcome == Outcome.STOPPED:
            self.notify(
                "the run stopped; the phase stays resumable", title=job.what, severity="warning", timeout=4
            )
        elif kind == "human":
            # nothing broke: a person has to act (approve, unblock, tick by hand, wait for the other run)
            self.notify(detail or outcome, title=f"{job.what}: {outcome}", severity="warning", timeout=5)
        if self.job is job:
            self.job = None
            self.refresh_bindings()
        if dirt:
            self._offer_commit(job.slug, dirt, then=job)
        elif waiting and job.kind.runs_phases:
            await self.action_checkpoint()

    # -- helpers ----------------------------------------------------------------------------

    def error(self, exc: PhaserError, title: str, warning: bool = False) -> None:
        self.log_pane.line(f"{'warning' if warning else 'error'}: {exc}", "yellow" if warning else "bold red")
        self.notify(str(exc), title=title or exc.title, severity="warning" if warning else "error", timeout=6)
