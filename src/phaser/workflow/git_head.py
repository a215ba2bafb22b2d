"""The commit HEAD points at, read from the repository's own files without starting git, so that
`phaser status` can tell that the history it read last time still holds.

A commit's history never changes, so the phase commits found from one HEAD are found again from
it. This reader only answers when the answer is plain: a `.git` folder or `gitdir:` file found
walking up from the project, HEAD a commit id or a symbolic ref to a loose or packed branch. It
says None (the caller runs git) whenever git could see something else: GIT_* variables that move
the repository or its objects, grafts, replace refs, a shallow clone, anything it cannot read.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_NAMESPACE",
    "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_GRAFT_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CONFIG_PARAMETERS",
)
_COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def head_commit(root: Path) -> str | None:
    """HEAD's commit id for the repository git would find from ``root``, or None when unsure."""
    if any(name in os.environ for name in _ENV):
        return None
    try:
        gitdir = _gitdir(root)
        if gitdir is None:
            return None
        common = gitdir
        if (gitdir / "commondir").is_file():
            common = gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()
        if (common / "info" / "grafts").exists() or (common / "shallow").exists():
            return None
        if (common / "refs" / "replace").is_dir() and any((common / "refs" / "replace").iterdir()):
            return None
        packed = _packed(common)
        if any(ref.startswith("refs/replace/") for ref in packed):
            return None
        head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
        for _ in range(5):  # a symbolic ref may name another
            if not head.startswith("ref: "):
                return head if _COMMIT.fullmatch(head) else None
            ref = head[5:].strip()
            if not ref.startswith("refs/") or ".." in ref:
                return None
            loose = common / ref
            if loose.is_file():
                head = loose.read_text(encoding="utf-8").strip()
            elif ref in packed:
                head = packed[ref]
            else:
                return None  # an unborn branch: no history at all
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return None


def _gitdir(root: Path) -> Path | None:
    here = root.resolve()
    for folder in (here, *here.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            text = dot.read_text(encoding="utf-8").strip()
            if not text.startswith("gitdir: "):
                return None
            target = Path(text[len("gitdir: ") :])
            return target if target.is_absolute() else folder / target
        if dot.exists() or dot.is_symlink():
            return None
    return None


def _packed(common: Path) -> dict[str, str]:
    """The refs of ``packed-refs`` (name -> commit); peeled lines (``^``) and comments skipped."""
    path = common / "packed-refs"
    if not path.is_file():
        return {}
    refs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in "#^":
            continue
        commit, _, name = line.partition(" ")
        refs[name.strip()] = commit
    return refs
