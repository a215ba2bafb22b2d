"""`phaser validate`: the config and every spec and plan, each problem as `file:line: message`."""

from __future__ import annotations

from pathlib import Path

from phaser.config import load_config
from phaser.errors import ConfigError, PlanError
from phaser.outcomes import Action, Hint
from phaser.plan import cache
from phaser.plan.model import Plan
from phaser.plan.store import decode_plan_bytes, read_plan
from phaser.plan.validate import Problem, check_parsed, validate_path, validate_text
from phaser.workflow.project import Project, SpecInfo


def spec_problems(project: Project, info: SpecInfo) -> list[Problem]:
    """What validate says about the spec (broken YAML, say): a phase runs with the spec as its
    context, so next, run, tick, note and approve refuse it too, and status shows it."""
    if not info.spec_path.is_file():
        return []
    try:
        head = info.spec_path.read_bytes()
    except OSError:  # validate words it ("cannot read: ...")
        return [Problem(project.rel(Path(p.path)), p.line, p.message) for p in validate_path(info.spec_path)]
    if b"\0" not in head and not head.removeprefix(b"\xef\xbb\xbf").startswith(b"-"):
        try:
            head.decode("utf-8")
            return []  # no frontmatter, so nothing a parse could find: status stays parse-free
        except UnicodeDecodeError:
            pass
    rel = project.rel(info.spec_path)
    try:
        text = decode_plan_bytes(head, info.spec_path)
    except PlanError as exc:
        return [Problem(rel, exc.line or 1, exc.msg)]
    folder = cache.cache_dir_for(info.spec_path)
    found = cache.load_checks(info.spec_path, head, folder)  # unchanged bytes: no YAML, no markdown-it
    if found is None:
        found = [(p.line, p.message) for p in validate_text(text, info.spec_path, "spec")]
        cache.store_checks(info.spec_path, head, found, folder)
    return [Problem(rel, line, message) for line, message in found]


def checked_plan(project: Project, info: SpecInfo) -> Plan:
    """The plan, refused (one `file:line: message`, exit 2) unless it and its spec pass `phaser
    validate`: no agent starts, and no tick, note or approval is written, on a plan that
    `validate` rejects (numbering, cycles, broken YAML in the spec or the plan)."""
    problems = spec_problems(project, info)
    rel = project.rel(info.plan_path)
    if not info.plan_path.is_file() and info.plan_path.exists():
        raise project.not_a_file(info)
    plan = read_plan(info.plan_path)  # broken frontmatter raises here, with its line
    problems += check_parsed(plan, rel)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        first = problems[0]
        hints = [Hint(Action.VALIDATE, None, info.slug)] if more else []
        raise PlanError(first.message + more, path=first.path, line=first.line, hints=hints)
    return plan


def validate(project: Project, path: Path | None = None) -> list[Problem]:
    problems: list[Problem] = []
    if path is None or path.resolve() == project.root.resolve():
        try:
            load_config(project.root)
        except ConfigError as exc:
            problems.append(Problem(exc.path or "phaser.toml", exc.line or 1, exc.msg))
        target = project.specs_dir
        if not target.exists():
            return problems
    else:
        target = path
        if not target.exists():
            return [Problem(project.rel(path), 1, "no such file or folder")]
        if target.name in ("phaser.toml", "pyproject.toml"):
            try:
                load_config(target.parent)
            except ConfigError as exc:
                problems.append(Problem(exc.path or str(target), exc.line or 1, exc.msg))
            return problems
    problems.extend(validate_path(target))
    return [Problem(_rel(project, p.path), p.line, p.message) for p in problems]


def _rel(project: Project, path: str) -> str:
    return project.rel(Path(path)) if Path(path).is_absolute() else path
