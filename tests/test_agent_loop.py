"""End to end: the agent loop driven by a ScriptedProvider in a small git project."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from phaser.agent.journal import Journal, read_journal
from phaser.agent.loop import AgentSession
from phaser.agent.policy import PathPolicy, Step
from phaser.agent.provider import ToolCall
from phaser.agent.scripted import ScriptedProvider
from phaser.agent.tools import ToolBox
from phaser.config import DEFAULT_PRICES, DEFAULT_PROTECTED, AgentConfig, BudgetConfig, Price
from phaser.errors import BudgetExceeded, ProviderError, RunStopped
from phaser.events import PolicyViolation, StepStarted, TextDelta, ToolFinished, ToolStarted, UsageUpdated
from phaser.plan.store import read_plan

PLAN = """\
---
title: Demo
---

# Demo

## Phase 1: Subtraction
difficulty: easy

- [ ] Add pkg.calc.sub
- [ ] Test it

## Phase 2: Multiplication
difficulty: medium
depends: 1

- [ ] Add pkg.calc.mul
"""

CALC = "def add(a, b):\n    return a + b\n"
TEST_X = "from pkg.calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
EDITOR = "str_replace_based_edit_tool"
MODEL = "claude-haiku-5-5"


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "calc.py").write_text(CALC)
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text(TEST_X)
    (root / "specs" / "demo").mkdir(parents=True)
    (root / "specs" / "demo" / "plan.md").write_text(PLAN)
    (root / "README.md").write_text("# demo\n")
    (root / ".gitignore").write_text("__pycache__/\n.pytest_cache/\n.phaser/\n")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    return root


def make_session(
    root: Path,
    script: Any,
    *,
    sandbox: str = "none",
    budget: BudgetConfig | None = None,
    stop_event: threading.Event | None = None,
    step_turns: int = 40,
) -> tuple[AgentSession, ScriptedProvider, list[Any]]:
    events: list[Any] = []
    provider = ScriptedProvider(script)
    session = session_on(
        root,
        provider,
        sandbox=sandbox,
        events=events,
        budget=budget,
        stop_event=stop_event,
        step_turns=step_turns,
    )
    return session, provider, events


def session_on(
    root: Path,
    provider: Any,
    *,
    model: str = MODEL,
    price: Price | None = DEFAULT_PRICES[MODEL],
    sandbox: str = "none",
    events: list[Any] | None = None,
    budget: BudgetConfig | None = None,
    stop_event: threading.Event | None = None,
    step_turns: int = 40,
) -> AgentSession:
    """An AgentSession over the demo project (journal, policy, toolbox) on any provider."""
    sink = events.append if events is not None else (lambda event: None)
    plan = root / "specs" / "demo" / "plan.md"
    journal = Journal.new(root / ".phaser", "demo", 1)
    policy = PathPolicy(root, DEFAULT_PROTECTED, plan_path=plan)
    cfg = AgentConfig(sandbox=sandbox, bash_timeout_s=30, output_cap=8000)
    toolbox = ToolBox(root, policy, plan, 1, cfg, sink, journal)
    return AgentSession(
        provider,
        toolbox,
        journal,
        model=model,
        system="You are a careful engineer.",
        max_tokens=4000,
        on_event=sink,
        budget=budget or BudgetConfig(),
        price=price,
        stop_event=stop_event,
        step_turns=step_turns,
    )


def tool(name: str, **inp: Any) -> dict[str, Any]:
    return {"name": name, "input": inp}


def finish(summary: str = "done") -> dict[str, Any]:
    return tool("finish_step", summary=summary)


def tool_results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every tool_result in a conversation, in order."""
    out = []
    for msg in messages:
        if msg["role"] == "user":
            out += [b for b in msg["content"] if b.get("type") == "tool_result"]
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")


