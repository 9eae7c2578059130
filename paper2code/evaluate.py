"""``paper2code eval``: model-judge scores (reference-free and, given the authors' code,
reference-based) side by side with the run's execution metrics, in ``eval.json``.

Packing and aggregation are pure functions; the judge calls happen in ``evaluate_run``.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from autogen_core.models import ChatCompletionClient
from pydantic import BaseModel, Field

from agents.base import AgentOptions
from agents.judge import Judge, RepoFile, judge_task
from paper2code.errors import Paper2CodeError
from paper2code.runstore import RunStore, now_iso
from paper2code.schemas import Judgement, Paper
from paper2code.settings import Settings
from paper2code.tokens import count_tokens

TEXT_SUFFIXES = {".py", ".sh", ".md", ".yaml", ".yml", ".txt", ".toml", ".cfg", ".json", ".ini"}
SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "node_modules", ".pytest_cache"}
MAX_FILE_BYTES = 5_000_000
"""Larger files are not read at all (generated data, not code); smaller ones are ranked and
packed, and whatever does not fit is named in the report."""


def read_repo(root: Path) -> list[RepoFile]:
    """Text files of a repository, sorted by path."""
    files = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or any(part in SKIP_DIRS for part in rel.parts):
            continue
        if p.suffix.lower() not in TEXT_SUFFIXES or p.stat().st_size > MAX_FILE_BYTES:
            continue
        try:
            files.append(RepoFile(rel.as_posix(), p.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
    return files


def relevance(path: str, planned: Sequence[str]) -> tuple[int, int, str]:
    """Sort key, most relevant first: the planned source files in task order (the method),
    other Python, config, documentation and scripts, tests last."""
    name = path.rsplit("/", 1)[-1]
    if path in planned:
        return (0, planned.index(path), path)
    if name.startswith("test_") or path.startswith("tests/"):
        return (4, 0, path)
    if name.endswith(".py"):
        return (1, 0, path)
    if name.endswith((".yaml", ".yml")):
        return (2, 0, path)
    return (3, 0, path)


def pack(
    files: Sequence[RepoFile], budget_tokens: int, planned: Sequence[str] = ()
) -> tuple[list[RepoFile], list[str]]:
    """The most relevant files that fit ``budget_tokens``; returns (included, omitted paths)."""
    included: list[RepoFile] = []
    omitted: list[str] = []
    used = 0
    for f in sorted(files, key=lambda f: relevance(f.path, list(planned))):
        cost = count_tokens(f.content) + count_tokens(f.path) + 12
        if used + cost <= budget_tokens:
            included.append(f)
            used += cost
        else:
            omitted.append(f.path)
    return included, omitted


class ScoreStats(BaseModel):
    mean: float
    std: float
    """Sample standard deviation over the samples (0 with one sample)."""
    samples: list[int]


class ModeResult(BaseModel):
    """The judge's result in one mode (reference-free or reference-based)."""

    samples: int
    score: ScoreStats
    components: dict[str, ScoreStats]
    judgements: list[Judgement]
    included_files: list[str]
    omitted_files: list[str] = Field(default_factory=list)
    """Files left out of the judge's prompt for lack of context; the report names them."""
    reference_omitted_files: list[str] = Field(default_factory=list)
    """Reference-implementation files left out (reference-based mode only)."""


class ExecutionMetrics(BaseModel):
    smoke_status: str | None = None
    """``passed``, ``failed``, ``stopped``, or None when the repository was not executed."""
    iterations: int = 0
    changed_line_ratio: float | None = None
    stage_seconds: dict[str, float] = Field(default_factory=dict)
    stage_cost_usd: dict[str, float] = Field(default_factory=dict)
    total_cost_usd: float = 0.0


class EvalResult(BaseModel):
    """``eval.json``: judge scores and execution metrics, side by side."""

    created_at: str
    judge_model: str
    reference_free: ModeResult | None = None
    reference_based: ModeResult | None = None
    execution: ExecutionMetrics
    note: str = (
        "Judge scores are a model's opinion of faithfulness to the paper; execution metrics "
        "show whether the code ran on the smoke settings. Neither is a reproduction of the "
        "paper's numbers."
    )


def stats(values: Sequence[int]) -> ScoreStats:
    return ScoreStats(
        mean=round(statistics.fmean(values), 4),
        std=round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
        samples=list(values),
    )


