"""`phaser plan`, resume after a kill, `redo`, `cost` and `log`, end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from phaser.cli import main
from phaser.workflow import demo
from workflow_helpers import edit, finish, git, phase_turns, project_with_plan, read


def plan_path(root):
    return root / "specs" / "word-stats" / "plan.md"


def test_plan_from_spec_is_validated_and_written(tmp_path, api, capsys):
    root = tmp_path / "p"
    demo.make_demo_project(root)
    api.set_script(demo.demo_script()[:3])
    assert main(["plan", "-C", str(root), "-q"]) == 0
    assert plan_path(root).read_text() == demo.PLAN
    first = api.requests[0]["body"]
    assert first["model"] == "claude-opus-5-5"
    assert "Word statistics" in json.dumps(first["messages"])  # the spec went to the model
    assert "Keep functions small" in json.dumps(first["system"])  # and AGENTS.md
    assert "wrote specs/word-stats/plan.md: 3 phases, 6 tasks" in capsys.readouterr().out


def test_invalid_plan_goes_back_to_the_model(tmp_path, api):
    root = tmp_path / "p"
    demo.make_demo_project(root)
    broken = demo.PLAN.replace("difficulty: medium", "difficulty: extreme")
    api.set_script([{"text": broken}, {"text": "```markdown\n" + demo.PLAN + "```\n"}])
    assert main(["plan", "-C", str(root), "-q"]) == 0
    assert plan_path(root).read_text() == demo.PLAN
    retry = json.dumps(api.requests[1]["body"]["messages"][-1])
    assert "does not pass phaser's checks" in retry and "extreme" in retry


def test_plan_that_stays_invalid_is_never_written(tmp_path, api, capsys):
    root = tmp_path / "p"
    demo.make_demo_project(root)
    api.set_script([{"text": "# Just a title\n\nNo phases here.\n"}] * 3)
    assert main(["plan", "-C", str(root), "-q"]) == 2
    assert not plan_path(root).exists()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "specs/word-stats/plan.md" in err and "3 attempts" in err


def test_plan_with_progress_needs_revise(tmp_path, api, capsys):
    root = project_with_plan(
        tmp_path / "p",
        plan=demo.PLAN.replace("- [ ] Add `wordstats/core.py`", "- [x] Add `wordstats/core.py`"),
    )
    before = plan_path(root).read_bytes()
    assert main(["plan", "-C", str(root)]) == 2
    assert "--revise" in capsys.readouterr().err
    assert plan_path(root).read_bytes() == before and api.requests == []


def test_revise_sends_the_current_file_with_the_feedback(tmp_path, api):
    root = project_with_plan(tmp_path / "p")
    human = plan_path(root).read_text().replace("## Overview\n", "## Overview\nHuman note: keep it tiny.\n")
    plan_path(root).write_text(human)
    revised = human.replace("## Phase 3: Command line", "## Phase 3: Command line interface")
    api.set_script([{"text": revised}])
    assert main(["plan", "-C", str(root), "--revise", "Call phase 3 the command line interface", "-q"]) == 0
    assert plan_path(root).read_text() == revised
    sent = json.dumps(api.requests[0]["body"]["messages"])
    assert "Human note: keep it tiny." in sent and "command line interface" in sent


def test_revise_that_drops_progress_goes_back_and_is_never_written(tmp_path, api, capsys):
    with_progress = (  # a ticked task in phase 1, a human note in phase 3 (the last section)
        demo.PLAN.replace("- [ ] Add `wordstats/core.py`", "- [x] Add `wordstats/core.py`")
        + "\n### Notes\n\n- Human: the tokenizer must keep apostrophes.\n"
    )
    root = project_with_plan(tmp_path / "p", plan=with_progress)
    before = plan_path(root).read_bytes()
    dropped = demo.PLAN  # the model "forgets" the tick and the note
    kept = with_progress.replace("## Phase 3: Command line", "## Phase 3: Command line interface")
    # dropped three times: refused, nothing written
    api.set_script([{"text": dropped}] * 3)
    assert main(["plan", "-C", str(root), "--revise", "rename phase 3", "-q"]) == 2
    err = capsys.readouterr().err
    assert "3 attempts" in err and "checked task of phase 1 is missing or unchecked" in err
    assert plan_path(root).read_bytes() == before
    # dropped once, told what it lost, kept the second time: written
    api.set_script([{"text": dropped}, {"text": kept}])
    assert main(["plan", "-C", str(root), "--revise", "rename phase 3", "-q"]) == 0
    assert plan_path(root).read_text() == kept
    feedback = json.dumps(api.requests[-1]["body"]["messages"][-1])
    assert "Human: the tokenizer must keep apostrophes." in feedback and "keep every note" in feedback


def test_resume_after_a_kill_mid_phase(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    script = tmp_path / "killed.json"
    script.write_text(
        json.dumps(
            [
                {"tool_calls": [finish("explored")]},
                {"tool_calls": [edit("create", "scratch.py", file_text="half = 1\n")]},
                {"tool_calls": [{"name": "bash", "input": {"command": "sleep 60"}}]},
            ]
        )
    )
    cmd = [
        sys.executable,
        "-m",
        "phaser",
        "next",
        "-C",
        str(root),
        "--provider",
        "scripted",
        "--script",
        str(script),
        "-q",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (root / "scratch.py").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert (root / "scratch.py").exists()
    time.sleep(0.5)
    assert main(["status", "-C", str(root), "--json"]) == 0  # while it runs: running
    active = json.loads(capsys.readouterr().out)["plans"][0]["active"]
    assert active["phase"] == 1 and active["running"] is True
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert main(["status", "-C", str(root)]) == 0  # after the kill: said plainly, nothing touched yet
    assert "phase 1 did not finish" in capsys.readouterr().out and (root / "scratch.py").exists()
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q"]) == 0
    out = capsys.readouterr().out
    assert "phase 1 did not finish" in out and "discarded changes are kept in" in out
    assert not (root / "scratch.py").exists()
    patches = list((root / ".phaser" / "runs" / "word-stats" / "1").glob("*/discarded.patch"))
    assert any("half = 1" in p.read_text() for p in patches)
    assert read(root, "specs/word-stats/plan.md").count("- [x]") == 2


def test_redo_reruns_a_phase_and_cost_compares_attempts(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    api.set_script(phase_turns(1) + phase_turns(2))
    assert main(["run", "-C", str(root), "-q", "--approve", "2"]) == 3  # two phases, then wait
    assert main(["redo", "-C", str(root), "1"]) == 2  # phase 2 built on it
    assert "later commit(s) build on phase 1" in capsys.readouterr().err
    api.set_script(phase_turns(1))
    assert main(["redo", "-C", str(root), "1", "--force", "--model", "claude-opus-5-5", "-q"]) == 0
    subjects = git(root, "log", "--format=%s").splitlines()
    assert subjects[0] == "phase 1: Count words" and "phase 2: Most frequent words" not in subjects
    plan = read(root, "specs/word-stats/plan.md")
    assert "redo " in plan and "model claude-opus-5-5" in plan
    capsys.readouterr()
    assert main(["cost", "-C", str(root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["plans"][0]["rows"]
    phase1 = {r["model"]: r for r in rows if str(r["phase"]) == "1"}
    assert set(phase1) == {"claude-haiku-5-5", "claude-opus-5-5"}
    assert phase1["claude-opus-5-5"]["cost_usd"] > phase1["claude-haiku-5-5"]["cost_usd"] > 0
    assert report["total_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows))
    assert main(["log", "-C", str(root), "--phase", "1"]) == 0
    log = capsys.readouterr().out
    assert log.count("== phase 1, run") == 2 and "gates:" in log and "commit" in log
