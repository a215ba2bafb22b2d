"""AnthropicProvider through the real anthropic SDK against FakeMessagesAPI (no SDK mocking)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import anthropic
import pytest

from phaser.agent.anthropic_provider import AnthropicProvider
from phaser.agent.provider import ModelTurn, Provider, Request, StreamChunk
from phaser.agent.script import estimate_tokens
from phaser.errors import ProviderError
from phaser.testing.fake_api import FakeMessagesAPI, count_input_tokens

TOOLS = [
    {"type": "bash_20250124", "name": "bash"},
    {
        "name": "write_file",
        "description": "Write a file",
        "input_schema": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
        },
    },
]
SYSTEM = "You are phaser's builder. Follow the plan. " * 30


def make(fake: FakeMessagesAPI, *, max_retries: int = 2, **kw: Any) -> AnthropicProvider:
    client = anthropic.Anthropic(
        api_key="sk-test", base_url=fake.base_url, max_retries=max_retries, timeout=5.0
    )
    return AnthropicProvider(client, retry_backoff_s=0, **kw)


def req(messages: list[dict[str, Any]] | None = None, **kw: Any) -> Request:
    return Request(
        model="claude-sonnet-5-5",
        system=SYSTEM,
        messages=messages or [{"role": "user", "content": "Build phase 1."}],
        tools=TOOLS,
        **kw,
    )


def follow_up(messages: list[dict[str, Any]], turn: ModelTurn, result: str = "ok") -> list[dict[str, Any]]:
    results = [{"type": "tool_result", "tool_use_id": c.id, "content": result} for c in turn.tool_calls]
    return [*messages, {"role": "assistant", "content": turn.content}, {"role": "user", "content": results}]


def breakpoints(body: dict[str, Any]) -> int:
    n = sum("cache_control" in t for t in body.get("tools", [])) + ("cache_control" in body)
    n += sum("cache_control" in b for b in body.get("system", []) if isinstance(b, dict))
    for m in body["messages"]:
        if isinstance(m["content"], list):
            n += sum("cache_control" in b for b in m["content"])
    return n


def test_is_a_provider(fake_api: FakeMessagesAPI) -> None:
    p = make(fake_api)
    assert isinstance(p, Provider) and p.name == "anthropic"


def test_text_turn_streams_and_reassembles(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "Reading the plan before touching anything."}])
    chunks: list[StreamChunk] = []
    turn = make(fake_api).complete(req(max_tokens=64000), chunks.append)
    assert turn.text == "Reading the plan before touching anything."
    assert turn.content == [{"type": "text", "text": "Reading the plan before touching anything."}]
    assert len(chunks) > 1 and all(c.type == "text" for c in chunks)
    assert "".join(c.text for c in chunks) == turn.text
    assert turn.stop_reason == "end_turn" and turn.model == "claude-sonnet-5-5" and turn.id.startswith("msg_")
    sent = fake_api.requests[-1]["body"]
    assert sent["stream"] is True and sent["max_tokens"] == 64000 and "tool_choice" not in sent
    assert turn.usage.total_input == count_input_tokens(sent)
    assert turn.usage.output_tokens == estimate_tokens(turn.content)


def test_tool_use_turn_keeps_input_exact(fake_api: FakeMessagesAPI) -> None:
    tool_input = {"path": "src/app.py", "content": 'print("hé")\n' * 5, "opts": {"n": [1, 2.5, None, True]}}
    fake_api.set_script([{"text": "Writing.", "tool_calls": [{"name": "write_file", "input": tool_input}]}])
    chunks: list[StreamChunk] = []
    turn = make(fake_api).complete(req(), chunks.append)
    assert turn.stop_reason == "tool_use"
    (call,) = turn.tool_calls
    assert call.name == "write_file" and call.input == tool_input and call.id.startswith("toolu_")
    assert StreamChunk("tool", "write_file") in chunks
    assert turn.content[1] == {"type": "tool_use", "id": call.id, "name": "write_file", "input": tool_input}


def test_thinking_block_survives_verbatim_round_trip(fake_api: FakeMessagesAPI) -> None:
    thinking = {
        "type": "thinking",
        "thinking": "The plan says tests first.",
        "signature": "EqQBCkYIARgCKkB==",
    }
    fake_api.set_script(
        [
            {"content": [thinking], "tool_calls": [{"name": "bash", "input": {"command": "pytest"}}]},
            {"text": "done"},
        ]
    )
    p = make(fake_api)
    first = p.complete(req())
    assert first.content[0] == thinking
    messages = follow_up(req().messages, first)
    p.complete(req(messages))
    sent = fake_api.requests[-1]["body"]["messages"][1]["content"]
    assert sent[0] == thinking  # no cache_control on thinking, nothing added or dropped


def test_breakpoints_placed_and_caller_messages_untouched(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "ok"}])
    messages = [{"role": "user", "content": "Build phase 1."}]
    original = copy.deepcopy(messages)
    make(fake_api).complete(req(messages))
    assert messages == original
    body = fake_api.requests[-1]["body"]
    assert body["system"] == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert all("cache_control" not in t for t in body["tools"]) and body["tools"] == TOOLS
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Build phase 1.", "cache_control": {"type": "ephemeral"}}],
        }
    ]
    assert "cache_control" not in body
    assert breakpoints(body) == 2


def test_breakpoints_never_exceed_four(fake_api: FakeMessagesAPI) -> None:
    mark = {"cache_control": {"type": "ephemeral"}}
    messages = [
        {"role": "user", "content": [{"type": "text", "text": f"q{i}", **mark}]}
        if i % 2 == 0
        else {"role": "assistant", "content": [{"type": "text", "text": f"a{i}", **mark}]}
        for i in range(7)
    ]
    original = copy.deepcopy(messages)
    fake_api.set_script([{"text": "ok"}])
    make(fake_api).complete(req(messages))  # the fake answers 400 beyond four breakpoints
    body = fake_api.requests[-1]["body"]
    assert breakpoints(body) == 4
    assert "cache_control" in body["messages"][-1]["content"][-1] and "cache_control" in body["system"][0]
    assert "cache_control" in body["messages"][-2]["content"][-1]  # the newest of the caller's survive
    assert "cache_control" not in body["messages"][0]["content"][-1]
    assert messages == original


def test_cache_off_sends_no_breakpoints(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "ok"}])
    make(fake_api, cache=False).complete(req())
    body = fake_api.requests[-1]["body"]
    assert breakpoints(body) == 0 and body["messages"][0]["content"] == "Build phase 1."


def test_cache_accounting_across_a_conversation() -> None:
    script = [{"tool_calls": [{"name": "bash", "input": {"command": f"step {i}"}}]} for i in range(3)]
    with FakeMessagesAPI(script, min_cache_tokens=200) as fake:
        p = make(fake)
        messages = req().messages
        turns = []
        for _ in range(3):
            turns.append(p.complete(req(messages)))
            messages = follow_up(messages, turns[-1], result="output " * 30)
        totals = [count_input_tokens(r["body"]) for r in fake.requests]
    u1, u2, u3 = (t.usage for t in turns)
    assert totals[0] >= 200
    assert (u1.cache_read_input_tokens, u1.cache_creation_input_tokens, u1.input_tokens) == (0, totals[0], 0)
    assert u2.cache_read_input_tokens == totals[0] > 0  # request 2 reads all of request 1
    assert u2.cache_creation_input_tokens == totals[1] - totals[0]
    assert u3.cache_read_input_tokens == totals[1] and u3.cache_creation_input_tokens == totals[2] - totals[1]
    assert all(t.usage.total_input == total for t, total in zip(turns, totals, strict=True))


def test_prompt_below_cache_minimum_is_not_cached() -> None:
    with FakeMessagesAPI([{"text": "a"}, {"text": "b"}], min_cache_tokens=100_000) as fake:
        p = make(fake)
        first = p.complete(req())
        second = p.complete(req())
    for turn in (first, second):
        assert turn.usage.cache_read_input_tokens == 0 and turn.usage.cache_creation_input_tokens == 0
        assert turn.usage.input_tokens == count_input_tokens(fake.requests[0]["body"])


def test_count_tokens(fake_api: FakeMessagesAPI) -> None:
    n = make(fake_api).count_tokens(req())
    rec = fake_api.requests[-1]
    assert rec["path"] == "/v1/messages/count_tokens" and n == count_input_tokens(rec["body"]) > 100
    assert rec["body"]["tools"] == TOOLS and "max_tokens" not in rec["body"]


def test_429_then_success_is_retried_by_the_sdk(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"fault": {"status": 429}}, {"text": "ok"}])
    p = make(fake_api)
    assert p.complete(req()).text == "ok"
    assert len(fake_api.requests) == 2 and p.retries == []


def test_529_then_success_is_retried_by_the_sdk(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script(
        [{"fault": {"status": 529}}, {"fault": {"status": 500, "retry_after": 0}}, {"text": "ok"}]
    )
    p = make(fake_api)
    assert p.complete(req()).text == "ok"
    assert len(fake_api.requests) == 3 and p.retries == []


def test_sdk_retries_exhausted_is_one_line(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"fault": {"status": 429, "message": "slow down"}}] * 3)
    with pytest.raises(ProviderError) as exc:
        make(fake_api, max_retries=2).complete(req())
    assert str(exc.value) == "Anthropic API error 429 rate_limit_error: slow down"
    assert len(fake_api.requests) == 3


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"stream_error": "overloaded_error"}, "overloaded_error"),
        ({"drop": True}, "RemoteProtocolError"),
        ({"malformed": True}, "JSONDecodeError"),
        ({"truncate": True}, "incomplete_stream"),
    ],
)
def test_mid_stream_failure_restarts_the_turn(
    fake_api: FakeMessagesAPI, fault: dict[str, Any], kind: str
) -> None:
    fake_api.set_script([{"fault": fault}, {"text": "the real answer"}])
    chunks: list[StreamChunk] = []
    p = make(fake_api)
    turn = p.complete(req(), chunks.append)
    assert turn.content == [{"type": "text", "text": "the real answer"}]
    assert len(fake_api.requests) == 2 and fake_api.remaining == 0
    assert [(r["attempt"], r["error"]) for r in p.retries] == [(1, kind)]
    if fault.get("malformed"):
        assert StreamChunk("retry") not in chunks  # nothing was shown, nothing to discard
    else:
        i = chunks.index(StreamChunk("retry"))
        assert i > 0 and "".join(c.text for c in chunks[i + 1 :]) == "the real answer"


def test_stream_retries_exhausted(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"fault": {"stream_error": "overloaded_error"}}] * 3 + [{"text": "never"}])
    p = make(fake_api, stream_retries=2)
    with pytest.raises(ProviderError) as exc:
        p.complete(req())
    msg = str(exc.value)
    assert "\n" not in msg and "3 times" in msg and "overloaded_error" in msg
    assert [r["attempt"] for r in p.retries] == [1, 2, 3] and len(fake_api.requests) == 3
    assert exc.value.exit_code == 1


def test_non_retryable_mid_stream_error_is_not_retried(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script(
        [{"fault": {"stream_error": "invalid_request_error", "message": "bad"}}, {"text": "x"}]
    )
    p = make(fake_api)
    with pytest.raises(ProviderError, match="invalid_request_error: bad"):
        p.complete(req())
    assert p.retries == [] and len(fake_api.requests) == 1


def test_callback_errors_propagate_untouched(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "hello"}, {"text": "again"}])

    def broken(chunk: StreamChunk) -> None:
        raise ValueError("ui bug")

    p = make(fake_api)
    with pytest.raises(ValueError, match="ui bug"):
        p.complete(req(), broken)
    assert p.retries == [] and len(fake_api.requests) == 1


def test_bad_request_is_a_provider_error_without_retry(fake_api: FakeMessagesAPI) -> None:
    dangling = [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "bash", "input": {}}]},
        {"role": "user", "content": "and?"},
    ]
    with pytest.raises(ProviderError) as exc:
        make(fake_api).complete(req(dangling))
    assert str(exc.value).startswith("Anthropic API error 400 invalid_request_error: messages.2:")
    assert "\n" not in str(exc.value) and len(fake_api.requests) == 1


def test_rejected_key_is_a_provider_error() -> None:
    with FakeMessagesAPI([{"text": "x"}], api_key="right") as fake:
        p = AnthropicProvider(api_key="wrong", base_url=fake.base_url, max_retries=0, timeout=5)
        with pytest.raises(ProviderError, match=r"rejected the API key \(401 authentication_error"):
            p.complete(req())
        with pytest.raises(ProviderError, match="401"):
            p.count_tokens(req())


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ProviderError, match="ANTHROPIC_API_KEY is not set") as exc:
        AnthropicProvider()
    assert "\n" not in str(exc.value)


def test_env_key_and_base_url_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeMessagesAPI([{"text": "from env"}], api_key="env-key") as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "env-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.base_url)
        p = AnthropicProvider(max_retries=0, timeout=5)
        assert p.complete(req()).text == "from env"
        assert fake.requests[-1]["api_key"] is True
        assert "env-key" not in json.dumps(fake.requests)


def test_unreachable_server_is_a_provider_error() -> None:
    fake = FakeMessagesAPI().start()
    url = fake.base_url
    fake.stop()
    p = AnthropicProvider(api_key="k", base_url=url, max_retries=0, timeout=2)
    with pytest.raises(ProviderError, match="cannot reach the Anthropic API"):
        p.complete(req())


def test_importing_the_provider_and_fake_server_stays_cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    """anthropic costs seconds to import: neither module may pull it in, nor a missing-key error."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    code = (
        "import sys\n"
        "import phaser.agent.anthropic_provider as ap, phaser.testing.fake_api\n"
        "try:\n    ap.AnthropicProvider()\nexcept Exception as e:\n    print(type(e).__name__)\n"
        "print('anthropic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["ProviderError", "False"]
