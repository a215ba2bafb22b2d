"""The parse cache under .phaser/: same plan as a parse, never stale, no markdown-it on a hit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from phaser.plan import SetTask, edit_plan, parse_plan, read_plan
from phaser.plan.parse import _CACHE

PLAN = (
    "\ufeff---\ntitle: Cached\nspec: spec.md\n---\r\n# Cached\r\n\r\n- [ ] loose\r\n\r\n"
    "## Phase 1 ✅ — Setup\r\n\r\n- [X] one\r\n\r\n## Phase 2: Build\r\n\r\ndifficulty: hard\r\ndepends: "
    "1\r\n\r\n"
    "- [ ] a\r\n  - [~] nested blocked\r\n- [-] b\r\n- [ ]* optional\r\n- [?] odd\r\n\r\n### "
    "Notes\r\n\r\n- a note\r\n\r\n"
    "## Phase 2.5: Inserted\r\n\r\ndepends: 2\r\n\r\n- [ ] fix\r\n"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / ".phaser").mkdir()
    (tmp_path / "specs" / "demo").mkdir(parents=True)
    (tmp_path / "specs" / "demo" / "plan.md").write_bytes(PLAN.encode())
    (tmp_path / "specs" / "demo" / "spec.md").write_text("# Demo\n")
    return tmp_path


def entries(root: Path) -> list[Path]:
    return sorted((root / ".phaser" / "cache" / "plans").glob("*.json"))


def fresh(path: Path):
    return parse_plan(path.read_bytes().decode("utf-8"), path)


def test_a_hit_is_the_same_plan_as_a_parse(project):
    path = project / "specs" / "demo" / "plan.md"
    first = read_plan(path)
    assert len(entries(project)) == 1
    _CACHE.clear()
    hit = read_plan(path)
    assert hit == fresh(path) == first
    assert [str(p.number) for p in hit.phases] == ["1", "2", "2.5"]
    assert [t.state for t in hit.phases[1].tasks] == ["open", "blocked", "active", "open"]
    assert hit.odd_boxes == [(21, "[?]")] and [t.text for t in hit.loose_tasks] == ["loose"]


def test_any_byte_change_misses(project):
    path = project / "specs" / "demo" / "plan.md"
    read_plan(path)
    data = path.read_bytes()
    flipped = data.replace(b"- [ ] a\r\n", b"- [x] a\r\n")  # same size, same mtime second
    assert len(flipped) == len(data)
    path.write_bytes(flipped)
    _CACHE.clear()
    assert read_plan(path).phases[1].tasks[0].checked is True
    path.write_bytes(flipped.replace(b"Inserted", b"Inserte!"))
    assert read_plan(path).phases[2].title == "Inserte!"


def test_another_file_with_the_same_bytes_is_its_own_entry(project):
    path = project / "specs" / "demo" / "plan.md"
    other = project / "specs" / "other" / "plan.md"
    other.parent.mkdir()
    other.write_bytes(path.read_bytes())
    assert read_plan(path).path == path
    assert read_plan(other).path == other
    assert len(entries(project)) == 2


def test_torn_or_forged_entries_are_misses(project):
    path = project / "specs" / "demo" / "plan.md"
    read_plan(path)
    [entry] = entries(project)
    raw = json.loads(entry.read_text())
    raw["digest"] = "0" * 40
    raw["title"] = "forged"
    entry.write_text(json.dumps(raw))
    _CACHE.clear()
    assert read_plan(path).title == "Cached"
    entry.write_bytes(entry.read_bytes()[:50])
    _CACHE.clear()
    assert read_plan(path) == fresh(path)


def test_edit_after_a_hit_uses_the_cached_layout(project):
    path = project / "specs" / "demo" / "plan.md"
    read_plan(path)
    _CACHE.clear()
    plan = read_plan(path)  # from disk cache
    edit_plan(path, SetTask("2.5#1", True), base=plan.text)
    after = path.read_bytes()
    assert after == PLAN.encode().replace(b"- [ ] fix", b"- [X] fix")  # the plan writes [X]


def test_no_state_folder_no_cache(tmp_path):
    path = tmp_path / "plan.md"
    path.write_text("## Phase 1: a\n\n- [ ] t\n")
    read_plan(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.md"]


def test_status_on_a_hit_does_not_import_markdown_it(project):
    code = (
        "import sys, io, contextlib\n"
        "from phaser.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['-C', {str(project)!r}, 'status'])\n"
        "print('markdown_it' in sys.modules, 'phaser.plan.parse' in sys.modules)\n"
    )
    (project / ".git").mkdir()
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        for _ in range(2)
    ]
    assert [r.stdout.strip().splitlines()[-1] for r in runs] == ["True True", "False False"], [
        r.stderr for r in runs
    ]
    path = project / "specs" / "demo" / "plan.md"
    path.write_bytes(path.read_bytes().replace(b"- [ ] fix", b"- [x] fix"))
    third = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert third.stdout.strip().splitlines()[-1] == "True True"  # changed bytes: parsed again
