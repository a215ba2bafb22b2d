"""The few git operations a phase needs: is the tree clean, where are we, commit the phase."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from phaser import layout
from phaser.errors import PhaserError, UsageError

# Paths phaser writes itself while it runs; they never make a tree "dirty".
OWN_PATHS = (layout.GITIGNORE,)


def _run(root: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    except OSError as exc:  # git missing from PATH, or not executable
        raise UsageError(f"cannot run git ({exc.strerror or exc}): install git or put it on PATH") from None


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = _run(root, list(args))
    if check and proc.returncode != 0:
        raise PhaserError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def is_repo(root: Path) -> bool:
    proc = _run(root, ["rev-parse", "--show-toplevel"])
    return proc.returncode == 0 and Path(proc.stdout.strip()).resolve() == root.resolve()


def head(root: Path) -> str | None:
    proc = _git(root, "rev-parse", "--verify", "-q", "HEAD", check=False)
    return proc.stdout.strip() or None


def dirty_paths(root: Path) -> list[str]:
    proc = _git(root, "status", "--porcelain", "-z", "--untracked-files=all")
    out = []
    entries = iter(proc.stdout.split("\0"))
    for entry in entries:
        if not entry:
            continue
        paths = [entry[3:]]
        if "R" in entry[:2] or "C" in entry[:2]:  # the original path follows as its own entry, unprefixed
            paths.append(next(entries, ""))
        for path in paths:
            name = Path(path).name
            if path and not (path.startswith(OWN_PATHS) or (name.endswith(".lock") and name.startswith("."))):
                out.append(path)
    return out


def commit_paths(root: Path, message: str, paths: list[str]) -> str:
    """Commit exactly ``paths`` (added, changed or deleted), whatever else is staged or dirty;
    returns the new commit's hash."""
    if paths:
        _git(root, "add", "-A", "--", *paths)
    _git(
        root,
        *_identity_args(root),
        "commit",
        "-q",
        "--no-verify",
        "--allow-empty",
        "-m",
        message,
        "--",
        *paths,
    )
    return head(root) or ""


def _identity_args(root: Path) -> list[str]:
    """The person's git identity is used as configured; only what is missing (name or email, each
    on its own) is filled in, so a commit never fails for it and never hides who set up the repo."""
    args = []
    for key, fallback in (("user.name", "phaser"), ("user.email", "phaser@localhost")):
        if not _git(root, "config", key, check=False).stdout.strip():
            args += ["-c", f"{key}={fallback}"]
    return args


def parent(root: Path, commit: str) -> str | None:
    """The commit's first parent, or None for a root commit."""
    proc = _git(root, "rev-parse", "--verify", "-q", f"{commit}^", check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def empty_tree(root: Path) -> str:
    """The id of the empty tree, to diff a root commit against."""
    return _git(root, "hash-object", "-t", "tree", os.devnull, check=True).stdout.strip()


def reset_hard(root: Path, commit: str) -> None:
    _git(root, "reset", "-q", "--hard", commit)
    _git(root, "clean", "-q", "-fd")


def diff_stat(root: Path, base: str, target: str = "HEAD", exclude: Sequence[str] = ()) -> dict[str, int]:
    """Files changed, insertions and deletions between two commits, without ``exclude`` paths."""
    spec = ["--", ".", *(f":(exclude){p}" for p in exclude)] if exclude else []
    proc = _git(root, "diff", "--shortstat", base, target, *spec, check=False)
    text = proc.stdout
    figures = {"files": 0, "insertions": 0, "deletions": 0}
    for part in text.split(","):
        part = part.strip()
        for key in figures:
            if key[:-1] in part:
                figures[key] = int(part.split()[0])
    return figures


def commits_touching_since(root: Path, commit: str) -> list[str]:
    proc = _git(root, "log", "--format=%H %s", f"{commit}..HEAD", check=False)
    return [line for line in proc.stdout.splitlines() if line]


@dataclass(frozen=True)
class PhaseCommit:
    commit: str
    number: int
    title: str


def phase_history(root: Path, slug: str) -> list[PhaseCommit]:
    """Every commit of a plan's phases reachable from HEAD, newest first, from their
    `Phaser-Phase: slug/N` trailers and `phase N: title` subjects, in one `git log`; empty outside
    a repository (or without git)."""
    try:
        proc = _git(
            root,
            "log",
            "--format=%H%x00%s%x00%(trailers:key=Phaser-Phase,valueonly,separator=%x2C)",
            f"--grep=^Phaser-Phase: {slug}/",
            check=False,
        )
    except OSError:
        return []
    out: list[PhaseCommit] = []
    for line in proc.stdout.splitlines() if proc.returncode == 0 else []:
        commit, _, rest = line.partition("\0")
        subject, _, trailers = rest.partition("\0")
        title = subject.split(": ", 1)[1] if ": " in subject else ""
        for value in trailers.split(","):
            plan, _, number = value.strip().rpartition("/")
            if plan == slug and number.isdigit():
                out.append(PhaseCommit(commit, int(number), title))
    return out


def commits_of(history: list[PhaseCommit], number: int, title: str) -> list[str]:
    """The commits of one phase, newest first: same number and title, so a phase renumbered by a
    hand edit is not confused with the one that had its number before."""
    return [c.commit for c in history if c.number == number and c.title == title]


def phase_commits(root: Path, slug: str, titles: dict[int, str]) -> dict[int, str]:
    """The newest commit of each phase (``titles``: number -> title as the plan says now)."""
    history = phase_history(root, slug)
    found = {}
    for number, title in titles.items():
        commits = commits_of(history, number, title)
        if commits:
            found[number] = commits[0]
    return found
