"""The one place model clients are built: an AutoGen ``OpenAIChatCompletionClient`` (or the
Azure one) per role, from settings, wrapped with an on-disk response cache and a recorder.

Two entry points:

- ``make_client(llm, role, cache_dir=…, recorder=…, budget=…)`` builds one client for the
  model of ``role`` (``planning``, ``analysis``, ``coding``, ``verifying``, ``debugging``,
  ``judging``);
- ``build_clients(settings, run_dir)`` returns a provider (role → client, one client per model,
  sharing the run's ``events.jsonl`` recorder and cost budget) and whether every pipeline role's
  model takes JSON-schema structured output.

Each client (a ``RecordingClient`` around AutoGen's):

- retries 429/5xx/timeouts (the openai client's own exponential back-off, ``max_retries``);
- turns what still fails, and a 200 whose body is not JSON, into ``ModelError`` with the endpoint
  and model named (``model_errors``);
- reserves the estimated cost of the call in the budget before making it (``BudgetExceeded``);
- records the call in ``events.jsonl`` (stage, agent, file from ``usage_context``), streamed calls
  included;
- asks for JSON mode when the endpoint has no JSON-schema output and the caller asked for
  neither tools nor a response format (what ``AssistantAgent`` without ``output_content_type``
  sends);
- counts tokens offline (AutoGen's ``count_tokens`` would download a tiktoken file), images at
  a flat estimate from their size (``paper2code.tokens.image_tokens``).

Unknown model names (vLLM, Ollama, llama.cpp) get ``LLMSettings.model_info`` or a conservative
default (JSON mode and tools, no JSON schema); AutoGen itself refuses them without one.
The response cache is AutoGen's ``ChatCompletionCache`` on a ``DiskCacheStore``. Its key covers
the messages (an image by its PNG bytes, as AutoGen serializes ``Image``), tools, response
format and extra arguments but not the model, so every
(endpoint, model) pair gets its own cache folder (``cache_namespace``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import openai
from autogen_core import CancellationToken, Image
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelCapabilities,  # type: ignore[attr-defined]
    ModelInfo,
    RequestUsage,
    UserMessage,
)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from paper2code.errors import ConfigError, ModelError
from paper2code.llm.prices import CostBudget, Price, price_for
from paper2code.llm.recorder import UsageRecorder, capture_call, install_event_capture
from paper2code.manifest import UsageSummary
from paper2code.settings import PIPELINE_ROLES, LLMSettings, Settings
from paper2code.tokens import count_tokens, image_tokens

EXPECTED_OUTPUT_TOKENS = 2_000
"""Completion size assumed when estimating a call's cost before it is made."""

DEFAULT_CONTEXT_TOKENS = 128_000
"""Context window assumed for models AutoGen has no token limit for (``remaining_tokens``)."""


def known_model_info(model: str) -> ModelInfo | None:
    """AutoGen's capabilities of ``model``, or None when AutoGen does not know the name."""
    from autogen_ext.models.openai._model_info import get_info

    try:
        return get_info(model)
    except (KeyError, ValueError):  # 0.7.5 raises ValueError("model_info is required …")
        return None


def model_info_for(llm: LLMSettings, model: str) -> ModelInfo | None:
    """``model_info`` to pass to AutoGen: the configured one, None for names AutoGen knows, or a
    conservative default (JSON mode and tools, no JSON schema) for unknown names."""
    if llm.model_info is not None:
        mi = llm.model_info
        return ModelInfo(
            vision=mi.vision,
            function_calling=mi.function_calling,
            json_output=mi.json_output,
            family=mi.family,
            structured_output=mi.structured_output,
        )
    if known_model_info(model) is not None:
        return None
    return ModelInfo(
        vision=False,
        function_calling=True,
        json_output=True,
        family="unknown",
        structured_output=False,
    )


def supports_structured_output(llm: LLMSettings, model: str) -> bool:
    info = model_info_for(llm, model) or known_model_info(model)
    return bool(info and info.get("structured_output"))


def supports_json_mode(llm: LLMSettings, model: str) -> bool:
    info = model_info_for(llm, model) or known_model_info(model)
    return bool(info and info.get("json_output"))


def accepts_images(client: ChatCompletionClient) -> bool:
    """The client's model takes images (its model info says ``vision``). Only then may a request
    carry any: AutoGen's OpenAI client refuses images for a model without vision, and
    ``AssistantAgent`` replaces them with ``<image>`` text before it gets there."""
    return bool(client.model_info.get("vision"))


def has_endpoint(llm: LLMSettings) -> bool:
    """An endpoint is configured: an API key (OpenAI, Azure) or a base URL (local servers)."""
    return llm.api_key is not None or llm.base_url is not None


