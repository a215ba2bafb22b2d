"""The plan a phase runs on, read afresh each time: people edit it while the phase runs."""

from __future__ import annotations

from pathlib import Path

from phaser.errors import PlanError
from phaser.plan.edit import Op
from phaser.plan.model import Phase, Plan
from phaser.plan.store import edit_plan, read_plan


class PlanFile:
    """One spec's plan.md on disk. ``phase(n)`` re-reads it and refuses, with one clear line, when
    phase ``n`` is gone (a person renumbered or removed it mid-run)."""

    def __init__(self, path: Path, rel: str) -> None:
        self.path = path
        self.rel = rel
        """The path as shown to people (relative to the project)."""

    def read(self) -> Plan:
        return read_plan(self.path)

    def phase(self, number: int, plan: Plan | None = None) -> Phase:
        """Phase ``number`` of ``plan`` (default: the plan on disk now)."""
        found = (plan if plan is not None else self.read()).phase(number)
        if found is None:
            raise PlanError(
                f"phase {number} is no longer in the plan (renumbered or removed while phaser worked on it)",
                path=self.rel,
            )
        return found

    def edit(self, *ops: Op) -> Plan:
        plan = edit_plan(self.path, *ops)
        assert plan is not None  # edit_plan parses the result unless told not to
        return plan
