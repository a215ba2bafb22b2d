"""The live log pane: what a planning or phase run is doing, one line per thing that happened."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from phaser import events as ev
from phaser.tui.wording import outcome_style, tui_words

__all__ = ["RunLog", "outcome_style"]


class RunLog(RichLog):
    """A RichLog that renders run events as plain text (never markup: plans are full of "[x]").

    Streaming text arrives in fragments; it is held until a line is complete, or until the next
    event arrives, so the log shows whole lines. ``transcript`` keeps the plain lines written.
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            wrap=True, markup=False, highlight=False, max_lines=5000, min_width=20, id=id, classes=classes
        )
        self.transcript: list[str] = []
        self._pending = ""

    # -- writing ----------------------------------------------------------------------------

    def line(self, text: str, style: str = "") -> None:
        """Write one line (flushing any streamed text before it)."""
        self._flush()
        self._emit(text, style)

    def _emit(self, text: str, style: str = "") -> None:
        self.transcript.append(text)
        self.write(Text(text, style=style))

    def _flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, ""
            self._emit(pending)

    def stream(self, fragment: str) -> None:
        self._pending += fragment
        *complete, self._pending = self._pending.split("\n")
        for text in complete:
            self._emit(text)

    def clear_log(self) -> None:
        self._pending = ""
        self.transcript.clear()
        self.clear()

    @property
    def text(self) -> str:
        """Everything written so far, streamed text included, as plain text."""
        return "\n".join([*self.transcript, self._pending] if self._pending else self.transcript)

    # -- events -----------------------------------------------------------------------------

    def show(self, event: ev.Event) -> None:
        """Render one run event."""
        if isinstance(event, ev.TextDelta):
            self.stream(event.text)
        elif isinstance(event, ev.PhaseStarted):
            again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            self.line(f"=== {event.slug}: phase {event.phase}: {event.title} on {event.model}{again}", "bold")
        elif isinstance(event, ev.StepStarted):
            self.line(f"--- {event.step}", "bold cyan")
        elif isinstance(event, ev.ToolStarted):
            self.line(f"  → {event.name}: {event.summary}", "dim")
        elif isinstance(event, ev.ToolFinished):
            self.line(f"    {'✓' if event.ok else '✗'} {event.summary}", "" if event.ok else "red")
        elif isinstance(event, ev.PolicyViolation):
            paths = f" ({', '.join(event.paths)})" if event.paths else ""
            self.line(f"  ! refused in {event.step}: {event.message}{paths}", "bold red")
        elif isinstance(event, ev.GateFinished):
            self.line(
                f"  {'✓' if event.ok else '✗'} gate {event.name}: {event.summary}",
                "green" if event.ok else "bold red",
            )
            for tail in event.output_tail.splitlines()[-8:]:
                self.line(f"    | {tail}", "red")
        elif isinstance(event, ev.UsageUpdated):
            pass  # shown in the status line; a line per response would drown the log
        elif isinstance(event, ev.Notice):
            style = {"warning": "yellow", "error": "bold red"}.get(event.level, "")
            prefix = "" if event.level == "info" else f"{event.level}: "
            self.line(prefix + tui_words(event.message), style)
        elif isinstance(event, ev.PhaseFinished):
            cost = event.data.get("cost_usd")
            money = f"  ${cost:.4f}" if isinstance(cost, (int, float)) else ""
            detail = f"  {tui_words(event.detail)}" if event.detail else ""
            self.line(
                f"=== phase {event.phase}: {event.outcome}{money}{detail}",
                f"bold {outcome_style(event.outcome)}",
            )
        else:
            self.line(f"{event.kind}: {event}")
