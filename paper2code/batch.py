"""``paper2code batch``: many papers, bounded concurrency, one shared limit on model calls,
resume of unfinished runs, and a summary table (CSV and Markdown)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel

from paper2code.evaluate import EvalResult
from paper2code.ingest import paper_slug
from paper2code.llm import ModelClients
from paper2code.pipeline import Pipeline
from paper2code.progress import Reporter, SilentReporter
from paper2code.report import write_report
from paper2code.runstore import RunStore
from paper2code.settings import STAGES, Settings
from sandbox import atomic
from sandbox.base import Sandbox

ClientsFor = Callable[[Path], tuple[ModelClients, bool]]
"""Run directory → (client provider, structured-output support)."""


class BatchRow(BaseModel):
    paper: str
    run_dir: str
    status: str
    """``done``, ``failed``, ``stopped`` or ``interrupted``."""
    resumed: bool = False
    """The run was already finished and was not redone."""
    smoke: str = "not run"
    """Smoke status of the debug loop: ``passed``, ``failed``, ``stopped`` or ``not run``."""
    changed_line_ratio: float | None = None
    requirements_coverage: float | None = None
    """Weighted coverage of the paper's requirements after refinement (the verifier's
    judgement), when the verify stage ran."""
    cost_usd: float = 0.0
    score: float | None = None
    """Reference-free judge score (mean), when ``eval.json`` exists."""
    error: str = ""


def unique_dirs(papers: Sequence[str | Path], out: Path) -> list[Path]:
    """One run directory per paper, disambiguated when two papers share a slug."""
    dirs: list[Path] = []
    seen: dict[str, int] = {}
    for p in papers:
        s = paper_slug(p)
        seen[s] = seen.get(s, 0) + 1
        dirs.append(out / (s if seen[s] == 1 else f"{s}-{seen[s]}"))
    return dirs


def is_finished(run_dir: Path) -> bool:
    return RunStore(run_dir).manifest().status == "done"


def row_for(
    paper: str | Path, run_dir: Path, status: str, error: str = "", resumed: bool = False
) -> BatchRow:
    store = RunStore(run_dir)
    manifest = store.manifest()
    score = None
    if store.exists("eval.json"):
        evaluation = EvalResult.model_validate(store.read_json("eval.json"))
        score = evaluation.reference_free.score.mean if evaluation.reference_free else None
    return BatchRow(
        paper=str(paper),
        run_dir=str(run_dir),
        status=status,
        resumed=resumed,
        smoke=manifest.debug.status if manifest.debug else "not run",
        changed_line_ratio=manifest.debug.changed_line_ratio if manifest.debug else None,
        requirements_coverage=(
            manifest.requirements.coverage_after if manifest.requirements else None
        ),
        cost_usd=round(manifest.usage.total.cost_usd, 6),
        score=score,
        error=error,
    )


async def run_batch(
    papers: Sequence[str | Path],
    out: Path,
    settings: Settings,
    *,
    jobs: int,
    clients_for: ClientsFor,
    reporter: Reporter | None = None,
    sandbox: Sandbox | None = None,
) -> list[BatchRow]:
    """Run every paper (``jobs`` at a time); a failing paper never stops the others."""
    reporter = reporter or SilentReporter()
    run_dirs = unique_dirs(papers, out)
    paper_slots = asyncio.Semaphore(max(1, jobs))
    call_limit = asyncio.Semaphore(max(1, settings.pipeline.concurrency))
    reporter.stage_start("batch", len(papers), f"{jobs} at a time")

    async def one(paper: str | Path, run_dir: Path) -> BatchRow:
        if is_finished(run_dir):
            reporter.advance("batch", Path(paper).name, "(already done)")
            return row_for(paper, run_dir, "done", resumed=True)
        async with paper_slots:
            try:
                provider, structured = clients_for(run_dir)
                pipeline = Pipeline(
                    settings,
                    run_dir,
                    clients=provider,
                    structured_output=structured,
                    sandbox=sandbox,
                    call_limit=call_limit,
                )
                outcome = await pipeline.run(paper, stages=list(STAGES))
                status, error = outcome.status, outcome.message
            except Exception as exc:  # one paper's failure is recorded, the batch goes on
                status, error = "failed", f"{type(exc).__name__}: {exc}"
        if RunStore(run_dir).exists("run.json"):
            write_report(run_dir)
        reporter.advance("batch", Path(paper).name, status)
        return row_for(paper, run_dir, status, error)

    rows = await asyncio.gather(*(one(p, d) for p, d in zip(papers, run_dirs, strict=True)))
    write_summary(out, list(rows))
    reporter.stage_end("batch", "done", f"summary: {out / 'summary.md'}")
    return list(rows)


def summary_markdown(rows: Sequence[BatchRow]) -> str:
    lines = [
        "# paper2code batch summary",
        "",
        "| paper | status | requirements coverage | smoke | changed-line ratio | cost (USD) "
        "| judge score | error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "" if r.changed_line_ratio is None else f"{100 * r.changed_line_ratio:.3f}%"
        cov = "" if r.requirements_coverage is None else f"{100 * r.requirements_coverage:.1f}%"
        score = "" if r.score is None else f"{r.score:.2f}"
        error = r.error.replace("|", "\\|").replace("\n", " ")[:200]
        lines.append(
            f"| {Path(r.paper).name} | {r.status} | {cov} | {r.smoke} | {ratio} "
            f"| {r.cost_usd:.4f} | {score} | {error} |"
        )
    done = [r for r in rows if r.status == "done"]
    passed = [r for r in rows if r.smoke == "passed"]
    ratios = [r.changed_line_ratio for r in rows if r.changed_line_ratio is not None]
    scores = [r.score for r in rows if r.score is not None]
    lines += [
        "",
        f"- papers: {len(rows)}, finished: {len(done)}, smoke passed: {len(passed)}",
        f"- mean changed-line ratio: {100 * sum(ratios) / len(ratios):.3f}%"
        if ratios
        else "- mean changed-line ratio: n/a",
        f"- total cost: {sum(r.cost_usd for r in rows):.4f} USD",
        f"- mean judge score: {sum(scores) / len(scores):.2f}"
        if scores
        else "- mean judge score: n/a",
        "",
        "A passing smoke run shows that a repository runs on tiny synthetic data; it is not a "
        "reproduction of the paper's results. Requirements coverage is a verifier model's "
        "judgement of the code, not a run of the paper's experiments.",
    ]
    return "\n".join(lines) + "\n"


def summary_csv(rows: Sequence[BatchRow]) -> str:
    buf = io.StringIO()
    fields = list(BatchRow.model_fields)
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(r.model_dump())
    return buf.getvalue()


def write_summary(out: Path, rows: Sequence[BatchRow]) -> None:
    atomic.write_text(out / "summary.csv", summary_csv(rows))
    atomic.write_text(out / "summary.md", summary_markdown(rows))
