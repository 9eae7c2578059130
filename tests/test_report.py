"""report.md / report.html from a run directory, and the HTML rendered in headless Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from browser import rendered_dom

from paper2code.chart import line_chart_svg
from paper2code.evaluate import EvalResult, ExecutionMetrics, ModeResult, ScoreStats
from paper2code.manifest import RunInput, RunManifest, StageRecord, UsageSummary, UsageTotals
from paper2code.report import render_html, render_markdown, verification_statement, write_report
from paper2code.runstore import RunStore
from sandbox.loop import DebugSummary, IterationRecord


def iteration(n: int, exit_code: int, fix: str, added: int, deleted: int, ratio: float):
    return IterationRecord(
        n=n,
        phase="run",
        command="bash reproduce.sh --smoke",
        passed=exit_code == 0,
        exit_code=exit_code,
        duration_s=0.5,
        fix=fix,
        lines_added=added,
        lines_deleted=deleted,
        cumulative_ratio=ratio,
    )


def make_run(root: Path, *, debug_status: str | None = "passed", with_eval: bool = True) -> Path:
    store = RunStore(root)
    store.write_json("paper/paper.json", {"title": "Smoothed Softmax Regression"})
    plan = UsageTotals(
        calls=4, prompt_tokens=9000, cached_tokens=6000, completion_tokens=1500, cost_usd=0.0123
    )
    manifest = RunManifest(
        status="done",
        input=RunInput(paper="paper.pdf", sha256="ab" * 32),
        model="gpt-4.1-mini",
        stages={
            "ingest": StageRecord(status="done", duration_s=0.4),
            "plan": StageRecord(status="done", duration_s=12.0),
        },
        usage=UsageSummary(stages={"plan": plan}, total=plan),
    )
    if debug_status:
        manifest.debug = DebugSummary(
            status=debug_status,
            changed_line_ratio=0.0127,
            iterations=[
                iteration(1, 1, "deterministic", 1, 0, 0.0042),
                iteration(2, 1, "model", 1, 1, 0.0127),
                iteration(3, 0, "none", 0, 0, 0.0127),
            ],
        )
    store.save_manifest(manifest)
    if with_eval:
        stats = ScoreStats(mean=3.5, std=0.5, samples=[3, 4])
        result = EvalResult(
            created_at="2026-11-25T00:00:00+00:00",
            judge_model="judge",
            reference_free=ModeResult(
                samples=2,
                score=stats,
                components={"method": stats},
                judgements=[],
                included_files=["main.py"],
                omitted_files=["data/big_table.py"],
            ),
            execution=ExecutionMetrics(),
            note="Judge scores are a model's opinion.",
        )
        store.write_json("eval.json", result.model_dump(mode="json"))
    return root


def test_verification_statement_never_claims_reproduction() -> None:
    passed = verification_statement(DebugSummary(status="passed"))
    assert "not that it reproduces the paper" in passed
    assert "did not pass" in verification_statement(DebugSummary(status="failed"))
    assert "not executed" in verification_statement(None)


def test_markdown_report_has_tables_and_statement(tmp_path: Path) -> None:
    md = render_markdown(make_run(tmp_path))
    assert "Smoothed Softmax Regression" in md
    assert "not that it reproduces the paper" in md
    assert "| plan | 4 | 9000 | 6000 | 1500 | 0.0123 |" in md
    assert "1.270%" in md  # cumulative changed-line ratio
    assert "data/big_table.py" in md  # what the judge did not see is named


def test_report_without_debug_or_eval(tmp_path: Path) -> None:
    run = make_run(tmp_path, debug_status=None, with_eval=False)
    md = render_markdown(run)
    assert "The repository was not executed" in md
    assert "Not evaluated" in md
    html = render_html(run)
    assert "no iterations" not in html  # no chart at all without a debug section


def test_chart_svg_has_one_point_per_iteration() -> None:
    svg = line_chart_svg([0.0, 0.01, 0.02], title="t", y_label="y")
    assert svg.count("<circle") == 3
    assert "<polyline" in svg
    assert "2.00%" in svg


@pytest.mark.slow
def test_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    write_report(run)
    html = run / "report.html"
    assert "<script" not in html.read_text()  # self-contained, nothing to fetch
    shot = tmp_path / "report.png"
    dom = rendered_dom(html, screenshot=shot)
    assert 'id="verification"' in dom
    assert "not that it reproduces the paper" in dom
    assert "<svg" in dom and "<polyline" in dom
    assert dom.count("<circle") == 3
    assert shot.exists() and shot.stat().st_size > 10_000
    if os.environ.get("P2C_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["P2C_KEEP_SCREENSHOT"])
