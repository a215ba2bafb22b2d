"""`phaser run --parallel N`: independent phases at the same time, each in its own git worktree.

Up to N phases run at all times: a phase starts as soon as it is ready (not done, not blocked,
every dependency done) and a slot is free, in its own worktree on its own branch from the head
of that moment, and runs as a phase alone does (`phaser.workflow.lane`). A slot is free again the
moment its phase is done in its worktree. Results merge back one at a time
(`phaser.workflow.merge`): merge onto the current head, gates on the merged tree, tick, commit.
Finished lanes merge in phase order; a lane that a later phase waits for (its ``depends:``)
merges as soon as it is done, ahead of an earlier phase still running, so that phase can start.
A conflict or a red gate after the merge blocks that phase alone, and a phase depending on a
blocked phase never starts; the others go on. The run's caps are shared: a phase starts with an
equal part of what is neither spent nor set aside for the phases still running.

Plan edits of every lane (claims, notes, added tasks, ticks, blocked notes) go to the one plan
file in the main checkout through the locked compare-and-swap edit path, so concurrent phases'
edits and a person's saves are all kept. Stop (a set stop event, SIGINT, SIGTERM) stops every
lane; a lane that had finished stays READY and merges on the next run. A kill -9 leaves the wave
record (``.phaser/worktrees/<slug>/wave.json``), which every run puts right first, parallel or not
(`phaser.workflow.wave_recovery`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import replace

from phaser import events as ev
from phaser.agent.confine.policy import resolve_backend
from phaser.agent.provider import Provider
from phaser.errors import UsageError
from phaser.outcomes import Action, Hint, Outcome
from phaser.plan.model import Phase, Plan
from phaser.workflow import git, preflight, worktrees
from phaser.workflow.budget import Allowance, Budget
from phaser.workflow.git_guard import GitGuard
from phaser.workflow.lane_pool import LanePool, Live
from phaser.workflow.locks import plan_run_lock
from phaser.workflow.merge import MergeContext, cleanup, keep_journals
from phaser.workflow.phase_outcome import PhaseOutcome
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.providers import RunOptions, make_provider
from phaser.workflow.resume import recover
from phaser.workflow.routing import load_plan, stuck_hints, stuck_reason
from phaser.workflow.run_loop import RunResult, unapproved
from phaser.workflow.wave_recovery import discard, merge_safely, recover_wave
from phaser.workflow.worktrees import Lane, WaveRecord

__all__ = ["ready_phases", "recover_wave", "run_parallel", "width"]

ENDING = (Outcome.BUDGET, Outcome.STOPPED, Outcome.ERROR)
"""Outcomes after which the run starts nothing new (the phases still running finish and merge)."""


def width(project: Project, options: RunOptions) -> int:
    """How many phases may run at once: ``--parallel``, else ``[run] parallel`` (1: one at a time)."""
    return max(1, options.parallel if options.parallel is not None else project.config.run.parallel)


def ready_phases(plan: Plan, exclude: set[int] = frozenset()) -> list[Phase]:  # type: ignore[assignment]
    """Every phase that could start now, in plan order: not done, not blocked or skipped, every
    dependency done. Two of them never depend on each other (a dependency is done, they are not)."""
    return [p for p in plan.phases if plan.state(p) in ("next", "ready") and p.number not in exclude]


def split(left: Allowance, n: int) -> Allowance:
    """An equal part of what is left of the run's caps, so phases running together never spend
    more than the run may."""
    return Allowance(left.usd / n, left.tokens // n, left.turns // n)


def waited_for(plan: Plan) -> set[int]:
    """Phases that some phase not yet done depends on: merged as soon as they are done."""
    return {d for p in plan.phases if not p.done for d in p.depends}


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM (and SIGINT) set the stop event, so every lane stops at its next step and the run
    ends cleanly instead of dying between a merge and its commit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}

    def handler(_sig: int, _frame: object) -> None:
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class ParallelRun:
    """One `phaser run --parallel N` of one plan, under the plan's run lock."""

    def __init__(
        self,
        project: Project,
        info: SpecInfo,
        options: RunOptions,
        on_event: ev.EventSink,
        provider: Provider,
        n: int,
        limit: int | None,
    ) -> None:
        self.project, self.info, self.options, self.provider = project, info, options, provider
        self.n, self.limit = n, limit
        self.stop = options.stop_event or threading.Event()
        self.options = replace(options, stop_event=self.stop)
        self._lock = threading.Lock()
        self.on_event = on_event
        self.result = RunResult(info.slug, Outcome.COMPLETE)
        self.budget = Budget(project.config.budget)
        self.settled: set[int] = set()
        """Phases that ended in this run without passing: not started again by it."""
        self.ended: list[Outcome] = []
        self.record = WaveRecord(project.config.state_dir, info.slug)
        self.confinement = resolve_backend(project.config.agent.sandbox)
        self.guard = GitGuard.take(project.root)
        self.pool = LanePool(project, info, self.options, provider, self.record, self.emit, self.stop)

    def emit(self, event: ev.Event) -> None:
        with self._lock:  # lanes report from their threads; a shell sees one event at a time
            self.on_event(event)

    @property
    def live(self) -> dict[int, Live]:
        """Lanes started by this run and not yet merged or settled, by phase number."""
        return self.pool.live

    def _ctx(self) -> MergeContext:
        return MergeContext(self.project, self.info, self.record, self.confinement, self.emit, self.stop)

    def _note(self, out: PhaseOutcome) -> None:
        self.result.outcomes.append(out)
        if out.outcome != Outcome.PASSED:
            self.settled.add(out.phase)
            self.ended.append(Outcome(out.outcome))

    def run(self) -> RunResult:
        self.record = recover_wave(self.project, self.info, self.emit)
        self.pool.record = self.record
        message = recover(
            self.project.root, self.project.config.state_dir, self.info.slug, self.info.plan_path
        )
        if message:
            self.emit(ev.Notice(message, "warning"))
        preflight.check_tree(self.project, self.info, self.options)
        with _stop_on_signals(self.stop):
            try:
                self._merge_waiting()
                return self._schedule()
            finally:
                self.pool.drain()

    def _schedule(self) -> RunResult:
        """Start ready phases into free slots, merge lanes as they finish, until nothing runs and
        nothing more can start."""
        while True:
            self._settle_finished()
            verdict = None
            if not self.stop.is_set() and not any(o in ENDING for o in self.ended):
                verdict = self._fill()
            if not self.live:
                return verdict if verdict is not None else self._stopped_or_ended()
            self.pool.wait()

    def _fill(self) -> RunResult | None:
        """Start as many ready phases as there are free slots; when none can start, why (the
        run's end, once nothing runs any more)."""
        res = self.result
        plan = load_plan(self.project, self.info)
        waiting = unapproved(plan)
        ready = ready_phases(plan, self.settled | set(self.record.lanes) | set(self.live))
        if plan.complete:
            res.reason = Outcome.COMPLETE
            return res
        if not ready:
            return None if self.live else self._ended(plan)
        slots = self.n - self.pool.running
        if self.limit is not None:
            slots = min(slots, max(self.limit, 1) - len(waiting) - len(self.live))
            if slots <= 0 and not self.live:
                numbers = ", ".join(map(str, waiting))
                res.detail = f"waiting for approval of phase {numbers}"
                res.hints = [Hint(Action.APPROVE, waiting[0], self.info.slug)]
                self.emit(ev.Notice(res.detail, hints=tuple(res.hints)))
                res.reason = Outcome.APPROVAL
                return res
        if slots <= 0:
            return None
        committed = res.spent + self.pool.reserved()
        reached = self.budget.run_reached(committed)
        if reached:
            if self.live:
                return None  # what the running phases leave over may start another
            res.detail, res.reason = reached, Outcome.BUDGET
            self.emit(ev.Notice(reached, "warning"))
            return res
        left = self.budget.run_left(committed)
        slots = min(slots, left.turns, left.tokens)  # each phase started gets a turn and a token at least
        if slots <= 0:  # what is left does not go round: the running phases may leave some over
            return None
        base = git.head(self.project.root)
        if base is None:
            raise UsageError("a parallel run needs a commit to start the worktrees from: commit first")
        self.pool.start(ready[:slots], split(left, slots), base)
        return None

    def _ended(self, plan: Plan) -> RunResult:
        res = self.result
        if self.ended:
            res.reason = self.ended[0]
            last = next(o for o in res.outcomes if o.outcome != Outcome.PASSED)
            res.detail, res.hints = last.detail, last.hints
            return res
        res.detail, res.hints = stuck_reason(plan), stuck_hints(plan, self.info.slug)
        self.emit(ev.Notice(res.detail, "warning", hints=tuple(res.hints)))
        res.reason = Outcome.STUCK
        return res

    def _stopped_or_ended(self) -> RunResult:
        res = self.result
        waiting = sorted(n for n, lane in self.record.lanes.items() if lane.state == worktrees.READY)
        if self.stop.is_set():
            res.reason = Outcome.STOPPED
            res.detail = "stopped: every running phase was stopped"
            if waiting:
                res.detail += f"; phase {', '.join(map(str, waiting))} finished and merges on the next run"
            return res
        first = self.ended[0] if self.ended else Outcome.STOPPED
        res.reason = first
        last = next((o for o in res.outcomes if o.outcome == first), None)
        if last is not None:
            res.detail, res.hints = last.detail, last.hints
        return res

    # -- lanes -------------------------------------------------------------------------------

    def _settle_finished(self) -> None:
        """Every lane that ended: settled at once when it will not merge; merged in phase order
        when it will, or ahead of an earlier phase still running when a later phase waits for it."""
        wanted: set[int] | None = None
        for number in sorted(self.live):
            item = self.live[number]
            if not item.finished:
                continue
            earlier = any(n < number and not self.live[n].finished for n in self.live)
            if item.run.ready is not None and not self.stop.is_set() and earlier:
                wanted = waited_for(load_plan(self.project, self.info)) if wanted is None else wanted
                if number not in wanted:
                    continue  # merges after the earlier phase still running
            del self.live[number]
            self._settle(item)

    def _settle(self, item: Live) -> None:
        out, lane = item.out, item.lane
        assert out is not None
        if item.run.ready is not None:
            self.record.set(lane.number, worktrees.READY, work=item.run.ready)
            if self.stop.is_set():
                return  # stopped: merges on the next run
            self._note(self._merge(self.record.lanes[lane.number]))
            return
        self._note(out)
        if out.outcome == Outcome.BLOCKED:  # red in its own worktree: the attempt was undone there
            keep_journals(self.project, lane)
            cleanup(self.project, lane, self.record)
        else:
            discard(self.project, self.record, lane, self.emit, f"ended ({Outcome(out.outcome).value})")

    def _merge(self, lane: Lane) -> PhaseOutcome:
        return merge_safely(self._ctx(), lane, self.guard)

    def _merge_waiting(self) -> None:
        """READY lanes from an interrupted run: merged first, in phase order."""
        for number in sorted(self.record.lanes):
            if self.record.lanes[number].state == worktrees.READY and not self.stop.is_set():
                self.emit(
                    ev.Notice(f"phase {number} finished in its worktree before the interruption: merging it")
                )
                self._note(self._merge(self.record.lanes[number]))


def run_parallel(
    project: Project,
    info: SpecInfo,
    *,
    limit: int | None,
    options: RunOptions,
    on_event: ev.EventSink = ev.ignore,
) -> RunResult:
    """The body of `run_all` when more than one phase may run at once."""
    if not git.is_repo(project.root):
        raise UsageError(
            f"a parallel run needs a git repository at {project.root}: git init and commit first"
        )
    preflight.check_spec(project, info)
    if options.provider_obj is None:
        options = replace(options, provider_obj=make_provider(project, options))
    assert options.provider_obj is not None
    with plan_run_lock(project, info.slug):
        return ParallelRun(
            project, info, options, on_event, options.provider_obj, width(project, options), limit
        ).run()
