"""`phaser show`: one phase's evidence in one place, from the plan, git and the run journals.

The diff is the phase's commit when it passed; otherwise the patch kept from its last attempt that
was undone (a red gate, an escalation, an interrupted run). Gate results, claims, model, tokens and
cost come from the journal of the phase's newest run; every run of the phase (a redone phase has
several) is listed too.
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from phaser.agent.journal import read_journal
from phaser.errors import UsageError
from phaser.plan.store import read_plan
from phaser.workflow import git
from phaser.workflow.cost import _summarise, run_dirs
from phaser.workflow.project import Project

_TOKEN_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")


@dataclass
class PhaseEvidence:
    slug: str
    phase: int
    title: str
    state: str
    difficulty: str
    model: str
    """The model of the newest run (what the phase passed or failed on), else the plan's routing."""
    diff_source: str
    """commit, patch (kept from an undone attempt) or none."""
    diff: str = ""
    commit: str | None = None
    patch: str | None = None
    """Where the kept patch is, relative to the project."""
    gates: list[dict] = field(default_factory=list)
    """The newest run's gates: command, ok, summary, counts, and ``tests`` (node id -> result) when
    the run recorded them."""
    claims: list[dict] = field(default_factory=list)
    """Each claim_task call of the newest run: ref, evidence, accepted."""
    tasks: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    usage: dict = field(default_factory=dict)
    """Tokens of every run of the phase, summed."""
    cost_usd: float = 0.0
    runs: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def phase_evidence(project: Project, slug: str | None, number: int) -> PhaseEvidence:
    info = project.plan_spec(slug)
    plan = read_plan(info.plan_path)
    phase = plan.phase(number)
    if phase is None:
        raise UsageError(f"{project.rel(info.plan_path)}: no phase {number}")
    dirs = [d for d in run_dirs(project, info.slug) if d.parent.name == str(number)]
    runs = [s for s in (_summarise(d) for d in dirs) if s]
    newest = dirs[-1] if dirs else None
    entries = read_journal(newest / "journal.jsonl") if newest else []
    ev = PhaseEvidence(
        slug=info.slug,
        phase=number,
        title=phase.title,
        state=plan.state(phase),
        difficulty=phase.difficulty,
        model=(runs[-1]["model"] if runs else "")
        or phase.model
        or project.config.model_for(phase.difficulty),
        diff_source="none",
        tasks=[{"ref": t.ref, "text": t.text, "checked": t.checked} for t in phase.tasks],
        notes=list(phase.notes),
        runs=runs,
        cost_usd=sum(float(r.get("cost_usd") or 0.0) for r in runs),
        usage={k: sum(int(r.get(k) or 0) for r in runs) for k in _TOKEN_FIELDS},
    )
    ev.gates = _gates(entries)
    ev.claims = _claims(entries)
    commit = None
    if plan.state(phase) == "done":
        commit = git.phase_commits(project.root, info.slug, {number: phase.title}).get(number)
    if commit:
        ev.diff_source, ev.commit, ev.diff = "commit", commit, _show(project.root, commit)
    else:
        patch = _last_patch(dirs)
        if patch is not None:
            ev.diff_source, ev.patch = "patch", project.rel(patch)
            ev.diff = patch.read_text(encoding="utf-8", errors="replace")
    return ev


def _gates(entries: list[dict]) -> list[dict]:
    """The last gate results of the run (after its last fix attempt)."""
    for e in reversed(entries):
        if e.get("kind") == "gates":
            return list(e.get("results") or [])
    for e in reversed(entries):
        if e.get("kind") == "outcome" and e.get("gates"):
            return list(e["gates"])
    return []


def _claims(entries: list[dict]) -> list[dict]:
    out = []
    for e in entries:
        if e.get("kind") == "tool" and e.get("name") == "claim_task":
            args = e.get("input") or {}
            out.append(
                {"ref": args.get("ref"), "evidence": args.get("evidence", ""), "accepted": bool(e.get("ok"))}
            )
    return out


def _last_patch(dirs: list[Path]) -> Path | None:
    for d in reversed(dirs):
        patch = d / "discarded.patch"
        if patch.is_file():
            return patch
    return None


def _show(root: Path, commit: str) -> str:
    proc = subprocess.run(
        ["git", "show", "--format=commit %H%nAuthor: %an <%ae>%nDate:   %ad%n%n    %s%n", "--patch", commit],
        cwd=root,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    return proc.stdout
