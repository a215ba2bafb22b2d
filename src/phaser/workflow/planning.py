"""`phaser plan`: the planning model reads the spec and the repository (read-only) and proposes a
plan; phaser validates it, sends problems back (bounded), and writes it itself, atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

from phaser import events as ev
from phaser.agent.confine.policy import resolve_backend
from phaser.agent.journal import Journal
from phaser.agent.loop import AgentSession
from phaser.agent.policy import PathPolicy, Step
from phaser.agent.tools import ToolBox
from phaser.errors import EditConflict, PlanError, UsageError
from phaser.outcomes import Action, Hint
from phaser.plan.parse import parse_plan
from phaser.plan.store import atomic_write, read_plan
from phaser.plan.validate import validate_text
from phaser.workflow import prompts
from phaser.workflow.locks import plan_run_lock
from phaser.workflow.project import Project
from phaser.workflow.providers import RunOptions, make_provider
from phaser.workflow.sessions import AgentSpec, new_session
from phaser.workflow.template_check import refuse_template
from phaser.workflow.templates import template_text

MAX_ATTEMPTS = 3
_md = MarkdownIt("commonmark")


@dataclass
class PlanResult:
    slug: str
    path: Path
    phases: int
    tasks: int
    attempts: int
    cost_usd: float


def extract_plan(reply: str) -> str:
    """The plan markdown from the model's reply: the whole reply, or its first markdown fence."""
    stripped = reply.strip()
    if stripped.startswith("---"):
        return stripped + "\n"
    for token in _md.parse(reply):
        if token.type == "fence" and token.info.strip().lower() in ("", "markdown", "md"):
            return token.content
    return stripped + "\n"


def _has_progress(text: str) -> bool:
    plan = parse_plan(text)
    return any(t.checked for p in plan.phases for t in p.tasks) or any(p.notes for p in plan.phases)


def plan_spec(
    project: Project,
    slug: str | None,
    *,
    revise: str | None = None,
    force: bool = False,
    options: RunOptions | None = None,
    on_event: ev.EventSink = ev.ignore,
) -> PlanResult:
    options = options or RunOptions()
    info = project.spec(slug)
    if not info.spec_path.is_file():
        raise UsageError(f"{project.rel(info.spec_path)} does not exist", hints=[Hint(Action.NEW_SPEC)])
    if revise is None and not force:
        refuse_template(project, info)  # no model spent on a spec nobody has written yet
    spec = info.spec_path.read_text(encoding="utf-8")
    original: str | None = None
    if info.plan_path.exists() and not info.plan_path.is_file():
        raise project.not_a_file(info)
    if info.has_plan and force and revise is None:
        try:
            original = read_plan(info.plan_path).text
        except PlanError as exc:  # unreadable (binary, not UTF-8): --force replaces it, its bytes kept aside
            kept = project.config.state_dir / "replaced" / f"{info.slug}-plan.md"
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_bytes(info.plan_path.read_bytes())
            kept_rel = project.rel(kept)
            on_event(ev.Notice(f"{exc}; replacing it (the old bytes are kept in {kept_rel})", "warning"))
    elif info.has_plan:
        original = read_plan(info.plan_path).text
        if revise is None and not force and _has_progress(original):
            raise UsageError(
                f"{project.rel(info.plan_path)} has progress (checked tasks or notes)",
                hints=[Hint(Action.REVISE, None, info.slug), Hint(Action.REPLACE_PLAN, None, info.slug)],
            )
    elif revise is not None:
        raise UsageError(
            f"{project.rel(info.plan_path)} does not exist yet: plan it first",
            hints=[Hint(Action.PLAN, None, info.slug)],
        )

    cfg = project.config
    model = options.model or cfg.models.plan
    resolve_backend(cfg.agent.sandbox)  # fail closed before any model request
    provider = make_provider(project, options, [model])
    with plan_run_lock(project, info.slug):  # never rewrite a plan under a running phase
        return _plan_locked(project, info, spec, original, revise, options, on_event, model, provider)


