"""Any model for any tier, end to end: easy phases on an OpenAI-compatible endpoint (the real openai SDK
against FakeChatAPI), the hard phase on the Messages API (the real anthropic SDK against
FakeMessagesAPI), with phaser's gates, locks and claims, and a cost table per provider and model."""

from __future__ import annotations

import json
import os

import pytest

from phaser.cli import main
from phaser.config import load_config
from phaser.testing.fake_openai import FakeChatAPI
from phaser.workflow import demo
from phaser.workflow.project import Project
from phaser.workflow.providers import tier_routes
from workflow_helpers import git, phase_turns, project_with_plan, read

LOCAL_PRICE = (
    '\n[prices."local:qwen3-coder"]\ninput = 1.0\noutput = 2.0\ncache_read = 0.1\ncache_write = 0.0\n'
)


def providers_toml(chat_url: str, messages_url: str) -> str:
    return (
        f'\n[providers.local]\nkind = "openai"\nbase_url = "{chat_url}"\n'
        f'\n[providers.claude]\nkind = "anthropic"\nbase_url = "{messages_url}"\napi_key_env = '
        '"CLAUDE_TEST_KEY"\n'
    )


MODELS = '[models]\neasy = "local:qwen3-coder"\nhard = "claude:claude-opus-5-5"\nescalate = false\n'


def set_models(root, models: str) -> None:
    toml = (root / "phaser.toml").read_text(encoding="utf-8")
    (root / "phaser.toml").write_text(toml.replace("[models]\nescalate = false\n", models), encoding="utf-8")
    git(root, "commit", "-qam", "models")


@pytest.fixture
def chat():
    with FakeChatAPI() as api:
        yield api


def _mixed_project(tmp_path, chat, fake_api, monkeypatch, extra: str = LOCAL_PRICE, models: str = MODELS):
    monkeypatch.setenv("CLAUDE_TEST_KEY", "sk-ant-test-claude-key-0001")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    plan = demo.PLAN.replace("difficulty: medium", "difficulty: hard")
    root = project_with_plan(tmp_path / "p", plan, providers_toml(chat.base_url, fake_api.base_url) + extra)
    set_models(root, models)
    return root


