"""What real plans from other tools contain: dotted phases, other box states, loose tasks, done marks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phaser.cli import main
from phaser.errors import UsageError
from phaser.plan import parse_plan, validate_text
from phaser.plan.refs import PhaseNumber, parse_number, parse_ref, task_ref


def problems(text: str) -> list[str]:
    return [str(p) for p in validate_text(text, Path("plan.md"))]


def project(tmp_path: Path, text: str | bytes) -> Path:
    (tmp_path / ".git").mkdir()
    folder = tmp_path / "specs" / "demo"
    folder.mkdir(parents=True)
    (folder / "plan.md").write_bytes(text.encode() if isinstance(text, str) else text)
    return folder / "plan.md"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


DOTTED = (
    "## Phase 3: Base\n\n- [x] base\n\n## Phase 3.5: Bug fixes\n\ndepends: 3\n\n- [ ] fix one\n- [ ] fix "
    "two\n\n"
    "## Phase 12.3.1: Deep\n\ndepends: 3.5\n\n- [ ] deep\n"
)


def test_dotted_phase_numbers_parse_compare_and_format():
    plan = parse_plan(DOTTED)
    numbers = [p.number for p in plan.phases]
    assert [str(n) for n in numbers] == ["3", "3.5", "12.3.1"]
    assert [p.title for p in plan.phases] == ["Base", "Bug fixes", "Deep"]
    assert numbers[0] == 3 and type(numbers[0]) is int
    assert numbers[1] != 3 and numbers[1] == parse_number("3.5") and numbers[1] in {parse_number("3.5")}
    assert sorted([numbers[2], numbers[1], numbers[0], 4]) == [3, numbers[1], 4, numbers[2]]
    assert f"{numbers[1]}|{numbers[1]:>5}" == "3.5|  3.5"
    assert plan.phases[2].depends == [numbers[1]]
    assert [t.ref for t in plan.phases[1].tasks] == ["3.5#1", "3.5#2"]
    assert plan.phase(parse_number("3.5")) is plan.phases[1] and plan.phase(3) is plan.phases[0]
    assert problems(DOTTED) == []  # no phantom duplicate phase 3


def test_task_refs_are_unambiguous():
    assert parse_ref("2.3") == (2, 3) and parse_ref("2#3") == (2, 3)
    assert parse_ref(" 3.5#2 ") == (PhaseNumber((3, 5)), 2)
    assert task_ref(2, 3) == "2.3" and task_ref(PhaseNumber((12, 3, 1)), 4) == "12.3.1#4"
    with pytest.raises(UsageError, match=r"ambiguous: write 3\.5#2 .* or 3\.5\.2#N"):
        parse_ref("3.5.2")
    with pytest.raises(UsageError, match="PHASE#TASK"):
        parse_ref("three")


def test_tick_a_dotted_phase_task_from_the_cli(tmp_path, capsys):
    path = project(tmp_path, DOTTED)
    code, out, err = cli(capsys, "-C", str(tmp_path), "tick", "3.5#2")
    assert code == 0, err
    assert "3.5#2" in out
    assert path.read_text() == DOTTED.replace("- [ ] fix two", "- [x] fix two")
    code, out, err = cli(capsys, "-C", str(tmp_path), "tick", "3.5.2")
    assert code == 2 and "ambiguous" in err
    code, out, err = cli(capsys, "-C", str(tmp_path), "note", "3.5", "found the cause")
    assert code == 0, err
    assert "### Notes\n\n- found the cause\n" in path.read_text()
    code, out, err = cli(capsys, "-C", str(tmp_path), "status", "--json")
    data = json.loads(out)["plans"][0]
    assert [p["number"] for p in data["phases"]] == [3, "3.5", "12.3.1"]
    assert data["next"] == "3.5" and data["phases"][2]["depends"] == ["3.5"]


def test_an_italic_line_is_not_metadata():
    text = "## Phase 1: Research\n\n_Output: research.md_\n\n- [ ] read\n"
    plan = parse_plan(text)
    assert plan.phases[0].meta == {}
    assert problems(text) == []


def test_other_checkbox_states_are_tasks_or_reported():
    text = (
        "## Phase 1: Work\n\n- [X] done upper\n- [x] done\n- [-] in progress\n- [~] blocked\n"
        "- [ ]* optional (Kiro)\n- [?] unknown\n- [] empty\n- [a] a link-like label\n"
    )
    phase = parse_plan(text).phases[0]
    assert [(t.text, t.state, t.checked, t.optional) for t in phase.tasks] == [
        ("done upper", "done", True, False),
        ("done", "done", True, False),
        ("in progress", "active", False, False),
        ("blocked", "blocked", False, False),
        ("optional (Kiro)", "open", False, True),
    ]
    assert not phase.done
    assert problems(text) == [
        "plan.md:8: checkbox [?] is not a task state phaser knows (use [ ], [x], [-] in progress, [~] "
        "blocked)",
        "plan.md:9: checkbox [] is not a task state phaser knows (use [ ], [x], [-] in progress, [~] "
        "blocked)",
    ]


def test_optional_tasks_do_not_hold_a_phase_back():
    plan = parse_plan("## Phase 1: a\n\n- [x] must\n- [ ]* nice to have\n\n## Phase 2: b\n\n- [ ] next\n")
    assert plan.phases[0].done and plan.next_phase() is plan.phases[1]


def test_blocked_tasks_are_counted_in_status(tmp_path, capsys):
    project(tmp_path, "## Phase 1: a\n\n- [x] one\n- [~] two\n- [-] three\n")
    code, out, err = cli(capsys, "-C", str(tmp_path), "status", "--json")
    [phase] = json.loads(out)["plans"][0]["phases"]
    assert (phase["tasks_done"], phase["tasks_total"], phase["tasks_blocked"], phase["tasks_active"]) == (
        1,
        3,
        1,
        1,
    )
    assert phase["state"] == "next"


def test_tasks_outside_any_phase_are_reported(tmp_path, capsys):
    text = "# Plan\n\n- [ ] 1. Set up\n- [x] 2. Configure\n\n## Phase 1: Rest\n\n- [ ] rest\n"
    assert problems(text) == [
        "plan.md:3: task outside any phase: '1. Set up' (move it under a '## Phase N:' heading)",
        "plan.md:4: task outside any phase: '2. Configure' (move it under a '## Phase N:' heading)",
    ]
    project(tmp_path, text)
    code, out, err = cli(capsys, "-C", str(tmp_path), "status", "--json")
    data = json.loads(out)["plans"][0]
    assert data["loose_tasks"] == ["specs/demo/plan.md:3: 1. Set up", "specs/demo/plan.md:4: 2. Configure"]
    assert data["state"] == "invalid"


@pytest.mark.parametrize(
    "heading",
    ["## Phase 1 ✅ — Setup", "## ✅ Phase 1: Setup", "## Phase 1: Setup (done)", "## Phase 1: Setup ✔️"],
)
def test_a_done_mark_in_the_heading_means_done(heading):
    plan = parse_plan(f"{heading}\n\nShipped.\n\n## Phase 2: Next\n\n- [ ] go\n")
    assert plan.phases[0].title == "Setup" and plan.phases[0].done
    assert plan.next_phase() is plan.phases[1]


def test_a_phase_without_tasks_is_reported():
    text = "## Phase 1: Empty\n\nProse only.\n\n## Phase 2: Real\n\n- [ ] t\n"
    assert problems(text) == [
        "plan.md:1: warning: phase 1 has no tasks, so it can never finish: add '- [ ] ...' tasks,"
        " or mark it done ('status: done' or ✅ in its heading)"
    ]
    assert problems("## Phase 1 ✅ — Empty\n\nProse only.\n") == []


def test_no_phases_is_one_clear_state_never_complete(tmp_path, capsys):
    project(tmp_path, "# Just a title\n\nSome prose.\n")
    code, out, err = cli(capsys, "-C", str(tmp_path), "status", "--json")
    data = json.loads(out)["plans"][0]
    assert data["state"] == "invalid"
    assert data["cause"] == "specs/demo/plan.md:1: no phases: a plan needs headings like '## Phase 1: Title'"
    code, out, err = cli(capsys, "-C", str(tmp_path), "status")
    assert "complete" not in out and "no phases" in out


def test_broken_yaml_is_the_first_and_only_cause():
    text = "---\ntitle: [broken\n---\n# Title\n"
    assert problems(text) == [
        "plan.md:3: invalid YAML frontmatter: expected ',' or ']', but got '<stream end>'"
    ]


def test_broken_yaml_status_names_the_yaml(tmp_path, capsys):
    project(tmp_path, "---\ntitle: [broken\n---\n# x\n")
    code, out, err = cli(capsys, "-C", str(tmp_path), "status", "--json")
    data = json.loads(out)["plans"][0]
    assert data["state"] == "unreadable" and "invalid YAML frontmatter" in data["cause"]


def test_undo_then_tick_keeps_the_authors_case(tmp_path, capsys):
    text = "## Phase 1: a\n\n- [X] T001 one\n- [X] T002 two\n- [ ] T003 three\n"
    path = project(tmp_path, text)
    assert cli(capsys, "-C", str(tmp_path), "tick", "1.1", "--undo")[0] == 0
    assert path.read_text() == text.replace("- [X] T001", "- [ ] T001")
    assert cli(capsys, "-C", str(tmp_path), "tick", "1.1")[0] == 0
    assert path.read_text() == text
    assert cli(capsys, "-C", str(tmp_path), "tick", "1.3")[0] == 0
    assert path.read_text() == text.replace("- [ ] T003", "- [X] T003")


def test_tick_a_blocked_or_active_task():
    from phaser.plan import SetTask, apply

    text = "## Phase 1: a\n\n- [~] blocked\n- [-] active\n"
    assert apply(text, SetTask("1.1", True)) == text.replace("[~]", "[x]")
    assert apply(text, SetTask("1.2", True)) == text.replace("[-]", "[x]")
    assert apply(text, SetTask("1.2", False)) == text  # not done already: --undo leaves its mark


def test_runnable_later_phases_read_ready_and_states_are_one_pass():
    text = (
        "".join(f"## Phase {n}: p{n}\n\n- [ ] t\n\n" for n in range(1, 4))
        + "## Phase 4: d\ndepends: 3\n\n- [ ] t\n"
    )
    plan = parse_plan(text)
    assert [plan.state(p) for p in plan.phases] == ["next", "ready", "ready", "pending"]
