"""Phases that may run at once but name the same files: `phaser run --parallel` runs phases whose
dependencies are done side by side, in separate worktrees, so two that touch one file conflict at
the merge (or one of them is blocked). `validate` warns, so the plan gets an honest ``depends:``.

Files are file-like tokens of the tasks' text: a name with an extension (``a.py``, ``README.md``,
``src/app/models.py``) or a folder ending in ``/`` (``docs/``). Pure: text in, warnings out.
"""

from __future__ import annotations

import re
from collections import defaultdict

from phaser.plan.model import Phase, Plan

_TOKEN = re.compile(r"[\w./-]+")
_FILE = re.compile(r"(?:[\w.-]+/)*[\w-][\w.-]*\.[A-Za-z][A-Za-z0-9]{1,7}")
"""A path whose last part has an extension of 2-8 characters, starting with a letter (so not
``e.g.``, ``v1.2`` or ``3.5``)."""


def file_tokens(text: str) -> set[str]:
    """The file-like tokens of one task's text."""
    out = set()
    for raw in _TOKEN.findall(text):
        token = raw.strip(".").removeprefix("./")
        if "//" in token or token.startswith(("http", "www.")):
            continue
        if _FILE.fullmatch(token) or (raw.endswith("/") and len(token) > 1 and "/" in raw[:-1] + "/"):
            out.add(token if not raw.endswith("/") else token.rstrip("/") + "/")
    return out


def _ancestors(plan: Plan) -> dict[int, set[int]]:
    """Every phase's dependencies, direct or not (a cycle, which validate reports, is cut)."""
    index = {p.number: p for p in plan.phases}
    memo: dict[int, set[int]] = {}

    def visit(number: int, path: frozenset[int]) -> set[int]:
        if number in memo:
            return memo[number]
        phase = index.get(number)
        found: set[int] = set()
        for dep in phase.depends if phase is not None else []:
            if dep in path:
                continue
            found.add(dep)
            found |= visit(dep, path | {dep})
        memo[number] = found
        return found

    for p in plan.phases:
        visit(p.number, frozenset({p.number}))
    return memo


def overlaps(plan: Plan) -> list[tuple[Phase, Phase, list[str]]]:
    """Pairs of unfinished phases, neither depending on the other (directly or not), whose tasks
    name the same files: (earlier, later, shared files)."""
    open_phases = [p for p in plan.phases if not p.done and p.status != "skipped"]
    by_file: dict[str, list[Phase]] = defaultdict(list)
    for phase in open_phases:
        names: set[str] = set()
        for task in phase.tasks:
            names |= file_tokens(task.text)
        for name in sorted(names):
            by_file[name].append(phase)
    ancestors = _ancestors(plan) if by_file else {}
    shared: dict[tuple[int, int], list[str]] = defaultdict(list)
    pairs: dict[tuple[int, int], tuple[Phase, Phase]] = {}
    for name, phases in by_file.items():
        for i, a in enumerate(phases):
            for b in phases[i + 1 :]:
                if a.number in ancestors.get(b.number, ()) or b.number in ancestors.get(a.number, ()):
                    continue
                key = (a.number, b.number)
                pairs[key] = (a, b)
                shared[key].append(name)
    return [(pairs[k][0], pairs[k][1], sorted(shared[k])) for k in sorted(pairs)]


def overlap_messages(plan: Plan) -> list[tuple[int, str]]:
    """(1-based line of the later phase, message) per overlapping pair."""
    out = []
    for a, b, names in overlaps(plan):
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        out.append(
            (
                b.line + 1,
                f"phases {a.number} and {b.number} can run at once (neither depends on the other) but "
                f"both name {shown}: run in parallel they may conflict at the merge; "
                f"add 'depends: {a.number}' to phase {b.number} if it builds on phase {a.number}",
            )
        )
    return out
