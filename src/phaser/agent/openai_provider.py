"""The Provider on the official openai SDK: chat completions with function tools, always streamed.

For every OpenAI-compatible server (OpenAI, OpenRouter, vLLM, Ollama, LM Studio, llama.cpp). The loop
keeps its conversation in the Messages API's shape (``agent/provider.py``); this module translates it
to chat messages on the way out and the streamed reply back into content blocks, so the tools, their
locks and the journal are the same on both paths. phaser's tools become function tools with JSON
schemas (``function_tools``), including the editor and bash that the Anthropic API defines itself.

Retries: the SDK retries 429, 5xx and connection errors before a stream starts (``max_retries``).
After HTTP 200 it retries nothing: a dropped connection, a line that is not JSON, an error object
mid-stream or a stream that ends without a finish reason restart the whole turn here, up to
``stream_retries`` times, recorded in ``self.retries`` (the loop journals them).

Usage comes from the last chunk (``stream_options.include_usage``). ``prompt_tokens`` already holds
the cached tokens (``prompt_tokens_details.cached_tokens``), so they are split out, never added; a
server that reports no cached count gets ``Usage.cache_known = False``. A gateway's own ``usage.cost``
(OpenRouter) becomes ``ModelTurn.cost_usd``.

A step needs tool calls (it ends with finish_step). A model that answers with text only is reminded,
at most ``tool_reminders`` times, then the step fails with one line naming the usual server causes.

``import openai`` is slow, so it happens in ``__init__``, never at import time.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from phaser.agent.provider import (
    ModelTurn,
    Request,
    SpentTurnError,
    StreamCallback,
    StreamChunk,
    Usage,
    api_model,
)
from phaser.agent.script import estimate_tokens
from phaser.agent.stream_retry import RetryableStreamFailure, StreamRestarts, error_fields, one_line
from phaser.errors import ProviderError

EDITOR = "str_replace_based_edit_tool"
TOOL_STEPS = ("explore", "code", "update")
"""Steps that end with finish_step, so a reply without a tool call is a model or server problem."""

REMINDER = (
    "[phaser] Your reply had no tool call. Work only through the tools: call one now "
    "(finish_step ends the step with a summary)."
)
NO_TOOLS_HINT = (
    "if the server ignores tools: vLLM needs --enable-auto-tool-choice --tool-call-parser <parser>, "
    "llama.cpp's server needs --jinja, and Ollama ignores tool_choice (use a model with tool support)"
)

_EDITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {
            "type": "string",
            "enum": ["view", "create", "str_replace", "insert"],
            "description": "view a file or directory, create a file, replace one exact string, insert lines",
        },
        "path": {"type": "string", "description": "Path relative to the repository root."},
        "file_text": {"type": "string", "description": "create: the whole content of the new file."},
        "old_str": {"type": "string", "description": "str_replace: text that occurs exactly once."},
        "new_str": {"type": "string", "description": "str_replace: the replacement text."},
        "insert_line": {"type": "integer", "description": "insert: the line after which to insert (0: top)."},
        "insert_text": {"type": "string", "description": "insert: the text to insert."},
        "view_range": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "view: [first, last] line numbers, 1-based; last -1 means the end.",
        },
    },
    "required": ["command", "path"],
}
_EDITOR_DESCRIPTION = (
    "View, create and edit files. view shows a file with line numbers (or lists a directory); create "
    "writes a new file; str_replace replaces exactly one occurrence of old_str with new_str; insert adds "
    "insert_text after line insert_line. Writes the current step may not make are refused."
)
_BASH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "description": "The bash command to run."},
        "restart": {"type": "boolean", "description": "Restart the tool instead of running a command."},
    },
    "required": [],
}
_BASH_DESCRIPTION = (
    "Run a bash command in the repository root and get its output (capped) and exit code. Each call is a "
    "fresh shell; in read-only steps the tree cannot be changed."
)


def function_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """phaser's tool list as chat-completions function tools. The same tools, names and inputs: only
    the schema's wrapping changes, so the ToolBox runs them with the same checks on either path."""
    out = []
    for tool in tools:
        kind = str(tool.get("type", "custom"))
        if kind.startswith("text_editor_"):
            fn = {"name": tool["name"], "description": _EDITOR_DESCRIPTION, "parameters": _EDITOR_SCHEMA}
        elif kind.startswith("bash_"):
            fn = {"name": tool["name"], "description": _BASH_DESCRIPTION, "parameters": _BASH_SCHEMA}
        elif "input_schema" in tool:
            fn = {
                "name": tool["name"],
                "description": tool.get("description", ""),
                "parameters": tool["input_schema"],
            }
        else:
            raise ProviderError(f"tool {tool.get('name')!r} of type {kind!r} has no function form")
        out.append({"type": "function", "function": fn})
    return out


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content", "")
    if isinstance(content, list):
        content = "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    text = str(content)
    return f"[error] {text}" if block.get("is_error") else text


