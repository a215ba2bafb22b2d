"""The UTC time stamp phaser writes in plans (evidence, redo, approval notes): one format, so
people and tools read every note the same way."""

from __future__ import annotations

import datetime as dt


def utc_stamp(when: dt.datetime | None = None) -> str:
    """``2026-12-01 21:35 UTC``: now, or ``when``."""
    return (
        (when or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    )
