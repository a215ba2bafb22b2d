"""How one step's ``claude -p`` is invoked: its options, its environment, its command line, and the
settings, hook and MCP files it reads (written to a private folder per step)."""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from phaser.agent.claude_code.mcp import tool_names
from phaser.agent.policy import Step
from phaser.agent.sandbox import safe_env
from phaser.agent.tools import ToolBox

__all__ = ["ClaudeCodeOptions", "RunFiles", "child_env", "command_line", "tools_for", "write_run_files"]

READ_TOOLS = ("Read", "Glob", "Grep")
CODE_TOOLS = (*READ_TOOLS, "Write", "Edit", "Bash")
QUIET_ENV = {
    "DISABLE_TELEMETRY": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
}
HOOK_TIMEOUT_S = 30
"""Claude Code's timeout for the hook; the hook denies on its own, sooner (hook.DEADLINE_S)."""


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


@dataclass(frozen=True)
class RunFiles:
    """The files one step's CLI reads: its settings (the hook), its MCP servers (the plan tools)."""

    settings: Path
    mcp: Path


def write_run_files(private: Path, toolbox: ToolBox, step: Step, nonce: str) -> RunFiles:
    """The hook's policy, the settings that install the hook, and the MCP config, in ``private``."""
    policy = toolbox.policy
    (private / "policy.json").write_text(
        json.dumps(
            {
                "root": str(toolbox.root),
                "step": step.value,
                "protected": policy.protected,
                "unprotect": policy.unprotect,
                "plan_path": str(toolbox.plan_path) if toolbox.plan_path else None,
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
    files = RunFiles(private / "settings.json", private / "mcp.json")
    files.settings.write_text(json.dumps(settings), encoding="utf-8")
    files.mcp.write_text(json.dumps(mcp), encoding="utf-8")
    return files


def command_line(command: str, model: str, step: Step, files: RunFiles, system: str) -> list[str]:
    """``claude -p`` for one step, before its caps and session flags: stream-json out, the hook
    and plan tools only from ``files``, the step's own tools, phaser's system prompt appended."""
    tools = ",".join(tools_for(step))
    argv = [command, "-p", "--output-format", "stream-json", "--verbose"]
    argv += ["--include-hook-events", "--model", model, "--permission-mode", "dontAsk"]
    argv += ["--settings", str(files.settings), "--setting-sources", ""]
    argv += ["--mcp-config", str(files.mcp), "--strict-mcp-config"]
    argv += ["--tools", tools, "--allowedTools", ",".join([tools, *tool_names()])]
    argv += ["--append-system-prompt", system]
    return argv
