"""What a phase on an OpenAI-compatible server is billed (issue 11), through the real openai SDK and
phaser's loop against FakeChatAPI: replies that never call a tool are billed although the step fails,
and a model with no [prices] entry whose gateway reports its own cost is priced by it, unwarned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest

from phaser.agent.loop import AgentSession
from phaser.agent.openai_provider import OpenAIProvider
from phaser.agent.policy import Step
from phaser.config import Price
from phaser.errors import ProviderError
from phaser.events import Notice
from phaser.testing.fake_openai import FakeChatAPI
from test_agent_loop import make_project, session_on, tool

PRICE = Price(1.0, 4.0, 0.0, 0.5)  # USD per million tokens: input, output, cache write, cache read
LOOK = [{"tool_calls": [tool("bash", command="ls")]}, {"tool_calls": [tool("finish_step", summary="ok")]}]


def _session(root: Path, fake: FakeChatAPI, price: Price | None) -> tuple[AgentSession, list[Any]]:
    events: list[Any] = []
    client = openai.OpenAI(api_key="sk-local", base_url=fake.base_url, max_retries=0, timeout=30)
    provider = OpenAIProvider(client, name="gateway", retry_backoff_s=0, tool_reminders=2)
    return session_on(root, provider, model="gateway:some/model", price=price, events=events), events


def _journal(session: AgentSession) -> list[dict[str, Any]]:
    session.journal.close()
    return [json.loads(line) for line in session.journal.path.read_text().splitlines()]


def _warnings(events: list[Any]) -> list[str]:
    return [e.message for e in events if isinstance(e, Notice) and "no price configured" in e.message]


def test_reminders_that_all_fail_are_billed(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    with FakeChatAPI([{"text": "I will now edit the file."}] * 3) as fake:
        session, _ = _session(root, fake, PRICE)
        with pytest.raises(ProviderError, match="answered 3 times without a tool call"):
            session.run_step(Step.CODE, "code now")
        sent = [r["usage"] for r in fake.requests]
    assert len(sent) == 3
    prompt = sum(u["prompt_tokens"] for u in sent)
    cached = sum(u["prompt_tokens_details"]["cached_tokens"] for u in sent)
    output = sum(u["completion_tokens"] for u in sent)
    assert session.usage.total_input == prompt and session.usage.output_tokens == output
    want = PRICE.cost(prompt - cached, output, 0, cached)
    assert want > 0 and session.cost_usd == pytest.approx(want)
    entries = _journal(session)
    responses = [e for e in entries if e["kind"] == "response"]
    assert len(responses) == 1 and responses[0]["usage"]["output_tokens"] == output
    assert responses[0]["cost_usd"] == pytest.approx(want, abs=1e-6)
    end = next(e for e in entries if e["kind"] == "step_end")
    assert end["usage"]["output_tokens"] == output and end["ended"].startswith("error:")


def test_an_unpriced_model_priced_by_its_gateway_is_billed_that_figure_without_a_warning(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "proj")
    with FakeChatAPI(LOOK, cost_per_mtok=3.0) as fake:
        session, events = _session(root, fake, None)
        session.run_step(Step.EXPLORE, "look around")
        reported = sum(r["usage"]["cost"] for r in fake.requests)
    assert reported > 0 and session.cost_usd == pytest.approx(reported)
    assert _warnings(events) == []
    assert all(e["priced"] for e in _journal(session) if e["kind"] == "response")


def test_an_unpriced_model_whose_server_reports_no_cost_is_warned_once(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    with FakeChatAPI(LOOK) as fake:
        session, events = _session(root, fake, None)
        session.run_step(Step.EXPLORE, "look around")
        assert len(fake.requests) == 2
    assert session.cost_usd == 0.0
    assert _warnings(events) == [
        "no price configured for gateway:some/model ([prices] in phaser.toml): its dollars are not tracked "
        "and dollar caps do not apply; token and turn caps still do"
    ]


@pytest.mark.parametrize("reports_cost", [True, False], ids=["gateway cost", "no cost"])
def test_a_phase_on_an_unpriced_gateway_model_is_warned_only_when_the_gateway_prices_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], reports_cost: bool
) -> None:
    """End to end through `phaser next`: the gateway is a remote host (not free, as a local server's
    models are); the fake answers for it as the HTTP proxy the SDK is told to use."""
    from phaser.cli import main
    from test_workflow_providers import set_models
    from workflow_helpers import phase_turns, project_with_plan

    with FakeChatAPI(phase_turns(1), cost_per_mtok=3.0 if reports_cost else None) as fake:
        proxy = fake.base_url.removesuffix("/v1")
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, proxy)
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("GATEWAY_TEST_KEY", "sk-gw-test-0001")
        gateway = '\n[providers.gw]\nkind = "openai"\nbase_url = "http://gateway.example/v1"\n'
        root = project_with_plan(tmp_path / "p", toml_extra=gateway + 'api_key_env = "GATEWAY_TEST_KEY"\n')
        model = "gw:some/model"
        set_models(
            root, f'[models]\neasy = "{model}"\nmedium = "{model}"\nhard = "{model}"\nescalate = false\n'
        )
        assert main(["next", "-C", str(root), "-q"]) == 0
        out = capsys.readouterr().out
        assert fake.requests and all(r["path"] == "/v1/chat/completions" for r in fake.requests)
        reported = sum(r["usage"].get("cost", 0.0) for r in fake.requests)
    assert ("no price configured" in out) is not reports_cost, out
    responses = [
        json.loads(line)
        for path in (root / ".phaser").rglob("journal.jsonl")
        for line in path.read_text().splitlines()
        if json.loads(line)["kind"] == "response"
    ]
    assert responses and all(e["priced"] is reports_cost for e in responses)
    if reports_cost:
        assert max(e["cost_usd"] for e in responses) == pytest.approx(reported, abs=1e-6) and reported > 0
