"""Which editor a person's files open in: $VISUAL, else $EDITOR, else vi (the CLI and the TUI
both ask here)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def editor_command(path: Path) -> list[str]:
    """The command line that opens ``path`` in the person's editor."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return [*shlex.split(editor), str(path)]
