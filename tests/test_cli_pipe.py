"""phaser's stdout going away (``phaser ... | head -3``) must not cut a run short."""

from __future__ import annotations

import subprocess
import sys

from phaser.cli.render import EventPrinter
from phaser.events import Notice


def test_a_closed_stdout_pipe_does_not_stop_the_run(tmp_path):
    root = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "phaser", "demo", "--dir", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines = [proc.stdout.readline() for _ in range(3)]  # like `| head -3`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=300)
    assert all(lines), lines
    assert code == 0, err
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err, err
    assert (root / "specs" / "word-stats" / "plan.md").read_text().count("- [x]") == 6
    log = subprocess.run(["git", "log", "--format=%s"], cwd=root, capture_output=True, text=True, check=True)
    assert sorted(s.split(":")[0] for s in log.stdout.splitlines() if s.startswith("phase ")) == [
        "phase 1",
        "phase 2",
        "phase 3",
    ]


class _ClosedPipe:
    def __init__(self) -> None:
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_event_printer_stops_printing_when_its_reader_goes_away():
    pipe = _ClosedPipe()
    printer = EventPrinter(pipe)  # type: ignore[arg-type]
    printer(Notice("first"))  # must not raise into the run that emitted the event
    assert printer.gone
    tried = pipe.writes
    printer(Notice("second"))
    printer.close()
    assert pipe.writes == tried  # nothing more is written
