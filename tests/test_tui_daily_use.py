"""The TUI as a daily user meets it (issue 15), through Pilot at 80x24 and 120x40, dark and light:
the checkpoint dialog fits, readable muted done tasks, a kept theme, clicks that only select,
undo, a cursor that stays, the markdown view, the costs screen, the spec list during a run, a new
spec that can be committed, vim keys, help, search, zoom, the detail pane and past runs."""

from __future__ import annotations

import json
import subprocess

import pytest
from textual.widgets import Input

from phaser.agent.scripted import ScriptedProvider
from phaser.tui.app import PhaserApp
from phaser.tui.checkpoint import CheckpointInfo, CheckpointScreen
from phaser.tui.confirm import ConfirmScreen
from phaser.tui.costs import CostsScreen
from phaser.tui.help import HelpScreen
from phaser.tui.home import HomeScreen
from test_tui import (
    DONE,
    PLAN,
    _git,
    atomic_write,
    checkpoint_shown,
    make_project,
    phase1_turns,
    task_labels,
    wait_for,
)

SIZES = [(80, 24), (120, 40)]
THEMES = ["textual-dark", "textual-light"]


@pytest.fixture(autouse=True)
def user_config(tmp_path, monkeypatch):
    """Never the person's own ~/.config: the theme is kept in a temporary one."""
    config = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


def inside(region, size) -> bool:
    return region.width > 0 and region.height > 0 and region.right <= size[0] and region.bottom <= size[1]


def footer_keys(screen) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [k.key for k in screen.query(FooterKey) if k.region.width > 0]


def commit_phase(root, slug: str, number: int, title: str) -> None:
    """A phase as phaser checks it off: a commit with its trailer."""
    _git(root, "add", "-A")
    _git(
        root,
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        f"phase {number}: {title}\n\nPhaser-Phase: {slug}/{number}\n",
    )


# -- 1. the checkpoint dialog -------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", THEMES)
async def test_the_checkpoint_dialog_shows_its_field_buttons_and_keys_at_every_size(tmp_path, size, theme):
    project = make_project(tmp_path, approval="each", plan=DONE)
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=size) as pilot:
        app.theme = theme
        long = CheckpointInfo(
            "hello",
            1,
            "Greet",
            "abc1234",
            "\n".join(f" file{i}.py | {i} +" for i in range(60)),
            [{"ok": True, "command": "pytest", "summary": "12 passed"}],
            [f"note {i}" for i in range(30)],
        )
        app.push_screen(CheckpointScreen(long))
        await wait_for(pilot, lambda: checkpoint_shown(app), what="the dialog")
        await pilot.pause()
        dialog = app.screen
        for selector in (
            "#checkpoint-feedback",
            "#checkpoint-approve",
            "#checkpoint-reject",
            "#checkpoint-later",
        ):
            assert inside(dialog.query_one(selector).region, size), (
                selector,
                dialog.query_one(selector).region,
            )
        # the dialog's own keys in its footer, not the home screen's
        await wait_for(pilot, lambda: footer_keys(dialog), what="the dialog's footer")
        keys = footer_keys(dialog)
        assert {"ctrl+y", "ctrl+r", "escape"} <= set(keys), keys
        assert "greater_than_sign" not in keys and "n" not in keys
        # the body scrolls instead of pushing the buttons off
        body = dialog.query_one("#checkpoint-body")
        assert body.max_scroll_y > 0
        # Enter in the focused feedback field never approves: it asks for feedback
        assert dialog.focused is dialog.query_one("#checkpoint-feedback", Input)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CheckpointScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="later")
        assert "approved:" not in (tmp_path / "specs/hello/plan.md").read_text()


async def test_ctrl_y_approves_from_the_dialog(tmp_path):
    project = make_project(tmp_path, approval="each", plan=DONE)
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("a")
        await wait_for(pilot, lambda: checkpoint_shown(app), what="the dialog")
        await pilot.press("ctrl+y")
        await wait_for(
            pilot, lambda: "approved:" in (tmp_path / "specs/hello/plan.md").read_text(), what="approval"
        )


# -- 2. themes ----------------------------------------------------------------------------------


def _luminance(c) -> float:
    def ch(v: int) -> float:
        v = v / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * ch(c.red) + 0.7152 * ch(c.green) + 0.0722 * ch(c.blue)


