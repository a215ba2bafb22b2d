"""The CLI's file commands through the public interface: ``main([...])`` in-process (with capsys)
and a few real ``python -m phaser`` subprocesses. Every project lives in tmp_path."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from phaser.cli import main
from phaser.config import Config, load_config

# A hand-written plan: dependencies, a blocked and a skipped phase, nested tasks, and tasks inside
# a code fence (which are not tasks).
PLAN = """\
---
title: Demo plan
format: 1
---

# Demo plan

## Phase 1: Setup
difficulty: easy

- [x] one
- [X] two

## Phase 2: Core
difficulty: hard
depends: 1

- [x] parent
  - [ ] child
    - [x] grandchild
- [ ] other

```
- [ ] not a task
- [x] not a task either
```

## Phase 3: Blocked thing
difficulty: medium
status: blocked

- [ ] b1

## Phase 4: Skipped
status: skipped

- [ ] s1

## Phase 5: Later
depends: 2, 3

- [ ] l1
- [ ] l2
"""

PHASE_KEYS = ("number", "title", "difficulty", "depends", "state", "tasks_done", "tasks_total")

EXPECTED_PHASES = [
    {
        "number": 1,
        "title": "Setup",
        "difficulty": "easy",
        "depends": [],
        "state": "done",
        "tasks_done": 2,
        "tasks_total": 2,
    },
    {
        "number": 2,
        "title": "Core",
        "difficulty": "hard",
        "depends": [1],
        "state": "next",
        "tasks_done": 2,
        "tasks_total": 4,
    },
    {
        "number": 3,
        "title": "Blocked thing",
        "difficulty": "medium",
        "depends": [],
        "state": "blocked",
        "tasks_done": 0,
        "tasks_total": 1,
    },
    {
        "number": 4,
        "title": "Skipped",
        "difficulty": "medium",
        "depends": [],
        "state": "skipped",
        "tasks_done": 0,
        "tasks_total": 1,
    },
    {
        "number": 5,
        "title": "Later",
        "difficulty": "medium",
        "depends": [2, 3],
        "state": "pending",
        "tasks_done": 0,
        "tasks_total": 2,
    },
]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """main(argv) -> (exit code, stdout, stderr); argparse's SystemExit counts as an exit code."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def project(tmp_path: Path, plans: dict[str, str | bytes] | None = None) -> Path:
    """A project root (anchored by an empty .git so find_root never walks above tmp_path)."""
    (tmp_path / ".git").mkdir(parents=True, exist_ok=True)
    (tmp_path / "specs").mkdir(exist_ok=True)
    for slug, text in (plans or {}).items():
        folder = tmp_path / "specs" / slug
        folder.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8") if isinstance(text, str) else text
        (folder / "plan.md").write_bytes(data)
    return tmp_path


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under root."""
    out: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = None if path.is_dir() else path.read_bytes()
    return out


def frontmatter(text: str) -> dict:
    assert text.startswith("---\n"), text
    return yaml.safe_load(text.split("---\n", 2)[1])


# --------------------------------------------------------------------------------------------- init


def test_init_scaffolds_specs_config_and_gitignore(tmp_path, capsys):
    code, out, err = run(capsys, "-C", str(tmp_path), "init")
    assert code == 0, err
    assert err == ""
    assert (tmp_path / "specs").is_dir()
    assert (tmp_path / "phaser.toml").is_file()
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".phaser/" in lines
    assert not any(".lock" in line for line in lines)  # phaser's locks live under .phaser/
    assert "created specs/" in out and "created phaser.toml" in out


def test_init_config_loads_and_every_commented_default_is_the_default(tmp_path, capsys):
    assert run(capsys, "-C", str(tmp_path), "init")[0] == 0
    text = (tmp_path / "phaser.toml").read_text(encoding="utf-8")
    defaults = Config(root=tmp_path)
    loaded = load_config(tmp_path)
    assert loaded.source == tmp_path / "phaser.toml"
    for f in dataclasses.fields(Config):
        if f.name not in ("root", "source"):
            assert getattr(loaded, f.name) == getattr(defaults, f.name), f.name
    # The commented values are the defaults: uncommented, the file still loads to the same settings.
    uncommented = re.sub(r"(?m)^# ([a-z_]+ = )", r"\1", text)
    assert uncommented != text
    other = tmp_path / "uncommented"
    other.mkdir()
    (other / "phaser.toml").write_text(uncommented, encoding="utf-8")
    active = load_config(other)
    for f in dataclasses.fields(Config):
        if f.name not in ("root", "source"):
            assert getattr(active, f.name) == getattr(defaults, f.name), f.name
    # And `phaser validate` agrees.
    assert run(capsys, "-C", str(tmp_path), "validate")[:2] == (0, "ok\n")


def test_init_twice_changes_nothing(tmp_path, capsys):
    assert run(capsys, "-C", str(tmp_path), "init")[0] == 0
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "init")
    assert code == 0, err
    assert "nothing to do" in out
    assert tree(tmp_path) == before


def test_init_keeps_existing_files_byte_for_byte(tmp_path, capsys):
    toml = b'# mine\r\n[models]\r\neasy = "claude-haiku-4-5"\r\n'
    (tmp_path / "phaser.toml").write_bytes(toml)
    (tmp_path / ".gitignore").write_bytes(b"node_modules/")  # no final newline
    (tmp_path / "specs" / "keep").mkdir(parents=True)
    (tmp_path / "specs" / "keep" / "spec.md").write_bytes(b"---\ntitle: Keep\n---\n")
    code, out, err = run(capsys, "-C", str(tmp_path), "init")
    assert code == 0, err
    assert (tmp_path / "phaser.toml").read_bytes() == toml
    assert (tmp_path / "specs" / "keep" / "spec.md").read_bytes() == b"---\ntitle: Keep\n---\n"
    # Existing lines kept as they were; only the missing entry appended, each on its own line.
    assert (tmp_path / ".gitignore").read_bytes() == b"node_modules/\n.phaser/\n"
    before = tree(tmp_path)
    assert run(capsys, "-C", str(tmp_path), "init")[0] == 0
    assert tree(tmp_path) == before


def test_init_in_cwd(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "init")[0] == 0
    assert (tmp_path / "specs").is_dir() and (tmp_path / "phaser.toml").is_file()


# ---------------------------------------------------------------------------------------------- new


def test_new_writes_spec_from_template(tmp_path, capsys):
    project(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "new", "Token refresh")
    assert code == 0, err
    spec = tmp_path / "specs" / "token-refresh" / "spec.md"
    assert "created specs/token-refresh/spec.md" in out
    text = spec.read_text(encoding="utf-8")
    assert frontmatter(text) == {"title": "Token refresh"}
    assert "\n# Token refresh\n" in text
    template = (Path(__file__).parents[1] / "templates" / "spec.md").read_text(encoding="utf-8")
    for heading in re.findall(r"(?m)^## .*$", template):
        assert heading in text
    assert "{title}" not in text
    # A fresh spec validates cleanly.
    assert run(capsys, "-C", str(tmp_path), "validate")[:2] == (0, "ok\n")


@pytest.mark.parametrize(
    "title",
    [
        "Fix: token refresh",
        'The "quoted" title',
        "it's: a 'mix' of \"quotes\"",
        "a: b: c",
        "- leading dash",
        "# hash",
        "[brackets] and {braces}",
        "trailing colon:",
        "x #not a comment",
        "Über café: naïve",
        "back\\slash",
        "&anchor *alias !tag %pct @at `tick",
    ],
)
def test_new_title_is_valid_yaml_and_round_trips(tmp_path, capsys, title):
    project(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "new", title, "--slug", "s")
    assert code == 0, err
    text = (tmp_path / "specs" / "s" / "spec.md").read_text(encoding="utf-8")
    assert frontmatter(text)["title"] == title
    assert run(capsys, "-C", str(tmp_path), "validate")[:2] == (0, "ok\n")


@pytest.mark.parametrize("title", ["Yes", "null", "2024", "1.5"])
def test_new_title_that_looks_like_a_yaml_scalar_stays_a_string(tmp_path, capsys, title):
    # BUG (src/phaser/workflow/specs.py, yaml_scalar): these titles are written bare
    # (`title: Yes`), so the frontmatter title loads as True / None / 2024 / 1.5, not the title.
    project(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "new", title, "--slug", "s")
    assert code == 0, err
    text = (tmp_path / "specs" / "s" / "spec.md").read_text(encoding="utf-8")
    assert frontmatter(text)["title"] == title


def test_new_refuses_to_overwrite(tmp_path, capsys):
    project(tmp_path)
    assert run(capsys, "-C", str(tmp_path), "new", "Token refresh")[0] == 0
    spec = tmp_path / "specs" / "token-refresh" / "spec.md"
    spec.write_bytes(b"my edits\n")
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "new", "Token refresh")
    assert code == 2
    assert err.count("\n") == 1 and "specs/token-refresh/spec.md" in err and "exists" in err
    assert tree(tmp_path) == before


def test_new_slug_option_and_slugified_title(tmp_path, capsys):
    project(tmp_path)
    assert run(capsys, "-C", str(tmp_path), "new", "Ünïcode: Ärger & more!!")[0] == 0
    assert (tmp_path / "specs" / "unicode-arger-more" / "spec.md").is_file()
    assert run(capsys, "-C", str(tmp_path), "new", "Whatever", "--slug", "custom")[0] == 0
    assert (tmp_path / "specs" / "custom" / "spec.md").is_file()


def test_new_slug_cannot_escape_specs(tmp_path, capsys):
    # BUG (src/phaser/workflow/specs.py, new_spec): `--slug ../evil` writes <root>/evil/spec.md,
    # outside specs/. Whether phaser refuses (exit 2) or sanitizes, nothing may land outside specs/.
    root = project(tmp_path / "proj")
    code, out, err = run(capsys, "-C", str(root), "new", "Evil", "--slug", "../evil")
    created = [p for p in tmp_path.rglob("spec.md") if (root / "specs") not in p.parents]
    assert created == []
    if code != 0:
        assert code == 2 and err.count("\n") == 1


# ------------------------------------------------------------------------------------------- status


def test_status_json_exact(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    code, out, err = run(capsys, "-C", str(tmp_path), "status", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["plans"]
    [plan] = data["plans"]
    assert {k: plan[k] for k in ("slug", "path", "title", "next")} == {
        "slug": "demo",
        "path": "specs/demo/plan.md",
        "title": "Demo plan",
        "next": 2,
    }
    assert [{k: p[k] for k in PHASE_KEYS} for p in plan["phases"]] == EXPECTED_PHASES
    for p in plan["phases"]:
        assert p["state"] in ("done", "next", "pending", "blocked", "skipped")


def test_status_json_one_slug_and_next_null(tmp_path, capsys):
    done = "---\ntitle: All done\n---\n## Phase 1: A\n\n- [x] a\n\n## Phase 2: B\nstatus: done\n"
    stuck = "# Stuck\n\n## Phase 1: A\nstatus: blocked\n\n- [ ] a\n\n## Phase 2: B\ndepends: 1\n\n- [ ] b\n"
    project(tmp_path, {"demo": PLAN, "done": done, "stuck": stuck})
    code, out, err = run(capsys, "-C", str(tmp_path), "status", "--json")
    assert code == 0, err
    plans = json.loads(out)["plans"]
    assert [p["slug"] for p in plans] == ["demo", "done", "stuck"]
    assert [p["next"] for p in plans] == [2, None, None]
    assert [p["state"] for p in plans[1]["phases"]] == ["done", "done"]
    assert [p["state"] for p in plans[2]["phases"]] == ["blocked", "pending"]
    assert plans[2]["title"] == "Stuck"

    code, out, err = run(capsys, "-C", str(tmp_path), "status", "stuck", "--json")
    assert code == 0, err
    [only] = json.loads(out)["plans"]
    assert only["slug"] == "stuck" and only["next"] is None
    assert [(p["number"], p["depends"]) for p in only["phases"]] == [(1, []), (2, [1])]


def test_status_human_lists_phases(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    code, out, err = run(capsys, "-C", str(tmp_path), "status")
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    header = lines[0]
    assert "Demo plan" in header and "next: phase 2" in header and "tasks 4/10" in header
    for p in EXPECTED_PHASES:
        pattern = (
            rf"\b{p['number']}\s+{re.escape(p['title'])}\s+{p['difficulty']}\s+"
            rf"{p['tasks_done']}/{p['tasks_total']}\s+{p['state']}\b"
        )
        assert sum(1 for line in lines if re.search(pattern, line)) == 1, (pattern, out)


def test_status_human_complete_plan_says_so(tmp_path, capsys):
    project(tmp_path, {"done": "## Phase 1: A\n\n- [x] a\n"})
    code, out, err = run(capsys, "-C", str(tmp_path), "status", "done")
    assert code == 0, err
    assert "complete" in out.splitlines()[0]


def test_status_from_a_subfolder_finds_the_root(tmp_path, capsys, monkeypatch):
    project(tmp_path, {"demo": PLAN})
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "src" / "pkg")
    code, out, err = run(capsys, "status", "--json")
    assert code == 0, err
    assert json.loads(out)["plans"][0]["path"] == "specs/demo/plan.md"


def test_status_writes_nothing(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    before = tree(tmp_path)
    assert run(capsys, "-C", str(tmp_path), "status")[0] == 0
    assert run(capsys, "-C", str(tmp_path), "status", "--json")[0] == 0
    assert tree(tmp_path) == before


# ----------------------------------------------------------------------------------------- validate


def test_validate_clean_project_says_ok(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    (tmp_path / "specs" / "demo" / "spec.md").write_text("---\ntitle: Demo\n---\n# Demo\n", encoding="utf-8")
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "validate")
    assert (code, out) == (0, "ok\n"), err
    code, out, err = run(
        capsys, "-C", str(tmp_path), "validate", str(tmp_path / "specs" / "demo" / "plan.md")
    )
    assert (code, out) == (0, "ok\n"), err
    assert tree(tmp_path) == before


GOOD_TAIL = "\n## Phase 9: Tail\n\n- [ ] t\n"

# (plan bytes, expected 1-based line, a fragment of the message)
INVALID = {
    "broken-yaml": (b"---\ntitle: x\nowner: a: b\n---\n\n## Phase 1: A\n\n- [ ] t\n", 3, "invalid YAML"),
    "unknown-difficulty": (b"## Phase 1: A\n\n- [ ] t\n\n## Phase 2: B\ndifficulty: extreme\n", 6, "extreme"),
    "duplicate-phase": (b"# P\n\n## Phase 1: A\n\n- [ ] t\n\n## Phase 1: B\n\n- [ ] u\n", 7, "duplicate"),
    "missing-dependency": (b"## Phase 1: A\ndifficulty: easy\ndepends: 7\n\n- [ ] t\n", 3, "phase 7"),
    "cycle": (
        b"# P\n\n## Phase 1: A\n\n- [ ] t\n\n## Phase 2: B\ndepends: 3\n\n## Phase 3: C\ndepends: 2\n",
        7,
        "cycle",
    ),
    "non-utf8": (b"## Phase 1: A\n\n- [ ] t\n- [ ] caf\xe9\n", 4, "UTF-8"),
    "binary": (b"## Phase 1: A\n\n- [ ] t\n\x00\x01\x02\n", 4, "binary"),
    "no-phases": (b"---\ntitle: x\n---\n# Only a title\n\nSome text.\n", 1, "no phases"),
    "unknown-meta-key": (b"## Phase 1: A\ndifficulty: easy\ncolour: red\n\n- [ ] t\n", 3, "colour"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_validate_reports_file_line_message(tmp_path, capsys, case):
    data, line, fragment = INVALID[case]
    project(tmp_path, {"good": PLAN, "bad": data})
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 2, (out, err)
    problems = out.splitlines()
    assert problems, err
    assert all(re.match(r"^\S+:\d+: \S", p) for p in problems), problems
    assert all(p.startswith("specs/bad/plan.md:") for p in problems), problems
    assert any(p.startswith(f"specs/bad/plan.md:{line}: ") and fragment in p for p in problems), problems
    assert tree(tmp_path) == before


def test_validate_cycle_reported_once_and_every_problem_listed(tmp_path, capsys):
    text = (
        "## Phase 1: A\ndifficulty: extreme\ndepends: 2\n\n- [ ] t\n\n"
        "## Phase 2: B\ndepends: 1, 8\n\n- [ ] u\n"
    )
    project(tmp_path, {"p": text})
    code, out, err = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 2
    problems = out.splitlines()
    assert [p.split(":")[1] for p in problems] == ["1", "2", "8"], problems
    assert sum("cycle" in p for p in problems) == 1
    assert "3 problems" in err


def test_validate_config_unknown_key_file_line(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    (tmp_path / "phaser.toml").write_text(
        '[models]\neasy = "claude-haiku-5-5"\n\n[gates]\nfix_attempts = 1\ncomand = "x"\n', encoding="utf-8"
    )
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 2
    assert re.search(r"phaser\.toml:6: .*comand", out + err), (out, err)
    assert tree(tmp_path) == before


def test_validate_lists_config_and_plan_problems_together(tmp_path, capsys):
    # BUG (src/phaser/cli/commands.py cmd_validate -> _project -> Project.open -> load_config):
    # a phaser.toml with an unknown key raises before workflow/checks.validate runs, so validate
    # prints one `phaser: /abs/phaser.toml:2: ...` line on stderr and none of the plan's problems,
    # although it promises every problem as `file:line: message` (checks.py even has the code for it).
    project(tmp_path, {"demo": "## Phase 1: A\ndifficulty: extreme\n\n- [ ] t\n"})
    (tmp_path / "phaser.toml").write_text('[models]\nesy = "x"\n', encoding="utf-8")
    code, out, err = run(capsys, "-C", str(tmp_path), "validate")
    assert code == 2
    problems = out.splitlines()
    assert any(p.startswith("phaser.toml:2: ") and "esy" in p for p in problems), (out, err)
    assert any(p.startswith("specs/demo/plan.md:2: ") and "extreme" in p for p in problems), (out, err)


def test_validate_path_relative_to_dash_C(tmp_path, capsys, monkeypatch):
    # BUG (src/phaser/cli/commands.py cmd_validate: Path(args.path) is taken relative to the
    # process's cwd, not to -C DIR; same for a folder/plan path as SLUG in Project.spec):
    # `phaser -C DIR validate specs/x/plan.md` says "no such file or folder" unless cwd is DIR.
    project(tmp_path / "proj", {"x": "## Phase 1: A\ndifficulty: extreme\n\n- [ ] t\n"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path / "proj")
    expected = run(capsys, "validate", "specs/x/plan.md")
    assert expected[0] == 2 and "extreme" in expected[1]
    monkeypatch.chdir(elsewhere)
    assert run(capsys, "-C", str(tmp_path / "proj"), "validate", "specs/x/plan.md") == expected


# --------------------------------------------------------------------------------------------- tick


def one_byte_change(before: bytes, after: bytes) -> tuple[int, int, int]:
    """(offset, old byte, new byte) of the only differing byte; fails unless exactly one differs."""
    assert len(before) == len(after)
    diffs = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert len(diffs) == 1, diffs
    i = diffs[0]
    return i, before[i], after[i]


def line_of(data: bytes, offset: int) -> bytes:
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    return data[start : end if end >= 0 else len(data)]


@pytest.mark.parametrize(
    ("ref", "line"),
    [
        ("2.2", b"  - [x] child"),
        ("2.4", b"- [x] other"),
        ("3.1", b"- [x] b1"),
        ("5.2", b"- [x] l2"),
    ],
)
def test_tick_checks_exactly_one_byte_in_document_order(tmp_path, capsys, ref, line):
    project(tmp_path, {"demo": PLAN})
    plan = tmp_path / "specs" / "demo" / "plan.md"
    before = plan.read_bytes()
    code, out, err = run(capsys, "-C", str(tmp_path), "tick", "demo", ref)
    assert code == 0, err
    after = plan.read_bytes()
    offset, old, new = one_byte_change(before, after)
    assert (old, new) == (ord(" "), ord("x"))
    assert line_of(after, offset) == line
    assert out.startswith(f"[x] {ref} ")


@pytest.mark.parametrize("ref", ["1.1", "2.1", "2.3"])
def test_tick_already_checked_writes_nothing(tmp_path, capsys, ref):
    project(tmp_path, {"demo": PLAN})
    plan = tmp_path / "specs" / "demo" / "plan.md"
    before = plan.read_bytes()
    code, out, err = run(capsys, "-C", str(tmp_path), "tick", "demo", ref)
    assert code == 0, err
    assert plan.read_bytes() == before


def test_tick_nested_task_order_and_undo(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    plan = tmp_path / "specs" / "demo" / "plan.md"
    original = plan.read_bytes()

    assert run(capsys, "-C", str(tmp_path), "tick", "demo", "2.2")[0] == 0
    ticked = plan.read_bytes()
    offset, old, new = one_byte_change(original, ticked)
    assert line_of(ticked, offset) == b"  - [x] child" and (old, new) == (32, ord("x"))

    code, out, err = run(capsys, "-C", str(tmp_path), "tick", "demo", "2.3", "--undo")
    assert code == 0, err
    unticked = plan.read_bytes()
    offset, old, new = one_byte_change(ticked, unticked)
    assert line_of(unticked, offset) == b"    - [ ] grandchild" and (old, new) == (ord("x"), 32)

    assert run(capsys, "-C", str(tmp_path), "tick", "demo", "2.2", "--undo")[0] == 0
    assert run(capsys, "-C", str(tmp_path), "tick", "demo", "2.3")[0] == 0
    assert plan.read_bytes() == original

    # Uppercase [X] unticks like [x].
    assert run(capsys, "-C", str(tmp_path), "tick", "demo", "1.2", "--undo")[0] == 0
    offset, old, new = one_byte_change(original, plan.read_bytes())
    assert line_of(plan.read_bytes(), offset) == b"- [ ] two" and old == ord("X")


def test_tick_status_follows(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    for ref in ("2.2", "2.4"):
        assert run(capsys, "-C", str(tmp_path), "tick", "demo", ref)[0] == 0
    code, out, err = run(capsys, "-C", str(tmp_path), "status", "--json")
    plan = json.loads(out)["plans"][0]
    states = {p["number"]: (p["state"], p["tasks_done"], p["tasks_total"]) for p in plan["phases"]}
    assert states[2] == ("done", 4, 4)
    # Phase 5 depends on blocked phase 3: nothing is runnable.
    assert states[5] == ("pending", 0, 2)
    assert plan["next"] is None


def test_tick_without_slug_when_one_spec(tmp_path, capsys, monkeypatch):
    project(tmp_path, {"demo": PLAN})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "tick", "5.1")
    assert code == 0, err
    assert b"- [x] l1\n" in (tmp_path / "specs" / "demo" / "plan.md").read_bytes()


def test_tick_crlf_plan_stays_crlf(tmp_path, capsys):
    crlf = PLAN.replace("\n", "\r\n").encode("utf-8")
    project(tmp_path, {"demo": crlf})
    plan = tmp_path / "specs" / "demo" / "plan.md"
    assert run(capsys, "-C", str(tmp_path), "tick", "demo", "2.2")[0] == 0
    after = plan.read_bytes()
    offset, old, new = one_byte_change(crlf, after)
    assert line_of(after, offset) == b"  - [x] child\r"
    assert after.count(b"\r\n") == after.count(b"\n") == crlf.count(b"\r\n")


@pytest.mark.parametrize(
    "ref",
    ["2.5", "9.1", "1.0", "0.1", "x", "2", "2.", ".2", "2.2.1", "-1.1", "2.x"],
)
def test_tick_bad_ref_leaves_file_alone(tmp_path, capsys, ref):
    project(tmp_path, {"demo": PLAN})
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "tick", "demo", ref)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("phaser: "), err
    assert tree(tmp_path) == before


def test_tick_missing_task_and_phase_name_the_plan(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    # Phase 2 has 4 tasks: the two inside the code fence are not tasks.
    code, out, err = run(capsys, "-C", str(tmp_path), "tick", "demo", "2.5")
    assert code == 2 and "specs/demo/plan.md" in err and "4 tasks" in err
    code, out, err = run(capsys, "-C", str(tmp_path), "tick", "demo", "7.1")
    assert code == 2 and "specs/demo/plan.md" in err and "phase 7" in err


# --------------------------------------------------------------------------------------------- note


def test_note_creates_notes_section_everything_else_identical(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    plan = tmp_path / "specs" / "demo" / "plan.md"
    code, out, err = run(capsys, "-C", str(tmp_path), "note", "demo", "2", "checked by hand")
    assert code == 0, err
    after = plan.read_text(encoding="utf-8")
    head, tail = PLAN.split("## Phase 3: Blocked thing\n")
    added = after.removeprefix(head).removesuffix("## Phase 3: Blocked thing\n" + tail)
    assert after.startswith(head) and after.endswith("## Phase 3: Blocked thing\n" + tail)
    assert added.strip().splitlines() == ["### Notes", "", "- checked by hand"]
    assert added.endswith("\n\n")


def test_note_appends_to_existing_notes_and_last_phase(tmp_path, capsys):
    text = "# P\n\n## Phase 1: A\n\n- [ ] a\n\n### Notes\n\n- first\n\n## Phase 2: B\n\n- [ ] b\n"
    project(tmp_path, {"p": text})
    plan = tmp_path / "specs" / "p" / "plan.md"
    assert run(capsys, "-C", str(tmp_path), "note", "p", "1", "second")[0] == 0
    assert plan.read_text(encoding="utf-8") == text.replace("- first\n", "- first\n- second\n")
    assert run(capsys, "-C", str(tmp_path), "note", "p", "2", "at the end")[0] == 0
    after = plan.read_text(encoding="utf-8")
    base = text.replace("- first\n", "- first\n- second\n")
    assert after.startswith(base)
    assert after[len(base) :].strip().splitlines() == ["### Notes", "", "- at the end"]


def test_note_without_slug_and_crlf(tmp_path, capsys, monkeypatch):
    crlf = PLAN.replace("\n", "\r\n").encode("utf-8")
    project(tmp_path, {"demo": crlf})
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "note", "1", "a CRLF note")[0] == 0
    after = (tmp_path / "specs" / "demo" / "plan.md").read_bytes()
    assert after.count(b"\r\n") == after.count(b"\n")
    assert b"### Notes\r\n\r\n- a CRLF note\r\n" in after
    head = crlf.split(b"## Phase 2: Core")[0].rstrip(b"\r\n")
    assert after.startswith(head) and after.endswith(crlf.split(b"\r\n\r\n## Phase 2: Core")[1])


def test_note_is_one_line_of_markdown(tmp_path, capsys):
    project(tmp_path, {"demo": PLAN})
    assert run(capsys, "-C", str(tmp_path), "note", "demo", "4", "two\nlines  and   spaces")[0] == 0
    text = (tmp_path / "specs" / "demo" / "plan.md").read_text(encoding="utf-8")
    assert "- two lines and spaces\n" in text
    code, out, err = run(capsys, "-C", str(tmp_path), "status", "--json")
    assert code == 0
    assert [p["tasks_total"] for p in json.loads(out)["plans"][0]["phases"]] == [2, 4, 1, 1, 2]


@pytest.mark.parametrize(("phase", "text"), [("9", "hi"), ("x", "hi"), ("1", "   "), ("-1", "hi")])
def test_note_bad_input_leaves_file_alone(tmp_path, capsys, phase, text):
    project(tmp_path, {"demo": PLAN})
    before = tree(tmp_path)
    code, out, err = run(capsys, "-C", str(tmp_path), "note", "demo", phase, text)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("phaser: "), err
    assert tree(tmp_path) == before


# ------------------------------------------------------------------------------- start-up and e2e

HEAVY_SCRIPT = """
import contextlib, io, json, sys
from phaser.cli import main
argv = json.loads(sys.argv[1])
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code,
                  "heavy": sorted({m.split(".")[0] for m in sys.modules} & {"anthropic", "textual"})}))
