"""Claude Code as the agent of a phase: the real ``claude`` CLI (npm, pinned in .ci/run) against
phaser's fake Messages API on 127.0.0.1, offline, with a fresh HOME and a dummy key.

Skipped only where the CLI is not installed (CI installs it). Each ``claude -p`` run takes ~2 s, so
each test keeps its runs few.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from phaser import events as ev
from phaser.agent.claude_code.session import ClaudeCodeOptions, ClaudeCodeSession
from phaser.agent.journal import Journal, read_journal
from phaser.agent.policy import PathPolicy, Step
from phaser.agent.sandbox import sandbox_available
from phaser.config import AgentConfig, BudgetConfig, Price
from phaser.errors import AgentUnsafe, BudgetExceeded
from phaser.workflow import demo
from phaser.workflow.cost import cost_report
from phaser.workflow.project import Project
from phaser.workflow.providers import RunOptions
from phaser.workflow.runner import run_next
from phaser.workflow.step_agents import claude_code_options
from workflow_helpers import git, project_with_plan, read

REPO = Path(__file__).resolve().parents[1]


def _claude() -> str | None:
    local = REPO / ".ci" / "claude" / "node_modules" / ".bin" / "claude"
    return shutil.which("claude") or (str(local) if local.exists() else None)


CLAUDE = _claude()
pytestmark = pytest.mark.skipif(
    CLAUDE is None, reason="the claude CLI is not installed (.ci/run installs it)"
)
MODEL = "claude-sonnet-4-5"
SONNET_45 = Price(3.0, 15.0, 3.75, 0.30)
"""Claude Code's own price table for claude-sonnet-4-5 (checked in the research notes)."""
KEY = "sk-ant-dummy-key-0123456789"

MARKERS = {
    "Step 1 of 3: explore": "explore",
    "Step 2 of 3: code": "code",
    "The gates failed": "fix",
    "Step 3 of 3: plan update": "update",
}


def phaser_step(body: dict) -> tuple[str, int]:
    """Which phaser step a request belongs to, and how many replies that step has had so far."""
    step, at = "?", 0
    for i, msg in enumerate(body.get("messages") or []):
        content = msg.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        for block in blocks:
            if msg["role"] == "user" and block.get("type") == "text":
                for marker, name in MARKERS.items():
                    if marker in block["text"]:
                        step, at = name, i
    replies = sum(1 for m in body["messages"][at:] if m["role"] == "assistant")
    return step, replies


def by_step(turns: dict[str, list[dict]]):
    """A callable script: the n-th reply of each step, then a short closing text."""

    def script(body: dict) -> dict:
        step, n = phaser_step(body)
        seq = turns.get(step, [])
        return seq[n] if n < len(seq) else {"text": f"{step} done."}

    return script


@pytest.fixture
def cc_env(tmp_path, monkeypatch, fake_api):
    """A fresh HOME and config dir, the fake's URL and a dummy key, as a user's shell would have."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / ".claude"))
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    from phaser.workflow import providers

    monkeypatch.setattr(providers, "_saved_secrets", {})
    return fake_api


def toml(auth: str = "api-key") -> str:
    """Appended to the demo's phaser.toml, whose last table is [models]."""
    return (
        f'provider = "claude-code"\neasy = "{MODEL}"\nmedium = "{MODEL}"\nhard = "{MODEL}"\n'
        f'\n[providers.claude-code]\ncommand = "{CLAUDE}"\nauth = "{auth}"\n'
    )


def session(root: Path, run_dir: Path, *, budget: BudgetConfig | None = None, events=None, **opts):
    """A ClaudeCodeSession over a plain folder (no plan), as phase.py builds one."""
    policy = PathPolicy(root, ["tests/**"], (), None)
    from phaser.agent.tools import ToolBox

    journal = Journal(run_dir)
    toolbox = ToolBox(root, policy, None, None, AgentConfig(), journal=journal)
    options = ClaudeCodeOptions(
        command=str(CLAUDE),
        api_key=KEY,
        base_url=os.environ["ANTHROPIC_BASE_URL"],
        max_retries=1,
        step_timeout_s=120,
        **opts,
    )
    sink = events.append if events is not None else ev.ignore
    return ClaudeCodeSession(
        toolbox,
        journal,
        model=MODEL,
        system="You work inside phaser.",
        options=options,
        on_event=sink,
        budget=budget or BudgetConfig(),
    )


