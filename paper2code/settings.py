"""All settings of paper2code in one pydantic model, documented per field.

Values come from, in increasing priority: defaults here, environment variables
(``PAPER2CODE_<FIELD>``, nested with ``__``, e.g. ``PAPER2CODE_SANDBOX__LIMITS__MEMORY_MB``),
and CLI options. The API key is read from ``OPENAI_API_KEY`` (or ``PAPER2CODE_API_KEY``) and is
never written to disk.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from sandbox.settings import SandboxSettings

STAGES: tuple[str, ...] = ("ingest", "plan", "analyze", "code", "verify", "debug")
"""Pipeline stages in order."""

MODEL_ROLES: tuple[str, ...] = (
    "planning",
    "analysis",
    "coding",
    "verifying",
    "debugging",
    "judging",
)
"""Roles that can each use their own model."""

PIPELINE_ROLES: tuple[str, ...] = ("planning", "analysis", "coding", "verifying", "debugging")
"""The roles of a ``generate`` run (``judging`` belongs to ``eval``)."""


class IngestSettings(BaseModel):
    """How papers are read."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    max_pages: int = Field(default=60, ge=1)
    """Refuse PDFs with more pages than this (a guard against feeding a thesis or a book)."""
    keep_references: bool = False
    """Give the reference list to the agents too. Off by default: it costs tokens and rarely
    helps; references are always kept in ``paper.json``."""
    min_chars_per_page: int = Field(default=50, ge=0)
    """Below this many extractable characters per page on average, a PDF is taken as scanned."""
    equation_dpi: int = Field(default=200, ge=36)
    """Resolution of the display-equation images cropped from a PDF into
    ``paper/equations/*.png``, in dots per inch."""
    arxiv_url: str = "https://arxiv.org"
    """Base URL of arXiv for ``arxiv:ID`` and arXiv links: the LaTeX source is fetched from
    ``{arxiv_url}/e-print/ID`` (the PDF from ``{arxiv_url}/pdf/ID`` when the e-print is only a
    PDF). Point it at a mirror, or at a local server in tests."""
    download_timeout_s: float = Field(default=60.0, gt=0)
    """Timeout of one arXiv download (connect and each read), in seconds."""
    max_download_mb: int = Field(default=200, gt=0)
    """Refuse an arXiv download larger than this many megabytes."""
    max_archive_mb: int = Field(default=500, gt=0)
    """Refuse a source archive whose members add up to more than this many megabytes
    unpacked (a guard against archive bombs)."""
    max_archive_members: int = Field(default=20_000, gt=0)
    """Refuse a source archive with more members than this."""


class ModelInfoSettings(BaseModel):
    """Capabilities of a model AutoGen does not know (vLLM, Ollama, llama.cpp names)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    vision: bool = False
    """The model accepts images."""
    function_calling: bool = True
    """The model accepts tools (needed by the debugger agent's file tools)."""
    json_output: bool = True
    """The endpoint supports JSON mode (``response_format={"type": "json_object"}``)."""
    structured_output: bool = False
    """The endpoint supports ``response_format`` with a JSON schema. When off, paper2code asks for
    JSON mode and validates the reply itself, retrying with the validation error."""
    family: str = "unknown"
    """Model family as AutoGen names it (``gpt-4o``, ``o3``, ``unknown`` …)."""


class LLMSettings(BaseModel):
    """The OpenAI-compatible endpoint and the model per role."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    model: str = "gpt-4.1-mini"
    """Default model for every role that has no model of its own."""
    planning_model: str | None = None
    """Model for the planner (default: ``model``)."""
    analysis_model: str | None = None
    """Model for the analyst (default: ``model``)."""
    coding_model: str | None = None
    """Model for the coder (default: ``model``)."""
    verifying_model: str | None = None
    """Model for the verifier and the refiner of the verify stage (default: ``model``)."""
    debugging_model: str | None = None
    """Model for the debugger agent (default: ``model``)."""
    judging_model: str | None = None
    """Model for ``paper2code eval`` (default: ``model``)."""
    base_url: str | None = None
    """Endpoint base URL, e.g. ``http://localhost:8000/v1`` for vLLM or
    ``http://localhost:11434/v1`` for Ollama. ``None`` means api.openai.com."""
    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("api_key", "OPENAI_API_KEY")
    )
    """API key; defaults to ``$OPENAI_API_KEY``. Local servers accept any value."""
    api_type: Literal["openai", "azure"] = "openai"
    """``azure`` uses Azure OpenAI (set ``base_url`` to the resource endpoint,
    ``azure_deployment`` and ``azure_api_version``)."""
    azure_deployment: str | None = None
    """Azure OpenAI deployment name (default: the model name)."""
    azure_api_version: str = "2024-10-21"
    """Azure OpenAI API version."""
    model_info: ModelInfoSettings | None = None
    """Capabilities of a model AutoGen does not know. Required for unknown model names; when
    unset and the name is unknown, a conservative default (JSON mode, tools) is used."""
    preflight: bool = True
    """Before any work, list the endpoint's models once (short timeout, no retries) to report a
    wrong URL, a refused key or an unknown model at once. Off for endpoints that do not answer
    a model listing correctly."""
    preflight_timeout_s: float = Field(default=3.0, gt=0)
    """Timeout of the preflight request, in seconds."""
    timeout_s: float = Field(default=300.0, gt=0)
    """Timeout of one HTTP request to the endpoint, in seconds."""
    max_retries: int = Field(default=4, ge=0)
    """Retries of one call on 429, 5xx and timeouts (exponential back-off, by the openai client)."""
    validation_retries: int = Field(default=2, ge=0)
    """How often a reply that does not validate against its schema is sent back with the error."""
    temperature: float | None = None
    """Sampling temperature; ``None`` leaves the endpoint's default (reasoning models reject it)."""
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    """Reasoning effort for reasoning models; sent only when set."""
    cache: bool = True
    """Cache replies on disk keyed by the full request and the model name, so an identical rerun
    is free."""
    cache_dir: Path | None = None
    """Where the response cache lives (default: ``<run dir>/cache``)."""
    prices: dict[str, tuple[float, float, float]] = Field(default_factory=dict)
    """Price overrides per model: (input, cached input, output) in USD per million tokens;
    merged over the built-in table."""

    def model_for(self, role: str) -> str:
        """The model name used by a role (``planning``, ``analysis``, …)."""
        if role not in MODEL_ROLES:
            raise ValueError(f"unknown role {role!r}; valid roles: {', '.join(MODEL_ROLES)}")
        return getattr(self, f"{role}_model") or self.model


