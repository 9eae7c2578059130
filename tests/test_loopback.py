"""The loopback OpenAI-compatible server on its own: routes, usage with prefix-cached tokens,
tool calls, streaming, latency, fault injection and counters, seen over plain HTTP and through
the real ``openai`` client."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import openai
import pytest

from paper2code.testing.loopback_server import LoopbackServer, prompt_tokens_of
from paper2code.testing.transcript import ScriptedReply


def answer(messages: list[dict[str, Any]]) -> ScriptedReply:
    last = messages[-1]["content"]
    if last == "use a tool":
        return ScriptedReply(tool_calls=[{"name": "read_file", "arguments": '{"path": "a.py"}'}])
    return ScriptedReply(content=f"You said: {last}")


def post(server: LoopbackServer, body: dict[str, Any], timeout: float = 5.0) -> Any:
    req = urllib.request.Request(
        server.base_url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    return urllib.request.urlopen(req, timeout=timeout)


def chat(*texts: str) -> dict[str, Any]:
    return {
        "model": "loopback-model",
        "messages": [{"role": "system", "content": "Be brief."}]
        + [{"role": "user", "content": t} for t in texts],
    }


@pytest.fixture
def server():
    with LoopbackServer(answer, timeout_sleep_s=1.0) as s:
        yield s


def test_models_route_and_per_path_counters(server: LoopbackServer) -> None:
    with urllib.request.urlopen(server.base_url + "/models", timeout=5) as resp:
        data = json.loads(resp.read())
    assert [m["id"] for m in data["data"]] == ["loopback-model"]
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.base_url + "/nothing", timeout=5)
    assert err.value.code == 404
    post(server, chat("hi")).read()
    assert server.calls == {
        "GET /v1/models": 1,
        "GET /v1/nothing": 1,
        "POST /v1/chat/completions": 1,
    }


def test_usage_counts_prefix_shared_with_earlier_requests(server: LoopbackServer) -> None:
    first = json.loads(post(server, chat("a long question about gradient descent")).read())
    assert first["choices"][0]["message"]["content"] == (
        "You said: a long question about gradient descent"
    )
    usage = first["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    sent = chat("a long question about gradient descent")["messages"]
    assert usage["prompt_tokens"] == len(prompt_tokens_of(sent)) > 10
    # the same request again: all of it is a cached prefix
    again = json.loads(post(server, chat("a long question about gradient descent")).read())
    assert again["usage"]["prompt_tokens_details"]["cached_tokens"] == usage["prompt_tokens"]
    # a longer conversation starting with the first one: its system message at least is cached
    longer = json.loads(
        post(server, chat("a long question about gradient descent", "and more")).read()
    )
    cached = longer["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert 0 < cached <= usage["prompt_tokens"] < longer["usage"]["prompt_tokens"]
    # a different system message shares only the role marker
    other = chat("a long question about gradient descent")
    other["messages"][0]["content"] = "Answer at length."
    fresh = json.loads(post(server, other).read())
    assert fresh["usage"]["prompt_tokens_details"]["cached_tokens"] < cached // 2
    assert server.answered == 4
    assert (
        server.cached_tokens_total
        == usage["prompt_tokens"]
        + cached
        + (fresh["usage"]["prompt_tokens_details"]["cached_tokens"])
    )


def test_tool_call_reply(server: LoopbackServer) -> None:
    data = json.loads(post(server, chat("use a tool")).read())
    choice = data["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["function"] == {"name": "read_file", "arguments": '{"path": "a.py"}'}


def test_faults_are_served_in_order(server: LoopbackServer) -> None:
    server.inject("429", "500", "malformed", "truncated")
    with pytest.raises(urllib.error.HTTPError) as err:
        post(server, chat("1"))
    assert err.value.code == 429 and err.value.headers["Retry-After"] == "0"
    with pytest.raises(urllib.error.HTTPError) as err:
        post(server, chat("2"))
    assert err.value.code == 500
    body = post(server, chat("3")).read()
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    body = post(server, chat("4")).read()
    assert body.startswith(b'{"id"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert json.loads(post(server, chat("5")).read())["choices"][0]["message"]["content"]
    assert server.faults_served == ["429", "500", "malformed", "truncated"]
    assert len(server.requests) == 5
    with pytest.raises(ValueError, match="unknown fault"):
        server.inject("503")


def test_timeout_fault_outlasts_the_client(server: LoopbackServer) -> None:
    server.inject("timeout")
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        post(server, chat("slow"), timeout=0.3).read()
    assert time.monotonic() - t0 < 2.5  # the client gave up; the fault sleeps 3 s
    # the server is not stuck: the next request is answered while the slow one still sleeps
    assert json.loads(post(server, chat("next")).read())["choices"][0]["message"]["content"]


def test_no_matching_rule_is_a_400() -> None:
    def refuse(messages: list[dict[str, Any]]) -> ScriptedReply:
        from paper2code.testing.transcript import NoRuleMatched

        raise NoRuleMatched("nothing scripted for this")

    with LoopbackServer(refuse) as server:
        with pytest.raises(urllib.error.HTTPError) as err:
            post(server, chat("?"))
        assert err.value.code == 400
        assert "nothing scripted" in json.loads(err.value.read())["error"]["message"]


def test_simulated_latency() -> None:
    with LoopbackServer(answer, ttft_s=0.2) as server:
        t0 = time.monotonic()
        post(server, chat("hi")).read()
        assert time.monotonic() - t0 >= 0.2
    with LoopbackServer(answer, tokens_per_s=50) as server:
        t0 = time.monotonic()
        data = json.loads(post(server, chat("x " * 20)).read())
        expected = data["usage"]["completion_tokens"] / 50
        assert time.monotonic() - t0 >= expected > 0.2


async def test_streaming_through_the_openai_client(server: LoopbackServer) -> None:
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="x", max_retries=0, timeout=5)
    text = "a reply long enough to be cut into several streamed pieces"
    stream = await client.chat.completions.create(
        model="loopback-model",
        messages=[{"role": "user", "content": text}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage, finish = [], None, None
    async for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    await client.close()
    assert "".join(pieces) == f"You said: {text}"
    assert len([p for p in pieces if p]) > 3
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert server.answered == 1


def test_azure_style_route_with_query(server: LoopbackServer) -> None:
    url = server.base_url.removesuffix("/v1")
    req = urllib.request.Request(
        url + "/openai/deployments/dep/chat/completions?api-version=2024-10-21",
        data=json.dumps(chat("hi")).encode(),
        headers={"Content-Type": "application/json", "api-key": "k"},
    )
    data = json.loads(urllib.request.urlopen(req, timeout=5).read())
    assert data["choices"][0]["message"]["content"] == "You said: hi"
    assert server.headers[-1]["api-key"] == "k"
    assert server.calls["POST /openai/deployments/dep/chat/completions"] == 1
