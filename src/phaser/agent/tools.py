"""The agent's tools and the ToolBox that runs them under the policy.

The tool list is the same for every step of a phase, so the prompt-cache prefix stays valid;
what a step may do is decided when a tool runs. Every failure comes back to the model as an
``is_error`` tool_result with a readable message; nothing here raises into the loop.

Two layers check each bash and editor call: the policy before (the editor asks ``check_write``;
bubblewrap, when present, makes forbidden paths read-only for bash), and a snapshot after. Any
change the step may not make — in the tree, in ``specs/`` (the plan), or in ``.git`` — is put
back, its changed bytes are saved under the run folder, and a violation is recorded.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from phaser import layout
from phaser.agent.confine.denials import explain
from phaser.agent.confine.policy import build, resolve_backend
from phaser.agent.editor import TextEditor, ToolError
from phaser.agent.journal import Journal
from phaser.agent.policy import PathPolicy, PolicyRefusal, Step
from phaser.agent.provider import ToolCall
from phaser.agent.sandbox import cap_text, redact, run_command
from phaser.agent.snapshot import RestoreError, Snapshot, diff, restore, take_snapshot
from phaser.config import AgentConfig
from phaser.errors import PhaserError
from phaser.events import EventSink, Notice, PolicyViolation, ignore
from phaser.plan import refs
from phaser.plan.edit import AddTask, AppendNote
from phaser.plan.store import edit_plan, read_plan

EDITOR = "str_replace_based_edit_tool"
MAX_PLAN_TEXT = 2000


def _custom(name: str, description: str, props: dict[str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "input_schema": {
            "type": "object",
            "properties": {k: {"type": "string", "description": v} for k, v in props.items()},
            "required": list(props),
        },
    }


CUSTOM_TOOLS = [
    _custom(
        "claim_task",
        "Claim that a task of this phase is done, with the evidence (files, commands, output). The "
        "harness records the claim and ticks the box only after its own checks pass.",
        {"ref": "The task reference, like 2.1 (phase.task).", "evidence": "What shows it is done."},
    ),
    _custom(
        "add_note",
        "Add a note to this phase's Notes in the plan, for the humans and for later phases: a "
        "decision, a surprise, or something that needs a human (such as a protected test that is wrong).",
        {"text": "One short paragraph."},
    ),
    _custom(
        "add_task",
        "Add a task you discovered to this phase of the plan, for a human or a later run.",
        {"text": "The task, one line."},
    ),
    _custom(
        "finish_step",
        "End the current step with a short summary of what you did and found.",
        {"summary": "What was done, what is left."},
    ),
]


def tool_definitions() -> list[dict[str, Any]]:
    """The fixed tool list: Anthropic's editor and bash (which Claude is trained on), then ours.

    A function of nothing, so a dry run can price a request without building a ToolBox.
    """
    return [
        {"type": "text_editor_20250728", "name": EDITOR},
        {"type": "bash_20250124", "name": "bash"},
        *(dict(t) for t in CUSTOM_TOOLS),
    ]


class ToolBox:
    """Runs tool calls for one phase; the loop sets ``step`` as the phase moves on."""

    def __init__(
        self,
        root: Path,
        policy: PathPolicy,
        plan_path: Path | None,
        phase: int | None,
        agent_cfg: AgentConfig,
        on_event: EventSink = ignore,
        journal: Journal | None = None,
    ) -> None:
        self.root = Path(root)
        self.policy = policy
        self.plan_path = Path(plan_path) if plan_path is not None else None
        self.phase = phase
        self.cfg = agent_cfg
        self.on_event = on_event
        self.journal = journal
        self.step = Step.EXPLORE
        self.claims: list[tuple[str, str]] = []
        self.claimed_text: dict[str, str] = {}
        """ref -> the task's text when it was claimed: the harness ticks that task, even if a hand
        edit has renumbered the list since, and never another one."""
        self.notes: list[str] = []
        self.added_tasks: list[str] = []
        self.finished: str | None = None
        self.violations: list[dict[str, Any]] = []
        self.refusals: list[dict[str, Any]] = []
        self.person_saves: list[dict[str, Any]] = []
        """Changes under specs/ that landed during a call and were a person's: kept, never blamed."""
        self._command: str | None = None
        self.confinement = resolve_backend(agent_cfg.sandbox)  # ConfigError: fail closed
        self.sandbox = self.confinement.backend
        self.editor = TextEditor(self.root, policy)
        self.blob_dir = layout.blobs_dir(layout.state_dir(self.root))
        self._last: Snapshot | None = None
        self._git_last: Snapshot | None = None
        self._saved = 0
        self._handlers: dict[str, Callable[[dict[str, Any]], tuple[str, bool]]] = {
            EDITOR: self._editor,
            "bash": self._bash,
            "claim_task": self._claim_task,
            "add_note": self._add_note,
            "add_task": self._add_task,
            "finish_step": self._finish_step,
        }

    def definitions(self) -> list[dict[str, Any]]:
        """The same list for every step of the phase, so the prompt-cache prefix stays valid."""
        return tool_definitions()

    def run(self, call: ToolCall) -> dict[str, Any]:
        """Run one call; always returns a tool_result block (``is_error`` on any failure)."""
        handler = self._handlers.get(call.name)
        try:
            if handler is None:
                raise ToolError(f"Unknown tool {call.name!r}; the tools are: {', '.join(self._handlers)}.")
            if call.error:  # e.g. function-call arguments that are not a JSON object
                raise ToolError(call.error)
            if not isinstance(call.input, dict):
                raise ToolError("The tool input must be a JSON object.")
            text, is_error = handler(call.input)
        except PolicyRefusal as refusal:
            text, is_error = f"Refused ({refusal.rule}): {refusal.message}", True
            self._refused(call, refusal)
        except ToolError as exc:
            text, is_error = str(exc), True
        except (PhaserError, OSError) as exc:
            text, is_error = f"{call.name} failed: {exc}", True
        except Exception as exc:  # noqa: BLE001 - a tool bug must not end the run
            text, is_error = f"{call.name} failed unexpectedly: {type(exc).__name__}: {exc}", True
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call.id, "content": redact(text)}
        if is_error:
            block["is_error"] = True
        return block

    # -- snapshots and enforcement ----------------------------------------------------------------

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
        command = self._command or ""
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

    def _git_snapshot(self) -> Snapshot | None:
        git_dir = self.root / ".git"
        if git_dir.is_symlink() or not git_dir.is_dir():
            return None
        self._git_last = take_snapshot(git_dir, ("objects",), blob_dir=self.blob_dir, previous=self._git_last)
        return self._git_last

    def _enforce_git(self, before: Snapshot | None, where: str) -> list[str]:
        if before is None:
            return []
        git_dir = self.root / ".git"
        if git_dir.is_symlink() or git_dir.is_file():
            git_dir.unlink()
        git_dir.mkdir(exist_ok=True)
        changes = diff(before, self._git_snapshot() or before)
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

    def _guarded(self, fn: Callable[[Snapshot], tuple[str, bool]], where: str) -> tuple[str, bool]:
        """Run a bash or editor call between two snapshots and revert what it may not change."""
        git_before = self._git_snapshot()
        before = self.snapshot()
        try:
            text, is_error = fn(before)
        finally:
            # .git first: the tree snapshot runs git, which must not see a config the agent planted.
            problems = self._enforce_git(git_before, where)
            problems += self.enforce(before, where=where)
        if problems:
            text += "\n\n[phaser] " + "\n[phaser] ".join(problems)
            is_error = True
        return text, is_error

    def _refused(self, call: ToolCall, refusal: PolicyRefusal) -> None:
        record = {
            "step": self.step.value,
            "tool": call.name,
            "rule": refusal.rule,
            "message": refusal.message,
        }
        self.refusals.append(record)
        if self.journal is not None:
            self.journal.write("refusal", **record)

    # -- the tools --------------------------------------------------------------------------------

    def _editor(self, args: dict[str, Any]) -> tuple[str, bool]:
        if args.get("command") == "view":
            return cap_text(self.editor.run(args, self.step), self.cfg.output_cap)[0], False
        return self._guarded(lambda _before: (self.editor.run(args, self.step), False), EDITOR)

    def _readonly_paths(self, before: Snapshot) -> list[Path]:
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

    def _bash(self, args: dict[str, Any]) -> tuple[str, bool]:
        if args.get("restart"):
            return "tool has been restarted.", False
        command = args.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ToolError("Parameter `command` is required (or `restart: true`).")

        def call(before: Snapshot) -> tuple[str, bool]:
            readonly = self._readonly_paths(before)
            policy = build(
                self.root,
                self.confinement,
                read_only=self.step is not Step.CODE,
                readonly=readonly,
                protected=[p for p in readonly if self.policy.protecting_glob(self._rel(p)) is not None],
                network=self.cfg.network,
                credential_extra=self.cfg.credential_paths,
            )
            result = run_command(
                command,
                cwd=self.root,
                timeout_s=self.cfg.bash_timeout_s,
                output_cap=self.cfg.output_cap,
                read_only=policy.read_only,
                policy=policy,
            )
            if self.journal is not None:
                self.journal.write("confinement", command=command[:200], **policy.describe())
            text = result.output if result.output.strip() else "(no output)"
            if result.exit_code != 0 and not result.timed_out:
                text += f"\n[exit code {result.exit_code}]"
                text += explain(result.output, policy, command)
            return text, result.exit_code != 0 or result.timed_out

        self._command = command
        try:
            return self._guarded(call, "bash")
        finally:
            self._command = None

    def _plan_text(self, args: dict[str, Any], key: str) -> str:
        value = args.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ToolError(f"Parameter `{key}` is required and must be non-empty text.")
        if self.plan_path is None or self.phase is None:
            raise ToolError("This run has no plan phase to write to.")
        # One line: a newline could smuggle a heading or another phase's task into the plan.
        text = re.sub(r"\s+", " ", value).strip()
        return text if len(text) <= MAX_PLAN_TEXT else text[: MAX_PLAN_TEXT - 3] + "..."

    def _add_note(self, args: dict[str, Any]) -> tuple[str, bool]:
        text = self._plan_text(args, "text")
        day = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
        # dated and marked, so a reader tells the agent's notes from a person's and knows when
        edit_plan(self.plan_path, AppendNote(self.phase, f"{day} agent: {text}"))  # type: ignore[arg-type]
        self.notes.append(text)
        return f"Note added to phase {self.phase}.", False

    def _add_task(self, args: dict[str, Any]) -> tuple[str, bool]:
        text = self._plan_text(args, "text")
        edit_plan(self.plan_path, AddTask(self.phase, text))  # type: ignore[arg-type]
        self.added_tasks.append(text)
        return f"Task added to phase {self.phase} (unchecked, for a human or a later run).", False

    def _claim_task(self, args: dict[str, Any]) -> tuple[str, bool]:
        ref, evidence = args.get("ref"), args.get("evidence", "")
        if not isinstance(ref, str) or not refs.is_ref(ref):
            raise ToolError("Parameter `ref` must be a task reference like 2.1 (phase.task) or 3.5#1.")
        if not isinstance(evidence, str):
            raise ToolError("Parameter `evidence` must be text.")
        ref = ref.strip()
        if self.plan_path is None or self.phase is None:
            raise ToolError("This run has no plan phase to claim tasks in.")
        number, index = refs.parse_ref(ref)
        if number != self.phase:
            raise ToolError(f"Task {ref} is not in phase {self.phase}; claim only this phase's tasks.")
        phase = read_plan(self.plan_path).phase(number)
        task = phase.task(index) if phase is not None else None
        if task is None:
            raise ToolError(f"Phase {self.phase} has no task {ref}.")
        self.claims.append((ref, evidence))
        self.claimed_text[ref] = task.text
        return (
            f"Claim recorded for {ref} ({task.text}). The harness ticks it after its own checks pass.",
            False,
        )

    def _finish_step(self, args: dict[str, Any]) -> tuple[str, bool]:
        summary = args.get("summary", "")
        self.finished = summary if isinstance(summary, str) else str(summary)
        return f"The {self.step.value} step is finished.", False


def tool_summary(call: ToolCall, limit: int = 160) -> str:
    """One line for ToolStarted: the command, or the action and path."""
    args = call.input if isinstance(call.input, dict) else {}
    if call.name == "bash":
        text = "restart" if args.get("restart") else str(args.get("command", ""))
    elif call.name == EDITOR:
        text = f"{args.get('command', '?')} {args.get('path', '')}"
    else:
        text = " ".join(f"{k}={v}" for k, v in args.items())
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
