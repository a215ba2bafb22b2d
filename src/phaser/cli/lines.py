"""Where the CLI's lines go: a rich Console on a terminal (colour), else a plain stream with no
escapes; and the terminal's width. Light on imports (rich loads only for a terminal): `phaser
status` uses it on every call."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO


def default_stream(stream: TextIO | None) -> TextIO:
    return stream or sys.stdout


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


class Lines:
    """Where rendered lines go: a rich Console (colour) or a plain stream (no escapes)."""

    def __init__(self, stream: TextIO | None = None, console: Any = None) -> None:
        self.out = default_stream(stream)
        if console is None and use_color(self.out):
            from rich.console import Console

            console = Console(file=self.out, force_terminal=True, highlight=False, soft_wrap=False)
        self.console = console
        if console is not None:
            self.out = console.file

    @property
    def rich(self) -> bool:
        return self.console is not None

    def line(self, text: str = "", style: str = "", *, crop: bool = False) -> None:
        if self.console is None:
            print(text, file=self.out)
            return
        from rich.text import Text

        self.console.print(
            Text(text, style=style), no_wrap=crop, overflow="ellipsis" if crop else "fold", crop=crop
        )

    def write(self, text: str) -> None:
        """Raw text (a model's streamed reply), as it comes."""
        self.out.write(text)
        self.out.flush()

    def flush(self) -> None:
        self.out.flush()