def require_endpoint(llm: LLMSettings) -> None:
    """Raise ``ConfigError`` saying how to configure one when no endpoint is configured."""
    if not has_endpoint(llm):
        raise ConfigError(
            "no model endpoint configured: set OPENAI_API_KEY for OpenAI, or pass --base-url "
            "for an OpenAI-compatible server (vLLM, Ollama, llama.cpp). "
            "`make demo` runs the whole pipeline offline with scripted replies."
        )


def openai_client(llm: LLMSettings, model: str) -> ChatCompletionClient:
    """The AutoGen client for ``model`` on the configured endpoint (no cache, no recording)."""
    from autogen_ext.models.openai import (
        AzureOpenAIChatCompletionClient,
        OpenAIChatCompletionClient,
    )

    require_endpoint(llm)
    key = llm.api_key.get_secret_value() if llm.api_key else None
    kwargs: dict[str, Any] = {
        "model": model,
        "api_key": key or "not-needed",  # local servers ignore it; the openai client needs one
        "timeout": llm.timeout_s,
        "max_retries": llm.max_retries,
    }
    if llm.temperature is not None:
        kwargs["temperature"] = llm.temperature
    if llm.reasoning_effort is not None:
        kwargs["reasoning_effort"] = llm.reasoning_effort
    info = model_info_for(llm, model)
    if info is not None:
        kwargs["model_info"] = info
    if llm.api_type == "azure":
        if not llm.base_url:
            raise ConfigError("Azure OpenAI needs the resource endpoint: set --base-url")
        return AzureOpenAIChatCompletionClient(
            azure_endpoint=llm.base_url,
            azure_deployment=llm.azure_deployment or model,
            api_version=llm.azure_api_version,
            **kwargs,
        )
    if llm.base_url:
        kwargs["base_url"] = llm.base_url
    return OpenAIChatCompletionClient(**kwargs)


def cache_namespace(base_url: str | None, model: str) -> str:
    """AutoGen's cache key ignores the model name: one cache folder per endpoint and model.

    A readable prefix (for people browsing the folder) plus a hash of the exact pair, so two
    pairs that read the same once sanitized or shortened never share a folder."""
    raw = f"{base_url or 'openai'}--{model}"
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:12]
    return f"{re.sub(r'[^A-Za-z0-9._-]+', '_', raw)[:80]}-{digest}"


def cached(
    client: ChatCompletionClient, cache_dir: Path, base_url: str | None, model: str
) -> ChatCompletionClient:
    """Wrap ``client`` in AutoGen's ``ChatCompletionCache`` on disk (diskcache)."""
    import diskcache
    from autogen_ext.cache_store.diskcache import DiskCacheStore
    from autogen_ext.models.cache import ChatCompletionCache

    folder = cache_dir / cache_namespace(base_url, model)
    folder.mkdir(parents=True, exist_ok=True)
    store = DiskCacheStore[Any](diskcache.Cache(str(folder)))
    return ChatCompletionCache(client, store)


def _message_text(messages: Sequence[LLMMessage]) -> str:
    """The text of ``messages``; of a multimodal user message, its text parts (images are
    counted apart, :func:`_image_tokens`)."""
    parts = []
    for m in messages:
        content = getattr(m, "content", "")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(m, UserMessage):
            parts.extend(p for p in content if isinstance(p, str))
        else:
            parts.append(str(content))
    return "\n".join(parts)


def _image_tokens(messages: Sequence[LLMMessage]) -> int:
    """The images of ``messages`` at the flat estimate of ``paper2code.tokens.image_tokens``."""
    return sum(
        image_tokens(*part.image.size)
        for m in messages
        if isinstance(m, UserMessage) and not isinstance(m.content, str)
        for part in m.content
        if isinstance(part, Image)
    )


def prompt_tokens(messages: Sequence[LLMMessage], tools: Sequence[Tool | ToolSchema] = ()) -> int:
    """Prompt tokens of a request, counted offline: its text and tools with o200k, each image
    at the flat estimate of ``paper2code.tokens.image_tokens``."""
    text = count_tokens(_message_text(messages)) + count_tokens(_tools_text(tools))
    return text + _image_tokens(messages)


def _tools_text(tools: Sequence[Tool | ToolSchema]) -> str:
    schemas = [t.schema if isinstance(t, Tool) else t for t in tools]
    return json.dumps(schemas, sort_keys=True, default=str) if schemas else ""


