"""Usage recording and cost: attribution through ``usage_context`` (also across concurrent
tasks), the events.jsonl lines and their atomic appends, totals per stage, resume, streamed
calls, prices and the cost budget with calls in flight."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from autogen_core.models import CreateResult, SystemMessage, UserMessage

from paper2code.errors import BudgetExceeded, ModelError
from paper2code.llm import CostBudget, UsageRecorder, make_client, price_for, usage_context
from paper2code.llm.prices import PRICES
from paper2code.llm.recorder import append_line, current_context
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.transcript import ScriptedReply

SYSTEM = SystemMessage(content="You write one file of a repository. " * 20)
PRICE = {"loopback-model": (2.0, 0.5, 8.0)}


def reply(messages: list[dict[str, Any]]) -> ScriptedReply:
    return ScriptedReply(content=f"contents for {messages[-1]['content']}")


def ask(text: str) -> list[Any]:
    return [SYSTEM, UserMessage(content=text, source="user")]


@pytest.fixture
def server():
    with LoopbackServer(reply) as s:
        yield s


def events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_usage_context_nests_and_resets() -> None:
    assert current_context() == {}
    with usage_context(stage="code", agent="coder"):
        with usage_context(file="model.py"):
            assert current_context() == {"stage": "code", "agent": "coder", "file": "model.py"}
        with usage_context(agent="debugger"):
            assert current_context() == {"stage": "code", "agent": "debugger"}
        assert current_context() == {"stage": "code", "agent": "coder"}
    assert current_context() == {}


async def test_concurrent_calls_are_attributed_to_their_own_file(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.ttft_s = 0.05  # keep the calls overlapping
    recorder = UsageRecorder(tmp_path / "events.jsonl")
    client = make_client(server.llm_settings(prices=PRICE), "coding", recorder=recorder)

    async def write(path: str) -> str:
        with usage_context(file=path):
            result = await client.create(ask(path))
            return str(result.content)

    with usage_context(stage="code", agent="coder"):
        contents = await asyncio.gather(*(write(f"f{i}.py") for i in range(6)))
    assert contents == [f"contents for f{i}.py" for i in range(6)]
    lines = events(tmp_path / "events.jsonl")
    assert sorted(e["file"] for e in lines) == [f"f{i}.py" for i in range(6)]
    for e in lines:
        assert e["stage"] == "code" and e["agent"] == "coder" and e["model"] == "loopback-model"
        assert e["prompt_tokens"] > 100 and e["completion_tokens"] > 0
        assert e["latency_s"] >= 0.05 and e["cache_hit"] is False and e["priced"] is True
        expected = (
            (e["prompt_tokens"] - e["cached_tokens"]) * 2.0
            + e["cached_tokens"] * 0.5
            + e["completion_tokens"] * 8.0
        ) / 1e6
        assert e["cost_usd"] == pytest.approx(expected, abs=1e-6)
        assert isinstance(e["ts"], float)
    # all six share the long system message: every call but the first gets a cached prefix
    # (which one is first depends on the server's thread scheduling)
    assert sum(e["cached_tokens"] > 100 for e in lines) >= 5


async def test_summary_per_stage_and_resume(server: LoopbackServer, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    recorder = UsageRecorder(path)
    priced = make_client(server.llm_settings(prices=PRICE), "planning", recorder=recorder)
    with usage_context(stage="plan", agent="planner"):
        await priced.create(ask("overall"))
        await priced.create(ask("architecture"))
    with usage_context(stage="debug", agent="debugger"):  # a model with no known price
        recorder.record(model="mystery", prompt_tokens=10, completion_tokens=5, priced=False)
    summary = recorder.summary().model_dump()
    assert summary["stages"]["plan"]["calls"] == 2 and summary["stages"]["debug"]["calls"] == 1
    assert summary["total"]["calls"] == 3
    assert summary["total"]["prompt_tokens"] == sum(e["prompt_tokens"] for e in events(path))
    assert summary["stages"]["debug"]["prompt_tokens"] == 10
    assert summary["total"]["cost_usd"] == pytest.approx(summary["stages"]["plan"]["cost_usd"])
    assert summary["stages"]["debug"]["cost_usd"] == 0.0
    assert summary["unpriced_models"] == ["mystery"]
    # a crash cut the last line: a resumed run keeps the rest, and its totals include them
    with path.open("a") as fh:
        fh.write('{"stage": "code", "prompt_to')
    resumed = UsageRecorder(path)
    assert resumed.summary().model_dump()["total"] == summary["total"]
    assert resumed.total_cost == pytest.approx(summary["total"]["cost_usd"])


def test_lines_are_appended_whole_under_concurrent_writers(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    big = "x" * 50_000  # far above any stdio buffer: one write() per line still

    def writer(n: int) -> None:
        for i in range(25):
            append_line(path, json.dumps({"writer": n, "i": i, "pad": big}))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 100
    assert sorted((e["writer"], e["i"]) for e in lines) == [
        (n, i) for n in range(4) for i in range(25)
    ]


async def test_streamed_calls_are_recorded(server: LoopbackServer) -> None:
    recorder = UsageRecorder(None)
    client = make_client(server.llm_settings(prices=PRICE), "coding", recorder=recorder)
    pieces, final = [], None
    with usage_context(stage="code", agent="coder"):
        async for item in client.create_stream(ask("streamed.py"), include_usage=True):
            if isinstance(item, CreateResult):
                final = item
            else:
                pieces.append(item)
    assert final is not None and "".join(pieces) == final.content == "contents for streamed.py"
    assert server.requests[-1]["stream"] is True
    [event] = recorder.events
    assert event["stream"] is True and event["stage"] == "code"
    assert event["prompt_tokens"] == final.usage.prompt_tokens > 0
    assert event["cost_usd"] > 0


async def test_failed_call_records_nothing_and_releases_its_reservation(
    server: LoopbackServer,
) -> None:
    server.inject("500")
    recorder = UsageRecorder(None)
    budget = CostBudget(1.0)
    llm = server.llm_settings(prices=PRICE, max_retries=0)
    client = make_client(llm, "coding", recorder=recorder, budget=budget)
    with pytest.raises(ModelError, match="answered 500"):
        await client.create(ask("x"))
    assert recorder.events == [] and budget.in_flight_usd == 0.0 and budget.spent_usd == 0.0
    await client.create(ask("x"))
    assert recorder.events[0]["cost_usd"] > 0
    assert budget.spent_usd == pytest.approx(recorder.events[0]["cost_usd"])


async def test_budget_counts_calls_in_flight(server: LoopbackServer) -> None:
    server.ttft_s = 0.2
    llm = server.llm_settings(prices=PRICE)
    probe = make_client(llm, "coding")
    estimate = probe.estimate_usd(ask("f0.py"))
    assert estimate == pytest.approx(
        price_for("loopback-model", overrides=PRICE).cost(probe.count_tokens(ask("f0.py")), 2_000),
        rel=0.05,
    )
    budget = CostBudget(estimate * 2.5)  # room for two calls' estimates, not three
    client = make_client(llm, "coding", budget=budget)
    results = await asyncio.gather(
        *(client.create(ask(f"f{i}.py")) for i in range(3)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert len(refused) == 1 and "in flight" in str(refused[0])
    assert len(server.requests) == 2
    assert budget.in_flight_usd == 0.0 and 0 < budget.spent_usd < estimate * 2


def test_prices_table_and_local_endpoints() -> None:
    for model in ("gpt-4.1", "gpt-4.1-mini", "gpt-4o", "o3", "o4-mini", "gpt-5", "gpt-5-mini"):
        p = price_for(model)
        assert p.priced and 0 < p.cached_input <= p.input < p.output
    assert set(PRICES) >= {"gpt-4.1-nano", "gpt-4o-mini", "o3-mini"}
    assert price_for("gpt-5-mini-2025-08-07") == price_for("gpt-5-mini")
    # a local server costs nothing, whatever its model is called; an override still applies
    assert price_for("gpt-4.1", base_url="http://127.0.0.1:8000/v1").cost(10**6, 10**6) == 0
    assert price_for("gpt-4.1", base_url="http://localhost:8000/v1").priced is True
    assert price_for("m", base_url="http://[::1]:8000/v1").cost(10**6, 10**6) == 0
    assert price_for("m", base_url="http://127.0.1.1:8000/v1").priced is True
    assert price_for("m", base_url="https://api.example.com/v1").priced is False
    assert price_for(
        "gpt-4.1", base_url="http://localhost:4000", overrides={"gpt-4.1": (1.0, 0.1, 2.0)}
    ).cost(10**6, 0) == pytest.approx(1.0)
    # cached tokens are billed at the cached rate
    p = price_for("gpt-4.1")
    assert p.cost(1_000_000, 0, cached_tokens=1_000_000) == pytest.approx(0.50)
    assert p.cost(1_000_000, 0, cached_tokens=250_000) == pytest.approx(1.5 + 0.125)
