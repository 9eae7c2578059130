"""``run.json``, typed: what a run was given, how each stage went, what it cost, what it proved.

The run store (``paper2code.runstore``) owns the file: it reads and writes it only as a
:class:`RunManifest`, so a renamed or mistyped field is a validation error where it is written,
not a report that quietly shows "?". The pipeline, the report, ``batch`` and ``eval`` read these
typed fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sandbox.loop import DebugSummary

RunStatus = Literal["running", "done", "failed", "stopped", "interrupted"]
StageStatus = Literal["running", "done", "failed", "skipped", "stopped", "interrupted"]


class UsageTotals(BaseModel):
    """Model calls, tokens and cost, summed."""

    model_config = ConfigDict(extra="forbid")

    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens the endpoint served from its prefix cache."""
    completion_tokens: int = 0
    cost_usd: float = 0.0
    uncounted_calls: int = 0
    """Calls whose cost is not in ``cost_usd``: a local endpoint, or a model with no price."""


class UsageSummary(BaseModel):
    """Usage per stage and overall (from ``events.jsonl``)."""

    model_config = ConfigDict(extra="forbid")

    stages: dict[str, UsageTotals] = Field(default_factory=dict)
    total: UsageTotals = Field(default_factory=UsageTotals)
    unpriced_models: list[str] = Field(default_factory=list)
    """Models with no known price: their calls count as free in ``cost_usd``."""
    local_models: list[str] = Field(default_factory=list)
    """Models served by a local endpoint: their calls cost nothing here, and are not counted."""

    def cost_note(self, totals: UsageTotals) -> str | None:
        """Why ``totals.cost_usd`` leaves calls out, or None when every call is counted."""
        if not totals.uncounted_calls:
            return None
        why = (
            "local endpoint"
            if self.local_models and not self.unpriced_models
            else (
                "no price known for " + ", ".join(self.unpriced_models)
                if not self.local_models
                else "local endpoint / no price known"
            )
        )
        if totals.uncounted_calls == totals.calls:
            return f"not counted ({why})"
        return f"{totals.uncounted_calls} of {totals.calls} calls not counted ({why})"


class StageRecord(BaseModel):
    """How one stage went."""

    model_config = ConfigDict(extra="forbid")

    status: StageStatus
    started_at: str | None = None
    """When the stage last started (ISO 8601, UTC)."""
    duration_s: float = 0.0
    """Time spent in the stage over every attempt, in seconds."""
    resumed: bool = False
    """Its artifacts were already on disk: nothing was redone."""
    error: str | None = None
    """Why it failed or stopped."""
    reason: str | None = None
    """Why it was skipped."""
    summary: str = ""
    """What it produced, in a few words (``5 files``, ``12 sections, 9,870 tokens``)."""


class ConsistencySummary(BaseModel):
    """The static consistency check after coding, in figures (``coding/consistency.json``)."""

    model_config = ConfigDict(extra="forbid")

    before: int = 0
    """Findings of the check on the code as written."""
    after: int = 0
    """Findings left after the reconciliation round."""
    by_kind: dict[str, int] = Field(default_factory=dict)
    """Findings before, per kind (``bad_call``, ``missing_name``…)."""
    calls: int = 0
    """Reconciler calls made."""


class RequirementsSummary(BaseModel):
    """The requirements ledger in figures (``verify/ledger.json`` has every entry)."""

    model_config = ConfigDict(extra="forbid")

    requirements: int = 0
    """Requirements of the paper in the ledger (assumptions not counted)."""
    assumptions: int = 0
    implemented: int = 0
    unmet: int = 0
    """Partial, missing or contradicted after refinement."""
    coverage_before: float = 0.0
    """Weighted coverage (0–1) at the first verification."""
    coverage_after: float = 0.0
    """Weighted coverage (0–1) of the repository the execute-repair loop starts from."""
    refine_rounds: int = 0
    refine_lines_added: int = 0
    refine_lines_deleted: int = 0


class RunInput(BaseModel):
    """The paper a run directory belongs to."""

    model_config = ConfigDict(extra="forbid")

    paper: str
    """The paper as given: a path, ``arxiv:ID`` or an arXiv link."""
    sha256: str
    """Digest of the file (or of every file of a folder; of the reference itself for arXiv):
    a run directory serves one paper."""
    source: str | None = None
    """The paper's LaTeX source as given (``--source``), read instead of the paper."""


class RunManifest(BaseModel):
    """The manifest of one run directory."""

    model_config = ConfigDict(extra="forbid")

    status: RunStatus = "running"
    created_at: str | None = None
    updated_at: str | None = None
    finished_at: str | None = None
    input: RunInput | None = None
    model: str = ""
    """The default model of the run."""
    settings: dict[str, Any] = Field(default_factory=dict)
    """Every setting, secrets masked (``Settings.public_dict``)."""
    stages: dict[str, StageRecord] = Field(default_factory=dict)
    """Stage name → record, in the order the stages ran."""
    usage: UsageSummary = Field(default_factory=UsageSummary)
    consistency: ConsistencySummary | None = None
    """The static check after coding, once the code stage has run."""
    requirements: RequirementsSummary | None = None
    """The requirements ledger's figures, once the verify stage has run."""
    debug: DebugSummary | None = None
    """The execute-repair session, once the debug stage has run."""
    equation_images: int = 0
    """Printed equation images the planning model was shown with the paper (0: none — images
    off, a model without vision, or a paper read from LaTeX or Markdown)."""
    notes: list[str] = Field(default_factory=list)
    """Plain statements for the report (e.g. that every model reply was scripted)."""
    warnings: list[str] = Field(default_factory=list)
    """Things the user should know that did not stop the run (entries dropped from a copy)."""
