"""A phase's commit as a full patch, from the checkpoint dialog or the detail pane (read-only)."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Static

from phaser.tui.footer import PhaserFooter


class DiffScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
        Binding("G", "end", "Bottom", show=False),
    ]

    def __init__(self, title: str, patch: str) -> None:
        super().__init__()
        self.title_text = title
        self.patch = patch

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="diff-body"):
            yield Static(Syntax(self.patch, "diff", word_wrap=False, theme="ansi_dark"), id="diff-text")
        yield PhaserFooter(compact=True)

    def on_mount(self) -> None:
        self.sub_title = self.title_text
        self.query_one("#diff-body").focus()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#diff-body", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_end(self) -> None:
        self.query_one("#diff-body", VerticalScroll).scroll_end(animate=False)
