"""The ``?`` overlay: every key of the screen beneath, its widgets and the app, in one list."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


def key_rows(app, screen) -> list[tuple[str, str]]:
    """(key, what it does) for every binding that acts on ``screen``, shown in the footer or not."""
    from phaser.tui.plan_tree import PlanTree

    rows: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    sources = (
        [screen.BINDINGS, PlanTree.BINDINGS, app.BINDINGS]
        if hasattr(screen, "plan_view")
        else [
            screen.BINDINGS,
            app.BINDINGS,
        ]
    )
    for bindings in sources:
        for binding in bindings:
            if not isinstance(binding, Binding):
                continue
            what = binding.tooltip or binding.description
            key = ", ".join(app.get_key_display(Binding(k.strip(), "")) for k in binding.key.split(","))
            if binding.action == "cursor_g":
                key = "g g"
            if (key, what) not in seen:
                seen.add((key, what))
                rows.append((key, what))
    rows += [("ctrl+p", "Command palette: every action, by name"), ("tab", "Next pane")]
    return rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss_help", "Close")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__(classes="dialog-screen")
        self.rows = rows

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self.rows), default=4) + 2
        with Vertical(classes="dialog help"):
            yield Label("Keys (escape closes)", classes="dialog-title")
            with VerticalScroll(id="help-body"):
                yield Static(
                    "\n".join(f"{k:<{width}}{w}" for k, w in self.rows), markup=False, id="help-keys"
                )

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
