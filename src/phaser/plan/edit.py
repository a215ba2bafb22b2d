"""Pure edit operations on plan text: ``apply(text, op) -> text`` as minimal line splices.

A plan is a human's document, so an edit touches only the lines of its target (a checkbox byte,
one metadata line, the end of a Notes list, ...) and keeps everything else byte-identical: line
endings, odd list markers, trailing spaces, HTML, comments. Ops name their target semantically
(phase number, task ref + expected text) rather than by line, so they can be re-applied to a
text a human changed in the meantime; a vanished target raises EditConflict. Structural edits are
re-parsed and checked after splicing, so a splice markdown would read differently never lands.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from phaser.errors import EditConflict, UsageError
from phaser.plan.model import DIFFICULTIES, Phase, Plan
from phaser.plan.parse import (
    BOM,
    cached,
    content_end,
    layout_for,
    line_ending,
    meta_line,
    parse_with_layout,
    remember,
    split_lines,
    strip_eol,
)
from phaser.plan.refs import split_ref

_KEY_RE = re.compile(r"[A-Za-z_-]+")
_ORDERED_RE = re.compile(r"(.*?)(\d{1,9})([.)][ \t]+)")


def _one_line(value: str) -> bool:
    return bool(value.strip()) and "\n" not in value and "\r" not in value


@dataclass(frozen=True)
class SetTask:
    """Check or uncheck task ``"P.T"``; ``expect_text`` re-finds it if tasks moved."""

    ref: str
    checked: bool
    expect_text: str | None = None

    def __post_init__(self) -> None:
        if split_ref(self.ref) is None:
            raise UsageError(f"task reference {self.ref!r} is not of the form PHASE.TASK, e.g. 2.3")

    @property
    def phase(self) -> int:
        return self._split()[0]

    @property
    def index(self) -> int:
        return self._split()[1]

    def _split(self) -> tuple[int, int]:
        parts = split_ref(self.ref)
        assert parts is not None  # checked in __post_init__
        return parts


@dataclass(frozen=True)
class SetMeta:
    """Set (or with ``value=None`` remove) one ``key: value`` line of a phase's metadata."""

    phase: int
    key: str
    value: str | None

    def __post_init__(self) -> None:
        if _KEY_RE.fullmatch(self.key) is None:
            raise UsageError(f"metadata key {self.key!r} must match [A-Za-z_-]+")
        if self.value is not None and ("\n" in self.value or "\r" in self.value):
            raise UsageError(f"metadata value for {self.key!r} must be one line")


@dataclass(frozen=True)
class AppendNote:
    """Append a ``- text`` bullet to the phase's ``### Notes`` (created when missing)."""

    phase: int
    text: str

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise UsageError("a note needs some text")


@dataclass(frozen=True)
class AddTask:
    """Append an unchecked task after the phase's last top-level task."""

    phase: int
    text: str

    def __post_init__(self) -> None:
        if not _one_line(self.text):
            raise UsageError("a task needs one line of text")


@dataclass(frozen=True)
class AddPhase:
    """Append ``## Phase N: title`` (N = highest number + 1) at the end of the plan."""

    title: str
    difficulty: str = "medium"
    depends: tuple[int, ...] = ()
    tasks: tuple[str, ...] = ()
    body: str = ""

    def __post_init__(self) -> None:
        if not _one_line(self.title):
            raise UsageError("a phase needs a one-line title")
        if self.difficulty not in DIFFICULTIES:
            raise UsageError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {self.difficulty!r}")
        if not all(_one_line(t) for t in self.tasks):
            raise UsageError("each task needs one line of text")


@dataclass(frozen=True)
class SetFrontmatter:
    """Set frontmatter keys (``None`` removes one), rewriting only the YAML block."""

    values: dict[str, Any] = field(default_factory=dict)


Op = SetTask | SetMeta | AppendNote | AddTask | AddPhase | SetFrontmatter


def apply(text: str, op: Op) -> str:
    """The text with one op applied; raises EditConflict when the target is missing."""
    if isinstance(op, SetTask):
        return _set_task(text, op)
    if isinstance(op, SetFrontmatter):
        return _set_frontmatter(text, op.values)
    handler = _HANDLERS.get(type(op))
    if handler is None:
        raise TypeError(f"not a plan edit op: {op!r}")
    for lines in handler(_Doc(text), op):
        new = "".join(lines)
        if new == text or _verify(new, op):
            return new
    raise EditConflict(f"could not apply {op!r} without changing how the rest of the plan reads")


