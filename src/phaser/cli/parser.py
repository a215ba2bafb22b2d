"""The argparse tree. Handlers live in commands.py; nothing heavy is imported here."""

from __future__ import annotations

import argparse

from phaser import __version__
from phaser.cli import commands as c

DESCRIPTION = """\
Run AI coding agents phase by phase from a living markdown plan.

  phaser new "Title"     write a spec          phaser plan [SLUG]     spec -> phased plan
  phaser status          where plans stand     phaser next [SLUG]     run the next phase
  phaser run [SLUG]      run until done        phaser demo            the offline demo
  phaser                 open the TUI
"""


def _phase_number(text: str) -> int:
    """``--phase 3`` or ``--phase 3.5`` (a dotted, inserted phase)."""
    from phaser.plan.refs import parse_number

    number = parse_number(text)
    if number is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a phase number such as 3 or 3.5")
    return number


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="phaser", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--version", action="version", version=f"phaser {__version__}")
    p.add_argument("-C", dest="root", metavar="DIR", help="run as if started in DIR")
    p.set_defaults(command=None)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def cmd(name: str, handler, help: str) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(handler=handler)
        sp.add_argument(
            "-C", dest="root", metavar="DIR", default=argparse.SUPPRESS, help="run as if started in DIR"
        )
        return sp

    cmd("init", c.cmd_init, "scaffold specs/, phaser.toml and .gitignore entries (existing files are kept)")

    sp = cmd("new", c.cmd_new, "create specs/<slug>/spec.md from the template")
    sp.add_argument("title")
    sp.add_argument("--slug", help="folder name (default: from the title)")
    sp.add_argument("--edit", action="store_true", help="open it in $EDITOR")

    sp = cmd(
        "import", c.cmd_import, "turn a Spec Kit/Kiro/OpenSpec tasks.md, Ralph plan or tasks.json into a plan"
    )
    sp.add_argument("path", metavar="PATH")
    sp.add_argument("--slug", help="folder name under specs/ (default: from the source's folder or title)")
    sp.add_argument(
        "--from",
        dest="kind",
        choices=("speckit", "kiro", "openspec", "ralph", "taskmaster"),
        help="source kind",
    )

    sp = cmd("status", c.cmd_status, "phases, tasks and the next phase of every plan (or one)")
    sp.add_argument("slug", nargs="?", metavar="SLUG", help="a spec slug, folder or plan file")
    sp.add_argument("--json", action="store_true", help="machine-readable output")

    sp = cmd(
        "validate", c.cmd_validate, "check specs, plans and config; print file:line: message per problem"
    )
    sp.add_argument("path", nargs="?", help="a file or folder (default: the project)")

    sp = cmd("tick", c.cmd_tick, "check (or uncheck) task P.T through the safe edit path")
    sp.add_argument("args", nargs="+", metavar="[SLUG] REF")
    sp.add_argument("--undo", action="store_true", help="uncheck instead")

    sp = cmd("note", c.cmd_note, "append a note to a phase")
    sp.add_argument("args", nargs="+", metavar="[SLUG] PHASE TEXT")

    sp = cmd(
        "plan", c.cmd_plan, "write specs/<slug>/plan.md from the spec with the planning model (read-only)"
    )
    sp.add_argument("slug", nargs="?")
    sp.add_argument("--revise", metavar="FEEDBACK", help="revise the existing plan with this feedback")
    sp.add_argument("--force", action="store_true", help="replace a plan that has progress")
    sp.add_argument("-q", "--quiet", action="store_true", help="no streaming text, just steps and results")
    _model_args(sp)

    sp = cmd("next", c.cmd_next, "run the next unfinished phase in a fresh agent context")
    sp.add_argument("slug", nargs="?")
    sp.add_argument("--phase", type=_phase_number, help="run this phase instead of the next one")
    sp.add_argument(
        "--dry-run", action="store_true", help="print what would run, and an estimate, without running"
    )
    sp.add_argument("--allow-dirty", action="store_true", help="start even with uncommitted changes")
    _model_args(sp)
    _run_output_args(sp)

    sp = cmd("run", c.cmd_run, "run phases until done, a red gate, a budget or a checkpoint")
    sp.add_argument("slug", nargs="?")
    sp.add_argument("--approve", metavar="POLICY", help="each | never | N (phases done but not yet approved)")
    sp.add_argument("--allow-dirty", action="store_true", help="start even with uncommitted changes")
    _model_args(sp)
    _run_output_args(sp)

    sp = cmd("approve", c.cmd_approve, "record a human's approval of a phase (default: every done phase)")
    sp.add_argument("slug", nargs="?")
    sp.add_argument("--phase", type=_phase_number)
    sp.add_argument("--reject", metavar="FEEDBACK", help="reopen the phase with this feedback as a note")

    sp = cmd("redo", c.cmd_redo, "put the tree back to before phase N, untick it, and run it again")
    sp.add_argument("args", nargs="+", metavar="[SLUG] N")
    sp.add_argument("--force", action="store_true", help="even when later phases built on it")
    sp.add_argument("--allow-dirty", action="store_true")
    _model_args(sp)
    _run_output_args(sp)

    sp = cmd("doctor", c.cmd_doctor, "which confinement phaser's commands run under here, and why")
    sp.add_argument("--json", action="store_true")

    sp = cmd("cost", c.cmd_cost, "tokens and dollars per phase, per model, and total, from the journal")
    sp.add_argument("slug", nargs="?")
    sp.add_argument("--json", action="store_true")

    sp = cmd("log", c.cmd_log, "what happened in the runs of a plan, readable")
    sp.add_argument("slug", nargs="?")
    sp.add_argument("--phase", type=_phase_number)

    sp = cmd("demo", c.cmd_demo, "run the whole loop offline on a small generated project (scripted agent)")
    sp.add_argument("--dir", help="where to create the demo project (default: a new temporary folder)")
    sp.add_argument(
        "--live", action="store_true", help="use the real Anthropic API (needs ANTHROPIC_API_KEY)"
    )
    sp.add_argument("-q", "--quiet", action="store_true")

    cmd("tui", c.cmd_tui, "open the terminal UI (also: phaser with no command)")
    return p


def _model_args(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--model", help="model id for this run (overrides the phase's difficulty routing)")
    sp.add_argument("--profile", choices=["quality", "balanced", "budget"], help="routing profile")
    sp.add_argument("--provider", choices=["anthropic", "scripted"], help="model provider")
    sp.add_argument("--script", help="script file for the scripted provider")


def _run_output_args(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("-q", "--quiet", action="store_true", help="no streaming text, just steps and results")
    sp.add_argument("--json", action="store_true", help="print the outcome as JSON")
