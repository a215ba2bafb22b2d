"""The demo's project and its scripted agent: a small real package with a spec and a failing test
suite, the plan a model would write for it, and the turns the scripted provider plays back.

The agent is scripted (no model, no network), but everything around it is real: the plan is
validated and written by phaser, files change only in the coding step, the existing tests are
protected, pytest runs as the gate (and fails once), tasks are ticked only after green gates, each
phase is committed, and costs are computed from token counts and the price table. The terminal
side (`phaser demo`) is ``phaser.cli.demo``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from phaser.workflow.project import Project
from phaser.workflow.specs import init_project

SPEC = """\
---
title: Word statistics
---

# Word statistics

## Goal
A tiny library, `wordstats`, that answers questions about a text: how many words it has and which
words are most frequent, plus a command line to use it on a file.

## Requirements
- `count_words(text)` returns the number of words; words are runs of letters, digits or apostrophes,
  case-insensitive.
- `top_words(text, n)` returns the n most frequent words as `(word, count)` pairs, most frequent
  first, ties in alphabetical order.
- `python -m wordstats FILE` prints the word count and the top 3 words.

## Acceptance
- The existing tests in `tests/test_count.py` pass unchanged.
- New behaviour comes with new tests.
"""

TEST_COUNT = """\
from wordstats import count_words


def test_counts_words():
    assert count_words("The cat and the hat.") == 5


def test_empty_text_has_no_words():
    assert count_words("") == 0


def test_apostrophes_stay_inside_words():
    assert count_words("Don't stop") == 2
"""

PLAN = """\
---
title: Word statistics
spec: spec.md
format: 1
---

# Word statistics

## Overview
Three small phases: the tokenizer and count first (the existing tests judge it), then frequency,
then the command line. Each phase adds its own tests.

## Phase 1: Count words
difficulty: easy

- [ ] Add `wordstats/core.py` with a tokenizer and `count_words`
- [ ] Export `count_words` from the package so `tests/test_count.py` passes

## Phase 2: Most frequent words
difficulty: medium
depends: 1

- [ ] Add `top_words(text, n)`: most frequent first, ties alphabetical
- [ ] Add `tests/test_top.py` covering ordering and ties

## Phase 3: Command line
difficulty: easy
depends: 2

- [ ] `python -m wordstats FILE` prints the count and the top 3 words
- [ ] Add `tests/test_cli.py` running it on a temporary file
"""

CORE_V1 = """\
import re

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def count_words(text: str) -> int:
    return len(words(text))
"""

TOP_WRONG = """

def top_words(text: str, n: int) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for word in words(text):
        counts[word] = counts.get(word, 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])[:n]
"""

TEST_TOP = """\
from wordstats import top_words


def test_most_frequent_first():
    assert top_words("b a b c b a", 2) == [("b", 3), ("a", 2)]


def test_ties_are_alphabetical():
    assert top_words("pear apple fig", 3) == [("apple", 1), ("fig", 1), ("pear", 1)]
"""

MAIN = """\
import sys
from pathlib import Path

from wordstats import count_words, top_words


def main(argv: list[str]) -> int:
    text = Path(argv[0]).read_text(encoding="utf-8")
    print(f"{count_words(text)} words")
    for word, count in top_words(text, 3):
        print(f"{count:>5}  {word}")
    return 0


sys.exit(main(sys.argv[1:]))
"""

TEST_CLI = """\
import subprocess
import sys


def test_cli_prints_count_and_top_words(tmp_path):
    sample = tmp_path / "sample.txt"
    sample.write_text("one two two three three three", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "wordstats", str(sample)], capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == ["6 words", "    3  three", "    2  two", "    1  one"]
