"""The checks a phase run makes before it starts, shared by `phaser next` and `--dry-run`.

Both call `check`, so a dry run refuses exactly what the real run would refuse, with the same
message and exit code: a broken spec, another run on the plan, uncommitted changes (those an
unfinished run or a killed parallel run's merge left aside: the real run puts them right first, under
the plan's lock, and checks again), a provider that cannot be built (no
API key, a missing script). What the run would do without refusing (undo an unfinished phase
first, end ``unverified`` for want of gates) is said too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from filelock import FileLock, Timeout

from phaser.agent.provider import Provider
from phaser.errors import NeedsHuman, PlanError
from phaser.outcomes import Action, Hint, Outcome
from phaser.workflow import git, wave_recovery
from phaser.workflow.checks import spec_problems
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.providers import RunOptions, make_provider
from phaser.workflow.resume import changed_paths, load_active

NO_GATES = (
    "no gates configured: nothing can verify the phase's claims, so it would be committed but nothing "
    "ticked (outcome unverified); configure [gates] commands in phaser.toml"
)


@dataclass
class Preflight:
    provider: Provider
    unfinished: dict | None = None
    """An unfinished run the real run undoes first: {"phase", "started", "paths"}."""
    expected: list[dict] = field(default_factory=list)
    """What the run would end in without refusing: [{"outcome", "message", "exit_code"}]."""
    half_merge: list[str] | None = None
    """A killed parallel run's merge the real run puts right first: the paths it puts back."""

    @property
    def exit_code(self) -> int:
        return max((e["exit_code"] for e in self.expected), default=0)


def check(project: Project, info: SpecInfo, options: RunOptions, *, dry_run: bool = False) -> Preflight:
    """Raise the refusal a run of ``info``'s plan would make; otherwise what it would meet.

    When a killed parallel run left a merge in progress, the real run checks the tree only once it
    has put that right, under the plan's lock (a refusal now would leave the half-merge in place,
    where a stash or a commit would sweep it up); a dry run predicts that check."""
    check_spec(project, info)
    provider = make_provider(project, options)
    check_lock(project, info.slug)
    unfinished = pending_undo(project, info)
    put_back = wave_recovery.pending(project, info)
    if put_back is None or dry_run:
        undone = [*(unfinished["paths"] if unfinished else ()), *(put_back or ())]
        check_tree(project, info, options, undone=undone)
    out = Preflight(provider, unfinished, half_merge=put_back)
    if not project.config.gates.commands:
        out.expected.append(
            {
                "outcome": Outcome.UNVERIFIED.value,
                "message": NO_GATES,
                "exit_code": Outcome.UNVERIFIED.exit_code,
            }
        )
    return out


def check_spec(project: Project, info: SpecInfo) -> None:
    """The spec goes into every request: one that cannot be parsed stops the run (exit 2)."""
    problems = spec_problems(project, info)  # an unchanged spec is answered from the parse cache
    if problems:
        raise PlanError(problems[0].message, path=problems[0].path, line=problems[0].line)


def check_lock(project: Project, slug: str) -> None:
    """Another process holds the plan's run lock: the run would be refused (exit 3)."""
    lock_path = project.config.state_dir / "locks" / f"{slug}.lock"
    if not lock_path.exists():
        return
    probe = FileLock(str(lock_path), timeout=0)
    try:
        probe.acquire()
    except Timeout:
        raise NeedsHuman(f"another phaser run is working on {slug} right now") from None
    probe.release()


def pending_undo(project: Project, info: SpecInfo) -> dict | None:
    """The unfinished run the next run undoes before anything else, and the paths it puts back."""
    found = load_active(project.config.state_dir, info.slug)
    if found is None:
        return None
    run, before = found
    paths = changed_paths(project.root, before, exclude=[info.plan_path])
    return {"phase": run.phase, "started": run.started, "paths": paths}


def check_tree(project: Project, info: SpecInfo, options: RunOptions, undone=()) -> None:
    """Refuse to start on a tree with uncommitted changes (other than the plan, and those an
    unfinished run made, which are undone first) unless allowed."""
    if options.allow_dirty or not git.is_repo(project.root):
        return
    plan_rel = project.rel(info.plan_path)
    skip = {plan_rel, *undone}
    # specs/ is the person's: never swept into an agent's commit (resume.changed_paths), so a spec
    # saved during an earlier phase does not stop the line
    dirty = sorted(p for p in git.dirty_paths(project.root) if p not in skip and not p.startswith("specs/"))
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
        raise NeedsHuman(
            f"uncommitted changes ({shown}): commit or stash them first, so no human work ends up in an "
            "agent's commit",
            hints=[Hint(Action.ALLOW_DIRTY, None, info.slug)],
        )
