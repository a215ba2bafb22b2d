"""The workflow functions the TUI stands on: run_job never raises, tick checks the text shown,
checkpoint facts come from git (with a timeout) and the journals."""

from __future__ import annotations

import pytest

from phaser.errors import EditConflict
from phaser.workflow.approval import checkpoint_facts, git_show
from phaser.workflow.edits import tick
from phaser.workflow.jobs import Job, JobKind, commit_spec, run_job, spec_dirt
from test_tui import DONE, PLAN, _git, make_project


def test_run_job_reports_a_refusal_and_an_error_without_raising(tmp_path):
    project = make_project(tmp_path)
    (tmp_path / "stray.txt").write_text("a person's work\n")
    from phaser.agent.scripted import ScriptedProvider
    from phaser.workflow.providers import RunOptions

    result = run_job(project, Job(JobKind.NEXT, "hello"), RunOptions(provider_obj=ScriptedProvider([])))
    assert result.outcome == "refused" and "uncommitted" in result.detail
    result = run_job(project, Job("plan", "nope"))
    assert result.outcome == "error" and "nope" in result.detail


def test_tick_with_the_text_shown_refuses_another_task(tmp_path):
    project = make_project(tmp_path)
    plan = tmp_path / "specs" / "hello" / "plan.md"
    before = plan.read_bytes()
    with pytest.raises(EditConflict, match="not what was shown"):
        tick(project, "hello", "1.1", True, expect_text="Some other task")
    assert plan.read_bytes() == before
    tick(project, "hello", "1.1", True, expect_text="Write `hello.txt` [with brackets]")
    assert b"- [x] Write `hello.txt`" in plan.read_bytes()


def test_checkpoint_facts_name_the_commit_and_its_stat(tmp_path):
    project = make_project(tmp_path, approval="each", plan=DONE)
    (tmp_path / "hello.txt").write_text("hello\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "phase 1: Greet\n\nPhaser-Phase: hello/1\n")
    facts = checkpoint_facts(project, "hello", 1)
    assert facts.commit and facts.title == "Greet"
    assert "hello.txt" in facts.diff_stat
    assert "took more than" in git_show(tmp_path, facts.commit, "--stat", timeout=0.000001)


def test_a_new_spec_folder_is_the_only_dirt_and_can_be_committed(tmp_path):
    project = make_project(tmp_path)
    new = tmp_path / "specs" / "greet"
    new.mkdir()
    (new / "spec.md").write_text("# Greet\n")
    (new / "plan.md").write_text(PLAN)
    assert spec_dirt(project, "greet") == ["specs/greet/plan.md", "specs/greet/spec.md"]
    (tmp_path / "stray.txt").write_text("x")
    assert spec_dirt(project, "greet") == []  # other dirt: not the spec's to commit
    (tmp_path / "stray.txt").unlink()
    commit_spec(project, "greet", spec_dirt(project, "greet"))
    assert spec_dirt(project, "greet") == []
    assert "spec: greet" in _git(tmp_path, "log", "-1", "--format=%s")


def test_hints_are_worded_with_the_tui_keys():
    from phaser.outcomes import Action, Hint
    from phaser.tui.wording import hint_words, outcome_kind

    assert hint_words(Hint(Action.RUN_PHASE, 2, "hello")).startswith("R on phase 2")
    assert hint_words(Hint(Action.APPROVE, 1, "hello")) == "a reviews it"
    assert all(hint_words(Hint(a)) for a in Action)
    assert (
        outcome_kind("approval") == "human"
        and outcome_kind("passed") == "ok"
        and outcome_kind("?") == "error"
    )