"""


def _edit(command: str, path: str, **kw) -> dict:
    return {"name": "str_replace_based_edit_tool", "input": {"command": command, "path": path, **kw}}


def _finish(summary: str) -> dict:
    return {"name": "finish_step", "input": {"summary": summary}}


def _claims(phase: int, n: int, evidence: str) -> list[dict]:
    return [
        {"name": "claim_task", "input": {"ref": f"{phase}.{i}", "evidence": evidence}}
        for i in range(1, n + 1)
    ]


def demo_script() -> list[dict]:
    """The scripted agent's turns, in the order phaser asks for them."""
    return [
        # phaser plan: explore read-only, then answer with the plan
        {
            "text": "Let me look at the repository and the spec.",
            "tool_calls": [{"name": "bash", "input": {"command": "ls -R wordstats tests specs"}}],
        },
        {"tool_calls": [_edit("view", "tests/test_count.py")]},
        {"text": PLAN},
        # Phase 1: explore, code, (gates green), update
        {
            "text": "Reading the tests that judge this phase.",
            "tool_calls": [_edit("view", "tests/test_count.py"), _edit("view", "wordstats/__init__.py")],
        },
        {
            "text": "Writing would be refused in this step, so I only note the approach.",
            "tool_calls": [_finish("Add a regex tokenizer in core.py and export count_words.")],
        },
        {"tool_calls": [_edit("create", "wordstats/core.py", file_text=CORE_V1)]},
        {
            "tool_calls": [
                _edit(
                    "str_replace",
                    "wordstats/__init__.py",
                    old_str='"""Word statistics."""\n',
                    new_str=(
                        '"""Word statistics."""\n\nfrom wordstats.core import count_words\n\n'
                        '__all__ = ["count_words"]\n'
                    ),
                ),
                _finish("core.py with words() and count_words(); exported."),
            ]
        },
        {
            "tool_calls": [
                *_claims(1, 2, "tests/test_count.py passes under the harness's gate"),
                {
                    "name": "add_note",
                    "input": {
                        "text": "Tokenizer is `words()` in core.py: lower-case runs of [a-z0-9']; reuse it "
                        "for frequency."
                    },
                },
            ]
        },
        {"tool_calls": [_finish("Phase 1 done.")]},
        # Phase 2: explore; code with a bug and a refused attempt to touch a protected test; gates red; fix
        {"tool_calls": [_edit("view", "wordstats/core.py")]},
        {"tool_calls": [_finish("Add top_words next to count_words, plus tests/test_top.py.")]},
        {
            "text": "The old test's sample could use a tie too; let me extend it.",
            "tool_calls": [
                _edit(
                    "str_replace",
                    "tests/test_count.py",
                    old_str="The cat and the hat.",
                    new_str="The cat and the the hat.",
                )
            ],
        },
        {
            "text": "Understood: existing tests are protected. I'll add a new test file instead.",
            "tool_calls": [
                _edit(
                    "str_replace",
                    "wordstats/core.py",
                    old_str="    return len(words(text))\n",
                    new_str="    return len(words(text))\n" + TOP_WRONG,
                ),
                _edit("create", "tests/test_top.py", file_text=TEST_TOP),
                _edit(
                    "str_replace",
                    "wordstats/__init__.py",
                    old_str='count_words\n\n__all__ = ["count_words"]',
                    new_str='count_words, top_words\n\n__all__ = ["count_words", "top_words"]',
                ),
            ],
        },
        {"tool_calls": [_finish("top_words added with tests.")]},
        {
            "text": "Ties must be alphabetical; sort by (-count, word).",
            "tool_calls": [
                _edit(
                    "str_replace",
                    "wordstats/core.py",
                    old_str="key=lambda item: -item[1]",
                    new_str="key=lambda item: (-item[1], item[0])",
                )
            ],
        },
        {"tool_calls": [_finish("Fixed the tie order.")]},
        {
            "tool_calls": [
                *_claims(2, 2, "tests/test_top.py and the existing tests pass"),
                {
                    "name": "add_note",
                    "input": {"text": "First attempt sorted by count only; the gate caught the tie order."},
                },
            ]
        },
        {"tool_calls": [_finish("Phase 2 done.")]},
        # Phase 3
        {"tool_calls": [_edit("view", "wordstats/__init__.py")]},
        {"tool_calls": [_finish("Add wordstats/__main__.py and a CLI test.")]},
        {
            "tool_calls": [
                _edit("create", "wordstats/__main__.py", file_text=MAIN),
                _edit("create", "tests/test_cli.py", file_text=TEST_CLI),
            ]
        },
        {"tool_calls": [_finish("CLI added.")]},
        {
            "tool_calls": [
                *_claims(3, 2, "tests/test_cli.py passes"),
                {
                    "name": "add_note",
                    "input": {
                        "text": "Follow-up for a human to decide: a `--top N` option to choose how many "
                        "words to show."
                    },
                },
            ]
        },
        {"tool_calls": [_finish("Phase 3 done; left a follow-up suggestion in the notes.")]},
    ]


def missing_runner(python: str = sys.executable) -> str | None:
    """What the demo's gates lack, as a sentence with the fix, or None. The gates run pytest on the
    interpreter phaser runs on (a plain install brings it), never a bare ``python`` from PATH."""
    try:
        done = subprocess.run(
            [python, "-m", "pytest", "--version"], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"the demo's gates run `{python} -m pytest`, which cannot start ({exc})"
    if done.returncode == 0:
        return None
    return (
        f"the demo's gates run `{python} -m pytest`, and pytest is not installed there: "
        f"`{python} -m pip install pytest` (or reinstall phaser, which depends on it)"
    )


def make_demo_project(root: Path, *, scripted: bool = True) -> Project:
    """A small real project: a package, a failing test suite, a spec, git; with ``scripted``, the
    scripted agent's turns are committed beside it so a reader can see what the 'model' says."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "wordstats").mkdir(exist_ok=True)
    (root / "wordstats" / "__init__.py").write_text('"""Word statistics."""\n', encoding="utf-8")
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / "test_count.py").write_text(TEST_COUNT, encoding="utf-8")
    (root / "specs" / "word-stats").mkdir(parents=True, exist_ok=True)
    (root / "specs" / "word-stats" / "spec.md").write_text(SPEC, encoding="utf-8")
    (root / "AGENTS.md").write_text(
        "Run the tests with `python3 -m pytest -q`. Keep functions small.\n", encoding="utf-8"
    )
    init_project(root)
    gate = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    (root / "phaser.toml").write_text(
        "# Written by phaser demo.\n[gates]\n"
        f"commands = [{json.dumps(gate)}]\nfix_attempts = 2\n\n[models]\nescalate = false\n",
        encoding="utf-8",
    )
    (root / ".gitignore").write_text((root / ".gitignore").read_text() + "__pycache__/\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, capture_output=True)
    _commit(root, "A word statistics package with a failing test suite")
    if not scripted:
        return Project.open(root)
    (root / "demo-script.json").write_text(json.dumps(demo_script(), indent=1), encoding="utf-8")
    _commit(root, "The scripted agent's turns")
    return Project.open(root)


def _commit(root: Path, message: str) -> None:
    """Commit everything as the demo's own author (the machine may have no git identity)."""
    git = ["git", "-c", "user.name=demo", "-c", "user.email=demo@localhost"]
    subprocess.run([*git, "add", "-A"], cwd=root, check=True, capture_output=True)
    subprocess.run([*git, "commit", "-q", "-m", message], cwd=root, check=True, capture_output=True)
