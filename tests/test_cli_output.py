"""The terminal experience (issue 13): live output in both modes, `phaser show`, `phaser config`,
--json on every command, the status table, --dry-run predicting refusals, help text."""

from __future__ import annotations

import argparse
import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from phaser import events as ev
from phaser.cli import main
from phaser.cli.parser import build_parser
from phaser.cli.render import EventPrinter, fit_lines, print_outcome, print_status, status_rows
from phaser.workflow.gates import node_id
from workflow_helpers import coding_turns, edit, git, no_fix_attempts, phase_turns, project_with_plan, read

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

EVENTS = [
    ev.PhaseStarted("demo", 1, "Count words", "claude-haiku-5-5"),
    ev.StepStarted("code"),
    ev.ToolStarted("bash", "pytest -q"),
    ev.ToolFinished("bash", True, "pytest -q"),
    ev.ToolStarted("str_replace_based_edit_tool", "create README.md"),
    ev.ToolFinished(
        "str_replace_based_edit_tool", False, "create README.md", "Refused (read-only): explore may not edit"
    ),
    ev.StepStarted("gates"),
    ev.GateFinished("pytest -q", True, "5 passed"),
    ev.PhaseFinished(
        "demo", 1, "passed", "2 task(s) checked off", {"cost_usd": 0.01, "commit": "abc1234567890"}
    ),
]


def feed(printer: EventPrinter) -> None:
    for event in EVENTS:
        printer(event)
    printer.close()


# --- live output: plain and terminal ------------------------------------------------------------


def test_plain_output_has_one_line_per_tool_call_with_the_refusal_reason():
    out = io.StringIO()
    feed(EventPrinter(out))
    text = out.getvalue()
    assert not ANSI.search(text)
    lines = text.splitlines()
    assert [line for line in lines if "pytest -q" in line and "gate" not in line] == ["  ✓ pytest -q"]
    assert "  ✗ create README.md: Refused (read-only): explore may not edit" in lines
    assert "→" not in text  # no second line per call
    assert sum(1 for line in lines if "phase 1: passed" in line) == 1
    assert "    commit abc1234567" in lines


def test_terminal_output_is_coloured_and_spins_while_work_runs():
    console = Console(
        file=io.StringIO(), record=True, force_terminal=True, width=100, color_system="truecolor"
    )
    printer = EventPrinter(console=console)
    try:
        printer(EVENTS[0])
        printer(EVENTS[1])
        assert printer.spinning == "code: waiting for the model"  # a spinner while the model works
        printer(EVENTS[2])
        assert printer.spinning == "bash: pytest -q"  # ...naming the running tool
        for event in EVENTS[3:]:
            printer(event)
        assert printer.spinning is None  # stopped at the phase's end
    finally:
        printer.close()
    styled = console.export_text(styles=True, clear=False)
    assert ANSI.search(styled)
    plain = console.export_text()
    assert "✗ create README.md: Refused (read-only)" in plain and "=== phase 1: passed" in plain


