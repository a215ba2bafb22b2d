"""One row of the specs list: title, a progress bar of phases done, and what comes next."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Label, ListItem, ProgressBar

from phaser.tui.wording import with_keys
from phaser.workflow.status import PlanStatus


def waiting(status: PlanStatus, approvals: bool) -> list[int]:
    """Done phases still waiting for a person's approval."""
    return [p.number for p in status.phases if approvals and p.state == "done" and not p.approved]


def describe(status: PlanStatus, running: tuple[int, ...] = (), approvals: bool = False) -> str:
    """The second line of a row: the error, or refused / running / next / waiting / blocked / complete.

    ``running``: the phases this process runs now (its own lock does not show in ``status.active``)."""
    if status.error:
        return with_keys(status.error, status.hints)
    total = len(status.phases)
    parts = [f"{status.phases_done}/{total} phases"]
    active = status.active
    wait = waiting(status, approvals)
    shown = running
    if not shown and active and active.get("running"):  # another phaser's run: every lane of it
        lanes = active.get("lanes") or [active]
        shown = tuple(lane["phase"] for lane in lanes if isinstance(lane.get("phase"), int))
    if shown:
        numbers = ", ".join(str(n) for n in shown)
        parts.append(f"● phase{'s' if len(shown) > 1 else ''} {numbers} running")
    elif active:
        parts.append(f"! phase {active.get('phase')} did not finish")
    if status.problems:
        count = len(status.problems)
        parts.append(f"✗ refused: {count} problem{'s' if count > 1 else ''}")
    elif running:
        pass  # the running phases say it all
    elif status.next is not None:
        nxt = next((p for p in status.phases if p.number == status.next), None)
        parts.append(f"next {status.next}" + (f": {nxt.title}" if nxt else ""))
    elif total and status.phases_done == total:
        if not wait:
            parts.append("complete")
    else:
        parts.append("nothing runnable")
    if wait:
        many = len(wait) > 1
        parts.append(
            f"⏸ phase{'s' if many else ''} {', '.join(map(str, wait))} wait{'' if many else 's'} for approval"
        )
    if status.blocked:
        parts.append("blocked " + ", ".join(map(str, status.blocked)))
    return " · ".join(parts)


class SpecItem(ListItem):
    """A spec folder; classes -error (plan unreadable or missing), -invalid (problems: next and run
    refuse it), -blocked, -complete."""

    def __init__(self, status: PlanStatus, *, running: tuple[int, ...] = (), approvals: bool = False) -> None:
        super().__init__(id=f"spec-{status.slug}")
        self.slug = status.slug
        self.status = status
        self.running = running
        self.approvals = approvals

    def compose(self) -> ComposeResult:
        yield Label(self.status.title, markup=False, classes="spec-title")
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, classes="spec-progress")
        yield Label("", markup=False, classes="spec-detail")

    def on_mount(self) -> None:
        self.show(self.status, running=self.running, approvals=self.approvals)

    def show(self, status: PlanStatus, *, running: tuple[int, ...] = (), approvals: bool = False) -> None:
        self.status, self.running, self.approvals = status, running, approvals
        self.query_one(".spec-title", Label).update(
            status.title if status.title == status.slug else f"{status.title}  ({status.slug})"
        )
        bar = self.query_one(ProgressBar)
        bar.update(total=max(len(status.phases), 1), progress=status.phases_done)
        bar.display = not status.error
        self.query_one(".spec-detail", Label).update(describe(status, running, approvals))
        self.set_class(bool(status.error), "-error")
        self.set_class(bool(status.problems), "-invalid")
        self.set_class(bool(status.blocked), "-blocked")
        wait = waiting(status, approvals)
        self.set_class(bool(wait), "-waiting")
        self.set_class(
            bool(status.phases) and status.phases_done == len(status.phases) and not wait, "-complete"
        )
