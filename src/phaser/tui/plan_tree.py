"""A plan as a tree: phases (state, tasks done, difficulty, model, commit), their tasks and their notes.

A click or Enter only selects a line (the screen shows its details); a key (x, space) toggles a
task. A new plan with the same phases updates only the phases whose lines changed (a key per
phase tells): a 1,000-phase plan is not rebuilt, nor relabelled, for one changed checkbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from phaser.plan.model import Plan
from phaser.tui.plan_rows import STATE_ICONS, TASK_BOXES, Row, phase_key, phase_rows, task_state
from phaser.tui.tree_keys import VimKeys
from phaser.tui.tree_lines import StateLines

__all__ = ["STATE_ICONS", "TASK_BOXES", "PlanTree", "Row", "task_state"]


class PlanTree(VimKeys, StateLines, Tree[Row]):
    """x or space toggles a task (posts PlanTree.ToggleTask); a click or Enter selects (posts
    PlanTree.Chosen). j/k, gg/G move as in vim. R runs the phase under the cursor: the screen's
    action (it knows whether a run can start)."""

    _batch = False
    """True while many nodes are added: Textual's per-add layout waits until the end."""

    ICON_NODE = "▸ "
    ICON_NODE_EXPANDED = "▾ "

    BINDINGS = [
        Binding("x", "toggle_task", "Tick", tooltip="Tick or untick the task under the cursor"),
        Binding("space", "toggle_task", "Tick task", show=False),
        Binding(
            "R",
            "screen.run_phase",
            "Run",
            tooltip="Run the phase under the cursor (as phaser next --phase N)",
        ),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("G", "cursor_bottom", "Bottom", show=False, tooltip="Last line (vim G)"),
        Binding("g", "cursor_g", "Top", show=False, tooltip="gg: first line (vim)"),
        Binding("h", "fold", "Fold", show=False, tooltip="Fold the phase"),
        Binding("l", "unfold", "Unfold", show=False, tooltip="Unfold the phase"),
    ]

    COMPONENT_CLASSES = {
        "plan-tree--done",
        "plan-tree--next",
        "plan-tree--running",
        "plan-tree--blocked",
        "plan-tree--waiting",
        "plan-tree--ready",
        "plan-tree--pending",
        "plan-tree--skipped",
        "plan-tree--checked",
        "plan-tree--open",
        "plan-tree--note",
        "plan-tree--active",
    }

    @dataclass
    class ToggleTask(Message):
        ref: str
        checked: bool
        """The state the person wants: the opposite of what the line showed."""
        text: str
        """The task's text as shown."""

    @dataclass
    class Chosen(Message):
        """A click or Enter on a line: show its details."""

        row: Row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("plan", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._numbers: list[int] = []
        """The phase numbers shown, in order: the same list, and phases are updated one by one."""
        self._keys: dict[Any, Any] = {}
        """Phase node id -> phaser.tui.plan_rows.phase_key of what its lines show."""
        self._task_nodes: dict[str, TreeNode[Row]] = {}
        self.rebuilds = 0
        """How often the whole tree was rebuilt (the benchmark and tests look)."""
        self.phase_updates = 0
        """How many phases were updated in place (the benchmark looks)."""

    # -- content ----------------------------------------------------------------------------

    @property
    def cursor_phase(self) -> int | None:
        """The number of the phase under the cursor (of the task or note it is on)."""
        node = self.cursor_node
        return node.data.phase if node is not None and node.data is not None else None

    def _invalidate(self) -> None:
        if not self._batch:
            super()._invalidate()

    @contextmanager
    def _batched(self) -> Iterator[None]:
        """Add many nodes with one layout at the end: Textual lays the tree out again on every
        add, which made building a 12,000-line tree take seconds."""
        self._batch = True
        try:
            yield
        finally:
            self._batch = False
            self._invalidate()

    def clear(self) -> PlanTree:
        self._numbers, self._keys, self._task_nodes = [], {}, {}
        self.forget_widths()
        super().clear()
        return self

    def show_plan(
        self, plan: Plan, states: dict[int, str], models: list[str], commits: list[str | None] | None = None
    ) -> None:
        """Show ``plan``, keeping the cursor line's item and folded phases. ``models`` and ``commits``
        go with ``plan.phases`` by position (a plan can repeat a phase number)."""
        views = []
        for i, phase in enumerate(plan.phases):
            state = states[phase.number] if phase.number in states else plan.state(phase)
            model = models[i] if i < len(models) else ""
            commit = commits[i] if commits and i < len(commits) else None
            views.append((phase, state, model, commit))
        numbers = [p.number for p in plan.phases]
        cursor = self.cursor_node.data.key if self.cursor_node is not None and self.cursor_node.data else None
        if numbers == self._numbers and len(self.root.children) == len(numbers):
            if self._update_phases(views) and cursor is not None:
                self.cursor_to(cursor)
            return
        collapsed = {n.data.phase for n in self.root.children if n.data and not n.is_expanded}
        self.clear()
        self.rebuilds += 1
        with self._batched():
            for view in views:
                rows = phase_rows(*view)
                label, row = rows[0]
                node = self.root.add(label, data=row, expand=view[0].number not in collapsed)
                self._fill(node, view, rows)
        self._numbers = numbers
        if cursor is not None:
            self.cursor_to(cursor)

    def _update_phases(self, views: list) -> bool:
        """Relabel the phases whose key changed; True when one's lines were added or removed."""
        reshaped = False
        self._batch = True
        try:
            for node, view in zip(self.root.children, views, strict=True):
                key = phase_key(*view)
                if self._keys.get(node.id) == key:
                    continue
                self.phase_updates += 1
                rows = phase_rows(*view)
                if len(node.children) != len(rows) - 1:
                    for child in node.children:
                        ref = child.data.ref if child.data is not None else ""
                        if self._task_nodes.get(ref) is child:
                            del self._task_nodes[ref]
                    node.remove_children()
                    self._fill(node, view, rows)
                    reshaped = True
                    continue
                self._keys[node.id] = key
                for line, (label, row) in zip((node, *node.children), rows, strict=True):
                    self._relabel(line, label, row)
                    if row.kind == "task" and self.task_node(row.ref) is None:
                        self._task_nodes[row.ref] = line  # a note's line became a task's
        finally:
            self._batch = False
        if reshaped:
            self._invalidate()
        return reshaped

    def _fill(self, node: TreeNode[Row], view: tuple, rows: list | None = None) -> None:
        """Label a phase's node and add its task and note lines (``rows``: phase_rows(*view))."""
        (label, row), *children = rows if rows is not None else phase_rows(*view)
        self._relabel(node, label, row)
        self._keys[node.id] = phase_key(*view)
        for label, row in children:
            child = node.add_leaf(label, data=row)
            if row.kind == "task":
                self._task_nodes.setdefault(row.ref, child)

    def _relabel(self, node: TreeNode[Row], label: Text, row: Row) -> None:
        if node.data != row or node.label != label:
            node.data = row
            node.set_label(label)

    def set_task_state(self, ref: str, checked: bool) -> bool:
        """Show task ``ref`` ticked or not at once (before the write lands); False if not shown."""
        node = self.task_node(ref)
        if node is None or node.data is None:
            return False
        state = "checked" if checked else "open"
        box = TASK_BOXES[state]
        label = node.label.plain if isinstance(node.label, Text) else str(node.label)
        start = label.find("[")
        new = Text(label[:start] + box + label[start + 3 :]) if start >= 0 else Text(label)
        self._relabel(node, new, Row("task", node.data.phase, ref, state, text=node.data.text))
        if node.parent is not None:
            self._keys.pop(node.parent.id, None)  # the next plan read relabels the phase, whatever it says
        return True

    def _visible(self) -> list[TreeNode[Row]]:
        out: list[TreeNode[Row]] = []

        def walk(node: TreeNode[Row]) -> None:
            for child in node.children:
                out.append(child)
                if child.is_expanded:
                    walk(child)

        walk(self.root)
        return out

    def cursor_to(self, key: str) -> bool:
        """Put the cursor on the line whose Row.key is ``key`` (falling back to its phase)."""
        visible = self._visible()
        keys = [n.data.key if n.data else "" for n in visible]
        if key not in keys:
            phase_key = f"phase:{key.split(':')[1]}::0" if key.count(":") == 3 else ""
            if phase_key not in keys:
                return False
            key = phase_key
        self.cursor_line = keys.index(key)
        return True

    def task_node(self, ref: str) -> TreeNode[Row] | None:
        """The line of task ``ref`` (of the first phase with its number)."""
        node = self._task_nodes.get(ref)
        return node if node is not None and node.data is not None and node.data.ref == ref else None

    # -- toggling ---------------------------------------------------------------------------

    def _toggle(self, node: TreeNode[Row] | None) -> bool:
        if node is None or node.data is None or node.data.kind != "task":
            return False
        checked = node.data.state == "checked"
        self.post_message(self.ToggleTask(node.data.ref, not checked, node.data.text))
        return True

    def action_toggle_task(self) -> None:
        if (
            not self._toggle(self.cursor_node)
            and self.cursor_node is not None
            and self.cursor_node.allow_expand
        ):
            self.cursor_node.toggle()

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[Row]) -> None:
        """A click or Enter selects: never a write to the plan."""
        event.stop()
        if event.node.data is not None:
            self.post_message(self.Chosen(event.node.data))
