"""The detail pane: the whole text of the selected task, note or phase, and for a done phase its
commit, diff stat, gate results and run log (what `phaser log --phase N` prints)."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static


class DetailPane(VerticalScroll):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Detail"
        self.text = ""

    def compose(self):
        yield Static("", markup=False, id="detail-text")

    def show_text(self, title: str, text: str) -> None:
        self.border_title = title
        self.text = text
        self.query_one("#detail-text", Static).update(text)
        self.scroll_home(animate=False)
