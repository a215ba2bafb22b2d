"""A phase's steps run by Claude Code: one ``claude -p`` per step, one Claude Code session per phase.

phaser keeps what it is for. Each step gets only its tools (read tools in explore and update, the
edit tools and Bash in code), phaser's PreToolUse hook as the edit lock (checked active before the
model is asked anything), phaser's plan tools over MCP, the phase's remaining turns and dollars as
``--max-turns`` and ``--max-budget-usd``, a timeout, and the confinement around the whole process.
After every step the snapshot check puts back what the step may not change, as for phaser's loop.
"""

from __future__ import annotations

import queue
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import IO, Any

from phaser.agent.base import StepResult
from phaser.agent.claude_code.invocation import (
    ClaudeCodeOptions,
    child_env,
    command_line,
    write_run_files,
)
from phaser.agent.claude_code.mcp import PlanToolServer
from phaser.agent.claude_code.process import Confinement, end_group, spawn
from phaser.agent.claude_code.stream import StreamReader
from phaser.agent.journal import Journal
from phaser.agent.meter import Metered
from phaser.agent.policy import Step
from phaser.agent.provider import Usage
from phaser.agent.tools import ToolBox
from phaser.config import BudgetConfig
from phaser.errors import AgentUnsafe, ProviderError, RunStopped
from phaser.events import EventSink, StepStarted, ignore

__all__ = ["ClaudeCodeOptions", "ClaudeCodeSession"]

STDERR_CAP = 8000
HARNESS_NOTE = """\
You run as Claude Code inside phaser. A step ends when you end your reply: where phaser's
instructions say finish_step, end with that summary instead. The plan tools are the phaser MCP
tools (claim_task, add_note, add_task). Only the code step may change files."""


