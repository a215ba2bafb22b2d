"""Git worktrees for phases that run at the same time: one per phase, on its own branch, under
``.phaser/worktrees/<slug>/``, plus the wave record that lets a killed run resume cleanly.

A worktree's ``.git`` is a file naming its private git dir inside the main ``.git``
(``.git/worktrees/<name>``); hooks and config are shared with the main checkout. So the agent's
writable root is the worktree only (the main ``.git`` stays read-only to it, as every harness
dir), and before phaser runs git there it checks that ``.git`` file still points where it did:
a rewritten one could point git at a directory full of planted hooks and config.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from phaser.errors import PhaserError
from phaser.plan.store import atomic_write
from phaser.stamps import utc_stamp
from phaser.workflow import git

RECORD = "wave.json"

# lane states, in the order a lane goes through them
RUNNING = "running"
"""The agent works in the worktree (a kill here: the worktree is cleaned, the phase runs again)."""
READY = "ready"
"""Green in its worktree, committed on its branch, waiting to merge (a kill here: merged next run)."""
MERGING = "merging"
"""Being merged onto the head, gates running on the merged tree (a kill here: the merge is aborted)."""
TICKED = "ticked"
"""Merged, gates green, the plan ticked; only the commit is left (a kill here: committed next run)."""
MERGED = "merged"
BLOCKED = "blocked"
"""A conflict or a red gate after the merge: branch and worktree kept for a person."""


def worktrees_dir(state_dir: Path, slug: str) -> Path:
    return state_dir / "worktrees" / slug


def branch_name(slug: str, number: int) -> str:
    return f"phaser/{slug}/phase-{number}"


@dataclass
class Lane:
    """One phase of a wave: where it runs and how far it got."""

    number: int
    branch: str
    path: str
    base: str
    state: str = RUNNING
    head_before: str | None = None
    """The main head before this lane's merge began (set in MERGING and TICKED)."""
    merged_tree: str | None = None
    """The index's tree once ``git merge`` applied (MERGING on): what the merge itself staged, so a
    recovery tells its leftovers from a person's edits made since."""
    started: str = ""
    work: dict = field(default_factory=dict)
    """What the merge needs once the agent is done: claims, gates, models, usage (READY on)."""

    @property
    def worktree(self) -> Path:
        return Path(self.path)


class WaveRecord:
    """``.phaser/worktrees/<slug>/wave.json``: every lane of the plan's parallel run, written
    atomically on every change so a kill -9 leaves a record of exactly how far each lane got."""

    def __init__(self, state_dir: Path, slug: str) -> None:
        self.dir = worktrees_dir(state_dir, slug)
        self.path = self.dir / RECORD
        self._lock = threading.RLock()
        self.lanes: dict[int, Lane] = {}
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            lanes = [Lane(**raw) for raw in data.get("lanes", [])]
        except (OSError, ValueError, TypeError):
            lanes = []
        self.lanes = {lane.number: lane for lane in lanes}

    def save(self) -> None:
        with self._lock:
            self.dir.mkdir(parents=True, exist_ok=True)
            lanes = [asdict(lane) for lane in sorted(self.lanes.values(), key=lambda x: x.number)]
            atomic_write(self.path, json.dumps({"lanes": lanes}, indent=2, default=str))

    def put(self, lane: Lane) -> None:
        with self._lock:  # lanes' threads record as they finish while the run's thread merges
            self.lanes[lane.number] = lane
            self.save()

    def set(self, number: int, state: str, **changes: object) -> None:
        with self._lock:
            lane = self.lanes[number]
            lane.state = state
            for key, value in changes.items():
                setattr(lane, key, value)
            self.save()

    def drop(self, number: int) -> None:
        with self._lock:
            self.lanes.pop(number, None)
            self.save()


# -- git ------------------------------------------------------------------------------------------


