from __future__ import annotations

from pathlib import Path

import pytest

from phaser.errors import PlanError
from phaser.plan import Problem, validate_path, validate_text

KEYS = "difficulty, depends, model, status, unprotect, approved, budget, changes"


def messages(text: str, kind: str = "plan") -> list[str]:
    return [str(p) for p in validate_text(text, Path("plan.md"), kind)]


def test_problem_str():
    assert str(Problem("a/plan.md", 3, "bad")) == "a/plan.md:3: bad"


def test_clean_plan_without_title_has_no_problems():
    text = (
        "---\nformat: 1\n---\n## Phase 1: a\n\ndifficulty: hard\nstatus: done\n\n- [x] t\n"
        "## Phase 2: b\ndepends: 1\n\n- [ ] t\n"
    )
    assert messages(text) == []


def test_broken_yaml_with_line_and_body_still_checked():
    text = "---\ntitle: x\ntags: [a, b\nowner: me\n---\n## Phase 1: a\n\nflavour: x\n\n- [ ] t\n"
    assert messages(text) == [
        "plan.md:4: invalid YAML frontmatter: expected ',' or ']', but got ':'",
        f"plan.md:8: phase 1: unknown metadata key 'flavour' (known: {KEYS})",
    ]


def test_frontmatter_not_a_mapping():
    assert messages("---\n- a\n---\n## Phase 1: a\n\n- [ ] t\n") == [
        "plan.md:1: frontmatter must be a mapping of `key: value` lines"
    ]


def test_unknown_difficulty_status_and_key():
    text = "# T\n\n## Phase 1: a\n\ndifficulty: extreme\nstatus: maybe\nowner: bob\n\n- [ ] t\n"
    assert messages(text) == [
        "plan.md:5: phase 1: unknown difficulty 'extreme' (use easy, medium, hard)",
        "plan.md:6: phase 1: unknown status 'maybe' (use blocked, skipped, done)",
        f"plan.md:7: phase 1: unknown metadata key 'owner' (known: {KEYS})",
    ]


def test_duplicate_phase_numbers():
    text = "## Phase 1: a\n- [ ] t\n## Phase 2: b\n- [ ] t\n## Phase 1: again\n- [ ] t\n"
    assert messages(text) == ["plan.md:5: duplicate phase number 1 (also on line 1)"]


def test_missing_dependency_self_dependency_and_bad_entry():
    text = "## Phase 1: a\ndepends: 7, 1, later\n\n- [ ] t\n"
    assert messages(text) == [
        "plan.md:2: phase 1 depends on phase 7, which does not exist",
        "plan.md:2: phase 1 depends on itself",
        "plan.md:2: phase 1: depends entry 'later' is not a phase number",
    ]


def test_each_cycle_reported_once_on_its_lowest_heading():
    text = (
        "## Phase 1: a\ndepends: 3\n- [ ] t\n"  # 1 -> 3 -> 2 -> 1
        "## Phase 2: b\ndepends: 1\n- [ ] t\n"
        "## Phase 3: c\ndepends: 2\n- [ ] t\n"
        "## Phase 4: d\ndepends: 5\n- [ ] t\n"  # 4 <-> 5
        "## Phase 5: e\ndepends: 4, 1\n- [ ] t\n"
        "## Phase 6: f\ndepends: 5\n- [ ] t\n"  # depends on a cycle, not part of one
    )
    assert messages(text) == [
        "plan.md:1: dependency cycle: phase 1 -> 3 -> 2 -> 1",
        "plan.md:10: dependency cycle: phase 4 -> 5 -> 4",
    ]


def test_no_phases_in_plan_but_fine_in_spec():
    assert messages("# Just prose\n") == [
        "plan.md:1: no phases: a plan needs headings like '## Phase 1: Title'"
    ]
    assert messages("# Just prose\n", kind="spec") == []


def test_binary_text():
    assert messages("# x\n\n\x00") == ["plan.md:3: binary file (NUL byte), not markdown"]


def test_bad_kind():
    with pytest.raises(ValueError):
        validate_text("", Path("x.md"), "other")


def _tree(root: Path) -> Path:
    good = root / "specs" / "auth"
    good.mkdir(parents=True)
    (good / "spec.md").write_text("---\ntitle: Auth\n---\n# Auth\n")
    (good / "plan.md").write_text("---\nspec: spec.md\nformat: 1\n---\n## Phase 1: a\n\n- [ ] t\n")
    bad = root / "specs" / "billing"
    bad.mkdir()
    (bad / "spec.md").write_text("---\ntitle: [\n---\n")
    (bad / "plan.md").write_bytes(b"## Phase 1: a\n\ncaf\xe9\n")
    (bad / "notes.md").write_text("Just notes, no phases.\n")
    (bad / "extra.md").write_text("## Phase 1: a\n\ndifficulty: weird\n\n- [ ] t\n")
    return root


def test_validate_tree(tmp_path):
    root = _tree(tmp_path)
    billing = root / "specs" / "billing"
    assert [str(p) for p in validate_path(root)] == [
        f"{billing / 'extra.md'}:3: phase 1: unknown difficulty 'weird' (use easy, medium, hard)",
        f"{billing / 'plan.md'}:3: not valid UTF-8 (byte 0xe9)",
        f"{billing / 'spec.md'}:3: invalid YAML frontmatter: expected the node content, but found '<stream "
        "end>'",
    ]
    assert validate_path(root / "specs") == validate_path(root)


def test_validate_spec_folder_and_single_file(tmp_path):
    root = _tree(tmp_path)
    assert validate_path(root / "specs" / "auth") == []
    assert validate_path(root / "specs" / "auth" / "plan.md") == []
    notes = root / "specs" / "billing" / "notes.md"
    assert validate_path(notes) == []  # no phases: checked like a spec


def test_validate_binary_file(tmp_path):
    path = tmp_path / "plan.md"
    path.write_bytes(b"## Phase 1\n\x00")
    assert [str(p) for p in validate_path(path)] == [f"{path}:2: binary file (NUL byte), not a markdown plan"]


def test_validate_missing_path(tmp_path):
    with pytest.raises(PlanError):
        validate_path(tmp_path / "missing")
