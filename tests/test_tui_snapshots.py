"""SVG snapshots of the main screens at 80x24 and 120x40 (pytest-textual-snapshot).

The project lives at a fixed path so the header (which shows the root) is the same on every run;
update with `pytest tests/test_tui_snapshots.py --snapshot-update` after a deliberate UI change.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from phaser.tui.app import PhaserApp
from phaser.workflow import demo
from phaser.workflow.project import Project


@pytest.fixture(autouse=True)
def _user_config(tmp_path, monkeypatch):
    """No saved theme of the person's: snapshots start in the default theme."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


ROOT = Path(tempfile.gettempdir()) / "phaser-snapshot-project"
BROKEN = "---\ntitle: [unclosed\n---\n\n## Phase 1: x\n- [ ] a\n"


def make_project() -> Project:
    shutil.rmtree(ROOT, ignore_errors=True)
    spec = ROOT / "specs" / "word-stats"
    spec.mkdir(parents=True)
    (spec / "spec.md").write_text(demo.SPEC, encoding="utf-8")
    plan = demo.PLAN.replace("- [ ] Add `wordstats/core.py`", "- [x] Add `wordstats/core.py`")
    (spec / "plan.md").write_text(plan, encoding="utf-8")
    broken = ROOT / "specs" / "zz-broken"
    broken.mkdir()
    (broken / "plan.md").write_text(BROKEN, encoding="utf-8")
    return Project.open(ROOT)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_home_screen(snap_compare, size):
    assert snap_compare(PhaserApp(make_project(), watch_files=False), terminal_size=size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_broken_plan_selected(snap_compare, size):
    assert snap_compare(PhaserApp(make_project(), watch_files=False), terminal_size=size, press=["down"])


def test_checkpoint_dialog_80x24(snap_compare):
    from phaser.tui.checkpoint import CheckpointInfo, CheckpointScreen

    info = CheckpointInfo(
        "word-stats",
        1,
        "Core counting",
        "abc1234def",
        "abc1234 phase 1: Core counting\n"
        + "\n".join(f" wordstats/file{i}.py | {i + 1} +" for i in range(25)),
        [{"ok": True, "command": "pytest -q", "summary": "12 passed"}],
        [f"verified: note {i}" for i in range(8)],
    )

    async def open_dialog(pilot) -> None:
        pilot.app.push_screen(CheckpointScreen(info))
        await pilot.pause()
        pilot.app.screen.query_one("#checkpoint-feedback").cursor_blink = False  # a steady caret
        await pilot.pause()

    assert snap_compare(
        PhaserApp(make_project(), watch_files=False), terminal_size=(80, 24), run_before=open_dialog
    )


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_markdown_view(snap_compare, size):
    async def markdown(pilot) -> None:
        await pilot.press("m")
        await pilot.pause(0.3)

    assert snap_compare(PhaserApp(make_project(), watch_files=False), terminal_size=size, run_before=markdown)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_costs_screen(snap_compare, size):
    assert snap_compare(PhaserApp(make_project(), watch_files=False), terminal_size=size, press=["c"])