def apply_all(text: str, ops: Iterable[Op]) -> str:
    """Apply ops in order; all or nothing (the first conflict raises)."""
    for op in ops:
        text = apply(text, op)
    return text


# --- SetTask: one byte, found through the cached layout when possible -----------------------------


def _set_task(text: str, op: SetTask) -> str:
    layout = layout_for(text)
    locs = layout.tasks.get(op.phase)
    if locs is None:
        raise EditConflict(f"plan has no phase {op.phase} (task {op.ref})")
    pos = _pick_task([loc.text for loc in locs], op)
    offset = locs[pos].offset
    box = text[offset - 1 : offset + 2]
    if len(box) != 3 or box[0] != "[" or box[2] != "]" or box[1] not in " xX":
        raise EditConflict(f"task {op.ref}: checkbox not found where the parse put it")
    if (box[1] != " ") == op.checked:
        return text
    new = text[:offset] + ("x" if op.checked else " ") + text[offset + 1 :]
    hit = cached(text)
    remember(new, _toggled(hit[0], op.phase, pos, op.checked, new) if hit else None, layout)
    return new


def _pick_task(texts: list[str], op: SetTask) -> int:
    """0-based position of the task an op means: by index, or by its expected text nearby."""
    want, pos = op.expect_text, op.index - 1
    if 0 <= pos < len(texts) and (want is None or texts[pos] == want.strip()):
        return pos
    if want is None:
        raise EditConflict(f"phase {op.phase} has no task {op.index} (it has {len(texts)})")
    matches = [i for i, t in enumerate(texts) if t == want.strip()]
    if not matches:
        raise EditConflict(f"task {op.ref} {want!r} is no longer in phase {op.phase}")
    return min(matches, key=lambda i: (abs(i - pos), i))


def _toggled(plan: Plan | None, number: int, pos: int, checked: bool, new_text: str) -> Plan | None:
    """The plan after a toggle, sharing every untouched phase with the old one (no re-parse)."""
    if plan is None:
        return None
    phases = list(plan.phases)
    for i, phase in enumerate(phases):
        if phase.number == number:
            tasks = list(phase.tasks)
            tasks[pos] = dataclasses.replace(tasks[pos], checked=checked)
            phases[i] = dataclasses.replace(phase, tasks=tasks)
            break
    return dataclasses.replace(plan, text=new_text, phases=phases)


# --- structural ops: each returns candidate line lists, the first that verifies wins --------------


class _Doc:
    def __init__(self, text: str) -> None:
        self.text = text
        self.plan, self.layout = parse_with_layout(text)
        self.lines = split_lines(text)
        self.eol = line_ending(self.lines)

    def phase(self, number: int) -> tuple[Phase, int]:
        for pos, phase in enumerate(self.plan.phases):
            if phase.number == number:
                return phase, pos
        raise EditConflict(f"plan has no phase {number}")

    def blank(self, n: int) -> bool:
        return n < len(self.lines) and not self.lines[n].strip()

    def insert(self, at: int, new: list[str], blank_after: bool = True) -> list[str]:
        """Lines with ``new`` inserted before line ``at`` (plus a blank line when prose follows)."""
        lines = list(self.lines)
        if at > 0 and not lines[at - 1].endswith(("\n", "\r")):
            lines[at - 1] += self.eol
        if blank_after and at < len(lines) and lines[at].strip():
            new = [*new, self.eol]
        return lines[:at] + new + lines[at:]


def _set_meta(doc: _Doc, op: SetMeta) -> list[list[str]]:
    phase, pos = doc.phase(op.phase)
    key, eol, lines = op.key.lower(), doc.eol, doc.lines
    if phase.meta_span is None:
        if op.value is None:
            return [list(lines)]
        row = f"{op.key}: {op.value}".rstrip() + eol
        head = doc.layout.phases[pos].heading_end
        if doc.blank(head):
            return [doc.insert(head + 1, [row])]
        return [doc.insert(head, [eol, row])]
    start, end = phase.meta_span
    rows = [(n, meta_line(lines[n])) for n in range(start, end)]
    hits = [n for n, kv in rows if kv is not None and kv[0].lower() == key]
    if op.value is None:
        if not hits:
            return [list(lines)]
        if len(hits) < end - start:
            return [[line for n, line in enumerate(lines) if n not in hits]]
        drop_blank = doc.blank(end) and (start == doc.layout.phases[pos].heading_end or doc.blank(start - 1))
        return [lines[:start] + lines[end + (1 if drop_blank else 0) :]]
    if not hits:
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip(" \t"))]
        return [doc.insert(end, [f"{indent}{op.key}: {op.value}".rstrip() + eol], blank_after=False)]
    out = list(lines)
    for n in hits:
        out[n] = _replace_value(lines[n], op.value, eol)
    return [out]


