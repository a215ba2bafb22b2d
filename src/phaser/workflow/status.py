"""Where each plan stands: the figures `phaser status`, `--json` and the TUI all show."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from phaser.errors import PhaserError
from phaser.outcomes import Action, Hint, Outcome
from phaser.plan.model import Plan
from phaser.plan.refs import as_json
from phaser.plan.store import read_plan
from phaser.plan.validate import check_parsed
from phaser.workflow.checks import spec_problems
from phaser.workflow.project import Project, SpecInfo


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
        data = asdict(self)
        data["next"] = as_json(self.next) if self.next is not None else None
        for phase, row in zip(self.phases, data["phases"], strict=True):
            row["number"] = as_json(phase.number)
            row["depends"] = [as_json(d) for d in phase.depends]
        if data["cause"] is None:
            del data["cause"]
        if not data["loose_tasks"]:
            del data["loose_tasks"]
        if data["error"] is None:
            del data["error"]
        data["hints"] = [h.as_dict() for h in self.hints]
        if not data["hints"]:
            del data["hints"]
        if data["active"] is None:
            del data["active"]
        if not data["problems"]:
            del data["problems"]
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
        if info.plan_path.exists() and not info.has_plan:
            return PlanStatus(
                info.slug, rel, info.slug, None, error=f"{rel}: is not a file (a folder?): move it away"
            )
        if not info.has_plan:
            error = f"{rel}: no plan yet"
            return PlanStatus(
                info.slug,
                rel,
                _spec_title(info),
                None,
                error=error,
                state="no-plan",
                cause=error,
                hints=[Hint(Action.PLAN, None, info.slug)],
            )
        try:
            plan = read_plan(info.plan_path)
        except PhaserError as exc:
            if exc.path:
                exc.path = project.rel(Path(exc.path))
            return PlanStatus(
                info.slug, rel, info.slug, None, error=str(exc), state="unreadable", cause=str(exc)
            )
    nxt = plan.next_phase()
    done = {p.number: p.title for p in plan.phases if p.done}
    commits = {}
    if done:  # git (and subprocess) only load for a plan with done phases
        from phaser.workflow import git

        commits = git.phase_commits(project.root, info.slug, done)
    phases = []
    for p in plan.phases:
        state = plan.state(p)
        phases.append(
            PhaseStatus(
                number=p.number,
                title=p.title,
                difficulty=p.difficulty,
                depends=p.depends,
                state=state,
                tasks_done=p.tasks_done,
                tasks_total=len(p.tasks),
                model=p.model or project.config.model_for(p.difficulty),
                approved=p.approved,
                commit=commits.get(p.number) if state == "done" else None,
                ran_on=_passed_on(project, info.slug, p.number) if state == "done" else None,
                tasks_blocked=sum(1 for t in p.tasks if t.state == "blocked"),
                tasks_active=sum(1 for t in p.tasks if t.state == "active"),
            )
        )
    title = str(plan.frontmatter.get("title") or plan.title or info.slug)
    problems = [str(p) for p in spec_problems(project, info)] + [str(p) for p in check_parsed(plan, rel)]
    status = PlanStatus(
        info.slug, rel, title, nxt.number if nxt else None, phases, problems, active_run(project, info.slug)
    )
    status.loose_tasks = [f"{rel}:{t.line + 1}: {t.text}" for t in plan.loose_tasks]
    status.state, status.cause = _plan_state(status)
    return status


def _plan_state(st: PlanStatus) -> tuple[str, str | None]:
    """The one state of a readable plan and its cause (see PlanStatus.state)."""
    if st.problems:
        more = f" (and {len(st.problems) - 1} more)" if len(st.problems) > 1 else ""
        return "invalid", f"{st.problems[0]}{more}"
    if st.active:
        phase = st.active.get("phase")
        lanes = st.active.get("lanes")
        if lanes:  # a parallel run
            numbers = ", ".join(str(lane["phase"]) for lane in lanes)
            if st.active.get("running"):
                return "running", f"phase {numbers} {'is' if len(lanes) == 1 else 'are'} running at once"
            return "interrupted", f"phase {numbers} did not finish; the next parallel run resumes them"
        if st.active.get("running"):
            return "running", f"phase {phase} is running"
        return (
            "interrupted",
            f"phase {phase} did not finish; the next run undoes its changes and runs it again",
        )
    if st.next is not None:
        return "ready", None
    if st.phases and st.phases_done == len(st.phases):
        return "complete", None
    blocked = st.blocked
    if blocked:
        names = ", ".join(str(n) for n in blocked)
        return "stuck", f"nothing can run: phase{'s' if len(blocked) > 1 else ''} {names} blocked"
    return "stuck", "nothing can run: every phase left waits on one that is not done"


def _spec_title(info: SpecInfo) -> str:
    """The spec's own title (frontmatter, else first heading) for a spec with no plan yet."""
    try:
        spec = read_plan(info.spec_path)
    except (PhaserError, OSError):
        return info.slug
    return str(spec.frontmatter.get("title") or spec.title or info.slug)


def _passed_on(project: Project, slug: str, number: int) -> str | None:
    """The model of the newest run of a phase that passed, from the end of its journal."""
    base = project.config.state_dir / "runs" / slug / str(number)
    for run in sorted(base.glob("*/journal.jsonl"), reverse=True) if base.is_dir() else []:
        try:
            with open(run, "rb") as fh:
                fh.seek(0, 2)
                fh.seek(max(0, fh.tell() - 65536))
                tail = fh.read().decode("utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in reversed(tail):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("kind") == "outcome":
                if Outcome.of(str(entry.get("outcome"))) is Outcome.PASSED:
                    return entry.get("model")
                break
    return None


def active_run(project: Project, slug: str) -> dict | None:
    """The plan's unfinished phase run, if any, and whether a process is still working on it (it
    holds the plan's run lock) or it was interrupted. A parallel run (`phaser run --parallel`)
    adds ``lanes``: every phase it has in a worktree, with its state (running, ready, merging)."""
    marker = project.config.state_dir / "active" / f"{slug}.json"
    lanes = _lanes(project, slug)
    if not marker.is_file() and not lanes:
        return None
    data: dict = {}
    if marker.is_file():
        try:
            data = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    lock = project.config.state_dir / "locks" / f"{slug}.lock"
    running = False
    if lock.exists():
        from filelock import FileLock, Timeout

        probe = FileLock(str(lock), timeout=0)
        try:
            probe.acquire()
            probe.release()
        except Timeout:
            running = True
    first = lanes[0] if lanes and not data else {}
    out = {
        "phase": data.get("phase", first.get("phase")),
        "started": data.get("started", first.get("started")),
        "running": running,
    }
    if lanes:
        out["lanes"] = lanes
    return out


def _lanes(project: Project, slug: str) -> list[dict]:
    """The phases a parallel run has in worktrees (``.phaser/worktrees/<slug>/wave.json``), blocked
    ones (kept for a person) left out."""
    record = project.config.state_dir / "worktrees" / slug / "wave.json"
    if not record.is_file():
        return []
    try:
        raw = json.loads(record.read_text(encoding="utf-8")).get("lanes", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [
        {
            "phase": r.get("number"),
            "state": r.get("state"),
            "branch": r.get("branch"),
            "started": r.get("started"),
        }
        for r in raw
        if isinstance(r, dict) and r.get("state") not in ("blocked", "merged")
    ]


def project_status(project: Project, slug: str | None = None) -> list[PlanStatus]:
    if slug is not None:
        return [status_of(project, project.spec(slug))]
    return [status_of(project, info) for info in project.specs()]
