"""Markdown plan -> Plan, using markdown-it block tokens and their line maps for all structure.

Only the block parser runs (inline rules are disabled): phaser needs headings, paragraphs and list
items with their source lines, never rendered HTML, and skipping inline parsing keeps a 100-phase
plan in the low tens of milliseconds. The parse also records, per phase, where each task's checkbox
byte sits, so edits can toggle a task without parsing the file again (see ``layout_for``).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from phaser.errors import PlanError
from phaser.plan.model import Phase, Plan, Task

_MD = MarkdownIt("commonmark")
_MD.disable(["inline", "text_join"])

BOM = "\ufeff"
_PHASE_RE = re.compile(r"phase\s+(\d+)(?:\s*[:.\-\u2013\u2014]\s*|\s+|$)(.*)", re.IGNORECASE | re.DOTALL)
_META_RE = re.compile(r"[ \t]*([A-Za-z_-]+)[ \t]*:(?:[ \t]+(.*?))?[ \t]*")
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
# Characters str.splitlines() treats as line breaks but markdown (and phaser) do not.
_EXOTIC_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split only at LF, CRLF and CR (the breaks markdown knows).

    Equal to ``text.splitlines(keepends=True)`` unless the text contains form feeds, vertical
    tabs or Unicode line separators, which markdown treats as ordinary characters.
    """
    if _EXOTIC_BREAKS.search(text) is None:
        return text.splitlines(keepends=True)
    return _LINE_RE.findall(text)


def line_ending(lines: list[str]) -> str:
    """The file's line ending (of its first line break), so inserted lines match it."""
    for line in lines:
        if line.endswith("\r\n"):
            return "\r\n"
        if line.endswith("\n"):
            return "\n"
        if line.endswith("\r"):
            return "\r"
    return "\n"


def strip_eol(line: str) -> str:
    return line.rstrip("\r\n")


def phase_heading(text: str) -> tuple[int, str] | None:
    """(number, title) when a level-2 heading's text names a phase, else None."""
    m = _PHASE_RE.fullmatch(text.strip())
    if m is None:
        return None
    return int(m.group(1)), m.group(2).strip()


def meta_line(line: str) -> tuple[str, str] | None:
    """(key, value) when one source line looks like ``key: value``."""
    m = _META_RE.fullmatch(strip_eol(line))
    if m is None:
        return None
    return m.group(1), (m.group(2) or "")


@dataclass(frozen=True)
class TaskLoc:
    """Where a task's checkbox sits: enough to toggle it without a parse."""

    line: int
    offset: int
    """Character offset of the box's inner character (the space or x) in the text."""
    text: str


@dataclass(frozen=True)
class PhaseLayout:
    """Source positions the Plan model does not carry, for one phase (by position in plan.phases)."""

    heading_end: int
    task_cols: tuple[int, ...]
    task_ends: tuple[int, ...]
    """End line (exclusive) of each task's list item, nested content included."""
    note_marker: str | None
    """Bullet character of the last note item, so appended notes continue the same list."""
    notes_content_end: int | None
    """Line after the last non-blank line of the Notes subsection."""


@dataclass(frozen=True)
class Layout:
    phases: tuple[PhaseLayout, ...]
    tasks: dict[int, tuple[TaskLoc, ...]]
    """Phase number (first phase with that number) -> task locations."""


def parse_plan(text: str, path: Path | None = None) -> Plan:
    """Parse a plan (or spec) text; broken YAML frontmatter raises PlanError with its line."""
    plan, layout = parse_with_layout(text, path)
    remember(text, plan, layout)
    return plan


