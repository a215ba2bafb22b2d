"""Landlock through three syscalls (ctypes), enforced in the child between fork and exec, never
in phaser itself (the ruleset is built in phaser, which building does not restrict).

Why not the PyPI ``landlock`` package: it exists only as a pre-release (1.0.0.dev5) and its API
covers filesystem rules; phaser also needs the ABI 4 TCP rules and the ABI 6 scopes, which are a
few constants here. The layer is ~100 lines and has no dependency.

Landlock is an allow-list that cannot carve a denied subpath out of an allowed tree. So reads are
granted to the system dirs, the interpreter's prefixes, PATH entries, the project and the private
temp dir (never all of $HOME, so credential dirs stay unreadable); a grant that would contain a
hidden credential path fails closed. Writes are granted to the tree's children except .git,
.phaser and specs; the tree's root directory itself gets file-level write rules only.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from phaser.agent.confine.policy import HARNESS_DIRS, Policy

_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # the same on x86_64 and aarch64
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 16, 32, 64, 128
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 256, 512, 1024, 2048, 4096
REFER, TRUNCATE, IOCTL_DEV = 8192, 16384, 32768
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1, 2

READ = EXECUTE | READ_FILE | READ_DIR
WRITE = (
    WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG
    | MAKE_SOCK | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM | REFER | TRUNCATE
)  # fmt: skip
ADD_ONLY = WRITE_FILE | MAKE_DIR | MAKE_REG | MAKE_SYM | MAKE_FIFO | MAKE_SOCK
"""A directory holding protected files: new entries may be added, none removed or replaced."""
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
"""The rights a rule on a file (not a directory) may carry."""

SYSTEM_READ: tuple[str, ...] = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/opt",
)
SYSTEM_READ += ("/sys", "/dev", "/run", "/var/lib", "/nix", "/snap")
SYSTEM_READ += (
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/loadavg",
    "/proc/sys",
    "/proc/filesystems",
)
SYSTEM_READ += ("/proc/version", "/proc/uptime")
"""Not /proc as a whole: /proc/<phaser's pid>/environ would be readable (as root, Landlock's
ptrace scoping did not stop it here), so only these system-wide files."""
DEVICES_RW: tuple[str, ...] = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts", "/dev/shm")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPort(ctypes.Structure):
    _fields_ = [("allowed", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI, 0 when there is none."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        got = _libc().syscall(_SYS_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(got), 0)


def handled_fs(abi: int) -> int:
    rights = READ | WRITE
    if abi < 2:
        rights &= ~REFER
    if abi < 3:
        rights &= ~TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


class LandlockError(OSError):
    pass


def grants(policy: Policy, environ: dict[str, str] | None = None) -> list[tuple[Path, int]]:
    """The (path, rights) rules of a policy, before the kernel sees them; raises LandlockError
    when a grant would expose a hidden credential path (Landlock cannot deny inside a grant)."""
    env = os.environ if environ is None else environ
    hidden = [Path(h) for h in policy.hidden]
    out: list[tuple[Path, int]] = []

    def add(path: Path | str, rights: int, required: bool = False) -> None:
        p = Path(os.path.abspath(path))
        exposed = [h for h in hidden if h == p or p in h.parents]
        if exposed:
            if required:
                raise LandlockError(
                    f"Landlock cannot hide {exposed[0]}: it lies inside {p}, which the command must "
                    "read; move the project (or the credential), or use bubblewrap"
                )
            return
        if p.exists():
            out.append((p, rights if p.is_dir() else rights & FILE_ONLY))

    for d in SYSTEM_READ:
        add(d, READ)
    prefixes = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
    }
    if env.get("VIRTUAL_ENV"):
        prefixes.add(env["VIRTUAL_ENV"])
    for p in sorted(prefixes):
        add(p, READ, required=True)
    for entry in env.get("PATH", "").split(os.pathsep):
        if entry:
            add(entry, READ)
            add(os.path.dirname(os.path.abspath(entry)), READ)  # a shim's own tree (pyenv, nvm)
    for d in DEVICES_RW:
        add(
            d, READ | WRITE_FILE | (TRUNCATE if Path(d).is_file() else 0) | (WRITE if Path(d).is_dir() else 0)
        )
    root = Path(os.path.abspath(policy.root))
    add(root, READ, required=True)
    if policy.temp_dir is not None:
        add(policy.temp_dir, READ | WRITE, required=True)
    for extra in policy.extra_writable:
        add(extra, READ | WRITE, required=True)
    if not policy.read_only:
        readonly = [Path(os.path.abspath(r)) for r in policy.readonly]
        for tree in policy.writable:
            tree = Path(os.path.abspath(tree))
            out.extend(_tree_writes(tree, readonly + [tree / d for d in HARNESS_DIRS], hidden))
    return out


def _tree_writes(tree: Path, readonly: list[Path], hidden: list[Path]) -> list[tuple[Path, int]]:
    """Write rules for a tree minus its harness dirs and read-only paths. Landlock cannot carve a
    denial out of a grant, so a directory that holds a read-only path gets only the rights to add
    entries (no removing, renaming over, or truncating: a protected file stays), and its children
    are granted one by one. The tree's own directory gets file rules only: no new top-level entries."""
    out: list[tuple[Path, int]] = []
    try:
        children = sorted(tree.iterdir())
    except OSError:
        return out
    for child in children:
        if child in readonly or any(h == child or child in h.parents for h in hidden):
            continue
        if child.is_symlink():
            continue  # a link out of the tree must not widen the grant
        if child.is_dir():
            if any(child in r.parents for r in readonly):
                out.append((child, READ | ADD_ONLY))
                out.extend(_tree_writes(child, readonly, hidden))
            else:
                out.append((child, READ | WRITE))
        elif child.is_file():
            out.append((child, (READ | WRITE_FILE | TRUNCATE) & FILE_ONLY))
    return out


class Prepared:
    """A ruleset built in phaser's process (building restricts nothing); the child enforces it on
    itself between fork and exec, with two syscalls and no allocation."""

    def __init__(self, policy: Policy, environ: dict[str, str] | None = None) -> None:
        abi = abi_version()
        if abi < 1:
            raise LandlockError("the kernel offers no Landlock")
        libc = _libc()
        fs = handled_fs(abi)
        attr = _RulesetAttr(fs, 0, 0)
        size = 8
        if abi >= 4 and not policy.network:
            attr.net = NET_BIND_TCP | NET_CONNECT_TCP  # handled with no rule: every TCP bind/connect denied
            size = 16
        if abi >= 6:
            attr.scoped = (
                SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL
            )  # no signals or abstract sockets out of the domain
            size = 24
        fd = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
        if fd < 0:
            raise LandlockError(ctypes.get_errno(), "landlock_create_ruleset failed")
        self.fd = int(fd)
        try:
            for path, rights in grants(policy, environ):
                try:
                    pfd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    rule = _PathBeneath(rights & fs, pfd)
                    if libc.syscall(_SYS_ADD_RULE, self.fd, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
                        raise LandlockError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
                finally:
                    os.close(pfd)
        except BaseException:
            os.close(self.fd)
            raise
        self._syscall = libc.syscall
        self._prctl = libc.prctl
        self._args = (ctypes.c_long(_SYS_RESTRICT), ctypes.c_int(self.fd), ctypes.c_uint32(0))

    def enforce(self) -> None:
        """In the child only (a preexec function): irreversible for it and what it execs."""
        if self._prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or self._syscall(*self._args) != 0:
            os._exit(126)  # fail closed: the command never runs unconfined

    def close(self) -> None:
        os.close(self.fd)
