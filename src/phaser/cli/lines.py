"""Where the CLI's lines go: a rich Console on a terminal (colour), else a plain stream with no
escapes; and the terminal's width. Light on imports (rich loads only for a terminal): `phaser
status` uses it on every call."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


def default_stream(stream: TextIO | None) -> TextIO:
    return stream or sys.stdout


def visible(stream: TextIO | None) -> TextIO:
    """``stream`` (default stdout), and on a terminal one that shows control characters instead of
    obeying them (see ``printable``): gate summaries and details quote what an agent's code printed."""
    out = default_stream(stream)
    try:
        tty = bool(out.isatty())
    except (AttributeError, OSError, ValueError):
        tty = False
    return _Visible(out) if tty else out  # type: ignore[return-value]


class _Visible:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(printable(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def use_color(stream: Any) -> bool:
    """Colour and live updates only on a terminal, and never with NO_COLOR set (no-color.org)."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def terminal_width(default: int = 100) -> int:
    """Columns to fit: COLUMNS, else the terminal's width, else ``default`` (a pipe). The answer
    of shutil.get_terminal_size, without importing shutil (and its compressors) on every status."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return max(40, columns or default)


def ellipsize(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the cut marked with ``…``."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
"""The styles plain lines use, as SGR codes (a coloured status needs no rich)."""
_CONTROLS = {c: "\ufffd" for c in (*range(0, 9), *range(11, 32), 127, *range(128, 160))}


def printable(text: str) -> str:
    """``text`` with every control character but tab and newline shown as U+FFFD: a plan title,
    a tool's command or a model's reply written by an agent must not drive the person's terminal
    (escape sequences can retitle it, rewrite the clipboard, hide lines)."""
    return text.translate(_CONTROLS)


class Lines:
    """Where rendered lines go: on a terminal, coloured (through a rich Console, or with ``rich=False``
    plain SGR codes, which spare `phaser status` importing rich) with control characters made
    visible; anywhere else a plain stream with the text as it is."""

    def __init__(self, stream: TextIO | None = None, console: Any = None, *, rich: bool = True) -> None:
        self.out = default_stream(stream)
        self.color = console is not None or use_color(self.out)
        if console is None and self.color and rich:
            from rich.console import Console

            console = Console(file=self.out, force_terminal=True, highlight=False, soft_wrap=False)
        self.console = console
        if console is not None:
            self.out = console.file

    @property
    def rich(self) -> bool:
        return self.console is not None

    def line(self, text: str = "", style: str = "", *, crop: bool = False) -> None:
        if not self.color:
            print(text, file=self.out)
            return
        text = printable(text)
        if self.console is None:
            codes = ";".join(_SGR[word] for word in style.split() if word in _SGR)
            print(f"\x1b[{codes}m{text}\x1b[0m" if codes else text, file=self.out)
            return
        from rich.text import Text

        self.console.print(
            Text(text, style=style), no_wrap=crop, overflow="ellipsis" if crop else "fold", crop=crop
        )

    def write(self, text: str) -> None:
        """Raw text (a model's streamed reply), as it comes (on a terminal, its controls made visible)."""
        self.out.write(printable(text) if self.color else text)
        self.out.flush()

    def flush(self) -> None:
        self.out.flush()