def test_explore_code_update_happy_path(project: Path) -> None:
    sub = "\n\ndef sub(a, b):\n    return a - b\n"
    new_test = "from pkg.calc import sub\n\n\ndef test_sub():\n    assert sub(3, 1) == 2\n"
    script = [
        {
            "text": "Looking around.",
            "tool_calls": [
                tool(EDITOR, command="view", path="."),
                tool("bash", command="ls pkg && cat pkg/calc.py"),
            ],
        },
        {
            "tool_calls": [
                tool(EDITOR, command="view", path="pkg/calc.py", view_range=[1, 2]),
                finish("calc has add only"),
            ]
        },
        {
            "tool_calls": [
                tool(
                    EDITOR,
                    command="str_replace",
                    path="pkg/calc.py",
                    old_str="    return a + b\n",
                    new_str="    return a + b" + sub,
                ),
                tool(EDITOR, command="create", path="tests/test_sub.py", file_text=new_test),
                tool("bash", command=f"{shlex.quote(sys.executable)} -m pytest -q tests 2>&1 | tail -1"),
            ]
        },
        {
            "tool_calls": [
                tool("claim_task", ref="1.1", evidence="pkg/calc.py defines sub"),
                tool("claim_task", ref="1.2", evidence="tests/test_sub.py passes"),
                tool("add_note", text="sub() mirrors add(); no overflow handling needed."),
                finish("sub added and tested"),
            ]
        },
        {"text": "All tasks are claimed; nothing else to update.", "stop_reason": "end_turn"},
    ]
    session, provider, events = make_session(project, script)
    r1 = session.run_step(Step.EXPLORE, "Explore the code for phase 1.")
    r2 = session.run_step(Step.CODE, "Now implement phase 1.")
    r3 = session.run_step(Step.UPDATE, "Update the plan.")
    session.journal.close()

    assert (r1.ended, r1.summary, r1.turns) == ("finish_step", "calc has add only", 2)
    assert (r2.ended, r2.summary, r2.turns) == ("finish_step", "sub added and tested", 2)
    assert (r3.ended, r3.turns) == ("end_turn", 1) and "nothing else" in r3.summary
    assert session.turns == 5 and session.usage.output_tokens > 0 and session.cost_usd > 0

    assert (project / "pkg" / "calc.py").read_text() == "def add(a, b):\n    return a + b" + sub
    assert (project / "tests" / "test_sub.py").read_text() == new_test  # a new test is kept
    assert (project / "tests" / "test_x.py").read_text() == TEST_X
    results = tool_results(session.messages)
    assert not any(r.get("is_error") for r in results), results
    assert "2 passed" in results[6]["content"]
    assert "pkg/calc.py" in results[0]["content"] and "def add" in results[1]["content"]

    toolbox = session.toolbox
    assert toolbox.claims == [("1.1", "pkg/calc.py defines sub"), ("1.2", "tests/test_sub.py passes")]
    assert toolbox.violations == [] and toolbox.notes == ["sub() mirrors add(); no overflow handling needed."]
    plan = read_plan(project / "specs" / "demo" / "plan.md")
    assert [t.checked for t in plan.phase(1).tasks] == [
        False,
        False,
    ]  # the harness ticks boxes, not the agent
    assert plan.phase(1).notes and "sub() mirrors add()" in plan.phase(1).notes[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d agent: sub\(\) mirrors add\(\); .*", plan.phase(1).notes[0])
    assert [t.text for t in plan.phase(2).tasks] == ["Add pkg.calc.mul"]

    # The code prompt joined the explore step's pending tool results: roles alternate.
    roles = [m["role"] for m in session.messages]
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
    joined = provider.requests[2].messages[-1]["content"]
    assert joined[0]["type"] == "tool_result" and joined[-1] == {
        "type": "text",
        "text": "Now implement phase 1.",
    }
    assert [r.metadata["step"] for r in provider.requests] == ["explore", "explore", "code", "code", "update"]
    assert all(r.tools == provider.requests[0].tools for r in provider.requests)  # fixed list, cache-friendly

    kinds = [type(e) for e in events]
    assert StepStarted in kinds and TextDelta in kinds and UsageUpdated in kinds
    assert kinds.count(ToolStarted) == kinds.count(ToolFinished) == 11
    entries = read_journal(session.journal.path)
    by_kind = [e["kind"] for e in entries]
    for kind in ("step_start", "request", "response", "tool", "step_end"):
        assert kind in by_kind
    assert by_kind.count("step_end") == 3 and all("t" in e for e in entries)
    last_end = [e for e in entries if e["kind"] == "step_end"][-1]
    assert last_end["claims"] == [["1.1", "pkg/calc.py defines sub"], ["1.2", "tests/test_sub.py passes"]]


def test_tool_failures_come_back_as_errors(project: Path) -> None:
    script = [
        {
            "tool_calls": [
                tool(EDITOR, command="view", path="nope.py"),
                tool(EDITOR, command="str_replace", path="pkg/calc.py", old_str="zzz", new_str="y"),
                tool(EDITOR, command="str_replace", path="pkg/calc.py", old_str="a", new_str="y"),
                tool(EDITOR, command="create", path="pkg/calc.py", file_text="x"),
                tool(EDITOR, command="delete", path="pkg/calc.py"),
                tool(EDITOR, command="view", path="pkg/calc.py", view_range=[5, 1]),
                tool("bash", command="exit 4"),
                tool("bash"),
                tool("claim_task", ref="2.1", evidence="x"),
                tool("claim_task", ref="1.9", evidence="x"),
                tool("add_note", text=""),
                tool("no_such_tool"),
                finish(),
            ]
        }
    ]
    session, provider, _ = make_session(project, script)
    session.run_step(Step.CODE, "go")
    results = tool_results(session.messages)
    assert [bool(r.get("is_error")) for r in results] == [True] * 12 + [False]
    text = [r["content"] for r in results]
    assert "does not exist" in text[0]
    assert "did not appear verbatim" in text[1]
    assert "Multiple occurrences" in text[2]
    assert "already exists" in text[3]
    assert "Unrecognized command" in text[4]
    assert "Invalid `view_range`" in text[5]
    assert "[exit code 4]" in text[6]
    assert "not in phase 1" in text[8] and "no task 1.9" in text[9]
    assert "Unknown tool" in text[11]
    assert (project / "pkg" / "calc.py").read_text() == CALC


def test_insert_and_restart(project: Path) -> None:
    session, _, _ = make_session(project, [])
    box = session.toolbox
    box.step = Step.CODE
    r = box.run(
        ToolCall(
            "t1",
            EDITOR,
            {"command": "insert", "path": "pkg/calc.py", "insert_line": 0, "insert_text": "# top"},
        )
    )
    assert not r.get("is_error") and (project / "pkg" / "calc.py").read_text() == "# top\n" + CALC
    assert box.run(ToolCall("t2", "bash", {"restart": True}))["content"] == "tool has been restarted."


def test_read_only_step_write_is_reverted_and_reported(project: Path) -> None:
    script = [{"tool_calls": [tool("bash", command="echo hi > newfile && echo x >> README.md"), finish()]}]
    session, provider, events = make_session(project, script)
    session.run_step(Step.EXPLORE, "look")
    result = tool_results(session.messages)[0]
    assert result.get("is_error") and "[phaser]" in result["content"]
    assert not (project / "newfile").exists() and (project / "README.md").read_text() == "# demo\n"
    assert any(isinstance(e, PolicyViolation) and "newfile" in e.paths for e in events)
    saved = list(session.journal.run_dir.glob("reverted/*/README.md"))
    assert saved and saved[0].read_text() == "# demo\nx\n"  # the reverted bytes are kept
    assert "violation" in [e["kind"] for e in read_journal(session.journal.path)]


def test_step_end_check_catches_late_writes(project: Path) -> None:
    """A write that lands after the tool call returned (here: by the test itself, standing in
    for a process the call left behind) is caught by the snapshot at the end of the step."""

    def script(request: dict[str, Any]) -> dict[str, Any]:
        (project / "pkg" / "calc.py").write_text("broken\n")
        return {"text": "done", "stop_reason": "end_turn"}

    session, _, events = make_session(project, script)
    result = session.run_step(Step.UPDATE, "update")
    assert (project / "pkg" / "calc.py").read_text() == CALC
    assert "[phaser]" in result.summary and any(isinstance(e, PolicyViolation) for e in events)


@pytest.mark.parametrize("limit", ["turns", "tokens", "usd"])
def test_budget_exceeded(project: Path, limit: str) -> None:
    budget = {
        "turns": BudgetConfig(phase_turns=2),
        "tokens": BudgetConfig(phase_tokens=10),
        "usd": BudgetConfig(phase_usd=1e-9),
    }[limit]
    session, provider, _ = make_session(
        project, lambda req: {"tool_calls": [tool("bash", command="true")]}, budget=budget
    )
    with pytest.raises(BudgetExceeded):
        session.run_step(Step.EXPLORE, "loop forever")
    assert len(provider.requests) == (2 if limit == "turns" else 1)
    entries = read_journal(session.journal.path)
    assert [e["kind"] for e in entries][-2:] == ["budget_exceeded", "step_end"]
    assert limit.rstrip("s") in entries[-2]["reason"] or "$" in entries[-2]["reason"]


def test_step_turn_limit_ends_the_step(project: Path) -> None:
    session, _, _ = make_session(
        project, lambda req: {"tool_calls": [tool("bash", command="true")]}, step_turns=3
    )
    result = session.run_step(Step.EXPLORE, "loop")
    assert (result.ended, result.turns) == ("step_turns", 3)
    # The next step's prompt joins the pending tool results.
    session.provider = ScriptedProvider([{"text": "ok"}])
    session.run_step(Step.UPDATE, "wrap up")
    assert session.messages[-2]["content"][-1]["text"] == "wrap up"


def test_stop_event_stops_at_the_next_turn(project: Path) -> None:
    stop = threading.Event()

    def script(request: dict[str, Any]) -> dict[str, Any]:
        stop.set()  # the user presses stop while the first turn is running
        return {"tool_calls": [tool("bash", command="echo one")]}

    session, provider, _ = make_session(project, script, stop_event=stop)
    with pytest.raises(RunStopped, match="stopped by user"):
        session.run_step(Step.EXPLORE, "look")
    assert len(provider.requests) == 1 and session.turns == 1
    kinds = [e["kind"] for e in read_journal(session.journal.path)]
    assert kinds[-2:] == ["stopped", "step_end"] and "tool" in kinds


def test_provider_error_propagates_and_step_is_closed(project: Path) -> None:
    session, _, _ = make_session(project, [{"fault": {"status": 529}}])
    with pytest.raises(ProviderError):
        session.run_step(Step.EXPLORE, "look")
    entries = read_journal(session.journal.path)
    assert entries[-1]["kind"] == "step_end" and entries[-1]["ended"] == "error: ProviderError"


def test_journal_redacts_and_truncates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-journal-secret-123")
    with Journal.new(tmp_path / ".phaser", "demo", 2) as journal:
        journal.write(
            "x",
            headers={"x-api-key": "abc", "Authorization": "Bearer zzz"},
            text="key sk-ant-journal-secret-123",
        )
        journal.write("y", big="a" * 50_000, usage={"input_tokens": 5})
    assert journal.run_dir.parent == tmp_path / ".phaser" / "runs" / "demo" / "2"
    raw = journal.path.read_text()
    assert "sk-ant-journal-secret-123" not in raw and "abc" not in raw and "zzz" not in raw
    with open(journal.path, "a") as f:
        f.write('{"t": "2026", "kind": "torn')  # a crash mid-line
    entries = read_journal(journal.path)
    assert [e["kind"] for e in entries] == ["x", "y"]
    assert len(entries[1]["big"]) < 21_000 and "characters cut" in entries[1]["big"]
    assert entries[1]["usage"] == {"input_tokens": 5}
    assert json.loads(raw.splitlines()[0])["headers"]["x-api-key"] == "[redacted]"
    assert os.path.isdir(journal.run_dir)


def test_tool_definitions_are_fixed_and_sdk_shaped(project: Path) -> None:
    from phaser.agent.tools import tool_definitions

    session, _, _ = make_session(project, [])
    defs = tool_definitions()
    assert defs == session.toolbox.definitions()
    assert defs[0] == {"type": "text_editor_20250728", "name": EDITOR}
    assert defs[1] == {"type": "bash_20250124", "name": "bash"}
    assert [d["name"] for d in defs[2:]] == ["claim_task", "add_note", "add_task", "finish_step"]
    assert all(d["input_schema"]["type"] == "object" for d in defs[2:])
