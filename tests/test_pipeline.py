"""The generate pipeline end to end: the sample paper → the loopback OpenAI-compatible server
(real openai + AutoGen client stack) → a repository, resumed, redone, interrupted, faulted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import rendered_dom

from paper2code.demo_run import demo_paper, demo_settings
from paper2code.errors import ModelError, RunStoreError
from paper2code.llm import build_clients
from paper2code.pipeline import Pipeline, requirements_txt
from paper2code.progress import SilentReporter
from paper2code.report import write_report
from paper2code.settings import Settings
from paper2code.testing.loopback_server import LoopbackServer
from paper2code.testing.transcript import Transcript, requested_file

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "paper2code"


def coder_requests(server: LoopbackServer) -> list[str]:
    files = []
    for body in server.requests:
        last = body["messages"][-1].get("content") or ""
        if "Write the complete contents of" in last:
            files.append(requested_file(last))
    return files


def make_pipeline(server: LoopbackServer, out: Path, *, sandbox: str = "none", **llm) -> Pipeline:
    settings = demo_settings(server.base_url)
    settings.sandbox.kind = sandbox  # type: ignore[assignment]
    for k, v in llm.items():
        setattr(settings.llm, k, v)
    clients, structured = build_clients(settings, out)
    return Pipeline(
        settings, out, clients=clients, reporter=SilentReporter(), structured_output=structured
    )


@pytest.fixture
def paper(tmp_path: Path) -> Path:
    return demo_paper(tmp_path / "paper.md")


@pytest.mark.docker
@pytest.mark.slow
async def test_end_to_end_repository_passes_its_smoke_test(tmp_path: Path, paper: Path) -> None:
    out = tmp_path / "run"
    with LoopbackServer(Transcript.load()) as server:
        outcome = await make_pipeline(server, out, sandbox="docker").run(paper)
    assert outcome.status == "done"
    manifest = json.loads((out / "run.json").read_text())
    assert {k: v["status"] for k, v in manifest["stages"].items()} == dict.fromkeys(
        ["ingest", "plan", "analyze", "code", "verify", "debug"], "done"
    )
    usage = manifest["usage"]["stages"]
    for stage in ("plan", "analyze", "code", "verify", "debug"):
        assert usage[stage]["prompt_tokens"] > 0, stage
    assert (
        usage["plan"]["calls"] == 5
        and usage["analyze"]["calls"] == 5
        and usage["code"]["calls"] == 8
        and usage["verify"]["calls"] == 7
    )
    # verification found the Table 1 reporting missing; refinement added it before any run
    reqs = manifest["requirements"]
    assert reqs["requirements"] == 23 and reqs["unmet"] == 0
    assert reqs["coverage_before"] < 1.0 == reqs["coverage_after"]
    assert "format_table" in (out / "repo.generated" / "main.py").read_text()
    # the static check found model.py's undefined np before anything ran; its import was added
    assert manifest["consistency"] == {
        "before": 1,
        "after": 0,
        "by_kind": {"lint": 1},
        "calls": 0,
    }
    assert "import numpy as np" in (out / "repo.generated" / "model.py").read_text()
    debug = manifest["debug"]
    assert debug["status"] == "passed"
    assert [it["fix"] for it in debug["iterations"]] == ["model", "none"]
    assert 0 < debug["changed_line_ratio"] < 0.05
    # the repair touched repo/, never repo.generated/
    assert ".astype(int)" in (out / "repo" / "data.py").read_text()
    assert ".astype(int)" not in (out / "repo.generated" / "data.py").read_text()
    assert (out / "repo.generated" / ".github" / "workflows" / "smoke.yml").exists()
    assert (out / "debug" / "iter-01" / "patch.diff").read_text().count(".astype(int)") == 1
    report = write_report(out).read_text()
    assert "not that it reproduces the paper" in report


async def test_rerun_skips_finished_work_and_from_stage_redoes(tmp_path: Path, paper: Path) -> None:
    out = tmp_path / "run"
    with LoopbackServer(Transcript.load()) as server:
        await make_pipeline(server, out).run(paper)
        first = len(server.requests)
        # 5 planning turns, 5 analyses, 8 files, 5 verifier batches, 1 refine, 1 re-verify
        assert first == 5 + 5 + 8 + 5 + 1 + 1
        reporter = SilentReporter()
        p = make_pipeline(server, out)
        p.reporter = reporter
        await p.run(paper)
        assert len(server.requests) == first  # nothing asked again
        assert any("skipped already done" in line for line in reporter.lines)
        await make_pipeline(server, out).run(paper, from_stage="code")
        # only the coder, once per file, and the verify stage after it
        assert len(server.requests) == first + 8 + 7
        assert sorted(coder_requests(server)[8:]) == sorted(coder_requests(server)[:8])


async def test_run_directory_of_another_paper_is_refused(tmp_path: Path, paper: Path) -> None:
    out = tmp_path / "run"
    other = tmp_path / "other.md"
    other.write_text("# Other\n\n## Abstract\n\nx\n\n## 1 Intro\n\ny\n")
    with LoopbackServer(Transcript.load()) as server:
        await make_pipeline(server, out).run(paper, stages=["ingest"])
        with pytest.raises(RunStoreError, match="another paper"):
            await make_pipeline(server, out).run(other, stages=["ingest"])


async def test_faults_are_retried_or_reported_without_losing_artifacts(
    tmp_path: Path, paper: Path
) -> None:
    out = tmp_path / "run"
    with LoopbackServer(Transcript.load(), timeout_sleep_s=1.5) as server:
        server.inject("429", "500")  # the first planning call: retried by the client
        p = make_pipeline(server, out, max_retries=2, timeout_s=0.8)
        await p.run(paper, stages=["ingest", "plan"])
        assert server.faults_served == ["429", "500"]
        # during analysis: a timeout, then an unreadable reply, with no retries left
        p = make_pipeline(server, out, max_retries=0, timeout_s=0.8)
        p.settings.pipeline.concurrency = 1
        server.inject("timeout")
        with pytest.raises(ModelError):
            await p.run(paper, stages=["analyze"])
        manifest = json.loads((out / "run.json").read_text())
        assert manifest["stages"]["analyze"]["status"] == "failed"
        assert (out / "planning" / "plan.json").exists()  # nothing finished was lost
        before = len(server.requests)
        await make_pipeline(server, out).run(paper)
        assert len(server.requests) - before == 5 + 8 + 7  # planning was not asked again
        assert json.loads((out / "run.json").read_text())["status"] == "done"


REQUIREMENT = {
    "id": "R1",
    "text": "t",
    "category": "method",
    "where": {"section": "1", "anchor": "", "quote": ""},
    "value": None,
    "weight": 1,
    "files": ["main.py"],
    "config_key": None,
}


def test_requirements_txt_is_written_from_the_plan() -> None:
    from paper2code.schemas import Plan

    plan = Plan.model_validate(
        {
            "overall": {
                "summary": "s",
                "method_components": [],
                "datasets": [],
                "experiments": [],
                "evaluation_metrics": [],
                "smoke_strategy": "x",
            },
            "architecture": {
                "implementation_approach": "x",
                "files": [{"path": "main.py", "purpose": "p"}],
                "class_diagram": "classDiagram",
                "sequence_diagram": "sequenceDiagram",
            },
            "logic": {
                "required_packages": ["numpy>=1.24", "PyYAML", "torch"],
                "logic_analysis": [],
                "task_list": ["main.py"],
                "shared_knowledge": "",
            },
            "config": {"config_yaml": "smoke: {steps: 1}\n"},
            "requirements": {"requirements": [REQUIREMENT]},
        }
    )
    assert requirements_txt(plan) == "numpy>=1.24\nPyYAML\ntorch\npytest\n"


def _sigint_as_a_terminal_sends_it() -> None:
    """In the child before exec: SIGINT handled by default. A test run started in the background
    (``cmd &`` in a script) inherits SIGINT ignored, and Python then leaves it ignored, as a
    program should; Ctrl-C at a terminal is what this test stands for."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_during_coding_then_resume_repeats_no_finished_call(
    tmp_path: Path, paper: Path, sig: int
) -> None:
    transcript = Transcript.load()

    def slow_coder(messages: list[dict]):
        if "Write the complete contents of" in (messages[-1].get("content") or ""):
            time.sleep(0.4)
        return transcript.respond(messages)

    out = tmp_path / "run"
    env = {
        **os.environ,
        "PAPER2CODE_LLM__MODEL_INFO__STRUCTURED_OUTPUT": "true",
        "PAPER2CODE_LLM__CACHE": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("OPENAI_API_KEY", None)
    with LoopbackServer(slow_coder) as server:
        cmd = [
            str(BIN),
            "generate",
            str(paper),
            "--out",
            str(out),
            "--base-url",
            server.base_url,
            "--model",
            "loopback-model",
            "--sandbox",
            "none",
            "--concurrency",
            "1",
        ]
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_sigint_as_a_terminal_sends_it,
        )
        deadline = time.time() + 60
        while len(coder_requests(server)) < 3 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "interrupted" in err
        manifest = json.loads((out / "run.json").read_text())
        assert manifest["stages"]["code"]["status"] == "interrupted"
        finished = {
            p.relative_to(out / "coding" / "repo").as_posix()
            for p in (out / "coding" / "repo").rglob("*")
            if p.is_file()
        }
        coded_first = [f for f in coder_requests(server) if f in finished]
        assert coded_first, "some files should have been finished before the signal"
        n = len(server.requests)
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        again = coder_requests(server)[len(coder_requests(server)) - (len(server.requests) - n) :]
        second_run = [
            requested_file(b["messages"][-1]["content"])
            for b in server.requests[n:]
            if "Write the complete contents of" in (b["messages"][-1].get("content") or "")
        ]
        assert not set(second_run) & set(coded_first), (second_run, coded_first)
        assert again is not None
        assert json.loads((out / "run.json").read_text())["status"] == "done"


