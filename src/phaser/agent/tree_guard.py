"""The second layer of every bash and editor call: a snapshot of the tree (and of .git) before and
after, and every change the step may not make put back, its bytes saved under the run folder, a
violation recorded. A change under specs/ the call could not have made is a person's save: kept,
journaled, never blamed on the agent."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from phaser import layout
from phaser.agent.journal import Journal
from phaser.agent.policy import PathPolicy, PolicyRefusal, Step
from phaser.agent.snapshot import RestoreError, Snapshot, diff, restore, take_snapshot
from phaser.events import EventSink, Notice, PolicyViolation, ignore

__all__ = ["EDITOR", "TreeGuard"]

EDITOR = "str_replace_based_edit_tool"


class TreeGuard:
    """Snapshots and enforcement for one phase's tool calls and steps; ``step`` follows the phase."""

    def __init__(
        self,
        root: Path,
        policy: PathPolicy,
        plan_path: Path | None,
        sandbox: str,
        on_event: EventSink = ignore,
        journal: Journal | None = None,
    ) -> None:
        self.root = Path(root)
        self.policy = policy
        self.plan_path = plan_path
        self.sandbox = sandbox
        self.on_event = on_event
        self.journal = journal
        self.step = Step.EXPLORE
        self.command: str | None = None
        """The bash command running now: tells a person's save from the command's own write."""
        self.violations: list[dict[str, Any]] = []
        self.person_saves: list[dict[str, Any]] = []
        """Changes under specs/ that landed during a call and were a person's: kept, never blamed."""
        self.blob_dir = layout.blobs_dir(layout.state_dir(self.root))
        self._last: Snapshot | None = None
        self._git_last: Snapshot | None = None
        self._saved = 0

    def _step_exclude(self) -> tuple[str, ...]:
        plan = (self.policy.plan_rel,) if self.policy.plan_rel else ()
        return (".git", ".phaser", "specs", *plan)

    def snapshot(self, *, step_scope: bool = False) -> Snapshot:
        """The tree now. ``step_scope`` leaves out specs/ and the plan, which humans edit during runs."""
        exclude = self._step_exclude() if step_scope else (".git", ".phaser")
        self._last = take_snapshot(self.root, exclude, blob_dir=self.blob_dir, previous=self._last)
        return self._last

    def enforce(self, before: Snapshot, *, step_scope: bool = False, where: str = "") -> list[str]:
        """Put back every change since ``before`` that this step may not make; one message per rule.

        A change under ``specs/`` that the call could not have made is a person's save: it is
        kept and journaled as one, never reverted and never counted against the agent."""
        messages: list[str] = []
        persons: set[str] = set()
        for _ in range(3):  # again after a restore: a restored .gitignore can reveal hidden files
            after = self.snapshot(step_scope=step_scope)
            bad: dict[str, tuple[str, list[str]]] = {}
            saved: list[str] = []
            for rel, kind in diff(before, after).items():
                if rel in persons:
                    continue
                refusal = self.policy.check_change(rel, kind, self.step) or self._link_escape(after, rel)
                if (
                    refusal is not None
                    and refusal.rule == "plan-via-tools"
                    and self._persons_save(rel, where)
                ):
                    saved.append(rel)
                elif refusal is not None:
                    bad.setdefault(refusal.rule, (refusal.message, []))[1].append(rel)
            if saved:
                persons.update(saved)
                self._kept_person_save(saved, where)
            if not bad:
                break
            self._catch_renames(before, after, bad)
            paths = sorted(p for _, ps in bad.values() for p in ps)
            why = " ".join(f"({rule}) {msg}" for rule, (msg, _) in bad.items())
            messages.append(self._revert(self.root, before, paths, where, why))
        return messages

    def _persons_save(self, rel: str, where: str) -> bool:
        """Whether a change under specs/ seen after a call can only be a person's save.

        The editor never writes there (``check_write`` refuses), and a confined bash command sees
        specs/ and the plan read-only. An unconfined command could have written it; phaser counts
        it as the agent's only when the command names the file (its path, its name, or specs/),
        since a person's save that lands while, say, the tests run must never be reverted."""
        if where == EDITOR or where == "step":
            return True
        if where != "bash":
            return False
        if self.sandbox != "none":
            return True
        command = self.command or ""
        names = {rel, Path(rel).name, *(Path(rel).parts[:1])}
        return not any(name and name in command for name in names)

    def _kept_person_save(self, rels: list[str], where: str) -> None:
        record = {"step": self.step.value, "where": where, "paths": rels}
        self.person_saves.append(record)
        if self.journal is not None:
            self.journal.write("person_save", **record)
        self.on_event(
            Notice(f"kept a person's save to {', '.join(rels)} (made while the agent's {where} call ran)")
        )

    def _catch_renames(
        self, before: Snapshot, after: Snapshot, bad: dict[str, tuple[str, list[str]]]
    ) -> None:
        """A new file holding a reverted protected file's bytes is the other half of a rename."""
        if "protected" not in bad:
            return
        gone = {before.entries[p].sha256 for p in bad["protected"][1] if p not in after.entries}
        for rel in diff(before, after).added:
            if after.entries[rel].sha256 in gone and rel not in bad["protected"][1]:
                bad["protected"][1].append(rel)

    def _link_escape(self, after: Snapshot, rel: str) -> PolicyRefusal | None:
        entry = after.entries.get(rel)
        if entry is None or entry.kind != "link":
            return None
        try:
            self.policy.resolve(rel)
        except PolicyRefusal as refusal:
            return refusal
        return None

    def git_snapshot(self) -> Snapshot | None:
        git_dir = self.root / ".git"
        if git_dir.is_symlink() or not git_dir.is_dir():
            return None
        self._git_last = take_snapshot(git_dir, ("objects",), blob_dir=self.blob_dir, previous=self._git_last)
        return self._git_last

    def enforce_git(self, before: Snapshot | None, where: str) -> list[str]:
        if before is None:
            return []
        git_dir = self.root / ".git"
        if git_dir.is_symlink() or git_dir.is_file():
            git_dir.unlink()
        git_dir.mkdir(exist_ok=True)
        changes = diff(before, self.git_snapshot() or before)
        if not changes:
            return []
        paths = [".git/" + p for p, _ in changes.items()]
        msg = self._revert(self.root / ".git", before, [p for p, _ in changes.items()], where, "", paths)
        return [msg]

    def _revert(
        self,
        base: Path,
        before: Snapshot,
        rels: list[str],
        where: str,
        why: str,
        shown: list[str] | None = None,
    ) -> str:
        shown = shown or rels
        saved = self._save_changed(base, shown, rels)
        try:
            restore(base, before, rels)
            outcome = "put back"
        except RestoreError as exc:
            outcome = f"NOT fully put back ({exc})"
        message = (
            f"changes the {self.step.value} step may not make were {outcome}: {', '.join(shown)}. "
            f"{why or 'git metadata belongs to the harness.'}"
        )
        self.violations.append({"step": self.step.value, "where": where, "paths": shown, "message": message})
        if self.journal is not None:
            self.journal.write(
                "violation", step=self.step.value, where=where, paths=shown, message=message, saved=saved
            )
        self.on_event(PolicyViolation(self.step.value, message, list(shown)))
        return message

    def _save_changed(self, base: Path, shown: list[str], rels: list[str]) -> str | None:
        """Copy the changed versions aside before they are reverted, so nothing is lost."""
        state = self.journal.run_dir if self.journal is not None else self.root / ".phaser"
        self._saved += 1
        dest_root = state / "reverted" / f"{self._saved:03d}"
        for label, rel in zip(shown, rels, strict=True):
            src = base / rel
            if src.is_file() and not src.is_symlink():
                dest = dest_root / label
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
        return str(dest_root) if dest_root.exists() else None

    def guarded(self, fn: Callable[[Snapshot], tuple[str, bool]], where: str) -> tuple[str, bool]:
        """Run a bash or editor call between two snapshots and revert what it may not change."""
        git_before = self.git_snapshot()
        before = self.snapshot()
        try:
            text, is_error = fn(before)
        finally:
            # .git first: the tree snapshot runs git, which must not see a config the agent planted.
            problems = self.enforce_git(git_before, where)
            problems += self.enforce(before, where=where)
        if problems:
            text += "\n\n[phaser] " + "\n[phaser] ".join(problems)
            is_error = True
        return text, is_error

    def readonly_paths(self, before: Snapshot) -> list[Path]:
        fixed = [self.root / ".git", self.root / ".phaser", self.root / "specs"]
        if self.plan_path is not None:
            fixed.append(self.plan_path)
        protected = [
            self.root / rel
            for rel, entry in before.entries.items()
            if entry.kind == "file" and self.policy.protecting_glob(rel) is not None
        ]
        return fixed + protected

    def _rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()
