"""The TUI on a big plan (issue 15, "Speed on big plans"): an outside save or a tick updates only the
phases it changed, the tree is not rebuilt for them, and what is shown is what the plan says.

Timings are measured by benchmarks/tui_bench.py; these tests check the behaviour that makes them
short, through Pilot: how many phases were relabelled and whether the tree was rebuilt.
"""

from __future__ import annotations

import pytest

from phaser.tui.app import PhaserApp
from phaser.workflow.project import Project
from test_tui import atomic_write, make_project, wait_for

PHASES = 60


@pytest.fixture(autouse=True)
def user_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def big_plan(phases: int = PHASES, tasks: int = 4) -> str:
    out = ["---", "title: Big", "spec: spec.md", "---", "", "# Big", ""]
    for p in range(1, phases + 1):
        out += [f"## Phase {p}: Step {p}", "", "difficulty: easy", f"depends: {p - 1}" if p > 1 else "", ""]
        out += [f"- [ ] Task {t} of phase {p}" for t in range(1, tasks + 1)]
        out += ["", "### Notes", "", f"- note of phase {p}", ""]
    return "\n".join(out) + "\n"


def labels(tree) -> list[str]:
    return [str(n.label) for p in tree.root.children for n in (p, *p.children)]


def open_app(tmp_path):
    app = PhaserApp(make_project(tmp_path, plan=big_plan()), debounce_s=0.05)
    return app, tmp_path / "specs" / "hello" / "plan.md"