def test_generate_without_endpoint_says_what_to_set(tmp_path: Path, paper: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY"}
    }
    r = subprocess.run(
        [str(BIN), "generate", str(paper), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2
    assert "OPENAI_API_KEY" in r.stderr and "make demo" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "r").exists()


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPER2CODE_LLM__CODING_MODEL", "big-coder")
    monkeypatch.setenv("PAPER2CODE_SANDBOX__LIMITS__MEMORY_MB", "1024")
    s = Settings()
    assert s.llm.model_for("coding") == "big-coder"
    assert s.llm.model_for("planning") == s.llm.model
    assert s.sandbox.limits.memory_mb == 1024
    assert "sk-" not in json.dumps(s.public_dict())


@pytest.mark.docker
@pytest.mark.slow
def test_demo_command_runs_offline_and_says_replies_were_scripted(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "OPENAI_BASE_URL"}}
    r = subprocess.run(
        [str(BIN), "demo", "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "scripted" in r.stderr
    manifest = json.loads((tmp_path / "demo" / "run.json").read_text())
    assert manifest["debug"]["status"] == "passed"
    assert any("scripted" in n for n in manifest["notes"])
    assert "No model was called" in (tmp_path / "demo" / "report.md").read_text()
    # the requirements section, as a browser renders report.html
    dom = rendered_dom(tmp_path / "demo" / "report.html")
    assert 'id="requirements-coverage"' in dom and "97.8%" in dom and "100.0%" in dom
    assert 'id="requirements-revised"' in dom and "missing → implemented" in dom
    assert "verifier's judgement" in dom


@pytest.mark.parametrize("order", ["interface", "dependency"])
async def test_coding_prompts_carry_interfaces_or_code_by_coding_order(
    tmp_path: Path, paper: Path, order: str
) -> None:
    """Interface order: no coding prompt carries another file's code, only the designed
    interfaces of what it imports. Dependency order: the code of what it imports."""
    out = tmp_path / "run"
    with LoopbackServer(Transcript.load()) as server:
        p = make_pipeline(server, out)
        p.settings.pipeline.coding_order = order  # type: ignore[assignment]
        await p.run(paper, stages=["ingest", "plan", "analyze", "code"])
        prompts_by_file = {
            requested_file(b["messages"][-1]["content"]): b["messages"][-1]["content"]
            for b in server.requests
            if "Write the complete contents of" in (b["messages"][-1].get("content") or "")
        }
    written = Transcript.load().files_dir  # what the coder wrote, before reconciliation
    assert written is not None
    code = {
        f: (written / f).read_text() for f in ("data.py", "model.py", "train.py", "evaluate.py")
    }
    train = prompts_by_file["train.py"]
    if order == "interface":
        for path, prompt in prompts_by_file.items():
            for other, text in code.items():
                if other != path:
                    assert text.strip() not in prompt, (path, other)
                    assert "rng = np.random.default_rng(seed)" not in prompt or path == "data.py"
        assert '<interface path="model.py">' in train and "def smooth_targets(" in train
        assert "<file path=" not in train
    else:
        assert '<file path="model.py">' in train and code["model.py"].strip() in train
        assert "<interface path=" not in train
