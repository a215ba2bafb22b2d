"""`phaser validate`: the config and every spec and plan, each problem as `file:line: message`."""

from __future__ import annotations

from pathlib import Path

from phaser.config import load_config
from phaser.errors import ConfigError
from phaser.plan.validate import Problem, validate_path
from phaser.workflow.project import Project


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
