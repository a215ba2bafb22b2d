"""One phase, start to finish: fresh conversation, explore -> code -> gates -> plan update, then
harness-owned check-off with evidence and a commit. Red gates stop the line."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from phaser import events as ev
from phaser.agent.base import StepAgent
from phaser.agent.journal import Journal
from phaser.agent.loop import AgentSession
from phaser.agent.policy import PathPolicy, Step
from phaser.agent.provider import Provider, Usage
from phaser.agent.sandbox import safe_env
from phaser.agent.snapshot import diff, restore, take_snapshot
from phaser.agent.tools import ToolBox
from phaser.config import BudgetConfig
from phaser.errors import BudgetExceeded, PhaserError, ProviderError, RunStopped
from phaser.plan.edit import AppendNote, SetMeta, SetTask
from phaser.plan.store import edit_plan, read_plan
from phaser.workflow import git, prompts
from phaser.workflow.gates import GateResult, audit, describe, run_gates, test_damage
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.resume import ActiveRun, changed_paths, clear_active, save_active, save_patch
from phaser.workflow.step_agents import claude_code_session, is_claude_code

EXIT_CODES = {
    "passed": 0,
    "nothing": 0,
    "stuck": 3,
    "incomplete": 3,
    "unverified": 3,
    "blocked": 1,
    "budget": 3,
    "stopped": 1,
    "error": 1,
}


@dataclass
class PhaseOutcome:
    slug: str
    phase: int
    title: str
    outcome: str
    """passed, incomplete, blocked, budget, stopped, error; nothing (every phase is done) or stuck
    (no phase can run: one is blocked, or the rest wait on unmet dependencies)."""
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

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.outcome, 1)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["exit_code"] = self.exit_code
        if self.outcome in ("nothing", "stuck"):  # no phase ran: say why, as dry-run does
            data["phase"], data["reason"] = None, self.detail
        return data


@dataclass(frozen=True)
class Allowance:
    """What is left of a run's budget when a phase starts; the phase's own caps apply as well."""

    usd: float
    tokens: int
    turns: int


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


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


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
        stop_event=None,
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
        self.repo = git.is_repo(self.root)
        self.usage = Usage()
        """Totals over the phase's finished attempts (the budget covers all of them)."""
        self.cost = 0.0
        self.turns = 0
        self.red_before: list[str] = []
        """Gate commands that were red in the baseline run, before the phase."""

    # -- the phase --------------------------------------------------------------------------

    def run(self) -> PhaseOutcome:
        plan = read_plan(self.info.plan_path)
        phase = plan.phase(self.number)
        if phase is None:
            raise PhaserError(f"{self.project.rel(self.info.plan_path)}: no phase {self.number}")
        out = PhaseOutcome(self.info.slug, phase.number, phase.title, "error", model=self.model)
        base = git.head(self.root) if self.repo else None
        self.dirty_before = set(git.dirty_paths(self.root)) if self.repo else set()
        before = take_snapshot(self.root)
        try:
            baseline = self._baseline()
        except RunStopped as exc:  # stopped before the phase began: nothing changed, nothing to undo
            out.outcome, out.detail = "stopped", f"{exc}, before the phase began; nothing changed"
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
                ActiveRun(self.info.slug, phase.number, str(attempt.journal.run_dir), base, _now()),
                before,
            )
            try:
                self._attempt(attempt, phase.title, i, baseline, before)
            except (BudgetExceeded, RunStopped, ProviderError) as exc:
                kind = (
                    "budget"
                    if isinstance(exc, BudgetExceeded)
                    else "stopped"
                    if isinstance(exc, RunStopped)
                    else "error"
                )
                attempt.journal.write("phase_end", outcome=kind, detail=str(exc))
                detail = self._budget_detail(attempt) if isinstance(exc, BudgetExceeded) else str(exc)
                out.outcome, out.detail = (
                    kind,
                    detail + " (the phase is resumable: phaser next restarts it cleanly)",
                )
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

    def _attempt(self, a: _Attempt, title: str, number: int, baseline: list[GateResult], before) -> None:
        plan = read_plan(self.info.plan_path)
        phase = plan.phase(self.number)
        policy = PathPolicy(self.root, self.cfg.protect.paths, phase.unprotect, self.info.plan_path)
        toolbox = ToolBox(
            self.root, policy, self.info.plan_path, self.number, self.cfg.agent, self.on_event, a.journal
        )
        system = prompts.phase_system(self.root, self.info.spec_path, self.project.rel(self.info.spec_path))
        external = is_claude_code(self.project, a.model)  # Claude Code runs the steps and prices them itself
        if external:
            a.session = claude_code_session(
                self.project,
                a.model,
                toolbox,
                a.journal,
                system=system,
                on_event=self._track,
                budget=self._caps(),
                stop_event=self.stop_event,
            )
        else:
            a.session = AgentSession(
                self.provider,
                toolbox,
                a.journal,
                model=a.model,
                system=system,
                max_tokens=self.cfg.provider.max_tokens,
                on_event=self._track,
                budget=self._caps(),
                price=self.cfg.price(a.model),
                stop_event=self.stop_event,
                step_turns=self.cfg.agent.step_turns,
            )
        self.on_event(ev.PhaseStarted(self.info.slug, self.number, title, a.model, number))
        if not external and self.cfg.price(a.model) is None:
            self.on_event(
                ev.Notice(
                    f"no price configured for {a.model} ([prices] in phaser.toml): its dollars are not "
                    "tracked and dollar caps do not apply; token and turn caps still do",
                    "warning",
                )
            )
        a.journal.write(
            "phase_start", slug=self.info.slug, phase=self.number, title=title, model=a.model, attempt=number
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

    def _baseline(self) -> list[GateResult]:
        """Gate figures and per-test results before the phase, so a phase cannot 'pass' by skipping,
        deleting or hiding tests."""
        commands = self.cfg.gates.commands  # all of them: a red lint before the phase is worth knowing
        results = (
            run_gates(commands, self.root, self.cfg.gates.timeout_s, self._gate_env(), self.stop_event)
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

    def _gates(self, a: _Attempt, baseline: list[GateResult], before) -> list[GateResult]:
        self.on_event(ev.StepStarted("gates"))
        changes = diff(before, take_snapshot(self.root))
        damage = test_damage(self.root, changes.deleted, changes.modified)
        phase = read_plan(self.info.plan_path).phase(self.number)
        results = audit(
            run_gates(
                self.cfg.gates.commands,
                self.root,
                self.cfg.gates.timeout_s,
                self._gate_env(),
                self.stop_event,
            ),
            baseline,
            damage,
            phase.unprotect if phase is not None else (),
        )
        for g in results:
            self.on_event(ev.GateFinished(g.command, g.ok, g.summary, g.output_tail if not g.ok else ""))
        a.journal.write("gates", results=[g.as_dict() for g in results])
        return results

    # -- endings ------------------------------------------------------------------------------

    # -- budget -------------------------------------------------------------------------------

    def _limits(self) -> dict[str, tuple[float, str]]:
        """Per dimension, the phase's cap over all its attempts and where it comes from: the phase
        caps in [budget], or what was left of the run's when the phase started, whichever is less."""
        b = self.cfg.budget
        limits = {
            "usd": (b.phase_usd, "phase"),
            "tokens": (b.phase_tokens, "phase"),
            "turns": (b.phase_turns, "phase"),
        }
        if self.allowance is not None:
            for dim in limits:
                left = getattr(self.allowance, dim)
                if left < limits[dim][0]:
                    limits[dim] = (left, "run")
        return limits

    def _caps(self) -> BudgetConfig:
        """The next attempt's caps: the limits less what earlier attempts spent."""
        lim = self._limits()
        return replace(
            self.cfg.budget,
            phase_usd=lim["usd"][0] - self.cost,
            phase_tokens=int(lim["tokens"][0]) - self.usage.total_input - self.usage.output_tokens,
            phase_turns=int(lim["turns"][0]) - self.turns,
        )

    def _budget_detail(self, a: _Attempt) -> str:
        """Which cap was reached, in the phase's totals (all attempts), and whose cap it is."""
        s = a.session
        usd = self.cost + (s.cost_usd if s else 0.0)
        usage = self.usage + (s.usage if s else Usage())
        spent = {
            "usd": usd,
            "tokens": usage.total_input + usage.output_tokens,
            "turns": self.turns + (s.turns if s else 0),
        }
        for dim, (limit, whose) in self._limits().items():
            if spent[dim] >= limit:
                what = {
                    "usd": f"${spent['usd']:.4f} of ${limit:.4f}",
                    "tokens": f"{spent['tokens']:,} of {int(limit):,} tokens",
                    "turns": f"{spent['turns']} of {int(limit)} turns",
                }[dim]
                cap = "the phase's cap" if whose == "phase" else "what was left of the run's budget"
                return f"budget reached: the phase used {what} ({cap})"
        return "budget reached"

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
        figures = {**out.as_dict(), **own, "outcome": outcome or out.outcome}
        if a.undone:
            figures["diff"] = {**a.undone, "undone": True}
        a.journal.write("outcome", **figures)
        a.journal.close()

    def _finish(self, out: PhaseOutcome, a: _Attempt) -> PhaseOutcome:
        self._end_attempt(a, out)
        out.usage, out.cost_usd, out.turns = self.usage.as_dict(), self.cost, self.turns
        self.on_event(ev.PhaseFinished(self.info.slug, self.number, out.outcome, out.detail, out.as_dict()))
        return out

    def _discard(self, a: _Attempt, before, why: str) -> None:
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

    def _block(self, out: PhaseOutcome, a: _Attempt, before) -> PhaseOutcome:
        self._discard(a, before, "gates stayed red")
        already = [g.command for g in a.gates if not g.ok and g.command in self.red_before]
        prior = f" ({', '.join(f'`{c}`' for c in already)} already red before the phase)" if already else ""
        why = f"blocked {_now()}{prior}: gates still red after {self.cfg.gates.fix_attempts} fix attempts on {', '.join(dict.fromkeys(m for m in [self.model, a.model] if m))}: {describe(a.gates)}"
        edit_plan(
            self.info.plan_path, SetMeta(self.number, "status", "blocked"), AppendNote(self.number, why[:600])
        )
        clear_active(self.cfg.state_dir, self.info.slug)
        out.outcome, out.detail = "blocked", "gates stayed red; the phase is marked status: blocked"
        return self._finish(out, a)

    def _complete(self, out: PhaseOutcome, a: _Attempt, base: str | None, before) -> PhaseOutcome:
        assert a.session is not None
        toolbox = a.session.toolbox
        plan = read_plan(self.info.plan_path)
        phase = plan.phase(self.number)
        claimed = []
        ops = []
        lost = []
        for ref, _evidence in toolbox.claims:
            claimed.append(ref)
            text = toolbox.claimed_text.get(ref)
            task = (
                phase.task(int(ref.split(".")[1]))
                if ref.startswith(f"{self.number}.") and ref.split(".")[1].isdigit()
                else None
            )
            if task is not None and text is not None and task.text != text:
                # the list changed since the claim (a hand edit, a new plan): tick the claimed task
                task = next((t for t in phase.tasks if t.text == text), None)
            if task is None:
                lost.append(ref)
            elif not task.checked and all(op.ref != task.ref for op in ops):
                ops.append(SetTask(task.ref, True, expect_text=task.text))
        if lost:
            self.on_event(
                ev.Notice(
                    f"claimed task(s) {', '.join(lost)} are no longer in phase {self.number} as claimed; not ticked",
                    "warning",
                )
            )
        unverified = not self.cfg.gates.commands
        if unverified:  # nothing but the model's word: record the claims, tick nothing
            ops = []
        out.claimed = claimed
        out.ticked = [op.ref for op in ops]
        if phase.status == "blocked":  # run again by hand (--phase) and green now: no longer blocked
            ops.append(SetMeta(self.number, "status", None))
        usage, cost = self.usage + a.session.usage, self.cost + a.session.cost_usd  # every attempt
        gate_text = "; ".join(f"`{g.command}`: {g.summary}" for g in a.gates) or "no gates configured"
        escalated = f" (escalated from {self.model})" if a.model != self.model else ""
        verdict = (
            f"NOT verified {_now()}: no gates configured, so nothing checked the claims ({', '.join(claimed) or 'none'})"
            if unverified
            else f"verified {_now()}: {gate_text}"
        )
        stamp = (
            f"{verdict}; model {a.model}{escalated}; "
            f"{usage.total_input:,} in / {usage.output_tokens:,} out tokens, ${cost:.4f}"
            + (f'; commit "phase {self.number}: {out.title}" on top of {base[:10]}' if base else "")
        )
        ops.append(AppendNote(self.number, stamp))
        new_plan = edit_plan(self.info.plan_path, *ops)
        done = new_plan.phase(self.number).done
        plan_rel = self.project.rel(self.info.plan_path)
        paths = sorted(set(changed_paths(self.root, before)) | {plan_rel})
        work = [p for p in paths if p != plan_rel]
        if self.repo:
            message = f"phase {self.number}: {out.title}\n\n{stamp}\n\nPhaser-Phase: {self.info.slug}/{self.number}\n"
            # only what changed during the phase: a person's other uncommitted work (--allow-dirty,
            # or files saved meanwhile) stays out of the agent's commit
            out.commit = git.commit_paths(self.root, message, paths)
            out.diff = git.diff_stat(
                self.root,
                git.parent(self.root, out.commit) or git.empty_tree(self.root),
                out.commit,
                exclude=[plan_rel],
            )
            mixed = sorted(set(work) & self.dirty_before)
            if mixed:
                self.on_event(
                    ev.Notice(
                        f"the commit includes uncommitted changes made before the phase in {', '.join(mixed[:5])}"
                        + (f" and {len(mixed) - 5} more" if len(mixed) > 5 else ""),
                        "warning",
                    )
                )
            a.journal.write("commit", commit=out.commit, paths=paths, mixed=mixed)
        else:
            caches = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")
            files = [w for w in work if not any(part in caches for part in Path(w).parts)]
            out.diff = {"files": len(files), "insertions": 0, "deletions": 0}
        clear_active(self.cfg.state_dir, self.info.slug)
        if unverified:
            out.outcome = "unverified"
            out.detail = (
                f"no gates configured ([gates] commands), so claims {', '.join(claimed) or '(none)'} were not ticked: "
                "review the commit and tick by hand (phaser tick), or configure gates"
            )
        elif done:
            out.outcome, out.detail = "passed", f"{len(out.ticked)} task(s) checked off after green gates"
        else:
            left = [t.ref for t in new_plan.phase(self.number).tasks if not t.checked]
            out.outcome = "incomplete"
            out.detail = f"gates green, but tasks {', '.join(left)} were not claimed done; review the plan"
        return self._finish(out, a)
