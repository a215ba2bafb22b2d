"""The live output of a parallel run: several phases report at once, so each time the output
switches from one phase's events to another's, a ``[phase N]`` line says whose lines follow."""

from __future__ import annotations

from typing import Any

from phaser import events as ev


class LaneMarks:
    """An event sink in front of the terminal's printer (its other attributes pass through)."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.last: int | None = None

    def __call__(self, event: ev.Event) -> None:
        lane = event.lane
        if lane is not None and lane != self.last and not isinstance(event, ev.PhaseStarted):
            self.sink(ev.Notice(f"[phase {lane}]"))
        self.last = lane if lane is not None else self.last
        self.sink(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sink, name)
