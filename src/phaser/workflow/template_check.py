"""A spec still as `phaser new` wrote it: `validate` warns, `plan` refuses to spend a model on it.

The spec's body (what follows its frontmatter and first heading) is compared with the template's,
whitespace aside; a spec a person has written anything into is never flagged.
"""

from __future__ import annotations

import re
from pathlib import Path

from phaser.errors import PhaserError, UsageError
from phaser.outcomes import Action, Hint
from phaser.plan.validate import Problem
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.templates import template_text

MESSAGE = "the spec is still the unedited template: write the goal and requirements before planning"


def _body(text: str) -> str:
    text = text.replace("\r\n", "\n")
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            text = text[end + 4 :]
    text = re.sub(r"^\s*#\s[^\n]*\n", "", text, count=1)  # the title heading
    return " ".join(text.split())


def is_unedited_template(project: Project, spec_path: Path) -> bool:
    try:
        text = spec_path.read_text(encoding="utf-8")
        template = template_text("spec.md", project.root)
    except (OSError, UnicodeDecodeError, PhaserError):
        return False
    body = _body(template)
    return bool(body) and _body(text) == body


def template_warnings(project: Project, target: Path | None = None) -> list[Problem]:
    """One warning per spec under ``target`` (default: every spec) that is the unedited template."""
    out = []
    for info in project.specs():
        path = info.spec_path
        if target is not None:
            t = target.resolve()
            if path.resolve() != t and t not in path.resolve().parents:
                continue
        if path.is_file() and is_unedited_template(project, path):
            out.append(Problem(project.rel(path), 1, MESSAGE))
    return out


def overlap_warnings(project: Project, target: Path | None = None) -> list[Problem]:
    """Phases that `phaser run --parallel` may run at once but whose tasks name the same files
    (phaser.plan.overlap), for every plan under ``target`` (default: every plan)."""
    from phaser.plan.overlap import overlap_messages
    from phaser.plan.store import read_plan

    out = []
    for info in project.specs():
        path = info.plan_path
        if target is not None:
            t = target.resolve()
            if path.resolve() != t and t not in path.resolve().parents:
                continue
        if not path.is_file():
            continue
        try:
            plan = read_plan(path)
        except (PhaserError, OSError, UnicodeDecodeError):
            continue  # validate reports it as a problem
        out += [Problem(project.rel(path), line, message) for line, message in overlap_messages(plan)]
    return out


def refuse_template(project: Project, info: SpecInfo) -> None:
    """`phaser plan` on an unedited template: one clear line, exit 2, nothing written."""
    if info.spec_path.is_file() and is_unedited_template(project, info.spec_path):
        force = Hint(Action.REPLACE_PLAN, None, info.slug)
        raise UsageError(MESSAGE, path=project.rel(info.spec_path), line=1, hints=[force])