def kinds(run_dir: Path, kind: str) -> list[dict]:
    return [e for e in read_journal(run_dir / "journal.jsonl") if e.get("kind") == kind]


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_a.py").write_text("def test_a():\n    assert 1\n", encoding="utf-8")
    (root / "src.py").write_text("x = 1\n", encoding="utf-8")
    return root


# -- a whole phase ------------------------------------------------------------------------------


def test_phase_end_to_end_stopped_midway_then_resumed(tmp_path, cc_env):
    """explore, code, gates, claims through MCP, commit; a first run stopped in the code step leaves
    the phase resumable and the next run completes it."""
    root = project_with_plan(tmp_path / "p", toml_extra=toml())
    project = Project.open(root)
    core = str(root / "wordstats" / "core.py")
    init = str(root / "wordstats" / "__init__.py")
    turns = {
        "explore": [
            {
                "text": "Reading the tests.",
                "tool_calls": [{"name": "Read", "input": {"file_path": str(root / "tests/test_count.py")}}],
            },
            {"text": "Approach: a regex tokenizer in core.py, exported from the package."},
        ],
        "code": [
            {
                "tool_calls": [
                    {"name": "Write", "input": {"file_path": core, "content": demo.CORE_V1}},
                    {"name": "Read", "input": {"file_path": init}},
                ]
            },
            {
                "tool_calls": [
                    {
                        "name": "Edit",
                        "input": {
                            "file_path": init,
                            "old_string": '"""Word statistics."""\n',
                            "new_string": '"""Word statistics."""\n\nfrom wordstats.core import '
                            'count_words\n\n__all__ = ["count_words"]\n',
                        },
                    }
                ]
            },
            {"text": "core.py written and exported."},
        ],
        "update": [
            {
                "tool_calls": [
                    {
                        "name": "mcp__phaser__claim_task",
                        "input": {"ref": "1.1", "evidence": "core.py, gates green"},
                    },
                    {
                        "name": "mcp__phaser__claim_task",
                        "input": {"ref": "1.2", "evidence": "tests/test_count.py passes"},
                    },
                    {"name": "mcp__phaser__add_note", "input": {"text": "The tokenizer keeps apostrophes."}},
                ]
            },
            {"text": "Claimed 1.1 and 1.2."},
        ],
    }
    cc_env.set_script(by_step(turns))

    # first run: stopped as soon as the code step starts its first tool
    stop = threading.Event()
    seen: list[ev.Event] = []

    def on_event(event: ev.Event) -> None:
        seen.append(event)
        if isinstance(event, ev.ToolStarted) and event.summary.startswith("write "):
            stop.set()

    out = run_next(project, "word-stats", options=RunOptions(stop_event=stop), on_event=on_event)
    assert out.outcome == "stopped", out.detail
    assert "resumable" in out.detail
    assert "- [x]" not in read(root, "specs/word-stats/plan.md")
    assert any(isinstance(e, ev.ToolStarted) and e.name == "Read" for e in seen)  # explore streamed

    # second run: recovers the tree and completes the phase
    events: list[ev.Event] = []
    out = run_next(project, "word-stats", on_event=events.append)
    assert out.outcome == "passed", out.detail
    plan = read(root, "specs/word-stats/plan.md")
    assert plan.count("- [x]") == 2 and "The tokenizer keeps apostrophes." in plan
    assert f"model {MODEL}" in plan and "verified" in plan
    assert git(root, "log", "-1", "--format=%s").strip() == "phase 1: Count words"
    assert git(root, "status", "--porcelain").strip() == ""
    assert read(root, "tests/test_count.py") == demo.TEST_COUNT
    steps = [e.step for e in events if isinstance(e, ev.StepStarted)]
    assert steps == ["explore", "code", "gates", "update"]
    started = [e.name for e in events if isinstance(e, ev.ToolStarted)]
    assert started[:1] == ["Read"] and "Write" in started and started.count("claim_task") == 2
    assert any(isinstance(e, ev.TextDelta) and "Approach" in e.text for e in events)
    assert any(isinstance(e, ev.GateFinished) and e.ok for e in events)
    usage = [e for e in events if isinstance(e, ev.UsageUpdated)]
    assert usage and usage[-1].model == MODEL and usage[-1].cost_usd > 0
    # one Claude Code session for the phase: the update step resumed the explore step's conversation
    run_dir = root / out.run_dir
    runs = kinds(run_dir, "claude_code")
    assert [r["step"] for r in runs] == ["explore", "code", "update"]
    assert "--session-id" in runs[0]["argv"] and all("--resume" in r["argv"] for r in runs[1:])
    last = cc_env.requests[-1]["body"]
    assert any("Step 1 of 3: explore" in json.dumps(m) for m in last["messages"])
    # read-only steps got read tools only, the code step the edit tools and Bash
    tools = [sorted(t["name"] for t in r["body"]["tools"]) for r in cc_env.requests[-7:]]
    assert "Write" not in tools[0] and "Bash" not in tools[0] and "mcp__phaser__claim_task" in tools[0]
    assert any("Bash" in t and "Write" in t for t in tools)
    # the phase's dollars come from Claude Code's own pricing and show in the cost table
    report = cost_report(project, "word-stats").as_dict()
    assert report["total_usd"] > 0 and MODEL in report["plans"][0]["by_model"]