def test_a_pty_gets_colour_and_no_color_gets_plain_text(tmp_path):
    root = project_with_plan(tmp_path / "p")

    def run_on_pty(extra_env: dict[str, str]) -> str:
        leader, follower = pty.openpty()
        env = {**os.environ, "TERM": "xterm-256color", **extra_env}
        env.pop("NO_COLOR", None) if "NO_COLOR" not in extra_env else None
        proc = subprocess.Popen(
            [sys.executable, "-m", "phaser", "-C", str(root), "status"],
            stdout=follower,
            stderr=follower,
            env=env,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
        os.close(leader)
        return b"".join(chunks).decode()

    coloured = run_on_pty({})
    assert ANSI.search(coloured) and "Count words" in coloured
    plain = run_on_pty({"NO_COLOR": "1"})
    assert not ANSI.search(plain) and "Count words" in plain
    piped = subprocess.run(
        [sys.executable, "-m", "phaser", "-C", str(root), "status"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert not ANSI.search(piped.stdout) and "Count words" in piped.stdout


def test_planning_lists_the_problems_it_sends_back():
    out = io.StringIO()
    printer = EventPrinter(out)
    printer(ev.PlanProblems("x", "warning", problems=["plan.md:3: no phases", "plan.md:9: bad depends"]))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("warning: the proposed plan has 2 problems")
    assert lines[1:] == ["  plan.md:3: no phases", "  plan.md:9: bad depends"]


# --- the status table ---------------------------------------------------------------------------


class _P:
    def __init__(self, number, title, state, model, depends=(), commit=None):
        self.number, self.title, self.state, self.model = number, title, state, model
        self.depends, self.commit, self.approved, self.ran_on = list(depends), commit, False, None
        self.difficulty, self.tasks_done, self.tasks_total = "medium", 0, 2


def test_status_rows_fit_the_width_and_keep_columns_aligned():
    phases = [
        _P(1, "A rather long title that goes on and on and on", "done", "m", commit="a" * 40),
        _P(2, "Short", "done", "a-much-longer-model-name", commit="b" * 40),
        _P(3, "Next", "ready", "m", depends=[1]),
        _P(4, "Later", "pending", "m", depends=[3]),
    ]
    assert all(len(text) <= 60 for text, _ in status_rows(phases, 60))
    rows = [text for text, _ in status_rows(phases, 100)]
    assert all(len(r) <= 100 for r in rows), rows
    assert rows[0].index("a" * 10) == rows[1].index("b" * 10)  # the commit column does not shift
    assert "▷" in rows[2] and "ready" in rows[2] and "after" not in rows[2]
    assert rows[3].endswith("after 3")
    assert "…" in rows[0]


def test_status_of_an_empty_plan_is_not_complete(tmp_path, capsys):
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs" / "e").mkdir(parents=True)
    (tmp_path / "specs" / "e" / "plan.md").write_text("---\ntitle: E\n---\n# E\n", encoding="utf-8")
    main(["-C", str(tmp_path), "status"])
    out = capsys.readouterr().out
    assert "complete" not in out.splitlines()[0] and "no phases" in out.splitlines()[0]


def test_gate_ids_are_pytest_node_ids_pytest_accepts(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_basic.py").write_text("class TestK:\n    def test_a(self):\n        pass\n")
    nid = node_id("tests.test_basic.TestK", "test_a", tmp_path)
    assert nid == "tests/test_basic.py::TestK::test_a"
    assert node_id("tests.test_basic", "test_roundtrip") == "tests/test_basic.py::test_roundtrip"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", nid],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},  # the suite's plugins: ~2 s, unused
    )
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout


# --- show -----------------------------------------------------------------------------------------


def _script(tmp_path: Path, turns: list[dict], name: str = "s.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(turns), encoding="utf-8")
    return str(path)


def _next(root: Path, script: str, *extra: str) -> int:
    return main(["next", "-C", str(root), "-q", "--provider", "scripted", "--script", script, *extra])


def test_show_a_passed_phase(tmp_path, capsys):
    root = project_with_plan(tmp_path / "p")
    assert _next(root, _script(tmp_path, phase_turns(1))) == 0
    capsys.readouterr()
    assert main(["show", "-C", str(root), "1", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got) >= {"slug", "phase", "state", "model", "diff_source", "diff", "commit", "gates", "claims"}
    assert got["state"] == "done" and got["diff_source"] == "commit"
    assert got["commit"] == git(root, "rev-parse", "HEAD").strip()
    assert "wordstats/core.py" in got["diff"]
    tests = got["gates"][0]["tests"]
    assert tests["tests/test_count.py::test_counts_words"] == "passed"
    assert [c["ref"] for c in got["claims"]] == ["1.1", "1.2"]
    assert got["usage"]["output_tokens"] >= 0 and got["cost_usd"] >= 0 and len(got["runs"]) == 1
    assert main(["show", "-C", str(root), "word-stats", "1"]) == 0
    out = capsys.readouterr().out
    assert "diff of commit" in out and "✓ tests/test_count.py::test_counts_words" in out
    assert "+++ b/wordstats/core.py" in out


def test_show_a_blocked_phase_gives_the_kept_patch(tmp_path, capsys):
    root = project_with_plan(tmp_path / "p")
    no_fix_attempts(root)
    wrong = edit("create", "wordstats/core.py", file_text="def count_words(text):\n    return {}\n")
    script = _script(tmp_path, [*coding_turns(1, 2, wrong), {"tool_calls": []}])
    assert _next(root, script, "--model", "claude-haiku-5-5") == 1
    capsys.readouterr()
    assert main(["show", "-C", str(root), "1", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["state"] == "blocked" and got["diff_source"] == "patch" and got["commit"] is None
    assert got["patch"].endswith("discarded.patch") and not got["patch"].startswith("/")
    assert "return {}" in got["diff"] and not got["gates"][0]["ok"]
    failed = [t for t, r in got["gates"][0]["tests"].items() if r == "failed"]
    assert failed and all(t.startswith("tests/test_count.py") for t in failed), failed
    assert main(["show", "-C", str(root), "1"]) == 0
    out = capsys.readouterr().out
    assert "the patch kept from the last undone attempt" in out and "✗ tests/test_count.py" in out


def test_show_a_redone_phase_lists_both_runs(tmp_path, capsys):
    root = project_with_plan(tmp_path / "p")
    assert _next(root, _script(tmp_path, phase_turns(1))) == 0
    redo = ["redo", "-C", str(root), "1", "-q", "--provider", "scripted"]
    assert main([*redo, "--script", _script(tmp_path, phase_turns(1), "r.json")]) == 0
    capsys.readouterr()
    assert main(["show", "-C", str(root), "1", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert len(got["runs"]) == 2 and all(r["outcome"] == "passed" for r in got["runs"])
    assert got["commit"] == git(root, "rev-parse", "HEAD").strip()
    assert git(root, "log", "--format=%s").splitlines().count("phase 1: Count words") == 1


def test_show_refuses_a_phase_that_does_not_exist(tmp_path, capsys):
    root = project_with_plan(tmp_path / "p")
    assert main(["show", "-C", str(root), "9"]) == 2
    assert "no phase 9" in capsys.readouterr().err


# --- --json on every command: one object, documented keys ----------------------------------------


def test_every_command_but_the_tui_and_demo_has_json():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        name
        for name, sp in sub.choices.items()
        if not any("--json" in a.option_strings for a in sp._actions) and name not in ("tui", "demo")
    ]
    assert missing == []


def test_json_schemas_of_the_file_commands(tmp_path, capsys):
    def js(*argv: str) -> dict:
        code = main(["-C", str(tmp_path), *argv, "--json"])
        out = capsys.readouterr().out
        data = json.loads(out)
        assert code == data.get("exit_code", 0), (argv, data)
        return data

    (tmp_path / ".git").mkdir()
    assert set(js("init")) == {"root", "created"}
    assert js("new", "Token refresh") == {"slug": "token-refresh", "spec": "specs/token-refresh/spec.md"}
    got = js("validate")
    assert got["ok"] is True and got["problems"] == [] and got["exit_code"] == 0
    assert got["warnings"][0]["path"] == "specs/token-refresh/spec.md"
    (tmp_path / "specs" / "token-refresh" / "plan.md").write_text(
        "## Phase 1: A\n\n- [ ] a1\n", encoding="utf-8"
    )
    assert js("tick", "1.1") == {"ref": "1.1", "text": "a1", "checked": True}
    assert js("note", "1", "by  hand") == {"phase": 1, "note": "by hand"}
    assert js("approve") == {"approved": [1], "reopened": None}  # its only task is ticked
    assert js("log") == {"runs": []}
    config = js("config")
    assert set(config) == {"source", "settings", "tiers"}
    assert all(set(s) == {"key", "value", "source"} for s in config["settings"])


def test_config_names_where_each_value_came_from(tmp_path, capsys):
    (tmp_path / ".git").mkdir()
    (tmp_path / "phaser.toml").write_text('[models]\n\nprofile = "budget"\n\n[gates]\nfix_attempts = 1\n')
    assert main(["-C", str(tmp_path), "config", "--json", "--provider", "scripted"]) == 0
    settings = {s["key"]: s for s in json.loads(capsys.readouterr().out)["settings"]}
    assert settings["models.profile"] == {
        "key": "models.profile",
        "value": "budget",
        "source": "phaser.toml:3",
    }
    assert settings["gates.fix_attempts"]["source"] == "phaser.toml:6"
    assert settings["models.easy"]["source"] == "default"
    assert settings["provider.name"] == {
        "key": "provider.name",
        "value": "scripted",
        "source": "flag --provider",
    }
    (tmp_path / "phaser.toml").unlink()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.phaser.budget]\nphase_usd = 2.0\n'
    )
    assert main(["-C", str(tmp_path), "config"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("budget.phase_usd"))
    assert line.split() == ["budget.phase_usd", "2.0", "(pyproject.toml:5)"]


# --- log ------------------------------------------------------------------------------------------


def test_log_cuts_long_lines_with_an_ellipsis_and_full_keeps_them(tmp_path, capsys, monkeypatch):
    root = project_with_plan(tmp_path / "p")
    assert _next(root, _script(tmp_path, phase_turns(1))) == 0
    capsys.readouterr()
    monkeypatch.setenv("COLUMNS", "60")
    assert main(["log", "-C", str(root)]) == 0
    cut = capsys.readouterr().out.splitlines()
    assert all(len(line) <= 60 for line in cut) and any(line.endswith("…") for line in cut)
    assert main(["log", "-C", str(root), "--full"]) == 0
    full = capsys.readouterr().out.splitlines()
    assert any(len(line) > 60 for line in full) and not any(line.endswith("…") for line in full)
    assert main(["log", "-C", str(root), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert runs[0]["phase"] == "1" and runs[0]["summary"]["outcome"] == "passed"
    assert all(set(e) == {"time", "kind", "text"} for e in runs[0]["events"])
    assert fit_lines(["x" * 10], width=5) == ["xxxx…"]


# --- dry-run predicts the real run's refusals -----------------------------------------------------


def _both(root: Path, script: str, capsys) -> tuple[tuple[int, str], tuple[int, str]]:
    dry = _next(root, script, "--dry-run"), capsys.readouterr().err
    real = _next(root, script), capsys.readouterr().err
    return dry, real


def test_dry_run_refuses_a_dirty_tree_as_the_run_does(tmp_path, capsys):
    root = project_with_plan(tmp_path / "p")
    (root / "stray.txt").write_text("a person's work\n", encoding="utf-8")
    dry, real = _both(root, _script(tmp_path, phase_turns(1)), capsys)
    assert dry == real and dry[0] == 3 and "stray.txt" in dry[1]


def test_dry_run_refuses_a_broken_spec_and_a_missing_script_as_the_run_does(tmp_path, capsys):
    root = project_with_plan(tmp_path / "p")
    dry, real = _both(root, str(tmp_path / "missing.json"), capsys)
    assert dry == real and dry[0] == 2 and "no such script file" in dry[1]
    spec = root / "specs" / "word-stats" / "spec.md"
    spec.write_text("---\ntitle: [broken\n---\n# x\n", encoding="utf-8")
    git(root, "commit", "-qam", "broken spec")
    dry, real = _both(root, _script(tmp_path, phase_turns(1)), capsys)
    assert dry == real and dry[0] == 2 and "spec.md:" in dry[1]


def test_dry_run_predicts_unverified_without_gates(tmp_path, capsys):
    root = project_with_plan(tmp_path / "p")
    toml = read(root, "phaser.toml")
    (root / "phaser.toml").write_text(re.sub(r"(?m)^commands = .*$", "commands = []", toml), encoding="utf-8")
    git(root, "commit", "-qam", "no gates")
    script = _script(tmp_path, phase_turns(1))
    assert _next(root, script, "--dry-run", "--json") == 3
    info = json.loads(capsys.readouterr().out)
    assert info["exit_code"] == 3 and info["expected"][0]["outcome"] == "unverified"
    assert _next(root, script) == 3  # the real run ends unverified, exit 3


def test_dry_run_says_an_unfinished_run_is_undone_first(tmp_path, capsys):
    root = project_with_plan(tmp_path / "p")
    state = root / ".phaser" / "active"
    # an interrupted run: a marker as a crash leaves it, with a changed file in the tree
    from phaser.agent.snapshot import take_snapshot
    from phaser.workflow.resume import ActiveRun, save_active

    before = take_snapshot(root)
    (root / "wordstats" / "core.py").write_text("half done\n", encoding="utf-8")
    run_dir = root / ".phaser" / "runs" / "word-stats" / "1" / "x"
    run_dir.mkdir(parents=True)
    save_active(
        root / ".phaser", ActiveRun("word-stats", 1, str(run_dir), None, "2026-01-01T00:00:00Z"), before
    )
    assert state.is_dir()
    assert _next(root, _script(tmp_path, phase_turns(1)), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "first: phase 1 did not finish" in out and "undone, kept as a patch" in out


# --- help ----------------------------------------------------------------------------------------


def test_every_option_has_help_and_slug_is_spelled_one_way():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sp in sub.choices.items():
        for action in sp._actions:
            assert action.help, (name, action.option_strings or action.dest)
            if action.dest == "slug":
                assert action.metavar == "SLUG", name
        text = sp.format_help()
        assert "exit codes:" in text and "docs/" in text, name
        assert "slug" not in text.replace("--slug", "").replace("SLUG", ""), name


def test_an_unknown_option_after_a_command_names_the_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["next", "--bogus"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage: phaser next" in err and "phaser next: error: unrecognized arguments: --bogus" in err


# --- an unedited template spec ---------------------------------------------------------------------


def test_validate_warns_and_plan_refuses_an_unedited_template(tmp_path, capsys):
    (tmp_path / ".git").mkdir()
    assert main(["-C", str(tmp_path), "new", "Token refresh"]) == 0
    capsys.readouterr()
    assert main(["-C", str(tmp_path), "validate"]) == 0
    out, err = capsys.readouterr()
    assert (
        out == "ok\n"
        and "specs/token-refresh/spec.md:1: warning: the spec is still the unedited template" in err
    )
    assert main(["-C", str(tmp_path), "plan", "--provider", "scripted", "--script", "nope.json"]) == 2
    err = capsys.readouterr().err
    assert "unedited template" in err and not (tmp_path / "specs" / "token-refresh" / "plan.md").exists()
    spec = tmp_path / "specs" / "token-refresh" / "spec.md"
    spec.write_text(
        spec.read_text(encoding="utf-8") + "\nTokens refresh 5 minutes early.\n", encoding="utf-8"
    )
    assert main(["-C", str(tmp_path), "validate"]) == 0
    assert capsys.readouterr().err == ""


def test_print_status_in_terminal_mode_colours_states(tmp_path):
    root = project_with_plan(tmp_path / "p")
    from phaser.workflow.project import Project
    from phaser.workflow.status import project_status

    console = Console(
        file=io.StringIO(), record=True, force_terminal=True, width=90, color_system="truecolor"
    )
    print_status(project_status(Project.open(root)), console=console)
    assert ANSI.search(console.export_text(styles=True))
    assert all(len(line) <= 90 for line in console.export_text().splitlines())


# --- shell completion ---------------------------------------------------------------------------


def _complete(root: Path, line: str, tmp_path: Path) -> list[str]:
    out = tmp_path / "completion.txt"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        "_ARGCOMPLETE_IFS": "\n",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
    }
    done = subprocess.run(
        [sys.executable, "-m", "phaser"], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return out.read_text(encoding="utf-8").split("\n")


def test_shell_completion_of_commands_slugs_and_task_refs(tmp_path):
    root = project_with_plan(tmp_path / "p")
    assert set(_complete(root, "phaser ne", tmp_path)) == {"new", "next"}
    assert "word-stats" in _complete(root, "phaser status ", tmp_path)
    refs = _complete(root, "phaser tick word-stats 2.", tmp_path)
    assert refs == ["2.1", "2.2"]
    assert [c.strip() for c in _complete(root, "phaser next --d", tmp_path)] == ["--dry-run"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_what_an_agent_wrote_cannot_drive_the_persons_terminal():
    """Escape sequences in a tool's command, a streamed reply or a gate's summary (the output of
    code the agent wrote) are shown as U+FFFD on a terminal, never sent to it; a pipe gets the text."""
    planted = "\x1b]52;c;aGk=\x07\x1b[2J"
    console = Console(file=io.StringIO(), force_terminal=True, width=200, color_system="truecolor")
    printer = EventPrinter(console=console)
    try:
        printer(ev.PhaseStarted("demo", 1, "Count words", "m"))
        printer(ev.StepStarted("code"))
        printer(ev.ToolStarted("bash", f"echo {planted}"))
        printer(ev.ToolFinished("bash", True, f"echo {planted}"))
    finally:
        printer.close()
    shown = console.file.getvalue()
    assert "\x1b]52" not in shown and "\x1b[2J" not in shown and "echo \ufffd]52;c;aGk=\ufffd" in shown
    outcome = SimpleNamespace(
        outcome="failed",
        slug="demo",
        phase=1,
        detail=f"red gate {planted}",
        hints=[],
        commit=None,
        gates=[{"ok": False, "command": "pytest -q", "summary": f"1 failed {planted}"}],
        cost_usd=0,
        model="m",
        usage={},
    )
    terminal, pipe = _Terminal(), io.StringIO()
    print_outcome(outcome, terminal)
    print_outcome(outcome, pipe)
    assert (
        "\x1b" not in terminal.getvalue()
        and "1 failed \ufffd]52;c;aGk=\ufffd\ufffd[2J" in terminal.getvalue()
    )
    assert planted in pipe.getvalue()
