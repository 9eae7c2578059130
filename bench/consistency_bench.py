"""Static consistency check benchmark: how long ``check_sources`` takes on a synthetic repository
of 30 files and about 5,000 lines that call into each other (the workload of
``tests/test_consistency.py``), and ``check_repository`` (with ruff) on this project's own
``sandbox/`` and ``paper2code/`` folders.

    .venv/bin/python bench/consistency_bench.py [--repeat 5]

Prints best and mean seconds per workload. Exits 1 when the synthetic workload's best time
misses its target (< 0.75 s on 2 cores: the check runs before every first execution and must
not be noticed next to a model call).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_consistency import SYNTHETIC_CONFIG, synthetic_repo  # noqa: E402

from sandbox.consistency import check_repository, check_sources  # noqa: E402

TARGET_S = 0.75


def _times(run, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return times, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    sources = synthetic_repo(files=30, lines=5000)
    lines = sum(t.count("\n") for t in sources.values())
    times, report = _times(
        lambda: check_sources(sources, config_yaml=SYNTHETIC_CONFIG), args.repeat
    )
    print(
        f"synthetic: {len(sources)} files, {lines:,} lines, {report.checked['calls']} calls checked"
    )
    print(f"  check_sources  best {min(times):.3f} s, mean {statistics.mean(times):.3f} s")
    for folder in ("sandbox", "paper2code"):
        times_repo, rep = _times(lambda f=folder: check_repository(ROOT / f), args.repeat)
        print(
            f"{folder}/: {rep.summary()}; check_repository best {min(times_repo):.3f} s, "
            f"mean {statistics.mean(times_repo):.3f} s (ruff {rep.lint_seconds:.3f} s of the last)"
        )
    met = min(times) < TARGET_S
    print(f"target: {'met' if met else 'MISSED'} (< {TARGET_S} s for the synthetic workload)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
