"""A parallel run killed with SIGKILL in the middle of a merge, put right by whatever runs next,
`--parallel` or not: plain `phaser next` and `phaser run` take the half-merge back (keeping every
edit a person made since), merge the lanes that had finished, and go on. Then `phaser redo` on a
phase that came in as a merge commit. Real git, real pytest gates, the real anthropic SDK on the
fake Messages API, the killed run a real process."""

from __future__ import annotations

import json

import pytest

from parallel_helpers import (
    HANG_IN_MAIN_CHECKOUT,
    SLUG,
    PhaseScript,
    create,
    git,
    killed_when,
    make_project,
    module_calls,
    phase_turns,
    plan_text,
)
from phaser.cli import main

PLAN = f"specs/{SLUG}/plan.md"
pytestmark = pytest.mark.timeout(900)


def read(root, rel):
    return (root / rel).read_text(encoding="utf-8")


def turns():
    return {
        1: phase_turns(1, [*module_calls(1, "a"), create("tests/test_hang.py", HANG_IN_MAIN_CHECKOUT)]),
        2: phase_turns(2, module_calls(2, "b")),
    }


def killed_mid_merge(tmp_path, api):
    """A `phaser run --parallel 2` SIGKILLed while the gates run on phase 1's merged tree: the
    merge staged, uncommitted, MERGE_HEAD in place."""
    root = make_project(tmp_path / "p", plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`")]))
    with open(root / ".git" / "info" / "exclude", "a", encoding="utf-8") as fh:
        fh.write("hang-now\ngate-running\n")
    (root / "hang-now").write_text("x")
    head = git(root, "rev-parse", "HEAD").strip()
    api.set_script(PhaseScript(turns()))
    killed_when(
        root,
        api.base_url,
        lambda: (root / "gate-running").exists(),
        "the merged gates",
        "--parallel",
        "2",
        release=root / "hang-now",
    )
    assert (root / ".git" / "MERGE_HEAD").exists() and (root / "a.py").is_file()
    assert git(root, "rev-parse", "HEAD").strip() == head
    api.set_script(PhaseScript(turns()))  # what runs next starts from fresh turns
    return root, head


def finish_sequentially(root):
    """A plain `phaser run` takes the plan to its end: both phases ticked, no lane left."""
    assert main(["run", "-C", str(root), "-q"]) == 0
    plan = read(root, PLAN)
    assert plan.count("- [x]") == 2 and plan.count("verified") == 2
    assert not (root / ".git" / "MERGE_HEAD").exists()
    assert len(git(root, "worktree", "list").splitlines()) == 1
    assert "phaser/" not in git(root, "branch", "--list")


def test_plain_next_after_a_kill_mid_merge_takes_it_back_and_merges_the_finished_lane(tmp_path, api, capsys):
    root, head = killed_mid_merge(tmp_path, api)
    capsys.readouterr()
    assert main(["next", "-C", str(root)]) == 0
    out = capsys.readouterr().out
    assert "an interrupted merge of phaser/par/phase-1 was taken back" in out
    assert "phase 1 finished in its worktree before the interruption: merging it" in out
    # phase 1's lane was merged again, gates green on the merged tree, ticked, one merge commit
    assert git(root, "log", "-1", "--format=%s").strip() == "phase 1: Module a"
    assert git(root, "log", "-1", "--format=%P").split()[0] == head
    assert len(git(root, "log", "-1", "--format=%P").split()) == 2
    plan = read(root, PLAN)
    assert "- [x] Add `a.py`" in plan and "- [ ] Add `b.py`" in plan
    assert "verified" in plan[plan.index("## Phase 1") : plan.index("## Phase 2")]
    assert git(root, "status", "--porcelain").strip() == ""
    finish_sequentially(root)


def test_a_persons_edits_made_after_the_kill_all_survive_the_recovery(tmp_path, api, capsys):
    root, head = killed_mid_merge(tmp_path, api)
    # after the kill a person writes: notes in the spec folder (never in an agent's commit), a
    # file of their own, and a change to a.py, which only the half-merge had brought
    (root / "specs" / SLUG / "notes.md").write_text("my notes\n", encoding="utf-8")
    (root / "scratch.txt").write_text("mine\n", encoding="utf-8")
    (root / "staged.txt").write_text("staged by me\n", encoding="utf-8")
    git(root, "add", "staged.txt")  # staged on top of the half-merge: git merge --abort would drop it
    mine = "VALUE = 1\n# a person's line, written after the kill\n"
    (root / "a.py").write_text(mine, encoding="utf-8")
    capsys.readouterr()
    # a dry run foretells the refusal the run makes once the merge is taken back, and changes nothing
    assert main(["next", "-C", str(root), "--dry-run"]) == 3
    foretold = capsys.readouterr().err
    assert (root / ".git" / "MERGE_HEAD").exists()
    assert main(["next", "-C", str(root)]) == 3  # a person has to decide about their files
    captured = capsys.readouterr()
    assert captured.err == foretold
    assert "was taken back; a.py changed since the merge began and keep your version" in captured.out
    # no half-merge is left, the head is where it was, every edit of the person is there as written
    assert not (root / ".git" / "MERGE_HEAD").exists()
    assert git(root, "rev-parse", "HEAD").strip() == head
    assert read(root, "a.py") == mine and read(root, "scratch.txt") == "mine\n"
    assert read(root, f"specs/{SLUG}/notes.md") == "my notes\n"
    # the rest of the merge went back: its other files are gone, nothing of it is staged
    assert not (root / "tests" / "test_a.py").exists() and not (root / "tests" / "test_hang.py").exists()
    assert git(root, "diff", "--cached", "--name-only").strip() == "staged.txt"  # still staged, as left
    assert read(root, "staged.txt") == "staged by me\n"
    # and the refusal is the usual one line, naming the person's files
    assert (
        "uncommitted changes (" in captured.err and "a.py" in captured.err and "scratch.txt" in captured.err
    )
    # the person keeps their line elsewhere and lets the phase merge; their files stay uncommitted
    (root / "a.py").unlink()
    git(root, "rm", "-q", "--cached", "staged.txt")
    (root / "staged.txt").unlink()
    assert main(["next", "-C", str(root), "-q", "--allow-dirty"]) == 0
    assert read(root, "a.py") == "VALUE = 1\n"  # the lane's, merged and verified
    assert read(root, "scratch.txt") == "mine\n" and read(root, f"specs/{SLUG}/notes.md") == "my notes\n"
    shown = git(root, "show", "--stat", "--format=", "HEAD")
    assert "scratch.txt" not in shown and "notes.md" not in shown
    (root / "scratch.txt").unlink()
    (root / "specs" / SLUG / "notes.md").unlink()
    finish_sequentially(root)


def test_a_persons_edit_elsewhere_does_not_stop_the_recovery_or_the_run(tmp_path, api, capsys):
    root, _head = killed_mid_merge(tmp_path, api)
    (root / "specs" / SLUG / "spec.md").write_text(
        read(root, f"specs/{SLUG}/spec.md") + "\nA person's line.\n", encoding="utf-8"
    )
    capsys.readouterr()
    assert main(["run", "-C", str(root), "-q"]) == 0  # not --parallel: recovers, merges 1, runs 2
    assert read(root, f"specs/{SLUG}/spec.md").endswith("A person's line.\n")
    assert "spec.md" in git(root, "status", "--porcelain")  # still the person's, uncommitted
    plan = read(root, PLAN)
    assert plan.count("- [x]") == 2
    assert (
        not (root / ".git" / "MERGE_HEAD").exists() and len(git(root, "worktree", "list").splitlines()) == 1
    )


def test_dry_run_after_a_kill_mid_merge_does_not_refuse_what_the_run_puts_right(tmp_path, api, capsys):
    root, _head = killed_mid_merge(tmp_path, api)
    capsys.readouterr()
    assert main(["next", "-C", str(root), "--dry-run"]) == 0
    assert "first: a killed parallel run's merge is put right (" in capsys.readouterr().out
    assert main(["next", "-C", str(root), "--dry-run", "--json"]) == 0
    assert "a.py" in json.loads(capsys.readouterr().out)["half_merge"]  # what it puts back, by name
    assert (root / ".git" / "MERGE_HEAD").exists()  # a dry run changes nothing


def test_redo_of_a_phase_merged_by_a_parallel_run(tmp_path, api, capsys):
    root = make_project(tmp_path / "p", plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`")]))
    api.set_script(
        PhaseScript({1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b"))})
    )
    assert main(["run", "-C", str(root), "-q", "--parallel", "2"]) == 0
    merged_1, merged_2 = git(root, "log", "--first-parent", "-2", "--format=%H").split()[::-1]
    assert len(git(root, "log", "-1", "--format=%P", merged_2).split()) == 2  # a merge commit
    # redo the last one: back to the head before its merge, run again as a phase alone does
    api.set_script(PhaseScript({2: phase_turns(2, module_calls(2, "b", "VALUE = 2\n"))}))
    assert main(["redo", "-C", str(root), "2", "-q"]) == 0
    assert git(root, "rev-parse", "HEAD^").strip() == merged_1
    assert git(root, "log", "-1", "--format=%s").strip() == "phase 2: Module b"
    assert read(root, "b.py") == "VALUE = 2\n"
    plan = read(root, PLAN)
    phase2 = plan[plan.index("## Phase 2") :]
    assert "- [x] Add `b.py`" in phase2 and "verified" in phase2 and "redo " in phase2
    assert git(root, "show", "--format=%B", "-s", "HEAD").count(f"Phaser-Phase: {SLUG}/2") == 1
    # the first phase, merged before it, is refused without --force (a later commit builds on it)
    capsys.readouterr()
    assert main(["redo", "-C", str(root), "1", "-q"]) != 0
    assert "later commit(s) build on phase 1" in capsys.readouterr().err
    # with --force: back before phase 1's merge commit, phase 2 unticked, phase 1 run alone again
    api.set_script(PhaseScript({1: phase_turns(1, module_calls(1, "a", "VALUE = 3\n"))}))
    assert main(["redo", "-C", str(root), "1", "-q", "--force"]) == 0
    assert git(root, "rev-parse", "HEAD^").strip() == git(root, "rev-parse", f"{merged_1}^1").strip()
    assert read(root, "a.py") == "VALUE = 3\n" and not (root / "b.py").exists()
    plan = read(root, PLAN)
    assert "- [x] Add `a.py`" in plan and "- [ ] Add `b.py`" in plan and "invalidated" in plan
    assert git(root, "status", "--porcelain").strip() == ""


HOOK = """\
#!/bin/sh
# a person's hook: in the main checkout (not a worktree, whose .git is a file), while told to, it
# holds the commit, so the test can kill phaser between the tick and the merge's commit
if [ -d .git ] && [ -e hang-commit ]; then
  touch committing
  while [ -e hang-commit ]; do sleep 0.1; done
fi
"""


def test_a_kill_just_before_the_merge_commit_is_committed_next_time_without_a_persons_edits(
    tmp_path, api, capsys
):
    root = make_project(tmp_path / "p", plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`")]))
    with open(root / ".git" / "info" / "exclude", "a", encoding="utf-8") as fh:
        fh.write("hang-commit\ncommitting\n")
    hook = root / ".git" / "hooks" / "prepare-commit-msg"  # runs even with --no-verify
    hook.write_text(HOOK, encoding="utf-8")
    hook.chmod(0o755)
    (root / "hang-commit").write_text("x")
    head = git(root, "rev-parse", "HEAD").strip()
    plain = {1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b"))}
    api.set_script(PhaseScript(plain))
    killed_when(
        root,
        api.base_url,
        lambda: (root / "committing").exists(),
        "the merge's commit",
        "--parallel",
        "2",
        release=root / "hang-commit",
    )
    # killed with the gates green and the tick written: only the commit was left
    assert (root / ".git" / "MERGE_HEAD").exists() and git(root, "rev-parse", "HEAD").strip() == head
    assert "- [x] Add `a.py`" in read(root, PLAN)
    # a person stages a file of their own and edits a.py, which the merge brought
    (root / "scratch.txt").write_text("mine\n", encoding="utf-8")
    git(root, "add", "scratch.txt")
    mine = "VALUE = 1\n# the person's line\n"
    (root / "a.py").write_text(mine, encoding="utf-8")
    api.set_script(PhaseScript(plain))
    capsys.readouterr()
    assert main(["next", "-C", str(root)]) == 3  # committed; then the person's files stop the line
    captured = capsys.readouterr()
    assert "its merge was interrupted just before the commit; committed now" in captured.out
    assert "scratch.txt left as they were, not in the commit" in captured.out
    assert "uncommitted changes (" in captured.err
    # the commit is the merge as its gates saw it: a merge commit with the tick, nothing of the person's
    assert git(root, "log", "-1", "--format=%s").strip() == "phase 1: Module a"
    assert git(root, "log", "-1", "--format=%P").split()[0] == head
    assert len(git(root, "log", "-1", "--format=%P").split()) == 2
    assert git(root, "show", "HEAD:a.py") == "VALUE = 1\n"
    assert "- [x] Add `a.py`" in git(root, "show", f"HEAD:{PLAN}")
    assert "scratch.txt" not in git(root, "show", "--stat", "--format=", "HEAD")
    assert read(root, "a.py") == mine and read(root, "scratch.txt") == "mine\n"
    assert not (root / ".git" / "MERGE_HEAD").exists()
    # the person puts their files away; the run goes on with phase 2
    git(root, "checkout", "--", "a.py")
    git(root, "rm", "-q", "--cached", "--ignore-unmatch", "scratch.txt")
    (root / "scratch.txt").unlink()
    finish_sequentially(root)


def test_a_blocked_lane_keeps_its_branch_and_worktree_through_the_runs_that_follow(tmp_path, api, capsys):
    plan = plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`"), ("Module c", "Add `c.py`")])
    root = make_project(tmp_path / "p", plan)
    clash = {
        1: phase_turns(1, [*module_calls(1, "a"), create("shared.py", "WHO = 1\n")]),
        2: phase_turns(2, [*module_calls(2, "b"), create("shared.py", "WHO = 2\n")]),
        3: phase_turns(3, module_calls(3, "c")),
    }
    api.set_script(PhaseScript(clash))
    assert main(["run", "-C", str(root), "-q", "--parallel", "2"]) == 1  # phase 2 conflicted: blocked
    branch, tree = f"phaser/{SLUG}/phase-2", root / ".phaser" / "worktrees" / SLUG / "phase-2"
    assert git(root, "branch", "--list", branch).strip() and (tree / "b.py").is_file()
    assert git(root, "status", "--porcelain").strip() == ""  # phase 3's commit took the blocked note
    # the runs that follow, one phase at a time, put right nothing of it: it waits for a person
    api.set_script(PhaseScript(clash))
    for argv in (["next", "-C", str(root), "-q"], ["run", "-C", str(root), "-q"]):
        main(argv)
        assert git(root, "branch", "--list", branch).strip() and (tree / "b.py").is_file()
        assert git(root, "show", f"{branch}:shared.py") == "WHO = 2\n"
    plan = read(root, PLAN)
    assert "- [x] Add `c.py`" in plan and "- [ ] Add `b.py`" in plan and "status: blocked" in plan
    assert f".phaser/worktrees/{SLUG}/phase-2" in git(root, "worktree", "list")