def chat_messages(system: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The loop's conversation (Messages API shape) as chat-completions messages.

    tool_result blocks become ``tool`` messages right after the assistant message that called them
    (the order the API requires), then the user's text; thinking blocks stay out."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for msg in messages:
        content = msg.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
        if msg.get("role") == "assistant":
            text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
            calls = [
                {
                    "id": b["id"],
                    "type": "function",
                    "function": {
                        "name": b["name"],
                        "arguments": b.get("raw_arguments") or json.dumps(b.get("input") or {}),
                    },
                }
                for b in blocks
                if b.get("type") == "tool_use"
            ]
            entry: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                entry["tool_calls"] = calls
            out.append(entry)
            continue
        for b in blocks:
            if b.get("type") == "tool_result":
                out.append({"role": "tool", "tool_call_id": b["tool_use_id"], "content": _result_text(b)})
        text = "\n\n".join(b.get("text", "") for b in blocks if b.get("type") == "text" and b.get("text"))
        if text:
            out.append({"role": "user", "content": text})
    return out


class _Calls:
    """Tool calls assembled from ``delta.tool_calls``: the id and name come first, arguments accrete."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self._by_index: dict[int, dict[str, str]] = {}

    def add(self, delta: Any) -> str | None:
        """Fold one delta in; returns the tool's name when a new call starts."""
        index = getattr(delta, "index", None)
        index = len(self.calls) if index is None else int(index)
        fn = getattr(delta, "function", None)
        name = (getattr(fn, "name", None) or "") if fn is not None else ""
        args = (getattr(fn, "arguments", None) or "") if fn is not None else ""
        call = self._by_index.get(index)
        new_id = getattr(delta, "id", None)
        if call is not None and new_id and call["id"] and new_id != call["id"] and call["name"]:
            call = None  # a server that reuses index 0 for the next call, with a new id
        started = None
        if call is None:
            call = {"id": new_id or "", "name": "", "arguments": ""}
            self.calls.append(call)
            self._by_index[index] = call
        if new_id and not call["id"]:
            call["id"] = new_id
        if name and not call["name"]:
            call["name"] = name
            started = name
        call["arguments"] += args
        return started

    def blocks(self) -> list[dict[str, Any]]:
        out = []
        for i, call in enumerate(self.calls):
            raw = call["arguments"].strip()
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": call["id"] or f"call_{uuid.uuid4().hex[:12]}_{i}",
                "name": call["name"],
                "input": {},
            }
            try:
                value = json.loads(raw) if raw else {}
            except ValueError:
                value = None
            if isinstance(value, dict):
                block["input"] = value
            else:
                block["raw_arguments"] = call["arguments"]
                block["input_error"] = (
                    f"The arguments of {call['name']} must be one JSON object; got {one_line(raw, 200)!r}."
                )
            out.append(block)
        return out


