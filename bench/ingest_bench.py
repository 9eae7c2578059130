"""Ingestion benchmark: build a 15-page two-column paper, time ``ingest_paper`` on it.

    .venv/bin/python bench/ingest_bench.py [--pages 15] [--repeat 3]

Prints pages, seconds per run (best and mean) and pages/second; exits 1 when the best run
exceeds the target (10 s for 15 pages on 2 cores). The first run includes loading the layout
model; it is reported separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from paperfactory import make_pdf

from paper2code.ingest import ingest_paper
from paper2code.settings import IngestSettings

TARGET_S = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        pdf = make_pdf(Path(tmp) / "bench.pdf", pages=args.pages)
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            paper = ingest_paper(pdf, IngestSettings())
            times.append(time.perf_counter() - start)
    best, mean = min(times), sum(times) / len(times)
    print(f"cpus:          {os.cpu_count()}")
    print(f"pages:         {paper.pages}")
    print(f"sections:      {len(paper.sections)}  references: {len(paper.references)}")
    print(f"first run:     {times[0]:.2f} s (includes loading the layout model)")
    print(f"total seconds: best {best:.2f} s, mean {mean:.2f} s over {len(times)} runs")
    print(f"pages/second:  {paper.pages / best:.2f}")
    ok = best <= TARGET_S * args.pages / 15
    print(f"target:        {'met' if ok else 'MISSED'} (≤ {TARGET_S:.0f} s per 15 pages)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
