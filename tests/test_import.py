"""`phaser import`: plans from Spec Kit, Kiro, OpenSpec, Ralph and Task Master, via the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from phaser.cli import main
from phaser.plan import parse_plan, validate_path
from phaser.plan.refs import parse_number

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs").mkdir()
    return tmp_path


def place(root: Path, fixture: str, rel: str) -> Path:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / fixture, target)
    return target


def run(capsys, root: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["-C", str(root), "import", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def imported(root: Path, slug: str):
    path = root / "specs" / slug / "plan.md"
    assert validate_path(path) == []
    return parse_plan(path.read_text(encoding="utf-8"), path)


def tasks(phase) -> list[tuple[str, str]]:
    return [(t.text, t.state) for t in phase.tasks]


def test_spec_kit_tasks_md_with_bom_crlf_decimals_and_upper_x(tmp_path, capsys):
    root = project(tmp_path)
    source = place(root, "speckit-tasks.md", "kit/specs/001-photo-albums/tasks.md")
    assert source.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in source.read_bytes()
    code, out, err = run(capsys, root, str(source))
    assert code == 0, err
    assert (
        out.splitlines()[-1] == "imported speckit plan: 5 phases, 14 tasks -> specs/001-photo-albums/plan.md"
    )
    assert "  mapped: difficulty left unset (medium): set it per phase, or run phaser plan --revise" in out
    plan = imported(root, "001-photo-albums")
    assert plan.title == "Photo Albums"
    assert [str(p.number) for p in plan.phases] == ["1", "2", "3", "3.5", "4"]
    assert plan.phases[3].title == "Bug fixes found in review" and plan.phases[3].depends == [3]
    assert tasks(plan.phases[1]) == [
        ("T004 Set up SQLite schema in src/db/schema.sql", "done"),
        ("T005 [P] Implement album repository in src/db/albums.js", "blocked"),
        ("T006 [P] Implement photo repository in src/db/photos.js", "active"),
    ]
    text = plan.text
    assert "- [X] T001 Create project structure" in text and "- [x] T003 [P] Configure ESLint" in text
    assert "### Tests for User Story 1\n\n- [ ] T007" in text  # subheadings stay in place
    assert "**Checkpoint**: Foundation ready" in text and "## Dependencies & Execution Order" in text
    assert "\r" not in text and not text.startswith("\ufeff")
    assert [t.ref for t in plan.phases[3].tasks] == ["3.5#1", "3.5#2"]


def test_kiro_top_level_items_become_phases_and_sub_items_keep_their_numbers(tmp_path, capsys):
    root = project(tmp_path)
    source = place(root, "kiro-tasks.md", ".kiro/specs/user-auth/tasks.md")
    code, out, err = run(capsys, root, str(source))
    assert code == 0, err
    assert "imported kiro plan: 4 phases, 10 tasks -> specs/user-auth/plan.md" in out
    assert "  mapped: line 25: task 3.4 is 3.5 in phaser; its id stays in the text" in out
    plan = imported(root, "user-auth")
    assert [(p.number, p.title) for p in plan.phases] == [
        (1, "Set up project structure and core interfaces"),
        (2, "Implement data models and validation"),
        (3, "Create storage mechanism"),
        (4, "Checkpoint - Ensure all tests pass"),
    ]
    one, two, three, _ = plan.phases
    assert tasks(one) == [("Set up project structure and core interfaces", "done")]
    assert [(t.ref, t.text, t.state, t.optional) for t in two.tasks] == [
        ("2.1", "Create core data model interfaces and types", "done", False),
        ("2.2", "Implement User model with validation", "done", False),
        ("2.3", "Write unit tests for User model", "open", True),
    ]
    assert two.done  # the optional test task does not hold it back
    assert [(t.ref, t.text, t.depth) for t in three.tasks] == [
        ("3.1", "Implement database connection utilities", 0),
        ("3.2", "Implement repository pattern", 0),
        ("3.3", "3.2.1 Write the base repository", 1),
        ("3.4", "3.2.2 Write the user repository", 1),
        ("3.5", "3.4 Add migrations", 0),
    ]
    assert "- [X] Implement User model" in plan.text
    assert "  - _Requirements: 2.1, 3.3, 1.2_" in plan.text


def test_openspec_groups_become_phases(tmp_path, capsys):
    root = project(tmp_path)
    source = place(root, "openspec-tasks.md", "openspec/changes/add-2fa/tasks.md")
    code, out, err = run(capsys, root, str(source))
    assert code == 0, err
    assert "  not mapped: line 13: '3. Documentation' has no tasks; kept as prose" in out
    assert "  mapped: line 11: task 2.3 is 2.2 in phaser; its id stays in the text" in out
    plan = imported(root, "add-2fa")
    assert [(p.number, p.title) for p in plan.phases] == [(1, "Implementation"), (2, "Frontend")]
    assert tasks(plan.phases[0]) == [
        ("Create database schema for two-factor secrets", "done"),
        ("Implement OTP generation endpoint", "done"),
        ("Add OTP verification to the login flow", "open"),
        ("1.3.1 Rate-limit failed codes", "open"),
    ]
    assert tasks(plan.phases[1]) == [
        ("Add the OTP input component", "open"),
        ("2.3 Show recovery codes once", "open"),
    ]


def test_ralph_implementation_plan(tmp_path, capsys):
    root = project(tmp_path)
    source = place(root, "IMPLEMENTATION_PLAN.md", "jobs/IMPLEMENTATION_PLAN.md")
    code, out, err = run(capsys, root, str(source), "--slug", "jobs-loop")
    assert code == 0, err
    assert "  mapped: section 'Completed': plain bullets read as tasks" in out
    plan = imported(root, "jobs-loop")
    assert [(p.number, p.title) for p in plan.phases] == [
        (1, "Core loop"),
        (2, "CLI"),
        (3, "Completed"),
        (4, "Bugs found"),
    ]
    assert tasks(plan.phases[0]) == [
        ("Parse the config file (see specs/config.md)", "done"),
        ("Implement the scheduler", "open"),
        ("backoff when the queue is empty", "open"),
        ("Persist jobs to sqlite", "open"),
    ]
    assert tasks(plan.phases[2]) == [("Project skeleton and CI", "done"), ("Logging with structlog", "done")]
    assert plan.phases[2].notes == [
        "The sqlite driver needs WAL mode for concurrent readers",
        "Tests must not depend on wall-clock time",
    ]
    assert "Status: 3 of 9 items done." in plan.text


def test_task_master_tasks_json(tmp_path, capsys):
    root = project(tmp_path)
    source = place(root, "tasks.json", ".taskmaster/tasks/tasks.json")
    code, out, err = run(capsys, root, str(source), "--slug", "api")
    assert code == 0, err
    assert "  not mapped: subtask 2.5: status 'cancelled' has no box; kept open, noted" in out
    assert "  not mapped: task 4: depends on 9, not in the file; dropped" in out
    plan = imported(root, "api")
    one, two, three, four = plan.phases
    assert tasks(one) == [("Set up the repository", "done")]
    assert one.notes == [
        "Details: Use uv for packaging.",
        "Test strategy: CI runs on a pull request.",
        "Priority: high",
    ]
    assert tasks(two) == [
        ("Define request models", "done"),
        ("Add retries with backoff", "active"),
        ("Handle rate limits", "blocked"),
        ("Stream large responses (Task Master 2.5)", "open"),
    ]
    assert two.depends == [1] and four.depends == [2, 3]
    assert "Task 2.2 depends on 2.1 (Task Master subtask ids)" in two.notes
    assert three.status == "skipped" and plan.state(three) == "skipped"
    assert plan.next_phase() is two


def test_detection_and_from(tmp_path, capsys):
    root = project(tmp_path)
    source = place(root, "kiro-tasks.md", "notes/plan-draft.md")
    code, out, err = run(capsys, root, str(source), "--from", "kiro", "--slug", "k")
    assert code == 0, err
    assert "imported kiro plan: 4 phases" in out
    prose = root / "notes" / "prose.md"
    prose.write_text("# Ideas\n\nNothing with boxes here.\n")
    before = tree(root)
    code, out, err = run(capsys, root, str(prose))
    assert code == 2 and "cannot tell which tool wrote it; pass --from" in err
    assert tree(root) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tasks.json", '{"master": {"tasks": [\n  {"id": 1,, }\n]}}', "line 2: not valid JSON"),
        ("tasks.json", '{"version": 3}', 'no "tasks" list'),
        ("tasks.md", "## 1. Group\n\nNo tasks at all.\n", "no tasks found to import as openspec"),
        ("tasks.md", b"## 1. G\n- [ ] caf\xe9\n", "not valid UTF-8"),
    ],
)
def test_bad_input_writes_nothing(tmp_path, capsys, name, content, message):
    root = project(tmp_path)
    source = root / "in" / name
    source.parent.mkdir()
    source.write_bytes(content.encode() if isinstance(content, str) else content)
    before = tree(root)
    code, out, err = run(capsys, root, str(source), "--slug", "x")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert tree(root) == before


def test_an_existing_plan_is_never_overwritten(tmp_path, capsys):
    root = project(tmp_path)
    source = place(root, "openspec-tasks.md", "openspec/changes/add-2fa/tasks.md")
    (root / "specs" / "add-2fa").mkdir()
    (root / "specs" / "add-2fa" / "plan.md").write_text("## Phase 1: mine\n\n- [ ] keep\n")
    before = tree(root)
    code, out, err = run(capsys, root, str(source))
    assert code == 2 and "specs/add-2fa/plan.md already exists" in err
    assert tree(root) == before
    assert run(capsys, root, str(source), "--slug", "../escape")[0] == 2
    assert tree(root) == before


def test_missing_file(tmp_path, capsys):
    root = project(tmp_path)
    code, out, err = run(capsys, root, str(root / "nope.md"))
    assert code == 2 and "no such file" in err


def test_imported_plan_ticks_by_source_numbers(tmp_path, capsys):
    root = project(tmp_path)
    source = place(root, "speckit-tasks.md", "kit/tasks.md")
    assert run(capsys, root, str(source), "--slug", "kit")[0] == 0
    assert main(["-C", str(root), "tick", "kit", "3.5#2"]) == 0
    capsys.readouterr()
    plan = imported(root, "kit")
    assert plan.phase(parse_number("3.5")).tasks[1].state == "done"
    assert "- [X] T012 Fix tile flicker on resize" in plan.text  # the source wrote [X]
