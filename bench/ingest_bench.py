"""Ingestion benchmark on papers typeset by LaTeX (``tests/texfactory.py``, needs pdflatex).

    .venv/bin/python bench/ingest_bench.py [--repeat 5]

Prints the ingest time of a 15-page two-column paper (best and mean of ``--repeat`` runs, with
equation images cropped into a paper folder, as the pipeline does), then the recovery score of
every display equation of the conference and journal papers (token similarity of the form
recovered from the PDF to its LaTeX source, ``paper2code.ingest.mathscore``) and their mean.
Exits 1 when a target is missed: < 5 s for 15 pages on 2 cores, mean score ≥ 0.8.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from texfactory import compile_pdf, paper_named, pdflatex

from paper2code.ingest import ingest_paper, latex_similarity
from paper2code.settings import IngestSettings

TIME_TARGET_S = 5.0
SCORE_TARGET = 0.8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if pdflatex() is None:
        print("pdflatex is not installed: apt-get install texlive-latex-base "
              "texlive-latex-recommended texlive-science")  # fmt: skip
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pdf = compile_pdf(paper_named("conference-15"), root / "long")
        times = []
        for k in range(args.repeat):
            start = time.perf_counter()
            paper = ingest_paper(pdf, IngestSettings(), out_dir=root / f"run{k}" / "paper")
            times.append(time.perf_counter() - start)
        best, mean = min(times), statistics.mean(times)
        print(f"cpus:            {os.cpu_count()}")
        print(f"pages:           {paper.pages} (two-column, typeset by pdflatex)")
        print(f"sections:        {len(paper.sections)}  references: {len(paper.references)}")
        print(f"ingest seconds:  best {best:.2f} s, mean {mean:.2f} s over {len(times)} runs")
        print(f"pages/second:    {paper.pages / best:.1f}")
        time_ok = best <= TIME_TARGET_S * (paper.pages or 15) / 15
        print(
            f"time target:     {'met' if time_ok else 'MISSED'} (< {TIME_TARGET_S:.0f} s per 15 pages)"
        )

        scores: list[float] = []
        print("\nequation recovery (similarity of the recovered form to the LaTeX source)")
        for name in ("conference", "journal"):
            spec = paper_named(name)
            ingested = ingest_paper(compile_pdf(spec, root / name), IngestSettings())
            got = {e.number: e.latex for s in ingested.sections for e in s.equation_records}
            for eq in spec.equations():
                recovered = got.get(eq.number, "")
                score = latex_similarity(recovered, eq.latex)
                scores.append(score)
                print(f"  {name:10} ({eq.number}) {score:.3f}  {recovered or '(not found)'}")
                if score < 1.0:
                    print(f"  {'':10}  source  {eq.latex}")
    mean_score = statistics.mean(scores)
    score_ok = mean_score >= SCORE_TARGET
    print(f"mean score:      {mean_score:.3f} over {len(scores)} equations")
    print(f"score target:    {'met' if score_ok else 'MISSED'} (≥ {SCORE_TARGET})")
    return 0 if time_ok and score_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
