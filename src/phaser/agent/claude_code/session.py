"""A phase's steps run by Claude Code: one ``claude -p`` per step, one Claude Code session per phase.

phaser keeps what it is for. Each step gets only its tools (read tools in explore and update, the
edit tools and Bash in code), phaser's PreToolUse hook as the edit lock (checked active before the
model is asked anything), phaser's plan tools over MCP, the phase's remaining turns and dollars as
``--max-turns`` and ``--max-budget-usd``, a timeout, and the confinement around the whole process.
After every step the snapshot check puts back what the step may not change, as for phaser's loop.
"""

from __future__ import annotations

import json
import queue
import shlex
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from phaser.agent.base import StepResult
from phaser.agent.claude_code.mcp import PlanToolServer, tool_names
from phaser.agent.claude_code.process import Confinement, end_group, spawn
from phaser.agent.claude_code.stream import StreamReader
from phaser.agent.journal import Journal
from phaser.agent.policy import Step
from phaser.agent.provider import Usage
from phaser.agent.sandbox import safe_env
from phaser.agent.tools import ToolBox
from phaser.config import BudgetConfig
from phaser.errors import AgentUnsafe, BudgetExceeded, ProviderError, RunStopped
from phaser.events import EventSink, StepStarted, UsageUpdated, ignore

READ_TOOLS = ("Read", "Glob", "Grep")
CODE_TOOLS = (*READ_TOOLS, "Write", "Edit", "Bash")
QUIET_ENV = {
    "DISABLE_TELEMETRY": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
}
HOOK_TIMEOUT_S = 30
"""Claude Code's timeout for the hook; the hook denies on its own, sooner (hook.DEADLINE_S)."""
STDERR_CAP = 8000
HARNESS_NOTE = """\
You run as Claude Code inside phaser. A step ends when you end your reply: where phaser's
instructions say finish_step, end with that summary instead. The plan tools are the phaser MCP
tools (claim_task, add_note, add_task). Only the code step may change files."""


@dataclass
class ClaudeCodeOptions:
    """How to run the CLI; built by the workflow from ``[providers.NAME]`` and the environment."""

    command: str
    auth: str = "api-key"
    """api-key (ANTHROPIC_API_KEY goes to the child) or subscription (the user's own login)."""
    api_key: str | None = None
    base_url: str | None = None
    oauth_token: str | None = None
    """CLAUDE_CODE_OAUTH_TOKEN, passed on in subscription mode when the user has one."""
    step_timeout_s: float = 1800.0
    max_retries: int = 2
    sandbox: str = "auto"
    config_dir: str | None = None
    """CLAUDE_CONFIG_DIR, when the user set one."""
    extra_env: dict[str, str] = field(default_factory=dict)


def tools_for(step: Step) -> tuple[str, ...]:
    return CODE_TOOLS if step is Step.CODE else READ_TOOLS


def child_env(options: ClaudeCodeOptions) -> dict[str, str]:
    """The CLI's environment: phaser's allow-list, the quiet and bounded settings, and the auth the
    user chose. In subscription mode no API key reaches it (in ``-p`` a key always wins the login)."""
    env = safe_env()
    env.update(QUIET_ENV)
    env["CLAUDE_CODE_MAX_RETRIES"] = str(options.max_retries)
    if options.config_dir:
        env["CLAUDE_CONFIG_DIR"] = options.config_dir
    if options.base_url:
        env["ANTHROPIC_BASE_URL"] = options.base_url
    if options.auth == "subscription":
        if options.oauth_token:
            env["CLAUDE_CODE_OAUTH_TOKEN"] = options.oauth_token
    elif options.api_key:
        env["ANTHROPIC_API_KEY"] = options.api_key
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN") if options.auth == "subscription" else ():
        env.pop(name, None)
    env.update(options.extra_env)
    return env


