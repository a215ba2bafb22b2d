"""Property tests: the parser never crashes, and every edit stays inside its target."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from phaser.errors import EditConflict, PlanError
from phaser.plan import (
    AddPhase,
    AddTask,
    AppendNote,
    SetFrontmatter,
    SetMeta,
    SetTask,
    apply,
    parse_plan,
    split_lines,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PIECES = [
    "## Phase 1: One",
    "## Phase 2 - Two",
    "## Phase 3",
    "## Phase 2: duplicate",
    "## Overview",
    "# Title",
    "### Notes",
    "### Other",
    "difficulty: easy",
    "depends: 1, 2",
    "status: done",
    "flavour: odd",
    "- [ ] task a",
    "- [x] task b",
    "  - [X] nested",
    "    - [ ] deeper",
    "* [ ] star",
    "+ [x] plus",
    "1. [ ] ordered",
    "2) [x] paren",
    "> - [ ] quoted",
    "- [ ]",
    "- plain bullet",
    "  continuation",
    "```",
    "~~~",
    "<!--",
    "-->",
    "<div>",
    "    - [ ] indented code",
    "\t- [ ] tab",
    "---",
    "title: x",
    "tags: [a, b",
    "prose with trailing space   ",
    "ünïcödé — 🚀",
    "",
    "",
    "",
]

EOLS = st.sampled_from(["\n", "\r\n", "\r"])


HEADINGS = ["## Phase {n}: Title {n}", "## Phase {n} - dash", "## Phase {n}", "Phase {n}: setext\n---"]
TASKY = [p for p in PIECES if "[" in p] + ["", "### Notes", "- note", "difficulty: hard"]


@st.composite
def plan_like(draw) -> str:
    chunk = st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=8)
    lines = draw(chunk)
    for _ in range(draw(st.integers(0, 4))):
        lines.append(draw(st.sampled_from(HEADINGS)).format(n=draw(st.integers(1, 5))))
        lines += draw(st.lists(st.sampled_from(TASKY), max_size=6))
        lines += draw(chunk)
    eol = draw(EOLS)
    mixed = draw(st.integers(0, 4)) == 0
    text = "".join(line.replace("\n", eol) + (draw(EOLS) if mixed else eol) for line in lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    if draw(st.booleans()):
        text = "---" + eol + "title: T" + eol + "---" + eol + text
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


def parsed(text: str):
    try:
        return parse_plan(text)
    except PlanError:
        return None


def check_structure(text: str) -> None:
    plan = parsed(text)
    if plan is None:
        return
    lines = split_lines(text)
    assert plan.text == text and "".join(lines) == text
    last = 0
    for phase in plan.phases:
        assert last <= phase.line < phase.end_line <= len(lines)
        last = phase.end_line
        for task in phase.tasks:
            assert phase.line < task.line < phase.end_line
            assert task.text in lines[task.line].replace("\0", "\ufffd")
        if phase.meta_span is not None:
            assert all(phase.meta_span[0] <= n < phase.meta_span[1] for n in phase.meta_lines.values())


@SETTINGS
@given(st.text(max_size=300))
def test_parse_never_crashes_on_any_text(text):
    check_structure(text)


@SETTINGS
@given(plan_like())
def test_parse_never_crashes_on_plan_like_text(text):
    check_structure(text)


@SETTINGS
@given(plan_like(), st.data())
def test_toggle_changes_exactly_one_character(text, data):
    plan = parsed(text)
    tasks = [t for p in plan.phases for t in p.tasks if plan.phase(p.number) is p] if plan else []
    event(f"has tasks: {bool(tasks)}")
    if not tasks:
        return
    task = data.draw(st.sampled_from(tasks))
    new = apply(text, SetTask(task.ref, not task.checked))
    assert len(new) == len(text)
    assert sum(a != b for a, b in zip(text, new, strict=True)) == 1
    after = parse_plan(new)
    flipped = after.phase(task.phase).task(task.index)
    assert flipped.checked is (not task.checked) and flipped.text == task.text
    assert [(t.ref, t.line) for p in after.phases for t in p.tasks] == [
        (t.ref, t.line) for p in plan.phases for t in p.tasks
    ]


def _phase_ops(number: int) -> st.SearchStrategy:
    words = st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=10
    ).filter(lambda s: s.strip())
    return st.one_of(
        st.builds(
            SetMeta, st.just(number), st.sampled_from(["difficulty", "model", "status"]), st.none() | words
        ),
        st.builds(AppendNote, st.just(number), words),
        st.builds(AddTask, st.just(number), words),
    )


@SETTINGS
@given(plan_like(), st.data())
def test_phase_ops_change_only_their_phase(text, data):
    plan = parsed(text)
    event(f"has phases: {bool(plan and plan.phases)}")
    if plan is None or not plan.phases:
        return
    phase = data.draw(st.sampled_from(plan.phases))
    phase = plan.phase(phase.number)  # ops target the first phase with a number
    op = data.draw(_phase_ops(phase.number))
    try:
        new = apply(text, op)
    except EditConflict:  # refused because markdown would read the splice differently
        event("refused")
        return
    lines = split_lines(text)
    before = "".join(lines[: phase.line])
    after = "".join(lines[phase.end_line :])
    assert new.startswith(before)
    assert new.endswith(after)
    assert len(before) + len(after) <= len(new)
    # The phase's own heading line is never rewritten.
    assert split_lines(new)[phase.line].rstrip("\r\n") == lines[phase.line].rstrip("\r\n")


@SETTINGS
@given(
    plan_like(),
    st.text(min_size=1, max_size=10).filter(lambda s: s.strip() and "\n" not in s and "\r" not in s),
)
def test_add_phase_only_appends(text, title):
    if parsed(text) is None:
        return
    try:
        new = apply(text, AddPhase(title, tasks=("a",)))
    except EditConflict:
        return
    lines = split_lines(text)
    kept = "".join(lines[:-1]) if lines else ""
    assert new.startswith(kept)
    assert lines == [] or new[len(kept) :].startswith(lines[-1].rstrip("\r\n"))


@SETTINGS
@given(
    plan_like(),
    st.sampled_from(["title", "format", "owner"]),
    st.none() | st.integers() | st.text(max_size=8),
)
def test_frontmatter_op_changes_only_the_block(text, key, value):
    plan = parsed(text)
    if plan is None:
        return
    try:
        new = apply(text, SetFrontmatter({key: value}))
    except EditConflict:
        return
    result = parse_plan(new)
    if value is None:
        assert key not in result.frontmatter
    else:
        assert result.frontmatter[key] == value
    if plan.frontmatter_span is not None:
        body = "".join(split_lines(text)[plan.frontmatter_span[1] :])
        assert new.endswith(body)
    else:
        assert new.endswith(text.removeprefix("\ufeff"))
