"""Markdown plan -> Plan, using markdown-it block tokens and their line maps for all structure.

Only the block parser runs (inline rules are disabled): phaser needs headings, paragraphs and list
items with their source lines, never rendered HTML, and skipping inline parsing keeps a 100-phase
plan in the low tens of milliseconds. The parse also records, per phase, where each task's checkbox
byte sits, so edits can toggle a task without parsing the file again (see ``layout_for``).
"""

from __future__ import annotations

import re
from itertools import accumulate
from pathlib import Path
from typing import Any

from phaser.errors import PlanError
from phaser.plan.layout import _CACHE, Layout, PhaseLayout, TaskLoc, remember
from phaser.plan.model import BOX_STATES, Phase, Plan, Task
from phaser.plan.refs import parse_number

_MD: Any = None


def _markdown() -> Any:
    """The block-only parser, built on first use: a parse-cache hit never imports markdown-it."""
    global _MD
    if _MD is None:
        from markdown_it import MarkdownIt

        md = MarkdownIt("commonmark")
        md.disable(["inline", "text_join"])
        _MD = md
    return _MD


BOM = "\ufeff"
_PHASE_RE = re.compile(
    r"phase\s+(\d{1,9}(?:\.\d{1,9})*)(?:\s*[:.\-\u2013\u2014]\s*|\s+|$)(.*)", re.IGNORECASE | re.DOTALL
)
# A done mark in a phase heading, as roadmaps write them: "## Phase 1 ✅ — Setup", "... (done)".
_DONE_MARK_RE = re.compile(
    r"\s*(?:\u2705|\u2714\ufe0f?|\u2611\ufe0f?|\((?:done|complete|completed)\)|\[(?:done|complete|completed)\])\s*",
    re.IGNORECASE,
)
_META_RE = re.compile(r"[ \t]*([A-Za-z][A-Za-z_-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*")
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
    """(number, title) when a level-2 heading's text names a phase, else None (done marks kept)."""
    m = _PHASE_RE.fullmatch(text.strip())
    if m is None:
        return None
    number = parse_number(m.group(1))
    return (number, m.group(2).strip()) if number is not None else None


def split_done_mark(text: str) -> tuple[str, bool]:
    """A heading's text without its done mark (✅, ✔, ☑, "(done)", "[done]"), and whether it had one.
    A plain ✓ is not one: it is often part of a title."""
    stripped, count = _DONE_MARK_RE.subn(" ", text)
    if not count:
        return text, False
    return stripped.strip().strip(":-\u2013\u2014").strip(), True


def meta_line(line: str) -> tuple[str, str] | None:
    """(key, value) when one source line looks like ``key: value``."""
    m = _META_RE.fullmatch(strip_eol(line))
    if m is None:
        return None
    return m.group(1), (m.group(2) or "")


def parse_plan(text: str, path: Path | None = None) -> Plan:
    """Parse a plan (or spec) text; broken YAML frontmatter raises PlanError with its line."""
    plan, layout = parse_with_layout(text, path)
    remember(text, plan, layout)
    return plan


