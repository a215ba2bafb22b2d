"""One phase's conversation with the model, run step by step.

The loop is small on purpose: send the conversation, append the reply verbatim, run its tool
calls through the ToolBox, repeat until the step is finished. Budgets and the stop button end it
by raising (BudgetExceeded, RunStopped); a ProviderError passes through. Whatever happens, the
step's forbidden changes are reverted and the journal is flushed on the way out.
"""

from __future__ import annotations

import threading
from typing import Any

from phaser.agent.base import StepResult
from phaser.agent.journal import Journal
from phaser.agent.meter import Metered
from phaser.agent.policy import Step
from phaser.agent.provider import ModelTurn, Provider, Request, SpentTurnError, StreamChunk
from phaser.agent.script import estimate_tokens
from phaser.agent.snapshot import Snapshot
from phaser.agent.tools import ToolBox, tool_summary
from phaser.config import BudgetConfig, Price
from phaser.events import EventSink, Notice, StepStarted, TextDelta, ToolFinished, ToolStarted, ignore


class AgentSession(Metered):
    """The conversation of one phase: fresh context per phase, shared by its steps (a StepAgent)."""

    def __init__(
        self,
        provider: Provider,
        toolbox: ToolBox,
        journal: Journal,
        *,
        model: str,
        system: str,
        max_tokens: int,
        on_event: EventSink = ignore,
        budget: BudgetConfig,
        price: Price | None,
        stop_event: threading.Event | None = None,
        step_turns: int = 40,
    ) -> None:
        super().__init__(journal, budget, on_event, stop_event)
        self.provider = provider
        self.toolbox = toolbox
        self.model = model
        self.system = system
        self.max_tokens = max_tokens
        self.price = price
        self.step_turns = step_turns
        self.messages: list[dict[str, Any]] = []
        self._unpriced_said = False

    def run_step(self, step: Step, prompt: str) -> StepResult:
        """Run one step to its end; raises BudgetExceeded, RunStopped or ProviderError."""
        self._add_prompt(prompt)
        self.toolbox.step = step
        self.toolbox.finished = None
        result = StepResult(step, "", 0)
        self.journal.write("step_start", step=step.value, prompt=prompt, sandbox=self.toolbox.sandbox)
        self.on_event(StepStarted(step.value))
        before = self.toolbox.snapshot(step_scope=True)
        try:
            while True:
                self._check_stop()
                if result.turns >= self.step_turns:
                    result.ended = "step_turns"
                    break
                self._check_budget()
                turn = self._complete(step, result)
                calls = turn.tool_calls
                if calls:
                    self._run_tools(turn)
                if self.toolbox.finished is not None:
                    result.ended, result.summary = "finish_step", self.toolbox.finished
                    break
                if not calls:
                    result.ended, result.summary = turn.stop_reason, turn.text
                    break
        except BaseException as exc:
            result.ended = f"error: {type(exc).__name__}"
            raise
        finally:
            self._finish_step(step, before, result)
        return result

    # -- pieces of a step -------------------------------------------------------------------------

    def _add_prompt(self, prompt: str) -> None:
        """A user message; joined to a pending tool_result message so roles keep alternating."""
        block = {"type": "text", "text": prompt}
        last = self.messages[-1] if self.messages else None
        if last is not None and last["role"] == "user":
            self.messages[-1] = {"role": "user", "content": [*last["content"], block]}
        else:
            self.messages.append({"role": "user", "content": [block]})

    def _complete(self, step: Step, result: StepResult) -> ModelTurn:
        request = Request(
            model=self.model,
            system=self.system,
            messages=list(self.messages),  # a request keeps the conversation as it was sent
            tools=self.toolbox.definitions(),
            max_tokens=self.max_tokens,
            metadata={"step": step.value, "phase": self.toolbox.phase, "turn": self.turns + 1},
        )
        self.journal.write(
            "request",
            model=self.model,
            step=step.value,
            messages=len(self.messages),
            estimated_tokens=estimate_tokens({"system": self.system, "messages": self.messages}),
        )
        retries = getattr(self.provider, "retries", None)
        seen = len(retries) if isinstance(retries, list) else 0
        try:
            turn = self.provider.complete(request, on_chunk=self._on_chunk)
        except SpentTurnError as exc:  # the step fails, but what the replies used is billed
            self._record(exc.turn, step, result)
            raise
        finally:
            for retry in (retries or [])[seen:]:  # turns the provider restarted itself (mid-stream errors)
                self.journal.write("retry", step=step.value, **retry)
        self.messages.append({"role": "assistant", "content": turn.content})
        self.turns += 1
        result.turns += 1
        self._record(turn, step, result)
        return turn

    def _record(self, turn: ModelTurn, step: Step, result: StepResult) -> None:
        """Bill a turn and journal it as a response."""
        self._account(turn, result)
        self.journal.write(
            "response",
            step=step.value,
            id=turn.id,
            model=turn.model,
            stop_reason=turn.stop_reason,
            content=turn.content,
            usage=turn.usage.as_dict(),
            cost_usd=round(self.cost_usd, 6),
            priced=turn.cost_usd is not None or self.price is not None,
        )

    def _on_chunk(self, chunk: StreamChunk) -> None:
        if chunk.type == "text" and chunk.text:
            self.on_event(TextDelta(chunk.text))

    def _run_tools(self, turn: ModelTurn) -> None:
        results = []
        for call in turn.tool_calls:
            summary = tool_summary(call)
            self.on_event(ToolStarted(call.name, summary))
            block = self.toolbox.run(call)
            ok = not block.get("is_error", False)
            reason = "" if ok else _first_line(block.get("content"))
            self.on_event(ToolFinished(call.name, ok, summary, reason))
            self.journal.write(
                "tool",
                step=self.toolbox.step.value,
                name=call.name,
                input=call.input,
                ok=ok,
                result=block["content"],
            )
            results.append(block)
        self.messages.append({"role": "user", "content": results})

    def _account(self, turn: ModelTurn, result: StepResult) -> None:
        u = turn.usage
        cost = turn.cost_usd  # a gateway's own figure (OpenRouter) wins over the price table
        if cost is None and self.price is not None:
            cost = self.price.cost(
                u.input_tokens, u.output_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens
            )
        if cost is None and not self._unpriced_said:  # neither a price nor the server's own figure
            self._unpriced_said = True
            self.on_event(
                Notice(
                    f"no price configured for {self.model} ([prices] in phaser.toml): its dollars are not "
                    "tracked and dollar caps do not apply; token and turn caps still do",
                    "warning",
                )
            )
        self._charge(self.model, u, cost, result)

    def _finish_step(self, step: Step, before: Snapshot, result: StepResult) -> None:
        """Revert what the step may not change, then record its end; runs on every way out."""
        self._close_step(
            step, result, self.toolbox, lambda: self.toolbox.enforce(before, step_scope=True, where="step")
        )


def _first_line(content: object, limit: int = 300) -> str:
    """The first line of a tool's error result, for the one line a shell shows per tool call."""
    if isinstance(content, list):  # content blocks
        content = " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    text = str(content or "").strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
