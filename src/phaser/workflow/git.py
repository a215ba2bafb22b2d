"""The few git operations a phase needs: is the tree clean, where are we, commit the phase."""

from __future__ import annotations

import subprocess
from pathlib import Path

from phaser.errors import PhaserError

# Paths phaser writes itself while it runs; they never make a tree "dirty".
OWN_PATHS = (".phaser/",)


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise PhaserError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def is_repo(root: Path) -> bool:
    proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True, text=True)
    return proc.returncode == 0 and Path(proc.stdout.strip()).resolve() == root.resolve()


def head(root: Path) -> str | None:
    proc = _git(root, "rev-parse", "--verify", "-q", "HEAD", check=False)
    return proc.stdout.strip() or None


def dirty_paths(root: Path) -> list[str]:
    proc = _git(root, "status", "--porcelain", "-z", "--untracked-files=all")
    out = []
    for entry in proc.stdout.split("\0"):
        if not entry:
            continue
        path = entry[3:]
        if (
            path.startswith(OWN_PATHS)
            or Path(path).name.endswith(".lock")
            and Path(path).name.startswith(".")
        ):
            continue
        out.append(path)
    return out


def commit_paths(root: Path, message: str, paths: list[str]) -> str:
    """Commit exactly ``paths`` (added, changed or deleted), whatever else is staged or dirty;
    returns the new commit's hash."""
    if paths:
        _git(root, "add", "-A", "--", *paths)
    env_args = (
        ["-c", "user.name=phaser", "-c", "user.email=phaser@localhost"] if not _has_identity(root) else []
    )
    _git(root, *env_args, "commit", "-q", "--no-verify", "--allow-empty", "-m", message, "--", *paths)
    return head(root) or ""


def _has_identity(root: Path) -> bool:
    return bool(_git(root, "config", "user.email", check=False).stdout.strip())


def reset_hard(root: Path, commit: str) -> None:
    _git(root, "reset", "-q", "--hard", commit)
    _git(root, "clean", "-q", "-fd")


def diff_stat(root: Path, base: str, target: str = "HEAD", exclude: list[str] = ()) -> dict[str, int]:
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


def find_phase_commit(root: Path, slug: str, phase: int) -> str | None:
    proc = _git(root, "log", "--format=%H", f"--grep=^Phaser-Phase: {slug}/{phase}$", check=False)
    lines = proc.stdout.split()
    return lines[0] if lines else None


def phase_commits(root: Path, slug: str) -> dict[int, str]:
    """The newest commit of each phase of a plan, found by its `Phaser-Phase: slug/N` trailer in one
    `git log`; empty outside a repository. The plan's evidence note can't name its own commit (the
    note is part of it), so this is how status and the TUI show it."""
    try:
        proc = _git(
            root,
            "log",
            "--format=%H %(trailers:key=Phaser-Phase,valueonly,separator=%x2C)",
            f"--grep=^Phaser-Phase: {slug}/",
            check=False,
        )
    except OSError:  # no git on this machine: status still works
        return {}
    found: dict[int, str] = {}
    for line in proc.stdout.splitlines() if proc.returncode == 0 else []:
        commit, _, trailers = line.partition(" ")
        for value in trailers.split(","):
            plan, _, number = value.strip().rpartition("/")
            if plan == slug and number.isdigit():
                found.setdefault(int(number), commit)
    return found
