"""One handler per command: resolve the project, call the workflow, render the result.

Each handler imports what it needs when it runs (the parser names handlers without importing this
module's dependencies): ``phaser status`` loads the project, the status and the plain renderer, and
nothing of what a run, the TUI or a model client needs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from phaser.errors import PhaserError, UsageError

if TYPE_CHECKING:
    from phaser.workflow.project import Project


def _project(args: argparse.Namespace) -> Project:
    from phaser.workflow.project import Project

    root = getattr(args, "root", None)
    if root is not None and not Path(root).is_dir():
        raise UsageError(f"{root}: no such folder")
    return Project.open(Path(root) if root else None)


def _emit(data: dict) -> None:
    """The one JSON object a command prints with --json (docs/json.md)."""
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _split(args: list[str], wanted: int, usage: str) -> tuple[str | None, list[str]]:
    """Optional leading SLUG before ``wanted`` positional values."""
    if len(args) == wanted:
        return None, args
    if len(args) == wanted + 1:
        return args[0], args[1:]
    raise UsageError(f"usage: {usage}")


def cmd_init(args: argparse.Namespace) -> int:
    from phaser.workflow.specs import init_project

    root = Path(getattr(args, "root", None) or Path.cwd())
    created = init_project(root)
    if getattr(args, "json", False):
        _emit({"root": str(root.resolve()), "created": created})
        return 0
    if created:
        for item in created:
            print(f"created {item}")
    else:
        print("nothing to do: specs/, phaser.toml and .gitignore entries already exist")
    print('next: phaser new "Title of a feature"')
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from phaser.workflow.specs import new_spec

    project = _project(args)
    info = new_spec(project, args.title, args.slug)
    if args.edit:
        open_in_editor(info.spec_path)
    if args.json:
        _emit({"slug": info.slug, "spec": project.rel(info.spec_path)})
        return 0
    print(f"created {project.rel(info.spec_path)}")
    print(f"next: edit it, then: phaser plan {info.slug}")
    return 0


def open_in_editor(path: Path) -> None:
    import subprocess

    from phaser.workflow.editor import editor_command

    subprocess.call(editor_command(path))


def cmd_status(args: argparse.Namespace) -> int:
    import gc

    collecting = gc.isenabled()
    gc.disable()  # short and bounded: its imports and records make no garbage worth a collection
    try:
        return _status(args)
    finally:
        if collecting:
            gc.enable()


def _status(args: argparse.Namespace) -> int:
    from phaser.cli.status_view import StatusView, print_status, say
    from phaser.workflow.status_live import prune
    from phaser.workflow.status_report import report

    root = getattr(args, "root", None)
    if root is not None and not Path(root).is_dir():
        raise UsageError(f"{root}: no such folder")
    statuses = report(Path(root) if root else None, args.slug)
    if args.json:
        plans = [prune(s) for s in statuses]
        print(json.dumps({"plans": plans}, indent=2, ensure_ascii=False))
    else:
        print_status([StatusView(s) for s in statuses])
    errors = [s for s in statuses if s["error"] and s["state"] != "no-plan"]
    if not args.json:
        for st in errors:
            print(f"phaser: {say(st['error'] or '', st['hints'])}", file=sys.stderr)
    return 2 if errors else 0


def cmd_import(args: argparse.Namespace) -> int:
    from phaser.workflow.importers import import_plan

    project = _project(args)
    result = import_plan(project, project.resolve(Path(args.path)), args.slug, args.kind)
    if args.json:
        _emit(
            {
                "kind": result.kind,
                "plan": project.rel(result.path),
                "phases": result.phases,
                "tasks": result.tasks,
                "mapped": result.mapped,
                "not_mapped": result.unmapped,
            }
        )
        return 0
    for line in result.mapped:
        print(f"  mapped: {line}")
    for line in result.unmapped:
        print(f"  not mapped: {line}")
    print(
        f"imported {result.kind} plan: {result.phases} phases, {result.tasks} tasks -> "
        f"{project.rel(result.path)}"
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    import dataclasses

    from phaser.config import Config, find_root
    from phaser.errors import ConfigError
    from phaser.workflow.checks import validate
    from phaser.workflow.project import Project

    try:
        project = _project(args)
    except ConfigError:  # report it with everything else instead of stopping at it
        root = getattr(args, "root", None)
        project = Project(Config(root=find_root(Path(root) if root else None)))
    from phaser.workflow.template_check import overlap_warnings, template_warnings

    target = project.resolve(Path(args.path)) if args.path else None
    problems = validate(project, target)
    warnings = template_warnings(project, target) + overlap_warnings(project, target)
    if args.json:
        _emit(
            {
                "ok": not problems,
                "problems": [dataclasses.asdict(p) for p in problems],
                "warnings": [dataclasses.asdict(w) for w in warnings],
                "exit_code": 2 if problems else 0,
            }
        )
        return 2 if problems else 0
    for problem in problems:
        print(problem)
    for warning in warnings:  # on stderr: stdout stays the problems and "ok" a script reads
        print(f"{warning.path}:{warning.line}: warning: {warning.message}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
        return 2
    print("ok")
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    import re

    from phaser.workflow.edits import tick

    project = _project(args)
    first = args.args[0]
    slug, refs = (first, args.args[1:]) if not re.fullmatch(r"[\d.#]+", first) else (None, args.args)
    if not refs:
        raise UsageError("usage: phaser tick [SLUG] REF [REF ...] [--undo]")
    tasks = [tick(project, slug, ref, checked=not args.undo) for ref in refs]
    if args.json:
        rows = [{"ref": t.ref, "text": t.text, "checked": t.checked} for t in tasks]
        _emit(rows[0] if len(rows) == 1 else {"tasks": rows})
        return 0
    for task in tasks:
        print(f"[{'x' if task.checked else ' '}] {task.ref} {task.text}")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    from phaser.workflow.edits import note

    project = _project(args)
    slug, (phase, text) = _split(args.args, 2, 'phaser note [SLUG] PHASE "text"')
    from phaser.plan.refs import jsonable, phase_arg

    number = phase_arg(phase)
    note(project, slug, number, text)
    if args.json:
        _emit({"phase": jsonable(number), "note": " ".join(text.split())})
        return 0
    print(f"noted in phase {phase}")
    return 0


def _overrides(args: argparse.Namespace):
    from phaser.workflow.providers import RunOptions

    provider = getattr(args, "provider", None)
    script = getattr(args, "script", None)
    if script is not None:
        if provider not in (None, "scripted"):
            raise UsageError(f"--script is for the scripted provider, not --provider {provider}")
        provider = "scripted"  # --script FILE alone means the scripted provider
    model = getattr(args, "model", None)
    if model is not None and not model.strip():
        raise UsageError(
            "--model needs a model id (e.g. claude-sonnet-5-5); leave it out to route by difficulty"
        )
    return RunOptions(
        model=model,
        profile=getattr(args, "profile", None),
        provider=provider,
        script=script,
        allow_dirty=getattr(args, "allow_dirty", False),
        parallel=getattr(args, "parallel", None),
    )


def _printer(args: argparse.Namespace):
    from phaser.cli.render import EventPrinter

    quiet = getattr(args, "quiet", False)
    return EventPrinter(stream=sys.stderr if getattr(args, "json", False) else sys.stdout, quiet=quiet)


def cmd_plan(args: argparse.Namespace) -> int:
    from phaser.workflow.planning import plan_spec

    project = _project(args)
    options = _overrides(args)
    printer = _printer(args)
    result = plan_spec(
        project, args.slug, revise=args.revise, force=args.force, options=options, on_event=printer
    )
    printer.close()
    if args.json:
        _emit(
            {
                "slug": result.slug,
                "plan": project.rel(result.path),
                "phases": result.phases,
                "tasks": result.tasks,
            }
        )
        return 0
    print(f"wrote {project.rel(result.path)}: {result.phases} phases, {result.tasks} tasks")
    print(f"next: review it, then: phaser next {result.slug}")
    return 0


def _report(args: argparse.Namespace, work, render) -> int:
    """Run ``work(on_event)`` with progress on the terminal, then print its result as text or JSON."""
    from phaser.plan.refs import jsonable

    printer = _printer(args)
    try:
        result = work(printer)
    finally:
        printer.close()
    if args.json:
        print(json.dumps(jsonable(result.as_dict()), indent=2))
    else:
        render(result, shown=printer.finished)  # what the live output showed is not repeated
    return result.exit_code


def cmd_next(args: argparse.Namespace) -> int:
    from phaser.cli.render import print_dry_run, print_outcome
    from phaser.plan.refs import jsonable
    from phaser.workflow.runner import dry_run, run_next

    project = _project(args)
    options = _overrides(args)
    if args.dry_run:
        info = dry_run(project, args.slug, phase=args.phase, options=options)
        if args.json:
            print(json.dumps(jsonable(info), indent=2))
        else:
            print_dry_run(info)
        return info["exit_code"]
    return _report(
        args,
        lambda sink: run_next(project, args.slug, phase=args.phase, options=options, on_event=sink),
        print_outcome,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from phaser.cli.lanes import LaneMarks
    from phaser.cli.render import print_run
    from phaser.workflow.runner import run_all

    project = _project(args)
    options = _overrides(args)
    return _report(
        args,
        lambda sink: run_all(
            project, args.slug, approve=args.approve, options=options, on_event=LaneMarks(sink)
        ),
        print_run,
    )


def cmd_approve(args: argparse.Namespace) -> int:
    from phaser.workflow.approval import approve, reject

    project = _project(args)
    if args.reject is not None:
        if args.phase is None:
            raise UsageError("--reject needs --phase N")
        reject(project, args.slug, args.phase, args.reject)
        if args.json:
            _emit({"approved": [], "reopened": args.phase})
            return 0
        print(f"phase {args.phase} reopened with your feedback")
        return 0
    approved = approve(project, args.slug, args.phase)
    if args.json:
        _emit({"approved": list(approved), "reopened": None})
        return 0
    if approved:
        print("approved phase " + ", ".join(str(n) for n in approved))
    else:
        print("nothing to approve: no done phase is waiting")
    return 0


def cmd_redo(args: argparse.Namespace) -> int:
    from phaser.cli.render import print_outcome
    from phaser.workflow.redo import redo

    project = _project(args)
    slug, (number,) = _split(args.args, 1, "phaser redo [SLUG] N [--model ID]")
    from phaser.plan.refs import phase_arg

    phase_no = phase_arg(number)
    options = _overrides(args)
    return _report(
        args,
        lambda sink: redo(project, slug, phase_no, force=args.force, options=options, on_event=sink),
        print_outcome,
    )


def cmd_doctor(args: argparse.Namespace) -> int:
    """Which confinement is in force here and why; exit 1 when phaser would refuse to run."""
    from phaser.agent.confine.policy import probes, resolve_backend

    project = _project(args)
    setting = project.config.agent.sandbox
    found = probes()
    try:
        choice = resolve_backend(setting)
        backend, reason, code = choice.backend, choice.reason, 0
    except PhaserError as exc:
        backend, reason, code = None, str(exc), 1
    if args.json:
        data = {
            "sandbox": setting,
            "backend": backend,
            "reason": reason,
            "probes": [{"backend": p.backend, "works": p.works, "detail": p.detail} for p in found],
            "network": {"agent": project.config.agent.network, "gates": project.config.gates.network},
        }
        print(json.dumps(data, indent=2))
        return code
    for p in found:
        print(f"  {'ok ' if p.works else 'no '} {p.backend:9} {p.detail}")
    net = project.config
    print(
        f"network: agent {'on' if net.agent.network else 'off'}, gates {'on' if net.gates.network else 'off'}"
    )
    if backend is None:
        print(f"confinement: NONE WORKS, phaser refuses to run phases: {reason}")
    elif backend == "none":
        print(f"confinement: none (UNCONFINED): {reason}")
    else:
        print(f"confinement: {backend} (sandbox = {setting!r}): {reason}")
    return code


def cmd_cost(args: argparse.Namespace) -> int:
    from phaser.cli.render import print_cost
    from phaser.workflow.cost import cost_report

    project = _project(args)
    report = cost_report(project, args.slug)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print_cost(report)
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    from phaser.cli.render import fit_lines
    from phaser.workflow.cost import log_lines, log_runs

    project = _project(args)
    if args.json:
        _emit({"runs": log_runs(project, args.slug, phase=args.phase)})
        return 0
    for line in fit_lines(log_lines(project, args.slug, phase=args.phase), full=args.full):
        print(line)
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from phaser.workflow.providers import tier_routes
    from phaser.workflow.settings import effective_config

    project = _project(args)
    settings = effective_config(project, _overrides(args))
    routes = tier_routes(project)
    if args.json:
        _emit(
            {
                "source": project.rel(project.config.source) if project.config.source else None,
                "settings": [s.as_dict() for s in settings],
                "tiers": [{k: v for k, v in asdict(r).items() if k != "allowance"} for r in routes],
            }
        )
        return 0
    width = max(len(s.key) for s in settings)
    for s in settings:
        value = (
            json.dumps(s.value, ensure_ascii=False) if not isinstance(s.value, str) else json.dumps(s.value)
        )
        print(f"{s.key:<{width}}  {value}  ({s.source})")
    print("\ntiers:")
    for r in routes:
        price = "priced" if r.priced else "no price configured"
        print(f"  {r.tier:<6}  {r.ref}  ({r.kind} at {r.base_url}; {price})")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from phaser.cli.render import print_evidence
    from phaser.workflow.evidence import phase_evidence

    project = _project(args)
    slug, (number,) = _split(args.args, 1, "phaser show [SLUG] N [--json]")
    from phaser.plan.refs import jsonable, phase_arg

    evidence = phase_evidence(project, slug, phase_arg(number))
    if args.json:
        print(json.dumps(jsonable(evidence.as_dict()), indent=2, ensure_ascii=False))
    else:
        print_evidence(evidence)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from phaser.cli.demo import run_demo

    return run_demo(Path(args.dir) if args.dir else None, live=args.live, quiet=args.quiet)


def cmd_tui(args: argparse.Namespace) -> int:
    try:
        from phaser.tui.app import run_app
    except ImportError as exc:  # pragma: no cover - textual is a dependency
        raise PhaserError(f"the TUI needs textual: {exc}") from None
    return run_app(_project(args))