@contextlib.contextmanager
def model_errors(model: str, base_url: str | None) -> Iterator[None]:
    """Translate what the openai client raises once it has given up into ``ModelError``.

    Content problems (a reply that does not validate) are not translated: the structured-output
    layer feeds them back to the model."""
    where = base_url or "api.openai.com"
    try:
        yield
    except openai.APITimeoutError as exc:
        raise ModelError(
            f"{model} at {where} timed out after retries; raise PAPER2CODE_LLM__TIMEOUT_S "
            f"or check the server"
        ) from exc
    except openai.APIConnectionError as exc:
        raise ModelError(f"cannot reach {where}: {exc}; is the server up?") from exc
    except openai.AuthenticationError as exc:
        raise ModelError(
            f"the endpoint refused the API key ({exc.status_code}); check OPENAI_API_KEY"
        ) from exc
    except openai.NotFoundError as exc:
        raise ModelError(f"model {model!r} not found at {where}: {exc}") from exc
    except openai.APIStatusError as exc:
        raise ModelError(
            f"{model}: the endpoint answered {exc.status_code} after retries: {exc}"
        ) from exc
    except openai.APIError as exc:
        raise ModelError(f"{model}: {type(exc).__name__}: {exc}") from exc
    except json.JSONDecodeError as exc:  # the openai client parses the body without wrapping
        raise ModelError(
            f"{model} at {where} answered with a body that is not JSON ({exc.msg}); is the base "
            f"URL an OpenAI-compatible /v1 endpoint, and did a proxy cut the reply?"
        ) from exc


