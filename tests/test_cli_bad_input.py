"""Bad input for every file command: exit code 2, exactly one line on stderr naming the file (and
line when there is one), and nothing written: the whole tree is compared byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from phaser.cli import main

PLAN = """\
---
title: Demo
---

## Phase 1: A
difficulty: easy

- [ ] a1
- [ ] a2

## Phase 2: B
depends: 1

- [ ] b1
"""

BROKEN_YAML = b"---\ntitle: Demo\nowner: a: b\n---\n\n## Phase 1: A\n\n- [ ] a1\n"  # line 3
NON_UTF8 = b"## Phase 1: A\n\n- [ ] a1\n- [ ] caf\xe9\n"  # line 4
BINARY = b"## Phase 1: A\n\n- [ ] a1\n\x00\x00\x00\n"  # line 4
BAD_TOML = b'[models]\neasy = "claude-haiku-5-5"\n\n[budget]\nphase_usd = 1.0\nphase_dollars = 2\n'  # line 6


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def tree(root: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        out[path.relative_to(root).as_posix()] = None if path.is_dir() else path.read_bytes()
    return out


def make(root: Path, plans: dict[str, bytes] | None = None, specs: bool = True) -> Path:
    (root / ".git").mkdir(parents=True)  # the project root: find_root never looks above it
    if specs:
        (root / "specs").mkdir()
    for slug, data in (plans or {}).items():
        (root / "specs" / slug).mkdir(parents=True, exist_ok=True)
        (root / "specs" / slug / "plan.md").write_bytes(data)
    return root


def no_specs(root: Path) -> None:
    make(root, specs=False)


def one_plan(root: Path) -> None:
    make(root, {"demo": PLAN.encode()})


def several(root: Path) -> None:
    make(root, {"alpha": PLAN.encode(), "beta": PLAN.encode()})


def spec_without_plan(root: Path) -> None:
    make(root)
    (root / "specs" / "demo").mkdir()
    (root / "specs" / "demo" / "spec.md").write_bytes(b"---\ntitle: Demo\n---\n# Demo\n")


def broken_yaml(root: Path) -> None:
    make(root, {"demo": BROKEN_YAML})


def non_utf8(root: Path) -> None:
    make(root, {"demo": NON_UTF8})


def binary(root: Path) -> None:
    make(root, {"demo": BINARY})


def bad_config(root: Path) -> None:
    make(root, {"demo": PLAN.encode()})
    (root / "phaser.toml").write_bytes(BAD_TOML)


def bad_pyproject(root: Path) -> None:
    make(root, {"demo": PLAN.encode()})
    (root / "pyproject.toml").write_bytes(
        b'[project]\nname = "x"\n\n[tool.phaser.gates]\ncommand = "pytest"\n'
    )


def toml_syntax(root: Path) -> None:
    make(root, {"demo": PLAN.encode()})
    (root / "phaser.toml").write_bytes(b"[models]\neasy = \n")


# (scenario, argv, fragments the one stderr line must contain)
CASES = [
    # no specs/ folder at all
    (no_specs, ["tick", "1.1"], ["specs"]),
    (no_specs, ["note", "1", "hi"], ["specs"]),
    (no_specs, ["tick", "demo", "1.1"], ["demo"]),
    (no_specs, ["note", "demo", "1", "hi"], ["demo"]),
    (no_specs, ["status", "demo"], ["demo"]),
    # an unknown slug
    (one_plan, ["status", "nope"], ["nope"]),
    (one_plan, ["tick", "nope", "1.1"], ["nope"]),
    (one_plan, ["tick", "nope", "1.1", "--undo"], ["nope"]),
    (one_plan, ["note", "nope", "1", "hi"], ["nope"]),
    # several specs and no slug
    (several, ["tick", "1.1"], ["alpha", "beta"]),
    (several, ["tick", "1.1", "--undo"], ["alpha", "beta"]),
    (several, ["note", "1", "hi"], ["alpha", "beta"]),
    # a spec with no plan yet
    (spec_without_plan, ["tick", "demo", "1.1"], ["specs/demo/plan.md"]),
    (spec_without_plan, ["note", "demo", "1", "hi"], ["specs/demo/plan.md"]),
    (spec_without_plan, ["tick", "1.1"], ["specs/demo/plan.md"]),
    # broken YAML frontmatter (line 3)
    (broken_yaml, ["tick", "demo", "1.1"], ["specs/demo/plan.md:3:", "YAML"]),
    (broken_yaml, ["tick", "1.1"], ["specs/demo/plan.md:3:", "YAML"]),
    (broken_yaml, ["note", "demo", "1", "hi"], ["specs/demo/plan.md:3:", "YAML"]),
    # BUG (src/phaser/cli/commands.py cmd_status + cli/render.py print_status): `status` with an
    # unreadable plan exits 2 but prints the error on stdout ("demo: /abs/.../plan.md:3: ...") and
    # nothing on stderr.
    (broken_yaml, ["status", "demo"], ["specs/demo/plan.md:3:", "YAML"]),
    (broken_yaml, ["status"], ["specs/demo/plan.md:3:", "YAML"]),
    # malformed plan files (line 4)
    (non_utf8, ["tick", "demo", "1.1"], ["specs/demo/plan.md:4:", "UTF-8"]),
    (non_utf8, ["note", "demo", "1", "hi"], ["specs/demo/plan.md:4:", "UTF-8"]),
    (non_utf8, ["status", "demo"], ["specs/demo/plan.md:4:", "UTF-8"]),
    (binary, ["tick", "demo", "1.1"], ["specs/demo/plan.md:4:", "binary"]),
    (binary, ["note", "demo", "1", "hi"], ["specs/demo/plan.md:4:", "binary"]),
    (binary, ["status", "demo"], ["specs/demo/plan.md:4:", "binary"]),
    # a config with an unknown key (line 6), in phaser.toml or pyproject.toml, or broken TOML
    (bad_config, ["status"], ["phaser.toml:6:", "phase_dollars"]),
    (bad_config, ["status", "--json"], ["phaser.toml:6:", "phase_dollars"]),
    (bad_config, ["status", "demo"], ["phaser.toml:6:", "phase_dollars"]),
    (bad_config, ["tick", "demo", "1.1"], ["phaser.toml:6:", "phase_dollars"]),
    (bad_config, ["tick", "1.1"], ["phaser.toml:6:", "phase_dollars"]),
    (bad_config, ["note", "demo", "1", "hi"], ["phaser.toml:6:", "phase_dollars"]),
    (bad_config, ["new", "Another spec"], ["phaser.toml:6:", "phase_dollars"]),
    (bad_pyproject, ["status"], ["pyproject.toml:5:", "command"]),
    (bad_pyproject, ["tick", "demo", "1.1"], ["pyproject.toml:5:", "command"]),
    (bad_pyproject, ["new", "Another spec"], ["pyproject.toml:5:", "command"]),
    (toml_syntax, ["status"], ["phaser.toml:2:"]),
    (toml_syntax, ["note", "demo", "1", "hi"], ["phaser.toml:2:"]),
]


@pytest.mark.parametrize(
    ("scenario", "argv", "fragments"),
    CASES,
    ids=[f"{s.__name__}: {' '.join(a)}" for s, a, _ in CASES],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, scenario, argv, fragments):
    root = tmp_path / "proj"
    scenario(root)
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(root), *argv)
    assert code == 2, (out, err)
    assert err.endswith("\n") and err.count("\n") == 1, f"want exactly one line on stderr, got {err!r}"
    assert err.startswith("phaser: "), err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    ("scenario", "fragment"),
    [
        (broken_yaml, "specs/demo/plan.md:3:"),
        (non_utf8, "specs/demo/plan.md:4:"),
        (binary, "specs/demo/plan.md:4:"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_status_json_reports_the_unreadable_plan(tmp_path, capsys, scenario, fragment):
    root = tmp_path / "proj"
    scenario(root)
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(root), "status", "--json")
    assert code == 2
    [plan] = json.loads(out)["plans"]
    assert plan["slug"] == "demo" and plan["next"] is None and plan["phases"] == []
    assert fragment in plan["error"]
    assert tree(tmp_path) == before


def test_status_one_broken_plan_among_good_ones_still_exits_2(tmp_path, capsys):
    root = make(tmp_path / "proj", {"good": PLAN.encode(), "zbad": BROKEN_YAML})
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(root), "status")
    assert code == 2
    assert "Demo" in out  # the good plan is still shown
    assert "specs/zbad/plan.md:3:" in out + err
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    ("scenario", "argv", "want"),
    [
        (broken_yaml, ["validate"], "specs/demo/plan.md:3: "),
        (non_utf8, ["validate"], "specs/demo/plan.md:4: "),
        (binary, ["validate"], "specs/demo/plan.md:4: "),
        (one_plan, ["validate", "specs/nope"], "specs/nope:1: "),
    ],
    ids=["broken_yaml", "non_utf8", "binary", "missing path"],
)
def test_validate_bad_input(tmp_path, capsys, monkeypatch, scenario, argv, want):
    root = tmp_path / "proj"
    scenario(root)
    monkeypatch.chdir(root)
    before = tree(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert [line for line in out.splitlines() if line.startswith(want)], out
    assert tree(tmp_path) == before


def test_validate_bad_config(tmp_path, capsys):
    root = tmp_path / "proj"
    bad_config(root)
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(root), "validate")
    assert code == 2
    assert "phaser.toml:6: " in out + err and "phase_dollars" in out + err
    assert tree(tmp_path) == before


def test_missing_dash_C_folder(tmp_path, capsys):
    before = tree(tmp_path)
    for argv in (["status"], ["tick", "1.1"], ["note", "1", "x"], ["validate"], ["new", "X"]):
        code, out, err = run(capsys, "-C", str(tmp_path / "nope"), *argv)
        assert code == 2, argv
        assert err.count("\n") == 1 and "nope" in err, err
    assert tree(tmp_path) == before


def test_new_refuses_empty_title(tmp_path, capsys):
    root = make(tmp_path / "proj")
    before = tree(tmp_path)
    for title in ("", "   ", "!!!"):
        code, out, err = run(capsys, "-C", str(root), "new", title)
        assert code == 2 and err.count("\n") == 1, (title, err)
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    ("scenario", "argv", "fragment"),
    [
        (broken_yaml, ["tick", "1.1"], "specs/demo/plan.md:3:"),
        (bad_config, ["status"], "phaser.toml:6:"),
        (several, ["note", "1", "hi"], "alpha"),
    ],
    ids=["broken_yaml tick", "bad_config status", "several note"],
)
def test_bad_input_in_a_real_process(tmp_path, scenario, argv, fragment):
    root = tmp_path / "proj"
    scenario(root)
    before = tree(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "phaser", *argv], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and fragment in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert tree(tmp_path) == before


# (script file contents, what the one stderr line must say)
BAD_SCRIPTS = [
    (["hi", 3], "turn 1: expected an object, got a string"),
    ({"a": 1}, 'got an object without "turns"'),
    ({"turns": "hi"}, "expected a list of turns, got a string"),
    (7, "expected a list of turns, got a number"),
    ([{"text": "ok"}, [1]], "turn 2: expected an object, got a list"),
    ([{"txt": "typo"}], "turn 1: unknown key 'txt'"),
    ([{"text": 5}], "turn 1: text: expected a string, got a number"),
    ([{"tool_calls": {"name": "bash"}}], "turn 1: tool_calls: expected a list, got an object"),
    ([{"tool_calls": ["bash"]}], "turn 1: tool_calls[1]: expected an object, got a string"),
    ([{"tool_calls": [{"input": {}}]}], "turn 1: tool_calls[1]: name: expected a non-empty string, got null"),
    ([{"tool_calls": [{"name": "bash", "input": "ls"}]}], "turn 1: tool_calls[1]: input: expected an object"),
    ([{"tool_calls": [{"name": "bash", "args": {}}]}], "turn 1: tool_calls[1]: unknown key 'args'"),
    ([{"content": [{"text": "no type"}]}], "turn 1: content[1]: type: expected a string"),
    ([{"text": "ok"}, {"fault": 529}], "turn 2: fault: expected an object, got a number"),
    ([{"fault": {"status": "529"}}], "turn 1: fault: status: expected a number, got a string"),
    ([{"fault": {"drop": "yes"}}], "turn 1: fault: drop: expected a boolean, got a string"),
    ([{"fault": {"statuss": 529}}], "turn 1: fault: unknown key 'statuss'"),
    ([{"fault": {"status": 529}, "text": "x"}], 'turn 1: a fault turn holds only "fault"'),
]


@pytest.mark.parametrize("command", ["run", "next"])
@pytest.mark.parametrize(("script", "want"), BAD_SCRIPTS, ids=[w for _, w in BAD_SCRIPTS])
def test_bad_script_shape_is_refused_before_the_run(tmp_path, capsys, command, script, want):
    root = tmp_path / "proj"
    one_plan(root)
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(root), command, "--provider", "scripted", "--script", str(path))
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert f"{path}: not a valid script: " in err and want in err, err
    assert tree(tmp_path) == before  # not even the plan's run lock is created


def test_bad_script_shape_in_a_real_process(tmp_path):
    root = tmp_path / "proj"
    one_plan(root)
    path = tmp_path / "script.json"
    path.write_text('["hi", 3]')
    done = subprocess.run(
        [sys.executable, "-m", "phaser", "next", "--provider", "scripted", "--script", str(path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"phaser: {path}: not a valid script: turn 1: expected an object, got a string\n"
    assert "Traceback" not in done.stderr
    assert not (root / ".phaser" / "active").exists() and not (root / ".phaser" / "runs").exists()


def test_every_documented_script_key_is_accepted(tmp_path):
    from phaser.agent.script import load_script

    turns = [
        {"text": "looking", "tool_calls": [{"name": "bash", "input": {"command": "ls"}, "id": "t1"}]},
        {"tool_calls": [{"name": "finish_step"}], "stop_reason": "tool_use"},
        {"content": [{"type": "thinking", "thinking": "hm", "signature": "c2ln"}], "text": "ok"},
        {},
        {"fault": {"status": 429, "type": "rate_limit_error", "message": "slow", "retry_after": 0.5}},
        {"fault": {"drop": True, "text": "partial"}},
        {"fault": {"truncate": True}},
        {"fault": {"stream_error": "overloaded_error", "malformed": False}},
    ]
    path = tmp_path / "script.json"
    path.write_text(json.dumps(turns))
    assert load_script(path) == turns
    path.write_text(json.dumps({"turns": turns}))
    assert load_script(path) == turns


@pytest.mark.parametrize(
    ("setting", "want"),
    [
        ("[gates]\nfix_attempts = -1", "phaser.toml:5: gates.fix_attempts must be 0 or more, not -1"),
        ("[gates]\ntimeout_s = 0", "phaser.toml:5: gates.timeout_s must be more than 0, not 0"),
        ("[budget]\nphase_usd = -1", "phaser.toml:5: budget.phase_usd must be more than 0, not -1"),
        ('[prices."m"]\ninput = -1', "phaser.toml:5: prices.m.input must be 0 or more, not -1"),
    ],
    ids=["fix_attempts", "gate timeout", "phase_usd", "price"],
)
def test_out_of_range_setting_one_line_exit_2(tmp_path, capsys, setting, want):
    """An out-of-range number is refused by `validate` and by every command, never run with."""
    root = make(tmp_path / "proj", {"demo": PLAN.encode()})
    (root / "phaser.toml").write_text(f'[models]\neasy = "claude-haiku-5-5"\n\n{setting}\n')
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(root), "validate")
    assert code == 2
    assert [line for line in (out + err).splitlines() if line.endswith(want)], out + err
    for argv in (["status"], ["tick", "demo", "1.1"], ["next", "--dry-run"]):
        code, out, err = run(capsys, "-C", str(root), *argv)
        assert code == 2, argv
        assert err.count("\n") == 1 and err.rstrip("\n").endswith(want), (argv, err)
    assert tree(tmp_path) == before
