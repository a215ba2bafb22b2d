"""The home screen's search (`/` in the plan tree or the log) and its detail pane (`d`, a click).

A mixin of HomeScreen: it reaches the screen's widgets through the same properties; its
handlers are found by name (``on_plan_tree_chosen``), as Textual does for any message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.widgets import Input

from phaser.tui.plan_tree import PlanTree, Row


class SearchAndDetail:
    """`/` search, `escape`, the detail pane; expects HomeScreen's attributes (``plan_view``, ...)."""

    _search: str
    _search_target: str
    _log_hit: int
    plan_view: Any
    log_pane: Any
    detail: Any
    project: Any
    last_outcomes: dict
    app: Any

    if TYPE_CHECKING:  # provided by the Screen

        def query_one(self, *args: Any, **kwargs: Any) -> Any: ...
        def notify(self, *args: Any, **kwargs: Any) -> Any: ...
        def has_class(self, *args: Any) -> bool: ...
        def remove_class(self, *class_names: str, update: bool = True) -> Any: ...

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.display = True
        box.value = self._search
        self._search_target = "log" if self.log_pane.has_focus else "tree"
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "search":
            return
        event.stop()
        self._search = event.value.strip()
        if not self._search:
            return
        found = self._find_in_log() if self._search_target == "log" else self._find_in_tree()
        if not found:
            self.notify(f"no match for {self._search!r}", severity="warning", timeout=3)

    def _find_in_tree(self) -> bool:
        tree = self.plan_view.plan_tree
        needle = self._search.lower()
        nodes = [n for p in tree.root.children for n in (p, *p.children)]
        start = tree.cursor_node
        at = nodes.index(start) + 1 if start in nodes else 0
        for node in nodes[at:] + nodes[:at]:
            if needle in node.label.plain.lower():
                if node.parent is not None and node.parent is not tree.root:
                    node.parent.expand()
                tree.call_after_refresh(tree.move_cursor, node)
                tree.move_cursor(node)
                return True
        return False

    def _find_in_log(self) -> bool:
        hit = self.log_pane.scroll_to_match(self._search, self._log_hit)
        if hit is None:
            return False
        self._log_hit = hit
        return True

    def key_escape(self) -> None:
        box = self.query_one("#search", Input)
        if box.display:
            box.display = False
            (self.log_pane if self._search_target == "log" else self.plan_view.plan_tree).focus()
        elif self.has_class("-zoom-log"):
            self.remove_class("-zoom-log")

    # -- detail -----------------------------------------------------------------------------

    def on_plan_tree_chosen(self, event: PlanTree.Chosen) -> None:
        """A click or Enter on a line selects it: its details, never a write."""
        self.detail.display = True
        self.show_detail(event.row)

    def show_detail(self, row: Row) -> None:
        plan, status = self.plan_view.plan, self.plan_view.status
        if plan is None:
            return
        phase = plan.phase(row.phase)
        if phase is None:
            return
        if row.kind == "task":
            self.detail.show_text(f"Task {row.ref}", f"[{'x' if row.state == 'checked' else ' '}] {row.text}")
            return
        if row.kind == "note":
            self.detail.show_text(f"Note of phase {row.phase}", row.text)
            return
        figures = next((f for f in (status.phases if status else []) if f.number == row.phase), None)
        lines = [f"Phase {phase.number}: {phase.title}", f"state: {row.state}"]
        lines += [f"{k}: {v}" for k, v in phase.meta.items()]
        if figures is not None:
            lines.append(f"model: {figures.ran_on or figures.model}")
        self.detail.show_text(f"Phase {phase.number}", "\n".join(lines))
        if figures is not None and figures.commit:
            self._phase_facts(self.plan_view.info.slug if self.plan_view.info else "", phase.number, lines)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _phase_facts(self, slug: str, number: int, lines: list[str]) -> None:
        """A done phase's commit, diff stat, gates and run log: git and the journals, off the UI thread."""
        from phaser.tui.checkpoint import gate_lines
        from phaser.workflow.approval import checkpoint_facts
        from phaser.workflow.cost import log_lines

        facts = checkpoint_facts(self.project, slug, number, known=self.last_outcomes.get((slug, number)))
        text = [*lines, "", f"commit {facts.commit}", facts.diff_stat, "", "gates:", *gate_lines(facts.gates)]
        text += ["", "log (phaser log --phase):", *log_lines(self.project, slug, phase=number)[-60:]]
        self.app.call_from_thread(self.detail.show_text, f"Phase {number}", "\n".join(text))
