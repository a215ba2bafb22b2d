"""`phaser status` answers an unchanged project from its snapshot (.phaser/cache/status/) without
importing the config, the plan model or dataclasses, prints exactly what a fresh computation prints,
and is never stale: any byte of a plan, a spec or the settings, a spec folder added or removed, a
`spec:` file deleted, misses; the live parts (commits, runs, passed-on models) follow every call; a
save that lands while a snapshot is computed never leaves one behind. Run as users run it: the
console script in a subprocess, its imports recorded by Python (PYTHONPROFILEIMPORTTIME)."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from phaser.config import DEFAULT_TOML
from test_status_startup import run_recorded
from workflow_helpers import git

SPEC = "---\ntitle: Word stats\n---\n\n# Word stats\n\nCount words.\n"
PLAN = (
    "---\ntitle: Word stats\nspec: spec.md\n---\n\n# Word stats\n\n"
    "## Phase 1: Setup\n\ndifficulty: easy\n\n- [x] scaffold\n- [x] readme\n\n"
    "## Phase 2: Count\n\ndepends: 1\n\n- [ ] count words\n\n"
    "## Phase 2.5: Inserted\n\ndepends: 2\nstatus: skipped\n\n- [ ] an inserted step\n\n"
    "## Phase 3: Report\n\ndifficulty: hard\ndepends: 2\nstatus: blocked\n\n- [~] report\n- [-] chart\n"
)
FULL_WAY = {"phaser.config", "phaser.plan.model", "phaser.workflow.status"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / ".phaser").mkdir(parents=True)
    (root / "phaser.toml").write_text(DEFAULT_TOML)
    folder = root / "specs" / "word-stats"
    folder.mkdir(parents=True)
    (folder / "spec.md").write_text(SPEC)
    (folder / "plan.md").write_text(PLAN)
    (root / "specs" / "later").mkdir()
    (root / "specs" / "later" / "spec.md").write_text("# Later\n")  # a spec with no plan yet
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "phase 1: Setup\n\nPhaser-Phase: word-stats/1")
    return root


def status(root: Path, *argv: str) -> tuple[str, str, int, set[str]]:
    proc, modules = run_recorded("-C", str(root), "status", *argv)
    return proc.stdout, proc.stderr, proc.returncode, modules


def fresh(root: Path, tmp_path: Path, *argv: str) -> tuple[str, str, int]:
    """What a status computed from scratch prints: the same tree, copied without any cache."""
    copy = tmp_path / "fresh"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns("cache"))
    out, err, code, modules = status(copy, *argv)
    assert modules >= FULL_WAY  # it did compute
    return out, err.replace(str(copy), str(root)), code


def test_a_hit_prints_what_a_fresh_computation_prints_without_the_full_way(project: Path, tmp_path: Path):
    for argv in ([], ["--json"], ["word-stats"], ["word-stats", "--json"]):
        first = status(project, *argv)
        if "--json" not in argv:  # the first call for a spec argument computes, writes the snapshot
            assert first[3] >= FULL_WAY, argv
        hit = status(project, *argv)
        assert FULL_WAY & hit[3] == set(), argv
        assert hit[:3] == first[:3] and first[2] == 0, argv
        assert hit[:3] == fresh(project, tmp_path, *argv)
    out = status(project)[0]
    assert "phases 2/4  tasks 2/6  next: phase 2" in out
    commit = git(project, "rev-parse", "HEAD").strip()
    assert commit[:10] in out  # phase 1's commit, from git on a hit too
    assert "later: specs/later/plan.md: no plan yet: phaser plan later" in out
    data = json.loads(status(project, "--json")[0])["plans"]
    assert [p["state"] for p in data[1]["phases"]] == ["done", "next", "skipped", "blocked"]
    assert data[1]["phases"][2]["number"] == "2.5"


def test_an_unreadable_plan_is_reported_the_same_from_the_snapshot(project: Path, tmp_path: Path):
    plan = project / "specs" / "word-stats" / "plan.md"
    plan.write_text("---\ntitle: [unclosed\n---\n# Word stats\n")
    for _ in range(2):
        out, err, code, _modules = status(project)
        assert code == 2 and err.startswith("phaser: specs/word-stats/plan.md:3: invalid YAML"), err
        assert (out, err, code) == fresh(project, tmp_path)


def _toggle_same_size(root: Path) -> None:
    plan = root / "specs" / "word-stats" / "plan.md"
    plan.write_text(plan.read_text().replace("- [ ] count words", "- [x] count words"))


def _edit_spec(root: Path) -> None:
    (root / "specs" / "word-stats" / "spec.md").write_text("---\ntitle: [unclosed\n---\n# Word stats\n")


def _settings(root: Path) -> None:
    toml = root / "phaser.toml"
    toml.write_text(DEFAULT_TOML.replace('# easy = "claude-haiku-5-5"', 'easy = "my-easy"'))


def _new_spec(root: Path) -> None:
    (root / "specs" / "more").mkdir()
    (root / "specs" / "more" / "plan.md").write_text(PLAN.replace("Word stats", "More"))


def _spec_folder_gone(root: Path) -> None:
    shutil.rmtree(root / "specs" / "later")


def _plan_appears(root: Path) -> None:
    (root / "specs" / "later" / "plan.md").write_text(PLAN.replace("Word stats", "Later"))


def _spec_reference_gone(root: Path) -> None:
    (root / "specs" / "word-stats" / "spec.md").rename(root / "specs" / "word-stats" / "moved.md")


def _plan_made_a_folder(root: Path) -> None:
    plan = root / "specs" / "word-stats" / "plan.md"
    plan.unlink()
    plan.mkdir()


def _pyproject(root: Path) -> None:
    (root / "phaser.toml").unlink()
    (root / "pyproject.toml").write_text('[tool.phaser.models]\neasy = "from-pyproject"\n')


def _touched_only(root: Path) -> None:
    plan = root / "specs" / "word-stats" / "plan.md"
    os.utime(plan, ns=(plan.stat().st_atime_ns, plan.stat().st_mtime_ns + 10**9))


CHANGES: dict[str, Callable[[Path], None]] = {
    "a task toggled (same size)": _toggle_same_size,
    "the spec broken": _edit_spec,
    "phaser.toml": _settings,
    "a spec folder added": _new_spec,
    "a spec folder removed": _spec_folder_gone,
    "a plan written for a spec": _plan_appears,
    "the spec: file moved": _spec_reference_gone,
    "the plan made a folder": _plan_made_a_folder,
    "settings moved to pyproject.toml": _pyproject,
    "a plan touched, bytes unchanged": _touched_only,
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_every_change_of_an_input_is_shown(project: Path, tmp_path: Path, change: str):
    for argv in ([], ["--json"]):
        status(project, *argv)  # the snapshot is written
    before = status(project)[0]
    CHANGES[change](project)
    for argv in ([], ["--json"]):
        after = status(project, *argv)
        assert after[:3] == fresh(project, tmp_path, *argv), (change, argv)
        again = status(project, *argv)  # and the snapshot of the new state serves it the same
        assert again[:3] == after[:3]
    touched = change == "a plan touched, bytes unchanged"
    assert (status(project)[0] == before) == touched, change
    if touched:
        assert FULL_WAY & status(project)[3] == set()  # the same bytes: still a hit


def test_the_live_parts_follow_every_call_on_a_hit(project: Path):
    status(project)
    state = project / ".phaser"
    (state / "active").mkdir()
    (state / "active" / "word-stats.json").write_text(
        json.dumps({"phase": 2, "started": "2026-12-02T03:00Z"})
    )
    out, _err, _code, modules = status(project)
    assert FULL_WAY & modules == set()
    assert "! phase 2 did not finish (started 2026-12-02T03:00Z)" in out
    assert json.loads(status(project, "--json")[0])["plans"][1]["state"] == "interrupted"
    (state / "active" / "word-stats.json").unlink()
    journal = state / "runs" / "word-stats" / "1" / "20261202T030000Z" / "journal.jsonl"
    journal.parent.mkdir(parents=True)
    journal.write_text(json.dumps({"kind": "outcome", "outcome": "passed", "model": "ran-on-this"}) + "\n")
    (project / "notes.txt").write_text("more\n")
    git(project, "add", "notes.txt")
    git(project, "commit", "-qm", "phase 1: Setup\n\nPhaser-Phase: word-stats/1")
    out, _err, _code, modules = status(project)
    assert FULL_WAY & modules == set()
    assert git(project, "rev-parse", "HEAD").strip()[:10] in out and "ran-on-this" in out
    assert "did not finish" not in out


def test_a_save_landing_while_the_snapshot_is_computed_leaves_none_behind(project: Path, monkeypatch):
    """A person saves while status computes (the computation sees the new bytes) and then puts the
    file back: the next status must show the file as it is, not what was computed mid-save."""
    from phaser.workflow import status as status_module
    from phaser.workflow.status_report import report

    plan = project / "specs" / "word-stats" / "plan.md"
    original = plan.read_text()
    real = status_module.static_status
    saved: list[bool] = []

    def saving(project_, info, plan_=None):
        if info.slug == "word-stats" and not saved:
            plan.write_text(original.replace("- [ ] count words", "- [x] count words"))
            saved.append(True)
        return real(project_, info, plan_)

    monkeypatch.setattr(status_module, "static_status", saving)
    mid = report(project)
    assert mid[1]["phases"][1]["tasks_done"] == 1  # computed from the save that landed
    monkeypatch.setattr(status_module, "static_status", real)
    plan.write_text(original)  # put back: the bytes the computation started from
    assert report(project)[1]["phases"][1]["tasks_done"] == 0


def test_a_fifo_where_the_plan_is_does_not_hang_status(project: Path, tmp_path: Path):
    plan = project / "specs" / "word-stats" / "plan.md"
    plan.unlink()
    os.mkfifo(plan)
    out, err, code, _modules = status(project)  # run_recorded times out after 120 s
    assert code == 2 and "specs/word-stats/plan.md: is not a file" in err + out, (out, err)


def test_a_spec_file_named_outside_the_folder_is_watched(project: Path, tmp_path: Path):
    """The plan's `spec:` may name a file elsewhere: its existence is part of what a snapshot is of."""
    brief = project / "docs" / "brief.md"
    brief.parent.mkdir()
    brief.write_text("# Brief\n")
    plan = project / "specs" / "word-stats" / "plan.md"
    plan.write_text(PLAN.replace("spec: spec.md", "spec: ../../docs/brief.md"))
    assert "does not exist" not in status(project)[0]
    brief.unlink()
    out = status(project)[0]
    assert "spec: ../../docs/brief.md does not exist beside the plan" in out
    assert status(project)[:3] == fresh(project, tmp_path)
    brief.write_text("# Brief\n")
    assert "does not exist" not in status(project)[0]


