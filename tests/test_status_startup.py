"""`phaser status` starts near the interpreter's floor: on an unchanged plan (and spec) it imports
no markdown parser, no YAML, no terminal renderer in a pipe, no model SDK and no TUI; the one
subparser it builds words help and errors as the whole tree does; the cached spec check is never
stale. Run as users run it: the console script in a subprocess, its imports recorded by Python
itself (PYTHONPROFILEIMPORTTIME)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from phaser.cli.parser import build_parser, command_word
from phaser.config import DEFAULT_TOML

SPEC = "---\ntitle: Word stats\n---\n\n# Word stats\n\nCount words.\n"
PLAN = (
    "---\ntitle: Word stats\nspec: spec.md\n---\n\n# Word stats\n\n"
    "## Phase 1: Setup\n\ndifficulty: easy\n\n- [ ] scaffold\n- [x] readme\n\n"
    "## Phase 2: Count\n\ndepends: 1\n\n- [ ] count words\n\n### Notes\n\n- a note\n"
)
NEVER_ON_A_WARM_STATUS = ["markdown_it", "phaser.plan.parse", "yaml", "frontmatter", "rich", "anthropic"]
NEVER_ON_A_WARM_STATUS += ["openai", "textual", "watchdog", "httpx", "phaser.tui", "phaser.agent", "tomllib"]


def phaser_command() -> list[str]:
    script = Path(sys.executable).with_name("phaser")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "phaser"]


def run_recorded(*argv: str, cwd: Path | None = None) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run phaser with stdout a pipe; return the process and every module it imported."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "NO_COLOR": ""}
    env.pop("_ARGCOMPLETE", None)
    proc = subprocess.run(
        [*phaser_command(), *argv], capture_output=True, text=True, timeout=120, env=env, cwd=cwd
    )
    modules = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", proc.stderr, re.MULTILINE))
    assert "phaser.cli" in modules, proc.stderr[-2000:]  # the recording worked
    proc.stderr = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("import time:"))
    return proc, modules


def banned(modules: set[str]) -> set[str]:
    """The modules of NEVER_ON_A_WARM_STATUS (and their submodules) among ``modules``."""
    return {m for m in modules for b in NEVER_ON_A_WARM_STATUS if m == b or m.startswith(b + ".")}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".phaser").mkdir()
    (tmp_path / "phaser.toml").write_text(DEFAULT_TOML)  # as `phaser init` writes it
    folder = tmp_path / "specs" / "word-stats"
    folder.mkdir(parents=True)
    (folder / "spec.md").write_text(SPEC)  # with frontmatter, as `phaser new` writes it
    (folder / "plan.md").write_text(PLAN)
    return tmp_path


def test_a_warm_status_imports_no_parser_renderer_sdk_or_tui(project: Path) -> None:
    cold, cold_modules = run_recorded("-C", str(project), "status")
    assert cold.returncode == 0, cold.stderr
    assert "markdown_it" in cold_modules and "yaml" in cold_modules  # the first run parses (and could fail)
    for argv in (["status"], ["status", "word-stats"], ["status", "--json"]):
        warm, modules = run_recorded("-C", str(project), *argv)
        assert warm.returncode == 0, warm.stderr
        assert banned(modules) == set(), argv
        if argv == ["status"]:
            assert warm.stdout == cold.stdout
    assert "phases 0/2  tasks 1/3  next: phase 1" in cold.stdout


def test_a_changed_plan_is_parsed_again_and_shown_changed(project: Path) -> None:
    run_recorded("-C", str(project), "status")
    plan = project / "specs" / "word-stats" / "plan.md"
    plan.write_text(PLAN.replace("- [ ] scaffold", "- [x] scaffold"))
    proc, modules = run_recorded("-C", str(project), "status")
    assert "markdown_it" in modules
    assert "tasks 2/3" in proc.stdout


def test_the_cached_spec_check_follows_every_change_of_the_spec(project: Path) -> None:
    spec = project / "specs" / "word-stats" / "spec.md"
    spec.write_text("---\ntitle: [unclosed\n---\n\n# Word stats\n")
    for run in range(2):  # the second run answers from the cache, with the same problem and line
        proc, modules = run_recorded("-C", str(project), "status")
        assert "specs/word-stats/spec.md:3: invalid YAML frontmatter" in proc.stdout, proc.stdout
        assert "next and run refuse this plan" in proc.stdout
        assert ("yaml" in modules) == (run == 0)
    spec.write_text(SPEC)  # fixed: the entry for the broken bytes no longer applies
    proc, _modules = run_recorded("-C", str(project), "status")
    assert "spec.md" not in proc.stdout and "next: phase 1" in proc.stdout
    proc, modules = run_recorded("-C", str(project), "status")
    assert "spec.md" not in proc.stdout and banned(modules) == set()
    forged = next((project / ".phaser" / "cache" / "checks").glob("*.json"))
    forged.write_text(forged.read_text().replace('"problems":[]', '"problems":[[1,"forged"]]'))
    spec.write_text(SPEC.replace("Count words.", "Count words!"))  # same size, new bytes
    proc, _modules = run_recorded("-C", str(project), "status")
    assert "forged" not in proc.stdout


def test_the_cached_settings_follow_every_change_of_phaser_toml(project: Path) -> None:
    run_recorded("-C", str(project), "status")
    toml = project / "phaser.toml"
    toml.write_text(DEFAULT_TOML.replace('# medium = "claude-sonnet-5-5"', 'medium = "my-medium"'))
    proc, modules = run_recorded("-C", str(project), "status")
    assert "tomllib" in modules and "my-medium" in proc.stdout, proc.stdout
    proc, modules = run_recorded("-C", str(project), "status")
    assert "tomllib" not in modules and "my-medium" in proc.stdout  # from the cache, the same
    toml.write_text(toml.read_text().replace('medium = "my-medium"', 'medium = "my-mediun"'))  # same size
    proc, modules = run_recorded("-C", str(project), "status")
    assert "my-mediun" in proc.stdout
    toml.write_text(toml.read_text().replace('medium = "my-mediun"', "medium = 3"))
    for _ in range(2):  # a wrong value: the same error, with its line, from a parse or from the cache
        proc, modules = run_recorded("-C", str(project), "status")
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == f"phaser: {toml}:7: models.medium must be a string, not int 3"
    toml.write_text(toml.read_text().replace("medium = 3", 'medium = "unclosed'))
    for _ in range(2):  # broken TOML is never cached: parsed (and refused) every time
        proc, modules = run_recorded("-C", str(project), "status")
        assert proc.returncode == 2 and proc.stderr.startswith(f"phaser: {toml}:7: invalid TOML"), proc.stderr
        assert "tomllib" in modules


def test_next_dry_run_reads_the_plan_and_spec_from_the_cache(project: Path) -> None:
    (project / "turns.json").write_text("[]")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "add", "-A"], check=True)
    git_id = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "-C", str(project), *git_id, "commit", "-qm", "start"], check=True)
    dry_run = ["-C", str(project), "next", "--dry-run", "--script", str(project / "turns.json")]
    cold, cold_modules = run_recorded(*dry_run)
    assert cold.returncode == 0, cold.stderr
    assert "markdown_it" in cold_modules
    warm, modules = run_recorded(*dry_run)
    assert warm.returncode == 0 and warm.stdout == cold.stdout, warm.stderr
    assert cold.stdout.startswith("would run word-stats phase 1: Setup")
    assert {"markdown_it", "yaml", "frontmatter"} & modules == set()


@pytest.mark.parametrize("argv", [["status", "-h"], ["--help"], ["status", "--bogus"], ["bogus"]])
def test_help_and_usage_errors_are_those_of_the_whole_tree(project: Path, argv: list[str]) -> None:
    proc, _modules = run_recorded(*argv)
    parser = build_parser()
    if argv == ["status", "-h"]:
        assert proc.returncode == 0 and proc.stdout == parser.subparsers["status"].format_help()
    elif argv == ["--help"]:
        assert proc.returncode == 0 and proc.stdout == parser.format_help()
    elif argv == ["bogus"]:
        assert proc.returncode == 2 and "invalid choice: 'bogus' (choose from 'init', 'new'" in proc.stderr
    else:
        assert proc.returncode == 2
        assert proc.stderr.splitlines()[-1] == "phaser status: error: unrecognized arguments: --bogus"


def test_one_commands_parser_words_everything_as_the_whole_tree_does() -> None:
    full = build_parser()
    for name, sub in full.subparsers.items():
        one = build_parser(only=name)
        assert list(one.subparsers) == [name]
        assert one.subparsers[name].format_help() == sub.format_help(), name
        assert one.format_usage() == full.format_usage()
    assert list(build_parser(only="bogus").subparsers) == list(full.subparsers)


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["status"], "status"),
        (["-C", "dir", "status", "--json"], "status"),
        (["-Cdir", "next", "--dry-run"], "next"),
        (["--version"], None),
        (["-h", "status"], None),
        ([], None),
        (["-C"], None),
    ],
)
def test_the_command_word_is_found_after_the_top_level_options(argv: list[str], word: str | None) -> None:
    assert command_word(argv) == word
