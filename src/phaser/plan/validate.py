"""Checks a person can act on: every problem carries ``path:line`` (1-based) and one sentence.

Parsing is forgiving (unknown metadata keys, odd values and dependency knots still give a Plan),
so that ``phaser status`` works on a half-edited plan; ``validate`` is where those get reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from phaser.errors import PlanError
from phaser.plan.model import DIFFICULTIES, META_KEYS, STATUSES, Plan
from phaser.plan.parse import parse_with_layout
from phaser.plan.refs import key as number_key
from phaser.plan.refs import parse_number
from phaser.plan.store import decode_plan_bytes


@dataclass
class Problem:
    path: str
    line: int
    """1-based."""
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def validate_text(text: str, path: Path, kind: str = "plan") -> list[Problem]:
    """Problems in one spec or plan text (``kind`` is "plan" or "spec"), sorted by line."""
    if kind not in ("plan", "spec"):
        raise ValueError(f"kind must be 'plan' or 'spec', not {kind!r}")
    where = str(path)
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        return [Problem(where, line, "binary file (NUL byte), not markdown")]
    errors: list[tuple[int, str]] = []
    plan, _ = parse_with_layout(text, Path(path), errors)
    problems = [Problem(where, line, message) for line, message in errors]
    if kind == "plan":
        # Broken frontmatter is the real cause: it comes first, and "no phases" (often its echo) is
        # not piled on top of it.
        problems = sorted(problems, key=lambda p: p.line) + sorted(
            (
                p
                for p in _plan_problems(plan, where) + warnings(plan, where)
                if not (errors and p.message.startswith("no phases"))
            ),
            key=lambda p: p.line,
        )
        return problems
    return sorted(problems, key=lambda p: p.line)


def _plan_problems(plan: Plan, where: str) -> list[Problem]:
    out: list[Problem] = []

    def add(line0: int, message: str) -> None:
        out.append(Problem(where, line0 + 1, message))

    for line, box in plan.odd_boxes:
        add(
            line,
            f"checkbox {box} is not a task state phaser knows (use [ ], [x], [-] in progress, [~] blocked)",
        )
    for task in plan.loose_tasks:
        add(
            task.line,
            f"task outside any phase: '{_short(task.text)}' (move it under a '## Phase N:' heading)",
        )
    if not plan.phases:
        add(0, "no phases: a plan needs headings like '## Phase 1: Title'")
        return out
    first_line: dict[int, int] = {}
    numbers = {p.number for p in plan.phases}
    for phase in plan.phases:
        n = phase.number
        if n in first_line:
            add(phase.line, f"duplicate phase number {n} (also on line {first_line[n] + 1})")
        else:
            first_line[n] = phase.line
        for key, line in phase.meta_lines.items():
            if key not in META_KEYS:
                add(line, f"phase {n}: unknown metadata key '{key}' (known: {', '.join(META_KEYS)})")
        meta = phase.meta
        if "difficulty" in meta and meta["difficulty"].strip().lower() not in DIFFICULTIES:
            add(
                phase.meta_lines["difficulty"],
                f"phase {n}: unknown difficulty '{meta['difficulty']}' (use {', '.join(DIFFICULTIES)})",
            )
        if "status" in meta and phase.status is not None and phase.status not in STATUSES:
            add(
                phase.meta_lines["status"],
                f"phase {n}: unknown status '{meta['status']}' (use {', '.join(STATUSES)})",
            )
        if "depends" in meta:
            out.extend(
                _depends_problems(numbers, phase.number, meta["depends"], phase.meta_lines["depends"], where)
            )

    out.extend(_cycles(plan, where))
    return out


def warnings(plan: Plan, where: str) -> list[Problem]:
    """What validate reports but next/run do not refuse: a phase without tasks (nothing for a run
    to tick, so it would stay next forever unless marked done)."""
    return [
        Problem(
            where,
            phase.line + 1,
            f"warning: phase {phase.number} has no tasks, so it can never finish: add '- [ ] ...' tasks,"
            " or mark it done ('status: done' or ✅ in its heading)",
        )
        for phase in plan.phases
        if not phase.tasks and not phase.done and phase.status != "blocked"
    ]


def _depends_problems(numbers: set[int], number: int, raw: str, line0: int, where: str) -> list[Problem]:
    out: list[Problem] = []
    for part in raw.replace(";", ",").split(","):
        token = part.strip().lower().removeprefix("phase").strip()
        if not token:
            continue
        dep = parse_number(token)
        if dep is None:
            out.append(
                Problem(
                    where, line0 + 1, f"phase {number}: depends entry '{part.strip()}' is not a phase number"
                )
            )
        elif dep == number:
            out.append(Problem(where, line0 + 1, f"phase {number} depends on itself"))
        elif dep not in numbers:
            out.append(
                Problem(where, line0 + 1, f"phase {number} depends on phase {dep}, which does not exist")
            )
    return out


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cycles(plan: Plan, where: str) -> list[Problem]:
    """One problem per dependency cycle (strongly connected group), on its lowest phase's heading."""
    heading: dict[int, int] = {}
    graph: dict[int, list[int]] = {}
    for phase in plan.phases:
        if phase.number not in graph:
            heading[phase.number] = phase.line
            graph[phase.number] = []
        graph[phase.number] += [d for d in phase.depends if d != phase.number]
    for node in graph:
        graph[node] = [d for d in dict.fromkeys(graph[node]) if d in graph]
    out = []
    for group in _strongly_connected(graph):
        if len(group) < 2:
            continue
        start = min(group, key=number_key)
        path = _cycle_path(graph, start, set(group))
        shown = " -> ".join(str(n) for n in [*path, start])
        out.append(Problem(where, heading[start] + 1, f"dependency cycle: phase {shown}"))
    return out