def _phase_commit(root: Path, note: str) -> str:
    (root / "notes.txt").write_text(note)
    git(root, "add", "notes.txt")
    git(root, "commit", "-qm", "phase 1: Setup\n\nPhaser-Phase: word-stats/1")
    return git(root, "rev-parse", "HEAD").strip()


def _shown_commit(root: Path) -> tuple[str, bool]:
    """Phase 1's commit as `status --json` gives it, and whether git ran for it."""
    out, err, code, modules = status(root, "--json")
    assert code == 0, err
    return json.loads(out)["plans"][1]["phases"][0]["commit"], "subprocess" in modules


def test_phase_commits_follow_head_and_git_runs_only_when_head_moved(project: Path):
    first = git(project, "rev-parse", "HEAD").strip()
    assert _shown_commit(project) == (first, True)
    assert _shown_commit(project) == (first, False)  # HEAD where it was: the history read last time
    second = _phase_commit(project, "one\n")
    assert _shown_commit(project) == (second, True)
    git(project, "pack-refs", "--all")  # the branch now only in packed-refs
    assert _shown_commit(project) == (second, False)
    git(project, "reset", "-q", "--hard", first)
    assert _shown_commit(project) == (first, True)
    git(project, "checkout", "-q", "--detach", second)
    assert _shown_commit(project) == (second, True)
    assert _shown_commit(project) == (second, False)
    git(project, "checkout", "-q", "-b", "other", first)
    third = _phase_commit(project, "other\n")
    assert _shown_commit(project) == (third, True)
    git(project, "checkout", "-q", "-")  # back to the detached second
    assert _shown_commit(project)[0] == second


