"""An approval checkpoint: what the phase changed, its gates and notes; approve, or reject with feedback.

The body (diff stat, gates, notes) takes what room is left and scrolls; the feedback field and the
buttons always show, at 80x24 too, and the dialog's own footer names its keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from phaser.tui.footer import PhaserFooter
from phaser.workflow.approval import CheckpointFacts

CheckpointInfo = CheckpointFacts
"""What the dialog shows (workflow.approval.checkpoint_facts builds it)."""

__all__ = ["CheckpointInfo", "CheckpointScreen", "Decision", "gate_lines"]


@dataclass
class Decision:
    approve: bool
    feedback: str = ""


def gate_lines(gates: list[dict]) -> list[str]:
    if not gates:
        return ["(no gate results recorded for this phase)"]
    return [f"{'✓' if g.get('ok') else '✗'} {g.get('command', '?')}: {g.get('summary', '')}" for g in gates]


class CheckpointScreen(ModalScreen[Decision | None]):
    """Dismisses with Decision(approve=True), Decision(False, feedback), or None (decide later)."""

    BINDINGS = [
        Binding("ctrl+y", "approve", "Approve", tooltip="Approve the phase"),
        Binding("ctrl+r", "reject", "Reject", tooltip="Reject it with the feedback typed (it runs again)"),
        Binding("ctrl+o", "diff", "Diff", tooltip="Read the phase's whole diff"),
        Binding("escape", "later", "Later", tooltip="Decide later (the phase keeps waiting)"),
    ]

    def __init__(self, info: CheckpointFacts) -> None:
        super().__init__(classes="dialog-screen checkpoint-screen")
        self.info = info

    def compose(self) -> ComposeResult:
        info = self.info
        with Vertical(classes="dialog checkpoint"):
            yield Label(
                f"{info.slug}: phase {info.phase} waits for approval: {info.title}",
                markup=False,
                classes="dialog-title",
            )
            with VerticalScroll(id="checkpoint-body"):
                commit = f" (commit {info.commit[:10]}; ctrl+o shows the diff)" if info.commit else ""
                yield Label(f"Changes{commit}", classes="section", markup=False)
                yield Static(
                    info.diff_stat or "(no commit found for this phase)", markup=False, id="checkpoint-diff"
                )
                yield Label("Gates", classes="section")
                yield Static("\n".join(gate_lines(info.gates)), markup=False, id="checkpoint-gates")
                yield Label("Notes", classes="section")
                yield Static(
                    "\n".join(f"- {n}" for n in info.notes) or "(none)", markup=False, id="checkpoint-notes"
                )
            yield Input(
                placeholder="Feedback: needed to reject (it becomes a note and an open task)",
                id="checkpoint-feedback",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Approve", variant="success", id="checkpoint-approve")
                yield Button("Reject", variant="error", id="checkpoint-reject")
                yield Button("Later", id="checkpoint-later")
        yield PhaserFooter(compact=True)

    def on_mount(self) -> None:
        # the feedback field, not Approve: an Enter never approves by accident (on a busy machine
        # a quick click can dismiss the dialog before this runs: then there is nothing to focus)
        for box in self.query("#checkpoint-feedback").results(Input):
            box.focus()

    @on(Button.Pressed, "#checkpoint-approve")
    def action_approve(self) -> None:
        self.dismiss(Decision(True))

    @on(Button.Pressed, "#checkpoint-reject")
    @on(Input.Submitted, "#checkpoint-feedback")
    def action_reject(self) -> None:
        feedback = self.query_one("#checkpoint-feedback", Input).value.strip()
        if not feedback:
            self.notify("say what to change first: the feedback reopens the phase", severity="warning")
            self.query_one("#checkpoint-feedback", Input).focus()
            return
        self.dismiss(Decision(False, feedback))

    @on(Button.Pressed, "#checkpoint-later")
    def action_later(self) -> None:
        self.dismiss(None)

    def action_diff(self) -> None:
        if not self.info.commit:
            self.notify("no commit found for this phase", severity="warning")
            return
        from phaser.tui.diff_view import DiffScreen
        from phaser.workflow.approval import phase_diff

        project = self.app.project  # type: ignore[attr-defined]
        self.app.push_screen(
            DiffScreen(
                f"phase {self.info.phase}: {self.info.commit[:10]}",
                phase_diff(project, self.info.commit),
            )
        )
