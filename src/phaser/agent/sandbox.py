"""Run one shell command for the agent: timeout, output cap, scrubbed environment, bubblewrap.

Every command runs as ``bash -c`` in a new session so a timeout can kill the whole process group.
The environment is rebuilt from an allow-list, never inherited, so keys in phaser's own
environment do not reach the model. With bubblewrap (``bwrap``) the command also gets a read-only
view of the filesystem (except the paths the step may write), a private /tmp, no network, and a
new pid namespace with its own /proc, so ``/proc/<phaser pid>/environ`` is out of reach.

Without bubblewrap, a process of the same user can still read phaser's memory and initial
environment; ``scrub_process_env()`` narrows that (see docs/agent-harness.md).

A command does not outlive phaser, even when phaser is killed with SIGKILL and cannot clean up:

* On Linux the direct child (``bash``, or ``bwrap``) gets ``PR_SET_PDEATHSIG`` = SIGKILL. The kernel
  sends it when the *thread* that forked the child exits; ``run_command`` forks in the calling
  thread and blocks there until the child is reaped, so that thread never ends first. The setting
  survives ``exec``, so a simple command that bash execs in place (``bash -c "pytest"``) is covered.
* With bubblewrap, ``--die-with-parent`` and the new pid namespace take down everything inside.
* Without bubblewrap (on any POSIX system) a tiny watchdog, ``bash`` in its own session blocked
  reading a pipe only phaser holds, kills the command's process group when that pipe closes
  because phaser died, so grandchildren such as ``make test`` -> ``pytest`` die too.

Not covered: processes that leave the group or session themselves (``setsid``, daemons) when
bubblewrap is not used, and a watchdog killed along with phaser by someone who kills it by pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from phaser.agent.confine import bwrap, landlock, seatbelt
from phaser.agent.confine.policy import Policy, build, probe_bwrap, resolve_backend
from phaser.errors import ConfigError

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|COOKIE|^ANTHROPIC_", re.I)
_ALLOWED = ("PATH", "HOME", "LANG", "TERM", "USER", "LOGNAME", "SHELL", "TMPDIR", "VIRTUAL_ENV", "TZ")
_ALLOWED_PREFIXES = ("LC_", "PYTHON")
_FIXED = {
    "GIT_OPTIONAL_LOCKS": "0",  # `git status` must not rewrite .git/index in a read-only step
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
}
_removed_secrets: set[str] = set()


@dataclass
class CommandResult:
    exit_code: int
    output: str
    """stdout and stderr merged, capped (head and tail kept)."""
    truncated: bool
    timed_out: bool
    sandboxed: bool
    """True when a confinement backend (any) confined the command."""
    cancelled: bool = False
    """True when ``cancel`` was set while it ran (it was killed)."""
    backend: str = "none"
    """The confinement it ran under: bwrap, landlock, seatbelt or none."""


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def known_secret_values() -> list[str]:
    """Values worth redacting wherever text leaves the harness: secret-named environment variables
    (now, and those removed by scrub_process_env). Short values are skipped to avoid noise."""
    values = {v for k, v in os.environ.items() if is_secret_name(k)} | _removed_secrets
    return sorted((v for v in values if len(v) >= 8), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    for value in known_secret_values() if secrets is None else secrets:
        if value and value in text:
            text = text.replace(value, "[redacted]")
    return text


def safe_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A command environment built from scratch: an allow-list of harmless variables, no secrets."""
    env: dict[str, str] = {}
    for name, value in os.environ.items():
        if (name in _ALLOWED or name.startswith(_ALLOWED_PREFIXES)) and not is_secret_name(name):
            env[name] = value
    env.setdefault("PATH", os.defpath)
    env.update(_FIXED)
    for name, value in (extra or {}).items():
        if not is_secret_name(name):
            env[name] = value
    return env


def scrub_process_env() -> list[str]:
    """Remove secret variables from this process's environment; returns their names.

    Call it once the API client holds its key. Besides ``os.environ`` it blanks the values in the
    initial environment block that ``/proc/<pid>/environ`` shows, and marks the process
    non-dumpable so other processes of the same (non-root) user cannot read its /proc files or
    attach a debugger. Root can still read memory; only the bwrap pid namespace hides phaser there.
    """
    names = [k for k in list(os.environ) if is_secret_name(k)]
    for name in names:
        value = os.environ.pop(name)
        if len(value) >= 8:
            _removed_secrets.add(value)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            _blank_initial_environ()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    return names


