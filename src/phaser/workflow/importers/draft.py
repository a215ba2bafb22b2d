"""What every importer produces (a Draft) and how it becomes phaser's plan text.

An importer reads one source file and builds phases of tasks, keeping each task's text, state and
order, its source id where phaser's ref would differ, detail lines under it, and the source's notes
as notes. It records one line per thing it mapped and per thing it could not; ``render`` writes the
plan.md text. Difficulty is never guessed: a person or ``phaser plan --revise`` sets it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BOX = {"open": " ", "done": "x", "active": "-", "blocked": "~"}


@dataclass
class DraftTask:
    text: str
    state: str = "open"
    """One of phaser.plan.TASK_STATES."""
    depth: int = 0
    optional: bool = False
    details: list[str] = field(default_factory=list)
    """Lines shown under the task (indented), e.g. Kiro's ``_Requirements: 1.1_`` bullets."""
    mark: str | None = None
    """The source's own done mark (``X``), kept so the author's case survives."""
    raw: bool = False
    """Not a task: a line kept verbatim in its place among the tasks (a ``### Tests`` subheading)."""


@dataclass
class DraftPhase:
    number: str
    title: str
    tasks: list[DraftTask] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    """Prose lines kept between the heading and the tasks."""
    notes: list[str] = field(default_factory=list)
    depends: list[str] = field(default_factory=list)
    status: str | None = None

    @property
    def real_tasks(self) -> list[DraftTask]:
        return [t for t in self.tasks if not t.raw]


@dataclass
class Draft:
    kind: str
    title: str
    phases: list[DraftPhase] = field(default_factory=list)
    intro: list[str] = field(default_factory=list)
    outro: list[str] = field(default_factory=list)
    """Sections that are neither phases nor notes, kept verbatim after the phases."""
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


# --- reading markdown task lists -------------------------------------------------------------------

_ITEM_RE = re.compile(r"(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(?P<rest>.*)")
_BOX_RE = re.compile(r"\[(?P<mark>[ xX~\-])\](?P<opt>\*)?(?:[ \t]+(?P<text>.*)|$)")
_QUOTE_RE = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+")
_FENCE_RE = re.compile(r"[ \t]{0,3}(```+|~~~+)")
STATE_OF = {" ": "open", "x": "done", "X": "done", "-": "active", "~": "blocked"}


@dataclass
class Line:
    number: int
    """1-based source line."""
    text: str
    indent: int = 0
    box: str | None = None
    """The box mark when the line is a task item."""
    optional: bool = False
    item_text: str = ""
    is_item: bool = False
    heading: int = 0
    """Heading level (1..6) outside fences, else 0."""


def source_lines(text: str) -> list[Line]:
    """The source split into lines (BOM and CR dropped) with what each one is; fenced code is prose."""
    text = text.removeprefix("\ufeff")
    out: list[Line] = []
    fence: str | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        m = _FENCE_RE.match(line)
        if fence is not None:
            if m is not None and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            out.append(Line(n, line))
            continue
        if m is not None:
            fence = m.group(1)
            out.append(Line(n, line))
            continue
        heading = re.match(r" {0,3}(#{1,6})(?:[ \t]+|$)", line)
        if heading:
            out.append(Line(n, line, heading=len(heading.group(1))))
            continue
        item = _ITEM_RE.fullmatch(_QUOTE_RE.sub("", line, count=1))
        if item is None:
            out.append(Line(n, line))
            continue
        indent = len(item.group("indent").expandtabs(4))
        rest = item.group("rest")
        box = _BOX_RE.fullmatch(rest)
        if box is None:
            out.append(Line(n, line, indent=indent, is_item=True, item_text=rest.strip()))
            continue
        out.append(
            Line(
                n,
                line,
                indent=indent,
                box=box.group("mark"),
                optional=bool(box.group("opt")),
                item_text=(box.group("text") or "").strip(),
                is_item=True,
            )
        )
    return out


