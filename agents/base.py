"""What every role agent shares: an AutoGen ``AssistantAgent`` asked for a pydantic model, with
the reply validated and, when it does not validate, sent back with the validation error.

Endpoints that support JSON-schema structured output get ``output_content_type`` (AutoGen sends
``response_format`` with the schema). Endpoints that only do JSON mode get the schema in the
prompt and the reply is validated here. Either way the prompt shows exactly one schema,
:func:`schema_text`: the one the endpoint enforces, or the one the reply is validated against. Either way a reply that fails validation goes back to the
same conversation with the error (``prompts/validation_retry.md``); after the retries a
``ModelError`` ends the step, and nothing is written for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import MultiModalMessage, StructuredMessage, TextMessage
from autogen_core import Image
from autogen_core.model_context import UnboundedChatCompletionContext
from autogen_core.models import AssistantMessage, ChatCompletionClient, LLMMessage, UserMessage
from openai.lib import type_to_response_format_param
from pydantic import BaseModel, ValidationError

import prompts
from agents.tools import repository_tools
from paper2code.errors import ModelError
from paper2code.llm.structured import (
    describe_errors,
    parse_reply,
    validation_feedback,
)

T = TypeVar("T", bound=BaseModel)

UserContent = str | list[str | Image]
"""What a user message holds: text, or (for a model that accepts images) text and images in
order, as AutoGen's ``UserMessage`` and ``MultiModalMessage`` hold them."""


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


def request_schema(schema: type[BaseModel], options: AgentOptions) -> dict[str, Any]:
    """The JSON schema a reply is held to. With structured output it is exactly the schema the
    endpoint enforces: the strict one the openai client derives from ``schema`` and sends as
    ``response_format`` (every field required, no extra keys). In JSON mode it is ``schema``'s
    own, which the reply is validated against here (fields with defaults may be left out)."""
    if options.structured_output:
        return type_to_response_format_param(schema)["json_schema"]["schema"]  # type: ignore[index]
    return schema.model_json_schema()


def schema_text(schema: type[BaseModel], options: AgentOptions) -> str:
    """:func:`request_schema` as the prompt shows it (compact, stable bytes)."""
    return json.dumps(request_schema(schema, options), separators=(",", ":"), sort_keys=True)


def new_context(
    history: Sequence[tuple[UserContent, str]] = (), *, speaker: str = "assistant"
) -> UnboundedChatCompletionContext:
    """A conversation holding earlier (user task, raw reply of ``speaker``) turns, so a resumed
    conversation continues byte-identically where it stopped (``speaker`` is the agent's name,
    as AgentChat records the replies it makes itself). A task with images is replayed as the
    same multimodal user message :func:`ask` sent."""
    messages: list[LLMMessage] = []
    for task, raw in history:
        content = task if isinstance(task, str) else list(task)
        messages.append(UserMessage(content=content, source="user"))
        messages.append(AssistantMessage(content=raw, source=speaker))
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
    task: UserContent,
    schema: type[T],
    options: AgentOptions,
) -> Reply[T]:
    """Send ``task`` to ``agent`` and return its reply validated as ``schema``. A task with
    images goes as a ``MultiModalMessage`` (the agent's model must accept images); the
    validation feedback after it is text."""
    message: str | MultiModalMessage = (
        task if isinstance(task, str) else MultiModalMessage(content=list(task), source="user")
    )
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


def numbered(text: str) -> str:
    """``text`` with 1-based line numbers, as models cite lines back to us."""
    return "\n".join(f"{i:5d}  {line}" for i, line in enumerate(text.splitlines(), 1))


@dataclass(frozen=True)
class RepoFile:
    """A file of a repository, shown to a model by name."""

    path: str
    content: str


async def ask_fresh(
    name: str,
    client: ChatCompletionClient,
    options: AgentOptions,
    *,
    system: str,
    task: str,
    schema: type[T],
    tools: Sequence[Any] = (),
    max_tool_iterations: int = 1,
) -> Reply[T]:
    """``task`` in a new conversation opened by ``system``; the reply validated as ``schema``."""
    context = new_context()
    agent = make_agent(
        name,
        client,
        system,
        schema,
        options,
        context=context,
        tools=tools,
        max_tool_iterations=max_tool_iterations,
    )
    return await ask(agent, context, task, schema, options)


@dataclass(frozen=True)
class SharedContext:
    """What every analysis and coding request of a run opens with (identical bytes across the
    calls of both stages, so endpoint prefix caching applies). Text only: the paper's equation
    images go to planning alone (``agents.planner``), because these stages make one call per
    file and the images would be paid for in every one of them."""

    paper_md: str
    plan_md: str
    config_yaml: str

    def variables(self) -> dict[str, str]:
        """The prompt variables of the shared prefix (``paper``, ``plan``, ``config_yaml``)."""
        return {"paper": self.paper_md, "plan": self.plan_md, "config_yaml": self.config_yaml}


class RoleAgent:
    """A role whose every request is a fresh one-call conversation opened by the system message
    all generation stages share."""

    name = "agent"

    def __init__(self, client: ChatCompletionClient, options: AgentOptions) -> None:
        self.client = client
        self.options = options

    def schema_text(self, schema: type[BaseModel]) -> str:
        return schema_text(schema, self.options)

    async def ask_once(self, task: str, schema: type[T]) -> Reply[T]:
        """Ask ``task`` in a new conversation; the reply validated as ``schema``."""
        system = prompts.render("system.md")
        return await ask_fresh(
            self.name, self.client, self.options, system=system, task=task, schema=schema
        )


def with_path(reply: Reply[T], path: str) -> Reply[T]:
    """``reply`` with its value's ``path`` set to ``path``."""
    if getattr(reply.value, "path", path) == path:
        return reply
    return Reply(reply.value.model_copy(update={"path": path}), reply.raw, reply.attempts)


class RepoAgent(RoleAgent):
    """A role that works on a repository with the read-only tools, in a conversation opened by
    its own system message (``prompts/<name>_system.md``)."""

    max_tool_iterations = 4

    def __init__(self, client: ChatCompletionClient, options: AgentOptions, *, repo: Path) -> None:
        super().__init__(client, options)
        self.repo = Path(repo)

    async def ask_with_tools(self, task: str, schema: type[T]) -> Reply[T]:
        """``task`` answered as ``schema``, the model free to read and search the repository."""
        return await ask_fresh(
            self.name,
            self.client,
            self.options,
            system=prompts.render(f"{self.name}_system.md"),
            task=task,
            schema=schema,
            tools=repository_tools(self.repo),
            max_tool_iterations=self.max_tool_iterations,
        )
