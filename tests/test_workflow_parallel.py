"""`phaser run --parallel N` end to end: the real anthropic SDK against the fake Messages API, real
git worktrees, a real pytest gate run in each worktree and again on the merged tree."""

from __future__ import annotations

import json
import os
import signal

import pytest

from parallel_helpers import (
    HANG_IN_MAIN_CHECKOUT,
    SLUG,
    PhaseScript,
    bash,
    create,
    git,
    killed_when,
    make_project,
    module_calls,
    phase_turns,
    plan_text,
    run_in_background,
    split_turns,
    wait_for,
)
from phaser.cli import main

PLAN = f"specs/{SLUG}/plan.md"
pytestmark = pytest.mark.timeout(900)  # whole runs of several phases, each gate a real pytest, on a busy box


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


def note(text: str) -> dict:
    return {"name": "add_note", "input": {"text": text}}


def test_a_conflicting_pair_blocks_the_second_and_keeps_the_first(tmp_path, api):
    root = make_project(tmp_path / "p", two_modules())
    script = PhaseScript(
        {
            1: phase_turns(1, [*module_calls(1, "a"), create("shared.py", "WHO = 'phase 1'\n")]),
            2: phase_turns(2, [*module_calls(2, "b"), create("shared.py", "WHO = 'phase 2'\n")]),
        },
        meet=[(1, 2)],
    )
    api.set_script(script)
    code = main(["run", "-C", str(root), "-q", "--parallel", "2"])
    assert code == 1 and script.met == {"1", "2"}
    # the first is merged, ticked and committed; the second is blocked, nothing of it merged
    assert read(root, "shared.py") == "WHO = 'phase 1'\n" and not (root / "b.py").exists()
    plan = read(root, PLAN)
    phase2 = plan[plan.index("## Phase 2") :]
    assert "- [x] Add `a.py`" in plan and "- [ ] Add `b.py`" in plan
    assert "status: blocked" in phase2 and "conflicted in shared.py" in phase2
    # its branch and worktree are kept, named in the note
    branch = f"phaser/{SLUG}/phase-2"
    assert branch in phase2 and f".phaser/worktrees/{SLUG}/phase-2" in phase2
    assert git(root, "branch", "--list", branch).strip()
    assert (root / ".phaser" / "worktrees" / SLUG / "phase-2" / "b.py").is_file()
    assert git(root, "show", f"{branch}:shared.py") == "WHO = 'phase 2'\n"
    # nothing half-merged: no merge in progress, nothing but the plan's blocked note uncommitted
    # (as when a phase alone is blocked), the head is phase 1's commit
    assert not (root / ".git" / "MERGE_HEAD").exists()
    assert git(root, "status", "--porcelain").strip() == f"M {PLAN}"
    assert git(root, "log", "-1", "--format=%s").strip() == "phase 1: Module a"