class CodingOrder(StrEnum):
    """How the files of a plan are coded (the CLI's ``--coding-order`` choices too)."""

    interface = "interface"
    """Every file at once, each against the designed interfaces of the files it imports."""
    dependency = "dependency"
    """Each file after the code of the files it imports."""


class PipelineSettings(BaseModel):
    """How a run proceeds."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    concurrency: int = Field(default=4, ge=1)
    """Model calls in flight at once within a stage (analysis and coding)."""
    max_cost_usd: float | None = Field(default=None, gt=0)
    """Stop cleanly (and resumably) before a call that could exceed this total cost."""
    coding_order: CodingOrder = CodingOrder.interface
    """``interface``: every file is coded at once, each against the designed interfaces (the
    analyses) of the files it imports, then a static consistency check reconciles what does
    not match. ``dependency``: each file waits for the code of the files it imports (the
    plan's dependency depth sets the wall-clock, and every prompt carries its imports' code)."""
    refine_rounds: int = Field(default=2, ge=0)
    """Rounds of targeted edits for the requirements verification finds unmet (0: verify and
    report only)."""
    max_debug_iters: int = Field(default=8, ge=1)
    """Iteration budget of the execute-repair loop."""
    repeat_limit: int = Field(default=3, ge=1)
    """Stop the repair loop when the same failure signature appears this many times."""
    equation_images: Literal["auto", "off"] = "auto"
    """``auto``: when the planning model accepts images (AutoGen's model info ``vision``; for a
    model AutoGen does not know, ``llm.model_info.vision``), its first planning turn carries the
    printed display equations cropped from a PDF (``paper/equations/*.png``), each labelled,
    after the paper's text. ``off``: the paper is sent as text only. There is no ``on``: a
    model that does not accept images cannot be made to; declare an unknown model's vision in
    ``llm.model_info`` instead. Analysis and coding are always text only."""
    max_equation_images: int = Field(default=30, ge=0)
    """At most this many equation images are sent, the first in reading order (the appendix
    comes last); run.json warns when a paper has more. Each image is counted as 85 + 170
    prompt tokens per 512-pixel tile (OpenAI's tile rule, ``paper2code.tokens.image_tokens``):
    a display equation cropped at 200 dpi is one to three tiles, 255–595 tokens (255–425 on
    the test papers), so 30 add about 11k–18k tokens to the planning prefix, which every
    planning turn repeats (and an endpoint's prefix cache serves)."""


class EvalSettings(BaseModel):
    """How ``paper2code eval`` judges a repository."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    samples: int = Field(default=3, ge=1)
    """Independent judge samples per mode; scores are averaged and their spread reported."""
    context_tokens: int = Field(default=128_000, gt=0)
    """Context window of the judge model, in tokens; the prompt is packed to fit it."""
    reply_reserve_tokens: int = Field(default=8_000, ge=0)
    """Tokens kept free for the judge's reply."""
    rubric_batch: int = Field(default=15, ge=1)
    """Rubric leaves graded per call (``eval --rubric``)."""


class Settings(BaseSettings):
    """Root settings object; every part of paper2code reads its configuration from here."""

    model_config = SettingsConfigDict(
        env_prefix="PAPER2CODE_", env_nested_delimiter="__", extra="ignore"
    )

    llm: LLMSettings = Field(default_factory=LLMSettings)
    """Model endpoint and models per role."""
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    """Paper reading."""
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    """Concurrency, budgets."""
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    """Docker sandbox: image, limits, pip options."""
    eval: EvalSettings = Field(default_factory=EvalSettings)
    """Model-judge evaluation."""

    def model_post_init(self, __context: object) -> None:
        if self.llm.api_key is None:
            key = os.environ.get("OPENAI_API_KEY") or os.environ.get("AZURE_OPENAI_API_KEY")
            if key:
                self.llm.api_key = SecretStr(key)
        if self.llm.base_url is None:
            base = os.environ.get("OPENAI_BASE_URL")
            if base:
                self.llm.base_url = base

    def public_dict(self) -> dict[str, object]:
        """Settings as JSON-able data with secrets removed, for ``run.json``."""
        data = self.model_dump(mode="json")
        data["llm"]["api_key"] = "***" if self.llm.api_key else None
        return data
