"""The README's commands stay true: the Quickstart's two commands, CI running the README's test
command, and every command named in "Using it on your project" existing in `phaser --help`."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from phaser.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    m = re.search(rf"(?ms)^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", README)
    assert m, f"README has no '## {title}' section"
    return m.group(1)


def code_blocks(text: str) -> list[str]:
    return re.findall(r"(?ms)^```[a-z]*\n(.*?)^```\s*$", text)


def commands(block: str) -> list[str]:
    """Shell commands in a code block: non-empty lines that are not comments."""
    return [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def quickstart_commands() -> list[str]:
    return [cmd for block in code_blocks(section("Quickstart")) for cmd in commands(block)]


def test_quickstart_has_exactly_the_demo_and_the_test_command():
    cmds = quickstart_commands()
    assert len(cmds) == 2, cmds
    demo, test = cmds
    assert demo.endswith(".venv/bin/phaser demo"), demo
    assert ".venv/bin/python -m pytest -q" in test, test
    for cmd in cmds:
        assert cmd.startswith("python3 -m venv .venv && .venv/bin/pip install -q -e "), cmd
    assert "'.[test]'" in test


def _steps(command: str) -> list[list[str]]:
    return [shlex.split(part) for part in command.split("&&")]


def test_ci_runs_the_readme_test_command():
    readme_test = quickstart_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_lines = [
        line.strip() for line in ci.splitlines() if "pytest" in line and not line.strip().startswith("#")
    ]
    assert len(ci_lines) == 1, ci_lines
    ci_steps = _steps(ci_lines[0])
    readme_steps = _steps(readme_test)
    assert len(ci_steps) == len(readme_steps)
    # Same setup steps; the pytest step may add options (e.g. -p no:cacheprovider) after the README's.
    assert ci_steps[:-1] == readme_steps[:-1]
    assert readme_steps[-1] == [".venv/bin/python", "-m", "pytest", "-q"]
    assert ci_steps[-1][:4] == readme_steps[-1]


def test_ci_runs_both_quickstart_commands_demo_first_in_a_clean_clone():
    demo, test = quickstart_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert demo in lines, "CI must run the README's demo command exactly as written"
    test_line = next(i for i, line in enumerate(lines) if "pytest" in line)
    assert lines.index(demo) < test_line
    assert any(line.startswith("git clone") for line in lines[: lines.index(demo)])
    assert "--durations=15" in lines[test_line]


def test_readme_usage_commands_exist_in_help(capsys):
    block = "\n".join(code_blocks(section("Using it on your project")))
    named = set(re.findall(r"(?<![\w/.-])phaser ([a-z][a-z-]*)", block))
    assert {"init", "new", "status", "validate", "tick", "note"} <= named, named
    done = subprocess.run(
        [sys.executable, "-m", "phaser", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    listed = set(re.findall(r"(?m)^ {2,6}([a-z][a-z-]*)\s{2,}\S", done.stdout))
    assert named <= listed, f"README names commands --help does not list: {sorted(named - listed)}"
    for name in named:  # the real entry point above; each command's help in-process (same parser)
        with pytest.raises(SystemExit) as exited:
            main([name, "--help"])
        out, err = capsys.readouterr()
        assert exited.value.code in (0, None), (name, err)
        assert "usage:" in out, (name, out)
