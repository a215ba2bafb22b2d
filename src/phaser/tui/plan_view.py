"""The selected spec: its plan as a tree of phases, tasks and notes, or rendered as markdown.

Above the tree: the plan's problems (every one, in a scrollable box: next and run refuse such a
plan) and a phase run that is in progress in another process or did not finish.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, Markdown, Static

from phaser.plan.model import Plan
from phaser.tui.plan_markdown import spec_markdown, view_markdown
from phaser.tui.plan_tree import PlanTree
from phaser.workflow.overview import SpecView, phase_states, read_spec, relative
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.status import PlanStatus


def markdown_of(data: SpecView) -> str:
    """The markdown view of what read_spec read (0.2 s on a 1,000-phase plan: worked out only
    while the markdown view is shown, or when it is opened)."""
    if data.plan is not None:
        return view_markdown(data.plan)
    if data.info is not None and not data.info.has_plan:
        return spec_markdown(data.text)
    return data.text


class PlanView(Vertical):
    """Shows one spec; ``plan`` is the parsed plan on screen (None without one, or when it fails to parse)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Plan"
        self.plan: Plan | None = None
        self.info: SpecInfo | None = None
        self.error: str | None = None
        self.problems: list[str] = []
        """Problems of a plan that parsed (``file:line: message``, as `phaser validate` and `phaser
        status` report them): next and run refuse the plan until they are fixed."""
        self.active: dict | None = None
        """A phase run of this plan by another process, or one that did not finish (PlanStatus.active);
        None while this screen's own run works on the plan."""
        self.status: PlanStatus | None = None
        self.states: dict[int, str] = {}
        self._view: SpecView | None = None
        """What is shown, as read_spec read it (the markdown view is worked out from it when opened)."""
        self._markdown: str | None = None
        self._shown_markdown: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="plan-title", markup=False)
        yield Static("", id="plan-error", markup=False)
        yield Static("", id="plan-refused", markup=False)
        with VerticalScroll(id="plan-problems"):
            yield Static("", id="plan-problems-text", markup=False)
        yield Static("", id="plan-active", markup=False)
        with ContentSwitcher(initial="plan-tree", id="plan-switcher"):
            yield PlanTree(id="plan-tree")
            with VerticalScroll(id="plan-markdown"):
                yield Markdown(id="plan-md")

    @property
    def plan_tree(self) -> PlanTree:
        return self.query_one(PlanTree)

    @property
    def showing_markdown(self) -> bool:
        return self.query_one(ContentSwitcher).current == "plan-markdown"

    @property
    def refused(self) -> bool:
        """The plan has problems: next and run refuse it."""
        return bool(self.problems)

    @property
    def running_elsewhere(self) -> bool:
        """Another process runs a phase of this plan right now (it holds the plan's lock)."""
        return bool(self.active and self.active.get("running"))

    @property
    def waiting(self) -> list[int]:
        """Phases done but not approved (only when the approval policy asks for approvals)."""
        return [n for n, s in self.states.items() if s == "waiting"]

    def toggle_markdown(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "plan-tree" if self.showing_markdown else "plan-markdown"
        self._sync_markdown()
        (self.plan_tree if not self.showing_markdown else self.query_one("#plan-markdown")).focus()

    @property
    def markdown_text(self) -> str:
        """What the markdown view shows (or would)."""
        if self._markdown is None:
            self._markdown = markdown_of(self._view) if self._view is not None else ""
        return self._markdown

    def _sync_markdown(self) -> None:
        if self.showing_markdown and self._shown_markdown != self.markdown_text:
            self._shown_markdown = self.markdown_text
            self.query_one(Markdown).update(self.markdown_text)

    def _set_error(self, message: str | None, problems: list[str] | None = None) -> None:
        """A plan that cannot be shown (``message``), or the problems of one that can (all of them:
        the box scrolls, by mouse or after tab)."""
        self.error = message
        changed = (problems or []) != self.problems
        self.problems = problems or []
        error = self.query_one("#plan-error", Static)
        error.update(message or "")
        error.display = bool(message)
        count = len(self.problems)
        counted = f"{count} problem{'s' if count != 1 else ''}"
        self.query_one("#plan-refused", Static).update(
            f"✗ next and run refuse this plan until it is fixed ({counted}):"
        )
        self.query_one("#plan-problems-text", Static).update("\n".join(f"⚠ {p}" for p in self.problems))
        box = self.query_one("#plan-problems", VerticalScroll)
        for widget in (self.query_one("#plan-refused"), box):
            widget.display = bool(self.problems)
        if changed:
            box.scroll_home(animate=False)
        self.set_class(bool(self.problems), "-refused")
        self.border_title = f"Plan · refused: {problems}" if self.problems else "Plan"

    def _set_active(self, active: dict | None) -> None:
        self.active = active
        banner = self.query_one("#plan-active", Static)
        if active and active.get("running"):
            text = (
                f"● phase {active.get('phase')} is running in another phaser "
                f"(started {active.get('started')}): >, A and R wait until it ends"
            )
        elif active:
            text = (
                f"! phase {active.get('phase')} did not finish (started {active.get('started')}): its "
                "changes are still "
                "in the tree; the next run undoes them (kept as a patch)"
            )
        else:
            text = ""
        banner.update(text)
        banner.display = bool(text)

    def show(
        self,
        project: Project,
        info: SpecInfo | None,
        *,
        running: tuple[int, ...] = (),
        own_run: bool = False,
    ) -> None:
        """Read ``info``'s plan from disk and show it (keeping the tree's cursor where it was)."""
        self.apply(read_spec(project, info), running=running, own_run=own_run)

    def apply(
        self,
        data: SpecView,
        *,
        running: tuple[int, ...] = (),
        own_run: bool = False,
        markdown: str | None = None,
    ) -> None:
        """Show what ``read_spec`` read (on a worker thread), keeping the tree's cursor where it was.

        ``running``: the phases this screen's run works on (several in a parallel run); ``own_run``:
        this screen runs a job on the plan (so the plan's lock and unfinished-run marker are its own,
        not another process's);
        ``markdown``: its markdown view, when the worker worked it out.
        """
        self._markdown = markdown
        project, info = data.project, data.info
        same_spec = self.info is not None and info is not None and info.slug == self.info.slug
        self.info, self.plan, self.states, self.status = info, None, {}, None
        title = self.query_one("#plan-title", Static)
        tree = self.plan_tree
        if not same_spec:
            tree.clear()
        self._set_active(None)
        if info is None:
            title.update("No specs yet: press n to write one.")
            self._set_error(None)
            tree.clear()
            self._view, self._markdown = None, ""
            self._sync_markdown()
            return
        if not info.has_plan:
            title.update(f"{info.slug}: {project.rel(info.spec_path)}")
            self._set_error(
                f"{project.rel(info.plan_path)}: no plan yet. Press p to plan it, e to edit the spec."
            )
            tree.clear()
            self._view = data
            self._sync_markdown()
            return
        if data.plan is None or data.status is None:
            title.update(f"{info.slug}: {project.rel(info.plan_path)}")
            self._set_error(relative(project, data.error or "cannot read the plan"))
            # keep the tree as it was, dimmed: the fix that follows lands on the same lines and the
            # cursor stays
            tree.add_class("-stale")
            self._view = data
            self._sync_markdown()
            return
        plan = self.plan = data.plan
        tree.remove_class("-stale")
        # the same figures as `phaser status`: problems as next/run check them, commits, models passed on
        status = self.status = data.status
        self._set_error(None, [relative(project, p) for p in status.problems])
        active = None if own_run else status.active
        self._set_active(active)
        approvals = project.config.approval.policy != "never"
        if not running and active and active.get("running"):
            lanes = active.get("lanes") or [active]  # a parallel run in another phaser: every lane
            running = tuple(lane["phase"] for lane in lanes if isinstance(lane.get("phase"), int))
        self.states = phase_states(plan, running, approvals, {f.number: f.state for f in status.phases})
        models, commits = [], []
        for _phase, figures in zip(plan.phases, status.phases, strict=True):
            done = figures.state == "done"
            models.append((figures.ran_on if done else None) or figures.model)
            commits.append(figures.commit if done else None)
        phases_done = sum(1 for f in status.phases if f.state in ("done", "skipped"))
        name = str(plan.frontmatter.get("title") or plan.title or info.slug)
        title.update(
            f"{name}  ·  {project.rel(info.plan_path)}  ·  phases {phases_done}/{len(plan.phases)}"
            f"  ·  tasks {plan.tasks_done}/{plan.tasks_total}  ·  approval: {project.config.approval.policy}"
        )
        had_cursor = tree.cursor_node is not None
        tree.show_plan(plan, self.states, models, commits)
        if not had_cursor:
            focus = next((n for n, s in self.states.items() if s in ("running", "next", "waiting")), None)
            if focus is None and plan.phases:
                focus = plan.phases[0].number
            if focus is not None:
                tree.cursor_to(f"phase:{focus}::0")
        self._view = data
        self._sync_markdown()

    def runnable(self, number: int | None = None) -> bool:
        """Whether a run of phase ``number`` (None: the next phase) can start on the plan shown:
        it is valid, no other process runs it, and the phase is open with its dependencies done."""
        plan = self.plan
        if plan is None or self.refused or self.running_elsewhere:
            return False
        if number is None:
            return plan.next_phase() is not None
        phase = plan.phase(number)
        if phase is None or phase.done:
            return False
        done = {p.number for p in plan.phases if p.done}
        return all(d in done for d in phase.depends)
