"""report.md / report.html from a run directory, and the HTML rendered in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
from html import unescape as html_unescape
from pathlib import Path

import pytest
from browser import rendered_dom

from paper2code.chart import line_chart_svg
from paper2code.evaluate import EvalResult, ExecutionMetrics, ModeResult, ScoreStats
from paper2code.ledger import Ledger, LedgerEntry, RefineRound, coverage
from paper2code.manifest import RunInput, RunManifest, StageRecord, UsageSummary, UsageTotals
from paper2code.report import render_html, render_markdown, verification_statement, write_report
from paper2code.runstore import RunStore
from paper2code.schemas import PaperLocation, Requirement
from sandbox.loop import DebugSummary, IterationRecord

ERRORS = {
    1: ("NameError: name 'np' is not defined", "model/layers.py", 6),
    2: ("KeyError: 'lr'", "train.py", 12),
}
DIFFS = {
    1: "--- a/model/layers.py\n+++ b/model/layers.py\n@@ -1,2 +1,3 @@\n+import numpy as np\n",
    2: "--- a/train.py\n+++ b/train.py\n@@ -12 +12 @@\n-lr = cfg['lr']\n+lr = cfg['optim']['lr']\n",
}


def iteration(n: int, exit_code: int, fix: str, added: int, deleted: int, ratio: float):
    return IterationRecord(
        n=n,
        phase="run",
        command="bash reproduce.sh --smoke",
        passed=exit_code == 0,
        exit_code=exit_code,
        duration_s=0.5,
        error=ERRORS[n][0] if n in ERRORS and exit_code else None,
        fix=fix,
        fix_description={1: "add missing imports (model/layers.py: import numpy as np)"}.get(n),
        lines_added=added,
        lines_deleted=deleted,
        cumulative_ratio=ratio,
    )


def write_iterations(store: RunStore, records: list[IterationRecord]) -> None:
    """The iter-NN/ artifacts the loop writes: the failure's suspects and the patch."""
    for it in records:
        folder = f"debug/iter-{it.n:02d}"
        failure = None
        if it.n in ERRORS and not it.passed:
            _, file, line = ERRORS[it.n]
            failure = {"suspects": [{"file": file, "line": line, "kind": "exception"}]}
        store.write_json(f"{folder}/suspects.json", {"failure": failure, "lint": []})
        store.write_text(f"{folder}/patch.diff", DIFFS.get(it.n, ""))
        store.write_text(f"{folder}/stdout.txt", "epoch 1 loss 0.42\n" if it.passed else "")
        store.write_text(f"{folder}/stderr.txt", "" if it.passed else ERRORS[it.n][0] + "\n")


def write_ledger(store: RunStore) -> None:
    """A ledger: one requirement fixed by refinement, one still partial."""

    def req(rid: str, category: str, weight: int) -> Requirement:
        where = PaperLocation(section="3.2", anchor="Eq. 4", quote="q")
        return Requirement(
            id=rid, text=f"requirement {rid}", category=category, where=where, value=None,
            weight=weight, files=["main.py"], config_key=None,
        )  # fmt: skip

    fixed = LedgerEntry(requirement=req("R1", "method", 3))
    fixed.decide("missing", "verifier", "absent", [])
    fixed.decide("implemented", "verifier", "there", [])
    partial = LedgerEntry(requirement=req("R2", "data", 2))
    partial.decide("partial", "verifier", "splits hard-coded", [])
    total, cats = coverage([fixed, partial])
    ledger = Ledger(
        entries=[fixed, partial],
        rounds=[RefineRound(n=1, requirements=["R1", "R2"], lines_added=7, fixed=["R1"])],
        coverage_before=0.2,
        coverage_after=total,
        by_category=cats,
    )
    store.write_json("verify/ledger.json", ledger.model_dump(mode="json"))


def make_run(
    root: Path,
    *,
    debug_status: str | None = "passed",
    with_eval: bool = True,
    first_time: bool = False,
) -> Path:
    store = RunStore(root)
    store.write_json("paper/paper.json", {"title": "Smoothed Softmax Regression"})
    store.write_text("repo/main.py", "print('hi')\n" * 40)
    store.write_text("repo/model/layers.py", "import numpy as np\n" * 12)
    store.write_text("repo/README.md", "# Generated\n")
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
        records = (
            [iteration(1, 0, "none", 0, 0, 0.0)]
            if first_time
            else [
                iteration(1, 1, "deterministic", 1, 0, 0.0042),
                iteration(2, 1, "model", 1, 1, 0.0127),
                iteration(3, 0, "none", 0, 0, 0.0127),
            ]
        )
        manifest.debug = DebugSummary(
            status=debug_status,
            command="bash reproduce.sh --smoke",
            command_source="reproduce.sh",
            changed_line_ratio=0.0 if first_time else 0.0127,
            lines_added=0 if first_time else 2,
            lines_deleted=0 if first_time else 1,
            base_lines=236,
            iterations=records,
        )
        write_iterations(store, records)
    store.save_manifest(manifest)
    write_ledger(store)
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
    # each repair iteration: its error, where, its fix, and its diff (collapsible)
    for n, (error, file, line) in ERRORS.items():
        section = dom.split(f'id="iteration-{n}"')[1].split("</section>")[0]
        assert error in section and f"{file}:{line}" in section
        assert "<details>" in section and DIFFS[n].splitlines()[-1] in section
    assert "add missing imports" in dom
    assert 'class="total"' in dom  # the total rows, as in report.md
    assert shot.exists() and shot.stat().st_size > 10_000
    if os.environ.get("P2C_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["P2C_KEEP_SCREENSHOT"])


@pytest.mark.slow
def test_a_first_time_pass_has_no_empty_chart_and_shows_the_repository(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", first_time=True)
    write_report(run)
    dom = rendered_dom(run / "report.html")
    assert "<svg" not in dom and 'id="ratio-chart"' not in dom
    assert 'id="repository"' in dom and "model/layers.py" in dom
    assert "3 files, 53 lines" in dom and "bash reproduce.sh --smoke" in dom
    assert "epoch 1 loss 0.42" in dom  # the tail of the smoke run's output


def _figures(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?%?", text))


def test_every_figure_of_the_markdown_report_is_in_the_html_one_and_back(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    md = render_markdown(run)
    html = render_html(run)
    html = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)  # the chart repeats the table's ratios
    html_text = html_unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", html, flags=re.S))
    assert _figures(md) == _figures(html_text)


def test_local_endpoint_cost_is_said_not_counted(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", with_eval=False)
    store = RunStore(run)
    manifest = store.manifest()
    local = UsageTotals(calls=3, prompt_tokens=10, completion_tokens=5, uncounted_calls=3)
    manifest.usage = UsageSummary(stages={"plan": local}, total=local, local_models=["qwen"])
    store.save_manifest(manifest)
    md = render_markdown(run)
    assert "| plan | 3 | 10 | 0 | 5 | not counted (local endpoint) |" in md
    assert "0.0000" not in md
    assert "not counted (local endpoint)" in render_html(run)


def test_chart_scales_to_its_data() -> None:
    svg = line_chart_svg([0.0, 0.004, 0.0127], title="t", y_label="y")
    assert svg is not None
    ticks = [float(t) for t in re.findall(r">(\d+\.\d+)%</text>", svg)]
    assert max(ticks) == 2.0  # a round ceiling just above 1.27%, not an axis to 115%
    assert line_chart_svg([0.0], title="t", y_label="y") is None
    assert line_chart_svg([0.0, 0.0, 0.0], title="t", y_label="y") is None
