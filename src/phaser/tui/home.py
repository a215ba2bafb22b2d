"""The home screen: specs on the left, the selected plan on the right, the live run log below it.

Every long job (planning, running phases) runs in one named thread worker; its events come back
as HomeScreen.RunEvent messages, and the job's end as HomeScreen.JobEnded. The spec watcher's
callback runs on a timer thread too, and only posts HomeScreen.FilesChanged.
"""

from __future__ import annotations

import subprocess
import threading
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
from textual.widgets import Footer, Header

from phaser import events as ev
from phaser.errors import BudgetExceeded, PhaserError, RunStopped
from phaser.tui.checkpoint import CheckpointInfo, CheckpointScreen, Decision
from phaser.tui.confirm import ConfirmScreen
from phaser.tui.plan_tree import PlanTree
from phaser.tui.plan_view import PlanView, relative
from phaser.tui.prompt import PromptScreen
from phaser.tui.run_log import RunLog
from phaser.tui.run_status import RunStatus
from phaser.tui.spec_list import SpecList
from phaser.tui.wording import outcome_kind, outcome_style, tui_words
from phaser.workflow.project import SpecInfo
from phaser.workflow.status import project_status


@dataclass
class Job:
    """A planning or run job: what it is, on which spec, and the event that stops it."""

    kind: str
    """plan, revise, next, phase (the phase ``phase``, as `phaser next --phase N`) or all."""
    slug: str
    feedback: str = ""
    phase: int | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def what(self) -> str:
        return {
            "plan": f"planning {self.slug}",
            "revise": f"revising the plan of {self.slug}",
            "next": f"{self.slug}: next phase",
            "phase": f"{self.slug}: phase {self.phase}",
            "all": f"{self.slug}: run to completion",
        }[self.kind]


