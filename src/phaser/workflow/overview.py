"""What the TUI's home screen shows, read from disk: every spec's status and the selected plan.

Slow on a 1,000-phase plan (a parse when it changed, the status figures), so the screen calls these
on a worker thread; they are plain functions of the project, with no UI in them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from phaser.errors import PhaserError
from phaser.plan.model import Plan
from phaser.plan.store import read_plan
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.status import PlanStatus, status_of


@dataclass
class SpecView:
    """One spec as the plan view shows it."""

    project: Project
    info: SpecInfo | None
    plan: Plan | None = None
    status: PlanStatus | None = None
    text: str = ""
    """The plan's (or, without one, the spec's) text."""
    error: str | None = None


@dataclass
class Overview:
    """Every spec's status and the selected one's plan."""

    statuses: list[PlanStatus]
    view: SpecView | None


def read_spec(project: Project, info: SpecInfo | None) -> SpecView:
    """Read and judge ``info``'s plan (a plan that fails to parse: its error and raw text)."""
    data = SpecView(project, info)
    if info is None:
        return data
    if not info.has_plan:
        if info.spec_path.is_file():
            data.text = info.spec_path.read_text(encoding="utf-8", errors="replace")
        return data
    try:
        data.plan = read_plan(info.plan_path)
        data.status = status_of(project, info, data.plan)
        data.text = data.plan.text
    except PhaserError as exc:
        data.error = str(exc)
        data.plan = data.status = None
        data.text = (
            info.plan_path.read_text(encoding="utf-8", errors="replace") if info.plan_path.is_file() else ""
        )
    return data


def read_overview(project: Project, selected: str | None) -> Overview:
    """Read every spec and plan; the selected plan once (its status serves the list as well)."""
    statuses: list[PlanStatus] = []
    view = None
    infos = project.specs()
    if selected not in {i.slug for i in infos} and infos:
        selected = infos[0].slug
    for info in infos:
        if info.slug == selected:
            view = read_spec(project, info)
            statuses.append(view.status if view.status is not None else status_of(project, info))
        else:
            statuses.append(status_of(project, info))
    for status in statuses:
        if status.error:
            status.error = relative(project, status.error)
    return Overview(statuses, view)


def relative(project: Project, message: str) -> str:
    """A ``/abs/path:line: message`` with the path shown relative to the project root."""
    root = str(project.root.resolve()) + "/"
    return message.replace(root, "") if message.startswith(root) else message


def phase_states(
    plan: Plan, running: Collection[int], approvals: bool, known: dict[int, str] | None = None
) -> dict[int, str]:
    """plan.state() per phase (``known``: the states status_of worked out already, so a big plan is
    not judged twice), plus running (a run works on it now; a parallel run on several) and waiting (done, not
    approved)."""
    states = {}
    for phase in plan.phases:
        state = known[phase.number] if known and phase.number in known else plan.state(phase)
        if phase.number in running:
            state = "running"
        elif approvals and state == "done" and not phase.approved:
            state = "waiting"
        states[phase.number] = state
    return states
