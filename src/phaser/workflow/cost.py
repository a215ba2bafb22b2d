"""`phaser cost` and `phaser log`: what the journal says runs cost and did."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phaser import layout
from phaser.agent.journal import read_journal
from phaser.outcomes import Outcome
from phaser.plan.refs import key as number_key
from phaser.plan.refs import parse_number
from phaser.workflow.project import Project

_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")


@dataclass
class CostReport:
    plans: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"plans": self.plans, "total_usd": sum(p["total_usd"] for p in self.plans)}


def run_dirs(project: Project, slug: str) -> list[Path]:
    """Every run folder of a plan in the order they belong: the plan run(s) first, then by phase
    number (2 before 10), then by run timestamp (a same-second ``-N`` suffix counted as a number)."""
    base = layout.runs_dir(project.config.state_dir, slug)
    if not base.is_dir():
        return []
    return sorted((p.parent for p in base.glob("*/*/journal.jsonl")), key=_run_order)


def _run_order(run_dir: Path) -> tuple:
    phase = run_dir.parent.name
    if phase == "plan":
        where: tuple = (0, 0, "")
    elif parse_number(phase) is not None:
        where = (1, number_key(parse_number(phase) or 0), "")
    else:
        where = (2, 0, phase)
    stamp, _, n = run_dir.name.partition("-")
    return (*where, stamp, int(n) if n.isdigit() else 0, run_dir.name)


def _provider(project: Project | None, model: str) -> str:
    """The provider a routed model reference names (``local:qwen3-coder`` -> local)."""
    if project is None or model == "?":
        return ""
    try:
        return project.config.model_ref(model).provider
    except ValueError:
        return ""


def _summarise(run_dir: Path, project: Project | None = None) -> dict | None:
    entries = read_journal(run_dir / "journal.jsonl")
    if not entries:
        return None
    start = next((e for e in entries if e.get("kind") == "phase_start"), {})
    outcome: dict = next((e for e in reversed(entries) if e.get("kind") == "outcome"), {})
    if not outcome and any(e.get("kind") == "plan_written" for e in entries):
        outcome = {"outcome": Outcome.PLANNED.value}
    totals = dict.fromkeys(_FIELDS, 0)
    cost = 0.0
    model = start.get("model", "?")
    routed = next((e.get("model") for e in entries if e.get("kind") == "request"), None) or model
    cache_unknown = 0
    priced = True
    estimate = False
    for e in entries:
        if e.get("kind") == "response":
            cache_unknown += bool((e.get("usage") or {}).get("cache_unknown"))
            priced = priced and e.get("priced", True)
            usage = e.get("usage") or {}
            for f in _FIELDS:
                totals[f] += int(usage.get(f) or 0)
            cost = max(cost, float(e.get("cost_usd") or 0.0))  # the session's running total
            model = e.get("model") or model
            estimate = estimate or bool(e.get("estimate"))
    if estimate:  # Claude Code on a subscription: its dollars are list prices, not a bill
        model += " (subscription: estimate)"
    if outcome.get("cost_usd") is not None:
        cost = float(outcome["cost_usd"])
    return {
        "run": run_dir.name,
        "phase": start.get("phase", run_dir.parent.name),
        "model": model,
        "provider": _provider(project, str(routed)),
        "cache_unknown": cache_unknown,
        "priced": priced,
        "outcome": outcome.get("outcome", "unfinished"),
        "cost_usd": cost,
        "gates": outcome.get("gates", []),
        "commit": outcome.get("commit"),
        "diff": outcome.get("diff") or {},
        **totals,
    }


def run_summary(run: dict) -> str:
    """One line comparing a run with its siblings: outcome, model, tokens, dollars, gates, diff size."""
    tokens_in = sum(int(run.get(k) or 0) for k in _FIELDS if k != "output_tokens")
    head = (
        f"{run['outcome']} on {run['model']}: {tokens_in:,} in / "
        f"{int(run.get('output_tokens') or 0):,} out tokens, "
        f"${run['cost_usd']:.4f}"
    )
    if not run.get("priced", True):
        head += " (no price known: dollars not tracked)"
    if run.get("cache_unknown"):
        head += " (cached tokens not reported: counted uncached)"
    if str(run.get("phase")) == "plan":
        return head
    gates = "; ".join(f"{g.get('summary')}" for g in run.get("gates") or []) or "no gates run"
    d = run.get("diff") or {}
    diff = (
        f"{d.get('files', 0)} files +{d.get('insertions', 0)} -{d.get('deletions', 0)}" if d else "none kept"
    )
    if d.get("undone"):
        diff += " (undone, kept as a patch)"
    return f"{head}; gates: {gates}; diff: {diff}"


def cost_report(project: Project, slug: str | None = None) -> CostReport:
    slugs = (
        [project.spec(slug).slug]
        if slug
        else sorted(p.name for p in layout.runs_dir(project.config.state_dir).glob("*") if p.is_dir())
    )
    report = CostReport()
    for s in slugs:
        rows: dict[Any, dict] = {}
        by_model: dict[Any, dict] = {}
        by_provider: dict[Any, dict] = {}
        runs = [r for r in (_summarise(d, project) for d in run_dirs(project, s)) if r]
        for run in runs:
            per_provider = by_provider.setdefault(run["provider"], {})
            buckets: tuple[tuple[Any, dict[Any, dict]], ...] = (
                ((run["phase"], run["provider"], run["model"]), rows),
                (run["model"], by_model),
                (run["model"], per_provider),
            )
            for key, bucket in buckets:
                row = bucket.setdefault(
                    key,
                    {
                        "phase": run["phase"],
                        "provider": run["provider"],
                        "model": run["model"],
                        "runs": 0,
                        "cost_usd": 0.0,
                        "priced": True,
                        "cache_unknown": 0,
                        **dict.fromkeys(_FIELDS, 0),
                    },
                )
                row["runs"] += 1
                row["cost_usd"] += run["cost_usd"]
                row["priced"] = row["priced"] and run["priced"]
                row["cache_unknown"] += run["cache_unknown"]
                for f in _FIELDS:
                    row[f] += run[f]
        ordered = sorted(
            rows.values(), key=lambda r: (number_key(parse_number(str(r["phase"])) or 0), r["model"])
        )
        report.plans.append(
            {
                "slug": s,
                "rows": ordered,
                "by_model": {
                    m: {k: v for k, v in row.items() if k != "phase"} for m, row in sorted(by_model.items())
                },
                "by_provider": {
                    p: {
                        m: {k: v for k, v in row.items() if k != "phase"} for m, row in sorted(models.items())
                    }
                    for p, models in sorted(by_provider.items())
                },
                "runs": runs,
                "total_usd": sum(r["cost_usd"] for r in runs),
                "priced": all(r["priced"] for r in runs),
            }
        )
    return report


def log_lines(project: Project, slug: str | None, phase: int | None = None) -> list[str]:
    """`phaser log` as lines (whole: the shell fits them to the terminal or wraps them)."""
    runs = log_runs(project, slug, phase)
    lines: list[str] = []
    for run in runs:
        lines.append(f"== phase {run['phase']}, run {run['run']}")
        if run["summary"]:
            lines.append(f"  {run_summary(run['summary'])}")
        for e in run["events"]:
            lines.append(f"  {e['time']}  {e['text']}")
    if not lines:
        lines.append(f"no runs recorded for {project.plan_spec(slug, need_plan=False).slug}")
    return lines


def log_runs(project: Project, slug: str | None, phase: int | None = None) -> list[dict]:
    """Every run of a plan (or one phase): its folder, summary, and each journal entry worth a
    person's reading as ``{"time", "kind", "text"}`` (the --json form of `phaser log`)."""
    info = project.plan_spec(slug, need_plan=False)
    runs: list[dict] = []
    for run_dir in run_dirs(project, info.slug):
        if phase is not None and run_dir.parent.name != str(phase):
            continue
        events = []
        for e in read_journal(run_dir / "journal.jsonl"):
            text = _describe(e)
            if text:
                events.append({"time": str(e.get("t", ""))[11:19], "kind": e.get("kind"), "text": text})
        runs.append(
            {
                "phase": run_dir.parent.name,
                "run": run_dir.name,
                "dir": project.rel(run_dir),
                "summary": _summarise(run_dir),
                "events": events,
            }
        )
    return runs


