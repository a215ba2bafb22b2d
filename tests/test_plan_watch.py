from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from phaser.plan import atomic_write
from phaser.plan.watch import SpecWatcher, is_watched

DEBOUNCE = 0.2


class Recorder:
    def __init__(self) -> None:
        self.calls: list[set[Path]] = []
        self.threads: list[threading.Thread] = []
        self.event = threading.Event()

    def __call__(self, paths: set[Path]) -> None:
        self.calls.append(paths)
        self.threads.append(threading.current_thread())
        self.event.set()

    def wait_one(self) -> set[Path]:
        assert self.event.wait(5), "no change reported"
        # Quiet period longer than the debounce: any straggler event would produce a second call.
        time.sleep(DEBOUNCE * 3)
        assert len(self.calls) == 1, self.calls
        return self.calls[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    spec = tmp_path / "specs" / "auth"
    spec.mkdir(parents=True)
    (spec / "plan.md").write_text("## Phase 1: a\n\n- [ ] t\n")
    return tmp_path


@pytest.fixture
def watching(folder: Path):
    rec = Recorder()
    with SpecWatcher(folder, rec, debounce_s=DEBOUNCE):
        yield rec, folder / "specs" / "auth" / "plan.md"


def test_in_place_write(watching):
    rec, plan = watching
    with open(plan, "a") as fh:
        fh.write("- [ ] one\n")
        fh.flush()
        fh.write("- [ ] two\n")
    assert rec.wait_one() == {plan.resolve()}
    assert rec.threads[0] is not threading.main_thread()


def test_atomic_save_temp_then_replace(watching):
    rec, plan = watching
    tmp = plan.parent / ".plan.md.tmp123"
    tmp.write_text("## Phase 1: a\n\n- [x] t\n")
    os.replace(tmp, plan)
    assert rec.wait_one() == {plan.resolve()}


def test_phaser_atomic_write(watching):
    rec, plan = watching
    atomic_write(plan, "## Phase 1: a\n\n- [x] t\n")
    assert rec.wait_one() == {plan.resolve()}


def test_vim_backup_rename_dance(watching):
    rec, plan = watching
    backup = plan.parent / "plan.md~"
    os.rename(plan, backup)
    probe = plan.parent / "4913"
    probe.write_text("")
    probe.unlink()
    swap = plan.parent / ".plan.md.swp"
    swap.write_text("swap")
    with open(plan, "w") as fh:
        fh.write("## Phase 1: a\n\n- [x] t\n")
        os.fsync(fh.fileno())
    backup.unlink()
    swap.unlink()
    assert rec.wait_one() == {plan.resolve()}


def test_burst_of_files_is_one_callback(watching, folder):
    rec, plan = watching
    spec = plan.parent / "spec.md"
    spec.write_text("# spec\n")
    (folder / "phaser.toml").write_text("[phaser]\n")
    plan.write_text("changed\n")
    assert rec.wait_one() == {spec.resolve(), plan.resolve(), (folder / "phaser.toml").resolve()}


def test_ignored_files_do_not_call(watching):
    rec, plan = watching
    (plan.parent / ".plan.md.lock").write_text("")
    (plan.parent / "notes.txt").write_text("x")
    (plan.parent / ".plan.md.swp").write_text("x")
    (plan.parent / "sub").mkdir()
    assert not rec.event.wait(DEBOUNCE * 4)
    plan.write_text("now a real change\n")
    assert rec.wait_one() == {plan.resolve()}


def test_stop_drops_pending_and_callback_errors_are_contained(folder):
    plan = folder / "specs" / "auth" / "plan.md"
    calls: list[set[Path]] = []
    seen = threading.Event()

    def broken(paths: set[Path]) -> None:
        calls.append(paths)
        seen.set()
        raise RuntimeError("callback bug")

    watcher = SpecWatcher(folder, broken, debounce_s=DEBOUNCE).start()
    try:
        plan.write_text("one\n")
        assert seen.wait(5)
        seen.clear()
        plan.write_text("two\n")  # still delivered after the first callback raised
        assert seen.wait(5)
        plan.write_text("three\n")
    finally:
        watcher.stop()
    time.sleep(DEBOUNCE * 2)
    assert len(calls) == 2  # the change pending at stop() is dropped


@pytest.mark.parametrize(
    ("name", "watched"),
    [
        ("plan.md", True),
        ("phaser.toml", True),
        ("plan.md~", False),
        (".plan.md.swp", False),
        (".plan.md.lock", False),
        (".plan.md.abc.tmp", False),
        (".#plan.md", False),
        ("4913", False),
        ("notes.txt", False),
    ],
)
def test_is_watched(name, watched):
    assert is_watched(Path("/x") / name) is watched
