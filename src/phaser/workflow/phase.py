"""One phase, start to finish: fresh conversation, explore -> code -> gates -> plan update, then
harness-owned check-off with evidence and a commit. Red gates stop the line."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from phaser import events as ev
from phaser.agent.base import StepAgent
from phaser.agent.confine.policy import (
    Choice,
    Policy,
    build,
    harness_readonly,
    protected_files,
    resolve_backend,
)
from phaser.agent.journal import Journal
from phaser.agent.policy import PathPolicy, Step
from phaser.agent.provider import Provider, Usage
from phaser.agent.sandbox import safe_env
from phaser.agent.snapshot import Snapshot, diff, restore, take_snapshot
from phaser.agent.tools import ToolBox
from phaser.config import BudgetConfig
from phaser.errors import BudgetExceeded, ProviderError, RunStopped
from phaser.outcomes import Action, Hint, Outcome
from phaser.plan.edit import AppendNote, SetMeta
from phaser.stamps import utc_stamp
from phaser.workflow import git, prompts
from phaser.workflow.budget import Allowance, Budget, Spend
from phaser.workflow.checkoff import (
    Evidence,
    check_off_ops,
    claims_to_ops,
    commit_message,
    commit_phase,
    evidence_stamp,
    uncommitted_stat,
)
from phaser.workflow.gates import GateResult, audit, baseline_gates, describe, run_gates, test_damage
from phaser.workflow.git_guard import GitGuard
from phaser.workflow.plan_file import PlanFile
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.resume import ActiveRun, changed_paths, clear_active, save_active, save_patch
from phaser.workflow.sessions import new_step_agent

__all__ = ["Allowance", "PhaseOutcome", "PhaseRun"]


@dataclass
class PhaseOutcome:
    slug: str
    phase: int
    title: str
    outcome: Outcome
    """passed, incomplete, unverified, blocked, budget, stopped, error; nothing (every phase is done)
    or stuck (no phase can run: one is blocked, or the rest wait on unmet dependencies)."""
    detail: str = ""
    model: str = ""
    attempts: int = 0
    gates: list[dict] = field(default_factory=list)
    commit: str | None = None
    usage: dict = field(default_factory=dict)
    """Tokens of every attempt of the phase (an escalated phase has two)."""
    cost_usd: float = 0.0
    turns: int = 0
    diff: dict = field(default_factory=dict)
    """Size of the phase's change: files, insertions, deletions (the plan file not counted)."""
    run_dir: str = ""
    claimed: list[str] = field(default_factory=list)
    ticked: list[str] = field(default_factory=list)
    violations: int = 0
    hints: list[Hint] = field(default_factory=list)
    """What a person can do next, as data; ``detail`` words it for the CLI."""

    @property
    def exit_code(self) -> int:
        return Outcome(self.outcome).exit_code

    def as_dict(self) -> dict:
        data = asdict(self)
        data["outcome"] = Outcome(self.outcome).value
        data["hints"] = [h.as_dict() for h in self.hints]
        data["exit_code"] = self.exit_code
        if self.outcome in (Outcome.NOTHING, Outcome.STUCK):  # no phase ran: say why, as dry-run does
            data["phase"], data["reason"] = None, self.detail
        return data


@dataclass
class _Attempt:
    model: str
    journal: Journal
    session: StepAgent | None = None
    gates: list[GateResult] = field(default_factory=list)
    red: bool = False
    undone: dict = field(default_factory=dict)
    """Size of the change that was undone (kept as a patch), for comparing attempts."""


