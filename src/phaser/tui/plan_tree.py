"""A plan as a tree: phases (state, tasks done, difficulty, model, commit), their tasks and their notes.

A click or Enter only selects a line (the screen shows its details); a key (x, space) toggles a
task. An unchanged plan shape is updated in place, line by line: a 1,000-phase plan is not
rebuilt for one changed checkbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from phaser.plan.model import Phase, Plan, Task

STATE_ICONS = {
    "done": "✓",
    "next": "◆",
    "running": "●",
    "blocked": "✗",
    "waiting": "⏸",
    "ready": "▷",
    "pending": "○",
    "skipped": "–",
}
"""One glyph per phase state, none shared with the fold marks (▸ ▾) or the task boxes."""

TASK_BOXES = {"checked": "[x]", "open": "[ ]", "active": "[-]", "blocked": "[~]"}
"""As the plan writes them: ``[-]`` in progress, ``[~]`` blocked (plan.model.BOX_STATES)."""


def task_state(task: Task) -> str:
    """checked, open, or the further state the plan gives a task (active: in progress, blocked)."""
    state = getattr(task, "state", None)
    if isinstance(state, str) and state and state not in ("done", "checked", "open", "todo"):
        return state
    return "checked" if task.checked else "open"


@dataclass
class Row:
    """What a tree line stands for."""

    kind: str
    """phase, task or note."""
    phase: int
    ref: str = ""
    state: str = ""
    """A phase's state (done, next, running, blocked, waiting, pending, skipped); a task's (checked,
    open, in progress, blocked, ...)."""
    index: int = 0
    text: str = ""
    """A task's text or a note as parsed (to check the line still holds the same task before writing)."""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.phase}:{self.ref}:{self.index}"


def phase_label(phase: Phase, state: str, model: str, commit: str | None = None) -> Text:
    """``model``: the one a done phase passed on, else the one it will run on; ``commit``: a done
    phase's commit (shown short)."""
    counts = f"{phase.tasks_done}/{len(phase.tasks)}"
    return Text.assemble(
        f"{STATE_ICONS.get(state, '·')} {phase.number}  {phase.title}  ",
        (f"{state}", "bold"),
        f"  {counts}  {phase.difficulty} · {model}",
        f" · {commit[:7]}" if commit else "",
    )


def task_label(task: Task, state: str) -> Text:
    box = TASK_BOXES.get(state, f"[{state[:1]}]")
    return Text(f"{'  ' * task.depth}{box} {task.ref}  {task.text}")


class PlanTree(Tree[Row]):
    """x or space toggles a task (posts PlanTree.ToggleTask); a click or Enter selects (posts
    PlanTree.Chosen). j/k, gg/G move as in vim. R runs the phase under the cursor: the screen's
    action (it knows whether a run can start)."""

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
        self._shape: list[tuple[Any, int, int]] = []
        """(phase number, tasks, notes) per phase of the plan shown: unchanged, lines update in place."""
        self._g_pending = False
        self.rebuilds = 0
        """How often the whole tree was rebuilt (the benchmark and tests look)."""

    # -- content ----------------------------------------------------------------------------

    @property
    def cursor_phase(self) -> int | None:
        """The number of the phase under the cursor (of the task or note it is on)."""
        node = self.cursor_node
        return node.data.phase if node is not None and node.data is not None else None

    def clear(self) -> PlanTree:
        self._shape = []
        super().clear()
        return self

    def show_plan(
        self, plan: Plan, states: dict[int, str], models: list[str], commits: list[str | None] | None = None
    ) -> None:
        """Show ``plan``, keeping the cursor line's item and folded phases. ``models`` and ``commits``
        go with ``plan.phases`` by position (a plan can repeat a phase number)."""
        shape = [(p.number, len(p.tasks), len(p.notes)) for p in plan.phases]
        if shape == self._shape and len(self.root.children) == len(plan.phases):
            self._update_in_place(plan, states, models, commits)
            return
        cursor = self.cursor_node.data.key if self.cursor_node is not None and self.cursor_node.data else None
        collapsed = {n.data.phase for n in self.root.children if n.data and not n.is_expanded}
        super().clear()
        self.rebuilds += 1
        for i, phase in enumerate(plan.phases):
            state = states.get(phase.number, plan.state(phase))
            model = models[i] if i < len(models) else ""
            commit = commits[i] if commits and i < len(commits) else None
            node = self.root.add(
                phase_label(phase, state, model, commit),
                data=Row("phase", phase.number, state=state),
                expand=phase.number not in collapsed,
            )
            for task in phase.tasks:
                tstate = task_state(task)
                node.add_leaf(
                    task_label(task, tstate), data=Row("task", phase.number, task.ref, tstate, text=task.text)
                )
            for j, note in enumerate(phase.notes):
                node.add_leaf(
                    Text(f"✎ {note}"), data=Row("note", phase.number, state="note", index=j, text=note)
                )
        self._shape = shape
        if cursor is not None:
            self.cursor_to(cursor)

    def _update_in_place(
        self, plan: Plan, states: dict[int, str], models: list[str], commits: list[str | None] | None
    ) -> None:
        for i, (phase, node) in enumerate(zip(plan.phases, self.root.children, strict=True)):
            state = states.get(phase.number, plan.state(phase))
            model = models[i] if i < len(models) else ""
            commit = commits[i] if commits and i < len(commits) else None
            self._relabel(
                node, phase_label(phase, state, model, commit), Row("phase", phase.number, state=state)
            )
            children = list(node.children)
            for task, child in zip(phase.tasks, children, strict=False):
                tstate = task_state(task)
                self._relabel(
                    child,
                    task_label(task, tstate),
                    Row("task", phase.number, task.ref, tstate, text=task.text),
                )
            for j, (note, child) in enumerate(zip(phase.notes, children[len(phase.tasks) :], strict=False)):
                self._relabel(
                    child, Text(f"✎ {note}"), Row("note", phase.number, state="note", index=j, text=note)
                )

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
        for phase in self.root.children:
            for child in phase.children:
                if child.data and child.data.kind == "task" and child.data.ref == ref:
                    return child
        return None

    def state_style(self, state: str) -> Style:
        """The rich style of a state's component class, its colour blended over the tree's
        background: a translucent colour (the muted done tasks) would otherwise come out as plain
        white or black, unreadable in one of the themes."""
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

    def render_label(self, node: TreeNode[Row], base_style: Style, style: Style) -> Text:
        if node.data is not None and node.data.state:
            style = self.state_style(node.data.state) + style
        return super().render_label(node, base_style, style)

    # -- vim movement -----------------------------------------------------------------------

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
