"""The TUI driven through Textual's Pilot: real workflow, scripted or fake-API models, real files."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from textual.widgets import Button, Input

from phaser.agent.scripted import ScriptedProvider
from phaser.events import PhaseFinished, StepStarted, TextDelta
from phaser.tui.app import PhaserApp
from phaser.tui.checkpoint import CheckpointScreen
from phaser.tui.confirm import ConfirmScreen
from phaser.tui.costs import CostsScreen
from phaser.tui.home import HomeScreen
from phaser.tui.prompt import PromptScreen
from phaser.tui.spec_item import SpecItem
from phaser.workflow.project import Project

PLAN = """\
---
title: Hello world
spec: spec.md
format: 1
---

# Hello world

## Overview
Two tiny phases.

## Phase 1: Greet
difficulty: easy

- [ ] Write `hello.txt` [with brackets]
- [ ] Say hello in it

## Phase 2: Wave
difficulty: easy
depends: 1

- [ ] Write `wave.txt`
"""

SPEC = """\
---
title: Hello world
---

# Hello world

Write hello.txt, then wave.txt.
"""

DUPLICATE = """\
---
title: Duplicate
---

# Broken

## Phase 1: Fine
difficulty: easy

- [ ] a task

## Phase 1: Twice
difficulty: easy

