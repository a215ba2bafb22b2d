"""One small error hierarchy; the CLI and TUI turn it into a message and an exit code at the edge.

Exit codes: 0 success, 1 a run stopped (red gate, model error), 2 bad input (nothing was written),
3 the line waits for a human (approval checkpoint, budget reached, conflict to resolve).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phaser.outcomes import Hint


class PhaserError(Exception):
    """Base of every error phaser reports to a person."""

    exit_code = 2

    def __init__(
        self,
        msg: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        title: str = "",
        hints: Sequence[Hint] = (),
    ) -> None:
        super().__init__(msg)
        self.msg = msg
        self.path = str(path) if path is not None else None
        self.line = line  # 1-based, as editors show it
        self.title = title
        self.hints = tuple(hints)
        """What a person can do about it, as data; ``msg`` words it for the CLI."""

    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else self.path

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.msg}" if loc else self.msg


class UsageError(PhaserError):
    """The command line asked for something that does not exist or does not fit."""


class ConfigError(PhaserError):
    """phaser.toml or [tool.phaser] is malformed, has an unknown key or a wrong type."""


class PlanError(PhaserError):
    """A spec or plan file cannot be read or is not in the documented format."""


class EditConflict(PhaserError):
    """An edit's target changed or vanished on disk since it was computed."""

    exit_code = 3


class ProviderError(PhaserError):
    """The model provider failed (missing key, API error after retries, malformed reply)."""

    exit_code = 1


class AgentUnsafe(ProviderError):
    """An external agent could not be run under phaser's lock (its hook was not active); it was
    stopped before the model was asked anything."""


class RunStopped(PhaserError):
    """A phase run ended without success; the phase stays resumable."""

    exit_code = 1


class BudgetExceeded(RunStopped):
    """A token, dollar or turn cap was reached."""

    exit_code = 3


class NeedsHuman(PhaserError):
    """The line waits at a checkpoint (approval, dirty tree, unfinished run)."""

    exit_code = 3
