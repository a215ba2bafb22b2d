"""A person's save to specs/ lands while phaser works: it survives and the agent is never blamed.

Each save is timed to land *while* a command runs, with no sleeps: the command (an agent bash
call, a gate, git's commit) blocks on a FIFO; the test's thread saves while it waits, then
releases it. Saves alternate between temp file + rename (most editors) and in-place writes.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from phaser.agent.sandbox import sandbox_available
from phaser.cli import main
from workflow_helpers import git, phase_turns, project_with_plan, read

MODES = ["none", *(["bwrap"] if sandbox_available() else [])]
SPEC = "specs/word-stats/spec.md"
PLAN = "specs/word-stats/plan.md"


class Rendezvous:
    """A pair of FIFOs: ``command`` blocks until the test's thread has run the next save."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.ready, self.release = folder / "ready", folder / "release"
        os.mkfifo(self.ready)
        os.mkfifo(self.release)
        self.done: list[str] = []
        self.errors: list[BaseException] = []

    @property
    def command(self) -> str:
        return f"echo waiting > {self.ready}; cat {self.release} > /dev/null"

    def serve(self, saves: list[tuple[str, Callable[[], None]]]) -> threading.Thread:
        def run() -> None:
            for label, save in saves:
                with open(self.ready, encoding="utf-8") as fh:  # blocks until a command waits
                    fh.read()
                try:
                    save()
                    self.done.append(label)
                except BaseException as exc:  # noqa: BLE001 - reported by the test
                    self.errors.append(exc)
                with open(self.release, "w", encoding="utf-8") as fh:  # lets the command go on
                    fh.write("go\n")

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread


def save_renamed(path: Path, text: str) -> None:
    """What most editors do: write a temp file beside it, then rename it over the original."""
    tmp = path.with_name(f".{path.name}.swp-new")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_in_place(path: Path, text: str) -> None:
    with open(path, "r+", encoding="utf-8") as fh:
        fh.seek(0)
        fh.write(text)
        fh.truncate()


def bash(command: str) -> dict:
    return {"name": "bash", "input": {"command": command}}


def git_wrapper(folder: Path, rendezvous: Rendezvous) -> Path:
    """A `git` first on PATH that waits on the rendezvous before phaser's own commit (--no-verify)."""
    folder.mkdir()
    real = shutil.which("git")
    assert real is not None
    script = folder / "git"
    script.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do\n'
        f'  if [ "$a" = "--no-verify" ]; then {rendezvous.command}; break; fi\n'
        "done\n"
        f'exec {real} "$@"\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def journal_entries(root: Path) -> list[dict]:
    entries = []
    for path in sorted((root / ".phaser").rglob("journal.jsonl")):
        entries += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return entries


def sandboxed(root: Path, mode: str) -> None:
    with open(root / "phaser.toml", "a", encoding="utf-8") as fh:
        fh.write(f'\n[agent]\nsandbox = "{mode}"\n')