class ClaudeCodeSession(Metered):
    """The StepAgent for Claude Code; the ToolBox holds the phase's claims, notes and violations."""

    def __init__(
        self,
        toolbox: ToolBox,
        journal: Journal,
        *,
        model: str,
        system: str,
        options: ClaudeCodeOptions,
        on_event: EventSink = ignore,
        budget: BudgetConfig,
        stop_event: threading.Event | None = None,
        step_turns: int = 40,
    ) -> None:
        super().__init__(journal, budget, on_event, stop_event)
        self.toolbox = toolbox
        self.model = model
        """The model asked for; ``reported_model`` is the one Claude Code says it used."""
        self.reported_model = ""
        self.system = system
        self.options = options
        self.step_turns = step_turns
        self.session_id = str(uuid.uuid4())
        self.started = False
        self.by_model: dict[str, dict[str, Any]] = {}

    def run_step(self, step: Step, prompt: str) -> StepResult:
        """One ``claude -p`` run; raises BudgetExceeded, RunStopped, ProviderError or AgentUnsafe."""
        self._check_stop()
        self._check_budget()
        self.toolbox.step = step
        result = StepResult(step, "", 0)
        self.journal.write(
            "step_start", step=step.value, prompt=prompt, sandbox=self.toolbox.sandbox, agent="claude-code"
        )
        self.on_event(StepStarted(step.value))
        before = self.toolbox.snapshot(step_scope=True)
        git_before = self.toolbox.guard.git_snapshot()
        private = Path(tempfile.mkdtemp(prefix="phaser-cc-"))
        server = PlanToolServer(self.toolbox, private / "plan.sock").start()
        try:
            self._run(step, prompt, private, result)
        except BaseException as exc:
            result.ended = result.ended or f"error: {type(exc).__name__}"
            raise
        finally:
            server.stop()
            shutil.rmtree(private, ignore_errors=True)
            self._finish_step(step, before, git_before, result)
        return result

    # -- one run --------------------------------------------------------------------------------

    def _argv(self, step: Step, private: Path, nonce: str) -> tuple[list[str], int]:
        """The CLI's command line for one step (its settings, hook and MCP files go to ``private``)."""
        max_turns = min(self.step_turns, self.budget.phase_turns - self.turns)
        budget_usd = max(self.budget.phase_usd - self.cost_usd, 0.0001)
        resume = ["--resume", self.session_id] if self.started else ["--session-id", self.session_id]
        files = write_run_files(private, self.toolbox, step, nonce)
        argv = command_line(
            self.options.command, self.model, step, files, self.system + "\n\n" + HARNESS_NOTE
        )
        argv += ["--max-turns", str(max_turns), "--max-budget-usd", f"{budget_usd:.4f}", *resume]
        return argv, max_turns

    def _confinement(self, step: Step, private: Path, env: dict[str, str]) -> Confinement:
        home = Path(env.get("HOME") or Path.home())
        config = Path(env["CLAUDE_CONFIG_DIR"]) if env.get("CLAUDE_CONFIG_DIR") else home / ".claude"
        config.mkdir(parents=True, exist_ok=True)
        writable = [private, config, home / ".claude.json"] + (
            [self.toolbox.root] if step is Step.CODE else []
        )
        state = home / ".claude.json"  # the CLI's own state file: must exist to be bound writable
        if not state.exists():
            state.write_text("{}\n", encoding="utf-8")
        return Confinement(
            self.options.sandbox,
            writable,
            self.toolbox.guard.readonly_paths(self.toolbox.snapshot()) if step is Step.CODE else [],
        )

    def _run(self, step: Step, prompt: str, private: Path, result: StepResult) -> None:
        nonce = uuid.uuid4().hex
        argv, max_turns = self._argv(step, private, nonce)
        env = child_env(self.options)
        reader = StreamReader(self.toolbox.root, step.value, nonce, self.journal, self.on_event)
        proc, confined = spawn(argv, self.toolbox.root, env, self._confinement(step, private, env))
        self.journal.write("claude_code", step=step.value, argv=argv[:1] + argv[2:], confined=confined)
        self.started = True
        lines: queue.Queue[str | None] = queue.Queue()
        err: list[bytes] = []
        threads = [
            threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True),
            threading.Thread(target=_drain, args=(proc.stderr, err), daemon=True),
        ]
        for t in threads:
            t.start()
        try:
            assert proc.stdin is not None
            proc.stdin.write(prompt.encode("utf-8"))
            proc.stdin.close()
        except OSError:
            pass
        deadline = time.monotonic() + self.options.step_timeout_s
        try:
            while True:
                try:
                    line = lines.get(timeout=0.1)
                except queue.Empty:
                    line = ""
                if line is None:
                    break
                if line:
                    event = reader.feed(line)
                    if (
                        event is not None
                        and event.get("type") in ("system", "assistant")
                        and not (
                            event.get("type") == "system" and event.get("subtype", "").startswith("hook_")
                        )
                        and not reader.state.hook_active
                    ):
                        self.journal.write("hook_inactive", step=step.value, event=event.get("subtype"))
                        raise AgentUnsafe(
                            "Claude Code started without phaser's edit-lock hook active (settings ignored, "
                            "--bare, or the hook could not run); phaser refuses to run it unlocked"
                        )
                if self.stop_event is not None and self.stop_event.is_set():
                    self.journal.write("stopped", reason="stopped by user", step=step.value)
                    raise RunStopped("stopped by user")
                if time.monotonic() > deadline:
                    raise ProviderError(
                        f"Claude Code's {step.value} step timed out after {self.options.step_timeout_s:g}s"
                    )
            proc.wait(timeout=30)
        finally:
            end_group(proc)
            for t in threads:
                t.join(timeout=5)
        result.turns = len(reader.state.messages)
        self.turns += result.turns
        self.reported_model = reader.state.model or self.reported_model
        reader.unlisted_denials()
        self.toolbox.refusals.extend(reader.refusals)
        stderr = b"".join(err).decode("utf-8", "replace")[-STDERR_CAP:]
        self._map_result(reader, proc.returncode, stderr, max_turns, result)

    def _map_result(
        self, reader: StreamReader, rc: int, stderr: str, max_turns: int, result: StepResult
    ) -> None:
        res = reader.state.result
        if res is None:
            if rc in (143, -15):
                raise RunStopped("Claude Code was terminated (exit 143)")
            tail = stderr.strip().splitlines()[-1:] or [f"exit {rc}"]
            raise ProviderError(f"Claude Code ended without a result (exit {rc}): {tail[0]}")
        self._account(res, result)
        subtype, text = str(res.get("subtype", "")), str(res.get("result") or "")
        if subtype == "error_max_budget_usd":
            raise self._over_budget(
                f"the phase cost ${self.cost_usd:.4f} (limit ${self.budget.phase_usd:.4f})"
            )
        if subtype == "error_max_turns":
            if max_turns < self.step_turns:
                raise self._over_budget(
                    f"the phase used {self.turns} turns (limit {self.budget.phase_turns})"
                )
            result.ended, result.summary = "step_turns", reader.state.last_text
            return
        if res.get("is_error") or subtype != "success":
            status = res.get("api_error_status")
            raise ProviderError(f"Claude Code: {text or subtype}" + (f" (HTTP {status})" if status else ""))
        result.ended, result.summary = str(res.get("stop_reason") or "end_turn"), text

    def _account(self, res: dict[str, Any], result: StepResult) -> None:
        """Usage and dollars per model from ``modelUsage``, priced by Claude Code itself."""
        estimate = self.options.auth == "subscription"
        for model, mu in (res.get("modelUsage") or {}).items():
            if not isinstance(mu, dict):
                continue
            u = Usage(
                int(mu.get("inputTokens") or 0),
                int(mu.get("outputTokens") or 0),
                int(mu.get("cacheCreationInputTokens") or 0),
                int(mu.get("cacheReadInputTokens") or 0),
            )
            cost = float(mu.get("costUSD") or 0.0)
            self.reported_model = self.reported_model or model
            row = self.by_model.setdefault(model, {"usage": Usage(), "cost_usd": 0.0})
            row["usage"], row["cost_usd"] = row["usage"] + u, row["cost_usd"] + cost
            self.journal.write(
                "response",
                step=self.toolbox.step.value,
                model=model,
                usage=u.as_dict(),
                cost_usd=round(self.cost_usd + cost, 6),
                step_cost_usd=round(cost, 6),
                estimate=estimate,
                stop_reason=res.get("stop_reason") or res.get("subtype"),
                agent="claude-code",
            )
            self._charge(model, u, cost, result)

    # -- the end of a step ----------------------------------------------------------

    def _finish_step(self, step: Step, before: Any, git_before: Any, result: StepResult) -> None:
        """The backstop after every run: put back what the step may not change, as phaser's loop does."""

        def enforce() -> list[str]:
            reverted = self.toolbox.guard.enforce_git(git_before, "claude-code")
            return reverted + self.toolbox.enforce(before, step_scope=True, where="step")

        self._close_step(step, result, self.toolbox, enforce, model=self.reported_model)


def _pump(stream: IO[bytes] | None, lines: queue.Queue[str | None]) -> None:
    try:
        for raw in stream or ():
            lines.put(raw.decode("utf-8", "replace"))
    finally:
        lines.put(None)


def _drain(stream: IO[bytes] | None, sink: list[bytes]) -> None:
    size = 0
    for raw in stream or ():
        if size < 1 << 20:
            sink.append(raw)
            size += len(raw)
