"""Defects a second user audit found, each pinned by a test: what `redo` and `plan` do before they
touch anything, ticks that follow the claimed task, no gates, phase identity in git, baselines."""

from __future__ import annotations

import json
import subprocess

from phaser.cli import main
from phaser.workflow import demo
from phaser.workflow.locks import plan_run_lock
from phaser.workflow.project import Project
from workflow_helpers import (
    GATE_PYTEST_INI,
    gate_pytest_ini,
    git,
    phase_turns,
    project_with_plan,
    read,
    tree_bytes,
)

PLAN_REL = "specs/word-stats/plan.md"


def _two_phases(tmp_path, api):
    root = project_with_plan(tmp_path / "p")
    api.set_script(phase_turns(1) + phase_turns(2))
    assert main(["run", "-C", str(root), "-q", "--approve", "2"]) == 3  # two phases, then it waits
    return root


def test_redo_refuses_bad_input_before_it_resets_anything(tmp_path, api, capsys):
    root = _two_phases(tmp_path, api)
    head, before = git(root, "rev-parse", "HEAD"), tree_bytes(root)
    missing = str(tmp_path / "missing.json")
    argv = ["redo", "-C", str(root), "2", "--force", "--provider", "scripted", "--script", missing]
    assert main(argv) == 2
    assert "no such script file" in capsys.readouterr().err
    assert git(root, "rev-parse", "HEAD") == head and tree_bytes(root) == before
    # an invalid plan is refused too, before the reset
    (root / PLAN_REL).write_text(read(root, PLAN_REL).replace("difficulty: medium", "difficulty: extreme"))
    assert main(["redo", "-C", str(root), "2", "--force"]) == 2
    assert "unknown difficulty 'extreme'" in capsys.readouterr().err
    assert git(root, "rev-parse", "HEAD") == head


def test_redo_and_plan_wait_for_a_running_phase(tmp_path, api, capsys):
    root = _two_phases(tmp_path, api)
    head, plan = git(root, "rev-parse", "HEAD"), read(root, PLAN_REL)
    with plan_run_lock(Project.open(root), "word-stats"):  # as a running `phaser next` holds it
        assert main(["redo", "-C", str(root), "1", "--force"]) == 3
        assert "another phaser run is working on word-stats" in capsys.readouterr().err
        api.set_script([{"text": demo.PLAN}])
        assert main(["plan", "-C", str(root), "--force", "-q"]) == 3
        assert "another phaser run is working on word-stats" in capsys.readouterr().err
    assert git(root, "rev-parse", "HEAD") == head and read(root, PLAN_REL) == plan


def test_a_claim_ticks_the_claimed_task_even_if_the_list_was_renumbered(tmp_path, api):
    root = project_with_plan(tmp_path / "p")
    turns = phase_turns(1)
    script = iter(turns)
    plan_path = root / PLAN_REL

    def respond(request):
        turn = next(script)
        if turn is turns[5]:  # after the claims, before the harness ticks: a person inserts a task
            text = plan_path.read_text()
            plan_path.write_text(
                text.replace(
                    "difficulty: easy\n\n- [ ] Add `wordstats/core.py`",
                    "difficulty: easy\n\n- [ ] Human: write a README section\n- [ ] Add `wordstats/core.py`",
                    1,
                )
            )
        return turn

    api.set_script(respond)
    assert main(["next", "-C", str(root), "-q"]) == 3  # incomplete: the person's new task is open
    plan = read(root, PLAN_REL)
    assert "- [ ] Human: write a README section" in plan  # 1.1 now: claimed as 1.1 it was not this
    assert "- [x] Add `wordstats/core.py`" in plan and "- [x] Export `count_words`" in plan


