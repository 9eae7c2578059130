"""Structured replies (``agents.base.ask_fresh``, the one validation-retry loop) through the real
client stack against the loopback server, in both output modes: validated replies, the single
fence clean-up, validation errors sent back to the model, ``ModelError`` once the retries are
spent, and one schema per request (the prompt shows exactly the schema the endpoint enforces).
Plus what AgentChat does on a JSON-mode-only endpoint when asked for ``output_content_type``
(why the agents switch it off there)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from autogen_agentchat.agents import AssistantAgent
from pydantic import BaseModel, ValidationError

import prompts
from agents.base import AgentOptions, ask_fresh, request_schema, schema_text
from paper2code.errors import ModelError
from paper2code.llm import make_client, strip_fences, validation_feedback
from paper2code.llm.structured import describe_errors
from paper2code.settings import ModelInfoSettings
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.transcript import ScriptedReply


class FileSpec(BaseModel):
    path: str
    lines: int


GOOD = '{"path": "model.py", "lines": 40}'
SYSTEM = "Answer in JSON with keys path and lines."
TASK = "Describe model.py."


async def ask_structured(
    client: Any, schema: type[BaseModel], *, validation_retries: int, json_schema_supported: bool
) -> tuple[Any, str]:
    options = AgentOptions(json_schema_supported, validation_retries)
    reply = await ask_fresh("analyst", client, options, system=SYSTEM, task=TASK, schema=schema)
    return reply.value, reply.raw


def queue(*replies: str) -> Any:
    pending = list(replies)

    def respond(messages: list[dict[str, Any]]) -> ScriptedReply:
        return ScriptedReply(content=pending.pop(0))

    return respond


def client_for(server: LoopbackServer, structured: bool) -> Any:
    info = ModelInfoSettings(structured_output=structured)
    return make_client(server.llm_settings(model_info=info), "analysis")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD, GOOD),
        (f"```json\n{GOOD}\n```", GOOD),
        (f"  ```\n{GOOD}\n```\n", GOOD),
        (f"```{GOOD}```", f"```{GOOD}```"),  # one line: not a fence block, left as it is
        (f"Here it is:\n```json\n{GOOD}\n```", f"Here it is:\n```json\n{GOOD}\n```"),
        ('{"code": "```py\\nx\\n```"}', '{"code": "```py\\nx\\n```"}'),  # fences inside stay
    ],
)
def test_strip_fences_is_one_deterministic_step(text: str, expected: str) -> None:
    assert strip_fences(text) == expected


def test_feedback_lists_the_errors_from_the_prompt_template() -> None:
    with pytest.raises(ValidationError) as err:
        FileSpec.model_validate_json('{"path": 3}')
    errors = describe_errors(err.value)
    assert errors.splitlines() == [
        "- path: Input should be a valid string",
        "- lines: Field required",
    ]
    text = validation_feedback(FileSpec, errors)
    assert text == prompts.render("validation_retry.md", schema_name="FileSpec", error=errors)
    assert "FileSpec" in text and "- lines: Field required" in text


@pytest.mark.parametrize("structured", [True, False])
async def test_valid_reply_in_both_modes(structured: bool) -> None:
    with LoopbackServer(queue(f"```json\n{GOOD}\n```" if not structured else GOOD)) as server:
        value, raw = await ask_structured(
            client_for(server, structured),
            FileSpec,
            validation_retries=2,
            json_schema_supported=structured,
        )
        assert value == FileSpec(path="model.py", lines=40)
        assert strip_fences(raw) == GOOD
        fmt = server.requests[0]["response_format"]
        if structured:
            assert fmt["type"] == "json_schema"
            assert fmt["json_schema"]["name"] == "FileSpec"
            assert set(fmt["json_schema"]["schema"]["properties"]) == {"path", "lines"}
        else:
            assert fmt == {"type": "json_object"}


async def test_invalid_reply_goes_back_with_the_errors() -> None:
    with LoopbackServer(queue('{"path": "model.py"}', GOOD)) as server:
        value, raw = await ask_structured(
            client_for(server, False),
            FileSpec,
            validation_retries=2,
            json_schema_supported=False,
        )
        assert value.lines == 40 and raw == GOOD
        assert len(server.requests) == 2
        retry = server.requests[1]["messages"]
        assert retry[:2] == server.requests[0]["messages"]
        assert retry[2] == {"role": "assistant", "content": '{"path": "model.py"}'}
        assert retry[3]["role"] == "user"
        assert "does not validate as FileSpec" in retry[3]["content"]
        assert "- lines: Field required" in retry[3]["content"]


async def test_reply_that_never_validates_is_a_model_error() -> None:
    with LoopbackServer(queue("I would rather not.", "{}", '{"path": 1, "lines": "x"}')) as server:
        with pytest.raises(ModelError, match="did not validate as FileSpec after 3 attempts"):
            await ask_structured(
                client_for(server, False),
                FileSpec,
                validation_retries=2,
                json_schema_supported=False,
            )
        assert len(server.requests) == 3
        last = server.requests[2]["messages"]
        assert [m["role"] for m in last] == [
            "system",
            "user",
            "assistant",
            "user",
            "assistant",
            "user",
        ]
        assert "Invalid JSON" in last[3]["content"]


async def test_endpoint_ignoring_the_schema_is_retried_with_the_errors() -> None:
    """With ``json_output=schema`` the openai client parses the reply itself and raises on a
    mismatch; the errors still go back to the model (its text cannot, the client keeps it)."""
    with LoopbackServer(queue('{"path": "model.py"}', GOOD)) as server:
        value, _ = await ask_structured(
            client_for(server, True),
            FileSpec,
            validation_retries=1,
            json_schema_supported=True,
        )
        assert value.lines == 40
        retry = server.requests[1]["messages"]
        assert [m["role"] for m in retry] == ["system", "user", "user"]
        assert "lines: Field required" in retry[2]["content"]


async def test_tool_calls_instead_of_json_are_a_model_error() -> None:
    def call_a_tool(messages: list[dict[str, Any]]) -> ScriptedReply:
        return ScriptedReply(tool_calls=[{"name": "read_file", "arguments": "{}"}])

    with LoopbackServer(call_a_tool) as server:
        with pytest.raises(ModelError, match="expected a FileSpec reply"):
            await ask_structured(
                client_for(server, False),
                FileSpec,
                validation_retries=2,
                json_schema_supported=False,
            )
        assert len(server.requests) == 1  # not retried: feedback would not change that


async def test_agentchat_output_content_type_needs_json_schema_support() -> None:
    """``AssistantAgent(output_content_type=...)`` asks the client for ``json_output=<schema>``;
    AutoGen's OpenAI client refuses that when ``structured_output`` is off, so on JSON-mode-only
    endpoints the agent must run without it and validate the text itself."""
    with LoopbackServer(queue(GOOD, GOOD)) as server:
        agent = AssistantAgent(
            "analyst", model_client=client_for(server, False), output_content_type=FileSpec
        )
        with pytest.raises(ValueError, match="does not support structured output"):
            await agent.run(task="Describe model.py in JSON.")
        assert server.requests == []
        plain = AssistantAgent("analyst", model_client=client_for(server, False))
        result = await plain.run(task="Describe model.py in JSON.")
        assert FileSpec.model_validate_json(strip_fences(str(result.messages[-1].content)))
        assert server.requests[0]["response_format"] == {"type": "json_object"}
        structured = AssistantAgent(
            "analyst", model_client=client_for(server, True), output_content_type=FileSpec
        )
        result = await structured.run(task="Describe model.py in JSON.")
        assert result.messages[-1].content == FileSpec(path="model.py", lines=40)
        assert json.loads(json.dumps(server.requests[1]["response_format"]))["type"] == (
            "json_schema"
        )


@pytest.mark.parametrize("structured", [True, False])
async def test_the_prompt_shows_exactly_the_schema_the_request_enforces(structured: bool) -> None:
    """One schema per request: what the model reads in the prompt is the schema sent as
    ``response_format`` (structured output), or the one the reply is validated against."""

    class Reply(BaseModel):
        path: str
        notes: list[str] = []  # a default: optional for pydantic, required in strict mode

    options = AgentOptions(structured)
    shown = schema_text(Reply, options)
    with LoopbackServer(queue('{"path": "a.py", "notes": []}')) as server:
        client = client_for(server, structured)
        await ask_fresh("analyst", client, options, system=SYSTEM, task=shown, schema=Reply)
        body = server.requests[0]
    assert body["messages"][-1]["content"] == shown
    if structured:
        sent = body["response_format"]["json_schema"]["schema"]
        assert json.loads(shown) == sent
        assert sent["required"] == ["path", "notes"] and sent["additionalProperties"] is False
    else:
        assert body["response_format"] == {"type": "json_object"}
        assert json.loads(shown) == Reply.model_json_schema() == request_schema(Reply, options)
