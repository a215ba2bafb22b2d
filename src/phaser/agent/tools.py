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

from collections.abc import Callable
from pathlib import Path
from typing import Any

from phaser.agent.confine.denials import explain
from phaser.agent.confine.policy import build, resolve_backend
from phaser.agent.editor import TextEditor, ToolError
from phaser.agent.journal import Journal
from phaser.agent.plan_tools import PlanTools
from phaser.agent.policy import PathPolicy, PolicyRefusal, Step
from phaser.agent.provider import ToolCall
from phaser.agent.sandbox import cap_text, redact, run_command
from phaser.agent.snapshot import Snapshot
from phaser.agent.tree_guard import EDITOR, TreeGuard
from phaser.config import AgentConfig
from phaser.errors import PhaserError
from phaser.events import EventSink, ignore


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
        self.confinement = resolve_backend(agent_cfg.sandbox)  # ConfigError: fail closed
        self.sandbox = self.confinement.backend
        self.editor = TextEditor(self.root, policy)
        self.guard = TreeGuard(self.root, policy, self.plan_path, self.sandbox, on_event, journal)
        """Snapshots and enforcement around each call and each step."""
        self.plan = PlanTools(self.plan_path, phase)
        """The plan tools and what the agent claimed, noted and added with them."""
        # the records, one list each, shared with the part that fills it
        self.claims, self.claimed_text = self.plan.claims, self.plan.claimed_text
        self.notes, self.added_tasks = self.plan.notes, self.plan.added_tasks
        self.violations, self.person_saves = self.guard.violations, self.guard.person_saves
        self.refusals: list[dict[str, Any]] = []
        self._handlers: dict[str, Callable[[dict[str, Any]], tuple[str, bool]]] = {
            EDITOR: self._editor,
            "bash": self._bash,
            "claim_task": self.plan.claim_task,
            "add_note": self.plan.add_note,
            "add_task": self.plan.add_task,
            "finish_step": self.plan.finish_step,
        }

    @property
    def step(self) -> Step:
        return self.guard.step

    @step.setter
    def step(self, step: Step) -> None:
        self.guard.step = self.plan.step = step

    @property
    def finished(self) -> str | None:
        """The summary of finish_step in this step, or None."""
        return self.plan.finished

    @finished.setter
    def finished(self, summary: str | None) -> None:
        self.plan.finished = summary

    def snapshot(self, *, step_scope: bool = False) -> Snapshot:
        return self.guard.snapshot(step_scope=step_scope)

    def enforce(self, before: Snapshot, *, step_scope: bool = False, where: str = "") -> list[str]:
        return self.guard.enforce(before, step_scope=step_scope, where=where)

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
        return self.guard.guarded(lambda _before: (self.editor.run(args, self.step), False), EDITOR)

    def _bash(self, args: dict[str, Any]) -> tuple[str, bool]:
        if args.get("restart"):
            return "tool has been restarted.", False
        command = args.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ToolError("Parameter `command` is required (or `restart: true`).")

        def call(before: Snapshot) -> tuple[str, bool]:
            readonly = self.guard.readonly_paths(before)
            protected = [p for p in readonly if self.policy.protecting_glob(_rel(self.root, p)) is not None]
            policy = build(
                self.root,
                self.confinement,
                read_only=self.step is not Step.CODE,
                readonly=readonly,
                protected=protected,
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

        self.guard.command = command
        try:
            return self.guard.guarded(call, "bash")
        finally:
            self.guard.command = None


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


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