class RecordingClient(ChatCompletionClient):
    """Budget check, error translation and usage recording around an AutoGen client."""

    def __init__(
        self,
        inner: ChatCompletionClient,
        *,
        model: str,
        base_url: str | None,
        price: Price,
        recorder: UsageRecorder,
        budget: CostBudget,
        json_mode: bool = False,
        expected_output_tokens: int = EXPECTED_OUTPUT_TOKENS,
    ) -> None:
        self.inner = inner
        self.model = model
        self.base_url = base_url
        self.price = price
        self.recorder = recorder
        self.budget = budget
        self.json_mode = json_mode
        self.expected_output_tokens = expected_output_tokens
        install_event_capture()

    def _json_output(
        self,
        json_output: bool | type[BaseModel] | None,
        tools: Sequence[Tool | ToolSchema],
        extra_create_args: Mapping[str, Any],
    ) -> bool | type[BaseModel] | None:
        if (
            json_output is None
            and self.json_mode
            and not tools
            and "response_format" not in extra_create_args
        ):
            return True  # JSON mode where the endpoint lacks JSON-schema output
        return json_output

    def estimate_usd(
        self, messages: Sequence[LLMMessage], tools: Sequence[Tool | ToolSchema] = ()
    ) -> float:
        """Cost of a call before it is made: the prompt counted offline (images at a flat
        estimate), the reply guessed."""
        return self.price.cost(prompt_tokens(messages, tools), self.expected_output_tokens)

    def _record(
        self, result: CreateResult, latency: float, slot: dict[str, Any], *, stream: bool = False
    ) -> None:
        hit = bool(getattr(result, "cached", False))
        prompt = int(result.usage.prompt_tokens)
        completion = int(result.usage.completion_tokens)
        cached_tokens = 0 if hit else int(slot.get("cached_tokens", 0))
        cost = 0.0 if hit else self.price.cost(prompt, completion, cached_tokens)
        self.budget.add(cost)
        extra = {"stream": True} if stream else {}
        self.recorder.record(
            model=self.model,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cached_tokens=cached_tokens,
            latency_s=round(latency, 3),
            cost_usd=round(cost, 6),
            priced=self.price.priced,
            local=self.price.local,
            cache_hit=hit,
            **extra,
        )

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
        json_output = self._json_output(json_output, tools, extra_create_args)
        with self.budget.hold(self.estimate_usd(messages, tools)):
            t0 = time.monotonic()
            with capture_call() as slot, model_errors(self.model, self.base_url):
                result = await self.inner.create(
                    messages,
                    tools=tools,
                    tool_choice=tool_choice,
                    json_output=json_output,
                    extra_create_args=extra_create_args,
                    cancellation_token=cancellation_token,
                )
            self._record(result, time.monotonic() - t0, slot)
        return result

    async def create_stream(  # type: ignore[override]
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
        **stream_options: Any,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream the reply; the final ``CreateResult`` is recorded like a ``create`` call
        (AutoGen's stream events carry no cached-token count, so it is 0 there).
        ``stream_options`` go to the inner client as they are (``include_usage=True`` …)."""
        json_output = self._json_output(json_output, tools, extra_create_args)
        with self.budget.hold(self.estimate_usd(messages, tools)):
            t0 = time.monotonic()
            with capture_call() as slot, model_errors(self.model, self.base_url):
                stream = self.inner.create_stream(
                    messages,
                    tools=tools,
                    tool_choice=tool_choice,
                    json_output=json_output,
                    extra_create_args=extra_create_args,
                    cancellation_token=cancellation_token,
                    **stream_options,
                )
                async for item in stream:
                    if isinstance(item, CreateResult):
                        self._record(item, time.monotonic() - t0, slot, stream=True)
                    yield item

    async def close(self) -> None:
        await self.inner.close()

    def actual_usage(self) -> RequestUsage:
        return self.inner.actual_usage()

    def total_usage(self) -> RequestUsage:
        return self.inner.total_usage()

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        """Prompt tokens of ``messages`` and ``tools``, counted offline (:func:`prompt_tokens`)."""
        return prompt_tokens(messages, tools)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        """Context tokens left: AutoGen's limit for models it knows, else
        ``DEFAULT_CONTEXT_TOKENS``."""
        from autogen_ext.models.openai._model_info import get_token_limit

        try:
            limit = get_token_limit(self.model)
        except KeyError:
            limit = DEFAULT_CONTEXT_TOKENS
        return limit - self.count_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> ModelCapabilities:  # type: ignore[override]
        return self.inner.capabilities

    @property
    def model_info(self) -> ModelInfo:
        return self.inner.model_info


ClientFactory = Callable[[LLMSettings, str], ChatCompletionClient]
"""Builds the bare client for (settings, model name); ``openai_client`` unless a test swaps it."""


def make_client(
    llm: LLMSettings,
    role: str,
    *,
    cache_dir: Path | None = None,
    recorder: UsageRecorder | None = None,
    budget: CostBudget | None = None,
    factory: ClientFactory = openai_client,
) -> RecordingClient:
    """The client for ``role``'s model: AutoGen's OpenAI (or Azure) client, behind the response
    cache in ``cache_dir/<endpoint+model>/`` when ``cache_dir`` is given and ``llm.cache`` is on,
    recording into ``recorder`` (an in-memory one when None) and reserving from ``budget``
    (unlimited when None).

    The API key is ``llm.api_key``: ``Settings`` fills it from ``$OPENAI_API_KEY``, a bare
    ``LLMSettings`` does not read the environment. Raises ``ConfigError`` when neither an API
    key nor a base URL is configured."""
    model = llm.model_for(role)
    inner = factory(llm, model)
    if cache_dir is not None and llm.cache:
        inner = cached(inner, cache_dir, llm.base_url, model)
    return RecordingClient(
        inner,
        model=model,
        base_url=llm.base_url,
        price=price_for(model, base_url=llm.base_url, overrides=llm.prices),
        recorder=recorder if recorder is not None else UsageRecorder(None),
        budget=budget if budget is not None else CostBudget(None),
        json_mode=not supports_structured_output(llm, model) and supports_json_mode(llm, model),
    )


class ModelClients(Protocol):
    """What the stages need from the client layer: a client per role, and the usage so far."""

    def __call__(self, role: str) -> ChatCompletionClient: ...

    def usage(self) -> UsageSummary:
        """Calls, tokens and cost per stage and overall, for ``run.json``."""
        ...


class Clients:
    """Role → client, one client per model, sharing one recorder and one cost budget across
    the run (``events.jsonl`` in ``run_dir``; its earlier lines count against the budget).
    Implements :class:`ModelClients`."""

    def __init__(
        self,
        settings: Settings,
        run_dir: Path,
        *,
        factory: ClientFactory | None = None,
    ) -> None:
        self.settings = settings
        self.recorder = UsageRecorder(Path(run_dir) / "events.jsonl")
        self.budget = CostBudget(settings.pipeline.max_cost_usd, spent_usd=self.recorder.total_cost)
        self.cache_dir = settings.llm.cache_dir or Path(run_dir) / "cache"
        self.factory = factory or openai_client
        self._clients: dict[str, RecordingClient] = {}

    def __call__(self, role: str) -> RecordingClient:
        llm = self.settings.llm
        model = llm.model_for(role)
        if model not in self._clients:
            self._clients[model] = make_client(
                llm,
                role,
                cache_dir=self.cache_dir,
                recorder=self.recorder,
                budget=self.budget,
                factory=self.factory,
            )
        return self._clients[model]

    def usage(self) -> UsageSummary:
        return self.recorder.summary()


def build_clients(settings: Settings, run_dir: Path) -> tuple[Clients, bool]:
    """The run's client provider and whether every pipeline role's model takes JSON-schema
    structured output (otherwise JSON mode plus our own validation is used)."""
    structured = all(
        supports_structured_output(settings.llm, settings.llm.model_for(r)) for r in PIPELINE_ROLES
    )
    return Clients(settings, run_dir), structured
