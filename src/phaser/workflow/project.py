"""A project on disk: its root, settings and spec folders. Every shell starts here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from phaser.config import Config, find_root, load_config
from phaser.errors import PlanError, UsageError
from phaser.outcomes import Action, Hint


@dataclass(frozen=True)
class SpecInfo:
    slug: str
    dir: Path

    @property
    def spec_path(self) -> Path:
        return self.dir / "spec.md"

    @property
    def plan_path(self) -> Path:
        return self.dir / "plan.md"

    @property
    def has_plan(self) -> bool:
        return self.plan_path.is_file()


class Project:
    """The root folder plus its loaded Config."""

    def __init__(self, config: Config) -> None:
        self.config = config

    @property
    def root(self) -> Path:
        return self.config.root

    @classmethod
    def open(cls, start: Path | None = None) -> Project:
        return cls(load_config(find_root(start)))

    @property
    def specs_dir(self) -> Path:
        return self.config.specs_dir

    def specs(self) -> list[SpecInfo]:
        """Every specs/<slug>/ folder holding a spec.md or a plan.md, sorted by slug."""
        if not self.specs_dir.is_dir():
            return []
        found = []
        for child in sorted(self.specs_dir.iterdir()):
            if child.is_dir() and ((child / "spec.md").is_file() or (child / "plan.md").is_file()):
                found.append(SpecInfo(child.name, child))
        return found

    def spec(self, slug: str | None = None) -> SpecInfo:
        """The spec named ``slug``; with no slug, the project's only spec (an error naming them, and those
        with no plan yet, if there are several). ``phaser plan`` uses this rule."""
        specs = self.specs()
        if slug is None:
            if len(specs) == 1:
                return specs[0]
            if not specs:
                where = self.rel(self.specs_dir)
                raise UsageError(f"no specs in {where}/ yet", hints=[Hint(Action.NEW_SPEC)])
            names = ", ".join(s.slug for s in specs)
            unplanned = [s.slug for s in specs if not s.has_plan]
            note = f" (no plan yet: {', '.join(unplanned)})" if unplanned else ""
            raise UsageError(f"this project has several specs ({names}): name one{note}")
        if "/" in slug or slug.endswith(".md"):
            return self._spec_at(Path(slug))
        for s in specs:
            if s.slug == slug:
                return s
        names = ", ".join(s.slug for s in specs) or "none"
        raise UsageError(f"no spec named {slug!r} in {self.rel(self.specs_dir)}/ (have: {names})")

    def _spec_at(self, given: Path) -> SpecInfo:
        """A spec named by a path: relative to the current folder, else to the project root."""
        candidate = given if given.is_absolute() or given.exists() else self.root / given
        if not candidate.exists():
            raise UsageError(f"{given}: no such file or folder")
        folder = (candidate.parent if candidate.is_file() else candidate).resolve()
        return SpecInfo(folder.name, folder)

    def resolve(self, given: Path) -> Path:
        """A path argument: relative to the current folder when it exists there, else to the root (-C)."""
        return given if given.is_absolute() or given.exists() else self.root / given

    def not_a_file(self, info: SpecInfo) -> PlanError:
        """The error for a plan path that is a folder (or another non-file): nothing is read."""
        return PlanError(
            "is not a file (a folder?): move it away, then plan it again",
            path=self.rel(info.plan_path),
            hints=[Hint(Action.PLAN, None, info.slug)],
        )

    def plan_spec(self, slug: str | None = None, *, need_plan: bool = True) -> SpecInfo:
        """The spec a command about an existing plan works on (next, run, redo, approve, tick, note,
        log). With no slug: the only spec that has a plan; with several plans an error naming
        them; with none, spec()'s rule. ``need_plan=False`` (log) accepts a spec with no plan."""
        if slug is None:
            planned = [s for s in self.specs() if s.has_plan]
            if len(planned) == 1:
                return planned[0]
            if planned:
                names = ", ".join(s.slug for s in planned)
                raise UsageError(f"this project has several plans ({names}): name one")
        info = self.spec(slug)
        if info.plan_path.exists() and not info.plan_path.is_file():
            raise self.not_a_file(info)
        if need_plan and not info.has_plan:
            raise UsageError(
                f"{self.rel(info.plan_path)} does not exist yet", hints=[Hint(Action.PLAN, None, info.slug)]
            )
        return info

    def rel(self, path: Path) -> str:
        """A path as a person wants to read it: relative to the root where possible."""
        try:
            return str(Path(path).resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)
