"""What one phase run ends with, and one attempt at it (a phase that escalates has two)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from phaser.agent.base import StepAgent
from phaser.agent.journal import Journal
from phaser.outcomes import Hint, Outcome
from phaser.workflow.gates import GateResult

__all__ = ["Attempt", "PhaseOutcome", "patch_size"]


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
    """What a person can do next, as data; each shell words it (a command line, a key)."""

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
class Attempt:
    """One attempt at a phase, on one model, in its own journal."""

    model: str
    journal: Journal
    session: StepAgent | None = None
    gates: list[GateResult] = field(default_factory=list)
    red: bool = False
    undone: dict = field(default_factory=dict)
    """Size of the change that was undone (kept as a patch), for comparing attempts."""


def patch_size(patch: Path, files: int) -> dict[str, int]:
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
