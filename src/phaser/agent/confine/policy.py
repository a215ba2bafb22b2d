"""One confinement policy per step, and the choice of backend that enforces it.

Every process phaser starts during a phase (the agent's bash, the baseline gates, the gates after
coding, an agent CLI) runs under a :class:`Policy`: what it may write, what it may not even read,
and whether it may reach the network. The backends (bubblewrap, Landlock, Seatbelt) only translate
it; ``resolve_backend`` picks the strongest that works here and fails closed when none does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from phaser.errors import ConfigError

BACKENDS = ("bwrap", "landlock", "seatbelt")
CHOICES = ("auto", *BACKENDS, "none")

CREDENTIAL_PATHS = (
    "~/.ssh",
    "~/.aws",
    "~/.gnupg",
    "~/.netrc",
    "~/.git-credentials",
    "~/.config/gh",
    "~/.config/gcloud",
    "~/.azure",
    "~/.kube",
    "~/.docker/config.json",
    "~/.npmrc",
    "~/.pypirc",
)
"""Hidden from every confined command (plus ``agent.credential_paths``)."""

HARNESS_DIRS = (".git", ".phaser", "specs")
"""Inside the tree but never writable by a confined command: git stays the user's, plan and
harness state change only through phaser."""


@dataclass(frozen=True)
class Policy:
    """What one confined command may do. ``backend`` is resolved (never ``auto``)."""

    root: Path
    backend: str
    read_only: bool
    """Read-only steps write nothing but ``temp_dir``."""
    writable: tuple[Path, ...] = ()
    """Trees the command may write (the project root for the code step and the gates)."""
    readonly: tuple[Path, ...] = ()
    """Paths inside ``writable`` kept read-only: .git, .phaser, specs, the plan, protected files."""
    hidden: tuple[Path, ...] = ()
    """Credential paths the command may not read."""
    network: bool = False
    temp_dir: Path | None = None
    """A private, writable temp dir (TMPDIR); the only writable place of a read-only step."""
    extra_writable: tuple[Path, ...] = ()
    """Harness-owned files outside the tree the command must write (a gate's JUnit report dir)."""
    reason: str = ""
    """Why this backend (for the journal and `phaser doctor`)."""
    protected: tuple[Path, ...] = field(default=())
    """The protected files among ``readonly`` (named apart in denial messages)."""
    kind: str = "agent"
    """Who runs under it: ``agent`` (the agent's bash) or ``gate`` (phaser's gates)."""

    @property
    def confined(self) -> bool:
        return self.backend != "none"

    def describe(self) -> dict[str, object]:
        """The journal's record of the confinement a command ran under."""
        return {
            "backend": self.backend,
            "read_only": self.read_only,
            "network": self.network,
            "hidden": len(self.hidden),
            "runs": self.kind,
            "reason": self.reason,
        }


def credential_paths(extra: list[str] | tuple[str, ...] = (), home: str | None = None) -> list[Path]:
    """The credential paths to hide, ``~`` expanded against ``home`` (default: $HOME)."""
    home = home or os.environ.get("HOME") or str(Path.home())
    out = []
    for raw in (*CREDENTIAL_PATHS, *extra):
        text = raw.strip()
        if not text:
            continue
        if text == "~" or text.startswith("~/"):
            text = home + text[1:]
        out.append(Path(os.path.abspath(text)))
    return out


def harness_readonly(
    root: Path, plan_path: Path | None = None, protected: list[Path] | tuple[Path, ...] = ()
) -> list[Path]:
    """The paths inside the tree a confined command may never write."""
    fixed = [root / d for d in HARNESS_DIRS]
    if plan_path is not None:
        fixed.append(Path(plan_path))
    return fixed + list(protected)


# -- which backend works here ------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    backend: str
    works: bool
    detail: str


@lru_cache(maxsize=1)
def probe_bwrap() -> Probe:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Probe("bwrap", False, "bwrap is not installed (apt-get install bubblewrap)")
    argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    argv += ["--unshare-all", "--die-with-parent", "--new-session", "--chdir", "/", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=15, env={"PATH": os.defpath})
    except (OSError, subprocess.SubprocessError) as exc:
        return Probe("bwrap", False, f"{bwrap} could not run: {exc}")
    if done.returncode != 0:
        err = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        why = err[-1] if err else f"exit {done.returncode}"
        return Probe("bwrap", False, f"{bwrap} cannot create its namespaces here ({why})")
    return Probe("bwrap", True, f"{bwrap} creates user, mount, pid and network namespaces here")


@lru_cache(maxsize=1)
def probe_landlock() -> Probe:
    from phaser.agent.confine import landlock

    if not sys.platform.startswith("linux"):
        return Probe("landlock", False, "Landlock is Linux-only")
    abi = landlock.abi_version()
    if abi < 1:
        return Probe("landlock", False, "the kernel offers no Landlock (Linux 5.13+ with lsm=landlock)")
    if abi < 4:
        return Probe(
            "landlock",
            False,
            f"Landlock ABI {abi} cannot block network connections (needs ABI 4, Linux 6.7+)",
        )
    return Probe("landlock", True, f"Landlock ABI {abi}: filesystem and TCP rules")


@lru_cache(maxsize=1)
def probe_seatbelt() -> Probe:
    if sys.platform != "darwin":
        return Probe("seatbelt", False, "Seatbelt (sandbox-exec) is macOS-only")
    if shutil.which("sandbox-exec") is None:
        return Probe("seatbelt", False, "sandbox-exec is missing")
    return Probe("seatbelt", True, "sandbox-exec with a generated profile")


_PROBES = {"bwrap": probe_bwrap, "landlock": probe_landlock, "seatbelt": probe_seatbelt}


def probes() -> list[Probe]:
    return [_PROBES[b]() for b in BACKENDS]


def reset_probes() -> None:
    """Forget the cached probes (tests change PATH)."""
    for fn in _PROBES.values():
        fn.cache_clear()


@dataclass(frozen=True)
class Choice:
    backend: str
    reason: str


def resolve_backend(setting: str) -> Choice:
    """The backend ``agent.sandbox`` means here; ConfigError (fail closed) when it cannot hold."""
    if setting not in CHOICES:
        raise ConfigError(f"agent.sandbox must be one of {', '.join(CHOICES)}, not {setting!r}")
    if setting == "none":
        return Choice("none", 'opted out: agent.sandbox = "none" (commands run with your full rights)')
    if setting != "auto":
        probe = _PROBES[setting]()
        if not probe.works:
            raise ConfigError(f'agent.sandbox = "{setting}" but {probe.detail}')
        return Choice(setting, f'agent.sandbox = "{setting}": {probe.detail}')
    tried: list[str] = []
    for probe in probes():
        if probe.works:
            skipped = "; ".join(tried)
            return Choice(probe.backend, probe.detail + (f" (not {skipped})" if skipped else ""))
        tried.append(probe.detail)
    raise ConfigError(
        "no confinement works here: "
        + "; ".join(tried)
        + ". Install bubblewrap, use Linux 6.7+ (Landlock ABI 4), or opt out on purpose with "
        'sandbox = "none" in [agent] of phaser.toml'
    )


def build(
    root: Path,
    choice: Choice,
    *,
    read_only: bool,
    readonly: list[Path] | tuple[Path, ...] = (),
    protected: list[Path] | tuple[Path, ...] = (),
    network: bool = False,
    credential_extra: list[str] | tuple[str, ...] = (),
    temp_dir: Path | None = None,
    extra_writable: tuple[Path, ...] = (),
    kind: str = "agent",
) -> Policy:
    """The policy of one command: the step decides ``read_only``, the caller lists what stays
    read-only inside the tree (harness dirs, the plan, protected files)."""
    root = Path(os.path.abspath(root))
    return Policy(
        root=root,
        backend=choice.backend,
        read_only=read_only,
        writable=() if read_only else (root,),
        readonly=tuple(readonly),
        hidden=tuple(credential_paths(credential_extra)),
        network=network,
        temp_dir=temp_dir,
        extra_writable=extra_writable,
        reason=choice.reason,
        protected=tuple(protected),
        kind=kind,
    )


def protected_files(root: Path, unprotect: list[str] | tuple[str, ...], globs: list[str]) -> list[Path]:
    """The existing files the protect globs cover (minus the phase's ``unprotect``)."""
    from phaser.agent.policy import matches_any

    out: list[Path] = []
    skip = set(HARNESS_DIRS) | {".venv", "node_modules", "__pycache__"}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip and not os.path.islink(os.path.join(dirpath, d))]
        for name in filenames:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if matches_any(rel, globs) and not matches_any(rel, list(unprotect)):
                out.append(full)
    return out


def confinement(setting: str) -> Choice:
    """Fail closed before the first model request: the backend this run's commands will use."""
    return resolve_backend(setting)
