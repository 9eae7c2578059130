"""Reach the model endpoint once before any work: a wrong URL, a refused key or an unknown
model is reported in about a second, in one line, instead of after ingestion and retries.

The check lists the endpoint's models (``GET /models``: OpenAI, Azure OpenAI, vLLM, Ollama and
llama.cpp's server all answer it) with a short timeout and no retries, and, where the list names
models, checks that every model the run will use is among them. An endpoint that does not
implement the listing (404/405) passes: nothing more can be checked without paying for a call.
``PAPER2CODE_LLM__PREFLIGHT=false`` skips the check for endpoints that answer it wrongly.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai

from paper2code.errors import ModelError
from paper2code.settings import LLMSettings

__all__ = ["preflight"]


def _client(llm: LLMSettings) -> openai.OpenAI:
    key = llm.api_key.get_secret_value() if llm.api_key else "not-needed"
    timeout = openai.Timeout(llm.preflight_timeout_s, connect=llm.preflight_timeout_s)
    if llm.api_type == "azure":
        return openai.AzureOpenAI(
            azure_endpoint=llm.base_url or "",
            api_key=key,
            api_version=llm.azure_api_version,
            timeout=timeout,
            max_retries=0,
        )
    return openai.OpenAI(base_url=llm.base_url, api_key=key, timeout=timeout, max_retries=0)


def preflight(llm: LLMSettings, roles: Sequence[str]) -> None:
    """Raise ``ModelError`` (one line, what to do) when the endpoint cannot serve the models of
    ``roles``; return quietly when it can, or when the check is switched off."""
    if not llm.preflight:
        return
    where = llm.base_url or "api.openai.com"
    skip = "(PAPER2CODE_LLM__PREFLIGHT=false skips this check)"
    try:
        listed = [m.id for m in _client(llm).models.list()]
    except openai.APITimeoutError as exc:
        raise ModelError(
            f"{where} did not answer within {llm.preflight_timeout_s:g} s; is the server up? {skip}"
        ) from exc
    except openai.APIConnectionError as exc:
        raise ModelError(
            f"cannot reach {where} ({exc.__cause__ or exc}); is the server up and the URL right?"
        ) from exc
    except openai.AuthenticationError as exc:
        raise ModelError(
            f"{where} refused the API key ({exc.status_code}); check OPENAI_API_KEY"
        ) from exc
    except openai.PermissionDeniedError as exc:
        raise ModelError(f"{where} denied access ({exc.status_code}): {exc.message}") from exc
    except openai.APIStatusError as exc:
        if exc.status_code in (404, 405, 501):
            return  # no model listing here: nothing more to check without a paid call
        raise ModelError(
            f"{where} answered {exc.status_code} to a model listing: {exc.message} {skip}"
        ) from exc
    models = sorted({llm.model_for(r) for r in roles})
    unknown = [m for m in models if listed and m not in listed and llm.api_type != "azure"]
    if unknown:
        shown = ", ".join(listed[:8]) + (", …" if len(listed) > 8 else "")
        raise ModelError(
            f"{where} does not serve model {', '.join(unknown)}; it lists: {shown}. "
            "Pass --model with one of those (or set the role's model)."
        )
