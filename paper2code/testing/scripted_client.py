"""A scripted AutoGen ``ChatCompletionClient``: answers from a transcript (or any responder),
records every request, reports usage. Deterministic; no network."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelCapabilities,  # type: ignore[attr-defined]
    ModelInfo,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from paper2code.testing.transcript import ScriptedReply, Transcript
from paper2code.tokens import count_tokens

Responder = Callable[[list[dict[str, Any]]], ScriptedReply]


def to_openai(messages: Sequence[LLMMessage]) -> list[dict[str, Any]]:
    """AutoGen messages as OpenAI chat messages (what the loopback server would receive)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, SystemMessage):
            out.append({"role": "system", "content": m.content})
        elif isinstance(m, UserMessage):
            content = m.content if isinstance(m.content, str) else str(m.content)
            out.append({"role": "user", "content": content})
        elif isinstance(m, AssistantMessage):
            if isinstance(m.content, str):
                out.append({"role": "assistant", "content": m.content})
            else:
                calls = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    }
                    for c in m.content
                ]
                out.append({"role": "assistant", "content": None, "tool_calls": calls})
        elif isinstance(m, FunctionExecutionResultMessage):
            for r in m.content:
                out.append({"role": "tool", "tool_call_id": r.call_id, "content": r.content})
    return out


class ScriptedChatCompletionClient(ChatCompletionClient):
    """Answers each request with ``responder(openai_messages)``."""

    def __init__(
        self,
        responder: Responder | Transcript,
        *,
        model: str = "scripted",
        structured_output: bool = True,
    ) -> None:
        self.responder: Responder = (
            responder.respond if isinstance(responder, Transcript) else responder
        )
        self.model = model
        self.requests: list[list[dict[str, Any]]] = []
        self.json_output_requested: list[Any] = []
        self._info = ModelInfo(
            vision=False,
            function_calling=True,
            json_output=True,
            family="unknown",
            structured_output=structured_output,
        )
        self._total = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._last = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._calls = 0

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        oai = to_openai(messages)
        self.requests.append(oai)
        self.json_output_requested.append(json_output)
        reply = self.responder(oai)
        prompt_tokens = count_tokens(json.dumps(oai))
        if reply.tool_calls:
            self._calls += 1
            content: Any = [
                FunctionCall(id=f"call_{self._calls}_{i}", name=c["name"], arguments=c["arguments"])
                for i, c in enumerate(reply.tool_calls)
            ]
            finish: Any = "function_calls"
            completion_tokens = count_tokens(json.dumps(reply.tool_calls))
        else:
            content = reply.content or ""
            finish = "stop"
            completion_tokens = count_tokens(content)
        self._last = RequestUsage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        self._total = RequestUsage(
            prompt_tokens=self._total.prompt_tokens + prompt_tokens,
            completion_tokens=self._total.completion_tokens + completion_tokens,
        )
        return CreateResult(finish_reason=finish, content=content, usage=self._last, cached=False)

    def create_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "the scripted client does not stream; agents here do not ask it to"
        )

    async def close(self) -> None:
        return None

    def actual_usage(self) -> RequestUsage:
        return self._last

    def total_usage(self) -> RequestUsage:
        return self._total

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        return count_tokens(json.dumps(to_openai(messages)))

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        return 1_000_000 - self.count_tokens(messages)

    @property
    def capabilities(self) -> ModelCapabilities:  # type: ignore[override]
        return ModelCapabilities(vision=False, function_calling=True, json_output=True)  # type: ignore[typeddict-item]

    @property
    def model_info(self) -> ModelInfo:
        return self._info
