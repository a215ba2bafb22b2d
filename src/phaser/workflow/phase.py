"""One phase, start to finish: fresh conversation, explore -> code -> gates -> plan update, with
escalation to the next tier when the gates stay red. The gates live in phase_gates, the endings
(blocked, or check-off with evidence and a commit) in phase_end, the records in phase_outcome."""

from __future__ import annotations

import threading

from phaser import events as ev
from phaser.agent.base import StepAgent
from phaser.agent.confine.policy import Choice, resolve_backend
from phaser.agent.journal import Journal
from phaser.agent.policy import PathPolicy, Step
from phaser.agent.provider import Provider, Usage
from phaser.agent.snapshot import Snapshot, take_snapshot
from phaser.agent.tools import ToolBox
from phaser.config import BudgetConfig
from phaser.errors import BudgetExceeded, ProviderError, RunStopped
from phaser.outcomes import Action, Hint, Outcome
from phaser.stamps import utc_stamp
from phaser.workflow import git, prompts
from phaser.workflow.budget import Allowance, Budget, Spend
from phaser.workflow.gates import GateResult, describe
from phaser.workflow.git_guard import GitGuard
from phaser.workflow.phase_end import block, complete, discard
from phaser.workflow.phase_gates import PhaseGates
from phaser.workflow.phase_outcome import Attempt, PhaseOutcome
from phaser.workflow.plan_file import PlanFile
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.resume import ActiveRun, save_active
from phaser.workflow.sessions import AgentSpec, new_step_agent

__all__ = ["Allowance", "PhaseOutcome", "PhaseRun"]