def _describe(e: dict) -> str | None:
    kind = e.get("kind")
    if kind == "phase_start":
        return (
            f"start phase {e.get('phase')}: {e.get('title')} on {e.get('model')} "
            f"(attempt {e.get('attempt', 1)})"
        )
    if kind == "step_start":
        return f"step {e.get('step')}"
    if kind == "tool":
        mark = "→" if e.get("ok", True) else "✗"
        return f"{mark} {e.get('name')}: {json.dumps(e.get('input', {}), ensure_ascii=False)}"
    if kind == "refusal":
        return f"! refused ({e.get('rule')}): {e.get('message')}"
    if kind == "violation":
        return f"! reverted: {e.get('message') or e.get('paths')}"
    if kind == "gates":
        return "gates: " + "; ".join(f"{r['command']}: {r['summary']}" for r in e.get("results", []))
    if kind == "response":
        u = e.get("usage") or {}
        return f"model reply ({u.get('output_tokens', 0)} tokens out, {e.get('stop_reason', '')})"
    if kind == "retry":
        return f"retry {e.get('attempt')}: {e.get('error')}"
    if kind in ("budget_exceeded", "stopped"):
        return f"{kind.replace('_', ' ')}: {e.get('reason')}"
    if kind == "commit":
        return f"commit {str(e.get('commit'))[:10]}"
    if kind == "outcome":
        return f"outcome: {e.get('outcome')} {e.get('detail', '')}".rstrip()
    return None
