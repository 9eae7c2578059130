"""Role agents driven by the scripted client: the planner's four turns and their resume, and the
validation-error retry every structured reply gets."""

from __future__ import annotations

import json

import pytest

from agents.base import AgentOptions, SharedContext
from agents.coder import Coder, file_kind
from agents.planner import Planner, reconcile
from paper2code.errors import ModelError
from paper2code.schemas import ArchitectureDesign, CodedFile, FileLogic, LogicDesign, PlannedFile
from paper2code.testing.scripted_client import ScriptedChatCompletionClient
from paper2code.testing.transcript import ScriptedReply, Transcript

PAPER = "# A paper\n\n## 1 Method\n\nWe do things.\n"


@pytest.mark.parametrize("structured", [True, False])
async def test_planner_five_turns_over_one_conversation(structured: bool) -> None:
    client = ScriptedChatCompletionClient(Transcript.load(), structured_output=structured)
    saved: dict[str, str] = {}
    plan = await Planner(client, AgentOptions(structured)).plan(
        PAPER, on_turn=lambda name, value, raw: saved.__setitem__(name, raw)
    )
    order = list(saved)
    assert order[:2] == ["overall", "architecture"] and order[-1] == "config"
    assert set(order[2:4]) == {"logic", "requirements"}  # side by side after the architecture
    assert plan.logic.task_list == ["data.py", "model.py", "evaluate.py", "train.py", "main.py"]
    assert "smoke" in plan.config.config_yaml
    assert len(plan.requirements.requirements) == 24
    assert plan.requirements.of_file("main.py")[-1].id == "R23"
    # the configuration turn continues all four earlier turns, with the paper once
    last = client.requests[-1]
    assert "Turn 5 of 5" in last[-1]["content"]
    assert sum(m["role"] == "assistant" for m in last) == 4
    assert sum(PAPER.strip() in (m["content"] or "") for m in last) == 1
    # logic and requirements continue the same two turns: the same prefix, for the cache
    logic, ledger = (r for r in client.requests if len(r) == 6)
    assert logic[:5] == ledger[:5]


async def test_planner_resume_replays_saved_turns_without_calls() -> None:
    client = ScriptedChatCompletionClient(Transcript.load())
    saved: dict[str, str] = {}
    await Planner(client, AgentOptions(True)).plan(
        PAPER, on_turn=lambda n, v, raw: saved.__setitem__(n, raw)
    )
    first_requests = list(client.requests)
    resumed = ScriptedChatCompletionClient(Transcript.load())
    partial = {k: saved[k] for k in ("overall", "architecture")}
    await Planner(resumed, AgentOptions(True)).plan(PAPER, done=partial)
    assert len(resumed.requests) == 3  # only logic, requirements and config are asked
    # and the resumed conversations are byte-identical to the original ones (cache-friendly)
    key = lambda r: r[-1]["content"]  # noqa: E731
    assert sorted(resumed.requests, key=key) == sorted(first_requests[2:], key=key)


async def test_stale_saved_turn_is_asked_again() -> None:
    client = ScriptedChatCompletionClient(Transcript.load())
    await Planner(client, AgentOptions(True)).plan(PAPER, done={"overall": '{"not": "a plan"}'})
    assert len(client.requests) == 5


async def test_invalid_reply_goes_back_with_the_validation_error() -> None:
    replies = [
        ScriptedReply(content='{"path": "model.py"}'),  # content missing
        ScriptedReply(content='```json\n{"path": "model.py", "content": "x = 1"}\n```'),
    ]
    client = ScriptedChatCompletionClient(lambda messages: replies.pop(0), structured_output=False)
    reply = await Coder(client, AgentOptions(False)).write(
        SharedContext(PAPER, "plan", "a: 1"), "model.py"
    )
    assert reply.value == CodedFile(path="model.py", content="x = 1\n")
    assert reply.attempts == 2
    feedback = client.requests[1][-1]["content"]
    assert "does not validate as CodedFile" in feedback and "content" in feedback


