"""The terminal output of a parallel run, fed events as the run delivers them (two phases'
interleaved): every line of a phase says whose it is, and the figures a step line shows are that
phase's own, not those of whichever phase reported last."""

from __future__ import annotations

import io

from phaser import events as ev
from phaser.cli.lanes import LaneMarks
from phaser.cli.render import EventPrinter


def lane(event: ev.Event, number: int | None) -> ev.Event:
    event.lane = number
    return event


def usage(tokens: int, usd: float) -> ev.UsageUpdated:
    return ev.UsageUpdated("m", tokens, 10, 0, 0, usd)


def test_interleaved_phases_each_keep_their_label_and_their_own_figures():
    out = io.StringIO()
    marks = LaneMarks(EventPrinter(out))
    for event in (
        ev.Notice("phase 1, 2: at once, each in its own git worktree"),
        lane(ev.PhaseStarted("par", 1, "Module a", "m"), 1),
        lane(ev.PhaseStarted("par", 2, "Module b", "m"), 2),
        lane(usage(111, 0.25), 1),
        lane(usage(99_999, 7.5), 2),  # phase 2 reported last
        lane(ev.StepStarted("code"), 1),
        lane(ev.TextDelta("thinking about "), 2),
        lane(ev.ToolFinished("bash", True, "ls"), 1),
        lane(ev.TextDelta("b\nand more"), 2),
        lane(ev.StepStarted("code"), 2),
        lane(ev.PhaseFinished("par", 1, "passed", "done", {"cost_usd": 0.25}), 1),
    ):
        marks(event)
    lines = out.getvalue().splitlines()
    assert lines[0] == "phase 1, 2: at once, each in its own git worktree"  # the run's own line
    assert "[phase 1] === par: phase 1: Module a on m" in lines
    code_1 = next(line for line in lines if line.startswith("[phase 1] --- code"))
    assert "111 in" in code_1 and "$0.2500 so far" in code_1 and "99,999" not in code_1
    code_2 = next(line for line in lines if line.startswith("[phase 2] --- code"))
    assert "99,999 in" in code_2 and "$7.50 so far" in code_2
    assert "[phase 1]   ✓ ls" in lines
    # phase 2's streamed reply: whole lines, under its label, not spliced into phase 1's lines
    assert "[phase 2] thinking about b" in lines and "[phase 2] and more" in lines
    assert lines.index("[phase 2] and more") < lines.index(code_2)
    assert any(line.startswith("[phase 1] === phase 1: passed") for line in lines)
    assert all(line.startswith("[phase ") for line in lines[1:])
