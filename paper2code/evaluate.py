"""``paper2code eval``: model-judge scores (reference-free and, given the authors' code,
reference-based) side by side with the run's execution metrics, in ``eval.json``.

Packing and aggregation are pure functions; the judge calls happen in ``evaluate_run``.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

from autogen_core.models import ChatCompletionClient
from pydantic import BaseModel, Field

from agents.base import AgentOptions, RepoFile, numbered
from agents.judge import Judge, RubricGrader
from paper2code import rubric as rubric_tree
from paper2code.errors import Paper2CodeError
from paper2code.ledger import Evidence, evidence_from
from paper2code.llm import usage_context
from paper2code.manifest import RunManifest
from paper2code.rubric import (
    NOT_GRADED_NOTE,
    NodeScore,
    RubricNode,
    ancestry,
    load_rubric,
    not_graded,
)
from paper2code.runstore import RunStore, now_iso
from paper2code.schemas import Judgement, LeafGrade, Paper, Plan
from paper2code.settings import Settings
from paper2code.tokens import count_tokens
from sandbox.tree import iter_text_files

MAX_FILE_BYTES = 5_000_000
"""Larger files are not read at all (generated data, not code); smaller ones are ranked and
packed, and whatever does not fit is named in the report."""


def read_repo(root: Path) -> list[RepoFile]:
    """Text files of a repository, sorted by path (through ``sandbox.tree``: no link is followed,
    so nothing outside the repository reaches the judge)."""
    return [RepoFile(rel, text) for rel, text in iter_text_files(root, max_bytes=MAX_FILE_BYTES)]


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
    requirements_coverage: float | None = None
    """Weighted coverage of the paper's requirements (the verifier's judgement)."""
    stage_seconds: dict[str, float] = Field(default_factory=dict)
    stage_cost_usd: dict[str, float] = Field(default_factory=dict)
    total_cost_usd: float = 0.0


class LeafResult(BaseModel):
    """One graded rubric leaf: its grade per sample and their mean."""

    id: str
    requirements: str
    samples: list[int]
    score: float
    """Mean of the samples' 0/1 grades."""
    explanation: str
    """The first sample's explanation."""
    evidence: list[Evidence] = Field(default_factory=list)


class RubricResult(BaseModel):
    """A PaperBench rubric graded on the repository's code (Code-Dev leaves only)."""

    rubric: str
    """The rubric file."""
    score: float | None
    """The root's weighted score, 0–1."""
    graded_leaves: int
    not_graded: dict[str, int]
    """Leaves left out of the score, by category."""
    samples: int
    tree: NodeScore
    leaves: list[LeafResult]
    included_files: list[str]
    omitted_files: list[str] = Field(default_factory=list)
    note: str = NOT_GRADED_NOTE


class EvalResult(BaseModel):
    """``eval.json``: judge scores and execution metrics, side by side."""

    created_at: str
    judge_model: str
    reference_free: ModeResult | None = None
    reference_based: ModeResult | None = None
    rubric: RubricResult | None = None
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


def execution_metrics(manifest: RunManifest) -> ExecutionMetrics:
    debug = manifest.debug
    return ExecutionMetrics(
        smoke_status=debug.status if debug else None,
        iterations=len(debug.iterations) if debug else 0,
        changed_line_ratio=debug.changed_line_ratio if debug else None,
        requirements_coverage=(
            manifest.requirements.coverage_after if manifest.requirements else None
        ),
        stage_seconds={k: v.duration_s for k, v in manifest.stages.items()},
        stage_cost_usd={k: v.cost_usd for k, v in manifest.usage.stages.items()},
        total_cost_usd=manifest.usage.total.cost_usd,
    )


def _context_budget(settings: Settings, judge: Judge, paper_md: str) -> int:
    """Tokens left for repository files once the paper, the instructions and the reply fit."""
    budget = (
        settings.eval.context_tokens
        - settings.eval.reply_reserve_tokens
        - count_tokens(paper_md)
        - count_tokens(judge.task("", []))
    )
    if budget <= 0:
        raise Paper2CodeError(
            "the paper alone fills the judge's context: raise PAPER2CODE_EVAL__CONTEXT_TOKENS"
        )
    return budget


async def _judge_mode(
    judge: Judge,
    store: RunStore,
    mode: str,
    task: str,
    samples: int,
    on_sample: Callable[[str, int], None] | None,
) -> list[Judgement]:
    """``samples`` independent judge replies to ``task``, each kept raw in ``eval/``."""

    async def one(i: int) -> Judgement:
        with usage_context(stage="eval", agent="judge", file=f"{mode}#{i}"):
            reply = await judge.judge(task)
        store.write_text(f"eval/{mode}-{i:02d}.raw.txt", reply.raw)
        if on_sample:
            on_sample(mode, i)
        return reply.value

    return list(await asyncio.gather(*(one(i) for i in range(1, samples + 1))))


