"""The git helpers a phase relies on: what counts as dirty, and git missing from PATH."""

from __future__ import annotations

import json

from phaser.cli import main
from phaser.workflow import git as phaser_git
from workflow_helpers import git, phase_turns, project_with_plan


def test_a_staged_rename_names_both_paths_in_full(tmp_path):
    root = project_with_plan(tmp_path / "p")
    (root / "original_name.txt").write_text("x\n")
    git(root, "add", "original_name.txt")
    git(root, "commit", "-qm", "a file")
    git(root, "mv", "original_name.txt", "new_name.txt")
    assert sorted(phaser_git.dirty_paths(root)) == ["new_name.txt", "original_name.txt"]


def test_next_without_git_on_path_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    root = project_with_plan(tmp_path / "p")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    script = tmp_path / "script.json"
    script.write_text(json.dumps(phase_turns(1)), encoding="utf-8")
    assert main(["next", "-C", str(root), "--provider", "scripted", "--script", str(script)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot run git" in err and "install git or put it on PATH" in err, err