def _plan_locked(project, info, spec, original, revise, options, on_event, model, provider) -> PlanResult:
    cfg = project.config
    if original is not None and read_plan(info.plan_path).text != original:
        raise EditConflict(
            "the plan changed on disk while phaser waited for it; nothing was written: run again",
            path=project.rel(info.plan_path),
        )
    journal = Journal.new(cfg.state_dir, info.slug, "plan")
    policy = PathPolicy(project.root, cfg.protect.paths, [], info.plan_path)
    toolbox = ToolBox(project.root, policy, None, None, cfg.agent, on_event, journal)
    system = prompts.system_prompt(project.root)
    session = new_session(
        AgentSpec(
            project, provider, toolbox, journal, model, system, cfg.budget, on_event, options.stop_event
        )
    )
    if revise is not None:
        prompt = prompts.REVISE.format(feedback=revise, plan_path=project.rel(info.plan_path), plan=original)
    else:
        example = template_text("plan.md", project.root).replace("{title}", "Example feature")
        prompt = prompts.PLAN.format(format=example, spec_path=project.rel(info.spec_path), spec=spec)
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            session.run_step(Step.PLAN, prompt)
            text = extract_plan(_last_text(session))
            problems = _problems(text, info.plan_path)
            if revise is not None and not problems:
                problems = _lost_progress(original or "", text)
            journal.write("plan_candidate", attempt=attempt, problems=problems, chars=len(text))
            if not problems:
                break
            listed = "".join(f"\n  {problem}" for problem in problems)
            noun = "problem" if len(problems) == 1 else "problems"
            on_event(
                ev.PlanProblems(
                    f"the proposed plan has {len(problems)} {noun}; sent back to the model:{listed}",
                    "warning",
                    problems=list(problems),
                    attempt=attempt,
                )
            )
            prompt = prompts.INVALID.format(problems="\n".join(problems))
        else:
            raise PlanError(
                f"the model's plan still had problems after {MAX_ATTEMPTS} attempts; nothing was written "
                f"(first: {problems[0]}; the attempts are in {project.rel(journal.run_dir)})",
                path=project.rel(info.plan_path),
            )
        if original is not None and info.plan_path.is_file() and read_plan(info.plan_path).text != original:
            raise EditConflict(
                "the plan changed on disk while the model worked; your edits are kept and nothing was "
                "written: run again",
                path=project.rel(info.plan_path),
            )
        atomic_write(info.plan_path, text)
        plan = parse_plan(text, info.plan_path)
        journal.write("plan_written", path=str(info.plan_path), phases=len(plan.phases))
        return PlanResult(
            info.slug, info.plan_path, len(plan.phases), plan.tasks_total, attempt, session.cost_usd
        )
    finally:
        journal.close()


def _last_text(session: AgentSession) -> str:
    for message in reversed(session.messages):
        if message.get("role") == "assistant":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "".join(b.get("text", "") for b in content if b.get("type") == "text")
    return ""


def _problems(text: str, path) -> list[str]:
    try:
        problems = validate_text(text, path, kind="plan")
    except PlanError as exc:
        return [str(exc)]
    return [f"line {p.line}: {p.message}" for p in problems]


def _lost_progress(before: str, after: str) -> list[str]:
    """What a revision dropped that it must keep: checked tasks (still checked, same text), notes
    (same text), wherever the phases moved, and a phase's `approved:` line and `status: done|skipped`
    (found by its title, else its number). Prompting for it is not enough; it is checked."""
    old, new = parse_plan(before), parse_plan(after)
    checked = {t.text.strip() for p in new.phases for t in p.tasks if t.checked}
    notes = {n.strip() for p in new.phases for n in p.notes}
    problems = [
        f"checked task of phase {p.number} is missing or unchecked: {t.text.strip()!r} (keep it, checked)"
        for p in old.phases
        for t in p.tasks
        if t.checked and t.text.strip() not in checked
    ]
    problems += [
        f"note of phase {p.number} is missing: {n.strip()[:120]!r} (keep every note)"
        for p in old.phases
        for n in p.notes
        if n.strip() not in notes
    ]
    by_title = {p.title: p for p in new.phases}
    for p in old.phases:
        twin = by_title.get(p.title) or new.phase(p.number)
        for key in ("approved", "status"):  # a person's decisions; model: and blocked may change
            value = p.meta.get(key)
            if key == "status" and str(value).strip().lower() not in ("done", "skipped"):
                continue
            if value and (twin is None or twin.meta.get(key) != value):
                problems.append(
                    f"phase {p.number} ({p.title}): its '{key}: {value}' line is missing (keep it)"
                )
    return problems
