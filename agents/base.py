"""What every role agent shares: an AutoGen ``AssistantAgent`` asked for a pydantic model, with
the reply validated and, when it does not validate, sent back with the validation error.

Endpoints that support JSON-schema structured output get ``output_content_type`` (AutoGen sends
``response_format`` with the schema). Endpoints that only do JSON mode get the schema in the
prompt and the reply is validated here. Either way a reply that fails validation goes back to the
same conversation with the error (``prompts/validation_retry.md``); after the retries a
``ModelError`` ends the step, and nothing is written for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import StructuredMessage, TextMessage
from autogen_core.model_context import UnboundedChatCompletionContext
from autogen_core.models import AssistantMessage, ChatCompletionClient, LLMMessage, UserMessage
from pydantic import BaseModel, ValidationError

from paper2code.errors import ModelError
from paper2code.llm.structured import (
    describe_errors,
    parse_reply,
    validation_feedback,
)

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class AgentOptions:
    """How role agents talk to their model."""

    structured_output: bool
    """The endpoint accepts a JSON schema as ``response_format`` (OpenAI, Azure, recent vLLM)."""
    validation_retries: int = 2
    """How often a reply that does not validate is sent back with the error."""


@dataclass(frozen=True)
class Reply(Generic[T]):
    """A validated reply and the raw text it came from (kept beside it on disk)."""

    value: T
    raw: str
    attempts: int


def schema_text(schema: type[BaseModel]) -> str:
    """The JSON schema of a reply model, as given to the model in the prompt (stable bytes)."""
    return json.dumps(schema.model_json_schema(), separators=(",", ":"), sort_keys=True)


def new_context(history: Sequence[tuple[str, str]] = ()) -> UnboundedChatCompletionContext:
    """A conversation holding earlier (user task, raw assistant reply) turns, so a resumed
    conversation continues byte-identically where it stopped."""
    messages: list[LLMMessage] = []
    for task, raw in history:
        messages.append(UserMessage(content=task, source="user"))
        messages.append(AssistantMessage(content=raw, source="assistant"))
    return UnboundedChatCompletionContext(initial_messages=messages)


def make_agent(
    name: str,
    client: ChatCompletionClient,
    system_message: str,
    schema: type[BaseModel] | None,
    options: AgentOptions,
    *,
    context: UnboundedChatCompletionContext | None = None,
    tools: Sequence[Any] = (),
    max_tool_iterations: int = 1,
) -> AssistantAgent:
    """An ``AssistantAgent`` for one role; structured output only where the endpoint has it."""
    return AssistantAgent(
        name=name,
        model_client=client,
        system_message=system_message,
        model_context=context or new_context(),
        output_content_type=schema if options.structured_output else None,
        tools=list(tools) or None,
        max_tool_iterations=max_tool_iterations,
        reflect_on_tool_use=True if tools else None,
    )


async def _last_assistant_text(context: UnboundedChatCompletionContext) -> str:
    for message in reversed(await context.get_messages()):
        if isinstance(message, AssistantMessage) and isinstance(message.content, str):
            return message.content
    return ""


async def ask(
    agent: AssistantAgent,
    context: UnboundedChatCompletionContext,
    task: str,
    schema: type[T],
    options: AgentOptions,
) -> Reply[T]:
    """Send ``task`` to ``agent`` and return its reply validated as ``schema``."""
    message = task
    last_error = ""
    for attempt in range(1, options.validation_retries + 2):
        try:
            result = await agent.run(task=message)
            final = result.messages[-1]
            if isinstance(final, StructuredMessage) and isinstance(final.content, schema):
                return Reply(final.content, await _last_assistant_text(context), attempt)
            if isinstance(final, TextMessage):
                raw = final.content
                return Reply(parse_reply(raw, schema), raw, attempt)
            raise ModelError(
                f"{agent.name}: expected a {schema.__name__} reply, got {type(final).__name__}"
            )
        except ValidationError as exc:
            last_error = describe_errors(exc)
        except json.JSONDecodeError as exc:
            last_error = f"the reply is not valid JSON: {exc}"
        message = validation_feedback(schema, last_error)
    raise ModelError(
        f"{agent.name}: the model's reply did not validate as {schema.__name__} after "
        f"{options.validation_retries + 1} attempts: {last_error}"
    )


async def ask_once(
    name: str,
    client: ChatCompletionClient,
    options: AgentOptions,
    task: str,
    schema: type[T],
) -> Reply[T]:
    """A fresh one-call conversation, opened by the system message every stage shares."""
    import prompts

    context = new_context()
    agent = make_agent(name, client, prompts.render("system.md"), schema, options, context=context)
    return await ask(agent, context, task, schema, options)


def with_path(reply: Reply[T], path: str) -> Reply[T]:
    """``reply`` with its value's ``path`` set to ``path``."""
    if getattr(reply.value, "path", path) == path:
        return reply
    return Reply(reply.value.model_copy(update={"path": path}), reply.raw, reply.attempts)
