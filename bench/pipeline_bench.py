"""Pipeline benchmark: an 8-file plan through the loopback OpenAI-compatible server with
simulated latency (0.5 s to first token, 50 tokens/s), at --concurrency 4 versus 1.

Prints wall-clock per stage and in total for both settings, the speed-up, total prompt tokens
per stage, and the share of prompt tokens that repeat an earlier call's prefix (what endpoint
prefix caching can serve). Targets (issue): at least 2.5x faster; at least 85% of prompt tokens
in repeated prefixes. The model replies are scripted: this measures the pipeline, not a model.

    .venv/bin/python bench/pipeline_bench.py [--ttft 0.5] [--tps 50] [--sections 12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from paperfactory import markdown_text, sample_spec  # noqa: E402

from paper2code.demo_run import demo_settings  # noqa: E402
from paper2code.llm import build_clients  # noqa: E402
from paper2code.pipeline import Pipeline  # noqa: E402
from paper2code.progress import SilentReporter  # noqa: E402
from paper2code.testing.loopback_server import LoopbackServer  # noqa: E402
from paper2code.testing.transcript import ScriptedReply, requested_file  # noqa: E402

FILES = {
    "config.py": [],
    "utils.py": [],
    "data.py": ["utils.py", "config.py"],
    "model.py": ["utils.py", "config.py"],
    "losses.py": ["utils.py"],
    "metrics.py": ["utils.py"],
    "train.py": ["data.py", "model.py", "losses.py", "metrics.py"],
    "main.py": ["train.py", "config.py"],
}
"""An 8-file repository with a typical ML dependency structure."""

FILLER = " ".join(f"step{i} computes the quantity required by the method" for i in range(40))


def responder(messages: list[dict]) -> ScriptedReply:
    last = messages[-1].get("content") or ""
    if "Turn 1 of 4" in last:
        body = {
            "summary": FILLER[:600],
            "method_components": ["a", "b"],
            "datasets": ["synthetic"],
            "experiments": ["e1"],
            "evaluation_metrics": ["accuracy"],
            "smoke_strategy": "tiny",
            "unclear": [],
        }
    elif "Turn 2 of 4" in last:
        body = {
            "implementation_approach": FILLER[:400],
            "files": [{"path": f, "purpose": f"the {f[:-3]} module"} for f in FILES],
            "class_diagram": "classDiagram\n  class Model",
            "sequence_diagram": "sequenceDiagram\n  main->>train: run",
            "unclear": [],
        }
    elif "Turn 3 of 4" in last:
        body = {
            "required_packages": ["numpy"],
            "logic_analysis": [
                {"path": f, "description": FILLER[:300], "depends_on": d} for f, d in FILES.items()
            ],
            "task_list": list(FILES),
            "shared_knowledge": FILLER[:300],
            "unclear": [],
        }
    elif "Turn 4 of 4" in last:
        body = {
            "config_yaml": "lr: 0.001\nsteps: 1000\nsmoke:\n  steps: 2\n  command: python main.py --smoke\n"
        }
    elif "Write the detailed design of the file" in last:
        path = requested_file(last)
        body = {
            "path": path,
            "purpose": FILLER[:250],
            "functions": [{"name": "run", "signature": "def run() -> None", "description": "runs"}],
        }
    elif "Write the complete contents of" in last:
        path = requested_file(last)
        body = {
            "path": path,
            "content": f'"""{path}"""\n'
            + "\n".join(f"VALUE_{i} = {i}  # {FILLER[:40]}" for i in range(12))
            + "\n",
        }
    else:
        raise LookupError(last[:80])
    return ScriptedReply(content=json.dumps(body))


async def one_run(paper: Path, concurrency: int, ttft: float, tps: float) -> dict:
    with (
        tempfile.TemporaryDirectory(prefix="p2c-bench-") as tmp,
        LoopbackServer(responder, ttft_s=ttft, tokens_per_s=tps) as server,
    ):
        out = Path(tmp) / "run"
        settings = demo_settings(server.base_url)
        settings.sandbox.kind = "none"
        settings.pipeline.concurrency = concurrency
        clients, structured = build_clients(settings, out)
        pipeline = Pipeline(
            settings, out, clients=clients, reporter=SilentReporter(), structured_output=structured
        )
        t0 = time.perf_counter()
        await pipeline.run(paper)
        wall = time.perf_counter() - t0
        manifest = json.loads((out / "run.json").read_text())
        return {
            "wall_s": wall,
            "stage_s": {k: v.get("duration_s", 0.0) for k, v in manifest["stages"].items()},
            "usage": manifest["usage"],
            "prompt_tokens": server.prompt_tokens_total,
            "cached_tokens": server.cached_tokens_total,
            "calls": server.answered,
        }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--ttft", type=float, default=0.5, help="seconds to first token")
    ap.add_argument("--tps", type=float, default=50.0, help="completion tokens per second")
    ap.add_argument(
        "--sections", type=int, default=10, help="extra sections of the synthetic paper"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paper = Path(tmp) / "paper.md"
        paper.write_text(
            markdown_text(sample_spec(paragraphs=3, sentences=7, extra_sections=args.sections))
        )
        runs = {c: asyncio.run(one_run(paper, c, args.ttft, args.tps)) for c in (1, 4)}
    seq, par = runs[1], runs[4]
    print(
        f"8-file plan, {seq['calls']} model calls, latency {args.ttft}s + 1/{args.tps:g} s per token"
    )
    print(f"{'stage':<10}{'conc=1 (s)':>12}{'conc=4 (s)':>12}{'prompt tokens':>16}")
    for stage in ("ingest", "plan", "analyze", "code", "debug"):
        tokens = seq["usage"]["stages"].get(stage, {}).get("prompt_tokens", 0)
        print(
            f"{stage:<10}{seq['stage_s'].get(stage, 0):>12.2f}{par['stage_s'].get(stage, 0):>12.2f}{tokens:>16}"
        )
    print(f"{'total':<10}{seq['wall_s']:>12.2f}{par['wall_s']:>12.2f}{seq['prompt_tokens']:>16}")
    speedup = seq["wall_s"] / par["wall_s"]
    fan = sum(seq["stage_s"].get(s, 0) for s in ("analyze", "code"))
    fan4 = sum(par["stage_s"].get(s, 0) for s in ("analyze", "code"))
    print(f"speed-up, whole run:          {speedup:.2f}x (target >= 2.5x)")
    print(f"speed-up, analyze + code:     {fan / fan4:.2f}x (the stages concurrency applies to)")
    for name, r in (("conc=1", seq), ("conc=4", par)):
        share = r["cached_tokens"] / r["prompt_tokens"]
        print(
            f"repeated-prefix share {name}:  {100 * share:.1f}% of {r['prompt_tokens']} prompt tokens (target >= 85%)"
        )


if __name__ == "__main__":
    main()
