from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
import threading
from pathlib import Path

import pytest

from phaser.errors import EditConflict, PlanError
from phaser.plan import (
    AddTask,
    SetMeta,
    SetTask,
    atomic_write,
    edit_plan,
    is_own_write,
    last_written,
    parse_plan,
    read_plan,
)
from phaser.plan.store import lock_path

PLAN = "---\ntitle: T\n---\n## Phase 1: a\n\nSome prose.\n\n- [ ] one\n- [ ] two\n- [ ] three\n- [ ] four\n"


@pytest.fixture
def plan_file(tmp_path: Path) -> Path:
    path = tmp_path / "plan.md"
    path.write_bytes(PLAN.encode())
    return path


# --- read_plan --------------------------------------------------------------------------------


def test_read_plan(plan_file):
    plan = read_plan(plan_file)
    assert plan.path == plan_file and plan.text == PLAN and len(plan.phases[0].tasks) == 4


def test_read_plan_keeps_crlf_bytes(tmp_path):
    path = tmp_path / "plan.md"
    path.write_bytes(PLAN.replace("\n", "\r\n").encode())
    assert read_plan(path).text == PLAN.replace("\n", "\r\n")


def test_read_missing_and_directory(tmp_path):
    with pytest.raises(PlanError) as info:
        read_plan(tmp_path / "nope.md")
    assert info.value.path == str(tmp_path / "nope.md") and "no such file" in str(info.value)
    with pytest.raises(PlanError, match="directory"):
        read_plan(tmp_path)


def test_read_non_utf8_names_line(tmp_path):
    path = tmp_path / "plan.md"
    path.write_bytes(b"# ok\n\nline three \xff\n")
    with pytest.raises(PlanError) as info:
        read_plan(path)
    assert info.value.line == 3 and info.value.path == str(path) and "UTF-8" in info.value.msg


def test_read_binary(tmp_path):
    path = tmp_path / "plan.md"
    path.write_bytes(b"# x\n\x00\x01\x02")
    with pytest.raises(PlanError, match="binary"):
        read_plan(path)


# --- atomic_write -----------------------------------------------------------------------------


def test_atomic_write_keeps_mode_and_bytes(plan_file):
    os.chmod(plan_file, 0o600)
    atomic_write(plan_file, "a\r\nb\n")
    assert plan_file.read_bytes() == b"a\r\nb\n"
    assert stat.S_IMODE(plan_file.stat().st_mode) == 0o600
    atomic_write(plan_file, b"\xffraw")
    assert plan_file.read_bytes() == b"\xffraw"
    assert [p.name for p in plan_file.parent.iterdir()] == ["plan.md"]  # no temp file left behind