class PhaseRun:
    """Runs one phase of one plan. Construct, then call run()."""

    def __init__(
        self,
        project: Project,
        info: SpecInfo,
        number: int,
        provider: Provider,
        *,
        model: str,
        on_event: ev.EventSink = ev.ignore,
        stop_event: threading.Event | None = None,
        allowance: Allowance | None = None,
        escalate: bool = True,
    ) -> None:
        self.project = project
        self.cfg = project.config
        self.info = info
        self.number = number
        self.provider = provider
        self.model = model
        self.on_event = on_event
        self.stop_event = stop_event
        self.allowance = allowance
        self.escalate = escalate
        self.root = project.root
        self.plan = PlanFile(info.plan_path, project.rel(info.plan_path))
        self.budget = Budget(self.cfg.budget)
        self.repo = git.is_repo(self.root)
        self.dirty_before: set[str] = set()
        self.usage = Usage()
        """Totals over the phase's finished attempts (the budget covers all of them)."""
        self.cost = 0.0
        self.turns = 0
        self.confinement: Choice = Choice("none", "")
        self.gates = self._phase_gates()
        self.guard: GitGuard | None = None
        self.baseline: list[GateResult] = []
        """The gates' results before the phase (a parallel lane's merge audits against them)."""

    # -- the phase --------------------------------------------------------------------------

    def run(self) -> PhaseOutcome:
        self.confinement = resolve_backend(self.cfg.agent.sandbox)  # fail closed, before anything runs
        self.gates = self._phase_gates()  # under the confinement just resolved
        phase = self.plan.phase(self.number)
        out = PhaseOutcome(self.info.slug, phase.number, phase.title, Outcome.ERROR, model=self.model)
        self.guard = GitGuard.take(self.root) if self.repo else None
        base = git.head(self.root) if self.repo else None
        self.dirty_before = set(git.dirty_paths(self.root)) if self.repo else set()
        before = take_snapshot(self.root)
        try:
            baseline = self.baseline = self.gates.baseline()
        except RunStopped as exc:  # stopped before the phase began: nothing changed, nothing to undo
            out.outcome, out.detail = Outcome.STOPPED, f"{exc}, before the phase began; nothing changed"
            self.on_event(
                ev.PhaseFinished(self.info.slug, self.number, out.outcome, out.detail, out.as_dict())
            )
            return out
        models = [self.model]
        nxt = self.cfg.escalated(self.model) if self.escalate else None
        if nxt:
            models.append(nxt)
        attempt: Attempt | None = None
        for i, model in enumerate(models, 1):
            if attempt is not None:
                discard(self, attempt, before, "escalating to " + model)
                self._end_attempt(attempt, out, "escalated")
            out.model, out.attempts = model, i
            attempt = Attempt(model, Journal.new(self.cfg.state_dir, self.info.slug, phase.number))
            out.run_dir = self.project.rel(attempt.journal.run_dir)
            save_active(
                self.cfg.state_dir,
                ActiveRun(self.info.slug, phase.number, str(attempt.journal.run_dir), base, utc_stamp()),
                before,
            )
            try:
                self._attempt(attempt, phase.title, i, baseline, before)
            except (BudgetExceeded, RunStopped, ProviderError) as exc:
                kind = (
                    Outcome.BUDGET
                    if isinstance(exc, BudgetExceeded)
                    else Outcome.STOPPED
                    if isinstance(exc, RunStopped)
                    else Outcome.ERROR
                )
                attempt.journal.write("phase_end", outcome=kind.value, detail=str(exc))
                detail = self._budget_detail(attempt) if isinstance(exc, BudgetExceeded) else str(exc)
                out.outcome, out.detail = (
                    kind,
                    detail + " (the phase is resumable: the next run restarts it cleanly)",
                )
                out.hints = [Hint(Action.RESUME, self.number, self.info.slug)]
                return self.finish(out, attempt)
            except BaseException:
                attempt.journal.write("phase_end", outcome="crashed")
                attempt.journal.close()
                raise
            out.gates = [g.as_dict() for g in attempt.gates]
            if not attempt.red:
                break
        assert attempt is not None
        if attempt.red:
            return block(self, out, attempt, before)
        return self.complete(out, attempt, base, before)

    def complete(self, out: PhaseOutcome, a: Attempt, base: str | None, before: Snapshot) -> PhaseOutcome:
        """Green gates: tick, stamp, commit (phase_end). A hook: a parallel lane (workflow.lane)
        commits on its branch instead, and its merge ticks."""
        return complete(self, out, a, base, before)

    def _phase_gates(self) -> PhaseGates:
        return PhaseGates(
            self.project,
            self.info,
            self.number,
            self.plan,
            self.confinement,
            on_event=self.on_event,
            stop_event=self.stop_event,
        )

    def _session(self, a: Attempt, toolbox: ToolBox) -> StepAgent:
        """The agent for one attempt, on the attempt's model, within what is left of the budget."""
        system = prompts.phase_system(self.root, self.info.spec_path, self.project.rel(self.info.spec_path))
        return new_step_agent(
            AgentSpec(
                self.project,
                self.provider,
                toolbox,
                a.journal,
                a.model,
                system,
                self._caps(),
                self.on_event,
                self.stop_event,
            )
        )

    def _attempt(
        self, a: Attempt, title: str, number: int, baseline: list[GateResult], before: Snapshot
    ) -> None:
        plan = self.plan.read()
        phase = self.plan.phase(self.number, plan)
        policy = PathPolicy(self.root, self.cfg.protect.paths, phase.unprotect, self.info.plan_path)
        toolbox = ToolBox(
            self.root, policy, self.info.plan_path, self.number, self.cfg.agent, self.on_event, a.journal
        )
        a.session = self._session(a, toolbox)
        self.on_event(ev.PhaseStarted(self.info.slug, self.number, title, a.model, number))
        # an unpriced model is said out loud by the session at its first reply that the server did not
        # price itself (a gateway's own usage.cost, OpenRouter's, needs no [prices] entry)
        if not self.confinement.backend or self.confinement.backend == "none":
            self.on_event(ev.Notice(f"UNCONFINED: {self.confinement.reason}", "warning"))
        a.journal.write(
            "phase_start",
            slug=self.info.slug,
            phase=self.number,
            title=title,
            model=a.model,
            attempt=number,
            confinement=self.confinement.backend,
            confinement_reason=self.confinement.reason,
        )
        brief = prompts.phase_brief(plan, phase, self.project.rel(self.info.plan_path))
        self._step(a, Step.EXPLORE, brief + "\n" + prompts.EXPLORE)
        gates_list = ", ".join(self.cfg.gates.commands) or "none configured"
        self._step(a, Step.CODE, prompts.CODE.format(number=self.number, gates=gates_list))
        attempts = self.cfg.gates.fix_attempts
        for fix in range(attempts + 1):
            a.gates = self.gates.run(a.journal, baseline, before)
            if all(g.ok for g in a.gates):
                break
            if fix == attempts:
                a.red = True
                a.journal.write("phase_end", outcome="gates_red", gates=[g.as_dict() for g in a.gates])
                return
            output = "\n\n".join(f"$ {g.command}\n{g.summary}\n{g.output_tail}" for g in a.gates if not g.ok)
            self._step(a, Step.CODE, prompts.FIX.format(attempt=fix + 1, attempts=attempts, output=output))
        self._step(a, Step.UPDATE, prompts.UPDATE.format(number=self.number, gates=describe(a.gates)))

    def _step(self, a: Attempt, step: Step, prompt: str) -> None:
        assert a.session is not None
        a.session.run_step(step, prompt)

    # -- budget -------------------------------------------------------------------------------

    def spent(self, a: Attempt | None = None) -> Spend:
        """The phase's spend over its finished attempts, and ``a``'s so far."""
        total = Spend.of(self.usage, self.cost, self.turns)
        s = a.session if a is not None else None
        return total + Spend.of(s.usage, s.cost_usd, s.turns) if s is not None else total

    def _caps(self) -> BudgetConfig:
        """The next attempt's caps: the limits less what earlier attempts spent."""
        return self.budget.attempt_caps(self.allowance, self.spent())

    def _budget_detail(self, a: Attempt) -> str:
        """Which cap was reached, in the phase's totals (all attempts), and whose cap it is."""
        return self.budget.phase_reached(self.allowance, self.spent(a))

    # -- endings ------------------------------------------------------------------------------

    def _end_attempt(self, a: Attempt, out: PhaseOutcome, outcome: str | None = None) -> None:
        """Journal the attempt's outcome with its own figures (so `phaser cost` counts each attempt
        once) and add them to the phase's totals."""
        s = a.session
        own = {"usage": Usage().as_dict(), "cost_usd": 0.0, "turns": 0}
        if s is not None:
            own = {"usage": s.usage.as_dict(), "cost_usd": s.cost_usd, "turns": s.turns}
            self.usage, self.cost, self.turns = (
                self.usage + s.usage,
                self.cost + s.cost_usd,
                self.turns + s.turns,
            )
            out.violations += len(s.toolbox.violations)
        figures = {**out.as_dict(), **own, "outcome": outcome or Outcome(out.outcome).value}
        if a.undone:
            figures["diff"] = {**a.undone, "undone": True}
        a.journal.write("outcome", **figures)
        a.journal.close()

    def finish(self, out: PhaseOutcome, a: Attempt) -> PhaseOutcome:
        """End the last attempt and report the phase's outcome with the totals of every attempt."""
        self._end_attempt(a, out)
        out.usage, out.cost_usd, out.turns = self.usage.as_dict(), self.cost, self.turns
        self.on_event(ev.PhaseFinished(self.info.slug, self.number, out.outcome, out.detail, out.as_dict()))
        return out
