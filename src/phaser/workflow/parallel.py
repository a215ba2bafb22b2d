"""`phaser run --parallel N`: independent phases at the same time, each in its own git worktree.

A wave is up to N phases that are ready together (not done, not blocked, every dependency done),
each started in its own worktree on its own branch from the same base (the head when the wave
starts). Each runs as a phase alone does (`phaser.workflow.lane`). Their results merge back one
at a time in phase order (`phaser.workflow.merge`): merge, gates on the merged tree, tick, commit.
A conflict or a red gate after the merge blocks that phase alone; the others go on. Then the
next wave. The run's caps are shared: each phase of a wave gets an equal part of what is left.

Plan edits of every lane (claims, notes, added tasks, ticks, blocked notes) go to the one plan
file in the main checkout through the locked compare-and-swap edit path, so concurrent phases'
edits and a person's saves are all kept. Stop (a set stop event, SIGINT, SIGTERM) stops every
lane; a lane that had finished stays READY and merges on the next run. A kill -9 leaves the wave
record (``.phaser/worktrees/<slug>/wave.json``), from which the next run resumes: a merge in
progress is aborted (or, when only its commit was left, committed), READY lanes merge, lanes cut
off mid-phase are cleaned (their changes kept as a patch) and run again.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

from phaser import events as ev
from phaser.agent.confine.policy import resolve_backend
from phaser.agent.provider import Provider
from phaser.errors import PhaserError, UsageError
from phaser.outcomes import Action, Hint, Outcome
from phaser.plan.model import Phase, Plan
from phaser.stamps import utc_stamp
from phaser.workflow import git, preflight, worktrees
from phaser.workflow.budget import Allowance, Budget
from phaser.workflow.git_guard import GitGuard
from phaser.workflow.lane import LaneRun
from phaser.workflow.locks import plan_run_lock
from phaser.workflow.merge import MergeContext, block, cleanup, keep_journals, merge_lane, outcome_of
from phaser.workflow.phase_outcome import PhaseOutcome
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.providers import RunOptions, make_provider
from phaser.workflow.resume import recover
from phaser.workflow.routing import load_plan, route_model, stuck_hints, stuck_reason
from phaser.workflow.run_loop import RunResult, unapproved
from phaser.workflow.worktrees import Lane, WaveRecord

__all__ = ["ready_phases", "recover_wave", "run_parallel", "width"]


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


@dataclass
class _Live:
    lane: Lane
    run: LaneRun
    thread: threading.Thread | None = None
    out: PhaseOutcome | None = None


# -- recovery ------------------------------------------------------------------------------------


def recover_wave(project: Project, info: SpecInfo, on_event: ev.EventSink = ev.ignore) -> WaveRecord:
    """Put right what a killed parallel run left (see the module's docstring); returns the record,
    whose READY lanes the caller merges first."""
    root = project.root
    record = WaveRecord(project.config.state_dir, info.slug)
    if not record.lanes and not record.dir.is_dir():  # never ran in parallel: nothing to look at
        return record
    for lane in sorted(record.lanes.values(), key=lambda x: x.number):
        if lane.state == worktrees.TICKED and worktrees.merge_in_progress(root):
            from phaser.workflow.checkoff import commit_message

            plan_rel = project.rel(info.plan_path)
            worktrees.commit_merge(
                root,
                commit_message(
                    info.slug,
                    lane.number,
                    lane.work.get("title", ""),
                    "resumed: merged and gates green before the interruption",
                ),
                plan_rel,
            )
            record.set(lane.number, worktrees.MERGED)
            on_event(
                ev.Notice(
                    f"phase {lane.number}: its merge was interrupted just before the commit; committed now"
                )
            )
        if lane.state in (worktrees.MERGING, worktrees.TICKED):
            if worktrees.merge_in_progress(root):
                worktrees.abort_merge(root)
                on_event(
                    ev.Notice(
                        f"phase {lane.number}: an interrupted merge of {lane.branch} was aborted; "
                        "it merges again",
                        "warning",
                    )
                )
            record.set(lane.number, worktrees.READY)
        if lane.state == worktrees.MERGED:
            cleanup(project, lane, record)
        elif lane.state == worktrees.RUNNING:
            _discard(project, record, lane, on_event, "was cut off")
        elif lane.state == worktrees.READY and not lane.worktree.is_dir():
            record.drop(lane.number)
    known = {lane.worktree.resolve() for lane in record.lanes.values()}
    ours = worktrees.worktrees_dir(project.config.state_dir, info.slug).resolve()
    for path in worktrees.listed(root):
        if path.resolve().is_relative_to(ours) and path.resolve() not in known:
            stray = Lane(0, "", str(path), git.head(root) or "")
            worktrees.remove(root, stray, branch=False)
    return record


def _discard(project: Project, record: WaveRecord, lane: Lane, on_event: ev.EventSink, what: str) -> None:
    """A lane that will not merge (stopped, cut off, out of budget): its changes kept as a patch,
    its worktree and branch removed; the phase runs again from scratch next time."""
    dest = (
        project.config.state_dir / "runs" / record.dir.name / str(lane.number) / f"lane-{utc_stamp()}.patch"
    )
    kept = worktrees.save_changes(lane, dest)
    cleanup(project, lane, record)
    where = f"; its changes are kept in {project.rel(kept)}" if kept else ""
    on_event(
        ev.Notice(
            f"phase {lane.number} {what} in its worktree: cleaned up{where}; it runs again next time",
            "warning",
        )
    )


# -- the run -------------------------------------------------------------------------------------


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

    def emit(self, event: ev.Event) -> None:
        with self._lock:  # lanes report from their threads; a shell sees one event at a time
            self.on_event(event)

    def _sink(self, number: int) -> ev.EventSink:
        def sink(event: ev.Event) -> None:
            event.lane = number
            self.emit(event)

        return sink

    def _ctx(self) -> MergeContext:
        return MergeContext(self.project, self.info, self.record, self.confinement, self.emit, self.stop)

    def _note(self, out: PhaseOutcome) -> None:
        self.result.outcomes.append(out)
        if out.outcome != Outcome.PASSED:
            self.settled.add(out.phase)
            self.ended.append(Outcome(out.outcome))

    def run(self) -> RunResult:
        self.record = recover_wave(self.project, self.info, self.emit)
        message = recover(
            self.project.root, self.project.config.state_dir, self.info.slug, self.info.plan_path
        )
        if message:
            self.emit(ev.Notice(message, "warning"))
        preflight.check_tree(self.project, self.info, self.options)
        res = self.result
        with _stop_on_signals(self.stop):
            self._merge_waiting()
            while not self.stop.is_set():
                plan = load_plan(self.project, self.info)
                waiting = unapproved(plan)
                ready = ready_phases(plan, self.settled | set(self.record.lanes))
                if self.limit is not None and ready and len(waiting) >= max(self.limit, 1):
                    numbers = ", ".join(map(str, waiting))
                    res.detail = f"waiting for approval of phase {numbers}"
                    res.hints = [Hint(Action.APPROVE, waiting[0], self.info.slug)]
                    self.emit(ev.Notice(res.detail, hints=tuple(res.hints)))
                    res.reason = Outcome.APPROVAL
                    return res
                if plan.complete:
                    res.reason = Outcome.COMPLETE
                    return res
                if not ready:
                    return self._ended(plan)
                reached = self.budget.run_reached(res.spent)
                if reached:
                    res.detail, res.reason = reached, Outcome.BUDGET
                    self.emit(ev.Notice(reached, "warning"))
                    return res
                slots = self.n
                if self.limit is not None:
                    slots = min(slots, max(self.limit, 1) - len(waiting))
                self._wave(ready[: max(slots, 1)])
                if any(o in (Outcome.BUDGET, Outcome.STOPPED, Outcome.ERROR) for o in self.ended):
                    break
        return self._stopped_or_ended()

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

    # -- a wave ------------------------------------------------------------------------------

    def _wave(self, phases: list[Phase]) -> None:
        base = git.head(self.project.root)
        if base is None:
            raise UsageError("a parallel run needs a commit to start the worktrees from: commit first")
        allowance = split(self.budget.run_left(self.result.spent), len(phases))
        numbers = ", ".join(str(p.number) for p in phases)
        self.emit(
            ev.Notice(
                f"phase {numbers}: {'at once, each' if len(phases) > 1 else 'alone'} in its own git worktree "
                f"from {base[:10]} (.phaser/worktrees/{self.info.slug}/)"
            )
        )
        live: list[_Live] = []
        for phase in phases:
            lane = worktrees.add(
                self.project.root, self.project.config.state_dir, self.info.slug, phase.number, base
            )
            self.record.put(lane)
            model, _why = route_model(self.project, phase, self.options)
            run = LaneRun(
                self.project,
                self.info,
                lane,
                self.provider,
                model=model,
                link=worktrees.link_text(self.project.root, lane) or "",
                on_event=self._sink(phase.number),
                stop_event=self.stop,
                allowance=allowance,
                escalate=self.project.config.models.escalate and not self.options.model and not phase.model,
            )
            item = _Live(lane, run)
            item.thread = threading.Thread(
                target=self._lane, args=(item,), name=f"phaser-phase-{phase.number}", daemon=True
            )
            live.append(item)
        for item in live:
            assert item.thread is not None
            item.thread.start()
        for item in live:  # merge in phase order, each as soon as it and those before it are done
            self._join(item)
            self._settle(item)

    def _lane(self, item: _Live) -> None:
        try:
            item.out = item.run.run()
        except BaseException as exc:  # noqa: BLE001 - one lane's failure must not take the others down
            out = PhaseOutcome(
                self.info.slug,
                item.lane.number,
                "",
                Outcome.ERROR,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
            self._sink(item.lane.number)(
                ev.PhaseFinished(self.info.slug, item.lane.number, out.outcome, out.detail, out.as_dict())
            )
            item.out = out

    def _join(self, item: _Live) -> None:
        while item.thread is not None and item.thread.is_alive():
            try:
                item.thread.join(0.5)
            except KeyboardInterrupt:  # Ctrl-C without our handler (not the main thread's signal)
                self.stop.set()

    def _settle(self, item: _Live) -> None:
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
            _discard(self.project, self.record, lane, self.emit, f"ended ({Outcome(out.outcome).value})")

    def _merge(self, lane: Lane) -> PhaseOutcome:
        """Merge one lane; a git failure on the way blocks that phase alone, never leaving the
        head with a merge in progress."""
        ctx = self._ctx()
        try:
            return merge_lane(ctx, lane, self.guard)
        except PhaserError as exc:
            worktrees.abort_merge(self.project.root)
            return block(ctx, lane, outcome_of(ctx, lane), f"the merge failed: {exc}", None)

    def _merge_waiting(self) -> None:
        """READY lanes from an interrupted run: merged first, in phase order."""
        plan = load_plan(self.project, self.info)
        for number in sorted(self.record.lanes):
            lane = self.record.lanes[number]
            phase = plan.phase(number)
            if lane.state == worktrees.READY and (phase is None or phase.done):  # done since, alone
                _discard(
                    self.project,
                    self.record,
                    lane,
                    self.emit,
                    "was done meanwhile (or left the plan): its lane is stale,",
                )
                continue
            if lane.state == worktrees.READY and not self.stop.is_set():
                self.emit(
                    ev.Notice(f"phase {number} finished in its worktree before the interruption: merging it")
                )
                self._note(self._merge(lane))


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
