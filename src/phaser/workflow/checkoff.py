"""Check-off, owned by the harness: once the gates are green, the agent's claims become plan edits,
the evidence is stamped under the phase, and the phase's change is committed.

`commit_phase` is the one place a phase's change becomes a commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from phaser.agent.provider import Usage
from phaser.plan.edit import AppendNote, Op, SetMeta, SetTask
from phaser.plan.model import Phase
from phaser.plan.refs import is_ref, parse_ref
from phaser.stamps import utc_stamp
from phaser.workflow import git
from phaser.workflow.gates import GateResult
from phaser.workflow.git_guard import GitGuard, GitPlanted


@dataclass
class Claims:
    """What the agent claimed done, and what of it can be ticked in the plan as it is now."""

    claimed: list[str] = field(default_factory=list)
    ticks: list[SetTask] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    """Claimed refs whose task is no longer in the phase as claimed."""


def claims_to_ops(phase: Phase, claims: list[tuple[str, str]], claimed_text: dict[str, str]) -> Claims:
    """One tick per claimed task still in the phase; a task whose text changed since the claim (a
    hand edit, a new plan) is found again by its text."""
    out = Claims()
    for ref, _evidence in claims:
        out.claimed.append(ref)
        text = claimed_text.get(ref)
        number, index = parse_ref(ref) if is_ref(ref) else (None, 0)
        task = phase.task(index) if number == phase.number else None
        if task is not None and text is not None and task.text != text:
            task = next((t for t in phase.tasks if t.text == text), None)
        if task is None:
            out.lost.append(ref)
        elif not task.checked and all(op.ref != task.ref for op in out.ticks):
            out.ticks.append(SetTask(task.ref, True, expect_text=task.text))
    return out


@dataclass(frozen=True)
class Evidence:
    """What the stamp under a checked-off phase records."""

    gates: list[GateResult]
    model: str
    first_model: str
    """The phase's routed model (an escalated phase passed on another)."""
    usage: Usage
    cost_usd: float
    claimed: list[str]
    number: int
    title: str
    base: str | None
    """The commit the phase's commit goes on top of (None: no git repository)."""
    confinement: str = ""
    """The backend the phase's commands ran under ("none": opted out)."""

    @property
    def verified(self) -> bool:
        return bool(self.gates)


def evidence_stamp(e: Evidence, *, unverified: bool, why: str | None = None) -> str:
    """The note appended under the phase: verdict, gates, model, tokens, dollars, commit."""
    now = utc_stamp()
    gate_text = "; ".join(f"`{g.command}`: {g.summary}" for g in e.gates) or "no gates configured"
    escalated = f" (escalated from {e.first_model})" if e.model != e.first_model else ""
    verdict = (
        f"NOT verified {now}: {why}, so green gates prove nothing about the claims "
        f"({', '.join(e.claimed) or 'none'})"
        if unverified and why
        else f"NOT verified {now}: no gates configured, so nothing checked the claims "
        f"({', '.join(e.claimed) or 'none'})"
        if unverified
        else f"verified {now}: {gate_text}"
    )
    unconfined = '; UNCONFINED (agent.sandbox = "none")' if e.confinement == "none" else ""
    return (
        f"{verdict}{unconfined}; model {e.model}{escalated}; "
        f"{e.usage.total_input:,} in / {e.usage.output_tokens:,} out tokens, ${e.cost_usd:.4f}"
        + (f'; commit "phase {e.number}: {e.title}" on top of {e.base[:10]}' if e.base else "")
    )


def check_off_ops(phase: Phase, claims: Claims, stamp: str, *, unverified: bool) -> list[Op]:
    """The plan edits of a green phase: its ticks (none when nothing verified them), its blocked
    status cleared (run again by hand and green now), the evidence stamp."""
    ops: list[Op] = [] if unverified else list(claims.ticks)
    if phase.status == "blocked":
        ops.append(SetMeta(phase.number, "status", None))
    ops.append(AppendNote(phase.number, stamp))
    return ops


@dataclass
class Committed:
    commit: str
    diff: dict
    """Files, insertions, deletions of the commit (the plan file not counted)."""


def commit_message(slug: str, number: int, title: str, stamp: str) -> str:
    return f"phase {number}: {title}\n\n{stamp}\n\nPhaser-Phase: {slug}/{number}\n"


def commit_phase(
    root: Path, message: str, paths: list[str], plan_rel: str, guard: GitGuard | None = None
) -> Committed:
    """The commit point: commit exactly ``paths`` (what changed during the phase, and the plan), so
    a person's other uncommitted work (--allow-dirty, or files saved meanwhile) stays out of it.
    With ``guard``, .git/hooks and .git/config are first put back as they were when the phase
    began, so the commit never runs a hook planted during it (the user's own hooks still run)."""
    if guard is not None:
        planted = guard.restore()
        if planted:
            raise GitPlanted(
                "planted in .git during the phase (restored, nothing committed): " + "; ".join(planted)
            )
    commit = git.commit_paths(root, message, paths)
    stat = git.diff_stat(root, git.parent(root, commit) or git.empty_tree(root), commit, exclude=[plan_rel])
    return Committed(commit, stat)


CACHE_DIRS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")


def uncommitted_stat(work: list[str]) -> dict:
    """The size of a phase's change outside git: its files, caches not counted."""
    files = [w for w in work if not any(part in CACHE_DIRS for part in Path(w).parts)]
    return {"files": len(files), "insertions": 0, "deletions": 0}
