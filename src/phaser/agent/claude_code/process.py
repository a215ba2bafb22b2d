"""Starting the ``claude`` process: the one place it is spawned, so its confinement lives here.

The whole process runs under the same bubblewrap policy as the agent's commands (the filesystem
read-only except what the step may write, the harness's state and the protected files bound
read-only over that), with one difference: it keeps the network, because it has to reach its
API. It runs in a new session so Stop, Ctrl-C or a timeout end its whole process group (its Bash
commands, the hook, the MCP bridge), and it dies with phaser (PR_SET_PDEATHSIG, ``--die-with-parent``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from phaser.agent.confine import bwrap
from phaser.agent.confine.policy import Policy, credential_paths, resolve_backend
from phaser.agent.sandbox import _die_with_parent
from phaser.errors import ConfigError


@dataclass
class Confinement:
    """What the claude process may write; everything else is read-only (under bubblewrap)."""

    sandbox: str
    """``[agent] sandbox``: auto, bwrap, landlock, seatbelt or none."""
    writable: list[Path] = field(default_factory=list)
    readonly: list[Path] = field(default_factory=list)
    """Bound read-only over the writable ones: .git, .phaser, specs, the plan, protected files."""

    def active(self) -> bool:
        """Whether claude runs confined; ConfigError (fail closed) where the setting cannot hold.
        The whole claude process runs under bubblewrap only: Landlock and Seatbelt would need its
        own config folders and API traffic worked out, so they refuse rather than run it unconfined."""
        choice = resolve_backend(self.sandbox)
        if choice.backend in ("none", "bwrap"):
            return choice.backend == "bwrap"
        raise ConfigError(
            f"Claude Code runs confined under bubblewrap only, and confinement here is {choice.backend}: "
            'install bubblewrap, or opt out on purpose with sandbox = "none" in [agent]'
        )


def confined_argv(argv: list[str], cwd: Path, confinement: Confinement) -> list[str]:
    """``argv`` under the bubblewrap policy, network kept (the API is reached over it)."""
    root = Path(os.path.abspath(cwd))
    writable = [Path(os.path.abspath(p)) for p in confinement.writable]
    policy = Policy(
        root=root,
        backend="bwrap",
        read_only=root not in writable,
        writable=(root,) if root in writable else (),
        readonly=tuple(confinement.readonly),
        hidden=tuple(credential_paths()),
        network=True,
        extra_writable=tuple(p for p in writable if p != root),
        reason="the claude process, network kept for its API",
    )
    outer = bwrap.argv(policy, shutil.which("bwrap") or "bwrap")
    # bubblewrap gives the process a private /tmp: a CLI installed under /tmp (a CI checkout, say)
    # is bound back read-only, or it could not even be started
    exe = Path(shutil.which(argv[0]) or argv[0]).resolve()
    tmp = Path("/tmp").resolve()
    if exe.is_relative_to(tmp):
        home = exe.parent.parent
        for link in (Path(shutil.which(argv[0]) or argv[0]).parent.parent, home):
            at = outer.index("--unshare-all")
            outer[at:at] = ["--ro-bind", str(link), str(link)]
    return outer + argv


def spawn(
    argv: list[str], cwd: Path, env: Mapping[str, str], confinement: Confinement
) -> tuple[subprocess.Popen[bytes], bool]:
    """Start claude (confined when bubblewrap can run); returns the process and whether it is confined."""
    confined = confinement.active()
    full = confined_argv(argv, cwd, confinement) if confined else argv
    proc = subprocess.Popen(
        full,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_die_with_parent(),
    )
    return proc, confined


def end_group(proc: subprocess.Popen[bytes], grace_s: float = 3.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``grace_s``."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers that outlived the leader


def existing(paths: Iterable[Path]) -> list[Path]:
    return [p for p in paths if os.path.lexists(p)]
