"""The live output of a parallel run: several phases report at once, so every line a phase's events
print (steps, tool calls, gates, notices, its outcome, its streamed text) starts with
``[phase N]``, and the figures a step line shows (tokens, dollars so far) are that phase's own."""

from __future__ import annotations

from typing import Any

from phaser import events as ev


def label(lane: int) -> str:
    return f"[phase {lane}]"


class _Labelled:
    """The printer's lines, with the label of the phase whose event is being printed in front."""

    def __init__(self, lines: Any, marks: LaneMarks) -> None:
        self._lines, self._marks = lines, marks

    def line(self, text: str = "", style: str = "", *, crop: bool = False) -> None:
        lane = self._marks.current
        if lane is not None and text:
            text = f"{label(lane)} {text}"
        elif lane is not None:
            return  # a blank spacer line: between interleaved phases it separates nothing
        self._lines.line(text, style, crop=crop)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lines, name)


class LaneMarks:
    """An event sink in front of the terminal's printer (its other attributes pass through)."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.current: int | None = None
        """The lane of the event being printed (None: the run's own lines)."""
        self._text: dict[int, str] = {}
        """Each phase's streamed text not yet ended by a newline."""
        self._usage: dict[int, ev.UsageUpdated | None] = {}
        lines = getattr(sink, "lines", None)
        if lines is not None:
            sink.lines = _Labelled(lines, self)

    def __call__(self, event: ev.Event) -> None:
        lane = event.lane
        if lane is None:
            self.current = None
            self.sink(event)
            return
        if isinstance(event, ev.TextDelta):
            self._stream(lane, event.text)
            return
        self._end_text(lane)
        if isinstance(event, ev.PhaseStarted):
            self._usage[lane] = None
        elif isinstance(event, ev.UsageUpdated):
            self._usage[lane] = event
        if hasattr(self.sink, "_last_usage"):  # the step lines' "so far" figures: this phase's
            self.sink._last_usage = self._usage.get(lane)
        self.current = lane
        try:
            self.sink(event)
        finally:
            self.current = None

    def _stream(self, lane: int, text: str) -> None:
        """A phase's streamed reply, printed a whole line at a time under its label."""
        if getattr(self.sink, "quiet", False):
            return
        *whole, self._text[lane] = (self._text.get(lane, "") + text).split("\n")
        for piece in whole:
            self._print(lane, piece)

    def _end_text(self, lane: int) -> None:
        rest = self._text.pop(lane, "")
        if rest:
            self._print(lane, rest)

    def _print(self, lane: int, text: str) -> None:
        self.current = lane
        try:
            self.sink(ev.Notice(text))
        finally:
            self.current = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sink, name)
