"""OpenAIProvider through the real openai SDK against FakeChatAPI (no SDK mocking)."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from phaser.agent.openai_provider import OpenAIProvider, function_tools
from phaser.agent.provider import ModelTurn, Provider, Request, StreamChunk
from phaser.agent.tools import tool_definitions
from phaser.errors import ProviderError
from phaser.testing.fake_openai import FakeChatAPI

SYSTEM = "You are phaser's builder. Follow the plan. " * 200


@pytest.fixture
def fake() -> Any:
    with FakeChatAPI() as api:
        yield api


def make(fake: FakeChatAPI, *, max_retries: int = 2, **kw: Any) -> OpenAIProvider:
    client = openai.OpenAI(api_key="sk-test", base_url=fake.base_url, max_retries=max_retries, timeout=5.0)
    return OpenAIProvider(client, name="local", retry_backoff_s=0, **kw)


def req(messages: list[dict[str, Any]] | None = None, step: str = "code", **kw: Any) -> Request:
    return Request(
        model="local:qwen3-coder:30b",
        system=SYSTEM,
        messages=messages or [{"role": "user", "content": [{"type": "text", "text": "Build phase 1."}]}],
        tools=tool_definitions(),
        metadata={"step": step},
        **kw,
    )


def follow_up(messages: list[dict[str, Any]], turn: ModelTurn, result: str = "ok") -> list[dict[str, Any]]:
    results = [{"type": "tool_result", "tool_use_id": c.id, "content": result} for c in turn.tool_calls]
    return [*messages, {"role": "assistant", "content": turn.content}, {"role": "user", "content": results}]


def test_is_a_provider(fake: FakeChatAPI) -> None:
    assert isinstance(make(fake), Provider)


def test_tools_are_function_tools_with_phasers_names() -> None:
    tools = function_tools(tool_definitions())
    names = [t["function"]["name"] for t in tools]
    assert names == [t["name"] for t in tool_definitions()]
    editor = tools[0]["function"]["parameters"]
    assert editor["properties"]["command"]["enum"] == ["view", "create", "str_replace", "insert"]
    assert editor["required"] == ["command", "path"]
    assert all(t["type"] == "function" and t["function"]["parameters"]["type"] == "object" for t in tools)


def test_streamed_tool_calls_are_assembled_and_the_prefix_stripped(fake: FakeChatAPI) -> None:
    fake.set_script(
        [
            {
                "text": "Looking first.",
                "tool_calls": [
                    {"name": "bash", "input": {"command": "ls -la"}},
                    {"name": "str_replace_based_edit_tool", "input": {"command": "view", "path": "pkg/x.py"}},
                ],
            }
        ]
    )
    chunks: list[StreamChunk] = []
    turn = make(fake).complete(req(), chunks.append)
    assert turn.text == "Looking first."
    assert [(c.name, c.input) for c in turn.tool_calls] == [
        ("bash", {"command": "ls -la"}),
        ("str_replace_based_edit_tool", {"command": "view", "path": "pkg/x.py"}),
    ]
    assert all(c.id.startswith("call_") and not c.error for c in turn.tool_calls)
    assert turn.stop_reason == "tool_use"
    assert [c.text for c in chunks if c.type == "tool"] == ["bash", "str_replace_based_edit_tool"]
    assert "".join(c.text for c in chunks if c.type == "text") == "Looking first."
    sent = fake.requests[-1]["body"]
    assert sent["model"] == "qwen3-coder:30b"  # the provider prefix is phaser's, not the server's
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["tool_choice"] == "auto" and sent["messages"][0] == {"role": "system", "content": SYSTEM}


def test_the_conversation_goes_back_as_chat_messages(fake: FakeChatAPI) -> None:
    fake.set_script(
        [
            {"tool_calls": [{"name": "bash", "input": {"command": "pytest"}}]},
            {"text": "done", "tool_calls": []},
        ]
    )
    p = make(fake)
    first = req()
    turn = p.complete(first)
    messages = follow_up(first.messages, turn, "2 passed")
    messages[-1]["content"].append({"type": "text", "text": "Now finish."})
    p.complete(req(messages, step="plan"))
    sent = fake.requests[-1]["body"]["messages"]
    call = turn.tool_calls[0]
    assert sent[2] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": "bash", "arguments": '{"command": "pytest"}'},
            }
        ],
    }
    assert sent[3] == {"role": "tool", "tool_call_id": call.id, "content": "2 passed"}
    assert sent[4] == {"role": "user", "content": "Now finish."}


def test_usage_splits_cached_tokens_out_of_prompt_tokens(fake: FakeChatAPI) -> None:
    fake.set_script([{"tool_calls": [{"name": "bash", "input": {"command": "ls"}}]}, {"text": "ok"}])
    p = make(fake)
    first = req()
    t1 = p.complete(first)
    t2 = p.complete(req(follow_up(first.messages, t1), step="plan"))
    for turn, record in ((t1, fake.requests[0]), (t2, fake.requests[1])):
        billed = record["usage"]
        cached = billed["prompt_tokens_details"]["cached_tokens"]
        assert turn.usage.cache_known
        assert turn.usage.cache_read_input_tokens == cached
        assert turn.usage.input_tokens + turn.usage.cache_read_input_tokens == billed["prompt_tokens"]
        assert turn.usage.output_tokens == billed["completion_tokens"]
    assert t1.usage.cache_read_input_tokens == 0 and t2.usage.cache_read_input_tokens > 1024
    assert t2.usage.total_input == fake.requests[1]["usage"]["prompt_tokens"]  # counted once


def test_no_cached_count_is_unknown_not_zero() -> None:
    with FakeChatAPI([{"text": "hi"}], cached=False) as fake:
        turn = make(fake).complete(req(step="plan"))
    assert turn.usage.cache_known is False
    assert turn.usage.as_dict()["cache_unknown"] is True
    assert turn.usage.input_tokens == fake.requests[0]["usage"]["prompt_tokens"]


def test_a_gateways_own_cost_is_used() -> None:
    with FakeChatAPI([{"text": "hi"}], cost_per_mtok=3.0) as fake:
        turn = make(fake).complete(req(step="plan"))
    assert turn.cost_usd == pytest.approx(fake.requests[0]["usage"]["cost"]) and turn.cost_usd > 0


def test_429_then_success_is_retried_by_the_sdk(fake: FakeChatAPI) -> None:
    fake.set_script([{"fault": {"status": 429}}, {"fault": {"status": 500}}, {"text": "ok"}])
    p = make(fake, max_retries=2)
    turn = p.complete(req(step="plan"))
    assert turn.text == "ok" and len(fake.requests) == 3 and p.retries == []


def test_429_beyond_the_sdks_retries_is_one_clear_line(fake: FakeChatAPI) -> None:
    fake.set_script([{"fault": {"status": 429, "message": "slow down"}}] * 3)
    with pytest.raises(ProviderError) as exc:
        make(fake, max_retries=1).complete(req(step="plan"))
    assert "error 429: slow down" in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"drop": True}, None),
        ({"malformed": True}, "malformed_chunk"),
        ({"truncate": True}, "incomplete_stream"),
        ({"stream_error": "server_error"}, "stream_error"),
    ],
)
def test_failures_after_200_restart_the_turn(
    fake: FakeChatAPI, fault: dict[str, Any], kind: str | None
) -> None:
    fake.set_script([{"fault": fault}, {"tool_calls": [{"name": "bash", "input": {"command": "ls"}}]}])
    chunks: list[StreamChunk] = []
    p = make(fake)
    turn = p.complete(req(), chunks.append)
    assert [c.name for c in turn.tool_calls] == ["bash"]
    assert len(p.retries) == 1 and p.retries[0]["attempt"] == 1
    if kind is not None:
        assert p.retries[0]["error"] == kind
    # partial text already shown is withdrawn; a malformed first line showed nothing
    assert any(c.type == "retry" for c in chunks) is (not fault.get("malformed"))


def test_a_stream_that_keeps_failing_is_a_provider_error(fake: FakeChatAPI) -> None:
    fake.set_script([{"fault": {"malformed": True}}] * 3)
    with pytest.raises(ProviderError, match=r"stream failed 3 times; last error: malformed_chunk"):
        make(fake, stream_retries=2).complete(req())


def test_arguments_that_are_not_an_object_come_back_as_a_tool_error(fake: FakeChatAPI) -> None:
    fake.set_script(
        [{"tool_calls": [{"name": "bash", "input": '{"command": "ls"'}, {"name": "bash", "input": "[1]"}]}]
    )
    turn = make(fake).complete(req())
    assert [(c.name, c.input) for c in turn.tool_calls] == [("bash", {}), ("bash", {})]
    assert all("must be one JSON object" in c.error for c in turn.tool_calls)
    # the broken arguments go back verbatim, so the model sees what it sent
    messages = follow_up(req().messages, turn, "error")
    fake.set_script([{"text": "ok"}])
    make(fake).complete(req(messages, step="plan"))
    sent = fake.requests[-1]["body"]["messages"][2]["tool_calls"]
    assert [c["function"]["arguments"] for c in sent] == ['{"command": "ls"', "[1]"]


def test_text_only_replies_get_bounded_reminders_then_fail_clearly(fake: FakeChatAPI) -> None:
    fake.set_script([{"text": "I will now edit the file."}] * 3)
    p = make(fake, tool_reminders=2)
    with pytest.raises(ProviderError) as exc:
        p.complete(req(step="code"))
    msg = str(exc.value)
    assert "answered 3 times without a tool call in the code step" in msg
    assert "--enable-auto-tool-choice --tool-call-parser" in msg and "--jinja" in msg and "tool_choice" in msg
    assert len(fake.requests) == 3 and [r["error"] for r in p.retries] == ["no_tool_call"] * 3
    last = fake.requests[-1]["body"]["messages"]
    assert last[-1]["role"] == "user" and "no tool call" in last[-1]["content"]
    assert last[-2] == {"role": "assistant", "content": "I will now edit the file."}


def test_a_reminder_that_works_returns_the_tool_call_with_all_usage(fake: FakeChatAPI) -> None:
    fake.set_script(
        [{"text": "thinking aloud"}, {"tool_calls": [{"name": "finish_step", "input": {"summary": "x"}}]}]
    )
    turn = make(fake).complete(req(step="explore"))
    assert [c.name for c in turn.tool_calls] == ["finish_step"]
    billed = sum(r["usage"]["prompt_tokens"] for r in fake.requests)
    assert turn.usage.total_input == billed


def test_the_plan_step_may_answer_in_text(fake: FakeChatAPI) -> None:
    fake.set_script([{"text": "---\ntitle: x\n---\n"}])
    turn = make(fake).complete(req(step="plan"))
    assert turn.text.startswith("---") and len(fake.requests) == 1


@pytest.mark.parametrize(
    ("message", "hint"),
    [
        (
            '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
            "vLLM: start it with --enable-auto-tool-choice --tool-call-parser",
        ),
        ("tools param requires --jinja flag", "llama.cpp: start llama-server with --jinja"),
        ("registry.ollama.ai/library/gemma does not support tools", "pick a model with tool support"),
    ],
)
def test_known_server_errors_name_their_fix(fake: FakeChatAPI, message: str, hint: str) -> None:
    fake.set_script([{"fault": {"status": 400, "message": message}}])
    with pytest.raises(ProviderError) as exc:
        make(fake).complete(req())
    assert hint in str(exc.value) and "error 400" in str(exc.value)


def test_a_wrong_key_and_an_unreachable_server_are_one_line() -> None:
    with FakeChatAPI([{"text": "x"}], api_key="right") as fake:
        client = openai.OpenAI(api_key="wrong", base_url=fake.base_url, max_retries=0)
        with pytest.raises(ProviderError, match="error 401.*check LOCAL_KEY"):
            OpenAIProvider(client, name="local", api_key_env="LOCAL_KEY").complete(req())
        url = fake.base_url
    client = openai.OpenAI(api_key="x", base_url=url, max_retries=0, timeout=2)
    with pytest.raises(ProviderError, match="cannot reach provider local .*is the server running"):
        OpenAIProvider(client, name="local").complete(req())


def test_a_missing_key_is_refused_before_any_request() -> None:
    with pytest.raises(ProviderError, match="OPENROUTER_API_KEY is not set"):
        OpenAIProvider(name="openrouter", api_key_env="OPENROUTER_API_KEY", base_url="http://127.0.0.1:9/v1")


def test_count_tokens_is_an_estimate_without_a_request(fake: FakeChatAPI) -> None:
    assert make(fake).count_tokens(req()) > len(SYSTEM) // 8 and fake.requests == []


def test_json_arguments_with_unicode_survive(fake: FakeChatAPI) -> None:
    text = "print('héllo ✓')\n"
    call = {
        "name": "str_replace_based_edit_tool",
        "input": {"command": "create", "path": "a.py", "file_text": text},
    }
    fake.set_script([{"tool_calls": [call]}])
    turn = make(fake).complete(req())
    assert turn.tool_calls[0].input["file_text"] == text
