"""The home screen's jobs: plan (`p`), revise (`r`), the next phase (`>`), every phase (`A`), the
phase under the cursor (`R`), stop (`s`).

One job at a time runs in the named thread worker "run" through workflow.jobs.run_job; its events
come back as HomeScreen.RunEvent messages and its end as HomeScreen.JobEnded, handled here (by
name, as Textual finds any handler). A mixin of HomeScreen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from phaser import events as ev
from phaser.outcomes import Action, Hint, Kind, Outcome
from phaser.tui.confirm import ConfirmScreen
from phaser.tui.prompt import PromptScreen
from phaser.tui.wording import hint_words, outcome_style, with_keys
from phaser.workflow.jobs import Job, JobKind


class JobControl:
    """Expects HomeScreen's attributes (``job``, ``plan_view``, ``log_pane``, ``run_status``, ...)."""

    job: Job | None
    running_phases: dict[str, tuple[int, ...]]
    last_outcomes: dict[tuple[str, int], dict]
    _ended_job: Job | None
    project: Any
    app: Any
    plan_view: Any
    log_pane: Any
    run_status: Any
    RunEvent: Any
    JobEnded: Any

    if TYPE_CHECKING:  # provided by HomeScreen

        @property
        def busy(self) -> bool: ...

        def notify(self, *args: Any, **kwargs: Any) -> Any: ...
        def post_message(self, *args: Any) -> Any: ...
        def refresh_bindings(self) -> None: ...
        def selected_info(self) -> Any: ...
        def _session_log(self) -> None: ...
        def _offer_commit(self, slug: str, paths: list[str], then: Job | None) -> None: ...
        async def reload(self, select: str | None = None) -> None: ...
        async def action_checkpoint(self) -> None: ...

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
            result = JobResult(Outcome.ERROR, f"{type(exc).__name__}: {exc}")
        outcome = Outcome.of(result.outcome) or Outcome.ERROR  # a word phaser does not know is an error
        self.post_message(self.JobEnded(job, outcome, result.detail, result.data))

    async def on_home_screen_run_event(self, message: Any) -> None:
        event = message.event
        self.log_pane.show(event)
        self.run_status.event(event)
        if isinstance(event, ev.PhaseStarted):
            # a parallel run starts several phases of the plan at once: each one shows as running
            now = set(self.running_phases.get(event.slug, ())) | {event.phase}
            self.running_phases[event.slug] = tuple(sorted(now))
            await self.reload()
        elif isinstance(event, ev.PhaseFinished):
            rest = tuple(n for n in self.running_phases.get(event.slug, ()) if n != event.phase)
            self.running_phases[event.slug] = rest
            self.last_outcomes[(event.slug, event.phase)] = event.data
            await self.reload()

    async def on_home_screen_job_ended(self, message: Any) -> None:
        job = message.job
        outcome: Outcome
        self.running_phases.pop(job.slug, None)
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
            waits = f"phase{'s' if many else ''} {listed} wait{'' if many else 's'}"
            detail = f"{waits} for approval: press a to review"
        self.log_pane.line(
            f"««« {job.what}: {outcome}" + (f": {detail}" if detail else ""), f"bold {outcome_style(outcome)}"
        )
        if outcome is not message.outcome:
            self.run_status.ended(outcome, detail)
        for hint in data.get("hints") or []:
            # the next steps as data (phaser.outcomes.Hint), worded with this screen's keys
            try:
                words = hint_words(Hint(Action(hint["action"]), hint.get("phase"), hint.get("slug")))
            except (KeyError, ValueError):
                continue
            self.log_pane.line(f"    next: {words}", "dim")
        ending = outcome.kind
        dirt: list[str] = []
        dirty = any(h.get("action") == Action.ALLOW_DIRTY for h in data.get("hints") or [])
        if outcome == Outcome.REFUSED and job.kind.runs_phases and dirty:  # the tree had other changes
            from phaser.workflow.jobs import spec_dirt

            dirt = spec_dirt(self.project, job.slug)
        if dirt:
            pass  # the commit offer below says it all
        elif ending is Kind.ERROR:
            self.notify(detail or outcome, title=job.what, severity="error", timeout=6)
        elif outcome == Outcome.STOPPED:
            self.notify(
                "the run stopped; the phase stays resumable", title=job.what, severity="warning", timeout=4
            )
        elif ending is Kind.HUMAN:
            # nothing broke: a person has to act (approve, unblock, tick by hand, wait for the other run)
            self.notify(detail or outcome, title=f"{job.what}: {outcome}", severity="warning", timeout=5)
        if self.job is job:
            self.job = None
            self.refresh_bindings()
        if dirt:
            self._offer_commit(job.slug, dirt, then=job)
        elif waiting and job.kind.runs_phases:
            await self.action_checkpoint()