@pytest.mark.parametrize("mode", MODES)
def test_saves_during_every_step_gate_and_commit_are_kept_and_never_blamed(tmp_path, api, monkeypatch, mode):
    gate = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    root = project_with_plan(tmp_path / "p")
    # the FIFOs live in the project (a sandbox gives commands a private /tmp), hidden from git
    meet = Rendezvous(root / ".rendezvous")
    with open(root / ".git" / "info" / "exclude", "a", encoding="utf-8") as fh:
        fh.write(".rendezvous/\n")
    sandboxed(root, mode)
    toml = read(root, "phaser.toml")
    (root / "phaser.toml").write_text(
        toml.replace(
            f"commands = [{json.dumps(gate)}]", f"commands = [{json.dumps(gate)}, {json.dumps(meet.command)}]"
        ),
        encoding="utf-8",
    )
    assert meet.command in read(root, "phaser.toml")
    git(root, "commit", "-qam", "a gate that waits for the person's save")
    monkeypatch.setenv("PATH", f"{git_wrapper(tmp_path / 'bin', meet)}{os.pathsep}{os.environ['PATH']}")

    # phase 1's demo turns, each step opened by an agent command that waits for a save
    demo = phase_turns(1)
    script = [
        {"tool_calls": [bash(meet.command)]},
        *demo[0:2],  # explore
        {"tool_calls": [bash(meet.command)]},
        *demo[2:4],  # code
        {"tool_calls": [bash(meet.command)]},
        *demo[4:6],  # update
    ]
    api.set_script(script)

    spec_lines: list[str] = []
    plan_lines: list[str] = []

    def both(where: str, renamed: bool) -> Callable[[], None]:
        def save() -> None:
            spec_line, plan_line = f"Person's spec line ({where}).", f"- [ ] Person's task ({where})"
            spec_text = read(root, SPEC).rstrip("\n") + f"\n\n{spec_line}\n"
            plan_text = read(root, PLAN).rstrip("\n") + f"\n{plan_line}\n"  # a task in phase 3
            (save_renamed if renamed else save_in_place)(root / SPEC, spec_text)
            (save_in_place if renamed else save_renamed)(root / PLAN, plan_text)
            spec_lines.append(spec_line)
            plan_lines.append(plan_line)

        return save

    order = ["baseline gate", "explore", "code", "gate", "update", "commit"]
    thread = meet.serve([(w, both(w, i % 2 == 0)) for i, w in enumerate(order)])

    code = main(["next", "-C", str(root), "-q", "--json"])
    thread.join(timeout=60)
    assert not meet.errors and meet.done == order
    assert code == 0

    spec, plan = read(root, SPEC), read(root, PLAN)
    assert all(line in spec for line in spec_lines), spec
    assert all(line in plan for line in plan_lines), plan
    # phaser's own edits were applied on top of the person's: the phase is ticked and stamped
    assert "- [x] Add `wordstats/core.py`" in plan and "verified" in plan
    # the commit holds the plan with every person's line; the spec stays the person's uncommitted work
    committed_plan = git(root, "show", f"HEAD:{PLAN}")
    assert all(line in committed_plan for line in plan_lines)
    assert not any(line in git(root, "show", f"HEAD:{SPEC}") for line in spec_lines)
    assert git(root, "status", "--porcelain").split() == ["M", SPEC]
    # nobody blamed the agent; nothing was put back
    entries = journal_entries(root)
    assert [e for e in entries if e["kind"] == "violation"] == []
    kept = {e["step"] for e in entries if e["kind"] == "person_save"}
    assert kept == {"explore", "code", "update"}
    assert not list((root / ".phaser").rglob("reverted"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("step", ["explore", "code", "update"])
def test_agent_command_that_writes_the_plan_is_still_reverted(tmp_path, api, step, mode):
    """The other side: a command that writes the plan is the agent's: refused by the sandbox, or
    (unconfined, where it names the plan) reverted and journaled as a violation."""
    root = project_with_plan(tmp_path / "p")
    sandboxed(root, mode)
    git(root, "commit", "-qam", f"sandbox {mode}")
    attack = bash(f"echo '- [x] Sneaky' >> {PLAN}")
    demo = phase_turns(1)
    at = {"explore": 0, "code": 2, "update": 4}[step]
    demo[at] = {"tool_calls": [attack, *demo[at].get("tool_calls", [])]}
    api.set_script(demo)
    main(["next", "-C", str(root), "-q", "--json"])
    assert "Sneaky" not in read(root, PLAN)
    entries = journal_entries(root)
    if mode == "none":
        assert any(e["kind"] == "violation" and PLAN in e["paths"] for e in entries)
    else:
        bash_calls = [e for e in entries if e["kind"] == "tool" and "Sneaky" in json.dumps(e["input"])]
        assert bash_calls and not bash_calls[0]["ok"] and "Read-only" in bash_calls[0]["result"]
    assert not [e for e in entries if e["kind"] == "person_save"]
