"""What the agent may write, in which step: the harness decides, not the model.

The rules here are checked before the text editor writes (``check_write``) and again after every
bash call and every step against a snapshot of the tree (``check_change``), so a command that
slips past the first check is still reverted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from enum import Enum
from functools import lru_cache
from pathlib import Path

from phaser import layout

HUMAN_HINT = "record a note with add_note or a discovered task with add_task for a human"
HARNESS_DIRS = (".git", layout.STATE_DIR)
SPECS_DIR = "specs"


class Step(str, Enum):
    PLAN = "plan"
    EXPLORE = "explore"
    CODE = "code"
    UPDATE = "update"


class PolicyRefusal(Exception):
    """A write the policy does not allow; the message tells the model what to do instead."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """fnmatch-style glob over a posix path: ``*`` and ``?`` stay in one segment, ``**`` spans many.

    ``**/`` also matches zero folders, so ``**/test_*.py`` matches ``test_a.py`` at the root.
    """
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and pattern.find("]", i + 1) > i + 1:
            j = pattern.find("]", i + 1)
            body = pattern[i + 1 : j]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = j + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("(?s:" + "".join(out) + r")\Z")


def matches_any(rel: str, globs: Iterable[str]) -> str | None:
    """The first glob that matches the root-relative posix path, or None."""
    for g in globs:
        if glob_regex(g.strip().lstrip("/")).match(rel):
            return g
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class PathPolicy:
    """Where writes may land. Paths are judged by their root-relative posix form."""

    def __init__(
        self,
        root: Path,
        protected: list[str],
        unprotect: Iterable[str] = (),
        plan_path: Path | None = None,
    ) -> None:
        self.root = Path(os.path.abspath(root))
        self.root_real = Path(os.path.realpath(root))
        self.protected = [p for p in protected if p.strip()]
        self.unprotect = [p for p in unprotect if p.strip()]
        self.plan_rel: str | None = None
        if plan_path is not None:
            real = os.path.realpath(plan_path)
            if _inside(real, str(self.root_real)):
                self.plan_rel = Path(real).relative_to(self.root_real).as_posix()

    # -- classification of root-relative paths ---------------------------------------------------

    def protecting_glob(self, rel: str) -> str | None:
        """The protected glob that covers ``rel`` (None when unprotected or lifted by ``unprotect``)."""
        glob = matches_any(rel, self.protected)
        if glob is None or matches_any(rel, self.unprotect):
            return None
        return glob

    def _fixed_rule(self, rel: str) -> PolicyRefusal | None:
        """Rules that hold in every step, whatever the action."""
        parts = rel.split("/")
        if any(p in HARNESS_DIRS for p in parts):
            return PolicyRefusal(
                "harness-state",
                f"{rel} is inside .git/ or .phaser/, which belong to git and the harness; "
                "phaser commits and records runs itself.",
            )
        if parts[0] == SPECS_DIR or rel == self.plan_rel:
            return PolicyRefusal(
                "plan-via-tools",
                f"{rel} is part of the plan or spec, which changes only through the plan tools: "
                f"{HUMAN_HINT}, or claim a finished task with claim_task.",
            )
        return None

    def check_change(self, rel: str, kind: str, step: Step) -> PolicyRefusal | None:
        """Judge a change seen in a snapshot diff (kind: added, modified, deleted); None if allowed."""
        refusal = self._fixed_rule(rel)
        if refusal is not None:
            return refusal
        if step is not Step.CODE:
            return _step_refusal(step, rel)
        if kind != "added":
            glob = self.protecting_glob(rel)
            if glob is not None:
                return _protected_refusal(rel, glob, "modified" if kind == "modified" else "deleted")
        return None

    # -- checks on paths the model names ---------------------------------------------------------

    def resolve(self, path: str) -> tuple[Path, list[str]]:
        """The real path and the root-relative names it goes by (as written and as resolved).

        Raises PolicyRefusal when the path leaves the root, lexically or through a symlink.
        """
        if not isinstance(path, str) or not path.strip() or "\x00" in path:
            raise PolicyRefusal("bad-path", f"{path!r} is not a usable path.")
        raw = Path(path)
        lexical = os.path.normpath(raw if raw.is_absolute() else self.root / raw)
        names: list[str] = []
        for base in (str(self.root), str(self.root_real)):
            if _inside(lexical, base):
                names.append(Path(lexical).relative_to(base).as_posix())
                break
        else:
            raise PolicyRefusal(
                "outside-root", f"{path} is outside the project root {self.root}; work only inside it."
            )
        real = os.path.realpath(lexical)
        if not _inside(real, str(self.root_real)):
            raise PolicyRefusal(
                "outside-root",
                f"{path} leads outside the project root through a symlink (to {real}); work only inside it.",
            )
        rel_real = Path(real).relative_to(self.root_real).as_posix()
        if rel_real not in names:
            names.append(rel_real)
        return Path(real), names

    def check_write(self, path: str, step: Step, action: str) -> Path:
        """The resolved path to write, or PolicyRefusal. action: create, modify, delete or rename."""
        if action not in ("create", "modify", "delete", "rename"):
            raise ValueError(f"unknown action {action!r}")
        if step is not Step.CODE:
            raise _step_refusal(step, path)
        real, names = self.resolve(path)
        for rel in names:
            if rel in (".", ""):
                raise PolicyRefusal("bad-path", f"{path} is the project root itself, not a file.")
            refusal = self._fixed_rule(rel)
            if refusal is not None:
                raise refusal
        exists = os.path.lexists(real)
        if exists or action != "create":
            for rel in names:
                glob = self.protecting_glob(rel)
                if glob is not None:
                    verb = {"create": "overwritten", "modify": "modified", "delete": "deleted"}.get(
                        action, "renamed"
                    )
                    raise _protected_refusal(rel, glob, verb)
        return real

    def check_read(self, path: str) -> Path:
        """The resolved path to read: anything inside the root except phaser's own state."""
        real, names = self.resolve(path)
        for rel in names:
            if rel.split("/")[0] == ".phaser":
                raise PolicyRefusal("harness-state", f"{rel} is phaser's run state, not part of the project.")
        return real


def _step_refusal(step: Step, path: str) -> PolicyRefusal:
    return PolicyRefusal(
        "read-only-step",
        f"the {step.value} step may not change files ({path}); only the code step writes. "
        f"If something needs changing, {HUMAN_HINT}.",
    )


def _protected_refusal(rel: str, glob: str, verb: str) -> PolicyRefusal:
    return PolicyRefusal(
        "protected",
        f"{rel} is protected (matches {glob!r}) and may not be {verb}: a phase may add new tests "
        f"but never change existing ones. If it is wrong, {HUMAN_HINT}.",
    )