def test_a_red_gate_after_the_merge_blocks_that_phase_alone(tmp_path, api):
    plan = plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`"), ("Module c", "Add `c.py`")])
    root = make_project(tmp_path / "p", plan)
    lonely = "import os\n\n\ndef test_no_flag_b():\n    assert not os.path.exists('flag_b')\n"
    script = PhaseScript(
        {
            # green alone in each worktree, red together: phase 1's test forbids what phase 2 adds
            1: phase_turns(1, [*module_calls(1, "a"), create("tests/test_lonely.py", lonely)]),
            2: phase_turns(2, [*module_calls(2, "b"), create("flag_b", "x\n")]),
            3: phase_turns(3, module_calls(3, "c")),
        },
        meet=[(1, 2)],
    )
    api.set_script(script)
    assert main(["run", "-C", str(root), "-q", "--parallel", "3"]) == 1
    plan = read(root, PLAN)
    phase2 = plan[plan.index("## Phase 2") : plan.index("## Phase 3")]
    assert "status: blocked" in phase2 and "gates red after merging" in phase2
    # the others went on: 1 and 3 merged and ticked; nothing of 2 on the head
    assert "- [x] Add `a.py`" in plan and "- [x] Add `c.py`" in plan and "- [ ] Add `b.py`" in plan
    assert (root / "c.py").is_file() and not (root / "flag_b").exists()
    assert not (root / ".git" / "MERGE_HEAD").exists()
    assert git(root, "status", "--porcelain").strip() == ""  # phase 3's commit took the plan's note
    assert git(root, "branch", "--list", f"phaser/{SLUG}/phase-2").strip()


def test_notes_of_both_phases_and_a_persons_save_mid_wave_are_all_kept(tmp_path, api):
    root = make_project(tmp_path / "p", two_modules())
    plan_path = root / PLAN
    script = PhaseScript(
        {
            1: phase_turns(1, [note("phase one was here"), *module_calls(1, "a")]),
            2: phase_turns(2, [note("phase two was here"), *module_calls(2, "b")]),
        },
        meet=[(1, 2)],
    )
    saved = []

    def person_saves(phase: str, n: int) -> None:
        if phase == "2" and n == 1:  # both phases are running: the person saves the plan
            text = plan_path.read_text(encoding="utf-8")
            plan_path.write_text(text.replace("# Par\n", "# Par\n\nA person's line.\n", 1), encoding="utf-8")
            saved.append(True)

    script.hook = lambda phase, n: person_saves(phase, n)
    api.set_script(script)
    assert main(["run", "-C", str(root), "-q", "--parallel", "2"]) == 0
    plan = read(root, PLAN)
    assert saved and "A person's line." in plan
    assert "agent: phase one was here" in plan and "agent: phase two was here" in plan
    assert plan.count("- [x]") == 2
    # the worktrees' copies of the plan were never where edits landed: the commits hold the one plan
    assert "A person's line." in git(root, "show", f"HEAD:{PLAN}")


def worktree_count(root) -> int:
    return len(git(root, "worktree", "list").splitlines())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_mid_wave_stops_every_phase_and_the_next_run_finishes(tmp_path, api, sig, capsys):
    root = make_project(tmp_path / "p", two_modules())
    head = git(root, "rev-parse", "HEAD").strip()
    script = PhaseScript(
        {1: split_turns(1, module_calls(1, "a")), 2: split_turns(2, module_calls(2, "b"))}, meet=[(1, 2)]
    )
    script.hold_at = 2  # both have written their modules and are still coding
    script.hold.set()
    api.set_script(script)
    proc = run_in_background(root, api.base_url, "--parallel", "2")
    try:
        wait_for(lambda: script.holding == {"1", "2"}, "both phases coding")
        # status shows every running phase, in words and as JSON
        capsys.readouterr()
        assert main(["status", "-C", str(root)]) == 0
        shown = capsys.readouterr().out
        assert f"phase 1 is running in phaser/{SLUG}/phase-1" in shown
        assert f"phase 2 is running in phaser/{SLUG}/phase-2" in shown
        main(["status", "-C", str(root), "--json"])
        data = json.loads(capsys.readouterr().out)
        plan_status = data[0] if isinstance(data, list) else data["plans"][0]
        assert plan_status["state"] == "running"
        assert [lane["phase"] for lane in plan_status["active"]["lanes"]] == [1, 2]
        proc.send_signal(sig)
        assert proc.wait(timeout=300) == 1  # stopped
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    log = (tmp_path / "run.log").read_text(encoding="utf-8")
    assert "phase 1: stopped" in log and "phase 2: stopped" in log
    # the live output said which phases run at once and whose lines follow as it switched
    assert "phase 1, 2: at once, each in its own git worktree" in log
    assert "[phase 1]" in log and "[phase 2]" in log
    # nothing merged, nothing ticked, no worktree left; what each had done is kept as a patch
    assert git(root, "rev-parse", "HEAD").strip() == head
    assert "- [x]" not in read(root, PLAN) and worktree_count(root) == 1
    patches = sorted((root / ".phaser" / "runs" / SLUG).rglob("lane-*.patch"))
    assert len(patches) == 2 and any("a.py" in p.read_text() for p in patches)
    # the next run starts both again and merges them
    api.set_script(
        PhaseScript({1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b"))})
    )
    assert main(["run", "-C", str(root), "-q", "--parallel", "2"]) == 0
    assert read(root, PLAN).count("- [x]") == 2 and worktree_count(root) == 1


def test_kill_9_mid_wave_resumes_cleanly(tmp_path, api, capsys):
    root = make_project(tmp_path / "p", two_modules())
    script = PhaseScript(
        {1: split_turns(1, module_calls(1, "a")), 2: split_turns(2, module_calls(2, "b"))}, meet=[(1, 2)]
    )
    script.hold_at = 2  # both have written their modules and are still coding
    script.hold.set()
    api.set_script(script)
    killed_when(root, api.base_url, lambda: script.holding == {"1", "2"}, "both coding", "--parallel", "2")
    assert worktree_count(root) == 3  # both worktrees are left behind, mid-phase
    assert (root / ".phaser" / "worktrees" / SLUG / "phase-1" / "a.py").is_file()
    api.set_script(
        PhaseScript({1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b"))})
    )
    assert main(["run", "-C", str(root), "--parallel", "2"]) == 0
    out = capsys.readouterr().out
    assert "phase 1 was cut off in its worktree" in out and "phase 2 was cut off in its worktree" in out
    patches = sorted((root / ".phaser" / "runs" / SLUG).rglob("lane-*.patch"))
    assert len(patches) == 2 and any("b.py" in p.read_text() for p in patches)
    assert read(root, PLAN).count("- [x]") == 2 and worktree_count(root) == 1
    assert "phaser/" not in git(root, "branch", "--list")
    assert git(root, "status", "--porcelain").strip() == ""


def test_kill_9_during_a_merge_leaves_nothing_half_merged(tmp_path, api):
    root = make_project(tmp_path / "p", two_modules())
    with open(root / ".git" / "info" / "exclude", "a", encoding="utf-8") as fh:
        fh.write("hang-now\ngate-running\n")
    (root / "hang-now").write_text("x")
    head = git(root, "rev-parse", "HEAD").strip()
    turns = {
        1: phase_turns(1, [*module_calls(1, "a"), create("tests/test_hang.py", HANG_IN_MAIN_CHECKOUT)]),
        2: phase_turns(2, module_calls(2, "b")),
    }
    api.set_script(PhaseScript(turns))
    proc = run_in_background(root, api.base_url, "--parallel", "2")
    try:
        wait_for(lambda: (root / "gate-running").exists(), "the gates on the merged tree")
        assert (root / ".git" / "MERGE_HEAD").exists()  # killed with the merge staged, uncommitted
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        (root / "hang-now").unlink()  # the orphaned gate ends too
    assert git(root, "rev-parse", "HEAD").strip() == head
    api.set_script(PhaseScript(turns))
    assert main(["run", "-C", str(root), "-q", "--parallel", "2"]) == 0
    # the interrupted merge was aborted and done again: one merge commit per phase on the head
    assert not (root / ".git" / "MERGE_HEAD").exists()
    log = git(root, "log", "--first-parent", "--format=%s %P").splitlines()
    assert [line.split(" ", 1)[0] for line in log[:2]] == ["phase", "phase"]
    assert log[0].startswith("phase 2: Module b") and log[1].startswith("phase 1: Module a")
    assert all(len(line.split("  ")[-1].split()) >= 1 for line in log[:2])
    assert read(root, PLAN).count("- [x]") == 2 and worktree_count(root) == 1
    assert git(root, "status", "--porcelain").strip() == ""


def test_a_lane_cannot_plant_git_hooks_config_or_a_new_git_link(tmp_path, api):
    root = make_project(tmp_path / "p", two_modules())
    config_before = read(root, ".git/config")
    hooks = root / ".git" / "hooks"
    attacks = [
        bash("printf 'gitdir: /tmp/evil\\n' > .git"),  # point git at planted hooks and config
        bash(f"printf '#!/bin/sh\\ntouch pwned\\n' > {hooks}/post-merge; chmod +x {hooks}/post-merge"),
        bash("git config core.hooksPath /tmp/evil-hooks"),  # the shared config, via the worktree
        bash("git config --worktree core.fsmonitor 'touch pwned'"),
    ]
    script = PhaseScript(
        {
            1: phase_turns(1, [*attacks, *module_calls(1, "a")]),
            2: phase_turns(2, module_calls(2, "b")),
        }
    )
    api.set_script(script)
    assert main(["run", "-C", str(root), "-q", "--parallel", "2"]) == 0
    # every attempt was refused by the confinement: the main .git is outside the lane's writable
    # root, and the worktree's .git link is read-only
    assert not (hooks / "post-merge").exists() and not (root / "pwned").exists()
    assert read(root, ".git/config") == config_before
    assert "hooksPath" not in git(root, "config", "--list", "--show-origin")
    assert read(root, PLAN).count("- [x]") == 2