def _contrast(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _row_colors(tree, y: int):
    strip = tree.render_line(y)
    seg = next(s for s in strip if "1." in s.text)
    return seg.style.color.get_truecolor(), seg.style.bgcolor.get_truecolor()


@pytest.mark.parametrize("size", SIZES)
async def test_done_tasks_are_muted_and_readable_in_both_themes(tmp_path, size):
    plan = PLAN.replace("- [ ] Write `hello.txt`", "- [x] Write `hello.txt`")
    app = PhaserApp(make_project(tmp_path, plan=plan), watch_files=False)
    async with app.run_test(size=size) as pilot:
        tree = app.home.plan_view.plan_tree
        for theme in THEMES:
            app.theme = theme
            tree.focus()
            tree.cursor_line = 0  # on the phase: the task lines are not highlighted
            await pilot.pause()
            done_fg, bg = _row_colors(tree, 1)
            open_fg, bg2 = _row_colors(tree, 2)
            assert bg == bg2
            assert _contrast(done_fg, bg) >= 3.0, (theme, done_fg, bg)  # readable
            assert _contrast(done_fg, bg) < _contrast(open_fg, bg), theme  # and muted next to open ones


async def test_the_chosen_theme_is_kept_at_restart(tmp_path, user_config):
    project = make_project(tmp_path)
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(80, 24)) as pilot:
        start = app.theme
        await pilot.press("T")
        await wait_for(pilot, lambda: app.theme != start, what="the theme switch")
        chosen = app.theme
    saved = json.loads((user_config / "phaser" / "tui.json").read_text())
    assert saved["theme"] == chosen
    again = PhaserApp(project, watch_files=False)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.theme == chosen


# -- 3. clicks select; a key toggles; undo; a verified task asks; every toggle logged -----------


@pytest.mark.parametrize("size", SIZES)
async def test_a_click_selects_x_toggles_u_undoes_and_each_toggle_is_logged(tmp_path, size):
    project = make_project(tmp_path)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    original = plan_path.read_bytes()
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=size) as pilot:
        screen = app.home
        tree = screen.plan_view.plan_tree
        tree.focus()
        await pilot.pause()
        node = tree.task_node("1.1")
        await pilot.click("#plan-tree", offset=(12, node.line - tree.scroll_offset.y))
        await wait_for(
            pilot, lambda: screen.detail.display and "hello.txt" in screen.detail.text, what="detail"
        )
        await pilot.pause()
        assert plan_path.read_bytes() == original  # a click never writes
        assert tree.cursor_node.data.ref == "1.1"
        await pilot.press("x")
        await wait_for(pilot, lambda: b"- [x] Write" in plan_path.read_bytes(), what="the tick")
        await wait_for(pilot, lambda: "ticked 1.1" in screen.log_pane.text, what="the log line")
        await pilot.press("u")
        await wait_for(pilot, lambda: plan_path.read_bytes() == original, what="the undo")
        await wait_for(pilot, lambda: "undo: unticked 1.1" in screen.log_pane.text, what="the undo logged")


async def test_unticking_a_verified_task_asks_first(tmp_path):
    project = make_project(
        tmp_path, plan=PLAN.replace("- [ ] Write", "- [x] Write").replace("- [ ] Say", "- [x] Say")
    )
    commit_phase(tmp_path, "hello", 1, "Greet")
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    before = plan_path.read_bytes()
    app = PhaserApp(project, watch_files=False)
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.home.plan_view.plan_tree
        tree.focus()
        assert tree.cursor_to("task:1:1.1:0")
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("n")  # keep it
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="back")
        await pilot.pause()
        assert plan_path.read_bytes() == before
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question again")
        await pilot.press("y")
        await wait_for(pilot, lambda: b"- [ ] Write" in plan_path.read_bytes(), what="the untick")


# -- 4. the cursor stays through a broken save and its fix --------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_the_cursor_stays_on_its_task_through_a_broken_save_and_the_fix(tmp_path, size):
    project = make_project(tmp_path)
    plan_path = tmp_path / "specs" / "hello" / "plan.md"
    app = PhaserApp(project, debounce_s=0.05)
    async with app.run_test(size=size) as pilot:
        screen = app.home
        await wait_for(pilot, lambda: screen.watcher is not None, what="the watcher")
        tree = screen.plan_view.plan_tree
        tree.focus()
        assert tree.cursor_to("task:2:2.1:0")
        good = plan_path.read_text()
        atomic_write(plan_path, good.replace("title: Hello world", "title: [broken"))
        await wait_for(pilot, lambda: screen.plan_view.error is not None, what="the broken plan shown")
        assert tree.cursor_node.data.ref == "2.1"
        atomic_write(plan_path, good.replace("Write `wave.txt`", "Write `wave.txt` now"))
        await wait_for(pilot, lambda: screen.plan_view.plan is not None, what="the fixed plan")
        await wait_for(pilot, lambda: "now" in str(tree.cursor_node.label), what="the edit shown")
        assert tree.cursor_node.data.ref == "2.1"


