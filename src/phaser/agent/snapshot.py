"""Snapshots of the working tree, so the harness can see what a step changed and put it back.

A snapshot maps each root-relative path to its hash, mode and symlink target; file contents go
once (by hash) into a blob store under ``.phaser/blobs`` so ``restore`` can rewrite them. A file
whose size, mtime, ctime and inode are unchanged since the previous snapshot reuses its hash,
so a snapshot of a few thousand files costs little more than a stat of each.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from phaser import layout

MAX_BLOB = 64 * 1024 * 1024
"""Files larger than this are hashed but not stored; restoring them fails loudly."""


@dataclass(frozen=True)
class Entry:
    kind: str
    """file or link."""
    sha256: str
    mode: int
    target: str | None = None
    """Symlink target, for links."""
    stamp: tuple[int, int, int, int] = (0, 0, 0, 0)
    """size, mtime_ns, ctime_ns, inode: when all match, the hash is reused."""

    def same_content(self, other: Entry) -> bool:
        return (self.kind, self.sha256, self.mode & 0o777, self.target) == (
            other.kind,
            other.sha256,
            other.mode & 0o777,
            other.target,
        )


@dataclass
class Snapshot:
    root: Path
    blob_dir: Path
    entries: dict[str, Entry] = field(default_factory=dict)

    def __contains__(self, rel: str) -> bool:
        return rel in self.entries


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.deleted)

    def items(self) -> Iterator[tuple[str, str]]:
        """(path, kind) pairs with kind added, modified or deleted."""
        for kind in ("added", "modified", "deleted"):
            for rel in getattr(self, kind):
                yield rel, kind


class RestoreError(RuntimeError):
    """Some paths could not be put back (blob missing or corrupted, I/O error)."""


def take_snapshot(
    root: Path,
    exclude: Sequence[str] = (".git", ".phaser"),
    *,
    blob_dir: Path | None = None,
    previous: Snapshot | None = None,
) -> Snapshot:
    """Record every tracked and untracked-but-not-ignored file under ``root``."""
    root = Path(root)
    blob_dir = Path(blob_dir) if blob_dir is not None else layout.blobs_dir(layout.state_dir(root))
    snap = Snapshot(root, blob_dir)
    known = previous.entries if previous is not None and previous.root == root else {}
    for rel in sorted(_list_paths(root, exclude)):
        entry = _entry(root / rel, known.get(rel), blob_dir)
        if entry is not None:
            snap.entries[rel] = entry
    return snap


def diff(before: Snapshot, after: Snapshot) -> Changes:
    b, a = before.entries, after.entries
    return Changes(
        added=sorted(a.keys() - b.keys()),
        modified=sorted(k for k in a.keys() & b.keys() if not a[k].same_content(b[k])),
        deleted=sorted(b.keys() - a.keys()),
    )


def restore(root: Path, before: Snapshot, paths: Iterable[str]) -> None:
    """Put each path back to its state in ``before``: rewrite, recreate, or delete it."""
    root = Path(root)
    failed: list[str] = []
    for rel in paths:
        try:
            _restore_one(root, before, rel)
        except (OSError, RestoreError) as exc:
            failed.append(f"{rel} ({exc})")
    if failed:
        raise RestoreError("could not restore: " + "; ".join(failed))


def read_blob(snap: Snapshot, rel: str) -> bytes:
    """The recorded bytes of a file in the snapshot, checked against its hash."""
    entry = snap.entries[rel]
    try:
        data = _blob_path(snap.blob_dir, entry.sha256).read_bytes()
    except FileNotFoundError:
        raise RestoreError(f"no stored content for {rel}") from None
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise RestoreError(f"stored content for {rel} was tampered with")
    return data


# -- listing --------------------------------------------------------------------------------------


def _excluded(rel: str, exclude: Sequence[str]) -> bool:
    return any(rel == ex or rel.startswith(ex.rstrip("/") + "/") for ex in exclude)


def _list_paths(root: Path, exclude: Sequence[str]) -> set[str]:
    listed = _git_list(root) if (root / ".git").exists() else None
    if listed is None:
        listed = set(_walk(root, exclude))
    return {p for p in listed if not _excluded(p, exclude)}


def _git_list(root: Path) -> set[str] | None:
    # -c flags: never run a hook or fsmonitor the agent may have configured.
    cmd = ["git", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "-C", str(root)]
    cmd += ["ls-files", "-co", "--exclude-standard", "-z"]
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": os.environ.get("HOME", "/"),
    }
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=120, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return {p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


def _walk(root: Path, exclude: Sequence[str]) -> Iterator[str]:
    for folder, dirs, files in os.walk(root):
        base = Path(folder).relative_to(root).as_posix()
        prefix = "" if base == "." else base + "/"
        kept = []
        for d in dirs:
            rel = prefix + d
            if _excluded(rel, exclude):
                continue
            if os.path.islink(os.path.join(folder, d)):
                yield rel  # a symlink to a folder is recorded as a link, not followed
            else:
                kept.append(d)
        dirs[:] = kept
        for f in files:
            yield prefix + f


# -- hashing and storing --------------------------------------------------------------------------


def _entry(path: Path, known: Entry | None, blob_dir: Path) -> Entry | None:
    try:
        st = path.lstat()
    except OSError:
        return None  # listed by git but deleted in the tree
    stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        return Entry(
            "link", hashlib.sha256(target.encode("utf-8", "surrogateescape")).hexdigest(), 0o777, target
        )
    if not stat.S_ISREG(st.st_mode):
        return None
    reusable = known is not None and known.kind == "file" and known.stamp == stamp
    if (
        known is not None
        and reusable
        and (st.st_size > MAX_BLOB or _blob_path(blob_dir, known.sha256).exists())
    ):
        return Entry("file", known.sha256, st.st_mode, None, stamp)
    try:
        digest = _store(path, blob_dir, st.st_size)
    except OSError:
        return None
    return Entry("file", digest, st.st_mode, None, stamp)


def _blob_path(blob_dir: Path, digest: str) -> Path:
    return blob_dir / digest[:2] / digest[2:]


def _store(path: Path, blob_dir: Path, size: int) -> str:
    """Hash the file and, unless it is huge or already stored, keep a copy of its bytes."""
    h = hashlib.sha256()
    if size > MAX_BLOB:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()
    with open(path, "rb") as f:
        data = f.read()
    h.update(data)
    digest = h.hexdigest()
    dest = _blob_path(blob_dir, digest)
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, dest)
    return digest


# -- restoring ------------------------------------------------------------------------------------


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)


def _safe_parent(root: Path, rel: str) -> Path:
    """Make every folder on the way to ``rel`` a real folder, never a symlink out of the tree."""
    current = root
    for part in rel.split("/")[:-1]:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            current.unlink()
        if not current.exists():
            current.mkdir()
    return current


def _restore_one(root: Path, before: Snapshot, rel: str) -> None:
    path = root / rel
    entry = before.entries.get(rel)
    if entry is None:
        # Snapshots hold files and links only: a real folder here was recreated for other paths.
        if os.path.lexists(path) and (path.is_symlink() or not path.is_dir()):
            path.unlink()
        _prune_empty(root, path.parent, before)
        return
    data = read_blob(before, rel) if entry.kind == "file" else b""
    parent = _safe_parent(root, rel)
    if os.path.lexists(path) and (path.is_symlink() or path.is_dir() or entry.kind == "link"):
        _remove(path)
    if entry.kind == "link":
        os.symlink(entry.target or "", path)
        return
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".phaser-restore-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, entry.mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _prune_empty(root: Path, folder: Path, before: Snapshot) -> None:
    """Remove folders an added file left behind, up to the first one that held something before."""
    while folder != root and folder.is_dir() and not folder.is_symlink():
        rel = folder.relative_to(root).as_posix() + "/"
        if any(k.startswith(rel) for k in before.entries) or any(folder.iterdir()):
            return
        folder.rmdir()
        folder = folder.parent