def aggregate(
    judgements: Sequence[Judgement], included: Sequence[str], omitted: Sequence[str]
) -> ModeResult:
    by_component: dict[str, list[int]] = {}
    for j in judgements:
        for c in j.components:
            by_component.setdefault(c.component, []).append(c.score)
    return ModeResult(
        samples=len(judgements),
        score=stats([j.score for j in judgements]),
        components={k: stats(v) for k, v in by_component.items()},
        judgements=list(judgements),
        included_files=list(included),
        omitted_files=list(omitted),
    )


def execution_metrics(manifest: dict[str, Any]) -> ExecutionMetrics:
    debug = manifest.get("debug") or {}
    usage = manifest.get("usage") or {}
    stages = manifest.get("stages") or {}
    return ExecutionMetrics(
        smoke_status=debug.get("status"),
        iterations=len(debug.get("iterations", [])),
        changed_line_ratio=debug.get("changed_line_ratio"),
        stage_seconds={k: v.get("duration_s", 0.0) for k, v in stages.items()},
        stage_cost_usd={k: v.get("cost_usd", 0.0) for k, v in usage.get("stages", {}).items()},
        total_cost_usd=usage.get("total", {}).get("cost_usd", 0.0),
    )


async def evaluate_run(
    run_dir: Path,
    settings: Settings,
    client: ChatCompletionClient,
    *,
    structured_output: bool,
    reference: Path | None = None,
    samples: int | None = None,
    on_sample: Callable[[str, int], None] | None = None,
) -> EvalResult:
    """Judge the run's repository (``repo/``), write ``eval.json`` and return it."""
    store = RunStore(run_dir)
    if not store.exists("paper", "paper.json") or not store.exists("repo"):
        raise Paper2CodeError(
            f"{run_dir} has no paper/paper.json or repo/: run `paper2code generate` first"
        )
    if reference is not None and not reference.is_dir():
        raise Paper2CodeError(f"--ref {reference}: not a directory")
    paper_md = Paper.model_validate(store.read_json("paper/paper.json")).to_markdown()
    planned: list[str] = []
    if store.exists("planning", "plan.json"):
        planned = store.read_json("planning/plan.json")["logic"]["task_list"]
    n = samples or settings.eval.samples
    judge = Judge(client, AgentOptions(structured_output, settings.llm.validation_retries))
    budget = (
        settings.eval.context_tokens
        - settings.eval.reply_reserve_tokens
        - count_tokens(paper_md)
        - count_tokens(judge_task("", []))
    )
    if budget <= 0:
        raise Paper2CodeError(
            "the paper alone fills the judge's context: raise PAPER2CODE_EVAL__CONTEXT_TOKENS"
        )
    repo_files = read_repo(store.path("repo"))
    modes: dict[str, ModeResult] = {}
    for mode in ("reference_free", "reference_based"):
        if mode == "reference_based" and reference is None:
            continue
        ref_files: list[RepoFile] = []
        ref_omitted: list[str] = []
        repo_budget = budget
        if mode == "reference_based":
            ref_files, ref_omitted = pack(read_repo(reference), budget // 2)  # type: ignore[arg-type]
            repo_budget = budget - sum(count_tokens(f.content) + 12 for f in ref_files)
        included, omitted = pack(repo_files, repo_budget, planned)
        task = judge_task(paper_md, included, reference_files=ref_files, omitted=omitted)

        async def one(i: int, task: str = task, mode: str = mode) -> Judgement:
            from paper2code.llm import usage_context

            with usage_context(stage="eval", agent="judge", file=f"{mode}#{i}"):
                reply = await judge.judge(task)
            store.write_text(f"eval/{mode}-{i:02d}.raw.txt", reply.raw)
            if on_sample:
                on_sample(mode, i)
            return reply.value

        judgements = await asyncio.gather(*(one(i) for i in range(1, n + 1)))
        modes[mode] = aggregate(judgements, [f.path for f in included], omitted)
        modes[mode].reference_omitted_files = ref_omitted
    result = EvalResult(
        created_at=now_iso(),
        judge_model=settings.llm.model_for("judging"),
        reference_free=modes.get("reference_free"),
        reference_based=modes.get("reference_based"),
        execution=execution_metrics(store.manifest()),
    )
    store.write_json("eval.json", result.model_dump(mode="json"))
    return result
