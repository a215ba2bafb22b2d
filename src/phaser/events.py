"""What a running phase reports as it goes; the CLI prints these, the TUI posts them as messages.

A leaf module (it imports only phaser.outcomes) so that agent/ and workflow/ can both emit events and every
shell can render them without knowing who produced them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from phaser.outcomes import Hint


@dataclass
class Event:
    """Base class; ``kind`` names the event for --json output and journals."""

    lane: int | None = field(default=None, kw_only=True, compare=False)
    """The phase a parallel run's event comes from (``phaser run --parallel``); None when phases
    run one at a time. A shell that shows several running phases groups by it."""

    @property
    def kind(self) -> str:
        name = type(self).__name__
        return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


@dataclass
class PhaseStarted(Event):
    slug: str
    phase: int
    title: str
    model: str
    attempt: int = 1


@dataclass
class StepStarted(Event):
    step: str
    """explore, code, gates, update (or plan for spec-to-plan runs)."""


@dataclass
class TextDelta(Event):
    text: str


@dataclass
class ToolStarted(Event):
    name: str
    summary: str
    """One line: the command, or the action and path."""


@dataclass
class ToolFinished(Event):
    name: str
    ok: bool
    summary: str
    reason: str = ""
    """Why the call failed or was refused (the first line of its error result); empty when ok."""


@dataclass
class PolicyViolation(Event):
    step: str
    message: str
    paths: list[str] = field(default_factory=list)


@dataclass
class UsageUpdated(Event):
    model: str
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    cost_usd: float
    """Cumulative for the phase so far."""


@dataclass
class GateFinished(Event):
    name: str
    ok: bool
    summary: str
    output_tail: str = ""


@dataclass
class Notice(Event):
    message: str
    level: str = "info"
    """info, warning or error."""
    hints: tuple[Hint, ...] = ()
    """The next steps the message names, as data, for a shell to word its own way."""


@dataclass
class PlanProblems(Notice):
    """The planning model's plan failed validation and goes back to it with these problems. A
    Notice, so a shell that knows only notices still shows the message."""

    problems: list[str] = field(default_factory=list)
    attempt: int = 1


@dataclass
class PhaseFinished(Event):
    slug: str
    phase: int
    outcome: str
    """An ``Outcome`` word: passed, incomplete, unverified, blocked, budget, stopped, error."""
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """The default sink."""
