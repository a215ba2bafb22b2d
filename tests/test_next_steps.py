"""Next steps are data: the workflow's messages name no command, each shell words the hints.

The CLI must still tell a person the exact command to type; the TUI names its key (its Pilot
tests are in test_tui.py: the stuck run, the approval checkpoint, the unverified phase)."""

from __future__ import annotations

import json

import pytest

from phaser.cli import main
from phaser.cli.hints import command, say
from phaser.outcomes import Action, Hint
from phaser.tui.wording import hint_words, with_keys
from phaser.workflow import demo
from workflow_helpers import git, phase_turns, project_with_plan

SLUG = "word-stats"


def _blocked(tmp_path):
    plan = demo.PLAN.replace(
        "difficulty: easy\n\n- [ ] Add `wordstats/core.py`",
        "difficulty: easy\nstatus: blocked\n\n- [ ] Add `wordstats/core.py`",
    )
    return project_with_plan(tmp_path / "p", plan=plan)


def test_a_blocked_line_names_the_command_in_the_cli_and_carries_the_hint_in_json(tmp_path, capsys):
    root = _blocked(tmp_path)
    assert main(["next", "-C", str(root)]) == 3
    out = capsys.readouterr().out
    detail = out.split("nothing to run in word-stats: ", 1)[1].splitlines()[0]
    assert "phase 1 is blocked" in detail and "phaser" not in detail  # the message itself names none
    assert f"next: phaser next --phase 1 {SLUG}" in out
    assert main(["next", "-C", str(root), "--dry-run"]) == 3
    assert f"next: phaser next --phase 1 {SLUG}" in capsys.readouterr().out
    assert main(["next", "-C", str(root), "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["hints"] == [{"action": "run_phase", "phase": 1, "slug": SLUG}]
    assert "phaser" not in data["reason"]


def test_refusals_name_the_exact_command_on_stderr(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    (root / "notes.txt").write_text("a person's work in progress\n")
    assert main(["next", "-C", str(root)]) == 3
    err = capsys.readouterr().err
    assert "uncommitted changes (notes.txt)" in err and f"or run phaser next {SLUG} --allow-dirty" in err
    (root / "notes.txt").unlink()
    plan = root / "specs" / SLUG / "plan.md"
    plan.write_text(plan.read_text().replace("- [ ]", "- [x]", 1))
    git(root, "commit", "-qam", "a ticked task")
    assert main(["plan", "-C", str(root)]) == 2
    err = capsys.readouterr().err
    assert f'has progress (checked tasks or notes): phaser plan {SLUG} --revise "feedback"' in err
    assert f"or force it: phaser plan {SLUG} --force" in err
    assert len(api.requests) == 0  # refused before any model call


def test_a_spec_without_a_plan_and_a_project_without_specs_say_what_to_type(tmp_path, capsys):
    root = tmp_path / "p"
    demo.make_demo_project(root)
    assert main(["next", "-C", str(root)]) == 2
    assert f"does not exist yet: phaser plan {SLUG}" in capsys.readouterr().err
    empty = tmp_path / "empty"
    assert main(["init", "-C", str(empty)]) == 0
    capsys.readouterr()
    assert main(["next", "-C", str(empty)]) == 2
    assert 'yet: phaser new "Title"' in capsys.readouterr().err


def test_an_approval_checkpoint_names_the_approve_command(tmp_path, api, capsys):
    root = project_with_plan(tmp_path / "p")
    api.set_script(phase_turns(1))
    assert main(["run", "-C", str(root), "-q", "--approve", "each"]) == 3
    out = capsys.readouterr().out
    assert "waiting for approval of phase 1" in out
    assert f"next: phaser approve {SLUG} --phase 1" in out


@pytest.mark.parametrize("action", list(Action))
def test_every_next_step_has_words_in_both_shells_and_neither_borrows_the_other(action):
    hint = Hint(action, 2, SLUG)
    cli, tui = say("it stopped", [hint]), with_keys("it stopped", [hint])
    assert cli.startswith("it stopped") and command(hint) in cli
    assert hint_words(hint)
    assert tui.startswith("it stopped")
    # the screen names keys; only what it cannot do itself is left to a shell, and says so
    if "phaser " in tui:  # a command, not phaser.toml
        assert "(in a shell)" in tui
    for flag in ("--allow-dirty", "--revise", "--phase", "phaser next", "phaser approve", "phaser plan"):
        assert flag not in tui


def test_hints_from_json_read_the_same_as_hints():
    data = Hint(Action.APPROVE, 1, SLUG).as_dict()
    assert with_keys("waiting for approval of phase 1", [data]) == (
        "waiting for approval of phase 1: press a to review it"
    )
    assert say("waiting for approval of phase 1", [data]) == (
        f"waiting for approval of phase 1: phaser approve {SLUG} --phase 1"
    )
    assert with_keys("x", [{"action": "from-a-newer-version"}]) == "x"
