"""``paper2code demo``: the shipped sample paper, the scripted transcript served by the loopback
OpenAI-compatible server, and settings pointing the real client stack at it."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from paper2code.settings import MODEL_ROLES, ModelInfoSettings, Settings
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.transcript import Transcript

DEMO_MODEL = "demo-scripted"

DEMO_NOTE = (
    "Demo run: every model reply was scripted (paper2code/demo/transcript.yaml) and served "
    "by a loopback OpenAI-compatible test server. No model was called."
)
"""Said in run.json and the report of every demo run."""


def demo_paper(target: Path) -> Path:
    """Copy the sample paper (Markdown, written for this project) to ``target``."""
    source = resources.files("paper2code.demo").joinpath("paper.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    with resources.as_file(source) as path:
        shutil.copyfile(path, target)
    return target


@contextlib.contextmanager
def serve_transcript(transcript: Transcript | None = None) -> Iterator[LoopbackServer]:
    """The loopback server answering from the demo transcript, for the duration of the block."""
    with LoopbackServer(transcript or Transcript.load(), model=DEMO_MODEL) as server:
        yield server


def demo_settings(base_url: str) -> Settings:
    """Settings for the real AutoGen/openai client stack against the loopback server."""
    settings = Settings()
    settings.llm.base_url = base_url
    settings.llm.model = DEMO_MODEL
    for role in MODEL_ROLES:
        setattr(settings.llm, f"{role}_model", None)
    settings.llm.api_key = None
    settings.llm.model_info = ModelInfoSettings(
        json_output=True, structured_output=True, function_calling=True
    )
    settings.llm.max_retries = 2
    settings.llm.timeout_s = 60
    settings.llm.cache = False  # the demo shows every call; a rerun should call again
    return settings