def _replace_value(line: str, value: str, eol: str) -> str:
    body = strip_eol(line)
    colon = body.index(":")
    rest = body[colon + 1 :]
    lead = rest[: len(rest) - len(rest.lstrip(" \t"))] or " "
    return body[: colon + 1] + (lead + value if value else "") + (line[len(body) :] or eol)


def _append_note(doc: _Doc, op: AppendNote) -> list[list[str]]:
    phase, pos = doc.phase(op.phase)
    pl, eol = doc.layout.phases[pos], doc.eol
    parts = op.text.strip().splitlines()
    marker = pl.note_marker or "-"
    item = [f"{marker} {parts[0].strip()}{eol}"] + [f"  {p.strip()}{eol}" for p in parts[1:]]
    if phase.notes_line is not None and pl.notes_content_end is not None:
        at = pl.notes_content_end
        if at == phase.notes_line + 1:
            return [doc.insert(at, [eol, *item])]
        return [doc.insert(at, item), doc.insert(at, [eol, *item])]
    at = content_end(doc.lines, phase.line, phase.end_line)
    return [doc.insert(at, [eol, f"### Notes{eol}", eol, *item])]


def _add_task(doc: _Doc, op: AddTask) -> list[list[str]]:
    phase, pos = doc.phase(op.phase)
    pl, eol, lines = doc.layout.phases[pos], doc.eol, doc.lines
    top = [i for i, t in enumerate(phase.tasks) if t.depth == 0]
    if top:
        i = top[-1]
        task = phase.tasks[i]
        prefix = strip_eol(lines[task.line])[: pl.task_cols[i]]
        m = _ORDERED_RE.fullmatch(prefix)
        if m is not None:
            prefix = f"{m.group(1)}{int(m.group(2)) + 1}{m.group(3)}"
        at = content_end(lines, task.line, pl.task_ends[i])
        row = f"{prefix}[ ] {op.text.strip()}{eol}"
        return [doc.insert(at, [row], blank_after=False), doc.insert(at, [eol, row])]
    limit = phase.notes_line if phase.notes_line is not None else phase.end_line
    at = content_end(lines, phase.line, limit)
    return [doc.insert(at, [eol, f"- [ ] {op.text.strip()}{eol}"])]


def _add_phase(doc: _Doc, op: AddPhase) -> list[list[str]]:
    eol, lines = doc.eol, doc.lines
    number = max((p.number for p in doc.plan.phases), default=0) + 1
    block = [f"## Phase {number}: {op.title.strip()}{eol}", eol, f"difficulty: {op.difficulty}{eol}"]
    if op.depends:
        block.append(f"depends: {', '.join(str(d) for d in op.depends)}{eol}")
    if op.body.strip():
        block += [eol] + [line.rstrip() + eol for line in op.body.strip("\r\n").splitlines()]
    if op.tasks:
        block += [eol] + [f"- [ ] {t.strip()}{eol}" for t in op.tasks]
    at = len(lines)
    lead = [eol] if lines and lines[-1].strip() else []
    return [doc.insert(at, lead + block)]


_HANDLERS: dict[type, Callable[[_Doc, Any], list[list[str]]]] = {
    SetMeta: _set_meta,
    AppendNote: _append_note,
    AddTask: _add_task,
    AddPhase: _add_phase,
}


def _verify(new: str, op: Any) -> bool:
    """Re-parse an edited text and check the op did what it says (and nothing odd happened)."""
    try:
        plan, _ = parse_with_layout(new)
    except Exception:
        return False
    if isinstance(op, AddPhase):
        last = plan.phases[-1] if plan.phases else None
        return last is not None and last.title == op.title.strip() and len(last.tasks) >= len(op.tasks)
    phase = plan.phase(op.phase)
    if phase is None:
        return False
    if isinstance(op, SetMeta):
        got = phase.meta.get(op.key.lower())
        return got is None if op.value is None else got == op.value.strip()
    if isinstance(op, AppendNote):
        want = " ".join(p.strip() for p in op.text.strip().splitlines())
        return bool(phase.notes) and phase.notes[-1] == want
    if isinstance(op, AddTask):
        return any(t.text == op.text.strip() and not t.checked and t.depth == 0 for t in phase.tasks)
    return False