- [ ] another
"""

BROKEN = "---\ntitle: [Broken\n---\n\n# Broken\n"

GATE = f"{sys.executable} -c \"import pathlib, sys; sys.exit(0 if pathlib.Path('hello.txt').is_file() else 1)\""


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def make_project(root: Path, *, approval: str = "never", plan: str | None = PLAN, extra: dict[str, str] | None = None) -> Project:
    (root / "specs" / "hello").mkdir(parents=True)
    (root / "specs" / "hello" / "spec.md").write_text(SPEC, encoding="utf-8")
    if plan is not None:
        (root / "specs" / "hello" / "plan.md").write_text(plan, encoding="utf-8")
    for rel, text in (extra or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "phaser.toml").write_text(
        f"[gates]\ncommands = [{json.dumps(GATE)}]\nfix_attempts = 0\n\n[models]\nescalate = false\n\n"
        f"[approval]\npolicy = \"{approval}\"\n",
        encoding="utf-8",
    )
    (root / ".gitignore").write_text(".phaser/\nspecs/**/.*.lock\n", encoding="utf-8")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "start")
    return Project.open(root)


def _finish(summary: str) -> dict:
    return {"name": "finish_step", "input": {"summary": summary}}


def phase1_turns() -> list[dict]:
    """Explore, code (writes hello.txt), update (claims both tasks)."""
    return [
        {"text": "Looking around first.", "tool_calls": [_finish("Write hello.txt.")]},
        {"text": "Writing the file.", "tool_calls": [
            {"name": "str_replace_based_edit_tool", "input": {"command": "create", "path": "hello.txt", "file_text": "hello\n"}},
            _finish("hello.txt written."),
        ]},
        {"tool_calls": [
            {"name": "claim_task", "input": {"ref": "1.1", "evidence": "the gate sees hello.txt"}},
            {"name": "claim_task", "input": {"ref": "1.2", "evidence": "it says hello"}},
        ]},
        {"tool_calls": [_finish("Phase 1 done.")]},
    ]


async def wait_for(pilot, predicate, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def home(app: PhaserApp) -> HomeScreen:
    return app.home


def phase_state(app: PhaserApp, number: int) -> str:
    return home(app).plan_view.states.get(number, "")


def task_labels(app: PhaserApp) -> list[str]:
    tree = home(app).plan_view.tree
    return [str(child.label) for phase in tree.root.children for child in phase.children if child.data.kind == "task"]


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- opening a project --------------------------------------------------------------------------


async def test_opens_project_lists_specs_and_shows_bad_plans_as_errors(tmp_path):
    project = make_project(tmp_path, extra={"specs/broken/plan.md": BROKEN, "specs/idea/spec.md": "# An idea\n",
                                                  "specs/twice/plan.md": DUPLICATE})
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        items = list(screen.query(SpecItem))
        assert [i.slug for i in items] == ["broken", "hello", "idea", "twice"]
        broken = items[0]
        assert broken.has_class("-error")
        detail = str(broken.query_one(".spec-detail").render())
        assert "specs/broken/plan.md:" in detail  # file:line
        assert re.match(r"specs/broken/plan\.md:\d+: invalid YAML", broken.status.error)
        # the first spec is selected: its error is on the plan side too, nothing crashed
        assert screen.plan_view.error == broken.status.error
        assert screen.plan_view.plan is None

        await pilot.press("down")
        await wait_for(pilot, lambda: screen.plan_view.info is not None and screen.plan_view.info.slug == "hello", what="hello selected")
        assert screen.plan_view.error is None
        assert screen.plan_view.states == {1: "next", 2: "pending"}
        assert "0/2 phases" in str(items[1].query_one(".spec-detail").render())
        labels = task_labels(app)
        assert labels[0] == "[ ] 1.1  Write `hello.txt` [with brackets]"  # brackets survive: no markup

        await pilot.press("down")
        await wait_for(pilot, lambda: screen.plan_view.info.slug == "idea", what="idea selected")
        assert "no plan yet" in screen.plan_view.error

        # a plan that parses but breaks the format: shown, with its problems as warnings
        await pilot.press("down")
        await wait_for(pilot, lambda: screen.plan_view.info.slug == "twice", what="twice selected")
        assert screen.plan_view.error is None and screen.plan_view.plan is not None
        assert screen.plan_view.problems == ["specs/twice/plan.md:12: duplicate phase number 1 (also on line 7)"]
        await pilot.press("up")

        # the markdown toggle renders the file
        await pilot.press("up")
        await wait_for(pilot, lambda: screen.plan_view.info.slug == "hello", what="hello again")
        screen.plan_view.tree.focus()
        await pilot.press("m")
        assert screen.plan_view.showing_markdown
        await pilot.pause()
        await pilot.press("m")
        assert not screen.plan_view.showing_markdown


async def test_renders_at_80x24_and_120x40_in_dark_and_light(tmp_path):
    project = make_project(tmp_path, approval="each", extra={"specs/broken/plan.md": BROKEN})
    for size in ((80, 24), (120, 40)):
        app = PhaserApp(project, watch_files=False)
        async with app.run_test(size=size) as pilot:
            for theme in ("textual-dark", "textual-light"):
                app.theme = theme
                await pilot.pause()
                await pilot.press("m")
                await pilot.pause()
                await pilot.press("m")
                await pilot.press("c")
                await wait_for(pilot, lambda app=app: isinstance(app.screen, CostsScreen), what="costs")
                await pilot.pause()
                await pilot.press("escape")
                await wait_for(pilot, lambda app=app: isinstance(app.screen, HomeScreen), what="back home")
            app.save_screenshot(str(tmp_path / f"home-{size[0]}.svg"))
            app.push_screen(CheckpointScreen(home(app).checkpoint_info("hello", 1, "Greet", ["a note [x]"])))
            await pilot.pause()
            app.save_screenshot(str(tmp_path / f"checkpoint-{size[0]}.svg"))
            assert "a note [x]" in str(app.screen.query_one("#checkpoint-notes").render())
            await pilot.press("escape")
            await pilot.pause()


# -- editing tasks ------------------------------------------------------------------------------


async def test_toggling_a_task_changes_exactly_that_checkbox(tmp_path):
    project = make_project(tmp_path)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    original = plan_path.read_bytes()
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        tree = screen.plan_view.tree
        tree.focus()
        assert tree.cursor_to("task:1:1.1:0")
        await pilot.press("x")
        await wait_for(pilot, lambda: plan_path.read_bytes() != original, what="the tick on disk")
        expected = original.replace(b"- [ ] Write `hello.txt`", b"- [x] Write `hello.txt`", 1)
        assert plan_path.read_bytes() == expected
        await wait_for(pilot, lambda: task_labels(app)[0].startswith("[x] 1.1"), what="the tick on screen")
        assert tree.cursor_node.data.ref == "1.1"  # the cursor stayed on the task

        # a click on task 1.2 ticks it too
        line = screen.plan_view.tree.task_node("1.2").line
        await pilot.click("#plan-tree", offset=(10, line - tree.scroll_offset.y))
        await wait_for(pilot, lambda: b"- [x] Say hello" in plan_path.read_bytes(), what="the click tick")
        await wait_for(pilot, lambda: phase_state(app, 1) == "done", what="phase 1 done")

        # and back again: the file is byte-identical to where it started
        assert tree.cursor_to("task:1:1.1:0")
        await pilot.press("space")
        await wait_for(pilot, lambda: b"- [ ] Write" in plan_path.read_bytes(), what="untick 1.1")
        assert tree.cursor_to("task:1:1.2:0")
        await pilot.press("enter")
        await wait_for(pilot, lambda: plan_path.read_bytes() == original, what="the file back to its bytes")

        # the file moved on behind the screen's back (no watcher here): a toggle never ticks another task
        assert tree.cursor_to("task:1:1.1:0")
        changed = original.replace(b"- [ ] Write `hello.txt` [with brackets]\n", b"- [ ] A new first task\n- [ ] Write `hello.txt` [with brackets]\n")
        atomic_write(plan_path, changed.decode())
        reloads = screen.reloads
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.reloads > reloads, what="the reload")
        assert plan_path.read_bytes() == changed
        assert task_labels(app)[0] == "[ ] 1.1  A new first task"


async def test_an_external_edit_appears_on_screen_keeping_the_selection(tmp_path):
    project = make_project(tmp_path, extra={"specs/other/spec.md": "# Other\n"})
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    app = PhaserApp(project, debounce_s=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        await wait_for(pilot, lambda: screen.watcher is not None, what="the watcher")
        assert screen.spec_list.selected == "hello"
        tree = screen.plan_view.tree
        assert tree.cursor_to("task:1:1.2:0")
        text = plan_path.read_text(encoding="utf-8")
        atomic_write(plan_path, text.replace("- [ ] Say hello in it", "- [x] Say hello in it").replace("## Phase 2: Wave", "## Phase 2: Wave goodbye"))
        await wait_for(pilot, lambda: "[x] 1.2  Say hello in it" in task_labels(app), what="the external edit", timeout=10)
        assert screen.spec_list.selected == "hello"
        assert tree.cursor_node.data.ref == "1.2"
        assert "Wave goodbye" in str(tree.root.children[1].label)

        # a broken save shows the error, a fixed save brings the plan back
        atomic_write(plan_path, BROKEN)
        await wait_for(pilot, lambda: screen.plan_view.error is not None, what="the parse error")
        assert "plan.md:" in screen.plan_view.error
        atomic_write(plan_path, text)
        await wait_for(pilot, lambda: screen.plan_view.error is None and screen.plan_view.plan is not None, what="the plan back")


# -- runs ---------------------------------------------------------------------------------------


async def test_a_phase_runs_end_to_end_through_the_fake_messages_api(tmp_path, fake_api, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    fake_api.set_script(phase1_turns())
    project = make_project(tmp_path)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    messages = []
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        screen = home(app)
        await pilot.press("g")
        await wait_for(pilot, lambda: screen.job is None and screen.run_status.has_class("-ok"), what="the run to end", timeout=30)
        log = screen.log_pane.text
        for expected in ("--- explore", "Looking around first.", "--- code", "create hello.txt", "✓ gate", "=== phase 1: passed"):
            assert expected in log, (expected, log)
        assert "passed" in screen.run_status.message and "$" in screen.run_status.message
        assert phase_state(app, 1) == "done" and phase_state(app, 2) == "next"
        assert task_labels(app)[:2] == ["[x] 1.1  Write `hello.txt` [with brackets]", "[x] 1.2  Say hello in it"]
        on_disk = plan_path.read_text(encoding="utf-8")
        assert "- [x] Write `hello.txt` [with brackets]" in on_disk and "- [x] Say hello in it" in on_disk
        assert (tmp_path / "hello.txt").read_text() == "hello\n"
        assert "Phaser-Phase: hello/1" in _git(tmp_path, "log", "-1", "--format=%B")
        events = [m.event for m in messages if isinstance(m, HomeScreen.RunEvent)]
        assert any(isinstance(e, StepStarted) for e in events) and any(isinstance(e, TextDelta) for e in events)
        assert [e.outcome for e in events if isinstance(e, PhaseFinished)] == ["passed"]
        assert [m.outcome for m in messages if isinstance(m, HomeScreen.JobEnded)] == ["passed"]

        # the costs view shows the run
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CostsScreen), what="costs")
        table = app.screen.query_one("#costs-table")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert any(r[0] == "hello" and r[1] == "1" and r[2] == "claude-haiku-5-5" and r[-1].startswith("$") for r in rows)


async def test_stopping_a_run_midway_ends_it_cleanly_and_the_app_stays_responsive(tmp_path):
    project = make_project(tmp_path)
    entered, release = threading.Event(), threading.Event()
    turns = phase1_turns()

    def script(request: dict) -> dict:
        n = len([m for m in request["messages"] if m["role"] == "assistant"])
        if n == 0:
            entered.set()
            release.wait(10)
        return turns[min(n, len(turns) - 1)]

    app = PhaserApp(project, provider=ScriptedProvider(script), watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        await pilot.press("g")
        await wait_for(pilot, entered.is_set, what="the model call")
        await wait_for(pilot, lambda: phase_state(app, 1) == "running", what="phase 1 running")
        # the interface is not frozen while the worker waits on the model
        await pilot.press("m")
        assert screen.plan_view.showing_markdown
        await pilot.press("m")
        await pilot.press("s")
        assert "stopping" in screen.run_status.message
        release.set()
        await wait_for(pilot, lambda: screen.job is None, what="the run to end")
        assert "stopped" in screen.run_status.message
        assert "=== phase 1: stopped" in screen.log_pane.text
        assert phase_state(app, 1) == "next"  # resumable, not done, not running
        assert not (tmp_path / "hello.txt").exists()
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CostsScreen), what="the app still answers")


async def test_approve_at_the_checkpoint_after_a_run(tmp_path):
    project = make_project(tmp_path, approval="each")
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    app = PhaserApp(project, provider=ScriptedProvider(phase1_turns()), watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        await pilot.press("G")  # run all: stops at the checkpoint after phase 1
        await wait_for(pilot, lambda: isinstance(app.screen, CheckpointScreen), what="the checkpoint", timeout=30)
        assert "approval" in screen.run_status.message
        assert phase_state(app, 1) == "waiting"
        dialog = app.screen
        assert "hello.txt" in str(dialog.query_one("#checkpoint-diff").render())
        assert "✓" in str(dialog.query_one("#checkpoint-gates").render())
        assert "verified" in str(dialog.query_one("#checkpoint-notes").render())
        await pilot.click("#checkpoint-approve")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="the dialog to close")
        await wait_for(pilot, lambda: phase_state(app, 1) == "done", what="approved on screen")
        assert "approved:" in plan_path.read_text(encoding="utf-8").split("## Phase 2")[0]


async def test_reject_with_feedback_reopens_the_phase(tmp_path):
    done = PLAN.replace("- [ ] Write `hello.txt` [with brackets]", "- [x] Write `hello.txt` [with brackets]").replace(
        "- [ ] Say hello in it", "- [x] Say hello in it")
    project = make_project(tmp_path, approval="each", plan=done)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        assert phase_state(app, 1) == "waiting"
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, CheckpointScreen), what="the checkpoint")
        await pilot.click("#checkpoint-reject")  # no feedback yet: the dialog stays
        await pilot.pause()
        assert isinstance(app.screen, CheckpointScreen)
        app.screen.query_one("#checkpoint-feedback", Input).value = "Say [hello] louder"
        button = app.screen.query_one("#checkpoint-reject", Button)
        await wait_for(pilot, lambda: not button.has_class("-active"), what="the button's press effect to end")
        await pilot.click("#checkpoint-reject")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="the dialog to close")
        await wait_for(pilot, lambda: phase_state(app, 1) == "next", what="phase 1 open again")
        text = plan_path.read_text(encoding="utf-8")
        assert "- [ ] Address review feedback: Say [hello] louder" in text
        assert "rejected" in text
        assert "[ ] 1.3  Address review feedback: Say [hello] louder" in task_labels(app)
        assert "rejected" in screen.log_pane.text


# -- writing a spec and planning it -------------------------------------------------------------


async def test_new_spec_opens_the_editor_then_plans_it_and_revises(tmp_path):
    project = make_project(tmp_path, plan=None)
    edited = []

    def editor(path: Path) -> None:
        edited.append(path)
        path.write_text(SPEC.replace("Hello world", "Greeter"), encoding="utf-8")

    greeter_plan = PLAN.replace("Hello world", "Greeter")
    revised = greeter_plan.replace("## Phase 2: Wave", "## Phase 2: Wave twice")
    provider = ScriptedProvider([{"text": greeter_plan}, {"text": revised}])
    app = PhaserApp(project, provider=provider, editor=editor, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the title prompt")
        await pilot.press(*"Greeter", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="plan it now?")
        assert edited == [tmp_path / "specs" / "greeter" / "spec.md"]
        assert screen.spec_list.selected == "greeter"
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: screen.job is None and screen.plan_view.plan is not None, what="the plan", timeout=20)
        assert (tmp_path / "specs" / "greeter" / "plan.md").read_text(encoding="utf-8") == greeter_plan
        assert "planned" in screen.run_status.message
        assert "--- plan" in screen.log_pane.text

        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the feedback prompt")
        await pilot.press(*"twice", "enter")
        await wait_for(pilot, lambda: screen.job is None and "Wave twice" in str(screen.plan_view.tree.root.children[1].label),
                       what="the revised plan", timeout=20)


async def test_command_palette_offers_the_screen_actions(tmp_path):
    project = make_project(tmp_path)
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("New spec", "Plan it", "Next phase", "Run all phases", "Costs", "Markdown view", "Revise the plan"):
            assert title in titles
        assert "Stop the run" not in titles  # nothing runs
        assert "Approve or reject a phase" not in titles  # nothing waits
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Costs")
        await command.callback()
        await wait_for(pilot, lambda: isinstance(app.screen, CostsScreen), what="costs via the palette")
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CommandPalette"
        await pilot.press(*"Costs")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CostsScreen), what="costs via typing in the palette")
