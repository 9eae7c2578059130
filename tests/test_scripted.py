"""The scripted ``ChatCompletionClient``: rule matching (messages and usage-context tags),
request log, usage, what it refuses like AutoGen's OpenAI client, tool calls driving a real
``AssistantAgent`` with a tool, streaming, and the rest of the client interface."""

from __future__ import annotations

import json
from typing import Any

import pytest
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import ToolCallExecutionEvent, ToolCallRequestEvent
from autogen_core import FunctionCall
from autogen_core.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import FunctionTool
from pydantic import BaseModel

from paper2code.llm import usage_context
from paper2code.testing.scripted_client import ScriptedChatCompletionClient
from paper2code.testing.transcript import NoRuleMatched, ScriptedReply
from paper2code.tokens import count_tokens

RULES: list[dict[str, Any]] = [
    {"name": "debugger", "agent": "debugger", "text": "tagged reply"},
    {"name": "plan", "system": "You plan", "last": "Turn 1", "json": {"summary": "s"}},
    {"name": "after-tool", "last_role": "tool", "text": "read it"},
    {
        "name": "tool",
        "system": "You fix",
        "tool_call": {"name": "read_file", "arguments": {"path": "a.py"}},
    },
    {"name": "fallback", "system": "You plan", "text": "fallback"},
]


def msgs(system: str, user: str) -> list[Any]:
    return [SystemMessage(content=system), UserMessage(content=user, source="user")]


def read_file(path: str) -> str:
    """Read a file."""
    return f"contents of {path}"


READ = FunctionTool(read_file, description="Read a file of the repository.")


async def test_rules_match_in_order_on_messages_and_tags() -> None:
    client = ScriptedChatCompletionClient(RULES)
    first = await client.create(msgs("You plan things.", "Turn 1 of 4"))
    assert json.loads(first.content) == {"summary": "s"}
    assert (await client.create(msgs("You plan things.", "Turn 2 of 4"))).content == "fallback"
    with usage_context(stage="debug", agent="debugger"):
        assert (await client.create(msgs("You plan things.", "Turn 1"))).content == "tagged reply"
    assert client.transcript is not None
    assert client.transcript.used == ["plan", "fallback", "debugger"]
    assert client.tags == [{}, {}, {"stage": "debug", "agent": "debugger"}]
    with pytest.raises(NoRuleMatched, match="no transcript rule matches"):
        await client.create(msgs("You write code.", "hello"))


async def test_requests_are_logged_in_openai_format() -> None:
    client = ScriptedChatCompletionClient(RULES)
    history = [
        SystemMessage(content="You fix bugs."),
        UserMessage(content="it fails", source="user"),
        AssistantMessage(
            content=[FunctionCall(id="c1", name="read_file", arguments='{"path": "a.py"}')],
            source="assistant",
        ),
        FunctionExecutionResultMessage(
            content=[FunctionExecutionResult(call_id="c1", content="x = 1", name="read_file")]
        ),
    ]
    result = await client.create(history, tools=[READ], json_output=False)
    assert result.content == "read it"  # the after-tool rule: the last message is a tool result
    [request] = client.requests
    assert [m["role"] for m in request] == ["system", "user", "assistant", "tool"]
    assert request[2]["tool_calls"][0]["function"] == {
        "name": "read_file",
        "arguments": '{"path": "a.py"}',
    }
    assert request[3] == {"role": "tool", "tool_call_id": "c1", "content": "x = 1"}
    assert client.tools_offered == [["read_file"]]
    assert client.json_output_requested == [False]


async def test_usage_is_counted() -> None:
    client = ScriptedChatCompletionClient(lambda m: ScriptedReply(content="four words in here"))
    messages = msgs("sys", "question")
    result = await client.create(messages)
    assert result.usage.completion_tokens == count_tokens("four words in here")
    assert result.usage.prompt_tokens == client.count_tokens(messages) > 0
    assert client.actual_usage() == result.usage
    await client.create(messages)
    assert client.total_usage().prompt_tokens == 2 * result.usage.prompt_tokens
    assert client.count_tokens(messages, tools=[READ]) > client.count_tokens(messages)
    assert client.remaining_tokens(messages) == 128_000 - client.count_tokens(messages)


class Answer(BaseModel):
    summary: str


async def test_refuses_what_the_openai_client_refuses() -> None:
    plain = ScriptedChatCompletionClient(RULES, structured_output=False)
    with pytest.raises(ValueError, match="structured output"):
        await plain.create(msgs("You plan", "Turn 1"), json_output=Answer)
    assert plain.requests == []
    result = await plain.create(msgs("You plan", "Turn 1"), json_output=True)
    assert Answer.model_validate_json(result.content).summary == "s"
    no_json = ScriptedChatCompletionClient(RULES, json_output=False)
    with pytest.raises(ValueError, match="JSON output"):
        await no_json.create(msgs("You plan", "Turn 1"), json_output=True)
    no_tools = ScriptedChatCompletionClient(RULES, function_calling=False)
    with pytest.raises(ValueError, match="function calling"):
        await no_tools.create(msgs("You fix", "x"), tools=[READ])
    assert no_tools.model_info["function_calling"] is False
    assert no_tools.capabilities["function_calling"] is False  # type: ignore[typeddict-item]


async def test_tool_call_replies() -> None:
    client = ScriptedChatCompletionClient(RULES)
    result = await client.create(msgs("You fix bugs.", "it fails"), tools=[READ])
    assert result.finish_reason == "function_calls"
    [call] = result.content
    assert isinstance(call, FunctionCall)
    assert call.name == "read_file" and json.loads(call.arguments) == {"path": "a.py"}
    with pytest.raises(ValueError, match=r"script error.*offered no tools"):
        await client.create(msgs("You fix bugs.", "it fails"))


async def test_drives_an_assistant_agent_with_a_tool() -> None:
    client = ScriptedChatCompletionClient(RULES)
    agent = AssistantAgent(
        "debugger_agent",
        model_client=client,
        system_message="You fix bugs.",
        tools=[READ],
        reflect_on_tool_use=True,
    )
    result = await agent.run(task="the smoke test fails")
    kinds = [type(m) for m in result.messages]
    assert ToolCallRequestEvent in kinds and ToolCallExecutionEvent in kinds
    execution = next(m for m in result.messages if isinstance(m, ToolCallExecutionEvent))
    assert execution.content[0].content == "contents of a.py"  # the real tool ran
    assert result.messages[-1].content == "read it"
    assert len(client.requests) == 2
    assert client.requests[1][-1] == {
        "role": "tool",
        "tool_call_id": "call_1_0",
        "content": "contents of a.py",
    }


async def test_stream_yields_pieces_then_the_result() -> None:
    text = "a scripted reply long enough for several pieces"
    client = ScriptedChatCompletionClient(lambda m: ScriptedReply(content=text))
    items = [item async for item in client.create_stream(msgs("s", "u"))]
    *pieces, final = items
    assert isinstance(final, CreateResult) and final.content == text
    assert "".join(pieces) == text and len(pieces) == 3
    assert len(client.requests) == 1
    await client.close()
