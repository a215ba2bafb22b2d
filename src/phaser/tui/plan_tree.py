"""A plan as a tree: phases (state, tasks done, difficulty, model, commit), their tasks and their notes."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from phaser.plan.model import Phase, Plan

STATE_ICONS = {
    "done": "✓",
    "next": "▶",
    "running": "●",
    "blocked": "✗",
    "waiting": "⏸",
    "ready": "▷",
    "pending": "·",
    "skipped": "–",
}


@dataclass
class Row:
    """What a tree line stands for."""

    kind: str
    """phase, task or note."""
    phase: int
    ref: str = ""
    state: str = ""
    """A phase's state (done, next, running, blocked, waiting, pending, skipped); checked/open for a task."""
    index: int = 0
    text: str = ""
    """A task's text as parsed (to check the line still holds the same task before writing)."""

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


class PlanTree(Tree[Row]):
    """Tasks toggle with x, space, enter or a click; each toggle posts PlanTree.ToggleTask.

    R runs the phase under the cursor: the screen's action (it knows whether a run can start).
    """

    BINDINGS = [
        Binding("x", "toggle_task", "Tick"),
        Binding("space", "toggle_task", "Tick task", show=False),
        Binding(
            "R",
            "screen.run_phase",
            "Run this",
            tooltip="Run the phase under the cursor (as phaser next --phase N)",
        ),
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
    }

    @dataclass
    class ToggleTask(Message):
        ref: str
        checked: bool
        """The state the person wants: the opposite of what the line showed."""
        text: str
        """The task's text as shown."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("plan", id=id)
        self.show_root = False
        self.guide_depth = 3

    # -- content ----------------------------------------------------------------------------

    @property
    def cursor_phase(self) -> int | None:
        """The number of the phase under the cursor (of the task or note it is on)."""
        node = self.cursor_node
        return node.data.phase if node is not None and node.data is not None else None

    def show_plan(
        self, plan: Plan, states: dict[int, str], models: list[str], commits: list[str | None] | None = None
    ) -> None:
        """Rebuild from ``plan``, keeping the cursor line's item and collapsed phases. ``models`` and
        ``commits`` go with ``plan.phases`` by position (a plan can repeat a phase number)."""
        cursor = self.cursor_node.data.key if self.cursor_node is not None and self.cursor_node.data else None
        collapsed = {n.data.phase for n in self.root.children if n.data and not n.is_expanded}
        self.clear()
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
                mark = "[x]" if task.checked else "[ ]"
                label = Text(f"{'  ' * task.depth}{mark} {task.ref}  {task.text}")
                node.add_leaf(
                    label,
                    data=Row(
                        "task", phase.number, task.ref, "checked" if task.checked else "open", text=task.text
                    ),
                )
            for i, note in enumerate(phase.notes):
                node.add_leaf(Text(f"✎ {note}"), data=Row("note", phase.number, state="note", index=i))
        if cursor is not None:
            self.cursor_to(cursor)

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

    def render_label(self, node: TreeNode[Row], base_style: Style, style: Style) -> Text:
        if node.data is not None and node.data.state:
            state_style = self.get_component_rich_style(f"plan-tree--{node.data.state}", partial=True)
            style = state_style + style
        return super().render_label(node, base_style, style)

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
        if self._toggle(event.node):
            event.stop()
