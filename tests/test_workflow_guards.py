"""What `phaser next` / `run` refuse or explain before any agent work: a plan that fails validation,
a done phase asked for again, a line that is stuck, a model with no price."""

from __future__ import annotations

import json

import pytest

from phaser.cli import main
from phaser.workflow import demo
from workflow_helpers import git, phase_turns, project_with_plan, read, tree_bytes


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("depends: 1", "depends: 7", 21, "phase 2 depends on phase 7, which does not exist"),
        ("difficulty: easy\ndepends: 2", "difficulty: ez\ndepends: 2", 27, "unknown difficulty 'ez'"),
        ("## Phase 3: Command line", "## Phase 2: Command line", 26, "duplicate phase number 2"),
        (  # phase 1 waits on 3, which waits on 2, which waits on 1
            "difficulty: easy\n\n- [ ] Add `wordstats/core.py`",
            "difficulty: easy\ndepends: 3\n\n- [ ] Add `wordstats/core.py`",
            13,
            "dependency cycle",
        ),
        ("spec: spec.md", "spec: gone.md", 3, "spec: gone.md does not exist beside the plan"),
    ],
)
def test_an_invalid_plan_is_refused_before_any_work(tmp_path, api, capsys, old, new, line, message):
    plan = demo.PLAN.replace(old, new)
    assert plan != demo.PLAN
    root = project_with_plan(tmp_path / "p", plan=plan)
    before = tree_bytes(root)
    for argv in (["next"], ["run"], ["next", "--dry-run"]):
        assert main([*argv, "-C", str(root), "-q"]) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert err.startswith(f"phaser: specs/word-stats/plan.md:{line}: ") and message in err, err
    assert api.requests == [] and tree_bytes(root) == before
    # status still shows the plan, and says what stops it
    assert main(["status", "-C", str(root)]) == 0
    assert f"! specs/word-stats/plan.md:{line}: " in capsys.readouterr().out
    assert main(["status", "-C", str(root), "--json"]) == 0
    problems = json.loads(capsys.readouterr().out)["plans"][0]["problems"]
    assert problems[0].startswith(f"specs/word-stats/plan.md:{line}: ") and message in problems[0]


