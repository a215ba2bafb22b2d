"""A parse cache on disk, so `status`, `next --dry-run` and the TUI don't parse an unchanged plan
again, and don't import markdown-it at all when nothing changed.

One JSON file per plan under ``<project>/.phaser/cache/plans/``, named by the plan's real path and
holding that path, the length and a BLAKE2 digest of the exact bytes it was parsed from: a hit needs
the same file *and* the same content, so any byte change (or a different file) misses and the plan
is parsed afresh. JSON, not pickle: loading the cache can never run code, whoever wrote the file.
A cache that is missing, torn, from another version or unwritable is simply a miss (the entries
themselves: phaser.diskcache).

Specs get a smaller entry under ``.phaser/cache/checks/``, the same way keyed: the problems
``validate`` finds in exactly those bytes (broken frontmatter), so ``status`` and ``next`` check a
spec with frontmatter without importing YAML or markdown-it while it is unchanged.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

from phaser import diskcache
from phaser.plan.layout import Layout, PhaseLayout, TaskLoc
from phaser.plan.model import Phase, Plan, Task
from phaser.plan.refs import key, make_number

VERSION = 1
"""Of the plan entries' format: bump it when _encode changes."""
STATE_DIR = ".phaser"
_MAX_UP = 8


def cache_dir_for(path: Path) -> Path | None:
    """``<root>/.phaser/cache/plans`` of the nearest folder above the plan holding ``.phaser/``."""
    folder = Path(os.path.realpath(path)).parent
    for _ in range(_MAX_UP):
        if (folder / STATE_DIR).is_dir():
            return folder / STATE_DIR / "cache" / "plans"
        if folder.parent == folder:
            return None
        folder = folder.parent
    return None


def load_checks(path: Path, data: bytes, folder: Path | None) -> list[tuple[int, str]] | None:
    """The (line, message) problems recorded for exactly these bytes of this spec, or None."""
    raw = diskcache.read(path, data, folder.parent / "checks") if folder is not None else None
    try:
        return [(int(line), str(message)) for line, message in raw["problems"]] if raw else None
    except (KeyError, TypeError, ValueError):
        return None


def store_checks(path: Path, data: bytes, problems: list[tuple[int, str]], folder: Path | None) -> None:
    if folder is not None:
        diskcache.write(path, data, {"problems": [list(p) for p in problems]}, folder.parent / "checks")


def load(path: Path, data: bytes, text: str, folder: Path | None) -> tuple[Plan, Layout] | None:
    """The cached (plan, layout) for exactly these bytes of this file, or None."""
    if folder is None:
        return None
    paused = gc.isenabled()
    gc.disable()  # a bulk build of acyclic records: a collection could free nothing, only cost time
    try:
        raw = diskcache.read(path, data, folder, VERSION)
        return None if raw is None else _decode(raw, text, Path(path))
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    finally:
        if paused:
            gc.enable()


def store(path: Path, data: bytes, plan: Plan, layout: Layout, folder: Path | None) -> None:
    """Write the entry for these bytes (best effort: a read-only tree just has no cache)."""
    if folder is None:
        return
    try:
        body = _encode(plan, layout)
    except (TypeError, ValueError):  # frontmatter YAML gave something JSON can't hold (a date): no cache
        return
    diskcache.write(path, data, body, folder, VERSION)


def _num(number: int) -> list[int]:
    return list(key(number))


def _task(t: Task) -> list[Any]:
    return [t.index, t.line, t.checked, t.text, t.depth, t.state, t.optional]


def _untask(phase: int, row: list[Any]) -> Task:
    index, line, checked, text, depth, state, optional = row
    return Task(phase, index, line, checked, text, depth, state, optional)


def _encode(plan: Plan, layout: Layout) -> dict[str, Any]:
    if json.loads(json.dumps(plan.frontmatter)) != plan.frontmatter:
        raise ValueError("frontmatter does not survive JSON")
    phases = []
    for p, pl in zip(plan.phases, layout.phases, strict=True):
        phases.append(
            [
                _num(p.number),
                p.title,
                p.line,
                p.end_line,
                p.meta,
                p.meta_lines,
                list(p.meta_span) if p.meta_span else None,
                [_task(t) for t in p.tasks],
                p.notes,
                p.notes_line,
                p.notes_end_line,
                p.heading_done,
                [
                    pl.heading_end,
                    list(pl.task_cols),
                    list(pl.task_ends),
                    pl.note_marker,
                    pl.notes_content_end,
                ],
            ]
        )
    firsts: dict[int, int] = {}
    for i, p in enumerate(plan.phases):
        firsts.setdefault(p.number, i)
    offsets = [[i, [loc.offset for loc in layout.tasks[plan.phases[i].number]]] for i in firsts.values()]
    return {
        "frontmatter": plan.frontmatter,
        "frontmatter_span": list(plan.frontmatter_span) if plan.frontmatter_span else None,
        "title": plan.title,
        "phases": phases,
        "offsets": offsets,
        "loose": [_task(t) for t in plan.loose_tasks],
        "odd": [list(o) for o in plan.odd_boxes],
    }


def _decode(raw: dict[str, Any], text: str, path: Path) -> tuple[Plan, Layout]:
    span = raw["frontmatter_span"]
    plan = Plan(
        text=text,
        path=path,
        frontmatter=raw["frontmatter"],
        frontmatter_span=(span[0], span[1]) if span else None,
        title=raw["title"],
        loose_tasks=[_untask(0, row) for row in raw["loose"]],
        odd_boxes=[(line, box) for line, box in raw["odd"]],
    )
    layouts = []
    for row in raw["phases"]:
        parts, title, line, end, meta, meta_lines, meta_span, tasks, notes, nl, nel, hd, pl = row
        number = make_number(parts)
        plan.phases.append(
            Phase(
                number=number,
                title=title,
                line=line,
                end_line=end,
                meta=meta,
                meta_lines=meta_lines,
                meta_span=(meta_span[0], meta_span[1]) if meta_span else None,
                tasks=[_untask(number, t) for t in tasks],
                notes=notes,
                notes_line=nl,
                notes_end_line=nel,
                heading_done=hd,
            )
        )
        layouts.append(PhaseLayout(pl[0], tuple(pl[1]), tuple(pl[2]), pl[3], pl[4]))
    locs: dict[int, tuple[TaskLoc, ...]] = {}
    for i, offsets in raw["offsets"]:
        phase = plan.phases[i]
        locs[phase.number] = tuple(
            TaskLoc(t.line, off, t.text) for t, off in zip(phase.tasks, offsets, strict=True)
        )
    return plan, Layout(tuple(layouts), locs)
