"""Plans on disk: strict reading, crash-safe writing, and locked compare-and-swap edits.

A plan is edited by a person (in any editor) and by phaser at the same time. phaser's writes go
through ``edit_plan``: an advisory lock keeps two phaser processes apart, the ops are re-applied
to whatever is on disk right now (so a human's concurrent save is kept, or the edit reports an
EditConflict), and ``atomic_write`` guarantees readers see the old file or the new one, never half.
"""

from __future__ import annotations

import _thread
import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phaser.errors import EditConflict, PlanError
from phaser.plan.layout import cached, remember
from phaser.plan.model import Plan

if TYPE_CHECKING:  # edit ops load on first edit, so read-only commands start faster
    from phaser.plan.edit import Op

LOCK_TIMEOUT_S = 10.0
_RETRIES = 5

_written: dict[str, str] = {}
_written_guard = _thread.allocate_lock()  # threading.Lock itself, without importing threading


def decode_plan_bytes(data: bytes, path: Path | str) -> str:
    """UTF-8 text (BOM kept, line endings untouched); binary or non-UTF-8 data -> PlanError."""
    nul = data.find(b"\0")
    if nul >= 0:
        raise PlanError(
            "binary file (NUL byte), not a markdown plan", path=path, line=data.count(b"\n", 0, nul) + 1
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PlanError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", path=path, line=line) from None


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PlanError("no such file", path=path) from None
    except IsADirectoryError:
        raise PlanError("is a directory, not a plan file", path=path) from None
    except OSError as exc:
        raise PlanError(f"cannot read: {exc.strerror or exc}", path=path) from None


def read_text(path: Path) -> str:
    """The exact text of a plan file, with errors that name the path."""
    path = Path(path)
    return decode_plan_bytes(_read_bytes(path), path)


def read_plan(path: Path, use_cache: bool = True) -> Plan:
    """Read and parse a plan file, through the parse cache under the project's ``.phaser/`` (see
    phaser.plan.cache): unchanged bytes are not parsed again; any change is."""
    from phaser.plan import cache

    path = Path(path)
    data = _read_bytes(path)
    text = decode_plan_bytes(data, path)
    folder = cache.cache_dir_for(path) if use_cache else None
    hit = cache.load(path, data, text, folder)
    if hit is not None:
        remember(text, *hit)
        return hit[0]
    from phaser.plan.parse import parse_with_layout

    plan, layout = parse_with_layout(text, path)
    remember(text, plan, layout)
    cache.store(path, data, plan, layout, folder)
    return plan


def _default_mode() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for row in fh:
                if row.startswith("Umask:"):
                    return 0o644 & ~int(row.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o644 & ~mask


def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace a file's content all at once (temp file + fsync + rename), keeping its mode.

    Writes through symlinks (the link stays a link), and text goes out byte-exact: UTF-8 with no
    newline translation.
    """
    import tempfile

    target = Path(os.path.realpath(path))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = _default_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(target.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def lock_path(path: Path) -> Path:
    """The lock file for a plan, under phaser's own ``.phaser/locks/`` (never the plan itself, which
    ``os.replace`` swaps for a new inode, and never beside it, in the person's own folder).

    The project is the nearest folder above the plan holding ``phaser.toml`` or ``.phaser/`` (else
    the folder above ``specs/``); a plan outside any project locks under the temp folder."""
    target = Path(os.path.realpath(path))
    base = next(
        (d for d in target.parents if (d / "phaser.toml").is_file() or (d / ".phaser").is_dir()), None
    )
    if base is None:
        base = next((d.parent for d in target.parents if d.name == "specs"), None)
    if base is not None:
        folder = base / ".phaser" / "locks"
        try:
            key = target.relative_to(base).as_posix()
        except ValueError:
            key = str(target)
    else:
        import tempfile

        folder = Path(tempfile.gettempdir()) / f"phaser-locks-{os.getuid() if hasattr(os, 'getuid') else 0}"
        key = str(target)
    folder.mkdir(parents=True, exist_ok=True)
    digest = _sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return folder / f"plan-{target.parent.name}-{digest}.lock"


def _sha256(data: bytes) -> Any:
    import hashlib  # here, not at the top: reading a plan (status) never loads OpenSSL

    return hashlib.sha256(data)


def last_written(path: Path) -> str | None:
    """sha256 hex of the bytes phaser last wrote to ``path`` in this process, if any."""
    with _written_guard:
        return _written.get(os.path.realpath(path))


def is_own_write(path: Path) -> bool:
    """True when the file still holds exactly what phaser last wrote (a watcher can skip it)."""
    digest = last_written(path)
    if digest is None:
        return False
    try:
        return _sha256(Path(path).read_bytes()).hexdigest() == digest
    except OSError:
        return False


def edit_plan(path: Path, *ops: Op, base: str | None = None, parse_result: bool = True) -> Plan | None:
    """Apply ops to the plan on disk under the lock and write it atomically; return the new Plan.

    ``base`` is the text the caller computed its ops against. If the file changed since, task
    toggles are pinned to the task text they meant in ``base`` and all ops are re-applied to the
    current text, so a human's concurrent edit survives; a target that is gone raises
    EditConflict and the file is left alone. ``parse_result=False`` skips building the returned
    Plan (and returns None) for callers that only need the write; a toggle on a text phaser parsed
    or wrote recently never re-parses either way.
    """
    from filelock import FileLock, Timeout

    from phaser.plan.edit import apply_all

    path = Path(path)
    lock = FileLock(str(lock_path(path)), timeout=LOCK_TIMEOUT_S)
    try:
        lock.acquire()
    except Timeout:
        raise EditConflict(
            f"another phaser process holds {lock_path(path).name}; try again", path=path
        ) from None
    try:
        for _ in range(_RETRIES):
            current = read_text(path)
            pinned = _pin_tasks(ops, base) if base is not None and current != base else ops
            new = apply_all(current, pinned)
            if new == current:
                return _result(new, path, parse_result)
            if read_text(path) != current:  # an editor saved while we worked: start over on its text
                continue
            payload = new.encode("utf-8")
            atomic_write(path, payload)
            with _written_guard:
                _written[os.path.realpath(path)] = _sha256(payload).hexdigest()
            return _result(new, path, parse_result)
        raise EditConflict("the plan kept changing while phaser tried to edit it", path=path)
    finally:
        lock.release()


def _pin_tasks(ops: tuple[Op, ...], base: str) -> tuple[Op, ...]:
    """Give each bare SetTask the text its ref had in ``base``, so it still finds its task."""
    from phaser.plan.edit import SetTask

    if not any(isinstance(op, SetTask) and op.expect_text is None for op in ops):
        return ops
    from phaser.plan.parse import parse_plan

    plan = parse_plan(base)
    out: list[Op] = []
    for op in ops:
        if isinstance(op, SetTask) and op.expect_text is None:
            phase = plan.phase(op.phase)
            task = phase.task(op.index) if phase is not None else None
            if task is None:
                raise EditConflict(f"task {op.ref} does not exist in the text the edit was made for")
            op = dataclasses.replace(op, expect_text=task.text)
        out.append(op)
    return tuple(out)


def _result(text: str, path: Path, wanted: bool) -> Plan | None:
    if not wanted:
        return None
    hit = cached(text)
    if hit is not None and hit[0] is not None:
        plan = hit[0] if hit[0].path == path else dataclasses.replace(hit[0], path=path)
        remember(text, plan, hit[1])
        return plan
    from phaser.plan.parse import parse_plan

    return parse_plan(text, path)
