"""A baseline gate that can judge nothing stops the phase before the first model request (exit 2,
one line saying what is wrong and how to fix it); a baseline that runs and is red goes on."""

from __future__ import annotations

import json
import shlex
import sys

import pytest

from phaser.cli import main
from phaser.workflow import demo
from workflow_helpers import git, phase_turns, project_with_plan, read

PY = shlex.quote(sys.executable)


def with_gate(root, command: str):
    toml = read(root, "phaser.toml")
    line = next(ln for ln in toml.splitlines() if ln.startswith("commands"))
    (root / "phaser.toml").write_text(
        toml.replace(line, f"commands = [{json.dumps(command)}]"), encoding="utf-8"
    )
    git(root, "commit", "-qam", "gate")
    return root


@pytest.mark.parametrize(
    ("gate", "said"),
    [
        (f"{PY} -m pytest -q -p no:cacheprovider --ignore=tests", "collects no tests (pytest exit 5)"),
        ("no-such-tool-phaser-test --check", "was not found (exit 127)"),
        (f"{PY} -m no_such_runner_phaser -q", "No module named no_such_runner_phaser"),
    ],
)
def test_a_gate_that_cannot_judge_stops_before_any_model_request(tmp_path, api, capsys, gate, said):
    root = with_gate(project_with_plan(tmp_path / "p"), gate)
    plan_before = read(root, "specs/word-stats/plan.md")
    api.set_script(phase_turns(1))
    code = main(["next", "-C", str(root), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert said in err and "phaser.toml" in err and "no model was called" in err
    assert len(err.strip().splitlines()) == 1
    assert api.requests == []
    assert read(root, "specs/word-stats/plan.md") == plan_before
    assert git(root, "status", "--porcelain").strip() == ""


def test_a_red_baseline_that_runs_still_starts_the_phase(tmp_path, api):
    root = project_with_plan(tmp_path / "p")  # the demo's failing test: red before, the phase fixes it
    api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q"]) == 0
    assert len(api.requests) > 0


def test_next_refuses_a_spec_with_broken_yaml_and_status_shows_it(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    spec = root / "specs" / "word-stats" / "spec.md"
    spec.write_text("---\ntitle: [unclosed\n---\n\n# Word statistics\n", encoding="utf-8")
    git(root, "commit", "-qam", "broken spec")
    for command in (["next"], ["run"]):
        code = main([*command, "-C", str(root), "-q"])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("phaser: specs/word-stats/spec.md:"), err
    assert api.requests == []
    assert main(["status", "-C", str(root)]) == 0
    assert "specs/word-stats/spec.md:" in capsys.readouterr().out


IDLE = [
    {"tool_calls": [{"name": "finish_step", "input": {"summary": "explored"}}]},
    {"tool_calls": [{"name": "finish_step", "input": {"summary": "nothing to do"}}]},
    {
        "tool_calls": [
            {"name": "claim_task", "input": {"ref": "1.1", "evidence": "it is fine"}},
            {"name": "claim_task", "input": {"ref": "1.2", "evidence": "it is fine"}},
            {"name": "finish_step", "input": {"summary": "done"}},
        ]
    },
]


def green_project(root, plan: str = demo.PLAN):
    """The demo project with a green test suite, so a phase that changes nothing still has green gates."""
    root = project_with_plan(root, plan)
    (root / "tests" / "test_count.py").unlink()
    (root / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "green tests")
    return root


def test_a_phase_that_changed_nothing_is_unverified(tmp_path, api, capsys):
    root = green_project(tmp_path / "p")
    api.set_script(IDLE)
    code = main(["next", "-C", str(root), "-q", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 3 and out["outcome"] == "unverified" and "changed no file" in out["detail"]
    plan = read(root, "specs/word-stats/plan.md")
    assert "- [x]" not in plan and "NOT verified" in plan and "changed no file outside the plan" in plan


def test_a_phase_that_says_changes_none_is_verified_by_green_gates(tmp_path, api, capsys):
    plan = demo.PLAN.replace("difficulty: easy\n", "difficulty: easy\nchanges: none\n", 1)
    root = green_project(tmp_path / "p", plan)
    api.set_script(IDLE)
    code = main(["next", "-C", str(root), "-q", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["outcome"] == "passed", out
    assert read(root, "specs/word-stats/plan.md").count("- [x]") == 2
