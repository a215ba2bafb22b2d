# PYTHON_ARGCOMPLETE_OK
"""The command line: parse arguments, call one workflow function, render. ``main(argv) -> int``.

Heavy modules (anthropic, textual) are imported inside the commands that need them, so that
``phaser --help`` and ``phaser status`` start fast.

When the reader of stdout goes away (``phaser next | head -3``), phaser stops printing and the
command carries on: a run still finishes its phase (gates, commit, plan update) and the exit code
is the run's. See ``reader_gone`` and ``_GuardedStdout``.

With ``--json``, a PhaserError also prints ``{"error", "path", "line", "exit_code"}`` on stdout, so
a script can always parse stdout; stderr still gets the usual one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any, TextIO

from phaser.errors import PhaserError


def main(argv: list[str] | None = None) -> int:
    from phaser.cli.parser import build_parser, command_word

    completing = argv is None and "_ARGCOMPLETE" in os.environ  # completion needs the whole tree
    parser = build_parser(None if completing else command_word(sys.argv[1:] if argv is None else argv))
    if completing:
        from phaser.cli.complete import autocomplete

        autocomplete(parser)  # a shell's completion request: answered, then exit
    args = parser.parse_args(argv)
    if args.command is None and not _is_terminal(sys.stdout):
        # piped or captured: a full-screen app would never return; print the status instead
        args = parser.parse_args([*(sys.argv[1:] if argv is None else argv), "status"])
    elif args.command is None:
        args.command = "tui"
        args.handler = _tui_handler()
    real = sys.stdout
    guard = _GuardedStdout(real) if args.command != "tui" and real is sys.__stdout__ and real else None
    if guard:
        sys.stdout = guard
    try:
        return int(args.handler(args) or 0)
    except PhaserError as exc:
        from phaser.cli.hints import say

        print(f"phaser: {say(str(exc), exc.hints)}", file=sys.stderr)  # the next steps as commands
        if getattr(args, "json", False):  # stdout stays parseable: one JSON object even on errors
            print(json.dumps(error_dict(exc), ensure_ascii=False))
        return exc.exit_code
    except KeyboardInterrupt:
        if args.command in ("next", "run", "redo", "demo"):
            print(
                "phaser: interrupted; a phase that was running is left unfinished with its changes in the "
                "tree: "
                "phaser status shows it, and the next phaser next puts the tree back as it was before that "
                "phase "
                "(the changes kept as a patch) and runs it again",
                file=sys.stderr,
            )
        else:
            print("phaser: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        reader_gone(real)
        return 1
    finally:
        if guard:
            guard.flush()  # a broken pipe here is swallowed too
            sys.stdout = real


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def error_dict(exc: PhaserError) -> dict[str, Any]:
    """What ``--json`` prints on stdout when a PhaserError ends the command (the stderr line's
    message, its file and 1-based line or null, the exit code)."""
    from phaser.cli.hints import say

    error = say(str(exc), exc.hints)
    return {"error": error, "path": exc.path, "line": exc.line, "exit_code": exc.exit_code}


def reader_gone(stream: Any) -> None:
    """The reader of ``stream`` has gone (a closed pipe): point its file descriptor at /dev/null,
    so later output, and the flush at interpreter exit, succeed quietly instead of raising
    BrokenPipeError (what the Python docs on SIGPIPE recommend). Only for stdout and stderr."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    if fd not in (1, 2):
        return
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


class _GuardedStdout:
    """sys.stdout while a command runs: once the reader has gone, output is dropped instead of
    raising BrokenPipeError out of whatever printed it, possibly in the middle of a run."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def _gone(self) -> None:
        self.broken = True
        reader_gone(self._stream)
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()  # what was buffered goes to /dev/null now

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _tui_handler():
    from phaser.cli import commands

    return commands.cmd_tui
