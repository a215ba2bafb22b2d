"""The live log pane: what a planning or phase run is doing, one line per thing that happened.

A long entry wraps with its continuation lines indented under the entry's text; on a resize
every entry is laid out again for the new width (RichLog itself keeps the old wrapping).
"""

from __future__ import annotations

import re

from rich.table import Table
from rich.text import Text
from textual import events
from textual.widgets import RichLog

from phaser import events as ev
from phaser.tui.wording import outcome_style, with_keys

__all__ = ["RunLog", "outcome_style"]

_LABEL = re.compile(r"\[phase \d+(?:\.\d+)?\] ")


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
        self.styles_of: list[str] = []
        self._pending = ""
        self._laid_out_width = 0
        self._lane: int | None = None
        """The phase of the event being shown in a parallel run (None: one phase at a time)."""
        self._text_lane: int | None = None
        """The phase whose streamed text is pending."""
        self._tools: dict[int | None, ev.ToolStarted] = {}
        """The tool call each phase has started and not yet finished."""

    # -- writing ----------------------------------------------------------------------------

    def line(self, text: str, style: str = "") -> None:
        """Write one line (flushing any streamed text before it)."""
        self._flush()
        self._emit(text, style, self._lane)

    def _emit(self, text: str, style: str = "", lane: int | None = None) -> None:
        if lane is not None:  # a parallel run: every line says whose phase it is
            text = f"[phase {lane}] {text}"
        self.transcript.append(text)
        self.styles_of.append(style)
        self._write_entry(text, style)

    def _write_entry(self, text: str, style: str) -> None:
        found = _LABEL.match(text)
        label = found.group(0) if found else ""  # a parallel run's "[phase N] ": part of the margin
        body = text[len(label) :]
        stripped = body.lstrip(" ")
        indent = len(body) - len(stripped)
        # "  ✓ gate x: ..." wraps under "gate", not under the bullet
        head, sep, rest = stripped.partition(" ")
        if sep and len(head) <= 3 and not head.isalnum():
            indent += len(head) + 1
            stripped = rest
        prefix = label + body[:indent]
        if not prefix:
            self.write(Text(text, style=style))
            return
        grid = Table.grid(padding=0, expand=True)
        grid.add_column(width=len(prefix), no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row(Text(prefix, style=style), Text(stripped, style=style))
        self.write(grid)

    def on_resize(self, event: events.Resize) -> None:
        """Lay every entry out again for the new width (a wrapped line reflows)."""
        width = event.size.width
        if width != self._laid_out_width and self.transcript:
            self._laid_out_width = width
            self.call_after_refresh(self._relayout)
        self._laid_out_width = width

    def _relayout(self) -> None:
        self.clear()
        for text, style in zip(self.transcript, self.styles_of, strict=False):
            self._write_entry(text, style)

    def scroll_to_match(self, needle: str, after: int = -1) -> int | None:
        """Scroll to the next entry after ``after`` holding ``needle`` (any case); its index."""
        needle = needle.lower()
        count = len(self.transcript)
        for i in [*range(after + 1, count), *range(0, min(after + 1, count))]:
            if needle in self.transcript[i].lower():
                # the entry's first rendered line: count the lines written before it
                for y, strip in enumerate(self.lines):
                    if needle in strip.text.lower() and y >= self._line_of(i):
                        self.scroll_to(y=y, animate=False)
                        break
                return i
        return None

    def _line_of(self, entry: int) -> int:
        """An estimate of the first rendered line of ``entry`` (entries wrap to several lines)."""
        width = max(self.scrollable_content_region.width, 1)
        return sum(max(1, -(-len(t) // width)) for t in self.transcript[:entry]) - entry // 2

    def _flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, ""
            self._emit(pending, lane=self._text_lane)

    def stream(self, fragment: str) -> None:
        if self._pending and self._text_lane != self._lane:  # another phase's text: its own lines
            self._flush()
        self._text_lane = self._lane
        self._pending += fragment
        *complete, self._pending = self._pending.split("\n")
        for text in complete:
            self._emit(text, lane=self._lane)

    def clear_log(self) -> None:
        self._pending = ""
        self.transcript.clear()
        self.styles_of.clear()
        self.clear()

    @property
    def text(self) -> str:
        """Everything written so far, streamed text included, as plain text."""
        return "\n".join([*self.transcript, self._pending] if self._pending else self.transcript)

    # -- events -----------------------------------------------------------------------------

    def show(self, event: ev.Event) -> None:
        """Render one run event (of a parallel run's phase: labelled with it)."""
        self._lane = event.lane
        try:
            self._show(event)
        finally:
            self._lane = None

    def _show(self, event: ev.Event) -> None:
        if isinstance(event, ev.TextDelta):
            self.stream(event.text)
        elif isinstance(event, ev.PhaseStarted):
            again = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            self.line(f"=== {event.slug}: phase {event.phase}: {event.title} on {event.model}{again}", "bold")
        elif isinstance(event, ev.StepStarted):
            self.line(f"--- {event.step}", "bold cyan")
        elif isinstance(event, ev.ToolStarted):
            # one line per call, written when it finishes (the status line shows it now); the call
            # of each phase of a parallel run apart
            self._tools[event.lane] = event
        elif isinstance(event, ev.ToolFinished):
            started = self._tools.pop(event.lane, None)
            summary = event.summary
            if started is not None and started.name == event.name and started.summary not in summary:
                summary = f"{started.summary} → {summary}" if summary else started.summary
            self.line(f"  {'✓' if event.ok else '✗'} {event.name}: {summary}", "dim" if event.ok else "red")
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
            self.line(prefix + with_keys(event.message, event.hints), style)
        elif isinstance(event, ev.PhaseFinished):
            cost = event.data.get("cost_usd")
            money = f"  ${cost:.4f}" if isinstance(cost, (int, float)) else ""
            detail = f"  {with_keys(event.detail, event.data.get('hints'))}" if event.detail else ""
            self.line(
                f"=== phase {event.phase}: {event.outcome}{money}{detail}",
                f"bold {outcome_style(event.outcome)}",
            )
        else:
            self.line(f"{event.kind}: {event}")
