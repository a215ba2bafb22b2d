"""Where each plan stands: the figures `phaser status`, `--json` and the TUI all show."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from phaser.errors import PhaserError
from phaser.plan.model import Plan
from phaser.plan.store import read_plan
from phaser.workflow import git
from phaser.workflow.project import Project, SpecInfo


@dataclass
class PhaseStatus:
    number: int
    title: str
    difficulty: str
    depends: list[int]
    state: str
    tasks_done: int
    tasks_total: int
    model: str
    approved: bool = False
    commit: str | None = None
    """The newest `phase N` commit of a done phase, from its git trailer; None outside git."""


@dataclass
class PlanStatus:
    slug: str
    path: str
    title: str
    next: int | None
    phases: list[PhaseStatus] = field(default_factory=list)
    error: str | None = None
    """The plan's `file:line: message` when it cannot be read; the other fields are then empty."""

    @property
    def phases_done(self) -> int:
        return sum(1 for p in self.phases if p.state in ("done", "skipped"))

    @property
    def blocked(self) -> list[int]:
        return [p.number for p in self.phases if p.state == "blocked"]

    def as_dict(self) -> dict:
        data = asdict(self)
        if data["error"] is None:
            del data["error"]
        return data


def phase_model(project: Project, plan: Plan, number: int) -> str:
    phase = plan.phase(number)
    if phase is None:
        return ""
    return phase.model or project.config.model_for(phase.difficulty)


def status_of(project: Project, info: SpecInfo, plan: Plan | None = None) -> PlanStatus:
    """Status of one spec's plan; a spec without a plan, or an unreadable one, says so."""
    rel = project.rel(info.plan_path)
    if plan is None:
        if not info.has_plan:
            return PlanStatus(
                info.slug, rel, info.slug, None, error=f"{rel}: no plan yet (phaser plan {info.slug})"
            )
        try:
            plan = read_plan(info.plan_path)
        except PhaserError as exc:
            if exc.path:
                exc.path = project.rel(Path(exc.path))
            return PlanStatus(info.slug, rel, info.slug, None, error=str(exc))
    nxt = plan.next_phase()
    commits = git.phase_commits(project.root, info.slug) if any(p.done for p in plan.phases) else {}
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
            commit=commits.get(p.number) if plan.state(p) == "done" else None,
        )
        for p in plan.phases
    ]
    title = str(plan.frontmatter.get("title") or plan.title or info.slug)
    return PlanStatus(info.slug, rel, title, nxt.number if nxt else None, phases)


def project_status(project: Project, slug: str | None = None) -> list[PlanStatus]:
    if slug is not None:
        return [status_of(project, project.spec(slug))]
    return [status_of(project, info) for info in project.specs()]
