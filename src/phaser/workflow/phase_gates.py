"""A phase's gates: the baseline run before the phase and each run after a code step, confined like
the code step, audited against the baseline so a phase cannot 'pass' by skipping, deleting or
hiding tests."""

from __future__ import annotations

import threading
from pathlib import Path

from phaser import events as ev
from phaser.agent.confine.policy import Choice, Policy, build, harness_readonly, protected_files
from phaser.agent.journal import Journal
from phaser.agent.sandbox import safe_env
from phaser.agent.snapshot import Snapshot, diff, take_snapshot
from phaser.workflow.gates import GateResult, audit, baseline_gates, run_gates, test_damage
from phaser.workflow.plan_file import PlanFile
from phaser.workflow.project import Project, SpecInfo

__all__ = ["PhaseGates"]


class PhaseGates:
    """The gates of one phase of one plan, under the phase's confinement."""

    def __init__(
        self,
        project: Project,
        info: SpecInfo,
        number: int,
        plan: PlanFile,
        confinement: Choice,
        *,
        on_event: ev.EventSink = ev.ignore,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.project = project
        self.cfg = project.config
        self.root = project.root
        self.info = info
        self.number = number
        self.plan = plan
        self.confinement = confinement
        self.on_event = on_event
        self.stop_event = stop_event
        self.red_before: list[str] = []
        """Gate commands that were red in the baseline run, before the phase."""

    def policy(self) -> Policy:
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

    def baseline(self) -> list[GateResult]:
        """Gate figures and per-test results before the phase (all commands: a red lint before the
        phase is worth knowing)."""
        commands = self.cfg.gates.commands
        gates = self.cfg.gates
        results: list[GateResult] = []
        if commands:
            ran = run_gates(commands, self.root, gates.timeout_s, safe_env(), self.stop_event, self.policy())
            results = baseline_gates(ran)
        self.red_before = [g.command for g in results if not g.ok]
        for command in self.red_before:
            self.on_event(
                ev.Notice(
                    f"gate `{command}` is red before the phase: the phase has to make it green", "warning"
                )
            )
        return results

    def run(self, journal: Journal, baseline: list[GateResult], before: Snapshot) -> list[GateResult]:
        """The gates after a code step, audited against ``baseline`` and the tests the step damaged."""
        self.on_event(ev.StepStarted("gates"))
        changes = diff(before, take_snapshot(self.root))
        damage = test_damage(self.root, changes.deleted, changes.modified)
        phase = self.plan.read().phase(self.number)
        policy = self.policy()
        gates = self.cfg.gates
        for command in gates.commands:
            journal.write("confinement", command=command, **policy.describe())
        kept = {p: p.read_bytes() for p in policy.protected if p.is_file()}
        results = audit(
            run_gates(gates.commands, self.root, gates.timeout_s, safe_env(), self.stop_event, policy),
            baseline,
            damage,
            phase.unprotect if phase is not None else (),
        )
        self._protected_kept(kept, results)
        for g in results:
            self.on_event(ev.GateFinished(g.command, g.ok, g.summary, g.output_tail if not g.ok else ""))
        # per-test results (node id -> passed/failed/skipped) go to the journal for `phaser show`
        journal.write("gates", results=[{**g.as_dict(), "tests": g.tests} for g in results])
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