async def shown_fresh(root) -> list[str]:
    """The labels a fresh start shows for the plan on disk (a second app, its own tree)."""
    app = PhaserApp(Project.open(root), watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        tree = app.home.plan_view.plan_tree
        await wait_for(pilot, lambda: len(tree.root.children) > 0, what="the tree")
        return labels(tree)


async def test_an_outside_save_relabels_only_the_phase_it_changed(tmp_path):
    app, plan_path = open_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.home
        tree = screen.plan_view.plan_tree
        await wait_for(pilot, lambda: len(tree.root.children) == PHASES and screen.watcher, what="the tree")
        before = labels(tree)
        rebuilds, updates = tree.rebuilds, tree.phase_updates
        text = plan_path.read_text(encoding="utf-8")
        atomic_write(plan_path, text.replace("- [ ] Task 2 of phase 45", "- [x] Task 2 of phase 45"))
        node = tree.task_node("45.2")
        await wait_for(pilot, lambda: node.data.state == "checked", what="the save shown", timeout=30)
        await wait_for(pilot, lambda: not any(w.is_running for w in screen.workers), what="the reload")
        assert tree.rebuilds == rebuilds  # not rebuilt
        assert tree.phase_updates == updates + 1  # phase 45 only
        after = labels(tree)
        changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        assert [after[i] for i in changed] == [
            next(label for label in after if label.startswith("○ 45  Step 45")),
            "[x] 45.2  Task 2 of phase 45",
        ]
        assert "1/4" in after[changed[0]]
    assert after == await shown_fresh(tmp_path)  # what a fresh start shows


async def test_an_outside_save_that_adds_a_task_refills_that_phase_and_keeps_the_cursor(tmp_path):
    app, plan_path = open_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.home
        tree = screen.plan_view.plan_tree
        await wait_for(pilot, lambda: len(tree.root.children) == PHASES and screen.watcher, what="the tree")
        tree.focus()
        tree.move_cursor(tree.task_node("50.3"))
        await pilot.pause()
        rebuilds = tree.rebuilds
        text = plan_path.read_text(encoding="utf-8")
        new = text.replace("- [ ] Task 4 of phase 20\n", "- [ ] Task 4 of phase 20\n- [ ] A new task\n")
        atomic_write(plan_path, new)
        await wait_for(
            pilot, lambda: len(tree.root.children[19].children) == 6, what="the new task shown", timeout=30
        )
        await wait_for(pilot, lambda: not any(w.is_running for w in screen.workers), what="the reload")
        assert tree.rebuilds == rebuilds
        assert str(tree.root.children[19].children[4].label) == "[ ] 20.5  A new task"
        assert tree.cursor_node.data.ref == "50.3"  # the cursor stayed on its task
        assert tree.task_node("20.5") is tree.root.children[19].children[4]
        assert tree.task_node("50.3") is tree.cursor_node
        after = labels(tree)
    assert after == await shown_fresh(tmp_path)


async def test_a_new_phase_rebuilds_the_tree_and_a_toggle_relabels_one_phase(tmp_path):
    app, plan_path = open_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.home
        tree = screen.plan_view.plan_tree
        await wait_for(pilot, lambda: len(tree.root.children) == PHASES and screen.watcher, what="the tree")
        tree.focus()
        tree.move_cursor(tree.task_node("7.1"))
        await pilot.pause()
        updates = tree.phase_updates
        await pilot.press("x")
        await wait_for(pilot, lambda: "- [x] Task 1 of phase 7" in plan_path.read_text(), what="the tick")
        await wait_for(pilot, lambda: "1/4" in str(tree.root.children[6].label), what="the count")
        await wait_for(pilot, lambda: not any(w.is_running for w in screen.workers), what="the reloads")
        assert tree.phase_updates - updates == 1 and tree.rebuilds == 1
        rebuilds = tree.rebuilds
        atomic_write(plan_path, plan_path.read_text() + "## Phase 61: One more\n\n- [ ] Last\n")
        await wait_for(pilot, lambda: len(tree.root.children) == PHASES + 1, what="the new phase", timeout=30)
        assert tree.rebuilds == rebuilds + 1
        assert str(tree.root.children[-1].children[0].label) == "[ ] 61.1  Last"
        after = labels(tree)
    assert after == await shown_fresh(tmp_path)


async def test_the_markdown_view_follows_an_outside_save(tmp_path):
    app, plan_path = open_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.home
        tree = screen.plan_view.plan_tree
        await wait_for(pilot, lambda: len(tree.root.children) == PHASES and screen.watcher, what="the tree")
        await pilot.press("m")
        view = screen.plan_view
        await wait_for(pilot, lambda: view.showing_markdown, what="the markdown view")
        assert "Task 3 of phase 33" in view.markdown_text and "☐ Task 3 of phase 33" in view.markdown_text
        text = plan_path.read_text(encoding="utf-8")
        atomic_write(plan_path, text.replace("- [ ] Task 3 of phase 33", "- [x] Task 3 of phase 33"))
        ticked = "☑ Task 3 of phase 33"
        await wait_for(pilot, lambda: ticked in view.markdown_text, what="the save", timeout=30)


async def test_a_plan_from_the_disk_cache_is_parsed_once_off_the_ui_thread_so_the_first_save_is_quick(
    tmp_path,
):
    from phaser.plan import sections
    from phaser.plan.parse import split_lines

    project = make_project(tmp_path, plan=big_plan())
    (tmp_path / ".phaser").mkdir(exist_ok=True)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    from phaser.plan.store import read_plan

    read_plan(plan_path)  # the disk cache now holds this plan: a start reads it without parsing
    sections.forget()
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.home
        await wait_for(pilot, lambda: len(screen.plan_view.plan_tree.root.children) == PHASES, what="tree")
        # the worker was started with the first screen; finished workers leave the list
        done = lambda: all(w.is_finished for w in screen.workers)  # noqa: E731
        await wait_for(pilot, done, what="the warm-up", timeout=60)
    parsed: list[str] = []
    text = plan_path.read_text(encoding="utf-8")
    body = "\n" * 4 + text.split("---\n", 2)[2]  # the frontmatter's lines blank, as the parser sees it
    sections.segments(split_lines(body), lambda chunk: parsed.append(chunk) or [])
    assert parsed == []  # every section was parsed by the warm-up
