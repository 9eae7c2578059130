"""The one place model clients are built: an AutoGen ``OpenAIChatCompletionClient`` (or the
Azure one) per role, from settings, wrapped with an on-disk response cache and a recorder.

``build_clients(settings, run_dir)`` returns a provider (role → client) and whether the
endpoint takes JSON-schema structured output. Each client:

- retries 429/5xx/timeouts (the openai client's own exponential back-off, ``max_retries``);
- turns what still fails into ``ModelError`` with the endpoint and model named;
- checks the cost budget before each call (``BudgetExceeded``);
- records the call in ``events.jsonl`` (stage, agent, file from ``usage_context``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import openai
from autogen_core import CancellationToken
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelCapabilities,  # type: ignore[attr-defined]
    ModelInfo,
    RequestUsage,
)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from paper2code.errors import ConfigError, ModelError
from paper2code.llm.prices import CostBudget, Price, price_for
from paper2code.llm.recorder import UsageRecorder, capture_call, install_event_capture
from paper2code.settings import LLMSettings, Settings
from paper2code.tokens import count_tokens

EXPECTED_OUTPUT_TOKENS = 2_000
"""Completion size assumed when estimating a call's cost before it is made."""

PIPELINE_ROLES = ("planning", "analysis", "coding", "debugging")


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


def openai_client(llm: LLMSettings, model: str) -> ChatCompletionClient:
    """The AutoGen client for ``model`` on the configured endpoint (no cache, no recording)."""
    from autogen_ext.models.openai import (
        AzureOpenAIChatCompletionClient,
        OpenAIChatCompletionClient,
    )

    key = llm.api_key.get_secret_value() if llm.api_key else None
    if key is None and llm.base_url is None:
        raise ConfigError(
            "no model endpoint configured: set OPENAI_API_KEY for OpenAI, or pass --base-url "
            "for an OpenAI-compatible server (vLLM, Ollama, llama.cpp). "
            "`make demo` runs the whole pipeline offline with scripted replies."
        )
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
    """AutoGen's cache key ignores the model name: one cache folder per endpoint and model."""
    raw = f"{base_url or 'openai'}--{model}"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", raw)[:120]


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
    parts = []
    for m in messages:
        content = getattr(m, "content", "")
        parts.append(content if isinstance(content, str) else str(content))
    return "\n".join(parts)


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
    ) -> None:
        self.inner = inner
        self.model = model
        self.base_url = base_url
        self.price = price
        self.recorder = recorder
        self.budget = budget
        self.json_mode = json_mode
        install_event_capture()

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
        if json_output is None and self.json_mode and not tools:
            json_output = True  # JSON mode where the endpoint lacks JSON-schema output
        estimate = self.price.cost(count_tokens(_message_text(messages)), EXPECTED_OUTPUT_TOKENS)
        self.budget.check(estimate)
        t0 = time.monotonic()
        with capture_call() as slot:
            try:
                result = await self.inner.create(
                    messages,
                    tools=tools,
                    tool_choice=tool_choice,
                    json_output=json_output,
                    extra_create_args=extra_create_args,
                    cancellation_token=cancellation_token,
                )
            except openai.APITimeoutError as exc:
                raise ModelError(
                    f"{self.model} at {self.base_url or 'api.openai.com'} timed out after "
                    f"retries; raise PAPER2CODE_LLM__TIMEOUT_S or check the server"
                ) from exc
            except openai.APIConnectionError as exc:
                raise ModelError(
                    f"cannot reach {self.base_url or 'api.openai.com'}: {exc}; is the server up?"
                ) from exc
            except openai.AuthenticationError as exc:
                raise ModelError(
                    f"the endpoint refused the API key ({exc.status_code}); check OPENAI_API_KEY"
                ) from exc
            except openai.NotFoundError as exc:
                raise ModelError(
                    f"model {self.model!r} not found at {self.base_url or 'api.openai.com'}: {exc}"
                ) from exc
            except openai.APIStatusError as exc:
                raise ModelError(
                    f"{self.model}: the endpoint answered {exc.status_code} after retries: {exc}"
                ) from exc
            except openai.APIError as exc:
                raise ModelError(f"{self.model}: {type(exc).__name__}: {exc}") from exc
        latency = time.monotonic() - t0
        hit = bool(getattr(result, "cached", False))
        prompt = int(result.usage.prompt_tokens)
        completion = int(result.usage.completion_tokens)
        cached_tokens = 0 if hit else int(slot.get("cached_tokens", 0))
        cost = 0.0 if hit else self.price.cost(prompt, completion, cached_tokens)
        self.budget.add(cost)
        self.recorder.record(
            model=self.model,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cached_tokens=cached_tokens,
            latency_s=round(latency, 3),
            cost_usd=round(cost, 6),
            priced=self.price.priced,
            cache_hit=hit,
        )
        return result

    def create_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.create_stream(*args, **kwargs)

    async def close(self) -> None:
        await self.inner.close()

    def actual_usage(self) -> RequestUsage:
        return self.inner.actual_usage()

    def total_usage(self) -> RequestUsage:
        return self.inner.total_usage()

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        return self.inner.count_tokens(messages, tools=tools)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        return self.inner.remaining_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> ModelCapabilities:  # type: ignore[override]
        return self.inner.capabilities

    @property
    def model_info(self) -> ModelInfo:
        return self.inner.model_info


class Clients:
    """Role → client, sharing one recorder and one cost budget across the run."""

    def __init__(
        self,
        settings: Settings,
        run_dir: Path,
        *,
        factory: Any = None,
    ) -> None:
        self.settings = settings
        self.recorder = UsageRecorder(Path(run_dir) / "events.jsonl")
        self.budget = CostBudget(settings.pipeline.max_cost_usd, spent_usd=self.recorder.total_cost)
        self.cache_dir = settings.llm.cache_dir or Path(run_dir) / "cache"
        self.factory = factory or openai_client
        self._clients: dict[str, ChatCompletionClient] = {}

    def __call__(self, role: str) -> ChatCompletionClient:
        llm = self.settings.llm
        model = llm.model_for(role)
        if model not in self._clients:
            inner = self.factory(llm, model)
            if llm.cache:
                inner = cached(inner, self.cache_dir, llm.base_url, model)
            self._clients[model] = RecordingClient(
                inner,
                model=model,
                base_url=llm.base_url,
                price=price_for(model, base_url=llm.base_url, overrides=llm.prices),
                recorder=self.recorder,
                budget=self.budget,
                json_mode=not supports_structured_output(llm, model)
                and supports_json_mode(llm, model),
            )
        return self._clients[model]


def build_clients(settings: Settings, run_dir: Path) -> tuple[Clients, bool]:
    """The run's client provider and whether every pipeline role's model takes JSON-schema
    structured output (otherwise JSON mode plus our own validation is used)."""
    structured = all(
        supports_structured_output(settings.llm, settings.llm.model_for(r)) for r in PIPELINE_ROLES
    )
    return Clients(settings, run_dir), structured