class HomeScreen(Screen[None]):
    # The footer must fit 80 columns with the tree focused, a run going and a phase waiting: the
    # keys with show=False are left out of it (they are in the command palette and docs/tui.md).
    BINDINGS = [
        Binding("n", "new_spec", "New", tooltip="Write a new spec (title, then your $EDITOR)"),
        Binding("e", "edit_spec", "Edit", show=False, tooltip="Open the selected spec.md in $EDITOR"),
        Binding("p", "plan", "Plan", tooltip="Turn the selected spec into a plan (a planning run)"),
        Binding(
            "r", "revise", "Revise", show=False, tooltip="Revise the plan with your feedback (a planning run)"
        ),
        Binding("g", "run_next", "Next", tooltip="Run the next phase of the selected plan"),
        Binding("G", "run_all", "Run all", tooltip="Run phases until done, stopping at approval checkpoints"),
        Binding(
            "s", "stop", "Stop", tooltip="Stop the run cleanly at the next turn (the phase stays resumable)"
        ),
        Binding(
            "a", "checkpoint", "Approve", tooltip="Review a phase waiting for approval: approve or reject"
        ),
        Binding(
            "m",
            "toggle_markdown",
            "View",
            show=False,
            tooltip="Show the plan as rendered markdown, or as a tree",
        ),
        Binding("c", "costs", "Costs", show=False, tooltip="Tokens and dollars per phase and model"),
        Binding("ctrl+r", "reload", "Reload", show=False, tooltip="Read every spec and plan from disk again"),
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
        "toggle_markdown": "Markdown view",
        "costs": "Costs",
        "reload": "Reload from disk",
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

    def __init__(self) -> None:
        super().__init__()
        self.job: Job | None = None
        self.running_phase: tuple[str, int] | None = None
        self.last_outcomes: dict[tuple[str, int], dict] = {}
        self.watcher = None
        self.reloads = 0

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield SpecList(id="specs")
            with Vertical(id="right"):
                yield PlanView(id="plan")
                yield RunStatus(id="run-status")
                yield RunLog(id="log")
        yield Footer(compact=True)

    @property
    def project(self):
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
    def busy(self) -> bool:
        return self.job is not None

    async def on_mount(self) -> None:
        self.query_one("#log", RunLog).border_title = "Log"
        await self.reload()
        self.spec_list.focus()
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

    async def reload(self, select: str | None = None) -> None:
        """Read every spec and plan again and show them, keeping the selection and cursor."""
        self.reloads += 1
        statuses = project_status(self.project)
        for status in statuses:
            if status.error:
                status.error = relative(self.project, status.error)
        await self.spec_list.show(statuses, select=select)
        self.show_plan()
        self.refresh_bindings()

    def show_plan(self) -> None:
        info = self.selected_info()
        running = (
            self.running_phase[1]
            if self.running_phase and info and self.running_phase[0] == info.slug
            else None
        )
        own_run = self.job is not None and info is not None and self.job.slug == info.slug
        self.plan_view.show(self.project, info, running=running, own_run=own_run)
        self.refresh_bindings()

    @on(PlanTree.NodeHighlighted)
    def _cursor_moved(self) -> None:
        """R acts on the phase under the cursor: whether it can run changes as the cursor moves."""
        self.refresh_bindings()

    async def _poll_active(self) -> None:
        """Another process's run of the shown plan starts, and may end, without touching the plan
        (a stop, a crash): look at its marker and lock now and then, and reload when they change."""
        view = self.plan_view
        if self.job is not None or view.info is None or view.plan is None:
            return
        from phaser.workflow.status import active_run

        if active_run(self.project, view.info.slug) != view.active:
            await self.reload()

    @on(SpecList.Selected)
    def _opened(self) -> None:
        """Enter or a click on a spec: go to its plan."""
        self.show_plan()
        if self.plan_view.plan is not None:
            self.plan_view.tree.focus()

    @on(SpecList.Chosen)
    def _chosen(self, event: SpecList.Chosen) -> None:
        if self.plan_view.info is None or self.plan_view.info.slug != event.slug:
            self.show_plan()

    # -- live files -------------------------------------------------------------------------

    def start_watcher(self) -> None:
        if self.watcher is not None or not self.app.watch_files or not self.project.specs_dir.is_dir():
            return
        from phaser.plan.watch import SpecWatcher

        self.watcher = SpecWatcher(
            self.project.specs_dir, self._files_changed, debounce_s=self.app.debounce_s
        ).start()

    def stop_watcher(self) -> None:
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.stop()

    def _files_changed(self, paths: set[Path]) -> None:
        """Runs on the watcher's timer thread: hop to the UI with a message, nothing else."""
        self.post_message(self.FilesChanged(paths))

    @on(FilesChanged)
    async def _on_files_changed(self, event: FilesChanged) -> None:
        await self.reload()

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
            # dimmed when nothing can run: complete, stuck (blocked, unmet dependencies), refused, running elsewhere
            return False if view.plan is None else None if self.busy or not view.runnable() else True
        if action == "run_phase":
            return (
                False
                if view.plan is None
                else None
                if self.busy or not view.runnable(view.tree.cursor_phase)
                else True
            )
        if action == "revise":
            return False if view.plan is None else None if self.busy else True
        if action == "plan":
            return None if self.busy or info is None else True
        if action == "edit_spec":
            return None if info is None else True
        if action == "checkpoint":
            return bool(view.waiting) and not self.busy
        return True

    async def action_reload(self) -> None:
        await self.reload()
        self.notify("reloaded from disk", timeout=2)

    def action_toggle_markdown(self) -> None:
        self.plan_view.toggle_markdown()

    def action_costs(self) -> None:
        from phaser.tui.costs import CostsScreen

        self.app.push_screen(CostsScreen(self.project))

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
                self.start_job(Job("plan", info.slug))

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
            self.start_job(Job("plan", info.slug))
            return

        def replace(yes: bool | None) -> None:
            if yes:
                self.start_job(Job("plan", info.slug, feedback="force"))

        self.app.push_screen(
            ConfirmScreen(
                f"{self.project.rel(info.plan_path)} exists. Replace it with a new plan? (r revises it instead)",
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
                self.start_job(Job("revise", info.slug, feedback=feedback))

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
            self.start_job(Job("next", info.slug))

    def action_run_all(self) -> None:
        info = self.selected_info()
        if info is not None and info.has_plan:
            self.start_job(Job("all", info.slug))

    def action_run_phase(self) -> None:
        """R on the plan tree: run the phase under the cursor (a blocked one too), as `phaser next --phase N`."""
        info = self.selected_info()
        number = self.plan_view.tree.cursor_phase
        if info is not None and info.has_plan and number is not None:
            self.start_job(Job("phase", info.slug, phase=number))

    def action_stop(self) -> None:
        if self.job is None:
            return
        self.job.stop.set()
        self.run_status.stopping()
        self.log_pane.line(
            "stop requested: the run ends at the next turn; the phase stays resumable", "yellow"
        )

    # -- tasks ------------------------------------------------------------------------------

    @on(PlanTree.ToggleTask)
    async def _toggle_task(self, event: PlanTree.ToggleTask) -> None:
        info = self.plan_view.info
        if info is None:
            return
        if self.plan_view.refused:
            # phases may repeat a number or tasks be misnumbered: a ref could name another task than the one shown
            count = len(self.plan_view.problems)
            self.notify(
                f"{self.project.rel(info.plan_path)} has {count} problem{'s' if count != 1 else ''} (listed above the "
                f"plan): fix the plan before ticking tasks; nothing was written",
                title=f"Task {event.ref}",
                severity="warning",
                timeout=8,
            )
            return
        from phaser.plan.store import read_plan
        from phaser.workflow.edits import parse_ref, tick

        try:
            phase_no, index = parse_ref(event.ref)
            phase = read_plan(info.plan_path).phase(phase_no)
            task = phase.task(index) if phase is not None else None
            if task is None or task.text != event.text:
                # the file moved on since the screen was drawn: show it again rather than tick another task
                self.notify(
                    f"{self.project.rel(info.plan_path)} changed on disk: task {event.ref} is not what was shown; reloaded",
                    severity="warning",
                )
            else:
                tick(self.project, info.slug, event.ref, event.checked)
        except PhaserError as exc:
            self.error(exc, f"Task {event.ref}")
        await self.reload()

    # -- checkpoints ------------------------------------------------------------------------

    def action_checkpoint(self) -> None:
        waiting = self.plan_view.waiting
        info = self.plan_view.info
        plan = self.plan_view.plan
        if not waiting or info is None or plan is None:
            self.notify("no phase of this plan waits for approval")
            return
        number = waiting[0]
        cursor = self.plan_view.tree.cursor_node
        if cursor is not None and cursor.data is not None and cursor.data.phase in waiting:
            number = cursor.data.phase
        phase = plan.phase(number)
        checkpoint = self.checkpoint_info(
            info.slug, number, phase.title if phase else "", phase.notes if phase else []
        )
        self.app.push_screen(CheckpointScreen(checkpoint), lambda d: self._decided(info.slug, number, d))

    def checkpoint_info(self, slug: str, number: int, title: str, notes: list[str]) -> CheckpointInfo:
        """What the person needs to judge a phase: the commit's --stat, gate results and the notes."""
        from phaser.workflow import git

        outcome = self.last_outcomes.get((slug, number))
        commit = outcome.get("commit") if outcome else None
        gates = list(outcome.get("gates") or []) if outcome else []
        root = self.project.root
        if commit is None and git.is_repo(root):
            commit = git.phase_commits(root, slug, {number: title}).get(number)
        if not gates:
            gates = _journal_gates(self.project, slug, number)
        stat = ""
        if commit:
            proc = subprocess.run(
                ["git", "show", "--stat", "--format=%h %s", commit], cwd=root, capture_output=True, text=True
            )
            stat = proc.stdout.strip() if proc.returncode == 0 else proc.stderr.strip()
        return CheckpointInfo(slug, number, title, commit, stat, gates, list(notes))

    async def _decided(self, slug: str, number: int, decision: Decision | None) -> None:
        if decision is None:
            return
        from phaser.workflow.approval import approve, reject

        try:
            if decision.approve:
                approve(self.project, slug, number)
                self.log_pane.line(f"phase {number} of {slug} approved", "green")
                self.notify(f"phase {number} approved")
            else:
                reject(self.project, slug, number, decision.feedback)
                self.log_pane.line(
                    f"phase {number} of {slug} rejected: {decision.feedback} (the phase is open again)",
                    "yellow",
                )
                self.notify(f"phase {number} rejected: it is open again with your feedback as a task")
        except PhaserError as exc:
            self.error(exc, "Checkpoint")
        await self.reload()

    # -- jobs -------------------------------------------------------------------------------

    def start_job(self, job: Job) -> None:
        if self.job is not None:
            self.notify(f"busy: {self.job.what} (s stops it)", severity="warning")
            return
        self.job = job
        self.log_pane.line(f"»»» {job.what}", "bold")
        self.run_status.started(job.what)
        self.refresh_bindings()
        self.run_job(job)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False, name="run")
    def run_job(self, job: Job) -> None:
        """Runs on a worker thread: call the workflow, post every event, and post how it ended."""
        from phaser.workflow.providers import RunOptions

        def sink(event: ev.Event) -> None:
            self.post_message(self.RunEvent(job.slug, event))

        project = self.project
        try:
            options = RunOptions(stop_event=job.stop, provider_obj=self.app.session_provider())
            if job.kind in ("plan", "revise"):
                from phaser.workflow.planning import plan_spec

                result = plan_spec(
                    project,
                    job.slug,
                    options=options,
                    on_event=sink,
                    revise=job.feedback if job.kind == "revise" else None,
                    force=job.feedback == "force",
                )
                ended = self.JobEnded(
                    job,
                    "planned",
                    f"{project.rel(result.path)}: {result.phases} phases, {result.tasks} tasks, ${result.cost_usd:.4f}",
                )
            elif job.kind in ("next", "phase"):
                from phaser.workflow.runner import run_next

                outcome = run_next(project, job.slug, phase=job.phase, options=options, on_event=sink)
                ended = self.JobEnded(job, outcome.outcome, outcome.detail, outcome.as_dict())
            else:
                from phaser.workflow.runner import run_all

                result = run_all(project, job.slug, options=options, on_event=sink)
                data = result.as_dict()
                ran = f"{len(result.outcomes)} phase(s) run, ${result.cost_usd:.4f}"
                ended = self.JobEnded(
                    job, result.reason, f"{data['detail']} ({ran})" if data["detail"] else ran, data
                )
        except BudgetExceeded as exc:
            ended = self.JobEnded(job, "budget", str(exc))
        except RunStopped as exc:
            ended = self.JobEnded(job, "stopped", str(exc))
        except PhaserError as exc:
            # exit 3 (another run holds the plan, a dirty tree, an edit conflict): a person has to act, nothing broke
            ended = self.JobEnded(job, "refused" if exc.exit_code == 3 else "error", str(exc))
        except Exception as exc:  # noqa: BLE001 - the worker never raises: the screen says what happened
            ended = self.JobEnded(job, "error", f"{type(exc).__name__}: {exc}")
        self.post_message(ended)

    @on(RunEvent)
    def _run_event(self, message: RunEvent) -> None:
        event = message.event
        self.log_pane.show(event)
        self.run_status.event(event)
        if isinstance(event, ev.PhaseStarted):
            self.running_phase = (event.slug, event.phase)
            self.show_plan()
        elif isinstance(event, ev.PhaseFinished):
            self.running_phase = None
            self.last_outcomes[(event.slug, event.phase)] = event.data
            self.show_plan()

    @on(JobEnded)
    async def _job_ended(self, message: JobEnded) -> None:
        job = message.job
        if self.job is job:
            self.job = None
        self.running_phase = None
        data = message.data
        if job.kind in ("next", "phase") and data.get("phase"):
            self.last_outcomes[(job.slug, data["phase"])] = data
        for phase in data.get("phases", []):
            self.last_outcomes[(job.slug, phase["phase"])] = phase
        outcome, detail = message.outcome, tui_words(message.detail)
        self.log_pane.line(
            f"««« {job.what}: {outcome}" + (f": {detail}" if detail else ""), f"bold {outcome_style(outcome)}"
        )
        self.run_status.ended(outcome, detail)
        kind = outcome_kind(outcome)
        if kind == "error":
            self.notify(detail or outcome, title=job.what, severity="error", timeout=10)
        elif outcome == "stopped":
            self.notify("the run stopped; the phase stays resumable", title=job.what, severity="warning")
        elif kind == "human":
            # nothing broke: a person has to act (approve, unblock, tick by hand, wait for the other run)
            self.notify(detail or outcome, title=f"{job.what}: {outcome}", severity="warning", timeout=10)
        await self.reload(select=job.slug)
        if (
            self.plan_view.info is not None
            and self.plan_view.info.slug == job.slug
            and self.plan_view.waiting
            and job.kind in ("next", "phase", "all")
        ):
            self.action_checkpoint()

    # -- helpers ----------------------------------------------------------------------------

    def error(self, exc: PhaserError, title: str) -> None:
        self.log_pane.line(f"error: {exc}", "bold red")
        self.notify(str(exc), title=title or exc.title, severity="error", timeout=10)


def _journal_gates(project, slug: str, number: int) -> list[dict]:
    """The gate results of the phase's last recorded run, from the journals."""
    from phaser.workflow.cost import cost_report

    try:
        report = cost_report(project, slug)
    except PhaserError:
        return []
    runs = [r for p in report.plans for r in p.get("runs", []) if str(r.get("phase")) == str(number)]
    return list(runs[-1].get("gates") or []) if runs else []
