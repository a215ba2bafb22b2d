"""`phaser demo`: make the demo project and run the whole loop on it, printing as it goes.

The project and the scripted agent's turns are data in ``phaser.workflow.demo``; this module is
the terminal side: which provider, what to print, and in what order.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from phaser.agent.scripted import ScriptedProvider
from phaser.cli.render import EventPrinter, print_cost, print_status
from phaser.errors import PhaserError, UsageError
from phaser.workflow.cost import cost_report
from phaser.workflow.demo import demo_script, make_demo_project, missing_runner
from phaser.workflow.planning import plan_spec
from phaser.workflow.providers import RunOptions, api_key
from phaser.workflow.runner import run_all
from phaser.workflow.status import project_status


def run_demo(folder: Path | None = None, *, live: bool = False, quiet: bool = False) -> int:
    """Plan and run the demo project; the exit code of the run (0 when every phase passed)."""
    out = sys.stdout
    if live and not api_key():  # before anything is created
        raise UsageError("phaser demo --live needs ANTHROPIC_API_KEY (plain `phaser demo` runs offline)")
    missing = missing_runner()
    if missing:  # before anything is created: a gate that cannot run would judge nothing
        raise UsageError(f"demo: {missing}")
    if folder and Path(folder).exists() and any(Path(folder).iterdir()):
        raise PhaserError(f"{folder} is not empty: pick a new folder for the demo")
    root = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="phaser-demo-"))
    project = make_demo_project(root, scripted=not live)
    if live:
        options = RunOptions(provider="anthropic")
        print(f"phaser demo (live): a real model will plan and build {root}", file=out)
    else:
        options = RunOptions(provider_obj=ScriptedProvider(demo_script()))
        print(
            "phaser demo: the agent here is SCRIPTED (no model, no network, no API key); everything", file=out
        )
        print(
            "around it is real: plan validation, edit locks, protected tests, pytest gates, commits, costs.",
            file=out,
        )
        print(f"project: {root}\n", file=out)
    printer = EventPrinter(out, quiet=quiet)
    print("$ phaser plan word-stats", file=out)
    result = plan_spec(project, "word-stats", options=options, on_event=printer)
    printer.close()
    print(f"wrote {project.rel(result.path)}: {result.phases} phases, {result.tasks} tasks\n", file=out)
    print("$ phaser run word-stats", file=out)
    run = run_all(project, "word-stats", approve="never", options=options, on_event=printer)
    printer.close()
    print(f"\nrun ended: {run.reason}\n", file=out)
    print("$ phaser status", file=out)
    print_status(project_status(project), out)
    print("\n$ phaser cost", file=out)
    print_cost(cost_report(project, "word-stats"), out)
    log = subprocess.run(["git", "log", "--oneline"], cwd=root, capture_output=True, text=True).stdout
    print("\n$ git log --oneline\n" + log, file=out)
    print(f"The demo project stays in {root}: look at specs/word-stats/plan.md and .phaser/runs/.", file=out)
    if not live:
        print(
            "To run the same on a real model: export ANTHROPIC_API_KEY=... and run: phaser demo --live",
            file=out,
        )
    return run.exit_code