# --- SetFrontmatter: splice simple `key: scalar` lines, else ruamel round-trip of the block ----------

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")


def _set_frontmatter(text: str, values: dict[str, Any]) -> str:
    plan, _ = parse_with_layout(text)
    expected = dict(plan.frontmatter)
    for key, value in values.items():
        if value is None:
            expected.pop(key, None)
        else:
            expected[key] = list(value) if isinstance(value, tuple) else value
    if expected == plan.frontmatter and all(
        k in plan.frontmatter for k, v in values.items() if v is not None
    ):
        return text
    lines = split_lines(text)
    eol = line_ending(lines)
    if plan.frontmatter_span is None:
        import yaml

        bom = BOM if text.startswith(BOM) else ""
        dumped = yaml.safe_dump(expected, sort_keys=False, allow_unicode=True, default_flow_style=False)
        block = [f"{bom}---{eol}"] + [row + eol for row in dumped.splitlines()] + [f"---{eol}"]
        candidates = [block + split_lines(text[len(bom) :])]
    else:
        start, end = plan.frontmatter_span
        inner = lines[start + 1 : end - 1]
        spliced = _splice_keys(inner, values, eol)
        candidates = [] if spliced is None else [lines[: start + 1] + spliced + lines[end - 1 :]]
        candidates.append(lines[: start + 1] + _round_trip(inner, values, eol) + lines[end - 1 :])
    for candidate in candidates:
        new = "".join(candidate)
        try:
            if parse_with_layout(new)[0].frontmatter == expected:
                return new
        except Exception:
            continue
    raise EditConflict(f"could not set frontmatter keys {sorted(values)} without disturbing the rest")


def _splice_keys(inner: list[str], values: dict[str, Any], eol: str) -> list[str] | None:
    """Replace, add or drop single-line ``key: scalar`` rows; None when a key is not that simple."""
    out = list(inner)
    for key, value in values.items():
        if not isinstance(key, str) or _PLAIN_KEY.fullmatch(key) is None:
            return None
        hits = [i for i, row in enumerate(out) if re.match(rf"{re.escape(key)}[ \t]*:(?:[ \t]|$)", row)]
        scalar = None if value is None else _scalar(value)
        if len(hits) > 1 or (value is not None and scalar is None):
            return None
        if not hits:
            if scalar is not None:
                out.append(f"{key}: {scalar}{eol}")
            continue
        i = hits[0]
        rest = strip_eol(out[i]).split(":", 1)[1].strip()
        following = next((row for row in out[i + 1 :] if row.strip()), "")
        if not rest or rest[0] in "|>&*!{['\"" or " #" in rest or following[:1] in (" ", "\t"):
            return None
        if scalar is None:
            del out[i]
        else:
            out[i] = f"{key}: {scalar}{out[i][len(strip_eol(out[i])) :] or eol}"
    return out


def _scalar(value: Any) -> str | None:
    """A one-line YAML spelling of a simple value, or None for anything else."""
    import json

    import yaml

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or "\n" in value or "\r" in value:
        return None
    plain = value and value == value.strip() and value[0] not in "-?:,[]{}#&*!|>'\"%@`"
    out = (
        value if plain and ": " not in value and " #" not in value else json.dumps(value, ensure_ascii=False)
    )
    try:
        return out if yaml.safe_load(f"k: {out}") == {"k": value} else json.dumps(value, ensure_ascii=False)
    except yaml.YAMLError:
        return json.dumps(value, ensure_ascii=False)


def _round_trip(inner: list[str], values: dict[str, Any], eol: str) -> list[str]:
    """ruamel.yaml round trip: keeps key order, comments and flow style of the other keys."""
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    data = yaml.load("".join(inner).replace("\r\n", "\n")) or CommentedMap()
    for key, value in values.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = list(value) if isinstance(value, tuple) else value
    if not data:
        return []
    buf = io.StringIO()
    yaml.dump(data, buf)
    return [row + eol for row in buf.getvalue().splitlines()]