class ClaudeCodeSession:
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
        self.toolbox = toolbox
        self.journal = journal
        self.model = model
        """The model asked for; ``reported_model`` is the one Claude Code says it used."""
        self.reported_model = ""
        self.system = system
        self.options = options
        self.on_event = on_event
        self.budget = budget
        self.stop_event = stop_event
        self.step_turns = step_turns
        self.session_id = str(uuid.uuid4())
        self.started = False
        self.usage = Usage()
        self.cost_usd = 0.0
        self.turns = 0
        self.by_model: dict[str, dict[str, Any]] = {}

    @property
    def tokens(self) -> int:
        return self.usage.total_input + self.usage.output_tokens

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
        git_before = self.toolbox._git_snapshot()
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
        policy = self.toolbox.policy
        (private / "policy.json").write_text(
            json.dumps(
                {
                    "root": str(self.toolbox.root),
                    "step": step.value,
                    "protected": policy.protected,
                    "unprotect": policy.unprotect,
                    "plan_path": str(self.toolbox.plan_path) if self.toolbox.plan_path else None,
                    "nonce": nonce,
                }
            ),
            encoding="utf-8",
        )
        policy_file = shlex.quote(str(private / "policy.json"))
        hook = f"{shlex.quote(sys.executable)} -m phaser.agent.claude_code.hook {policy_file}"
        entry = {"type": "command", "command": hook, "timeout": HOOK_TIMEOUT_S}
        settings = {
            "hooks": {
                "SessionStart": [{"hooks": [entry]}],
                "PreToolUse": [{"matcher": "*", "hooks": [entry]}],
            }
        }
        mcp = {
            "mcpServers": {
                "phaser": {
                    "type": "stdio",
                    "command": sys.executable,
                    "args": ["-m", "phaser.agent.claude_code.mcp", str(private / "plan.sock")],
                }
            }
        }
        (private / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
        (private / "mcp.json").write_text(json.dumps(mcp), encoding="utf-8")
        tools = ",".join(tools_for(step))
        max_turns = min(self.step_turns, self.budget.phase_turns - self.turns)
        argv = [self.options.command, "-p", "--output-format", "stream-json", "--verbose"]
        argv += ["--include-hook-events", "--model", self.model, "--permission-mode", "dontAsk"]
        argv += ["--settings", str(private / "settings.json"), "--setting-sources", ""]
        argv += ["--mcp-config", str(private / "mcp.json"), "--strict-mcp-config"]
        argv += ["--tools", tools, "--allowedTools", ",".join([tools, *tool_names()])]
        argv += ["--append-system-prompt", self.system + "\n\n" + HARNESS_NOTE, "--max-turns", str(max_turns)]
        argv += ["--max-budget-usd", f"{max(self.budget.phase_usd - self.cost_usd, 0.0001):.4f}"]
        argv += ["--resume", self.session_id] if self.started else ["--session-id", self.session_id]
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
            self.toolbox._readonly_paths(self.toolbox.snapshot()) if step is Step.CODE else [],
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
            reason = f"the phase cost ${self.cost_usd:.4f} (limit ${self.budget.phase_usd:.4f})"
            self.journal.write("budget_exceeded", reason=reason, **self._totals())
            raise BudgetExceeded(f"budget reached: {reason}")
        if subtype == "error_max_turns":
            if max_turns < self.step_turns:
                reason = f"the phase used {self.turns} turns (limit {self.budget.phase_turns})"
                self.journal.write("budget_exceeded", reason=reason, **self._totals())
                raise BudgetExceeded(f"budget reached: {reason}")
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
            self.usage, result.usage = self.usage + u, result.usage + u
            self.cost_usd += cost
            result.cost_usd += cost
            self.reported_model = self.reported_model or model
            row = self.by_model.setdefault(model, {"usage": Usage(), "cost_usd": 0.0})
            row["usage"], row["cost_usd"] = row["usage"] + u, row["cost_usd"] + cost
            self.journal.write(
                "response",
                step=self.toolbox.step.value,
                model=model,
                usage=u.as_dict(),
                cost_usd=round(self.cost_usd, 6),
                step_cost_usd=round(cost, 6),
                estimate=estimate,
                stop_reason=res.get("stop_reason") or res.get("subtype"),
                agent="claude-code",
            )
            s = self.usage
            self.on_event(
                UsageUpdated(
                    model,
                    s.input_tokens,
                    s.output_tokens,
                    s.cache_creation_input_tokens,
                    s.cache_read_input_tokens,
                    self.cost_usd,
                )
            )

    # -- caps, stop, the end of a step ----------------------------------------------------------

    def _totals(self) -> dict[str, Any]:
        return {"turns": self.turns, "usage": self.usage.as_dict(), "cost_usd": round(self.cost_usd, 6)}

    def _check_budget(self) -> None:
        b = self.budget
        reason = None
        if self.turns >= b.phase_turns:
            reason = f"the phase used {self.turns} turns (limit {b.phase_turns})"
        elif self.tokens >= b.phase_tokens:
            reason = f"the phase used {self.tokens:,} tokens (limit {b.phase_tokens:,})"
        elif self.cost_usd >= b.phase_usd:
            reason = f"the phase cost ${self.cost_usd:.4f} (limit ${b.phase_usd:.4f})"
        if reason is not None:
            self.journal.write("budget_exceeded", reason=reason, **self._totals())
            raise BudgetExceeded(f"budget reached: {reason}")

    def _check_stop(self) -> None:
        if self.stop_event is not None and self.stop_event.is_set():
            self.journal.write("stopped", reason="stopped by user", **self._totals())
            raise RunStopped("stopped by user")

    def _finish_step(self, step: Step, before: Any, git_before: Any, result: StepResult) -> None:
        """The backstop after every run: put back what the step may not change, as phaser's loop does."""
        reverted: list[str] = []
        try:
            reverted = self.toolbox._enforce_git(git_before, "claude-code")
            reverted += self.toolbox.enforce(before, step_scope=True, where="step")
        finally:
            self.journal.write(
                "step_end",
                step=step.value,
                ended=result.ended,
                summary=result.summary,
                turns=result.turns,
                usage=result.usage.as_dict(),
                cost_usd=round(result.cost_usd, 6),
                claims=[list(c) for c in self.toolbox.claims],
                violations=len(self.toolbox.violations),
                model=self.reported_model,
            )
            self.journal.flush()
        if reverted:
            result.summary += "\n[phaser] " + "\n[phaser] ".join(reverted)


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