def test_atomic_write_new_file_mode(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.md", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o644


def test_atomic_write_through_symlink(tmp_path, plan_file):
    link = tmp_path / "link.md"
    link.symlink_to(plan_file)
    atomic_write(link, "changed\n")
    assert link.is_symlink()
    assert plan_file.read_text() == "changed\n"


# --- edit_plan --------------------------------------------------------------------------------


def test_edit_plan_writes_and_returns_plan(plan_file):
    plan = edit_plan(plan_file, SetTask("1.2", True))
    assert plan_file.read_text() == PLAN.replace("- [ ] two", "- [x] two")
    assert plan.text == plan_file.read_text() and plan.path == plan_file
    assert [t.checked for t in plan.phases[0].tasks] == [False, True, False, False]
    assert last_written(plan_file) == hashlib.sha256(plan_file.read_bytes()).hexdigest()
    assert is_own_write(plan_file)
    plan_file.write_text(plan_file.read_text() + "human\n")
    assert not is_own_write(plan_file)


def test_toggle_fast_path_needs_no_parse_and_matches_full_parse(plan_file, monkeypatch):
    import phaser.plan.parse as parse_module

    read_plan(plan_file)
    real = parse_module.parse_with_layout

    def forbidden(*args, **kwargs):
        raise AssertionError("a toggle after a read should not re-parse")

    monkeypatch.setattr(parse_module, "parse_with_layout", forbidden)
    plans = [
        edit_plan(plan_file, SetTask(ref, checked))
        for ref, checked in (("1.1", True), ("1.3", True), ("1.1", False))
    ]
    assert edit_plan(plan_file, SetTask("1.2", True), parse_result=False) is None
    monkeypatch.setattr(parse_module, "parse_with_layout", real)
    assert plan_file.read_text() == PLAN.replace("[ ] two", "[x] two").replace("[ ] three", "[x] three")
    fresh = parse_plan(plans[-1].text, plan_file)
    assert [(t.line, t.checked, t.text) for t in plans[-1].phases[0].tasks] == [
        (t.line, t.checked, t.text) for t in fresh.phases[0].tasks
    ]
    assert [t.checked for t in plans[0].phases[0].tasks] == [True, False, False, False]


def test_edit_plan_no_change_does_not_write(plan_file):
    edit_plan(plan_file, SetTask("1.1", True))
    before = plan_file.stat().st_mtime_ns, plan_file.stat().st_ino
    edit_plan(plan_file, SetTask("1.1", True))
    assert (plan_file.stat().st_mtime_ns, plan_file.stat().st_ino) == before


def test_compare_and_swap_keeps_human_edit(plan_file):
    base = plan_file.read_text()
    # A human saves while phaser is working: inserts a task above ours and edits prose.
    human = base.replace("- [ ] one\n", "- [ ] zero, added by hand\n- [ ] one\n").replace(
        "Some prose.", "Better prose."
    )
    plan_file.write_text(human)
    plan = edit_plan(plan_file, SetTask("1.2", True), base=base)  # "1.2" meant "two" in base
    text = plan_file.read_text()
    assert "Better prose." in text and "zero, added by hand" in text
    assert [t.text for t in plan.phases[0].tasks if t.checked] == ["two"]
    assert text == human.replace("- [ ] two", "- [x] two")


def test_compare_and_swap_target_gone_leaves_file_untouched(plan_file):
    base = plan_file.read_text()
    human = base.replace("- [ ] two\n", "")
    plan_file.write_text(human)
    with pytest.raises(EditConflict, match="two"):
        edit_plan(plan_file, SetTask("1.2", True), base=base)
    assert plan_file.read_text() == human


def test_phase_gone_is_conflict(plan_file):
    base = plan_file.read_text()
    plan_file.write_text("# emptied by a human\n")
    with pytest.raises(EditConflict):
        edit_plan(plan_file, SetMeta(1, "status", "done"), base=base)
    assert plan_file.read_text() == "# emptied by a human\n"


def test_lock_timeout_is_conflict(plan_file, monkeypatch):
    from filelock import FileLock

    import phaser.plan.store as store

    monkeypatch.setattr(store, "LOCK_TIMEOUT_S", 0.1)
    held = FileLock(str(lock_path(plan_file)))
    done = threading.Event()
    result: list[BaseException] = []

    def other() -> None:  # another thread's lock instance conflicts like another process would
        try:
            edit_plan(plan_file, SetTask("1.1", True))
        except EditConflict as exc:
            result.append(exc)
        done.set()

    with held:
        thread = threading.Thread(target=other)
        thread.start()
        assert done.wait(5)
        thread.join()
    assert len(result) == 1 and "lock" in str(result[0])
    assert plan_file.read_text() == PLAN
    # the lock is phaser's, under .phaser/locks/, never a file beside the person's plan
    assert lock_path(plan_file).parent != plan_file.parent
    assert sorted(p.name for p in plan_file.parent.iterdir()) == [plan_file.name]


def test_concurrent_threads_all_edits_land(plan_file):
    refs = ["1.1", "1.2", "1.3", "1.4"]
    barrier = threading.Barrier(len(refs))
    errors: list[BaseException] = []

    def worker(ref: str) -> None:
        try:
            barrier.wait(5)
            for _ in range(5):
                edit_plan(plan_file, SetTask(ref, True))
                edit_plan(plan_file, SetTask(ref, False))
            edit_plan(plan_file, SetTask(ref, True))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(r,)) for r in refs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert all(t.checked for t in read_plan(plan_file).phases[0].tasks)


def _process_worker(path: str, ref: str, n: int) -> None:
    for i in range(n):
        edit_plan(Path(path), AddTask(1, f"from {ref} #{i}"))
    edit_plan(Path(path), SetTask(ref, True))


def test_concurrent_processes_all_edits_land(plan_file):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_worker, args=(str(plan_file), ref, 5)) for ref in ("1.1", "1.2")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    tasks = read_plan(plan_file).phases[0].tasks
    texts = [t.text for t in tasks]
    for ref in ("1.1", "1.2"):
        assert all(f"from {ref} #{i}" in texts for i in range(5))
    assert tasks[0].checked and tasks[1].checked and len(tasks) == 14


def test_plan_lock_lives_under_dot_phaser_not_in_specs(tmp_path):
    """The lock is phaser's state: under .phaser/locks/, never a file in the person's specs/ folder."""
    root = tmp_path / "proj"
    plan = root / "specs" / "demo" / "plan.md"
    plan.parent.mkdir(parents=True)
    (root / "phaser.toml").write_text("", encoding="utf-8")
    plan.write_text(PLAN, encoding="utf-8")
    edit_plan(plan, SetTask("1.1", True))
    assert lock_path(plan).parent == root / ".phaser" / "locks"
    assert sorted(p.name for p in plan.parent.iterdir()) == ["plan.md"]
    assert not any(p.name.endswith(".lock") for p in (root / "specs").rglob("*"))