def _strongly_connected(graph: dict[int, list[int]]) -> list[list[int]]:
    """Tarjan's algorithm, iterative so a long dependency chain cannot hit the recursion limit."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    groups: list[list[int]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succs = graph[node]
            if i < len(succs):
                work.append((node, i + 1))
                nxt = succs[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


def _cycle_path(graph: dict[int, list[int]], start: int, group: set[int]) -> list[int]:
    """A simple path start -> ... -> (back to start) inside one strongly connected group (BFS)."""
    prev: dict[int, int] = {}
    queue = [start]
    for node in queue:
        for nxt in graph[node]:
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return path[::-1]
            if nxt in group and nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return [start]


def validate_path(path: Path) -> list[Problem]:
    """Validate a file, a spec folder (spec.md, plan.md, other phased .md), or a tree of them."""
    path = Path(path)
    if path.is_file():
        return _validate_file(path, explicit=True)
    if not path.is_dir():
        raise PlanError("no such file or directory", path=path)
    if (path / "specs").is_dir():
        path = path / "specs"
    folders = (
        [path]
        if any((path / n).is_file() for n in ("spec.md", "plan.md"))
        else sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    )
    problems: list[Problem] = []
    for folder in folders:
        for file in sorted(folder.glob("*.md")):
            if file.is_file():
                problems += _validate_file(file, explicit=False)
    return problems


def _validate_file(path: Path, explicit: bool) -> list[Problem]:
    try:
        text = decode_plan_bytes(path.read_bytes(), path)
    except PlanError as exc:
        return [Problem(str(path), exc.line or 1, exc.msg)]
    except OSError as exc:
        return [Problem(str(path), 1, f"cannot read: {exc.strerror or exc}")]
    if path.name == "spec.md":
        return validate_text(text, path, "spec")
    if path.name == "plan.md":
        return validate_text(text, path, "plan") + _spec_reference(text, path)
    plan, _ = parse_with_layout(text, path, [])
    if plan.phases:
        return validate_text(text, path, "plan")
    return validate_text(text, path, "spec") if explicit else []


def check_parsed(plan: Plan, where: str) -> list[Problem]:
    """The problems of an already parsed plan (one that read_plan accepted), without parsing it
    again: what `validate_text` finds beyond broken frontmatter, plus a `spec:` that does not exist.
    ``plan.path`` locates the spec; ``where`` is how problems name the file."""
    problems = _plan_problems(plan, where)
    if plan.path is not None:
        problems += [Problem(where, p.line, p.message) for p in _spec_reference_of(plan, Path(plan.path))]
    return sorted(problems, key=lambda p: p.line)


def _spec_reference(text: str, path: Path) -> list[Problem]:
    try:
        plan, _ = parse_with_layout(text, path, [])
    except PlanError:
        return []
    return _spec_reference_of(plan, path)


def _spec_reference_of(plan: Plan, path: Path) -> list[Problem]:
    """The plan's frontmatter `spec:` must name a file that exists (relative to the plan): a phase
    runs with the spec as its context, so a renamed or deleted spec is a problem to fix first."""
    text = plan.text
    spec = plan.frontmatter.get("spec") if isinstance(plan.frontmatter, dict) else None
    if not isinstance(spec, str) or not spec.strip():
        return []
    if (path.parent / spec.strip()).is_file():
        return []
    start, end = plan.frontmatter_span or (0, 1)
    lines = text.splitlines()[start:end]
    line = start + 1 + next((i for i, ln in enumerate(lines) if ln.startswith("spec:")), 0)
    return [Problem(str(path), line, f"spec: {spec.strip()} does not exist beside the plan")]