async def test_reply_that_never_validates_is_a_model_error() -> None:
    client = ScriptedChatCompletionClient(
        lambda m: ScriptedReply(content="I cannot do that."), structured_output=False
    )
    with pytest.raises(ModelError, match="did not validate as CodedFile after 3 attempts"):
        await Coder(client, AgentOptions(False, validation_retries=2)).write(
            SharedContext(PAPER, "p", "a: 1"), "x.py"
        )
    assert len(client.requests) == 3


async def test_structured_mode_validation_failure_is_retried_too() -> None:
    replies = [
        ScriptedReply(content=json.dumps({"path": "a.py", "content": ""})),  # empty content
        ScriptedReply(content=json.dumps({"path": "a.py", "content": "print(1)"})),
    ]
    client = ScriptedChatCompletionClient(lambda m: replies.pop(0), structured_output=True)
    reply = await Coder(client, AgentOptions(True)).write(SharedContext(PAPER, "p", "a: 1"), "a.py")
    assert reply.value.content == "print(1)\n" and reply.attempts == 2


def test_reconcile_task_list_with_architecture() -> None:
    arch = ArchitectureDesign(
        implementation_approach="x",
        files=[
            PlannedFile(path="main.py", purpose="entry"),
            PlannedFile(path="model.py", purpose="m"),
        ],
        class_diagram="classDiagram",
        sequence_diagram="sequenceDiagram",
    )
    logic = LogicDesign(
        required_packages=["numpy"],
        logic_analysis=[
            FileLogic(path="extra.py", description="d"),
            FileLogic(path="main.py", description="e", depends_on=["extra.py"]),
        ],
        task_list=["extra.py", "main.py"],
        shared_knowledge="",
    )
    fixed = reconcile(arch, logic)
    assert fixed.task_list == ["main.py", "model.py"]
    assert {fl.path for fl in fixed.logic_analysis} == {"main.py", "model.py"}
    assert fixed.logic_analysis[0].depends_on == []


def test_file_kinds_pick_prompt_variants() -> None:
    assert file_kind("src/model.py") == "python"
    assert file_kind("tests/test_smoke.py") == "smoke_test"
    # a planned test file is coded from its own design, not given the smoke-test instructions
    assert file_kind("tests/test_iforest.py") == "python"
    assert file_kind("reproduce.sh") == "shell"
    assert file_kind("README.md") == "readme"
    assert file_kind("configs/base.yaml") == "other"


async def test_logic_and_requirements_turns_run_side_by_side() -> None:
    """The logic design and the requirements ledger are asked at the same time: each request
    waits at a barrier for the other (asked one after the other, the barrier would break)."""
    import threading

    from paper2code.llm import make_client
    from paper2code.settings import ModelInfoSettings
    from paper2code.testing.loopback_server import LoopbackServer

    transcript = Transcript.load()
    both_in_flight = threading.Barrier(2, timeout=20)
    met: list[str] = []

    def respond(messages: list[dict]) -> ScriptedReply:
        task = messages[-1].get("content") or ""
        turn = next((t for t in ("logic", "requirements") if _turn_of(task) == t), None)
        if turn is not None:
            both_in_flight.wait()  # BrokenBarrierError (a failed request) if asked in turn
            met.append(turn)
        return transcript.respond(messages)

    with LoopbackServer(respond) as server:
        info = ModelInfoSettings(structured_output=True)
        client = make_client(server.llm_settings(model_info=info), "planning")
        await Planner(client, AgentOptions(True)).plan(PAPER)
    assert len(server.requests) == 5
    assert sorted(met) == ["logic", "requirements"]


def _turn_of(task: str) -> str | None:
    """Which planning turn a request's last message asks for, from its first line."""
    first = task.splitlines()[0] if task else ""
    for marker, turn in (("— logic design", "logic"), ("— requirements ledger", "requirements")):
        if marker in first:
            return turn
    return None
