"""A dotted (inserted) phase runs end to end: claims by `1.5#N` refs, ticks, journal and commit."""

from __future__ import annotations

import json

from phaser.cli import main
from phaser.workflow import demo
from workflow_helpers import git, phase_turns, project_with_plan, read

PLAN_REL = "specs/word-stats/plan.md"


def dotted_turns() -> list[dict]:
    """The demo's phase 1 script, its claims made with the dotted ref form."""
    text = json.dumps(phase_turns(1))
    return json.loads(
        text.replace('"ref": "1.1"', '"ref": "1.5#1"').replace('"ref": "1.2"', '"ref": "1.5#2"')
    )


def test_a_dotted_phase_runs_ticks_and_commits(tmp_path, api, capsys):
    plan = demo.PLAN.replace("## Phase 1: Count words", "## Phase 1.5: Count words").replace(
        "depends: 1\n", "depends: 1.5\n"
    )
    root = project_with_plan(tmp_path / "p", plan=plan)
    api.set_script(dotted_turns())
    assert main(["-C", str(root), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["plans"][0]["next"] == "1.5"
    code = main(["next", "-C", str(root), "-q", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, (out, err)
    text = read(root, PLAN_REL)
    assert "- [x] Add `wordstats/core.py`" in text and "- [x] Export `count_words`" in text
    assert "Phaser-Phase: word-stats/1.5" in git(root, "log", "-1", "--format=%B")
    assert main(["-C", str(root), "status", "--json"]) == 0
    phases = json.loads(capsys.readouterr().out)["plans"][0]["phases"]
    assert [(p["number"], p["state"]) for p in phases] == [("1.5", "done"), (2, "next"), (3, "pending")]
    assert phases[0]["commit"]
    journals = list((root / ".phaser" / "runs" / "word-stats" / "1.5").glob("*/journal.jsonl"))
    assert journals, sorted(p.as_posix() for p in (root / ".phaser" / "runs").rglob("*"))
