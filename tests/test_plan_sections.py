"""The plan parsed section by section (reusing unchanged sections) equals the whole-file parse.

phaser.plan.sections cuts the body at top-level ``## `` lines and reuses the tokens of every section
it parsed before; the Plan and Layout must be exactly those of one markdown-it pass over the whole
file: on every fixture plan under tests/, with CRLF, CR, a BOM and frontmatter, on generated plans
(fences and HTML blocks holding ``## `` lines, dotted phases, loose tasks), and after edits.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phaser.errors import PlanError
from phaser.plan import sections
from phaser.plan.parse import _markdown, parse_with_layout, split_lines

TESTS = Path(__file__).parent
FIXTURES = sorted(p for p in TESTS.rglob("*.md") if "__snapshots__" not in p.parts)


def whole(text: str):
    return _parse(text, whole=True)


def sectioned(text: str):
    return _parse(text, whole=False)


def _parse(text: str, whole: bool):
    errors: list = []
    try:
        plan, layout = parse_with_layout(text, Path("plan.md"), errors, whole=whole)
    except PlanError as exc:  # pragma: no cover - errors go to the list
        return ("error", str(exc))
    return plan, layout, errors


def same(text: str) -> None:
    """Sectioned == whole, from an empty section cache and from a warm one."""
    expected = whole(text)
    sections.forget()
    assert sectioned(text) == expected
    assert sectioned(text) == expected  # every section from the cache


def variants(text: str) -> list[str]:
    body = text.removeprefix("\ufeff")
    crlf = body.replace("\r\n", "\n").replace("\n", "\r\n")
    cr = body.replace("\r\n", "\n").replace("\n", "\r")
    return [text, crlf, cr, "\ufeff" + body, "\ufeff" + crlf]


def test_there_are_fixture_plans():
    names = {p.name for p in FIXTURES}
    assert {"full.md", "unicode.md", "broken_frontmatter.md", "no_phases.md"} <= names


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(TESTS)))
def test_every_fixture_plan_parses_the_same(path):
    for text in variants(path.read_text(encoding="utf-8")):
        same(text)


def plan_text(phases: int, tasks: int, dotted: bool = False) -> str:
    out = ["---", "title: Generated", "tags: [a, b]", "---", "", "# Generated", "", "Intro prose.", ""]
    out += ["- [ ] a loose task before any phase", ""]
    for p in range(1, phases + 1):
        number = f"{(p + 1) // 2}.{p % 2 + 1}" if dotted else str(p)
        out += [f"## Phase {number}: Step {p}", "", "difficulty: medium", f"depends: {p - 1}", ""]
        out += [f"- [{'x' if (p + t) % 3 == 0 else ' '}] Task {t} of phase {p}" for t in range(1, tasks + 1)]
        out += ["  - [ ] a nested task", "", "### Notes", "", f"- a note for phase {p}", ""]
    return "\n".join(out) + "\n"


TRICKY = [
    # a fence holding phase headings: they are code, not phases
    "## Phase 1: Fenced\n\n- [ ] one\n\n```md\n## Phase 2: not a phase\n- [ ] not a task\n```\n\n"
    "## Phase 3: After\n\n- [ ] three\n",
    # an unclosed fence runs to the end of the file
    "## Phase 1: Open fence\n\n~~~\n## Phase 2: code\n- [ ] code\n",
    # a fence closed with no blank line before the next heading
    "## Phase 1: A\n\n```\ncode\n```\n## Phase 2: B\n\n- [ ] b\n",
    # an HTML comment across headings
    "## Phase 1: A\n\n<!--\n## Phase 2: commented out\n- [ ] hidden\n-->\n\n## Phase 3: C\n\n- [x] c\n",
    # an HTML block (type 6) runs until a blank line, through a heading line
    "## Phase 1: A\n\n<div>\n## Phase 2: inside the div\n- [ ] in html\n\n## Phase 3: C\n\n- [ ] c\n",
    # a fence inside a list item, then a fence at column 0 that opens a new top-level fence
    "## Phase 1: A\n\n- [ ] item\n\n  ```\n  code\n```\n## Phase 2: in the fence\n- [ ] x\n```\n\n"
    "## Phase 3: C\n\n- [ ] c\n",
    # headings inside lists and quotes, empty headings, setext ones, h1 between phases
    "# T\n\n## Phase 1: A\n- [ ] a\n## Phase 2\n> - [ ] quoted\n##\n- [ ] loose\n# Middle\n- [ ] loose too\n"
    "Phase 3: setext\n---\n- [ ] s\n## Phase 4 ✅ — Done one\n- [x] d\n",
    # indented code and a heading indented by spaces (not a cut: markdown-it still sees a heading)
    "## Phase 1: A\n\n    ## Phase 2: indented code\n\n   ## Phase 3: indented heading\n- [ ] t\n",
    # reference definitions, a heading with trailing hashes, tabs
    "[ref]:\n## Phase 1: A ##\n- [ ] a\n##\tPhase 2:\tTabbed\n-\t[ ] tab\n",
    # a phase repeated, odd boxes, optional tasks
    "## Phase 1: A\n- [ ]* optional\n- [] odd\n- [?] odd\n## Phase 1: again\n- [-] active\n- [~] blocked\n",
    # no trailing newline, a lone heading at the end
    "## Phase 1: A\n- [ ] a\n## Phase 2: B",
]


@pytest.mark.parametrize("text", TRICKY, ids=range(len(TRICKY)))
def test_tricky_plans_parse_the_same(text):
    for variant in variants(text):
        same(variant)


def test_generated_plans_parse_the_same():
    for text in (plan_text(30, 4), plan_text(12, 3, dotted=True), plan_text(1, 0)):
        for variant in variants(text):
            same(variant)


def test_edits_reuse_every_unchanged_section_and_give_the_whole_file_result():
    text = plan_text(200, 5)
    sections.forget()
    calls: list[str] = []

    def parse(chunk: str):
        calls.append(chunk)
        return _markdown().parse(chunk)

    sections.segments(split_lines(text), parse)
    assert len(calls) == 201  # the prelude and one per phase
    edits = [
        text.replace("Task 3 of phase 150\n", "Task 3 of phase 150, reworded\n"),
        text.replace("- [ ] Task 1 of phase 100", "- [x] Task 1 of phase 100"),  # a tick
        text.replace("## Phase 7: Step 7\n", "## Phase 7: Step 7\n\nA new paragraph.\n\n"),  # lines added
        text.replace("## Phase 9: Step 9\n", ""),  # a heading removed: two sections merge
        text.replace("- a note for phase 50\n", "- a note for phase 50\n\n```\n## Phase 51: fenced\n"),
    ]
    for new in edits:
        calls.clear()
        sections.segments(split_lines(new), parse)
        assert len(calls) <= 2 or new.count("```") % 2 == 1
        assert sectioned(new) == whole(new)
    calls.clear()
    sections.segments(split_lines(edits[1]), parse)
    assert calls == []  # seen before: nothing parsed


LINES = [
    "## Phase 1: One",
    "## Phase 2 - Two",
    "## Phase 1.2: dotted",
    "## Overview",
    "##",
    "# Title",
    "### Notes",
    "difficulty: easy",
    "depends: 1",
    "- [ ] task a",
    "- [x] task b",
    "  - [X] nested",
    "* [ ] star",
    "1. [ ] ordered",
    "> - [ ] quoted",
    "> ## Phase 9: quoted heading",
    "- [ ]* optional",
    "- plain bullet",
    "  continuation",
    "```",
    "  ```",
    "~~~",
    "    ```",
    "<!--",
    "-->",
    "<div>",
    "<pre>",
    "</pre>",
    "<custom-tag>",
    "    - [ ] indented code",
    "\t- [ ] tab",
    "---",
    "===",
    "[ref]:",
    "ünïcödé — 🚀",
    "",
    "",
]


@st.composite
def plan_like(draw) -> str:
    lines = draw(st.lists(st.sampled_from(LINES), max_size=40))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = "".join(line + eol for line in lines)
    if draw(st.booleans()):
        text = "---" + eol + "title: T" + eol + "---" + eol + text
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_like(), plan_like(), st.integers(0, 40))
def test_generated_text_and_its_edits_parse_the_same(text, insert, at):
    same(text)
    lines = split_lines(text)
    at = min(at, len(lines))
    edited = "".join(lines[:at]) + insert.removeprefix("\ufeff") + "".join(lines[at:])
    assert sectioned(edited) == whole(edited)  # with text's sections in the cache
