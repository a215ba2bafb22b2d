"""The plan as markdown for the view (m): frontmatter and phase metadata shown as metadata, tasks
as checkboxes.

Textual's Markdown widget knows neither YAML frontmatter (it draws a rule and a heading) nor GFM
task lists (``• [x]``). The lines come from the parsed plan (its line maps), so only the lines the
parser found as frontmatter, metadata or task markers are rewritten.
"""

from __future__ import annotations

from phaser.plan.model import Plan
from phaser.plan.parse import split_lines, strip_eol

BOXES = {"done": "☑", "open": "☐", "active": "◐", "blocked": "⊘"}
"""Task states (plan.model.TASK_STATES) as the view shows their boxes."""


def _table(rows: list[tuple[str, str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").strip() or " "

    return ["| | |", "|---|---|", *[f"| **{cell(k)}** | {cell(v)} |" for k, v in rows], ""]


def view_markdown(plan: Plan) -> str:
    """``plan.text`` with frontmatter and phase metadata as tables, ``[ ]``/``[x]`` as ☐/☑."""
    lines = [strip_eol(line) for line in split_lines(plan.text)]
    replace: dict[int, list[str]] = {}
    drop: set[int] = set()
    if plan.frontmatter_span is not None:
        start, end = plan.frontmatter_span
        rows = [(str(k), _scalar(v)) for k, v in plan.frontmatter.items()]
        replace[start] = _table(rows) if rows else []
        drop.update(range(start + 1, end))
    for phase in plan.phases:
        if phase.meta_span is not None:
            start, end = phase.meta_span
            rows = [(k, v) for k, v in phase.meta.items()]
            replace[start] = _table(rows)
            drop.update(range(start + 1, end))
        for task in phase.tasks:
            line = lines[task.line] if task.line < len(lines) else ""
            at = line.find("[")
            if at >= 0 and line[at + 2 : at + 3] == "]":
                state = getattr(task, "state", "") or ("done" if task.checked else "open")
                lines[task.line] = line[:at] + BOXES.get(state, BOXES["open"]) + line[at + 3 :]
    out: list[str] = []
    for i, line in enumerate(lines):
        if i in replace:
            out.extend(replace[i])
        elif i not in drop:
            out.append(line)
    return "\n".join(out)


def _scalar(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def spec_markdown(text: str) -> str:
    """A spec.md for the view: its frontmatter as a table (it has no phases)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        return text
    rows = []
    for line in lines[1:end]:
        key, sep, value = line.partition(":")
        if sep and key.strip():
            rows.append((key.strip(), value.strip()))
    return "\n".join([*_table(rows), *lines[end + 1 :]])
