"""Building blocks for the parallel-run tests and benchmark: a small git project whose plan has
independent phases, and a fake-API script that answers each phase from its own turn list."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workflow_helpers import GATE_PYTEST_INI, gate_pytest_ini, git

SLUG = "par"
SPEC = """\
---
title: Par
---

# Par

## Goal
Small independent modules, each with its own test.
"""
BASE_TEST = "def test_base():\n    assert 1 + 1 == 2\n"


def plan_text(phases: list[tuple[str, str]], depends: dict[int, str] | None = None) -> str:
    """A plan of ``(title, task)`` phases; ``depends`` maps a phase number to its depends: line."""
    out = ["---", "title: Par", "spec: spec.md", "format: 1", "---", "", "# Par", ""]
    for i, (title, task) in enumerate(phases, 1):
        out += [f"## Phase {i}: {title}", "difficulty: easy"]
        if depends and i in depends:
            out.append(f"depends: {depends[i]}")
        out += ["", f"- [ ] {task}", ""]
    return "\n".join(out)


def make_project(root: Path, plan: str, *, fix_attempts: int = 0, extra_toml: str = "") -> Path:
    """A git project with a passing test, a pytest gate and ``plan`` committed."""
    from phaser.workflow.specs import init_project

    root.mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "test_base.py").write_text(BASE_TEST, encoding="utf-8")
    (root / "specs" / SLUG).mkdir(parents=True, exist_ok=True)
    (root / "specs" / SLUG / "spec.md").write_text(SPEC, encoding="utf-8")
    (root / "specs" / SLUG / "plan.md").write_text(plan, encoding="utf-8")
    init_project(root)
    gate = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    (root / "phaser.toml").write_text(
        f"[gates]\ncommands = [{json.dumps(gate)}]\nfix_attempts = {fix_attempts}\n\n"
        f"[models]\nescalate = false\n\n[agent]\nstep_turns = 400\n\n[budget]\nphase_turns = 1000\n"
        f"{extra_toml}",
        encoding="utf-8",
    )
    (root / GATE_PYTEST_INI).write_text(gate_pytest_ini(), encoding="utf-8")  # no plugin per gate run
    gitignore = root / ".gitignore"
    gitignore.write_text(gitignore.read_text(encoding="utf-8") + "__pycache__/\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, capture_output=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    return root


def create(path: str, text: str) -> dict:
    return {
        "name": "str_replace_based_edit_tool",
        "input": {"command": "create", "path": path, "file_text": text},
    }


def run_in_background(root: Path, api_url: str, *argv: str) -> subprocess.Popen:
    """`phaser run` as a person starts it in a terminal: its own process (group), on the fake API."""
    env = {**os.environ, "ANTHROPIC_BASE_URL": api_url, "ANTHROPIC_API_KEY": "sk-test-secret-key-123456"}
    log = open(root.parent / "run.log", "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        [sys.executable, "-m", "phaser", "run", "-C", str(root), "-q", *argv],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 300.0) -> None:
    """Poll a condition (never a fixed sleep): the run under test reaches it or the test fails."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def killed_when(
    root: Path,
    api_url: str,
    condition: Callable[[], bool],
    what: str,
    *argv: str,
    release: Path | None = None,
) -> None:
    """`phaser run` started in the background, SIGKILLed (its whole process group) once ``condition``
    holds; then ``release`` (a file a held gate or hook waits on) is removed, so nothing it left
    behind keeps waiting."""
    import signal

    proc = run_in_background(root, api_url, *argv)
    try:
        wait_for(condition, what)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        if release is not None:
            release.unlink()


HANG_IN_MAIN_CHECKOUT = """\
import pathlib
import time


def test_hangs_in_the_main_checkout_while_told_to():
    here = pathlib.Path(__file__).resolve().parents[1]
    if (here / ".git").is_dir() and (here / "hang-now").exists():  # the merge's gates, not the worktree's
        (here / "gate-running").write_text("x")
        while (here / "hang-now").exists():
            time.sleep(0.1)
"""
"""A test file for a phase to write: run by the gates on the merged tree while ``hang-now`` exists
(after writing ``gate-running``), so a test can kill the run mid-merge at a known point."""