def test_easy_phases_on_a_local_endpoint_and_the_hard_one_on_the_messages_api(
    tmp_path, chat, fake_api, monkeypatch, capsys
):
    root = _mixed_project(tmp_path, chat, fake_api, monkeypatch)
    chat.set_script(phase_turns(1) + phase_turns(3))
    fake_api.set_script(phase_turns(2))
    assert main(["run", "-C", str(root), "-q"]) == 0, capsys.readouterr()
    capsys.readouterr()
    plan = read(root, "specs/word-stats/plan.md")
    assert plan.count("- [x]") == 6 and "- [ ]" not in plan  # claims through function calls ticked
    assert git(root, "log", "--format=%s").splitlines()[:3] == [
        "phase 3: Command line",
        "phase 2: Most frequent words",
        "phase 1: Count words",
    ]
    # the easy phases went to the chat endpoint under the server's own model id, the hard one to Messages
    assert {r["body"]["model"] for r in chat.requests} == {"qwen3-coder"}
    assert {r["body"]["model"] for r in fake_api.requests} == {"claude-opus-5-5"}
    assert len(chat.requests) == len(phase_turns(1) + phase_turns(3))
    assert all(
        r["body"]["tools"][0]["function"]["name"] == "str_replace_based_edit_tool" for r in chat.requests
    )
    # the lock held on both paths: phase 2 tried to edit the protected test and was refused
    assert read(root, "tests/test_count.py") == demo.TEST_COUNT
    # the key came from the provider's own api_key_env and is gone from phaser's environment
    assert "CLAUDE_TEST_KEY" not in os.environ
    assert main(["cost", "-C", str(root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["plans"][0]
    by_provider = report["by_provider"]
    assert set(by_provider) == {"local", "claude"}
    local = by_provider["local"]["qwen3-coder"]
    billed = [r["usage"] for r in chat.requests]
    prompt = sum(u["prompt_tokens"] for u in billed)
    cached = sum(u["prompt_tokens_details"]["cached_tokens"] for u in billed)
    assert local["input_tokens"] == prompt - cached and local["cache_read_input_tokens"] == cached > 0
    assert local["output_tokens"] == sum(u["completion_tokens"] for u in billed)
    expected = ((prompt - cached) * 1.0 + cached * 0.1 + local["output_tokens"] * 2.0) / 1_000_000
    assert local["cost_usd"] == pytest.approx(expected) and local["priced"] and local["runs"] == 2
    assert by_provider["claude"]["claude-opus-5-5"]["cost_usd"] > 0 and report["priced"]
    assert main(["cost", "-C", str(root)]) == 0
    text = capsys.readouterr().out
    assert "local:qwen3-coder" in text and "claude:claude-opus-5-5" in text and "unknown" not in text


def test_unknown_prices_and_unknown_cache_counts_are_said(tmp_path, fake_api, monkeypatch, capsys):
    """easy on a local server that reports no cached count (priced 0: local); hard on a model with no
    price through the built-in anthropic provider: neither is shown as a plain number."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake_api.base_url)
    with FakeChatAPI(cached=False) as chat:
        root = _mixed_project(
            tmp_path,
            chat,
            fake_api,
            monkeypatch,
            "",
            MODELS.replace("claude:claude-opus-5-5", "claude-mystery-1"),
        )
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-000000001")
        project = Project(load_config(root))
        routes = {r.tier: r for r in tier_routes(project)}
        assert (routes["easy"].provider, routes["easy"].kind, routes["easy"].model) == (
            "local",
            "openai",
            "qwen3-coder",
        )
        assert routes["easy"].base_url == chat.base_url and routes["easy"].priced is True  # local: 0
        assert (routes["hard"].provider, routes["hard"].priced) == ("anthropic", False)
        chat.set_script(phase_turns(1))
        fake_api.set_script(phase_turns(2))
        assert main(["next", "-C", str(root), "-q"]) == 0, capsys.readouterr()
        capsys.readouterr()
        assert main(["next", "-C", str(root), "--dry-run"]) == 0
        assert "no price configured for claude-mystery-1" in capsys.readouterr().out
        assert main(["next", "-C", str(root), "-q"]) == 0, capsys.readouterr()
        capsys.readouterr()
        asked = len(chat.requests)
    assert main(["cost", "-C", str(root), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)["plans"][0]
    local = plan["by_provider"]["local"]["qwen3-coder"]
    assert local["priced"] is True and local["cost_usd"] == 0 and local["cache_unknown"] == asked > 0
    assert plan["by_provider"]["anthropic"]["claude-mystery-1"]["priced"] is False and plan["priced"] is False
    assert main(["cost", "-C", str(root)]) == 0
    text = capsys.readouterr().out
    assert "unknown" in text and "did not report cached tokens" in text and "+ unpriced runs" in text


def test_a_local_model_costs_nothing_unless_priced(tmp_path, chat, fake_api, monkeypatch):
    root = _mixed_project(tmp_path, chat, fake_api, monkeypatch, extra="")
    cfg = load_config(root)
    assert (
        cfg.price("local:qwen3-coder") is not None and cfg.price("local:qwen3-coder").cost(10**6, 10**6) == 0
    )
    assert cfg.price("openrouter:deepseek/deepseek-chat") is None  # remote and unpriced: unknown


def test_escalation_crosses_providers(tmp_path, chat, fake_api, monkeypatch, capsys):
    models = '[models]\neasy = "local:qwen3-coder"\nmedium = "claude:claude-sonnet-5-5"\nescalate = true\n'
    root = _mixed_project(tmp_path, chat, fake_api, monkeypatch, models=models)
    toml = (root / "phaser.toml").read_text(encoding="utf-8").replace("fix_attempts = 2", "fix_attempts = 0")
    (root / "phaser.toml").write_text(toml, encoding="utf-8")
    git(root, "commit", "-qam", "no fixes")
    # phase 1 on the local model finishes without doing the work (red gate), then sonnet does it
    chat.set_script([{"tool_calls": [{"name": "finish_step", "input": {"summary": "x"}}]}] * 3)
    fake_api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q", "--json"]) == 0, capsys.readouterr()
    outcome = json.loads(capsys.readouterr().out)
    assert outcome["attempts"] == 2 and outcome["outcome"] == "passed"
    assert {r["body"]["model"] for r in fake_api.requests} == {"claude-sonnet-5-5"}
    assert "(escalated from local:qwen3-coder)" in read(root, "specs/word-stats/plan.md")


def test_local_models_through_the_anthropic_kind(tmp_path, fake_api, monkeypatch, capsys):
    """Ollama 0.14+, llama.cpp and LM Studio also serve the Messages API: kind = "anthropic", no key."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    root = project_with_plan(
        tmp_path / "p",
        toml_extra=f'\n[providers.ollama-msgs]\nkind = "anthropic"\nbase_url = "{fake_api.base_url}"\n',
    )
    set_models(root, '[models]\neasy = "ollama-msgs:qwen3-coder:30b"\nescalate = false\n')
    fake_api.set_script(phase_turns(1))
    assert main(["next", "-C", str(root), "-q"]) == 0, capsys.readouterr()
    assert {r["body"]["model"] for r in fake_api.requests} == {"qwen3-coder:30b"}
    assert read(root, "specs/word-stats/plan.md").count("- [x]") == 2


def test_config_shows_what_each_tier_resolves_to(tmp_path, capsys):
    (tmp_path / ".git").mkdir()
    (tmp_path / "phaser.toml").write_text(
        '[providers.local]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
        '[models]\neasy = "local:qwen3-coder:30b"\nhard = "claude-code:opus"\n',
        encoding="utf-8",
    )
    from phaser.cli import main

    assert main(["-C", str(tmp_path), "config", "--json"]) == 0
    tiers = {t["tier"]: t for t in json.loads(capsys.readouterr().out)["tiers"]}
    assert tiers["easy"] == {
        "tier": "easy",
        "ref": "local:qwen3-coder:30b",
        "provider": "local",
        "kind": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "qwen3-coder:30b",
        "priced": True,  # a local model costs 0 unless priced
    }
    assert tiers["hard"]["kind"] == "claude-code" and tiers["hard"]["model"] == "opus"
    assert tiers["medium"]["ref"] == "anthropic:claude-sonnet-5-5"
    assert main(["-C", str(tmp_path), "config"]) == 0
    out = capsys.readouterr().out
    assert "easy    local:qwen3-coder:30b  (openai at http://127.0.0.1:9/v1; priced)" in out
