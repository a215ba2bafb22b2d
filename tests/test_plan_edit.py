from __future__ import annotations

from pathlib import Path

import pytest

from phaser.errors import EditConflict, PlanError, UsageError
from phaser.plan import (
    AddPhase,
    AddTask,
    AppendNote,
    SetFrontmatter,
    SetMeta,
    SetTask,
    apply,
    apply_all,
    parse_plan,
)

FULL = (Path(__file__).parent / "fixtures" / "plans" / "full.md").read_bytes().decode("utf-8")

PLAN = """\
---
title: Demo   # shown in the TUI
spec: spec.md
format: 1
tags: [a, b]
---
# Demo

## Phase 1: First

difficulty: easy

Prose with trailing spaces   \t
* [ ] one
* [x] two
  - [ ] two.a

### Notes

* old note

## Phase 2: Second

- [ ] three

## Appendix

<!-- keep me -->
"""


def diff(old: str, new: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines between two texts that differ in one contiguous block."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return a[head : len(a) - tail], b[head : len(b) - tail]


# --- SetTask ----------------------------------------------------------------------------------


def test_set_task_changes_exactly_one_character():
    new = apply(PLAN, SetTask("1.1", True))
    assert new == PLAN.replace("* [ ] one", "* [x] one")
    assert sum(a != b for a, b in zip(PLAN, new, strict=True)) == 1


def test_uncheck_nested_and_idempotent():
    new = apply(PLAN, SetTask("1.2", False))
    assert new == PLAN.replace("* [x] two", "* [ ] two")
    assert apply(PLAN, SetTask("1.2", True)) == PLAN


@pytest.mark.parametrize("marker", ["- [ ]", "* [X]", "+ [ ]", "1. [ ]", "12) [x]", "> - [ ]", "- > 1. [ ]"])
def test_set_task_every_marker_kind(marker):
    text = f"## Phase 1: a\n\n{marker} the task\n"
    was_checked = "x" in marker.lower().split("[")[1]
    new = apply(text, SetTask("1.1", not was_checked))
    assert parse_plan(new).phases[0].tasks[0].checked is (not was_checked)
    assert sum(a != b for a, b in zip(text, new, strict=True)) == 1


def test_set_task_in_full_fixture_touches_only_its_line():
    for task in parse_plan(FULL).phases[0].tasks:
        new = apply(FULL, SetTask(task.ref, not task.checked))
        removed, added = diff(FULL, new)
        assert len(removed) == len(added) == 1
        assert task.text in removed[0]


def test_set_task_expect_text_finds_moved_task():
    human = PLAN.replace("* [ ] one\n", "* [ ] inserted by a human\n* [ ] one\n")
    new = apply(human, SetTask("1.1", True, expect_text="one"))
    assert new == human.replace("* [ ] one", "* [x] one")


def test_set_task_expect_text_missing_is_conflict():
    with pytest.raises(EditConflict, match="no longer in phase 1"):
        apply(PLAN, SetTask("1.1", True, expect_text="renamed"))


@pytest.mark.parametrize(("ref", "message"), [("9.1", "no phase 9"), ("1.7", "has no task 7")])
def test_set_task_missing_target(ref, message):
    with pytest.raises(EditConflict, match=message):
        apply(PLAN, SetTask(ref, True))


def test_bad_ref_is_usage_error():
    with pytest.raises(UsageError):
        SetTask("one.two", True)


# --- SetMeta ----------------------------------------------------------------------------------


def test_set_meta_replaces_value():
    assert apply(PLAN, SetMeta(1, "difficulty", "hard")) == PLAN.replace(
        "difficulty: easy", "difficulty: hard"
    )


def test_set_meta_adds_key_to_paragraph():
    new = apply(PLAN, SetMeta(1, "depends", "2"))
    assert new == PLAN.replace("difficulty: easy\n", "difficulty: easy\ndepends: 2\n")


def test_set_meta_creates_paragraph_under_heading():
    new = apply(PLAN, SetMeta(2, "status", "blocked"))
    assert new == PLAN.replace("## Phase 2: Second\n\n", "## Phase 2: Second\n\nstatus: blocked\n\n")
    assert parse_plan(new).phase(2).status == "blocked"


def test_set_meta_creates_paragraph_when_heading_is_followed_directly_by_content():
    text = "## Phase 1: a\n- [ ] t\n"
    new = apply(text, SetMeta(1, "model", "opus"))
    assert new == "## Phase 1: a\n\nmodel: opus\n\n- [ ] t\n"


def test_set_meta_removing_last_key_removes_paragraph():
    new = apply(PLAN, SetMeta(1, "difficulty", None))
    assert new == PLAN.replace("difficulty: easy\n\n", "")
    assert parse_plan(new).phase(1).meta == {}


def test_set_meta_remove_one_of_two_and_absent_key():
    text = "## Phase 1: a\n\ndifficulty: easy\nmodel: x\n\n- [ ] t\n"
    assert apply(text, SetMeta(1, "model", None)) == "## Phase 1: a\n\ndifficulty: easy\n\n- [ ] t\n"
    assert apply(text, SetMeta(1, "budget", None)) == text


def test_set_meta_round_trip_create_then_remove_is_identity():
    added = apply(PLAN, SetMeta(2, "model", "sonnet"))
    assert apply(added, SetMeta(2, "model", None)) == PLAN


def test_set_meta_key_is_case_insensitive_and_keeps_spelling():
    text = "## Phase 1: a\n\nDifficulty:   easy\n"
    assert apply(text, SetMeta(1, "difficulty", "hard")) == "## Phase 1: a\n\nDifficulty:   hard\n"


def test_set_meta_bad_input():
    with pytest.raises(UsageError):
        SetMeta(1, "bad key", "x")
    with pytest.raises(UsageError):
        SetMeta(1, "model", "two\nlines")
    with pytest.raises(EditConflict, match="no phase 5"):
        apply(PLAN, SetMeta(5, "model", "x"))


# --- AppendNote / AddTask -------------------------------------------------------------------


def test_append_note_continues_existing_list_and_marker():
    new = apply(PLAN, AppendNote(1, "new note"))
    assert new == PLAN.replace("* old note\n", "* old note\n* new note\n")
    assert parse_plan(new).phase(1).notes == ["old note", "new note"]


def test_append_note_creates_subsection_at_phase_end():
    new = apply(PLAN, AppendNote(2, "first"))
    assert new == PLAN.replace("- [ ] three\n", "- [ ] three\n\n### Notes\n\n- first\n")
    assert parse_plan(new).phase(2).notes == ["first"]


def test_append_note_at_end_of_file_without_newline():
    text = "## Phase 1: a\n\n- [ ] t"
    assert apply(text, AppendNote(1, "n")) == "## Phase 1: a\n\n- [ ] t\n\n### Notes\n\n- n\n"


def test_append_note_after_notes_prose():
    text = "## Phase 1: a\n\n### Notes\n\nJust prose.\n\n## Phase 2: b\n"
    new = apply(text, AppendNote(1, "n"))
    assert parse_plan(new).phase(1).notes == ["n"]
    assert new.startswith("## Phase 1: a\n\n### Notes\n\nJust prose.\n") and new.endswith(
        "\n\n## Phase 2: b\n"
    )


def test_add_task_after_last_top_level_task_with_same_marker():
    new = apply(PLAN, AddTask(1, "four"))
    assert new == PLAN.replace("  - [ ] two.a\n", "  - [ ] two.a\n* [ ] four\n")
    tasks = parse_plan(new).phase(1).tasks
    assert [(t.text, t.depth) for t in tasks][-1] == ("four", 0)


def test_add_task_continues_ordered_numbering():
    text = "## Phase 1: a\n\n1. [x] a\n2. [ ] b\n\nprose\n"
    assert apply(text, AddTask(1, "c")) == "## Phase 1: a\n\n1. [x] a\n2. [ ] b\n3. [ ] c\n\nprose\n"


def test_add_task_without_task_list_goes_before_notes():
    text = "## Phase 1: a\n\nProse.\n\n### Notes\n\n- n\n"
    assert apply(text, AddTask(1, "t")) == "## Phase 1: a\n\nProse.\n\n- [ ] t\n\n### Notes\n\n- n\n"


def test_add_task_to_empty_phase_before_next():
    text = "## Phase 1: a\n## Phase 2: b\n"
    new = apply(text, AddTask(1, "t"))
    assert new == "## Phase 1: a\n\n- [ ] t\n\n## Phase 2: b\n"


# --- AddPhase ---------------------------------------------------------------------------------


def test_add_phase_appends_with_next_number():
    new = apply(PLAN, AddPhase("Third", difficulty="hard", depends=(1, 2), tasks=("x", "y"), body="Why."))
    assert new == PLAN + (
        "\n## Phase 3: Third\n\ndifficulty: hard\ndepends: 1, 2\n\nWhy.\n\n- [ ] x\n- [ ] y\n"
    )
    phase = parse_plan(new).phase(3)
    assert phase.depends == [1, 2] and [t.text for t in phase.tasks] == ["x", "y"]


def test_add_phase_to_empty_document_and_bad_difficulty():
    assert apply("", AddPhase("Start")) == "## Phase 1: Start\n\ndifficulty: medium\n"
    with pytest.raises(UsageError):
        AddPhase("x", difficulty="extreme")


# --- SetFrontmatter ---------------------------------------------------------------------------


def test_set_frontmatter_splices_scalar_keeps_comments_and_order():
    new = apply(PLAN, SetFrontmatter({"format": 2, "owner": "me"}))
    assert new == PLAN.replace("format: 1\n", "format: 2\n").replace(
        "tags: [a, b]\n", "tags: [a, b]\nowner: me\n"
    )


def test_set_frontmatter_remove_key():
    assert apply(PLAN, SetFrontmatter({"spec": None})) == PLAN.replace("spec: spec.md\n", "")


def test_set_frontmatter_commented_key_uses_round_trip():
    new = apply(PLAN, SetFrontmatter({"title": "Renamed: demo"}))
    removed, added = diff(PLAN, new)
    assert removed == ["title: Demo   # shown in the TUI\n"]
    assert len(added) == 1 and "# shown in the TUI" in added[0]
    assert parse_plan(new).frontmatter["title"] == "Renamed: demo"
    assert list(parse_plan(new).frontmatter) == ["title", "spec", "format", "tags"]


def test_set_frontmatter_list_value_round_trip():
    new = apply(PLAN, SetFrontmatter({"tags": ["a", "b", "c"]}))
    assert parse_plan(new).frontmatter["tags"] == ["a", "b", "c"]
    assert "# shown in the TUI" in new
    assert new.split("---\n", 2)[2] == PLAN.split("---\n", 2)[2]


def test_set_frontmatter_creates_block():
    assert (
        apply("# x\n", SetFrontmatter({"title": "T", "format": 1})) == "---\ntitle: T\nformat: 1\n---\n# x\n"
    )


def test_set_frontmatter_broken_yaml_is_plan_error():
    with pytest.raises(PlanError):
        apply("---\na: [\n---\n", SetFrontmatter({"a": 1}))


# --- line endings and untouched bytes ---------------------------------------------------------

OPS = [
    SetTask("1.1", True),
    SetMeta(1, "difficulty", "hard"),
    SetMeta(2, "status", "done"),
    SetMeta(1, "difficulty", None),
    AppendNote(1, "n"),
    AppendNote(2, "n"),
    AddTask(1, "t"),
    AddTask(2, "t"),
    AddPhase("P", tasks=("a",)),
    SetFrontmatter({"format": 2}),
    SetFrontmatter({"title": "x: y"}),
]


@pytest.mark.parametrize("op", OPS, ids=repr)
def test_crlf_preserved(op):
    crlf = PLAN.replace("\n", "\r\n")
    new = apply(crlf, op)
    assert new.count("\n") == new.count("\r\n")
    assert new.replace("\r\n", "\n") == apply(PLAN, op)


@pytest.mark.parametrize("op", OPS, ids=repr)
def test_untouched_lines_are_byte_identical(op):
    new = apply(PLAN, op)
    removed, _ = diff(PLAN, new)
    assert len(removed) <= 2  # a replaced line or a removed paragraph, never anything else
    assert "Prose with trailing spaces   \t\n" in new
    assert new.endswith("<!-- keep me -->\n") or isinstance(op, AddPhase)


def test_apply_all_in_order_and_all_or_nothing():
    new = apply_all(PLAN, [SetTask("1.1", True), AddTask(2, "four"), SetTask("2.2", True)])
    assert [t.checked for t in parse_plan(new).phase(2).tasks] == [False, True]
    with pytest.raises(EditConflict):
        apply_all(PLAN, [SetTask("1.1", True), SetTask("7.1", True)])


def test_bom_is_kept():
    text = "\ufeff---\ntitle: a\n---\n## Phase 1: a\n\n- [ ] t\n"
    assert apply(text, SetTask("1.1", True)) == text.replace("[ ]", "[x]")
    assert apply(text, SetFrontmatter({"title": "b"})) == text.replace("title: a", "title: b")
    assert apply("\ufeff# x\n", SetFrontmatter({"title": "b"})) == "\ufeff---\ntitle: b\n---\n# x\n"


def test_edit_refuses_splice_that_markdown_would_swallow():
    # The phase ends inside an unclosed fence: a task appended there would be code, not a task.
    text = "## Phase 1: a\n\n```\ncode"
    with pytest.raises(EditConflict):
        apply(text, AddTask(1, "t"))
