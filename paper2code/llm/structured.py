"""Structured replies straight from a model client: ask for a pydantic model, validate, and
send a reply that does not validate back to the model with the validation error.

``ask_structured(client, messages, schema, validation_retries=…, json_schema_supported=…)``
returns ``(value, raw)``: the validated model and the raw text it came from (keep both on disk).

- With ``json_schema_supported`` the request carries the schema (``json_output=schema``: AutoGen
  sends ``response_format={"type": "json_schema", …}`` and the openai client parses the reply).
- Without it the request asks for JSON mode (``response_format={"type": "json_object"}``) when
  the model has it, and the reply is validated here with ``schema.model_validate_json``. The
  messages must then show the schema themselves (e.g. a prompt template with ``schema_text``);
  OpenAI's JSON mode also wants the word "JSON" somewhere in them.

Before validation, one deterministic clean-up is applied: ``strip_fences`` removes a single
Markdown code fence around the whole reply. Nothing else is repaired: a reply that still does not
validate goes back to the model (the reply as an assistant turn, then the errors rendered from
``prompts/validation_retry.md``), at most ``validation_retries`` times; then ``ModelError``.

The same helpers (``strip_fences``, ``describe_errors``, ``validation_feedback``) serve the
AgentChat agents, which retry at the agent level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from autogen_core.models import AssistantMessage, ChatCompletionClient, LLMMessage, UserMessage
from pydantic import BaseModel, ValidationError

import prompts
from paper2code.errors import ModelError

T = TypeVar("T", bound=BaseModel)

MAX_ERRORS_SHOWN = 8
"""Validation errors listed in the feedback to the model; the rest are counted."""


def strip_fences(text: str) -> str:
    """Remove one Markdown code fence around the whole reply (```` ```json … ``` ````).

    The only clean-up applied before validation: if the stripped text starts and ends with
    three backticks and spans more than one line, the first line (the opening fence and its
    language tag) and the closing backticks go. Fences inside the reply are left alone."""
    s = text.strip()
    if s.startswith("```") and s.endswith("```") and "\n" in s:
        s = s[s.index("\n") + 1 : -3]
    return s.strip()


def describe_errors(exc: ValidationError, limit: int = MAX_ERRORS_SHOWN) -> str:
    """The validation errors as ``location: message`` lines, at most ``limit`` of them."""
    lines = []
    for err in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
        lines.append(f"- {loc}: {err.get('msg', '')}")
    more = exc.error_count() - limit
    if more > 0:
        lines.append(f"- … and {more} more")
    return "\n".join(lines)


def validation_feedback(schema: type[BaseModel], error: str) -> str:
    """The user message that sends a reply's validation errors back to the model."""
    return prompts.render("validation_retry.md", schema_name=schema.__name__, error=error)


def parse_reply(raw: str, schema: type[T]) -> T:
    """``raw`` validated as ``schema`` after ``strip_fences``; raises ``ValidationError``."""
    return schema.model_validate_json(strip_fences(raw))


async def ask_structured(
    client: ChatCompletionClient,
    messages: Sequence[LLMMessage],
    schema: type[T],
    *,
    validation_retries: int = 2,
    json_schema_supported: bool,
) -> tuple[T, str]:
    """Ask ``client`` for a ``schema`` reply; see the module docstring. Raises ``ModelError``
    when no reply validates after ``validation_retries`` feedback rounds, or when the model
    answers with tool calls instead of text."""
    if json_schema_supported:
        json_output: bool | type[BaseModel] | None = schema
    else:
        json_output = True if client.model_info.get("json_output") else None
    history = list(messages)
    error = ""
    for _attempt in range(validation_retries + 1):
        raw: str | None = None
        try:
            result = await client.create(history, json_output=json_output)
        except ValidationError as exc:
            # The endpoint ignored the schema and the openai client's own parser rejected the
            # reply; its text is not returned, so only the errors go back.
            error = describe_errors(exc)
        else:
            if not isinstance(result.content, str):
                raise ModelError(
                    f"expected a {schema.__name__} JSON reply, the model called tools instead"
                )
            raw = result.content
            try:
                return parse_reply(raw, schema), raw
            except ValidationError as exc:
                error = describe_errors(exc)
        if raw is not None:
            history.append(AssistantMessage(content=raw, source="assistant"))
        history.append(UserMessage(content=validation_feedback(schema, error), source="user"))
    raise ModelError(
        f"the model's reply did not validate as {schema.__name__} after "
        f"{validation_retries + 1} attempts: {'; '.join(error.splitlines())}"
    )
