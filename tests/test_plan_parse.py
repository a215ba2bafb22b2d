from __future__ import annotations

from pathlib import Path

import pytest

from phaser.errors import PlanError
from phaser.plan import parse_plan, split_lines

FIXTURES = Path(__file__).parent / "fixtures" / "plans"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def line_of(text: str, needle: str) -> int:
    """0-based line index of the first line containing needle."""
    for i, line in enumerate(split_lines(text)):
        if needle in line:
            return i
    raise AssertionError(needle)


@pytest.fixture
def full():
    text = fixture("full.md")
    return text, parse_plan(text, FIXTURES / "full.md")


def test_frontmatter_title_and_spans(full):
    text, plan = full
    assert plan.frontmatter == {"title": "Token auth", "spec": "spec.md", "format": 1}
    assert plan.frontmatter_span == (0, 5)
    assert plan.title == "Token auth"
    assert plan.path == FIXTURES / "full.md"
    assert plan.text == text


def test_h1_is_title_fallback():
    plan = parse_plan("# My plan\n\n## Phase 1: a\n")
    assert plan.title == "My plan"
    assert plan.frontmatter == {}
    assert plan.frontmatter_span is None


def test_phases_numbers_titles_and_ranges(full):
    text, plan = full
    assert [(p.number, p.title) for p in plan.phases] == [(1, "Setup"), (2, "Token refresh"), (3, "Cleanup")]
    p1, p2, p3 = plan.phases
    assert p1.line == line_of(text, "## Phase 1: Setup")
    assert p1.end_line == line_of(text, "## Overview")  # an ordinary H2 ends the phase
    assert p2.line == line_of(text, "## Phase 2 - Token refresh")
    assert p2.end_line == p3.line
    assert p3.end_line == len(split_lines(text))


@pytest.mark.parametrize(
    ("heading", "number", "title"),
    [
        ("## Phase 2: Token refresh", 2, "Token refresh"),
        ("## Phase 3 - Dash", 3, "Dash"),
        ("## Phase 4. Dot", 4, "Dot"),
        ("## Phase 5 Plain", 5, "Plain"),
        ("## Phase 6", 6, ""),
        ("## phase 7: lower case", 7, "lower case"),
        ("## Phase 8: Title ##", 8, "Title"),
        ("Phase 9: setext\n---------------", 9, "setext"),
    ],
)
def test_phase_heading_forms(heading, number, title):
    plan = parse_plan(f"{heading}\n\n- [ ] t\n")
    assert [(p.number, p.title) for p in plan.phases] == [(number, title)]


@pytest.mark.parametrize(
    "heading", ["## Phases overview", "## Phase two", "## Phase 2a", "### Phase 1: h3", "# Phase 1"]
)
def test_not_phase_headings(heading):
    assert parse_plan(f"{heading}\n\n- [ ] t\n").phases == []


def test_heading_inside_blockquote_or_code_is_not_a_phase():
    text = "> ## Phase 1: quoted\n\n```\n## Phase 2: fenced\n```\n"
    assert parse_plan(text).phases == []


def test_metadata_paragraph(full):
    text, plan = full
    p1, p2, p3 = plan.phases
    assert p1.meta == {"difficulty": "easy", "model": "haiku"}
    assert p1.meta_lines == {
        "difficulty": line_of(text, "difficulty: easy"),
        "model": line_of(text, "model: haiku"),
    }
    assert p1.meta_span == (line_of(text, "difficulty: easy"), line_of(text, "model: haiku") + 1)
    assert p1.difficulty == "easy" and p1.model == "haiku"
    assert p2.meta == {"depends": "1", "status": "blocked"}  # directly under the heading, no blank line
    assert p2.status == "blocked" and p2.depends == [1]
    assert p3.depends == [1, 2] and p3.difficulty == "hard"


def test_metadata_only_when_every_line_is_key_value():
    text = "## Phase 1: a\n\ndifficulty: hard\nthis line is prose\n\n- [ ] t\n"
    phase = parse_plan(text).phases[0]
    assert phase.meta == {} and phase.meta_span is None and phase.difficulty == "medium"


