"""What `phaser status` prints, near the interpreter's floor: the part of each plan's status that its
files alone decide comes from a snapshot while none of those files changed, so an unchanged
project is reported without importing the config, the plan model or markdown-it.

The snapshot (``.phaser/cache/status/``, one JSON file per root and spec argument, written only
where ``.phaser/`` exists) holds every plan's status as ``PlanStatus.full_dict`` gives it, without
the live parts, and what it was computed from: the names of the spec folders, the size and a BLAKE2
digest of each spec.md, plan.md, phaser.toml and pyproject.toml (or that it is absent, or not a
file), whether each file a plan's ``spec:`` names exists, and phaser's version. A read is a hit
only when all of that is still so; any byte changed, a spec added or removed, misses. A snapshot
is written only when nothing changed while it was computed (size, digest and mtime checked before
and after), so a save that lands mid-computation never leaves a stale one behind.

The live parts (commits of done phases, the model each passed on, the run under way) are worked
out on every call by phaser.workflow.status_live, the same for a hit and a miss.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from phaser import __version__, diskcache, layout
from phaser.workflow.status_live import active_run, passed_on, phase_commits, plan_state

VERSION = 1
"""Of the snapshot's format: bump it when PlanStatus.full_dict or this module's keys change."""
SPECS = "specs"
SETTINGS = ("phaser.toml", "pyproject.toml")


def report(start: Path | None, slug: str | None = None) -> list[dict[str, Any]]:
    """The full dicts of every plan's status (or the one of ``slug``), live parts filled in;
    ``phaser.workflow.status_live.prune`` makes each the `--json` form."""
    root = layout.find_root(start)
    state = layout.state_dir(root)
    simple = slug is None or ("/" not in slug and not slug.endswith(".md"))  # a path: resolved the slow way
    folder = state / "cache" / "status" if simple and state.is_dir() else None
    before = _inputs(root) if folder is not None else None
    if folder is not None and before is not None:
        entries = _load(folder, root, slug, before)
        if entries is not None:
            return [fill(root, e) for e in entries]
    entries, refs = _compute(root, slug)
    if folder is not None and before is not None:
        watched = dict(before, refs=sorted({(ref, seen) for ref, seen in refs}))
        steady = all(seen is not None for _, seen in refs)
        if steady and _inputs(root) == before:  # nothing landed while it was computed
            _store(folder, root, slug, watched, entries)
    return [fill(root, e) for e in entries]


def fill(root: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """A snapshot entry made a full status: commits, ran_on, active, state and cause."""
    data = entry["status"]
    if data["error"] is not None:
        return data
    slug, phases = data["slug"], data["phases"]
    done = {p["number"]: p["title"] for p in phases if p["state"] == "done"}
    commits = phase_commits(root, slug, done)
    for p in phases:
        if p["state"] == "done":
            p["commit"] = commits.get(p["number"])
            p["ran_on"] = passed_on(root, slug, p["number"])
    data["active"] = active_run(root, slug)
    data["state"], data["cause"] = plan_state(
        data["problems"], data["active"], data["next"], [(p["state"], p["number"]) for p in phases]
    )
    return data


def _compute(root: Path, slug: str | None) -> tuple[list[dict[str, Any]], list[tuple[str, bool | None]]]:
    """The statuses the full way (config, plans parsed or from their parse cache), without the
    live parts, and the files their ``spec:`` names (with whether each existed)."""
    from phaser.workflow.project import Project
    from phaser.workflow.status import static_status

    project = Project.open(root)
    infos = [project.spec(slug)] if slug is not None else project.specs()
    entries, refs = [], []
    for info in infos:
        status, named = static_status(project, info)
        entries.append({"status": status.full_dict()})
        refs += named
    return entries, refs


def _inputs(root: Path) -> dict[str, Any] | None:
    """What the static statuses are computed from, as it is now (see the module's docstring);
    None when it cannot be told (a file that cannot be read)."""
    try:
        files = {name: _token(root / name) for name in SETTINGS}
        specs = root / SPECS
        names = sorted(os.listdir(specs)) if os.path.isdir(specs) else []
        folders = {}
        for name in names:
            spec, plan = _token(specs / name / "spec.md"), _token(specs / name / "plan.md")
            if (spec or plan) and os.path.isdir(specs / name):
                folders[name] = [spec, plan]
    except OSError:
        return None
    return {"files": files, "specs": folders}


def _token(path: Path) -> list[Any] | None:
    """``[size, digest, mtime_ns]`` of a regular file, ``["not a file"]`` for anything else there,
    None when nothing is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO there must not hang status
    except FileNotFoundError:
        return None
    except (IsADirectoryError, NotADirectoryError):
        return ["not a file"] if os.path.lexists(path) else None
    try:
        st = os.fstat(fd)
        if not _regular(st.st_mode):
            return ["not a file"]
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read()
        return [len(data), diskcache.digest(data), st.st_mtime_ns]
    finally:
        os.close(fd)


def _regular(mode: int) -> bool:
    return mode & 0o170000 == 0o100000


def _content(inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs without the mtimes: what a snapshot is keyed by (the same bytes hit, touched or not)."""

    def strip(token: list[Any] | None) -> list[Any] | None:
        return token[:2] if token is not None else None

    return {
        "files": {name: strip(t) for name, t in inputs["files"].items()},
        "specs": {name: [strip(t) for t in pair] for name, pair in inputs["specs"].items()},
    }


def _code_stamp(files: Any = None) -> list[list[Any]] | None:
    """Size and mtime of each of phaser's own source files that computed the snapshot (``files``:
    those a snapshot names; by default every phaser module loaded now): code that changed under the
    same version (an upgrade from a checkout, an edit) misses too."""
    if files is None:
        import sys

        names = sorted(
            str(m.__file__)
            for k, m in list(sys.modules.items())
            if k.split(".")[0] == "phaser" and getattr(m, "__file__", None)
        )
    elif isinstance(files, list) and all(isinstance(f, list) and f and isinstance(f[0], str) for f in files):
        names = [f[0] for f in files]
    else:
        return None
    stamp = []
    for name in names:
        try:
            st = os.stat(name)
        except OSError:
            return None
        stamp.append([name, st.st_size, st.st_mtime_ns])
    return stamp


def _entry_file(folder: Path, root: Path, slug: str | None) -> tuple[str, Path]:
    real = os.path.realpath(root)
    name = diskcache.digest(f"{real}\0{slug or ''}".encode("utf-8", "surrogateescape"))[:24]
    return real, folder / f"{name}.json"


def _load(folder: Path, root: Path, slug: str | None, now: dict[str, Any]) -> list[dict[str, Any]] | None:
    real, path = _entry_file(folder, root, slug)
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or (raw.get("v"), raw.get("phaser")) != (VERSION, __version__):
        return None
    if raw.get("root") != real or raw.get("slug") != slug or raw.get("inputs") != _content(now):
        return None
    if raw.get("code") != _code_stamp(raw.get("code")):
        return None
    refs = raw.get("refs")
    if not isinstance(refs, list) or any(os.path.isfile(ref) != exists for ref, exists in refs):
        return None
    entries = raw.get("entries")
    return entries if isinstance(entries, list) else None


def _store(
    folder: Path, root: Path, slug: str | None, watched: dict[str, Any], entries: list[dict[str, Any]]
) -> None:
    real, path = _entry_file(folder, root, slug)
    body = {
        "v": VERSION,
        "phaser": __version__,
        "root": real,
        "slug": slug,
        "inputs": _content(watched),
        "refs": watched["refs"],
        "code": _code_stamp(),
        "entries": entries,
    }
    try:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError):  # something JSON can't hold: no snapshot, computed each time
        return
    diskcache.put(path, payload)