# -- the lock ----------------------------------------------------------------------------------


def test_write_in_read_only_step_is_denied(tmp_path, tree, cc_env):
    cc_env.set_script(
        [
            {
                "tool_calls": [
                    {"name": "Write", "input": {"file_path": str(tree / "new.py"), "content": "x\n"}},
                    {"name": "Bash", "input": {"command": "echo x > made.txt"}},
                ]
            },
            {"text": "I could not write."},
        ]
    )
    events: list[ev.Event] = []
    s = session(tree, tmp_path / "run", events=events)
    s.run_step(Step.EXPLORE, "look around")
    assert not (tree / "new.py").exists() and not (tree / "made.txt").exists()
    finished = [e for e in events if isinstance(e, ev.ToolFinished)]
    assert [(e.name, e.ok) for e in finished] == [("Write", False), ("Bash", False)]
    refusals = kinds(tmp_path / "run", "refusal")
    assert {r["tool"] for r in refusals} == {"Write", "Bash"}
    assert all(r["step"] == "explore" for r in refusals)
    sent = {t["name"] for t in cc_env.requests[0]["body"]["tools"]}
    assert "Write" not in sent and "Bash" not in sent and "Read" in sent


@pytest.mark.parametrize("sandbox", ["auto", "none"])
def test_protected_test_edited_via_edit_denied_and_via_bash_reverted(tmp_path, tree, cc_env, sandbox):
    test = tree / "tests" / "test_a.py"
    original = test.read_bytes()
    cc_env.set_script(
        [
            {"tool_calls": [{"name": "Read", "input": {"file_path": str(test)}}]},
            {
                "tool_calls": [
                    {
                        "name": "Edit",
                        "input": {"file_path": str(test), "old_string": "assert 1", "new_string": "pass"},
                    },
                    {"name": "Bash", "input": {"command": "echo 'def test_a(): pass' > tests/test_a.py"}},
                    {"name": "Write", "input": {"file_path": str(tree / "src2.py"), "content": "y = 2\n"}},
                ]
            },
            {"text": "done"},
        ]
    )
    s = session(tree, tmp_path / "run", sandbox=sandbox)
    result = s.run_step(Step.CODE, "change things")
    assert test.read_bytes() == original
    assert (tree / "src2.py").read_text() == "y = 2\n"  # an allowed write stays
    refusals = kinds(tmp_path / "run", "refusal")
    assert [(r["tool"], r["rule"]) for r in refusals] == [("Edit", "protected")]
    assert s.toolbox.refusals
    bash = next(t for t in kinds(tmp_path / "run", "tool") if t["name"] == "Bash")
    confined = kinds(tmp_path / "run", "claude_code")[0]["confined"]
    assert confined == (sandbox == "auto" and sandbox_available())
    if confined:
        # bubblewrap around claude: the protected file is read-only for its Bash
        assert not bash["ok"] and "Read-only file system" in bash["result"]
    else:
        # unconfined: the write happened and the snapshot check after the step put it back
        violations = kinds(tmp_path / "run", "violation")
        assert violations and violations[0]["paths"] == ["tests/test_a.py"]
        assert "put back" in result.summary and s.toolbox.violations


