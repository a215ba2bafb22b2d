"""One long job a shell starts (plan, revise, next, a given phase, run all) and how it ended.

The TUI dispatches through ``run_job`` instead of calling planning and runner itself: the job's
kind and flags are typed, and every ending (an outcome, a budget, a stop, a refusal, a crash) comes
back as one ``JobResult`` the shell only has to word.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from phaser import events as ev
from phaser.errors import BudgetExceeded, PhaserError, RunStopped
from phaser.outcomes import Outcome
from phaser.workflow.project import Project
from phaser.workflow.providers import RunOptions


class JobKind(str, Enum):
    PLAN = "plan"
    REVISE = "revise"
    NEXT = "next"
    PHASE = "phase"
    """One given phase, as `phaser next --phase N`."""
    ALL = "all"

    @property
    def runs_phases(self) -> bool:
        return self in (JobKind.NEXT, JobKind.PHASE, JobKind.ALL)


@dataclass
class Job:
    """A planning or run job: what it is, on which spec, and the event that stops it."""

    kind: JobKind
    slug: str
    phase: int | None = None
    """The phase of a PHASE job."""
    feedback: str = ""
    """What should change, for a REVISE job."""
    force: bool = False
    """A PLAN job replaces an existing plan."""
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.kind = JobKind(self.kind)  # "next" as well as JobKind.NEXT

    @property
    def what(self) -> str:
        return {
            JobKind.PLAN: f"planning {self.slug}",
            JobKind.REVISE: f"revising the plan of {self.slug}",
            JobKind.NEXT: f"{self.slug}: next phase",
            JobKind.PHASE: f"{self.slug}: phase {self.phase}",
            JobKind.ALL: f"{self.slug}: run to completion",
        }[self.kind]


@dataclass
class JobResult:
    outcome: str
    """passed, incomplete, blocked, budget, stopped, refused, error, nothing, complete, approval, planned, "
    "..."""
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    """The outcome's as_dict() (a run of one phase), or the run's (``phases``: one per phase run)."""


def run_job(
    project: Project, job: Job, options: RunOptions | None = None, on_event: ev.EventSink = ev.ignore
) -> JobResult:
    """Run ``job`` to its end and say how it ended; never raises (a crash is an ``error`` result).

    ``job.stop`` becomes the run's stop event unless ``options`` carry one.
    """
    options = options or RunOptions()
    if options.stop_event is None:
        options.stop_event = job.stop
    try:
        if job.kind in (JobKind.PLAN, JobKind.REVISE):
            from phaser.workflow.planning import plan_spec

            result = plan_spec(
                project,
                job.slug,
                options=options,
                on_event=on_event,
                revise=job.feedback if job.kind is JobKind.REVISE else None,
                force=job.force,
            )
            return JobResult(
                Outcome.PLANNED,
                f"{project.rel(result.path)}: {result.phases} phases, {result.tasks} tasks, "
                f"${result.cost_usd:.4f}",
            )
        if job.kind in (JobKind.NEXT, JobKind.PHASE):
            from phaser.workflow.runner import run_next

            outcome = run_next(project, job.slug, phase=job.phase, options=options, on_event=on_event)
            return JobResult(outcome.outcome, outcome.detail, outcome.as_dict())
        from phaser.workflow.runner import run_all

        run = run_all(project, job.slug, options=options, on_event=on_event)
        data = run.as_dict()
        ran = f"{len(run.outcomes)} phase(s) run, ${run.cost_usd:.4f}"
        # the detail ends the line: the screen words its hints after it
        return JobResult(run.reason, f"{ran}: {data['detail']}" if data["detail"] else ran, data)
    except BudgetExceeded as exc:
        return JobResult(Outcome.BUDGET, str(exc), _hints(exc))
    except RunStopped as exc:
        return JobResult(Outcome.STOPPED, str(exc), _hints(exc))
    except PhaserError as exc:
        # exit 3 (another run holds the plan, a dirty tree, an edit conflict): a person has to act,
        # nothing broke
        return JobResult(Outcome.REFUSED if exc.exit_code == 3 else Outcome.ERROR, str(exc), _hints(exc))
    except Exception as exc:  # noqa: BLE001 - a job never raises: the shell says what happened
        return JobResult(Outcome.ERROR, f"{type(exc).__name__}: {exc}")


def _hints(exc: PhaserError) -> dict[str, Any]:
    """An error's next steps, as an outcome's data carries them."""
    return {"hints": [h.as_dict() for h in exc.hints]} if exc.hints else {}


def spec_dirt(project: Project, slug: str) -> list[str]:
    """The uncommitted paths of the spec's own folder (a spec written with `n`, a plan just made),
    when they are all the dirt there is: then committing them lets a run start."""
    from phaser.workflow import git

    if not git.is_repo(project.root):
        return []
    folder = project.rel(project.specs_dir / slug).rstrip("/") + "/"
    dirty = git.dirty_paths(project.root)
    if not dirty or not all(p.startswith(folder) for p in dirty):
        return []
    return dirty


def commit_spec(project: Project, slug: str, paths: list[str]) -> str:
    """Commit ``paths`` of the spec folder (as ``spec_dirt`` found them); returns the commit."""
    from phaser.workflow import git

    return git.commit_paths(project.root, f"spec: {slug}", paths)
