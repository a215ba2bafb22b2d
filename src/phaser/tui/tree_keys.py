"""vim movement for the plan tree: j/k (bound in PlanTree), gg and G, h folds and l unfolds a phase.

A mixin of PlanTree (a Textual Tree): kept apart so the widget's file holds what it shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events


class VimKeys:
    """gg/G, h/l on a Tree's cursor."""

    _g_pending = False
    """A first g was pressed: a second one goes to the top."""

    if TYPE_CHECKING:  # provided by the Tree
        cursor_line: int
        cursor_node: Any
        last_line: int
        root: Any

    def action_cursor_bottom(self) -> None:
        self._g_pending = False
        self.cursor_line = max(self.last_line, 0)

    def action_cursor_g(self) -> None:
        """``gg`` goes to the first line (a single g waits for the second)."""
        if self._g_pending:
            self._g_pending = False
            self.cursor_line = 0
        else:
            self._g_pending = True

    def on_key(self, event: events.Key) -> None:
        if event.key != "g":
            self._g_pending = False

    def action_fold(self) -> None:
        node = self.cursor_node
        if node is not None and node.parent is not None and node.parent is not self.root:
            node = node.parent
            self.cursor_line = node.line
        if node is not None and node.allow_expand:
            node.collapse()

    def action_unfold(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand:
            node.expand()