async def grade_rubric(
    rubric_path: Path,
    store: RunStore,
    grader: RubricGrader,
    paper_md: str,
    repo_files: list[RepoFile],
    *,
    budget: int,
    planned: Sequence[str],
    samples: int,
    batch: int,
) -> RubricResult:
    """Grade the rubric's Code Development leaves, ``batch`` leaves per call and ``samples``
    calls per batch; each raw reply is kept under ``eval/rubric-*.raw.txt``."""
    root = load_rubric(rubric_path)
    leaves = root.graded_leaves()
    numbered_files = [RepoFile(f.path, numbered(f.content)) for f in repo_files]
    included, omitted = pack(numbered_files, budget, planned)
    context = ancestry(root)
    grades: dict[str, list[LeafGrade]] = {leaf.id: [] for leaf in leaves}

    async def one(k: int, group: list[RubricNode], i: int) -> None:
        pairs = [(leaf.id, leaf.requirements) for leaf in group]
        task = grader.task(paper_md, included, pairs, context, omitted=omitted)
        with usage_context(stage="eval", agent="grader", file=f"rubric#{k}.{i}"):
            reply = await grader.grade(task, [p[0] for p in pairs])
        store.write_text(f"eval/rubric-{k:03d}-{i:02d}.raw.txt", reply.raw)
        for g in reply.value.grades:
            grades[g.id].append(g)

    groups = [leaves[k : k + batch] for k in range(0, len(leaves), batch)]
    await asyncio.gather(
        *(one(k, g, i) for k, g in enumerate(groups) for i in range(1, samples + 1))
    )
    texts = {f.path: f.content for f in repo_files}
    results = [
        LeafResult(
            id=leaf.id,
            requirements=leaf.requirements,
            samples=[g.score for g in grades[leaf.id]],
            score=round(statistics.fmean(g.score for g in grades[leaf.id]), 4),
            explanation=grades[leaf.id][0].explanation,
            evidence=evidence_from(grades[leaf.id][0].evidence, texts),
        )
        for leaf in leaves
    ]
    tree = rubric_tree.aggregate(root, {r.id: r.score for r in results})
    return RubricResult(
        rubric=str(rubric_path),
        score=tree.score,
        graded_leaves=len(leaves),
        not_graded=not_graded(root),
        samples=samples,
        tree=tree,
        leaves=results,
        included_files=[f.path for f in included],
        omitted_files=omitted,
    )


async def _judge_modes(
    judge: Judge,
    store: RunStore,
    paper_md: str,
    repo_files: list[RepoFile],
    planned: list[str],
    budget: int,
    samples: int,
    reference: Path | None,
    on_sample: Callable[[str, int], None] | None,
) -> dict[str, ModeResult]:
    """Reference-free judging, and reference-based judging when a reference repository is
    given (half the context budget at most for the reference)."""
    modes: dict[str, ModeResult] = {}
    for mode, ref in (("reference_free", None), ("reference_based", reference)):
        if mode == "reference_based" and ref is None:
            continue
        ref_files, ref_omitted = pack(read_repo(ref), budget // 2) if ref else ([], [])
        repo_budget = budget - sum(count_tokens(f.content) + 12 for f in ref_files)
        included, omitted = pack(repo_files, repo_budget, planned)
        task = judge.task(paper_md, included, reference_files=ref_files, omitted=omitted)
        judgements = await _judge_mode(judge, store, mode, task, samples, on_sample)
        modes[mode] = aggregate(judgements, [f.path for f in included], omitted)
        modes[mode].reference_omitted_files = ref_omitted
    return modes


async def evaluate_run(
    run_dir: Path,
    settings: Settings,
    client: ChatCompletionClient,
    *,
    structured_output: bool,
    reference: Path | None = None,
    rubric: Path | None = None,
    samples: int | None = None,
    on_sample: Callable[[str, int], None] | None = None,
) -> EvalResult:
    """Judge the run's repository (``repo/``), grade ``rubric`` (a PaperBench rubric) when
    given, write ``eval.json`` and return it."""
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
        planned = Plan.model_validate(store.read_json("planning/plan.json")).logic.task_list
    judge = Judge(client, AgentOptions(structured_output, settings.llm.validation_retries))
    budget = _context_budget(settings, judge, paper_md)
    repo_files = read_repo(store.path("repo"))
    n = samples or settings.eval.samples
    modes = await _judge_modes(
        judge, store, paper_md, repo_files, planned, budget, n, reference, on_sample
    )
    graded = None
    if rubric is not None:
        grader = RubricGrader(client, judge.options)
        graded = await grade_rubric(
            rubric,
            store,
            grader,
            paper_md,
            repo_files,
            budget=budget,
            planned=planned,
            samples=n,
            batch=settings.eval.rubric_batch,
        )
    result = EvalResult(
        created_at=now_iso(),
        judge_model=settings.llm.model_for("judging"),
        reference_free=modes.get("reference_free"),
        reference_based=modes.get("reference_based"),
        rubric=graded,
        execution=execution_metrics(store.manifest()),
    )
    store.write_json("eval.json", result.model_dump(mode="json"))
    return result
