"""The selected spec: its plan as a tree of phases, tasks and notes, or rendered as markdown."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Markdown, Static

from phaser.errors import PhaserError
from phaser.plan.model import Plan
from phaser.plan.store import read_plan
from phaser.plan.validate import validate_text
from phaser.tui.plan_tree import PlanTree
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.status import phase_model


def phase_states(plan: Plan, running: int | None, approvals: bool) -> dict[int, str]:
    """plan.state() per phase, plus running (a run works on it now) and waiting (done, not approved)."""
    states = {}
    for phase in plan.phases:
        state = plan.state(phase)
        if phase.number == running:
            state = "running"
        elif approvals and state == "done" and not phase.approved:
            state = "waiting"
        states[phase.number] = state
    return states


def relative(project: Project, message: str) -> str:
    """A ``/abs/path:line: message`` with the path shown relative to the project root."""
    root = str(project.root.resolve()) + "/"
    return message.replace(root, "") if message.startswith(root) else message


class PlanView(Vertical):
    """Shows one spec; ``plan`` is the parsed plan on screen (None without one, or when it fails to parse)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Plan"
        self.plan: Plan | None = None
        self.info: SpecInfo | None = None
        self.error: str | None = None
        self.problems: list[str] = []
        """Validation problems of a plan that parsed (``file:line: message``), shown as warnings."""
        self.states: dict[int, str] = {}
        self.markdown_text = ""
        self._shown_markdown: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="plan-title", markup=False)
        yield Static("", id="plan-error", markup=False)
        with ContentSwitcher(initial="plan-tree", id="plan-switcher"):
            yield PlanTree(id="plan-tree")
            with VerticalScroll(id="plan-markdown"):
                yield Markdown(id="plan-md")

    @property
    def tree(self) -> PlanTree:
        return self.query_one(PlanTree)

    @property
    def showing_markdown(self) -> bool:
        return self.query_one(ContentSwitcher).current == "plan-markdown"

    @property
    def waiting(self) -> list[int]:
        """Phases done but not approved (only when the approval policy asks for approvals)."""
        return [n for n, s in self.states.items() if s == "waiting"]

    def toggle_markdown(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "plan-tree" if self.showing_markdown else "plan-markdown"
        self._sync_markdown()
        (self.tree if not self.showing_markdown else self.query_one("#plan-markdown")).focus()

    def _sync_markdown(self) -> None:
        if self.showing_markdown and self._shown_markdown != self.markdown_text:
            self._shown_markdown = self.markdown_text
            self.query_one(Markdown).update(self.markdown_text)

    def _set_error(self, message: str | None, problems: list[str] | None = None) -> None:
        self.error = message
        self.problems = problems or []
        error = self.query_one("#plan-error", Static)
        shown = self.problems[:3] + ([f"… and {len(self.problems) - 3} more"] if len(self.problems) > 3 else [])
        error.update(message or "\n".join(f"⚠ {p}" for p in shown))
        error.display = bool(message or shown)
        error.set_class(not message and bool(shown), "-warning")

    def show(self, project: Project, info: SpecInfo | None, *, running: int | None = None) -> None:
        """Read ``info``'s plan from disk and show it (keeping the tree's cursor where it was)."""
        same_spec = self.info is not None and info is not None and info.slug == self.info.slug
        self.info, self.plan, self.states = info, None, {}
        title = self.query_one("#plan-title", Static)
        tree = self.tree
        if not same_spec:
            tree.clear()
        if info is None:
            title.update("No specs yet: press n to write one.")
            self._set_error(None)
            tree.clear()
            self.markdown_text = ""
            self._sync_markdown()
            return
        if not info.has_plan:
            title.update(f"{info.slug}: {project.rel(info.spec_path)}")
            self._set_error(f"{project.rel(info.plan_path)}: no plan yet. Press p to plan it, e to edit the spec.")
            tree.clear()
            self.markdown_text = info.spec_path.read_text(encoding="utf-8", errors="replace") if info.spec_path.is_file() else ""
            self._sync_markdown()
            return
        try:
            plan = read_plan(info.plan_path)
        except PhaserError as exc:
            title.update(f"{info.slug}: {project.rel(info.plan_path)}")
            self._set_error(relative(project, str(exc)))
            tree.clear()
            self.markdown_text = info.plan_path.read_text(encoding="utf-8", errors="replace")
            self._sync_markdown()
            return
        self.plan = plan
        try:
            problems = [str(p) for p in validate_text(plan.text, Path(project.rel(info.plan_path)), kind="plan")]
        except PhaserError as exc:
            problems = [str(exc)]
        self._set_error(None, problems)
        approvals = project.config.approval.policy != "never"
        self.states = phase_states(plan, running, approvals)
        models = {p.number: phase_model(project, plan, p.number) for p in plan.phases}
        done = sum(1 for p in plan.phases if p.done)
        name = str(plan.frontmatter.get("title") or plan.title or info.slug)
        title.update(
            f"{name}  ·  {project.rel(info.plan_path)}  ·  phases {done}/{len(plan.phases)}"
            f"  ·  tasks {plan.tasks_done}/{plan.tasks_total}  ·  approval: {project.config.approval.policy}"
        )
        had_cursor = tree.cursor_node is not None
        tree.show_plan(plan, self.states, models)
        if not had_cursor:
            focus = next((n for n, s in self.states.items() if s in ("running", "next", "waiting")), None)
            if focus is None and plan.phases:
                focus = plan.phases[0].number
            if focus is not None:
                tree.cursor_to(f"phase:{focus}::0")
        self.markdown_text = plan.text
        self._sync_markdown()
