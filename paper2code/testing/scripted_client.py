"""A scripted AutoGen ``ChatCompletionClient``: answers from a transcript (or any responder),
records every request, reports usage. Deterministic; no network.

What answers is one of:

- a ``Transcript`` (rules over the system message, the last message, its role, and the
  caller's ``usage_context`` tags ``agent``/``stage``; see ``transcript.py``);
- a list of such rules as dicts (``[{"system": "planning", "json": {...}}, ...]``);
- any callable ``(openai_messages) -> ScriptedReply``.

A reply with ``tool_calls`` comes back as ``FunctionCall`` content (finish reason
``function_calls``), so a tool-using agent can be driven; naming a tool the request did not
offer is an error in the script. Like AutoGen's OpenAI client, the scripted one refuses
``json_output=<schema>`` when built with ``structured_output=False``, so agents that would fail
on a JSON-mode-only endpoint fail here too, and it refuses images unless built with
``vision=True``. Requests are recorded as OpenAI messages (``to_openai``): a user message with
images as content parts, ``text`` and ``image_url`` with a ``data:`` URL. Usage is counted with
the offline tokenizer, images at a flat estimate from their size.
``create_stream`` yields the content in pieces, then the ``CreateResult``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any, Literal

from autogen_core import CancellationToken, FunctionCall, Image
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

from paper2code.llm.recorder import current_context
from paper2code.testing.transcript import ScriptedReply, Transcript
from paper2code.tokens import count_tokens, image_tokens

Responder = Callable[[list[dict[str, Any]]], ScriptedReply]


def to_openai(messages: Sequence[LLMMessage]) -> list[dict[str, Any]]:
    """AutoGen messages as OpenAI chat messages (what the loopback server would receive)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, SystemMessage):
            out.append({"role": "system", "content": m.content})
        elif isinstance(m, UserMessage):
            out.append({"role": "user", "content": _user_content(m.content)})
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


def _user_content(content: str | Sequence[str | Image]) -> str | list[dict[str, Any]]:
    """A user message's content as OpenAI sends it: text, or content parts (``text`` and
    ``image_url`` with a ``data:`` URL, exactly as AutoGen's OpenAI client writes them)."""
    if isinstance(content, str):
        return content
    return [
        {"type": "text", "text": part} if isinstance(part, str) else part.to_openai_format()
        for part in content
    ]


def _images(messages: Sequence[LLMMessage]) -> list[Image]:
    return [
        part
        for m in messages
        if isinstance(m, UserMessage) and not isinstance(m.content, str)
        for part in m.content
        if isinstance(part, Image)
    ]


def _without_image_data(oai: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``oai`` with each image part's URL emptied (its tokens are counted apart)."""
    out = []
    for m in oai:
        if isinstance(m.get("content"), list):
            parts = [
                {"type": "image_url", "image_url": {"url": ""}}
                if p.get("type") == "image_url"
                else p
                for p in m["content"]
            ]
            m = {**m, "content": parts}
        out.append(m)
    return out


class ScriptedChatCompletionClient(ChatCompletionClient):
    """Answers each request from a script; see the module docstring."""

    STREAM_PIECE_CHARS = 16
    """Characters of content per streamed piece."""

    def __init__(
        self,
        responder: Responder | Transcript | list[dict[str, Any]],
        *,
        model: str = "scripted",
        structured_output: bool = True,
        json_output: bool = True,
        function_calling: bool = True,
        vision: bool = False,
        context_tokens: int = 128_000,
    ) -> None:
        if isinstance(responder, list):
            responder = Transcript.from_rules(responder)
        self.transcript = responder if isinstance(responder, Transcript) else None
        self.responder: Responder | None = None if self.transcript else responder  # type: ignore[assignment]
        self.model = model
        self.context_tokens = context_tokens
        self.requests: list[list[dict[str, Any]]] = []
        """Every request's messages in OpenAI format, in order."""
        self.json_output_requested: list[Any] = []
        """The ``json_output`` argument of every request."""
        self.tools_offered: list[list[str]] = []
        """The tool names offered with every request."""
        self.tags: list[dict[str, Any]] = []
        """The caller's ``usage_context`` at every request."""
        self._info = ModelInfo(
            vision=vision,
            function_calling=function_calling,
            json_output=json_output,
            family="unknown",
            structured_output=structured_output,
        )
        self._total = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._last = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._calls = 0

    def _reply(self, oai: list[dict[str, Any]], tags: dict[str, Any]) -> ScriptedReply:
        if self.transcript is not None:
            return self.transcript.respond(oai, tags)
        assert self.responder is not None
        return self.responder(oai)

    def _check_request(
        self,
        messages: Sequence[LLMMessage],
        json_output: bool | type[BaseModel] | None,
        tools: Sequence[Tool | ToolSchema],
    ) -> None:
        """Refuse what AutoGen's OpenAI client refuses for the same model info."""
        if not self._info["vision"] and _images(messages):
            raise ValueError("Model does not support vision and image was provided")
        if isinstance(json_output, type) and not self._info["structured_output"]:
            raise ValueError("Model does not support structured output.")
        if json_output is True and not self._info["json_output"]:
            raise ValueError("Model does not support JSON output.")
        if tools and not self._info["function_calling"]:
            raise ValueError("Model does not support function calling")

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
        self._check_request(messages, json_output, tools)
        oai = to_openai(messages)
        names = [_tool_name(t) for t in tools]
        tags = current_context()
        self.requests.append(oai)
        self.json_output_requested.append(json_output)
        self.tools_offered.append(names)
        self.tags.append(tags)
        reply = self._reply(oai, tags)
        prompt_tokens = self.count_tokens(messages, tools=tools)
        self._calls += 1
        if reply.tool_calls:
            unknown = [c["name"] for c in reply.tool_calls if c["name"] not in names]
            if unknown:
                raise ValueError(
                    f"script error: the reply calls {unknown} but the request offered "
                    f"{names or 'no tools'}"
                )
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

    async def create_stream(  # type: ignore[override]
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
        include_usage: bool | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        result = await self.create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )
        if isinstance(result.content, str):
            step = self.STREAM_PIECE_CHARS
            for i in range(0, len(result.content), step):
                yield result.content[i : i + step]
        yield result

    async def close(self) -> None:
        return None

    def actual_usage(self) -> RequestUsage:
        return self._last

    def total_usage(self) -> RequestUsage:
        return self._total

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        """The request as OpenAI JSON counted with o200k, each image at the flat estimate of
        ``paper2code.tokens.image_tokens`` instead of its base64 bytes."""
        schemas = [t.schema if isinstance(t, Tool) else t for t in tools]
        oai = _without_image_data(to_openai(messages))
        text = json.dumps(oai) + (json.dumps(schemas, default=str) if tools else "")
        return count_tokens(text) + sum(image_tokens(*i.image.size) for i in _images(messages))

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        return self.context_tokens - self.count_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> ModelCapabilities:  # type: ignore[override]
        return ModelCapabilities(  # type: ignore[typeddict-item]
            vision=self._info["vision"],
            function_calling=self._info["function_calling"],
            json_output=self._info["json_output"],
        )

    @property
    def model_info(self) -> ModelInfo:
        return self._info


def _tool_name(tool: Tool | ToolSchema) -> str:
    return tool.name if isinstance(tool, Tool) else str(tool["name"])
