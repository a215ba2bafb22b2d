"""How the plan tree's lines are drawn and measured: each line in its state's colour (a component
class of PlanTree, in phaser.tcss), and widths known without drawing.

A mixin of PlanTree (a Textual Tree). Textual draws every line's label to measure the tree, on every
layout, and working a state's style out costs ~0.2 ms: on a 1,000-phase plan (12,000 lines) that
was seconds per layout. Styles are kept per theme and state, widths per label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text, TextType
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.widgets.tree import TreeNode

    from phaser.tui.plan_rows import Row


class StateLines:
    """State styles and label widths, cached; expects a Tree with ``COMPONENT_CLASSES``."""

    if TYPE_CHECKING:  # provided by the Tree
        COMPONENT_CLASSES: ClassVar[set[str]]
        ICON_NODE: str
        ICON_NODE_EXPANDED: str
        app: Any
        background_colors: Any
        _line_cache: Any

        def get_component_styles(self, *names: str) -> Any: ...

    _state_styles: dict[tuple[str, str], Style] | None = None
    _widths: dict[Any, tuple[Any, int]] | None = None

    def notify_style_update(self) -> None:
        """The theme or a class changed: state styles are worked out again and every line is drawn
        again. Textual's Tree also lays every line out again (and measures each); neither the lines
        nor their widths depend on styles, so that is skipped."""
        self._state_styles = None
        Widget.notify_style_update(self)  # type: ignore[arg-type]
        self._line_cache.clear()
        Widget.refresh(self)  # type: ignore[type-var]

    def forget_widths(self) -> None:
        """The tree was cleared: node ids start again."""
        self._widths = None

    def process_label(self, label: TextType) -> Text:
        """Labels are one-line Text already: Textual's default splits every one at line breaks."""
        if isinstance(label, Text) and "\n" not in label.plain:
            return label
        return super().process_label(label)  # type: ignore[misc]

    def state_style(self, state: str) -> Style:
        """The rich style of a state's component class, its colour blended over the tree's
        background: a translucent colour (the muted done tasks) would otherwise come out as plain
        white or black, unreadable in one of the themes."""
        if self._state_styles is None:
            self._state_styles = {}
        key = (self.app.theme, state)
        style = self._state_styles.get(key)
        if style is None:
            style = self._state_styles[key] = self._state_style(state)
        return style

    def _state_style(self, state: str) -> Style:
        name = f"plan-tree--{state.replace(' ', '-')}"
        if name not in self.COMPONENT_CLASSES:
            return Style()
        styles = self.get_component_styles(name)
        color = self.background_colors[1] + styles.color if styles.has_rule("color") else None
        text_style = styles.text_style if styles.has_rule("text_style") else None
        return Style(
            color=color.rich_color if color is not None else None,
            bold=True if text_style and text_style.bold else None,
            italic=True if text_style and text_style.italic else None,
            strike=True if text_style and text_style.strike else None,
        )

    def get_label_width(self, node: TreeNode[Row]) -> int:
        """The label's width without rendering it (Textual renders every line's label to measure
        the tree, on every layout): styles never change a width, only the fold mark adds to it."""
        widths = self._widths
        if widths is None:
            widths = self._widths = {}
        label = node.label
        hit = widths.get(node.id)
        if hit is None or hit[0] is not label:
            hit = widths[node.id] = (label, label.cell_len if isinstance(label, Text) else cell_len(label))
        if not node.allow_expand:
            return hit[1]
        return hit[1] + cell_len(self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE)

    def render_label(self, node: TreeNode[Row], base_style: Style, style: Style) -> Text:
        if node.data is not None and node.data.state:
            style = self.state_style(node.data.state) + style
        return super().render_label(node, base_style, style)  # type: ignore[misc]
