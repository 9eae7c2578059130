"""``report.md`` and ``report.html`` for a run: what ran, what it cost, what was and was not
verified, what failed and what changed.

Rendering from the run directory's artifacts (``run.json``, ``verify/ledger.json``,
``debug/summary.json`` and ``debug/iter-NN/``, ``repo/``, ``eval.json``) through the Jinja
templates in ``paper2code/templates`` (report layouts, not prompts). Both formats show the same
figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from paper2code.chart import line_chart_svg
from paper2code.evaluate import EvalResult
from paper2code.ledger import Ledger
from paper2code.reconcile import Reconciliation
from paper2code.runstore import RunStore
from sandbox.loop import DebugSummary, IterationRecord
from sandbox.tree import read_text_tree

OUTPUT_TAIL_LINES = 15
"""Lines of the last run's output shown in the repository section."""


@dataclass(frozen=True)
class IterationView:
    """One repair iteration as the report explains it."""

    record: IterationRecord
    suspect: str
    """``file:line`` of the top suspect ("" when none was found)."""
    diff: str
    """The iteration's patch (unified diff; empty when nothing changed)."""


@dataclass(frozen=True)
class RepoFileView:
    path: str
    lines: int | None
    """None for a binary file."""


def _env(*, html: bool = False) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(
            lambda name: resources.files("paper2code.templates").joinpath(name).read_text("utf-8")
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=html,
    )


def verification_statement(debug: DebugSummary | None) -> str:
    """A plain statement of what the run proved, never more."""
    status = debug.status if debug is not None else None
    if status == "passed":
        return (
            "The generated repository's smoke command ran to completion in the sandbox. "
            "The smoke run uses tiny synthetic data and a few steps: it shows that the code runs, "
            "not that it reproduces the paper's results. No number of the paper was checked."
        )
    if status in {"failed", "stopped", "error"}:
        return (
            f"The generated repository did not pass its smoke command (debug status: {status}). "
            "Nothing about the paper's results was verified."
        )
    return "The generated repository was not executed. Nothing was verified."


def _iterations(store: RunStore, debug: DebugSummary | None) -> list[IterationView]:
    views = []
    for it in debug.iterations if debug else []:
        folder = store.path("debug", f"iter-{it.n:02d}")
        suspect = ""
        if (folder / "suspects.json").is_file():
            failure = json.loads((folder / "suspects.json").read_text("utf-8")).get("failure")
            top = (failure or {}).get("suspects") or []
            suspect = f"{top[0]['file']}:{top[0]['line']}" if top else ""
        diff = folder / "patch.diff"
        views.append(IterationView(it, suspect, diff.read_text("utf-8") if diff.is_file() else ""))
    return views


def _output_tail(store: RunStore, debug: DebugSummary | None) -> str:
    """The end of what the last run printed (stdout, then stderr)."""
    if not debug or not debug.iterations:
        return ""
    folder = store.path("debug", f"iter-{debug.iterations[-1].n:02d}")
    text = ""
    for name in ("stdout.txt", "stderr.txt"):
        if (folder / name).is_file():
            text += (folder / name).read_text("utf-8", errors="replace")
    return "\n".join(text.rstrip().splitlines()[-OUTPUT_TAIL_LINES:])


def _repository(store: RunStore) -> list[RepoFileView]:
    """The final repository (``repo/``, else the generated snapshot) with line counts."""
    root = store.path("repo") if store.exists("repo") else store.path("repo.generated")
    return [
        RepoFileView(path, None if text is None else len(text.splitlines()))
        for path, text in sorted(read_text_tree(root).items())
    ]


def context(run_dir: Path) -> dict[str, Any]:
    """Everything the report templates show, typed."""
    store = RunStore(run_dir)
    manifest = store.manifest()
    debug = manifest.debug
    if debug is None and store.exists("debug", "summary.json"):
        debug = DebugSummary.model_validate(store.read_json("debug/summary.json"))
    title = manifest.input.paper if manifest.input else "?"
    if store.exists("paper", "paper.json"):
        title = str(store.read_json("paper/paper.json").get("title") or title)
    evaluation = (
        EvalResult.model_validate(store.read_json("eval.json"))
        if store.exists("eval.json")
        else None
    )
    ledger = (
        Ledger.model_validate(store.read_json("verify/ledger.json"))
        if store.exists("verify", "ledger.json")
        else None
    )
    consistency = (
        Reconciliation.model_validate(store.read_json("coding/consistency.json"))
        if store.exists("coding", "consistency.json")
        else None
    )
    return {
        "run_dir": str(run_dir),
        "title": title,
        "manifest": manifest,
        "debug": debug,
        "iterations": debug.iterations if debug else [],
        "iteration_views": _iterations(store, debug),
        "repository": _repository(store),
        "output_tail": _output_tail(store, debug),
        "cost": lambda totals: manifest.usage.cost_note(totals) or f"{totals.cost_usd:.4f}",
        "verification": verification_statement(debug),
        "model": manifest.model or "?",
        "eval": evaluation,
        "ledger": ledger,
        "consistency": consistency,
        "fixed_by_refinement": sorted(
            {i for r in ledger.rounds for i in r.fixed} if ledger else set(), key=_id_order
        ),
    }


def _id_order(requirement_id: str) -> tuple[str, int]:
    """``R2`` before ``R10``."""
    head = requirement_id.rstrip("0123456789")
    tail = requirement_id[len(head) :]
    return head, int(tail) if tail else 0


def render_markdown(run_dir: Path) -> str:
    return _env().get_template("report.md.j2").render(**context(run_dir))


def render_html(run_dir: Path) -> str:
    """A self-contained HTML report (inline CSS and SVG, no external resources)."""
    ctx = context(run_dir)
    ratios = [it.cumulative_ratio for it in ctx["iterations"]]
    ctx["chart"] = line_chart_svg(
        ratios,
        title="Changed-line ratio over repair iterations (cumulative)",
        y_label="changed lines / generated lines",
    )
    return _env(html=True).get_template("report.html.j2").render(**ctx)


def write_report(run_dir: Path) -> Path:
    """Write ``report.md`` and ``report.html`` into the run directory; returns the Markdown path."""
    store = RunStore(run_dir)
    store.write_text("report.html", render_html(run_dir))
    return store.write_text("report.md", render_markdown(run_dir))
