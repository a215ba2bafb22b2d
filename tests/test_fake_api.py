"""The fake Messages API on its own, over raw HTTP: wire shapes, validation, cache, faults."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from phaser.testing.fake_api import FakeMessagesAPI, count_input_tokens

HEADERS = {
    "x-api-key": "sk-test-secret",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
}
TOOLS = [
    {"type": "bash_20250124", "name": "bash"},
    {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
    {
        "name": "read_plan",
        "description": "Read the plan",
        "input_schema": {"type": "object", "properties": {}},
    },
]


def post(
    api: FakeMessagesAPI, body: Any, path: str = "/v1/messages", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    port = int(api.base_url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", path, body=json.dumps(body), headers=HEADERS if headers is None else headers)
        resp = conn.getresponse()
        try:
            data = resp.read()
        except http.client.IncompleteRead as e:
            return (
                resp.status,
                {"_incomplete": "yes", **{k.lower(): v for k, v in resp.getheaders()}},
                e.partial,
            )
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def sse_events(data: bytes) -> list[tuple[str, Any]]:
    """(event name, parsed data) per SSE frame; asserts the framing the SDK relies on."""
    events = []
    for frame in data.decode().split("\n\n"):
        if not frame:
            continue
        lines = frame.split("\n")
        assert lines[0].startswith("event: ") and lines[1].startswith("data: "), frame
        name, payload = lines[0][7:], json.loads(lines[1][6:])
        assert payload["type"] == name
        events.append((name, payload))
    return events


def body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-test",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }


def test_json_reply_shape(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "hello", "tool_calls": [{"name": "bash", "input": {"command": "ls"}}]}])
    status, headers, data = post(fake_api, body(tools=TOOLS))
    assert status == 200 and headers["request-id"].startswith("req_")
    msg = json.loads(data)
    assert msg["type"] == "message" and msg["role"] == "assistant" and msg["model"] == "claude-test"
    assert msg["content"][0] == {"type": "text", "text": "hello"}
    tool = msg["content"][1]
    assert tool["type"] == "tool_use" and tool["name"] == "bash" and tool["input"] == {"command": "ls"}
    assert tool["id"].startswith("toolu_")
    assert msg["stop_reason"] == "tool_use"
    usage = msg["usage"]
    assert usage["input_tokens"] == count_input_tokens(body(tools=TOOLS))
    assert usage["cache_read_input_tokens"] == 0 and usage["cache_creation_input_tokens"] == 0
    assert usage["output_tokens"] > 1


def test_stream_shape_with_split_tool_json(fake_api: FakeMessagesAPI) -> None:
    tool_input = {"path": "docs/plan.md", "content": "x" * 40}
    fake_api.set_script(
        [{"text": "Writing the plan now.", "tool_calls": [{"name": "write", "input": tool_input}]}]
    )
    status, headers, data = post(fake_api, body(stream=True))
    assert status == 200 and headers["content-type"] == "text/event-stream"
    events = sse_events(data)
    names = [n for n, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "ping" in names
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["usage"]["output_tokens"] == 1
    assert {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"} <= set(start["usage"])
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta" and d["index"] == 0)
    assert text == "Writing the plan now."
    starts = [d for n, d in events if n == "content_block_start"]
    assert starts[1]["content_block"]["input"] == {} and starts[1]["content_block"]["name"] == "write"
    pieces = [d["delta"]["partial_json"] for n, d in events if n == "content_block_delta" and d["index"] == 1]
    assert len(pieces) >= 3 and pieces[0] == ""
    assert json.loads("".join(pieces)) == tool_input
    assert names.count("content_block_stop") == 2
    delta = events[-2][1]
    assert delta["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert delta["usage"]["output_tokens"] > 1


def test_thinking_block_streams_with_signature(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script(
        [{"content": [{"type": "thinking", "thinking": "let me see", "signature": "c2ln"}], "text": "ok"}]
    )
    _, _, data = post(fake_api, body(stream=True))
    deltas = [d["delta"] for n, d in sse_events(data) if n == "content_block_delta" and d["index"] == 0]
    assert "".join(d.get("thinking", "") for d in deltas) == "let me see"
    assert deltas[-1] == {"type": "signature_delta", "signature": "c2ln"}


def test_beta_path_system_role_and_client_tools_accepted(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "fine"}])
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "a reminder mid-conversation"},
        {"role": "user", "content": [{"type": "text", "text": "again"}]},  # consecutive user turns are merged
    ]
    status, _, data = post(fake_api, body(messages=messages, tools=TOOLS), path="/v1/messages?beta=true")
    assert status == 200, data
    assert fake_api.requests[-1]["path"] == "/v1/messages" and fake_api.requests[-1]["query"] == "beta=true"


def test_count_tokens_matches_usage(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "x"}])
    req = body(system="You are terse.", tools=TOOLS)
    status, _, data = post(
        fake_api, {k: v for k, v in req.items() if k != "max_tokens"}, "/v1/messages/count_tokens"
    )
    assert status == 200
    counted = json.loads(data)["input_tokens"]
    assert counted == count_input_tokens(req) > 10
    _, _, data = post(fake_api, req)
    assert json.loads(data)["usage"]["input_tokens"] == counted
    assert fake_api.remaining == 0  # count_tokens did not consume a turn


def test_requests_are_recorded_without_the_key(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "x"}])
    post(fake_api, body(system="sys"))
    rec = fake_api.requests[0]
    assert rec["api_key"] is True and rec["headers"]["x-api-key"] == "<redacted>"
    assert "sk-test-secret" not in json.dumps(fake_api.requests)
    assert rec["body"]["system"] == "sys" and rec["body"]["model"] == "claude-test"


def _bp(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ({"model": None}, "model: Field required"),
        ({"max_tokens": None}, "max_tokens: Field required"),
        ({"messages": None}, "messages: Field required"),
        ({"messages": []}, "at least one message"),
        (
            {
                "system": [_bp("a"), _bp("b"), _bp("c")],
                "cache_control": {"type": "ephemeral"},
                "tools": [{**TOOLS[0], "cache_control": {"type": "ephemeral"}}],
            },
            "maximum of 4 blocks",
        ),
        (
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t1", "name": "bash", "input": {}}],
                    },
                    {"role": "user", "content": "done?"},
                ]
            },
            "without `tool_result`",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "t9", "content": "x"}],
                    }
                ]
            },
            "unexpected `tool_use_id`",
        ),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}, "must be non-empty"),
        (
            {
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": []},
                    {"role": "user", "content": "x"},
                ]
            },
            "non-empty content",
        ),
        ({"tools": [{"name": "mine"}]}, "input_schema: Field required"),
    ],
)
def test_invalid_requests_get_400(fake_api: FakeMessagesAPI, bad: dict[str, Any], needle: str) -> None:
    req = {k: v for k, v in {**body(), **bad}.items() if v is not None}
    status, headers, data = post(fake_api, req)
    assert status == 400
    err = json.loads(data)
    assert err["type"] == "error" and err["error"]["type"] == "invalid_request_error"
    assert needle in err["error"]["message"]
    assert headers["request-id"]


def test_matching_tool_result_and_final_prefill_are_accepted(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "a"}, {"text": "b"}])
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]},
    ]
    assert post(fake_api, body(messages=messages))[0] == 200
    assert post(fake_api, body(messages=[*messages, {"role": "assistant", "content": []}]))[0] == 200


def test_four_breakpoints_are_fine(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script([{"text": "a"}])
    assert (
        post(fake_api, body(system=[_bp("a"), _bp("b"), _bp("c")], cache_control={"type": "ephemeral"}))[0]
        == 200
    )


def test_auth_and_version_headers(fake_api: FakeMessagesAPI) -> None:
    no_key = {k: v for k, v in HEADERS.items() if k != "x-api-key"}
    status, _, data = post(fake_api, body(), headers=no_key)
    assert status == 401 and json.loads(data)["error"]["type"] == "authentication_error"
    assert fake_api.requests[-1]["api_key"] is False
    no_version = {k: v for k, v in HEADERS.items() if k != "anthropic-version"}
    assert post(fake_api, body(), headers=no_version)[0] == 400
    with FakeMessagesAPI(api_key="right") as strict:
        assert post(strict, body())[0] == 401
        assert post(strict, body(), headers={**HEADERS, "x-api-key": "right"})[0] == 200


def _prefix_request(n_user: int, **extra: Any) -> dict[str, Any]:
    """A conversation of n user/assistant pairs with a long system prompt and a breakpoint on the tail."""
    messages: list[dict[str, Any]] = []
    for i in range(n_user):
        if i:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": f"reply {i}"}]})
        messages.append({"role": "user", "content": [{"type": "text", "text": f"question {i} " * 20}]})
    messages[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}
    return body(system=[_bp("S" * 800)], messages=messages, **extra)


def test_tool_use_overheads_are_billed_like_the_real_api(fake_api: FakeMessagesAPI) -> None:
    """The real API adds a tool-use system prompt (346 tokens, auto) and expands the bash (245) and
    text editor (700) tool types into schemas; a prefix that looks small in JSON is not."""
    bare = body(system="You are terse.")
    custom = body(system="You are terse.", tools=TOOLS[2:])
    server = body(system="You are terse.", tools=TOOLS)
    custom_tool = count_input_tokens(custom) - count_input_tokens(bare) - 346
    assert custom_tool > 5  # the custom tool's own JSON still counts
    assert count_input_tokens(server) - count_input_tokens(custom) == 245 + 700
    forced = body(system="You are terse.", tools=TOOLS[2:], tool_choice={"type": "any"})
    assert count_input_tokens(custom) - count_input_tokens(forced) == 346 - 313
    fake_api.set_script([{"text": "x"}])
    _, _, data = post(fake_api, server)
    assert json.loads(data)["usage"]["input_tokens"] == count_input_tokens(server)
    assert fake_api.requests[-1]["usage"]["input_tokens"] == count_input_tokens(server)


def test_cache_accounting_write_then_read(fake_api: FakeMessagesAPI) -> None:
    api = FakeMessagesAPI(min_cache_tokens=100)
    first, second = _prefix_request(1), _prefix_request(2)
    u1 = api.cache_usage(first)
    total1 = count_input_tokens(first)
    assert (u1["cache_read_input_tokens"], u1["cache_creation_input_tokens"], u1["input_tokens"]) == (
        0,
        total1,
        0,
    )
    u2 = api.cache_usage(second)
    assert u2["cache_read_input_tokens"] == total1  # the first request's tail breakpoint, moved on
    assert u2["cache_creation_input_tokens"] == count_input_tokens(second) - total1
    assert u2["input_tokens"] == 0
    u3 = api.cache_usage(second)
    assert (
        u3["cache_read_input_tokens"] == count_input_tokens(second) and u3["cache_creation_input_tokens"] == 0
    )
    assert api.cache_usage({**second, "model": "other"})["cache_read_input_tokens"] == 0  # per model
    api.reset_cache()
    assert api.cache_usage(second)["cache_read_input_tokens"] == 0


def test_cache_tokens_after_last_breakpoint_are_plain_input() -> None:
    api = FakeMessagesAPI(min_cache_tokens=100)
    req = body(system=[_bp("S" * 800)], messages=[{"role": "user", "content": "tail " * 50}])
    usage = api.cache_usage(req)
    tail = count_input_tokens(req) - usage["cache_creation_input_tokens"]
    assert usage["cache_creation_input_tokens"] > 100 and usage["input_tokens"] == tail > 10


def test_cache_min_tokens_and_automatic_caching() -> None:
    api = FakeMessagesAPI(min_cache_tokens=10_000)
    req = _prefix_request(1)
    assert api.cache_usage(req)["cache_creation_input_tokens"] == 0
    assert api.cache_usage(req)["cache_read_input_tokens"] == 0
    assert api.cache_usage(req)["input_tokens"] == count_input_tokens(req)
    auto = FakeMessagesAPI(min_cache_tokens=10)
    plain = body(messages=[{"role": "user", "content": "q " * 100}], cache_control={"type": "ephemeral"})
    assert auto.cache_usage(plain)["cache_creation_input_tokens"] == count_input_tokens(plain)
    assert auto.cache_usage(plain)["cache_read_input_tokens"] == count_input_tokens(plain)
    no_marks = FakeMessagesAPI(min_cache_tokens=10)
    unmarked = body(messages=[{"role": "user", "content": "q " * 100}])
    assert no_marks.cache_usage(unmarked)["cache_creation_input_tokens"] == 0


def test_status_faults_then_next_turn(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script(
        [
            {"fault": {"status": 429}},
            {"fault": {"status": 529}},
            {"fault": {"status": 500, "retry_after": 0}},
            {"text": "ok"},
        ]
    )
    status, headers, data = post(fake_api, body())
    assert status == 429 and headers["retry-after-ms"] == "1" and headers["retry-after"] == "0"
    assert json.loads(data)["error"]["type"] == "rate_limit_error" and headers["request-id"]
    status, headers, data = post(fake_api, body())
    assert status == 529 and json.loads(data)["error"]["type"] == "overloaded_error"
    assert "retry-after-ms" not in headers
    status, headers, data = post(fake_api, body())
    assert (
        status == 500
        and json.loads(data)["error"]["type"] == "api_error"
        and headers["retry-after-ms"] == "1"
    )
    status, _, data = post(fake_api, body())
    assert status == 200 and json.loads(data)["content"] == [{"type": "text", "text": "ok"}]


def test_stream_faults(fake_api: FakeMessagesAPI) -> None:
    fake_api.set_script(
        [
            {"fault": {"drop": True}},
            {"fault": {"stream_error": "overloaded_error"}},
            {"fault": {"malformed": True}},
            {"fault": {"truncate": True}},
        ]
    )
    status, headers, partial = post(fake_api, body(stream=True))
    assert status == 200 and headers.get("_incomplete") == "yes"
    assert b"message_start" in partial and b"message_stop" not in partial
    status, _, data = post(fake_api, body(stream=True))
    events = sse_events(data)
    assert status == 200 and events[0][0] == "message_start" and events[-1][0] == "error"
    assert events[-1][1]["error"]["type"] == "overloaded_error"
    status, _, data = post(fake_api, body(stream=True))
    assert status == 200 and b"data: {not json" in data
    status, headers, data = post(fake_api, body(stream=True))
    names = [n for n, _ in sse_events(data)]
    assert status == 200 and "_incomplete" not in headers
    assert names[0] == "message_start" and "message_stop" not in names and "message_delta" not in names


def test_add_turns_and_callable_script(fake_api: FakeMessagesAPI) -> None:
    fake_api.add_turns({"text": "one"}, {"text": "two"})
    assert [json.loads(post(fake_api, body())[2])["content"][0]["text"] for _ in range(2)] == ["one", "two"]
    fake_api.set_script(lambda req: {"text": f"echo {req['messages'][-1]['content']}"})
    assert json.loads(post(fake_api, body())[2])["content"][0]["text"] == "echo hi"
    with pytest.raises(TypeError):
        fake_api.add_turns({"text": "x"})


def test_unknown_path_is_404(fake_api: FakeMessagesAPI) -> None:
    status, _, data = post(fake_api, body(), path="/v1/complete")
    assert status == 404 and json.loads(data)["error"]["type"] == "not_found_error"
