"""Sandbox benchmark: cold dependency-image builds, cache hit, and the overhead of a warm rerun.

- cold build: the dependency image of a one-package requirements.txt (default ``six``) is
  removed, then ``DockerSandbox.prepare`` builds it (``six`` is not in the base image's
  wheelhouse, so pip reaches PyPI through the configured index/proxy; the CA bundle comes from
  ``$PIP_CERT``);
- cold build from the wheelhouse: the same for what generated repositories declare (numpy,
  pyyaml, pytest), which the base image keeps as wheels: no index needed;
- cache hit: a second ``prepare`` with the same requirements in a new ``DockerSandbox``.
  Target: < 0.1 s;
- warm overhead: wall time of ``DockerSandbox.run()`` for ``python -c pass`` (tar the repo,
  create the volume and the container, copy in, start, wait, read the logs, remove both) minus
  the program's own run time as the result reports it (``RunResult.duration_s``). Target: < 1 s;
- for comparison, a bare ``docker run --rm --network none <base> python -c pass``.

    .venv/bin/python bench/sandbox_bench.py [--runs 10] [--requirement six]

Exit status 1 when a target is missed.
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
from sandbox.images import deps_tag, image_id, matching_wheels  # noqa: E402
from sandbox.requirements import normalize_requirements, requirement_names  # noqa: E402
from sandbox.settings import SandboxSettings  # noqa: E402

TARGET_S = 1.0
CACHE_HIT_TARGET_S = 0.1
WHEELHOUSE_REQUIREMENTS = "numpy\npyyaml\npytest\n"


def p95(xs: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(xs)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def stats(xs: list[float]) -> str:
    return f"mean {statistics.mean(xs):.3f} s, p95 {p95(xs):.3f} s, min {min(xs):.3f} s"


def dependency_tag(settings: SandboxSettings, requirements_text: str) -> str:
    """The tag ``prepare`` would give these requirements (to remove it before the cold build)."""
    base = image_id(settings.base_image)
    if base is None:
        sys.exit(f"{settings.base_image} is missing: run `make sandbox-image` first")
    reqs = normalize_requirements(requirements_text)
    wheels = matching_wheels(settings.pip.find_links, requirement_names(reqs))
    return deps_tag(base, reqs, settings.pip, wheels)


def cold_prepare(settings: SandboxSettings, repo: Path, requirements: str) -> tuple[str, float]:
    """Remove the image of these requirements, then time the ``prepare`` that builds it."""
    (repo / "requirements.txt").write_text(requirements)
    tag = dependency_tag(settings, requirements)
    subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
    box = DockerSandbox(settings)
    t0 = time.perf_counter()
    assert box.prepare(repo) == tag
    elapsed = time.perf_counter() - t0
    if box.builds != 1:
        sys.exit(f"expected a cold build of {tag}, got {box.builds} builds")
    return tag, elapsed


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=10, help="warm runs measured (after one warm-up)")
    ap.add_argument("--requirement", default="six", help="a small package for the cold build")
    args = ap.parse_args()
    settings = SandboxSettings()
    with tempfile.TemporaryDirectory(prefix="p2c-bench-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        (repo / "main.py").write_text("pass\n")
        local_tag, cold_local = cold_prepare(settings, repo, WHEELHOUSE_REQUIREMENTS)
        tag, cold = cold_prepare(settings, repo, args.requirement + "\n")
        box = DockerSandbox(settings)
        box.prepare(repo)

        again = DockerSandbox(settings)
        t0 = time.perf_counter()
        assert again.prepare(repo) == tag
        cached = time.perf_counter() - t0
        if again.builds != 0:
            sys.exit("the second prepare rebuilt the image: the cache missed")

        box.run(repo, "python -c pass")  # warm-up: page cache, first container of this image
        walls, overheads = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            r = box.run(repo, "python -c pass")
            wall = time.perf_counter() - t0
            if not r.ok:
                sys.exit(f"python -c pass failed in the sandbox: {r.stderr[-500:]}")
            walls.append(wall)
            overheads.append(wall - r.duration_s)

        bare_cmd = ["docker", "run", "--rm", "--network", "none", tag, "python", "-c", "pass"]
        subprocess.run(bare_cmd, capture_output=True, check=True)  # warm-up
        bare = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            subprocess.run(bare_cmd, capture_output=True, check=True)
            bare.append(time.perf_counter() - t0)

    mean_overhead = statistics.mean(overheads)
    print(f"cold dependency-image build ({args.requirement}, {tag}): {cold:.2f} s")
    print(f"cold build, wheelhouse only (numpy pyyaml pytest, {local_tag}): {cold_local:.2f} s")
    print(f"second prepare, same requirements (cache hit):       {cached:.3f} s")
    print(f"warm DockerSandbox.run() wall, python -c pass:       {stats(walls)} ({args.runs} runs)")
    print(f"warm overhead beyond the program's own duration:     {stats(overheads)}")
    print(f"bare `docker run --rm` wall, python -c pass:         {stats(bare)}")
    verdict = "met" if mean_overhead < TARGET_S else "MISSED"
    print(f"target: warm overhead < {TARGET_S:.0f} s -> {verdict}")
    hit = "met" if cached < CACHE_HIT_TARGET_S else "MISSED"
    print(f"target: cache-hit prepare < {CACHE_HIT_TARGET_S} s -> {hit}")
    if mean_overhead >= TARGET_S or cached >= CACHE_HIT_TARGET_S:
        sys.exit(1)


if __name__ == "__main__":
    main()
