"""The client layer end to end: AutoGen's OpenAIChatCompletionClient (built by our factory)
against the loopback OpenAI-compatible server, with faults, caching and usage recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from autogen_core.models import SystemMessage, UserMessage
from pydantic import BaseModel

from paper2code.errors import BudgetExceeded, ConfigError, ModelError
from paper2code.llm import build_clients, price_for
from paper2code.llm.client import cache_namespace, model_info_for
from paper2code.llm.prices import CostBudget
from paper2code.settings import ModelInfoSettings, Settings
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.transcript import ScriptedReply


class Answer(BaseModel):
    answer: str
    confidence: float


def echo(messages: list[dict]) -> ScriptedReply:
    last = messages[-1]["content"]
    return ScriptedReply(content=json.dumps({"answer": f"re: {last[:20]}", "confidence": 0.5}))


@pytest.fixture
def server():
    with LoopbackServer(echo, timeout_sleep_s=2.0) as s:
        yield s


def settings_for(server: LoopbackServer, **llm) -> Settings:
    s = Settings()
    s.llm.base_url = server.base_url
    s.llm.model = llm.pop("model", "loopback-model")
    s.llm.api_key = None
    s.llm.max_retries = llm.pop("max_retries", 3)
    s.llm.timeout_s = llm.pop("timeout_s", 10)
    s.llm.model_info = ModelInfoSettings(structured_output=llm.pop("structured", True))
    for k, v in llm.items():
        setattr(s.llm, k, v)
    return s


MESSAGES = [
    SystemMessage(content="You answer."),
    UserMessage(content="What is 2+2?", source="user"),
]


async def test_structured_reply_and_usage_recorded(server: LoopbackServer, tmp_path: Path) -> None:
    settings = settings_for(server, prices={"loopback-model": (1.0, 0.5, 2.0)})
    clients, structured = build_clients(settings, tmp_path)
    assert structured is True
    client = clients("planning")
    from paper2code.llm import usage_context

    with usage_context(stage="plan", agent="planner"):
        first = await client.create(MESSAGES, json_output=Answer)
        second = await client.create(
            [*MESSAGES, UserMessage(content="again", source="user")], json_output=Answer
        )
    assert Answer.model_validate_json(first.content).confidence == 0.5
    assert second.usage.prompt_tokens > first.usage.prompt_tokens
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [e["stage"] for e in events] == ["plan", "plan"]
    assert events[0]["cached_tokens"] == 0
    assert events[1]["cached_tokens"] > 0  # the second prompt repeats the first one's prefix
    expected = (
        (events[1]["prompt_tokens"] - events[1]["cached_tokens"]) * 1.0
        + events[1]["cached_tokens"] * 0.5
        + events[1]["completion_tokens"] * 2.0
    ) / 1e6
    assert events[1]["cost_usd"] == pytest.approx(expected, abs=1e-6)
    summary = clients.recorder.summary().model_dump()
    assert summary["stages"]["plan"]["calls"] == 2
    assert summary["total"]["cached_tokens"] == events[1]["cached_tokens"]
    # JSON-schema structured output was requested from the endpoint
    assert server.requests[0]["response_format"]["type"] == "json_schema"


async def test_json_mode_when_endpoint_lacks_json_schema(
    server: LoopbackServer, tmp_path: Path
) -> None:
    clients, structured = build_clients(settings_for(server, structured=False), tmp_path)
    assert structured is False
    result = await clients("coding").create(MESSAGES)
    assert json.loads(result.content)["answer"].startswith("re:")
    assert server.requests[0]["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize("fault", ["429", "500"])
async def test_transient_faults_are_retried(
    server: LoopbackServer, tmp_path: Path, fault: str
) -> None:
    server.inject(fault, fault)
    clients, _ = build_clients(settings_for(server), tmp_path)
    result = await clients("planning").create(MESSAGES)
    assert "re:" in result.content
    assert server.faults_served == [fault, fault]
    assert len(server.requests) == 3


async def test_timeout_is_a_model_error(server: LoopbackServer, tmp_path: Path) -> None:
    server.inject("timeout")
    clients, _ = build_clients(settings_for(server, timeout_s=0.5, max_retries=0), tmp_path)
    with pytest.raises(ModelError, match="timed out"):
        await clients("planning").create(MESSAGES)


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_unreadable_reply_is_a_model_error(
    server: LoopbackServer, tmp_path: Path, fault: str
) -> None:
    server.inject(fault)
    clients, _ = build_clients(settings_for(server, max_retries=0), tmp_path)
    with pytest.raises((ModelError, json.JSONDecodeError, ValueError)):
        await clients("planning").create(MESSAGES)
    # and the next call works: nothing is left broken
    assert "re:" in (await clients("planning").create(MESSAGES)).content


async def test_dead_endpoint_is_a_model_error(tmp_path: Path) -> None:
    s = Settings()
    s.llm.base_url = "http://127.0.0.1:9/v1"
    s.llm.model = "loopback-model"
    s.llm.max_retries = 0
    s.llm.timeout_s = 2
    s.llm.model_info = ModelInfoSettings()
    clients, _ = build_clients(s, tmp_path)
    with pytest.raises(ModelError, match="cannot reach"):
        await clients("planning").create(MESSAGES)


async def test_response_cache_makes_identical_rerun_free(
    server: LoopbackServer, tmp_path: Path
) -> None:
    settings = settings_for(server, cache=True, prices={"loopback-model": (1.0, 0.5, 2.0)})
    clients, _ = build_clients(settings, tmp_path)
    await clients("planning").create(MESSAGES)
    clients2, _ = build_clients(settings, tmp_path)  # a new process, same run directory
    again = await clients2("planning").create(MESSAGES)
    assert again.cached is True
    assert len(server.requests) == 1
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert events[-1]["cache_hit"] is True and events[-1]["cost_usd"] == 0.0
    # the same request to another model is not served from that cache
    other = settings_for(server, cache=True, model="other-model")
    clients3, _ = build_clients(other, tmp_path)
    await clients3("planning").create(MESSAGES)
    assert len(server.requests) == 2
    assert cache_namespace(server.base_url, "a") != cache_namespace(server.base_url, "b")


async def test_cost_budget_stops_before_the_call(server: LoopbackServer, tmp_path: Path) -> None:
    settings = settings_for(server, prices={"loopback-model": (1000.0, 1000.0, 1000.0)})
    settings.pipeline.max_cost_usd = 0.01
    clients, _ = build_clients(settings, tmp_path)
    with pytest.raises(BudgetExceeded, match="--max-cost"):
        await clients("planning").create(MESSAGES)
    assert server.requests == []


def test_budget_counts_what_was_spent() -> None:
    b = CostBudget(1.0, spent_usd=0.9)
    b.check(0.05)
    b.add(0.05)
    with pytest.raises(BudgetExceeded):
        b.check(0.1)
    CostBudget(None).check(1e9)


def test_prices() -> None:
    assert price_for("gpt-4.1-mini").input == 0.40
    assert price_for("gpt-4.1-mini-2025-04-14").output == 1.60  # dated snapshot
    assert price_for("gpt-4.1-2025-04-14").input == 2.00
    assert (
        price_for("qwen2.5-coder:14b", base_url="http://localhost:11434/v1").cost(10**6, 10**6) == 0
    )
    unknown = price_for("mystery-model", base_url="https://example.invalid/v1")
    assert unknown.priced is False and unknown.cost(1000, 1000) == 0
    assert price_for("x", overrides={"x": (1.0, 0.1, 2.0)}).cost(
        10**6, 10**6, 10**6
    ) == pytest.approx(2.1)


def test_model_info_for_known_and_unknown_models() -> None:
    s = Settings()
    assert model_info_for(s.llm, "gpt-4.1-mini") is None  # AutoGen knows it
    info = model_info_for(s.llm, "qwen2.5-coder:14b")
    assert info is not None and info["structured_output"] is False and info["json_output"] is True


def test_no_endpoint_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    clients, _ = build_clients(Settings(), tmp_path)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        clients("planning")