def _patch_size(patch: Path, files: int) -> dict[str, int]:
    """Files, insertions and deletions of a saved unified diff."""
    plus = minus = 0
    try:
        lines = patch.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        if line.startswith("+") and not line.startswith("+++"):
            plus += 1
        elif line.startswith("-") and not line.startswith("---"):
            minus += 1
    return {"files": files, "insertions": plus, "deletions": minus}


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
        self.red_before: list[str] = []
        """Gate commands that were red in the baseline run, before the phase."""
        self.confinement: Choice = Choice("none", "")
        self.guard: GitGuard | None = None

    # -- the phase --------------------------------------------------------------------------

    def run(self) -> PhaseOutcome:
        self.confinement = resolve_backend(self.cfg.agent.sandbox)  # fail closed, before anything runs
        phase = self.plan.phase(self.number)
        out = PhaseOutcome(self.info.slug, phase.number, phase.title, Outcome.ERROR, model=self.model)
        self.guard = GitGuard.take(self.root) if self.repo else None
        base = git.head(self.root) if self.repo else None
        self.dirty_before = set(git.dirty_paths(self.root)) if self.repo else set()
        before = take_snapshot(self.root)
        try:
            baseline = self._baseline()
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
        attempt: _Attempt | None = None
        for i, model in enumerate(models, 1):
            if attempt is not None:
                self._discard(attempt, before, "escalating to " + model)
                self._end_attempt(attempt, out, "escalated")
            out.model, out.attempts = model, i
            attempt = _Attempt(model, Journal.new(self.cfg.state_dir, self.info.slug, phase.number))
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
                    detail + " (the phase is resumable: phaser next restarts it cleanly)",
                )
                out.hints = [Hint(Action.RESUME, self.number, self.info.slug)]
                return self._finish(out, attempt)
            except BaseException:
                attempt.journal.write("phase_end", outcome="crashed")
                attempt.journal.close()
                raise
            out.gates = [g.as_dict() for g in attempt.gates]
            if not attempt.red:
                break
        assert attempt is not None
        if attempt.red:
            return self._block(out, attempt, before)
        return self._complete(out, attempt, base, before)

    def _session(self, a: _Attempt, toolbox: ToolBox) -> StepAgent:
        """The agent for one attempt, on the attempt's model, within what is left of the budget."""
        return new_step_agent(
            self.project,
            self.provider,
            toolbox,
            a.journal,
            model=a.model,
            system=prompts.phase_system(
                self.root, self.info.spec_path, self.project.rel(self.info.spec_path)
            ),
            budget=self._caps(),
            on_event=self._track,
            stop_event=self.stop_event,
        )

    def _attempt(
        self, a: _Attempt, title: str, number: int, baseline: list[GateResult], before: Snapshot
    ) -> None:
        plan = self.plan.read()
        phase = self.plan.phase(self.number, plan)
        policy = PathPolicy(self.root, self.cfg.protect.paths, phase.unprotect, self.info.plan_path)
        toolbox = ToolBox(
            self.root, policy, self.info.plan_path, self.number, self.cfg.agent, self.on_event, a.journal
        )
        a.session = self._session(a, toolbox)
        self.on_event(ev.PhaseStarted(self.info.slug, self.number, title, a.model, number))
        if self.cfg.provider_spec(a.model).kind != "claude-code" and self.cfg.price(a.model) is None:
            self.on_event(
                ev.Notice(
                    f"no price configured for {a.model} ([prices] in phaser.toml): its dollars are not "
                    "tracked and dollar caps do not apply; token and turn caps still do",
                    "warning",
                )
            )
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
            a.gates = self._gates(a, baseline, before)
            if all(g.ok for g in a.gates):
                break
            if fix == attempts:
                a.red = True
                a.journal.write("phase_end", outcome="gates_red", gates=[g.as_dict() for g in a.gates])
                return
            output = "\n\n".join(f"$ {g.command}\n{g.summary}\n{g.output_tail}" for g in a.gates if not g.ok)
            self._step(a, Step.CODE, prompts.FIX.format(attempt=fix + 1, attempts=attempts, output=output))
        self._step(a, Step.UPDATE, prompts.UPDATE.format(number=self.number, gates=describe(a.gates)))

    def _step(self, a: _Attempt, step: Step, prompt: str) -> None:
        assert a.session is not None
        a.session.run_step(step, prompt)

    def _track(self, event: ev.Event) -> None:
        self.on_event(event)

    # -- gates --------------------------------------------------------------------------------

    def _gate_env(self) -> dict[str, str]:
        return safe_env()

    def _gate_policy(self) -> Policy:
        """The gates' confinement: the code step's, with the gates' own network setting."""
        phase = self.plan.read().phase(self.number)
        unprotect = phase.unprotect if phase is not None else []
        protected = protected_files(self.root, unprotect, self.cfg.protect.paths)
        return build(
            self.root,
            self.confinement,
            read_only=False,
            readonly=harness_readonly(self.root, self.info.plan_path, protected),
            protected=protected,
            network=self.cfg.gates.network,
            credential_extra=self.cfg.agent.credential_paths,
            kind="gate",
        )

    def _baseline(self) -> list[GateResult]:
        """Gate figures and per-test results before the phase, so a phase cannot 'pass' by skipping,
        deleting or hiding tests."""
        commands = self.cfg.gates.commands  # all of them: a red lint before the phase is worth knowing
        results = (
            baseline_gates(
                commands,
                self.root,
                self.cfg.gates.timeout_s,
                self._gate_env(),
                self.stop_event,
                self._gate_policy(),
            )
            if commands
            else []
        )
        self.red_before = [g.command for g in results if not g.ok]
        for command in self.red_before:
            self.on_event(
                ev.Notice(
                    f"gate `{command}` is red before the phase: the phase has to make it green", "warning"
                )
            )
        return results

    def _gates(self, a: _Attempt, baseline: list[GateResult], before: Snapshot) -> list[GateResult]:
        self.on_event(ev.StepStarted("gates"))
        changes = diff(before, take_snapshot(self.root))
        damage = test_damage(self.root, changes.deleted, changes.modified)
        phase = self.plan.read().phase(self.number)
        policy = self._gate_policy()
        for command in self.cfg.gates.commands:
            a.journal.write("confinement", command=command, **policy.describe())
        kept = {p: p.read_bytes() for p in policy.protected if p.is_file()}
        results = audit(
            run_gates(
                self.cfg.gates.commands,
                self.root,
                self.cfg.gates.timeout_s,
                self._gate_env(),
                self.stop_event,
                policy,
            ),
            baseline,
            damage,
            phase.unprotect if phase is not None else (),
        )
        self._protected_kept(kept, results)
        for g in results:
            self.on_event(ev.GateFinished(g.command, g.ok, g.summary, g.output_tail if not g.ok else ""))
        # per-test results (node id -> passed/failed/skipped) go to the journal for `phaser show`
        a.journal.write("gates", results=[{**g.as_dict(), "tests": g.tests} for g in results])
        return results

    def _protected_kept(self, kept: dict[Path, bytes], results: list[GateResult]) -> None:
        """A gate that changed a protected file (Landlock lets a file be appended to in place)
        is red, and the file is put back."""
        changed = []
        for path, data in kept.items():
            try:
                same = path.read_bytes() == data
            except OSError:
                same = False
            if not same:
                path.write_bytes(data)
                changed.append(self.project.rel(path))
        if changed:
            for r in results:
                r.ok = False
                r.summary = f"{r.summary}: the gate changed protected files (restored): {', '.join(changed)}"

    # -- budget -------------------------------------------------------------------------------

    def _spent(self, a: _Attempt | None = None) -> Spend:
        """The phase's spend over its finished attempts, and ``a``'s so far."""
        total = Spend.of(self.usage, self.cost, self.turns)
        s = a.session if a is not None else None
        return total + Spend.of(s.usage, s.cost_usd, s.turns) if s is not None else total

    def _caps(self) -> BudgetConfig:
        """The next attempt's caps: the limits less what earlier attempts spent."""
        return self.budget.attempt_caps(self.allowance, self._spent())

    def _budget_detail(self, a: _Attempt) -> str:
        """Which cap was reached, in the phase's totals (all attempts), and whose cap it is."""
        return self.budget.phase_reached(self.allowance, self._spent(a))

    # -- endings ------------------------------------------------------------------------------

    def _end_attempt(self, a: _Attempt, out: PhaseOutcome, outcome: str | None = None) -> None:
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

    def _finish(self, out: PhaseOutcome, a: _Attempt) -> PhaseOutcome:
        self._end_attempt(a, out)
        out.usage, out.cost_usd, out.turns = self.usage.as_dict(), self.cost, self.turns
        self.on_event(ev.PhaseFinished(self.info.slug, self.number, out.outcome, out.detail, out.as_dict()))
        return out

    def _discard(self, a: _Attempt, before: Snapshot, why: str) -> None:
        """Put the tree back to its state before the phase; the attempt's changes go to a patch."""
        paths = changed_paths(self.root, before, exclude=[self.info.plan_path])
        patch = save_patch(self.root, before, Path(a.journal.run_dir), paths)
        a.undone = _patch_size(patch, len(paths))
        restore(self.root, before, paths)
        self.on_event(
            ev.Notice(
                f"{why}: the attempt's changes were undone (kept in {self.project.rel(patch)})", "warning"
            )
        )

    def _block(self, out: PhaseOutcome, a: _Attempt, before: Snapshot) -> PhaseOutcome:
        self._discard(a, before, "gates stayed red")
        already = [g.command for g in a.gates if not g.ok and g.command in self.red_before]
        prior = f" ({', '.join(f'`{c}`' for c in already)} already red before the phase)" if already else ""
        models = ", ".join(dict.fromkeys(m for m in [self.model, a.model] if m))
        why = (
            f"blocked {utc_stamp()}{prior}: gates still red after {self.cfg.gates.fix_attempts} fix attempts "
            f"on {models}: {describe(a.gates)}"
        )
        self.plan.edit(SetMeta(self.number, "status", "blocked"), AppendNote(self.number, why[:600]))
        clear_active(self.cfg.state_dir, self.info.slug)
        out.outcome, out.detail = Outcome.BLOCKED, "gates stayed red; the phase is marked status: blocked"
        out.hints = [Hint(Action.RUN_PHASE, self.number, self.info.slug)]
        return self._finish(out, a)

    def _planted(self, out: PhaseOutcome, a: _Attempt, before: Snapshot, planted: list[str]) -> PhaseOutcome:
        """Something in the phase changed .git/hooks or .git/config: restored, the line stops."""
        self._discard(a, before, "git hooks or config changed during the phase")
        what = "; ".join(planted)
        why = f"blocked {utc_stamp()}: planted in .git during the phase (restored, nothing committed): {what}"
        self.plan.edit(SetMeta(self.number, "status", "blocked"), AppendNote(self.number, why[:600]))
        clear_active(self.cfg.state_dir, self.info.slug)
        a.journal.write("git_planted", planted=planted)
        out.outcome = Outcome.BLOCKED
        out.detail = f"planted in .git during the phase, restored, nothing committed: {what}"
        out.hints = [Hint(Action.RUN_PHASE, self.number, self.info.slug)]
        return self._finish(out, a)

    def _complete(self, out: PhaseOutcome, a: _Attempt, base: str | None, before: Snapshot) -> PhaseOutcome:
        """Green gates: tick what was claimed, stamp the evidence, commit the phase's change."""
        assert a.session is not None
        planted = self.guard.restore() if self.guard is not None else []
        if planted:
            return self._planted(out, a, before, planted)
        toolbox = a.session.toolbox
        phase = self.plan.phase(self.number)
        claims = claims_to_ops(phase, toolbox.claims, toolbox.claimed_text)
        if claims.lost:
            self.on_event(
                ev.Notice(
                    f"claimed task(s) {', '.join(claims.lost)} are no longer in phase {self.number} "
                    "as claimed; "
                    "not ticked",
                    "warning",
                )
            )
        # nothing but the model's word (no gates), or green gates on a tree the phase did not touch:
        # record the claims, tick nothing
        no_gates = not self.cfg.gates.commands
        plan_rel = self.plan.rel
        unchanged = not uncommitted_stat([p for p in changed_paths(self.root, before) if p != plan_rel])[
            "files"
        ]
        unchanged = unchanged and not phase.no_code_change
        if (
            unchanged and self.repo
        ):  # a re-run of an incomplete phase: its earlier run's commit holds the work
            unchanged = not git.phase_commits(self.root, self.info.slug, {self.number: out.title})
        unverified = no_gates or unchanged
        out.claimed = claims.claimed
        out.ticked = [] if unverified else [op.ref for op in claims.ticks]
        evidence = Evidence(
            gates=a.gates,
            model=a.model,
            first_model=self.model,
            usage=self.usage + a.session.usage,  # every attempt
            cost_usd=self.cost + a.session.cost_usd,
            claimed=claims.claimed,
            number=self.number,
            title=out.title,
            base=base,
            confinement=self.confinement.backend,
        )
        why = None if no_gates or not unchanged else "the code step changed no file outside the plan"
        stamp = evidence_stamp(evidence, unverified=unverified, why=why)
        new_plan = self.plan.edit(*check_off_ops(phase, claims, stamp, unverified=unverified))
        done_phase = self.plan.phase(self.number, new_plan)
        paths = sorted(set(changed_paths(self.root, before)) | {plan_rel})
        work = [p for p in paths if p != plan_rel]
        if self.repo:
            committed = commit_phase(
                self.root,
                commit_message(self.info.slug, self.number, out.title, stamp),
                paths,
                plan_rel,
                guard=self.guard,
            )
            out.commit, out.diff = committed.commit, committed.diff
            mixed = sorted(set(work) & self.dirty_before)
            if mixed:
                self.on_event(
                    ev.Notice(
                        "the commit includes uncommitted changes made before the phase in "
                        + ", ".join(mixed[:5])
                        + (f" and {len(mixed) - 5} more" if len(mixed) > 5 else ""),
                        "warning",
                    )
                )
            a.journal.write("commit", commit=out.commit, paths=paths, mixed=mixed)
        else:
            out.diff = uncommitted_stat(work)
            self.on_event(
                ev.Notice(
                    f"{self.root} is not a git repository: phaser committed nothing; the phase's changes "
                    "are in the tree, unrecorded (git init to have each phase committed)",
                    "warning",
                )
            )
        clear_active(self.cfg.state_dir, self.info.slug)
        if unverified and not no_gates:
            out.outcome = Outcome.UNVERIFIED
            out.detail = (
                f"the code step changed no file outside the plan, so green gates prove nothing about claims "
                f"{', '.join(out.claimed) or '(none)'}; nothing was ticked: review and tick by hand "
                "(phaser tick), or mark a phase that needs no code change with `changes: none`"
            )
            out.hints = [Hint(Action.TICK, self.number, self.info.slug)]
        elif unverified:
            out.outcome = Outcome.UNVERIFIED
            out.detail = (
                f"no gates configured ([gates] commands), so claims {', '.join(out.claimed) or '(none)'} "
                "were not ticked: review the commit and tick by hand (phaser tick), or configure gates"
            )
            out.hints = [
                Hint(Action.TICK, self.number, self.info.slug),
                Hint(Action.CONFIGURE_GATES, None, self.info.slug),
            ]
        elif done_phase.done:
            out.outcome, out.detail = (
                Outcome.PASSED,
                f"{len(out.ticked)} task(s) checked off after green gates",
            )
        else:
            left = [t.ref for t in done_phase.tasks if not t.checked]
            out.outcome = Outcome.INCOMPLETE
            out.detail = f"gates green, but tasks {', '.join(left)} were not claimed done; review the plan"
        return self._finish(out, a)
