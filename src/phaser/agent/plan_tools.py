"""The plan tools of a phase: claim_task, add_note, add_task, finish_step. The agent writes to the
plan only through these; what they record (claims with the task's text, notes, tasks) is what the
harness checks off later, after its own gates."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from phaser.agent.editor import ToolError
from phaser.agent.policy import Step
from phaser.plan import refs
from phaser.plan.edit import AddTask, AppendNote
from phaser.plan.store import edit_plan, read_plan

__all__ = ["MAX_PLAN_TEXT", "PlanTools"]

MAX_PLAN_TEXT = 2000


class PlanTools:
    """The plan tools for one phase of one plan, and what the agent did with them."""

    def __init__(self, plan_path: Path | None, phase: int | None) -> None:
        self.plan_path = plan_path
        self.phase = phase
        self.step = Step.EXPLORE
        self.claims: list[tuple[str, str]] = []
        self.claimed_text: dict[str, str] = {}
        """ref -> the task's text when it was claimed: the harness ticks that task, even if a hand
        edit has renumbered the list since, and never another one."""
        self.notes: list[str] = []
        self.added_tasks: list[str] = []
        self.finished: str | None = None

    def plan_text(self, args: dict[str, Any], key: str) -> str:
        value = args.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ToolError(f"Parameter `{key}` is required and must be non-empty text.")
        if self.plan_path is None or self.phase is None:
            raise ToolError("This run has no plan phase to write to.")
        # One line: a newline could smuggle a heading or another phase's task into the plan.
        text = re.sub(r"\s+", " ", value).strip()
        return text if len(text) <= MAX_PLAN_TEXT else text[: MAX_PLAN_TEXT - 3] + "..."

    def add_note(self, args: dict[str, Any]) -> tuple[str, bool]:
        text = self.plan_text(args, "text")
        day = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
        # dated and marked, so a reader tells the agent's notes from a person's and knows when
        edit_plan(self.plan_path, AppendNote(self.phase, f"{day} agent: {text}"))  # type: ignore[arg-type]
        self.notes.append(text)
        return f"Note added to phase {self.phase}.", False

    def add_task(self, args: dict[str, Any]) -> tuple[str, bool]:
        text = self.plan_text(args, "text")
        edit_plan(self.plan_path, AddTask(self.phase, text))  # type: ignore[arg-type]
        self.added_tasks.append(text)
        return f"Task added to phase {self.phase} (unchecked, for a human or a later run).", False

    def claim_task(self, args: dict[str, Any]) -> tuple[str, bool]:
        ref, evidence = args.get("ref"), args.get("evidence", "")
        if not isinstance(ref, str) or not refs.is_ref(ref):
            raise ToolError("Parameter `ref` must be a task reference like 2.1 (phase.task) or 3.5#1.")
        if not isinstance(evidence, str):
            raise ToolError("Parameter `evidence` must be text.")
        ref = ref.strip()
        if self.plan_path is None or self.phase is None:
            raise ToolError("This run has no plan phase to claim tasks in.")
        number, index = refs.parse_ref(ref)
        if number != self.phase:
            raise ToolError(f"Task {ref} is not in phase {self.phase}; claim only this phase's tasks.")
        phase = read_plan(self.plan_path).phase(number)
        task = phase.task(index) if phase is not None else None
        if task is None:
            raise ToolError(f"Phase {self.phase} has no task {ref}.")
        self.claims.append((ref, evidence))
        self.claimed_text[ref] = task.text
        return (
            f"Claim recorded for {ref} ({task.text}). The harness ticks it after its own checks pass.",
            False,
        )

    def finish_step(self, args: dict[str, Any]) -> tuple[str, bool]:
        summary = args.get("summary", "")
        self.finished = summary if isinstance(summary, str) else str(summary)
        return f"The {self.step.value} step is finished.", False