def heading_text(line: Line) -> str:
    return line.text.strip().lstrip("#").strip().rstrip("#").strip()


def task_from(line: Line, depth: int) -> DraftTask:
    assert line.box is not None
    return DraftTask(
        line.item_text,
        STATE_OF[line.box],
        depth,
        line.optional,
        mark=line.box if line.box in "xX" else None,
    )


_ID_RE = re.compile(r"(\d{1,9}(?:\.\d{1,9})*)\.?[ \t]+(.*)")


def split_id(text: str) -> tuple[str, str] | None:
    """``"2.1 Create models"`` -> ``("2.1", "Create models")``; None when the text starts with no id."""
    m = _ID_RE.fullmatch(text)
    return (m.group(1), m.group(2).strip()) if m else None


def free_number(used: set[str], number: str) -> str:
    """``number`` (its whole part), or the next whole number after it that no phase has taken yet."""
    n = int(number.split(".")[0]) if number.split(".")[0].isdigit() else 1
    while str(n) in used:
        n += 1
    return str(n)


# --- writing the plan ------------------------------------------------------------------------------


_HEADING_RE = re.compile(r" {0,3}(#{1,2})(?=[ \t]|$)")


def _demote(lines: list[str], phase_like_only: bool) -> list[str]:
    """Kept prose must not start or end a phase: its level-1/2 headings become level 3 (in a phase
    body, all of them; around the phases, those that read as a phase heading)."""
    from phaser.plan.parse import phase_heading, split_done_mark

    out = []
    for line in lines:
        m = _HEADING_RE.match(line)
        if m is not None:
            name = line[m.end() :].strip().rstrip("#").strip()
            if not phase_like_only or phase_heading(split_done_mark(name)[0]) is not None:
                line = "###" + line[m.end() :]
        out.append(line)
    return out


def _yaml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(draft: Draft, source: str) -> str:
    """The plan.md text for a draft (LF line endings, no BOM)."""
    out = [
        "---",
        f"title: {_yaml_str(draft.title)}",
        "format: 1",
        f"imported_from: {_yaml_str(source)}",
        f"imported_kind: {draft.kind}",
        "---",
        "",
        f"# {draft.title}",
        "",
    ]
    if draft.intro:
        out += [*_demote(draft.intro, True), ""]
    upper = any(t.mark == "X" for p in draft.phases for t in p.tasks)
    for phase in draft.phases:
        out += [f"## Phase {phase.number}: {phase.title}", ""]
        meta = []
        if phase.depends:
            meta.append(f"depends: {', '.join(phase.depends)}")
        if phase.status:
            meta.append(f"status: {phase.status}")
        if meta:
            out += [*meta, ""]
        out += [
            "<!-- imported: set difficulty (easy, medium, hard) here, or run phaser plan --revise -->",
            "",
        ]
        if phase.body:
            out += [*_demote(_trim(phase.body), False), ""]
        for task in phase.tasks:
            if task.raw:
                if out[-1].strip():
                    out.append("")
                out += [*_demote([task.text], False), ""]
                continue
            mark = BOX[task.state]
            if task.state == "done":
                mark = task.mark or ("X" if upper else "x")
            pad = "  " * task.depth
            out.append(f"{pad}- [{mark}]{'*' if task.optional else ''} {task.text}")
            out += [f"{pad}  {d}" if d.strip() else "" for d in task.details]
        if phase.tasks:
            out.append("")
        if phase.notes:
            out += ["### Notes", ""]
            out += [f"- {n}" for n in phase.notes]
            out.append("")
    if draft.outro:
        out += _demote(_trim(draft.outro), True)
    return "\n".join(out).rstrip("\n") + "\n"


def _trim(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    out: list[str] = []
    for line in lines[start:end]:
        if line.strip() or (out and out[-1].strip()):
            out.append(line)
    return out