class OpenAIProvider(StreamRestarts):
    """Chat completions on any OpenAI-compatible endpoint. Inject ``client`` (an ``openai.OpenAI``)
    in tests, pointed at ``phaser.testing.fake_openai.FakeChatAPI``."""

    name = "openai"

    def __init__(
        self,
        client: Any = None,
        *,
        name: str = "openai",
        api_key: str | None = None,
        api_key_env: str = "",
        base_url: str | None = None,
        max_retries: int = 4,
        timeout: float = 600.0,
        stream_retries: int = 2,
        tool_reminders: int = 2,
        retry_backoff_s: float = 0.5,
    ) -> None:
        import openai

        self._openai = openai
        self.name = name
        self.api_key_env = api_key_env
        if client is None:
            if api_key_env and not api_key:
                raise ProviderError(f"{api_key_env} is not set: export it for provider {name!r}")
            client = openai.OpenAI(
                api_key=api_key or "no-key",  # local servers need none, the SDK insists on one
                base_url=base_url or None,
                max_retries=max_retries,
                timeout=timeout,
            )
        super().__init__(client, stream_retries=stream_retries, retry_backoff_s=retry_backoff_s)
        self.tool_reminders = tool_reminders

    # -- Provider --------------------------------------------------------------------------
    def count_tokens(self, request: Request) -> int:
        """An estimate: chat-completions servers have no counting endpoint."""
        return estimate_tokens(
            {
                "messages": chat_messages(request.system, request.messages),
                "tools": function_tools(request.tools),
            }
        )

    def complete(self, request: Request, on_chunk: StreamCallback | None = None) -> ModelTurn:
        messages = chat_messages(request.system, request.messages)
        params: dict[str, Any] = {
            "model": api_model(request.model, self.name),
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.tools:
            params["tools"] = function_tools(request.tools)
            params["tool_choice"] = "auto"
        needs_tool = bool(request.tools) and request.metadata.get("step") in TOOL_STEPS
        spent = Usage()
        cost: float | None = None
        for reminder in range(self.tool_reminders + 1):
            turn = self._restarting({**params, "messages": messages}, on_chunk)
            spent = spent + turn.usage
            if turn.cost_usd is not None:
                cost = (cost or 0.0) + turn.cost_usd
            if turn.tool_calls or not needs_tool:
                break
            self.retries.append(
                {"attempt": reminder + 1, "error": "no_tool_call", "message": one_line(turn.text, 200)}
            )
            if reminder == self.tool_reminders:
                turn.usage, turn.cost_usd = spent, cost  # billed, though the step fails
                raise SpentTurnError(
                    f"{params['model']} on {self.name} answered {reminder + 1} times without a tool call "
                    "in the "
                    f"{request.metadata.get('step')} step, after {reminder} reminder(s); {NO_TOOLS_HINT}",
                    turn,
                )
            if turn.text:
                messages = [*messages, {"role": "assistant", "content": turn.text}]
            messages = [*messages, {"role": "user", "content": REMINDER}]
        turn.usage, turn.cost_usd = spent, cost
        return turn

    # -- one turn ----------------------------------------------------------------------------
    def _stream_once(
        self, params: dict[str, Any], on_chunk: StreamCallback | None, forwarded: list[bool]
    ) -> ModelTurn:
        openai = self._openai
        try:
            stream = self.client.chat.completions.create(**params)  # the SDK has retried what it could
        except openai.APIStatusError as e:
            raise ProviderError(self._describe(e, params["model"])) from None
        except openai.OpenAIError as e:
            raise ProviderError(self._describe(e, params["model"])) from None
        text: list[str] = []
        calls = _Calls()
        finish: str | None = None
        usage: Any = None
        model, turn_id = params["model"], ""
        try:
            for chunk in self._chunks(stream):  # callback errors propagate untouched
                model = getattr(chunk, "model", None) or model
                turn_id = getattr(chunk, "id", None) or turn_id
                if getattr(chunk, "usage", None) is not None:
                    usage = chunk.usage
                for choice in chunk.choices or []:
                    delta = choice.delta
                    if delta is not None and delta.content:
                        text.append(delta.content)
                        if on_chunk is not None:
                            forwarded[0] = True
                            on_chunk(StreamChunk("text", delta.content))
                    for tool_delta in (delta.tool_calls if delta is not None else None) or []:
                        started = calls.add(tool_delta)
                        if started and on_chunk is not None:
                            forwarded[0] = True
                            on_chunk(StreamChunk("tool", started))
                    if choice.finish_reason:
                        finish = choice.finish_reason
        finally:
            stream.close()
        if finish is None:
            raise RetryableStreamFailure("incomplete_stream", "the stream ended without a finish_reason")
        content: list[dict[str, Any]] = []
        if text and "".join(text):
            content.append({"type": "text", "text": "".join(text)})
        content += calls.blocks()
        if not content:
            content.append({"type": "text", "text": ""})
        stop = "tool_use" if calls.calls else {"length": "max_tokens"}.get(finish, "end_turn")
        turn_usage, cost = self._usage(usage, params, content)
        return ModelTurn(content, stop, turn_usage, str(model), str(turn_id), cost)

    def _chunks(self, stream: Any) -> Any:
        """The stream's chunks, with failures after HTTP 200 sorted into retryable or final."""
        openai = self._openai
        chunks = iter(stream)
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except openai.APIStatusError as e:
                raise ProviderError(self._describe(e, "")) from None
            except openai.APIConnectionError as e:  # dropped connection, read timeout
                raise RetryableStreamFailure(type(e.__cause__ or e).__name__, e.__cause__ or e) from None
            except openai.APIError as e:  # an error object mid-stream
                raise RetryableStreamFailure("stream_error", e.message) from None
            except ValueError as e:  # a data line that is not JSON
                raise RetryableStreamFailure("malformed_chunk", e) from None
            yield chunk

    def _usage(
        self, usage: Any, params: dict[str, Any], content: list[dict[str, Any]]
    ) -> tuple[Usage, float | None]:
        if usage is None:  # a server that ignores include_usage: phaser's own estimate, cache unknown
            prompt = estimate_tokens({"messages": params["messages"], "tools": params.get("tools", [])})
            return Usage(prompt, estimate_tokens(content), cache_known=False), None
        prompt = int(usage.prompt_tokens or 0)
        details = getattr(usage, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) if details is not None else None
        written = int(getattr(details, "cache_write_tokens", None) or 0) if details is not None else 0
        read = int(cached or 0)
        # cached_tokens (and an OpenRouter cache write) are part of prompt_tokens: split out, never added
        turn = Usage(
            input_tokens=max(0, prompt - read - written),
            output_tokens=int(usage.completion_tokens or 0),
            cache_creation_input_tokens=written,
            cache_read_input_tokens=read,
            cache_known=cached is not None,
        )
        extra = getattr(usage, "model_extra", None) or {}
        cost = extra.get("cost", getattr(usage, "cost", None))
        if isinstance(cost, (int, float)) and not isinstance(cost, bool):
            return turn, float(cost)
        return turn, None

    # -- errors ------------------------------------------------------------------------------
    def _where(self) -> str:
        return f"provider {self.name} ({self.client.base_url})"

    def _describe(self, err: BaseException, model: str) -> str:
        """One line for a person, with the known fix when a server's message names one."""
        openai = self._openai
        if isinstance(err, openai.APIStatusError):
            _, message = error_fields(err)
            status = err.status_code
            low = message.lower()
            hint = ""
            if "enable-auto-tool-choice" in low or "tool-call-parser" in low:
                hint = "; vLLM: start it with --enable-auto-tool-choice --tool-call-parser <parser>"
            elif "jinja" in low:
                hint = "; llama.cpp: start llama-server with --jinja to serve tool calls"
            elif "does not support tools" in low:
                hint = f"; {model} cannot call tools on this server: pick a model with tool support"
            elif status == 401:
                hint = f"; check {self.api_key_env}" if self.api_key_env else "; the server wants an API key"
            elif status == 404 and model:
                hint = f"; is {model!r} served there (Ollama: ollama pull {model})?"
            return f"{self._where()} error {status}: {one_line(message)}{hint}"
        if isinstance(err, openai.APIConnectionError):
            cause = err.__cause__ or err
            return f"cannot reach {self._where()}: {one_line(cause)} (is the server running?)"
        return f"{self._where()} call failed: {type(err).__name__}: {one_line(err)}"
