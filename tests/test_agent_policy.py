import os
from pathlib import Path

import pytest

from phaser.agent.policy import PathPolicy, PolicyRefusal, Step, glob_regex
from phaser.config import DEFAULT_PROTECTED


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "core.py").write_text("x = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_core.py").write_text("def test(): pass\n")
    (tmp_path / "pkg" / "test_inline.py").write_text("")
    (tmp_path / ".git").mkdir()
    (tmp_path / "specs" / "demo").mkdir(parents=True)
    (tmp_path / "specs" / "demo" / "plan.md").write_text("# plan\n")
    return tmp_path


@pytest.fixture
def policy(root: Path) -> PathPolicy:
    return PathPolicy(root, DEFAULT_PROTECTED, plan_path=root / "specs" / "demo" / "plan.md")


def refusal(fn, *args) -> PolicyRefusal:
    with pytest.raises(PolicyRefusal) as info:
        fn(*args)
    return info.value


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("tests/**", "tests/a.py", True),
        ("tests/**", "tests/deep/b.py", True),
        ("tests/**", "tests", False),
        ("tests/**", "src/tests.py", False),
        ("**/test_*.py", "test_a.py", True),
        ("**/test_*.py", "a/b/test_c.py", True),
        ("**/test_*.py", "a/b/c_test.py", False),
        ("*.py", "a/b.py", False),
        ("*.py", "b.py", True),
        ("file?.[ch]", "file1.c", True),
        ("file?.[!ch]", "file1.c", False),
    ],
)
def test_glob(pattern: str, path: str, hit: bool) -> None:
    assert bool(glob_regex(pattern).match(path)) is hit


def test_code_step_may_write_ordinary_files(policy: PathPolicy, root: Path) -> None:
    assert policy.check_write("pkg/core.py", Step.CODE, "modify") == root.resolve() / "pkg" / "core.py"
    assert (
        policy.check_write(str(root / "pkg" / "new.py"), Step.CODE, "create")
        == root.resolve() / "pkg" / "new.py"
    )


@pytest.mark.parametrize("step", [Step.PLAN, Step.EXPLORE, Step.UPDATE])
def test_only_code_step_writes(policy: PathPolicy, step: Step) -> None:
    r = refusal(policy.check_write, "pkg/core.py", step, "modify")
    assert r.rule == "read-only-step"
    assert step.value in r.message and "add_note" in r.message and "add_task" in r.message


@pytest.mark.parametrize("path", ["../x", "pkg/../../x", "/tmp/phaser-outside", "/etc/passwd"])
def test_escapes_are_refused(policy: PathPolicy, path: str) -> None:
    assert refusal(policy.check_write, path, Step.CODE, "create").rule == "outside-root"


def test_symlink_out_of_root_is_refused(policy: PathPolicy, root: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    os.symlink(outside, root / "link")
    os.symlink(outside / "f.txt", root / "filelink")
    assert refusal(policy.check_write, "link/x.py", Step.CODE, "create").rule == "outside-root"
    assert refusal(policy.check_write, "filelink", Step.CODE, "modify").rule == "outside-root"
    assert refusal(policy.check_read, "link/x.py").rule == "outside-root"


def test_symlink_inside_root_to_protected_file_is_refused(policy: PathPolicy, root: Path) -> None:
    os.symlink(root / "tests" / "test_core.py", root / "innocent.py")
    assert refusal(policy.check_write, "innocent.py", Step.CODE, "modify").rule == "protected"


@pytest.mark.parametrize(
    "path", [".git/hooks/pre-commit", ".git/config", ".phaser/runs/x", "sub/.git/config"]
)
def test_harness_state_is_refused(policy: PathPolicy, path: str) -> None:
    assert refusal(policy.check_write, path, Step.CODE, "create").rule == "harness-state"


@pytest.mark.parametrize("path", ["specs/demo/plan.md", "specs/demo/spec.md", "specs/other/plan.md"])
def test_specs_change_only_through_plan_tools(policy: PathPolicy, path: str) -> None:
    r = refusal(policy.check_write, path, Step.CODE, "modify")
    assert r.rule == "plan-via-tools" and "add_note" in r.message


def test_plan_outside_specs_is_refused_too(root: Path) -> None:
    (root / "PLAN.md").write_text("# plan\n")
    policy = PathPolicy(root, [], plan_path=root / "PLAN.md")
    assert refusal(policy.check_write, "PLAN.md", Step.CODE, "modify").rule == "plan-via-tools"


@pytest.mark.parametrize("action", ["modify", "delete", "rename", "create"])
def test_existing_protected_files_are_refused(policy: PathPolicy, action: str) -> None:
    for path in ("tests/test_core.py", "pkg/test_inline.py"):
        r = refusal(policy.check_write, path, Step.CODE, action)
        assert r.rule == "protected" and "add_note" in r.message


def test_new_protected_files_may_be_created(policy: PathPolicy, root: Path) -> None:
    assert (
        policy.check_write("tests/test_new.py", Step.CODE, "create")
        == root.resolve() / "tests" / "test_new.py"
    )
    assert policy.check_write("tests/sub/conftest.py", Step.CODE, "create")


def test_unprotect_lifts_protection(root: Path) -> None:
    policy = PathPolicy(root, DEFAULT_PROTECTED, unprotect=["tests/test_core.py"])
    assert policy.check_write("tests/test_core.py", Step.CODE, "modify")
    assert refusal(policy.check_write, "pkg/test_inline.py", Step.CODE, "modify").rule == "protected"


def test_check_change_mirrors_check_write(policy: PathPolicy) -> None:
    assert policy.check_change("pkg/core.py", "modified", Step.CODE) is None
    assert policy.check_change("tests/test_new.py", "added", Step.CODE) is None
    assert policy.check_change("tests/test_core.py", "modified", Step.CODE).rule == "protected"
    assert policy.check_change("tests/test_core.py", "deleted", Step.CODE).rule == "protected"
    assert policy.check_change("newfile", "added", Step.EXPLORE).rule == "read-only-step"
    assert policy.check_change("specs/demo/plan.md", "modified", Step.CODE).rule == "plan-via-tools"


def test_reads_inside_root_only(policy: PathPolicy, root: Path) -> None:
    assert policy.check_read(".git") == root.resolve() / ".git"
    assert policy.check_read("tests/test_core.py")
    assert refusal(policy.check_read, "/etc/passwd").rule == "outside-root"
    assert refusal(policy.check_read, ".phaser/runs").rule == "harness-state"


@pytest.mark.parametrize("path", ["", "   ", "a\x00b", "."])
def test_bad_paths(policy: PathPolicy, path: str) -> None:
    assert refusal(policy.check_write, path, Step.CODE, "create").rule == "bad-path"
