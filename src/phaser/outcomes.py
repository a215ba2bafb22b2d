"""How a phase, a run or a job ended, and what a person can do next: the contract between the
workflow and its shells.

A leaf module (no phaser imports), beside errors and events. One table gives every outcome its
exit code and its kind: ``ok`` (nothing to do), ``human`` (nothing is broken; a person has to
decide or act: approve, fix a blocked phase, tick by hand, raise a budget) or ``error``. The CLI
and the TUI word outcomes and hints themselves; neither parses the other's prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    OK = "ok"
    HUMAN = "human"
    ERROR = "error"

    __str__ = str.__str__
    __format__ = str.__format__  # type: ignore[assignment]  # f"{kind}" is its value on every Python


class Outcome(str, Enum):
    """Every way a phase (``PhaseOutcome.outcome``), a run (``RunResult.reason``) or a TUI job ends.
    A ``str`` enum: its value is the word in ``--json`` output and journals."""

    PASSED = "passed"
    """The phase's gates are green and its tasks are ticked."""
    NOTHING = "nothing"
    """Every phase is done: nothing ran."""
    COMPLETE = "complete"
    """A run ended with every phase done."""
    PLANNED = "planned"
    """A plan was written (TUI job)."""
    STUCK = "stuck"
    """No phase can run: one is blocked, or the rest wait on unmet dependencies."""
    INCOMPLETE = "incomplete"
    """Gates green, but some tasks were not claimed done."""
    UNVERIFIED = "unverified"
    """No gates configured: the change is committed, nothing is ticked."""
    APPROVAL = "approval"
    """A run waits at an approval checkpoint."""
    BUDGET = "budget"
    """A dollar, token or turn cap was reached; the phase is resumable."""
    REFUSED = "refused"
    """A job was refused at a checkpoint (dirty tree, another run) (TUI job)."""
    STOPPED = "stopped"
    """A person stopped the run; the phase is resumable."""
    BLOCKED = "blocked"
    """The gates stayed red after the fix attempts; the phase is marked blocked."""
    ERROR = "error"
    """The model provider or something else failed."""

    __str__ = str.__str__
    __format__ = str.__format__  # type: ignore[assignment]

    @property
    def exit_code(self) -> int:
        return _TABLE[self][0]

    @property
    def kind(self) -> Kind:
        return _TABLE[self][1]

    @classmethod
    def of(cls, word: str) -> Outcome | None:
        """The outcome a word names, or None (a journal from another version, a typo)."""
        try:
            return cls(word)
        except ValueError:
            return None


_TABLE: dict[Outcome, tuple[int, Kind]] = {
    Outcome.PASSED: (0, Kind.OK),
    Outcome.NOTHING: (0, Kind.OK),
    Outcome.COMPLETE: (0, Kind.OK),
    Outcome.PLANNED: (0, Kind.OK),
    Outcome.STUCK: (3, Kind.HUMAN),
    Outcome.INCOMPLETE: (3, Kind.HUMAN),
    Outcome.UNVERIFIED: (3, Kind.HUMAN),
    Outcome.APPROVAL: (3, Kind.HUMAN),
    Outcome.BUDGET: (3, Kind.HUMAN),
    Outcome.REFUSED: (3, Kind.HUMAN),
    Outcome.STOPPED: (1, Kind.HUMAN),  # exit 1 for scripts; a stop the person asked for is not an error
    Outcome.BLOCKED: (1, Kind.ERROR),
    Outcome.ERROR: (1, Kind.ERROR),
}
"""Exit code and kind of every outcome (0 ok, 3 waits for a human, 1 stopped or failed)."""


def exit_code(word: str) -> int:
    """The exit code of an outcome word; 1 for a word phaser does not know."""
    outcome = Outcome.of(word)
    return outcome.exit_code if outcome is not None else 1


def kind(word: str) -> Kind:
    """The kind of an outcome word; ``error`` for a word phaser does not know."""
    outcome = Outcome.of(word)
    return outcome.kind if outcome is not None else Kind.ERROR


class Action(str, Enum):
    """A next step a person can take; each shell words it (a command line, a key)."""

    RUN_PHASE = "run_phase"
    """Run one given phase (``phaser next --phase N``)."""
    RESUME = "resume"
    """Run the next phase again; an unfinished run is undone first (``phaser next``)."""
    REDO = "redo"
    """Reset to before a done phase and run it again (``phaser redo N``)."""
    REDO_FORCE = "redo_force"
    """Redo a phase that later commits build on, dropping them (``phaser redo N --force``)."""
    APPROVE = "approve"
    """Review and approve the done phases (``phaser approve SLUG``)."""
    TICK = "tick"
    """Tick a task by hand (``phaser tick``)."""
    PLAN = "plan"
    """Write the spec's plan (``phaser plan SLUG``)."""
    REVISE = "revise"
    """Revise an existing plan with feedback (``phaser plan SLUG --revise "feedback"``)."""
    REPLACE_PLAN = "replace_plan"
    """Write the plan anew, over the existing one or an unedited spec (``phaser plan SLUG --force``)."""
    NEW_SPEC = "new_spec"
    """Write a spec (``phaser new "Title"``)."""
    ALLOW_DIRTY = "allow_dirty"
    """Run with uncommitted changes in the tree (``--allow-dirty``)."""
    VALIDATE = "validate"
    """List every problem of the plan (``phaser validate``)."""
    CONFIGURE_GATES = "configure_gates"
    """Configure gates ([gates] commands in phaser.toml)."""

    __str__ = str.__str__
    __format__ = str.__format__  # type: ignore[assignment]


@dataclass(frozen=True)
class Hint:
    """A next step as data: what to do, on which phase of which spec (either may not apply)."""

    action: Action
    phase: int | None = None
    slug: str | None = None

    def as_dict(self) -> dict:
        return {"action": self.action.value, "phase": self.phase, "slug": self.slug}