def test_metadata_must_be_first_block():
    text = "## Phase 1: a\n\nSome prose.\n\ndifficulty: hard\n"
    assert parse_plan(text).phases[0].meta == {}


def test_unknown_metadata_key_is_kept_not_fatal():
    phase = parse_plan("## Phase 1: a\n\nflavour: vanilla\n").phases[0]
    assert phase.meta == {"flavour": "vanilla"}


def test_tasks_every_marker_kind_and_nesting(full):
    text, plan = full
    tasks = plan.phases[0].tasks
    assert [(t.index, t.text, t.checked, t.depth) for t in tasks] == [
        (1, "dash task", False, 0),
        (2, "checked dash", True, 0),
        (3, "nested capital X", True, 1),
        (4, "nested twice", False, 2),
        (5, "star task", False, 0),
        (6, "plus task", False, 0),
        (7, "ordered dot", False, 0),
        (8, "ordered paren", True, 0),
    ]
    for t in tasks:
        assert t.text in split_lines(text)[t.line]
        assert t.phase == 1 and t.ref == f"1.{t.index}"
    assert plan.phases[1].tasks[0].text == "quoted task"


def test_code_html_and_outside_tasks_are_excluded(full):
    _, plan = full
    texts = [t.text for p in plan.phases for t in p.tasks]
    for excluded in ("fenced", "commented", "indented", "html block", "not in a phase", "ordinary section"):
        assert not any(excluded in t for t in texts), excluded


def test_bare_checkbox_and_missing_space_are_not_tasks():
    plan = parse_plan("## Phase 1: a\n\n- [ ]\n- [x]no-space\n- [y] wrong\n- [ ] real\n")
    assert [t.text for t in plan.phases[0].tasks] == ["real"]


def test_task_text_is_first_line_only():
    plan = parse_plan("## Phase 1: a\n\n- [ ] first line\n  second line\n")
    assert plan.phases[0].tasks[0].text == "first line"


def test_notes_subsection(full):
    text, plan = full
    p1 = plan.phases[0]
    assert p1.notes == [
        "first note",
        "second note continued on a second line",
        "[ ] a checkbox in notes is a note",
    ]
    assert p1.notes_line == line_of(text, "### Notes")
    assert p1.notes_end_line == p1.end_line
    assert not any("checkbox in notes" in t.text for t in p1.tasks)


def test_notes_end_at_next_h3_and_tasks_after_count():
    text = "## Phase 1: a\n\n### Notes\n\n- n1\n\n### Later\n\n- [ ] after notes\n"
    phase = parse_plan(text).phases[0]
    assert phase.notes == ["n1"]
    assert phase.notes_end_line == line_of(text, "### Later")
    assert [t.text for t in phase.tasks] == ["after notes"]


def test_no_phases():
    plan = parse_plan(fixture("no_phases.md"))
    assert plan.phases == [] and plan.title == "Just a spec"
    assert plan.next_phase() is None and not plan.complete


def test_crlf_gives_same_structure(full):
    text, plan = full
    crlf = parse_plan(text.replace("\n", "\r\n"))
    assert [(p.number, p.line, p.end_line, p.meta, p.notes) for p in crlf.phases] == [
        (p.number, p.line, p.end_line, p.meta, p.notes) for p in plan.phases
    ]
    assert [(t.line, t.text, t.checked) for t in crlf.phases[0].tasks] == [
        (t.line, t.text, t.checked) for t in plan.phases[0].tasks
    ]
    assert crlf.frontmatter == plan.frontmatter


def test_bom_and_no_trailing_newline(full):
    text, plan = full
    bom = parse_plan("\ufeff" + text.rstrip("\n"))
    assert bom.frontmatter == plan.frontmatter
    assert [(p.number, p.line) for p in bom.phases] == [(p.number, p.line) for p in plan.phases]
    assert parse_plan("\ufeff# Title\n## Phase 1: x\n- [ ] t").phases[0].tasks[0].text == "t"
    assert parse_plan("\ufeff# Title\n").title == "Title"