def test_a_done_phase_is_not_run_again_by_next(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q"]) == 0
    head = git(root, "rev-parse", "HEAD")
    requests = len(api.requests)
    assert main(["next", "-C", str(root), "-q", "--phase", "1"]) == 2
    assert "phase 1 is done; to run it again: phaser redo 1" in capsys.readouterr().err
    assert git(root, "rev-parse", "HEAD") == head and len(api.requests) == requests


def test_a_blocked_line_says_which_phase_and_how_to_go_on(tmp_path, api, capsys):
    blocked = demo.PLAN.replace(
        "difficulty: easy\n\n- [ ] Add `wordstats/core.py`",
        "difficulty: easy\nstatus: blocked\n\n- [ ] Add `wordstats/core.py`",
    )
    root = project_with_plan(tmp_path / "p", plan=blocked)
    assert main(["next", "-C", str(root)]) == 3
    out = capsys.readouterr().out
    assert "phase 1 is blocked" in out and "phaser next --phase 1" in out and "phase 0" not in out
    assert main(["next", "-C", str(root), "--dry-run"]) == 3
    assert "phase 1 is blocked" in capsys.readouterr().out
    assert main(["run", "-C", str(root), "--json"]) == 3
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["reason"] == "stuck" and "phase 1 is blocked" in captured.err
    assert "phase 1 is blocked" in result["detail"]
    assert main(["next", "-C", str(root), "--json"]) == 3
    outcome = json.loads(capsys.readouterr().out)
    assert (
        outcome["phase"] is None
        and outcome["outcome"] == "stuck"
        and "phase 1 is blocked" in outcome["reason"]
    )
    # run by hand and green: the status line goes, the blocked history stays in git
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q", "--phase", "1"]) == 0
    plan = read(root, "specs/word-stats/plan.md")
    assert "status: blocked" not in plan and plan.count("- [x]") == 2


def test_nothing_to_do_is_said_plainly(tmp_path, api, capsys):
    done = demo.PLAN.replace("- [ ]", "- [x]")
    root = project_with_plan(tmp_path / "p", plan=done)
    assert main(["next", "-C", str(root)]) == 0
    assert capsys.readouterr().out.strip() == "nothing to run in word-stats: every phase is done"
    assert main(["next", "-C", str(root), "--dry-run"]) == 0
    assert "every phase is done" in capsys.readouterr().out
    assert api.requests == []


def test_a_model_without_a_price_is_said_out_loud(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    assert main(["next", "-C", str(root), "--dry-run", "--model", "claude-future-9"]) == 0
    out = capsys.readouterr().out
    assert "no price configured for claude-future-9" in out and "input tokens" in out
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q", "--model", "claude-future-9"]) == 0
    assert "warning: no price configured for claude-future-9" in capsys.readouterr().out


def test_redo_force_unticks_the_phases_whose_commits_it_dropped(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    api.set_script(phase_turns(1) + phase_turns(2))
    assert main(["run", "-C", str(root), "-q", "--approve", "2"]) == 3  # two phases, then it waits
    capsys.readouterr()
    api.set_script(phase_turns(1))
    assert main(["redo", "-C", str(root), "1", "--force", "-q"]) == 0
    assert "phase 2: commit dropped by --force" in capsys.readouterr().out
    plan = read(root, "specs/word-stats/plan.md")
    assert "invalidated " in plan and "phaser redo 1 --force dropped this phase's commit" in plan
    assert "the attempt verified above (commit " in plan
    assert main(["status", "-C", str(root), "--json"]) == 0
    phases = json.loads(capsys.readouterr().out)["plans"][0]["phases"]
    assert [p["state"] for p in phases] == ["done", "next", "pending"]
    assert phases[1]["tasks_done"] == 0 and phases[1]["commit"] is None
    assert not (root / "tests" / "test_top.py").exists()  # phase 2's work is gone, and so are its ticks


def test_cost_and_log_compare_attempts_by_gates_tokens_dollars_and_diff(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    toml = read(root, "phaser.toml").replace("escalate = false", "escalate = true")
    (root / "phaser.toml").write_text(toml.replace("fix_attempts = 2", "fix_attempts = 0"))
    git(root, "commit", "-qam", "escalate")
    bad = [
        {"tool_calls": [{"name": "finish_step", "input": {"summary": "explored"}}]},
        {
            "tool_calls": [
                {
                    "name": "str_replace_based_edit_tool",
                    "input": {
                        "command": "create",
                        "path": "wordstats/core.py",
                        "file_text": "def f():\n    return -1\n",
                    },
                },
                {"name": "finish_step", "input": {"summary": "done"}},
            ]
        },
    ]
    api.set_script(bad + phase_turns(1))
    assert main(["next", "-C", str(root), "-q"]) == 0
    capsys.readouterr()
    assert main(["cost", "-C", str(root)]) == 0
    runs = [
        line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("phase 1 ")
    ]
    assert len(runs) == 2
    assert (
        "escalated on claude-haiku-5-5" in runs[0]
        and "diff: 1 files +2 -0 (undone, kept as a patch)" in runs[0]
    )
    assert "passed on claude-sonnet-5-5" in runs[1] and "gates: 3 passed" in runs[1]
    assert "diff: 2 files +" in runs[1] and " out tokens, $0." in runs[1]
    assert main(["log", "-C", str(root), "--phase", "1"]) == 0
    log = capsys.readouterr().out
    assert "escalated on claude-haiku-5-5" in log and "passed on claude-sonnet-5-5" in log
    # status names the model the phase passed on, not only the one its difficulty routes to
    assert main(["status", "-C", str(root), "--json"]) == 0
    phase1 = json.loads(capsys.readouterr().out)["plans"][0]["phases"][0]
    assert (phase1["model"], phase1["ran_on"]) == ("claude-haiku-5-5", "claude-sonnet-5-5")
    assert main(["status", "-C", str(root)]) == 0
    assert "done     claude-sonnet-5-5" in capsys.readouterr().out


def test_allow_dirty_keeps_a_persons_other_work_out_of_the_agents_commit(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    (root / "notes.txt").write_text("my own work\n")
    with open(root / "AGENTS.md", "a", encoding="utf-8") as fh:
        fh.write("A person's unsaved thought.\n")
    with open(root / "wordstats" / "__init__.py", "a", encoding="utf-8") as fh:
        fh.write("# a person's comment, not committed yet\n")
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q", "--allow-dirty"]) == 0
    out = capsys.readouterr().out
    committed = git(root, "show", "--name-only", "--format=", "HEAD").split()
    assert sorted(committed) == ["specs/word-stats/plan.md", "wordstats/__init__.py", "wordstats/core.py"]
    dirty = git(root, "status", "--porcelain").splitlines()
    assert " M AGENTS.md" in dirty and "?? notes.txt" in dirty
    # the one file both touched is committed whole, and phaser says so
    assert "the commit includes uncommitted changes made before the phase in wordstats/__init__.py" in out


def test_ctrl_c_mid_phase_says_what_is_left_and_status_shows_it(tmp_path, capsys):
    import signal
    import subprocess
    import sys
    import time

    root = project_with_plan(tmp_path / "p")
    script = tmp_path / "slow.json"
    script.write_text(
        json.dumps(
            [
                {"tool_calls": [{"name": "finish_step", "input": {"summary": "explored"}}]},
                {
                    "tool_calls": [
                        {
                            "name": "str_replace_based_edit_tool",
                            "input": {"command": "create", "path": "half.py", "file_text": "x = 1\n"},
                        }
                    ]
                },
                {"tool_calls": [{"name": "bash", "input": {"command": "sleep 60"}}]},
            ]
        )
    )
    cmd = [sys.executable, "-m", "phaser", "next", "-C", str(root), "--provider", "scripted"]
    proc = subprocess.Popen(
        [*cmd, "--script", str(script), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not (root / "half.py").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "left unfinished with its changes in the tree" in err and "Traceback" not in err
    assert main(["status", "-C", str(root)]) == 0
    assert "phase 1 did not finish" in capsys.readouterr().out
    assert main(["log", "-C", str(root), "--phase", "1"]) == 0
    assert "unfinished on claude-haiku-5-5" in capsys.readouterr().out


def test_a_spec_without_a_plan_shows_its_own_title(tmp_path, capsys):
    assert main(["init", "-C", str(tmp_path)]) == 0
    assert main(["new", "-C", str(tmp_path), "日本語の機能", "--slug", "nihongo"]) == 0
    capsys.readouterr()
    assert main(["status", "-C", str(tmp_path), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)["plans"][0]
    assert (plan["slug"], plan["title"]) == ("nihongo", "日本語の機能") and "no plan yet" in plan["error"]


@pytest.mark.parametrize("during", ["baseline", "gates"])
def test_stop_during_a_gate_kills_it_at_once(tmp_path, api, during):
    """A person pressing stop (the TUI's stop sets the run's stop event) must not wait for a gate
    that takes minutes: the gate's process group is killed and the phase ends 'stopped'."""
    import threading
    import time

    from phaser.workflow.project import Project
    from phaser.workflow.runner import RunOptions, run_next

    root = project_with_plan(tmp_path / "p")
    toml = read(root, "phaser.toml")
    gate_line = next(line for line in toml.splitlines() if line.startswith("commands"))
    # the gate says it has started; inside the tree, since a confined gate can't write outside it
    marker = root / "wordstats" / "gate-running"
    slow = f"touch {marker} && sleep 60"
    if during == "gates":  # green at once in the baseline, slow once the phase has written code
        slow = f"if test -f wordstats/core.py; then {slow}; fi"
    (root / "phaser.toml").write_text(toml.replace(gate_line, f"commands = {json.dumps([slow])}"))
    git(root, "commit", "-qam", "a slow gate")
    api.set_script(phase_turns(1))
    stop = threading.Event()

    def press_stop() -> None:
        while not marker.exists():
            time.sleep(0.05)
        time.sleep(0.3)
        stop.set()

    threading.Thread(target=press_stop, daemon=True).start()
    started = time.monotonic()
    outcome = run_next(Project.open(root), None, options=RunOptions(stop_event=stop))
    assert time.monotonic() - started < 20  # not the gate's 60 s
    assert outcome.outcome == "stopped" and "stopped while the gate" in outcome.detail
    if during == "baseline":
        assert "before the phase began; nothing changed" in outcome.detail and api.requests == []
