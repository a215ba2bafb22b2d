"""Templates for new specs and plans: the project's own templates/ folder wins over phaser's."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from phaser.errors import UsageError


def template_text(name: str, root: Path | None = None) -> str:
    if root is not None:
        own = root / "templates" / name
        if own.is_file():
            return own.read_text(encoding="utf-8")
    packaged = resources.files("phaser").joinpath("_templates", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_tree = Path(__file__).resolve().parents[3] / "templates" / name  # editable installs
    if source_tree.is_file():
        return source_tree.read_text(encoding="utf-8")
    raise UsageError(f"template {name!r} not found")


def render(name: str, root: Path | None = None, **values: str) -> str:
    text = template_text(name, root)
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text