def test_unicode():
    plan = parse_plan(fixture("unicode.md"))
    assert plan.title == "Überblick 🚀"
    phase = plan.phases[0]
    assert phase.title == "Größe ändern — ✓"
    assert [t.text for t in phase.tasks] == ["日本語のタスク", "emoji 🎉 task\twith tab"]


def test_broken_frontmatter_raises_with_file_line():
    with pytest.raises(PlanError) as info:
        parse_plan(fixture("broken_frontmatter.md"), Path("plan.md"))
    err = info.value
    assert err.path == "plan.md"
    assert err.line == 4  # the YAML parser notices the unclosed flow list at "owner: me"
    assert str(err).startswith("plan.md:4: invalid YAML frontmatter")


def test_frontmatter_not_a_mapping_raises():
    with pytest.raises(PlanError) as info:
        parse_plan("---\n- a\n- b\n---\n# x\n")
    assert info.value.line == 1


def test_unclosed_fence_is_not_frontmatter():
    plan = parse_plan("---\ntitle: x\n\n## Phase 1: a\n")
    assert plan.frontmatter_span is None and [p.number for p in plan.phases] == [1]


def test_frontmatter_invalid_date_is_plan_error():
    with pytest.raises(PlanError):
        parse_plan("---\nwhen: 2024-13-45\n---\n")


def test_split_lines_ignores_exotic_separators():
    text = "a\x0cb\u2028c\r\nd\re\n"
    assert split_lines(text) == ["a\x0cb\u2028c\r\n", "d\r", "e\n"]
    assert split_lines("x\ny") == ["x\n", "y"]


def _plan(*blocks: str) -> str:
    return "\n".join(blocks) + "\n"


def test_next_phase_follows_dependencies_and_status():
    text = _plan(
        "## Phase 1: done",
        "- [x] a",
        "## Phase 2: waits on 3",
        "depends: 3",
        "",
        "- [ ] b",
        "## Phase 3: blocked",
        "status: blocked",
        "",
        "- [ ] c",
        "## Phase 4: free",
        "depends: 1",
        "",
        "- [ ] d",
    )
    plan = parse_plan(text)
    assert plan.next_phase().number == 4
    assert [plan.state(p) for p in plan.phases] == ["done", "pending", "blocked", "next"]


def test_next_phase_skipped_counts_as_done():
    text = _plan(
        "## Phase 1: skipped",
        "status: skipped",
        "",
        "- [ ] a",
        "## Phase 2: after",
        "depends: 1",
        "",
        "- [ ] b",
    )
    plan = parse_plan(text)
    assert plan.next_phase().number == 2
    assert plan.state(plan.phases[0]) == "skipped"


def test_complete_when_all_done():
    plan = parse_plan(_plan("## Phase 1: a", "- [x] a", "## Phase 2: b", "status: done"))
    assert plan.complete and plan.next_phase() is None
    assert plan.tasks_total == 1 and plan.tasks_done == 1


def test_documented_example_parses_as_described():
    doc = (Path(__file__).parent.parent / "docs" / "plan-format.md").read_text()
    example = doc.split("```markdown\n", 1)[1].split("\n```\n", 1)[0] + "\n"
    plan = parse_plan(example)
    assert [(p.number, p.title) for p in plan.phases] == [
        (1, "Token model"),
        (2, "Refresh flow"),
        (3, "Cleanup"),
    ]
    assert [(t.ref, t.depth) for t in plan.phases[0].tasks] == [
        ("1.1", 0),
        ("1.2", 0),
        ("1.3", 1),
        ("1.4", 0),
    ]
    assert plan.phases[0].notes[1] == "A note may run over two lines; phaser joins them."
    assert plan.phases[1].depends == [1] and plan.phases[2].status == "skipped"
    assert plan.next_phase().number == 1
