"""An approval checkpoint: what the phase changed, its gates and notes; approve, or reject with feedback."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


@dataclass
class CheckpointInfo:
    slug: str
    phase: int
    title: str
    commit: str | None = None
    diff_stat: str = ""
    """``git show --stat`` of the phase's commit, or what is known without one."""
    gates: list[dict] = field(default_factory=list)
    """GateResult.as_dict() rows of the phase's last run."""
    notes: list[str] = field(default_factory=list)


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

    BINDINGS = [Binding("escape", "later", "Later")]

    def __init__(self, info: CheckpointInfo) -> None:
        super().__init__(classes="dialog-screen")
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
                commit = f" (commit {info.commit[:10]})" if info.commit else ""
                yield Label(f"Changes{commit}", classes="section")
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

    def on_mount(self) -> None:
        self.query_one("#checkpoint-approve", Button).focus()

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
