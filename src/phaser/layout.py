"""Where phaser keeps its own state in a project: one owner for the `.phaser/` layout.

    .phaser/
      runs/<slug>/<phase>/<UTC stamp>/   journal.jsonl, patches of undone attempts
      blobs/                             file contents of snapshots, by hash
      active/<slug>.json (+ .snapshot)   the unfinished run of a plan, for recovery
      locks/                             one run per plan at a time

It is the harness's: the agent may not touch it, it never makes a tree dirty, `phaser init` puts
it in .gitignore.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = ".phaser"
GITIGNORE = f"{STATE_DIR}/"
"""The .gitignore line (and git status prefix) of the state directory."""


def state_dir(root: Path) -> Path:
    return root / STATE_DIR


def runs_dir(state: Path, slug: str | None = None) -> Path:
    """Journals of every run, or of one spec's runs."""
    return state / "runs" if slug is None else state / "runs" / slug


def blobs_dir(state: Path) -> Path:
    return state / "blobs"


def active_marker(state: Path, slug: str) -> Path:
    return state / "active" / f"{slug}.json"


def locks_dir(state: Path) -> Path:
    return state / "locks"


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` with phaser.toml, a specs/ folder, or .git."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "phaser.toml").is_file() or (folder / "specs").is_dir() or (folder / ".git").exists():
            return folder
    return here
