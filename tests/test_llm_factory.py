"""``make_client``: the real AutoGen clients (OpenAI and Azure) built from settings and exercised
against the loopback server: model per role, key and options on the wire, model info for names
AutoGen does not know, error translation, the per-model response cache, offline token counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from autogen_core.models import SystemMessage, UserMessage
from autogen_core.tools import FunctionTool
from autogen_ext.models.openai import AzureOpenAIChatCompletionClient, OpenAIChatCompletionClient
from pydantic import SecretStr

from paper2code.errors import ConfigError, ModelError
from paper2code.llm import UsageRecorder, make_client
from paper2code.llm.client import DEFAULT_CONTEXT_TOKENS, cache_namespace
from paper2code.settings import LLMSettings, ModelInfoSettings
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.transcript import ScriptedReply

MESSAGES = [
    SystemMessage(content="Reply in JSON."),
    UserMessage(content="Give me a number.", source="user"),
]


def reply(messages: list[dict[str, Any]]) -> ScriptedReply:
    return ScriptedReply(content=json.dumps({"n": len(messages)}))


@pytest.fixture
def server():
    with LoopbackServer(reply) as s:
        yield s


def test_autogen_alone_refuses_unknown_model_names() -> None:
    """Why ``model_info`` matters: without it AutoGen cannot build a client for a local name."""
    with pytest.raises(ValueError, match="model_info is required"):
        OpenAIChatCompletionClient(model="qwen2.5-coder:14b", api_key="x")


async def test_unknown_model_gets_conservative_model_info(server: LoopbackServer) -> None:
    llm = server.llm_settings(model="qwen2.5-coder:14b", model_info=None)
    client = make_client(llm, "coding")
    assert isinstance(client.inner, OpenAIChatCompletionClient)
    info = client.model_info
    assert info["structured_output"] is False and info["json_output"] is True
    assert info["function_calling"] is True
    result = await client.create(MESSAGES)
    assert json.loads(result.content) == {"n": 2}
    request = server.requests[-1]
    assert request["model"] == "qwen2.5-coder:14b"
    assert request["response_format"] == {"type": "json_object"}  # JSON mode, no schema


async def test_configured_model_info_is_used(server: LoopbackServer) -> None:
    llm = server.llm_settings(
        model="my-vllm-model",
        model_info=ModelInfoSettings(structured_output=True, function_calling=False),
    )
    client = make_client(llm, "planning")
    assert client.model_info["function_calling"] is False
    await client.create(MESSAGES)
    assert "response_format" not in server.requests[-1]  # structured: nothing forced


async def test_model_per_role_and_options_only_when_set(server: LoopbackServer) -> None:
    llm = server.llm_settings(coding_model="coder-model", api_key=SecretStr("sk-test"))
    await make_client(llm, "coding").create(MESSAGES)
    await make_client(llm, "planning").create(MESSAGES)
    coding, planning = server.requests
    assert coding["model"] == "coder-model" and planning["model"] == "loopback-model"
    assert "temperature" not in coding and "reasoning_effort" not in coding
    assert server.headers[0]["authorization"] == "Bearer sk-test"
    llm = server.llm_settings(temperature=0.2, reasoning_effort="low")
    await make_client(llm, "coding").create(MESSAGES)
    assert server.requests[-1]["temperature"] == 0.2
    assert server.requests[-1]["reasoning_effort"] == "low"
    with pytest.raises(ValueError, match="unknown role"):
        make_client(llm, "writing")


async def test_azure_client_against_the_loopback_server(server: LoopbackServer) -> None:
    llm = server.llm_settings(
        api_type="azure",
        base_url=server.base_url.removesuffix("/v1"),
        azure_deployment="my-deployment",
        api_key=SecretStr("azure-key"),
    )
    client = make_client(llm, "planning")
    assert isinstance(client.inner, AzureOpenAIChatCompletionClient)
    assert json.loads((await client.create(MESSAGES)).content) == {"n": 2}
    assert server.calls["POST /openai/deployments/my-deployment/chat/completions"] == 1
    assert server.headers[-1]["api-key"] == "azure-key"
    with pytest.raises(ConfigError, match="Azure OpenAI needs the resource endpoint"):
        make_client(LLMSettings(api_type="azure", api_key=SecretStr("k")), "planning")


def test_no_key_and_no_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as err:
        make_client(LLMSettings(), "planning")
    message = str(err.value)
    assert "OPENAI_API_KEY" in message and "--base-url" in message and "make demo" in message
    # a key alone (api.openai.com) or a base URL alone (a local server) is enough to build one
    assert make_client(LLMSettings(api_key=SecretStr("sk-x")), "planning").base_url is None
    local = make_client(LLMSettings(base_url="http://localhost:11434/v1"), "planning")
    assert local.price.priced and local.price.cost(10**6, 10**6) == 0


@pytest.mark.parametrize("fault", ["malformed", "truncated"])
async def test_unreadable_body_is_a_model_error(server: LoopbackServer, fault: str) -> None:
    server.inject(fault)
    client = make_client(server.llm_settings(max_retries=0), "planning")
    with pytest.raises(ModelError, match="body that is not JSON"):
        await client.create(MESSAGES)
    assert json.loads((await client.create(MESSAGES)).content) == {"n": 2}


async def test_not_found_and_auth_errors_say_what_to_check(server: LoopbackServer) -> None:
    client = make_client(server.llm_settings(base_url=server.base_url + "/nope"), "planning")
    with pytest.raises(ModelError, match="not found at"):
        await client.create(MESSAGES)


async def test_cache_is_keyed_by_model_and_endpoint(server: LoopbackServer, tmp_path: Path) -> None:
    recorder = UsageRecorder(tmp_path / "events.jsonl")
    llm = server.llm_settings(cache=True, prices={"loopback-model": (1.0, 0.5, 2.0)})
    first = await make_client(llm, "planning", cache_dir=tmp_path, recorder=recorder).create(
        MESSAGES
    )
    again = await make_client(llm, "planning", cache_dir=tmp_path, recorder=recorder).create(
        MESSAGES
    )
    assert again.cached is True and again.content == first.content
    assert len(server.requests) == 1
    hit = recorder.events[-1]
    assert hit["cache_hit"] is True and hit["cost_usd"] == 0.0 and hit["cached_tokens"] == 0
    assert recorder.events[0]["cost_usd"] > 0
    # the same request to another model on the same endpoint goes to the server
    other_model = llm.model_copy(update={"model": "other-model"})
    await make_client(other_model, "planning", cache_dir=tmp_path, recorder=recorder).create(
        MESSAGES
    )
    assert len(server.requests) == 2 and server.requests[-1]["model"] == "other-model"
    # and so does the same model on another endpoint
    with LoopbackServer(reply) as second:
        elsewhere = llm.model_copy(update={"base_url": second.base_url})
        await make_client(elsewhere, "planning", cache_dir=tmp_path).create(MESSAGES)
        assert len(second.requests) == 1
    # cache off: no folder used, every call goes out
    off = llm.model_copy(update={"cache": False})
    await make_client(off, "planning", cache_dir=tmp_path).create(MESSAGES)
    assert len(server.requests) == 3
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 3


def test_cache_namespace_never_merges_distinct_pairs() -> None:
    a = cache_namespace("http://host/v1", "m:1")
    b = cache_namespace("http://host/v1", "m_1")  # identical once sanitized
    long_a = cache_namespace("http://" + "x" * 100 + "/a", "m")
    long_b = cache_namespace("http://" + "x" * 100 + "/b", "m")  # identical once shortened
    assert len({a, b, long_a, long_b}) == 4
    assert a.startswith("http_host_v1--m_1-") and all(len(n) <= 93 for n in (long_a, long_b))
    assert cache_namespace(None, "gpt-4.1") == cache_namespace(None, "gpt-4.1")


def test_token_counts_are_offline_for_any_model() -> None:
    llm = LLMSettings(base_url="http://127.0.0.1:9/v1", model="qwen2.5-coder:14b")
    client = make_client(llm, "coding")
    n = client.count_tokens(MESSAGES)
    assert n > 5

    def read_file(path: str) -> str:
        return path

    tool = FunctionTool(read_file, description="Read a file.")
    assert client.count_tokens(MESSAGES, tools=[tool]) > n
    assert client.remaining_tokens(MESSAGES) == DEFAULT_CONTEXT_TOKENS - n
    known = make_client(llm.model_copy(update={"model": "gpt-4.1-mini"}), "coding")
    assert known.remaining_tokens(MESSAGES) > DEFAULT_CONTEXT_TOKENS  # AutoGen's 1M limit
