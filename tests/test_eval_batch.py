"""`eval` through the scripted model and `batch` through the loopback server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from paper2code.batch import run_batch
from paper2code.demo_run import demo_paper, demo_settings
from paper2code.evaluate import evaluate_run
from paper2code.llm import Clients, build_clients
from paper2code.pipeline import Pipeline
from paper2code.progress import SilentReporter
from paper2code.settings import Settings
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.scripted_client import ScriptedChatCompletionClient
from paper2code.testing.transcript import ScriptedReply, Transcript


async def generated_run(tmp_path: Path) -> Path:
    """A finished run (no sandbox) of the sample paper, made with the scripted transcript."""
    out = tmp_path / "run"
    client = ScriptedChatCompletionClient(Transcript.load())
    settings = Settings()
    settings.sandbox.kind = "none"
    clients = Clients(settings, out, factory=lambda llm, model: client)
    await Pipeline(settings, out, clients=clients, reporter=SilentReporter()).run(
        demo_paper(tmp_path / "paper.md")
    )
    return out


def judge(scores: list[int]):
    calls = {"n": 0}

    def respond(messages: list[dict]) -> ScriptedReply:
        i = calls["n"]
        calls["n"] += 1
        s = scores[i % len(scores)]
        comps = [
            {
                "component": c,
                "found": ["x"],
                "missing": [],
                "incorrect": [
                    {
                        "description": "learning rate schedule absent",
                        "severity": "medium",
                        "file": "train.py",
                    }
                ]
                if c == "training"
                else [],
                "score": s,
            }
            for c in ("data processing", "method", "training", "evaluation")
        ]
        return ScriptedReply(content=json.dumps({"components": comps, "score": s, "summary": "ok"}))

    return respond


async def test_eval_averages_samples_and_reports_what_was_left_out(tmp_path: Path) -> None:
    run = await generated_run(tmp_path)
    client = ScriptedChatCompletionClient(judge([3, 4, 5]))
    settings = Settings()
    result = await evaluate_run(run, settings, client, structured_output=True, samples=3)
    rf = result.reference_free
    assert rf is not None and rf.samples == 3
    assert rf.score.mean == 4.0 and rf.score.std == 1.0
    assert rf.components["training"].samples == [3, 4, 5]
    assert rf.omitted_files == []
    assert result.reference_based is None
    saved = json.loads((run / "eval.json").read_text())
    assert saved["reference_free"]["score"]["mean"] == 4.0
    assert saved["execution"]["smoke_status"] is None  # not executed in this run: said so
    assert len(list((run / "eval").glob("reference_free-*.raw.txt"))) == 3
    # every sample saw the paper and the planned source files, by name
    prompt = client.requests[0][-1]["content"]
    assert "Smoothed Softmax Regression" in prompt and '<file path="model.py">' in prompt


async def test_eval_trims_a_repository_too_large_for_the_context(tmp_path: Path) -> None:
    run = await generated_run(tmp_path)
    (run / "repo" / "huge_tables.py").write_text("TABLE = [\n" + "    1234567,\n" * 40000 + "]\n")
    ref = tmp_path / "reference"
    ref.mkdir()
    (ref / "model.py").write_text("import numpy as np\n")
    client = ScriptedChatCompletionClient(judge([2]))
    settings = Settings()
    settings.eval.context_tokens = 12_000
    result = await evaluate_run(
        run, settings, client, structured_output=True, samples=1, reference=ref
    )
    rf, rb = result.reference_free, result.reference_based
    assert rf is not None and rb is not None
    assert "huge_tables.py" in rf.omitted_files
    assert "model.py" in rf.included_files  # planned files come first
    assert "huge_tables.py" in client.requests[0][-1]["content"].split("left out of this prompt")[1]
    assert '<reference_file path="model.py">' in client.requests[1][-1]["content"]
    assert rb.score.mean == 2.0


async def test_eval_needs_a_generated_run(tmp_path: Path) -> None:
    from paper2code.errors import Paper2CodeError

    with pytest.raises(Paper2CodeError, match="generate"):
        await evaluate_run(
            tmp_path, Settings(), ScriptedChatCompletionClient(judge([3])), structured_output=True
        )


async def test_batch_one_failure_does_not_stop_the_others_and_rerun_redoes_only_it(
    tmp_path: Path,
) -> None:
    papers = []
    for name in ("alpha", "beta", "gamma"):
        text = (
            demo_paper(tmp_path / "src.md")
            .read_text()
            .replace(
                "# Smoothed Softmax Regression",
                f"# Paper {name.upper()}: Smoothed Softmax Regression",
            )
        )
        p = tmp_path / f"{name}.md"
        p.write_text(text)
        papers.append(p)
    transcript = Transcript.load()
    broken = {"on": True}

    def responder(messages: list[dict]) -> ScriptedReply:
        if broken["on"] and any("Paper GAMMA" in (m.get("content") or "") for m in messages):
            return ScriptedReply(content="Sorry, I cannot help with that.")
        return transcript.respond(messages)

    out = tmp_path / "batch"
    with LoopbackServer(responder) as server:
        settings = demo_settings(server.base_url)
        settings.sandbox.kind = "none"
        settings.llm.validation_retries = 1
        rows = await run_batch(
            papers,
            out,
            settings,
            jobs=2,
            clients_for=lambda d: build_clients(settings, d),
        )
        assert [r.status for r in rows] == ["done", "done", "failed"]
        assert "did not validate" in rows[2].error
        summary = (out / "summary.md").read_text()
        assert "| alpha.md | done |" in summary and "| gamma.md | failed |" in summary
        assert len((out / "summary.csv").read_text().splitlines()) == 4
        first = len(server.requests)
        broken["on"] = False
        rows = await run_batch(
            papers,
            out,
            settings,
            jobs=2,
            clients_for=lambda d: build_clients(settings, d),
        )
        assert [r.status for r in rows] == ["done", "done", "done"]
        assert [r.resumed for r in rows] == [True, True, False]
        new = server.requests[first:]
        per_file = ("Write the", "Verification pass", "Refinement round")
        assert new and all(
            any("Paper GAMMA" in (m.get("content") or "") for m in body["messages"])
            or any(k in body["messages"][-1].get("content", "") for k in per_file)
            for body in new
        )
        # only gamma is redone: at most its 5 turns, 5 analyses, 8 files and 7 verify calls
        assert len(new) <= 25


async def test_eval_cli_through_the_loopback_server(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    run = await generated_run(tmp_path)
    bin_ = Path(sys.executable).parent / "paper2code"
    env = {**os.environ, "PAPER2CODE_LLM__MODEL_INFO__STRUCTURED_OUTPUT": "true"}
    env.pop("OPENAI_API_KEY", None)
    with LoopbackServer(judge([4, 2]), model="judge-x") as server:
        r = await asyncio.to_thread(
            subprocess.run,
            [
                str(bin_),
                "eval",
                str(run),
                "--base-url",
                server.base_url,
                "--judge-model",
                "judge-x",
                "--samples",
                "2",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        assert {b["model"] for b in server.requests} == {"judge-x"}
    assert "reference-free: 3.00" in r.stderr
    saved = json.loads((run / "eval.json").read_text())
    assert saved["judge_model"] == "judge-x" and saved["reference_free"]["samples"] == 2
    assert "3.00 ± 1.41" in (run / "report.md").read_text()
