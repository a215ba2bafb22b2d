"""What a new user meets in the first minutes: bare `phaser` in a pipe, refused bad plans and
specs, several refs for `tick`, usages that match, odd plan files, an empty `--model`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from phaser.cli import main
from phaser.workflow import demo

GOOD = """\
---
title: Small
spec: spec.md
format: 1
---

# Small

## Phase 1: One
difficulty: easy

- [ ] first
- [ ] second
- [ ] third
"""

DUPLICATE = (
    GOOD
    + """
## Phase 1: One again
difficulty: easy

- [ ] fourth
"""
)

SPEC = "---\ntitle: Small\n---\n\n# Small\n\nDo a small thing.\n"


def project(root: Path, plan: str | None = GOOD, spec: str = SPEC) -> Path:
    folder = root / "specs" / "small"
    folder.mkdir(parents=True)
    (root / "phaser.toml").write_text("", encoding="utf-8")
    (folder / "spec.md").write_text(spec, encoding="utf-8")
    if plan is not None:
        (folder / "plan.md").write_text(plan, encoding="utf-8")
    return root


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_bare_phaser_in_a_pipe_prints_the_status_and_returns(tmp_path):
    root = project(tmp_path / "p")
    done = subprocess.run(
        [sys.executable, "-m", "phaser", "-C", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "small" in done.stdout and "0/3" in done.stdout.replace(" ", "")
    assert "\x1b[?1049h" not in done.stdout  # no full-screen app took over the terminal


@pytest.mark.parametrize(
    "args",
    [
        ["tick", "1.1"],
        ["note", "1", "a note"],
        ["approve"],
        ["approve", "--phase", "1", "--reject", "redo it"],
    ],
)
def test_plan_edits_refuse_a_plan_validate_rejects(tmp_path, capsys, args):
    root = project(tmp_path / "p", DUPLICATE)
    plan = root / "specs" / "small" / "plan.md"
    code, _out, err = run(capsys, "-C", str(root), *args)
    assert code == 2
    assert err.startswith("phaser: specs/small/plan.md:") and "phase" in err.lower()
    assert len(err.strip().splitlines()) == 1
    assert plan.read_text(encoding="utf-8") == DUPLICATE


def test_plan_edits_refuse_when_the_spec_has_broken_yaml(tmp_path, capsys):
    root = project(tmp_path / "p", spec="---\ntitle: [unclosed\n---\n\n# Small\n")
    code, _out, err = run(capsys, "-C", str(root), "tick", "1.1")
    assert code == 2 and err.startswith("phaser: specs/small/spec.md:")
    assert "- [ ] first" in (root / "specs" / "small" / "plan.md").read_text(encoding="utf-8")


def test_tick_takes_several_refs_and_its_usage_says_so(tmp_path, capsys):
    root = project(tmp_path / "p")
    code, out, err = run(capsys, "-C", str(root), "tick", "1.1", "1.3")
    assert code == 0, err
    assert out.splitlines() == ["[x] 1.1 first", "[x] 1.3 third"]
    text = (root / "specs" / "small" / "plan.md").read_text(encoding="utf-8")
    assert "- [x] first" in text and "- [ ] second" in text and "- [x] third" in text
    code, out, err = run(capsys, "-C", str(root), "tick", "small", "1.2", "--undo")
    assert code == 0 and out.splitlines() == ["[ ] 1.2 second"]
    with pytest.raises(SystemExit):
        main(["tick", "--help"])
    usage = capsys.readouterr().out.splitlines()[0]
    assert usage == "usage: phaser tick [-h] [-C DIR] [--undo] [SLUG] REF [REF ...]"


def test_redo_usage_says_one_phase(capsys):
    with pytest.raises(SystemExit):
        main(["redo", "--help"])
    assert capsys.readouterr().out.splitlines()[0] == "usage: phaser redo [options] [SLUG] N"


def test_a_plan_that_is_a_folder_is_reported_not_taken_for_no_plan(tmp_path, capsys):
    root = project(tmp_path / "p", plan=None)
    (root / "specs" / "small" / "plan.md").mkdir()
    code, out, _err = run(capsys, "-C", str(root), "validate")
    assert code == 2 and "specs/small/plan.md:1: is not a file" in out
    for args in (["tick", "1.1"], ["next", "--dry-run"], ["plan", "small", "--provider", "scripted"]):
        code, _out, err = run(capsys, "-C", str(root), *args)
        assert code == 2 and "specs/small/plan.md: is not a file" in err, (args, err)
    assert (root / "specs" / "small" / "plan.md").is_dir()


def test_plan_force_replaces_a_binary_plan_and_keeps_its_bytes(tmp_path, capsys):
    root = tmp_path / "p"
    demo.make_demo_project(root)
    plan = root / "specs" / "word-stats" / "plan.md"
    junk = b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary"
    plan.write_bytes(junk)
    script = tmp_path / "script.json"
    script.write_text(json.dumps(demo.demo_script()[:3]), encoding="utf-8")
    code, _out, err = run(capsys, "-C", str(root), "plan", "word-stats", "--script", str(script))
    assert code == 2 and plan.read_bytes() == junk  # without --force: refused, nothing written
    code, _out, err = run(capsys, "-C", str(root), "plan", "word-stats", "--script", str(script), "--force")
    assert code == 0, err
    assert plan.read_text(encoding="utf-8") == demo.PLAN
    assert (root / ".phaser" / "replaced" / "word-stats-plan.md").read_bytes() == junk


@pytest.mark.parametrize("command", [["next"], ["run"], ["plan", "small"]])
def test_an_empty_model_is_refused(tmp_path, capsys, command):
    root = project(tmp_path / "p")
    code, _out, err = run(capsys, "-C", str(root), *command, "--model", "", "--provider", "scripted")
    assert code == 2 and "--model needs a model id" in err