def parse_with_layout(text: str, path: Path | None = None, errors: list | None = None) -> tuple[Plan, Layout]:
    """The full parse; when ``errors`` is a list, frontmatter problems are appended there
    as (line, message) instead of raised, and the body is still parsed."""
    lines = split_lines(text)
    fm, fm_span = _frontmatter(lines, path, errors)
    body = text[1:] if text.startswith(BOM) else text
    if fm_span is not None:
        skip = sum(len(line) for line in lines[: fm_span[1]])
        body = "\n" * fm_span[1] + text[skip:]
    tokens = _MD.parse(body)
    starts = list(accumulate(map(len, lines), initial=0))
    plan = Plan(text=text, path=path, frontmatter=fm, frontmatter_span=fm_span)
    layouts: list[PhaseLayout] = []
    _Walker(plan, lines, starts, tokens, layouts).run()
    if isinstance(fm.get("title"), str) and fm["title"].strip():
        plan.title = fm["title"].strip()
    tasks: dict[int, tuple[TaskLoc, ...]] = {}
    for phase, pl in zip(plan.phases, layouts, strict=True):
        if phase.number in tasks:
            continue
        tasks[phase.number] = tuple(
            TaskLoc(t.line, starts[t.line] + col + 1, t.text)
            for t, col in zip(phase.tasks, pl.task_cols, strict=True)
        )
    return plan, Layout(tuple(layouts), tasks)


def _frontmatter(
    lines: list[str], path: Path | None, errors: list | None
) -> tuple[dict[str, Any], tuple[int, int] | None]:
    if not lines or strip_eol(lines[0]).removeprefix(BOM).rstrip() != "---":
        return {}, None
    end = next((i for i in range(1, len(lines)) if strip_eol(lines[i]).rstrip() in ("---", "...")), None)
    if end is None:
        return {}, None
    span = (0, end + 1)
    source = "".join(lines[1:end])
    try:
        data = _load_yaml(source)
    except _YamlProblem as exc:
        _fail(errors, path, exc.line + 2, f"invalid YAML frontmatter: {exc.message}")
        return {}, span
    if data is None:
        return {}, span
    if not isinstance(data, dict):
        _fail(errors, path, 1, "frontmatter must be a mapping of `key: value` lines")
        return {}, span
    return data, span


