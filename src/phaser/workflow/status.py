"""Where each plan stands: the figures `phaser status`, `--json` and the TUI all show."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from phaser.errors import PhaserError
from phaser.outcomes import Action, Hint
from phaser.plan.model import Plan
from phaser.plan.refs import as_json
from phaser.plan.store import read_plan
from phaser.plan.validate import check_parsed
from phaser.workflow.checks import spec_problems
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.status_live import active_run as live_active_run
from phaser.workflow.status_live import passed_on, phase_commits, plan_state, prune


@dataclass
class PhaseStatus:
    number: int
    title: str
    difficulty: str
    depends: list[int]
    state: str
    """One of phaser.plan.PHASE_STATES: done, next, ready (runnable, later), pending, blocked, skipped."""
    tasks_done: int
    tasks_total: int
    model: str
    approved: bool = False
    commit: str | None = None
    """The newest `phase N` commit of a done phase, from its git trailer; None outside git."""
    ran_on: str | None = None
    """The model a done phase passed on (escalation, --model and redo can differ from ``model``)."""
    tasks_blocked: int = 0
    """Tasks marked ``[~]`` (blocked)."""
    tasks_active: int = 0
    """Tasks marked ``[-]`` (in progress)."""


@dataclass
class PlanStatus:
    slug: str
    path: str
    title: str
    next: int | None
    phases: list[PhaseStatus] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """What `phaser validate` would report (`file:line: message`); next/run refuse such a plan."""
    active: dict | None = None
    """A phase run that has not finished: {"phase", "started", "running"}; running False means it was
    interrupted (crash, Ctrl-C, kill) and the next `phaser next` will undo its changes first."""
    error: str | None = None
    """The plan's `file:line: message` when it cannot be read; the other fields are then empty."""
    state: str = ""
    """The plan's one state, in order of precedence (the real cause first):
    ``no-plan`` (spec without plan), ``unreadable`` (see ``error``), ``invalid`` (see ``problems``;
    next and run refuse it; a plan without phases is this too, never ``complete``), ``running``
    (see ``active``), ``interrupted``, ``ready`` (``next`` can run), ``complete``, ``stuck``
    (phases left but none runnable: blocked or waiting on one that is)."""
    cause: str | None = None
    """One line saying why the state is what it is, for every state but ready and complete."""
    loose_tasks: list[str] = field(default_factory=list)
    """`file:line: text` of tasks outside any phase (nothing runs or ticks them)."""
    hints: list[Hint] = field(default_factory=list)
    """What a person can do about ``error``, as data (each shell words it)."""

    @property
    def phases_done(self) -> int:
        return sum(1 for p in self.phases if p.state in ("done", "skipped"))

    @property
    def blocked(self) -> list[int]:
        return [p.number for p in self.phases if p.state == "blocked"]

    def as_dict(self) -> dict:
        """The `--json` form (docs/json.md)."""
        return prune(self.full_dict())

    def full_dict(self) -> dict:
        """Every field, numbers and hints in their JSON form (what a snapshot keeps)."""
        data = asdict(self)
        data["next"] = as_json(self.next) if self.next is not None else None
        for phase, row in zip(self.phases, data["phases"], strict=True):
            row["number"] = as_json(phase.number)
            row["depends"] = [as_json(d) for d in phase.depends]
        data["hints"] = [h.as_dict() for h in self.hints]
        return data


def phase_model(project: Project, plan: Plan, number: int) -> str:
    phase = plan.phase(number)
    if phase is None:
        return ""
    return phase.model or project.config.model_for(phase.difficulty)


def status_of(project: Project, info: SpecInfo, plan: Plan | None = None) -> PlanStatus:
    """Status of one spec's plan; a spec without a plan, or an unreadable one, says so."""
    status, _ = static_status(project, info, plan)
    if status.error is not None:
        return status
    done = {p.number: p.title for p in status.phases if p.state == "done"}
    commits = phase_commits(project.root, info.slug, done)
    for p in status.phases:
        if p.state == "done":
            p.commit = commits.get(p.number)
            p.ran_on = passed_on(project.root, info.slug, p.number)
    status.active = active_run(project.root, info.slug)
    status.state, status.cause = plan_state(
        status.problems, status.active, status.next, [(p.state, p.number) for p in status.phases]
    )
    return status


def static_status(
    project: Project, info: SpecInfo, plan: Plan | None = None
) -> tuple[PlanStatus, list[tuple[str, bool | None]]]:
    """The status as the plan, spec and settings files alone decide it (no git, journals or run
    markers: phaser.workflow.status_live adds those), and the other files whose existence it
    depends on (the plan's ``spec:``) with whether it existed, None if that changed meanwhile."""
    rel = project.rel(info.plan_path)
    if plan is None:
        if info.plan_path.exists() and not info.has_plan:
            error = f"{rel}: is not a file (a folder?): move it away"
            return PlanStatus(info.slug, rel, info.slug, None, error=error), []
        if not info.has_plan:
            error = f"{rel}: no plan yet"
            no_plan = PlanStatus(
                info.slug,
                rel,
                _spec_title(info),
                None,
                error=error,
                state="no-plan",
                cause=error,
                hints=[Hint(Action.PLAN, None, info.slug)],
            )
            return no_plan, []
        try:
            plan = read_plan(info.plan_path)
        except PhaserError as exc:
            if exc.path:
                exc.path = project.rel(Path(exc.path))
            status = PlanStatus(info.slug, rel, info.slug, None, error=str(exc), state="unreadable")
            status.cause = str(exc)
            return status, []
    nxt = plan.next_phase()
    phases = [
        PhaseStatus(
            number=p.number,
            title=p.title,
            difficulty=p.difficulty,
            depends=p.depends,
            state=plan.state(p),
            tasks_done=p.tasks_done,
            tasks_total=len(p.tasks),
            model=p.model or project.config.model_for(p.difficulty),
            approved=p.approved,
            tasks_blocked=sum(1 for t in p.tasks if t.state == "blocked"),
            tasks_active=sum(1 for t in p.tasks if t.state == "active"),
        )
        for p in plan.phases
    ]
    title = str(plan.frontmatter.get("title") or plan.title or info.slug)
    spec = plan.frontmatter.get("spec") if isinstance(plan.frontmatter, dict) else None
    ref = str(info.plan_path.parent / spec.strip()) if isinstance(spec, str) and spec.strip() else None
    seen = ref is not None and os.path.isfile(ref)
    problems = [str(p) for p in spec_problems(project, info)] + [str(p) for p in check_parsed(plan, rel)]
    status = PlanStatus(info.slug, rel, title, nxt.number if nxt else None, phases, problems)
    status.loose_tasks = [f"{rel}:{t.line + 1}: {t.text}" for t in plan.loose_tasks]
    steady = ref is None or os.path.isfile(ref) == seen  # the same before and after the check
    refs = [] if ref is None else [(ref, seen if steady else None)]
    return status, refs


def _spec_title(info: SpecInfo) -> str:
    """The spec's own title (frontmatter, else first heading) for a spec with no plan yet."""
    try:
        spec = read_plan(info.spec_path)
    except (PhaserError, OSError):
        return info.slug
    return str(spec.frontmatter.get("title") or spec.title or info.slug)


def active_run(project: Project | Path, slug: str) -> dict | None:
    """phaser.workflow.status_live.active_run of a project (or its root)."""
    return live_active_run(project if isinstance(project, Path) else project.root, slug)


def project_status(project: Project, slug: str | None = None) -> list[PlanStatus]:
    if slug is not None:
        return [status_of(project, project.spec(slug))]
    return [status_of(project, info) for info in project.specs()]
