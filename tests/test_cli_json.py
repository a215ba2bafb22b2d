"""``--json`` when a PhaserError ends the command: stdout still gets one JSON object,
``{"error", "path", "line", "exit_code"}``, and stderr the usual one line. Every command that has
``--json`` is covered (the list is read from the parser)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from phaser.cli import main
from phaser.cli.parser import build_parser
from workflow_helpers import phase_turns, project_with_plan

BAD_TOML = "[budget]\nphase_usd = 1.0\nphase_dollars = 2\n"  # the unknown key is on line 3

# a command line per --json command that reaches the command's own code, not argparse
JSON_COMMANDS = {
    "status": ["status"],
    "next": ["next"],
    "run": ["run"],
    "redo": ["redo", "1"],
    "cost": ["cost"],
    "new": ["new", "Another spec"],
    "tick": ["tick", "1.1"],
    "note": ["note", "1", "text"],
    "plan": ["plan", "demo", "--force"],
    "approve": ["approve"],
    "log": ["log"],
    "show": ["show", "1"],
    "config": ["config"],
    "import": ["import", "tasks.md"],
    "doctor": ["doctor"],
}
# --json commands that never stop at a config error: validate lists it among its problems, init
# scaffolds without reading the config (tests/test_cli_output.py covers their JSON)
NOT_STOPPED_BY_CONFIG = {"validate", "init"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def commands_with_json() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        name for name, sp in sub.choices.items() if any("--json" in a.option_strings for a in sp._actions)
    }


def bad_config_project(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "specs" / "demo").mkdir(parents=True)
    (root / "specs" / "demo" / "plan.md").write_text("## Phase 1: A\n\n- [ ] a1\n", encoding="utf-8")
    (root / "phaser.toml").write_text(BAD_TOML, encoding="utf-8")
    return root


def test_every_json_command_prints_a_config_error_as_json_on_stdout(tmp_path, capsys):
    root = bad_config_project(tmp_path / "p")
    assert set(JSON_COMMANDS) | NOT_STOPPED_BY_CONFIG == commands_with_json()  # every --json command
    for command, argv in sorted(JSON_COMMANDS.items()):
        code, out, err = run(capsys, "-C", str(root), *argv, "--json")
        assert code == 2, command
        assert err.count("\n") == 1 and err.startswith("phaser: "), (command, err)
        message = err[len("phaser: ") : -1]
        assert "phaser.toml:3: " in message and "phase_dollars" in message, command
        got = json.loads(out)
        assert got == {"error": message, "path": got["path"], "line": 3, "exit_code": 2}, command
        assert got["path"].endswith("phaser.toml"), command
        # without --json, stdout stays empty as before
        assert run(capsys, "-C", str(root), *argv) == (2, "", err), command


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["status", "nope"], "no spec named 'nope'"),
        (["cost", "nope"], "no spec named 'nope'"),
        (["next", "--phase", "9"], "no phase 9"),
        (["run", "--approve", "sometimes"], "--approve takes each, never or a number"),
        (["redo", "9"], "no phase 9"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_an_error_with_no_location_has_null_path_and_line(tmp_path, capsys, argv, fragment):
    root = project_with_plan(tmp_path / "p")
    code, out, err = run(capsys, "-C", str(root), *argv, "--json")
    assert code == 2 and err.count("\n") == 1 and fragment in err, err
    assert json.loads(out) == {"error": err[len("phaser: ") : -1], "path": None, "line": None, "exit_code": 2}


def test_the_exit_code_in_the_json_is_the_commands(tmp_path, capsys):
    root = project_with_plan(tmp_path / "p")
    script = tmp_path / "script.json"
    script.write_text(json.dumps(phase_turns(1)), encoding="utf-8")
    (root / "stray.txt").write_text("a person's work\n", encoding="utf-8")  # a dirty tree waits for a human
    argv = ["next", "--provider", "scripted", "--script", str(script), "--json", "-q"]
    code, out, err = run(capsys, "-C", str(root), *argv)
    assert code == 3 and err.count("\n") == 1 and "stray.txt" in err, err
    got = json.loads(out)
    assert got == {"error": err[len("phaser: ") : -1], "path": None, "line": None, "exit_code": 3}
