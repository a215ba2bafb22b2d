"""The lanes of a parallel run that are started and not yet settled: each a `LaneRun` on its own
thread in its own worktree, what each may still spend, and the queue their threads report to when
they end, so the run's thread waits for any of them, never for one in particular."""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
from dataclasses import dataclass

from phaser import events as ev
from phaser.agent.provider import Provider
from phaser.outcomes import Outcome
from phaser.plan.model import Phase
from phaser.workflow import worktrees
from phaser.workflow.budget import Allowance, Spend
from phaser.workflow.lane import LaneRun
from phaser.workflow.phase_outcome import PhaseOutcome
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.providers import RunOptions
from phaser.workflow.routing import route_model
from phaser.workflow.run_loop import RunResult
from phaser.workflow.worktrees import Lane, WaveRecord


def spend_of(out: PhaseOutcome) -> Spend:
    """What a phase spent, as the run's caps count it (see `RunResult.tokens`)."""
    return RunResult(out.slug, Outcome.COMPLETE, [out]).spent


@dataclass
class Live:
    lane: Lane
    run: LaneRun
    allowance: Allowance
    thread: threading.Thread | None = None
    out: PhaseOutcome | None = None
    finished: bool = False

    @property
    def reserved(self) -> Spend:
        """Set aside for this lane: its allowance while it runs, what it spent once it is done."""
        if self.finished and self.out is not None:
            w = self.run.ready
            if w is not None:  # green, waiting to merge: its figures are in its work record
                out = dataclasses.replace(
                    self.out,
                    usage=dict(w.get("usage") or {}),
                    cost_usd=float(w.get("cost_usd") or 0.0),
                    turns=int(w.get("turns") or 0),
                )
                return spend_of(out)
            return spend_of(self.out)
        a = self.allowance
        return Spend(max(a.usd, 0.0), max(a.tokens, 0), max(a.turns, 0))


class LanePool:
    """Start lanes, wait for any to end, and make sure none outlives the run."""

    def __init__(
        self,
        project: Project,
        info: SpecInfo,
        options: RunOptions,
        provider: Provider,
        record: WaveRecord,
        sink: ev.EventSink,
        stop: threading.Event,
    ) -> None:
        self.project, self.info, self.options, self.provider = project, info, options, provider
        self.record, self.emit, self.stop = record, sink, stop
        self.live: dict[int, Live] = {}
        """By phase number."""
        self._ended: queue.Queue[int] = queue.Queue()

    def sink(self, number: int) -> ev.EventSink:
        def tagged(event: ev.Event) -> None:
            event.lane = number
            self.emit(event)

        return tagged

    @property
    def running(self) -> int:
        """Lanes whose agent still works (a finished lane waiting to merge holds no slot)."""
        return sum(1 for item in self.live.values() if not item.finished)

    def reserved(self) -> Spend:
        total = Spend()
        for item in self.live.values():
            total = total + item.reserved
        return total

    def start(self, phases: list[Phase], allowance: Allowance, base: str) -> None:
        """Each phase in a fresh worktree from ``base``, on its own thread, said in one line."""
        numbers = ", ".join(str(p.number) for p in phases)
        others = ", ".join(str(n) for n, item in sorted(self.live.items()) if not item.finished)
        how = "at once, each" if len(phases) > 1 else "alone" if not others else ""
        where = f"in its own git worktree from {base[:10]} (.phaser/worktrees/{self.info.slug}/)"
        said = f"phase {numbers}: {how} {where}" if how else f"phase {numbers}: {where}, beside {others}"
        self.emit(ev.Notice(said))
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
                on_event=self.sink(phase.number),
                stop_event=self.stop,
                allowance=allowance,
                escalate=self.project.config.models.escalate and not self.options.model and not phase.model,
            )
            item = Live(lane, run, allowance)
            item.thread = threading.Thread(
                target=self._body, args=(item,), name=f"phaser-phase-{phase.number}", daemon=True
            )
            self.live[phase.number] = item
            item.thread.start()

    def _body(self, item: Live) -> None:
        try:
            item.out = item.run.run()
            if item.run.ready is not None:  # on record at once: a kill -9 while it waits merges it
                self.record.set(item.lane.number, worktrees.READY, work=item.run.ready)
        except BaseException as exc:  # noqa: BLE001 - one lane's failure must not take the others down
            out = PhaseOutcome(
                self.info.slug,
                item.lane.number,
                "",
                Outcome.ERROR,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
            self.sink(item.lane.number)(
                ev.PhaseFinished(self.info.slug, item.lane.number, out.outcome, out.detail, out.as_dict())
            )
            item.out = out
        finally:
            item.finished = True
            self._ended.put(item.lane.number)

    def wait(self) -> None:
        """Until a lane ends (Ctrl-C without our handler, off the main thread, stops them all)."""
        while True:
            try:
                self._ended.get(timeout=0.5)
                return
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                self.stop.set()

    def drain(self) -> None:
        """The run is ending (an error on the way too): no lane is left running behind it."""
        if self.running:
            self.stop.set()
        for item in self.live.values():
            while item.thread is not None and item.thread.is_alive():
                with contextlib.suppress(KeyboardInterrupt):
                    item.thread.join(0.5)
