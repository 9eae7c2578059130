"""What a structured reply goes through before it is used: one deterministic clean-up
(``strip_fences``), validation against its pydantic model (``parse_reply``), and, when it does not
validate, the errors written for the model (``describe_errors``, ``validation_feedback``).

The retry loop itself is ``agents.base.ask``: a reply that does not validate goes back to the
same conversation with the feedback rendered from ``prompts/validation_retry.md``. Nothing else
is repaired.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

import prompts

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
