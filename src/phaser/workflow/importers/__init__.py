"""`phaser import PATH`: plans from other tools turned into phaser's plan format.

One module per source kind, each ``convert(text) -> Draft``; this module detects the kind, writes
``specs/<slug>/plan.md`` (never over an existing plan, nothing at all on bad input) and checks the
result validates before it lands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from phaser.errors import PlanError, UsageError
from phaser.plan.store import atomic_write, decode_plan_bytes
from phaser.plan.validate import validate_text
from phaser.workflow.importers import kiro, openspec, ralph, speckit, taskmaster
from phaser.workflow.importers.draft import Draft, render
from phaser.workflow.project import Project

KINDS = {
    "speckit": speckit.convert,
    "kiro": kiro.convert,
    "openspec": openspec.convert,
    "ralph": ralph.convert,
    "taskmaster": taskmaster.convert,
}
_GENERIC = {"tasks", "specs", "spec", "changes", ".kiro", ".taskmaster", "taskmaster", "docs", "plans", ""}


@dataclass
class ImportResult:
    slug: str
    path: Path
    kind: str
    phases: int
    tasks: int
    mapped: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def detect(path: Path, text: str) -> str:
    """The source kind from the file's name, folder and shape."""
    parts = {p.lower() for p in path.parts}
    if path.suffix.lower() == ".json":
        return "taskmaster"
    if path.name.upper().startswith("IMPLEMENTATION_PLAN"):
        return "ralph"
    if ".kiro" in parts:
        return "kiro"
    if "openspec" in parts:
        return "openspec"
    if re.search(r"(?im)^##[ \t]+phase[ \t]+\d", text):
        return "speckit"
    if re.search(r"(?m)^##[ \t]+\d+\.[ \t]+\S", text):
        return "openspec"
    if re.search(r"(?m)^[-*][ \t]+\[[ xX]\]\*?[ \t]+\d+\.[ \t]", text):
        return "kiro"
    raise UsageError(f"{path}: cannot tell which tool wrote it; pass --from ({', '.join(KINDS)})")


def default_slug(path: Path, draft: Draft) -> str:
    from phaser.workflow.specs import slugify

    for folder in [path.parent, *path.parent.parents][:3]:
        if folder.name.lower() not in _GENERIC:
            slug = slugify(folder.name)
            if slug:
                return slug
    return slugify(draft.title) or "imported"


def import_plan(
    project: Project, source: Path, slug: str | None = None, kind: str | None = None
) -> ImportResult:
    source = Path(source)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise PlanError("no such file", path=source) from None
    except OSError as exc:
        raise PlanError(f"cannot read: {exc.strerror or exc}", path=source) from None
    text = decode_plan_bytes(data, source)
    kind = kind or detect(source, text)
    if kind not in KINDS:
        raise UsageError(f"--from {kind!r}: use one of {', '.join(KINDS)}")
    try:
        draft = KINDS[kind](text)
    except UsageError as exc:
        raise UsageError(f"{source}: {exc}") from None
    if not draft.phases:
        raise UsageError(f"{source}: no tasks found to import as {kind}")
    slug = slug or default_slug(source, draft)
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", slug) or ".." in slug:
        raise UsageError(
            f"{slug!r} is not a folder name for specs/: use lower-case letters, digits and dashes"
        )
    folder = project.specs_dir / slug
    target = folder / "plan.md"
    if target.exists():
        raise UsageError(f"{project.rel(target)} already exists: pass --slug for a new one (nothing written)")
    plan_text = render(draft, project.rel(source.resolve()) if source.is_absolute() else str(source))
    problems = validate_text(plan_text, target)
    if problems:
        raise UsageError(f"the imported plan would not validate ({problems[0].message}); nothing written")
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(target, plan_text)
    return ImportResult(
        slug,
        target,
        kind,
        len(draft.phases),
        sum(len(p.real_tasks) for p in draft.phases),
        [*draft.mapped, "difficulty left unset (medium): set it per phase, or run phaser plan --revise"],
        draft.unmapped,
    )
