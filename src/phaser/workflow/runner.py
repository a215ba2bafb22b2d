"""`phaser next`, `phaser run` and `--dry-run`, in one place for their callers: which phase
(routing), one phase (next_phase), the loop (run_loop), the preview (dry_run)."""

from __future__ import annotations

from phaser.workflow.dry_run import dry_run
from phaser.workflow.next_phase import check_tree, run_locked, run_next
from phaser.workflow.providers import RunOptions
from phaser.workflow.routing import load_plan, pick_phase, route_model, stuck_hints, stuck_reason
from phaser.workflow.run_loop import RunResult, run_all, unapproved

__all__ = [
    "RunOptions",
    "RunResult",
    "check_tree",
    "dry_run",
    "load_plan",
    "pick_phase",
    "route_model",
    "run_all",
    "run_locked",
    "run_next",
    "stuck_hints",
    "stuck_reason",
    "unapproved",
]