# -- 5. the markdown view -----------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_the_markdown_view_shows_metadata_and_checkboxes(tmp_path, size):
    plan = PLAN.replace("- [ ] Write `hello.txt`", "- [x] Write `hello.txt`")
    app = PhaserApp(make_project(tmp_path, plan=plan), watch_files=False)
    async with app.run_test(size=size) as pilot:
        view = app.home.plan_view
        await pilot.press("m")
        await wait_for(pilot, lambda: view.showing_markdown, what="the markdown view")
        text = view.markdown_text
        assert "---" not in text.split("# Hello world")[0].replace("|---|---|", "")
        assert "| **title** | Hello world |" in text and "| **difficulty** | easy |" in text
        assert "☑ Write `hello.txt`" in text and "☐ Say hello in it" in text
        assert "[x]" not in text.replace("[with brackets]", "")
        await pilot.pause()
        rendered = "\n".join(
            "".join(s.text for s in md.render_line(y))
            for md in view.query("MarkdownBlock")
            for y in range(md.size.height)
        )
        assert "☑" in rendered and "• [x]" not in rendered


# -- 6. the costs screen ------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_costs_keep_the_dollars_in_sight_and_list_every_run(tmp_path, size):
    project = make_project(tmp_path)
    app = PhaserApp(project, provider=ScriptedProvider(phase1_turns()), watch_files=False)
    async with app.run_test(size=size) as pilot:
        screen = app.home
        await pilot.press(">")
        await wait_for(
            pilot,
            lambda: screen.job is None and "passed" in screen.run_status.message,
            timeout=30,
            what="run",
        )
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CostsScreen), what="costs")
        await pilot.pause()
        table = app.screen.query_one("#costs-table")
        runs = app.screen.query_one("#costs-runs")
        assert [c.label.plain for c in list(table.columns.values())[:3]] == ["spec", "phase", "cost"]
        assert table.fixed_columns == 3 and runs.fixed_columns == 3
        row = runs.get_row_at(0)
        assert row[1] == "1" and row[2].startswith("$") and row[3] == "passed"
        assert "green" in row[5] and "files" in row[6]
        # scrolled all the way right, the dollars still show
        table.scroll_end(animate=False)
        await pilot.pause()
        line = "".join(s.text for s in table.render_line(0))
        assert "cost" in line


# -- 7. the spec list during a run and at a checkpoint ------------------------------------------


async def test_the_spec_list_follows_the_run_and_a_waiting_phase_is_not_complete(tmp_path):
    import threading

    plan = PLAN.replace("depends: 1\n", "depends: 1\nstatus: done\napproved: yes\n")
    project = make_project(tmp_path, approval="each", plan=plan)
    entered, go_on = threading.Event(), threading.Event()
    turns = phase1_turns()

    def script(request: dict) -> dict:
        n = len([m for m in request["messages"] if m["role"] == "assistant"])
        if n == 0:
            entered.set()
            go_on.wait(10)
        return turns[min(n, len(turns) - 1)]

    app = PhaserApp(project, provider=ScriptedProvider(script), watch_files=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.home
        item = screen.spec_list.query_one("#spec-hello")

        def detail() -> str:
            return str(item.query_one(".spec-detail").render())

        await pilot.press(">")
        await wait_for(pilot, entered.is_set, what="the run")
        await wait_for(pilot, lambda: "● phase 1 running" in detail(), what="running in the list")
        assert "next 1" not in detail()
        go_on.set()
        await wait_for(pilot, lambda: screen.job is None, timeout=30, what="the run")
        assert "phase 1 waits for approval" in detail() and "complete" not in detail()
        assert "complete" not in screen.run_status.message


# -- 8. a new spec can be committed from the TUI ------------------------------------------------


async def test_a_new_specs_dirt_never_blocks_a_run_and_C_offers_to_commit_it(tmp_path):
    project = make_project(tmp_path)
    new = tmp_path / "specs" / "greet"  # written with n and planned: neither file committed
    new.mkdir()
    (new / "spec.md").write_text("# Greet\n", encoding="utf-8")
    (new / "plan.md").write_text(PLAN, encoding="utf-8")
    app = PhaserApp(project, provider=ScriptedProvider(phase1_turns()), watch_files=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.home
        assert screen.spec_list.selected == "greet"
        await pilot.press(">")
        # specs/ is the person's folder: its dirt never blocks a run (nor goes into the agent's commit)
        await wait_for(
            pilot,
            lambda: screen.job is None and "passed" in screen.run_status.message,
            timeout=30,
            what="the run",
        )
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=tmp_path, capture_output=True, text=True
        )
        assert "specs/greet/spec.md" in status.stdout  # the person's spec, left to them
        await pilot.press("C")  # offered as a commit of its own, at any time
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=30, what="the offer")
        assert "specs/greet/spec.md" in app.screen.question
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: isinstance(app.screen, type(screen)), timeout=30, what="the commit")
        await wait_for(
            pilot,
            lambda: (
                "spec: greet"
                in subprocess.run(
                    ["git", "log", "--format=%s"], cwd=tmp_path, capture_output=True, text=True
                ).stdout
            ),
            timeout=30,
            what="the spec's commit",
        )
        log = subprocess.run(
            ["git", "log", "--format=%s"], cwd=tmp_path, capture_output=True, text=True
        ).stdout
        assert "spec: greet" in log


