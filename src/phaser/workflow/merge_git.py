"""Git's side of merging a lane onto the main checkout: the merge itself, its commit, and taking
a merge back without losing a person's edit (the recovery after a kill -9 and a blocked merge both
use it). `git merge --abort` is not enough there: its reset takes along staged work of a person
and refuses a file changed on top of the merge; `undo_merge` works path by path instead.
"""

from __future__ import annotations

from pathlib import Path

from phaser.errors import PhaserError
from phaser.workflow import git
from phaser.workflow.worktrees import common_dir, run_git


def merge_in_progress(root: Path) -> bool:
    return (common_dir(root) / "MERGE_HEAD").exists()


def merge(root: Path, branch: str) -> list[str] | None:
    """Merge ``branch`` onto the head without committing; None when it applied cleanly, else the
    conflicting paths (the merge is aborted: the head and tree are as before). Raises when git
    refused to begin (nothing changed)."""
    proc = run_git(root, "merge", "--no-ff", "--no-commit", "-q", branch, check=False)
    if proc.returncode == 0:
        return None
    unmerged = run_git(root, "diff", "--name-only", "--diff-filter=U", check=False).stdout.split()
    abort_merge(root)
    if unmerged:
        return unmerged
    # refused before it began (e.g. files of a person's in the way): not a conflict between phases
    said = " ".join(line.strip() for line in (proc.stderr or proc.stdout).splitlines()[:4] if line.strip())
    raise PhaserError(f"git could not merge {branch}: {said}")


def merge_head(root: Path) -> str | None:
    proc = run_git(root, "rev-parse", "-q", "--verify", "MERGE_HEAD", check=False)
    return proc.stdout.strip() or None


def index_tree(root: Path) -> str | None:
    """The tree the index holds now (None while it has unmerged entries)."""
    proc = run_git(root, "write-tree", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def changed_between(root: Path, a: str, b: str) -> list[str]:
    """Paths that differ between two trees (or commits)."""
    proc = run_git(root, "diff", "--name-only", "-z", "--no-renames", a, b)
    return [p for p in proc.stdout.split("\0") if p]


def tree_blobs(root: Path, tree: str, paths: list[str]) -> dict[str, tuple[str, str]]:
    """``{path: (mode, object)}`` of ``paths`` in ``tree`` (a path absent from it is left out)."""
    if not paths:
        return {}
    proc = run_git(root, "--literal-pathspecs", "ls-tree", "-z", tree, "--", *paths)
    out = {}
    for entry in proc.stdout.split("\0"):
        if entry:
            meta, _, path = entry.partition("\t")
            mode, _kind, obj = meta.split()
            out[path] = (mode, obj)
    return out


def file_blobs(root: Path, paths: list[str]) -> dict[str, str]:
    """The object id each regular file of ``paths`` would have if added now."""
    if not paths:
        return {}
    proc = run_git(root, "hash-object", "--stdin-paths", check=False, stdin="\n".join(paths) + "\n")
    ids = proc.stdout.split()
    return dict(zip(paths, ids, strict=True)) if proc.returncode == 0 and len(ids) == len(paths) else {}


def _blob_text(root: Path, obj: str) -> str:
    return run_git(root, "cat-file", "blob", obj, check=False).stdout


def edited_since(root: Path, tree: str, paths: list[str]) -> list[str]:
    """Those of ``paths`` whose file in the tree is not what ``tree`` holds (changed, removed or
    added since): a person's edits on top of what a merge wrote."""
    expected = tree_blobs(root, tree, paths)
    regular = [p for p in paths if (root / p).is_file() and not (root / p).is_symlink()]
    actual = file_blobs(root, regular)
    edited = []
    for rel in paths:
        f, exp = root / rel, expected.get(rel)
        if exp is None:
            same = not f.exists() and not f.is_symlink()
        elif exp[0] == "160000":  # a submodule: not a file of this tree
            same = True
        elif exp[0] == "120000":
            same = f.is_symlink() and str(f.readlink()) == _blob_text(root, exp[1])
        else:
            same = rel in actual and actual[rel] == exp[1]
        if not same:
            edited.append(rel)
    return edited


def undo_merge(root: Path, base: str, merged_tree: str | None) -> list[str]:
    """Take back a merge left in progress without losing a person's edit: every path the merge
    wrote goes back to ``base`` (index and file) unless a person changed it since (``merged_tree``
    is what the merge staged); those keep the person's file, unstaged. Paths the merge did not
    touch are left alone, staged or not. Returns the paths kept as the person left them."""
    if not merge_in_progress(root):
        return []
    tree = merged_tree or index_tree(root)
    if tree is None:  # unmerged entries: a conflict phaser did not leave (it aborts its own)
        raise PhaserError("a merge with conflicts is in progress: resolve or abort it (git merge --abort)")
    paths = changed_between(root, base, tree)
    now = index_tree(root)
    staged = set(changed_between(root, tree, now)) if now and now != tree else set()
    edited = sorted(set(edited_since(root, tree, paths)) | (staged & set(paths)))
    pristine = [p for p in paths if p not in edited]
    restore = ["--literal-pathspecs", "restore", f"--source={base}", "--staged"]
    if pristine:
        run_git(root, *restore, "--worktree", "--", *pristine)
    if edited:
        run_git(root, *restore, "--", *edited)
    run_git(root, "merge", "--quit")
    return edited


def unstage_extra(root: Path, merged_tree: str, plan_rel: str) -> list[str]:
    """Whatever was staged on top of what a merge staged (but the plan, whose tick goes with it),
    unstaged (the files stay as they are), so committing the merge commits the merge alone."""
    now = index_tree(root)
    extra = changed_between(root, merged_tree, now) if now and now != merged_tree else []
    extra = [p for p in extra if p != plan_rel]
    if extra:
        run_git(root, "--literal-pathspecs", "restore", f"--source={merged_tree}", "--staged", "--", *extra)
    return extra


def abort_merge(root: Path) -> None:
    if merge_in_progress(root):
        run_git(root, "merge", "--abort", check=False)


def commit_merge(root: Path, message: str, plan_rel: str) -> str:
    """Commit the merge (and the plan's tick): everything the merge staged plus the plan."""
    run_git(root, "add", "--", plan_rel)
    args = []
    for key, fallback in (("user.name", "phaser"), ("user.email", "phaser@localhost")):
        if not run_git(root, "config", key, check=False).stdout.strip():
            args += ["-c", f"{key}={fallback}"]
    run_git(root, *args, "commit", "-q", "--no-verify", "-m", message)
    return git.head(root) or ""