def test_phase_commits_in_a_worktree_and_with_git_variables(project: Path, tmp_path: Path, monkeypatch):
    first = git(project, "rev-parse", "HEAD").strip()
    linked = tmp_path / "linked"
    git(project, "worktree", "add", "-q", "-b", "side", str(linked))
    (linked / ".phaser").mkdir()
    assert _shown_commit(linked) == (first, True)
    assert _shown_commit(linked) == (first, False)
    second = _phase_commit(linked, "side\n")  # the worktree's branch moves, the main checkout's not
    assert _shown_commit(linked) == (second, True)
    assert _shown_commit(project)[0] == first
    monkeypatch.setenv("GIT_DIR", str(project / ".git"))  # git would read another repository now
    assert _shown_commit(linked) == (first, True)


def test_the_journal_word_status_reads_is_the_outcome_passed():
    from phaser.outcomes import Outcome
    from phaser.workflow.status_live import PASSED

    assert Outcome.of(PASSED) is Outcome.PASSED


def run_on_a_terminal(root: Path, *argv: str) -> tuple[str, set[str]]:
    """phaser with stdout a pseudo-terminal (as a person runs it); what it showed and imported."""
    import pty
    import select
    import subprocess

    from test_status_startup import phaser_command

    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "COLUMNS": "120", "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [*phaser_command(), "-C", str(root), *argv], stdout=slave, stderr=subprocess.PIPE, env=env
    )
    os.close(slave)
    shown = b""
    while True:  # read until the terminal closes (the process has exited and all is read)
        ready, _, _ = select.select([master], [], [], 120)
        assert ready, "no output within 120 s"
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(timeout=120) == 0, err[-2000:]
    modules = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", err, re.MULTILINE))
    return shown.decode(), modules


def test_on_a_terminal_status_is_coloured_without_rich_and_controls_are_made_visible(project: Path):
    plan = project / "specs" / "word-stats" / "plan.md"
    plan.write_text(PLAN.replace("## Phase 2: Count", "## Phase 2: Count \x1b]52;c;aGk=\x07words"))
    for _ in range(2):  # computed, then from the snapshot
        shown, modules = run_on_a_terminal(project, "status")
        assert "\x1b[1;36m" in shown and "\x1b[32m" in shown  # next in bold cyan, done in green
        assert "rich" not in modules and "rich.console" not in modules
        assert "Count \ufffd]52;c;aGk=\ufffdwords" in shown and "\x1b]52" not in shown
    piped = status(project)[0]
    assert "\x1b[" not in piped and "Count \x1b]52" in piped  # a pipe: no colour, the text as it is
