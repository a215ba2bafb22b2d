"""The bubblewrap backend: a policy as bwrap mount options (later mounts win).

/ read-only, a private /tmp, /dev and /proc; the writable tree bound back read-write, then the
harness dirs and protected files bound read-only over it, then every credential path covered
(a tmpfs over a directory, /dev/null over a file), so they read as empty. ``--unshare-all``
takes the network (unless the policy allows it) and gives a pid namespace, so phaser's own
/proc entries are out of sight.
"""

from __future__ import annotations

import os
from pathlib import Path

from phaser.agent.confine.policy import Policy


def argv(policy: Policy, bwrap: str) -> list[str]:
    root = str(policy.root)
    out = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    out += ["--ro-bind", root, root]  # visible even when it lives under /tmp
    for tool in _tools_under_tmp():  # the interpreter, its venv and PATH's tools, when they live in /tmp
        out += ["--ro-bind", tool, tool]
    if not policy.read_only:
        for p in policy.writable:
            out += ["--bind", str(p), str(p)]
    for p in policy.extra_writable:
        out += ["--bind", str(p), str(p)]
    for p in policy.readonly:
        if os.path.lexists(p) and not os.path.islink(p):
            out += ["--ro-bind", str(p), str(p)]
    for h in _hidden(policy.hidden):
        out += ["--tmpfs", h] if os.path.isdir(h) else ["--ro-bind", "/dev/null", h]
    out += ["--unshare-all"] + (["--share-net"] if policy.network else [])
    out += ["--die-with-parent", "--new-session", "--chdir", root]
    return out


def _tools_under_tmp() -> list[str]:
    """Folders the command needs to start that the private /tmp would hide: the interpreter's
    prefixes (a venv in a checkout under /tmp, as in CI) and the PATH entries there."""
    import sys

    tmp = os.path.realpath("/tmp")
    seen: list[str] = []
    import phaser

    package = os.path.dirname(os.path.dirname(os.path.abspath(phaser.__file__)))  # an editable install's src/
    for p in (
        sys.prefix,
        sys.exec_prefix,
        sys.base_prefix,
        package,
        *os.environ.get("PATH", "").split(os.pathsep),
    ):
        if not p:
            continue
        real = os.path.realpath(p)
        if real.startswith(tmp + os.sep) and os.path.isdir(real) and real not in seen:
            seen.append(real)
    return seen


def _hidden(paths: tuple[Path, ...]) -> list[str]:
    """Each existing credential path, and the target of one that is a symlink."""
    out: list[str] = []
    for p in paths:
        for candidate in (str(p), os.path.realpath(p)):
            if os.path.exists(candidate) and candidate not in out:
                out.append(candidate)
    return out
