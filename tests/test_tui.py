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

import pytest
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
from workflow_helpers import git

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

GATE = (
    f"{sys.executable} -c \"import pathlib, sys; sys.exit(0 if pathlib.Path('hello.txt').is_file() else 1)\""
)


@pytest.fixture(autouse=True)
def _user_config(tmp_path, monkeypatch):
    """The TUI keeps the person's theme under $XDG_CONFIG_HOME: never the real one in tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


_git = git  # the name the TUI test files import


def make_project(
    root: Path, *, approval: str = "never", plan: str | None = PLAN, extra: dict[str, str] | None = None
) -> Project:
    (root / "specs" / "hello").mkdir(parents=True)
    (root / "specs" / "hello" / "spec.md").write_text(SPEC, encoding="utf-8")
    if plan is not None:
        (root / "specs" / "hello" / "plan.md").write_text(plan, encoding="utf-8")
    for rel, text in (extra or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "phaser.toml").write_text(
        f"[gates]\ncommands = [{json.dumps(GATE)}]\nfix_attempts = 0\n\n[models]\nescalate = false\n\n"
        f'[approval]\npolicy = "{approval}"\n',
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
        {
            "text": "Writing the file.",
            "tool_calls": [
                {
                    "name": "str_replace_based_edit_tool",
                    "input": {"command": "create", "path": "hello.txt", "file_text": "hello\n"},
                },
                _finish("hello.txt written."),
            ],
        },
        {
            "tool_calls": [
                {"name": "claim_task", "input": {"ref": "1.1", "evidence": "the gate sees hello.txt"}},
                {"name": "claim_task", "input": {"ref": "1.2", "evidence": "it says hello"}},
            ]
        },
        {"tool_calls": [_finish("Phase 1 done.")]},
    ]


async def wait_for(pilot, predicate, timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def checkpoint_shown(app: PhaserApp) -> bool:
    """The checkpoint dialog is the screen and composed (pushed is not yet mounted on a busy box)."""
    return isinstance(app.screen, CheckpointScreen) and bool(app.screen.query("#checkpoint-approve"))


def home(app: PhaserApp) -> HomeScreen:
    return app.home


def phase_state(app: PhaserApp, number: int) -> str:
    return home(app).plan_view.states.get(number, "")


def task_labels(app: PhaserApp) -> list[str]:
    tree = home(app).plan_view.plan_tree
    return [
        str(child.label)
        for phase in tree.root.children
        for child in phase.children
        if child.data.kind == "task"
    ]


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- opening a project --------------------------------------------------------------------------


async def test_opens_project_lists_specs_and_shows_bad_plans_as_errors(tmp_path):
    project = make_project(
        tmp_path,
        extra={
            "specs/broken/plan.md": BROKEN,
            "specs/idea/spec.md": "# An idea\n",
            "specs/twice/plan.md": DUPLICATE,
        },
    )
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
        await wait_for(
            pilot,
            lambda: screen.plan_view.info is not None and screen.plan_view.info.slug == "hello",
            what="hello selected",
        )
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
        assert screen.plan_view.problems == [
            "specs/twice/plan.md:12: duplicate phase number 1 (also on line 7)"
        ]
        await pilot.press("up")

        # the markdown toggle renders the file
        await pilot.press("up")
        await wait_for(pilot, lambda: screen.plan_view.info.slug == "hello", what="hello again")
        screen.plan_view.plan_tree.focus()
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
        tree = screen.plan_view.plan_tree
        tree.focus()
        assert tree.cursor_to("task:1:1.1:0")
        await pilot.press("x")
        await wait_for(pilot, lambda: plan_path.read_bytes() != original, what="the tick on disk")
        expected = original.replace(b"- [ ] Write `hello.txt`", b"- [x] Write `hello.txt`", 1)
        assert plan_path.read_bytes() == expected
        await wait_for(pilot, lambda: task_labels(app)[0].startswith("[x] 1.1"), what="the tick on screen")
        assert tree.cursor_node.data.ref == "1.1"  # the cursor stayed on the task

        # a click on task 1.2 only selects it (its details show); x ticks it
        line = screen.plan_view.plan_tree.task_node("1.2").line
        await pilot.click("#plan-tree", offset=(10, line - tree.scroll_offset.y))
        await wait_for(pilot, lambda: "Say hello in it" in screen.detail.text, what="the detail pane")
        assert tree.cursor_node.data.ref == "1.2"
        assert b"- [ ] Say hello" in plan_path.read_bytes()
        await pilot.press("x")
        await wait_for(pilot, lambda: b"- [x] Say hello" in plan_path.read_bytes(), what="the x tick")
        await wait_for(pilot, lambda: phase_state(app, 1) == "done", what="phase 1 done")

        # and back again: the file is byte-identical to where it started
        assert tree.cursor_to("task:1:1.1:0")
        await pilot.press("space")
        await wait_for(pilot, lambda: b"- [ ] Write" in plan_path.read_bytes(), what="untick 1.1")
        assert tree.cursor_to("task:1:1.2:0")
        await pilot.press("enter")  # selects: no write
        await pilot.pause()
        assert b"- [x] Say hello" in plan_path.read_bytes()
        await pilot.press("x")
        await wait_for(pilot, lambda: plan_path.read_bytes() == original, what="the file back to its bytes")

        # the file moved on behind the screen's back (no watcher here): a toggle never ticks another task
        assert tree.cursor_to("task:1:1.1:0")
        changed = original.replace(
            b"- [ ] Write `hello.txt` [with brackets]\n",
            b"- [ ] A new first task\n- [ ] Write `hello.txt` [with brackets]\n",
        )
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
        tree = screen.plan_view.plan_tree
        assert tree.cursor_to("task:1:1.2:0")
        text = plan_path.read_text(encoding="utf-8")
        atomic_write(
            plan_path,
            text.replace("- [ ] Say hello in it", "- [x] Say hello in it").replace(
                "## Phase 2: Wave", "## Phase 2: Wave goodbye"
            ),
        )
        await wait_for(
            pilot,
            lambda: "[x] 1.2  Say hello in it" in task_labels(app),
            what="the external edit",
            timeout=10,
        )
        assert screen.spec_list.selected == "hello"
        assert tree.cursor_node.data.ref == "1.2"
        assert "Wave goodbye" in str(tree.root.children[1].label)

        # a broken save shows the error, a fixed save brings the plan back
        atomic_write(plan_path, BROKEN)
        await wait_for(pilot, lambda: screen.plan_view.error is not None, what="the parse error")
        assert "plan.md:" in screen.plan_view.error
        atomic_write(plan_path, text)
        await wait_for(
            pilot,
            lambda: screen.plan_view.error is None and screen.plan_view.plan is not None,
            what="the plan back",
        )


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
        await pilot.press(">")
        await wait_for(
            pilot,
            lambda: screen.job is None and screen.run_status.has_class("-ok"),
            what="the run to end",
            timeout=30,
        )
        log = screen.log_pane.text
        for expected in (
            "--- explore",
            "Looking around first.",
            "--- code",
            "create hello.txt",
            "✓ gate",
            "=== phase 1: passed",
        ):
            assert expected in log, (expected, log)
        assert "passed" in screen.run_status.message and "$" in screen.run_status.message
        assert phase_state(app, 1) == "done" and phase_state(app, 2) == "next"
        assert task_labels(app)[:2] == [
            "[x] 1.1  Write `hello.txt` [with brackets]",
            "[x] 1.2  Say hello in it",
        ]
        on_disk = plan_path.read_text(encoding="utf-8")
        assert "- [x] Write `hello.txt` [with brackets]" in on_disk and "- [x] Say hello in it" in on_disk
        assert (tmp_path / "hello.txt").read_text() == "hello\n"
        assert "Phaser-Phase: hello/1" in _git(tmp_path, "log", "-1", "--format=%B")
        events = [m.event for m in messages if isinstance(m, HomeScreen.RunEvent)]
        assert any(isinstance(e, StepStarted) for e in events) and any(
            isinstance(e, TextDelta) for e in events
        )
        assert [e.outcome for e in events if isinstance(e, PhaseFinished)] == ["passed"]
        assert [m.outcome for m in messages if isinstance(m, HomeScreen.JobEnded)] == ["passed"]

        # the costs view shows the run
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CostsScreen), what="costs")
        table = app.screen.query_one("#costs-table")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert any(
            r[0] == "hello" and r[1] == "1" and r[3] == "claude-haiku-5-5" and r[2].startswith("$")
            for r in rows
        )


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
        await pilot.press(">")
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
        await pilot.press("A")  # run all: stops at the checkpoint after phase 1
        await wait_for(pilot, lambda: checkpoint_shown(app), what="the checkpoint", timeout=30)
        assert "approval" in screen.run_status.message
        assert phase_state(app, 1) == "waiting"
        dialog = app.screen
        assert "hello.txt" in str(dialog.query_one("#checkpoint-diff").render())
        assert "✓" in str(dialog.query_one("#checkpoint-gates").render())
        assert "verified" in str(dialog.query_one("#checkpoint-notes").render())
        button = dialog.query_one("#checkpoint-approve", Button)
        # a busy machine may not have laid the dialog out yet: click the button once it is on screen
        await wait_for(pilot, lambda: button.region.area > 0, what="the approve button", timeout=30)
        await pilot.click("#checkpoint-approve")
        await wait_for(
            pilot, lambda: isinstance(app.screen, HomeScreen), what="the dialog to close", timeout=30
        )
        await wait_for(pilot, lambda: phase_state(app, 1) == "done", what="approved on screen", timeout=30)
        assert "approved:" in plan_path.read_text(encoding="utf-8").split("## Phase 2")[0]


async def test_reject_with_feedback_reopens_the_phase(tmp_path):
    done = PLAN.replace(
        "- [ ] Write `hello.txt` [with brackets]", "- [x] Write `hello.txt` [with brackets]"
    ).replace("- [ ] Say hello in it", "- [x] Say hello in it")
    project = make_project(tmp_path, approval="each", plan=done)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        assert phase_state(app, 1) == "waiting"
        await pilot.press("a")
        await wait_for(pilot, lambda: checkpoint_shown(app), what="the checkpoint")
        await pilot.click("#checkpoint-reject")  # no feedback yet: the dialog stays
        await pilot.pause()
        assert isinstance(app.screen, CheckpointScreen)
        app.screen.query_one("#checkpoint-feedback", Input).value = "Say [hello] louder"
        button = app.screen.query_one("#checkpoint-reject", Button)
        await wait_for(
            pilot, lambda: not button.has_class("-active"), what="the button's press effect to end"
        )
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
        await wait_for(
            pilot,
            lambda: screen.job is None and screen.plan_view.plan is not None,
            what="the plan",
            timeout=20,
        )
        assert (tmp_path / "specs" / "greeter" / "plan.md").read_text(encoding="utf-8") == greeter_plan
        assert "planned" in screen.run_status.message
        assert "--- plan" in screen.log_pane.text

        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the feedback prompt")
        await pilot.press(*"twice", "enter")
        await wait_for(
            pilot,
            lambda: (
                screen.job is None and "Wave twice" in str(screen.plan_view.plan_tree.root.children[1].label)
            ),
            what="the revised plan",
            timeout=20,
        )


async def test_command_palette_offers_the_screen_actions(tmp_path):
    project = make_project(tmp_path)
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        titles = [c.title.split("  (")[0] for c in app.get_system_commands(app.screen)]
        keyed = [c.title for c in app.get_system_commands(app.screen)]
        # every action with its key, Tick (a plan tree key) too
        assert "Tick or untick the task  (x / space)" in keyed and "Next phase  (>)" in keyed, keyed
        for title in (
            "New spec",
            "Plan it",
            "Next phase",
            "Run all phases",
            "Costs",
            "Markdown view",
            "Revise the plan",
        ):
            assert title in titles
        keyed = [c.title for c in app.get_system_commands(app.screen)]
        # every action with its key, Tick (a plan tree key) too
        assert "Tick or untick the task  (x / space)" in keyed and "Next phase  (>)" in keyed, keyed
        assert "Stop the run" not in titles  # nothing runs
        assert "Approve or reject a phase" not in titles  # nothing waits
        command = next(c for c in app.get_system_commands(app.screen) if c.title.startswith("Costs"))
        await command.callback()
        await wait_for(pilot, lambda: isinstance(app.screen, CostsScreen), what="costs via the palette")
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CommandPalette"
        await pilot.press(*"Costs")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, CostsScreen), what="costs via typing in the palette"
        )


# -- what needs a human: refused plans, runs elsewhere, stuck plans, outcomes -------------------

MANY_PROBLEMS = PLAN + "".join(
    f"\n## Phase {n}: An extra phase with a title long enough to wrap the problem lines at 80 columns\n"
    f"difficulty: impossible\ndepends: 9{n}\n\n- [ ] task {n}\n"
    for n in (2, 3, 4)
)

BLOCKED = PLAN.replace(
    "difficulty: easy\n\n- [ ] Write `hello.txt`",
    "difficulty: easy\nstatus: blocked\n\n- [ ] Write `hello.txt`",
    1,
)

DONE = PLAN.replace("- [ ] ", "- [x] ")

REPEATED = PLAN + "\n## Phase 2: Wave again\ndifficulty: hard\n\n- [ ] Wave twice\n"


def spy_notifications(app: PhaserApp) -> list[tuple[str, str]]:
    """Every notification the app shows from now on, as (message, severity)."""
    seen: list[tuple[str, str]] = []
    notify = app.notify

    def spy(message, *args, **kwargs):
        seen.append((str(message), kwargs.get("severity", "information")))
        return notify(message, *args, **kwargs)

    app.notify = spy
    return seen


def binding_state(app: PhaserApp, key: str) -> bool | None:
    """True: the footer offers the key; False: shown dimmed; None: not there at all."""
    active = app.screen.active_bindings.get(key)
    return None if active is None else active.enabled


def hold_plan_lock(project: Project, slug: str = "hello") -> subprocess.Popen:
    """Another process holding the plan's run lock (as a running `phaser next` or `phaser plan` does)."""
    locks = project.config.state_dir / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys; from filelock import FileLock; lock = FileLock(sys.argv[1], timeout=5); lock.acquire(); "
        "print('held', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(locks / f"{slug}.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def release(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(10)


async def test_every_plan_problem_is_reachable_and_the_plan_is_flagged_refused(tmp_path):
    project = make_project(tmp_path, plan=MANY_PROBLEMS)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = home(app)
        view = screen.plan_view
        problems = view.problems
        assert len(problems) == 7  # what `phaser status` and `phaser next` see
        # the spec list and the plan say that next and run refuse this plan
        item = screen.query_one(SpecItem)
        assert item.has_class("-invalid") and "refused: 7 problems" in str(
            item.query_one(".spec-detail").render()
        )
        refused = view.query_one("#plan-refused")
        assert refused.display and "next and run refuse this plan until it is fixed" in str(refused.render())
        assert "refused" in view.border_title
        # every problem in full, in a box that scrolls to the last one
        box = view.query_one("#plan-problems")
        text = str(view.query_one("#plan-problems-text").render())
        for problem in problems:
            assert f"⚠ {problem}" in text.replace("\n", " "), problem
        assert "more" not in text
        inner = view.query_one("#plan-problems-text")
        assert inner.size.height >= len(problems) and box.virtual_size.height >= inner.size.height
        assert box.max_scroll_y > 0 and box.focusable
        await pilot.press("tab")
        assert app.focused is box
        await pilot.press("end")
        await wait_for(
            pilot, lambda: box.scroll_y == box.max_scroll_y, what="the box scrolled to the last problem"
        )
        # the run keys are dimmed, R too, and g starts nothing
        assert binding_state(app, "greater_than_sign") is False and binding_state(app, "A") is False
        view.plan_tree.focus()
        await pilot.pause()
        assert binding_state(app, "R") is False
        before = plan_path.read_bytes()
        await pilot.press(">", "A", "R")
        await pilot.pause()
        assert screen.job is None and "»»»" not in screen.log_pane.text and plan_path.read_bytes() == before


async def test_a_run_in_another_process_is_shown_and_the_run_keys_wait_for_it(tmp_path):
    project = make_project(tmp_path)
    active = project.config.state_dir / "active"
    active.mkdir(parents=True)
    (active / "hello.json").write_text(
        json.dumps(
            {
                "slug": "hello",
                "phase": 1,
                "run_dir": "x",
                "base_commit": None,
                "started": "2026-01-02 03:04 UTC",
            }
        ),
        encoding="utf-8",
    )
    holder = hold_plan_lock(project)
    try:
        app = PhaserApp(project, watch_files=False, poll_s=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = home(app)
            banner = screen.plan_view.query_one("#plan-active")
            assert banner.display
            assert "phase 1 is running in another phaser (started 2026-01-02 03:04 UTC)" in str(
                banner.render()
            )
            assert "phase 1 running" in str(screen.query_one(SpecItem).query_one(".spec-detail").render())
            assert phase_state(app, 1) == "running"
            assert binding_state(app, "greater_than_sign") is False and binding_state(app, "A") is False
            # the other run ends (killed: its marker stays): the screen notices by itself
            release(holder)
            await wait_for(
                pilot, lambda: "did not finish" in str(banner.render()), what="the interrupted run"
            )
            shown = str(banner.render()).replace("\n", " ")
            assert (
                "phase 1 did not finish (started 2026-01-02 03:04 UTC): its changes are still in the tree"
                in shown
            )
            assert "the next run undoes them (kept as a patch)" in shown
            assert phase_state(app, 1) == "next" and binding_state(app, "greater_than_sign") is True
            # and a run that starts elsewhere while the screen is open shows up by itself too
            holder = hold_plan_lock(project)
            await wait_for(
                pilot, lambda: "is running in another phaser" in str(banner.render()), what="the new run"
            )
            assert binding_state(app, "greater_than_sign") is False
    finally:
        if holder.poll() is None:
            release(holder)


async def test_a_stopped_run_shows_that_the_phase_did_not_finish(tmp_path):
    project = make_project(tmp_path)
    entered, go_on = threading.Event(), threading.Event()
    turns = phase1_turns()

    def script(request: dict) -> dict:
        n = len([m for m in request["messages"] if m["role"] == "assistant"])
        if n == 1:
            entered.set()
            go_on.wait(10)
        return turns[min(n, len(turns) - 1)]

    app = PhaserApp(project, provider=ScriptedProvider(script), watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        banner = screen.plan_view.query_one("#plan-active")
        await pilot.press(">")
        await wait_for(pilot, entered.is_set, what="the code step")
        assert not banner.display  # this screen's own run: not "another phaser"
        await pilot.press("s")
        go_on.set()
        await wait_for(pilot, lambda: screen.job is None, what="the run to end")
        assert "phase 1 did not finish" in str(banner.render())
        assert screen.run_status.has_class("-warn")


async def test_done_phases_show_the_model_they_passed_on_and_their_commit(tmp_path):
    project = make_project(tmp_path)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    app = PhaserApp(project, provider=ScriptedProvider(phase1_turns()), watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        await pilot.press(">")
        await wait_for(pilot, lambda: screen.job is None, what="the run", timeout=30)
        assert phase_state(app, 1) == "done"
        # the plan now routes phase 1 elsewhere; the tree still says where it passed
        routed = project.config.model_for("hard")
        assert routed != "claude-haiku-5-5"
        atomic_write(
            plan_path, plan_path.read_text(encoding="utf-8").replace("difficulty: easy", "difficulty: hard")
        )
        _git(tmp_path, "commit", "-q", "-am", "phase 1 is hard after all")
        await pilot.press("ctrl+r")
        await pilot.pause()
        commit = _git(tmp_path, "log", "-1", "--format=%H", "--grep", "Phaser-Phase: hello/1").strip()
        label = str(screen.plan_view.plan_tree.root.children[0].label)
        assert "claude-haiku-5-5" in label and routed not in label, label
        assert commit[:7] in label, label
        assert routed in str(screen.plan_view.plan_tree.root.children[1].label)  # not done: where it will run


async def test_run_keys_are_dimmed_when_nothing_can_run(tmp_path):
    project = make_project(
        tmp_path,
        extra={
            "specs/complete/plan.md": DONE,
            "specs/complete/spec.md": SPEC,
            "specs/stuck/plan.md": BLOCKED,
            "specs/stuck/spec.md": SPEC,
            "specs/twice/plan.md": DUPLICATE,
        },
    )
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        expected = {"complete": False, "hello": True, "stuck": False, "twice": False}
        for slug, runnable in expected.items():
            screen.spec_list.index = screen.spec_list.slugs.index(slug)
            await wait_for(pilot, lambda slug=slug: screen.plan_view.info.slug == slug, what=slug)
            await pilot.pause()
            assert binding_state(app, "greater_than_sign") is runnable, slug
            assert binding_state(app, "A") is runnable, slug
        titles = [c.title.split("  (")[0] for c in app.get_system_commands(app.screen)]
        assert "Next phase" not in titles and "Run all phases" not in titles


async def test_R_runs_a_blocked_phase_and_a_stuck_plan_needs_a_human(tmp_path):
    project = make_project(tmp_path, plan=BLOCKED)
    app = PhaserApp(project, provider=ScriptedProvider(phase1_turns()), watch_files=False)
    notices = spy_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = home(app)
        assert binding_state(app, "greater_than_sign") is False
        # a next run anyway (the palette or a race): stuck is yellow, says why, and names the TUI's key
        from phaser.tui.home import Job

        screen.start_job(Job("next", "hello"))
        await wait_for(pilot, lambda: screen.job is None, what="the stuck run")
        assert screen.run_status.has_class("-warn")
        message = screen.run_status.message
        assert "stuck" in message and "phase 1 is blocked" in message
        assert "R on phase 1" in message and "phaser next --phase" not in message
        assert any("phase 1 is blocked" in m and s == "warning" for m, s in notices), notices
        # the status line shows all of it at 80 columns: it wraps instead of cutting the reason off
        from rich.text import Text

        status = screen.run_status

        def wrapped() -> int:
            return len(Text(status.message).wrap(app.console, status.content_region.width))

        # the region grows at the next layout pass, which a busy machine may not have reached yet
        await wait_for(pilot, lambda: wrapped() <= status.content_region.height, what="the status to fit")
        assert wrapped() > 1 and wrapped() <= status.content_region.height
        # R on the blocked phase runs it, as `phaser next --phase 1`
        tree = screen.plan_view.plan_tree
        tree.focus()
        assert tree.cursor_to("task:1:1.2:0")
        await pilot.pause()
        assert binding_state(app, "R") is True
        await pilot.press("R")
        await wait_for(
            pilot,
            lambda: screen.job is None and phase_state(app, 1) == "done",
            what="phase 1 run",
            timeout=30,
        )
        assert "hello: phase 1: passed" in screen.log_pane.text
        assert (tmp_path / "hello.txt").read_text() == "hello\n"
        # the cursor on phase 2 (its dependency done now) runs it too; a done phase cannot
        assert tree.cursor_to("phase:1::0")
        await pilot.pause()
        assert binding_state(app, "R") is False
        titles = [c.title.split("  (")[0] for c in app.get_system_commands(app.screen)]
        assert "Run the phase under the cursor" not in titles
        assert tree.cursor_to("phase:2::0")
        await pilot.pause()
        assert binding_state(app, "R") is True
        assert "Run the phase under the cursor  (R)" in [c.title for c in app.get_system_commands(app.screen)]


async def test_approval_is_a_yellow_notice_that_names_the_a_key(tmp_path):
    project = make_project(tmp_path, approval="each")
    app = PhaserApp(project, provider=ScriptedProvider(phase1_turns()), watch_files=False)
    notices = spy_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        await pilot.press("A")
        await wait_for(pilot, lambda: checkpoint_shown(app), what="the checkpoint", timeout=30)
        assert screen.run_status.has_class("-warn")
        for text in (screen.run_status.message, screen.log_pane.text):
            assert "waiting for approval of phase 1: press a to review it" in text
            assert "phaser approve" not in text
        assert any("press a to review it" in m and s == "warning" for m, s in notices), notices


async def test_unverified_and_a_lock_refusal_are_yellow_notices_not_errors(tmp_path):
    project = make_project(tmp_path)
    (tmp_path / "phaser.toml").write_text(
        "[gates]\ncommands = []\n\n[models]\nescalate = false\n", encoding="utf-8"
    )
    _git(tmp_path, "commit", "-q", "-am", "no gates")
    project = Project.open(tmp_path)
    app = PhaserApp(project, provider=ScriptedProvider(phase1_turns()), watch_files=False)
    notices = spy_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        await pilot.press(">")
        await wait_for(pilot, lambda: screen.job is None, what="the run", timeout=30)
        assert "unverified" in screen.run_status.message, (screen.run_status.message, screen.log_pane.text)
        assert screen.run_status.has_class("-warn")
        assert any(
            "were not ticked" in m and "(x on the task)" in m and s == "warning" for m, s in notices
        ), notices
        assert not [n for n in notices if n[1] == "error"]

        # another process holds the plan (a planning run there): g is refused, as a notice
        holder = hold_plan_lock(project)
        try:
            notices.clear()
            await pilot.press(">")
            await wait_for(
                pilot,
                lambda: screen.job is None and "refused" in screen.run_status.message,
                what="the refusal",
            )
        finally:
            release(holder)
        assert screen.run_status.has_class("-warn")
        assert notices == [("another phaser run is working on hello right now", "warning")]
        assert "error:" not in screen.log_pane.text


def footer_fits(app: PhaserApp) -> list[str]:
    """The keys the footer shows, after checking each is whole and left of the palette key."""
    from textual.widgets._footer import FooterKey

    footer = app.screen.query_one("Footer")
    keys = list(footer.query(FooterKey))
    palette = [k for k in keys if k.has_class("-command-palette")]
    right = palette[0].region.x if palette else footer.region.right
    shown = []
    for key in keys:
        if key in palette:
            continue
        assert key.region.width > 0 and key.region.right <= right and key.region.right <= app.size.width, (
            key.key,
            key.region,
        )
        assert key.region.width == key.get_content_width(app.size, app.size), key.key
        shown.append(key.key)
    return shown


async def test_the_footer_fits_80_columns_in_every_state(tmp_path):
    project = make_project(
        tmp_path,
        approval="each",
        plan=PLAN.replace(
            "- [ ] Write `hello.txt` [with brackets]", "- [x] Write `hello.txt` [with brackets]"
        ).replace("- [ ] Say hello in it", "- [x] Say hello in it"),
    )
    entered, go_on = threading.Event(), threading.Event()

    def script(request: dict) -> dict:
        entered.set()
        go_on.wait(10)
        return {"tool_calls": [_finish("done")]}

    app = PhaserApp(project, provider=ScriptedProvider(script), watch_files=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = home(app)
        await pilot.pause()
        assert "q" in footer_fits(app)  # the specs list focused
        screen.plan_view.plan_tree.focus()
        await pilot.pause()
        shown = footer_fits(app)  # the tree focused, a phase waiting for approval
        assert {"x", "R", "a", "greater_than_sign", "q"} <= set(shown), shown
        await pilot.press(">")
        await wait_for(pilot, entered.is_set, what="the run")
        await pilot.pause()
        shown = footer_fits(app)  # a run going
        assert {"s", "q"} <= set(shown), shown
        await pilot.press("s")
        go_on.set()
        # phase 1 still waits for approval: the checkpoint opens when the run ends
        await wait_for(
            pilot,
            lambda: screen.job is None and isinstance(app.screen, CheckpointScreen),
            what="the run to end",
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="back home")


async def test_ticking_in_an_invalid_plan_is_refused_and_repeated_phases_show_their_own_model(tmp_path):
    project = make_project(tmp_path, plan=REPEATED)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    before = plan_path.read_bytes()
    app = PhaserApp(project, watch_files=False)
    notices = spy_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = home(app)
        assert "duplicate phase number 2" in screen.plan_view.problems[0]
        tree = screen.plan_view.plan_tree
        second = tree.root.children[2]
        assert "Wave again" in str(second.label) and project.config.model_for("hard") in str(second.label)
        tree.focus()
        tree.cursor_line = second.children[0].line
        await pilot.press("x")
        await pilot.pause()
        assert plan_path.read_bytes() == before
        assert len(notices) == 1, notices
        message, severity = notices[0]
        assert (
            severity == "warning" and "has 1 problem" in message and "fix the plan before ticking" in message
        )
        assert "changed on disk" not in message