def test_crashing_hook_denies(tmp_path, tree, cc_env, monkeypatch):
    """The hook's policy is broken after the session started: every tool call is denied."""
    real = ClaudeCodeSession._argv

    def broken(self, step, private, nonce):
        argv = real(self, step, private, nonce)
        data = json.loads((private / "policy.json").read_text())
        data["step"] = "no-such-step"  # decide() raises; the hook must deny, not allow
        (private / "policy.json").write_text(json.dumps(data))
        return argv

    monkeypatch.setattr(ClaudeCodeSession, "_argv", broken)
    cc_env.set_script(
        [
            {
                "tool_calls": [
                    {"name": "Write", "input": {"file_path": str(tree / "new.py"), "content": "x\n"}}
                ]
            },
            {"text": "denied"},
        ]
    )
    s = session(tree, tmp_path / "run")
    s.run_step(Step.CODE, "write")
    assert not (tree / "new.py").exists()
    assert [r["tool"] for r in kinds(tmp_path / "run", "refusal")] == ["Write"]
    result = cc_env.requests[-1]["body"]["messages"][-1]["content"]
    assert any("denied to be safe" in json.dumps(b) for b in result)


@pytest.mark.parametrize(
    "policy",
    [None, "{not json", json.dumps({"root": "/", "protected": []}), "FIFO"],
    ids=["missing", "malformed", "incomplete", "timeout"],
)
def test_hook_command_fails_closed(tmp_path, policy):
    """Every way the hook can fail exits 2 (deny), including a policy file that never finishes reading."""
    path = tmp_path / "policy.json"
    if policy == "FIFO":
        os.mkfifo(path)
    elif policy is not None:
        path.write_text(policy)
    hook_input = {
        "hook_event_name": "PreToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": "/x", "content": ""},
    }
    done = subprocess.run(
        [sys.executable, "-m", "phaser.agent.claude_code.hook", str(path)],
        input=json.dumps(hook_input),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done
    assert "phaser edit lock" in done.stderr


def test_hook_inactive_refuses(tmp_path, tree, cc_env, monkeypatch):
    """Claude Code silently ignores settings with a wrong schema: phaser notices and refuses."""
    real = ClaudeCodeSession._argv

    def ignored(self, step, private, nonce):
        argv = real(self, step, private, nonce)
        bad = {"hooks": {"PreToolUse": {"matcher": "*"}, "SessionStart": {"x": 1}}}
        (private / "settings.json").write_text(json.dumps(bad))
        return argv

    monkeypatch.setattr(ClaudeCodeSession, "_argv", ignored)
    cc_env.set_script(
        [
            {
                "tool_calls": [
                    {"name": "Write", "input": {"file_path": str(tree / "new.py"), "content": "x\n"}}
                ]
            },
            {"text": "wrote it"},
        ]
    )
    s = session(tree, tmp_path / "run")
    with pytest.raises(AgentUnsafe, match="hook"):
        s.run_step(Step.CODE, "write")
    assert not (tree / "new.py").exists()
    assert kinds(tmp_path / "run", "hook_inactive")
    assert "--bare" not in kinds(tmp_path / "run", "claude_code")[0]["argv"]


# -- auth, limits, errors, costs ---------------------------------------------------------------


def test_subscription_strips_the_api_key(tmp_path, cc_env, monkeypatch):
    monkeypatch.setenv("CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-dummy-subscription")
    root = project_with_plan(tmp_path / "p", toml_extra=toml(auth="subscription"))
    project = Project.open(root)
    options = claude_code_options(project, MODEL)
    assert options.auth == "subscription" and options.api_key is None
    cc_env.set_script([{"text": "hello"}])
    run_dir = project.config.state_dir / "runs" / "word-stats" / "1" / "20260101T000000Z"
    s = session(root, run_dir, auth="subscription", oauth_token=options.oauth_token)
    s.options.api_key = KEY  # even a key handed over by mistake must not reach the child
    s.run_step(Step.EXPLORE, "hi")
    s.journal.close()
    headers = cc_env.requests[0]["headers"]
    assert "x-api-key" not in headers and headers["authorization"] == "<redacted>"
    response = kinds(run_dir, "response")
    assert response and all(r["estimate"] for r in response)
    # the cost table says the subscription's dollars are an estimate
    rows = cost_report(project, "word-stats").as_dict()["plans"][0]["rows"]
    assert [r["model"] for r in rows] == [f"{MODEL} (subscription: estimate)"]


def test_max_turns_and_budget_stop(tmp_path, tree, cc_env):
    loop = {"tool_calls": [{"name": "Read", "input": {"file_path": str(tree / "src.py")}}]}
    cc_env.set_script(lambda body: loop)
    s = session(tree, tmp_path / "turns", budget=BudgetConfig(phase_turns=2))
    with pytest.raises(BudgetExceeded, match="turns"):
        s.run_step(Step.EXPLORE, "read forever")
    assert s.turns == 2 and s.cost_usd > 0
    s = session(tree, tmp_path / "usd", budget=BudgetConfig(phase_usd=0.01))
    with pytest.raises(BudgetExceeded, match=r"\$"):
        s.run_step(Step.EXPLORE, "read forever")
    assert s.cost_usd > 0.01
    assert kinds(tmp_path / "usd", "budget_exceeded")


def test_overloaded_then_success(tmp_path, tree, cc_env):
    cc_env.set_script([{"fault": {"status": 529}}, {"text": "made it"}])
    events: list[ev.Event] = []
    s = session(tree, tmp_path / "run", events=events)
    result = s.run_step(Step.EXPLORE, "hi")
    assert result.summary == "made it" and result.ended == "end_turn"
    assert any(isinstance(e, ev.Notice) and "529" in e.message for e in events)
    assert kinds(tmp_path / "run", "retry")


def test_costs_match_the_fake_usage_at_claude_code_prices(tmp_path, tree, cc_env):
    cc_env.set_script(
        [
            {
                "text": "reading",
                "tool_calls": [{"name": "Read", "input": {"file_path": str(tree / "src.py")}}],
            },
            {"text": "read it"},
        ]
    )
    s = session(tree, tmp_path / "run")
    result = s.run_step(Step.EXPLORE, "read")
    billed = [r["usage"] for r in cc_env.requests if "usage" in r]
    assert len(billed) == 2
    for field in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        assert getattr(s.usage, field) == sum(u[field] for u in billed)
    assert s.usage.output_tokens >= 2
    expected = SONNET_45.cost(
        s.usage.input_tokens,
        s.usage.output_tokens,
        s.usage.cache_creation_input_tokens,
        s.usage.cache_read_input_tokens,
    )
    assert s.cost_usd == pytest.approx(expected, rel=1e-9) and result.cost_usd == s.cost_usd
    assert s.reported_model == MODEL and result.turns == 2