def run_git(
    root: Path, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, input=stdin)
    if check and proc.returncode != 0:
        raise PhaserError(f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def common_dir(root: Path) -> Path:
    """The main ``.git`` every worktree shares (hooks, config, objects, refs)."""
    out = run_git(root, "rev-parse", "--git-common-dir").stdout.strip()
    path = Path(out)
    return (path if path.is_absolute() else root / path).resolve()


def link_text(root: Path, lane: Lane) -> str | None:
    """What the worktree's ``.git`` file must say: ``gitdir: <main .git>/worktrees/<name>``."""
    gitdir = common_dir(root) / "worktrees" / lane.worktree.name
    return f"gitdir: {gitdir}\n" if gitdir.is_dir() else None


def check_link(root: Path, lane: Lane, expected: str) -> bool:
    """Put the worktree's ``.git`` file back when it was changed; True when it had been."""
    dot = lane.worktree / ".git"
    try:
        same = dot.is_file() and not dot.is_symlink() and dot.read_text(encoding="utf-8") == expected
    except OSError:
        same = False
    if same:
        return False
    if dot.is_dir() and not dot.is_symlink():
        shutil.rmtree(dot)
    else:
        dot.unlink(missing_ok=True)
    dot.write_text(expected, encoding="utf-8")
    return True


def add(root: Path, state_dir: Path, slug: str, number: int, base: str) -> Lane:
    """A fresh worktree for phase ``number`` on a new branch at ``base``. A branch of that name
    left from an earlier run (kept for a person after a conflict) is never reused: the new one
    gets a suffix."""
    folder = worktrees_dir(state_dir, slug)
    folder.mkdir(parents=True, exist_ok=True)
    branch, path, n = branch_name(slug, number), folder / f"phase-{number}", 1
    while _branch_exists(root, branch) or path.exists():
        n += 1
        branch, path = f"{branch_name(slug, number)}-{n}", folder / f"phase-{number}-{n}"
    run_git(root, "worktree", "add", "-q", "-b", branch, str(path), base)
    return Lane(number, branch, str(path), base, started=utc_stamp())


def _branch_exists(root: Path, branch: str) -> bool:
    return run_git(root, "rev-parse", "--verify", "-q", f"refs/heads/{branch}", check=False).returncode == 0


def remove(root: Path, lane: Lane, *, branch: bool = True) -> None:
    """Remove the worktree (and its branch): after a merge, or once its changes are kept as a patch."""
    if lane.worktree.exists():
        run_git(root, "worktree", "remove", "--force", "--force", str(lane.worktree), check=False)
        if lane.worktree.exists():
            shutil.rmtree(lane.worktree, ignore_errors=True)
    run_git(root, "worktree", "prune", check=False)
    if branch:
        run_git(root, "branch", "-D", lane.branch, check=False)


def save_changes(lane: Lane, dest: Path) -> Path | None:
    """The worktree's changes since its base (committed or not, new files included) as one patch,
    so nothing an interrupted phase did is lost when its worktree is cleaned up."""
    tree = lane.worktree
    if not (tree / ".git").exists():
        return None
    run_git(tree, "add", "-A", "--", ".", ":(exclude).phaser", check=False)
    proc = run_git(tree, "diff", "--cached", "--binary", lane.base, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(dest, proc.stdout)
    return dest


def commit_work(lane: Lane, message: str, paths: list[str]) -> str | None:
    """Commit the phase's work on its branch (never the plan: it lives in the main checkout);
    None when there was nothing to commit."""
    if not paths:
        return None
    return git.commit_paths(lane.worktree, message, paths)


def listed(root: Path) -> list[Path]:
    """Every worktree git knows of (the main checkout excluded)."""
    proc = run_git(root, "worktree", "list", "--porcelain", check=False)
    paths = [Path(line[9:]) for line in proc.stdout.splitlines() if line.startswith("worktree ")]
    return [p for p in paths if p.resolve() != root.resolve()]