def _blank_initial_environ() -> None:
    """Overwrite secret values in the memory block /proc/self/environ reads from."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    # Fields 50 and 51 of stat (env_start, env_end); the split drops the first two.
    start, end = int(fields[47]), int(fields[48])
    if not 0 < start < end:
        return
    block = ctypes.string_at(start, end - start)
    offset = 0
    for item in block.split(b"\0"):
        name, sep, value = item.partition(b"=")
        if sep and value and is_secret_name(name.decode("utf-8", "replace")):
            at = start + offset + len(name) + 1
            ctypes.memset(at, ord("x"), len(value))
        offset += len(item) + 1


def sandbox_available() -> bool:
    """Whether bubblewrap is installed and can create its namespaces here (checked once)."""
    return probe_bwrap().works


def legacy_policy(
    cwd: Path, sandbox: str, read_only: bool, readonly_paths: Iterable[Path], network: bool = False
) -> Policy:
    """The policy of a caller that names only a backend setting (tests, old call sites)."""
    return build(
        cwd, resolve_backend(sandbox), read_only=read_only, readonly=list(readonly_paths), network=network
    )


def run_command(
    command: str,
    *,
    cwd: Path,
    timeout_s: float,
    output_cap: int,
    read_only: bool,
    writable_paths: Iterable[Path] = (),
    readonly_paths: Iterable[Path] = (),
    env: Mapping[str, str] | None = None,
    sandbox: str = "auto",
    cancel: threading.Event | None = None,
    policy: Policy | None = None,
) -> CommandResult:
    """Run ``bash -c command`` under ``policy``; never raises for what the command does, only for
    a confinement that cannot hold (ConfigError: fail closed).

    Without ``policy``, one is built from ``sandbox`` (auto, bwrap, landlock, seatbelt, none),
    ``read_only`` and ``readonly_paths``. ``cancel``: when set while the command runs (a person
    pressed stop), the command's group is killed at once.
    """
    cwd = Path(cwd)
    if policy is None:
        policy = legacy_policy(cwd, sandbox, read_only, readonly_paths)
    run_env = safe_env(env)
    if policy.read_only:
        run_env["PYTHONDONTWRITEBYTECODE"] = "1"
    argv = ["bash", "-c", command]
    preexec = _die_with_parent()
    prepared = None
    temp = None
    backend = policy.backend
    if backend == "bwrap":
        run_env["TMPDIR"] = "/tmp"
        argv = bwrap.argv(policy, shutil.which("bwrap") or "bwrap") + argv
    elif backend in ("landlock", "seatbelt"):
        temp = Path(tempfile.mkdtemp(prefix="phaser-cmd-"))
        policy = dataclasses.replace(policy, temp_dir=temp)
        run_env["TMPDIR"] = str(temp)
        if backend == "seatbelt":
            argv = seatbelt.argv(policy) + argv
        else:
            try:
                prepared = landlock.Prepared(policy, run_env)
            except OSError as exc:
                shutil.rmtree(temp, ignore_errors=True)
                raise ConfigError(
                    f"Landlock could not confine the command, so it did not run: {exc}"
                ) from exc
            preexec = _chain(preexec, prepared.enforce)
    try:
        return _run(argv, cwd, run_env, preexec, backend, timeout_s, output_cap, cancel)
    finally:
        if prepared is not None:
            prepared.close()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _chain(*fns: Callable[[], None] | None) -> Callable[[], None]:
    def preexec() -> None:
        for fn in fns:
            if fn is not None:
                fn()

    return preexec


def _run(
    argv: list[str],
    cwd: Path,
    run_env: dict[str, str],
    preexec: Callable[[], None] | None,
    backend: str,
    timeout_s: float,
    output_cap: int,
    cancel: threading.Event | None,
) -> CommandResult:
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=run_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=preexec,
    )
    use_bwrap = backend == "bwrap"
    watchdog = None if use_bwrap else _start_watchdog(proc.pid)
    reader = _CappedReader(proc.stdout, output_cap)
    timed_out = cancelled = False
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            left = deadline - time.monotonic()
            try:  # short waits only when someone may cancel; one wait otherwise
                proc.wait(timeout=max(0.0, min(left, 0.1) if cancel is not None else left))
                break
            except subprocess.TimeoutExpired:
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                if time.monotonic() >= deadline:
                    timed_out = True
                    break
    finally:
        _kill_group(proc)  # also reaps background jobs the command left behind
        proc.wait()
        _stop_watchdog(watchdog)
    reader.join(timeout=5)
    output, truncated = reader.text()
    if timed_out:
        output += f"\n[timed out after {timeout_s:g}s; the command and its children were killed]"
    if cancelled:
        output += "\n[stopped: the command and its children were killed]"
    code = -9 if timed_out or cancelled else proc.returncode
    return CommandResult(code, output, truncated, timed_out, backend != "none", cancelled, backend)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


_PR_SET_PDEATHSIG = 1


@lru_cache(maxsize=1)
def _prctl() -> Any:
    """libc's prctl as a ctypes function, or None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec function that makes the child get SIGKILL when phaser dies (Linux only).

    Everything is looked up before the fork; between fork and exec the child only calls prctl and
    getppid. If phaser died before prctl took effect, the child is already orphaned: it kills itself.
    """
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()
    args = (ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, *args)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


# Blocks on a pipe only phaser holds; EOF (phaser exited or was killed) kills the command's group.
_WATCHDOG = 'read -r _; kill -KILL -- "-$1" 2>/dev/null'


def _start_watchdog(pgid: int) -> subprocess.Popen[bytes] | None:
    try:
        return subprocess.Popen(
            ["bash", "-c", _WATCHDOG, "phaser-watchdog", str(pgid)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=safe_env(),
            start_new_session=True,  # out of reach of a signal sent to phaser's own group
        )
    except OSError:
        return None


def _stop_watchdog(watchdog: subprocess.Popen[bytes] | None) -> None:
    """Phaser killed the group itself: stop the watchdog *before* closing its pipe, so it never
    signals a process group id that may since have been reused."""
    if watchdog is None:
        return
    with contextlib.suppress(ProcessLookupError):
        watchdog.kill()
    watchdog.wait()
    with contextlib.suppress(OSError):
        watchdog.stdin.close()  # type: ignore[union-attr]


class _CappedReader:
    """Drains a pipe in a thread, keeping at most ``cap`` bytes of head and of tail in memory."""

    def __init__(self, stream, cap: int) -> None:  # noqa: ANN001 - a binary pipe
        self.cap = max(cap, 64)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self._stream = stream
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            while chunk := self._stream.read1(65536):
                self.total += len(chunk)
                room = self.cap - len(self.head)
                if room > 0:
                    self.head += chunk[:room]
                    chunk = chunk[room:]
                if chunk:
                    self.tail += chunk
                    if len(self.tail) > self.cap:
                        del self.tail[: len(self.tail) - self.cap]

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():  # a grandchild escaped the group and holds the pipe
            with contextlib.suppress(OSError):
                self._stream.close()

    def text(self) -> tuple[str, bool]:
        if self.total <= len(self.head) + len(self.tail):
            return cap_text(bytes(self.head + self.tail).decode("utf-8", "replace"), self.cap)
        half = self.cap // 2
        head = bytes(self.head).decode("utf-8", "replace")[:half]
        tail = bytes(self.tail).decode("utf-8", "replace")[-(self.cap - half) :]
        cut = self.total - len(head.encode()) - len(tail.encode())
        return f"{head}\n[... {cut} characters cut ...]\n{tail}", True


def cap_text(text: str, cap: int) -> tuple[str, bool]:
    """Keep the head and tail of ``text`` within ``cap`` characters, marking the cut."""
    if len(text) <= cap:
        return text, False
    half = cap // 2
    tail_len = cap - half
    cut = len(text) - half - tail_len
    return f"{text[:half]}\n[... {cut} characters cut ...]\n{text[-tail_len:]}", True
