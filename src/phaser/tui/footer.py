"""The footer, with `q Quit` first so it stays in sight at 60 columns (Textual puts app keys last)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class PhaserFooter(Footer):
    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        quit_keys = [w for w in widgets if isinstance(w, FooterKey) and w.action in ("quit", "app.quit")]
        yield from quit_keys
        yield from (w for w in widgets if w not in quit_keys)