# -- what users of such tools expect -------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
async def test_vim_keys_help_overlay_search_and_log_zoom(tmp_path, size):
    app = PhaserApp(make_project(tmp_path), watch_files=False)
    async with app.run_test(size=size) as pilot:
        screen = app.home
        tree = screen.plan_view.plan_tree
        tree.focus()
        await pilot.press("G")
        assert tree.cursor_line == tree.last_line and screen.job is None  # G moves, never runs
        await pilot.press("g", "g")
        assert tree.cursor_line == 0
        await pilot.press("j")
        assert tree.cursor_line == 1
        await pilot.press("k")
        assert tree.cursor_line == 0
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        keys = str(app.screen.query_one("#help-keys").render())
        for key in (">", "A", "x", "u", "/", "z", "g g", "q"):
            assert f"\n{key} " in f"\n{keys}", key
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen), what="help closed")
        tree.focus()
        await pilot.press("slash")
        await pilot.press(*"wave", "enter")
        await wait_for(pilot, lambda: "wave" in str(tree.cursor_node.label).lower(), what="the match")
        await pilot.press("escape")
        await pilot.press("z")
        await pilot.pause()
        assert not screen.plan_view.display or screen.plan_view.region.height == 0
        assert screen.log_pane.region.height > size[1] // 2
        await pilot.press("z")
        await pilot.pause()
        assert screen.plan_view.region.height > 0


async def test_60x20_keeps_q_quit_and_glyphs_are_distinct(tmp_path):
    from phaser.tui.plan_tree import STATE_ICONS, PlanTree

    icons = list(STATE_ICONS.values())
    assert len(set(icons)) == len(icons)
    assert not {PlanTree.ICON_NODE.strip(), PlanTree.ICON_NODE_EXPANDED.strip()} & set(icons)
    app = PhaserApp(make_project(tmp_path), watch_files=False)
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for(pilot, lambda: "q" in footer_keys(app.screen), what="q in the footer")
        app.home.plan_view.plan_tree.focus()
        await wait_for(pilot, lambda: "x" in footer_keys(app.screen), what="the tree's keys")
        assert "q" in footer_keys(app.screen)


async def test_past_runs_show_in_the_log_after_a_restart_and_a_phase_detail_has_its_commit(tmp_path):
    project = make_project(tmp_path)
    app = PhaserApp(project, provider=ScriptedProvider(phase1_turns()), watch_files=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(">")
        await wait_for(
            pilot,
            lambda: app.home.job is None and "passed" in app.home.run_status.message,
            timeout=30,
            what="run",
        )
    again = PhaserApp(project, watch_files=False)
    async with again.run_test(size=(120, 40)) as pilot:
        screen = again.home
        await wait_for(pilot, lambda: "past runs of hello" in screen.log_pane.text, what="the history")
        assert "== phase 1" in screen.log_pane.text
        tree = screen.plan_view.plan_tree
        tree.focus()
        assert tree.cursor_to("phase:1::0")
        await pilot.press("d")
        await wait_for(
            pilot, lambda: "commit " in screen.detail.text and "gates:" in screen.detail.text, what="facts"
        )
        assert "hello.txt" in screen.detail.text


async def test_a_long_task_shows_whole_in_the_detail_pane(tmp_path):
    long = "a task whose text goes on " + "and on " * 30 + "to the end"
    app = PhaserApp(make_project(tmp_path, plan=PLAN.replace("Say hello in it", long)), watch_files=False)
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.home.plan_view.plan_tree
        tree.focus()
        assert tree.cursor_to("task:1:1.2:0")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "to the end" in app.home.detail.text, what="the whole text")
        assert long in app.home.detail.text
        assert any(long[:20] in t for t in task_labels(app))


async def test_search_in_the_log(tmp_path):
    app = PhaserApp(make_project(tmp_path), watch_files=False)
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.home.log_pane
        for i in range(200):
            log.line(f"line {i}")
        log.line("the needle is here")
        log.scroll_home(animate=False)
        log.focus()
        await pilot.pause()
        await pilot.press("slash", *"needle", "enter")
        await wait_for(pilot, lambda: log.scroll_y > 100, what="the log scrolled to the match")