def bash(command: str) -> dict:
    return {"name": "bash", "input": {"command": command}}


def finish(summary: str = "done") -> dict:
    return {"name": "finish_step", "input": {"summary": summary}}


def claim(ref: str) -> dict:
    return {"name": "claim_task", "input": {"ref": ref, "evidence": "gates green"}}


def module_calls(number: int, name: str, body: str = "VALUE = 1\n") -> list[dict]:
    """Write ``name.py`` and a test of it."""
    test = f"from {name} import VALUE\n\n\ndef test_{name}():\n    assert VALUE is not None\n"
    return [create(f"{name}.py", body), create(f"tests/test_{name}.py", test)]


def split_turns(number: int, calls: list[dict]) -> list[dict]:
    """Explore; a code step in two turns (``calls``, then the claim); update. Held at turn 2, a
    phase has changed files in its worktree and is still in its code step."""
    return [
        {"tool_calls": [finish("explored")]},
        {"tool_calls": calls},
        {"tool_calls": [claim(f"{number}.1"), finish("coded")]},
        {"tool_calls": [finish("updated")]},
    ]


def phase_turns(number: int, calls: list[dict], *, tasks: int = 1) -> list[dict]:
    """Explore, code (``calls``, then claims of every task), update."""
    claims = [claim(f"{number}.{i}") for i in range(1, tasks + 1)]
    return [
        {"tool_calls": [finish("explored")]},
        {"tool_calls": [*calls, *claims, finish("coded")]},
        {"tool_calls": [finish("updated")]},
    ]


_PHASE = re.compile(r"You are working on phase (\d+(?:\.\d+)?) only")


def phase_of(body: dict[str, Any]) -> str | None:
    """The phase a fake-API request is for (from its brief), or None."""
    messages = body.get("messages") or []
    if not messages:
        return None
    content = messages[0].get("content")
    text = content if isinstance(content, str) else " ".join(b.get("text", "") for b in content or [])
    m = _PHASE.search(text)
    return m.group(1) if m else None


class PhaseScript:
    """A callable fake-API script: each phase gets its own turns, in order, whatever the order in
    which phases running at once make their requests.

    ``meet`` pairs phases that must prove they ran at the same time: a phase of a pair in its code
    step answers with a cheap waiting command until its partner has begun (been served its first
    turn), then records that it met it and goes on. Run one after the other, the first would wait
    until its step's turn cap: a phase is in ``met`` only if its partner ran while it did.
    """

    def __init__(self, turns: dict[int, list[dict]], meet: list[tuple[int, int]] = ()) -> None:
        self.turns = {str(k): list(v) for k, v in turns.items()}
        self.pos: dict[str, int] = {}
        self.partner = {str(a): str(b) for a, b in meet} | {str(b): str(a) for a, b in meet}
        self.met: set[str] = set()
        self.lock = threading.Lock()
        self.hold = threading.Event()
        """Set: phases that met keep waiting before their turn ``hold_at``, so both stay running."""
        self.hold_at = 1
        self.holding: set[str] = set()
        """Phases that have asked for turn ``hold_at`` (their earlier tool calls are done) and wait."""
        self.hook: Callable[[str, int], dict | None] | None = None
        """Called with (phase, turn index) before a turn is served; a dict returned replaces it."""

    def __call__(self, body: dict[str, Any]) -> dict:
        phase = phase_of(body) or "?"
        with self.lock:
            n = self.pos.get(phase, 0)
            other = self.partner.get(phase)
            if n == 1 and other is not None:
                if self.pos.get(other, 0) < 1:  # the partner has not started: wait for it
                    return {"tool_calls": [bash("sleep 0.1")]}
                self.met.add(phase)  # we are in our code step and the partner is running
            if self.hold.is_set() and phase in self.met and n == self.hold_at:
                self.holding.add(phase)
                return {"tool_calls": [bash("sleep 0.1")]}  # keep running: the test stops or kills it
            self.pos[phase] = n + 1
        if self.hook is not None:
            replaced = self.hook(phase, n)
            if replaced is not None:
                return replaced
        mine = self.turns.get(phase, [])
        if n < len(mine):
            return mine[n]
        return {"text": "(no more turns for this phase)", "stop_reason": "end_turn"}