def test_without_gates_nothing_is_ticked_on_the_models_word(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    toml = read(root, "phaser.toml")
    gate_line = next(line for line in toml.splitlines() if line.startswith("commands"))
    (root / "phaser.toml").write_text(toml.replace(gate_line, "commands = []"))
    git(root, "commit", "-qam", "no gates")
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q", "--json"]) == 3
    outcome = json.loads(capsys.readouterr().out)
    assert (
        outcome["outcome"] == "unverified"
        and outcome["ticked"] == []
        and outcome["claimed"] == ["1.1", "1.2"]
    )
    plan = read(root, PLAN_REL)
    assert "- [x]" not in plan and "NOT verified" in plan and "no gates configured" in plan
    assert git(root, "log", "-1", "--format=%s").strip() == "phase 1: Count words"  # kept for review


def test_redo_goes_back_before_every_commit_of_the_phase(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    start = git(root, "rev-parse", "HEAD")
    partial = phase_turns(1)
    partial[4] = {"tool_calls": [partial[4]["tool_calls"][0]]}  # claims 1.1 only: incomplete
    api.set_script(partial)
    assert main(["next", "-C", str(root), "-q"]) == 3
    api.set_script(
        phase_turns(1)[:1]
        + [phase_turns(1)[1]]
        + [{"tool_calls": [{"name": "finish_step", "input": {"summary": "nothing left"}}]}]
        + phase_turns(1)[4:]
    )
    assert main(["next", "-C", str(root), "-q", "--phase", "1"]) == 0
    subjects = git(root, "log", "--format=%s").splitlines()
    assert subjects[:2] == ["phase 1: Count words", "phase 1: Count words"]
    api.set_script(phase_turns(1))
    assert main(["redo", "-C", str(root), "1", "-q"]) == 0
    # the reset went to before the incomplete commit too: one phase 1 commit, on top of the start
    assert git(root, "log", "--format=%s").splitlines().count("phase 1: Count words") == 1
    assert git(root, "rev-parse", "HEAD^") == start


def test_status_never_shows_another_phases_commit_after_renumbering(tmp_path, api, capsys):
    root = _two_phases(tmp_path, api)
    plan = read(root, PLAN_REL)
    plan = plan.replace("## Phase 3: Command line", "## Phase 4: Command line").replace(
        "depends: 2", "depends: 3"
    )
    plan = plan.replace("## Phase 2: Most frequent words", "## Phase 3: Most frequent words")
    plan = plan.replace(
        "## Phase 3: Most frequent words",
        "## Phase 2: Inserted by hand\ndifficulty: easy\n\n- [ ] New\n\n## Phase 3: Most frequent words",
        1,
    )
    (root / PLAN_REL).write_text(plan)
    capsys.readouterr()
    assert main(["status", "-C", str(root), "--json"]) == 0
    phases = {p["title"]: p for p in json.loads(capsys.readouterr().out)["plans"][0]["phases"]}
    phase1 = git(root, "log", "--format=%H", "--grep=Phaser-Phase: word-stats/1").split()[0]
    assert phases["Count words"]["commit"] == phase1
    assert phases["Most frequent words"]["commit"] is None  # its commit says phase 2: not guessed


def test_a_revision_that_drops_an_approval_is_not_written(tmp_path, api, capsys):
    approved = demo.PLAN.replace("- [ ] Add `wordstats/core.py`", "- [x] Add `wordstats/core.py`")
    approved = approved.replace(
        "## Phase 1: Count words\ndifficulty: easy\n",
        "## Phase 1: Count words\ndifficulty: easy\napproved: 2026-11-20\n",
    )
    root = project_with_plan(tmp_path / "p", plan=approved)
    before = read(root, PLAN_REL)
    api.set_script([{"text": approved.replace("approved: 2026-11-20\n", "")}] * 3)
    assert main(["plan", "-C", str(root), "--revise", "tidy", "-q"]) == 2
    assert "its 'approved: 2026-11-20' line is missing" in capsys.readouterr().err
    assert read(root, PLAN_REL) == before


def test_a_configured_name_is_kept_when_only_the_email_is_missing(tmp_path, api, monkeypatch):
    root = project_with_plan(tmp_path / "p")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    subprocess.run(["git", "config", "user.name", "Alice Example"], cwd=root, check=True)
    subprocess.run(["git", "config", "--unset", "user.email"], cwd=root, check=False)
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q"]) == 0
    author = subprocess.run(
        ["git", "log", "-1", "--format=%an <%ae>"], cwd=root, capture_output=True, text=True
    ).stdout
    assert author.strip() == "Alice Example <phaser@localhost>"


def test_a_gate_red_before_the_phase_is_said_so(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    toml = read(root, "phaser.toml")
    gate_line = next(line for line in toml.splitlines() if line.startswith("commands"))
    gates = json.loads(gate_line.split("=", 1)[1])
    (root / "phaser.toml").write_text(
        toml.replace(gate_line, f"commands = {json.dumps([*gates, 'test -f LINT_OK'])}").replace(
            "fix_attempts = 2", "fix_attempts = 0"
        )
    )
    git(root, "commit", "-qam", "a lint-like gate that is red before the phase")
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root)]) == 1
    assert "gate `test -f LINT_OK` is red before the phase" in capsys.readouterr().out
    assert "(`test -f LINT_OK` already red before the phase)" in read(root, PLAN_REL)


def test_a_repository_without_commits_gets_a_diff_and_a_clear_redo_refusal(tmp_path, api, capsys):
    root = tmp_path / "fresh"
    demo.make_demo_project(root)
    (root / GATE_PYTEST_INI).write_text(gate_pytest_ini(), encoding="utf-8")  # as project_with_plan's
    subprocess.run(["rm", "-rf", str(root / ".git")], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    (root / PLAN_REL).write_text(demo.PLAN)
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q", "--allow-dirty", "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["diff"]["files"] >= 2 and outcome["diff"]["insertions"] > 0
    assert main(["redo", "-C", str(root), "1"]) == 2
    assert "the repository's first commit" in capsys.readouterr().err