def parse_with_layout(
    text: str, path: Path | None = None, errors: list | None = None, *, whole: bool = False
) -> tuple[Plan, Layout]:
    """The full parse; when ``errors`` is a list, frontmatter problems are appended there
    as (line, message) instead of raised, and the body is still parsed.

    The body is parsed section by section, reusing the tokens of sections parsed before
    (phaser.plan.sections); ``whole`` parses it in one piece (the reference the tests compare with).
    """
    lines = split_lines(text)
    fm, fm_span = _frontmatter(lines, path, errors)
    body = text[1:] if text.startswith(BOM) else text
    if fm_span is not None:
        skip = sum(len(line) for line in lines[: fm_span[1]])
        body = "\n" * fm_span[1] + text[skip:]
    if whole:
        parts = [(0, _markdown().parse(body))]
    else:
        from phaser.plan.sections import segments

        body_lines = split_lines(body) if body is not text else lines
        parts = segments(body_lines, _markdown().parse)
    starts = list(accumulate(map(len, lines), initial=0))
    plan = Plan(text=text, path=path, frontmatter=fm, frontmatter_span=fm_span)
    layouts: list[PhaseLayout] = []
    _Walker(plan, lines, starts, parts, layouts).run()
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

    def __init__(
        self,
        plan: Plan,
        lines: list[str],
        starts: list[int],
        parts: list[tuple[int, list]],
        out: list[PhaseLayout],
    ):
        self.plan, self.lines, self.starts, self.parts, self.out = plan, lines, starts, parts, out
        self.base = 0
        """First line of the section whose tokens are walked (their line maps start there)."""
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
        expect_meta = False
        for base, toks in self.parts:
            self.base = base
            for i, tok in enumerate(toks):
                kind = tok.type
                if kind == "heading_open" and tok.level == 0:
                    self._heading(tok, toks[i + 1].content)
                    expect_meta = self.phase is not None and self.phase.line == base + tok.map[0]
                    continue
                if kind == "heading_close" or kind == "inline":
                    continue
                if expect_meta:
                    expect_meta = False
                    if kind == "paragraph_open" and tok.level == 0:
                        self._meta(tok.map)
                if kind == "list_item_open":
                    self.items.append(self.in_notes)
                    if toks[i + 1].type == "paragraph_open":
                        self._item(tok, base + toks[i + 1].map[0], toks[i + 2].content)
                elif kind == "list_item_close":
                    self.items.pop()
        self._close(len(self.lines))

    def _heading(self, tok, content: str) -> None:
        level = int(tok.tag[1])
        start = self.base + tok.map[0]
        if level <= 2:
            self._close(start)
            if level == 1 and not self.plan.title:
                self.plan.title = content.strip()
            if level == 2:
                content, marked = split_done_mark(content)
                found = phase_heading(content)
                if found is not None:
                    self.phase = Phase(
                        number=found[0], title=found[1], line=start, end_line=start, heading_done=marked
                    )
                    self.heading_end = self.base + tok.map[1]
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
        first, end = self.base + span[0], self.base + span[1]
        pairs = [meta_line(self.lines[n]) for n in range(first, end)]
        if not pairs or any(p is None for p in pairs):
            return
        self.phase.meta_span = (first, end)
        for n, pair in enumerate(pairs, start=first):
            assert pair is not None
            key = pair[0].lower()
            self.phase.meta[key] = pair[1]
            self.phase.meta_lines[key] = n

    def _item(self, tok, line: int, content: str) -> None:
        phase = self.phase
        if phase is not None and self.in_notes:
            if len(self.items) == 1:
                phase.notes.append(" ".join(part.strip() for part in content.split("\n")).strip())
                self.note_marker = tok.markup if tok.markup in "-*+" else None
            return
        if content[:1] != "[":
            return
        mark = content[1:2]
        optional = content[3:4] == "*" and content[4:5] in (" ", "\t")
        if (
            content[2:3] != "]"
            or mark not in BOX_STATES
            or (content[3:4] not in (" ", "\t") and not optional)
        ):
            end = 2 if content[:2] == "[]" else 3
            odd = end == 2 or (content[2:3] == "]" and not mark.isalnum() and mark not in BOX_STATES)
            if odd and content[end : end + 1] in (" ", "\t", "*", ""):
                self.plan.odd_boxes.append((line, content[: content.index("]") + 1]))
            return
        first = content.split("\n", 1)[0]
        col = _box_col(strip_eol(self.lines[line]), first)
        if col is None:
            return
        owner = phase.tasks if phase is not None else self.plan.loose_tasks
        owner.append(
            Task(
                phase=phase.number if phase is not None else 0,
                index=len(owner) + 1,
                line=line,
                checked=mark in "xX",
                text=first[4 if optional else 3 :].strip(),
                depth=len(self.items) - 1,
                state=BOX_STATES[mark],
                optional=optional,
            )
        )
        if phase is not None:
            self.cols.append(col)
            self.ends.append(self.base + tok.map[1])

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


def warm(text: str) -> None:
    """Parse ``text`` so that the next parse of an edited copy reuses its sections: a plan read
    from the disk cache was never parsed in this process (the TUI calls this on a worker thread)."""
    try:
        parse_with_layout(text, errors=[])
    except PlanError:
        pass


def layout_for(text: str) -> Layout:
    """Task positions for a text: from the cache, else by parsing (and remembering) it."""
    hit = _CACHE.get(text)
    if hit is not None:
        return hit[1]
    plan, layout = parse_with_layout(text)
    remember(text, plan, layout)
    return layout
