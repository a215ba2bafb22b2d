"""`phaser run --parallel N` end to end: the real anthropic SDK against the fake Messages API, real
git worktrees, a real pytest gate run in each worktree and again on the merged tree."""

from __future__ import annotations

import pytest

from parallel_helpers import (
    SLUG,
    PhaseScript,
    git,
    make_project,
    module_calls,
    phase_turns,
    plan_text,
)
from phaser.cli import main

PLAN = f"specs/{SLUG}/plan.md"


@pytest.fixture
def api(fake_api, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-secret-key-123456")
    return fake_api


def read(root, rel):
    return (root / rel).read_text(encoding="utf-8")


def two_modules():
    return plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`")])


def test_two_independent_phases_run_at_once_and_both_merge(tmp_path, api, capsys):
    root = make_project(tmp_path / "p", two_modules())
    script = PhaseScript(
        {1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b"))}, meet=[(1, 2)]
    )
    api.set_script(script)
    assert main(["run", "-C", str(root), "-q", "--parallel", "2"]) == 0
    # each phase waited in its code step until the other had begun: they ran at the same time
    assert script.met == {"1", "2"}
    assert (root / "a.py").is_file() and (root / "b.py").is_file()
    plan = read(root, PLAN)
    assert plan.count("- [x]") == 2 and "- [ ]" not in plan
    assert plan.count("verified") == 2
    log = git(root, "log", "--first-parent", "--format=%s").splitlines()
    assert log[:2] == ["phase 2: Module b", "phase 1: Module a"]
    # merged in phase order, each a merge commit of its own branch, worktrees and branches gone
    parents = git(root, "log", "--first-parent", "-2", "--format=%P").splitlines()
    assert all(len(p.split()) == 2 for p in parents)
    assert git(root, "status", "--porcelain").strip() == ""
    assert "phaser/" not in git(root, "branch", "--list")
    assert len(git(root, "worktree", "list").splitlines()) == 1
    out = capsys.readouterr().out
    assert "phase 1: passed" in out and "phase 2: passed" in out
