import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from phaser.agent.snapshot import RestoreError, diff, restore, take_snapshot


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture(params=["git", "plain"])
def root(request, tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("a = 1\n")
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "run.sh").chmod(0o755)
    os.symlink("src/a.py", tmp_path / "alias.py")
    if request.param == "git":
        git(tmp_path, "init", "-q")
        (tmp_path / ".gitignore").write_text("ignored/\n")
        (tmp_path / "ignored").mkdir()
        (tmp_path / "ignored" / "x").write_text("ignored\n")
        git(tmp_path, "add", "src", "run.sh")
        (tmp_path / "untracked.txt").write_text("u\n")
    return tmp_path


def _harness_dir(folder: str, name: str) -> bool:
    return name in (".git", ".phaser")


def tree(root: Path, skip: Callable[[str, str], bool] = _harness_dir) -> dict[str, object]:
    """Every file and link under root, as path -> (bytes, mode) or ("link", target); ``skip(folder,
    name)`` leaves a directory out (default: .git and .phaser)."""
    out: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        rel_folder = Path(folder).relative_to(root).as_posix()
        dirs[:] = [d for d in dirs if not skip(rel_folder, d)]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            p = Path(folder) / name
            rel = p.relative_to(root).as_posix()
            out[rel] = (
                ("link", os.readlink(p)) if p.is_symlink() else (p.read_bytes(), p.stat().st_mode & 0o777)
            )
    return out


def test_snapshot_lists_files_links_and_skips_ignored(root: Path) -> None:
    snap = take_snapshot(root)
    assert "src/a.py" in snap and "run.sh" in snap and "alias.py" in snap
    assert snap.entries["alias.py"].kind == "link" and snap.entries["alias.py"].target == "src/a.py"
    if (root / ".git").exists():
        assert "untracked.txt" in snap and "ignored/x" not in snap
    assert not any(p.startswith((".git/", ".phaser/")) for p in snap.entries)


def test_diff_and_restore_round_trip(root: Path) -> None:
    expected = tree(root)
    before = take_snapshot(root)
    (root / "src" / "a.py").write_text("a = 2\n")
    (root / "run.sh").chmod(0o644)
    (root / "new").mkdir()
    (root / "new" / "deep.py").write_text("new\n")
    os.unlink(root / "alias.py")
    os.symlink("/etc/passwd", root / "alias.py")
    (root / "src" / "a.py").rename(root / "src" / "b.py")
    after = take_snapshot(root, previous=before)
    changes = diff(before, after)
    assert changes.added == ["new/deep.py", "src/b.py"]
    assert changes.modified == ["alias.py", "run.sh"]
    assert changes.deleted == ["src/a.py"]
    restore(root, before, [*changes.added, *changes.modified, *changes.deleted])
    assert tree(root) == expected
    assert not (root / "new").exists()
    assert not diff(before, take_snapshot(root, previous=after))


def test_restore_through_a_replaced_folder_never_follows_links(root: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside")
    before = take_snapshot(root)
    expected = tree(root)
    (root / "src" / "a.py").unlink()
    (root / "src").rmdir()
    os.symlink(outside, root / "src")
    restore(root, before, ["src/a.py", "src"])
    assert tree(root) == expected and list(outside.iterdir()) == []


def test_hash_is_reused_only_when_the_file_is_untouched(root: Path) -> None:
    first = take_snapshot(root)
    path = root / "src" / "a.py"
    st = path.stat()
    path.write_text("a = 9\n")  # same size; put the old mtime back, as `touch -r` would
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = take_snapshot(root, previous=first)
    assert diff(first, second).modified == ["src/a.py"]


def test_tampered_blob_is_detected(root: Path) -> None:
    before = take_snapshot(root)
    digest = before.entries["src/a.py"].sha256
    (before.blob_dir / digest[:2] / digest[2:]).write_text("evil\n")
    (root / "src" / "a.py").write_text("changed\n")
    with pytest.raises(RestoreError):
        restore(root, before, ["src/a.py"])


def test_a_few_thousand_files_are_quick(tmp_path: Path) -> None:
    for i in range(60):
        d = tmp_path / f"d{i}"
        d.mkdir()
        for j in range(50):
            (d / f"f{j}.py").write_text(f"x = {i * j}\n" * 20)
    first = take_snapshot(tmp_path)
    start = time.perf_counter()
    again = take_snapshot(tmp_path, previous=first)
    assert len(again.entries) == 3000 and not diff(first, again)
    assert time.perf_counter() - start < 2.0
