"""Denials that explain themselves: a blocked write or connect, worded as the rule it hit and
what to do instead, appended to the tool result the model sees."""

from __future__ import annotations

import os
import re
from pathlib import Path

from phaser.agent.confine.policy import HARNESS_DIRS, Policy

_DENIED = re.compile(
    r"(Read-only file system|Permission denied|Device or resource busy|Operation not permitted)", re.I
)
_NET = re.compile(r"(Network is unreachable|Temporary failure in name resolution|Could not resolve host|"
                  r"Name or service not known|Errno 101|Errno 13\] Permission denied.*connect|"
                  r"connect.*Permission denied|PermissionError.*connect)", re.I)  # fmt: skip
_PATHY = re.compile(r"(?:'|\"|`|\s|^)((?:[\w.~-]+)?/?[\w.@+~/-]+)(?=['\"`:]|\s|$)")


_HARNESS_WHY = {
    ".git": "git belongs to the user (phaser commits the phase itself)",
    ".phaser": "phaser's own state",
    "specs": "the plan changes only through phaser's tools (claim_task, add_note, add_task)",
}


def explain(output: str, policy: Policy, command: str = "") -> str:
    """The rule each denial in ``output`` hit, one line each; empty when there is none. A denial
    that names only a temp file (``sed -i`` renaming over a protected file) is matched to the
    paths the command names."""
    if not policy.confined:
        return ""
    lines: list[str] = []
    denied = False
    for raw in output.splitlines():
        if _NET.search(raw) and not policy.network:
            lines.append(
                "[confinement: the network is off for commands in this phase; work offline, or a "
                "person can set network = true in [agent] (or [gates]) of phaser.toml]"
            )
            continue
        if not _DENIED.search(raw):
            continue
        denied = True
        why = _rule_for(raw, policy)
        if why and why not in lines:
            lines.append(why)
    if denied and not lines and command:
        lines.append(_rule_for(command, policy))
    return "".join("\n" + line for line in dict.fromkeys(lines) if line)


def _rule_for(line: str, policy: Policy) -> str:
    for match in _PATHY.finditer(line):
        word = match.group(1)
        if "/" not in word and "." not in word:
            continue
        path = Path(os.path.abspath(os.path.join(policy.root, os.path.expanduser(word))))
        rel = _rel(path, policy.root)
        if any(path == p or p in path.parents for p in policy.protected):
            return (
                f"[confinement: {rel} is protected: existing tests can't change; add a new test file "
                "instead, or ask a human with add_note]"
            )
        if any(path == h or h in path.parents for h in policy.hidden):
            return f"[confinement: {path} holds credentials and is hidden from commands; don't use it]"
        if rel is not None and rel.split("/")[0] in HARNESS_DIRS:
            top = rel.split("/")[0]
            what = _HARNESS_WHY[top]
            return f"[confinement: {top}/ is read-only to commands: {what}]"
        if policy.read_only and rel is not None:
            return (
                f"[confinement: this step is read-only: nothing in the project may change ({rel}); "
                "write scratch files under $TMPDIR, and make changes in the coding step]"
            )
        if rel is None:
            return (
                f"[confinement: {path} is outside the project, which is read-only to commands; write "
                "inside the project, or under $TMPDIR for scratch files]"
            )
        if policy.backend == "landlock" and "/" not in rel:
            return (
                f"[confinement: under Landlock a command can't add or replace entries at the top of "
                f"the project ({rel}); put new files in a subdirectory, or use the editor tool]"
            )
    return ""


def _rel(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None
