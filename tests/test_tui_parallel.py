"""The TUI during a parallel run (`[run] parallel`): every phase that runs at once shows as running,
in the plan tree and in the spec list, whether this screen runs them or another phaser does. The
real anthropic SDK against the fake Messages API, real git worktrees and a real pytest gate."""

from __future__ import annotations

import os
import signal

import pytest

from parallel_helpers import (
    SLUG,
    PhaseScript,
    git,
    make_project,
    module_calls,
    phase_turns,
    plan_text,
    run_in_background,
    split_turns,
    wait_for,
)
from phaser.tui.app import PhaserApp
from phaser.workflow.project import Project
from test_tui import wait_for as wait_in_app

pytestmark = pytest.mark.timeout(900)  # whole phases with real gates, on a busy box

PAR_TOML = "\n[run]\nparallel = 2\n"


def two_modules() -> str:
    return plan_text([("Module a", "Add `a.py`"), ("Module b", "Add `b.py`")])


def held_script() -> PhaseScript:
    """Both phases meet in their code step and then keep coding until the test lets them go."""
    script = PhaseScript(
        {1: split_turns(1, module_calls(1, "a")), 2: split_turns(2, module_calls(2, "b"))}, meet=[(1, 2)]
    )
    script.hold_at = 2
    script.hold.set()
    return script


def running(app: PhaserApp) -> set[int]:
    return {n for n, state in app.home.plan_view.states.items() if state == "running"}


def detail(app: PhaserApp) -> str:
    item = app.home.spec_list.query_one(f"#spec-{SLUG}")
    return str(item.query_one(".spec-detail").render())


async def test_this_screens_parallel_run_shows_both_phases_running(tmp_path, api):
    root = make_project(tmp_path / "p", two_modules(), extra_toml=PAR_TOML)
    script = held_script()
    api.set_script(script)
    app = PhaserApp(Project.open(root), watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.home
        await pilot.press("A")
        await wait_in_app(pilot, lambda: script.holding == {"1", "2"}, timeout=300, what="both coding")
        await wait_in_app(
            pilot,
            lambda: running(app) == {1, 2},
            timeout=60,
            what="both phases running in the tree",
        )
        await wait_in_app(pilot, lambda: "● phases 1, 2 running" in detail(app), timeout=60, what="the list")
        script.hold.clear()  # let both finish: they merge in phase order
        await wait_in_app(pilot, lambda: screen.job is None, timeout=600, what="the run's end")
        assert screen.plan_view.states == {1: "done", 2: "done"}
        assert "2/2 phases" in detail(app) and "running" not in detail(app)
    assert (root / "a.py").is_file() and (root / "b.py").is_file()


async def test_another_phasers_parallel_run_shows_every_lane_running(tmp_path, api):
    root = make_project(tmp_path / "p", two_modules(), extra_toml=PAR_TOML)
    script = held_script()
    api.set_script(script)
    proc = run_in_background(root, api.base_url)
    try:
        wait_for(lambda: script.holding == {"1", "2"}, "both phases coding")
        app = PhaserApp(Project.open(root), watch_files=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_in_app(
                pilot,
                lambda: running(app) == {1, 2},
                timeout=60,
                what="both lanes running in the tree",
            )
            assert "● phases 1, 2 running" in detail(app)
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=300) == 1  # stopped
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    # the stopped run left no worktree; the next one finishes both
    api.set_script(
        PhaseScript({1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b"))})
    )
    from phaser.cli import main

    assert main(["run", "-C", str(root), "-q"]) == 0
    assert (root / "specs" / SLUG / "plan.md").read_text(encoding="utf-8").count("- [x]") == 2


async def test_the_live_log_labels_every_line_of_a_parallel_run_with_its_phase(tmp_path, api):
    root = make_project(tmp_path / "p", two_modules(), extra_toml=PAR_TOML)
    api.set_script(
        PhaseScript({1: phase_turns(1, module_calls(1, "a")), 2: phase_turns(2, module_calls(2, "b"))})
    )
    app = PhaserApp(Project.open(root), watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.home
        await pilot.press("A")
        await wait_in_app(pilot, lambda: screen.job is not None, timeout=60, what="the run's start")
        await wait_in_app(pilot, lambda: screen.job is None, timeout=600, what="the run's end")
        lines = screen.log_pane.transcript
    # each phase's steps, tool calls, gates and outcome say whose they are, interleaved as they came
    for number, name in ((1, "a"), (2, "b")):
        mine = [line for line in lines if f"{name}.py" in line and "create" in line]
        assert len(mine) == 2 and all(line.startswith(f"[phase {number}]   ✓ ") for line in mine), lines
        assert any(line.startswith(f"[phase {number}] --- code") for line in lines), lines
        assert any(line.startswith(f"[phase {number}] === phase {number}: passed") for line in lines), lines
    # the run's own lines (which phases start together) carry no phase's label
    assert any(line.startswith("phase 1, 2: at once") for line in lines), lines
    assert (root / "a.py").is_file() and (root / "b.py").is_file()


async def test_the_tuis_next_puts_a_killed_parallel_runs_merge_right_first(tmp_path, api):
    from test_workflow_parallel_recovery import killed_mid_merge

    root, head = killed_mid_merge(tmp_path, api)  # a kill -9 mid-merge; the TUI runs one phase at a time
    app = PhaserApp(Project.open(root), watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.home
        await pilot.press("greater_than_sign")
        await wait_in_app(
            pilot,
            lambda: "phase 1: passed" in screen.log_pane.text and screen.job is None,
            timeout=600,
            what="phase 1 merged",
        )
        log = screen.log_pane.text
    assert "an interrupted merge of phaser/par/phase-1 was taken back" in log
    assert not (root / ".git" / "MERGE_HEAD").exists()
    assert git(root, "log", "-1", "--format=%s").strip() == "phase 1: Module a"
    assert git(root, "log", "-1", "--format=%P").split()[0] == head
