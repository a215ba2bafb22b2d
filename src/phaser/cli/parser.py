"""The argparse tree. Handlers live in commands.py and are named here, not imported: building
the tree imports nothing but argparse, and a command's module loads only when that command runs
(see ``Handler``), so ``phaser status`` never pays for what ``phaser next`` needs."""

from __future__ import annotations

import argparse
from typing import Any, cast

from phaser import __version__

EPILOG = """\
exit codes:
  0    done (or nothing to do)
  1    a run stopped: a red gate, a model or provider error, a stop
  2    bad input: plan, config, arguments or script file (nothing written)
  3    needs a human: approval, budget reached, dirty tree, a blocked line, another run
  130  interrupted (Ctrl-C)

--json prints one JSON object on stdout (on errors too); the schemas: docs/json.md.
docs: docs/workflow.md (commands), docs/configuration.md (phaser.toml), docs/plan-format.md
"""

SLUG_HELP = "a spec's folder name under specs/ (default: the only one with a plan)"

DESCRIPTION = """\
Run AI coding agents phase by phase from a living markdown plan.

  phaser new "Title"     write a spec          phaser plan [SLUG]     spec -> phased plan
  phaser status          where plans stand     phaser next [SLUG]     run the next phase
  phaser run [SLUG]      run until done        phaser demo            the offline demo
  phaser show [SLUG] N   one phase's evidence  phaser config          settings and sources
  phaser                 open the TUI
"""


def _phase_number(text: str) -> int:
    """``--phase 3`` or ``--phase 3.5`` (a dotted, inserted phase)."""
    from phaser.plan.refs import parse_number

    number = parse_number(text)
    if number is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a phase number such as 3 or 3.5")
    return number


def _width(text: str) -> int:
    """``--parallel N``: a whole number, 1 or more."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of phases (1 or more)")
    return int(text)


class Handler:
    """A command's handler by name: ``commands.<name>``, imported on the first call."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, args: argparse.Namespace) -> int:
        from phaser.cli import commands

        return int(getattr(commands, self.name)(args) or 0)

    def __repr__(self) -> str:
        return f"Handler({self.name!r})"


class _Unbuilt:
    """Stands in for the subparsers ``build_parser(only=...)`` leaves out: takes every call, keeps nothing."""

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        pass


