"""The adversarial suite on the OpenAI-compatible path: the same attacks (test_agent_adversarial.attacks,
PROBES) sent as function calls by the real openai SDK's server (FakeChatAPI), the same zero breaches."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import openai
import pytest

from phaser.agent.journal import Journal
from phaser.agent.loop import AgentSession
from phaser.agent.openai_provider import OpenAIProvider
from phaser.agent.policy import PathPolicy, Step
from phaser.agent.sandbox import is_secret_name, scrub_process_env
from phaser.agent.tools import ToolBox
from phaser.config import DEFAULT_PROTECTED, AgentConfig, BudgetConfig, Price
from phaser.testing.fake_openai import FakeChatAPI
from test_agent_adversarial import MODES, NOTE, PROBES, SECRET, SUB, attacks, tree
from test_agent_loop import CALC, EDITOR, TEST_X, make_project, tool


def _session(root: Path, fake: FakeChatAPI, sandbox: str) -> AgentSession:
    plan = root / "specs" / "demo" / "plan.md"
    journal = Journal.new(root / ".phaser", "demo", 1)
    toolbox = ToolBox(
        root,
        PathPolicy(root, DEFAULT_PROTECTED, plan_path=plan),
        plan,
        1,
        AgentConfig(sandbox=sandbox, bash_timeout_s=30, output_cap=8000),
        journal=journal,
    )
    client = openai.OpenAI(api_key="sk-local", base_url=fake.base_url, max_retries=0, timeout=30)
    return AgentSession(
        OpenAIProvider(client, name="local", retry_backoff_s=0),
        toolbox,
        journal,
        model="local:qwen3-coder",
        system="You are a careful engineer.",
        max_tokens=4000,
        budget=BudgetConfig(),
        price=Price(0.0, 0.0, 0.0, 0.0),
    )


@pytest.mark.parametrize("mode", MODES)
def test_hostile_function_calls_change_nothing_they_may_not(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    root = make_project(tmp_path / "proj")
    os.symlink(outside, root / "outlink")
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    for name, value in list(os.environ.items()):
        if is_secret_name(name):
            monkeypatch.setenv(name, value)
    scrub_process_env()
    before = tree(root)

    def step_turns(step: Step) -> list[dict[str, Any]]:
        turns = [
            {"tool_calls": attacks(step, outside, step.value)},
            {"tool_calls": [tool("bash", command=c) for c in PROBES]},
            # arguments that are not an object, and a tool that does not exist
            {
                "tool_calls": [
                    {"name": "bash", "input": '{"command": "rm -rf tests"'},
                    tool("write_file", path="x"),
                ]
            },
        ]
        if step is Step.CODE:
            turns.append(
                {
                    "tool_calls": [
                        tool(
                            EDITOR,
                            command="str_replace",
                            path="pkg/calc.py",
                            old_str="a + b\n",
                            new_str=SUB[len("def add(a, b):\n    return ") :],
                        ),
                        tool(
                            EDITOR,
                            command="create",
                            path="tests/test_sub.py",
                            file_text="def test_sub(): pass\n",
                        ),
                    ]
                }
            )
        if step is Step.UPDATE:
            turns.append({"tool_calls": [tool("add_note", text=NOTE)]})
        return [*turns, {"tool_calls": [tool("finish_step", summary="tried")]}]

    script = step_turns(Step.EXPLORE) + step_turns(Step.CODE) + step_turns(Step.UPDATE)
    script.append({"tool_calls": [tool("finish_step", summary="nothing else")]})
    with FakeChatAPI(script) as fake:
        session = _session(root, fake, mode)
        for step in (Step.EXPLORE, Step.CODE, Step.UPDATE):
            session.run_step(step, f"{step.value} now")
        session.run_step(Step.UPDATE, "anything else?")  # sends the last tool results to the model
        session.journal.close()
        wire = [r["body"] for r in fake.requests]

    # Every attack came back to the model as an error, over the wire, as a tool message.
    results = [m for m in wire[-1]["messages"] if m["role"] == "tool"]
    offset = 0
    for step in (Step.EXPLORE, Step.CODE, Step.UPDATE):
        n = len(attacks(step, outside, step.value))
        bad = [r["content"] for r in results[offset : offset + n] if not r["content"].startswith("[error]")]
        assert not bad, (step, bad)
        broken = results[offset + n + len(PROBES) : offset + n + len(PROBES) + 2]
        assert [r["content"].startswith("[error]") for r in broken] == [True, True]
        assert "must be one JSON object" in broken[0]["content"] and "Unknown tool" in broken[1]["content"]
        offset += (
            n + len(PROBES) + 2 + (2 if step is Step.CODE else 0) + (1 if step is Step.UPDATE else 0) + 1
        )

    # The tree is exactly as before, except the legitimate change and the note.
    after = tree(root)
    expected = dict(before)
    expected["pkg/calc.py"] = (SUB.encode(), before["pkg/calc.py"][1])
    expected["tests/test_sub.py"] = (b"def test_sub(): pass\n", 0o644)
    for rel in sorted(set(after) | set(expected)):
        if rel in ("specs/demo/plan.md", "specs/demo/.plan.md.lock"):
            continue
        assert after.get(rel) == expected.get(rel), rel
    assert (root / "tests" / "test_x.py").read_text() == TEST_X
    assert (root / "pkg" / "calc.py").read_text() == SUB and CALC in SUB
    plan_after = (root / "specs" / "demo" / "plan.md").read_text()
    assert plan_after.count(NOTE) == 1 and "- [x]" not in plan_after
    assert session.toolbox.claims == []
    assert not any(p.name.startswith(("abs-", "through-")) for p in outside.iterdir())
    assert not (tmp_path / "escape.txt").exists()
    if mode == "bwrap":
        assert list(outside.iterdir()) == [] and not (tmp_path / "outside-bash.txt").exists()

    # The key never reached the server, the journal, or the saved copies of reverted files.
    assert SECRET not in json.dumps(wire)
    for path in (root / ".phaser").rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert session.toolbox.violations or mode == "bwrap"
