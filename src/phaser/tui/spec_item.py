"""One row of the specs list: title, a progress bar of phases done, and what comes next."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Label, ListItem, ProgressBar

from phaser.tui.wording import tui_words
from phaser.workflow.status import PlanStatus


def describe(status: PlanStatus) -> str:
    """The second line of a row: the error, or refused / running / next / blocked / complete."""
    if status.error:
        return tui_words(status.error)
    total = len(status.phases)
    parts = [f"{status.phases_done}/{total} phases"]
    active = status.active
    if active and active.get("running"):
        parts.append(f"● phase {active.get('phase')} running")
    elif active:
        parts.append(f"! phase {active.get('phase')} did not finish")
    if status.problems:
        count = len(status.problems)
        parts.append(f"✗ refused: {count} problem{'s' if count > 1 else ''}")
    elif status.next is not None:
        nxt = next((p for p in status.phases if p.number == status.next), None)
        parts.append(f"next {status.next}" + (f": {nxt.title}" if nxt else ""))
    elif total and status.phases_done == total:
        parts.append("complete")
    else:
        parts.append("nothing runnable")
    if status.blocked:
        parts.append("blocked " + ", ".join(map(str, status.blocked)))
    return " · ".join(parts)


class SpecItem(ListItem):
    """A spec folder; classes -error (plan unreadable or missing), -invalid (problems: next and run
    refuse it), -blocked, -complete."""

    def __init__(self, status: PlanStatus) -> None:
        super().__init__(id=f"spec-{status.slug}")
        self.slug = status.slug
        self.status = status

    def compose(self) -> ComposeResult:
        yield Label(self.status.title, markup=False, classes="spec-title")
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, classes="spec-progress")
        yield Label("", markup=False, classes="spec-detail")

    def on_mount(self) -> None:
        self.show(self.status)

    def show(self, status: PlanStatus) -> None:
        self.status = status
        self.query_one(".spec-title", Label).update(
            status.title if status.title == status.slug else f"{status.title}  ({status.slug})"
        )
        bar = self.query_one(ProgressBar)
        bar.update(total=max(len(status.phases), 1), progress=status.phases_done)
        bar.display = not status.error
        self.query_one(".spec-detail", Label).update(describe(status))
        self.set_class(bool(status.error), "-error")
        self.set_class(bool(status.problems), "-invalid")
        self.set_class(bool(status.blocked), "-blocked")
        self.set_class(bool(status.phases) and status.phases_done == len(status.phases), "-complete")