"""


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["status"], ["status", "--json"], ["status", "demo"], ["validate"], ["tick", "demo", "1.1"]],
    ids=lambda a: " ".join(a),
)
def test_light_commands_do_not_import_anthropic_or_textual(tmp_path, argv):
    project(tmp_path, {"demo": PLAN})
    done = subprocess.run(
        [sys.executable, "-c", HEAVY_SCRIPT, json.dumps(["-C", str(tmp_path), *argv])],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["code"] == 0
    assert report["heavy"] == []


def test_status_importtime_has_no_heavy_modules(tmp_path):
    project(tmp_path, {"demo": PLAN})
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "phaser", "-C", str(tmp_path), "status"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    imported = {row.rsplit("|", 1)[-1].strip() for row in done.stderr.splitlines() if "|" in row}
    assert "phaser.cli" in imported
    assert not {m for m in imported if m.split(".")[0] in ("anthropic", "textual")}


def phaser(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "phaser", *argv], cwd=cwd, capture_output=True, text=True, timeout=120, env=env
    )


def test_end_to_end_subprocess(tmp_path):
    (tmp_path / ".git").mkdir()
    assert phaser(tmp_path, "init").returncode == 0
    done = phaser(tmp_path, "new", "Token refresh: v2")
    assert done.returncode == 0, done.stderr
    (tmp_path / "specs" / "token-refresh-v2" / "plan.md").write_text(PLAN, encoding="utf-8")
    assert phaser(tmp_path, "validate").stdout == "ok\n"
    done = phaser(tmp_path, "tick", "2.2")
    assert done.returncode == 0, done.stderr
    done = phaser(tmp_path, "note", "2", "by hand")
    assert done.returncode == 0, done.stderr
    done = phaser(tmp_path, "status", "--json")
    assert done.returncode == 0, done.stderr
    [plan] = json.loads(done.stdout)["plans"]
    assert plan["slug"] == "token-refresh-v2" and plan["next"] == 2
    assert plan["phases"][1]["tasks_done"] == 3
    assert phaser(tmp_path, "validate").stdout == "ok\n"
    done = phaser(tmp_path, "tick", "2.9")
    assert done.returncode == 2 and done.stderr.count("\n") == 1


def test_help_lists_the_commands_in_a_subprocess(tmp_path):
    done = phaser(tmp_path, "--help")
    assert done.returncode == 0 and done.stderr == ""
    for name in ("init", "new", "status", "validate", "tick", "note"):
        assert re.search(rf"(?m)^\s+{name}\s", done.stdout), name


# --- --script implies the scripted provider ------------------------------------------------------


@pytest.fixture
def no_api_key(monkeypatch):
    """No Anthropic key anywhere: a run that wrongly picks the anthropic provider stops at once."""
    from phaser.workflow import providers

    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(providers, "_saved_secrets", {})


def test_script_alone_means_the_scripted_provider(tmp_path, capsys, no_api_key):
    from workflow_helpers import phase_turns, project_with_plan

    root = project_with_plan(tmp_path / "p")
    script = tmp_path / "script.json"
    script.write_text(json.dumps(phase_turns(1)), encoding="utf-8")
    code, out, err = run(capsys, "-C", str(root), "next", "--script", str(script), "-q", "--json")
    assert code == 0, err
    assert json.loads(out)["outcome"] == "passed"
    plan = (root / "specs" / "word-stats" / "plan.md").read_text(encoding="utf-8")
    assert plan.count("- [x]") == 2


@pytest.mark.parametrize(
    "argv", [["next"], ["next", "--dry-run"], ["run"], ["redo", "1"], ["plan"]], ids=" ".join
)
def test_script_with_the_anthropic_provider_is_a_usage_error(tmp_path, capsys, no_api_key, argv):
    from workflow_helpers import phase_turns, project_with_plan

    root = project_with_plan(tmp_path / "p")
    script = tmp_path / "script.json"
    script.write_text(json.dumps(phase_turns(1)), encoding="utf-8")
    before = tree(root)
    code, out, err = run(capsys, "-C", str(root), *argv, "--provider", "anthropic", "--script", str(script))
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("phaser: ") and "--script" in err, err
    assert "anthropic" in err
    assert tree(root) == before


# --- log and cost list runs in plan, phase, timestamp order ---------------------------------------


def _journal(root: Path, phase: str, stamp: str) -> None:
    folder = root / ".phaser" / "runs" / "demo" / phase / stamp
    folder.mkdir(parents=True)
    if phase == "plan":
        entries = [{"t": "2026-01-01T00:00:00.000Z", "kind": "plan_written", "phases": 5}]
    else:
        entries = [
            {"t": "2026-01-01T00:00:00.000Z", "kind": "phase_start", "phase": int(phase), "model": "m"},
            {"t": "2026-01-01T00:00:01.000Z", "kind": "outcome", "outcome": "passed"},
        ]
    (folder / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")


RUNS_IN_ORDER = [
    ("plan", "20251230T100000Z"),
    ("plan", "20251231T100000Z"),
    ("1", "20260101T000000Z"),
    ("2", "20251231T235959Z"),
    ("2", "20260101T000000Z"),
    ("2", "20260101T000000Z-2"),
    ("2", "20260101T000000Z-10"),
    ("10", "20250101T000000Z"),
]


def test_log_and_cost_list_the_plan_run_then_phases_by_number_then_by_time(tmp_path, capsys):
    root = project(tmp_path, {"demo": PLAN})
    for phase, stamp in reversed(RUNS_IN_ORDER):
        _journal(root, phase, stamp)
    code, out, err = run(capsys, "-C", str(root), "log")
    assert code == 0, err
    heads = [line for line in out.splitlines() if line.startswith("== phase ")]
    assert heads == [f"== phase {phase}, run {stamp}" for phase, stamp in RUNS_IN_ORDER]
    code, out, err = run(capsys, "-C", str(root), "cost")
    assert code == 0, err
    listed = [line.split()[1:3] for line in out.splitlines() if line.startswith("    phase ")]
    assert listed == [[phase, stamp] for phase, stamp in RUNS_IN_ORDER]
    code, out, err = run(capsys, "-C", str(root), "cost", "--json")
    runs = json.loads(out)["plans"][0]["runs"]
    assert [(str(r["phase"]), r["run"]) for r in runs] == RUNS_IN_ORDER


# --- an omitted SLUG: the plan rule for commands about a plan, the spec rule for plan --------------


def _feat_and_zeta(root: Path) -> Path:
    """Two specs: feat has a plan, zeta only a spec."""
    project(root, {"feat": PLAN})
    (root / "specs" / "zeta").mkdir()
    (root / "specs" / "zeta" / "spec.md").write_text("---\ntitle: Zeta\n---\n# Zeta\n", encoding="utf-8")
    return root


def test_log_without_slug_uses_the_only_spec_with_a_plan(tmp_path, capsys):
    root = _feat_and_zeta(tmp_path)
    _journal_dir = root / ".phaser" / "runs" / "feat" / "1" / "20260101T000000Z"
    _journal_dir.mkdir(parents=True)
    (_journal_dir / "journal.jsonl").write_text(
        json.dumps({"t": "2026-01-01T00:00:00.000Z", "kind": "phase_start", "phase": 1, "model": "m"}) + "\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "-C", str(root), "log")
    assert (code, err) == (0, "")
    assert out.startswith("== phase 1, run 20260101T000000Z\n")
    # the same spec as the other commands about a plan pick
    code, out, err = run(capsys, "-C", str(root), "tick", "1.1", "--undo")
    assert (code, err) == (0, "")
    assert run(capsys, "-C", str(root), "log", "--phase", "2") == (0, "no runs recorded for feat\n", "")


def test_plan_without_slug_names_the_specs_and_which_have_no_plan(tmp_path, capsys):
    root = _feat_and_zeta(tmp_path)
    before = tree(root)
    code, out, err = run(capsys, "-C", str(root), "plan")
    assert code == 2 and err.count("\n") == 1, err
    assert "several specs (feat, zeta)" in err and "no plan yet: zeta" in err, err
    assert tree(root) == before


@pytest.mark.parametrize("argv", [["log"], ["next", "--dry-run"], ["approve"], ["tick", "1.1"]], ids=" ".join)
def test_several_plans_and_no_slug_names_the_plans(tmp_path, capsys, argv):
    root = project(tmp_path, {"alpha": PLAN, "beta": PLAN})
    (root / "specs" / "gamma").mkdir()
    (root / "specs" / "gamma" / "spec.md").write_text("---\ntitle: Gamma\n---\n# Gamma\n", encoding="utf-8")
    before = tree(root)
    code, out, err = run(capsys, "-C", str(root), *argv)
    assert code == 2 and err.count("\n") == 1, err
    assert "several plans (alpha, beta): name one" in err and "gamma" not in err, err
    assert tree(root) == before
