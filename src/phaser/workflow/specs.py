"""Creating things on disk for a person: `phaser init` and `phaser new`."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import yaml

from phaser import layout
from phaser.config import DEFAULT_TOML
from phaser.errors import UsageError
from phaser.plan.store import atomic_write
from phaser.workflow.project import Project, SpecInfo
from phaser.workflow.templates import render

GITIGNORE_LINES = [layout.GITIGNORE]


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].strip("-")


def yaml_scalar(value: str) -> str:
    """A title as a YAML scalar that survives colons, quotes and leading symbols."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.,()/'-]*", value) and not value.endswith(" "):
        try:
            if yaml.safe_load(value) == value:  # not a bool, null or number in disguise
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)


def init_project(root: Path) -> list[str]:
    """Scaffold specs/, phaser.toml and .gitignore entries; existing files are left alone."""
    created: list[str] = []
    specs = root / "specs"
    if not specs.is_dir():
        specs.mkdir(parents=True)
        created.append("specs/")
    toml_path = root / "phaser.toml"
    if not toml_path.exists():
        atomic_write(toml_path, DEFAULT_TOML)
        created.append("phaser.toml")
    gitignore = root / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8") if gitignore.is_file() else ""
    missing = [line for line in GITIGNORE_LINES if line not in existing.splitlines()]
    if missing:
        sep = "" if not existing or existing.endswith("\n") else "\n"
        atomic_write(gitignore, existing + sep + "\n".join(missing) + "\n")
        created.append(".gitignore" if not existing else ".gitignore (added " + ", ".join(missing) + ")")
    return created


def new_spec(project: Project, title: str, slug: str | None = None) -> SpecInfo:
    """specs/<slug>/spec.md from the template; refuses to overwrite an existing spec."""
    title = title.strip()
    if not title:
        raise UsageError("a spec needs a title")
    slug = slug or slugify(title)
    if not slug:
        raise UsageError(f"cannot make a folder name from {title!r}: pass --slug")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", slug) or ".." in slug:
        raise UsageError(
            f"{slug!r} is not a folder name for specs/: use lower-case letters, digits and dashes"
        )
    info = SpecInfo(slug, project.specs_dir / slug)
    if info.spec_path.exists():
        raise UsageError(f"{project.rel(info.spec_path)} already exists")
    info.dir.mkdir(parents=True, exist_ok=True)
    text = render("spec.md", project.root, title=title)
    text = text.replace(f"title: {title}\n", f"title: {yaml_scalar(title)}\n", 1)
    atomic_write(info.spec_path, text)
    return info
