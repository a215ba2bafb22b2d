"""Shell completion through argcomplete (when installed): commands and options come from the
argparse tree; SLUG completes to the specs under specs/, task refs (``phaser tick``) to the plan's
``P.T``. Enable it once per shell: ``eval "$(register-python-argcomplete phaser)"``."""

from __future__ import annotations

import argparse
import os
from typing import Any


def _specs(parsed: argparse.Namespace) -> list[str]:
    from phaser.workflow.project import Project

    try:
        project = Project.open(getattr(parsed, "root", None) and os.path.abspath(parsed.root))
    except Exception:  # noqa: BLE001 - completion never fails loudly
        return []
    return [s.slug for s in project.specs()]


def slugs(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    return [s for s in _specs(parsed_args) if s.startswith(prefix)]


def slugs_and_refs(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """For ``[SLUG] REF``: the slugs, then the task refs of the plan already named (or the only one)."""
    from phaser.plan.store import read_plan
    from phaser.workflow.project import Project

    given = list(getattr(parsed_args, "args", None) or [])
    out = [] if given else slugs(prefix, parsed_args)
    try:
        project = Project.open(getattr(parsed_args, "root", None) and os.path.abspath(parsed_args.root))
        info = project.plan_spec(given[0] if given else None)
        plan = read_plan(info.plan_path)
    except Exception:  # noqa: BLE001
        return out
    out += [t.ref for p in plan.phases for t in p.tasks if t.ref.startswith(prefix)]
    return out


def autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer a completion request and exit, when the shell asks for one (_ARGCOMPLETE set)."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    try:
        import argcomplete
    except ImportError:  # completion is optional: without the library, nothing to answer
        return
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sp in sub.choices.items():
        for action in sp._actions:
            if action.dest == "slug" and name != "new":  # new's --slug names a folder yet to exist
                action.completer = slugs
            elif action.dest == "args":
                action.completer = slugs_and_refs
    argcomplete.autocomplete(parser)
