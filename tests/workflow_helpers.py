"""Building blocks for the workflow tests: a small real project and scripted agent turns."""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from importlib.metadata import entry_points
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
    """The demo project (git, failing test, pytest gate) with its plan already written and committed.

    Built once per process for each (plan, toml_extra) and copied: the same files and commits as
    ``demo.make_demo_project`` plus a "plan" commit, without eight git processes per test. A root
    that already holds files gets them committed too, as before (built in place, not copied)."""
    if root.exists() and any(root.iterdir()):
        return _build_project(root, plan, toml_extra)
    key = (plan, toml_extra)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = _build_project(_template_dir() / str(len(_TEMPLATES)), plan, toml_extra)
    shutil.copytree(_TEMPLATES[key], root, symlinks=True, dirs_exist_ok=True, copy_function=shutil.copy)
    return root


GATE_PYTEST_INI = "pytest.ini"
"""Committed into every project_with_plan project: its gates' pytest loads none of the suite's own
pytest plugins (hypothesis, textual-snapshot, asyncio, xdist...). A demo project needs none, and
loading them cost ~2 s of CPU on every gate run, most of the e2e tests' time."""


def gate_pytest_ini() -> str:
    names = sorted({ep.name for ep in entry_points(group="pytest11")})
    return (
        "# The test suite's: this project's tests need no third-party pytest plugin.\n"
        "[pytest]\naddopts = " + " ".join(f"-p no:{name}" for name in names) + "\n"
    )


def _build_project(root: Path, plan: str, toml_extra: str) -> Path:
    demo.make_demo_project(root)
    (root / "specs" / "word-stats" / "plan.md").write_text(plan, encoding="utf-8")
    (root / GATE_PYTEST_INI).write_text(gate_pytest_ini(), encoding="utf-8")
    if toml_extra:
        with open(root / "phaser.toml", "a", encoding="utf-8") as fh:
            fh.write(toml_extra)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "plan")
    return root


_TEMPLATES: dict[tuple[str, str], Path] = {}
_TEMPLATE_DIR: list[Path] = []


def _template_dir() -> Path:
    """This process's folder of finished projects to copy (each xdist worker has its own)."""
    if not _TEMPLATE_DIR:
        folder = Path(tempfile.mkdtemp(prefix="phaser-test-templates-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _TEMPLATE_DIR.append(folder)
    return _TEMPLATE_DIR[0]


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
