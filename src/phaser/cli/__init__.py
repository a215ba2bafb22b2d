"""The command line: parse arguments, call one workflow function, render. ``main(argv) -> int``.

Heavy modules (anthropic, textual) are imported inside the commands that need them, so that
``phaser --help`` and ``phaser status`` start fast.
"""

from __future__ import annotations

import os
import sys

from phaser.errors import PhaserError


def main(argv: list[str] | None = None) -> int:
    from phaser.cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.command = "tui"
        args.handler = _tui_handler()
    try:
        return int(args.handler(args) or 0)
    except PhaserError as exc:
        print(f"phaser: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("phaser: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _tui_handler():
    from phaser.cli import commands

    return commands.cmd_tui
