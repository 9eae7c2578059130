"""Printed equation images for a planning model that accepts images: the first planning turn's
multimodal message and its replay in later and resumed turns, the cap and missing files, what
the cache key, the token estimates and both test doubles make of images, and the request body
the real OpenAI client sends to the loopback server for a PDF typeset by LaTeX."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from autogen_core import Image
from autogen_core.models import SystemMessage, UserMessage
from PIL import Image as PILImage
from PIL import ImageDraw

from agents.base import AgentOptions
from agents.planner import EquationImage, Planner, with_images
from paper2code.demo_run import demo_settings
from paper2code.equation_images import load_equation_images
from paper2code.llm import CostBudget, Price, RecordingClient, UsageRecorder, build_clients
from paper2code.llm.client import cached
from paper2code.pipeline import Pipeline
from paper2code.progress import SilentReporter
from paper2code.report import write_report
from paper2code.schemas import Equation, Paper, Section
from paper2code.settings import ModelInfoSettings
from paper2code.testing.loopback_server import LoopbackServer, common_prefix, prompt_tokens_of
from paper2code.testing.scripted_client import ScriptedChatCompletionClient
from paper2code.testing.transcript import ScriptedReply, Transcript
from paper2code.tokens import IMAGE_BASE_TOKENS, image_data_tokens, image_tokens

PAPER = "# A paper\n\n## 1 Method\n\nWe do things.\n"


def drawing(width: int = 300, height: int = 40, mark: int = 10) -> PILImage.Image:
    """A white strip with a black bar at ``mark`` pixels (different marks, different bytes)."""
    pil = PILImage.new("L", (width, height), 255)
    ImageDraw.Draw(pil).rectangle([mark, 5, mark + 20, height - 5], fill=0)
    return pil


def equation(number: str | None, mark: int = 10) -> EquationImage:
    return EquationImage(
        number=number,
        section_number="3.2",
        section_heading="Attention",
        image=Image.from_pil(drawing(mark=mark)),
    )


def image_parts(message: dict) -> list[dict]:
    content = message["content"]
    return [p for p in content if p["type"] == "image_url"] if isinstance(content, list) else []


# ----------------------------------------------------------------- the first message


def test_without_images_the_first_message_is_the_text() -> None:
    assert with_images("TASK", []) == "TASK"


def test_each_image_follows_its_label() -> None:
    eqs = [equation("3"), equation(None, mark=50)]
    content = with_images("TASK", eqs, total=5)
    assert content[0] == "TASK"
    intro, label3, image3, label_none, image_none = content[1:]
    assert "(the first 2 of 5)" in intro
    assert label3.startswith('Equation (3), in section 3.2 "Attention"')
    assert label_none.startswith("An unnumbered equation, in section 3.2")
    assert image3 is eqs[0].image and image_none is eqs[1].image
    assert "the first" not in with_images("TASK", eqs, total=2)[1]


async def test_planner_sends_images_first_and_replays_them_in_every_turn() -> None:
    client = ScriptedChatCompletionClient(Transcript.load(), vision=True)
    await Planner(client, AgentOptions(True)).plan(PAPER, images=[equation("1"), equation("2")])
    assert len(client.requests) == 5
    first = client.requests[0][1]  # after the system message
    texts = [p["text"] for p in first["content"] if p["type"] == "text"]
    assert PAPER.strip() in texts[0] and "Turn 1 of 5" in texts[0]
    assert any(t.startswith("Equation (2)") for t in texts)
    urls = [p["image_url"]["url"] for p in image_parts(first)]
    assert len(urls) == 2 and all(u.startswith("data:image/png;base64,") for u in urls)
    # every later turn opens with the same multimodal message: one prefix for the cache
    assert all(r[1] == first for r in client.requests)
    assert all(len(image_parts(m)) == 0 for r in client.requests for m in r[2:])


async def test_resumed_planning_rebuilds_the_same_multimodal_history(tmp_path: Path) -> None:
    for k in (1, 2):
        drawing(mark=10 * k).save(tmp_path / f"eq-{k}.png")

    def loaded() -> list[EquationImage]:  # as a new process reads them from the paper folder
        return [
            EquationImage(str(k), "3", "Model", Image.from_file(tmp_path / f"eq-{k}.png"))
            for k in (1, 2)
        ]

    client = ScriptedChatCompletionClient(Transcript.load(), vision=True)
    saved: dict[str, str] = {}
    await Planner(client, AgentOptions(True)).plan(
        PAPER, images=loaded(), on_turn=lambda n, v, raw: saved.__setitem__(n, raw)
    )
    resumed = ScriptedChatCompletionClient(Transcript.load(), vision=True)
    partial = {k: saved[k] for k in ("overall", "architecture")}
    await Planner(resumed, AgentOptions(True)).plan(PAPER, images=loaded(), done=partial)
    assert len(resumed.requests) == 3
    key = lambda r: r[-1]["content"]  # noqa: E731
    assert sorted(resumed.requests, key=key) == sorted(client.requests[2:], key=key)


async def test_without_vision_the_planner_sends_text_only() -> None:
    client = ScriptedChatCompletionClient(Transcript.load())
    await Planner(client, AgentOptions(True)).plan(PAPER, images=[equation("1")])
    assert isinstance(client.requests[0][1]["content"], str)
    assert "image_url" not in json.dumps(client.requests)


async def test_scripted_client_refuses_images_without_vision() -> None:
    client = ScriptedChatCompletionClient(Transcript.load())
    message = UserMessage(content=["look", equation("1").image], source="user")
    with pytest.raises(ValueError, match="does not support vision"):
        await client.create([message])


# ----------------------------------------------------------------- from the paper folder


def test_images_are_capped_in_reading_order_and_missing_ones_named(tmp_path: Path) -> None:
    folder = tmp_path / "paper"
    (folder / "equations").mkdir(parents=True)
    for k in (1, 2, 4, 5):
        drawing(mark=10 * k).save(folder / "equations" / f"eq-00{k}.png")
    (folder / "equations" / "eq-006.png").write_bytes(b"not a png")
    drawing().save(tmp_path / "outside.png")
    records = [
        Equation(latex=f"x_{k}", number=str(k), image=f"equations/eq-00{k}.png")
        for k in range(1, 7)
    ]
    paper = Paper(
        title="T",
        sections=[
            Section(number="1", heading="Intro", equation_records=records[:2]),
            Section(
                number="2",
                heading="Method",
                equation_records=[
                    *records[2:],
                    Equation(latex="y", image="../outside.png"),
                    Equation(latex="z"),  # read from LaTeX: no image
                ],
            ),
        ],
    )
    got = load_equation_images(paper, folder, limit=3)
    assert [(e.number, e.section_number) for e in got.images] == [
        ("1", "1"),
        ("2", "1"),
        ("4", "2"),
    ]
    assert got.total == 4 and got.capped
    assert [m.split(":")[0] for m in got.missing] == [
        "equations/eq-003.png",
        "equations/eq-006.png",
        "../outside.png",
    ]
    assert "not a readable image" in got.missing[1]
    assert not load_equation_images(paper, folder, limit=30).capped


# ----------------------------------------------------------------- cache key and token counts


def echo(messages: list[dict]) -> ScriptedReply:
    return ScriptedReply(content="seen")


def ask(mark: int) -> list:
    return [
        SystemMessage(content="You look."),
        UserMessage(content=["What is this?", Image.from_pil(drawing(mark=mark))], source="user"),
    ]


async def test_cache_key_changes_with_the_image_bytes(tmp_path: Path) -> None:
    inner = ScriptedChatCompletionClient(echo, vision=True)
    client = cached(inner, tmp_path, None, "vision-model")
    assert (await client.create(ask(10))).cached is False
    assert (await client.create(ask(10))).cached is True
    assert (await client.create(ask(60))).cached is False  # same text, other pixels
    assert len(inner.requests) == 2


def test_image_tokens_follow_the_tile_rule() -> None:
    assert image_tokens(300, 40) == 85 + 170  # one 512-pixel tile
    assert image_tokens(1000, 100) == 85 + 2 * 170
    assert image_tokens(4096, 4096) == 85 + 4 * 170  # → 2048², then 768²: 2 × 2 tiles
    assert image_tokens(0, 10) == IMAGE_BASE_TOKENS
    assert image_data_tokens(b"not an image") == IMAGE_BASE_TOKENS


def test_prompt_estimates_count_an_image_at_its_flat_rate() -> None:
    inner = ScriptedChatCompletionClient(echo, vision=True)
    client = RecordingClient(
        inner,
        model="m",
        base_url=None,
        price=Price(1.0, 1.0, 1.0),
        recorder=UsageRecorder(None),
        budget=CostBudget(None),
    )
    with_image = ask(10)
    text_only = [with_image[0], UserMessage(content=["What is this?"], source="user")]
    assert client.count_tokens(with_image) - client.count_tokens(text_only) == 255
    assert client.estimate_usd(with_image) - client.estimate_usd(text_only) == pytest.approx(
        255 / 1e6
    )
    # the scripted client counts the image the same way, never its base64 bytes
    assert inner.count_tokens(with_image) - inner.count_tokens(text_only) < 255 + 20


def test_loopback_counts_images_flat_and_serves_their_prefix_from_cache() -> None:
    def request(pil: PILImage.Image) -> list[dict]:
        part = Image.from_pil(pil).to_openai_format()
        return [{"role": "user", "content": [{"type": "text", "text": "Look:"}, part]}]

    small, wide = request(drawing(300, 40)), request(drawing(1000, 100))
    assert len(prompt_tokens_of(wide)) - len(prompt_tokens_of(small)) == 170
    again, other = request(drawing(300, 40)), request(drawing(300, 40, mark=100))
    assert common_prefix(prompt_tokens_of(small), prompt_tokens_of(again)) == len(
        prompt_tokens_of(small)
    )
    assert common_prefix(prompt_tokens_of(small), prompt_tokens_of(other)) < 20


# ----------------------------------------------------------------- through the real client


@pytest.mark.tex
@pytest.mark.parametrize("vision", [True, False])
async def test_planning_requests_carry_equation_pngs_only_for_a_vision_model(
    typeset, tmp_path: Path, vision: bool
) -> None:
    _, pdf = typeset("conference")
    out = tmp_path / "run"
    with LoopbackServer(Transcript.load()) as server:
        settings = demo_settings(server.base_url)
        settings.llm.model_info = ModelInfoSettings(structured_output=True, vision=vision)
        settings.sandbox.kind = "none"  # type: ignore[assignment]
        settings.pipeline.max_equation_images = 10
        clients, structured = build_clients(settings, out)
        pipeline = Pipeline(
            settings, out, clients=clients, reporter=SilentReporter(), structured_output=structured
        )
        outcome = await pipeline.run(pdf, stages=["ingest", "plan"])
    assert outcome.status == "done"
    assert len(list((out / "paper" / "equations").glob("eq-*.png"))) == 16
    manifest = json.loads((out / "run.json").read_text())
    bodies = server.requests
    assert len(bodies) == 5  # the planning turns
    if not vision:
        assert "image_url" not in json.dumps(bodies)
        assert manifest["equation_images"] == 0
        return
    first = bodies[0]["messages"][1]
    parts = image_parts(first)
    assert len(parts) == 10
    for part in parts:
        url = part["image_url"]["url"]
        assert url.startswith("data:image/png;base64,")
        assert base64.b64decode(url.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    labels = [p["text"] for p in first["content"] if p["type"] == "text"]
    assert any(t.startswith("Equation (1), in section") for t in labels)
    assert all(b["messages"][1] == first for b in bodies)  # replayed as history, unchanged
    assert manifest["equation_images"] == 10
    assert any("shown 10 of 16 equation images" in w for w in manifest["warnings"])
    assert "10 printed equation image(s)" in write_report(out).read_text()
