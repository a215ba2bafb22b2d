"""Building blocks for the workflow tests: a small real project and scripted agent turns."""

from __future__ import annotations

import subprocess
from pathlib import Path

from phaser.workflow import demo


def edit(command: str, path: str, **kw) -> dict:
    return {"name": "str_replace_based_edit_tool", "input": {"command": command, "path": path, **kw}}


def finish(summary: str = "done") -> dict:
    return {"name": "finish_step", "input": {"summary": summary}}


def claims(phase: int, n: int) -> list[dict]:
    return [
        {"name": "claim_task", "input": {"ref": f"{phase}.{i}", "evidence": "gates green"}}
        for i in range(1, n + 1)
    ]


def project_with_plan(root: Path, plan: str = demo.PLAN, toml_extra: str = "") -> Path:
    """The demo project (git, failing test, pytest gate) with its plan already written and committed."""
    demo.make_demo_project(root)
    (root / "specs" / "word-stats" / "plan.md").write_text(plan, encoding="utf-8")
    if toml_extra:
        with open(root / "phaser.toml", "a", encoding="utf-8") as fh:
            fh.write(toml_extra)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "plan")
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def phase_turns(phase: int) -> list[dict]:
    """The demo's scripted turns for one phase (explore, code, [fix], update)."""
    script = demo.demo_script()[3:]
    bounds = {1: (0, 6), 2: (6, 15), 3: (15, 21)}
    start, end = bounds[phase]
    return script[start:end]


def read(root: Path, rel: str) -> str:
    return (root / rel).read_text(encoding="utf-8")


def tree_bytes(root: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        ignored = "__pycache__" in rel or (p.name.startswith(".") and p.name.endswith(".lock"))  # gitignored
        if p.is_file() and not rel.startswith((".git/", ".phaser/")) and not ignored:
            out[rel] = p.read_bytes()
    return out


TRIVIAL_TESTS = """\
def test_one():
    assert True


def test_two():
    assert True


def test_three():
    assert True
"""


def coding_turns(phase: int, tasks: int, *calls: dict) -> list[dict]:
    """A phase's explore and code steps: the code step makes ``calls`` and claims all ``tasks``."""
    return [
        {"tool_calls": [finish("explored")]},
        {"tool_calls": [*calls, *claims(phase, tasks), finish("coded")]},
    ]


def no_fix_attempts(root: Path) -> None:
    """A red gate blocks the phase at once (committed, so the tree stays clean)."""
    toml = (root / "phaser.toml").read_text(encoding="utf-8")
    (root / "phaser.toml").write_text(toml.replace("fix_attempts = 2", "fix_attempts = 0"), encoding="utf-8")
    git(root, "commit", "-qam", "no fixes")
