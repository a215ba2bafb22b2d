"""One line above the log: what runs now, its step, tokens and dollars so far, or how it ended."""

from __future__ import annotations

from textual.widgets import Static

from phaser import events as ev

_STATES = ("-idle", "-running", "-ok", "-warn", "-error")
_ENDING_CLASS = {"passed": "-ok", "complete": "-ok", "planned": "-ok", "incomplete": "-warn", "approval": "-warn",
                 "budget": "-warn", "nothing": "-warn", "stopped": "-warn"}


class RunStatus(Static):
    """Plain text (markup=False); the state is a CSS class: -idle, -running, -ok, -warn or -error."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("idle: select a spec, then g runs its next phase", markup=False, id=id, classes="-idle")
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
        elif isinstance(event, ev.StepStarted):
            if not self.step.startswith("stopping"):
                self.step = event.step
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

    def ended(self, outcome: str, detail: str = "") -> None:
        self._state(_ENDING_CLASS.get(outcome, "-error"))
        usage = f" · {self.usage}" if self.usage else ""
        self.message = f"■ {self.what}: {outcome}{usage}" + (f" · {detail}" if detail else "")
        self.update(self.message)
