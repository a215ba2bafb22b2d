"""Above the log: what runs now, its step, tokens and dollars so far, or how it ended and why.

It wraps (up to three lines, see phaser.tcss), so the reason a run ended stays readable at 80 columns.
"""

from __future__ import annotations

from textual.widgets import Static

from phaser import events as ev
from phaser.outcomes import Kind, Outcome

_STATES = ("-idle", "-running", "-ok", "-warn", "-error")
_ENDING_CLASS = {Kind.OK: "-ok", Kind.HUMAN: "-warn", Kind.ERROR: "-error"}


class RunStatus(Static):
    """Plain text (markup=False); the state is a CSS class: -idle, -running, -ok, -warn (a person has
    to act: approval, a stuck plan, a refusal, ...) or -error."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            "idle: select a spec, then > runs its next phase (? lists every key)",
            markup=False,
            id=id,
            classes="-idle",
        )
        self.what = ""
        self.step = ""
        self.usage = ""
        self.message = ""

    def _state(self, cls: str) -> None:
        self.remove_class(*_STATES)
        self.add_class(cls)

    def started(self, what: str) -> None:
        self.what, self.step, self.usage = what, "", ""
        self._state("-running")
        self._render_running()

    def stopping(self) -> None:
        self.step = "stopping at the next turn…"
        self._render_running()

    def event(self, event: ev.Event) -> None:
        if isinstance(event, ev.PhaseStarted):
            self.what = f"{event.slug} phase {event.phase} on {event.model}"
            if not self.step.startswith("stopping"):
                # the gates run once before the phase (a baseline): seconds with no other event
                self.step = "running the baseline gates…"
        elif isinstance(event, ev.StepStarted):
            if not self.step.startswith("stopping"):
                self.step = event.step
        elif isinstance(event, ev.ToolStarted):
            if not self.step.startswith("stopping"):
                self.step = f"{self.step.split(' · ')[0]} · {event.name}"
        elif isinstance(event, ev.GateFinished):
            return
        elif isinstance(event, ev.UsageUpdated):
            tokens = event.input_tokens + event.cache_creation_input_tokens + event.cache_read_input_tokens
            self.usage = f"{tokens:,} in / {event.output_tokens:,} out · ${event.cost_usd:.4f}"
        else:
            return
        self._render_running()

    def _render_running(self) -> None:
        parts = [f"● running {self.what}", self.step, self.usage]
        self.message = " · ".join(p for p in parts if p)
        self.update(self.message)

    def ended(self, outcome: Outcome, detail: str = "") -> None:
        """How the job ended; the reason comes first after the outcome, the figures last."""
        self._state(_ENDING_CLASS[outcome.kind])
        parts = [f"■ {self.what}: {outcome}", detail, self.usage]
        self.message = " · ".join(p for p in parts if p)
        self.update(self.message)