class _YamlProblem(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def _load_yaml(source: str) -> Any:
    """python-frontmatter's YAML handler (PyYAML's safe loader; the C one when built) with the
    0-based YAML line of any failure. The fences are found here, not by python-frontmatter, which
    knows no `...` end, no BOM and no line numbers."""
    import yaml  # local: only plans with frontmatter pay for the import
    from frontmatter.default_handlers import YAMLHandler

    handler = YAMLHandler()
    try:
        return handler.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except Exception:  # noqa: S110 - re-run below for the same messages with or without libyaml
        pass
    try:
        return handler.load(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line if mark is not None else 0
        raise _YamlProblem(line, (exc.problem or str(exc)).strip()) from exc
    except yaml.reader.ReaderError as exc:
        raise _YamlProblem(source.count("\n", 0, exc.position), "unreadable character in YAML") from exc
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError, TypeError) as exc:
        raise _YamlProblem(0, str(exc).strip() or type(exc).__name__) from exc


def _fail(errors: list | None, path: Path | None, line: int, message: str) -> None:
    if errors is None:
        raise PlanError(message, path=path, line=line)
    errors.append((line, message))


class _Walker:
    """One pass over block tokens, building phases, tasks and notes as it goes."""

    def __init__(self, plan: Plan, lines: list[str], starts: list[int], tokens: list, out: list[PhaseLayout]):
        self.plan, self.lines, self.starts, self.tokens, self.out = plan, lines, starts, tokens, out
        self.phase: Phase | None = None
        self.items: list[bool] = []  # open list items, True when the item is inside Notes
        self._reset_phase_state()

    def _reset_phase_state(self) -> None:
        self.heading_end = 0
        self.cols: list[int] = []
        self.ends: list[int] = []
        self.note_marker: str | None = None
        self.in_notes = False
        self.notes_done = False

    def run(self) -> None:
        toks = self.tokens
        expect_meta = False
        for i, tok in enumerate(toks):
            kind = tok.type
            if kind == "heading_open" and tok.level == 0:
                self._heading(tok, toks[i + 1].content)
                expect_meta = self.phase is not None and self.phase.line == tok.map[0]
                continue
            if kind == "heading_close" or kind == "inline":
                continue
            if expect_meta:
                expect_meta = False
                if kind == "paragraph_open" and tok.level == 0:
                    self._meta(tok.map)
            if self.phase is None:
                continue
            if kind == "list_item_open":
                self.items.append(self.in_notes)
                if toks[i + 1].type == "paragraph_open":
                    self._item(tok, toks[i + 1].map[0], toks[i + 2].content)
            elif kind == "list_item_close":
                self.items.pop()
        self._close(len(self.lines))

    def _heading(self, tok, content: str) -> None:
        level = int(tok.tag[1])
        start = tok.map[0]
        if level <= 2:
            self._close(start)
            if level == 1 and not self.plan.title:
                self.plan.title = content.strip()
            found = phase_heading(content) if level == 2 else None
            if found is not None:
                self.phase = Phase(number=found[0], title=found[1], line=start, end_line=start)
                self.heading_end = tok.map[1]
            return
        if self.phase is None or level > 3:
            return
        if self.in_notes:
            self._end_notes(start)
        if content.strip().rstrip(":").strip().lower() == "notes" and self.phase.notes_line is None:
            self.in_notes = True
            self.phase.notes_line = start

    def _meta(self, span: list[int]) -> None:
        assert self.phase is not None
        pairs = [meta_line(self.lines[n]) for n in range(span[0], span[1])]
        if not pairs or any(p is None for p in pairs):
            return
        self.phase.meta_span = (span[0], span[1])
        for n, pair in enumerate(pairs, start=span[0]):
            assert pair is not None
            key = pair[0].lower()
            self.phase.meta[key] = pair[1]
            self.phase.meta_lines[key] = n

    def _item(self, tok, line: int, content: str) -> None:
        assert self.phase is not None
        if self.in_notes:
            if len(self.items) == 1:
                self.phase.notes.append(" ".join(part.strip() for part in content.split("\n")).strip())
                self.note_marker = tok.markup if tok.markup in "-*+" else None
            return
        if content[:1] != "[" or content[2:3] != "]" or content[1:2] not in (" ", "x", "X"):
            return
        if content[3:4] not in (" ", "\t"):
            return
        first = content.split("\n", 1)[0]
        col = _box_col(strip_eol(self.lines[line]), first)
        if col is None:
            return
        self.phase.tasks.append(
            Task(
                phase=self.phase.number,
                index=len(self.phase.tasks) + 1,
                line=line,
                checked=content[1] != " ",
                text=first[3:].strip(),
                depth=len(self.items) - 1,
            )
        )
        self.cols.append(col)
        self.ends.append(tok.map[1])

    def _end_notes(self, end: int) -> None:
        assert self.phase is not None
        self.in_notes = False
        self.phase.notes_end_line = end

    def _close(self, end: int) -> None:
        phase = self.phase
        if phase is None:
            return
        if self.in_notes:
            self._end_notes(end)
        phase.end_line = end
        notes_content_end = None
        if phase.notes_line is not None and phase.notes_end_line is not None:
            notes_content_end = content_end(self.lines, phase.notes_line, phase.notes_end_line)
        self.plan.phases.append(phase)
        self.out.append(
            PhaseLayout(
                self.heading_end, tuple(self.cols), tuple(self.ends), self.note_marker, notes_content_end
            )
        )
        self.phase = None
        self._reset_phase_state()


def _box_col(source: str, first: str) -> int | None:
    """Column of the ``[`` of a task box: the item's first content line is a suffix of its source line."""
    src = source.replace("\0", "\ufffd").rstrip()
    head = first.rstrip()
    if not src.endswith(head):
        return None
    col = len(src) - len(head)
    return col if source[col] == "[" and source[col + 2] == "]" else None


def content_end(lines: list[str], start: int, end: int) -> int:
    """Line after the last non-blank line in [start, end)."""
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


# A few recent parses, keyed by the exact text, so an edit right after a read (or a second
# toggle right after a first) finds task positions without parsing again.
_CACHE: OrderedDict[str, tuple[Plan | None, Layout]] = OrderedDict()
_CACHE_SIZE = 4


def remember(text: str, plan: Plan | None, layout: Layout) -> None:
    _CACHE[text] = (plan, layout)
    _CACHE.move_to_end(text)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def cached(text: str) -> tuple[Plan | None, Layout] | None:
    """The remembered (plan, layout) for exactly this text, if any."""
    return _CACHE.get(text)


def layout_for(text: str) -> Layout:
    """Task positions for a text: from the cache, else by parsing (and remembering) it."""
    hit = _CACHE.get(text)
    if hit is not None:
        return hit[1]
    plan, layout = parse_with_layout(text)
    remember(text, plan, layout)
    return layout
