"""Sandbox benchmark: cold dependency-image build, and the overhead of a warm rerun.

Warm overhead = wall time of ``DockerSandbox.run()`` (tar the repo, create the container and its
volume, copy in, start, wait, read logs, remove both) minus the program's own run time as
reported by the result. Target (issue): under 1 s. Compared with a bare ``docker run --rm``.

    .venv/bin/python bench/sandbox_bench.py [--runs 10] [--requirement tqdm]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.docker_sandbox import DockerSandbox  # noqa: E402
from sandbox.images import (  # noqa: E402
    deps_tag,
    image_id,
    matching_wheels,
    normalize_requirements,
    requirement_names,
)
from sandbox.settings import SandboxSettings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--requirement", default="tqdm", help="a small package for the cold build")
    args = ap.parse_args()
    settings = SandboxSettings()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        (repo / "main.py").write_text("pass\n")
        (repo / "requirements.txt").write_text(args.requirement + "\n")

        # cold build: remove the dependency image first
        base = image_id(settings.base_image)
        if base is None:
            sys.exit(f"{settings.base_image} is missing: run `make sandbox-image` first")
        reqs = normalize_requirements((repo / "requirements.txt").read_text())
        tag = deps_tag(
            base,
            reqs,
            settings.pip,
            matching_wheels(settings.pip.find_links, requirement_names(reqs)),
        )
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
        box = DockerSandbox(settings)
        t0 = time.perf_counter()
        box.prepare(repo)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        DockerSandbox(settings).prepare(repo)
        cached = time.perf_counter() - t0

        overheads, walls = [], []
        box.run(repo, "python -c pass")  # warm-up
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = box.run(repo, "python -c pass")
            wall = time.perf_counter() - t0
            walls.append(wall)
            overheads.append(wall - r.duration_s)
        bare = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run(
                [
                    "docker",
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    settings.base_image,
                    "python",
                    "-c",
                    "pass",
                ],
                capture_output=True,
                check=True,
            )
            bare.append(time.perf_counter() - t0)

    def p95(xs: list[float]) -> float:
        return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]

    print(f"cold dependency-image build ({args.requirement}): {cold:.2f} s")
    print(f"second prepare, same requirements (cache hit): {cached:.3f} s")
    print(
        f"warm run() wall, python -c pass:  mean {statistics.mean(walls):.3f} s, p95 {p95(walls):.3f} s over {args.runs}"
    )
    print(
        f"warm overhead beyond the program:  mean {statistics.mean(overheads):.3f} s, p95 {p95(overheads):.3f} s (target < 1 s)"
    )
    print(f"bare `docker run --rm`:            mean {statistics.mean(bare):.3f} s")


if __name__ == "__main__":
    main()
