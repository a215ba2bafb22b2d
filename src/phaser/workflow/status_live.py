"""The parts of a plan's status that change without its files changing: the commit of each done
phase (git), the model it passed on (its journal), the run that is under way or was interrupted
(markers, locks, a parallel run's record), and the one state they decide with the rest.

Kept apart from phaser.workflow.status and light on imports (no dataclasses, config or plan
model): `phaser status` computes these on every call, also when the rest of the status comes
from its snapshot (phaser.workflow.status_report).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phaser import diskcache, layout

PASSED = "passed"
"""phaser.outcomes.Outcome.PASSED's word in a journal (not imported: status runs without dataclasses)."""


def plan_state(
    problems: list[str], active: dict | None, nxt: Any, phases: list[tuple[str, Any]]
) -> tuple[str, str | None]:
    """The one state of a readable plan and its cause (see PlanStatus.state); ``phases`` are
    (state, number) pairs in plan order."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return "invalid", f"{problems[0]}{more}"
    if active:
        phase = active.get("phase")
        lanes = active.get("lanes")
        if lanes:  # a parallel run
            numbers = ", ".join(str(lane["phase"]) for lane in lanes)
            if active.get("running"):
                return "running", f"phase {numbers} {'is' if len(lanes) == 1 else 'are'} running at once"
            return "interrupted", f"phase {numbers} did not finish; the next parallel run resumes them"
        if active.get("running"):
            return "running", f"phase {phase} is running"
        return (
            "interrupted",
            f"phase {phase} did not finish; the next run undoes its changes and runs it again",
        )
    if nxt is not None:
        return "ready", None
    if phases and all(state in ("done", "skipped") for state, _ in phases):
        return "complete", None
    blocked = [number for state, number in phases if state == "blocked"]
    if blocked:
        names = ", ".join(str(n) for n in blocked)
        return "stuck", f"nothing can run: phase{'s' if len(blocked) > 1 else ''} {names} blocked"
    return "stuck", "nothing can run: every phase left waits on one that is not done"


def phase_commits(root: Path, slug: str, done: dict[Any, str]) -> dict[Any, str]:
    """The newest `phase N` commit of each done phase (number -> title as the plan says now). The
    plan's phase commits are read with one `git log` and kept in ``.phaser/cache/commits/`` under
    the commit HEAD was at (phaser.workflow.git_head): while HEAD stays there, no git runs."""
    if not done:
        return {}
    from phaser.workflow.git_head import head_commit

    head = head_commit(root)
    state = layout.state_dir(root)
    folder = state / "cache" / "commits" if head is not None and state.is_dir() else None
    rows = _history(folder, root, slug, head) if folder is not None else None
    if rows is None:
        from phaser.workflow import git

        rows = [[c.commit, str(c.number), c.title] for c in git.phase_history(root, slug)]
        if folder is not None and head is not None and head_commit(root) == head:  # HEAD stayed put
            diskcache.write(_history_key(root, slug), head.encode(), {"rows": rows}, folder)
    found: dict[Any, str] = {}
    for number, title in done.items():
        commit = next((c for c, n, t in rows if n == str(number) and t == title), None)  # newest first
        if commit is not None:
            found[number] = commit
    return found


def _history_key(root: Path, slug: str) -> Path:
    """The path the commits entry is keyed by: one per plan (diskcache names entries by path)."""
    return root / "specs" / slug / "plan.md"


def _history(folder: Path, root: Path, slug: str, head: str | None) -> list[list[str]] | None:
    raw = diskcache.read(_history_key(root, slug), (head or "").encode(), folder)
    rows = raw.get("rows") if raw else None
    if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == 3 for r in rows):
        return None
    return rows


def passed_on(root: Path, slug: str, number: Any) -> str | None:
    """The model of the newest run of a phase that passed, from the end of its journal."""
    base = layout.runs_dir(layout.state_dir(root), slug) / str(number)
    for run in sorted(base.glob("*/journal.jsonl"), reverse=True) if base.is_dir() else []:
        try:
            with open(run, "rb") as fh:
                fh.seek(0, 2)
                fh.seek(max(0, fh.tell() - 65536))
                tail = fh.read().decode("utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in reversed(tail):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("kind") == "outcome":
                if entry.get("outcome") == PASSED:
                    return entry.get("model")
                break
    return None


def active_run(root: Path, slug: str) -> dict | None:
    """The plan's unfinished phase run, if any, and whether a process is still working on it (it
    holds the plan's run lock) or it was interrupted. A parallel run (`phaser run --parallel`)
    adds ``lanes``: every phase it has in a worktree, with its state (running, ready, merging)."""
    state = layout.state_dir(root)
    marker = layout.active_marker(state, slug)
    lanes = _lanes(state, slug)
    if not marker.is_file() and not lanes:
        return None
    data: dict = {}
    if marker.is_file():
        try:
            data = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    lock = layout.locks_dir(state) / f"{slug}.lock"
    running = False
    if lock.exists():
        from filelock import FileLock, Timeout

        probe = FileLock(str(lock), timeout=0)
        try:
            probe.acquire()
            probe.release()
        except Timeout:
            running = True
    first = lanes[0] if lanes and not data else {}
    out = {
        "phase": data.get("phase", first.get("phase")),
        "started": data.get("started", first.get("started")),
        "running": running,
    }
    if lanes:
        out["lanes"] = lanes
    return out


def _lanes(state: Path, slug: str) -> list[dict]:
    """The phases a parallel run has in worktrees (``.phaser/worktrees/<slug>/wave.json``), blocked
    ones (kept for a person) left out."""
    record = state / "worktrees" / slug / "wave.json"
    if not record.is_file():
        return []
    try:
        raw = json.loads(record.read_text(encoding="utf-8")).get("lanes", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [
        {
            "phase": r.get("number"),
            "state": r.get("state"),
            "branch": r.get("branch"),
            "started": r.get("started"),
        }
        for r in raw
        if isinstance(r, dict) and r.get("state") not in ("blocked", "merged")
    ]


def prune(data: dict) -> dict:
    """A status's full dict as `--json` prints it: the keys that say nothing left out (a copy)."""
    data = dict(data)
    for name in ("cause", "error", "active"):
        if data[name] is None:
            del data[name]
    for name in ("loose_tasks", "hints", "problems"):
        if not data[name]:
            del data[name]
    return data
