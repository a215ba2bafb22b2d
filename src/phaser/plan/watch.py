"""Notice when spec and plan files change on disk, however the editor saved them.

Editors save in three ways: writing in place (modified events), atomically (a temp file renamed
onto ``plan.md``: only a *move* whose ``dest_path`` is the plan), or vim's backup dance (plan.md
renamed to plan.md~, a new plan.md created). So both ``src_path`` and ``dest_path`` of every event
are matched, temp and lock files are left out of the report, and a burst of events becomes one
callback after ``debounce_s`` of quiet.

The callback runs on a background timer thread: a UI must hop to its own thread (in Textual,
``App.call_from_thread`` or ``post_message``). To skip phaser's own writes, compare with
``phaser.plan.store.is_own_write(path)``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger(__name__)

WATCHED_NAMES = ("phaser.toml",)
_TEMP_SUFFIXES = ("~", ".swp", ".swx", ".swo", ".tmp", ".bak", ".lock", ".part")
_IGNORED_EVENTS = ("opened", "closed_no_write")


def is_watched(path: str | os.PathLike[str]) -> bool:
    """A markdown file or phaser.toml, and not an editor temp, backup or lock file."""
    name = os.path.basename(os.fspath(path))
    if not name or name.startswith((".", "#", "~")) or name.endswith(_TEMP_SUFFIXES):
        return False
    return name.endswith(".md") or name in WATCHED_NAMES


class SpecWatcher:
    """Watches ``folder`` recursively and calls ``on_change(paths)`` once per burst of changes."""

    def __init__(self, folder: Path, on_change: Callable[[set[Path]], None], debounce_s: float = 0.2) -> None:
        self.folder = Path(folder).resolve()
        self.on_change = on_change
        self.debounce_s = debounce_s
        self._pending: set[Path] = set()
        self._guard = threading.Lock()
        self._timer: threading.Timer | None = None
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._stopped = False

    def start(self) -> SpecWatcher:
        if self._observer is not None:
            return self
        handler = _Handler(self._event)
        observer = Observer()
        observer.schedule(handler, str(self.folder), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._stopped = False
        return self

    def stop(self) -> None:
        """Stop watching; changes still waiting for their debounce are dropped."""
        with self._guard:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._pending.clear()
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)

    def __enter__(self) -> SpecWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in _IGNORED_EVENTS:
            return
        paths = {Path(os.fsdecode(p)) for p in (event.src_path, getattr(event, "dest_path", "")) if p}
        hits = {p for p in paths if is_watched(p)}
        if not hits:
            return
        with self._guard:
            if self._stopped:
                return
            self._pending |= hits
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce_s, self._flush)
            self._timer.daemon = True
            self._timer.start()

    def _flush(self) -> None:
        with self._guard:
            if self._stopped or threading.current_thread() is not self._timer:
                return
            paths, self._pending = self._pending, set()
            self._timer = None
        if not paths:
            return
        try:
            self.on_change(paths)
        except Exception:  # a broken callback must not kill later notifications
            log.exception("SpecWatcher callback failed for %s", sorted(map(str, paths)))


class _Handler(FileSystemEventHandler):
    def __init__(self, sink: Callable[[FileSystemEvent], None]) -> None:
        super().__init__()
        self._sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._sink(event)