def command_word(argv: list[str]) -> str | None:
    """The command ``argv`` names (``status`` in ``-C DIR status --json``), or None when it names
    none or starts with another option (``--help``, ``--version``): then the whole tree is needed."""
    words = iter(argv)
    for word in words:
        if word == "-C":
            next(words, None)
        elif not word.startswith("-C"):
            return None if word.startswith("-") else word
    return None


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors name the subcommand: an unknown option after
    ``phaser next`` prints next's usage, not the top level's."""

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            sub = getattr(self, "subparsers", {}).get(getattr(parsed, "command", None), self)
            sub.error("unrecognized arguments: " + " ".join(extras))
        return parsed


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole tree; with ``only``, the top level and that one command (what ``main`` builds when
    argv names a command: its usage, errors and help are the same, and start-up pays for one
    subparser instead of twenty). An ``only`` that is not a command gets the whole tree."""
    p = Parser(
        prog="phaser",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.subparsers = {}  # type: ignore[attr-defined]
    p.add_argument("--version", action="version", version=f"phaser {__version__}")
    p.add_argument("-C", dest="root", metavar="DIR", help="run as if started in DIR")
    p.set_defaults(command=None)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, handler: str, help: str) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return cast(argparse.ArgumentParser, _Unbuilt())
        sp = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sp.set_defaults(handler=Handler(handler))
        p.subparsers[name] = sp  # type: ignore[attr-defined]
        sp.add_argument(
            "-C", dest="root", metavar="DIR", default=argparse.SUPPRESS, help="run as if started in DIR"
        )
        return sp

    sp = cmd(
        "init", "cmd_init", "scaffold specs/, phaser.toml and .gitignore entries (existing files are kept)"
    )
    _json_arg(sp)

    sp = cmd("new", "cmd_new", "create specs/SLUG/spec.md from the template")
    sp.add_argument("title", metavar="TITLE", help="the feature's title (quote it)")
    sp.add_argument("--slug", metavar="SLUG", help="folder name (default: from the title)")
    sp.add_argument("--edit", action="store_true", help="open it in $EDITOR")
    _json_arg(sp)

    sp = cmd(
        "import", "cmd_import", "turn a Spec Kit/Kiro/OpenSpec tasks.md, Ralph plan or tasks.json into a plan"
    )
    sp.add_argument(
        "path", metavar="PATH", help="the file to import (tasks.md, IMPLEMENTATION_PLAN.md, tasks.json)"
    )
    sp.add_argument(
        "--slug", metavar="SLUG", help="folder name under specs/ (default: from the source's folder or title)"
    )
    sp.add_argument(
        "--from",
        dest="kind",
        choices=("speckit", "kiro", "openspec", "ralph", "taskmaster"),
        help="source kind",
    )
    _json_arg(sp)

    sp = cmd("status", "cmd_status", "phases, tasks and the next phase of every plan (or one)")
    sp.add_argument(
        "slug", nargs="?", metavar="SLUG", help="a spec's folder name under specs/ (default: all)"
    )
    _json_arg(sp)

    sp = cmd(
        "validate", "cmd_validate", "check specs, plans and config; print file:line: message per problem"
    )
    sp.add_argument("path", nargs="?", metavar="PATH", help="a file or folder (default: the project)")
    _json_arg(sp)

    sp = cmd("tick", "cmd_tick", "check (or uncheck) task P.T through the safe edit path")
    sp.add_argument(
        "args",
        nargs="+",
        metavar="[SLUG] REF [REF ...]",
        help="the plan's SLUG (optional) and task refs P.T, e.g. 2.3 or 3.5#2",
    )
    sp.add_argument("--undo", action="store_true", help="uncheck instead")
    sp.usage = "phaser tick [-h] [-C DIR] [--undo] [--json] [SLUG] REF [REF ...]"
    _json_arg(sp)

    sp = cmd("note", "cmd_note", "append a note to a phase")
    sp.add_argument(
        "args",
        nargs="+",
        metavar="[SLUG] PHASE TEXT",
        help="the plan's SLUG (optional), the phase number, the note",
    )
    _json_arg(sp)

    sp = cmd("plan", "cmd_plan", "write specs/SLUG/plan.md from the spec with the planning model (read-only)")
    _slug_arg(sp, "a spec's folder name under specs/ (default: the only spec)")
    sp.add_argument("--revise", metavar="FEEDBACK", help="revise the existing plan with this feedback")
    sp.add_argument(
        "--force",
        action="store_true",
        help="replace a plan that has progress; plan an unedited template spec",
    )
    sp.add_argument("-q", "--quiet", action="store_true", help="no streaming text, just steps and results")
    _model_args(sp)
    _json_arg(sp, "print the result as JSON (progress goes to stderr)")

    sp = cmd("next", "cmd_next", "run the next unfinished phase in a fresh agent context")
    _slug_arg(sp)
    sp.add_argument("--phase", type=_phase_number, metavar="N", help="run phase N instead of the next one")
    sp.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would run and an estimate, without running; refuses what the run would refuse",
    )
    sp.add_argument("--allow-dirty", action="store_true", help="start even with uncommitted changes")
    _model_args(sp)
    _run_output_args(sp)

    sp = cmd("run", "cmd_run", "run phases until done, a red gate, a budget or a checkpoint")
    _slug_arg(sp)
    sp.add_argument("--approve", metavar="POLICY", help="each | never | N (phases done but not yet approved)")
    sp.add_argument("--allow-dirty", action="store_true", help="start even with uncommitted changes")
    sp.add_argument(
        "--parallel",
        type=_width,
        metavar="N",
        help="run up to N independent phases at once, each in its own git worktree ([run] parallel)",
    )
    _model_args(sp)
    _run_output_args(sp)

    sp = cmd("approve", "cmd_approve", "record a human's approval of a phase (default: every done phase)")
    _slug_arg(sp)
    sp.add_argument("--phase", type=_phase_number, metavar="N", help="approve (or reject) phase N only")
    sp.add_argument("--reject", metavar="FEEDBACK", help="reopen the phase with this feedback as a note")
    _json_arg(sp)

    sp = cmd("redo", "cmd_redo", "put the tree back to before phase N, untick it, and run it again")
    sp.add_argument(
        "args", nargs="+", metavar="[SLUG] N", help="the plan's SLUG (optional) and the phase number"
    )
    sp.add_argument("--force", action="store_true", help="even when later phases built on it")
    sp.add_argument("--allow-dirty", action="store_true", help="start even with uncommitted changes")
    _model_args(sp)
    _run_output_args(sp)
    sp.usage = "phaser redo [options] [SLUG] N"

    sp = cmd("doctor", "cmd_doctor", "which confinement phaser's commands run under here, and why")
    _json_arg(sp)

    sp = cmd("cost", "cmd_cost", "tokens and dollars per phase, per model, and total, from the journal")
    _slug_arg(sp, "a spec's folder name under specs/ (default: every plan with runs)")
    _json_arg(sp)

    sp = cmd("log", "cmd_log", "what happened in the runs of a plan, readable")
    _slug_arg(sp)
    sp.add_argument("--phase", type=_phase_number, metavar="N", help="only the runs of phase N")
    sp.add_argument("--full", action="store_true", help="whole lines (wrapped on a terminal), not cut with …")
    _json_arg(sp)

    sp = cmd("config", "cmd_config", "the effective configuration, each value with where it came from")
    sp.add_argument("--model", metavar="ID", help="as a run would get it with --model ID")
    sp.add_argument("--profile", choices=["quality", "balanced", "budget"], help="as with --profile")
    sp.add_argument("--provider", choices=["anthropic", "scripted"], help="as with --provider")
    sp.add_argument("--script", metavar="FILE", help="as with --script FILE")
    _json_arg(sp)

    sp = cmd(
        "show",
        "cmd_show",
        "one phase's evidence: its diff (or kept patch), gates per test, claims, notes, cost",
    )
    sp.add_argument(
        "args", nargs="+", metavar="[SLUG] N", help="the plan's SLUG (optional) and the phase number"
    )
    sp.add_argument("--json", action="store_true", help="machine-readable output")

    sp = cmd("demo", "cmd_demo", "run the whole loop offline on a small generated project (scripted agent)")
    sp.add_argument(
        "--dir", metavar="DIR", help="where to create the demo project (default: a new temporary folder)"
    )
    sp.add_argument(
        "--live", action="store_true", help="use the real Anthropic API (needs ANTHROPIC_API_KEY)"
    )
    sp.add_argument("-q", "--quiet", action="store_true", help="no streaming text, just steps and results")

    cmd("tui", "cmd_tui", "open the terminal UI (also: phaser with no command)")
    if only is not None and only not in p.subparsers:  # type: ignore[attr-defined]
        return build_parser()
    return p


def _slug_arg(sp: argparse.ArgumentParser, help: str = SLUG_HELP) -> None:
    sp.add_argument("slug", nargs="?", metavar="SLUG", help=help)


def _json_arg(sp: argparse.ArgumentParser, help: str = "machine-readable output (docs/json.md)") -> None:
    sp.add_argument("--json", action="store_true", help=help)


def _model_args(sp: argparse.ArgumentParser) -> None:
    sp.add_argument(
        "--model", metavar="ID", help="model id for this run (overrides the phase's difficulty routing)"
    )
    sp.add_argument(
        "--profile",
        choices=["quality", "balanced", "budget"],
        help="routing profile: shift every tier up or down",
    )
    sp.add_argument("--provider", choices=["anthropic", "scripted"], help="model provider")
    sp.add_argument(
        "--script",
        metavar="FILE",
        help="JSON script of turns for the scripted provider (docs/scripted-provider.md)",
    )


def _run_output_args(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("-q", "--quiet", action="store_true", help="no streaming text, just steps and results")
    _json_arg(sp, "print the outcome as JSON (progress goes to stderr)")
