"""One phase of a parallel wave, run in its own git worktree: a `PhaseRun` whose tree is the
worktree and whose plan is the one plan file of the main checkout.

Everything a phase does runs as it does alone (explore, code, gates, fix attempts, escalation,
the plan tools), with the worktree as the writable root of every confined command. The one
difference is the end: green gates in the worktree do not tick anything. The work is committed
on the lane's branch and the lane is READY; `phaser.workflow.parallel` merges it onto the head in
phase order, runs the gates again on the merged tree, and only then ticks and commits.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import ClassVar

from phaser import events as ev
from phaser.agent.provider import Provider
from phaser.agent.snapshot import Snapshot
from phaser.outcomes import Outcome
from phaser.workflow import git
from phaser.workflow.budget import Allowance
from phaser.workflow.git_guard import GitGuard
from phaser.workflow.phase import PhaseRun
from phaser.workflow.phase_end import _planted
from phaser.workflow.phase_outcome import Attempt, PhaseOutcome
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.resume import changed_paths
from phaser.workflow.worktrees import Lane, check_link, commit_work


class WorktreeGuard(GitGuard):
    """The worktree's private git dir (``.git/worktrees/<name>``): its config.worktree too."""

    WATCHED: ClassVar[tuple[str, ...]] = ("hooks", "config", "config.worktree")


def worktree_project(project: Project, lane: Lane) -> Project:
    """The project as seen from the lane's worktree: same settings, the worktree as its root (so
    its state, snapshots and journals live in the worktree's own ``.phaser/``)."""
    return Project(dataclasses.replace(project.config, root=lane.worktree))


class LaneRun(PhaseRun):
    """A phase in its worktree. ``ready`` is set (and the lane's branch holds the work) when its
    gates were green there; otherwise the outcome is final (blocked, budget, stopped, error)."""

    def __init__(
        self,
        project: Project,
        info: SpecInfo,
        lane: Lane,
        provider: Provider,
        *,
        model: str,
        link: str,
        on_event: ev.EventSink = ev.ignore,
        stop_event: threading.Event | None = None,
        allowance: Allowance | None = None,
        escalate: bool = True,
    ) -> None:
        super().__init__(
            worktree_project(project, lane),
            info,
            lane.number,
            provider,
            model=model,
            on_event=on_event,
            stop_event=stop_event,
            allowance=allowance,
            escalate=escalate,
        )
        self.lane = lane
        self.link = link
        self.main_guard = GitGuard.take(project.root)
        """The main .git's hooks and config: shared by every worktree, so watched here too."""
        self.lane_guard = WorktreeGuard.take(lane.worktree)
        self.ready: dict | None = None

    def _planted_now(self) -> list[str]:
        """Anything changed in git's hands during the phase, put back: the worktree's ``.git``
        file, its private git dir, the main .git's hooks and config."""
        planted = []
        if check_link(self.project.root, self.lane, self.link):
            planted.append(".git (the worktree's link to its git dir) changed")
        planted += self.lane_guard.restore()
        planted += self.main_guard.restore()
        if self.guard is not None:
            planted += self.guard.restore()
        return planted

    def complete(self, out: PhaseOutcome, a: Attempt, base: str | None, before: Snapshot) -> PhaseOutcome:
        """Green in the worktree: commit the work on the lane's branch; the merge ticks."""
        assert a.session is not None
        planted = self._planted_now()
        if planted:
            return _planted(self, out, a, before, planted)
        work = [p for p in changed_paths(self.root, before) if p != self.plan.rel]
        commit = commit_work(
            self.lane, f"phaser: {self.info.slug} phase {self.number} work (branch {self.lane.branch})", work
        )
        s = a.session
        usage = self.usage + s.usage
        self.ready = {
            "title": out.title,
            "model": a.model,
            "first_model": self.model,
            "attempts": out.attempts,
            "claims": [list(c) for c in s.toolbox.claims],
            "claimed_text": dict(s.toolbox.claimed_text),
            "gates": [g.as_dict() for g in a.gates],
            "baseline": [g.as_dict() for g in self.baseline],
            "usage": usage.as_dict(),
            "cost_usd": self.cost + s.cost_usd,
            "turns": self.turns + s.turns,
            "violations": out.violations + len(s.toolbox.violations),
            "confinement": self.confinement.backend,
            "run_dir": str(a.journal.run_dir),
            "rel_run_dir": out.run_dir,
            "commit": commit,
            "work": work,
        }
        a.journal.write("lane_ready", branch=self.lane.branch, commit=commit, paths=work)
        a.journal.close()
        out.outcome = Outcome.PASSED
        out.detail = f"green in its worktree; committed on {self.lane.branch}, waiting to merge"
        out.commit = commit
        return out


def lane_head(lane: Lane) -> str | None:
    return git.head(lane.worktree)
